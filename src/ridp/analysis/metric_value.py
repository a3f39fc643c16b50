"""A metric spec's value computed from the data (the baseline, a window of the composite score).

``metric_value(spec, table, mapping, start=..., end=...)`` evaluates the spec's
formula over the requests *opened* from ``start`` to ``end``. The formula is the
parsed :class:`ridp.metrics.Formula`, compiled to Ibis node by node (never
evaluated as Python).

Requests still open at ``as_of`` are censored, as in the service levels:
``median``/``p90``/``quantile``/``mean`` of ``days_to_close`` are Kaplan-Meier
estimates (the mean restricted to the longest wait seen); in a condition, an open
request's ``days_to_close`` is known to be at least its age, so
``days_to_close <= 4`` is false for one open 5 days and unknown for one open 2
days. ``share(cond)`` is the share of requests where the condition is true among
those where it is known; ``count() where cond`` counts the rows where it is true.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from ridp.analysis._survival import km_summary
from ridp.analysis._values import engine_of as _engine
from ridp.errors import FieldError
from ridp.metrics import BoolCondition, Compare, Condition, Formula, MetricSpec, NotCondition
from ridp.readiness._canonical import CanonicalMapping, parse_datetime

__all__ = ["MetricValue", "data_as_of", "metric_value"]


@dataclass(frozen=True)
class MetricValue:
    """A spec's value over a period, with the rows behind it and the spec's hash."""

    name: str
    value: float | None
    requests: int
    start: date
    end: date
    as_of: datetime
    spec_hash: str
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "value": self.value, "requests": self.requests, "start": self.start.isoformat(),
            "end": self.end.isoformat(), "as_of": self.as_of.isoformat(), "spec_hash": self.spec_hash,
            "method": self.method,
        }  # fmt: skip


def _latest(t: ir.Table) -> datetime | None:
    found = t.aggregate(a=t["__opened"].max(), b=t["__closed"].max()).to_pandas().iloc[0]
    stamps = [pd.Timestamp(v).to_pydatetime() for v in (found["a"], found["b"]) if not pd.isna(v)]
    return max(stamps) if stamps else None


def _with_dates(table: ir.Table, mapping: CanonicalMapping) -> ir.Table:
    opened_col = mapping.column("opened")
    if opened_col is None:
        raise FieldError("mapping", "no column is mapped to opened")
    closed_col = mapping.column("closed")
    engine = _engine(table)
    return table.mutate(
        __opened=parse_datetime(table[opened_col], mapping.date_formats.get("opened", ()), engine=engine,
                                timezone=mapping.timezone),
        __closed=parse_datetime(table[closed_col], mapping.date_formats.get("closed", ()), engine=engine,
                                timezone=mapping.timezone) if closed_col else ibis.null().cast("timestamp"),
    )  # fmt: skip


def data_as_of(table: ir.Table, mapping: CanonicalMapping) -> datetime | None:
    """The latest opened or closed time in the data: the moment it describes."""
    return _latest(_with_dates(table, mapping))


class _Compiler:
    def __init__(self, t: ir.Table, mapping: CanonicalMapping) -> None:
        self.t = t
        self.mapping = mapping

    def field(self, name: str) -> ir.Value:
        if name in ("opened", "closed"):
            return self.t[f"__{name}"]
        if name == "days_to_close":
            return self.t["__days"]
        column = self.mapping.column(name)
        if column is None:
            raise FieldError("formula", f"the formula reads {name}, and no column of the dataset is mapped to it")
        value = self.t[column]
        if name in ("latitude", "longitude"):
            return value.cast("float64")
        return value.cast("string")

    def literal(self, name: str, value: object) -> Any:
        if name in ("opened", "closed") and isinstance(value, str):
            return datetime.fromisoformat(value)
        return value

    def compare(self, c: Compare) -> ir.BooleanValue:
        if c.field == "days_to_close":
            return self._days(c)
        x = self.field(c.field)
        if c.op == "is":
            return x.isnull()
        if c.op == "is not":
            return x.notnull()
        if c.op in ("in", "not in"):
            assert isinstance(c.value, tuple)
            values = tuple(self.literal(c.field, v) for v in c.value)
            inside = x.isin(values)
            return inside if c.op == "in" else ~inside
        v = self.literal(c.field, c.value)
        return {"==": x == v, "!=": x != v, "<": x < v, "<=": x <= v, ">": x > v, ">=": x >= v}[c.op]

    def _days(self, c: Compare) -> ir.BooleanValue:
        """A comparison of days_to_close, true/false where known and null where a still-open request leaves it open."""
        d, age, event = self.t["__days"], self.t["__age"], self.t["__event"]
        null = ibis.null().cast("boolean")
        if c.op == "is":
            return ~event
        if c.op == "is not":
            return event
        if c.op in ("in", "not in"):
            assert isinstance(c.value, tuple)
            inside = d.isin(c.value)
            known = event | (age > max(float(v) for v in c.value))
            value = inside if c.op == "in" else ~inside
            open_value = ibis.literal(c.op == "not in")
            return ibis.cases((event, value), (known, open_value), else_=null)
        v = float(c.value)  # type: ignore[arg-type]
        closed_value = {"==": d == v, "!=": d != v, "<": d < v, "<=": d <= v, ">": d > v, ">=": d >= v}[c.op]
        # an open request will take longer than its age: what that decides already
        if c.op in ("<", "<="):
            open_value, known = ibis.literal(False), (age > v) if c.op == "<=" else (age >= v)
        elif c.op in (">", ">="):
            open_value, known = ibis.literal(True), (age > v) if c.op == ">" else (age >= v)
        else:
            open_value, known = ibis.literal(c.op == "!="), age > v
        return ibis.cases((event, closed_value), (known, open_value), else_=null)

    def condition(self, c: Condition) -> ir.BooleanValue:
        if isinstance(c, Compare):
            return self.compare(c)
        if isinstance(c, NotCondition):
            return ~self.condition(c.part)
        assert isinstance(c, BoolCondition)
        parts = [self.condition(p) for p in c.parts]
        out = parts[0]
        for p in parts[1:]:
            out = (out & p) if c.op == "and" else (out | p)
        return out


def metric_value(
    spec: MetricSpec,
    table: ir.Table,
    mapping: CanonicalMapping,
    *,
    start: date | None = None,
    end: date | None = None,
    as_of: datetime | None = None,
) -> MetricValue:
    """``spec``'s formula over requests opened from ``start`` to ``end`` (default: the spec's baseline period).

    Examples
    --------
    >>> import pandas as pd
    >>> from ridp.metrics import load_metric
    >>> spec = load_metric('''
    ... name: pothole_days
    ... formula: share(days_to_close <= 2) where type == "Pothole"
    ... unit: share
    ... direction: higher_is_better
    ... baseline: {value: null, start: 2024-01-01, end: 2024-01-31}
    ... target: {value: 0.9, category: uncertainty}
    ... source: requests
    ... refresh: weekly
    ... owner: DPW
    ... ''')
    >>> t = ibis.memtable(pd.DataFrame({"t": ["Pothole"] * 4, "o": pd.to_datetime(["2024-01-01"] * 4),
    ...     "c": pd.to_datetime(["2024-01-02", "2024-01-05", None, None])}))
    >>> m = CanonicalMapping({"type": "t", "opened": "o", "closed": "c"})
    >>> metric_value(spec, t, m, as_of=datetime(2024, 1, 10)).value  # 1 within, 1 late, 2 open 9 days: late
    0.25
    """
    start = start or spec.baseline.start
    end = end or spec.baseline.end
    if end < start:
        raise FieldError("end", f"{end} is before the start, {start}")
    formula: Formula = spec.parsed
    if mapping.column("closed") is None and "days_to_close" in formula.fields() | {formula.field}:
        raise FieldError("formula", "the formula reads days_to_close, and no column is mapped to closed")
    t = _with_dates(table, mapping)
    as_of = (as_of or _latest(t) or datetime.combine(end, time.max)).replace(tzinfo=None)
    t = t.filter(
        t["__opened"].notnull(),
        t["__opened"] >= datetime.combine(start, time.min),
        t["__opened"] < datetime.combine(end + timedelta(days=1), time.min),
        t["__opened"] <= as_of,
        t["__closed"].isnull() | (t["__closed"] >= t["__opened"]),
    )
    event = t["__closed"].notnull() & (t["__closed"] <= as_of)
    t = t.mutate(__event=event)
    seconds = t["__opened"].epoch_seconds()
    age = (ibis.literal(as_of).epoch_seconds() - seconds).cast("float64") / 86400
    days = ibis.cases((t["__event"], (t["__closed"].epoch_seconds() - seconds).cast("float64") / 86400),
                      else_=ibis.null().cast("float64"))  # fmt: skip
    t = t.mutate(__age=age, __days=days)
    compiler = _Compiler(t, mapping)
    if formula.where is not None:
        t = t.filter(compiler.condition(formula.where).fill_null(False))
        compiler = _Compiler(t, mapping)
    n = int(t.count().to_pyarrow().as_py())
    method = f"requests opened {start} – {end}, as of {as_of:%Y-%m-%d}"
    value: float | None
    if formula.aggregate == "count":
        value = float(n)
    elif formula.aggregate == "share":
        assert formula.condition is not None
        cond = compiler.condition(formula.condition)
        row = t.aggregate(yes=cond.fill_null(False).sum(), known=cond.notnull().sum()).to_pandas().iloc[0]
        known = int(row["known"] or 0)
        value = int(row["yes"] or 0) / known if known else None
        if known < n:
            method += f"; {n - known:,} still-open request(s) not yet decided are not counted"
    elif formula.field == "days_to_close":
        q = {"median": 0.5, "p90": 0.9, "quantile": formula.q}.get(formula.aggregate)
        k = t.mutate(__d=ibis.cases((t["__event"], t["__days"]), else_=t["__age"]))
        stats = km_summary(k.select("__d", "__event"), [], "__d", "__event", quantiles=(q,) if q is not None else ())
        row = stats.to_pandas().iloc[0] if n else None
        raw = None if row is None else (row["km_mean"] if q is None else row["km_q0"])
        value = None if raw is None or pd.isna(raw) else float(raw)
        method += "; open requests censored at their age (Kaplan-Meier" + (", restricted mean)" if q is None else ")")
    else:
        x = compiler.field(str(formula.field))
        agg = {"mean": x.mean(), "median": x.quantile(0.5), "p90": x.quantile(0.9)}.get(formula.aggregate)
        if agg is None:
            agg = x.quantile(float(formula.q or 0.5))
        raw = agg.to_pyarrow().as_py()
        value = None if raw is None or (isinstance(raw, float) and math.isnan(raw)) else float(raw)
    return MetricValue(spec.name, value, n, start, end, as_of, spec.spec_hash(), method)
