"""Service levels of a city's service requests: how long residents wait, and for whom.

``ridp.service_levels(table, mapping, by=("type",), period="month")`` answers, for
any breakdown (request type, agency, area, channel, status, period): volume; time to
close as median, p90 and mean in calendar or business days; share closed within a
per-type target; the open backlog and its age; resident-days of waiting; the reopen
rate; requests per 1,000 residents where populations are known; time to acknowledge
where the data has it.

Requests still open at the analysis date (``as_of``) are censored, not dropped: the
time to close is estimated by Kaplan-Meier (see :mod:`ridp.analysis._survival`), and
the conventional figures over closed requests only are given beside it. Rows that
cannot be used (no opened date, closed before opened, opened after ``as_of``) are
set aside, counted, and shown with examples; the rest is analysed.

Part of the analytical core: Ibis only, never Django.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from ridp.analysis._survival import km_summary
from ridp.analysis._values import engine_of as _engine
from ridp.analysis._values import plain as _plain
from ridp.analysis.calendar import WorkCalendar
from ridp.errors import FieldError
from ridp.readiness._canonical import CanonicalMapping, parse_datetime

__all__ = [
    "BREAKDOWN_FIELDS",
    "PERIODS",
    "DiscoveryRate",
    "LeftOut",
    "ServiceLevels",
    "TargetTable",
    "discovery_rate",
    "service_levels",
]

Period = Literal["day", "week", "month", "quarter", "year"]
DaysUnit = Literal["calendar", "business"]
Censoring = Literal["kaplan-meier", "closed-only"]
PERIODS: Final[tuple[str, ...]] = ("day", "week", "month", "quarter", "year")
_TRUNC: Final = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
#: Canonical fields a breakdown may name (an area column or ``area`` may be named too).
BREAKDOWN_FIELDS: Final[tuple[str, ...]] = ("type", "agency", "channel", "status")
EXAMPLES: Final = 5
MAX_TARGETS: Final = 5000
_SECONDS_PER_DAY: Final = 86400.0


@dataclass(frozen=True)
class TargetTable:
    """The city's service-level targets: days to close, per request type (PROGRAM.md §6).

    ``unit`` says whether the days are calendar or business days; ``default``
    applies to types the table does not name (None: those types have no target,
    and the result says which they are).

    Examples
    --------
    >>> TargetTable({"Street Light Out": 4, "Pothole": 3}).days_for("Pothole")
    3.0
    """

    days: Mapping[str, float]
    unit: DaysUnit = "calendar"
    default: float | None = None

    def __post_init__(self) -> None:
        if self.unit not in ("calendar", "business"):
            raise FieldError("targets.unit", "is calendar or business")
        if len(self.days) > MAX_TARGETS:
            raise FieldError("targets", f"at most {MAX_TARGETS} request types")
        clean: dict[str, float] = {}
        for name, value in self.days.items():
            if not isinstance(name, str) or not name.strip():
                raise FieldError("targets", f"{name!r} is not a request type's name")
            clean[name] = _positive(value, f"targets[{name!r}]")
        object.__setattr__(self, "days", clean)
        if self.default is not None:
            object.__setattr__(self, "default", _positive(self.default, "targets.default"))

    def days_for(self, name: str) -> float | None:
        return self.days.get(name, self.default)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TargetTable:
        """From ``{"unit": "business", "default": 10, "days": {"Pothole": 3}}``."""
        return cls(dict(data.get("days") or {}), data.get("unit", "calendar"), data.get("default"))

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "default": self.default, "days": dict(self.days)}


def _positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise FieldError(name, f"{value!r} is not a positive number of days")
    return float(value)


@dataclass(frozen=True)
class LeftOut:
    """Rows the analysis set aside, why, how many, and up to five examples (ids, or row values)."""

    reason: str
    count: int
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "count": self.count, "examples": list(self.examples)}


#: The columns of :meth:`ServiceLevels.to_pandas`, after the breakdown's own, and what each holds.
COLUMNS: Final[dict[str, str]] = {
    "requests": "requests opened in the period analysed (the residents behind every figure)",
    "closed": "of those, closed by the analysis date",
    "still_open": "of those, still open at the analysis date (censored)",
    "median_days": "median time to close, Kaplan-Meier (open requests censored)",
    "median_days_low": "lower end of the median's 95% interval (Greenwood band)",
    "median_days_high": "upper end of the median's 95% interval (empty when the band never reaches one half)",
    "p90_days": "90th percentile time to close, Kaplan-Meier (empty when more than 10% may still be waiting)",
    "mean_days": "mean time to close, restricted to the longest wait seen (area under the Kaplan-Meier curve)",
    "median_days_closed": "median time to close of closed requests only (the usual dashboard figure)",
    "p90_days_closed": "90th percentile of closed requests only",
    "mean_days_closed": "mean of closed requests only",
    "within_target": "closed within the type's target",
    "past_target": "closed after the target, or still open past it",
    "share_within_target": "within_target / (within_target + past_target); open requests not yet past the target "
    "are not counted either way",
    "open_mean_age_days": "mean age of the requests still open (calendar days)",
    "resident_days_waiting": "calendar days residents waited, summed: to the close, or to the analysis date if open",
    "reopened": "requests whose status says they were reopened",
    "reopen_rate": "reopened / requests",
    "acknowledged": "requests with an acknowledgement time",
    "median_days_to_acknowledge": "median time from opened to acknowledged (acknowledged requests)",
    "residents": "people living in the area",
    "requests_per_1000_residents_per_year": "requests / residents × 1,000 / years analysed",
}


@dataclass(frozen=True, eq=False)
class ServiceLevels:
    """Service levels per breakdown group, with the method and what was left out.

    ``to_pandas()`` gives one row per group (breakdown columns first, then
    :data:`COLUMNS` that apply); ``chart()`` an Altair chart; ``to_dict()`` JSON.
    """

    by: tuple[str, ...]
    period: str | None
    unit: DaysUnit
    censoring: Censoring
    as_of: datetime
    start: date | None
    end: date | None
    rows_read: int
    rows_analysed: int
    left_out: tuple[LeftOut, ...]
    notes: tuple[LeftOut, ...]  # rows kept that are worth saying (no closed date, no type), with examples
    types_without_target: tuple[tuple[str, int], ...]
    method: str
    calendar: WorkCalendar
    targets: TargetTable | None
    _frame: pd.DataFrame

    def to_pandas(self) -> pd.DataFrame:
        """One row per group (a copy: the result itself never changes)."""
        return self._frame.copy()

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._frame.columns)

    def __len__(self) -> int:
        return len(self._frame)

    def row(self, **keys: object) -> dict[str, Any]:
        """The one row whose breakdown values are ``keys`` (``row(type="Pothole")``)."""
        frame = self._frame
        mask = pd.Series(True, index=frame.index)
        for k, v in keys.items():
            if k not in self.by and not (k == "period" and self.period):
                raise KeyError(f"{k!r} is not in the breakdown {self.by}")
            if k == "period" and v is not None:
                v = pd.Timestamp(v)  # type: ignore[arg-type]
            mask &= frame[k].isna() if v is None else frame[k] == v
        found = frame[mask]
        if len(found) != 1:
            raise KeyError(f"{len(found)} rows match {keys}")
        return {str(k): _plain(v) for k, v in found.iloc[0].items()}

    def ranked(self, column: str = "median_days", *, top: int | None = None, min_requests: int = 1) -> pd.DataFrame:
        """Groups ranked worst first on ``column`` (the longest waits, the lowest share within target)."""
        if column not in self._frame.columns:
            raise FieldError("column", f"{column!r} is not a column here; columns: {', '.join(self.columns)}")
        ascending = column in ("share_within_target",)
        frame = self._frame[self._frame["requests"] >= min_requests]
        frame = frame.sort_values(column, ascending=ascending, na_position="last", kind="stable")
        return (frame.head(top) if top else frame).reset_index(drop=True)

    def summary(self) -> str:
        total = int(self._frame["requests"].sum()) if len(self._frame) else 0
        lines = [
            f"Service levels by {', '.join(self.by) or 'nothing (the whole city)'}"
            + (f", per {self.period}" if self.period else "")
            + f": {len(self._frame):,} groups, {total:,} requests, as of {self.as_of:%Y-%m-%d %H:%M}.",
            f"Days are {self.unit} days. {self.method}",
        ]
        for item in self.notes:
            lines.append(
                f"Note: {item.count:,} {item.reason}" + (f" (e.g. {', '.join(item.examples)})" if item.examples else "")
            )
        for item in self.left_out:
            lines.append(
                f"Left out: {item.count:,} {item.reason}"
                + (f" (e.g. {', '.join(item.examples)})" if item.examples else "")
            )
        if self.types_without_target:
            shown = ", ".join(f"{name} ({n:,})" for name, n in self.types_without_target[:5])
            lines.append(f"No target for {len(self.types_without_target)} type(s): {shown}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        records = [{k: _plain(v) for k, v in row.items()} for row in self._frame.to_dict(orient="records")]
        return {
            "kind": "service_levels",
            "by": list(self.by),
            "period": self.period,
            "unit": self.unit,
            "censoring": self.censoring,
            "as_of": self.as_of.isoformat(),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "rows_read": self.rows_read,
            "rows_analysed": self.rows_analysed,
            "left_out": [x.to_dict() for x in self.left_out],
            "notes": [x.to_dict() for x in self.notes],
            "types_without_target": [list(x) for x in self.types_without_target],
            "method": self.method,
            "calendar": self.calendar.to_dict(),
            "targets": self.targets.to_dict() if self.targets else None,
            "columns": list(self._frame.columns),
            "rows": records,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceLevels:
        frame = pd.DataFrame(list(data["rows"]), columns=list(data["columns"]))
        return cls(
            by=tuple(data["by"]),
            period=data["period"],
            unit=data["unit"],
            censoring=data["censoring"],
            as_of=datetime.fromisoformat(data["as_of"]),
            start=date.fromisoformat(data["start"]) if data["start"] else None,
            end=date.fromisoformat(data["end"]) if data["end"] else None,
            rows_read=int(data["rows_read"]),
            rows_analysed=int(data["rows_analysed"]),
            left_out=tuple(LeftOut(x["reason"], int(x["count"]), tuple(x["examples"])) for x in data["left_out"]),
            notes=tuple(LeftOut(x["reason"], int(x["count"]), tuple(x["examples"])) for x in data.get("notes", ())),
            types_without_target=tuple((str(a), int(b)) for a, b in data["types_without_target"]),
            method=data["method"],
            calendar=WorkCalendar.from_dict(data["calendar"]),
            targets=TargetTable.from_dict(data["targets"]) if data["targets"] else None,
            _frame=frame,
        )

    def chart(self, column: str = "median_days", *, top: int = 25, kind: str = "auto") -> Any:
        """An Altair chart: ranked bars per group (with each type's target), lines or a heat map over the period
        (:func:`ridp.analysis.charts.service_level_chart`)."""
        from ridp.analysis.charts import service_level_chart

        return service_level_chart(self, column, top=top, kind=kind)  # type: ignore[arg-type]


def _resolve_by(by: Sequence[str], mapping: CanonicalMapping, columns: Sequence[str]) -> dict[str, str]:
    """Breakdown name -> column: canonical fields through the mapping, ``area`` as the first area column,
    else a column of the table itself."""
    out: dict[str, str] = {}
    for name in by:
        if not isinstance(name, str):
            raise FieldError("by", f"{name!r} is not a name")
        if name in out:
            raise FieldError("by", f"{name!r} is named twice")
        if name in BREAKDOWN_FIELDS:
            column = mapping.column(name)
            if column is None:
                raise FieldError("by", f"no column is mapped to {name}; map one, or break down by a column by name")
        elif name == "area":
            if not mapping.areas:
                raise FieldError("by", "no area column is marked for this dataset")
            column = mapping.areas[0]
        elif name in columns:
            column = name
        else:
            known = [*BREAKDOWN_FIELDS, "area"] if mapping.areas else list(BREAKDOWN_FIELDS)
            raise FieldError("by", f"{name!r} is neither one of {', '.join(known)} nor a column of this dataset")
        out[name] = column
    return out


def service_levels(
    table: ir.Table,
    mapping: CanonicalMapping,
    *,
    by: Sequence[str] = ("type",),
    period: Period | None = None,
    unit: DaysUnit = "calendar",
    calendar: WorkCalendar | None = None,
    targets: TargetTable | Mapping[str, float] | None = None,
    start: date | None = None,
    end: date | None = None,
    as_of: datetime | None = None,
    censoring: Censoring = "kaplan-meier",
    population: Mapping[str, float] | None = None,
    acknowledged: str | None = None,
    reopened: Sequence[str] | None = None,
    intervals: bool = True,
) -> ServiceLevels:
    """Service levels of ``table`` (service requests) per ``by`` group.

    Parameters
    ----------
    table
        Any Ibis table (DuckDB, PostgreSQL or Spark).
    mapping
        Which columns hold the canonical fields; ``opened`` is needed, ``closed`` for times to close.
    by
        The breakdown: ``type``, ``agency``, ``channel``, ``status``, ``area`` (the first area column),
        or any column of the table by name. Empty: the whole city.
    period
        Also break down by the period the request was opened in: day, week (from Monday), month,
        quarter or year.
    unit
        ``calendar`` days (fractional: 36 hours is 1.5) or ``business`` days (whole working days in
        ``[opened date, closed date)`` under ``calendar``).
    calendar
        Working weekdays and holidays for business days (Monday to Friday, no holidays, unless given).
    targets
        Days to close per request type (:class:`TargetTable`, or a plain mapping in ``unit`` days).
    start, end
        Analyse requests opened on these dates (inclusive); all of them by default.
    as_of
        The moment the data describes: requests open then are censored at their age. Default: the
        latest opened or closed time in the data.
    censoring
        ``kaplan-meier`` (default) keeps open requests as censored; ``closed-only`` gives the closed
        requests' figures in the headline columns too (the method text says so).
    population
        People per value of an area in ``by`` (e.g. neighbourhood -> residents): adds ``residents`` and
        requests per 1,000 residents per year.
    acknowledged
        A column with the time each request was acknowledged, where the data has one.
    reopened
        Status values that mean a request was reopened; default: statuses containing "reopen".
    intervals
        With ``closed-only``, also the median's 95 % interval (an extra pass over the closed requests'
        durations, about as costly as the rest: leave it out for a quick cube). Kaplan-Meier always has it.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"t": ["Pothole", "Pothole", "Pothole"],
    ...     "o": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
    ...     "c": pd.to_datetime(["2024-01-03", None, "2024-01-04"])}))
    >>> m = CanonicalMapping({"type": "t", "opened": "o", "closed": "c"})
    >>> r = service_levels(t, m, as_of=datetime(2024, 1, 10))
    >>> r.row(type="Pothole")["median_days"], r.row(type="Pothole")["still_open"]
    (2.0, 1)
    """
    columns = list(table.columns)
    opened_col = mapping.column("opened")
    if opened_col is None:
        raise FieldError(
            "mapping", "no column is mapped to opened: a service level needs the date each request came in"
        )
    for f, c in mapping.fields.items():
        if c not in columns:
            raise FieldError("mapping", f"{f} is mapped to {c!r}, which this table does not have")
    if period is not None and period not in PERIODS:
        raise FieldError("period", f"{period!r} is not one of {', '.join(PERIODS)}")
    if unit not in ("calendar", "business"):
        raise FieldError("unit", "is calendar or business")
    if censoring not in ("kaplan-meier", "closed-only"):
        raise FieldError("censoring", "is kaplan-meier or closed-only")
    if start and end and end < start:
        raise FieldError("end", f"{end} is before the start, {start}")
    if acknowledged is not None and acknowledged not in columns:
        raise FieldError("acknowledged", f"{acknowledged!r} is not a column of this dataset")
    keys = _resolve_by(by, mapping, columns)
    if period is not None and "period" in keys:
        raise FieldError("by", "'period' is given as the period argument, not in by")
    calendar = calendar or WorkCalendar()
    if targets is not None and not isinstance(targets, TargetTable):
        targets = TargetTable(dict(targets), unit)
    if targets is not None and targets.unit != unit:
        raise FieldError("targets.unit", f"the targets are in {targets.unit} days but the analysis counts {unit} days")
    type_col = mapping.column("type")
    if targets is not None and type_col is None:
        raise FieldError("targets", "targets are per request type, and no column is mapped to type")
    closed_col = mapping.column("closed")
    status_col = mapping.column("status")
    id_col = mapping.column("id")
    engine = _engine(table)

    def parsed(field: str, column: str) -> ir.TimestampValue:
        return parse_datetime(
            table[column], mapping.date_formats.get(field, ()), engine=engine, timezone=mapping.timezone
        )

    # Only the columns the analysis reads, with the dates parsed once: the passes below read a cached copy,
    # so text dates are parsed once per row, not once per query.
    needed = [c for c in dict.fromkeys([id_col, type_col, status_col, opened_col, closed_col, acknowledged,
                                        *keys.values()]) if c]  # fmt: skip
    base = (
        table.select(*needed)
        .mutate(
            __opened=parsed("opened", opened_col),
            __closed=parsed("closed", closed_col) if closed_col else ibis.null().cast("timestamp"),
            __ack=parse_datetime(table[acknowledged], (), engine=engine, timezone=mapping.timezone)
            if acknowledged
            else ibis.null().cast("timestamp"),
        )
        .cache()
    )
    try:
        return _service_levels(
            base, mapping, keys=keys, period=period, unit=unit, calendar=calendar, targets=targets, start=start,
            end=end, as_of=as_of, censoring=censoring, population=population, acknowledged=acknowledged,
            reopened=reopened, intervals=intervals, type_col=type_col, closed_col=closed_col,
            status_col=status_col, id_col=id_col, opened_col=opened_col,
        )  # fmt: skip
    finally:
        base.release()


def _service_levels(
    base: ir.Table, mapping: CanonicalMapping, *, keys: dict[str, str], period: Period | None, unit: DaysUnit,
    calendar: WorkCalendar, targets: TargetTable | None, start: date | None, end: date | None,
    as_of: datetime | None, censoring: Censoring, population: Mapping[str, float] | None, acknowledged: str | None,
    reopened: Sequence[str] | None, intervals: bool, type_col: str | None, closed_col: str | None,
    status_col: str | None, id_col: str | None, opened_col: str,
) -> ServiceLevels:  # fmt: skip
    opened, closed = base["__opened"], base["__closed"]
    in_period = ibis.literal(True)
    if start is not None:
        in_period &= opened >= datetime.combine(start, time.min)
    if end is not None:
        in_period &= opened < datetime.combine(end + timedelta(days=1), time.min)

    # -- pass 1: what can be used, and the analysis date -----------------------------------------------------------
    first = (
        base.aggregate(
            rows=base.count(),
            no_opened=opened.isnull().sum(),
            max_opened=opened.max(),
            max_closed=closed.max(),
            min_opened=opened.min(),
        )
        .to_pandas()
        .iloc[0]
    )
    rows_read = int(first["rows"])
    if as_of is None:
        candidates = [v for v in (first["max_opened"], first["max_closed"]) if v is not None and not pd.isna(v)]
        as_of = max(pd.Timestamp(v).to_pydatetime() for v in candidates) if candidates else datetime.now()
    as_of = as_of.replace(tzinfo=None)
    negative = closed.notnull() & (closed < opened)
    future = opened > as_of
    usable = opened.notnull() & ~negative & ~future & in_period
    problems: list[tuple[str, ir.BooleanValue]] = [
        ("without an opened date (missing or not a date)", opened.isnull()),
        ("closed before they were opened (negative time to close)", opened.notnull() & negative),
        (f"opened after the analysis date, {as_of:%Y-%m-%d %H:%M}", opened.notnull() & ~negative & future),
    ]
    outside = opened.notnull() & ~negative & ~future & ~in_period
    # kept, but worth saying: no closed date (still open, censored) and no request type
    kept: list[tuple[str, ir.BooleanValue]] = []
    if closed_col is not None:
        kept.append(("have no closed date: kept as still open, censored at their age", usable & closed.isnull()))
    if type_col is not None:
        kind = base[type_col].cast("string")
        kept.append(
            ("have no request type: kept as a group of their own", usable & (kind.isnull() | (kind.strip() == "")))
        )
    counts = (
        base.aggregate(
            **{f"p{i}": cond.sum() for i, (_, cond) in enumerate(problems)},
            **{f"k{i}": cond.sum() for i, (_, cond) in enumerate(kept)},
            outside=outside.sum(),
            usable=usable.sum(),
        )
        .to_pandas()
        .iloc[0]
    )
    left_out: list[LeftOut] = []
    for i, (reason, cond) in enumerate(problems):
        n = int(counts[f"p{i}"] or 0)
        if n:
            left_out.append(LeftOut(reason, n, _examples(base, cond, id_col, opened_col, closed_col)))
    n_outside = int(counts["outside"] or 0)
    if n_outside:
        left_out.append(LeftOut(f"opened outside {start or '…'} – {end or '…'} (not asked for)", n_outside))
    notes = tuple(
        LeftOut(reason, int(counts[f"k{i}"]), _examples(base, cond, id_col, opened_col, closed_col))
        for i, (reason, cond) in enumerate(kept)
        if int(counts[f"k{i}"] or 0)
    )

    # -- pass 2: the groups ----------------------------------------------------------------------------------------
    t = base.filter(usable)
    closed_by = closed.notnull() & (closed <= as_of)
    t = t.mutate(__event=ibis.cases((closed_by, True), else_=False))
    t = t.mutate(__until=ibis.cases((t["__event"], t["__closed"]), else_=ibis.literal(as_of)))
    wait = (t["__until"].epoch_seconds() - t["__opened"].epoch_seconds()).cast("float64") / _SECONDS_PER_DAY
    if unit == "business":
        span = (
            pd.Timestamp(first["min_opened"]).date() if not pd.isna(first["min_opened"]) else date(1901, 1, 1),
            as_of.date(),
        )
        days = calendar.business_days_expr(t["__opened"], t["__until"], span=span).cast("float64")
    else:
        days = wait
    t = t.mutate(__days=days, __wait=wait)
    key_exprs: dict[str, ir.Value] = {name: t[col] for name, col in keys.items()}
    if period is not None:
        key_exprs["period"] = t["__opened"].truncate(_TRUNC[period]).date()
    t = t.mutate(**{f"__k_{k}": v for k, v in key_exprs.items()})
    key_names = [f"__k_{k}" for k in key_exprs]
    event, d = t["__event"], t["__days"]
    stats: dict[str, ir.Scalar] = {
        "requests": t.count(),
        "closed": event.sum(),
        "median_days_closed": d.quantile(0.5, where=event),
        "p90_days_closed": d.quantile(0.9, where=event),
        "mean_days_closed": d.mean(where=event),
        "open_mean_age_days": t["__wait"].mean(where=~event),
        "resident_days_waiting": t["__wait"].sum(),
    }
    if targets is not None and type_col is not None:
        target = _target_expr(t[type_col], targets)
        stats["within_target"] = (event & (d <= target)).fill_null(False).sum()
        stats["past_target"] = (d > target).fill_null(False).sum()
    reopen_values: tuple[str, ...] = ()
    if status_col is not None:
        reopen_values = tuple(reopened) if reopened is not None else _reopen_statuses(t, status_col)
        if reopen_values:
            stats["reopened"] = t[status_col].cast("string").isin(reopen_values).fill_null(False).sum()
    if acknowledged:
        ack_days = (t["__ack"].epoch_seconds() - t["__opened"].epoch_seconds()).cast("float64") / _SECONDS_PER_DAY
        ok = t["__ack"].notnull() & (ack_days >= 0)
        stats["acknowledged"] = ok.sum()
        stats["median_days_to_acknowledge"] = ack_days.quantile(0.5, where=ok)
    grouped = t.group_by(key_names).aggregate(**stats) if key_names else t.aggregate(**stats)
    frame = grouped.to_pandas()
    if closed_col is not None and (censoring == "kaplan-meier" or intervals):
        # closed-only: the same machinery over closed requests alone gives the median's order-statistic interval
        rows = t if censoring == "kaplan-meier" else t.filter(t["__event"])
        km = km_summary(rows.select(*key_names, "__days", "__event"), key_names, "__days", "__event").to_pandas()
        interval = {"km_median_low": "median_days_low", "km_median_high": "median_days_high"}
        if censoring == "kaplan-meier":
            km = km.rename(
                columns={"km_median": "median_days", "km_p90": "p90_days", "km_mean": "mean_days", **interval}
            )
        else:
            km = km.rename(columns=interval)[[*key_names, *interval.values()]]
        frame = frame.merge(km, on=key_names, how="left") if key_names else pd.concat([frame, km], axis=1)
    if censoring == "closed-only" or closed_col is None:
        frame["median_days"] = frame["median_days_closed"]
        frame["p90_days"] = frame["p90_days_closed"]
        frame["mean_days"] = frame["mean_days_closed"]
    frame = frame.rename(columns={f"__k_{k}": k for k in key_exprs})
    frame["requests"] = frame["requests"].astype("int64")
    frame["closed"] = frame["closed"].fillna(0).astype("int64")
    frame["still_open"] = frame["requests"] - frame["closed"]
    if "within_target" in frame:
        frame["within_target"] = frame["within_target"].fillna(0).astype("int64")
        frame["past_target"] = frame["past_target"].fillna(0).astype("int64")
        decided = frame["within_target"] + frame["past_target"]
        frame["share_within_target"] = (frame["within_target"] / decided.where(decided > 0)).astype("float64")
    if "reopened" in frame:
        frame["reopened"] = frame["reopened"].fillna(0).astype("int64")
        frame["reopen_rate"] = frame["reopened"] / frame["requests"]
    if population is not None:
        area_keys = [k for k in key_exprs if k == "area" or k in mapping.areas]
        if not area_keys:
            raise FieldError("population", "is per area: break down by an area too (by=['area'])")
        frame["residents"] = frame[area_keys[0]].map(lambda a: population.get(str(a)) if a is not None else None)
        years = _years(start or pd.Timestamp(first["min_opened"]).date(), end or as_of.date()) if rows_read else 1.0
        frame["requests_per_1000_residents_per_year"] = (
            frame["requests"] / frame["residents"].astype("float64") * 1000 / years
        )
    order = [*key_exprs, *[c for c in COLUMNS if c in frame.columns]]
    frame = (
        frame[order]
        .sort_values(list(key_exprs) or ["requests"], kind="stable", na_position="last")
        .reset_index(drop=True)
    )
    for c in ("median_days", "median_days_low", "median_days_high", "p90_days", "mean_days", "median_days_closed",
              "p90_days_closed", "mean_days_closed"):  # fmt: skip
        if c in frame:
            frame[c] = frame[c].astype("float64")

    missing_targets: tuple[tuple[str, int], ...] = ()
    if targets is not None and type_col is not None:
        missing_targets = _types_without_target(t, type_col, targets)
    return ServiceLevels(
        by=tuple(keys),
        period=period,
        unit=unit,
        censoring=censoring,
        as_of=as_of,
        start=start,
        end=end,
        rows_read=rows_read,
        rows_analysed=int(counts["usable"] or 0),
        left_out=tuple(left_out),
        notes=notes,
        types_without_target=missing_targets,
        method=_method(censoring, unit, as_of, closed_col is not None, reopen_values, calendar),
        calendar=calendar,
        targets=targets,
        _frame=frame,
    )


def _years(first: date, last: date) -> float:
    return max((last - first).days + 1, 1) / 365.25


def _target_expr(type_value: ir.Value, targets: TargetTable) -> ir.FloatingValue:
    text = type_value.cast("string")
    branches = [(text == name, ibis.literal(days)) for name, days in targets.days.items()]
    default = ibis.literal(targets.default) if targets.default is not None else ibis.null().cast("float64")
    if not branches:
        return default.cast("float64")
    return ibis.cases(*branches, else_=default).cast("float64")


def _types_without_target(t: ir.Table, type_col: str, targets: TargetTable) -> tuple[tuple[str, int], ...]:
    if targets.default is not None:
        return ()
    text = t[type_col].cast("string")
    lacking = t.filter(~text.isin(tuple(targets.days)) | text.isnull())
    rows = lacking.group_by(__type=lacking[type_col].cast("string")).aggregate(n=lacking.count()).to_pandas()
    rows = rows.sort_values(["n", "__type"], ascending=[False, True], na_position="last")
    return tuple(
        ("(no type)" if pd.isna(a) else str(a), int(n)) for a, n in zip(rows["__type"], rows["n"], strict=True)
    )


def _reopen_statuses(t: ir.Table, status_col: str) -> tuple[str, ...]:
    text = t[status_col].cast("string")
    found = t.filter(text.lower().contains("reopen")).select(s=text).distinct().limit(50).to_pandas()
    return tuple(sorted(str(s) for s in found["s"] if s is not None))


def _examples(
    base: ir.Table, cond: ir.BooleanValue, id_col: str | None, opened: str, closed: str | None
) -> tuple[str, ...]:
    cols = [c for c in (id_col, opened, closed) if c]
    rows = base.filter(cond).select(*cols).limit(EXAMPLES).to_pandas()
    out: list[str] = []
    for _, row in rows.iterrows():
        if id_col:
            out.append(f"{id_col} {_plain(row[id_col])}")
        else:
            out.append(", ".join(f"{c}={_plain(row[c])}" for c in cols))
    return tuple(out)


def _method(
    censoring: Censoring,
    unit: DaysUnit,
    as_of: datetime,
    has_closed: bool,
    reopen: tuple[str, ...],
    calendar: WorkCalendar,
) -> str:
    parts: list[str] = []
    if not has_closed:
        parts.append("No closed date is mapped: only volumes are known, not times to close.")
    elif censoring == "kaplan-meier":
        parts.append(
            f"Requests still open on {as_of:%Y-%m-%d} are censored at their age, not dropped: median, p90 and mean "
            "time to close are Kaplan-Meier estimates (the mean restricted to the longest wait seen), because "
            "dropping open requests would make the slowest services look fastest. A p90 or median is empty when "
            "too many requests are still open to know it. The *_closed columns are the usual figures over closed "
            "requests only, for comparison."
        )
    else:
        parts.append(
            f"Closed requests only (asked for): the {as_of:%Y-%m-%d} backlog is not in the times to close, which "
            "understates the wait wherever many requests are still open."
        )
    if unit == "business":
        holidays = f", {len(calendar.holidays)} holiday(s)" if calendar.holidays else ", no holidays"
        parts.append(
            f"Business days count working days ({'/'.join(calendar.weekdays)}{holidays}) from the day opened "
            "up to the day closed, not counting that day."
        )
    if reopen:
        parts.append(f"Reopened means status {', '.join(repr(s) for s in reopen)}.")
    return " ".join(parts)


@dataclass(frozen=True, eq=False)
class DiscoveryRate:
    """Inspections that found a violation ÷ inspections, per group, with Wilson 95% intervals."""

    by: tuple[str, ...]
    period: str | None
    found: str
    rows_read: int
    left_out: tuple[LeftOut, ...]
    _frame: pd.DataFrame

    def to_pandas(self) -> pd.DataFrame:
        return self._frame.copy()

    def row(self, **keys: object) -> dict[str, Any]:
        frame = self._frame
        mask = pd.Series(True, index=frame.index)
        for k, v in keys.items():
            mask &= frame[k] == v
        found = frame[mask]
        if len(found) != 1:
            raise KeyError(f"{len(found)} rows match {keys}")
        return {str(k): _plain(v) for k, v in found.iloc[0].items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "discovery_rate", "by": list(self.by), "period": self.period, "found": self.found,
            "rows_read": self.rows_read, "left_out": [x.to_dict() for x in self.left_out],
            "columns": list(self._frame.columns),
            "rows": [{str(k): _plain(v) for k, v in r.items()} for r in self._frame.to_dict(orient="records")],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DiscoveryRate:
        frame = pd.DataFrame(list(data["rows"]), columns=list(data["columns"]))
        left = tuple(LeftOut(x["reason"], int(x["count"]), tuple(x["examples"])) for x in data["left_out"])
        return cls(tuple(data["by"]), data["period"], data["found"], int(data["rows_read"]), left, frame)

    def summary(self) -> str:
        n, k = int(self._frame["inspections"].sum()), int(self._frame["found"].sum())
        rate = k / n if n else float("nan")
        return f"Discovery rate: {k:,} of {n:,} inspections found a violation ({rate:.1%}); found means {self.found}."


def discovery_rate(
    table: ir.Table,
    mapping: CanonicalMapping,
    *,
    found_column: str,
    found_values: Sequence[str] | None = None,
    not_held: Sequence[str] = (),
    by: Sequence[str] = (),
    period: Period | None = None,
) -> DiscoveryRate:
    """The share of inspections that found a violation (PROGRAM.md §6), per ``by`` group and period.

    An inspection found a violation when ``found_column`` holds one of ``found_values``
    (compared as written), or, without values, when it is not empty (e.g. a violations text).
    Rows whose ``found_column`` holds one of ``not_held`` (out of business, no entry...) were
    no inspection and are left out, counted. Inspections without a date are left out when a
    period is asked for.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"d": pd.to_datetime(["2020-03-02"] * 4), "v": ["12. x", "", None, "3. y"]}))
    >>> discovery_rate(t, CanonicalMapping({"opened": "d"}), found_column="v").row()["rate"]
    0.5
    """
    columns = list(table.columns)
    if found_column not in columns:
        raise FieldError("found_column", f"{found_column!r} is not a column of this dataset")
    if period is not None and period not in PERIODS:
        raise FieldError("period", f"{period!r} is not one of {', '.join(PERIODS)}")
    keys = _resolve_by(by, mapping, columns)
    col = table[found_column].cast("string")
    if found_values:
        found = col.isin(tuple(found_values)).fill_null(False)
        described = f"{found_column} is one of {', '.join(repr(v) for v in found_values)}"
    else:
        found = (col.strip().length() > 0).fill_null(False)
        described = f"{found_column} is not empty"
    t = table.mutate(__found=found)
    left_out: list[LeftOut] = []
    rows_read = int(t.count().to_pyarrow().as_py())
    if not_held:
        skip = col.isin(tuple(not_held)).fill_null(False)
        skipped = int(skip.sum().to_pyarrow().as_py() or 0)
        if skipped:
            left_out.append(LeftOut("inspections that did not take place", skipped))
        t = t.filter(~t[found_column].cast("string").isin(tuple(not_held)).fill_null(False))
    key_exprs: dict[str, ir.Value] = {name: t[c] for name, c in keys.items()}
    if period is not None:
        opened_col = mapping.column("opened")
        if opened_col is None:
            raise FieldError("period", "no column is mapped to opened (the inspection's date)")
        when = parse_datetime(t[opened_col], mapping.date_formats.get("opened", ()), engine=_engine(table))
        t = t.mutate(__when=when)
        missing = int(t["__when"].isnull().sum().to_pyarrow().as_py() or 0)
        if missing:
            left_out.append(LeftOut("without a date (a period was asked for)", missing))
        t = t.filter(t["__when"].notnull())
        key_exprs = {name: t[c] for name, c in keys.items()}
        key_exprs["period"] = t["__when"].truncate(_TRUNC[period]).date()
    t = t.mutate(**{f"__k_{k}": v for k, v in key_exprs.items()})
    names = [f"__k_{k}" for k in key_exprs]
    stats = {"inspections": t.count(), "found": t["__found"].sum()}
    frame = (t.group_by(names).aggregate(**stats) if names else t.aggregate(**stats)).to_pandas()
    frame = frame.rename(columns={f"__k_{k}": k for k in key_exprs})
    frame["inspections"] = frame["inspections"].astype("int64")
    frame["found"] = frame["found"].fillna(0).astype("int64")
    frame["rate"] = frame["found"] / frame["inspections"]
    low, high = _wilson(frame["found"], frame["inspections"])
    frame["rate_low"], frame["rate_high"] = low, high
    frame = frame.sort_values(list(key_exprs) or ["inspections"], kind="stable").reset_index(drop=True)
    return DiscoveryRate(tuple(keys), period, described, rows_read, tuple(left_out), frame)


def _wilson(k: pd.Series, n: pd.Series, z: float = 1.959963984540054) -> tuple[pd.Series, pd.Series]:
    """Wilson score interval of k successes in n trials."""
    nf = n.astype("float64")
    p = k / nf
    centre = (p + z * z / (2 * nf)) / (1 + z * z / nf)
    half = z * ((p * (1 - p) / nf + z * z / (4 * nf * nf)) ** 0.5) / (1 + z * z / nf)
    return centre - half, centre + half
