"""Quasi-experimental methods on a catalogued dataset: who may run them, and the frozen plan they respect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError
from tests.workspace.test_adoption_store import PLAN, STEP, _series
from tests.workspace.test_project_team import Team, make_team

ITS = {"outcome": "missed_bins", "time": "week", "post": "optimised", "family": "quasipoisson", "slope_change": False}


@pytest.fixture
def team(people: Any, tmp_path: Path) -> Team:
    from ridp.workspace.datasets import add_file

    t = make_team(people)
    add_file(t.users["ana"], _series(tmp_path / "bins.csv"), city="springfield", name="missed_bins")
    return t


def test_its_on_a_dataset(team: Team) -> None:
    from ridp.workspace.models import AuditEntry
    from ridp.workspace.quasi import run_method

    result = run_method(team.users["eve"], "springfield", "missed_bins", "its", ITS)
    ratio = result.tables["rate_ratio"][0]
    assert ratio["low"] <= STEP <= ratio["high"]
    assert AuditEntry.objects.filter(action="quasi.run").count() == 1


def test_the_outcome_data_of_a_pilot_waits_for_its_frozen_plan(team: Team) -> None:
    from ridp.workspace.pilots import create_pilot
    from ridp.workspace.plans import freeze_plan, link_outcomes, save_plan
    from ridp.workspace.quasi import run_method

    ana, pk = team.users["ana"], team.project.pk
    create_pilot(ana, "springfield", pk, "routes", "Optimised bin routes")
    link_outcomes(ana, "springfield", pk, "routes", "missed_bins")
    with pytest.raises(PermissionDeniedError, match="pilot routes, whose analysis plan is not frozen"):
        run_method(ana, "springfield", "missed_bins", "its", ITS)
    save_plan(ana, "springfield", pk, "routes", PLAN)
    freeze_plan(ana, "springfield", pk, "routes", late_reason="the series existed before the pilot")
    result = run_method(ana, "springfield", "missed_bins", "its", ITS)
    assert any(w.startswith("exploratory: not the estimate of record of pilot routes") for w in result.warnings)


def test_who_and_what(team: Team) -> None:
    from ridp.workspace.quasi import run_method

    with pytest.raises(PermissionDeniedError, match="viewers"):
        run_method(team.users["vera"], "springfield", "missed_bins", "its", ITS)
    with pytest.raises(NotFoundError):
        run_method(team.users["sid"], "springfield", "missed_bins", "its", ITS)
    with pytest.raises(FieldError, match="'colour' not in missed_bins"):
        run_method(team.users["ana"], "springfield", "missed_bins", "its", {**ITS, "season": "colour"})
    with pytest.raises(FieldError, match="'anova' is one of did, twfe"):
        run_method(team.users["ana"], "springfield", "missed_bins", "anova", ITS)
    with pytest.raises(FieldError, match="its needs its columns"):
        run_method(team.users["ana"], "springfield", "missed_bins", "its", {"family": "poisson"})
    with pytest.raises(FieldError, match="unexpected keyword argument 'colour'"):
        run_method(team.users["ana"], "springfield", "missed_bins", "its", {**ITS, "colour": "red"})
