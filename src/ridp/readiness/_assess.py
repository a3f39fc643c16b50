"""Profile, checks and scores of one table, in a few passes on the engine.

Pass 1 is one aggregate over every column (nulls, blanks, placeholders, padding,
distinct counts (exact for keys, estimated for the rest), ranges, moments, quantiles, parsed dates and the
coordinates' spread). Pass 2 is one aggregate of every row-level check and the
coordinate classes. Duplicates, months and top values are one small query each;
value patterns and histograms are read from a bounded sample.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from ridp.readiness._canonical import CanonicalMapping, Needs, parse_datetime
from ridp.readiness.checks import Check, CheckSuite, default_checks, load_checks, rule_expr
from ridp.readiness.result import (
    MASK,
    CheckResult,
    ColumnProfile,
    CoordinateCounts,
    Readiness,
    TableProfile,
)
from ridp.readiness.scores import score_dimensions, verdict_for

__all__ = ["PLACEHOLDER_TEXT", "assess"]

Progress = Callable[[float, str], None]

#: Text that stands for "no value" (compared trimmed and case-insensitively).
PLACEHOLDER_TEXT = ("N/A", "NA", "NULL", "NONE", "NAN", "-", "#N/A", "N.A.", "(BLANK)", "?")
#: Dates before this are placeholders (1900-01-01, 0001-01-01...).
PLACEHOLDER_BEFORE = datetime(1901, 1, 1)
PLACEHOLDER_MAX_LENGTH = max(len(t) for t in PLACEHOLDER_TEXT) + 4  # room for spaces around one
QUANTILES = (0.05, 0.5, 0.95)
SAMPLE_ROWS = 20_000
TOP_VALUES = 10
TOP_MAX_DISTINCT_SHARE = 0.5  # no top values for columns that are mostly unique ...
TOP_MAX_DISTINCT = 200_000  # ... or have more values than a person reads
EXACT_DISTINCT_ROWS = 2_000_000  # up to this many rows every distinct count is exact


def _engine(table: ir.Table) -> str:
    try:
        return str(table.get_backend().name)
    except Exception:
        return "duckdb"


def _scalar(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def assess(
    table: ir.Table,
    *,
    mapping: CanonicalMapping | None = None,
    checks: CheckSuite | str | Path | None = None,
    needs: Needs | None = None,
    boundary: tuple[float, float, float, float] | None = None,
    masked: Sequence[str] = (),
    today: date | None = None,
    others: Mapping[str, ir.Table] | None = None,
    progress: Progress | None = None,
) -> Readiness:
    """Assess whether ``table`` is ready for the project's metrics.

    Parameters
    ----------
    table
        Any Ibis table (DuckDB, PostgreSQL or Spark).
    mapping
        Which columns hold the canonical fields; without it, only the profile and
        the declared checks are judged.
    checks
        A :class:`CheckSuite`, YAML text or a YAML file; ``None`` makes the
        default set from the mapping.
    needs
        What the project's metrics need; the verdict is judged against it.
    boundary
        The city's bounding box ``(min_lon, min_lat, max_lon, max_lat)``;
        inferred from the points themselves when not given.
    masked
        Personal columns whose values must not appear in samples or top values.
    today
        The day freshness is judged on (default: today).
    others
        Other datasets a referential check names, by name, on the same engine.
    progress
        Called as ``progress(fraction, stage)``.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"id": [1, 2, 2], "opened": ["2024-01-02", "2024-01-03", ""]}))
    >>> r = assess(t, mapping=CanonicalMapping({"id": "id", "opened": "opened"}), today=date(2024, 2, 1))
    >>> r.table.exact_duplicate_rows, r.check("unique: id").failing, r.column("opened").blanks
    (0, 1, 1)
    """
    started = time.perf_counter()
    report = progress or (lambda fraction, stage: None)
    today = today or date.today()
    engine = _engine(table)
    names = list(table.columns)
    mapping = mapping or CanonicalMapping()
    missing_mapped = {f: c for f, c in mapping.fields.items() if c not in names}
    if missing_mapped:
        f, c = next(iter(missing_mapped.items()))
        raise ValueError(
            f"the mapping puts {f} in column {c!r}, which this table does not have; its columns are: {', '.join(names)}"
        )
    for name in masked:
        if name not in names:
            raise ValueError(f"masked column {name!r} is not in the table; its columns are: {', '.join(names)}")
    if isinstance(checks, (str, Path)):
        suite = load_checks(checks, columns=names)
    elif checks is None:
        suite = default_checks(mapping, names)
    else:
        suite = checks
    needs = needs or Needs(fields=tuple(f for f in ("opened",) if f in mapping.fields) or ("opened",))
    canonical_of = {c: f for f, c in mapping.fields.items()}
    source = table
    parsed_dates = {f"__ridp_{f}": parse_datetime(table[c], mapping.date_formats.get(f, ()), engine=engine, timezone=mapping.timezone)
              for f, c in mapping.fields.items() if f in ("opened", "closed")}  # fmt: skip
    if parsed_dates:
        # Each date is parsed once per row, in a projection every later expression reads.
        table = table.mutate(**parsed_dates)
    dates = {name.removeprefix("__ridp_"): table[name] for name in parsed_dates}
    lat_col, lon_col = mapping.column("latitude"), mapping.column("longitude")
    has_coords = bool(lat_col and lon_col and table[lat_col].type().is_numeric() and table[lon_col].type().is_numeric())

    # -- pass 1: every column at once ------------------------------------------------
    report(0.05, "profiling columns")
    metrics: dict[str, ir.Scalar] = {"__rows": table.count()}
    exact_distinct = {c.columns[0] for c in suite.checks if c.kind == "unique"} | (
        {mapping.fields["id"]} if "id" in mapping.fields else set()
    )
    if int(source.count().to_pyarrow().as_py()) <= EXACT_DISTINCT_ROWS:
        exact_distinct = set(names)  # small enough for every count to be exact at little cost
    zero_pair = (table[lat_col] == 0) & (table[lon_col] == 0) if has_coords else None
    for i, name in enumerate(names):
        col = table[name]
        kind = col.type()
        p = f"c{i}_"
        metrics[p + "present"] = col.count()  # cheaper than summing IS NULL
        # Exact counts of distinct values cost more than the rest of the scan on large tables (a hash
        # table of every value): exact for keys, estimated (HyperLogLog) for the rest; the top-values
        # pass makes the estimate exact for every column with few enough values to list.
        metrics[p + "distinct"] = col.nunique() if name in exact_distinct else col.approx_nunique()
        if kind.is_string():
            spaced, blank, placeholder = _text_flags(col)
            metrics[p + "blanks"] = blank.sum()
            metrics[p + "ws"] = ibis.cases((spaced, col.strip() == ""), else_=False).fill_null(False).sum()
            metrics[p + "ph"] = placeholder.sum()
            metrics[p + "padded"] = ibis.cases((spaced, col.strip() != ""), else_=False).sum()
            metrics[p + "min"] = col.min()
            metrics[p + "max"] = col.max()
        elif kind.is_numeric() and not kind.is_boolean():
            metrics[p + "min"] = col.min()
            metrics[p + "max"] = col.max()
            metrics[p + "mean"] = col.cast("float64").mean()
            metrics[p + "std"] = col.cast("float64").std()
            for j, q in enumerate(QUANTILES):
                metrics[f"{p}q{j}"] = col.quantile(q)
            if zero_pair is not None and name in (lat_col, lon_col):
                metrics[p + "ph"] = zero_pair.sum()
        elif kind.is_temporal():
            metrics[p + "min"] = col.min()
            metrics[p + "max"] = col.max()
    for f, parsed in dates.items():
        src = table[mapping.fields[f]]
        metrics[f"d_{f}_min"] = parsed.min(where=parsed >= PLACEHOLDER_BEFORE)
        metrics[f"d_{f}_max"] = parsed.max(where=parsed >= PLACEHOLDER_BEFORE)
        metrics[f"d_{f}_ph"] = (parsed < PLACEHOLDER_BEFORE).sum()
        metrics[f"d_{f}_timed"] = (
            ((parsed.hour() != 0) | (parsed.minute() != 0) | (parsed.second() != 0)).fill_null(False).sum()
        )
        metrics[f"d_{f}_parsed"] = parsed.notnull().sum()
        if src.type().is_string():
            _, blank, placeholder = _text_flags(src)
            metrics[f"d_{f}_unparsed"] = (parsed.isnull() & src.notnull() & ~blank & ~placeholder).sum()
    if has_coords and boundary is None:
        lat, lon = table[lat_col], table[lon_col]
        plausible = lat.notnull() & lon.notnull() & ~((lat == 0) & (lon == 0)) & (lat.abs() <= 90) & (lon.abs() <= 180)
        for j, q in enumerate((0.01, 0.99)):
            metrics[f"lat_q{j}"] = _q(lat, q, plausible)
            metrics[f"lon_q{j}"] = _q(lon, q, plausible)
    row_checks: dict[str, ir.BooleanValue] = {}
    errors: dict[str, str] = {}
    for k, check in enumerate(suite.checks):
        try:
            if check.kind == "freshness":
                metrics[f"k{k}"] = _stale(check, table, mapping, dates, engine, today)
            elif (expr := _failing(check, table, mapping, dates, engine, today)) is not None:
                row_checks[check.name] = expr
                metrics[f"k{k}"] = expr.fill_null(False).sum()
        except _CheckTypeError as exc:
            errors[check.name] = str(exc)
    if "closed" in dates:
        status_col = mapping.column("status")
        if status_col and table[status_col].type().is_string():
            status = table[status_col]
            closed_status = ibis.cases(
                (
                    status.length() <= 12,
                    status.strip().lower().isin(("closed", "close", "completed", "complete", "resolved")),
                ),
                else_=False,
            )
            metrics["closed_status"] = closed_status.sum()
            metrics["closed_status_no_date"] = (closed_status & dates["closed"].isnull()).sum()
    first = table.aggregate(**metrics).to_pyarrow().to_pylist()[0]
    rows = int(first["__rows"] or 0)

    # -- the boundary and pass 2: every row-level check at once ---------------------
    report(0.35, "running checks")
    box = boundary
    box_source = "given" if boundary else ""
    if has_coords and box is None and first.get("lat_q0") is not None:
        lo_lat, hi_lat, lo_lon, hi_lon = (float(first[k]) for k in ("lat_q0", "lat_q1", "lon_q0", "lon_q1"))
        pad_lat, pad_lon = max(0.02, (hi_lat - lo_lat) * 0.1), max(0.02, (hi_lon - lo_lon) * 0.1)
        box = (lo_lon - pad_lon, lo_lat - pad_lat, hi_lon + pad_lon, hi_lat + pad_lat)
        box_source = "inferred from the points (1st to 99th percentile, padded by 10 %)"
    second: dict[str, ir.Scalar] = {"__n": source.count()}
    if has_coords and box is not None:
        lat, lon = source[lat_col], source[lon_col]
        min_lon, min_lat, max_lon, max_lat = box
        missing = lat.isnull() | lon.isnull()
        zero = ~missing & (lat == 0) & (lon == 0)
        inside = ~missing & ~zero & lat.between(min_lat, max_lat) & lon.between(min_lon, max_lon)
        swapped = ~missing & ~zero & ~inside & lon.between(min_lat, max_lat) & lat.between(min_lon, max_lon)
        second["xy_missing"] = missing.sum()
        second["xy_zero"] = zero.sum()
        second["xy_inside"] = inside.sum()
        second["xy_swapped"] = swapped.sum()
    second_row = source.aggregate(**second).to_pyarrow().to_pylist()[0] if len(second) > 1 else {}

    # -- duplicates ---------------------------------------------------------------------
    report(0.55, "duplicates")
    id_col = mapping.column("id")
    if id_col:
        # An exact copy of a row reuses its id, so only rows whose id repeats (or is empty)
        # can be duplicates: find those ids first and compare whole rows among them only.
        key = source[id_col]
        repeated = source.filter(key.notnull()).group_by(id_col).aggregate(__n=lambda t: t.count())
        repeated = repeated.filter(repeated["__n"] > 1).select(id_col)
        suspects = source.filter(key.isnull() | key.isin(repeated[id_col]))
    else:
        suspects = source
    distinct_rows = suspects.distinct()
    dup_metrics: dict[str, ir.Scalar] = {"n": distinct_rows.count()}
    if id_col:
        dup_metrics["ids"] = distinct_rows[id_col].notnull().sum()
        dup_metrics["distinct_ids"] = distinct_rows[id_col].nunique()
    dups = distinct_rows.aggregate(**dup_metrics).to_pyarrow().to_pylist()[0]
    suspect_rows = int(suspects.count().to_pyarrow().as_py()) if id_col else rows
    exact_dups = suspect_rows - int(dups["n"] or 0)
    dup_ids = int(dups["ids"] or 0) - int(dups["distinct_ids"] or 0) if id_col else None

    # -- months -------------------------------------------------------------------------
    report(0.65, "time coverage")
    months: tuple[tuple[str, int], ...] = ()
    empty: tuple[str, ...] = ()
    if "opened" in dates and first.get("d_opened_min") is not None:
        opened = dates["opened"]
        by_month = (
            table.select(m=opened.truncate("M"))
            .filter(lambda t: t.m >= PLACEHOLDER_BEFORE)
            .group_by("m")
            .aggregate(n=lambda t: t.count())
            .to_pyarrow()
            .to_pylist()
        )
        counts = {r["m"].strftime("%Y-%m"): int(r["n"]) for r in by_month if r["m"] is not None}
        months = tuple((m, counts.get(m, 0)) for m in _month_range(first["d_opened_min"], first["d_opened_max"]))
        empty = tuple(m for m, n in months if n == 0)

    # -- top values, patterns, histograms ------------------------------------------------
    report(0.75, "values")
    masked_set = set(masked)
    top: dict[str, tuple[tuple[Any, int], ...]] = {}
    exact: dict[str, int] = {name: int(first[f"c{names.index(name)}_distinct"] or 0) for name in exact_distinct}
    wanted = [
        name
        for i, name in enumerate(names)
        if 0
        < int(first[f"c{i}_distinct"] or 0)
        <= max(TOP_VALUES, min(rows * TOP_MAX_DISTINCT_SHARE, TOP_MAX_DISTINCT))
        and (name not in masked_set or name not in exact_distinct)
    ]
    if wanted:
        # One query for every column's top values (a union of small group-bys), values as text.
        parts = []
        for name in wanted:
            grouped = source.filter(source[name].notnull()).group_by(name).aggregate(__n=lambda t: t.count())
            counted = (
                grouped.mutate(__d=grouped["__n"].count().over(ibis.window()))
                .order_by([ibis.desc("__n"), ibis.asc(name)])
                .limit(TOP_VALUES)
            )
            parts.append(
                counted.select(
                    __column=ibis.literal(name), __value=counted[name].cast("string"), __n=counted["__n"],
                    __d=counted["__d"],
                )
            )  # fmt: skip
        union = parts[0] if len(parts) == 1 else ibis.union(*parts)
        kinds = {name: source[name].type() for name in wanted}
        by_column: dict[str, list[tuple[Any, int]]] = {}
        for r in union.to_pyarrow().to_pylist():
            by_column.setdefault(r["__column"], []).append((_typed(r["__value"], kinds[r["__column"]]), int(r["__n"])))
            exact[r["__column"]] = int(r["__d"])
        top = {
            name: tuple(sorted(v, key=lambda p: (-p[1], str(p[0]))))
            for name, v in by_column.items()
            if name not in masked_set
        }
    sample = source.limit(SAMPLE_ROWS).to_pandas()
    patterns: dict[str, tuple[tuple[str, int], ...]] = {}
    histograms: dict[str, tuple[tuple[Any, int], ...]] = {}
    for name in names:
        values = sample[name]
        kind = table[name].type()
        if kind.is_string() and name not in masked_set:
            shapes = values.dropna().astype(str).str.slice(0, 40).map(_shape)
            patterns[name] = tuple((str(s), int(n)) for s, n in shapes.value_counts().head(TOP_VALUES).items())
        elif kind.is_numeric() and not kind.is_boolean() and name not in masked_set:
            histograms[name] = _histogram(values)
    for f, c in mapping.fields.items():
        if f in dates and c not in masked_set:
            histograms[c] = tuple((m, n) for m, n in months) if f == "opened" else histograms.get(c, ())

    # -- assemble ------------------------------------------------------------------------
    report(0.85, "checks' samples")
    profiles = []
    for i, name in enumerate(names):
        p = f"c{i}_"
        held = canonical_of.get(name)
        date_ph = int(first.get(f"d_{held}_ph") or 0) if held in dates else 0
        profiles.append(
            ColumnProfile(
                name=name, dtype=str(table[name].type()), rows=rows, nulls=rows - int(first[p + "present"] or 0),
                blanks=int(first.get(p + "blanks") or 0), whitespace=int(first.get(p + "ws") or 0), placeholders=int(first.get(p + "ph") or 0) + date_ph,
                padded=int(first.get(p + "padded") or 0), distinct=exact.get(name, int(first[p + "distinct"] or 0)), distinct_exact=name in exact,
                min=None if name in masked_set else _scalar(first.get(p + "min")),
                max=None if name in masked_set else _scalar(first.get(p + "max")),
                mean=_scalar(first.get(p + "mean")), std=_scalar(first.get(p + "std")),
                quantiles=tuple((q, _scalar(first.get(f"{p}q{j}"))) for j, q in enumerate(QUANTILES)
                                if f"{p}q{j}" in first and name not in masked_set),
                top=top.get(name, ()), patterns=patterns.get(name, ()), patterns_from=min(rows, SAMPLE_ROWS),
                histogram=histograms.get(name, ()), canonical=held, masked=name in masked_set,
            )
        )  # fmt: skip
    results = []
    for k, check in enumerate(suite.checks):
        if check.name in errors:
            results.append(CheckResult(check.name, check.kind, check.columns, 0, rows, check.severity,
                                       check.description, error=errors[check.name]))  # fmt: skip
            continue
        results.append(_result(check, k, table, first, first, row_checks, rows, names, masked_set, others))
    coordinates = None
    if has_coords and box is not None:
        inside, zero = int(second_row["xy_inside"]), int(second_row["xy_zero"])
        missing_xy, swapped = int(second_row["xy_missing"]), int(second_row["xy_swapped"])
        coordinates = CoordinateCounts(inside, rows - inside - zero - missing_xy - swapped, swapped, zero, missing_xy,
                                       tuple(float(b) for b in box), box_source)  # type: ignore[arg-type]  # fmt: skip
    points: tuple[tuple[float, float, str], ...] = ()
    if coordinates is not None and box is not None and not ({lat_col, lon_col} & masked_set):
        points = _point_sample(sample, str(lat_col), str(lon_col), box)
    table_profile = TableProfile(
        rows=rows, columns=len(names), exact_duplicate_rows=exact_dups, duplicate_id_rows=dup_ids,
        first=_scalar(first.get("d_opened_min")), last=_scalar(first.get("d_opened_max")), months=months,
        empty_months=empty,
        unparsed_dates={f: int(first.get(f"d_{f}_unparsed") or 0) for f in dates if f"d_{f}_unparsed" in first},
        date_formats={f: tuple(mapping.date_formats.get(f, ())) for f in dates},
        coordinates=coordinates,
        points=points,
        no_time={f: int(first[f"d_{f}_parsed"] or 0) > 0 and int(first[f"d_{f}_timed"] or 0) == 0 for f in dates},
    )  # fmt: skip
    extra = {k: first[k] for k in ("closed_status", "closed_status_no_date") if k in first}
    report(0.95, "scores")
    dimensions = score_dimensions(profiles, table_profile, results, mapping, needs, today, extra)
    verdict = verdict_for(profiles, table_profile, results, dimensions, mapping, needs, extra)
    report(1.0, "done")
    return Readiness(
        rows=rows, columns=tuple(profiles), table=table_profile, checks=tuple(results), dimensions=dimensions,
        verdict=verdict, needs=needs.to_dict(), mapping=mapping.to_dict(), checks_yaml=suite.to_yaml(),
        assessed_on=today, engine=engine, seconds=time.perf_counter() - started,
    )  # fmt: skip


def _text_flags(col: ir.StringValue) -> tuple[ir.BooleanValue, ir.BooleanValue, ir.BooleanValue]:
    """(padded with a space, blank, placeholder) for each value of a text column.

    Trimming every value costs more than the rest of the profile together, so the
    cheap prefix, suffix and length tests pick the values worth trimming; CASE is
    evaluated lazily by the engines, unlike AND.
    """
    spaced = col.startswith(" ") | col.endswith(" ") | col.startswith("\t") | col.endswith("\t")
    blank = ibis.cases((spaced, col.strip() == ""), else_=col == "")
    placeholder = ibis.cases(
        (col.length() <= PLACEHOLDER_MAX_LENGTH, col.strip().upper().isin(PLACEHOLDER_TEXT)), else_=False
    )
    return spaced, blank.fill_null(False), placeholder.fill_null(False)


def _typed(text: str | None, kind: Any) -> Any:
    """A top value, read back from the text it was sent as, in its column's type."""
    if text is None:
        return None
    if kind.is_integer():
        return int(text)
    if kind.is_floating() or kind.is_decimal():
        return float(text)
    if kind.is_boolean():
        return text.lower() in ("true", "t", "1")
    return text


def _q(column: ir.NumericColumn, q: float, where: ir.BooleanValue) -> ir.Scalar:
    return column.quantile(q, where=where)


class _CheckTypeError(Exception):
    pass


def _as_date(value: Any) -> datetime | None:
    if isinstance(value, (datetime, date)):
        return datetime(value.year, value.month, value.day) if not isinstance(value, datetime) else value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _dated(
    table: ir.Table, column: str, mapping: CanonicalMapping, dates: Mapping[str, ir.Value], engine: str
) -> ir.TimestampValue:
    for f, c in mapping.fields.items():
        if c == column and f in dates:
            return dates[f]
    col = table[column]
    if not (col.type().is_temporal() or col.type().is_string()):
        raise _CheckTypeError(f"column {column!r} holds {col.type()}, not dates")
    return parse_datetime(col, (), engine=engine)


def _failing(check: Check, table: ir.Table, mapping: CanonicalMapping, dates: Mapping[str, ir.Value], engine: str,
             today: date) -> ir.BooleanValue | None:  # fmt: skip
    """A row-level 'this row fails' expression, or None for checks counted otherwise (freshness: :func:`_stale`)."""
    c = check.columns[0] if check.columns else ""
    if check.kind == "not_null":
        col = table[c]
        bad = col.isnull()
        if col.type().is_string():
            _, blank, placeholder = _text_flags(col)
            bad = bad | blank | placeholder
        return bad
    if check.kind in ("unique", "referential"):
        return None
    if check.kind == "in_set":
        col, values = table[c], list(check.params["values"])
        if col.type().is_numeric() and any(isinstance(v, str) for v in values):
            raise _CheckTypeError(f"column {c!r} holds numbers ({col.type()}) but the allowed values are text")
        if col.type().is_string():
            values = [str(v) for v in values]
        return col.notnull() & ~col.isin(values)
    if check.kind == "range":
        col = table[c]
        lo, hi = check.params.get("min"), check.params.get("max")
        bounds = [b for b in (lo, hi) if b is not None]
        if col.type().is_numeric():
            if any(isinstance(b, str) for b in bounds):
                raise _CheckTypeError(f"column {c!r} holds numbers ({col.type()}) but a bound is text")
            value: ir.Value = col
        else:
            if any(not isinstance(b, (str, date)) for b in bounds):
                raise _CheckTypeError(
                    f"column {c!r} holds {col.type()}, not numbers: give dates as bounds, or check another column"
                )
            value = _dated(table, c, mapping, dates, engine)
            parsed = [_as_date(b) for b in bounds]
            if any(p is None for p in parsed):
                raise _CheckTypeError(f"the bounds of the range on {c!r} are not dates (YYYY-MM-DD)")
            lo = _as_date(lo) if lo is not None else None
            hi = _as_date(hi) if hi is not None else None
        bad = ibis.literal(False)
        if lo is not None:
            bad = bad | (value < lo)
        if hi is not None:
            bad = bad | (value > hi)
        return value.notnull() & bad
    if check.kind == "pattern":
        col = table[c]
        text = col if col.type().is_string() else col.cast("string")
        return text.notnull() & (text.length() > 0) & ~text.re_search(check.params["regex"])
    if check.kind == "date_order":
        a = _dated(table, check.columns[0], mapping, dates, engine)
        b = _dated(table, check.columns[1], mapping, dates, engine)
        return (a >= PLACEHOLDER_BEFORE) & (b >= PLACEHOLDER_BEFORE) & (b < a)
    if check.kind == "expression":
        try:
            rule = rule_expr(check.params["rule"], table)
            return rule.isnull() | ~rule  # a row fails when the rule is false (or cannot be judged)
        except Exception as exc:
            raise _CheckTypeError(
                f"the rule cannot be applied to these columns' types ({type(exc).__name__}: {exc})"
            ) from exc
    raise _CheckTypeError(f"unknown check kind {check.kind!r}")


def _stale(check: Check, table: ir.Table, mapping: CanonicalMapping, dates: Mapping[str, ir.Value], engine: str,
           today: date) -> ir.IntegerScalar:  # fmt: skip
    """The freshness check judges the table, not its rows: 1 when the newest value is older than allowed.

    Null when the column holds no date: there is no newest value to be too old, so it is read as passing.
    """
    value = _dated(table, check.columns[0], mapping, dates, engine)
    newest = value.max(where=value >= PLACEHOLDER_BEFORE)
    limit = datetime.combine(today, datetime.min.time()) - timedelta(days=float(check.params["max_age_days"]))
    return (newest < limit).cast("int64")


def _result(check: Check, k: int, table: ir.Table, first: Mapping[str, Any], second: Mapping[str, Any],
            row_checks: Mapping[str, Any], rows: int, names: list[str], masked: set[str],
            others: Mapping[str, ir.Table] | None) -> CheckResult:  # fmt: skip
    total, failing = rows, 0
    sample = pd.DataFrame()
    expr = row_checks.get(check.name)
    error = None
    if check.kind == "unique":
        i = names.index(check.columns[0])
        present = int(first[f"c{i}_present"] or 0)
        failing = present - int(first[f"c{i}_distinct"] or 0)
        if failing:
            col = table[check.columns[0]]
            repeated = table.filter(col.notnull()).group_by(check.columns[0]).aggregate(__n=lambda t: t.count())
            repeated = repeated.filter(repeated["__n"] > 1).select(check.columns[0]).limit(5)
            sample = table.filter(col.isin(repeated[check.columns[0]])).order_by(check.columns[0]).limit(5).to_pandas()
    elif check.kind == "referential":
        other = (others or {}).get(check.params["dataset"])
        if other is None:
            error = f"the dataset {check.params['dataset']!r} was not given, so the references could not be followed"
        elif check.params["key"] not in other.columns:
            error = f"{check.params['dataset']!r} has no column {check.params['key']!r}; its columns are: {', '.join(other.columns)}"
        else:
            col = table[check.columns[0]]
            bad = table.filter(col.notnull() & ~col.isin(other[check.params["key"]]))
            try:
                failing = int(bad.count().to_pyarrow().as_py())
                sample = bad.limit(5).to_pandas() if failing else sample
            except Exception as exc:
                error = f"the references could not be followed ({type(exc).__name__}: {exc})"
    elif check.kind == "freshness":
        total, failing = 1, int(second.get(f"k{k}") or 0)
    else:
        failing = int(second.get(f"k{k}") or 0)
        if failing and expr is not None:
            sample = table.filter(expr.fill_null(False)).select(*names).limit(5).to_pandas()
    if not sample.empty:
        for name in masked & set(sample.columns):
            sample[name] = sample[name].map(
                lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else MASK
            )
    return CheckResult(check.name, check.kind, check.columns, failing, total, check.severity, check.description,
                       sample.reset_index(drop=True), error)  # fmt: skip


MAP_POINTS = 2_000


def _point_sample(
    sample: pd.DataFrame, lat: str, lon: str, box: tuple[float, float, float, float]
) -> tuple[tuple[float, float, str], ...]:
    """Up to ``MAP_POINTS`` points of the sample, each with its class, for the report's map."""
    xy = sample[[lon, lat]].apply(pd.to_numeric, errors="coerce").dropna()
    xy = xy[~((xy[lat] == 0) & (xy[lon] == 0))]
    if len(xy) > MAP_POINTS:
        xy = xy.sample(MAP_POINTS, random_state=0)
    min_lon, min_lat, max_lon, max_lat = box
    out = []
    for x, y in zip(xy[lon].astype(float), xy[lat].astype(float), strict=True):
        if min_lon <= x <= max_lon and min_lat <= y <= max_lat:
            out.append((x, y, "inside"))
        elif min_lon <= y <= max_lon and min_lat <= x <= max_lat:
            out.append((y, x, "swapped (shown where it belongs)"))
        else:
            out.append((x, y, "outside"))
    return tuple(out)


def _month_range(first: datetime, last: datetime) -> list[str]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


_LETTERS = re.compile(r"[A-Za-z]")
_DIGITS = re.compile(r"[0-9]")


def _shape(text: str) -> str:
    """The shape of a value: letters become 'a', digits '9', the rest stays."""
    return _DIGITS.sub("9", _LETTERS.sub("a", text))


def _histogram(values: pd.Series, bins: int = 20) -> tuple[tuple[Any, int], ...]:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    numbers = numbers[np.isfinite(numbers)]
    if numbers.empty:
        return ()
    counts, edges = np.histogram(numbers.astype(float), bins=bins)
    return tuple((float(edges[i]), int(counts[i])) for i in range(len(counts)))
