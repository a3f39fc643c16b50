"""ridp: run a city's Resident Impact Data Project, from the first problem statement
to a measured change in residents' lives.

The public face for notebooks and scripts::

    import ridp
    con = ridp.connect("duckdb://:memory:")          # or postgresql://..., spark://local
    city = ridp.generate_city("demo-city", rows=10_000)
    levels = ridp.service_levels(table, mapping, by=("type", "area"))   # ridp.analysis

The analytical core (``ridp.readiness``, ``ridp.analysis``, ``ridp.evaluation``,
``ridp.privacy``, ``ridp.strategy``) works on Ibis tables and never imports
Django; the store is :mod:`ridp.workspace`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ridp.analysis import discovery_rate, service_levels, trends
from ridp.demo import DemoCity, generate_city
from ridp.engine import connect, load_parquet
from ridp.errors import RidpError

try:
    __version__ = version("ridp")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = [
    "DemoCity",
    "RidpError",
    "__version__",
    "connect",
    "discovery_rate",
    "generate_city",
    "load_parquet",
    "service_levels",
    "trends",
]
