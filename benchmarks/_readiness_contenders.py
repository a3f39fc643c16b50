"""The readiness benchmark's contenders: ``python _readiness_contenders.py NAME PARQUET CITY_JSON``.

Each contender runs in a fresh process of its own (``readiness.py`` starts it
under ``_harness.measure``), reads the same Parquet file cold and prints one
JSON line last: ``rows`` (what it says it read), ``import_s`` (its imports),
``work_s`` (the work alone) and a few facts about what it computed, so a run
that silently did less shows. Only the standard library is imported at the top:
``ridp`` runs with the project's interpreter, ``polars``, ``ge`` and ``ydata``
with ``.venv-bench``'s (which has no ridp), and each imports its own library
inside its function, after the clock starts.

CITY_JSON is a JSON object with what the demo planted: ``folder`` (the city's
folder, the one ridp's engine may read), ``bbox`` and ``export_datetime``.

Contenders
----------
``floor``
    DuckDB, one ``SELECT`` over the file: ``count(*)`` and ``count``/``min``/
    ``max`` of every column. Every value of every column is read and compared
    once: close to the least work any profile can do.
``summarize``
    DuckDB's ``SUMMARIZE SELECT * FROM read_parquet(...)``: per column min, max,
    approximate distinct count, average, std, approximate quartiles, count and
    null percentage.
``polars``
    ``pl.read_parquet`` then ``describe()``, ``null_count()`` and
    ``n_unique()`` of every column (exact distinct counts).
``ridp``
    ``ridp.readiness.assess`` on an Ibis DuckDB table over the file
    (``ridp.engine.connect("duckdb://:memory:")`` + ``load_parquet``) with the
    demo's canonical mapping and the default checks, then ``to_dict()`` and
    ``json.dumps`` so that everything is computed.
``ge``
    Great Expectations 1.x, an ephemeral context, the file read with pandas,
    the three datetime columns parsed (ISO 8601, then the two other formats
    the demo writes), and a suite of 24 expectations like ridp's default
    checks (listed in :func:`ge_suite`), validated with the BASIC result format.
``ydata``
    ydata-profiling's ``ProfileReport(df, minimal=True)`` on the file read with
    pandas (datetimes parsed as for ``ge``), then ``get_description()``, which
    computes the whole profile (``to_json()`` would add 2-3x more time writing
    out every value's count, which is not profiling work).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DATE_COLUMNS = ("requested_datetime", "updated_datetime", "closed_datetime")
# The formats the demo writes (ridp.demo): ISO 8601 for most rows, two others planted.
DATE_FORMATS = ("ISO 8601", "%m/%d/%Y %I:%M:%S %p", "%Y-%m-%d %H:%M")
# The demo's canonical mapping, as `ridp data add` proposes it for the demo's columns.
FIELDS = {
    "id": "service_request_id",
    "opened": "requested_datetime",
    "closed": "closed_datetime",
    "status": "status",
    "type": "service_name",
    "agency": "agency",
    "channel": "channel",
    "latitude": "latitude",
    "longitude": "longitude",
    "address": "address",
}
AREAS = ("neighbourhood",)
TIMEZONE = "America/New_York"
STATUSES = ("Closed", "Open", "In Progress")
CHANNELS = ("Phone", "App", "Web", "Walk-in", "Social")
PRIORITIES = ("Low", "Medium", "High")
PLACEHOLDERS = ("", "N/A", "NA", "NULL", "None", "NaN", "-", "#N/A")


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def run_floor(parquet: Path, city: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    imported = time.perf_counter()
    row = duckdb.sql(
        f"SELECT count(*), count(COLUMNS(*)), min(COLUMNS(*)), max(COLUMNS(*)) FROM read_parquet({_sql_path(parquet)})"
    ).fetchone()
    assert row is not None
    return {"imported": imported, "rows": int(row[0]), "values": len(row) - 1}


def run_summarize(parquet: Path, city: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    imported = time.perf_counter()
    summary = duckdb.sql(f"SUMMARIZE SELECT * FROM read_parquet({_sql_path(parquet)})")
    names = summary.columns
    rows = summary.fetchall()
    counts = {int(r[names.index("count")]) for r in rows}
    return {"imported": imported, "rows": max(counts), "columns": len(rows)}


def run_polars(parquet: Path, city: dict[str, Any]) -> dict[str, Any]:
    import polars as pl

    imported = time.perf_counter()
    df = pl.read_parquet(parquet)
    described = df.describe()
    nulls = df.null_count()
    distinct = df.select(pl.all().n_unique())
    return {
        "imported": imported,
        "rows": df.height,
        "columns": df.width,
        "describe_rows": described.height,
        "nulls": int(sum(nulls.row(0))),
        "distinct_ids": int(distinct["service_request_id"][0]),
    }


def run_ridp(parquet: Path, city: dict[str, Any]) -> dict[str, Any]:
    from datetime import datetime

    from ridp.engine import connect, load_parquet
    from ridp.readiness import CanonicalMapping, assess

    imported = time.perf_counter()
    con = connect("duckdb://:memory:", allowed_directories=[Path(city["folder"])])
    table = load_parquet(con, parquet, "service_requests")
    mapping = CanonicalMapping(
        fields=FIELDS,
        date_formats={"opened": DATE_FORMATS, "closed": DATE_FORMATS},
        areas=AREAS,
        timezone=TIMEZONE,
    )
    # Judged as of the export, so timeliness does not drift with the day the benchmark runs.
    today = datetime.fromisoformat(city["export_datetime"]).date()
    result = assess(table, mapping=mapping, checks=None, today=today)
    payload = json.dumps(result.to_dict())
    return {
        "imported": imported,
        "rows": result.rows,
        "columns": len(result.columns),
        "checks": len(result.checks),
        "failing_checks": sum(1 for c in result.checks if c.failing),
        "verdict": result.verdict.level,
        "dimensions": {d.name: d.score for d in result.dimensions},
        "exact_duplicate_rows": result.table.exact_duplicate_rows,
        "duplicate_id_rows": result.table.duplicate_id_rows,
        "json_bytes": len(payload),
    }


def read_pandas(parquet: Path) -> Any:
    """The file as a pandas DataFrame, the datetime columns parsed as an analyst would before checking them."""
    import pandas as pd

    df = pd.read_parquet(parquet)
    for column in DATE_COLUMNS:
        text = df[column]
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        for fmt in DATE_FORMATS[1:]:
            missing = parsed.isna() & text.notna()
            if missing.any():
                parsed = parsed.fillna(pd.to_datetime(text.where(missing), format=fmt, errors="coerce"))
        df[column] = parsed
    return df


def ge_suite(city: dict[str, Any], columns: list[str]) -> list[Any]:
    """24 expectations covering what ridp's default checks look at on the demo's columns."""
    from datetime import datetime

    import great_expectations.expectations as gxe

    min_lon, min_lat, max_lon, max_lat = city["bbox"]
    # datetime objects: GE compares a date string with the column's timestamps and fails on it.
    earliest, export = datetime(1901, 1, 1), datetime.fromisoformat(city["export_datetime"])
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=True),
        *(
            gxe.ExpectColumnValuesToNotBeNull(column=c)
            for c in ("service_request_id", "requested_datetime", "status", "service_name", "latitude", "longitude")
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="closed_datetime", row_condition='status == "Closed"', condition_parser="pandas"
        ),
        gxe.ExpectColumnValuesToBeUnique(column="service_request_id"),
        gxe.ExpectColumnValuesToMatchRegex(column="service_request_id", regex=r"^SR-\d{8}$"),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=columns),  # exact duplicate rows
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=list(STATUSES)),
        gxe.ExpectColumnValuesToBeInSet(column="channel", value_set=list(CHANNELS)),
        gxe.ExpectColumnValuesToBeInSet(column="priority", value_set=list(PRIORITIES)),
        gxe.ExpectColumnValuesToBeBetween(column="latitude", min_value=min_lat, max_value=max_lat),
        gxe.ExpectColumnValuesToBeBetween(column="longitude", min_value=min_lon, max_value=max_lon),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="closed_datetime",
            column_B="requested_datetime",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        gxe.ExpectColumnValuesToBeBetween(column="requested_datetime", min_value=earliest, max_value=export),
        gxe.ExpectColumnValuesToBeBetween(column="closed_datetime", min_value=earliest, max_value=export),
        gxe.ExpectColumnValuesToNotBeInSet(column="description", value_set=list(PLACEHOLDERS)),
        gxe.ExpectColumnValuesToNotBeInSet(column="address", value_set=list(PLACEHOLDERS)),
        gxe.ExpectColumnValuesToNotMatchRegex(column="neighbourhood", regex=r"^\s|\s$"),
        gxe.ExpectColumnUniqueValueCountToBeBetween(column="service_name", min_value=1, max_value=1000),
    ]


def _raised(info: Any) -> str | None:
    """The first exception message in a GE result's ``exception_info`` (flat, or keyed by metric), or None."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    return next((m for v in info.values() if (m := _raised(v))), None)


def run_ge(parquet: Path, city: dict[str, Any]) -> dict[str, Any]:
    import great_expectations as gx

    imported = time.perf_counter()
    df = read_pandas(parquet)
    read = time.perf_counter()
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("bench")
        .add_dataframe_asset("service_requests")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": df})
    )
    suite = gx.ExpectationSuite(name="readiness")
    expectations = ge_suite(city, list(df.columns))
    for expectation in expectations:
        suite.add_expectation(expectation)
    suite = context.suites.add(suite)
    result = batch.validate(suite)
    raised = [r for r in result.results if _raised(r.exception_info)]
    if raised:
        # An expectation that raised was not evaluated: the run would be timing less work than it claims.
        first = raised[0]
        raise RuntimeError(
            f"{len(raised)} expectation(s) raised, first {first.expectation_config.type}: {_raised(first.exception_info)}"
        )
    return {
        "imported": imported,
        "rows": len(df),
        "read_s": read - imported,
        "expectations": len(result.results),
        "failed": sum(1 for r in result.results if not r.success),
    }


def run_ydata(parquet: Path, city: dict[str, Any]) -> dict[str, Any]:
    from ydata_profiling import ProfileReport

    imported = time.perf_counter()
    df = read_pandas(parquet)
    read = time.perf_counter()
    report = ProfileReport(df, minimal=True, progress_bar=False, title="readiness benchmark")
    # The description is everything ydata-profiling computes. Its to_json() would add 2-3x more time spent
    # serialising every value's count of every column (megabytes for an id column): not profiling work.
    description = report.get_description()
    return {
        "imported": imported,
        "rows": len(df),
        "read_s": read - imported,
        "variables": len(description.variables),
    }


RUNNERS: dict[str, Callable[[Path, dict[str, Any]], dict[str, Any]]] = {
    "floor": run_floor,
    "summarize": run_summarize,
    "polars": run_polars,
    "ridp": run_ridp,
    "ge": run_ge,
    "ydata": run_ydata,
}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in RUNNERS:
        print(f"usage: _readiness_contenders.py {{{','.join(RUNNERS)}}} PARQUET CITY_JSON", file=sys.stderr)
        return 2
    start = time.perf_counter()
    facts = RUNNERS[argv[0]](Path(argv[1]), json.loads(argv[2]))
    done = time.perf_counter()
    imported = facts.pop("imported")
    print(json.dumps({"import_s": imported - start, "work_s": done - imported, **facts}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
