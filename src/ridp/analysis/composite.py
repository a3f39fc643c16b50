"""The composite score, as Boston's CityScore computes it (PROGRAM.md §6).

Each metric's score in a window is its actual value ÷ its target (target ÷ actual
when lower is better): 1 is on target, above 1 better than the target. A window's
composite is the mean of its metric scores; the windows end on the analysis day
and cover the last day, 7 days, 30 days and 91 days (requests opened in them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import ibis.expr.types as ir
import pandas as pd

from ridp.analysis.metric_value import data_as_of, metric_value
from ridp.metrics import MetricSpec
from ridp.readiness._canonical import CanonicalMapping

__all__ = ["WINDOWS", "Composite", "composite"]

#: Window name and its length in days, ending on the analysis day.
WINDOWS: Final[tuple[tuple[str, int], ...]] = (("day", 1), ("week", 7), ("month", 30), ("quarter", 91))


@dataclass(frozen=True, eq=False)
class Composite:
    """Scores per metric and window, and the composite per window and overall."""

    as_of: datetime
    by_window: tuple[tuple[str, float | None], ...]
    overall: float | None
    notes: tuple[str, ...]
    _frame: pd.DataFrame

    def to_pandas(self) -> pd.DataFrame:
        """metric, window, start, end, actual, target, direction, score, requests, spec_hash."""
        return self._frame.copy()

    def window(self, name: str) -> float | None:
        return dict(self.by_window)[name]

    def summary(self) -> str:
        parts = ", ".join(f"{w} {'—' if s is None else f'{s:.2f}'}" for w, s in self.by_window)
        head = "—" if self.overall is None else f"{self.overall:.2f}"
        return f"Composite score {head} (1.00 is on target) as of {self.as_of:%Y-%m-%d}: {parts}." + "".join(
            f"\n{n}" for n in self.notes
        )

    def to_dict(self) -> dict[str, Any]:
        rows = self._frame.astype(object).where(self._frame.notna(), None).to_dict(orient="records")
        return {"kind": "composite", "as_of": self.as_of.isoformat(), "by_window": [list(x) for x in self.by_window],
                "overall": self.overall, "notes": list(self.notes), "rows": rows}  # fmt: skip


def score(actual: float | None, target: float, lower_is_better: bool) -> float | None:
    """actual ÷ target, or target ÷ actual when lower is better (None where it cannot be computed).

    >>> score(5.0, 4.0, True), score(0.8, 0.9, False)
    (0.8, 0.888...)
    """
    if actual is None or math.isnan(actual) or target == 0:
        return None
    if lower_is_better:
        return None if actual == 0 else target / actual
    return actual / target


def composite(
    metrics: Sequence[tuple[MetricSpec, ir.Table, CanonicalMapping]], *, as_of: datetime | None = None
) -> Composite:
    """The composite of ``metrics`` (each spec with the table it reads and that table's mapping).

    ``as_of`` defaults to the latest time in the first metric's data; every window ends on its day.
    """
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for spec, table, mapping in metrics:
        moment = as_of or data_as_of(table, mapping) or datetime.now()
        day = moment.date()
        for name, length in WINDOWS:
            start = day - timedelta(days=length - 1)
            value = metric_value(spec, table, mapping, start=start, end=day, as_of=moment)
            s = score(value.value, spec.target.value, spec.direction == "lower_is_better")
            rows.append({"metric": spec.name, "window": name, "start": start, "end": day, "actual": value.value,
                         "target": spec.target.value, "direction": spec.direction, "score": s,
                         "requests": value.requests, "spec_hash": value.spec_hash})  # fmt: skip
            if s is None:
                notes.append(f"{spec.name}, {name}: no score ({value.requests} requests; actual {value.value}).")
        as_of = moment
    frame = pd.DataFrame(rows, columns=["metric", "window", "start", "end", "actual", "target", "direction", "score",
                                        "requests", "spec_hash"])  # fmt: skip
    by_window: list[tuple[str, float | None]] = []
    for name, _ in WINDOWS:
        scores = frame.loc[frame["window"] == name, "score"].dropna()
        by_window.append((name, float(scores.mean()) if len(scores) else None))
    known = [s for _, s in by_window if s is not None]
    overall = sum(known) / len(known) if known else None
    return Composite(as_of or datetime.now(), tuple(by_window), overall, tuple(notes), frame)
