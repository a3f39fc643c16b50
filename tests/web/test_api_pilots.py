"""A pilot through the API: power, a randomisation a second person confirms, the plan frozen before the outcome
data, deviations, an estimate refused until then and computed after, its reanalysis, and what a wrong input or
another city's person gets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.test import Client

from tests.web.test_api_analysis import _send, bearer

PLAN = """\
title: Crew pilot
questions: ["Do residents wait fewer days?"]
hypotheses: [Treated areas close sooner]
primary: {column: days, label: Days to close, better: lower, measure: days of waiting, per: request, volume: 5000,
          volume_label: requests per year}
treatment: treated
cluster: area
estimator: difference_in_means
se: auto
alpha: 0.05
correction: holm
"""


def _add(world: Any, tmp_path: Path, name: str, frame: pd.DataFrame) -> None:
    from ridp.workspace.datasets import add_file

    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    add_file(world.users["analyst"], path, city="springfield", name=name)


def _outcomes(arms: dict[str, bool], seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for area, treated in sorted(arms.items()):
        for _ in range(15):
            rows.append({"area": area, "treated": int(treated), "days": round(6 + rng.normal(0, 2) - 2 * treated, 3)})
    return pd.DataFrame(rows)


@pytest.fixture
def datasets(world: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    areas = [f"A{i:02d}" for i in range(1, 21)]
    _add(world, tmp_path, "units", pd.DataFrame({"area": areas, "population": rng.integers(500, 5000, 20)}))
    history = pd.DataFrame({"area": np.repeat(areas, 10), "days": np.round(rng.gamma(2.0, 3.0, 200), 2)})
    _add(world, tmp_path, "history", history)


def test_a_pilot_from_power_to_a_reanalysed_estimate(world: Any, datasets: None, tmp_path: Path) -> None:
    analyst, leader, viewer = bearer(world, "analyst"), bearer(world, "leader"), bearer(world, "viewer")
    base = f"/api/cities/springfield/projects/{world.projects['a'].pk}/pilots"
    made = _send(analyst, "POST", base, {"name": "crew", "title": "A second crew"})
    assert made.status_code == 200 and made.json()["status"]["plan"] == "—"
    assert _send(analyst, "POST", base, {"name": "crew", "title": "Again"}).status_code == 422
    assert _send(viewer, "POST", base, {"name": "other", "title": "No"}).status_code == 403
    pilot = base + "/crew"

    power = _send(analyst, "POST", pilot + "/power", {"history": "history", "outcome": "days", "cluster": "area",
                                                      "n_clusters": [10, 20], "effects": [3.0], "draws": 500})  # fmt: skip
    assert power.status_code == 200, power.content
    assert power.json()["study"]["cluster"] == "area" and isinstance(power.json()["adequate"], bool)
    bad = _send(analyst, "POST", pilot + "/power", {"history": "history", "share_treated": 1.5})
    assert bad.status_code == 422

    drawn = _send(analyst, "POST", pilot + "/randomisations", {"units": "units", "unit": "area", "seed": 5,
                                                               "covariates": ["population"]})  # fmt: skip
    assert drawn.status_code == 200, drawn.content
    r = drawn.json()
    assert r["record"]["seed"] == 5 and r["balance"] is not None and len(r["assignment"]["arms"]) == 20
    seen = viewer.get(f"{pilot}/randomisations/{r['id']}").json()  # no row-level data for viewers
    assert seen["assignment"] is None and "arms" not in seen["record"] and seen["fingerprint"] == r["fingerprint"]
    own = _send(analyst, "POST", f"{pilot}/randomisations/{r['id']}/confirm", {})
    assert own.status_code == 422 and "second person" in own.content.decode()
    confirmed = _send(leader, "POST", f"{pilot}/randomisations/{r['id']}/confirm", {})
    assert confirmed.status_code == 200 and confirmed.json()["confirmation"]["matches"] is True

    assert _send(analyst, "PUT", pilot + "/plan", {"yaml": PLAN}).json()["frozen"] is False
    refused = _send(analyst, "POST", pilot + "/estimates", {})
    assert refused.status_code == 403 and "refused until its analysis plan is frozen" in refused.content.decode()
    frozen = _send(analyst, "POST", pilot + "/plan/freeze", {}).json()
    assert frozen["frozen"] is True and len(frozen["frozen_sha256"]) == 64
    assert _send(analyst, "PUT", pilot + "/plan", {"yaml": PLAN}).status_code == 422
    changed = _send(analyst, "POST", pilot + "/plan/deviations", {"yaml": PLAN.replace("0.05", "0.1"),
                                                                   "reason": "the department accepts 10%"})  # fmt: skip
    assert changed.status_code == 200 and changed.json()["deviations"][0]["changes"][0]["field"] == "alpha"
    assert changed.json()["sha256"] != frozen["frozen_sha256"]

    arms = {row["unit"]: row["arm"] == "treatment" for row in r["assignment"]["arms"]}
    outcomes = _outcomes(arms)
    _add(world, tmp_path, "outcomes", outcomes)  # the outcome data arrive after the plan was frozen
    assert _send(analyst, "PUT", pilot + "/outcomes", {"dataset": "outcomes"}).status_code == 200
    done = _send(analyst, "POST", pilot + "/estimates", {})
    assert done.status_code == 200, done.content
    estimate = done.json()
    primary = estimate["result"]["estimates"][0]
    means = outcomes.groupby("treated")["days"].mean()
    assert primary["effect"] == pytest.approx(means[1] - means[0], rel=1e-9) and primary["alpha"] == 0.1
    assert primary["se_type"] == "CR2" and estimate["plan_sha256"] == changed.json()["sha256"]
    assert "fewer days of waiting per request" in estimate["result"]["residents"][0]["sentence"]
    assert viewer.get(f"{pilot}/estimates/{estimate['id']}").json()["id"] == estimate["id"]

    again = _send(leader, "POST", f"{pilot}/estimates/{estimate['id']}/reanalysis", {})
    assert again.status_code == 200 and again.json()["reanalysis"]["matches"] is True
    listed = viewer.get(base).json()
    assert [p["name"] for p in listed] == ["crew", "matrix-pilot"]
    assert listed[0]["status"]["randomisation"] == "confirmed"


def test_another_citys_pilot_is_not_found(world: Any) -> None:
    analyst: Client = bearer(world, "analyst")
    other = f"/api/cities/shelbyville/projects/{world.projects['b'].pk}/pilots/matrix-pilot"
    assert analyst.get(other).status_code == 404
    assert analyst.get(f"{other}/plan").status_code == 404
    assert json.loads(analyst.get(f"{other}/estimates/{world.estimates['b'].pk}").content)["detail"]
