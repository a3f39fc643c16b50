"""Data readiness: is there sufficient quality data for the project's metrics?

``ridp.readiness(table, mapping=..., needs=...)`` (or :func:`assess`) profiles
every column, runs the declared checks, scores seven dimensions 0-100 and gives
a verdict — insufficient, proceed with caution, sufficient — against what the
project's metrics need, with the findings behind every point lost. It works on
any Ibis table and never imports Django.

Examples
--------
>>> import ibis, pandas as pd
>>> import ridp.readiness
>>> t = ibis.memtable(pd.DataFrame({"id": ["a", "b", "b"], "opened": ["2024-01-01", "2024-01-02", "N/A"]}))
>>> r = ridp.readiness(t, mapping=ridp.readiness.CanonicalMapping({"id": "id", "opened": "opened"}))
>>> r.verdict.level, r.column("opened").placeholders
('insufficient', 1)
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ridp.readiness._assess import PLACEHOLDER_TEXT, assess
from ridp.readiness._canonical import CanonicalMapping, Needs, parse_datetime
from ridp.readiness.checks import Check, CheckSpecError, CheckSuite, default_checks, load_checks
from ridp.readiness.result import (
    DIMENSIONS,
    LEVELS,
    CheckResult,
    ColumnProfile,
    CoordinateCounts,
    DimensionScore,
    Readiness,
    TableProfile,
    Verdict,
)

__all__ = [
    "DIMENSIONS",
    "LEVELS",
    "PLACEHOLDER_TEXT",
    "CanonicalMapping",
    "Check",
    "CheckResult",
    "CheckSpecError",
    "CheckSuite",
    "ColumnProfile",
    "CoordinateCounts",
    "DimensionScore",
    "Needs",
    "Readiness",
    "TableProfile",
    "Verdict",
    "assess",
    "default_checks",
    "load_checks",
    "parse_datetime",
]


class _CallableModule(types.ModuleType):
    """Lets a notebook write ``ridp.readiness(table, ...)`` for :func:`assess`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Readiness:
        return assess(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
