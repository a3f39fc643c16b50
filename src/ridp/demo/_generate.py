"""Chunked, vectorised generator of the demo city's files.

See :mod:`ridp.demo` for the description of the files and of ``truth.json``.

Design
------
1. The seed alone fixes the city (:func:`ridp.demo._city.build_areas`).
2. The expected volume of every calendar day (weekday x trend x season x
   level change) is computed, and the clean rows are spread over the days
   with one multinomial draw, so each day's count is known up front.
3. Consecutive days are grouped into chunks of about ``chunk_rows`` rows; each
   chunk is generated with its own generator ``default_rng([seed, 1, i])``,
   sorted by request time, made messy, and written with one
   ``pyarrow.csv.CSVWriter.write_table`` call.  Because chunks never split a
   day, the file is sorted by clean request time and ids grow along it.
4. Realised statistics are accumulated from the clean values of every chunk
   before the messiness is applied and turned into ``truth.json`` at the end.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]
import pyarrow.csv as pacsv  # type: ignore[import-untyped,unused-ignore]

from ridp.demo import _catalog as cat
from ridp.demo._city import SHRINK, Areas, build_areas, geojson_text, triangle_tables

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Clean rows per chunk (chunks hold whole days, so real sizes vary a little).
CHUNK_ROWS = 500_000

REQUESTS_FILE = "service_requests.csv"
NEIGHBOURHOODS_FILE = "neighbourhoods.geojson"
POPULATION_FILE = "population.csv"
TRUTH_FILE = "truth.json"

COLUMNS: tuple[str, ...] = (
    "service_request_id",
    "requested_datetime",
    "updated_datetime",
    "closed_datetime",
    "status",
    "service_name",
    "agency",
    "channel",
    "priority",
    "description",
    "address",
    "neighbourhood",
    "area_id",
    "latitude",
    "longitude",
)

POPULATION_COLUMNS: tuple[str, ...] = (
    "area_id",
    "name",
    "population",
    "population_moe",
    "households",
    "households_moe",
    "median_household_income",
    "median_household_income_moe",
    "pct_nonwhite",
    "pct_nonwhite_moe",
    "pct_poverty",
    "pct_poverty_moe",
)

#: Planted messy values: expected count = floor(rate * rows) for each kind.
#: Every messy kind hits its own rows (a row carries at most one kind), and
#: exact duplicates only copy otherwise clean rows, so each count is exact.
MESS_RATES: dict[str, float] = {
    "exact_duplicate_rows": 0.001,
    "duplicate_id_rows": 0.0005,
    "closed_before_opened": 0.001,
    "closed_placeholder_1900": 0.0008,
    "coords_placeholder_zero": 0.002,
    "coords_missing": 0.003,
    "coords_swapped": 0.001,
    "description_blank": 0.002,
    "description_whitespace": 0.0015,
    "description_na": 0.002,
    "address_blank": 0.0015,
    "address_whitespace": 0.001,
    "address_na": 0.0015,
    "neighbourhood_padded": 0.002,
    "date_format_us_12h": 0.03,
    "date_format_iso_minute": 0.015,
}

MESS_DEFINITIONS: dict[str, str] = {
    "exact_duplicate_rows": "extra rows identical in every column to the row just above "
    "them (pandas: df.duplicated().sum())",
    "duplicate_id_rows": "rows that reuse the service_request_id of a different row "
    "(pandas: df.drop_duplicates().duplicated('service_request_id').sum())",
    "closed_before_opened": "closed_datetime earlier than requested_datetime (placeholder dates excluded)",
    "closed_placeholder_1900": "closed_datetime == '1900-01-01T00:00:00' on a Closed request",
    "coords_placeholder_zero": "latitude == 0 and longitude == 0",
    "coords_missing": "latitude and longitude both empty",
    "coords_swapped": "latitude and longitude exchanged (latitude < 0 in this city)",
    "description_blank": "description == ''",
    "description_whitespace": "description non-empty but whitespace only",
    "description_na": "description == 'N/A'",
    "address_blank": "address == ''",
    "address_whitespace": "address non-empty but whitespace only",
    "address_na": "address == 'N/A'",
    "neighbourhood_padded": "neighbourhood with a leading or trailing space",
    "date_format_us_12h": "rows whose datetimes read '04/05/2023 01:22:00 PM' (%m/%d/%Y %I:%M:%S %p)",
    "date_format_iso_minute": "rows whose datetimes read '2023-04-05 13:22' (%Y-%m-%d %H:%M)",
}

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S"
US_FORMAT = "%m/%d/%Y %I:%M:%S %p"
MINUTE_FORMAT = "%Y-%m-%d %H:%M"
PLACEHOLDER_DATETIME = "1900-01-01T00:00:00"
_WHITESPACE_VALUES = (" ", "  ", "   ")

_EPOCH = date(1970, 1, 1)
_SECONDS_PER_DAY = 86_400
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class DemoCity:
    """Paths and parameters of a generated demo city.

    Attributes
    ----------
    directory : Path
        Folder holding the four files.
    requests_csv : Path
        ``service_requests.csv``: the 311 export, messy values included.
    neighbourhoods_geojson : Path
        ``neighbourhoods.geojson``: area polygons (WGS84).
    population_csv : Path
        ``population.csv``: ACS-style estimates with 90% margins of error.
    truth_json : Path
        ``truth.json``: every planted parameter and realised value.
    rows : int
        Rows in ``service_requests.csv`` (header excluded).
    seed : int
        Seed the city was generated with.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from ridp.demo import DemoCity, generate_city
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     city = generate_city(Path(tmp), rows=100, seed=1)
    ...     names = [p.name for p in (city.requests_csv, city.truth_json)]
    >>> isinstance(city, DemoCity), city.rows, city.seed, names
    (True, 100, 1, ['service_requests.csv', 'truth.json'])
    """

    directory: Path
    requests_csv: Path
    neighbourhoods_geojson: Path
    population_csv: Path
    truth_json: Path
    rows: int
    seed: int


def _day_number(d: date) -> int:
    return (d - _EPOCH).days


@dataclass
class _Calendar:
    """Per-day planted volume shape over the history."""

    first_day: int  # days since 1970-01-01
    n_days: int
    change_index: int  # index of the first day after the level change
    weekday: FloatArray
    trend: FloatArray
    season: FloatArray
    level_total: FloatArray  # total-volume multiplier of the level change
    year: IntArray
    p_before: FloatArray
    p_after: FloatArray

    @property
    def shape_without_season(self) -> FloatArray:
        return np.asarray(self.weekday * self.trend * self.level_total, dtype=np.float64)

    @property
    def shape_without_level(self) -> FloatArray:
        return np.asarray(self.weekday * self.trend * self.season, dtype=np.float64)

    @property
    def intensity(self) -> FloatArray:
        return np.asarray(self.shape_without_level * self.level_total, dtype=np.float64)


def _calendar() -> _Calendar:
    first = _day_number(cat.START_DATE)
    n_days = (cat.END_DATE - cat.START_DATE).days + 1
    t = np.arange(n_days, dtype=np.float64)
    absolute = first + np.arange(n_days)
    weekday = np.asarray(cat.WEEKDAY_FACTORS)[(absolute + 3) % 7]  # 1970-01-01: Thursday
    trend = (1.0 + cat.ANNUAL_GROWTH) ** (t / _DAYS_PER_YEAR)
    t_peak = cat.SEASONAL_PEAK_DAY_OF_YEAR - 1
    season = 1.0 + cat.SEASONAL_AMPLITUDE * np.cos(2 * np.pi * (t - t_peak) / _DAYS_PER_YEAR)
    change_index = (cat.LEVEL_CHANGE_DATE - cat.START_DATE).days
    shares = np.array([s.share for s in cat.SERVICE_TYPES])
    p_before = shares / shares.sum()
    k = _level_type_index()
    boosted = p_before.copy()
    boosted[k] *= cat.LEVEL_CHANGE_FACTOR
    level_after = float(boosted.sum())
    p_after = boosted / level_after
    level_total = np.where(np.arange(n_days) >= change_index, level_after, 1.0)
    years = np.array([(cat.START_DATE + timedelta(days=int(i))).year for i in range(n_days)], dtype=np.int64)
    return _Calendar(
        first_day=first,
        n_days=n_days,
        change_index=change_index,
        weekday=weekday,
        trend=trend,
        season=season,
        level_total=level_total,
        year=years,
        p_before=p_before,
        p_after=p_after,
    )


def _level_type_index() -> int:
    names = [s.name for s in cat.SERVICE_TYPES]
    return names.index(cat.LEVEL_CHANGE_SERVICE)


def _largest_remainder(total: int, weights: IntArray) -> IntArray:
    """Split ``total`` into integers proportional to ``weights`` (exact sum)."""
    w = weights.astype(np.float64)
    if total == 0 or w.sum() == 0:
        return np.zeros(weights.size, dtype=np.int64)
    exact = total * w / w.sum()
    out = np.floor(exact).astype(np.int64)
    rest = total - int(out.sum())
    if rest:
        order = np.argsort(-(exact - out), kind="stable")
        out[order[:rest]] += 1
    return np.asarray(out, dtype=np.int64)


def _chunk_day_ranges(day_counts: IntArray, chunk_rows: int) -> list[tuple[int, int]]:
    """Group consecutive days into chunks of about ``chunk_rows`` rows."""
    ranges: list[tuple[int, int]] = []
    start = 0
    acc = 0
    for d, c in enumerate(day_counts.tolist()):
        acc += c
        if acc >= chunk_rows:
            ranges.append((start, d + 1))
            start, acc = d + 1, 0
    if start < day_counts.size:
        if ranges and acc < chunk_rows // 4:
            ranges[-1] = (ranges[-1][0], int(day_counts.size))
        else:
            ranges.append((start, int(day_counts.size)))
    return ranges


class _Strings:
    """Vocabularies (as Arrow arrays) that rows index into."""

    def __init__(self, areas: Areas, calendar: _Calendar) -> None:
        types = cat.SERVICE_TYPES
        self.service = pa.array([s.name for s in types], pa.string())
        self.agency = pa.array([s.agency for s in types], pa.string())
        self.status = pa.array(list(cat.STATUSES), pa.string())
        self.channel = pa.array([c for c, _ in cat.CHANNELS], pa.string())
        self.priority = pa.array(list(cat.PRIORITIES), pa.string())
        descriptions: list[str] = []
        offsets: list[int] = []
        for s in types:
            offsets.append(len(descriptions))
            descriptions.extend(s.descriptions)
        self.desc_offset = np.array(offsets, dtype=np.int64)
        self.desc_count = np.array([len(s.descriptions) for s in types], dtype=np.int64)
        self.desc_blank = len(descriptions)
        self.desc_whitespace = len(descriptions) + 1
        self.desc_na = len(descriptions) + 1 + len(_WHITESPACE_VALUES)
        descriptions += ["", *_WHITESPACE_VALUES, "N/A"]
        self.description = pa.array(descriptions, pa.string())
        n = areas.count
        self.area_id = pa.array(areas.area_ids, pa.string())
        self.neighbourhood = pa.array(
            areas.names + [f" {x}" for x in areas.names] + [f"{x} " for x in areas.names],
            pa.string(),
        )
        self.n_areas = n
        rng = np.random.default_rng([0, 7])  # street names are part of the fixed catalogue
        stems = np.array(cat.STREET_STEMS)
        suffixes = np.array(cat.STREET_SUFFIXES)
        streets = [
            f"{stems[rng.integers(stems.size)]} {suffixes[rng.integers(suffixes.size)]}"
            for _ in range(n * cat.STREETS_PER_AREA)
        ]
        self.street = pa.array(streets, pa.string())
        # Datetime look-up tables: day strings cover the history with slack on
        # both sides (closed-before-opened rows reach a few days back).
        self.day0 = calendar.first_day - 10
        days = np.arange(self.day0, calendar.first_day + calendar.n_days + 2)
        day_ts = pa.array(days * _SECONDS_PER_DAY, pa.timestamp("s"))
        self.day_iso = pc.strftime(day_ts, format="%Y-%m-%d")
        tod = pa.array(np.arange(_SECONDS_PER_DAY, dtype=np.int64), pa.timestamp("s"))
        self.tod_iso = pc.strftime(tod, format="%H:%M:%S")

    def iso(self, ts: IntArray, valid: BoolArray | None = None) -> Any:
        """ISO-8601 strings for epoch seconds (null where not ``valid``)."""
        day = ts // _SECONDS_PER_DAY - self.day0
        sec = ts % _SECONDS_PER_DAY
        mask = None
        if valid is not None:
            mask = ~valid
            day = np.where(valid, day, 0)
            sec = np.where(valid, sec, 0)
        day_s = self.day_iso.take(pa.array(day, pa.int64(), mask=mask))
        tod_s = self.tod_iso.take(pa.array(sec, pa.int64(), mask=mask))
        return pc.binary_join_element_wise(day_s, tod_s, "T")


def _replace(values: Any, mask: BoolArray, replacements: Any) -> Any:
    """Replace ``values`` where ``mask`` (in order) with ``replacements``."""
    if not mask.any():
        return values
    return pc.replace_with_mask(values, pa.array(mask), replacements)


def _format_subset(ts: IntArray, valid: BoolArray, fmt: str) -> Any:
    arr = pa.array(np.where(valid, ts, 0), pa.timestamp("s"), mask=~valid)
    return pc.strftime(arr, format=fmt)


@dataclass
class _Accumulator:
    """Realised statistics of the clean rows, summed over chunks."""

    n_days: int
    n_types: int
    n_areas: int
    day_type: IntArray = field(init=False)
    area_counts: IntArray = field(init=False)
    channel_counts: IntArray = field(init=False)
    status_counts: IntArray = field(init=False)
    year_counts: dict[int, list[int]] = field(default_factory=dict)
    closed_area: list[npt.NDArray[np.int8]] = field(default_factory=list)
    closed_type: list[npt.NDArray[np.int8]] = field(default_factory=list)
    closed_secs: list[npt.NDArray[np.int32]] = field(default_factory=list)
    mess: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MESS_RATES, 0))
    written_status: IntArray = field(init=False)

    def __post_init__(self) -> None:
        self.day_type = np.zeros((self.n_days, self.n_types), dtype=np.int64)
        self.area_counts = np.zeros(self.n_areas, dtype=np.int64)
        self.channel_counts = np.zeros(len(cat.CHANNELS), dtype=np.int64)
        self.status_counts = np.zeros(len(cat.STATUSES), dtype=np.int64)
        self.written_status = np.zeros(len(cat.STATUSES), dtype=np.int64)


@dataclass(frozen=True)
class _Context:
    seed: int
    areas: Areas
    calendar: _Calendar
    strings: _Strings
    export_ts: int
    cum_area: FloatArray
    first_share: FloatArray
    triangles: FloatArray
    centroids: FloatArray


def _cumulative(p: FloatArray) -> FloatArray:
    c = np.cumsum(p / p.sum())
    c[-1] = 1.0
    return np.asarray(c, dtype=np.float64)


def _draw(cum: FloatArray, u: FloatArray) -> IntArray:
    return np.minimum(np.searchsorted(cum, u, side="right"), cum.size - 1).astype(np.int64)


def _chunk(
    ctx: _Context,
    index: int,
    days: tuple[int, int],
    day_counts: IntArray,
    id_offset: int,
    quotas: dict[str, int],
    acc: _Accumulator,
) -> Any:
    """Generate, record and mess up one chunk; return it as an Arrow table."""
    rng = np.random.default_rng([ctx.seed, 1, index])
    cal, areas, st = ctx.calendar, ctx.areas, ctx.strings
    types = cat.SERVICE_TYPES
    d0, d1 = days
    counts = day_counts[d0:d1]
    n = int(counts.sum())
    day = np.repeat(np.arange(d0, d1, dtype=np.int64), counts)

    # --- clean values -----------------------------------------------------
    after = day >= cal.change_index
    u = rng.random(n)
    stype = np.where(after, _draw(_cumulative(cal.p_after), u), _draw(_cumulative(cal.p_before), u))
    hour = _draw(_cumulative(np.array(cat.HOURLY_WEIGHTS)), rng.random(n))
    noise = stype == [s.name for s in types].index("Noise Complaint")
    hour[noise] = _draw(_cumulative(np.array(cat.NOISE_HOURLY_WEIGHTS)), rng.random(int(noise.sum())))
    ts = (cal.first_day + day) * _SECONDS_PER_DAY + hour * 3600 + rng.integers(0, 3600, n)
    order = np.argsort(ts, kind="stable")
    ts = ts[order]
    stype = stype[order]

    area = _draw(ctx.cum_area, rng.random(n))
    second = rng.random(n) >= ctx.first_share[area]
    r1 = rng.random(n)
    r2 = rng.random(n)
    flip = r1 + r2 > 1.0
    r1[flip] = 1.0 - r1[flip]
    r2[flip] = 1.0 - r2[flip]
    tri = ctx.triangles[area, second.astype(np.int64)]
    pts = tri[:, 0] + r1[:, None] * (tri[:, 1] - tri[:, 0]) + r2[:, None] * (tri[:, 2] - tri[:, 0])
    cen = ctx.centroids[area]
    pts = np.round(cen + SHRINK * (pts - cen), 6)
    lon = pts[:, 0].copy()
    lat = pts[:, 1].copy()

    log_median = np.log(np.array([s.median_days for s in types]) * _SECONDS_PER_DAY)
    sigma = np.array([s.sigma for s in types])
    log_dur = log_median[stype] + np.log(areas.closure_multiplier[area]) + sigma[stype] * rng.standard_normal(n)
    dur = np.maximum(60, np.rint(np.exp(np.minimum(log_dur, 25.0)))).astype(np.int64)
    closed_ts = ts + dur
    age_days = (ctx.export_ts - ts) / _SECONDS_PER_DAY
    p_stuck = cat.STUCK_BASE_PROBABILITY + cat.STUCK_RECENT_PROBABILITY * np.exp(-age_days / cat.STUCK_DECAY_DAYS)
    stuck = rng.random(n) < p_stuck
    is_closed = (closed_ts <= ctx.export_ts) & ~stuck
    open_status = np.where(rng.random(n) < cat.OPEN_STATUS_SHARE, 1, 2)
    status = np.where(is_closed, 0, open_status).astype(np.int64)
    touched = ts + np.floor(rng.random(n) * 0.5 * (ctx.export_ts - ts)).astype(np.int64)
    updated_ts = np.where(is_closed, closed_ts, touched)
    channel = _draw(_cumulative(np.array([s for _, s in cat.CHANNELS])), rng.random(n))
    up = rng.random(n)
    p_high = np.array([s.p_high for s in types])[stype]
    p_low = np.array([s.p_low for s in types])[stype]
    priority = np.where(up < p_high, 2, np.where(up < p_high + p_low, 0, 1)).astype(np.int64)
    desc = st.desc_offset[stype] + np.floor(rng.random(n) * st.desc_count[stype]).astype(np.int64)
    house = rng.integers(1, 1_400, n)
    street = area * cat.STREETS_PER_AREA + rng.integers(0, cat.STREETS_PER_AREA, n)
    neighbourhood = area.copy()

    # --- realised statistics (clean) --------------------------------------
    local = (day - d0) * acc.n_types + stype
    acc.day_type[d0:d1] += np.bincount(local, minlength=(d1 - d0) * acc.n_types).reshape(d1 - d0, acc.n_types)
    acc.area_counts += np.bincount(area, minlength=acc.n_areas)
    acc.channel_counts += np.bincount(channel, minlength=len(cat.CHANNELS))
    acc.status_counts += np.bincount(status, minlength=len(cat.STATUSES))
    year = cal.year[day]
    for y in np.unique(year).tolist():
        in_year = year == y
        entry = acc.year_counts.setdefault(int(y), [0, 0])
        entry[0] += int(in_year.sum())
        entry[1] += int((in_year & ~is_closed).sum())
    acc.closed_area.append(area[is_closed].astype(np.int8))
    acc.closed_type.append(stype[is_closed].astype(np.int8))
    acc.closed_secs.append(dur[is_closed].astype(np.int32))

    # --- messiness: disjoint row sets -------------------------------------
    taken = np.zeros(n, dtype=bool)

    def pick(k: int, eligible: BoolArray | None = None) -> IntArray:
        pool = ~taken if eligible is None else ~taken & eligible
        cand = np.flatnonzero(pool)
        chosen = np.sort(rng.choice(cand, min(k, cand.size), replace=False))
        taken[chosen] = True
        return chosen.astype(np.int64)

    def mask_of(idx: IntArray) -> BoolArray:
        m = np.zeros(n, dtype=bool)
        m[idx] = True
        return m

    dup_src = pick(quotas["exact_duplicate_rows"])
    if dup_src.size != quotas["exact_duplicate_rows"]:  # pragma: no cover
        raise RuntimeError("chunk too small for its exact-duplicate quota")
    k_id = min(quotas["duplicate_id_rows"], int((~taken).sum()) // 2)
    id_targets = pick(k_id)
    id_sources = rng.permutation(pick(k_id))
    before = pick(quotas["closed_before_opened"], is_closed)
    placeholder = pick(quotas["closed_placeholder_1900"], is_closed)
    zero = pick(quotas["coords_placeholder_zero"])
    missing = pick(quotas["coords_missing"])
    swapped = pick(quotas["coords_swapped"])
    d_blank = pick(quotas["description_blank"])
    d_ws = pick(quotas["description_whitespace"])
    d_na = pick(quotas["description_na"])
    a_blank = pick(quotas["address_blank"])
    a_ws = pick(quotas["address_whitespace"])
    a_na = pick(quotas["address_na"])
    padded = pick(quotas["neighbourhood_padded"])
    us = pick(quotas["date_format_us_12h"])
    minute = pick(quotas["date_format_iso_minute"])
    applied = {
        "exact_duplicate_rows": dup_src.size,
        "duplicate_id_rows": id_targets.size,
        "closed_before_opened": before.size,
        "closed_placeholder_1900": placeholder.size,
        "coords_placeholder_zero": zero.size,
        "coords_missing": missing.size,
        "coords_swapped": swapped.size,
        "description_blank": d_blank.size,
        "description_whitespace": d_ws.size,
        "description_na": d_na.size,
        "address_blank": a_blank.size,
        "address_whitespace": a_ws.size,
        "address_na": a_na.size,
        "neighbourhood_padded": padded.size,
        "date_format_us_12h": us.size,
        "date_format_iso_minute": minute.size,
    }
    for key, value in applied.items():
        acc.mess[key] += int(value)

    id_num = id_offset + np.arange(1, n + 1, dtype=np.int64)
    id_num[id_targets] = id_num[id_sources]
    closed_ts[before] = ts[before] - rng.integers(600, 3 * _SECONDS_PER_DAY, before.size)
    updated_ts[before] = closed_ts[before]
    lat[zero] = 0.0
    lon[zero] = 0.0
    lat[swapped], lon[swapped] = lon[swapped], lat[swapped].copy()
    coord_null = mask_of(missing)
    desc[d_blank] = st.desc_blank
    desc[d_ws] = st.desc_whitespace + rng.integers(0, len(_WHITESPACE_VALUES), d_ws.size)
    desc[d_na] = st.desc_na
    neighbourhood[padded] += st.n_areas * rng.integers(1, 3, padded.size)

    # --- exact duplicates: repeat source rows right after themselves ------
    e = np.sort(np.concatenate([np.arange(n, dtype=np.int64), dup_src]), kind="stable")
    acc.written_status += np.bincount(status[e], minlength=len(cat.STATUSES))

    def take(vocab: Any, idx: IntArray) -> Any:
        return vocab.take(pa.array(idx[e], pa.int64()))

    ids = pc.binary_join_element_wise("SR-", pc.utf8_lpad(pc.cast(pa.array(id_num[e]), pa.string()), 8, "0"), "")
    ts_e, upd_e, clo_e, closed_e = ts[e], updated_ts[e], closed_ts[e], is_closed[e]
    requested = st.iso(ts_e)
    updated = st.iso(upd_e)
    closed = st.iso(clo_e, closed_e)
    for rows_idx, fmt in ((us, US_FORMAT), (minute, MINUTE_FORMAT)):
        m = mask_of(rows_idx)[e]
        ones = np.ones(int(m.sum()), dtype=bool)
        requested = _replace(requested, m, _format_subset(ts_e[m], ones, fmt))
        updated = _replace(updated, m, _format_subset(upd_e[m], ones, fmt))
        closed = _replace(closed, m, _format_subset(clo_e[m], closed_e[m], fmt))
    m1900 = mask_of(placeholder)[e]
    closed = _replace(closed, m1900, pa.array([PLACEHOLDER_DATETIME] * int(m1900.sum())))

    address = pc.binary_join_element_wise(pc.cast(pa.array(house[e]), pa.string()), take(st.street, street), " ")
    a_mess = np.concatenate([a_blank, a_ws, a_na])
    a_vals = np.array(
        [""] * a_blank.size
        + [_WHITESPACE_VALUES[i] for i in rng.integers(0, len(_WHITESPACE_VALUES), a_ws.size)]
        + ["N/A"] * a_na.size,
        dtype=object,
    )
    a_order = np.argsort(a_mess, kind="stable")
    address = _replace(address, mask_of(a_mess)[e], pa.array(a_vals[a_order], pa.string()))

    lat_e = lat[e]
    lon_e = lon[e]
    null_e = coord_null[e]
    columns = [
        ids,
        requested,
        updated,
        closed,
        take(st.status, status),
        take(st.service, stype),
        take(st.agency, stype),
        take(st.channel, channel),
        take(st.priority, priority),
        take(st.description, desc),
        address,
        take(st.neighbourhood, neighbourhood),
        take(st.area_id, area),
        pa.array(lat_e, pa.float64(), mask=null_e),
        pa.array(lon_e, pa.float64(), mask=null_e),
    ]
    return pa.Table.from_arrays(columns, schema=_schema())


def _schema() -> Any:
    fields = [pa.field(c, pa.string()) for c in COLUMNS[:-2]]
    fields += [pa.field("latitude", pa.float64()), pa.field("longitude", pa.float64())]
    return pa.schema(fields)


def _median_days(secs: npt.NDArray[np.int32]) -> float:
    return float(np.median(secs)) / _SECONDS_PER_DAY if secs.size else float("nan")


def _r(x: float, digits: int = 4) -> float | None:
    """Round for JSON; NaN becomes ``None``."""
    return None if math.isnan(x) else round(float(x), digits)


def _truth(
    ctx: _Context,
    acc: _Accumulator,
    rows: int,
    n_base: int,
    quotas_total: dict[str, int],
    n_chunks: int,
) -> dict[str, Any]:
    cal, areas = ctx.calendar, ctx.areas
    types = cat.SERVICE_TYPES
    years_span = cal.n_days / _DAYS_PER_YEAR

    # Closure (clean closed requests).
    c_area = np.concatenate(acc.closed_area) if acc.closed_area else np.zeros(0, np.int8)
    c_type = np.concatenate(acc.closed_type) if acc.closed_type else np.zeros(0, np.int8)
    c_secs = np.concatenate(acc.closed_secs) if acc.closed_secs else np.zeros(0, np.int32)
    city_median = _median_days(c_secs)
    by_area = np.argsort(c_area, kind="stable")
    area_split = np.split(c_secs[by_area], np.cumsum(np.bincount(c_area, minlength=areas.count))[:-1])
    by_type = np.argsort(c_type, kind="stable")
    type_split = np.split(c_secs[by_type], np.cumsum(np.bincount(c_type, minlength=len(types)))[:-1])

    # Volume per area and hot spots.
    total_pop = int(areas.population.sum())
    city_rate = n_base / total_pop / years_span * 1000 if total_pop else float("nan")
    hot = np.isin(np.array(areas.area_ids), areas.hot_spot_ids)
    other_pop = int(areas.population[~hot].sum())
    other_rate = acc.area_counts[~hot].sum() / other_pop / years_span * 1000 if other_pop else float("nan")
    area_rate = acc.area_counts / areas.population / years_span * 1000
    area_rows: list[dict[str, Any]] = []
    for i in range(areas.count):
        rate = float(area_rate[i])
        med = _median_days(area_split[i])
        area_rows.append(
            {
                "area_id": areas.area_ids[i],
                "name": areas.names[i],
                "population": int(areas.population[i]),
                "planted_rate_multiplier": float(areas.rate_multiplier[i]),
                "planted_closure_multiplier": float(areas.closure_multiplier[i]),
                "hot_spot": areas.area_ids[i] in areas.hot_spot_ids,
                "closure_group": "slow"
                if areas.area_ids[i] in areas.slow_ids
                else "fast"
                if areas.area_ids[i] in areas.fast_ids
                else "normal",
                "requests": int(acc.area_counts[i]),
                "requests_per_1000_residents_per_year": _r(rate, 3),
                "per_capita_ratio_to_city": _r(rate / city_rate),
                "closed_requests": int(area_split[i].size),
                "median_days_to_close": _r(med),
                "median_days_ratio_to_city": _r(med / city_median),
            }
        )

    # Seasonality: OLS of daily counts / non-seasonal shape on cos & sin.
    daily = acc.day_type.sum(axis=1).astype(np.float64)
    t = np.arange(cal.n_days, dtype=np.float64)
    theta = 2 * np.pi * t / _DAYS_PER_YEAR
    x = np.column_stack([np.ones_like(t), np.cos(theta), np.sin(theta)])
    coef, *_ = np.linalg.lstsq(x, daily / cal.shape_without_season, rcond=None)
    amp = float(np.hypot(coef[1], coef[2]) / coef[0]) if coef[0] else float("nan")
    peak = (math.atan2(coef[2], coef[1]) * _DAYS_PER_YEAR / (2 * np.pi)) % _DAYS_PER_YEAR + 1

    # Level change: type counts relative to the level-free expected shape.
    k = _level_type_index()
    shape = cal.shape_without_level
    ci = cal.change_index
    n_type = acc.day_type[:, k].astype(np.float64)
    pre = n_type[:ci].sum() / shape[:ci].sum() if ci > 0 else float("nan")
    post = n_type[ci:].sum() / shape[ci:].sum() if ci < cal.n_days else float("nan")
    realised_factor = post / pre if pre else float("nan")

    mess_expected = {key: quotas_total[key] for key in MESS_RATES}
    n_us = acc.mess["date_format_us_12h"]
    n_min = acc.mess["date_format_iso_minute"]
    start = cat.START_DATE.isoformat()
    end = cat.END_DATE.isoformat()
    return {
        "schema_version": 1,
        "generator": "ridp.demo",
        "seed": ctx.seed,
        "city": {
            "name": cat.CITY_NAME,
            "bbox": list(cat.BBOX),
            "grid": {"rows": cat.GRID_ROWS, "columns": cat.GRID_COLUMNS},
            "areas": areas.count,
            "total_population": total_pop,
        },
        "files": {
            "requests_csv": REQUESTS_FILE,
            "neighbourhoods_geojson": NEIGHBOURHOODS_FILE,
            "population_csv": POPULATION_FILE,
            "truth_json": TRUTH_FILE,
        },
        "columns": list(COLUMNS),
        "date_range": {
            "start": start,
            "end": end,
            "days": cal.n_days,
            "export_datetime": (cat.END_DATE + timedelta(days=1)).isoformat() + "T00:00:00",
        },
        "rows": {
            "total": rows,
            "clean": n_base,
            "exact_duplicate_rows": acc.mess["exact_duplicate_rows"],
            "chunks": n_chunks,
            "status_as_written": {s: int(c) for s, c in zip(cat.STATUSES, acc.written_status, strict=True)},
        },
        "volume": {
            "weekday_factors_mon_first": list(cat.WEEKDAY_FACTORS),
            "annual_growth": cat.ANNUAL_GROWTH,
            "hourly_weights": list(cat.HOURLY_WEIGHTS),
            "noise_hourly_weights": list(cat.NOISE_HOURLY_WEIGHTS),
        },
        "seasonality": {
            "planted_amplitude": cat.SEASONAL_AMPLITUDE,
            "planted_peak_day_of_year": cat.SEASONAL_PEAK_DAY_OF_YEAR,
            "realised_amplitude": _r(amp),
            "realised_peak_day_of_year": _r(float(peak), 1),
            "model": "daily volume proportional to 1 + A*cos(2*pi*(t - (peak_day_of_year-1))"
            "/365.25), t = days since start",
            "realised_method": "OLS of clean daily counts divided by weekday*trend*level "
            "factors on [1, cos(2*pi*t/365.25), sin(2*pi*t/365.25)]; A = hypot(b, c)/a",
        },
        "level_change": {
            "service_name": cat.LEVEL_CHANGE_SERVICE,
            "date": cat.LEVEL_CHANGE_DATE.isoformat(),
            "planted_factor": cat.LEVEL_CHANGE_FACTOR,
            "realised_factor": _r(realised_factor),
            "realised_daily_mean_before": _r(float(n_type[:ci].mean()) if ci else float("nan"), 3),
            "realised_daily_mean_after": _r(float(n_type[ci:].mean()) if ci < cal.n_days else float("nan"), 3),
            "realised_method": "(count after / expected shape after) / (count before / "
            "expected shape before), shape = weekday*trend*season",
        },
        "hot_spots": {
            "area_ids": list(areas.hot_spot_ids),
            "planted_rate_multiplier": cat.HOT_SPOT_RATE_MULTIPLIER,
            "other_areas_rate_multiplier_range": list(cat.BASE_RATE_MULTIPLIER_RANGE),
            "realised_per_capita_ratio": {
                r["area_id"]: r["per_capita_ratio_to_city"] for r in area_rows if r["hot_spot"]
            },
            "realised_ratio_to_other_areas": {
                areas.area_ids[i]: _r(area_rate[i] / other_rate) for i in np.flatnonzero(hot)
            },
            "city_requests_per_1000_residents_per_year": _r(city_rate, 3),
            "other_areas_requests_per_1000_residents_per_year": _r(other_rate, 3),
        },
        "closure": {
            "model": "days_to_close ~ lognormal(log(type median) + log(area multiplier), "
            "type sigma); open if the close time is after the export or stuck",
            "stuck_probability": {
                "base": cat.STUCK_BASE_PROBABILITY,
                "recent": cat.STUCK_RECENT_PROBABILITY,
                "decay_days": cat.STUCK_DECAY_DAYS,
                "formula": "base + recent * exp(-age_days_at_export / decay_days)",
            },
            "city_median_days_to_close": _r(city_median),
            "slow_area_ids": list(areas.slow_ids),
            "fast_area_ids": list(areas.fast_ids),
            "closed_requests": int(c_secs.size),
            "open_requests": int(n_base - c_secs.size),
            "open_share_by_request_year": {
                str(y): _r(v[1] / v[0]) if v[0] else None for y, v in sorted(acc.year_counts.items())
            },
        },
        "service_types": [
            {
                "service_name": s.name,
                "agency": s.agency,
                "planted_share_before_level_change": s.share,
                "planted_median_days": s.median_days,
                "planted_sigma": s.sigma,
                "requests": int(acc.day_type[:, j].sum()),
                "realised_median_days_to_close": _r(_median_days(type_split[j])),
            }
            for j, s in enumerate(types)
        ],
        "channels": {
            name: {"planted_share": share, "requests": int(acc.channel_counts[j])}
            for j, (name, share) in enumerate(cat.CHANNELS)
        },
        "areas": area_rows,
        "messiness": {
            "counts": {key: acc.mess[key] for key in MESS_RATES},
            "expected_counts": mess_expected,
            "rates": dict(MESS_RATES),
            "definitions": dict(MESS_DEFINITIONS),
            "date_formats": {
                "iso": rows - n_us - n_min,
                "us_12h": n_us,
                "iso_minute": n_min,
            },
            "placeholder_datetime": PLACEHOLDER_DATETIME,
            "text_placeholder": "N/A",
        },
    }


def _write_population(path: Path, areas: Areas) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(POPULATION_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(areas.population_table)


def _write_city(
    directory: Path,
    rows: int,
    seed: int,
    *,
    progress: Callable[[int, int], None] | None,
    chunk_rows: int,
) -> DemoCity:
    """Implement :func:`ridp.demo.generate_city` with a chosen chunk size.

    Parameters
    ----------
    directory, rows, seed, progress
        As for :func:`ridp.demo.generate_city`.
    chunk_rows : int
        Target clean rows per chunk. The output depends on it, so the public
        function fixes it at ``CHUNK_ROWS``. Tests use small chunks to cover
        chunk boundaries cheaply.

    Returns
    -------
    DemoCity
        Paths of the files written.
    """
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be a positive integer, got {rows!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"output path exists and is not a directory: {directory}")
    directory.mkdir(parents=True, exist_ok=True)

    areas = build_areas(seed)
    calendar = _calendar()
    first_share, triangles, centroids = triangle_tables(areas.quads)
    ctx = _Context(
        seed=seed,
        areas=areas,
        calendar=calendar,
        strings=_Strings(areas, calendar),
        export_ts=(_day_number(cat.END_DATE) + 1) * _SECONDS_PER_DAY,
        cum_area=_cumulative(areas.population * areas.rate_multiplier),
        first_share=first_share,
        triangles=triangles,
        centroids=centroids,
    )

    quotas_total = {key: math.floor(rows * rate) for key, rate in MESS_RATES.items()}
    n_dup = quotas_total["exact_duplicate_rows"]
    n_base = rows - n_dup
    rng_days = np.random.default_rng([seed, 2])
    intensity = calendar.intensity
    day_counts = rng_days.multinomial(n_base, intensity / intensity.sum()).astype(np.int64)
    ranges = _chunk_day_ranges(day_counts, chunk_rows)
    chunk_sizes = np.array([int(day_counts[a:b].sum()) for a, b in ranges], dtype=np.int64)
    quotas = {key: _largest_remainder(q, chunk_sizes) for key, q in quotas_total.items()}

    acc = _Accumulator(n_days=calendar.n_days, n_types=len(cat.SERVICE_TYPES), n_areas=areas.count)
    requests_path = directory / REQUESTS_FILE
    partial = directory / (REQUESTS_FILE + ".partial")
    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    done = 0
    id_offset = 0
    with pacsv.CSVWriter(str(partial), _schema(), write_options=options) as writer:
        for i, days in enumerate(ranges):
            chunk_quotas = {key: int(q[i]) for key, q in quotas.items()}
            table = _chunk(ctx, i, days, day_counts, id_offset, chunk_quotas, acc)
            writer.write_table(table)
            id_offset += int(chunk_sizes[i])
            done += table.num_rows
            del table
            if progress is not None:
                progress(done, rows)
    if done != rows:  # pragma: no cover - guarded by construction
        raise RuntimeError(f"wrote {done} rows, expected {rows}")
    partial.replace(requests_path)

    geo_path = directory / NEIGHBOURHOODS_FILE
    geo_path.write_text(geojson_text(areas), encoding="utf-8")
    pop_path = directory / POPULATION_FILE
    _write_population(pop_path, areas)
    truth = _truth(ctx, acc, rows, n_base, quotas_total, len(ranges))
    truth_path = directory / TRUTH_FILE
    truth_path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return DemoCity(
        directory=directory,
        requests_csv=requests_path,
        neighbourhoods_geojson=geo_path,
        population_csv=pop_path,
        truth_json=truth_path,
        rows=rows,
        seed=seed,
    )
