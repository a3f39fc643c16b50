"""The analysis benchmark's contenders: ``python _analysis_contenders.py NAME PARQUET``.

Every contender computes the same **service-level cube** from the demo city's
requests (Parquet, dates as text in the three formats the demo writes), in a
fresh process of its own (``analysis.py`` starts it under ``_harness.measure``):

* the groups: ``area_id`` x ``service_name`` x the month the request was opened;
* ``requests``: how many were opened in the group;
* ``median_days``, ``p90_days``: the exact median and 90th percentile (linear
  interpolation between order statistics, as DuckDB's ``quantile_cont``) of days
  to close, ``(closed - opened)`` in days as a float, over closed requests only;
* ``share``: closed within the type's target (:data:`TARGETS`) / requests whose
  outcome is decided: closed within or after the target, or still open and
  already older than it. An open request younger than its target is left out.

The rules are ridp's (``ridp.analysis.service_levels``), so that every cube can
be checked against the others: a date is parsed with the first of the demo's
formats that fits (unparsed: null); a request without an opened date, or closed
before it was opened (the demo plants closings in 1900), is left out; open
requests are aged up to the analysis date, the latest opened or closed time in
the data.

The last line printed is JSON: ``rows`` (read from the file), ``import_s``,
``work_s`` (the work alone, from after the imports to the cube in hand), and
``cube``: a fingerprint of the result (:func:`fingerprint`), taken after the
clock stops. Only the standard library is imported at the top: ``ridp`` runs
with the project's interpreter, ``polars`` with ``.venv-bench``'s (which has no
ridp), and each contender imports its own library inside its function.

Contenders
----------
``ridp``
    ``ridp.analysis.service_levels(table, mapping, by=("area_id", "type"),
    period="month", censoring="closed-only", targets=TargetTable(TARGETS), intervals=False)``
    on ``ridp.engine.connect("duckdb://:memory:")`` + ``load_parquet``, then
    ``to_pandas()``. It computes more than the cube (see :func:`run_ridp`).
``sql``
    One hand-written DuckDB query (``quantile_cont``: exact).
``polars``
    ``pl.read_parquet`` of the four columns, ``str.strptime`` per format, and
    ``group_by`` with ``median`` and ``quantile(0.9, "linear")``.
``pandas``
    ``pd.read_parquet`` of the four columns, ``to_datetime`` per format (as the
    readiness benchmark's references parse), and ``groupby`` with ``median``
    and ``quantile(0.9)`` (linear by default).
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from _readiness_contenders import DATE_FORMATS

#: The columns the cube needs: the only ones the hand-written contenders read.
COLUMNS = ("area_id", "service_name", "requested_datetime", "closed_datetime")
#: Days to close per request type: 3, 5, 7 or 10, roughly after how long each of the demo's types takes.
TARGETS: dict[str, float] = {
    "Missed Trash Pickup": 3,
    "Pothole Repair": 5,
    "Streetlight Out": 7,
    "Graffiti Removal": 10,
    "Illegal Dumping": 5,
    "Noise Complaint": 3,
    "Rodent Activity": 10,
    "Abandoned Vehicle": 10,
    "Sidewalk Repair": 10,
    "Tree Maintenance": 10,
    "Street Cleaning": 3,
    "Parking Enforcement": 3,
    "Traffic Signal Repair": 3,
    "Bulk Item Pickup": 7,
    "Housing Complaint": 10,
}
#: How many groups' medians the fingerprint keeps: the largest groups.
PROBES = 5
#: The demo's two formats besides ISO 8601, for the contenders that take formats.
OTHER_FORMATS = DATE_FORMATS[1:]
#: ISO 8601 as the demo writes it (polars takes formats, not "ISO 8601").
ISO_FORMATS = ("%Y-%m-%dT%H:%M:%S",)


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def run_ridp(parquet: Path) -> dict[str, Any]:
    """ridp's service levels, asked for just the cube's breakdown and figures.

    ``censoring="closed-only"`` turns Kaplan-Meier off, but ridp still computes
    what its result always holds: closed and still-open counts, means, the open
    backlog's age, resident-days waiting, a reopened count (after a look for
    reopen statuses), within/past-target counts, the types without a target, the
    rows left out with examples, and the median's order-statistic interval (a
    second grouped pass over the closed requests, with window functions).
    """
    from ridp.analysis import TargetTable, service_levels
    from ridp.engine import connect, load_parquet
    from ridp.readiness import CanonicalMapping

    imported = time.perf_counter()
    con = connect("duckdb://:memory:", allowed_directories=[parquet.parent])
    table = load_parquet(con, parquet, "service_requests")
    mapping = CanonicalMapping(
        fields={
            "id": "service_request_id",
            "type": "service_name",
            "opened": "requested_datetime",
            "closed": "closed_datetime",
            "status": "status",
        },
        date_formats={"opened": DATE_FORMATS, "closed": DATE_FORMATS},
        areas=("area_id",),
    )
    result = service_levels(
        table,
        mapping,
        by=("area_id", "type"),
        period="month",
        censoring="closed-only",
        targets=TargetTable(TARGETS),
        intervals=False,  # the cube asks for no interval of the median
    )
    frame = result.to_pandas()
    cube = frame[["area_id", "type", "period", "requests", "median_days_closed", "p90_days_closed"]]
    share = frame["share_within_target"]
    return {
        "imported": imported,
        "rows": result.rows_read,
        "cube": [(*row, s) for row, s in zip(cube.itertuples(index=False), share, strict=True)],
        "columns": list(frame.columns),
        "left_out": {x.reason: x.count for x in result.left_out},
    }


def run_sql(parquet: Path) -> dict[str, Any]:
    """One query. DuckDB materialises ``parsed`` (used twice), so every date is parsed once."""
    import duckdb

    imported = time.perf_counter()
    con = duckdb.connect()
    rows = _sql_rows(con, parquet)
    cube = con.sql(_cube_sql(parquet)).fetchall()
    return {"imported": imported, "rows": rows, "cube": cube}


def _sql_rows(con: Any, parquet: Path) -> int:
    """The file's row count, from its metadata (no scan)."""
    row = con.sql(f"SELECT count(*) FROM read_parquet({_sql_path(parquet)})").fetchone()
    return int(row[0])


def _cube_sql(parquet: Path) -> str:
    def parsed(column: str) -> str:
        others = ", ".join(f"'{fmt}'" for fmt in OTHER_FORMATS)
        return f"coalesce(TRY_CAST({column} AS TIMESTAMP), try_strptime({column}, [{others}]))"

    target = " ".join(f"WHEN '{name}' THEN {days}" for name, days in TARGETS.items())
    return f"""
        WITH parsed AS (
            SELECT area_id, service_name,
                {parsed("requested_datetime")} AS opened, {parsed("closed_datetime")} AS closed
            FROM read_parquet({_sql_path(parquet)})
        ), as_of AS (
            SELECT greatest(max(opened), max(closed)) AS t FROM parsed
        ), usable AS (
            SELECT area_id, service_name, date_trunc('month', opened)::DATE AS month,
                closed IS NOT NULL AS is_closed,
                (epoch(coalesce(closed, as_of.t)) - epoch(opened)) / 86400.0 AS days,
                CASE service_name {target} END AS target
            FROM parsed, as_of
            WHERE opened IS NOT NULL AND (closed IS NULL OR closed >= opened) AND opened <= as_of.t
        )
        SELECT area_id, service_name, month, count(*) AS requests,
            quantile_cont(days, 0.5) FILTER (WHERE is_closed) AS median_days,
            quantile_cont(days, 0.9) FILTER (WHERE is_closed) AS p90_days,
            count(*) FILTER (WHERE is_closed AND days <= target)
                / nullif(count(*) FILTER (WHERE (is_closed AND days <= target) OR days > target), 0) AS share
        FROM usable
        GROUP BY area_id, service_name, month
    """


def run_polars(parquet: Path) -> dict[str, Any]:
    import polars as pl

    imported = time.perf_counter()
    df = pl.read_parquet(parquet, columns=list(COLUMNS))
    rows = df.height

    def parsed(column: str) -> Any:
        text = pl.col(column)
        return pl.coalesce(
            [text.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in (*ISO_FORMATS, *OTHER_FORMATS)]
        )

    df = df.select("area_id", "service_name", opened=parsed("requested_datetime"), closed=parsed("closed_datetime"))
    as_of = max(v for v in (df["opened"].max(), df["closed"].max()) if v is not None)
    df = df.filter(
        pl.col("opened").is_not_null()
        & (pl.col("closed").is_null() | (pl.col("closed") >= pl.col("opened")))
        & (pl.col("opened") <= as_of)
    )
    days = (pl.col("closed").fill_null(pl.lit(as_of)) - pl.col("opened")).dt.total_microseconds() / 86_400e6
    target = pl.col("service_name").replace_strict(TARGETS, default=None, return_dtype=pl.Float64)
    df = df.with_columns(
        month=pl.col("opened").dt.truncate("1mo").dt.date(),
        is_closed=pl.col("closed").is_not_null(),
        days=days,
        target=target,
    )
    within = pl.col("is_closed") & (pl.col("days") <= pl.col("target"))
    decided = within | (pl.col("days") > pl.col("target"))
    closed_days = pl.col("days").filter(pl.col("is_closed"))
    cube = df.group_by("area_id", "service_name", "month").agg(
        requests=pl.len(),
        median_days=closed_days.median(),
        p90_days=closed_days.quantile(0.9, "linear"),
        share=within.sum() / decided.sum(),
    )
    return {"imported": imported, "rows": rows, "cube": cube.rows()}


def run_pandas(parquet: Path) -> dict[str, Any]:
    import pandas as pd

    imported = time.perf_counter()
    df = pd.read_parquet(parquet, columns=list(COLUMNS))
    rows = len(df)
    opened, closed = _pandas_dates(df["requested_datetime"]), _pandas_dates(df["closed_datetime"])
    as_of = max(v for v in (opened.max(), closed.max()) if not pd.isna(v))
    usable = opened.notna() & ~(closed < opened) & (opened <= as_of)
    opened, closed = opened[usable], closed[usable]
    is_closed = closed.notna()
    days = (closed.fillna(as_of) - opened).dt.total_seconds() / 86400.0
    target = df["service_name"][usable].map(TARGETS).astype("float64")
    within = is_closed & (days <= target)
    frame = pd.DataFrame(
        {
            "area_id": df["area_id"][usable],
            "service_name": df["service_name"][usable],
            "month": opened.to_numpy().astype("datetime64[M]"),
            "closed_days": days.where(is_closed),
            "within": within,
            "decided": within | (days > target),
        }
    )
    groups = frame.groupby(["area_id", "service_name", "month"], sort=False, dropna=False)
    cube = groups.agg(
        requests=("closed_days", "size"),
        median_days=("closed_days", "median"),
        within=("within", "sum"),
        decided=("decided", "sum"),
    )
    cube["p90_days"] = groups["closed_days"].quantile(0.9)
    cube["share"] = cube["within"] / cube["decided"].where(cube["decided"] > 0)
    cube = cube.reset_index()[["area_id", "service_name", "month", "requests", "median_days", "p90_days", "share"]]
    return {"imported": imported, "rows": rows, "cube": list(cube.itertuples(index=False, name=None))}


def _pandas_dates(text: Any) -> Any:
    """Parsed as the readiness benchmark's pandas references parse: ISO 8601, then each other format in turn."""
    import pandas as pd

    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    for fmt in OTHER_FORMATS:
        missing = parsed.isna() & text.notna()
        if missing.any():
            parsed = parsed.fillna(pd.to_datetime(text.where(missing), format=fmt, errors="coerce"))
    return parsed


# --- the fingerprint ------------------------------------------------------------------------------------------


def fingerprint(cube: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """What ``analysis.py`` compares between contenders, small enough for one JSON line.

    The group count and the total of ``requests``; the sums of the medians, p90s
    and shares over every group (empty ones skipped) with how many there are, so
    one differing value anywhere shows; and the medians of the :data:`PROBES`
    largest groups (most requests, ties by key), keyed ``area|type|YYYY-MM``.
    """
    rows = [(_key(r), int(r[3]), (_number(r[4]), _number(r[5]), _number(r[6]))) for r in cube]
    largest = sorted(rows, key=lambda r: (-r[1], r[0]))[:PROBES]
    found: dict[str, Any] = {"groups": len(rows), "requests": sum(r[1] for r in rows)}
    for i, name in enumerate(("median", "p90", "share")):
        values = [v for r in rows if (v := r[2][i]) is not None]
        found[f"{name}_sum"] = math.fsum(values)
        found[f"{name}_groups"] = len(values)
    found["medians"] = {key: figures[0] for key, _, figures in largest}
    return found


def _key(row: Sequence[Any]) -> str:
    """``area|type|YYYY-MM``: every contender's month (date, Timestamp, datetime64) reads the same."""
    area, kind, month = ("" if v is None or str(v) in ("nan", "<NA>", "NaT") else str(v) for v in row[:3])
    return f"{area}|{kind}|{month[:7]}"


def _number(value: Any) -> float | None:
    """A float, or None for an empty figure (None, NaN or pandas' NA)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


RUNNERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "ridp": run_ridp,
    "sql": run_sql,
    "polars": run_polars,
    "pandas": run_pandas,
}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in RUNNERS:
        print(f"usage: _analysis_contenders.py {{{','.join(RUNNERS)}}} PARQUET", file=sys.stderr)
        return 2
    start = time.perf_counter()
    facts = RUNNERS[argv[0]](Path(argv[1]))
    done = time.perf_counter()
    imported = facts.pop("imported")
    cube = fingerprint(facts.pop("cube"))
    print(json.dumps({"import_s": imported - start, "work_s": done - imported, **facts, "cube": cube}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
