"""The demo's pilot: Demo City tests a second pothole crew in half of its 40 neighbourhoods.

The whole testing-and-action chain, in the order a team works it: power from the city's own pothole history
(clusters: neighbourhoods), the neighbourhoods randomised within fifths of median household income with a
recorded seed (the units table, ``pilot_units``, is the census table with its income fifth) and the balance of
their census figures, the randomisation confirmed by a second person (the senior leader), the analysis plan
frozen, and only then the outcome data: requests during the pilot, generated here with a planted effect
(:data:`PLANTED_EFFECT` days in treated neighbourhoods), ingested as ``pilot_outcomes``, estimated under the
plan and reanalysed by the standalone script.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any, Final

import numpy as np

from ridp.workspace.models import Dataset, Project, User

__all__ = ["PILOT_PLAN", "PLANTED_EFFECT", "seed_pilot", "write_outcomes", "write_units"]

#: Days of waiting the second crew saves per pothole request in the generated outcome data (additive).
PLANTED_EFFECT: Final = -3.0
SEED: Final = 2026

PILOT_PLAN: Final = """\
title: A second pothole crew in half of the neighbourhoods
questions:
  - Do residents of neighbourhoods with the second crew wait fewer days for a pothole repair?
hypotheses:
  - Requests in treated neighbourhoods close sooner than in control neighbourhoods.
primary:
  column: days_to_close
  label: Days from report to repair
  better: lower
  measure: days of waiting
  per: request
  volume: 9000
  volume_label: pothole reports per year
secondary:
  - column: reopened
    label: Share of repairs reopened within 30 days
    better: lower
treatment: treated
unit: request_id
cluster: area_id
estimator: difference_in_means
se: auto
covariates: []
alpha: 0.05
correction: holm
exclusions:
  - Requests with no repair recorded by the end of the pilot are left out (none expected).
already_looked_at:
  - The 2019-2024 history of pothole repairs by neighbourhood (the analysis briefings).
"""


def write_units(path: Path, population: Any) -> int:
    """The pilot's units: each neighbourhood's census figures and its fifth of median household income
    (``income_fifth``, 1 = poorest), the blocks the randomisation draws within. Returns the number of rows."""
    frame = population[["area_id", "population", "median_household_income", "pct_poverty"]].copy()
    frame["area_id"] = frame["area_id"].astype(str).str.strip()
    ranks = frame["median_household_income"].rank(method="first")
    frame["income_fifth"] = ((ranks - 1) * 5 // len(frame) + 1).astype(int)
    frame.sort_values("area_id").to_csv(path, index=False)
    return len(frame)


def write_outcomes(path: Path, arms: dict[str, bool], *, seed: int = SEED) -> int:
    """Pilot-period pothole requests per neighbourhood: ``request_id, area_id, treated, days_to_close, reopened``.

    Each neighbourhood has its own pace (log-normal, sd 0.2); days are 3.5 plus a log-normal wait around a
    4-day median, plus :data:`PLANTED_EFFECT` in treated neighbourhoods: never below half a day, so the planted
    effect is exactly the difference the pilot should find. Returns the number of rows.
    """
    rng = np.random.default_rng(seed)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["request_id", "area_id", "treated", "days_to_close", "reopened"])
        for area in sorted(arms):
            pace = float(np.exp(rng.normal(0.0, 0.2)))
            n = int(rng.poisson(50))
            days = 3.5 + 4.0 * np.exp(rng.normal(0.0, 0.8, n)) * pace + (PLANTED_EFFECT if arms[area] else 0.0)
            reopened = rng.random(n) < 0.08
            for day, again in zip(days, reopened, strict=True):
                rows += 1
                out.writerow([f"P-{rows:05d}", area, int(arms[area]), f"{day:.2f}", int(again)])
    return rows


def seed_pilot(users: dict[str, User], *, analyst: str = "ana", second: str = "sam") -> None:
    """Demo City's pothole pilot, from power to a reanalysed estimate and the senior leader's decision to scale
    it (nothing if its data is missing)."""
    from ridp.workspace import datasets, pilots, plans

    project = Project.objects.filter(city__slug="demo", title="Faster pothole repair").first()
    ready = Dataset.objects.filter(city__slug="demo", current_version__isnull=False,
                                   name__in=("service_requests", "population")).count()  # fmt: skip
    if project is None or ready < 2:
        return
    ana, pid = users[analyst], project.pk
    pilot = pilots.create_pilot(ana, "demo", pid, "second-crew", "A second pothole crew in half of the neighbourhoods")
    pilots.study_power(ana, "demo", pid, pilot.name, history="service_requests", outcome="days_to_close",
                       types=["Pothole Repair"], cluster="area_id", n_clusters=[10, 20, 30, 40],
                       effects=[1.0, 2.0, 3.0, 4.0], planned_effect=3.0, draws=10_000, seed=SEED)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="ridp-demo-pilot-") as tmp:
        path = Path(tmp) / "pilot_units.csv"
        write_units(path, datasets.open_table(ana, "demo", "population").to_pandas())
        datasets.add_file(ana, path, city="demo", name="pilot_units")
    chosen = pilots.randomise(ana, "demo", pid, pilot.name, units="pilot_units", unit="area_id", method="blocked",
                              block="income_fifth", seed=SEED,
                              covariates=["population", "median_household_income", "pct_poverty"])  # fmt: skip
    pilots.confirm_randomisation(users[second], "demo", pid, pilot.name, chosen.pk)
    plans.save_plan(ana, "demo", pid, pilot.name, PILOT_PLAN)
    plans.freeze_plan(ana, "demo", pid, pilot.name)
    arms_frame = pilots.assignment_of(chosen).arms
    arms = {str(u): a == "treatment" for u, a in zip(arms_frame["unit"], arms_frame["arm"], strict=True)}
    with tempfile.TemporaryDirectory(prefix="ridp-demo-pilot-") as tmp:
        path = Path(tmp) / "pilot_outcomes.csv"
        write_outcomes(path, arms)
        datasets.add_file(ana, path, city="demo", name="pilot_outcomes")
    plans.link_outcomes(ana, "demo", pid, pilot.name, "pilot_outcomes")
    estimate = plans.evaluate_pilot(ana, "demo", pid, pilot.name)
    plans.reanalyse_estimate(ana, "demo", pid, pilot.name, estimate.pk)
    from ridp.workspace.adoption import record_decision

    record_decision(users[second], "demo", pid, decision="scale", estimate_id=estimate.pk,
                    reason="The second crew cut the wait by about three days per pothole, and the reanalysis "
                    "matched: the city funds the crew citywide from next spring.")  # fmt: skip
