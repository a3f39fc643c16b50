"""The evaluation tests read the demo city the way the readiness tests do: ingested once per session."""

from tests.readiness.conftest import readiness_con, readiness_store, stored_table

__all__ = ["readiness_con", "readiness_store", "stored_table"]
