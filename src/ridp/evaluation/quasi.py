"""The result of a quasi-experimental estimate: an :class:`~ridp.evaluation.estimators.Estimate` with its detail.

Difference-in-differences, event studies, interrupted time series and synthetic control each return a
:class:`QuasiEstimate`: the same effect, standard error, interval, p-value, n, method and spec as an
experimental estimate (so residents' terms, Holm correction, storage and pages treat them alike), plus

* ``detail``: the rows behind the number — the 2×2 cell means, ATT(g,t), the event-study coefficients, the
  fitted and counterfactual series, the donor weights and placebo gaps — as plain records (:meth:`detail_frame`);
* ``facts``: named numbers the summary states (a pre-trend test, a rate ratio, an RMSPE ratio);
* a :meth:`chart` fitted to the method: an event-study plot, a series with its counterfactual, a synthetic
  control beside its placebos.

The estimate's ``effect`` is always in the outcome's own units with no effect at 0, so a rate ratio of an
interrupted time series is a fact beside it, never the effect itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from ridp.analysis._values import plain
from ridp.evaluation.estimators import Estimate

__all__ = ["DETAIL_KINDS", "QuasiEstimate"]

#: What ``detail`` holds, by kind; the chart and the summary follow it.
DETAIL_KINDS: Final = {
    "cells": "the four cell means of a 2×2 difference-in-differences",
    "event_study": "effects by time relative to treatment (event time), with pointwise and uniform intervals",
    "series": "the observed series, the fitted values and the counterfactual without the intervention",
    "synthetic": "the treated unit, its synthetic control and every placebo's gap, by period",
}


@dataclass(frozen=True)
class QuasiEstimate(Estimate):
    """An :class:`Estimate` from observational data, with the rows and facts behind it."""

    detail_kind: str = ""
    detail: tuple[Mapping[str, Any], ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    tables: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)

    def detail_frame(self, name: str | None = None) -> pd.DataFrame:
        """``detail`` as a table, or one of ``tables`` by name (ATT(g,t), group effects, donor weights...)."""
        rows = self.detail if name is None else self.tables[name]
        return pd.DataFrame([dict(r) for r in rows])

    def summary(self) -> str:
        lines = super().summary().split("\n")
        if self.detail_kind == "series":
            lines[2] = f"n = {self.n:,} periods ({self.n_treated:,} from the change on)."
        elif self.detail_kind == "synthetic":
            weights = len(self.tables.get("weights", ()))
            lines[2] = f"n = {self.n:,} unit-periods ({weights} donors; {self.n_treated} periods after the start)."
        for key, value in self.facts.items():
            if isinstance(value, str):
                lines.append(f"{key}: {value}")
            elif isinstance(value, float):
                lines.append(f"{key}: {value:,.4g}")
            else:
                lines.append(f"{key}: {value}")
        return "\n".join(lines)

    def chart(self) -> Any:
        """The method's own chart (event study, series with counterfactual, synthetic control), else the effect."""
        from ridp.evaluation import _quasi_charts as charts

        drawer = {"event_study": charts.event_study, "series": charts.series, "synthetic": charts.synthetic,
                  "cells": charts.cells}.get(self.detail_kind)  # fmt: skip
        return super().chart() if drawer is None or not self.detail else drawer(self)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update(
            kind="quasi_estimate",
            detail_kind=self.detail_kind,
            detail=[_plain_row(r) for r in self.detail],
            facts={k: plain(v) for k, v in self.facts.items()},
            tables={k: [_plain_row(r) for r in rows] for k, rows in self.tables.items()},
        )
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> QuasiEstimate:
        base = Estimate.from_dict({k: v for k, v in d.items() if k in Estimate.__dataclass_fields__})
        values = {k: getattr(base, k) for k in Estimate.__dataclass_fields__}
        return cls(
            **values,
            detail_kind=str(d.get("detail_kind") or ""),
            detail=tuple(dict(r) for r in d.get("detail") or ()),
            facts=dict(d.get("facts") or {}),
            tables={k: tuple(dict(r) for r in rows) for k, rows in (d.get("tables") or {}).items()},
        )


def _plain_row(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        value = plain(v)
        out[str(k)] = None if isinstance(value, float) and not math.isfinite(value) else value
    return out
