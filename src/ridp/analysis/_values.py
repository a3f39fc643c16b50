"""Small helpers every analysis result shares: JSON-safe values and the engine a table runs on."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import ibis.expr.types as ir
import pandas as pd

__all__ = ["engine_of", "plain"]


def plain(value: Any) -> Any:
    """A value as plain JSON-safe Python: missing, NaN and infinite numbers are None; numpy scalars
    their Python value; timestamps ISO text (a date alone at midnight)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if hasattr(value, "item"):
        return plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def engine_of(table: ir.Table) -> str:
    """The name of the engine ``table`` runs on (an unbound memtable: DuckDB, Ibis's default)."""
    try:
        return str(table.get_backend().name)
    except Exception:  # an unbound memtable: DuckDB runs it
        return "duckdb"
