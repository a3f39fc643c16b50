"""Estimates in residents' terms: per request and per year, with intervals said in plain words."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from ridp.errors import FieldError
from ridp.evaluation import estimators as E
from ridp.evaluation.residents import ResidentTerms, in_residents_terms


def estimate(effect: float, low: float, high: float, alpha: float = 0.05) -> E.Estimate:
    return E.Estimate(outcome="days_to_close", treatment="pilot", estimator="difference_in_means", se_type="HC2",
                      effect=effect, se=0.4, ci_low=low, ci_high=high, p_value=0.01, n=400, n_treated=200,
                      n_clusters=None, df=390.0, alpha=alpha, control_mean=9.0, treated_mean=9.0 + effect,
                      covariates=(), cluster=None, spec={})  # fmt: skip


def test_an_improvement_reads_as_days_saved_per_request_and_per_year() -> None:
    terms = in_residents_terms(estimate(-2.1, -2.8, -1.4), measure="days of waiting", per="request", volume=8600)
    assert terms.sentence == (
        "2.1 fewer days of waiting per request (95% CI 1.4–2.8), ≈ 18,000 resident-days of waiting saved per year "
        "(95% CI 12,000–24,000); the volume, 8,600 requests per year, is taken as fixed."
    )
    assert (terms.per_unit, terms.per_unit_low, terms.per_unit_high) == (2.1, 1.4, 2.8)
    assert terms.total == pytest.approx(2.1 * 8600) and terms.total_low == pytest.approx(1.4 * 8600)
    assert terms.total_high == pytest.approx(2.8 * 8600)
    assert terms.total_label == "resident-days of waiting saved per year"
    assert terms.volume_label == "requests per year"


def test_an_interval_crossing_zero_is_said_in_words() -> None:
    terms = in_residents_terms(estimate(-0.45, -1.2, 0.3), measure="days of waiting", per="request", volume=8600)
    assert terms.sentence.startswith("somewhere between 0.30 more and 1.2 fewer days of waiting per request (95% CI;"
                                     " best estimate 0.45 fewer), so no change cannot be ruled out")  # fmt: skip
    assert "between 2,600 resident-days of waiting added and 10,000 saved" in terms.sentence
    assert terms.sentence.endswith("the volume, 8,600 requests per year, is taken as fixed.")
    assert "-" not in terms.sentence.replace("resident-days", "")  # no minus signs for residents to decode


def test_a_pilot_that_made_things_worse_says_so() -> None:
    terms = in_residents_terms(estimate(1.0, 0.5, 1.5, alpha=0.1), measure="days of waiting", per="request",
                               volume=1200, volume_label="requests per month")  # fmt: skip
    assert terms.sentence == (
        "1.0 more days of waiting per request (90% CI 0.50–1.5), ≈ 1,200 resident-days of waiting added per month "
        "(90% CI 600–1,800); the volume, 1,200 requests per month, is taken as fixed."
    )
    assert terms.per_unit == -1.0 and terms.total_label == "resident-days of waiting saved per month"


def test_higher_is_better_without_a_volume() -> None:
    terms = in_residents_terms(estimate(3.2, 1.1, 5.3), measure="satisfaction points", per="survey", better="higher")
    assert terms.sentence == "3.2 more satisfaction points per survey (95% CI 1.1–5.3)."
    assert terms.total is None and terms.total_label == "satisfaction points gained per year"


def test_a_real_estimate_carries_its_interval_through() -> None:
    rng = np.random.default_rng(5)
    d = np.repeat([0, 1], 60)
    data = pd.DataFrame({"days": rng.gamma(3, 2, 120) - 1.5 * d, "pilot": d})
    result = E.difference_in_means(data, outcome="days", treatment="pilot")
    terms = in_residents_terms(result, measure="days of waiting", per="request", volume=5000)
    assert terms.per_unit == -result.effect
    assert (terms.per_unit_low, terms.per_unit_high) == (-result.ci_high, -result.ci_low)
    assert terms.total_low == pytest.approx(-result.ci_high * 5000, rel=1e-12)


def test_round_trip_including_an_unbounded_interval() -> None:
    bounded = in_residents_terms(estimate(-2.1, -2.8, -1.4), measure="days of waiting", per="request", volume=8600)
    unbounded = in_residents_terms(estimate(-0.8, -math.inf, math.inf), measure="days of waiting", per="request",
                                   volume=8600)  # fmt: skip
    assert "CI unbounded" in unbounded.sentence and "taken as fixed" in unbounded.sentence
    for terms in (bounded, unbounded, replace(bounded, volume=None, total=None, total_low=None, total_high=None)):
        assert ResidentTerms.from_dict(json.loads(json.dumps(terms.to_dict()))) == terms


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"better": "less"}, "better"), ({"volume": -5}, "volume"), ({"volume": math.nan}, "volume"),
     ({"measure": " "}, "measure"), ({"per": ""}, "per")],
)  # fmt: skip
def test_bad_arguments_name_the_field(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"measure": "days of waiting", "per": "request", **kwargs}
    with pytest.raises(FieldError) as raised:
        in_residents_terms(estimate(-2.1, -2.8, -1.4), **arguments)  # type: ignore[arg-type]
    assert raised.value.field == field
