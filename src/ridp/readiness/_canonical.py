"""What readiness needs to know of a dataset beyond its columns: the canonical mapping,
and what the project's metrics need of it.

Dates a city exported in more than one format are stored as text by ingest; the
mapping names the formats seen, and :func:`parse_datetime` turns such a column into
timestamps on any engine, a value that fits none of the formats becoming null.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from ridp.ingest.mapping import CANONICAL_FIELDS

__all__ = ["CanonicalMapping", "Needs", "parse_datetime"]

ISO = "ISO 8601"
DATE_FIELDS = ("opened", "closed")


@dataclass(frozen=True)
class CanonicalMapping:
    """Which of a dataset's columns hold the canonical service-request fields.

    Parameters
    ----------
    fields
        Canonical field (``id``, ``type``, ``opened``, ``closed``, ``status``,
        ``agency``, ``channel``, ``latitude``, ``longitude``, ``address``) to column name.
    date_formats
        For date fields stored as text: the formats seen (``"ISO 8601"`` or strptime).
    areas
        Columns that name an area (neighbourhood, ward, tract...).
    timezone
        The city's time zone (informative; readiness compares local times).

    Examples
    --------
    >>> m = CanonicalMapping.from_stored({"id": {"column": "CaseID"}, "opened": {"column": "Opened",
    ...     "date_formats": ["ISO 8601"]}}, ["Neighborhood"], "America/Los_Angeles")
    >>> m.column("opened"), m.date_formats["opened"], m.areas
    ('Opened', ('ISO 8601',), ('Neighborhood',))
    """

    fields: Mapping[str, str] = field(default_factory=dict)
    date_formats: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    areas: tuple[str, ...] = ()
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        unknown = sorted(set(self.fields) - set(CANONICAL_FIELDS))
        if unknown:
            raise ValueError(f"unknown canonical field(s) {unknown}; known: {', '.join(CANONICAL_FIELDS)}")
        object.__setattr__(self, "fields", dict(self.fields))
        object.__setattr__(self, "date_formats", {k: tuple(v) for k, v in self.date_formats.items()})
        object.__setattr__(self, "areas", tuple(self.areas))

    @classmethod
    def from_stored(
        cls, fields: Mapping[str, Any], areas: Sequence[str] = (), timezone: str = "UTC"
    ) -> CanonicalMapping:
        """From a stored mapping's JSON (``{field: {"column", "date_formats", ...}}``)."""
        columns = {k: str(v["column"]) for k, v in fields.items() if isinstance(v, Mapping) and v.get("column")}
        formats = {
            k: tuple(str(f) for f in v.get("date_formats") or ())
            for k, v in fields.items()
            if isinstance(v, Mapping) and v.get("column") and v.get("date_formats")
        }
        return cls(columns, formats, tuple(areas), timezone)

    def column(self, name: str) -> str | None:
        return self.fields.get(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fields": dict(self.fields),
            "date_formats": {k: list(v) for k, v in self.date_formats.items()},
            "areas": list(self.areas),
            "timezone": self.timezone,
        }


@dataclass(frozen=True)
class Needs:
    """What the project's metrics need of a dataset: the verdict is judged against this.

    Parameters
    ----------
    fields
        Canonical fields the metrics read (``opened``, ``closed``, ``type``...).
    start, end
        The period the metrics need (baseline and after), if known.
    years
        Years of history needed (trend and seasonality need two at least).
    areas
        Whether the metrics are disaggregated by place (an area column or coordinates).
    metrics
        The names of the metrics these needs come from, to explain the verdict.

    Examples
    --------
    >>> Needs(fields=("opened", "closed"), years=2).to_dict()["fields"]
    ['opened', 'closed']
    """

    fields: tuple[str, ...] = ("opened",)
    start: date | None = None
    end: date | None = None
    years: float = 1.0
    areas: bool = False
    metrics: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.fields) - set(CANONICAL_FIELDS))
        if unknown:
            raise ValueError(f"unknown canonical field(s) {unknown}; known: {', '.join(CANONICAL_FIELDS)}")
        if self.start and self.end and self.end < self.start:
            raise ValueError("the needed period ends before it starts")
        object.__setattr__(self, "fields", tuple(dict.fromkeys(self.fields)))
        object.__setattr__(self, "metrics", tuple(self.metrics))

    def to_dict(self) -> dict[str, Any]:
        return {
            "fields": list(self.fields),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "years": self.years,
            "areas": self.areas,
            "metrics": list(self.metrics),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Needs:
        return cls(
            fields=tuple(data.get("fields") or ("opened",)),
            start=date.fromisoformat(data["start"]) if data.get("start") else None,
            end=date.fromisoformat(data["end"]) if data.get("end") else None,
            years=float(data.get("years") or 1.0),
            areas=bool(data.get("areas")),
            metrics=tuple(data.get("metrics") or ()),
        )


_STRPTIME_PARTS = {
    "%Y": r"\d{4}", "%y": r"\d{2}", "%m": r"\d{1,2}", "%d": r"\d{1,2}", "%H": r"\d{1,2}", "%I": r"\d{1,2}",
    "%M": r"\d{1,2}", "%S": r"\d{1,2}", "%p": r"(AM|PM|am|pm)", "%f": r"\d{1,9}", "%b": r"[A-Za-z]{3}",
    "%B": r"[A-Za-z]+", "%z": r"[+-]\d{2}:?\d{2}", "%Z": r"[A-Z]{2,5}", "%j": r"\d{1,3}", "%a": r"[A-Za-z]{3}",
    "%A": r"[A-Za-z]+", "%%": "%",
}  # fmt: skip
_ISO_RE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$"


def format_regex(fmt: str) -> str:
    """A regular expression that a value written in strptime format ``fmt`` matches.

    Examples
    --------
    >>> import re
    >>> bool(re.match(format_regex("%m/%d/%Y %I:%M:%S %p"), "04/05/2023 01:22:00 PM"))
    True
    """
    if fmt == ISO:
        return _ISO_RE
    out, i = [], 0
    while i < len(fmt):
        part = fmt[i : i + 2]
        if part in _STRPTIME_PARTS:
            out.append(_STRPTIME_PARTS[part])
            i += 2
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return "^" + "".join(out) + "$"


@ibis.udf.scalar.builtin(name="try_strptime", signature=((dt.string, dt.string), dt.timestamp))  # type: ignore[untyped-decorator]
def _try_strptime(value: str, format: str) -> None:
    """DuckDB's ``try_strptime``: null, not an error, for a value the format does not fit."""


@ibis.udf.scalar.builtin(name="try_strptime", signature=((dt.string, dt.string), dt.Timestamp(timezone="UTC")))  # type: ignore[untyped-decorator]
def _try_strptime_tz(value: str, format: str) -> None:
    """``try_strptime`` of a format with an offset (``%z``): DuckDB gives an instant (TIMESTAMPTZ)."""


@ibis.udf.scalar.builtin(name="timezone", signature=((dt.string, dt.Timestamp(timezone="UTC")), dt.timestamp))  # type: ignore[untyped-decorator]
def _local(zone: str, value: object) -> None:
    """DuckDB's ``timezone(zone, instant)``: the wall-clock time in ``zone``."""


def _duckdb_try_strptime(text: ir.StringValue, fmt: str, timezone: str) -> ir.TimestampValue:
    if "%z" in fmt or "%Z" in fmt:
        return _local(timezone, _try_strptime_tz(text, fmt))
    return _try_strptime(text, fmt)


def parse_datetime(
    column: ir.Column, formats: Sequence[str] = (), *, engine: str = "duckdb", timezone: str = "UTC"
) -> ir.TimestampValue:
    """``column`` as local (wall-clock) timestamps: typed dates pass through; text is parsed with ``formats``.

    A value that fits none of the formats is null (never an error), so one odd row
    cannot stop a whole profile. Instants (a time zone or an offset in the value) are
    shown in the city's ``timezone`` on DuckDB, in UTC elsewhere.
    """
    kind = column.type()
    if kind.is_timestamp():
        if getattr(kind, "timezone", None):
            if engine == "duckdb":
                return _local(timezone, column)
            return column.cast("timestamp")
        return column
    if kind.is_date():
        return column.cast("timestamp")
    if not kind.is_string():
        return ibis.null().cast("timestamp")
    # Not trimmed: trimming every value costs more than parsing it (a padded date is counted as unparsed).
    text: ir.StringValue = column
    values: list[ir.TimestampValue] = []
    for fmt in formats or (ISO,):
        if fmt == ISO:
            # ISO text casts directly; anything else becomes null, never an error
            # (only text shaped like ISO: the engines' casts accept other shapes, e.g. 2024/01/04, ignoring offsets)
            iso_shaped = text.substr(4, 1) == "-"
            values.append(ibis.cases((iso_shaped, text.try_cast("timestamp")), else_=ibis.null().cast("timestamp")))
        elif engine == "duckdb":
            values.append(_duckdb_try_strptime(text, fmt, timezone))
        else:
            guard = text.re_search(format_regex(fmt))
            values.append(ibis.cases((guard, text.as_timestamp(fmt)), else_=ibis.null().cast("timestamp")))
    return values[0] if len(values) == 1 else ibis.coalesce(*values)
