"""Service gaps between areas or groups, checked against computations written here.

Every expected figure is computed in this file from the rows themselves: medians with numpy,
Kaplan-Meier estimates with the textbook loop, the bootstrap distribution of a median of
closed requests exactly from binomial tails (the median of a resample is at most the j-th
value when at least half the resample is), censored resampling by brute force over the rows,
Wilson intervals with statsmodels, and the real exports from their raw text with pandas. The
intervals' coverage is checked by simulation against a known truth, and the demo city's
planted slow and fast areas against the multipliers ``truth.json`` says were planted.
"""

from __future__ import annotations

import doctest
import json
import math
from datetime import datetime, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, chi2, ks_2samp
from statsmodels.stats.proportion import proportion_confint

import ridp.analysis.gaps as gaps_module
from ridp.analysis import TargetTable, WorkCalendar, service_levels
from ridp.analysis.charts import to_svg
from ridp.analysis.gaps import ServiceGaps, service_gaps
from ridp.errors import FieldError
from ridp.readiness import CanonicalMapping
from tests.analysis.test_real_data import CITIES, mapping_of
from tests.readiness.test_demo_truth import _mapping, demo_city, demo_table, raw, truth
from tests.readiness.test_real_data import Export, expected, parse_local, raw_text

__all__ = ["demo_city", "demo_table", "raw", "truth"]  # session fixtures, shared with the readiness tests

T0 = datetime(2024, 1, 1)
AS_OF = datetime(2025, 1, 1)
MAPPING = CanonicalMapping({"id": "id", "type": "kind", "opened": "opened", "closed": "closed"}, areas=("ward",))
Row = tuple[Any, float, bool]  # (ward, days, still open?)


def requests(rows: list[Row], kind: str | list[str] = "Pothole") -> ibis.Table:
    """Closed requests opened at T0 and closed ``days`` later; open ones opened ``days`` before AS_OF."""
    opened, closed = [], []
    for _, days, is_open in rows:
        span = timedelta(seconds=round(days * 86400))
        opened.append(AS_OF - span if is_open else T0)
        closed.append(None if is_open else T0 + span)
    kinds = kind if isinstance(kind, list) else [kind] * len(rows)
    frame = pd.DataFrame({"id": [f"R{i}" for i in range(len(rows))], "kind": kinds, "ward": [r[0] for r in rows],
                          "opened": pd.to_datetime(opened), "closed": pd.to_datetime(closed)})  # fmt: skip
    return ibis.memtable(frame)


def closed(ward: Any, values: Any) -> list[Row]:
    return [(ward, float(v), False) for v in values]


def km_quantile(days: np.ndarray, is_closed: np.ndarray, level: float) -> float | None:
    """The smallest duration at which the Kaplan-Meier curve is at or below ``level``: the textbook loop."""
    s = 1.0
    for t in np.unique(days):
        at_risk = int((days >= t).sum())
        d = int((is_closed & (days == t)).sum())
        s *= 1 - d / at_risk
        if s <= level + 1e-9:
            return float(t)
    return None


def grid(rng: np.random.Generator, n: int, median: float, sigma: float = 0.6) -> np.ndarray:
    """Lognormal durations rounded to the 0.01-day grid the engine counts them on (so rounding is exact)."""
    return np.round(rng.lognormal(math.log(median), sigma, n), 2)


def test_the_docstring_example_runs():
    failed, tried = doctest.testmod(gaps_module, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failed == 0


# -- hand checks --------------------------------------------------------------------------------------------------
def test_medians_of_closed_requests_are_numpys_and_service_levels():
    rng = np.random.default_rng(3)
    values = {"A": grid(rng, 11, 2.0), "B": grid(rng, 21, 3.0), "C": grid(rng, 31, 5.0)}  # odd: one middle value
    t = requests([r for ward, v in values.items() for r in closed(ward, v)])
    result = service_gaps(t, MAPPING, by="ward", as_of=AS_OF)
    levels = service_levels(t, MAPPING, by=("ward",), as_of=AS_OF).to_pandas().set_index("ward")
    for ward, v in values.items():
        row = result.row(ward)
        assert (row["requests"], row["closed"], row["still_open"]) == (len(v), len(v), 0)
        assert row["median_days"] == pytest.approx(np.median(v), abs=1e-9)
        assert row["median_days_closed"] == pytest.approx(np.median(v), abs=1e-9)
        assert row["p90_days"] == pytest.approx(np.quantile(v, 0.9, method="inverted_cdf"), abs=1e-9)
        assert row["median_days"] == levels.loc[ward, "median_days"]
        assert row["p90_days"] == levels.loc[ward, "p90_days"]
        assert row["resident_days_waiting"] == pytest.approx(v.sum())
        assert row["median_days_low"] <= row["median_days"] <= row["median_days_high"]
        assert row["p90_days_low"] <= row["p90_days"] <= row["p90_days_high"]
    assert result.reference == "C" and result.reference_rule == "most requests"


def test_open_requests_are_censored_as_the_kaplan_meier_loop_says():
    # By hand: 1, 2, 2+ (open), 4, 30+: S(1) = 4/5, S(2) = 0.6, S(4) = 0.3, so the median is 4 (not 2, the
    # median of the closed ones) and the p90 is unknown (S never reaches 0.1).
    hand = [("H", 1, False), ("H", 2, False), ("H", 2, True), ("H", 4, False), ("H", 30, True)]
    rng = np.random.default_rng(8)
    rows: list[Row] = list(hand)
    for ward, median in (("A", 3.0), ("B", 6.0)):
        rows += [(ward, float(d), bool(o)) for d, o in zip(grid(rng, 60, median), rng.random(60) < 0.3, strict=True)]
    result = service_gaps(requests(rows), MAPPING, by="ward", as_of=AS_OF)
    h = result.row("H")
    assert (h["median_days"], h["median_days_closed"], h["p90_days"], h["still_open"]) == (4.0, 2.0, None, 2)
    assert h["median_days_low"] is None and "fewer than 10 closed" in h["interval_note"]
    for ward in ("A", "B"):
        days = np.array([r[1] for r in rows if r[0] == ward])
        is_closed = np.array([not r[2] for r in rows if r[0] == ward])
        row = result.row(ward)
        assert row["median_days"] == pytest.approx(km_quantile(days, is_closed, 0.5), abs=1e-9)
        assert row["median_days_closed"] == pytest.approx(np.median(days[is_closed]), abs=1e-9)
        p90 = km_quantile(days, is_closed, 0.1)
        assert row["p90_days"] == (pytest.approx(p90, abs=1e-9) if p90 is not None else None)
        assert row["median_days_low"] <= row["median_days"] <= row["median_days_high"]


def test_the_interval_of_a_median_is_the_exact_bootstrap_distributions():
    """All closed: a resample's median (the smallest value where the curve reaches one half) is at most the
    j-th distinct value exactly when at least ceil(n/2) of its n requests are, a binomial tail; the reported
    ends (less the half rounding step they are widened by) must sit at that distribution's 2.5% and 97.5%."""
    rng = np.random.default_rng(21)
    v = np.sort(grid(rng, 61, 4.0, 0.5))
    result = service_gaps(requests(closed("A", v)), MAPPING, by="ward", as_of=AS_OF, resamples=20_000)
    values = np.unique(v)
    cdf = binom.sf(math.ceil(len(v) / 2) - 1, len(v), np.searchsorted(v, values, side="right") / len(v))
    row = result.row("A")
    low, high = row["median_days_low"] + 0.005, row["median_days_high"] - 0.005  # values >= 1 day: step 0.01
    assert values[np.searchsorted(cdf, 0.015)] <= low <= values[np.searchsorted(cdf, 0.035)]
    assert values[np.searchsorted(cdf, 0.965)] <= high <= values[np.searchsorted(cdf, 0.985)]


def test_with_open_requests_the_interval_is_that_of_resampling_the_rows():
    """Brute force: resample the rows themselves 4,000 times and take each resample's Kaplan-Meier median."""
    rng = np.random.default_rng(5)
    days = grid(rng, 240, 5.0, 0.7)
    is_open = rng.random(240) < 0.35
    days = np.where(is_open, np.round(rng.uniform(0.5, 12, 240), 2), days)
    result = service_gaps(requests([("A", float(d), bool(o)) for d, o in zip(days, is_open, strict=True)]), MAPPING,
                          by="ward", as_of=AS_OF, resamples=4000)  # fmt: skip
    values, where = np.unique(days, return_inverse=True)
    picks = np.random.default_rng(9).integers(0, days.size, (4000, days.size))
    ev = np.zeros((4000, values.size))
    ce = np.zeros((4000, values.size))
    np.add.at(ev, (np.arange(4000)[:, None].repeat(days.size, 1), where[picks]), ~is_open[picks])
    np.add.at(ce, (np.arange(4000)[:, None].repeat(days.size, 1), where[picks]), is_open[picks])
    at_risk = np.cumsum((ev + ce)[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(np.where(at_risk > 0, 1 - ev / at_risk, 1.0), axis=1)
    medians = np.where((s <= 0.5 + 1e-9).any(1), values[(s <= 0.5 + 1e-9).argmax(1)], np.inf)
    row = result.row("A")
    low, high = row["median_days_low"] + 0.005, row["median_days_high"] - 0.005
    assert np.quantile(medians, 0.012) <= low <= np.quantile(medians, 0.04)
    assert np.quantile(medians, 0.96) <= high <= np.quantile(medians, 0.988)


def test_intervals_contain_the_estimate_narrow_with_more_requests_and_repeat_with_the_seed():
    rng = np.random.default_rng(2)
    base = grid(rng, 40, 3.0)
    rows = closed("small", base) + closed("large", np.tile(base, 9)) + closed("other", grid(rng, 50, 2.0))
    t = requests(rows)
    result = service_gaps(t, MAPPING, by="ward", as_of=AS_OF)
    small, large = result.row("small"), result.row("large")
    assert small["median_days"] == large["median_days"]
    for row in (small, large):
        assert row["median_days_low"] <= row["median_days"] <= row["median_days_high"]
    width = {r["group"]: r["median_days_high"] - r["median_days_low"] for r in (small, large)}
    assert width["large"] < 0.6 * width["small"]  # nine times the requests: about a third of the width
    again = service_gaps(t, MAPPING, by="ward", as_of=AS_OF)
    assert again.to_dict() == result.to_dict()
    other_seed = service_gaps(t, MAPPING, by="ward", as_of=AS_OF, seed=1).to_pandas()
    assert not other_seed[["median_days_low", "median_days_high"]].equals(
        result.to_pandas()[["median_days_low", "median_days_high"]]
    )
    # a group's resamples depend on the seed and its name only: the same interval without the other groups
    alone = service_gaps(requests(closed("small", base)), MAPPING, by="ward", as_of=AS_OF).row("small")
    assert (alone["median_days_low"], alone["median_days_high"]) == (small["median_days_low"],
                                                                       small["median_days_high"])  # fmt: skip


def test_a_group_twice_as_slow_is_a_clear_gap_and_one_a_tenth_slower_is_none():
    rng = np.random.default_rng(4)
    base = np.round(rng.lognormal(math.log(3.0), 0.5, 400), 1)  # on a 0.1-day grid: 2x, 1.1x, 0.5x stay on 0.01
    rows = (closed("ref", np.append(base, 3.0)) + closed("slow", 2 * base) + closed("near", 1.1 * base)
            + closed("fast", 0.5 * base) + closed("few", 1.6 * base[:12]))  # fmt: skip
    result = service_gaps(requests(rows), MAPPING, by="ward", as_of=AS_OF)
    assert result.reference == "ref"  # the most requests, as Aequitas picks it
    ref = result.row("ref")
    assert (ref["median_ratio"], ref["median_gap"], ref["median_ratio_low"]) == (1.0, "reference", None)
    expect = {"slow": (2.0, "clear"), "near": (1.1, "none"), "fast": (0.5, "clear")}
    for group, (ratio, gap) in expect.items():
        row = result.row(group)
        assert row["median_days"] == pytest.approx(ratio * ref["median_days"], abs=1e-9)
        assert row["median_ratio"] == pytest.approx(ratio, rel=1e-9)
        assert row["median_ratio_low"] <= row["median_ratio"] <= row["median_ratio_high"], group
        assert row["median_gap"] == gap, group
    assert result.row("slow")["median_ratio_low"] > 1.25 and result.row("fast")["median_ratio_high"] < 0.8
    few = result.row("few")  # 12 requests, 1.6x: outside the band, but the interval reaches into it
    assert few["median_ratio"] > 1.25 and few["median_ratio_low"] < 1.25 and few["median_gap"] == "possible"
    named = service_gaps(requests(rows), MAPPING, by="ward", as_of=AS_OF, reference="slow")
    assert named.row("ref")["median_ratio"] == pytest.approx(0.5) and named.reference_rule == "named"
    worst = result.worst(3)
    assert list(worst["group"]) == ["slow", "few", "near"] and list(worst["rank"]) == [1, 2, 3]
    assert {"requests", "closed", "median_days_low"} <= set(worst.columns)
    summary = result.summary()
    line = next(x for x in summary.splitlines() if x.startswith("Residents of slow"))
    assert (
        "(95% CI " in line and "× the reference group ref (interval " in line and ": a clear gap; 400 requests." in line
    )
    assert "Served faster than the band allows: fast (0.50×, clear)" in summary


def test_rows_without_an_area_and_rows_set_aside_are_counted_with_examples():
    rng = np.random.default_rng(6)
    rows = closed("A", grid(rng, 30, 2.0)) + closed("tiny", [1.0, 2.0, 3.0]) + closed(None, [1.0, 4.0])
    t = requests(rows).mutate(closed=ibis.cases((ibis._.id == "R0", ibis.literal(T0 - timedelta(days=1))),
                                                else_=ibis._.closed))  # fmt: skip
    result = service_gaps(t, MAPPING, by="ward", as_of=AS_OF)
    assert list(result.to_pandas()["group"]) == ["A", "tiny"]  # no group for the rows without a ward
    left = {x.reason: x for x in result.left_out}
    assert left["without a value in ward"].count == 2
    assert left["without a value in ward"].examples == ("id R33", "id R34")
    negative = left["closed before they were opened (negative time to close)"]
    assert (negative.count, negative.examples) == (1, ("id R0",))
    assert result.row("A")["requests"] == 29 and result.rows_read == 35 and result.rows_analysed == 32
    tiny = result.row("tiny")
    assert tiny["median_days"] == 2.0 and tiny["median_days_low"] is None and tiny["median_ratio_low"] is None
    assert tiny["interval_note"] == "fewer than 10 closed requests"
    assert any(
        n.reason.startswith("groups with fewer than 10 closed") and n.examples == ("tiny",) for n in result.notes
    )
    assert "Left out: 2 without a value in ward" in result.summary()


def test_share_within_target_has_wilsons_interval_and_a_ratio_to_the_reference():
    # ward A: 40 within 3 days, 10 after; ward B: 12 within, 28 after, 5 open past the target, 2 open not yet
    rows = (closed("A", [1.0] * 40 + [5.0] * 10) + closed("B", [2.0] * 12 + [6.0] * 28)
            + [("B", 9.0, True)] * 5 + [("B", 1.0, True)] * 2)  # fmt: skip
    result = service_gaps(requests(rows), MAPPING, by="ward", as_of=AS_OF, targets=TargetTable({"Pothole": 3}),
                          reference="A")  # fmt: skip
    a, b = result.row("A"), result.row("B")
    assert (a["within_target"], a["past_target"], b["within_target"], b["past_target"]) == (40, 10, 12, 33)
    for row, (k, n) in ((a, (40, 50)), (b, (12, 45))):
        low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert row["share_within_target"] == pytest.approx(k / n)
        assert (row["share_within_target_low"], row["share_within_target_high"]) == (pytest.approx(low),
                                                                                      pytest.approx(high))  # fmt: skip
    assert b["share_ratio"] == pytest.approx((12 / 45) / (40 / 50))
    assert b["share_ratio_low"] <= b["share_ratio"] <= b["share_ratio_high"] < 0.8 and b["share_gap"] == "clear"
    assert a["share_gap"] == "reference"
    assert "of requests were closed within target" in result.summary()
    ranked = result.worst(2, by="share_within_target")
    assert list(ranked["group"]) == ["B", "A"]


def test_groups_of_areas_pool_their_requests_and_residents():
    rng = np.random.default_rng(11)
    durations = {1: grid(rng, 40, 2.0), 2: grid(rng, 30, 2.5), 3: grid(rng, 50, 6.0), 4: grid(rng, 20, 5.0),
                 5: grid(rng, 7, 1.0)}  # fmt: skip
    t = requests([r for ward, v in durations.items() for r in closed(ward, v)])  # numeric ward ids
    labels = {"1": "richer", "2": "richer", "3": "poorer", "4": "poorer"}  # ward 5 has no label
    people = {"1": 1000.0, "2": 3000.0, "3": 2500.0, "4": 500.0, "9": 800.0}
    result = service_gaps(t, MAPPING, by="ward", as_of=AS_OF, groups=labels, population=people)
    assert result.grouped and set(result.to_pandas()["group"]) == {"richer", "poorer"}
    years = ((AS_OF.date() - T0.date()).days + 1) / 365.25
    for label, wards, residents in (("richer", (1, 2), 4000.0), ("poorer", (3, 4), 3000.0)):
        pooled = np.concatenate([durations[w] for w in wards])
        row = result.row(label)
        assert row["requests"] == len(pooled) and row["residents"] == residents
        assert row["median_days"] == pytest.approx(km_quantile(pooled, np.ones(len(pooled), bool), 0.5), abs=1e-9)
        assert row["requests_per_1000_residents_per_year"] == pytest.approx(len(pooled) / residents * 1000 / years)
    unlabelled = next(x for x in result.left_out if "no group" in x.reason)
    assert unlabelled.count == 7 and unlabelled.examples == ("5 (7 rows)",)
    assert "Service gaps by groups of ward" in result.summary() and "4,000 residents" not in result.summary()


def test_business_days_are_whole_and_equal_service_levels():
    rng = np.random.default_rng(12)
    rows: list[Row] = []
    for ward, median in (("A", 4.0), ("B", 8.0)):
        rows += [(ward, float(d), False) for d in np.round(rng.lognormal(math.log(median), 0.6, 80), 3)]
    t = requests(rows)
    calendar = WorkCalendar(holidays=(datetime(2024, 1, 15).date(),))
    result = service_gaps(t, MAPPING, by="ward", as_of=AS_OF, unit="business", calendar=calendar)
    levels = service_levels(t, MAPPING, by=("ward",), as_of=AS_OF, unit="business", calendar=calendar).to_pandas()
    for _, expected_row in levels.iterrows():
        row = result.row(expected_row["ward"])
        assert row["median_days"] == expected_row["median_days"] and row["p90_days"] == expected_row["p90_days"]
        assert float(row["median_days_low"]).is_integer() and float(row["median_days_high"]).is_integer()
    assert "Business days count working days" in result.method


def test_the_result_round_trips_through_json_and_draws_its_chart():
    rng = np.random.default_rng(13)
    rows = closed("A", grid(rng, 60, 2.0)) + closed("B", grid(rng, 50, 4.0)) + closed("C", [1.0, 2.0])
    result = service_gaps(requests(rows), MAPPING, by="ward", as_of=AS_OF, targets={"Pothole": 3.0},
                          population={"A": 1200, "B": 800})  # fmt: skip
    data = json.loads(json.dumps(result.to_dict()))
    again = ServiceGaps.from_dict(data)
    assert again.to_dict() == result.to_dict()
    pd.testing.assert_frame_equal(again.to_pandas(), result.to_pandas())
    assert again.summary() == result.summary()
    spec = result.chart().to_dict()
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]]
    assert marks == ["rect", "rule", "rule", "point"]
    band = spec["datasets"][spec["layer"][0]["data"]["name"]][0]
    assert (band["x"], band["x2"]) == (0.8, 1.25)
    colours = spec["layer"][3]["encoding"]["color"]["scale"]["range"]
    assert set(colours) <= {"#D55E00", "#E69F00", "#0072B2", "#000000", "#999999"}  # Okabe-Ito
    assert to_svg(result.chart(metric="share_within_target")).startswith("<svg")


def test_a_map_of_the_ratios_over_the_areas():
    from shapely.geometry import box

    from ridp.analysis.boundaries import Boundaries

    rng = np.random.default_rng(14)
    result = service_gaps(requests(closed("A", grid(rng, 40, 2.0)) + closed("B", grid(rng, 30, 5.0))), MAPPING,
                          by="ward", as_of=AS_OF)  # fmt: skip
    areas = Boundaries.from_records(["A", "B"], [box(-71.1, 42.3, -71.0, 42.4), box(-71.0, 42.3, -70.9, 42.4)])
    spec = result.map(areas).to_dict()
    assert "http" not in json.dumps({k: v for k, v in spec.items() if k != "$schema"})
    assert "÷ A's" in json.dumps(spec, ensure_ascii=False)
    # between groups of areas, each area shows its group's figure
    t = requests(closed("A", grid(rng, 40, 2.0)) + closed("B", grid(rng, 30, 5.0)) + closed("C", grid(rng, 30, 5.0)))
    grouped = service_gaps(t, MAPPING, by="ward", as_of=AS_OF, groups={"A": "west", "B": "east", "C": "east"})
    areas = Boundaries.from_records(
        ["A", "B", "C"], [box(-71.1 + 0.1 * i, 42.3, -71.0 + 0.1 * i, 42.4) for i in range(3)]
    )
    shown = json.dumps(grouped.map(areas, show="median_days").to_dict())
    east = grouped.row("east")["median_days"]
    assert shown.count(f'"value": {east}') == 2 and '"group": "east"' in shown
    assert ServiceGaps.from_dict(json.loads(json.dumps(grouped.to_dict()))).groups == {"A": "west", "B": "east",
                                                                                          "C": "east"}  # fmt: skip


def test_bad_input_names_the_field():
    t = requests(closed("A", [1.0, 2.0]))
    cases = [
        (dict(by="nope"), "by"),
        (dict(by="ward", reference="Z"), "reference"),
        (dict(by="ward", confidence=1.2), "confidence"),
        (dict(by="ward", resamples=10), "resamples"),
        (dict(by="ward", seed=-1), "seed"),
        (dict(by="ward", groups={"A": ""}), "groups"),
        (dict(by="ward", population={"A": "many"}), "population"),
        (dict(by="ward", unit="hours"), "unit"),
    ]
    for kwargs, field in cases:
        with pytest.raises(FieldError) as err:
            service_gaps(t, MAPPING, as_of=AS_OF, **kwargs)
        assert err.value.field == field, kwargs
    with pytest.raises(FieldError, match="closed"):
        service_gaps(t, CanonicalMapping({"opened": "opened"}), by="ward")


# -- the resampling against full resampling, and the intervals' coverage --------------------------------------------
def _cells(days: np.ndarray, is_open: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values, where = np.unique(days, return_inverse=True)
    ev = np.bincount(where, weights=~is_open, minlength=values.size).astype(np.int64)
    ce = np.bincount(where, weights=is_open, minlength=values.size).astype(np.int64)
    return values, ev, ce


def _censored_sample(n: int, open_share: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    is_open = rng.random(n) < open_share
    days = np.where(is_open, np.round(rng.uniform(0, 12, n), 1), np.round(rng.lognormal(1, 0.8, n), 1))
    return _cells(days, is_open)


def test_the_run_resampling_has_the_distribution_of_full_multinomial_resampling():
    """Draw every value's closed and open counts (the plain multinomial over all values), take each
    resample's curve and its crossings, and compare the two distributions of the median and the p90."""
    values, ev, ce = _censored_sample(400, 0.3, 1)
    draws, approx = gaps_module._km_draws(values, ev, ce, (0.5, 0.1), 20_000, np.random.default_rng(2),
                                          exact_runs=10**9)  # fmt: skip
    assert not approx
    x = np.random.default_rng(3).multinomial(int(ev.sum() + ce.sum()), np.concatenate([ev, ce]) / (ev.sum() + ce.sum()),
                                             size=20_000)  # fmt: skip
    e, c = x[:, : values.size].astype(float), x[:, values.size :].astype(float)
    at_risk = np.cumsum((e + c)[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(np.where(at_risk > 0, 1 - e / at_risk, 1.0), axis=1)
    for i, level in enumerate((0.5, 0.1)):
        full = np.where((s <= level + 1e-9).any(1), values[(s <= level + 1e-9).argmax(1)], np.inf)
        shown, counts = np.unique(np.concatenate([draws[i], full]), return_counts=True)
        common = shown[counts >= 40]
        a = np.array([(draws[i] == v).sum() for v in common])
        b = np.array([(full == v).sum() for v in common])
        statistic = (((a - b) ** 2) / (a + b)).sum()
        assert chi2.sf(statistic, len(common) - 1) > 0.001, level


@pytest.mark.parametrize(("n", "open_share"), [(3000, 0.8), (20_000, 0.3)])
def test_stretches_agree_with_the_exact_run_resampling(n, open_share):
    values, ev, ce = _censored_sample(n, open_share, 5)
    exact, approx_used = gaps_module._km_draws(values, ev, ce, (0.5, 0.1), 4000, np.random.default_rng(2),
                                               exact_runs=10**9)  # fmt: skip
    fast, approx = gaps_module._km_draws(values, ev, ce, (0.5, 0.1), 4000, np.random.default_rng(3))
    assert approx and not approx_used
    for i in range(2):
        assert ks_2samp(exact[i][np.isfinite(exact[i])], fast[i][np.isfinite(fast[i])]).pvalue > 0.001
        for q in (0.025, 0.5, 0.975):
            assert abs(np.quantile(exact[i], q) - np.quantile(fast[i], q)) <= 0.1 + 1e-9  # one step of the grid


def test_the_median_intervals_cover_the_true_median_in_about_95_percent_of_groups():
    """200 groups of 120 requests, lognormal with a true median of 3 days, opened over the last 25 days
    so that about a fifth are still open (censored) at the analysis date: each group's interval must
    cover 3 days; over 200 groups, 90-99% of them (the binomial spread of 95% is ±3 points)."""
    rng = np.random.default_rng(31)
    n, groups = 120, 200
    ward = np.repeat([f"G{i:03d}" for i in range(groups)], n)
    opened_ago = rng.uniform(0, 25, n * groups)
    duration = rng.lognormal(math.log(3.0), 0.9, n * groups)
    still_open = duration > opened_ago
    opened = pd.Timestamp(AS_OF) - pd.to_timedelta(np.round(opened_ago * 86400), "s")
    close = opened + pd.to_timedelta(np.round(duration * 86400), "s")
    frame = pd.DataFrame({"id": np.arange(n * groups).astype(str), "kind": "Pothole", "ward": ward, "opened": opened,
                          "closed": close.where(~still_open)})  # fmt: skip
    assert 0.15 < still_open.mean() < 0.3
    result = service_gaps(ibis.memtable(frame), MAPPING, by="ward", as_of=AS_OF).to_pandas()
    covered = (result["median_days_low"] <= 3.0) & (result["median_days_high"] >= 3.0)
    print("median coverage", covered.mean())
    assert 0.90 <= covered.mean() <= 0.99, covered.mean()


def test_the_ratio_intervals_cover_the_true_ratio_in_about_95_percent_of_pairs():
    """200 pairs of groups (150 requests each, a quarter censored at random ages), true medians 3 and 4.5
    days: a true ratio of 1.5. Each pair's ratio interval comes from the same resampling service_gaps uses
    (its numpy part, called directly: 200 separate engine runs would take minutes and test the engine
    nothing more than the tests above)."""
    rng = np.random.default_rng(41)
    covered = 0
    for pair in range(200):
        draws = []
        for stream, median in enumerate((3.0, 4.5)):
            is_open = rng.random(150) < 0.25
            days = np.where(is_open, rng.uniform(0, 15, 150), rng.lognormal(math.log(median), 0.8, 150))
            values, ev, ce = _cells(np.round(days, 2), is_open)
            found, _ = gaps_module._km_draws(values, ev, ce, (0.5, 0.1), 2000, gaps_module._rng(0, f"p{pair}", stream))
            draws.append(found[0])
        low, high = gaps_module._ratio_ends(draws[1], draws[0], 0.95, unit="calendar")
        covered += low <= 1.5 <= high
    print("ratio coverage", covered / 200)
    assert 0.90 <= covered / 200 <= 0.99, covered


# -- real exports -----------------------------------------------------------------------------------------------------
BY = {
    "san_francisco/cases_sample.csv": "Neighborhood",
    "chicago/311 Service Requests - Pot Holes Reported - Historical.csv": "community_area",
    "baltimore/Customer_Service_Requests_2018.csv": "neighborhood",
}
REAL = [e for e in CITIES if e.path in BY]


def by_hand(export: Export, column: str) -> pd.DataFrame:
    """The export's requests read from its raw text: the group, whether closed by the analysis date, days."""
    frame = raw_text(export.source)
    formats = expected(export).formats
    opened = parse_local(frame[export.fields["opened"]], formats["opened"], export.timezone)
    closed_at = parse_local(frame[export.fields["closed"]], formats["closed"], export.timezone)
    text = frame[column]
    out = pd.DataFrame({"group": text.where(text.str.strip() != "", None), "opened": opened, "closed": closed_at})
    as_of = max(out["opened"].max(), out["closed"].max())
    out["absent"] = out["group"].isna()
    out = out[out["opened"].notna() & ~(out["closed"] < out["opened"])].copy()
    out["event"] = out["closed"].notna() & (out["closed"] <= as_of)
    out["days"] = (out["closed"].where(out["event"], as_of) - out["opened"]).dt.total_seconds() / 86400
    return out


@pytest.fixture(scope="module")
def real(stored_table) -> dict[str, tuple[ServiceGaps, pd.DataFrame]]:
    stored_table.prefetch(e.source for e in REAL)
    out = {}
    for export in REAL:
        table = stored_table(export.source)
        result = service_gaps(table, mapping_of(export), by=BY[export.path])
        levels = service_levels(table, mapping_of(export), by=(BY[export.path],)).to_pandas()
        out[export.path] = (result, levels)
    return out


@pytest.mark.parametrize("export", REAL, ids=str)
def test_real_exports_per_area_equal_pandas_and_service_levels(real, export):
    result, levels = real[export.path]
    data = by_hand(export, BY[export.path])
    frame = result.to_pandas().set_index("group")
    kept = data[~data["absent"]]
    assert len(frame) == kept["group"].nunique()
    assert int(frame["requests"].sum()) == len(kept)
    absent = int(raw_text(export.source)[BY[export.path]].str.strip().eq("").sum())
    left = {x.reason: x.count for x in result.left_out}
    assert left.get(f"without a value in {BY[export.path]}", 0) == absent
    levels = levels[levels[BY[export.path]].notna()].copy()
    levels.index = [gaps_module._text(v) for v in levels[BY[export.path]]]
    checked = 0
    for name, g in kept.groupby("group"):
        row = frame.loc[name]
        is_closed = g["event"].to_numpy()
        assert (row["requests"], row["closed"]) == (len(g), int(is_closed.sum())), name
        closed_days = g.loc[g["event"], "days"]
        if len(closed_days):
            assert row["median_days_closed"] == pytest.approx(closed_days.quantile(0.5), rel=1e-9, abs=1e-9), name
        median = km_quantile(g["days"].to_numpy(), is_closed, 0.5)
        assert (row["median_days"] if not pd.isna(row["median_days"]) else None) == (
            pytest.approx(median, rel=1e-9) if median is not None else None), name  # fmt: skip
        same = levels.loc[name]
        for column in ("median_days", "p90_days", "median_days_closed"):
            assert (pd.isna(row[column]) and pd.isna(same[column])) or row[column] == same[column], (name, column)
        if not pd.isna(row["median_days_low"]):
            assert row["median_days_low"] <= row["median_days"], name
            if pd.isna(row["median_days_high"]):  # too many resamples never reached one half
                assert "upper end is unknown" in row["interval_note"], name
            else:
                assert row["median_days"] <= row["median_days_high"], name
        checked += 1
    assert checked == len(frame)


def test_chicago_potholes_are_mostly_open_and_their_medians_censored(real):
    result, _ = real["chicago/311 Service Requests - Pot Holes Reported - Historical.csv"]
    frame = result.to_pandas()
    assert frame["still_open"].sum() / frame["requests"].sum() > 0.8
    # most community areas have fewer than 10 closed requests: no interval, and the reason given
    few = frame[frame["closed"] < 10]
    assert len(few) > 0.8 * len(frame) and few["median_days_low"].isna().all()
    assert (few["interval_note"].str.contains("fewer than 10 closed")).all()
    assert frame["median_days"].isna().sum() > 0  # more than half still open: the median is not known
    assert "Median unknown in" in result.summary()


# -- the demo city's planted truth -------------------------------------------------------------------------------------
def test_the_planted_slow_and_fast_areas_ratios_lie_in_their_intervals(demo_table, raw, truth):
    """The demo plants each area's durations as exp(log type median + log c_area + sigma_type * z) with the
    request type drawn independently of the area, so an area's durations are c_area times one shared
    mixture: every quantile, the median included, scales with c_area, and the true ratio of two areas'
    medians is c_a / c_b whatever the type mix. Requests left open (stuck at random, or opened too late to
    close before the export) are censored independently of their duration, so Kaplan-Meier targets those
    medians. The reference is the area with the most requests; each planted slow or fast area's ratio
    interval must hold c_area / c_reference, and the slow areas must be flagged."""
    result = service_gaps(demo_table, _mapping(raw), by="area_id")
    planted = {a["area_id"]: a["planted_closure_multiplier"] for a in truth["areas"]}
    assert result.reference is not None
    frame = result.to_pandas().set_index("group")
    assert frame.loc[result.reference, "requests"] == frame["requests"].max()
    slow, fast = truth["closure"]["slow_area_ids"], truth["closure"]["fast_area_ids"]
    for area in [*slow, *fast]:
        row = frame.loc[area]
        true_ratio = planted[area] / planted[result.reference]
        assert row["median_ratio_low"] <= true_ratio <= row["median_ratio_high"], (area, true_ratio)
    for area in slow:
        assert frame.loc[area, "median_ratio"] > 1.25 and frame.loc[area, "median_gap"] in ("clear", "possible")
    assert set(result.worst(len(slow), by="median_ratio")["group"]) == set(slow)
