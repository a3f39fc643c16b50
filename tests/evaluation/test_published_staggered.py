"""Callaway-Sant'Anna and Sun-Abraham on mpdta, the example of Callaway and Sant'Anna (2021) and of R's ``did``.

Published (never-treated comparisons, no covariates): ATT(2004,2006) −0.1373, ATT(2004,2007) −0.1008; group
aggregation −0.031 (bootstrap SE ≈ 0.0125) with groups 2004 −0.0797, 2006 −0.0229, 2007 −0.0261; simple
aggregation −0.040 (SE ≈ 0.012). Point estimates to 4 decimals; bootstrap SEs within 15 %.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ridp.errors import FieldError, InputError
from ridp.evaluation.estimators import Estimate
from ridp.evaluation.staggered import callaway_santanna, sun_abraham


@pytest.fixture(scope="module")
def mpdta(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "studies" / "mpdta" / "mpdta.csv")


@pytest.fixture(scope="module")
def cs(mpdta: pd.DataFrame):  # type: ignore[no-untyped-def]
    return callaway_santanna(mpdta, outcome="lemp", unit="countyreal", time="year", first_treated="first_treat",
                             reps=999, seed=20261127)  # fmt: skip


def four(value: float, published: float) -> None:
    assert abs(value - published) < 0.5e-4, (value, published)


def test_group_time_effects(cs) -> None:  # type: ignore[no-untyped-def]
    att = {(r["group"], r["time"]): r["att"] for r in cs.tables["att_gt"]}
    four(att[2004, 2006], -0.1373)
    four(att[2004, 2007], -0.1008)
    assert len(att) == 12  # three cohorts × four periods after the first


def test_aggregations_and_bootstrap_standard_errors(cs) -> None:  # type: ignore[no-untyped-def]
    groups = {r["group"]: r["att"] for r in cs.tables["groups"]}
    four(groups[2004], -0.0797)
    four(groups[2006], -0.0229)
    four(groups[2007], -0.0261)
    assert cs.spec["aggregation"] == "group"
    assert abs(cs.effect - -0.031) < 0.5e-3
    assert cs.se == pytest.approx(0.0125, rel=0.15)
    simple = cs.facts["Overall (simple aggregation)"]
    value, se = float(simple.split()[0]), float(simple.split("SE ")[1].rstrip(")"))
    assert abs(value - -0.040) < 0.5e-3
    assert se == pytest.approx(0.012, rel=0.15)


def test_event_study_and_pre_trend_test(cs) -> None:  # type: ignore[no-untyped-def]
    events = {r["event_time"]: r for r in cs.detail}
    four(events[2]["att"], -0.1373)  # only the 2004 cohort is seen two years on
    assert sorted(events) == [-3, -2, -1, 0, 1, 2, 3]
    for row in events.values():  # the uniform band is wider than the pointwise interval
        assert row["band_low"] <= row["ci_low"] < row["att"] < row["ci_high"] <= row["band_high"]
    assert cs.facts["Pre-trend test"].startswith("Wald χ² = ")
    chart = cs.chart().to_dict()
    assert chart["title"].startswith("Event study") and len(chart["layer"]) == 5


def test_the_same_draws_give_the_same_numbers(mpdta: pd.DataFrame, cs) -> None:  # type: ignore[no-untyped-def]
    again = callaway_santanna(mpdta, outcome="lemp", unit="countyreal", time="year", first_treated="first_treat",
                              reps=999, seed=20261127)  # fmt: skip
    assert again == cs
    assert Estimate.from_dict(cs.to_dict()) == cs


def test_not_yet_treated_comparisons_differ_only_where_they_can(mpdta: pd.DataFrame, cs) -> None:  # type: ignore[no-untyped-def]
    notyet = callaway_santanna(mpdta, outcome="lemp", unit="countyreal", time="year", first_treated="first_treat",
                               control="notyet", reps=199)  # fmt: skip
    a = {(r["group"], r["time"]): r["att"] for r in cs.tables["att_gt"]}
    b = {(r["group"], r["time"]): r["att"] for r in notyet.tables["att_gt"]}
    assert b[2007, 2007] == pytest.approx(a[2007, 2007])  # no cohort is still untreated after 2007
    assert b[2004, 2004] != pytest.approx(a[2004, 2004])  # 2006 and 2007 cohorts join the comparison


def test_sun_abraham_matches_callaway_santanna_after_treatment(mpdta: pd.DataFrame, cs) -> None:  # type: ignore[no-untyped-def]
    sa = sun_abraham(mpdta, outcome="lemp", unit="countyreal", time="year", first_treated="first_treat")
    cs_events = {r["event_time"]: r["att"] for r in cs.detail}
    for row in sa.detail:
        if row["event_time"] >= 0:
            assert row["att"] == pytest.approx(cs_events[row["event_time"]], abs=1e-10)
    four(sa.effect, -0.0400)


def test_bad_input(mpdta: pd.DataFrame) -> None:
    args = {"outcome": "lemp", "unit": "countyreal", "time": "year", "first_treated": "first_treat", "reps": 99}
    with pytest.raises(InputError, match="has no row for period 2005"):
        callaway_santanna(mpdta[~((mpdta["countyreal"] == 8001) & (mpdta["year"] == 2005))], **args)
    with pytest.raises(FieldError, match="no unit is never treated"):
        callaway_santanna(mpdta[mpdta["first_treat"] > 0], **args)
    with pytest.raises(FieldError, match="changes within unit"):
        callaway_santanna(mpdta.assign(first_treat=np.where(mpdta["year"] == 2003, 2004, mpdta["first_treat"])), **args)
    with pytest.raises(FieldError, match="nothing to estimate"):
        callaway_santanna(mpdta.assign(first_treat=0), **args)
    one = mpdta[(mpdta["first_treat"] == 0) | (mpdta["countyreal"] == 8001)]
    result = callaway_santanna(one, **args)
    assert any("single unit" in w for w in result.warnings)
