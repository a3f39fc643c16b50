"""Resident-impact analysis: service levels, trends, the composite score, places and equity (PROGRAM.md §6).

``ridp.analysis.service_levels(table, mapping, by=("type",))``, ``trends(...)``,
``assign_areas(...)``, ``hot_spots(...)`` and ``disparities(...)`` work on any Ibis table and
return frozen results with ``.to_pandas()``, ``.summary()`` and a chart or map. Part of the
analytical core: it never imports Django.
"""

from __future__ import annotations

from ridp.analysis.addresses import AddressMatch, match_addresses, normalise_address
from ridp.analysis.assign import AreaAssignment, assign_areas
from ridp.analysis.boundaries import Boundaries, BoundaryProblem
from ridp.analysis.calendar import WorkCalendar
from ridp.analysis.census import CensusTable, read_acs
from ridp.analysis.composite import WINDOWS, Composite, composite
from ridp.analysis.disparities import Disparities, disparities
from ridp.analysis.equity import ResourceScores, resource_scores
from ridp.analysis.gaps import ServiceGaps, service_gaps
from ridp.analysis.hotspots import HotSpots, hot_spots
from ridp.analysis.maps import choropleth, point_map
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
    "AddressMatch",
    "AreaAssignment",
    "Boundaries",
    "BoundaryProblem",
    "CensusTable",
    "Composite",
    "DiscoveryRate",
    "Disparities",
    "HotSpots",
    "LeftOut",
    "LevelChange",
    "MetricValue",
    "ResourceScores",
    "Seasonality",
    "ServiceGaps",
    "ServiceLevels",
    "TargetTable",
    "Trends",
    "WorkCalendar",
    "assign_areas",
    "choropleth",
    "composite",
    "data_as_of",
    "discovery_rate",
    "disparities",
    "hot_spots",
    "match_addresses",
    "metric_value",
    "normalise_address",
    "point_map",
    "read_acs",
    "resource_scores",
    "service_gaps",
    "service_levels",
    "trends",
]
