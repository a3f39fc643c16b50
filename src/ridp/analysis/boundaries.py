"""Area boundaries (neighbourhoods, tracts, districts, wards) checked before any point meets them.

``Boundaries.from_file(path)`` reads GeoJSON or a zipped shapefile;
``Boundaries.from_records(...)`` takes what the catalog stored (WKB geometries in
WGS84). Every polygon is checked, and what cannot be used is left out with its
reason, counted and shown with examples:

* no geometry, or a geometry that is not a polygon;
* an invalid polygon (self-crossing rings and the like, in shapely's words);
* a repeated area id (the first is kept);
* coordinates that are not longitude/latitude (a file in another coordinate
  system that does not say so: give ``crs=``).

Overlapping areas and gaps between areas are reported, not fatal: where two areas
overlap, the overlap belongs to the first area in id order (the later polygon is
trimmed for assignment, so every point lands in at most one area); points in a
gap are outside every area and counted as such when points are assigned.

Part of the analytical core: no Django. Boundaries are small (thousands of
polygons at most), so they are checked here with shapely, then handed to the
engine as well-known binary for the point-in-polygon join
(:func:`ridp.analysis.assign.assign_areas`).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import shapely
from shapely.geometry import mapping as shape_mapping
from shapely.geometry import shape

from ridp.errors import FieldError, FileFormatError

__all__ = ["MAX_AREAS", "Boundaries", "BoundaryProblem"]

MAX_AREAS: Final = 20_000
EXAMPLES: Final = 5
#: Overlaps and gaps smaller than this share of the median area are slivers of digitising, not problems.
SLIVER_SHARE: Final = 1e-3
#: An invalid polygon is repaired (shapely ``make_valid``) when that changes its area by less than this share.
REPAIR_TOLERANCE: Final = 0.01
_ID_CANDIDATES: Final = (
    "area_id", "id", "geoid", "geoid10", "geoid20", "tractce", "tract", "area_numbe", "area_num_1",
    "ward", "district", "boro_code", "borocode", "postalcode", "zipcode", "zip", "zcta5ce10", "nid",
)  # fmt: skip
_NAME_CANDIDATES: Final = ("name", "neighborhood", "neighbourhood", "nhood", "community", "boro_name", "label")
_WGS84: Final = ("EPSG:4326", "OGC:CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326")


@dataclass(frozen=True)
class BoundaryProblem:
    """One kind of problem in a boundary file: how many areas, and examples."""

    kind: str  # no_geometry, not_polygon, invalid, duplicate_id, other_crs, overlap, gap
    count: int
    message: str
    examples: tuple[str, ...] = ()
    left_out: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": self.count, "message": self.message,
                "examples": list(self.examples), "left_out": self.left_out}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BoundaryProblem:
        return cls(str(data["kind"]), int(data["count"]), str(data["message"]),
                   tuple(str(x) for x in data.get("examples", ())), bool(data.get("left_out", True)))  # fmt: skip


@dataclass(frozen=True)
class Boundaries:
    """Checked area polygons in longitude/latitude (WGS84), one per area id.

    ``geometries`` are the polygons as drawn (for maps and contiguity);
    ``assign_geometries`` are the same with overlaps given to the first area in id
    order, so no point can fall in two areas.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> b = Boundaries.from_records(["A", "B"], [box(0, 0, 1, 1), box(1, 0, 2, 1)], name="wards")
    >>> b.ids, b.bounds
    (('A', 'B'), (0.0, 0.0, 2.0, 1.0))
    """

    name: str
    ids: tuple[str, ...]
    names: tuple[str, ...]
    geometries: tuple[Any, ...]
    assign_geometries: tuple[Any, ...]
    problems: tuple[BoundaryProblem, ...] = ()
    notes: tuple[str, ...] = ()
    id_field: str = "area_id"
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({a: i for i, a in enumerate(self.ids)})

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of all areas."""
        if not self.geometries:
            raise FieldError("boundaries", "has no usable area")
        x0, y0, x1, y1 = shapely.total_bounds(list(self.geometries))
        return float(x0), float(y0), float(x1), float(y1)

    @property
    def left_out(self) -> tuple[BoundaryProblem, ...]:
        return tuple(p for p in self.problems if p.left_out)

    def geometry(self, area_id: str) -> Any:
        return self.geometries[self._index[area_id]]

    def name_of(self, area_id: str) -> str:
        i = self._index.get(area_id)
        return self.names[i] if i is not None else area_id

    def wkb(self, *, for_assignment: bool = True) -> list[bytes]:
        """Well-known binary of each area (trimmed of overlaps when ``for_assignment``)."""
        geoms = self.assign_geometries if for_assignment else self.geometries
        return [bytes(shapely.to_wkb(g)) for g in geoms]

    def areas_km2(self) -> dict[str, float]:
        """Each area's size in square kilometres (geodesic, on the WGS84 ellipsoid)."""
        from pyproj import Geod

        geod = Geod(ellps="WGS84")
        return {
            a: abs(geod.geometry_area_perimeter(g)[0]) / 1e6 for a, g in zip(self.ids, self.geometries, strict=True)
        }

    def to_geojson(self, *, simplify: float | None = None) -> dict[str, Any]:
        """A FeatureCollection with ``area_id`` and ``name`` properties (for maps).

        ``simplify`` (degrees) thins vertices for light browser maps; topology kept.
        """
        features = []
        for a, n, g in zip(self.ids, self.names, self.geometries, strict=True):
            geom = shapely.simplify(g, simplify, preserve_topology=True) if simplify else g
            features.append(
                {"type": "Feature", "properties": {"area_id": a, "name": n}, "geometry": shape_mapping(geom)}
            )
        return {"type": "FeatureCollection", "features": features}

    def summary(self) -> str:
        lines = [f"{len(self)} areas in {self.name} (ids from {self.id_field!r})."]
        lines += [f"{p.message}" + (f" e.g. {', '.join(p.examples)}" if p.examples else "") for p in self.problems]
        lines += list(self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The check's findings (not the polygons: those stay in the catalog)."""
        return {"name": self.name, "areas": len(self), "id_field": self.id_field, "ids": list(self.ids),
                "names": list(self.names), "problems": [p.to_dict() for p in self.problems],
                "notes": list(self.notes), "bounds": list(self.bounds) if self.geometries else None}  # fmt: skip

    # ------------------------------------------------------------------ readers

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        id_field: str | None = None,
        name_field: str | None = None,
        name: str | None = None,
        crs: str | None = None,
    ) -> Boundaries:
        """Read GeoJSON (``.geojson``/``.json``) or a zipped shapefile (``.zip``)."""
        path = Path(path)
        label = name or path.stem
        suffix = path.suffix.lower()
        if suffix in (".geojson", ".json"):
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise FileFormatError(f"is not GeoJSON: {exc}", path=path) from None
            return cls.from_geojson(document, id_field=id_field, name_field=name_field, name=label, crs=crs, path=path)
        if suffix == ".zip":
            return cls._from_shapefile(path, id_field=id_field, name_field=name_field, name=label, crs=crs)
        raise FileFormatError("boundaries are read from GeoJSON or a zipped shapefile", path=path)

    @classmethod
    def _from_shapefile(
        cls, path: Path, *, id_field: str | None, name_field: str | None, name: str, crs: str | None
    ) -> Boundaries:
        import geopandas as gpd

        try:
            with zipfile.ZipFile(path) as archive:
                shapes = [n for n in archive.namelist() if n.lower().endswith(".shp")]
                prj = [n for n in archive.namelist() if n.lower().endswith(".prj")]
        except zipfile.BadZipFile:
            raise FileFormatError("is not a zip archive", path=path) from None
        if len(shapes) != 1:
            raise FileFormatError(f"should hold one shapefile; it holds {len(shapes)}", path=path)
        if not prj and crs is None:
            raise FileFormatError("the shapefile has no .prj: its coordinate system is unknown (give crs=)", path=path)
        frame = gpd.read_file(f"zip://{path.absolute()}!{shapes[0]}", engine="pyogrio")
        if frame.crs is None and crs is not None:
            frame = frame.set_crs(crs)
        notes = []
        if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
            notes.append(f"converted from {frame.crs.to_string()} to longitude/latitude (WGS84)")
            frame = frame.to_crs("EPSG:4326")
        properties = [
            {k: v for k, v in row.items() if k != "geometry"}
            for row in frame.drop(columns="geometry").to_dict("records")
        ]
        return cls._build(name, list(frame.geometry), properties, id_field, name_field, notes=notes, other_crs=False)

    @classmethod
    def from_geojson(
        cls,
        document: Mapping[str, Any],
        *,
        id_field: str | None = None,
        name_field: str | None = None,
        name: str = "areas",
        crs: str | None = None,
        path: Path | None = None,
    ) -> Boundaries:
        """Boundaries from a GeoJSON FeatureCollection (a ``crs`` member or ``crs=`` is honoured)."""
        if not isinstance(document, Mapping) or document.get("type") != "FeatureCollection":
            raise FileFormatError("is not a GeoJSON FeatureCollection", path=path or Path(name))
        features = document.get("features") or []
        if not isinstance(features, list) or not features:
            raise FileFormatError("holds no features", path=path or Path(name))
        if len(features) > MAX_AREAS:
            raise FileFormatError(
                f"holds {len(features):,} areas; at most {MAX_AREAS:,} are read", path=path or Path(name)
            )
        declared = crs or ((document.get("crs") or {}).get("properties") or {}).get("name")
        geoms: list[Any] = []
        props: list[dict[str, Any]] = []
        for feature in features:
            raw = feature.get("geometry") if isinstance(feature, Mapping) else None
            try:
                geoms.append(shape(raw) if raw else None)
            except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException):
                geoms.append(None)
            p = feature.get("properties") if isinstance(feature, Mapping) else None
            props.append(dict(p) if isinstance(p, Mapping) else {})
        notes: list[str] = []
        if (
            declared
            and str(declared) not in _WGS84
            and not str(declared).endswith(("CRS84", "EPSG::4326", "EPSG:4326"))
        ):
            geoms = _reproject(geoms, str(declared), path or Path(name))
            notes.append(f"converted from {declared} to longitude/latitude (WGS84)")
        return cls._build(name, geoms, props, id_field, name_field, notes=notes, other_crs=declared is None)

    @classmethod
    def from_records(
        cls,
        ids: Sequence[object],
        geometries: Sequence[Any],
        *,
        names: Sequence[object] | None = None,
        name: str = "areas",
        id_field: str = "area_id",
    ) -> Boundaries:
        """Boundaries from ids and geometries (shapely objects, WKB bytes or WKT), in WGS84."""
        geoms = [_as_geometry(g) for g in geometries]
        props = [{id_field: i, "name": (names[k] if names is not None else i)} for k, i in enumerate(ids)]
        return cls._build(name, geoms, props, id_field, "name", notes=[], other_crs=True)

    @classmethod
    def from_properties(
        cls,
        geometries: Sequence[Any],
        properties: Sequence[Mapping[str, Any]],
        *,
        id_field: str | None = None,
        name_field: str | None = None,
        name: str = "areas",
    ) -> Boundaries:
        """Boundaries from geometries (shapely, WKB or WKT, in WGS84) and each area's properties (a catalog table)."""
        geoms = [_as_geometry(g) for g in geometries]
        return cls._build(name, geoms, properties, id_field, name_field, notes=[], other_crs=True)

    @classmethod
    def _build(
        cls,
        name: str,
        geoms: Sequence[Any],
        props: Sequence[Mapping[str, Any]],
        id_field: str | None,
        name_field: str | None,
        *,
        notes: list[str],
        other_crs: bool,
    ) -> Boundaries:
        id_field = (
            id_field
            or _pick_field(props, _ID_CANDIDATES, unique=True)
            or _pick_field(props, _NAME_CANDIDATES, unique=True)
            or _pick_field(props, ("objectid", "fid", "cartodb_id"), unique=True)
        )
        if id_field is None:
            raise FieldError("id_field", "no property identifies the areas uniquely; name one (id_field=)",
                             hint=f"properties: {', '.join(sorted(props[0]))[:200] if props else 'none'}")  # fmt: skip
        if not any(id_field in p for p in props):
            raise FieldError("id_field", f"no area has the property {id_field!r}")
        name_field = name_field or _pick_field(props, _NAME_CANDIDATES, unique=False) or id_field
        problems: dict[str, list[str]] = {
            k: [] for k in ("no_geometry", "not_polygon", "invalid", "repaired", "duplicate_id", "other_crs")
        }
        kept: list[tuple[str, str, Any]] = []
        seen: set[str] = set()
        for k, (g, p) in enumerate(zip(geoms, props, strict=True)):
            raw_id = p.get(id_field)
            area = _id_text(raw_id) if raw_id is not None else f"(feature {k + 1} without {id_field})"
            if raw_id is None:
                problems["no_geometry" if g is None else "duplicate_id"].append(area)
                continue
            if g is None or g.is_empty:
                problems["no_geometry"].append(area)
            elif g.geom_type not in ("Polygon", "MultiPolygon"):
                problems["not_polygon"].append(f"{area} ({g.geom_type})")
            elif other_crs and not _lonlat(g):
                x0, y0, _, _ = g.bounds
                problems["other_crs"].append(f"{area} (x={x0:.0f}, y={y0:.0f})")
            elif not g.is_valid and (fixed := _repair(g)) is None:
                problems["invalid"].append(f"{area}: {shapely.is_valid_reason(g)}")
            elif area in seen:
                problems["duplicate_id"].append(area)
            else:
                if not g.is_valid:
                    problems["repaired"].append(f"{area}: {shapely.is_valid_reason(g)}")
                    g = fixed
                seen.add(area)
                label = p.get(name_field)
                kept.append((area, str(label).strip() if label not in (None, "") else area, g))
        messages = {
            "no_geometry": "area(s) without a geometry were left out",
            "not_polygon": "feature(s) that are not polygons were left out",
            "invalid": "invalid polygon(s) were left out: repairing them would change their area by more than "
            f"{REPAIR_TOLERANCE:.0%} (repair them in a GIS and upload again)",
            "repaired": f"invalid polygon(s) were repaired (make-valid changed their area by less than {REPAIR_TOLERANCE:.0%})",
            "duplicate_id": f"feature(s) repeating an area id (or without {id_field!r}) were left out; the first was kept",
            "other_crs": "area(s) whose coordinates are not longitude/latitude were left out: "
            "the file seems to be in another coordinate system; give it (crs=, e.g. EPSG:2227)",
        }
        found = [
            BoundaryProblem(k, len(v), f"{len(v)} {messages[k]}", tuple(v[:EXAMPLES]), left_out=k != "repaired")
            for k, v in problems.items()
            if v
        ]
        if not kept:
            raise FieldError(
                "boundaries", "has no usable area: " + "; ".join(p.message for p in found) if found else "is empty"
            )
        kept.sort(key=lambda t: _sort_key(t[0]))
        ids = tuple(a for a, _, _ in kept)
        names = tuple(n for _, n, _ in kept)
        polys = tuple(g for _, _, g in kept)
        trimmed, overlap = _trim_overlaps(ids, polys)
        if overlap is not None:
            found.append(overlap)
        gap = _gaps(polys)
        if gap is not None:
            found.append(gap)
        return cls(name, ids, names, polys, trimmed, tuple(found), tuple(notes), id_field)


def _repair(g: Any) -> Any:
    """The repaired polygon, or None when repair is not small (a bow-tie is not a small repair)."""
    fixed = shapely.make_valid(g)
    if fixed.geom_type == "GeometryCollection":
        fixed = shapely.union_all([p for p in fixed.geoms if p.geom_type in ("Polygon", "MultiPolygon")])
    if fixed.is_empty or fixed.geom_type not in ("Polygon", "MultiPolygon"):
        return None
    # The shoelace area of a self-crossing ring is not its area; compare with the rings' own hull.
    before = shapely.Polygon(g.exterior).area if g.geom_type == "Polygon" else g.area
    if before <= 0 or abs(fixed.area - before) > REPAIR_TOLERANCE * before:
        return None
    return fixed


def _as_geometry(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return shapely.from_wkb(bytes(value))
    if isinstance(value, str):
        return shapely.from_wkt(value)
    return value


def _id_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sort_key(area: str) -> tuple[int, float, str]:
    try:
        return (0, float(area), area)
    except ValueError:
        return (1, 0.0, area)


def _pick_field(props: Sequence[Mapping[str, Any]], candidates: Sequence[str], *, unique: bool) -> str | None:
    keys: dict[str, str] = {}
    for p in props[:1]:
        keys = {k.lower(): k for k in p}
    for c in candidates:
        key = keys.get(c)
        if key is None:
            continue
        values = [p.get(key) for p in props]
        if any(v in (None, "") for v in values):
            continue
        if unique and len({_id_text(v) for v in values}) != len(values):
            continue
        return key
    return None


def _lonlat(g: Any) -> bool:
    x0, y0, x1, y1 = (float(v) for v in g.bounds)
    return -180.0 <= x0 <= x1 <= 180.0 and -90.0 <= y0 <= y1 <= 90.0


def _reproject(geoms: list[Any], crs: str, path: Path) -> list[Any]:
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        source = CRS.from_user_input(crs)
    except CRSError:
        raise FileFormatError(f"names a coordinate system ridp does not know: {crs!r}", path=path) from None
    transformer = Transformer.from_crs(source, "EPSG:4326", always_xy=True)
    return [None if g is None else shapely.transform(g, lambda xy: _apply(transformer, xy)) for g in geoms]


def _apply(transformer: Any, xy: Any) -> Any:
    import numpy as np

    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def _trim_overlaps(ids: tuple[str, ...], polys: tuple[Any, ...]) -> tuple[tuple[Any, ...], BoundaryProblem | None]:
    """Give every shared piece to the first area in id order, so no point is in two areas; report the overlaps
    that are more than a sliver of digitising (``SLIVER_SHARE`` of the smaller area)."""
    tree = shapely.STRtree(list(polys))
    left, right = tree.query(list(polys), predicate="intersects")
    shared_pairs: list[tuple[int, int, float]] = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j:
            shared = polys[i].intersection(polys[j]).area
            if shared > 0:
                shared_pairs.append((i, j, shared))
    if not shared_pairs:
        return polys, None
    trimmed = list(polys)
    for i, j, _ in sorted(shared_pairs, key=lambda p: (p[1], p[0])):
        trimmed[j] = shapely.make_valid(trimmed[j].difference(polys[i]))
    pairs = [p for p in shared_pairs if p[2] > SLIVER_SHARE * min(polys[p[0]].area, polys[p[1]].area)]
    if not pairs:
        return tuple(trimmed), None
    largest = sorted(pairs, key=lambda p: -p[2] / min(polys[p[0]].area, polys[p[1]].area))
    examples = tuple(
        f"{ids[i]} and {ids[j]} ({100 * shared / polys[j].area:.1f}% of {ids[j]})" for i, j, shared in largest
    )
    problem = BoundaryProblem(
        "overlap",
        len(pairs),
        f"{len(pairs)} pair(s) of areas overlap; points in an overlap go to the first area in id order",
        examples[:EXAMPLES],
        left_out=False,
    )
    return tuple(trimmed), problem


def _gaps(polys: tuple[Any, ...]) -> BoundaryProblem | None:
    """Holes in the union of the areas that no area covers (slivers below SLIVER_SHARE ignored)."""
    union = shapely.union_all(list(polys), grid_size=None)
    typical = sorted(g.area for g in polys)[len(polys) // 2]
    parts = list(getattr(union, "geoms", [union]))
    holes = [shapely.Polygon(ring) for part in parts for ring in getattr(part, "interiors", [])]
    holes = [h for h in holes if h.area > SLIVER_SHARE * typical]
    if not holes:
        return None
    holes.sort(key=lambda h: -h.area)
    examples = tuple(f"near {h.centroid.y:.5f}, {h.centroid.x:.5f} ({_km2(h):.3f} km²)" for h in holes)
    return BoundaryProblem(
        "gap",
        len(holes),
        f"{len(holes)} gap(s) between areas: points there are outside every area",
        examples[:EXAMPLES],
        left_out=False,
    )


def _km2(g: Any) -> float:
    from pyproj import Geod

    return abs(Geod(ellps="WGS84").geometry_area_perimeter(g)[0]) / 1e6
