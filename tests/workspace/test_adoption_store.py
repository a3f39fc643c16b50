"""A pilot that could not randomise, evaluated by interrupted time series under its frozen plan, and the
adoption decision the senior leader records on its estimate; the gate out of testing and action reads both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError
from tests.workspace.test_project_team import Team, make_team

PLAN = """\
title: Route-optimised bin collection from week 60
questions: ["Do residents report fewer missed bins?"]
hypotheses: [Missed-bin reports drop when routes are optimised]
primary: {column: missed_bins, label: Missed-bin reports a week, better: lower, measure: missed-bin reports,
          per: week, volume: 52, volume_label: weeks per year}
treatment: optimised
estimator: its
design: {time: week, family: quasipoisson, slope_change: false}
alpha: 0.05
"""
STEP = 0.7  # the planted rate ratio


@pytest.fixture
def team(people: Any, tmp_path: Path) -> Team:
    return make_team(people)


def _series(path: Path) -> Path:
    rng = np.random.default_rng(5)
    weeks = pd.date_range("2024-01-01", periods=104, freq="7D")
    after = np.arange(104) >= 60
    mean = 80 * np.exp(0.002 * np.arange(104)) * np.where(after, STEP, 1.0)
    frame = pd.DataFrame({"week": weeks.strftime("%Y-%m-%d"), "missed_bins": rng.poisson(mean),
                          "optimised": after.astype(int)})  # fmt: skip
    frame.to_csv(path, index=False)
    return path


def _evaluated(team: Team, tmp_path: Path) -> Any:
    from ridp.workspace.datasets import add_file
    from ridp.workspace.pilots import create_pilot
    from ridp.workspace.plans import evaluate_pilot, freeze_plan, link_outcomes, save_plan

    ana, pk = team.users["ana"], team.project.pk
    create_pilot(ana, "springfield", pk, "routes", "Optimised bin routes")
    save_plan(ana, "springfield", pk, "routes", PLAN)
    freeze_plan(ana, "springfield", pk, "routes")
    add_file(ana, _series(tmp_path / "bins.csv"), city="springfield", name="missed_bins")
    link_outcomes(ana, "springfield", pk, "routes", "missed_bins")
    return evaluate_pilot(ana, "springfield", pk, "routes")


def test_an_its_pilot_is_estimated_under_its_frozen_plan(team: Team, tmp_path: Path) -> None:
    from ridp.workspace.plans import estimate_of, reanalyse_estimate

    item = _evaluated(team, tmp_path)
    result = estimate_of(item)
    primary = result.primary
    assert primary.estimator == "its"
    ratio = primary.tables["rate_ratio"][0]  # type: ignore[attr-defined]
    assert ratio["low"] <= STEP <= ratio["high"]
    assert result.residents[0] is not None and "fewer missed-bin reports per week" in result.residents[0].sentence
    done = reanalyse_estimate(team.users["ana"], "springfield", team.project.pk, "routes", item.pk)
    assert done.reanalysis is not None and done.reanalysis["matches"] is True


def test_the_gate_reads_the_estimate_and_the_decision(team: Team, tmp_path: Path) -> None:
    from ridp.workspace import gates
    from ridp.workspace.adoption import describe_decision, record_decision

    estimated = gates.REGISTRY["impact_estimate_recorded"]
    decided = gates.REGISTRY["adoption_decision_made"]
    assert estimated.check(team.project).missing == ["no pilot yet: a pilot's estimate is what the decision rests on"]
    assert not decided.check(team.project).met
    item = _evaluated(team, tmp_path)
    assert estimated.check(team.project).met and estimated.available
    assert "no adoption decision recorded" in decided.check(team.project).missing[0]
    made = record_decision(team.users["sam"], "springfield", team.project.pk, decision="scale",
                           reason="Reports fell by a third; the crews keep the new routes.", estimate_id=item.pk)  # fmt: skip
    assert decided.check(team.project).met
    text = describe_decision(made)
    assert text.startswith("Scale (decided by sam") and f"estimate {item.pk} of pilot routes" in text
    assert "fewer missed-bin reports per week" in text


def test_a_pilot_without_an_estimate_keeps_the_gate_closed(team: Team) -> None:
    from ridp.workspace import gates
    from ridp.workspace.pilots import create_pilot
    from ridp.workspace.plans import freeze_plan, save_plan

    create_pilot(team.users["ana"], "springfield", team.project.pk, "routes", "Optimised bin routes")
    missing = gates.REGISTRY["impact_estimate_recorded"].check(team.project).missing
    assert missing == ["pilot routes: no estimate can be recorded before its plan is frozen"]
    save_plan(team.users["ana"], "springfield", team.project.pk, "routes", PLAN)
    freeze_plan(team.users["ana"], "springfield", team.project.pk, "routes")
    missing = gates.REGISTRY["impact_estimate_recorded"].check(team.project).missing
    assert missing == ["pilot routes: no impact estimate recorded under its frozen plan (ridp evaluate run)"]


def test_who_may_decide_and_bad_decisions(team: Team, tmp_path: Path) -> None:
    from ridp.workspace.adoption import decisions, record_decision
    from ridp.workspace.models import AdoptionDecision, AuditEntry

    item = _evaluated(team, tmp_path)
    pk = team.project.pk
    with pytest.raises(PermissionDeniedError, match="senior leaders"):
        record_decision(team.users["ana"], "springfield", pk, decision="scale", reason="r", estimate_id=item.pk)
    with pytest.raises(NotFoundError):  # another city's senior leader does not see the project
        record_decision(team.users["sid"], "springfield", pk, decision="stop", reason="r", estimate_id=item.pk)
    with pytest.raises(FieldError, match="'grow' is one of scale, adapt, stop"):
        record_decision(team.users["sam"], "springfield", pk, decision="grow", reason="r", estimate_id=item.pk)
    with pytest.raises(FieldError, match="says why"):
        record_decision(team.users["sam"], "springfield", pk, decision="stop", reason="  ", estimate_id=item.pk)
    with pytest.raises(NotFoundError, match="no recorded estimate 999"):
        record_decision(team.users["sam"], "springfield", pk, decision="stop", reason="r", estimate_id=999)
    assert not AdoptionDecision.objects.exists()
    record_decision(team.users["sam"], "springfield", pk, decision="adapt", reason="Try it in winter too.",
                    estimate_id=item.pk)  # fmt: skip
    record_decision(team.users["lee"], "springfield", pk, decision="scale", reason="Winter confirmed it.",
                    estimate_id=item.pk)  # fmt: skip
    assert [d.decision for d in decisions(team.users["eve"], "springfield", pk)] == ["scale", "adapt"]
    assert AuditEntry.objects.filter(action="adoption.decided").count() == 2
