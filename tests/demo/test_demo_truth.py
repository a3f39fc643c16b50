"""ridp.demo: truth.json agrees with an independent reading of the files."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ridp.demo import DemoCity

ISO = "%Y-%m-%dT%H:%M:%S"
US = "%m/%d/%Y %I:%M:%S %p"
MINUTE = "%Y-%m-%d %H:%M"
ISO_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"
US_RE = r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2} [AP]M$"
MINUTE_RE = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"


def parse_datetimes(values: pd.Series) -> pd.Series:
    """Parse a column that mixes the three datetime formats ('' -> NaT)."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[s]")
    for pattern, fmt in ((ISO_RE, ISO), (US_RE, US), (MINUTE_RE, MINUTE)):
        hit = values.str.match(pattern)
        if hit.any():
            out[hit] = pd.to_datetime(values[hit], format=fmt).astype("datetime64[s]")
    return out


def points_in_ring(x: np.ndarray, y: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Even-odd ray casting: which points (x, y) lie inside the closed ring."""
    xi, yi = ring[:-1, 0][None, :], ring[:-1, 1][None, :]
    xj, yj = ring[1:, 0][None, :], ring[1:, 1][None, :]
    px, py = x[:, None], y[:, None]
    crosses = (yi > py) != (yj > py)
    dy = np.where(yj == yi, 1.0, yj - yi)
    x_at = xi + (py - yi) * (xj - xi) / dy
    return np.asarray(((crosses & (px < x_at)).sum(axis=1) % 2) == 1)


def _coords(requests: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    lat = pd.to_numeric(requests["latitude"].replace("", np.nan))
    lon = pd.to_numeric(requests["longitude"].replace("", np.nan))
    return lat, lon


def _valid_coords(requests: pd.DataFrame) -> pd.Series:
    lat, lon = _coords(requests)
    return lat.between(42.0, 43.0) & lon.between(-72.0, -70.0)


@pytest.fixture(scope="module")
def times(requests: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "requested": parse_datetimes(requests["requested_datetime"]),
            "updated": parse_datetimes(requests["updated_datetime"]),
            "closed": parse_datetimes(requests["closed_datetime"]),
        }
    )


# --- messy values: recount every planted kind ---------------------------------


def test_mess_counts_match_expected(truth: dict[str, Any]) -> None:
    mess = truth["messiness"]
    assert mess["counts"] == mess["expected_counts"]
    assert all(v > 0 for v in mess["counts"].values())
    assert set(mess["counts"]) == set(mess["definitions"]) == set(mess["rates"])


def test_text_mess_recount(requests: pd.DataFrame, truth: dict[str, Any]) -> None:
    counts = truth["messiness"]["counts"]
    for col in ("description", "address"):
        values = requests[col]
        assert (values == "").sum() == counts[f"{col}_blank"]
        assert ((values != "") & (values.str.strip() == "")).sum() == counts[f"{col}_whitespace"]
        assert (values == "N/A").sum() == counts[f"{col}_na"]
    hood = requests["neighbourhood"]
    assert (hood != hood.str.strip()).sum() == counts["neighbourhood_padded"]
    assert (hood.str.strip() == "").sum() == 0
    # Columns that are never messy.
    for col in ("service_request_id", "requested_datetime", "status", "service_name", "agency", "area_id"):
        assert (requests[col].str.strip() == "").sum() == 0
        assert (requests[col] == "N/A").sum() == 0


def test_coordinate_mess_recount(requests: pd.DataFrame, truth: dict[str, Any]) -> None:
    counts = truth["messiness"]["counts"]
    lat, lon = _coords(requests)
    assert ((lat == 0) & (lon == 0)).sum() == counts["coords_placeholder_zero"]
    assert (lat.isna() & lon.isna()).sum() == counts["coords_missing"]
    assert (lat.isna() != lon.isna()).sum() == 0
    swapped = lat.between(-72.0, -70.0) & lon.between(42.0, 43.0)
    assert swapped.sum() == counts["coords_swapped"]
    valid = _valid_coords(requests)
    total_mess = counts["coords_placeholder_zero"] + counts["coords_missing"] + counts["coords_swapped"]
    assert (~valid).sum() == total_mess


def test_duplicate_recount(requests: pd.DataFrame, truth: dict[str, Any]) -> None:
    counts = truth["messiness"]["counts"]
    assert requests.duplicated().sum() == counts["exact_duplicate_rows"] == truth["rows"]["exact_duplicate_rows"]
    dedup = requests.drop_duplicates()
    assert len(dedup) == truth["rows"]["clean"]
    assert dedup.duplicated("service_request_id").sum() == counts["duplicate_id_rows"]
    # Each reused id belongs to exactly two rows that differ somewhere.
    sizes = dedup.groupby("service_request_id").size()
    assert sizes.max() == 2
    # Exact duplicates sit right below their original.
    dup = requests.duplicated()
    assert requests[dup].index.min() > 0
    prev = requests.shift(1)[dup]
    assert (prev == requests[dup]).all(axis=None)


def test_date_format_recount(requests: pd.DataFrame, truth: dict[str, Any]) -> None:
    formats = truth["messiness"]["date_formats"]
    counts = truth["messiness"]["counts"]
    req = requests["requested_datetime"]
    iso, us, minute = req.str.match(ISO_RE), req.str.match(US_RE), req.str.match(MINUTE_RE)
    assert (iso | us | minute).all()
    assert iso.sum() == formats["iso"]
    assert us.sum() == formats["us_12h"] == counts["date_format_us_12h"]
    assert minute.sum() == formats["iso_minute"] == counts["date_format_iso_minute"]
    assert formats["iso"] + formats["us_12h"] + formats["iso_minute"] == len(requests)
    # A row uses one format for all its datetimes.
    for col in ("updated_datetime", "closed_datetime"):
        other = requests[col]
        filled = other != ""
        assert other[us & filled].str.match(US_RE).all()
        assert other[minute & filled].str.match(MINUTE_RE).all()
        placeholder = other == truth["messiness"]["placeholder_datetime"]
        assert other[iso & filled & ~placeholder].str.match(ISO_RE).all()
    assert (requests.loc[us | minute, "status"] == "Closed").mean() > 0.9


def test_closed_mess_recount(requests: pd.DataFrame, times: pd.DataFrame, truth: dict[str, Any]) -> None:
    counts = truth["messiness"]["counts"]
    closed_raw = requests["closed_datetime"]
    placeholder = closed_raw == truth["messiness"]["placeholder_datetime"]
    assert placeholder.sum() == counts["closed_placeholder_1900"]
    assert (requests.loc[placeholder, "status"] == "Closed").all()
    real = times["closed"].where(~placeholder)
    assert (real < times["requested"]).sum() == counts["closed_before_opened"]


def test_status_and_closed_dates_agree(requests: pd.DataFrame, truth: dict[str, Any]) -> None:
    closed = requests["status"] == "Closed"
    assert set(requests["status"]) == {"Closed", "Open", "In Progress"}
    assert (requests.loc[closed, "closed_datetime"] != "").all()
    assert (requests.loc[~closed, "closed_datetime"] == "").all()
    assert requests["status"].value_counts().to_dict() == truth["rows"]["status_as_written"]


def test_requests_are_sorted_and_in_range(times: pd.DataFrame, truth: dict[str, Any]) -> None:
    req = times["requested"]
    assert req.notna().all()
    minutes = req.dt.floor("min")
    assert minutes.is_monotonic_increasing  # across chunk boundaries too
    assert req.min() >= pd.Timestamp(truth["date_range"]["start"])
    assert req.max() < pd.Timestamp(truth["date_range"]["export_datetime"])
    export = pd.Timestamp(truth["date_range"]["export_datetime"])
    assert (times["updated"].dropna() <= export).all()
    assert (times["closed"].dropna() <= export).all()


def test_ids_look_like_a_sequence(requests: pd.DataFrame) -> None:
    ids = requests["service_request_id"]
    assert ids.str.match(r"^SR-\d{8}$").all()
    dedup = requests.drop_duplicates()
    first = dedup.drop_duplicates("service_request_id")["service_request_id"]
    assert first.str[3:].astype(int).diff().dropna().gt(0).mean() > 0.99


# --- geometry --------------------------------------------------------------------


def test_geojson_structure(city: DemoCity, rings: dict[str, np.ndarray], truth: dict[str, Any]) -> None:
    geo = json.loads(city.neighbourhoods_geojson.read_text())
    assert geo["type"] == "FeatureCollection"
    assert len(geo["features"]) == 40
    for f in geo["features"]:
        assert f["geometry"]["type"] == "Polygon"
        assert set(f["properties"]) == {"area_id", "name"}
    min_lon, min_lat, max_lon, max_lat = truth["city"]["bbox"]
    total = 0.0
    for ring in rings.values():
        assert ring.shape == (5, 2)
        assert (ring[0] == ring[-1]).all()
        x, y = ring[:, 0], ring[:, 1]
        area2 = float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))
        assert area2 > 0  # counter-clockwise exterior ring (RFC 7946)
        total += area2 / 2
        assert (x >= min_lon - 1e-9).all() and (x <= max_lon + 1e-9).all()
        assert (y >= min_lat - 1e-9).all() and (y <= max_lat + 1e-9).all()
    assert total == pytest.approx((max_lon - min_lon) * (max_lat - min_lat), rel=1e-6)


def test_polygons_tile_without_overlap(rings: dict[str, np.ndarray], truth: dict[str, Any]) -> None:
    min_lon, min_lat, max_lon, max_lat = truth["city"]["bbox"]
    rng = np.random.default_rng(0)
    x = rng.uniform(min_lon, max_lon, 20_000)
    y = rng.uniform(min_lat, max_lat, 20_000)
    hits = np.zeros(x.size, dtype=int)
    for ring in rings.values():
        hits += points_in_ring(x, y, ring)
    assert (hits == 1).all()  # no overlap, no gap


def test_points_lie_in_their_polygon(requests: pd.DataFrame, rings: dict[str, np.ndarray]) -> None:
    lat, lon = _coords(requests)
    valid = _valid_coords(requests)
    checked = 0
    for area_id, idx in requests[valid].groupby("area_id").groups.items():
        inside = points_in_ring(lon[idx].to_numpy(), lat[idx].to_numpy(), rings[str(area_id)])
        assert inside.all(), f"{(~inside).sum()} points outside {area_id}"
        checked += inside.size
    assert checked == valid.sum() > 45_000


# --- planted truths are recovered from the CSV ------------------------------------


def _clean_closed_days(requests: pd.DataFrame, times: pd.DataFrame) -> pd.DataFrame:
    closed = (requests["status"] == "Closed") & (requests["closed_datetime"] != "1900-01-01T00:00:00")
    days = (times["closed"] - times["requested"]).dt.total_seconds() / 86_400
    keep = closed & days.ge(0) & ~requests.duplicated()
    return pd.DataFrame({"area_id": requests["area_id"], "days": days})[keep]


def test_area_median_ratios_recovered(requests: pd.DataFrame, times: pd.DataFrame, truth: dict[str, Any]) -> None:
    data = _clean_closed_days(requests, times)
    city_median = data["days"].median()
    assert city_median == pytest.approx(truth["closure"]["city_median_days_to_close"], rel=0.02)
    ratios = data.groupby("area_id")["days"].median() / city_median
    for area in truth["areas"]:
        assert ratios[area["area_id"]] == pytest.approx(area["median_days_ratio_to_city"], rel=0.03), area["area_id"]
    slow, fast = truth["closure"]["slow_area_ids"], truth["closure"]["fast_area_ids"]
    assert len(slow) == 4 and len(fast) == 3
    assert ratios[slow].min() > 1.5
    assert ratios[fast].max() < 0.8
    # The realised ratios follow the planted multipliers, up to the sampling
    # noise of a median over a few hundred requests per area.
    planted = np.log([a["planted_closure_multiplier"] for a in truth["areas"]])
    realised = np.log([a["median_days_ratio_to_city"] for a in truth["areas"]])
    assert np.corrcoef(planted, realised)[0, 1] > 0.9
    normal = ratios.drop(index=slow + fast)
    assert 0.85 < normal.median() < 1.15


def test_slow_areas_are_among_the_poorest(city: DemoCity, truth: dict[str, Any]) -> None:
    pop = pd.read_csv(city.population_csv).set_index("area_id")
    poorest = set(pop["pct_poverty"].sort_values(ascending=False, kind="stable").index[:10])
    assert set(truth["closure"]["slow_area_ids"]) <= poorest


def test_seasonal_amplitude_recovered(times: pd.DataFrame, truth: dict[str, Any]) -> None:
    season = truth["seasonality"]
    assert season["realised_amplitude"] == pytest.approx(season["planted_amplitude"], abs=0.03)
    assert season["realised_peak_day_of_year"] == pytest.approx(season["planted_peak_day_of_year"], abs=10)
    # Independent estimate: log monthly rate on trend + level step + annual harmonic.
    month = times["requested"].dt.to_period("M")
    counts = month.value_counts().sort_index()
    start = counts.index[0].to_timestamp()
    mid = (counts.index.to_timestamp() - start).days.to_numpy() + counts.index.days_in_month.to_numpy() / 2
    theta = 2 * np.pi * mid / 365.25
    step = (counts.index.to_timestamp() >= pd.Timestamp(truth["level_change"]["date"])).astype(float)
    x = np.column_stack([np.ones_like(mid), mid / 365.25, step, np.cos(theta), np.sin(theta)])
    y = np.log(counts.to_numpy() / counts.index.days_in_month.to_numpy())
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    assert float(np.hypot(coef[3], coef[4])) == pytest.approx(season["planted_amplitude"], abs=0.04)
    peak_doy = (np.arctan2(coef[4], coef[3]) * 365.25 / (2 * np.pi)) % 365.25 + 1
    assert peak_doy == pytest.approx(season["planted_peak_day_of_year"], abs=15)


def test_level_change_recovered(requests: pd.DataFrame, times: pd.DataFrame, truth: dict[str, Any]) -> None:
    change = truth["level_change"]
    assert change["realised_factor"] == pytest.approx(change["planted_factor"], rel=0.1)
    # Share of the changed type among all requests jumps at the planted date.
    is_type = requests["service_name"] == change["service_name"]
    after = times["requested"] >= pd.Timestamp(change["date"])
    share_before, share_after = is_type[~after].mean(), is_type[after].mean()
    shares = {t["service_name"]: t["planted_share_before_level_change"] for t in truth["service_types"]}
    s = shares[change["service_name"]]
    expected_after = s * change["planted_factor"] / (1 + s * (change["planted_factor"] - 1))
    assert share_before == pytest.approx(s, abs=0.01)
    assert share_after == pytest.approx(expected_after, abs=0.015)


def test_hot_spots_recovered(
    city: DemoCity, requests: pd.DataFrame, rings: dict[str, np.ndarray], truth: dict[str, Any]
) -> None:
    hot = truth["hot_spots"]["area_ids"]
    assert len(hot) == 3
    # Adjacent: every hot-spot polygon shares an edge (two vertices) with another.
    for a in hot:
        mine = {tuple(p) for p in rings[a][:-1]}
        assert any(len(mine & {tuple(p) for p in rings[b][:-1]}) == 2 for b in hot if b != a)
    pop = pd.read_csv(city.population_csv).set_index("area_id")["population"]
    counts = requests.drop_duplicates()["area_id"].value_counts()
    per_capita = counts / pop
    others = per_capita.drop(index=hot)
    other_rate = counts.drop(index=hot).sum() / pop.drop(index=hot).sum()
    for a in hot:
        assert per_capita[a] / others.max() > 1.3
        ratio = per_capita[a] / other_rate
        assert ratio == pytest.approx(truth["hot_spots"]["realised_ratio_to_other_areas"][a], abs=1e-4)
        assert ratio == pytest.approx(truth["hot_spots"]["planted_rate_multiplier"], rel=0.15)


def test_recent_requests_are_more_often_open(
    requests: pd.DataFrame, times: pd.DataFrame, truth: dict[str, Any]
) -> None:
    open_ = requests["status"] != "Closed"
    by_year = open_.groupby(times["requested"].dt.year).mean()
    assert by_year[2024] > by_year[2023] > by_year[2020]
    shares = truth["closure"]["open_share_by_request_year"]
    assert shares["2024"] > shares["2022"] > 0
    assert truth["closure"]["open_requests"] + truth["closure"]["closed_requests"] == truth["rows"]["clean"]


def test_weekly_pattern(times: pd.DataFrame, truth: dict[str, Any]) -> None:
    weekday = times["requested"].dt.day_of_week.value_counts().sort_index()
    factors = np.array(truth["volume"]["weekday_factors_mon_first"])
    observed = weekday.to_numpy() / weekday.mean()
    assert observed == pytest.approx(factors / factors.mean(), abs=0.04)


def test_service_mix_and_channels(requests: pd.DataFrame, truth: dict[str, Any]) -> None:
    dedup = requests.drop_duplicates()
    counts = dedup["service_name"].value_counts()
    assert {t["service_name"]: t["requests"] for t in truth["service_types"]} == counts.to_dict()
    channels = dedup["channel"].value_counts()
    assert {k: v["requests"] for k, v in truth["channels"].items()} == channels.to_dict()
    assert set(requests["priority"]) == {"Low", "Medium", "High"}
