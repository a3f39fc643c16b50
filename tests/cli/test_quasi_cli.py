"""``ridp evaluate did|its|synth`` on catalogued real study data, and ``ridp evaluate decide|decisions`` on a pilot
evaluated by interrupted time series under its frozen plan.

Everything runs as ``ridp`` commands in one process (a process costs seconds to start), its output checked
against the published numbers the core's own tests reproduce; the refusals run as their own processes for their
exit codes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.processes import IN_ONE_PROCESS, environment

PLAN = """\
title: Smoking ban
questions: ["Did acute coronary events fall?"]
hypotheses: [Events fell after the ban]
primary: {column: aces, label: Acute coronary events a month, better: lower, measure: acute coronary events,
          per: month, volume: 12, volume_label: months per year}
treatment: smokban
estimator: its
design: {time: time, family: quasipoisson, offset: stdpop, season: month, slope_change: false}
alpha: 0.05
"""


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("quasi-cli")
    studies = shared_data / "studies"
    (folder / "plan.yaml").write_text(PLAN, encoding="utf-8")
    city = ["--city", "springfield"]
    steps: list[tuple[str, list[str]]] = [
        ("", ["init"]),
        ("", ["city", "add", "Springfield", "--timezone", "America/Chicago"]),
        *[("", ["member", name, "--role", role, "--city", "springfield", "--email", f"{name}@springfield.gov"])
          for name, role in (("sam", "senior_leader"), ("ana", "data_analyst"))],
        ("ana", ["data", "add", str(studies / "card_krueger" / "njmin3.csv"), *city, "--name", "njmin"]),
        ("ana", ["data", "add", str(studies / "mpdta" / "mpdta.csv"), *city, "--name", "mpdta"]),
        ("ana", ["data", "add", str(studies / "prop99" / "smoking_data_long.csv"), *city, "--name", "smoking"]),
        ("ana", ["data", "add", str(studies / "sicily_its" / "sicily.csv"), *city, "--name", "sicily"]),
        ("ana", ["evaluate", "did", "njmin", *city, "--outcome", "fte", "--group", "nj", "--post", "d", "--se", "iid"]),
        ("ana", ["evaluate", "did", "mpdta", *city, "--outcome", "lemp", "--unit", "countyreal", "--time", "year",
                 "--first-treated", "first_treat", "--table", "groups", "--chart", str(folder / "event.svg")]),
        ("ana", ["evaluate", "synth", "smoking", *city, "--outcome", "cigsale", "--unit", "state", "--time", "year",
                 "--treated-unit", "California", "--start", "1989", "--predictor", "lnincome", "--predictor",
                 "age15to24", "--predictor", "retprice", "--predictor-period", "1980:1988", "--special",
                 "beer:1984:1988", "--special", "cigsale:1975:1975", "--special", "cigsale:1980:1980", "--special",
                 "cigsale:1988:1988", "--table", "weights"]),
        ("sam", ["project", "start", *city, "--title", "Smoke-free venues", "--problem", "p", "--why", "w",
                 "--service-change", "s"]),
        ("ana", ["pilot", "design", "1", "ban", "--title", "Smoking ban", *city]),
        ("ana", ["plan", "save", "1", "ban", str(folder / "plan.yaml"), *city]),
        ("ana", ["plan", "freeze", "1", "ban", *city]),
        ("ana", ["evaluate", "link", "1", "ban", "sicily", *city]),
        ("ana", ["evaluate", "its", "sicily", *city, "--outcome", "aces", "--time", "time", "--post", "smokban",
                 "--family", "poisson", "--offset", "stdpop", "--no-slope-change"]),
        ("ana", ["evaluate", "run", "1", "ban", *city]),
        ("sam", ["evaluate", "decide", "1", *city, "--decision", "scale", "--estimate", "1", "--reason",
                 "Events fell by a tenth."]),
        ("sam", ["evaluate", "decisions", "1", *city]),
    ]  # fmt: skip
    home = folder / "home"
    made = subprocess.run([sys.executable, "-c", IN_ONE_PROCESS, json.dumps(steps)], env=environment(home),
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    return home, made.stdout


def test_did_reproduces_card_and_krueger(session: tuple[Path, str]) -> None:
    out = session[1]
    assert "Effect of nj×d on fte: 2.75 (95% CI -0.561 to 6.07)" in out
    assert "Difference-in-differences (2×2), classical (homoskedastic) standard errors" in out
    assert "comparison before 23.33 (n 77)" in out


def test_staggered_did_prints_its_groups_and_writes_the_event_study(session: tuple[Path, str]) -> None:
    home, out = session
    assert "Callaway-Sant'Anna group-time effects" in out and "Pre-trend test: Wald" in out
    assert "  2004 -0.07975       20" in out and "  2007 -0.02605      131" in out
    assert (home.parent / "event.svg").read_text(encoding="utf-8").startswith("<svg")


def test_synth_prints_table_2s_weights(session: tuple[Path, str]) -> None:
    out = session[1]
    assert "Synthetic control, placebo-in-space inference" in out
    assert "Donor weights: Utah 0.33" in out and "p = 0.026" in out


def test_its_and_the_decision(session: tuple[Path, str]) -> None:
    out = session[1]
    assert "Rate ratio at the change: 0.894 (95% CI 0.865–0.925)" in out
    assert "exploratory: not the estimate of record of pilot ban" in out
    assert "Rate ratio at the change: 0.885 (95% CI 0.839–0.933)" in out  # the plan's estimate of record
    assert "Scale (decided by sam on " in out and "It rests on estimate 1 of pilot ban" in out


def test_refusals_exit_1_with_one_clear_line(session: tuple[Path, str], tmp_path: Path) -> None:
    import shutil

    home = tmp_path / "home"
    shutil.copytree(session[0], home)
    env = dict(environment(home), RIDP_USER="ana")
    cases = [
        (["evaluate", "decide", "1", "--city", "springfield", "--decision", "scale", "--estimate", "1", "--reason",
          "r"], "only the city's senior leaders"),
        (["evaluate", "did", "njmin", "--city", "springfield", "--outcome", "fte"], "say the design"),
        (["evaluate", "synth", "smoking", "--city", "springfield", "--outcome", "cigsale", "--unit", "state",
          "--time", "year", "--treated-unit", "California", "--start", "1989", "--special", "beer:1984"],
         "is COLUMN:FIRST:LAST"),
    ]  # fmt: skip
    for args, words in cases:
        done = subprocess.run([sys.executable, "-m", "ridp.cli", *args], env=env, capture_output=True, text=True,
                              timeout=300)  # fmt: skip
        assert done.returncode == 1, done.stdout + done.stderr
        assert words in done.stdout + done.stderr
