"""A city's own history as the outcome a pilot will move: days to close per closed request, on the engine.

Power by simulation resamples the city's catalogued history (:func:`ridp.evaluation.power.simulate_power`).
For a service-request dataset the outcome is usually the days a request waited to be closed, which the export
holds as two text or timestamp columns. :func:`request_history` derives it where the data is, with the dates
parsed by the dataset's canonical mapping, and keeps the column that groups requests into clusters.

Open requests are left out: their wait is not known yet. That makes the history's waits a little shorter and
less spread than the truth, so the power it gives is, if anything, slightly optimistic; the result says so.

Examples
--------
>>> import ibis
>>> from ridp.readiness._canonical import CanonicalMapping
>>> t = ibis.memtable({"opened": ["2024-01-01T08:00:00", "2024-01-02T08:00:00", "2024-01-03T08:00:00"],
...                    "closed": ["2024-01-03T08:00:00", None, "2024-01-03T20:00:00"],
...                    "area": ["N01", "N01", "N02"], "kind": ["Pothole", "Pothole", "Graffiti"]})
>>> m = CanonicalMapping.from_stored({"opened": {"column": "opened"}, "closed": {"column": "closed"},
...                                   "type": {"column": "kind"}}, [], "UTC")
>>> request_history(t, m, cluster="area").to_pandas().to_dict("records")
[{'days_to_close': 2.0, 'area': 'N01'}, {'days_to_close': 0.5, 'area': 'N02'}]
>>> request_history(t, m, types=["Graffiti"]).count().execute()
1
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

import ibis
import ibis.expr.types as ir

from ridp.analysis._values import engine_of
from ridp.errors import FieldError
from ridp.readiness._canonical import CanonicalMapping, parse_datetime

__all__ = ["OUTCOME", "request_history"]

#: The name of the derived outcome column.
OUTCOME: Final = "days_to_close"


def request_history(
    table: ir.Table,
    mapping: CanonicalMapping,
    *,
    types: Sequence[str] = (),
    cluster: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> ir.Table:
    """Closed requests' days to close (``days_to_close``), with the ``cluster`` column if one is named.

    Parameters
    ----------
    table
        A service-request dataset.
    mapping
        Its canonical mapping: ``opened`` and ``closed`` are needed, ``type`` when ``types`` is given.
    types
        Keep only these request types (the values of the mapped ``type`` column).
    cluster
        A column of ``table`` whose values group requests (a neighbourhood, a crew's district).
    start, end
        Keep requests opened on or after ``start`` and before ``end``.
    """
    opened_col, closed_col = mapping.column("opened"), mapping.column("closed")
    if opened_col is None or closed_col is None:
        missing = "opened" if opened_col is None else "closed"
        raise FieldError("history", f"days to close need the {missing} date: map a column to {missing!r} first")
    if cluster is not None and cluster not in table.columns:
        raise FieldError("cluster", f"no column {cluster!r}; the columns are {', '.join(table.columns)}")
    engine = engine_of(table)

    def parsed(field: str, column: str) -> ir.TimestampValue:
        return parse_datetime(table[column], mapping.date_formats.get(field, ()), engine=engine,
                              timezone=mapping.timezone)  # fmt: skip

    opened, closed = parsed("opened", opened_col), parsed("closed", closed_col)
    keep = opened.notnull() & closed.notnull() & (closed >= opened)
    if types:
        type_col = mapping.column("type")
        if type_col is None:
            raise FieldError("types", "no column is mapped to the request type: map one, or name no types")
        keep &= table[type_col].isin(list(types))
    if start is not None:
        keep &= opened >= ibis.timestamp(start.isoformat())
    if end is not None:
        keep &= opened < ibis.timestamp(end.isoformat())
    seconds = (closed.epoch_seconds() - opened.epoch_seconds()).cast("float64")
    columns: dict[str, ir.Value] = {OUTCOME: seconds / 86400.0}
    if cluster is not None:
        columns[cluster] = table[cluster]
    return table.filter(keep).select(**columns)
