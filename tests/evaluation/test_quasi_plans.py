"""Quasi-experimental estimators under a frozen analysis plan: the plan's ``design`` block says what each needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ridp.errors import SpecError
from ridp.evaluation import AnalysisPlan, evaluate, freeze
from ridp.evaluation.did import did
from ridp.evaluation.its import interrupted_time_series
from ridp.evaluation.staggered import callaway_santanna

BASE: dict[str, Any] = {"title": "t", "questions": ["q"], "hypotheses": ["h"], "alpha": 0.05}


def plan(**fields: Any) -> AnalysisPlan:
    return AnalysisPlan.from_dict({**BASE, **fields})


def test_a_did_plan_gives_the_direct_call(shared_data: Path) -> None:
    data = pd.read_csv(shared_data / "studies" / "card_krueger" / "njmin3.csv")
    p = plan(primary={"column": "fte", "label": "FTE", "better": "higher", "measure": "full-time jobs",
                      "per": "restaurant"}, treatment="nj", estimator="did", se="iid", design={"post": "d"})  # fmt: skip
    result = evaluate(data, freeze(p).plan)
    assert result.primary == did(data, outcome="fte", group="nj", post="d", se="iid")
    assert result.residents[0] is not None and "more full-time jobs per restaurant" in result.residents[0].sentence


def test_an_its_plan_reads_its_settings(shared_data: Path) -> None:
    data = pd.read_csv(shared_data / "studies" / "sicily_its" / "sicily.csv")
    design = {"time": "time", "family": "quasipoisson", "offset": "stdpop", "season": "month", "slope_change": False}
    p = plan(primary={"column": "aces", "label": "Acute coronary events"}, treatment="smokban", estimator="its",
             design=design)  # fmt: skip
    direct = interrupted_time_series(data, outcome="aces", time="time", post="smokban", family="quasipoisson",
                                     offset="stdpop", season="month", slope_change=False)  # fmt: skip
    assert evaluate(data, p).primary == direct
    assert AnalysisPlan.from_yaml(p.to_yaml()) == p  # the design survives YAML
    assert p.columns() == {"aces", "smokban", "time", "stdpop", "month"}


def test_a_staggered_plan_and_a_synth_plan(shared_data: Path) -> None:
    mpdta = pd.read_csv(shared_data / "studies" / "mpdta" / "mpdta.csv")
    p = plan(primary={"column": "lemp", "label": "Log teen employment"}, treatment="first_treat", unit="countyreal",
             estimator="callaway_santanna", design={"time": "year", "reps": 199})  # fmt: skip
    assert evaluate(mpdta, p, seed=4).primary == callaway_santanna(
        mpdta, outcome="lemp", unit="countyreal", time="year", first_treated="first_treat", reps=199, seed=4
    )
    smoking = pd.read_csv(shared_data / "studies" / "prop99" / "smoking_data_long.csv")
    s = plan(primary={"column": "cigsale", "label": "Packs per head"}, treatment="state", treated="California",
             estimator="synth", design={"time": "year", "start": 1989, "starts": 1})  # fmt: skip
    result = evaluate(smoking, s).primary
    assert result.estimator == "synth" and result.effect < -10


def test_plans_written_before_the_design_block_hash_as_before() -> None:
    """The example plan's hash as ridp computed it before plans had a design block (commit 132267c)."""
    from ridp.evaluation.plan import EXAMPLE_PLAN

    p = AnalysisPlan.from_yaml(EXAMPLE_PLAN)
    assert "design" not in p.to_dict()
    assert p.sha256 == "4778fe10e0b03f979499c1fae359245d26900cbf954807d482b5c83d1a2555c0"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"estimator": "did"}, "design.post", "is required by estimator did"),
        ({"estimator": "twfe", "design": {"time": "week"}}, "unit", "is required by estimator twfe"),
        ({"estimator": "its", "design": {"time": "t", "family": "binomial"}}, "design.family", "not one of"),
        ({"estimator": "its", "design": {"time": "t", "colour": "red"}}, "design.colour", "not a setting of its"),
        ({"estimator": "synth", "design": {"time": "year", "start": 1989}}, "treated", "required by estimator synth"),
        ({"estimator": "lin", "covariates": ["x"], "design": {"post": "d"}}, "design", "needs none"),
        ({"design": {"post": "d"}}, "estimator", "is missing"),
        ({"estimator": "its", "se": "CR2", "design": {"time": "t"}}, "se", "not for estimator its"),
        ({"estimator": "difference_in_means", "se": "HAC"}, "se", "for quasi-experimental estimators"),
        (
            {"estimator": "sun_abraham", "unit": "u", "covariates": ["x"], "design": {"time": "t"}},
            "covariates",
            "not used by estimator sun_abraham",
        ),
    ],
)
def test_plan_errors_name_the_field(fields: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(SpecError, match=words) as caught:
        plan(primary={"column": "y", "label": "Y"}, treatment="d", **fields)
    assert caught.value.field == field


def test_a_yaml_design_error_names_its_line() -> None:
    text = "\n".join([
        "title: t", "questions: [q]", "hypotheses: [h]", "alpha: 0.05", "treatment: smokban", "estimator: its",
        "primary:", "  column: aces", "  label: Events", "design:", "  time: time", "  harmonics: two",
    ])  # fmt: skip
    with pytest.raises(SpecError, match="whole number") as caught:
        AnalysisPlan.from_yaml(text)
    assert caught.value.field == "design.harmonics" and caught.value.line == 12
