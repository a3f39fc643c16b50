"""Resident-impact analysis: service levels, trends and the composite score (PROGRAM.md §6).

``ridp.analysis.service(table, mapping, by=("type",))`` and
``ridp.analysis.trends(...)`` work on any Ibis table and return frozen results with
``.to_pandas()`` and ``.chart()``. Part of the analytical core: it never imports Django.
"""

from __future__ import annotations

from ridp.analysis.calendar import WorkCalendar
from ridp.analysis.composite import WINDOWS, Composite, composite
from ridp.analysis.metric_value import MetricValue, data_as_of, metric_value
from ridp.analysis.service import (
    BREAKDOWN_FIELDS,
    COLUMNS,
    PERIODS,
    DiscoveryRate,
    LeftOut,
    ServiceLevels,
    TargetTable,
    discovery_rate,
    service_levels,
)
from ridp.analysis.trends import LevelChange, Seasonality, Trends, trends

__all__ = [
    "BREAKDOWN_FIELDS",
    "COLUMNS",
    "PERIODS",
    "WINDOWS",
    "Composite",
    "DiscoveryRate",
    "LeftOut",
    "LevelChange",
    "MetricValue",
    "Seasonality",
    "ServiceLevels",
    "TargetTable",
    "Trends",
    "WorkCalendar",
    "composite",
    "data_as_of",
    "discovery_rate",
    "metric_value",
    "service_levels",
    "trends",
]
