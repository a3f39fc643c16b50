"""Which area each request is in: a point-in-polygon join on the engine.

``assign_areas(table, boundaries, lat=..., lon=...)`` adds one column (the area
id, ``area_id`` by default) to a table of points. The join runs where the data is:
DuckDB with its spatial extension, PostgreSQL with PostGIS. Spark has no spatial
join here (Apache Sedona's jars cannot be fetched): there the call raises
:class:`~ridp.errors.EngineGapError`, a gap the parity suite declares. The result
is meant to be stored once per dataset version and boundary version; every other
analysis then groups by the stored id on any engine.

Coordinates are never dropped silently. Each row is one of:

``assigned``   inside an area;
``swapped``    latitude and longitude exchanged (the exchanged point is in the
               city; it is assigned as exchanged, and counted);
``missing``    no latitude or no longitude;
``zero``       both zero (a placeholder, not a place);
``invalid``    not a coordinate at all (latitude beyond ±90 or longitude beyond ±180);
``outside``    a real coordinate outside every area (or exactly on a boundary line,
               which belongs to no area's interior).

Part of the analytical core: Ibis only, never Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from ridp.analysis._values import engine_of as _engine
from ridp.analysis._values import plain as _plain
from ridp.analysis.boundaries import Boundaries
from ridp.errors import EngineGapError, FieldError
from ridp.readiness._canonical import CanonicalMapping

__all__ = ["STATUSES", "AreaAssignment", "assign_areas"]

STATUSES: Final = ("assigned", "swapped", "missing", "zero", "invalid", "outside")
EXAMPLES: Final = 5
_MEANING: Final = {
    "swapped": "latitude and longitude exchanged; assigned after exchanging them",
    "missing": "no latitude or no longitude",
    "zero": "latitude and longitude both zero (a placeholder)",
    "invalid": "not a coordinate (latitude beyond ±90 or longitude beyond ±180)",
    "outside": "outside every area, or exactly on a boundary line",
}


@ibis.udf.scalar.builtin(name="st_geomfromwkb", signature=((dt.binary,), dt.geometry))  # type: ignore[untyped-decorator]
def _geometry(wkb: bytes) -> None:
    """DuckDB spatial and PostGIS: a geometry from well-known binary."""


@ibis.udf.scalar.builtin(name="st_point", signature=((dt.float64, dt.float64), dt.geometry))  # type: ignore[untyped-decorator]
def _point(x: float, y: float) -> None:
    """DuckDB spatial and PostGIS: the point (x, y)."""


@dataclass(frozen=True)
class AreaAssignment:
    """Points assigned to areas: the table with its area column, and what could not be placed.

    ``table`` is an Ibis expression (the input's columns plus ``column``); store it
    with ``table.to_parquet(...)``. ``counts`` has one entry per status
    (see :data:`STATUSES`); ``per_area`` the requests in each area, every area
    listed (zero where none fell).
    """

    table: ir.Table | None
    boundaries: str
    column: str
    rows: int
    counts: Mapping[str, int]
    per_area: Mapping[str, int]
    examples: Mapping[str, tuple[dict[str, Any], ...]]
    boundary_problems: tuple[str, ...] = ()
    engine: str = ""

    @property
    def assigned(self) -> int:
        return int(self.counts.get("assigned", 0)) + int(self.counts.get("swapped", 0))

    @property
    def rate(self) -> float:
        """Share of rows placed in an area."""
        return self.assigned / self.rows if self.rows else 0.0

    def summary(self) -> str:
        lines = [
            f"{self.assigned:,} of {self.rows:,} rows ({self.rate:.1%}) placed in the {len(self.per_area)} areas "
            f"of {self.boundaries} (column {self.column!r})."
        ]
        for status in STATUSES[1:]:
            n = int(self.counts.get(status, 0))
            if n:
                lines.append(f"{n:,} {_MEANING[status]}.")
        empty = [a for a, n in self.per_area.items() if n == 0]
        if empty:
            lines.append(f"{len(empty)} area(s) with no rows: {', '.join(empty[:EXAMPLES])}.")
        lines += list(self.boundary_problems)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "boundaries": self.boundaries,
            "column": self.column,
            "rows": self.rows,
            "counts": dict(self.counts),
            "per_area": dict(self.per_area),
            "examples": {k: [dict(r) for r in v] for k, v in self.examples.items()},
            "boundary_problems": list(self.boundary_problems),
            "engine": self.engine,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AreaAssignment:
        return cls(
            table=None,
            boundaries=str(data["boundaries"]),
            column=str(data["column"]),
            rows=int(data["rows"]),
            counts={str(k): int(v) for k, v in data["counts"].items()},
            per_area={str(k): int(v) for k, v in data["per_area"].items()},
            examples={str(k): tuple(dict(r) for r in v) for k, v in data.get("examples", {}).items()},
            boundary_problems=tuple(str(x) for x in data.get("boundary_problems", ())),
            engine=str(data.get("engine", "")),
        )


def _coordinate(table: ir.Table, name: str, field: str) -> ir.FloatingValue:
    if name not in table.columns:
        raise FieldError(field, f"the table has no column {name!r}")
    value = table[name]
    if value.type().is_numeric():
        return value.cast("float64")
    if value.type().is_string():
        return value.strip().nullif("").try_cast("float64")  # text that is not a number: missing
    raise FieldError(field, f"column {name!r} holds {value.type()}, not numbers")


def assign_areas(
    table: ir.Table,
    boundaries: Boundaries,
    *,
    lat: str | None = None,
    lon: str | None = None,
    mapping: CanonicalMapping | None = None,
    column: str = "area_id",
    id_column: str | None = None,
    write: str | Path | None = None,
) -> AreaAssignment:
    """Assign each row's point to the area that contains it (see the module text).

    ``lat``/``lon`` name the coordinate columns, or come from ``mapping``
    (its ``latitude``/``longitude`` fields). ``id_column`` (or the mapping's ``id``)
    names the column shown in examples. ``write`` stores the rows with their area ids as Parquet
    from the same computation (the join runs once); ``.table`` recomputes it when read.

    Examples
    --------
    >>> import ibis
    >>> from shapely.geometry import box
    >>> areas = Boundaries.from_records(["W", "E"], [box(0, 0, 1, 1), box(1, 0, 2, 1)], name="halves")
    >>> points = ibis.memtable({"latitude": [0.5, 0.5, None, 0.0], "longitude": [0.5, 1.5, 1.0, 0.0]})
    >>> result = assign_areas(points, areas, lat="latitude", lon="longitude")
    >>> result.per_area, result.counts["missing"], result.counts["zero"]
    ({'E': 1, 'W': 1}, 1, 1)
    """
    if mapping is not None:
        lat = lat or mapping.fields.get("latitude")
        lon = lon or mapping.fields.get("longitude")
        id_column = id_column or mapping.fields.get("id")
    if not lat or not lon:
        raise FieldError("latitude" if not lat else "longitude", "name the coordinate columns (lat=, lon=) or map them")
    if column in table.columns:
        raise FieldError("column", f"the table has a column {column!r} already; choose another name for the area ids")
    engine = _engine(table)
    if engine == "pyspark":
        raise EngineGapError(
            "assigning points to areas needs a spatial join, which Spark cannot run here (Apache Sedona is not "
            "installed); assign in DuckDB or PostgreSQL with PostGIS, store the area ids, and analyse them on Spark"
        )
    x, y = _coordinate(table, lon, "longitude"), _coordinate(table, lat, "latitude")
    status = _located(x, y, boundaries.bounds)
    located = status.isin(("candidate", "swapped"))
    # Points outside the city's box get no point at all: the join leaves them without an area.
    base = table.mutate(
        _ridp_status=status,
        _ridp_x=ibis.cases((status == "swapped", y), (located, x), else_=ibis.null("float64")),
        _ridp_y=ibis.cases((status == "swapped", x), (located, y), else_=ibis.null("float64")),
    )
    base = base.mutate(_ridp_point=_point(base._ridp_x, base._ridp_y))
    polys = ibis.memtable(
        pa.table(
            {
                "_ridp_area": pa.array(list(boundaries.ids), pa.string()),
                "_ridp_wkb": pa.array(boundaries.wkb(), pa.binary()),
            }
        )
    )
    polys = polys.mutate(_ridp_geom=_geometry(polys._ridp_wkb)).drop("_ridp_wkb")
    # One left spatial join over every row (DuckDB plans it as its SPATIAL_JOIN; PostGIS as a join on
    # ST_Contains): the boundaries are disjoint, so a row meets at most one area.
    matched = base.left_join(polys, polys._ridp_geom.contains(base._ridp_point))
    keep = list(table.columns)
    combined = matched.select(
        *keep, **{column: matched._ridp_area, "_ridp_status": _final(matched._ridp_status, matched._ridp_area)}
    )
    return _summarise(combined, boundaries, column, id_column, lat, lon, engine, write)


def _located(x: ir.FloatingValue, y: ir.FloatingValue, bounds: tuple[float, float, float, float]) -> ir.StringValue:
    """Where a coordinate pair stands before the join: missing, zero, candidate (in the city's box),
    swapped (in the box once exchanged), invalid (not a coordinate) or outside."""
    west, south, east, north = bounds

    def inside(px: ir.FloatingValue, py: ir.FloatingValue) -> ir.BooleanValue:
        return px.between(west, east) & py.between(south, north)

    return ibis.cases(
        (x.isnull() | y.isnull(), "missing"),
        ((x == 0) & (y == 0), "zero"),
        (inside(x, y), "candidate"),
        (inside(y, x), "swapped"),
        ((y.abs() > 90) | (x.abs() > 180), "invalid"),
        else_="outside",
    )


def _final(located: ir.StringValue, area: ir.StringValue) -> ir.StringValue:
    """The row's status once the join is done: a located point without an area is outside every area."""
    return ibis.cases(
        (area.notnull() & (located == "swapped"), "swapped"),
        (area.notnull(), "assigned"),
        (located.isin(("candidate", "swapped")), "outside"),
        else_=located,
    )


def _summarise(
    combined: ir.Table,
    boundaries: Boundaries,
    column: str,
    id_column: str | None,
    lat: str,
    lon: str,
    engine: str,
    write: str | Path | None,
) -> AreaAssignment:
    if write is not None and engine == "duckdb":
        # The join runs once, straight into the file; the counts are read back from the file, where each
        # row's status follows from its coordinates and its area without another join.
        combined.drop("_ridp_status").to_parquet(write)
        stored = combined._find_backend().read_parquet(str(write))
        x, y = _coordinate(stored, lon, "longitude"), _coordinate(stored, lat, "latitude")
        stored = stored.mutate(_ridp_status=_final(_located(x, y, boundaries.bounds), stored[column]))
        counts, per_area, examples = _tally(stored, boundaries, column, [c for c in (id_column, lat, lon) if c])
    else:
        cached = combined.cache()
        try:
            if write is not None:
                cached.drop("_ridp_status").to_parquet(write)
            counts, per_area, examples = _tally(cached, boundaries, column, [c for c in (id_column, lat, lon) if c])
        finally:
            # A cached table outliving its connection fails when it is collected: release it now.
            cached.release()
    return AreaAssignment(
        table=combined.drop("_ridp_status"),
        boundaries=boundaries.name,
        column=column,
        rows=sum(counts.values()),
        counts=counts,
        per_area=per_area,
        examples=examples,
        boundary_problems=tuple(p.message for p in boundaries.problems),
        engine=engine,
    )


def _tally(
    cached: ir.Table, boundaries: Boundaries, column: str, shown: list[str]
) -> tuple[dict[str, int], dict[str, int], dict[str, tuple[dict[str, Any], ...]]]:
    tally = cached.group_by(["_ridp_status", column]).agg(n=cached.count()).execute()
    counts = {s: 0 for s in STATUSES}
    per_area = dict.fromkeys(boundaries.ids, 0)
    for row in tally.itertuples(index=False):
        status, area, n = str(row[0]), row[1], int(row[2])
        counts[status] = counts.get(status, 0) + n
        if area is not None and isinstance(area, str):
            per_area[area] = per_area.get(area, 0) + n
    examples: dict[str, tuple[dict[str, Any], ...]] = {}
    for status in STATUSES[1:]:
        if counts.get(status):
            rows = cached.filter(cached._ridp_status == status).select(*shown).order_by(shown).limit(EXAMPLES).execute()
            examples[status] = tuple({k: _plain(v) for k, v in r.items()} for r in rows.to_dict("records"))
    return counts, per_area, examples
