"""The frozen answer of a readiness assessment, and its readable forms."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import pandas as pd

__all__ = [
    "DIMENSIONS",
    "LEVELS",
    "CheckResult",
    "ColumnProfile",
    "CoordinateCounts",
    "DimensionScore",
    "Readiness",
    "TableProfile",
    "Verdict",
]

Level = Literal["insufficient", "proceed with caution", "sufficient"]
LEVELS: tuple[Level, ...] = ("insufficient", "proceed with caution", "sufficient")
DIMENSIONS = ("completeness", "validity", "uniqueness", "consistency", "timeliness", "coverage", "history")
MASK = "•••"


def _json(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalars
        return _json(value.item())
    return str(value)


@dataclass(frozen=True)
class ColumnProfile:
    """One column, as read: type, what is missing, its values' range and shapes."""

    name: str
    dtype: str
    rows: int
    nulls: int
    blanks: int = 0  # empty or whitespace-only text
    whitespace: int = 0  # of the blanks, those made only of spaces (not empty)
    placeholders: int = 0  # 'N/A', 1900-01-01, (0, 0)...
    padded: int = 0  # text with leading or trailing spaces
    distinct: int = 0
    distinct_exact: bool = True  # False: estimated (HyperLogLog) for a column of many values in a large table
    min: Any = None
    max: Any = None
    mean: float | None = None
    std: float | None = None
    quantiles: tuple[tuple[float, Any], ...] = ()
    top: tuple[tuple[Any, int], ...] = ()
    patterns: tuple[tuple[str, int], ...] = ()
    patterns_from: int = 0  # rows the patterns were read from
    histogram: tuple[tuple[Any, int], ...] = ()  # (bin start, count) for numbers and dates
    canonical: str | None = None  # the canonical field it holds, if any
    masked: bool = False

    @property
    def missing(self) -> int:
        return self.nulls + self.blanks + self.placeholders

    @property
    def missing_share(self) -> float:
        return self.missing / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class CoordinateCounts:
    """Where the points are, against the city's boundary (a bounding box)."""

    inside: int = 0
    outside: int = 0
    swapped: int = 0  # latitude and longitude exchanged: inside once swapped back
    zero: int = 0  # the (0, 0) placeholder
    missing: int = 0  # latitude or longitude empty
    boundary: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    boundary_source: str = ""  # "given" or "inferred from the data"

    @property
    def total(self) -> int:
        return self.inside + self.outside + self.swapped + self.zero + self.missing


@dataclass(frozen=True)
class TableProfile:
    """The table as a whole: rows, duplicates, time span and gaps, coordinates."""

    rows: int
    columns: int
    exact_duplicate_rows: int = 0
    duplicate_id_rows: int | None = None
    first: datetime | None = None
    last: datetime | None = None
    months: tuple[tuple[str, int], ...] = ()  # ('YYYY-MM', requests) for every month first..last
    empty_months: tuple[str, ...] = ()
    unparsed_dates: Mapping[str, int] = field(default_factory=dict)  # date field -> text values no format fits
    date_formats: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    coordinates: CoordinateCounts | None = None
    no_time: Mapping[str, bool] = field(default_factory=dict)  # date field -> every value is at midnight
    points: tuple[tuple[float, float, str], ...] = ()  # a sample (lon, lat, class) for the map; empty when masked

    @property
    def span_days(self) -> float:
        if self.first is None or self.last is None:
            return 0.0
        return (self.last - self.first).total_seconds() / 86400

    @property
    def years(self) -> float:
        return self.span_days / 365.25


@dataclass(frozen=True)
class CheckResult:
    """One declared check: how many rows fail it, their share, and a few of them."""

    name: str
    kind: str
    columns: tuple[str, ...]
    failing: int
    total: int
    severity: str = "error"
    description: str = ""
    sample: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False)
    error: str | None = None  # the check could not run (a wrong type, say), and why

    @property
    def share(self) -> float:
        return self.failing / self.total if self.total else 0.0

    @property
    def passed(self) -> bool:
        return self.error is None and self.failing == 0


@dataclass(frozen=True)
class DimensionScore:
    """A dimension of quality, 0-100, and the findings that lowered it."""

    name: str
    score: float
    findings: tuple[str, ...] = ()

    @property
    def shown(self) -> str:
        """The score as shown: whole when it is, else to one decimal (99.6 is not 100).

        Examples
        --------
        >>> DimensionScore("validity", 99.6).shown, DimensionScore("history", 100.0).shown
        ('99.6', '100')
        """
        return f"{self.score:.0f}" if self.score == int(self.score) else f"{self.score:.1f}"


@dataclass(frozen=True)
class Verdict:
    """Insufficient, proceed with caution or sufficient, against what the project needs."""

    level: Level
    explanation: str
    fix_first: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Readiness:
    """The answer to "is there sufficient quality data?" for one dataset version.

    Tables are available as DataFrames (:meth:`profile_frame`, :meth:`checks_frame`,
    :meth:`dimensions_frame`); :meth:`to_dict` is JSON-safe and is what the
    workspace stores; :meth:`to_html` is a self-contained report.
    """

    rows: int
    columns: tuple[ColumnProfile, ...]
    table: TableProfile
    checks: tuple[CheckResult, ...]
    dimensions: tuple[DimensionScore, ...]
    verdict: Verdict
    needs: Mapping[str, Any] = field(default_factory=dict)
    mapping: Mapping[str, Any] = field(default_factory=dict)
    checks_yaml: str = ""
    assessed_on: date | None = None
    engine: str = ""
    seconds: float = 0.0

    # -- lookups -------------------------------------------------------------
    def column(self, name: str) -> ColumnProfile:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"no column {name!r}; the columns are: {', '.join(c.name for c in self.columns)}")

    def check(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check {name!r}; the checks are: {', '.join(c.name for c in self.checks)}")

    def dimension(self, name: str) -> DimensionScore:
        for d in self.dimensions:
            if d.name == name:
                return d
        raise KeyError(f"no dimension {name!r}; the dimensions are: {', '.join(DIMENSIONS)}")

    # -- frames --------------------------------------------------------------
    def profile_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "column": c.name, "type": c.dtype, "canonical": c.canonical, "nulls": c.nulls,
                    "blanks": c.blanks, "placeholders": c.placeholders, "missing": c.missing,
                    "missing_share": c.missing_share, "padded": c.padded, "distinct": c.distinct, "distinct_exact": c.distinct_exact,
                    "min": None if c.masked else c.min, "max": None if c.masked else c.max, "mean": c.mean,
                }
                for c in self.columns
            ]
        )  # fmt: skip

    def checks_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "check": c.name, "kind": c.kind, "columns": ", ".join(c.columns), "severity": c.severity,
                    "failing": c.failing, "total": c.total, "share": c.share, "error": c.error,
                }
                for c in self.checks
            ],
            columns=["check", "kind", "columns", "severity", "failing", "total", "share", "error"],
        )  # fmt: skip

    def dimensions_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"dimension": d.name, "score": d.score, "findings": "; ".join(d.findings)} for d in self.dimensions]
        )

    # -- words ---------------------------------------------------------------
    def summary(self) -> str:
        lines = [
            f"Verdict: {self.verdict.level.upper()} — {self.verdict.explanation}",
            f"{self.rows:,} rows, {len(self.columns)} columns"
            + (
                f"; {self.table.first:%Y-%m-%d} to {self.table.last:%Y-%m-%d} ({self.table.years:.1f} years)"
                if self.table.first and self.table.last
                else ""
            ),
            "Scores: " + ", ".join(f"{d.name} {d.shown}" for d in self.dimensions),
        ]
        if self.verdict.fix_first:
            lines.append("Fix first:")
            lines += [f"  {i}. {step}" for i, step in enumerate(self.verdict.fix_first, 1)]
        failing = [c for c in self.checks if not c.passed]
        if failing:
            lines.append("Checks not passed:")
            for c in failing:
                lines.append(
                    f"  - {c.name}: {c.error}"
                    if c.error
                    else f"  - {c.name}: {c.failing:,} of {c.total:,} rows ({c.share:.1%})"
                )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        def check(c: CheckResult) -> dict[str, Any]:
            data = {k: v for k, v in asdict(c).items() if k != "sample"}
            data["share"] = c.share
            data["sample"] = _json(c.sample.astype(object).where(c.sample.notna(), None).to_dict("records"))
            return data

        columns = []
        for c in self.columns:
            data = asdict(c)
            data["missing"] = c.missing
            data["missing_share"] = c.missing_share
            columns.append(data)
        table = asdict(self.table)
        table["span_days"] = self.table.span_days
        return _json(  # type: ignore[no-any-return]
            {
                "rows": self.rows,
                "verdict": asdict(self.verdict),
                "dimensions": [asdict(d) for d in self.dimensions],
                "checks": [check(c) for c in self.checks],
                "table": table,
                "columns": columns,
                "needs": dict(self.needs),
                "mapping": dict(self.mapping),
                "checks_yaml": self.checks_yaml,
                "assessed_on": self.assessed_on,
                "engine": self.engine,
                "seconds": self.seconds,
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Readiness:
        """Rebuild a saved result (what :meth:`to_dict` wrote)."""

        def when(v: Any) -> datetime | None:
            return datetime.fromisoformat(v) if v else None

        def pairs(v: Sequence[Sequence[Any]]) -> tuple[tuple[Any, Any], ...]:
            return tuple((a, b) for a, b in v)

        columns = tuple(
            ColumnProfile(
                **{
                    k: v
                    for k, v in c.items()
                    if k not in ("missing", "missing_share", "quantiles", "top", "patterns", "histogram")
                },
                quantiles=pairs(c["quantiles"]),
                top=pairs(c["top"]),
                patterns=pairs(c["patterns"]),
                histogram=pairs(c["histogram"]),
            )
            for c in data["columns"]
        )
        t = dict(data["table"])
        t.pop("span_days", None)
        coordinates = t.pop("coordinates")
        if coordinates is not None:
            b = coordinates.get("boundary")
            coordinates = CoordinateCounts(**{**coordinates, "boundary": tuple(b) if b else None})
        table = TableProfile(
            **{**t, "first": when(t["first"]), "last": when(t["last"]), "months": pairs(t["months"]),
               "empty_months": tuple(t["empty_months"]), "points": tuple(tuple(p) for p in t.get("points", ())),
               "date_formats": {k: tuple(v) for k, v in t["date_formats"].items()}},
            coordinates=coordinates,
        )  # fmt: skip
        checks = tuple(
            CheckResult(
                **{k: v for k, v in c.items() if k not in ("sample", "share", "columns")},
                columns=tuple(c["columns"]),
                sample=pd.DataFrame(c["sample"]),
            )
            for c in data["checks"]
        )
        v = data["verdict"]
        verdict = Verdict(v["level"], v["explanation"], tuple(v["fix_first"]), tuple(v["risks"]))
        return cls(
            rows=data["rows"],
            columns=columns,
            table=table,
            checks=checks,
            dimensions=tuple(DimensionScore(d["name"], d["score"], tuple(d["findings"])) for d in data["dimensions"]),
            verdict=verdict,
            needs=data.get("needs") or {},
            mapping=data.get("mapping") or {},
            checks_yaml=data.get("checks_yaml") or "",
            assessed_on=date.fromisoformat(data["assessed_on"]) if data.get("assessed_on") else None,
            engine=data.get("engine") or "",
            seconds=float(data.get("seconds") or 0.0),
        )

    def to_html(self, *, title: str | None = None) -> str:
        from ridp.readiness.report import render_html

        return render_html(self, title=title)
