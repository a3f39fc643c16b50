"""ridp: run a city's Resident Impact Data Project, from the first problem statement
to a measured change in residents' lives.

The public face for notebooks and scripts::

    import ridp
    con = ridp.connect("duckdb://:memory:")          # or postgresql://..., spark://local
    city = ridp.generate_city("demo-city", rows=10_000)
    levels = ridp.service_levels(table, mapping, by=("type", "area"))   # ridp.analysis
    placed = ridp.assign_areas(table, ridp.Boundaries.from_file("tracts.geojson"), mapping=mapping)
    spots = ridp.hot_spots(placed.table, area="area_id", boundaries=tracts, population=people)
    gaps = ridp.disparities(placed.table, mapping, by="area_id", census=acs, baseline="population")
    result = ridp.evaluate(outcomes, ridp.AnalysisPlan.from_yaml(text))  # ridp.evaluation: pilots

The analytical core (``ridp.readiness``, ``ridp.analysis``, ``ridp.evaluation``,
``ridp.privacy``, ``ridp.strategy``) works on Ibis tables and never imports
Django; the store is :mod:`ridp.workspace`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ridp.analysis import Boundaries, assign_areas, discovery_rate, disparities, hot_spots, service_levels, trends
from ridp.demo import DemoCity, generate_city
from ridp.engine import connect, load_parquet
from ridp.errors import RidpError

try:
    __version__ = version("ridp")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = [
    "AnalysisPlan",
    "Boundaries",
    "DemoCity",
    "RidpError",
    "__version__",
    "assign_areas",
    "connect",
    "discovery_rate",
    "disparities",
    "evaluate",
    "generate_city",
    "hot_spots",
    "load_parquet",
    "service_levels",
    "trends",
]


#: Loaded on first use: the evaluation core brings statsmodels and pyfixest, which a notebook that only
#: profiles or analyses data should not wait for.
_LAZY = {"AnalysisPlan": "ridp.evaluation.plan", "evaluate": "ridp.evaluation.evaluate"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ridp' has no attribute {name!r}")
