"""Interrupted time series against Lopez Bernal, Cummins and Gasparrini (2017), and on the demo city.

Sicily (acute coronary events, smoking ban in January 2005): Poisson step change with the standardised
population as offset, RR 0.894 (95 % CI 0.865–0.925); with two seasonal harmonics and overdispersion
(quasi-Poisson), RR 0.885 (0.839–0.933). Both to the three printed decimals.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ridp.errors import FieldError, InputError
from ridp.evaluation.estimators import Estimate
from ridp.evaluation.its import interrupted_time_series as its
from ridp.evaluation.residents import in_residents_terms
from tests.readiness.test_demo_truth import _mapping, demo_city, demo_table, raw, truth

__all__ = ["demo_city", "demo_table", "raw", "truth"]  # session fixtures, shared with the readiness tests


@pytest.fixture(scope="module")
def sicily(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "studies" / "sicily_its" / "sicily.csv")


def ratio(result: Estimate) -> tuple[float, float, float]:
    row = result.tables["rate_ratio"][0]  # type: ignore[attr-defined]
    return row["rate_ratio"], row["low"], row["high"]


def test_poisson_step_change(sicily: pd.DataFrame) -> None:
    result = its(sicily, outcome="aces", time="time", post="smokban", family="poisson", offset="stdpop",
                 slope_change=False)  # fmt: skip
    assert tuple(round(x, 3) for x in ratio(result)) == (0.894, 0.865, 0.925)
    # the effect is in events per month: the counterfactual after the ban times (RR - 1)
    assert result.effect == pytest.approx(result.control_mean * (ratio(result)[0] - 1))
    assert result.ci_low < result.effect < result.ci_high < 0


def test_seasonal_quasi_poisson(sicily: pd.DataFrame) -> None:
    result = its(sicily, outcome="aces", time="time", post="smokban", family="quasipoisson", offset="stdpop",
                 slope_change=False, season="month", period=12, harmonics=2)  # fmt: skip
    assert tuple(round(x, 3) for x in ratio(result)) == (0.885, 0.839, 0.933)
    assert result.facts["Overdispersion (Pearson scale)"] > 1
    # the wrapper is statsmodels: the same model called directly
    import statsmodels.api as sm

    X = pd.DataFrame({"const": 1.0, "time": np.arange(59.0), "post": sicily["smokban"].astype(float)})
    for k in (1, 2):
        X[f"sin{k}"] = np.sin(2 * np.pi * k * sicily["month"] / 12)
        X[f"cos{k}"] = np.cos(2 * np.pi * k * sicily["month"] / 12)
    direct = sm.GLM(sicily["aces"], X, family=sm.families.Poisson(), offset=np.log(sicily["stdpop"])).fit(scale="X2")
    assert np.log(ratio(result)[0]) == pytest.approx(direct.params["post"], rel=1e-8)
    assert (np.log(ratio(result)[2]) - np.log(ratio(result)[0])) / 1.959963984540054 == pytest.approx(
        direct.bse["post"], rel=1e-8
    )


def test_series_detail_chart_summary_and_roundtrip(sicily: pd.DataFrame) -> None:
    result = its(sicily, outcome="aces", time="time", post="smokban", family="quasipoisson", offset="stdpop",
                 season="month")  # fmt: skip
    frame = result.detail_frame()
    assert list(frame.columns) == ["time", "observed", "fitted", "counterfactual", "post"]
    before = frame[~frame["post"]]
    assert np.allclose(before["fitted"], before["counterfactual"])  # no change before the ban
    assert "Slope change (ratio per period)" in result.facts
    assert result.chart().to_dict()["title"].startswith("Interrupted time series")
    assert "n = 59 periods (23 from the change on)" in result.summary()
    assert Estimate.from_dict(result.to_dict()) == result
    terms = in_residents_terms(result, measure="acute coronary events", per="month", volume=12,
                               volume_label="months per year")  # fmt: skip
    assert "fewer acute coronary events per month" in terms.sentence


def test_gaussian_series_uses_newey_west_and_finds_a_planted_step() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(104)
    y = 10 + 0.02 * t - 2.5 * (t >= 60) + np.convolve(rng.normal(0, 0.6, 110), [1, 0.6, 0.3], "valid")[:104]
    weeks = pd.DataFrame({"week": pd.date_range("2024-01-01", periods=104, freq="7D"), "days": y})
    result = its(weeks, outcome="days", time="week", start=pd.Timestamp(weeks["week"][60]))
    assert result.se_type == "HAC" and result.ci_low < -2.5 < result.ci_high
    assert any("Newey-West" in n for n in result.notes)


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "words"),
    [
        (lambda d: d.drop(index=[10, 11]), {}, InputError, "the series has gaps: after 10"),
        (lambda d: d.assign(smokban=1), {}, InputError, "only 0 point.s. before the change"),
        (lambda d: d, {"start": 40}, FieldError, "either post="),
        (lambda d: d.assign(aces=d["aces"] + 0.5), {"family": "poisson"}, FieldError, "not a count"),
        (lambda d: d.iloc[::-1], {}, InputError, "not in time order"),
        (lambda d: d, {"offset": "stdpop"}, FieldError, "offset .log exposure. is for count families"),
    ],
)
def test_bad_input(sicily: pd.DataFrame, change: Any, kwargs: dict[str, Any], error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        its(change(sicily).reset_index(drop=True), outcome="aces", time="time", post="smokban", **kwargs)


def test_the_demo_citys_planted_level_change_is_recovered(demo_table, raw, truth) -> None:  # type: ignore[no-untyped-def]
    """Missed-trash-pickup requests rise by a planted factor on a planted date; weekly counts, trend and a
    yearly season: the quasi-Poisson rate ratio's interval holds the factor the sample realised."""
    from ridp.analysis import trends

    planted = truth["level_change"]
    weekly = trends(demo_table, _mapping(raw), freq="week", where={"type": [planted["service_name"]]}).to_pandas()
    weekly["week_of_year"] = weekly["period"].dt.isocalendar().week.astype(int).clip(upper=52)
    weekly["requests"] = weekly["requests"].astype(int)
    day = pd.Timestamp(date.fromisoformat(planted["date"]))
    result = its(weekly, outcome="requests", time="period", start=day, family="quasipoisson", season="week_of_year",
                 period=52, slope_change=False)  # fmt: skip
    rr, low, high = ratio(result)
    assert low <= planted["realised_factor"] <= high, (rr, low, high, planted)
    assert low <= planted["planted_factor"] <= high
