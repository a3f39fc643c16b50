"""Random assignment: reproducible from the seed whatever the row order, exact counts, clusters kept whole,
roll-out waves of near-equal size, a balance table checked against pandas/scipy by hand, and a record that a
second person reruns to confirm the assignment (or learns why it does not match)."""

from __future__ import annotations

import json
import math

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ridp.errors import FieldError, InputError
from ridp.evaluation.randomise import (
    ALGORITHM_VERSION,
    SMD_THRESHOLD,
    Assignment,
    Balance,
    Confirmation,
    assign,
    balance,
    confirm,
)

BLOCK_SIZES = {"North": 16, "South": 15, "East": 17, "West": 12}  # 60 units; two odd-sized blocks


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    """60 streets in 4 wards; 11 zones (clusters of 5 to 7), each inside one ward; covariates of three kinds."""
    rng = np.random.default_rng(20261125)
    wards = [w for w, n in BLOCK_SIZES.items() for _ in range(n)]
    frame = pd.DataFrame({"street": [f"st-{i:03}" for i in range(60)], "ward": wards})
    # zones nest in wards: number the streets of each ward and cut them in fives (a remainder joins the last zone)
    position = frame.groupby("ward").cumcount()
    frame["zone"] = (
        frame["ward"] + "-" + (position // 5).clip(upper=frame["ward"].map(BLOCK_SIZES) // 5 - 1).astype(str)
    )
    frame["potholes"] = rng.poisson(6, 60).astype(float)
    frame.loc[[3, 40], "potholes"] = np.nan  # missing values are left out, with a warning
    frame["surface"] = rng.choice(["asphalt", "concrete", "brick"], 60)
    frame["bus_route"] = rng.random(60) < 0.4
    return frame


def _shuffled(frame: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


DESIGNS = {
    "simple": {"method": "simple"},
    "blocked": {"method": "blocked", "block": "ward"},
    "clustered": {"method": "clustered", "cluster": "zone"},
    "clustered_in_blocks": {"method": "clustered", "cluster": "zone", "block": "ward"},
    "staggered": {"method": "staggered", "waves": 4},
    "staggered_clusters_in_blocks": {"method": "staggered", "waves": 3, "cluster": "zone", "block": "ward"},
}


# -- determinism ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("design", DESIGNS)
def test_same_seed_same_assignment_whatever_the_row_order_and_another_seed_another(units, design):
    kw = DESIGNS[design]
    first = assign(units, unit="street", seed=424242, **kw)
    again = assign(units, unit="street", seed=424242, **kw)
    reordered = assign(_shuffled(units), unit="street", seed=424242, **kw)
    other = assign(units, unit="street", seed=424243, **kw)
    assert len(first.fingerprint) == 64 and first.fingerprint == again.fingerprint == reordered.fingerprint
    pd.testing.assert_frame_equal(first.arms, reordered.arms)
    assert other.fingerprint != first.fingerprint
    assert first.units_fingerprint == reordered.units_fingerprint == other.units_fingerprint
    assert list(first.arms["unit"]) == sorted(units["street"])  # canonical order


def test_the_fingerprint_is_sha256_of_the_sorted_unit_arm_wave_json(units):
    import hashlib

    a = assign(units, unit="street", method="staggered", waves=3, seed=5)
    rows = sorted(
        [str(u), arm, int(w)] for u, arm, w in zip(a.arms["unit"], a.arms["arm"], a.arms["wave"], strict=True)
    )
    expected = hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).hexdigest()
    assert a.fingerprint == expected


def test_without_a_seed_one_is_drawn_recorded_and_reproduces_the_draw(units):
    a = assign(units, unit="street", method="blocked", block="ward")
    assert a.seed_drawn and 0 <= a.seed < 2**63 and "drawn at random" in a.summary()
    assert assign(units, unit="street", method="blocked", block="ward", seed=a.seed).fingerprint == a.fingerprint
    assert a.record()["seed"] == a.seed and a.record()["seed_drawn"] is True


def test_an_ibis_table_gives_the_same_assignment_as_the_dataframe(units):
    table = ibis.memtable(units[["street", "ward"]])
    a = assign(table, unit="street", method="blocked", block="ward", seed=9)
    assert a.fingerprint == assign(units, unit="street", method="blocked", block="ward", seed=9).fingerprint


def test_the_draw_uses_pcg64_keys_as_documented():
    """Simple design, 6 units, 3 treated: the treated are the three units with the smallest PCG64 keys."""
    ids = ["b", "a", "f", "c", "e", "d"]
    a = assign(pd.DataFrame({"id": ids}), unit="id", seed=77)
    keys = np.random.Generator(np.random.PCG64(77)).random(6)  # one per unit in canonical (sorted) order
    expected = {sorted(ids)[i] for i in np.argsort(keys)[:3]}
    assert set(a.arms.loc[a.arms["arm"] == "treatment", "unit"]) == expected


# -- counts ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "share", "treated"), [(10, 0.5, 5), (7, 0.5, 4), (10, 0.3, 3), (9, 1 / 3, 3), (6, 0.1, 1), (20, 0.35, 7)])  # fmt: skip
def test_simple_treats_exactly_round_share_times_n_halves_up(n, share, treated):
    a = assign(pd.DataFrame({"id": range(n)}), unit="id", share_treated=share, seed=n)
    assert a.n_treated == treated == int((a.arms["arm"] == "treatment").sum())
    assert a.n_units == n and a.n_clusters is None


def test_blocked_treats_the_exact_share_of_each_block_and_odd_blocks_round_down_or_up(units):
    for seed in range(40):
        a = assign(units, unit="street", method="blocked", block="ward", seed=seed)
        per_block = a.arms.groupby("block")["arm"].apply(lambda s: int((s == "treatment").sum()))
        assert per_block["North"] == 8 and per_block["West"] == 6  # even blocks: exactly half
        assert per_block["South"] in (7, 8) and per_block["East"] in (8, 9)
        # the fractional parts (0.5 + 0.5) add to one: exactly one of South and East gets its extra unit
        assert a.n_treated == per_block.sum() == 30


def test_blocked_remainders_make_every_unit_treated_with_probability_share():
    """Blocks of 3, 3 and 1 at share 0.5: 1.5, 1.5 and 0.5 units expected. Over 600 seeds every unit is treated
    with probability 0.5 (within 4 binomial SE: 0.08; giving the extra always to the first block would make
    it 2/3 and 1/3), and the total is 3 or 4 (3.5 rounded down or up)."""
    frame = pd.DataFrame({"id": range(7), "b": ["x", "x", "x", "y", "y", "y", "z"]})
    draws = 600
    treated = np.zeros((draws, 7), dtype=bool)
    for seed in range(draws):
        treated[seed] = assign(frame, unit="id", method="blocked", block="b", seed=seed).arms["arm"].eq("treatment")
    share_per_unit = treated.mean(axis=0)
    se = math.sqrt(0.25 / draws)
    assert np.all(np.abs(share_per_unit - 0.5) < 4 * se), share_per_unit
    totals = treated.sum(axis=1)
    assert set(totals) == {3, 4} and abs((totals == 4).mean() - 0.5) < 4 * se
    x_count = treated[:, :3].sum(axis=1)
    assert set(x_count) == {1, 2}


def test_clusters_are_never_split_and_the_treated_count_of_clusters_is_exact(units):
    a = assign(units, unit="street", method="clustered", cluster="zone", share_treated=0.5, seed=3)
    arms_per_zone = a.arms.groupby("cluster")["arm"].nunique()
    assert (arms_per_zone == 1).all() and a.n_clusters == 11
    treated_zones = a.arms.loc[a.arms["arm"] == "treatment", "cluster"].nunique()
    assert treated_zones == 6  # 5.5 rounded half up
    assert a.n_treated == int((a.arms["arm"] == "treatment").sum())


def test_clusters_within_blocks_are_whole_and_balanced_per_block(units):
    for seed in range(10):
        a = assign(units, unit="street", method="clustered", cluster="zone", block="ward", seed=seed)
        assert (a.arms.groupby("cluster")["arm"].nunique() == 1).all()
        zones = a.arms.drop_duplicates("cluster")
        per_block = zones.groupby("block")["arm"].apply(lambda s: int((s == "treatment").sum()))
        # North 3 zones, South 3, East 3, West 2: 1.5, 1.5, 1.5 and exactly 1
        assert per_block["West"] == 1 and all(per_block[w] in (1, 2) for w in ("North", "South", "East"))


def test_a_cluster_spanning_two_blocks_is_an_error_naming_it(units):
    bad = units.copy()
    bad.loc[bad["street"] == "st-000", "zone"] = "South-0"  # a North street in a South zone
    with pytest.raises(FieldError, match='cluster "South-0" has units in 2 blocks') as e:
        assign(bad, unit="street", method="clustered", cluster="zone", block="ward", seed=1)
    assert e.value.field == "block"


def test_staggered_waves_are_near_equal_and_every_unit_is_treated(units):
    a = assign(units.iloc[:10], unit="street", method="staggered", waves=3, seed=8)
    assert sorted(a.arms["wave"].value_counts()) == [3, 3, 4]
    assert (a.arms["arm"] == "treatment").all() and a.n_treated == 10 and a.share_treated == 1.0
    b = assign(units, unit="street", method="staggered", waves=4, block="ward", seed=8)
    overall = b.arms["wave"].value_counts()
    assert sorted(overall.index) == [1, 2, 3, 4] and overall.max() - overall.min() <= 1
    per_block = b.arms.groupby(["block", "wave"]).size().unstack()
    assert (per_block.max(axis=1) - per_block.min(axis=1) <= 1).all()


def test_staggered_clusters_roll_out_whole(units):
    a = assign(units, unit="street", method="staggered", waves=3, cluster="zone", seed=2)
    assert (a.arms.groupby("cluster")["wave"].nunique() == 1).all()
    assert sorted(a.arms.drop_duplicates("cluster")["wave"].value_counts()) == [3, 4, 4]


def test_the_schedule_is_random_each_unit_equally_likely_in_each_wave():
    """5 units in 2 waves over 400 seeds: each unit is in wave 1 half the time, and wave 1 has 3 units half
    the time (the starting wave is drawn), within 4 binomial SE (0.1)."""
    frame = pd.DataFrame({"id": range(5)})
    draws = 400
    waves = np.array([assign(frame, unit="id", method="staggered", waves=2, seed=s).arms["wave"].to_numpy(dtype=int) for s in range(draws)])  # fmt: skip
    se = math.sqrt(0.25 / draws)
    share_first = (waves == 1).mean(axis=0)
    assert np.all(np.abs(share_first - 0.5) < 4 * se), share_first
    first_size = (waves == 1).sum(axis=1)
    assert set(first_size) == {2, 3} and abs((first_size == 3).mean() - 0.5) < 4 * se


def test_summary_counts_per_arm_block_and_wave(units):
    a = assign(units, unit="street", method="blocked", block="ward", seed=4)
    text = a.summary()
    assert "North: 8 treatment / 8 control" in text and "West: 6 treatment / 6 control" in text
    assert f"sha256:{a.fingerprint}" in text and "seed 4" in text
    counts = a.counts()
    assert list(counts.columns) == ["block", "arm", "units"] and counts["units"].sum() == 60
    s = assign(units, unit="street", method="staggered", waves=4, seed=4)
    assert "wave 1: 15, wave 2: 15, wave 3: 15, wave 4: 15" in s.summary()
    assert s.chart().to_dict()["mark"]["type"] == "bar"


# -- round trip -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("design", DESIGNS)
def test_assignment_round_trips_through_json(units, design):
    a = assign(units, unit="street", seed=12, **DESIGNS[design])
    d = json.loads(json.dumps(a.to_dict()))
    back = Assignment.from_dict(d)
    assert back.to_dict() == a.to_dict()
    pd.testing.assert_frame_equal(back.tidy(), a.tidy(), check_dtype=False)
    assert back.fingerprint == a.fingerprint and back.summary() == a.summary()


def test_from_dict_refuses_arms_changed_after_the_draw(units):
    d = assign(units, unit="street", seed=12).to_dict()
    d["arms"][0]["arm"] = "control" if d["arms"][0]["arm"] == "treatment" else "treatment"
    with pytest.raises(InputError, match="do not match the fingerprint"):
        Assignment.from_dict(d)


def test_record_holds_everything_to_rerun(units):
    r = assign(units, unit="street", method="clustered", cluster="zone", block="ward", seed=99).record()
    assert r["parameters"] == {"unit": "street", "method": "clustered", "block": "ward", "cluster": "zone",
                               "share_treated": 0.5, "waves": None}  # fmt: skip
    assert r["seed"] == 99 and r["algorithm_version"] == ALGORITHM_VERSION and r["bit_generator"] == "PCG64"
    assert r["numpy_version"] == np.__version__ and len(r["units_fingerprint"]) == 64 and len(r["arms"]) == 60
    json.dumps(r)  # JSON-safe


# -- balance --------------------------------------------------------------------------------------------------------
def _hand_numeric(x: pd.Series, treated: pd.Series) -> tuple[float, float, float, float]:
    xt, xc = x[treated].dropna(), x[~treated].dropna()
    smd = (xt.mean() - xc.mean()) / math.sqrt((xt.var(ddof=1) + xc.var(ddof=1)) / 2)
    return xc.mean(), xt.mean(), smd, stats.ttest_ind(xt, xc, equal_var=False).pvalue


def test_balance_numbers_match_a_hand_computation(units):
    a = assign(units, unit="street", method="blocked", block="ward", seed=21)
    b = balance(_shuffled(units, 5), a, ["potholes", "surface", "bus_route"])
    merged = units.merge(a.arms.rename(columns={"unit": "street"})[["street", "arm"]], on="street")
    treated = merged["arm"] == "treatment"
    rows = {(r.covariate, r.level): r for r in b.rows}
    for name in ("potholes", "bus_route"):
        mc, mt, smd, p = _hand_numeric(merged[name].astype(float), treated)
        r = rows[(name, None)]
        assert (r.control_mean, r.treated_mean, r.smd, r.p_value) == pytest.approx((mc, mt, smd, p), rel=1e-12)
        assert r.test == "Welch t" and r.flagged == (abs(smd) > SMD_THRESHOLD)
    assert rows[("potholes", None)].n_control + rows[("potholes", None)].n_treated == 58
    table = pd.crosstab(treated, merged["surface"])
    p = stats.chi2_contingency(table.to_numpy(), correction=False).pvalue
    for level in ("asphalt", "brick", "concrete"):
        pt = (merged.loc[treated, "surface"] == level).mean()
        pc = (merged.loc[~treated, "surface"] == level).mean()
        smd = (pt - pc) / math.sqrt((pt * (1 - pt) + pc * (1 - pc)) / 2)
        r = rows[("surface", level)]
        assert (r.control_mean, r.treated_mean, r.smd, r.p_value) == pytest.approx((pc, pt, smd, p), rel=1e-12)
    assert '"potholes": 2 missing value(s) left out' in b.warnings
    for r in b.flagged:
        assert any(w.startswith(f"{r.label} (units): standardised mean difference") for w in b.warnings)


def test_balance_flags_an_imbalanced_covariate_and_not_a_balanced_one(units):
    a = assign(units, unit="street", method="blocked", block="ward", seed=2)
    frame = units.merge(a.arms.rename(columns={"unit": "street"})[["street", "arm"]], on="street")
    # the block's own number: the same in both arms of every even block, so barely different overall
    frame["ward_size"] = frame["ward"].map(BLOCK_SIZES).astype(float)
    frame["after_the_fact"] = np.where(frame["arm"] == "treatment", 1.0, 0.0) + np.arange(60) / 600
    b = balance(frame, a, ["ward_size", "after_the_fact"])
    flagged = {r.covariate for r in b.flagged}
    assert flagged == {"after_the_fact"}
    assert any("after_the_fact (units): standardised mean difference" in w for w in b.warnings)
    assert "*" in b.summary().splitlines()[3] and "after_the_fact" in b.summary().splitlines()[3]


def test_balance_of_a_clustered_design_compares_cluster_means_too(units):
    a = assign(units, unit="street", method="clustered", cluster="zone", seed=6)
    b = balance(units, a, ["potholes"])
    merged = units.merge(a.arms.rename(columns={"unit": "street"})[["street", "arm"]], on="street")
    zones = merged.groupby("zone").agg(potholes=("potholes", "mean"), arm=("arm", "first"))
    mc, mt, smd, p = _hand_numeric(zones["potholes"], zones["arm"] == "treatment")
    (cluster_row,) = [r for r in b.rows if r.compared == "clusters"]
    assert (cluster_row.control_mean, cluster_row.treated_mean, cluster_row.smd, cluster_row.p_value) == pytest.approx(
        (mc, mt, smd, p), rel=1e-12
    )
    assert (cluster_row.n_treated, cluster_row.n_control) == (6, 5)
    assert any("cluster rows compare one value per cluster (6 treated, 5 control)" in n for n in b.notes)


def test_balance_of_a_roll_out_compares_wave_one_with_later_waves(units):
    a = assign(units, unit="street", method="staggered", waves=3, seed=6)
    b = balance(units, a, ["bus_route"])
    assert b.comparison == "wave 1 vs later waves" and b.rows[0].n_treated == 20 and b.rows[0].n_control == 40


def test_balance_round_trips_and_charts_without_urls(units):
    a = assign(units, unit="street", method="clustered", cluster="zone", block="ward", seed=1)
    b = balance(units, a, ["potholes", "surface"])
    back = Balance.from_dict(json.loads(json.dumps(b.to_dict())))
    assert back == b and back.summary() == b.summary()
    assert list(b.tidy()["label"])[:2] == ["potholes", "potholes"]
    spec = json.dumps(b.chart().to_dict())
    assert '"url"' not in spec and "smd" in spec


def test_balance_needs_the_assigned_units_and_real_columns(units):
    a = assign(units, unit="street", seed=1)
    with pytest.raises(InputError, match=r"2 assigned unit\(s\) are not in units: st-000, st-001"):
        balance(units.iloc[2:], a, ["potholes"])
    with pytest.raises(FieldError, match='no column "age" in units') as e:
        balance(units, a, ["age"])
    assert e.value.field == "covariates"
    extra = pd.concat([units, pd.DataFrame({"street": ["st-999"], "potholes": [1.0]})], ignore_index=True)
    assert "1 unit(s) of units were not assigned and are left out" in balance(extra, a, ["potholes"]).warnings


# -- confirm --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("design", DESIGNS)
def test_a_second_person_confirms_the_assignment_from_the_record(units, design):
    a = assign(units, unit="street", seed=31337, **DESIGNS[design])
    record = json.loads(json.dumps(a.record()))  # as stored and sent
    c = confirm(record, _shuffled(units, 9))
    assert c.matches and c.units_match and c.expected == c.got == a.fingerprint and c.differences == ()
    assert c.summary().startswith("Confirmed:")


def test_confirm_names_units_added_and_removed(units):
    a = assign(units, unit="street", method="blocked", block="ward", seed=5)
    changed = pd.concat(
        [units[~units["street"].isin(["st-010", "st-020"])], pd.DataFrame({"street": ["st-900"], "ward": ["West"]})]
    )
    c = confirm(a.record(), changed)
    assert not c.matches and not c.units_match and c.expected_units != c.got_units
    assert c.added == ("st-900",) and c.removed == ("st-010", "st-020") and (c.n_added, c.n_removed) == (1, 2)
    assert "1 added (st-900)" in c.reason and "2 removed (st-010, st-020)" in c.reason


def test_confirm_names_a_unit_moved_to_another_block(units):
    a = assign(units, unit="street", method="blocked", block="ward", seed=5)
    moved = units.copy()
    moved.loc[moved["street"] == "st-000", "ward"] = "West"
    c = confirm(a.record(), moved)
    assert not c.units_match and "1 with another block or cluster (st-000)" in c.reason


def test_confirm_a_tampered_seed_lists_the_units_in_another_arm(units):
    a = assign(units, unit="street", method="blocked", block="ward", seed=5)
    c = confirm({**a.record(), "seed": 6}, units)
    other = assign(units, unit="street", method="blocked", block="ward", seed=6)
    truly_different = (a.arms["arm"] != other.arms["arm"]).sum()
    assert not c.matches and c.units_match and c.got == other.fingerprint and c.expected == a.fingerprint
    assert c.n_differences == truly_different > 0 and len(c.differences) == min(20, truly_different)
    assert f"puts {truly_different} of 60 units in another arm" in c.reason
    first = c.differences[0]
    assert a.arms.set_index("unit").loc[first.unit, "arm"] == first.expected_arm != first.got_arm


def test_confirm_notices_an_arms_list_changed_after_the_draw_and_round_trips(units):
    a = assign(units, unit="street", seed=5)
    record = a.record()
    record["arms"][0]["arm"] = "control" if record["arms"][0]["arm"] == "treatment" else "treatment"
    c = confirm(record, units)
    assert not c.matches and "changed after the draw" in c.reason and c.n_differences == 1
    assert Confirmation.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    assert list(c.tidy().columns) == ["unit", "expected_arm", "got_arm", "expected_wave", "got_wave"]


def test_confirm_says_when_the_algorithm_version_differs(units):
    a = assign(units, unit="street", seed=5)
    c = confirm({**a.record(), "algorithm_version": ALGORITHM_VERSION + 1}, units)
    assert any("version" in n and "rerun with the ridp release that made it" in n for n in c.notes)
    with pytest.raises(FieldError, match='has no "seed"'):
        confirm({k: v for k, v in a.record().items() if k != "seed"}, units)


# -- bad input ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"share_treated": 0.0}, "share_treated", "between 0 and 1"),
        ({"share_treated": 1.0}, "share_treated", "between 0 and 1"),
        ({"share_treated": 1.5}, "share_treated", "between 0 and 1"),
        ({"share_treated": True}, "share_treated", "between 0 and 1"),
        ({"share_treated": 0.005}, "share_treated", "0.005 of 60 units would leave an arm empty"),
        ({"method": "blocked"}, "block", "needs the column"),
        ({"method": "clustered"}, "cluster", "needs the column"),
        ({"method": "pairs"}, "method", "is not one of"),
        ({"block": "ward"}, "method", "simple design has no block"),
        ({"method": "staggered"}, "waves", "2 or more waves"),
        ({"method": "staggered", "waves": 1}, "waves", "2 or more waves"),
        ({"method": "staggered", "waves": 61}, "waves", "61 waves for 60 units"),
        ({"method": "staggered", "waves": 12, "cluster": "zone"}, "waves", "12 waves for 11 clusters"),
        ({"waves": 3}, "waves", "staggered roll-out only"),
        ({"seed": -1}, "seed", "whole number"),
        ({"method": "blocked", "block": "district"}, "block", 'no column "district" in units; the columns are: street, ward'),
        ({"unit": "id"}, "unit", 'no column "id"'),
    ],
)  # fmt: skip
def test_bad_options_are_field_errors_naming_the_argument(units, kwargs, field, message):
    kw = {"unit": "street", "seed": 1} | kwargs
    with pytest.raises(FieldError, match=message) as e:
        assign(units, **kw)
    assert e.value.field == field


def test_too_few_units_or_clusters(units):
    with pytest.raises(FieldError, match="1 unit"):
        assign(units.iloc[:1], unit="street", seed=1)
    with pytest.raises(FieldError, match="1 cluster"):
        assign(units.iloc[:5], unit="street", method="clustered", cluster="zone", seed=1)


def test_repeated_and_missing_unit_ids_name_the_rows():
    with pytest.raises(FieldError, match=r'unit "b" appears 2 times in column "id", rows 2, 4') as e:
        assign(pd.DataFrame({"id": ["a", "b", "c", "b"]}), unit="id", seed=1)
    assert e.value.field == "unit"
    with pytest.raises(FieldError, match='row 3 has no value in column "id"'):
        assign(pd.DataFrame({"id": ["a", "b", None, "d"]}), unit="id", seed=1)
    with pytest.raises(FieldError, match='row 2 has no value in column "b"'):
        assign(pd.DataFrame({"id": ["a", "b", "c"], "b": ["x", None, "y"]}), unit="id", method="blocked", block="b")
    # ids are compared as text: 1 and "1" are the same unit
    with pytest.raises(FieldError, match='unit "1" appears 2 times'):
        assign(pd.DataFrame({"id": [1, "1", 2]}, dtype=object), unit="id", seed=1)


def test_a_block_of_one_unit_is_a_coin_flip_and_says_so():
    frame = pd.DataFrame({"id": range(5), "b": ["x", "x", "y", "y", "lonely"]})
    a = assign(frame, unit="id", method="blocked", block="b", seed=3)
    assert (
        'block "lonely" has one unit: its arm was decided by a coin flip (treated with probability 0.5)' in a.warnings
    )
    assert 'Warning: block "lonely" has one unit' in a.summary()
    assert Assignment.from_dict(a.to_dict()).warnings == a.warnings
