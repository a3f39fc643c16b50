"""``ridp pilot``, ``ridp plan`` and ``ridp evaluate``, as a city's analyst and senior leader run them: power from
the city's own pothole history (too little power exits with 2), the neighbourhoods randomised and confirmed by a
second person, the plan frozen before the outcome data, the estimate in residents' terms, and the reanalysis.

The workspace (the city, its people, the history and the census table, a project) is made once per module by
``ridp`` commands run one after the other in one process (:data:`tests.cli.processes.IN_ONE_PROCESS`); each command
of the pilot's chain then runs as its own process.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.processes import IN_ONE_PROCESS, Ridp, environment


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ridp.demo import generate_city

    folder = tmp_path_factory.mktemp("pilot-cli")
    city = generate_city(folder / "city", rows=3_000, seed=11)
    steps: list[tuple[str, list[str]]] = [
        ("", ["init"]),
        ("", ["city", "add", "Springfield", "--timezone", "America/Chicago"]),
        *[("", ["member", name, "--role", role, "--city", "springfield", "--email", f"{name}@springfield.gov"])
          for name, role in (("sam", "senior_leader"), ("ana", "data_analyst"), ("vera", "viewer"))],
        ("ana", ["data", "add", str(city.requests_csv), "--city", "springfield", "--name", "requests"]),
        ("ana", ["data", "map", "requests", "--city", "springfield", "--accept"]),
        ("ana", ["data", "add", str(city.population_csv), "--city", "springfield", "--name", "areas"]),
        ("sam", ["project", "start", "--city", "springfield", "--title", "Faster pothole repair", "--problem", "p",
                 "--why", "w", "--service-change", "s"]),
    ]  # fmt: skip
    home = folder / "home"
    made = subprocess.run([sys.executable, "-c", IN_ONE_PROCESS, json.dumps(steps)], env=environment(home),
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    return home


@pytest.fixture
def ridp(workspace: Path, tmp_path: Path) -> Ridp:
    home = tmp_path / "home"
    shutil.copytree(workspace, home)
    base = environment(home)

    def run(*args: str, user: str = "", ok: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(base, RIDP_USER=user) if user else base
        result = subprocess.run([sys.executable, "-m", "ridp.cli", *args], env=env, capture_output=True, text=True,
                                timeout=300)  # fmt: skip
        if ok:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    return run


def test_a_pilot_from_power_to_a_reanalysed_estimate(ridp: Ridp, workspace: Path, tmp_path: Path) -> None:
    from ridp.evaluation import assign
    from ridp.workspace.demo_pilot import PILOT_PLAN, PLANTED_EFFECT, write_outcomes

    city = ["--city", "springfield"]
    population = workspace.parent / "city" / "population.csv"
    ridp("pilot", "design", "1", "crew", "--title", "A second pothole crew", *city, user="ana")
    weak = ridp("pilot", "power", "1", "crew", *city, "--history", "requests", "--types", "Pothole Repair",
                "--cluster", "area_id", "--n-clusters", "10", "--effects", "0.2", "--draws", "1000", user="ana",
                ok=False)  # fmt: skip
    assert weak.returncode == 2 and "too little power" in weak.stdout
    study = json.loads(ridp("pilot", "power", "1", "crew", *city, "--history", "requests", "--types", "Pothole Repair",
                            "--cluster", "area_id", "--n-clusters", "20,40", "--effects", "8", "--draws", "1000",
                            "--json", user="ana").stdout)  # fmt: skip
    assert study["adequate"] is True and study["cluster"] == "area_id"

    assigned = ridp("pilot", "assign", "1", "crew", *city, "--units", "areas", "--unit", "area_id", "--seed", "2026",
                    "--covariates", "population,median_household_income", user="ana").stdout  # fmt: skip
    assert "randomisation 1" in assigned and "SMD" in assigned and "second person" in assigned
    own = ridp("pilot", "confirm", "1", "crew", "1", *city, user="ana", ok=False)
    assert own.returncode == 1 and "a second person must confirm it" in own.stderr
    assert "confirmed: the same assignment" in ridp("pilot", "confirm", "1", "crew", "1", *city, user="sam").stdout

    plan = tmp_path / "plan.yaml"
    plan.write_text(PILOT_PLAN)
    ridp("plan", "save", "1", "crew", str(plan), *city, user="ana")
    refused = ridp("evaluate", "link", "1", "crew", "requests", *city, user="vera", ok=False)
    assert refused.returncode == 1 and "evaluate pilots" in refused.stderr
    frozen = ridp("plan", "freeze", "1", "crew", *city, user="ana").stdout
    assert "SHA-256" in frozen

    # the same seed on the same units in the core gives the same assignment the command recorded
    chosen = assign(pd.read_csv(population), unit="area_id", seed=2026)
    assert chosen.fingerprint[:12] in ridp("pilot", "show", "1", "crew", *city, user="vera").stdout
    outcomes = tmp_path / "pilot_outcomes.csv"
    write_outcomes(outcomes, {str(u): a == "treatment" for u, a in zip(chosen.arms["unit"], chosen.arms["arm"],
                                                                       strict=True)})  # fmt: skip
    ridp("data", "add", str(outcomes), *city, "--name", "pilot_outcomes", user="ana")
    ridp("evaluate", "link", "1", "crew", "pilot_outcomes", *city, user="ana")
    result = json.loads(ridp("evaluate", "run", "1", "crew", *city, "--json", user="ana").stdout)
    primary = result["estimates"][0]
    assert primary["se_type"] == "CR2" and primary["ci_low"] < PLANTED_EFFECT < primary["ci_high"]
    assert "fewer days of waiting per request" in result["residents"][0]["sentence"]
    data = pd.read_csv(outcomes)
    means = data.groupby("treated")["days_to_close"].mean()
    assert primary["effect"] == pytest.approx(means[1] - means[0], rel=1e-9)  # the difference in means itself

    shown = ridp("plan", "show", "1", "crew", *city, user="vera").stdout
    assert "frozen" in shown and "days_to_close" in shown
    again = ridp("evaluate", "reanalyse", "1", "crew", *city, user="sam").stdout
    assert "the numbers match" in again and "reanalyse_" in again
