"""Hot spots (Getis-Ord Gi*) equal an independent computation, find what the demo city plants, run on real
city data, and draw as maps that render offline.

Independent references written here: the Gi* z-score from its textbook formula (Getis & Ord 1992; Ord &
Getis 1995) in numpy over a lattice whose queen neighbours are read from grid positions, not polygons;
permutation p-values against esda's own draws and, for five boroughs, against the exact distribution
enumerated over every possible neighbourhood; the corrections against statsmodels on the same p-values;
per-area counts from the raw CSV text with pandas.
"""

from __future__ import annotations

import functools
import itertools
import json
import warnings
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box
from statsmodels.stats.multitest import multipletests

from ridp.analysis.boundaries import Boundaries
from ridp.analysis.charts import to_png, to_svg, to_vega
from ridp.analysis.hotspots import CLASSES, HotSpots, hot_spots
from ridp.analysis.maps import choropleth, hot_spot_map, point_map
from ridp.demo import DemoCity, generate_city
from ridp.errors import FieldError
from tests.conftest import SHARED_DATA
from tests.readiness.conftest import Store

CITY = SHARED_DATA / "city"
POTHOLES = CITY / "chicago" / "311 Service Requests - Pot Holes Reported - Historical.csv"
COMMUNITY_AREAS = CITY / "chicago" / "Chicago_Community_Areas.geojson"
NYC_311 = CITY / "nyc" / "311.csv"
BOROUGHS = CITY / "nyc" / "nyc.geojson"
NYC_POPULATION = CITY / "nyc" / "nyc_population.csv"
#: Enough rows that the planted per-capita doubling stands well above the noise of area counts; ~1 s to write.
DEMO_ROWS = 60_000
STEP = 0.01  # degrees: the side of a lattice cell


# -- helpers -------------------------------------------------------------------------------------------------------
@functools.cache
def read_boundaries(path: Path) -> Boundaries:
    """A real boundary file read by ridp once per session (Boundaries is frozen: the tests share it)."""
    return Boundaries.from_file(path)


def lattice(rows: int, cols: int) -> Boundaries:
    """``rows`` x ``cols`` squares near Boston; neighbours share their corners exactly."""
    ids, cells = [], []
    for i, j in itertools.product(range(rows), range(cols)):
        ids.append(f"C{i}_{j}")
        cells.append(box(-71 + STEP * j, 42 + STEP * i, -71 + STEP * (j + 1), 42 + STEP * (i + 1)))
    return Boundaries.from_records(ids, cells, name="lattice")


def table_of(counts: dict[str, int], column: str = "area") -> ibis.Table:
    return ibis.memtable(pd.DataFrame({column: [a for a, n in counts.items() for _ in range(n)]}))


def textbook_gi_star(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Gi* z with binary weights w (self included): (Σ w x − x̄ W) / (S √((n W − W²)/(n − 1)))."""
    n = len(x)
    mean = x.mean()
    s = np.sqrt((x**2).mean() - mean**2)
    weight = w.sum(axis=1)  # binary: Σw = Σw²
    return (w @ x - mean * weight) / (s * np.sqrt((n * weight - weight**2) / (n - 1)))


def queen_by_position(rows: int, cols: int) -> np.ndarray:
    cells = list(itertools.product(range(rows), range(cols)))
    return np.array([[float(abs(a - c) <= 1 and abs(b - d) <= 1) for c, d in cells] for a, b in cells])


def esda_gi_star(values: np.ndarray, boundaries: Boundaries, permutations: int, seed: int) -> Any:
    """esda's G_Local, called directly the way its documentation shows (binary weights, star=True)."""
    from esda.getisord import G_Local
    from libpysal.weights import Queen

    ids = list(boundaries.ids)
    with warnings.catch_warnings():
        # libpysal warns of islands; esda that its default alternative will change
        warnings.simplefilter("ignore")
        w = Queen.from_iterable(list(boundaries.geometries), ids=ids, id_order=ids)
        return G_Local(values, w, transform="B", star=True, permutations=permutations, seed=seed, n_jobs=1)


def no_url(spec: dict[str, Any]) -> list[str]:
    """Every string in the spec that holds a URL, except ``$schema`` (an identifier, never fetched)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k != "$schema":
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str) and ("http" in value or "://" in value):
            found.append(value)

    walk(spec)
    return found


def exterior_rings(spec: dict[str, Any]) -> list[list[list[float]]]:
    """The exterior ring of every polygon drawn in the spec."""
    rings = []
    for rows in spec["datasets"].values():
        for row in rows:
            geometry = row.get("geometry") or {}
            parts = [geometry["coordinates"]] if geometry.get("type") == "Polygon" else geometry.get("coordinates", [])
            rings += [part[0] for part in parts]
    return rings


def clockwise(ring: list[list[float]]) -> bool:
    return sum((x2 - x1) * (y2 + y1) for (x1, y1), (x2, y2) in itertools.pairwise(ring)) > 0


@pytest.fixture(scope="module")
def planted() -> tuple[Boundaries, dict[str, int], dict[str, float]]:
    """An 8 x 8 lattice, 1,000 residents per cell, a 3 x 3 block at three times the rate of the rest."""
    b = lattice(8, 8)
    rng = np.random.default_rng(11)
    block = {f"C{i}_{j}" for i in (2, 3, 4) for j in (4, 5, 6)}
    counts = {a: int(rng.poisson(90 if a in block else 30)) for a in b.ids}
    return b, counts, dict.fromkeys(b.ids, 1000.0)


# -- Gi* against independent computations --------------------------------------------------------------------------
def test_gi_star_z_equals_the_textbook_formula_and_esda(planted):
    b, counts, people = planted
    result = hot_spots(table_of(counts), area="area", boundaries=b, population=people)
    frame = result.to_pandas().set_index("area_id").loc[list(b.ids)]
    x = np.array([counts[a] for a in b.ids], dtype=float)  # 1,000 residents each: the rate is the count
    np.testing.assert_allclose(frame["rate"], x, rtol=1e-12)
    expected = textbook_gi_star(x, queen_by_position(8, 8))
    np.testing.assert_allclose(frame["z"], expected, rtol=1e-9)
    np.testing.assert_allclose(frame["z"], esda_gi_star(x, b, 99, 0).Zs, rtol=1e-12)
    assert frame.loc["C3_5", "neighbours"] == 8 and frame.loc["C0_0", "neighbours"] == 3


def test_permutation_p_is_twice_esdas_one_sided_p_when_values_do_not_tie():
    b = lattice(6, 6)
    rng = np.random.default_rng(3)
    people = {a: float(rng.integers(2_000, 9_000)) for a in b.ids}  # rates with no two alike
    counts = {a: int(rng.integers(20, 200)) for a in b.ids}
    result = hot_spots(table_of(counts), area="area", boundaries=b, population=people, inference="permutation", seed=42)
    frame = result.to_pandas().set_index("area_id").loc[list(b.ids)]
    assert frame["rate"].nunique() == len(b)
    g = esda_gi_star(frame["rate"].to_numpy(), b, 999, 42)
    np.testing.assert_allclose(frame["p"], np.minimum(1, 2 * g.p_sim.astype(float)), atol=1e-6)
    again = hot_spots(table_of(counts), area="area", boundaries=b, population=people, inference="permutation", seed=42)
    assert again.to_dict() == result.to_dict()  # seeded: the same p-values every time
    other = hot_spots(table_of(counts), area="area", boundaries=b, population=people, inference="permutation", seed=43)
    assert not np.array_equal(other.to_pandas()["p"], result.to_pandas()["p"])


@pytest.mark.parametrize("inference", ["permutation", "normal"])
@pytest.mark.parametrize("correction", ["fdr", "bonferroni", "none"])
def test_the_correction_and_the_classes_match_statsmodels_on_the_same_p_values(planted, correction, inference):
    b, counts, people = planted
    result = hot_spots(table_of(counts), area="area", boundaries=b, population=people, correction=correction,
                       inference=inference, permutations=9999)  # fmt: skip
    frame = result.to_pandas()
    p = frame["p"].to_numpy()
    if correction == "none":
        reject, corrected = p <= 0.05, p
    else:
        method = {"fdr": "fdr_bh", "bonferroni": "bonferroni"}[correction]
        reject, corrected, _, _ = multipletests(p, alpha=0.05, method=method)
    np.testing.assert_allclose(frame["p_corrected"], corrected, rtol=1e-12)
    significant = frame["class"].isin(["hot", "cold"]).to_numpy()
    assert (significant == reject).all()
    assert ((frame["class"] == "hot") == (reject & (frame["z"] > 0))).all()
    if inference == "normal":
        from scipy.stats import norm

        np.testing.assert_allclose(p, 2 * norm.sf(np.abs(frame["z"])), rtol=1e-12)
    assert int(reject.sum()) > 0, "the planted block is strong enough to pass every correction"
    # the planted block's centre is hot, whatever the correction
    assert result.row("C3_5")["class"] == "hot"
    assert result.tested == 64 and result.correction == correction
    assert {"fdr": "Benjamini-Hochberg", "bonferroni": "Bonferroni", "none": "No correction"}[
        correction
    ] in result.method


def test_the_permutation_floor_is_said_when_a_lone_area_cannot_pass(planted):
    b, counts, people = planted
    result = hot_spots(
        table_of(counts), area="area", boundaries=b, population=people, inference="permutation", correction="bonferroni"
    )
    # 2 / 1000 > 0.05 / 64: Bonferroni can find nothing with 999 permutations, and the note says how many are needed
    assert result.hot == () and result.cold == ()
    assert any("no area can be significant" in n and "2,560 permutations" in n for n in result.notes)


# -- the demo city's planted hot spots -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    return generate_city(tmp_path_factory.mktemp("hot-spot-city"), rows=DEMO_ROWS)


@pytest.fixture(scope="module")
def demo_truth(demo: DemoCity) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(demo.truth_json.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def demo_inputs(demo: DemoCity, stored_table: Store) -> tuple[ibis.Table, Boundaries, dict[str, float]]:
    people = pd.read_csv(demo.population_csv, dtype={"area_id": str})
    return (
        stored_table(demo.requests_csv),
        Boundaries.from_file(demo.neighbourhoods_geojson),
        dict(zip(people["area_id"], people["population"].astype(float), strict=True)),
    )


def test_the_demo_citys_planted_hot_spots_are_found_hot(demo_inputs, demo_truth):
    table, areas, people = demo_inputs
    result = hot_spots(table, area="area_id", boundaries=areas, population=people, inference="normal")
    planted = set(demo_truth["hot_spots"]["area_ids"])
    assert len(planted) == 3
    assert planted <= set(result.hot), result.summary()
    touching = {a for a in areas.ids if any(areas.geometry(a).touches(areas.geometry(h)) for h in planted)}
    assert set(result.hot) <= planted | touching  # a hot spot is a planted area or borders one
    assert result.cold == ()
    assert result.rate_unit == "requests per 1,000 residents"
    assert "Benjamini-Hochberg false-discovery rate" in result.method
    summary = result.summary()
    assert f"{len(result.hot)} hot spots at a 5% false-discovery rate: " in summary
    assert "× the city rate" in summary and "residents)" in summary


def test_the_demo_citys_rates_equal_pandas_and_the_planted_ratios(demo, demo_inputs, demo_truth):
    table, areas, people = demo_inputs
    result = hot_spots(table, area="area_id", boundaries=areas, population=people)
    raw = pd.read_csv(demo.requests_csv, dtype=str, keep_default_na=False)
    counts = raw["area_id"].value_counts()
    frame = result.to_pandas().set_index("area_id")
    assert frame["requests"].to_dict() == {a: int(counts.get(a, 0)) for a in areas.ids}
    expected_rate = pd.Series({a: counts.get(a, 0) / people[a] * 1000 for a in areas.ids})
    np.testing.assert_allclose(frame["rate"], expected_rate.loc[frame.index], rtol=1e-12)
    # the realised per-capita ratio of truth.json (clean rows, per year) within 3% of ours (all rows)
    for area, ratio in demo_truth["hot_spots"]["realised_per_capita_ratio"].items():
        assert frame.loc[area, "ratio_to_city"] == pytest.approx(ratio, rel=0.03)
    # whatever the inference, the planted areas' neighbourhoods have the highest z of the city
    top = frame.sort_values("z", ascending=False).index[:4]
    assert set(demo_truth["hot_spots"]["area_ids"]) <= set(top)


def test_permutation_p_values_cannot_reach_a_corrected_level_for_three_areas_of_forty(demo_inputs, demo_truth):
    """Why the demo test asks for normal p-values: the limit of conditional permutation, said in the docs."""
    table, areas, people = demo_inputs
    result = hot_spots(
        table, area="area_id", boundaries=areas, population=people, permutations=9999, inference="permutation"
    )
    frame = result.to_pandas().set_index("area_id")
    for area in demo_truth["hot_spots"]["area_ids"]:
        # the chance that 8 random neighbours of 39 hold the other two planted areas is C(37,6)/C(39,8) ≈ 0.038
        assert 0.005 < frame.loc[area, "p"] < 0.2
        assert frame.loc[area, "class"] == "not significant"


# -- real data -------------------------------------------------------------------------------------------------------
def test_chicago_potholes_by_community_area(stored_table):
    areas = read_boundaries(COMMUNITY_AREAS)
    features = json.loads(COMMUNITY_AREAS.read_text(encoding="utf-8"))["features"]
    people = {str(int(f["properties"]["NID"])): float(f["properties"]["POP2010"]) for f in features}
    result = hot_spots(stored_table(POTHOLES), area="community_area", boundaries=areas, population=people)

    raw = pd.read_csv(POTHOLES, dtype=str, keep_default_na=False)["community_area"]
    expected = raw[raw != ""].value_counts()
    frame = result.to_pandas().set_index("area_id")
    assert len(frame) == 77
    assert frame["requests"].to_dict() == {a: int(expected.get(a, 0)) for a in areas.ids}
    [unknown] = [x for x in result.left_out if "none of the 77 areas" in x.reason]
    assert (unknown.count, unknown.examples) == (int(expected["0"]), ("0 (6)",))
    assert result.rows_read == len(raw) == 1000
    assert result.rows_analysed == 1000 - 6 - int((raw == "").sum())
    np.testing.assert_allclose(frame["rate"], frame["requests"] / frame["residents"] * 1000, rtol=1e-12)
    assert result.city_rate == pytest.approx(994 / sum(people.values()) * 1000, rel=1e-12)
    assert result.islands == () and result.tested == 77
    assert set(frame["class"]) <= set(CLASSES)
    assert frame["z"].notna().all() and frame["p"].between(0, 1).all()
    summary = result.summary()
    for kind, ids in (("hot", result.hot), ("cold", result.cold)):
        said = f"{len(ids)} {kind} spot" if ids else f"No {kind} spot at a 5% false-discovery rate among the 77 areas"
        assert said in summary
    assert frame["class"].value_counts().to_dict().get("hot", 0) == len(result.hot)
    assert "Left out: 6 requests whose 'community_area' is none of the 77 areas" in summary
    np.testing.assert_allclose(frame["z"], esda_gi_star(frame["rate"].to_numpy(), areas, 99, 0).Zs, rtol=1e-12)


def exact_two_sided_p(values: np.ndarray, i: int, neighbours: list[int]) -> float:
    """The permutation p with every possible neighbourhood: k of the other n - 1 areas, each set equally likely."""
    others = [j for j in range(len(values)) if j != i]
    observed = values[i] + values[neighbours].sum()
    sums = np.array([values[i] + values[list(c)].sum() for c in itertools.combinations(others, len(neighbours))])
    upper = np.mean(sums >= observed - 1e-9)
    lower = np.mean(sums <= observed + 1e-9)
    return float(min(1.0, 2 * min(upper, lower)))


def test_nyc_requests_by_borough(stored_table):
    areas = read_boundaries(BOROUGHS)
    census = pd.read_csv(NYC_POPULATION)
    people = {str(b).strip(): float(n) for b, n in zip(census["Borough"], census["2010"], strict=True)}
    result = hot_spots(
        stored_table(NYC_311), area="Borough", boundaries=areas, population=people, inference="permutation"
    )

    raw = pd.read_csv(NYC_311, dtype=str, keep_default_na=False)["Borough"]
    frame = result.to_pandas().set_index("area_id")
    assert frame["requests"].to_dict() == {a: int((raw.str.upper() == a.upper()).sum()) for a in areas.ids}
    [unknown] = [x for x in result.left_out if "none of the 5 areas" in x.reason]
    assert (unknown.count, unknown.examples) == (3, ("Unspecified (3)",))
    assert any("QUEENS → Queens" in n for n in result.notes)
    assert any("NYC Total" in n for n in result.notes)  # a population row that is no borough, said
    # Staten Island touches no other borough: kept in the city's figures, not tested
    assert result.islands == ("Staten Island",)
    assert result.row("Staten Island")["class"] == "no neighbours" and result.row("Staten Island")["p"] is None
    assert result.tested == 4 and "touch no other area" in result.summary()
    # five areas: only a few neighbourhoods are possible; the p-values follow that exact distribution
    order = list(areas.ids)
    values = frame.loc[order, "rate"].to_numpy()
    g = esda_gi_star(values, areas, 999, 0)
    # esda's own one-sided p folds the ties of so few neighbourhoods: Queens's Gi* is the smallest possible,
    # every draw is at or above it, and esda reports the smallest p there is
    assert g.p_sim[order.index("Queens")] == pytest.approx(0.001)
    w = g.w
    for k, a in enumerate(order):
        if a == "Staten Island":
            continue
        neighbours = [order.index(b) for b in w.neighbors[a] if b != a]
        assert frame.loc[a, "p"] == pytest.approx(exact_two_sided_p(values, k, neighbours), abs=0.07), a


# -- the result object ---------------------------------------------------------------------------------------------
def test_the_result_round_trips_through_json_and_maps_with_the_boundaries_given(planted):
    b, counts, people = planted
    result = hot_spots(table_of(counts), area="area", boundaries=b, population=people, weights="rook")
    back = HotSpots.from_dict(json.loads(json.dumps(result.to_dict())))
    assert back.to_dict() == result.to_dict()
    assert back.summary() == result.summary()
    pd.testing.assert_frame_equal(back.to_pandas(), result.to_pandas(), check_dtype=False)
    assert "rook" in result.method and result.row("C3_5")["neighbours"] == 4
    with pytest.raises(FieldError) as caught:
        back.map()
    assert caught.value.field == "boundaries"
    assert "Benjamini-Hochberg" in to_svg(back.map(b))


def test_missing_areas_and_populations_are_counted_not_dropped():
    b = lattice(3, 3)
    counts = {a: 10 + k for k, a in enumerate(b.ids)}
    frame = pd.DataFrame({"area": [a for a, n in counts.items() for _ in range(n)] + [None] * 4 + ["  "] * 2
                          + ["C9_9"] * 5 + [" c0_0 "] * 3})  # fmt: skip
    people = {a: 500.0 for a in b.ids if a != "C2_2"} | {"C1_1": 0.0, "Elsewhere": 10.0}
    result = hot_spots(ibis.memtable(frame), area="area", boundaries=b, population=people)
    reasons = {x.reason: x for x in result.left_out}
    assert reasons["requests with no 'area' (empty): in no area"].count == 6
    stray = next(x for x in result.left_out if "none of the 9 areas" in x.reason)
    assert (stray.count, stray.examples) == (5, ("C9_9 (5)",))
    no_people = next(x for x in result.left_out if "without a population" in x.reason)
    assert no_people.count == counts["C1_1"] + counts["C2_2"]
    assert result.row("C0_0")["requests"] == counts["C0_0"] + 3  # matched ignoring case and spaces, and said
    assert result.row("C2_2")["class"] == "no data" and result.row("C2_2")["rate"] is None
    assert any("Elsewhere" in n for n in result.notes) and any("C1_1 (0.0)" in n for n in result.notes)
    assert result.rows_read == len(frame)
    with pytest.raises(FieldError) as caught:
        hot_spots(ibis.memtable(frame), area="district", boundaries=b)
    assert caught.value.field == "area"
    for bad in ({"correction": "holm"}, {"weights": "knn"}, {"permutations": 10}, {"alpha": 0.9}, {"inference": "x"}):
        with pytest.raises(FieldError) as caught:
            hot_spots(ibis.memtable(frame), area="area", boundaries=b, **bad)
        assert caught.value.field == next(iter(bad))


def test_a_rate_per_km2_without_population():
    b = lattice(3, 3)
    counts = {a: 10 for a in b.ids} | {"C1_1": 40}
    result = hot_spots(table_of(counts), area="area", boundaries=b)
    assert result.rate_unit == "requests per km²"
    km2 = b.areas_km2()
    frame = result.to_pandas().set_index("area_id")
    np.testing.assert_allclose(frame["rate"], [counts[a] / km2[a] for a in frame.index], rtol=1e-12)
    assert result.city_rate == pytest.approx(sum(counts.values()) / sum(km2.values()), rel=1e-12)


# -- maps ----------------------------------------------------------------------------------------------------------
def test_a_choropleth_renders_offline_and_shows_a_missing_area_as_no_data():
    areas = read_boundaries(COMMUNITY_AREAS)
    values = pd.DataFrame({"area_id": [a for a in areas.ids if a != "32"], "requests": 5, "residents": 1000})
    values["value"] = np.linspace(0, 3, len(values))
    chart = choropleth(areas, values, title="Potholes by community area", legend_title="Potholes per 1,000 residents",
                       description="Potholes per 1,000 residents in Chicago's 77 community areas.")  # fmt: skip
    spec = chart.to_dict()
    assert no_url(spec) == [] and no_url(to_vega(chart)) == []
    assert spec["description"] == "Potholes per 1,000 residents in Chicago's 77 community areas."
    assert spec["projection"]["type"] == "mercator"
    svg = to_svg(chart)
    assert "Potholes per 1,000 residents" in svg and "no data" in svg
    assert 'aria-label="status: no data; Area: LOOP;' in svg  # area 32, the one without a value
    assert "1 of 77 areas has no data (grey)" in svg
    assert to_png(chart)[:8] == b"\x89PNG\r\n\x1a\n"
    scales = [layer["encoding"]["color"]["scale"] for layer in spec["layer"]]
    assert scales[0] == {"scheme": "viridis"} and scales[1]["domain"] == ["no data"]


def test_a_diverging_choropleth_is_centred_and_only_safe_schemes_are_taken():
    b = lattice(2, 2)
    chart = choropleth(b, {a: v for a, v in zip(b.ids, [0.5, 1.0, 1.5, 2.0], strict=True)}, title="Ratio",
                       legend_title="Rate ÷ city rate", diverging=True, midpoint=1.0)  # fmt: skip
    scale = chart.to_dict()["layer"][0]["encoding"]["color"]["scale"]
    assert scale == {"scheme": "blueorange", "domainMid": 1.0}
    # shapely's boxes run counter-clockwise (RFC 7946); Vega's spherical geometry would read them as the globe
    # without the box, so every ring is drawn clockwise
    rings = exterior_rings(chart.to_dict())
    assert len(rings) == 4 and all(clockwise(r) for r in rings)
    assert not any(clockwise(list(g.exterior.coords)) for g in b.geometries)
    assert len(chart.to_dict()["layer"]) == 1  # no area lacks data: no grey layer
    with pytest.raises(FieldError):
        choropleth(b, {"C0_0": 1.0}, title="t", legend_title="l", scheme="rainbow")


def test_a_point_map_samples_with_its_seed_and_says_so():
    areas = read_boundaries(COMMUNITY_AREAS)
    raw = pd.read_csv(POTHOLES, dtype=str, keep_default_na=False)
    points = pd.DataFrame({"latitude": pd.to_numeric(raw["latitude"], errors="coerce"),
                           "longitude": pd.to_numeric(raw["longitude"], errors="coerce"), "status": raw["status"]})  # fmt: skip
    usable = int(points.notna().all(axis=1).sum())
    chart = point_map(areas, points, color="status", max_points=200, seed=5)
    spec = chart.to_dict()
    assert chart.title.subtitle[0] == f"a random sample of 200 of {usable:,} points (seed 5)"
    dots = spec["datasets"][spec["layer"][1]["data"]["name"]]
    assert len(dots) == 200
    same = point_map(areas, points, color="status", max_points=200, seed=5).to_dict()
    assert same["datasets"][same["layer"][1]["data"]["name"]] == dots
    assert no_url(spec) == []
    svg = to_svg(chart)
    assert "status" in svg and to_png(chart)[:4] == b"\x89PNG"


def test_a_hot_spot_map_names_the_correction_and_renders(planted):
    b, counts, people = planted
    result = hot_spots(table_of(counts), area="area", boundaries=b, population=people, inference="normal")
    chart = hot_spot_map(result)
    spec = chart.to_dict()
    legend = spec["layer"][0]["encoding"]["color"]
    assert legend["legend"]["title"] == "Gi* at 5% false-discovery rate (Benjamini-Hochberg)"
    assert legend["scale"]["domain"] == ["hot spot", "cold spot", "not significant"]
    assert no_url(spec) == [] and "hot spots" in spec["description"]
    assert len(exterior_rings(spec)) == 64 and all(clockwise(r) for r in exterior_rings(spec))
    svg = to_svg(chart)
    assert "Gi* at 5% false-discovery rate (Benjamini-Hochberg)" in svg and "hot spot" in svg
    assert to_png(chart)[:4] == b"\x89PNG"
    for show in ("z", "rate", "ratio_to_city"):
        assert "<svg" in to_svg(result.map(show=show))
    assert result.map().to_dict()["layer"][0]["encoding"]["color"]["legend"]["title"] == legend["legend"]["title"]


def test_the_map_of_boroughs_shows_the_island_as_not_tested(stored_table):
    areas = read_boundaries(BOROUGHS)
    result = hot_spots(stored_table(NYC_311), area="Borough", boundaries=areas)
    spec = result.map().to_dict()
    assert "no neighbours (not tested)" in spec["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert "no neighbours (not tested)" in to_svg(result.map())
