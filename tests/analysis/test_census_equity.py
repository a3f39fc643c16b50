"""Census tables, MOE arithmetic and "where resources go" scores, against arithmetic done here.

Every expected figure is computed in this file: a worked example of four areas with the
numbers written out, the Census Bureau's MOE formulas spelled out step by step, and, on real
exports (San Francisco's 2014 ACS tract tables and 311 cases, Baltimore's community indicators
and 311 requests, the demo city), pandas reading the raw text of the files on its own.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re

import ibis
import numpy as np
import pandas as pd
import pytest

from ridp.analysis.census import (
    CensusTable,
    groups_from_census,
    match_keys,
    moe_product,
    moe_proportion,
    moe_proportion_formula,
    moe_ratio,
    moe_sum,
    normalise_key,
    read_acs,
    se_from_moe,
)
from ridp.analysis.equity import ResourceScores, resource_scores
from ridp.errors import FieldError
from tests.conftest import SHARED_DATA
from tests.readiness.test_demo_truth import demo_city

CITY = SHARED_DATA / "city"
SF = CITY / "san_francisco"
BALTIMORE = CITY / "baltimore"
B01003 = SF / "ACS_14_5YR_B01003_with_ann.csv"
B19301 = SF / "ACS_14_5YR_B19301_with_ann.csv"
CASES = SF / "cases_sample.csv"
REQUESTS_2018 = BALTIMORE / "Customer_Service_Requests_2018.csv"
REL = 1e-12

__all__ = ["demo_city"]  # the session's demo city (20,000 rows, seed 2026), shared with the readiness tests


# -- a worked example, by hand ---------------------------------------------------------------------
#
# Four areas. Residents (90 % MOE): A 1,000 (±100), B 2,000 (±150), C 3,000 (±200), D 4,000 (±50).
# Events: A 40, B 29, C 31, D none; 3 more in area "Z" (no census row) and 5 with no area.
# Median income (±MOE): A 20,000 (±2,000), B 40,000 (±5,000), C 60,000 (±6,000), D 80,000 (±8,000).


def worked_census() -> CensusTable:
    return CensusTable(
        "area",
        ("A", "B", "C", "D"),
        {"pop": (1000, 2000, 3000, 4000), "income": (20_000, 40_000, 60_000, 80_000), "trees": (1, 2, 3, 4)},
        {"pop": (100, 150, 200, 50), "income": (2_000, 5_000, 6_000, 8_000), "trees": None},
        {"pop": "Total population", "income": "Median household income"},
    )


def worked_events() -> ibis.Table:
    areas = ["A"] * 40 + ["B"] * 29 + ["C"] * 31 + ["Z"] * 3 + [None] * 3 + ["  ", ""]
    return ibis.memtable(pd.DataFrame({"tract": areas}))


def test_worked_example_geographic_scores_by_hand():
    r = resource_scores(worked_events(), area="tract", census=worked_census(), baseline="pop", what="requests")
    # Shares: events over the 100 in census areas, residents over 10,000.
    # Total MOE = √(100² + 150² + 200² + 50²) = √75,000.
    moe_total_sq = 100**2 + 150**2 + 200**2 + 50**2
    assert moe_total_sq == 75_000
    expected = {
        # area: (event share, resident share, MOE of the resident share, formula)
        "A": (0.40, 0.10, math.sqrt(100**2 - 0.10**2 * 75_000) / 10_000, "proportion"),  # √9,250 / 10,000
        "B": (0.29, 0.20, math.sqrt(150**2 - 0.20**2 * 75_000) / 10_000, "proportion"),  # √19,500
        "C": (0.31, 0.30, math.sqrt(200**2 - 0.30**2 * 75_000) / 10_000, "proportion"),  # √33,250
        # D: 50² − 0.4²·75,000 = 2,500 − 12,000 < 0, so the ratio formula: √(2,500 + 12,000)
        "D": (0.00, 0.40, math.sqrt(50**2 + 0.40**2 * 75_000) / 10_000, "ratio"),
    }
    assert len(r) == 4
    for area, (es, rs, moe, formula) in expected.items():
        row = r.row(area)
        se = moe / 1.645
        z = (es - rs) / se
        assert row["event_share"] == pytest.approx(es, rel=REL)
        assert row["resident_share"] == pytest.approx(rs, rel=REL)
        assert row["score"] == pytest.approx(es - rs, rel=REL, abs=1e-15)
        assert row["resident_share_moe"] == pytest.approx(moe, rel=REL)
        assert row["se"] == pytest.approx(se, rel=REL)
        assert row["z"] == pytest.approx(z, rel=REL)
        assert row["significant"] is (abs(z) > 1.96)
        assert row["moe_formula"] == formula
    # The same figures written out: A z = 0.30 / (√9,250 / 10,000 / 1.645) ≈ 51.3; C ≈ 0.90 (not significant).
    assert round(r.row("A")["z"], 1) == 51.3
    assert round(r.row("C")["z"], 2) == 0.90 and r.row("C")["significant"] is False
    assert r.row("D")["significant"] is True and r.row("D")["events"] == 0
    assert [r.row(a)["events"] for a in "ABCD"] == [40, 29, 31, 0]
    assert [r.row(a)["residents"] for a in "ABCD"] == [1000, 2000, 3000, 4000]
    assert r.residents == 10_000 and r.residents_moe == pytest.approx(math.sqrt(75_000), rel=REL)
    assert r.rows_read == 108 and r.events_scored == 100 and r.events_read == 108
    left = {x.reason: x for x in r.left_out}
    assert left["requests with no tract (empty)"].count == 5
    orphan = left["requests in 1 area id(s) with no census row"]
    assert (orphan.count, orphan.examples) == (3, ("Z (3)",))
    assert r.key_match.areas_only.count == 1 and r.key_match.census_only.examples == ("D",)
    notes = {x.reason: x for x in r.notes}
    assert notes["census area(s) with no requests (kept, with a share of 0)"].examples == ("D",)
    assert notes[
        "area(s) where the proportion formula's radicand was negative: the ratio formula gave the margin"
    ].examples == ("D",)


def test_worked_example_demographic_score_by_hand():
    r = resource_scores(
        worked_events(), area="tract", census=worked_census(), baseline="pop", demographics=["income", "trees"]
    )
    d = r.demographic_scores().set_index("variable")
    # Event-weighted: 0.40·20,000 + 0.29·40,000 + 0.31·60,000 + 0·80,000 = 38,200.
    # Citywide (by residents): 0.1·20,000 + 0.2·40,000 + 0.3·60,000 + 0.4·80,000 = 60,000.
    assert d.loc["income", "event_weighted"] == pytest.approx(38_200, rel=REL)
    assert d.loc["income", "citywide"] == pytest.approx(60_000, rel=REL)
    assert d.loc["income", "score"] == pytest.approx(-21_800, rel=REL)
    # Var = Σ(w−v)²·SE(d)² + Σ((d − 60,000)/10,000)²·SE(pop)², SE = MOE / 1.645:
    #   (w−v) = 0.30, 0.09, 0.01, −0.40 → 0.09·2,000² + 0.0081·5,000² + 0.0001·6,000² + 0.16·8,000² = 10,806,100
    #   (d−60k)/10k = −4, −2, 0, 2     → 16·100² + 4·150² + 0·200² + 4·50² = 260,000
    from_incomes = 0.09 * 2000**2 + 0.0081 * 5000**2 + 0.0001 * 6000**2 + 0.16 * 8000**2
    from_residents = 16 * 100**2 + 4 * 150**2 + 0 * 200**2 + 4 * 50**2
    assert (from_incomes, from_residents) == (pytest.approx(10_806_100), 260_000)
    se = math.sqrt(10_806_100 + 260_000) / 1.645
    assert d.loc["income", "se"] == pytest.approx(se, rel=1e-9)
    assert d.loc["income", "z"] == pytest.approx(-21_800 / se, rel=1e-9)
    assert round(d.loc["income", "z"], 2) == -10.78 and d.loc["income", "significant"] is True
    assert (d.loc["income", "events"], d.loc["income", "residents"], d.loc["income", "areas"]) == (100, 10_000, 4)
    # A variable without a margin of error has a score and no significance.
    assert d.loc["trees", "score"] == pytest.approx((0.4 * 1 + 0.29 * 2 + 0.31 * 3) - 3.0, rel=REL)
    assert np.isnan(d.loc["trees", "se"]) and d.loc["trees", "significant"] is None
    assert any("trees has no margin of error" in n.reason for n in r.notes)


def test_weights_are_summed_instead_of_counted():
    frame = pd.DataFrame(
        {"tract": ["A", "A", "B", "C", "D", None, "A"], "dollars": [10.0, 30.0, 20.0, 40.0, 0.0, 5.0, None]}
    )
    r = resource_scores(
        ibis.memtable(frame), area="tract", census=worked_census(), baseline="pop", weight="dollars", what="dollars"
    )
    # 40 to A, 20 to B, 40 to C, 0 to D: shares 0.4, 0.2, 0.4, 0.
    assert [r.row(a)["events"] for a in "ABCD"] == [40, 20, 40, 0]
    assert [r.row(a)["rows"] for a in "ABCD"] == [3, 1, 1, 1]
    assert r.row("A")["score"] == pytest.approx(0.4 - 0.1, rel=REL)
    assert r.row("C")["score"] == pytest.approx(0.4 - 0.3, rel=REL)
    left = {x.reason: x.count for x in r.left_out}
    assert left == {"row(s) with no dollars": 1, "row(s) with no tract (empty) (dollars 5)": 1}
    with pytest.raises(FieldError, match="negative"):
        resource_scores(
            ibis.memtable(frame.assign(dollars=-1.0)),
            area="tract",
            census=worked_census(),
            baseline="pop",
            weight="dollars",
        )


def test_result_round_trips_through_json_and_says_it_in_words():
    r = resource_scores(
        worked_events(), area="tract", census=worked_census(), baseline="pop", demographics=["income"], what="requests"
    )
    data = json.loads(json.dumps(r.to_dict()))
    again = ResourceScores.from_dict(data)
    assert again.to_dict() == r.to_dict()
    pd.testing.assert_frame_equal(again.to_pandas(), r.to_pandas(), check_dtype=False)
    text = r.summary()
    assert "Area A gets 30.0 points more of the requests than its share of residents (significant, z = 51.3" in text
    assert "Area D gets 40.0 points less of the requests" in text
    assert "Area C gets 1.0 points more of the requests than its share of residents (within the margin of error" in text
    assert (
        "2 area(s) get significantly more of the requests than their share of residents, 1 significantly less" in text
    )
    assert "Left out: 5 requests with no tract (empty)" in text
    assert "independent" in r.method and "1.645" in r.method
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.area = "other"


def test_bad_calls_name_the_field():
    census = worked_census()
    with pytest.raises(FieldError, match="area: 'ward' is not a column"):
        resource_scores(worked_events(), area="ward", census=census, baseline="pop")
    with pytest.raises(FieldError, match="baseline: 'people' is not a variable"):
        resource_scores(worked_events(), area="tract", census=census, baseline="people")
    # the baseline may be named by its label
    assert resource_scores(worked_events(), area="tract", census=census, baseline="total population").baseline == "pop"
    nowhere = ibis.memtable(pd.DataFrame({"tract": ["X", "Y"]}))
    with pytest.raises(FieldError, match=r"no events fall in an area of the census table \(2 area id"):
        resource_scores(nowhere, area="tract", census=census, baseline="pop")


# -- the Census Bureau's formulas --------------------------------------------------------------------


def test_moe_of_a_sum_is_the_root_of_the_summed_squares():
    assert moe_sum([3, 4]) == 5.0
    assert moe_sum([100, 150, 200, 50]) == pytest.approx(math.sqrt(75_000), rel=REL)
    # Several zero estimates: only the largest of their margins counts (Census Bureau advice).
    assert moe_sum([3, 4, 12, 10, 11], estimates=[5, 6, 0, 0, 0]) == pytest.approx(math.sqrt(9 + 16 + 144), rel=REL)
    assert moe_sum([3, 4, 12], estimates=[5, 6, 0]) == pytest.approx(13.0, rel=REL)
    assert math.isnan(moe_sum([3, float("nan")]))


def test_moe_of_a_proportion_on_the_handbooks_numbers():
    # ACS General Handbook (2018), ch. 8: never-married females X = 203,119 (MOE 5,070) of all
    # females Y = 630,498 (MOE 831). p = 0.3222; √(5,070² − p²·831²) / 630,498 ≈ 0.0080,
    # the handbook's "32.2 percent ± 0.8".
    p = 203_119 / 630_498
    radicand = 5_070**2 - p**2 * 831**2
    assert radicand > 0
    moe = moe_proportion(203_119, 630_498, 5_070, 831)
    assert moe == pytest.approx(math.sqrt(radicand) / 630_498, rel=REL)
    assert (round(p * 100, 1), round(moe * 100, 1)) == (32.2, 0.8)
    assert moe_proportion_formula(203_119, 630_498, 5_070, 831) == "proportion"
    # A negative radicand (MOE_x small, MOE_y large): the ratio formula instead.
    assert moe_proportion_formula(30, 100, 1, 10) == "ratio"
    assert moe_proportion(30, 100, 1, 10) == pytest.approx(math.sqrt(1 + 0.09 * 100) / 100, rel=REL)


def test_moe_of_a_ratio_a_product_and_the_standard_error():
    # Ratio 50 / 100 with MOEs 6 and 16: √(6² + 0.5²·16²) / 100 = √(36 + 64) / 100 = 0.1.
    assert moe_ratio(50, 100, 6, 16) == pytest.approx(0.1, rel=REL)
    # Product 3 × 4 with MOEs 1 and 1: √(3²·1² + 4²·1²) = 5.
    assert moe_product(3, 4, 1, 1) == pytest.approx(5.0, rel=REL)
    assert moe_product(0.25, 2_000, 0.02, 100) == pytest.approx(
        math.sqrt(0.25**2 * 100**2 + 2_000**2 * 0.02**2), rel=REL
    )
    assert se_from_moe(329) == pytest.approx(200.0, rel=REL)


def test_derived_proportions_and_aggregates_use_those_formulas():
    t = worked_census()
    shares = t.proportion("pop", "pop", "same")  # x = y: √(MOE² − MOE²) = 0
    assert list(shares.moe("same")) == [0.0, 0.0, 0.0, 0.0]
    t = CensusTable(
        "tract",
        ("1", "2", "3"),
        {"renters": (300, 10, 0), "households": (1000, 500, 0)},
        {"renters": (40, 2, 12), "households": (60, 300, 12)},
    )
    p = t.proportion("renters", "households", "renter_share")
    assert list(p.estimate("renter_share"))[:2] == [0.3, 0.02]
    assert math.isnan(p.estimate("renter_share")["3"])
    assert p.moe("renter_share")["1"] == pytest.approx(math.sqrt(40**2 - 0.09 * 60**2) / 1000, rel=REL)
    # tract 2: 2² − 0.02²·300² = 4 − 36 < 0 → ratio formula √(4 + 36) / 500
    assert p.moe("renter_share")["2"] == pytest.approx(math.sqrt(4 + 36) / 500, rel=REL)
    assert any("ratio formula was used there" in n and "1 area(s) (2)" in n for n in p.notes)
    assert any("households = 0" in n for n in p.notes)
    g = t.aggregate({"1": "north", "2": "north", "3": "south"}, key="district")
    assert g.key == "district" and g.keys == ("north", "south")
    assert g.estimate("renters")["north"] == 310
    assert g.moe("renters")["north"] == pytest.approx(math.sqrt(40**2 + 2**2), rel=REL)
    assert g.moe("households")["north"] == pytest.approx(math.sqrt(60**2 + 300**2), rel=REL)
    # renter_share is a share, not a count: it is not added up, and the notes say so.
    g2 = p.aggregate({"1": "all", "2": "all"})
    assert "renter_share" not in g2.variables
    assert any("renter_share" in n and "not added up" in n for n in g2.notes)
    assert any("1 census area(s) are in no group" in n for n in g2.notes)
    assert CensusTable.from_dict(json.loads(json.dumps(p.to_dict()))).to_dict() == p.to_dict()


# -- reading exports -----------------------------------------------------------------------------


def factfinder_raw(path) -> tuple[pd.DataFrame, list[str]]:
    """The file's data rows as text, and its second header row (labels), read by pandas alone."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, skiprows=[1])
    labels = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=1).iloc[0].tolist()
    return frame, labels


def test_sf_population_table_reads_every_tract_with_its_margin():
    raw, labels = factfinder_raw(B01003)
    t = read_acs(B01003)
    assert labels[3:] == ["Estimate; Total", "Margin of Error; Total"]
    assert len(t) == len(raw) == 197
    assert t.key == "GEO.id2" and list(t.keys) == raw["GEO.id2"].tolist()
    assert t.variables == ("B01003_001",) and t.label("B01003_001") == "Total"
    assert t.estimate("B01003_001").tolist() == raw["HD01_VD01"].astype(float).tolist()
    assert t.moe("B01003_001").tolist() == raw["HD02_VD01"].astype(float).tolist()
    assert t.estimate("Total").sum() == raw["HD01_VD01"].astype(int).sum()


def test_sf_income_table_reads_the_bureaus_symbols_as_missing():
    raw, _ = factfinder_raw(B19301)
    t = read_acs(B19301)
    assert len(t) == len(raw) == 197
    dash = raw.index[raw["HD01_VD01"] == "-"]
    stars = raw.index[raw["HD02_VD01"] == "**"]
    assert len(dash) == len(stars) == 2
    est, moe = t.estimate("B19301_001"), t.moe("B19301_001")
    assert est.isna().sum() == 2 and list(est.index[est.isna()]) == raw.loc[dash, "GEO.id2"].tolist()
    assert moe.isna().sum() == 2
    known = raw.drop(index=dash)
    assert est.dropna().tolist() == known["HD01_VD01"].astype(float).tolist()
    assert moe.dropna().tolist() == known["HD02_VD01"].astype(float).tolist()
    # rows named as lines of the file: the header and the label row are lines 1 and 2
    lines = ", ".join(str(i + 3) for i in dash)
    assert any(
        n.startswith("HD01_VD01 (estimate of B19301_001): 2 cell(s) '-'") and f"(rows {lines})" in n for n in t.notes
    )
    assert any(n.startswith("HD02_VD01 (margin of error of B19301_001): 2 cell(s) '**'") for n in t.notes)


def test_data_census_gov_layouts_pair_e_and_m_columns(tmp_path):
    path = tmp_path / "ACSDT5Y2022.B01003-Data.csv"
    path.write_text(
        "GEO_ID,NAME,B01003_001E,B01003_001EA,B01003_001M,B01003_001MA,B19013_001E,B19013_001M\n"
        '"Geography","Geographic Area Name","Estimate!!Total","Annotation of Estimate!!Total",'
        '"Margin of Error!!Total","Annotation of Margin of Error!!Total","Estimate!!Median household income",'
        '"Margin of Error!!Median household income"\n'
        '1400000US06075010100,"Census Tract 101",3827,,365,,"250,000+",***\n'
        '1400000US06075010200,"Census Tract 102",4220,,*****,,-666666666,-222222222\n'
        '1400000US06075010300,"Census Tract 103",0,,(X),,(X),(X)\n',
        encoding="utf-8",
    )
    t = read_acs(path)
    assert t.key == "GEO_ID" and t.variables == ("B01003_001", "B19013_001")
    assert t.label("B19013_001") == "Median household income"
    assert t.estimate("B01003_001").tolist() == [3827, 4220, 0]
    moe = t.moe("B01003_001")
    assert moe.iloc[0] == 365 and moe.iloc[1] == 0.0 and math.isnan(moe.iloc[2])  # ***** is 0, (X) missing
    income = t.estimate("B19013_001")
    assert income.iloc[0] == 250_000 and income.iloc[1:].isna().all()
    assert t.moe("B19013_001").isna().all()
    assert any("controlled" in n and "(rows 4)" in n for n in t.notes)  # row 4: header, labels, a data row
    assert any("open-ended" in n for n in t.notes)
    # the GEO_ID matches a tract code written without the state's leading zero
    assert match_keys(t, ["6075010100"]).pairs == {"6075010100": "1400000US06075010100"}

    plain = tmp_path / "plain.csv"
    plain.write_text(
        'tract,Estimate!!Total,Margin of Error!!Total\n101,"1,200",±110\n102,900,+/-95\n', encoding="utf-8"
    )
    p = read_acs(plain, key="tract")
    assert p.variables == ("Total",) and p.estimate("Total").tolist() == [1200, 900]
    assert p.moe("Total").tolist() == [110, 95]


def test_demo_population_reads_with_pairs_found_or_given(demo_city):
    raw = pd.read_csv(demo_city.population_csv, dtype=str, keep_default_na=False)
    found = read_acs(demo_city.population_csv)
    assert found.key == "area_id" and list(found.keys) == raw["area_id"].tolist()
    names = ["population", "households", "median_household_income", "pct_nonwhite", "pct_poverty"]
    assert found.variables == tuple(names)
    for name in names:
        assert found.estimate(name).tolist() == raw[name].astype(float).tolist()
        assert found.moe(name).tolist() == raw[f"{name}_moe"].astype(float).tolist()
    given = read_acs(demo_city.population_csv, key="area_id", pairs={"population": ("population", "population_moe")})
    assert given.variables == ("population",)
    assert given.to_pandas().equals(found.to_pandas()[["area_id", "population", "population_moe"]])


def test_demo_city_hot_spots_get_more_than_their_share(demo_city):
    truth = json.loads(demo_city.truth_json.read_text())
    requests = pd.read_csv(demo_city.requests_csv, dtype=str, keep_default_na=False)
    census = read_acs(demo_city.population_csv)
    r = resource_scores(
        ibis.memtable(requests[["area_id"]]), area="area_id", census=census, baseline="population", what="requests"
    )
    frame = r.to_pandas().set_index("area")
    hot = truth["hot_spots"]["area_ids"]
    top = frame.sort_values("events_per_1000_residents", ascending=False).index[:3]
    assert sorted(top) == sorted(hot)
    assert frame.loc[hot, "significant"].tolist() == [True] * 3 and (frame.loc[hot, "score"] > 0).all()
    # event share ÷ resident share is the area's per-capita rate ÷ the city's: the generator's own figure
    ratio = frame["event_share"] / frame["resident_share"]
    for area, expected in truth["hot_spots"]["realised_per_capita_ratio"].items():
        assert ratio[area] == pytest.approx(expected, abs=0.02), area


def test_a_margin_with_text_names_file_row_and_column(tmp_path):
    path = tmp_path / "population.csv"
    path.write_text("area_id,population,population_moe\nN01,1200,110\nN02,800,about 90\n", encoding="utf-8")
    with pytest.raises(FieldError) as caught:
        read_acs(path)
    assert caught.value.field == "population_moe"
    assert "population.csv, row 3: 'about 90' is not a number" in str(caught.value)
    path.write_text("area_id,population,population_moe\nN01,1200,110\nN02,800,-5\n", encoding="utf-8")
    with pytest.raises(FieldError, match="row 3: '-5' is negative"):
        read_acs(path)
    path.write_text("area_id,population,population_moe\nN01,1200,110\nN01,800,90\n", encoding="utf-8")
    with pytest.raises(FieldError, match="row 3: 'N01' appears twice"):
        read_acs(path)
    with pytest.raises(FieldError, match="key: no column 'tract'"):
        read_acs(path, key="tract")
    frame = pd.DataFrame({"area_id": ["N01", "N02"], "population": ["12x", "800"], "population_moe": ["1", "2"]})
    with pytest.raises(
        FieldError, match=r"population: the table, row 1: '12x' is not a number \(estimate of population\)"
    ):
        read_acs(frame)


def test_an_estimate_without_a_partner_is_kept_and_noted(tmp_path):
    path = tmp_path / "indicators.csv"
    path.write_text(
        "area_id,population,population_moe,households\nN01,1200,110,500\nN02,800,90,300\n", encoding="utf-8"
    )
    t = read_acs(path)
    assert t.variables == ("population", "households")
    assert t.has_moe("population") and not t.has_moe("households") and t.moe("households") is None
    assert any("no margin of error column for households" in n for n in t.notes)
    given = read_acs(path, pairs={"households": ("households", None)})
    assert any("households: no margin of error column given" in n for n in given.notes)


# -- keys, and groups by area attributes -------------------------------------------------------------


def test_sf_case_tracts_match_the_acs_geoids():
    cases = pd.read_csv(CASES, dtype=str, keep_default_na=False)
    acs = pd.read_csv(B01003, dtype=str, keep_default_na=False, skiprows=[1])
    t = read_acs(B01003)
    # Census.Tract is the GEOID without the state's leading zero; tractce10 the 6-digit tract code without its zeros.
    for column, as_geoid in (("Census.Tract", lambda s: "0" + s), ("tractce10", lambda s: "06075" + s.zfill(6))):
        ids = sorted(set(cases[column]) - {""})
        geoids = {as_geoid(i) for i in ids}
        m = match_keys(t, ids)
        assert m.matched == len(geoids & set(acs["GEO.id2"])) == 195
        assert m.areas_only.count == len(geoids - set(acs["GEO.id2"])) == 0
        census_only = sorted(set(acs["GEO.id2"]) - geoids)
        assert m.census_only.count == len(census_only) == 2
        assert sorted(m.census_only.examples) == census_only
        assert all(m.pairs[i] == as_geoid(i) for i in ids)


def test_normalised_keys():
    assert normalise_key("06075012800") == normalise_key(6075012800) == normalise_key("1400000US06075012800")
    assert normalise_key("  Washington Village/Pigtown ") == "washington village pigtown"
    assert normalise_key(None) == ""


def test_groups_from_census_bins_areas_by_quantile():
    t = read_acs(B19301)
    groups = groups_from_census(t, "B19301_001", bins=5)
    income = t.estimate("B19301_001")
    known = income.dropna()
    codes = pd.qcut(known, 5, labels=False)
    assert len(groups) == 197
    labels = sorted(set(groups.values()) - {"per capita income in the past 12 months: no estimate"})
    assert len(labels) == 5
    # every group holds the areas pandas puts in the same quintile, and its label spans their values
    for code in range(5):
        members = codes.index[codes == code]
        assert len({groups[k] for k in members}) == 1
        label = groups[members[0]]
        low, high = (float(x.replace(",", "")) for x in re.findall(r"\$([\d,]+)", label))
        values = known[members]
        assert low <= values.min() * 1.05 and high >= values.max() * 0.95, label
    assert [k for k, v in groups.items() if v.endswith("no estimate")] == list(income.index[income.isna()])
    cases = pd.read_csv(CASES, dtype=str, keep_default_na=False)
    by_case_tract = groups_from_census(t, "B19301_001", areas=sorted(set(cases["Census.Tract"])))
    assert len(by_case_tract) == 195 and by_case_tract["6075012800"] == groups["06075012800"]


# -- real events against real census tables ------------------------------------------------------


def independent_scores(counts: pd.Series, pop: pd.Series, moe: pd.Series) -> pd.DataFrame:
    """Geographic scores the textbook way: shares, the proportion MOE (ratio where negative), z."""
    counts = counts.reindex(pop.index).fillna(0)
    total_p, total_e = pop.sum(), counts.sum()
    zero = pop == 0
    moe_total = math.sqrt((moe[~zero] ** 2).sum() + (moe[zero].max() ** 2 if zero.any() else 0))
    share = pop / total_p
    radicand = moe**2 - share**2 * moe_total**2
    radicand = radicand.where(radicand >= 0, moe**2 + share**2 * moe_total**2)
    se = np.sqrt(radicand) / total_p / 1.645
    score = counts / total_e - share
    return pd.DataFrame({"events": counts, "score": score, "se": se, "z": score / se})


@pytest.fixture(scope="module")
def sf_cases(stored_table):
    return stored_table(CASES)


def test_sf_requests_by_tract_against_population(sf_cases):
    pop_table = read_acs(B01003)
    r = resource_scores(sf_cases, area="Census.Tract", census=pop_table, baseline="B01003_001", what="requests")
    raw = pd.read_csv(CASES, dtype=str, keep_default_na=False)
    acs, _ = factfinder_raw(B01003)
    pop = acs.set_index("GEO.id2")["HD01_VD01"].astype(float)
    moe = acs.set_index("GEO.id2")["HD02_VD01"].astype(float)
    counts = ("0" + raw["Census.Tract"]).value_counts()
    want = independent_scores(counts, pop, moe)
    got = r.to_pandas().set_index("area")
    assert list(got.index) == list(pop.index)
    np.testing.assert_array_equal(got["events"], want["events"])
    np.testing.assert_allclose(got["score"], want["score"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got["se"], want["se"], rtol=1e-12)
    np.testing.assert_allclose(got["z"], want["z"], rtol=1e-12)
    assert got["significant"].tolist() == (want["z"].abs() > 1.96).tolist()
    assert got["residents"].tolist() == pop.tolist()
    assert r.events_scored == len(raw) == 4_984 and r.residents == pop.sum()
    # two census tracts with nobody (and no requests): the only areas no request names
    assert r.key_match.census_only.count == 2 and r.key_match.areas_only.count == 0 and r.left_out == ()


def test_sf_per_capita_income_of_where_requests_go(sf_cases):
    census = read_acs(B01003).merge(read_acs(B19301))
    r = resource_scores(
        sf_cases, area="Census.Tract", census=census, baseline="B01003_001", demographics=["B19301_001"]
    )
    raw = pd.read_csv(CASES, dtype=str, keep_default_na=False)
    pop_raw, _ = factfinder_raw(B01003)
    inc_raw, _ = factfinder_raw(B19301)
    frame = pop_raw.set_index("GEO.id2")[["HD01_VD01", "HD02_VD01"]].astype(float)
    frame.columns = ["p", "mp"]
    inc = inc_raw.set_index("GEO.id2")[["HD01_VD01", "HD02_VD01"]].replace({"-": np.nan, "**": np.nan}).astype(float)
    frame["d"], frame["md"] = inc["HD01_VD01"], inc["HD02_VD01"]
    frame["e"] = ("0" + raw["Census.Tract"]).value_counts().reindex(frame.index).fillna(0)
    f = frame.dropna(subset=["d"])
    w, v = f["e"] / f["e"].sum(), f["p"] / f["p"].sum()
    event_weighted, citywide = (w * f["d"]).sum(), (v * f["d"]).sum()
    var = ((w - v) ** 2 * (f["md"] / 1.645) ** 2).sum() + (
        ((f["d"] - citywide) / f["p"].sum()) ** 2 * (f["mp"] / 1.645) ** 2
    ).sum()
    d = r.demographic_scores().iloc[0]
    assert d["event_weighted"] == pytest.approx(event_weighted, rel=1e-12)
    assert d["citywide"] == pytest.approx(citywide, rel=1e-12)
    assert d["se"] == pytest.approx(math.sqrt(var), rel=1e-12)
    assert d["z"] == pytest.approx((event_weighted - citywide) / math.sqrt(var), rel=1e-12)
    assert (d["areas"], d["areas_without_value"]) == (195, 2)
    assert d["events"] == f["e"].sum() == 4_984


def test_baltimore_requests_against_community_indicators(stored_table):
    indicators = read_acs(BALTIMORE / "Racial_Diversity_Index.csv", key="CSA2010")
    requests = stored_table(REQUESTS_2018)
    # No population here: the baseline is land area (each CSA's Shape__Area), which has no margin of error.
    r = resource_scores(
        requests, area="neighborhood", census=indicators, baseline="Shape__Area", demographics=["racdiv18"]
    )
    raw = pd.read_csv(REQUESTS_2018, dtype=str, keep_default_na=False)
    csa = pd.read_csv(BALTIMORE / "Racial_Diversity_Index.csv", dtype=str, keep_default_na=False)

    def fold(s: str) -> str:
        return " ".join(re.sub(r"[\W_]+", " ", s.casefold()).split())

    by_name = {fold(n): n for n in csa["CSA2010"]}
    named = raw[raw["neighborhood"].str.strip() != ""]
    neighbourhoods = set(named["neighborhood"])
    matched = {n for n in neighbourhoods if fold(n) in by_name}
    assert r.key_match.matched == len(matched) == 8
    assert r.key_match.areas_only.count == len(neighbourhoods) - len(matched) == 159
    assert r.key_match.census_only.count == len(csa) - len({by_name[fold(n)] for n in matched}) == 47
    left = {x.reason: x.count for x in r.left_out}
    assert left["events with no neighborhood (empty)"] == len(raw) - len(named) == 39
    inside = named["neighborhood"].map(lambda n: fold(n) in by_name)
    assert left["events in 159 area id(s) with no census row"] == (~inside).sum()
    assert r.events_scored == inside.sum()
    # scores against shares of land area, computed here
    area = csa.set_index("CSA2010")["Shape__Area"].astype(float)
    counts = (
        named.loc[inside, "neighborhood"].map(lambda n: by_name[fold(n)]).value_counts().reindex(area.index).fillna(0)
    )
    got = r.to_pandas().set_index("area")
    np.testing.assert_allclose(got["score"], counts / counts.sum() - area / area.sum(), rtol=1e-12, atol=1e-15)
    assert got["significant"].isna().all() and got["se"].isna().all()
    assert any("Shape__Area has no margin of error" in n.reason for n in r.notes)
    d = r.demographic_scores().iloc[0]
    diversity = csa.set_index("CSA2010")["racdiv18"].astype(float)
    assert d["event_weighted"] == pytest.approx((counts * diversity).sum() / counts.sum(), rel=1e-12)
    assert d["citywide"] == pytest.approx((area * diversity).sum() / area.sum(), rel=1e-12)
    assert d["significant"] is None


def test_baltimore_indicators_without_margins_say_so():
    raw = pd.read_csv(
        BALTIMORE / "Percent_of_Households_with_No_Vehicles_Available.csv", dtype=str, keep_default_na=False
    )
    t = read_acs(BALTIMORE / "Percent_of_Households_with_No_Vehicles_Available.csv")
    assert t.key == "CSA2010" and len(t) == len(raw) == 55
    numeric = [c for c in raw.columns if c not in ("CSA2010", "CSA2020")]
    assert list(t.variables) == numeric and not any(t.has_moe(v) for v in numeric)
    assert any(n.startswith("no margin of error column for novhcl11") for n in t.notes)
    assert any("text columns not read as variables: CSA2020" in n for n in t.notes)
    assert t.estimate("novhcl19").tolist() == raw["novhcl19"].astype(float).tolist()
