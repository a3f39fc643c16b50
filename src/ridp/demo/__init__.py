"""Deterministic synthetic 311 data for a fictional city, with planted truths.

:func:`generate_city` writes four files for the fictional city of *Port Alder*
(40 neighbourhoods around lon -71.2..-70.9, lat 42.2..42.45). The same
``(rows, seed)`` always gives byte-identical files. The seed alone fixes
the geography and the planted per-area parameters, so cities of different
sizes with the same seed share their map. Generation is chunked and
vectorised: 10 million rows (2.3 GB of CSV) take about 25 s and under 1 GB of memory.

Files
-----
``service_requests.csv``
    A 311 export of exactly ``rows`` rows (plus a header), sorted by clean
    request time, all text values quoted, empty fields for nulls. Columns:
    ``service_request_id`` (``SR-00000001``...), ``requested_datetime``,
    ``updated_datetime``, ``closed_datetime`` (empty while open), ``status``
    (``Closed``, ``Open``, ``In Progress``), ``service_name`` (15 types,
    pothole to housing complaints), ``agency``, ``channel`` (``Phone``,
    ``App``, ``Web``, ``Walk-in``, ``Social``), ``priority`` (``Low``,
    ``Medium``, ``High``), ``description``, ``address``, ``neighbourhood``
    (area name), ``area_id``, ``latitude``, ``longitude``. History runs
    2019-01-01..2024-12-31 and is exported as of 2025-01-01T00:00:00.
``neighbourhoods.geojson``
    FeatureCollection of 40 convex quadrilaterals tiling the city, from a
    jittered 8x5 grid (neighbours share their vertices, so nothing overlaps
    and nothing is left out). Each feature has the properties ``area_id``
    (``N01``..``N40``, row-major from the south-west corner) and ``name``.
``population.csv``
    ACS-style estimates with 90% margins of error per area: ``population``,
    ``households``, ``median_household_income``, ``pct_nonwhite``,
    ``pct_poverty`` and a ``*_moe`` column for each.
``truth.json``
    What was planted and what came out of it (described below).

What is planted
---------------
* **Volume.** Each day's expected volume is weekday factor x 4 % yearly
  growth x season x level change. The clean rows are spread over the days
  with one multinomial draw. Within a day, request times follow an hourly
  profile (noise complaints peak at night). Areas get requests in
  proportion to ``population x rate multiplier``.
* **Seasonality.** Volume is multiplied by
  ``1 + 0.25 * cos(2*pi*(t - 195)/365.25)``, where ``t`` counts days since
  2019-01-01, so the peak is around 15 July (day of year 196).
* **Level change.** From 2022-07-01 on, ``Missed Trash Pickup`` requests
  are 1.6 times as frequent, and the other types are unchanged.
* **Hot spots.** Three adjacent areas (a cell and its east and north
  neighbours) have a per-capita rate multiplier of 2.0. Other areas get
  multipliers drawn from 0.85..1.15.
* **Closure times.** Days to close are lognormal, with a median and sigma
  per type, times a per-area multiplier: four *slow* areas (1.8..2.2,
  drawn among the ten poorest areas), three *fast* areas (0.6..0.72,
  among the ten richest) and 0.92..1.08 elsewhere. A request is still open
  if its close time falls after the export, or if it is stuck in the
  backlog, which is likelier for recent requests. For open requests,
  ``closed_datetime`` is empty and ``status`` is ``Open`` or ``In Progress``.
* **Locations.** Each point is sampled uniformly inside its area's
  quadrilateral, pulled 0.5 % towards the centroid, and rounded to 6
  decimals, so it lies strictly inside its own polygon.
* **Messy values.** For each kind, exactly ``floor(rate * rows)`` values
  are planted (fewer only when too few closed requests exist for the
  closed-only kinds). A row carries at most one kind, and exact duplicates
  only copy rows that are otherwise clean, so every count below can be
  recounted exactly from the CSV:

  - ``exact_duplicate_rows``: a row repeated right below itself;
  - ``duplicate_id_rows``: a row that reuses another row's id;
  - ``closed_before_opened``: closed 10 min to 3 days before the request;
  - ``closed_placeholder_1900``: ``closed_datetime`` is
    ``1900-01-01T00:00:00``;
  - ``coords_placeholder_zero``: (0, 0); ``coords_missing``: both empty;
    ``coords_swapped``: latitude and longitude exchanged;
  - ``description_blank``, ``description_whitespace``, ``description_na``,
    and the same three kinds for ``address``: ``''``, spaces only, and
    ``'N/A'``;
  - ``neighbourhood_padded``: the name with a leading or trailing space;
  - ``date_format_us_12h``: the row's datetimes read
    ``04/05/2023 01:22:00 PM``; ``date_format_iso_minute``: they read
    ``2023-04-05 13:22``. All other rows use ``2023-04-05T13:22:00``.

``truth.json``
--------------
A JSON object with these keys (realised values come from the clean rows,
before any messiness, so exact duplicates are excluded):

``schema_version``, ``generator``, ``seed``
    Identification (``schema_version`` is 1).
``city``
    ``name``, ``bbox`` [min_lon, min_lat, max_lon, max_lat], ``grid``,
    ``areas`` (count), ``total_population``.
``files``, ``columns``
    File names and the CSV column order.
``date_range``
    ``start``, ``end`` (inclusive ISO dates), ``days``, ``export_datetime``.
``rows``
    ``total`` (= ``rows``), ``clean`` (total minus exact duplicates),
    ``exact_duplicate_rows``, ``chunks``, and ``status_as_written``
    (status counts over all written rows).
``volume``
    Weekday factors (Monday first), ``annual_growth`` and the hourly profiles.
``seasonality``
    ``planted_amplitude``, ``planted_peak_day_of_year``,
    ``realised_amplitude``, ``realised_peak_day_of_year``, and text
    describing the model and the realised method (least squares on daily
    counts).
``level_change``
    ``service_name``, ``date`` (first day at the new level),
    ``planted_factor``, ``realised_factor`` (season- and trend-adjusted
    ratio of the rate after to the rate before) and the realised daily means.
``hot_spots``
    ``area_ids``, ``planted_rate_multiplier``, ``realised_per_capita_ratio``
    (to the whole city) and ``realised_ratio_to_other_areas`` (to all the
    other areas pooled) per hot-spot area, plus the city rates.
``closure``
    ``city_median_days_to_close``, ``slow_area_ids``, ``fast_area_ids``,
    ``closed_requests``, ``open_requests``, ``open_share_by_request_year``
    and the stuck-backlog parameters.
``service_types``
    For each type: planted share, median and sigma, realised ``requests``
    and ``realised_median_days_to_close``.
``channels``
    Planted share and realised request count per channel.
``areas``
    One object per area: ``area_id``, ``name``, ``population``,
    ``planted_rate_multiplier``, ``planted_closure_multiplier``,
    ``hot_spot``, ``closure_group`` (slow/fast/normal), ``requests``,
    ``requests_per_1000_residents_per_year``, ``per_capita_ratio_to_city``,
    ``closed_requests``, ``median_days_to_close`` and
    ``median_days_ratio_to_city`` (the area's median days-to-close among
    closed requests divided by the city's).
``messiness``
    ``counts`` (written count per kind above), ``expected_counts``
    (``floor(rate * rows)``), ``rates``, ``definitions`` (how to recount
    each kind), ``date_formats`` (``iso``, ``us_12h`` and ``iso_minute`` row
    counts, judged by ``requested_datetime``), ``placeholder_datetime`` and
    ``text_placeholder``.

Examples
--------
>>> import json, tempfile
>>> from pathlib import Path
>>> from ridp.demo import generate_city
>>> with tempfile.TemporaryDirectory() as tmp:
...     city = generate_city(Path(tmp), rows=2_000, seed=7)
...     truth = json.loads(city.truth_json.read_text())
...     (city.rows, truth["rows"]["total"], truth["level_change"]["service_name"])
(2000, 2000, 'Missed Trash Pickup')
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ridp.demo._generate import CHUNK_ROWS, DemoCity, _write_city

__all__ = ["DemoCity", "generate_city"]


def generate_city(
    directory: Path,
    rows: int = 100_000,
    seed: int = 2026,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> DemoCity:
    """Write a synthetic city's 311 requests, areas, population and truth.

    Parameters
    ----------
    directory : Path
        Output folder. It is created if it does not exist, and the four files
        in it are overwritten.
    rows : int, default 100_000
        Exact number of rows in ``service_requests.csv``, including the
        planted duplicate rows. Must be at least 1.
    seed : int, default 2026
        Non-negative seed. The same ``(rows, seed)`` gives byte-identical
        files, and the same seed gives the same map and areas.
    progress : callable, optional
        Called as ``progress(done_rows, total_rows)`` after each chunk of
        about 500,000 rows is written. The last call has
        ``done_rows == total_rows``.

    Returns
    -------
    DemoCity
        Paths of the files written, plus ``rows`` and ``seed``.

    Raises
    ------
    ValueError
        If ``rows < 1``, ``seed < 0`` or ``directory`` is an existing
        non-directory.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from ridp.demo import generate_city
    >>> seen = []
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     city = generate_city(Path(tmp) / "city", rows=500, seed=1,
    ...                          progress=lambda done, total: seen.append(done))
    ...     header = city.requests_csv.read_text().splitlines()[0]
    >>> seen[-1], header.split(",")[0]
    (500, '"service_request_id"')
    """
    return _write_city(directory, rows, seed, progress=progress, chunk_rows=CHUNK_ROWS)
