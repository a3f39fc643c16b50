"""Places in the store: boundary datasets, points assigned to areas once, and the analyses on area ids.

A boundary dataset is an ordinary catalog dataset made from GeoJSON or a zipped
shapefile (stored in WGS84 with its geometry as well-known binary). Assigning a
dataset version's points to a boundary version's areas happens once: the rows
with their area id are stored as Parquet next to the city's data
(:class:`~ridp.workspace.models.AreaAssignment`), with the report of what could
not be placed. Hot spots, service gaps and "where resources go" then run on the
stored ids, on any engine.

The join itself runs on DuckDB (the embedded default) or PostgreSQL with PostGIS;
when the workspace's engine is Spark, the assignment runs on the embedded DuckDB
and says so, and the analyses on the stored ids run on Spark.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ridp.analysis.assign import assign_areas
from ridp.analysis.boundaries import Boundaries
from ridp.config import Config
from ridp.errors import FieldError, NotFoundError
from ridp.workspace import audit
from ridp.workspace.datasets import _readable, get_dataset, open_table
from ridp.workspace.models import AreaAssignment, Dataset, DatasetVersion, User
from ridp.workspace.store import city_dir, home, sha256_file

__all__ = ["area_column", "assign", "boundaries_of", "find_assignment", "list_assignments"]

_GEOMETRY_NAMES = ("geom", "geometry", "wkb_geometry", "the_geom", "shape")


def area_column(boundaries: Dataset) -> str:
    """The name of the area-id column an assignment to ``boundaries`` adds (``area_<name>``)."""
    safe = "".join(ch if ch.isalnum() else "_" for ch in boundaries.name.lower()).strip("_") or str(boundaries.pk)
    return f"area_{safe}"[:60]


def _geometry_column(version: DatasetVersion) -> str:
    names = {c["name"].lower(): c["name"] for c in version.schema}
    for candidate in _GEOMETRY_NAMES:
        if candidate in names:
            return str(names[candidate])
    raise FieldError(
        "boundaries",
        f"{version.dataset.name} has no geometry column; boundaries come from GeoJSON or a zipped shapefile",
    )


def boundaries_of(
    actor: User,
    city: str,
    name: str,
    *,
    version: int | None = None,
    id_field: str | None = None,
    name_field: str | None = None,
) -> tuple[Boundaries, DatasetVersion]:
    """A boundary dataset's version as checked :class:`Boundaries` (invalid areas left out and said)."""
    _dataset, chosen, _hidden = _readable(actor, city, name, version, use="analysis")
    return _read_boundaries(chosen, id_field, name_field), chosen


def _read_boundaries(chosen: DatasetVersion, id_field: str | None, name_field: str | None) -> Boundaries:
    """The polygons of a boundary version (callers check who may read them)."""
    geometry = _geometry_column(chosen)
    table = pq.read_table(home() / chosen.file)
    properties = [c for c in table.column_names if c != geometry]
    for field, value in (("id_field", id_field), ("name_field", name_field)):
        if value and value not in properties:
            raise FieldError(
                field, f"{chosen.dataset.name} has no column {value!r}; columns: {', '.join(properties)[:300]}"
            )
    return Boundaries.from_properties(
        table.column(geometry).to_pylist(), table.select(properties).to_pylist(),
        id_field=id_field, name_field=name_field, name=chosen.dataset.name,
    )  # fmt: skip


def find_assignment(
    dataset_version: DatasetVersion,
    boundary_version: DatasetVersion,
    id_field: str,
    address_version: DatasetVersion | None = None,
    address_fields: Mapping[str, str] | None = None,
) -> AreaAssignment | None:
    return AreaAssignment.objects.filter(
        dataset_version=dataset_version, boundary_version=boundary_version, id_field=id_field,
        address_version=address_version, address_fields=dict(address_fields or {}),
    ).first()  # fmt: skip


def _address_points(
    actor: User, city: str, spec: Mapping[str, Any] | None
) -> tuple[DatasetVersion | None, dict[str, str]]:
    """The address-point (or parcel) dataset to match requests without coordinates to, checked."""
    if not spec:
        return None, {}
    value = _needs(spec, "addresses", ("dataset", "address", "lat", "lon"))
    _dataset, version, _hidden = _readable(actor, city, str(value["dataset"]), None, use="analysis")
    columns = _columns_of(version)
    fields = {k: str(value[k]) for k in ("address", "lat", "lon")}
    for key, column in fields.items():
        if column not in columns:
            raise FieldError("addresses", f"{version.dataset.name} has no column {column!r} ({key})")
    return version, fields


def assign(
    actor: User,
    city: str,
    name: str,
    boundaries: str,
    *,
    version: int | None = None,
    boundary_version: int | None = None,
    id_field: str | None = None,
    name_field: str | None = None,
    addresses: Mapping[str, str] | None = None,
    engine_url: str | None = None,
) -> AreaAssignment:
    """Assign a dataset version's points to a boundary version's areas (once; later calls return the saved one).

    ``addresses`` (``{"dataset", "address", "lat", "lon"}``) names an address-point or parcel dataset: rows
    without coordinates are first matched to it on their normalised address (the match rate and unmatched
    examples are kept in the report).
    """
    from ridp.workspace.analysis import _mapping

    dataset, chosen, _hidden = _readable(actor, city, name, version, use="analysis")
    areas, bversion = boundaries_of(actor, city, boundaries, version=boundary_version, id_field=id_field,
                                    name_field=name_field)  # fmt: skip
    aversion, afields = _address_points(actor, city, addresses)
    found = find_assignment(chosen, bversion, areas.id_field, aversion, afields)
    if found is not None:
        return found
    mapping = _mapping(dataset)
    lat, lon = mapping.fields.get("latitude"), mapping.fields.get("longitude")
    if (not lat or not lon) and aversion is None:
        raise FieldError("latitude", f"{dataset.name} has no mapped latitude and longitude columns to place on a map",
                         hint="map them (`ridp data map`), or match addresses to an address-point dataset")  # fmt: skip
    url = engine_url or Config.from_env().engine_url or None
    engine_note = ""
    if url and url.startswith("spark"):
        url, engine_note = None, "assigned on the embedded DuckDB: Spark has no spatial join here"
    started = time.monotonic()
    # Personal columns are kept in the stored copy (it replaces the version for analyses, which mask them again).
    table = open_table(actor, city, dataset.name, version=chosen.number, engine_url=url, mask=False)
    column = area_column(bversion.dataset)
    matched: dict[str, Any] | None = None
    if aversion is not None:
        from ridp.analysis.addresses import match_addresses

        address = mapping.fields.get("address")
        if not address:
            raise FieldError("addresses", f"{dataset.name} has no mapped address column to match")
        points = open_table(actor, city, aversion.dataset.name, version=aversion.number, engine_url=url)
        match = match_addresses(table, points, request_address=address, address=afields["address"],
                                lat=afields["lat"], lon=afields["lon"], request_lat=lat if lon else None,
                                request_lon=lon if lat else None)  # fmt: skip
        assert match.table is not None
        table = match.table.drop("coordinates_from")
        lat, lon = match.lat_column, match.lon_column
        matched = match.to_dict()
    folder = city_dir(dataset.city) / "areas"
    folder.mkdir(parents=True, exist_ok=True)
    via = f"-a{aversion.pk}-{_hash(afields)}" if aversion is not None else ""
    target = folder / f"d{dataset.pk}v{chosen.number}-b{bversion.pk}-{_slug(areas.id_field)}{via}.parquet"
    staged = target.with_suffix(".partial")
    try:
        result = assign_areas(table, areas, lat=lat, lon=lon, id_column=mapping.fields.get("id"), column=column,
                              write=staged)  # fmt: skip
        staged.replace(target)
    finally:
        staged.unlink(missing_ok=True)
    report = {**result.to_dict(), "boundary_check": areas.to_dict(), "note": engine_note, "addresses": matched}
    saved = AreaAssignment.objects.create(
        dataset_version=chosen, boundary_version=bversion, id_field=areas.id_field, address_version=aversion,
        address_fields=afields,
        name_field=name_field or "", column=column, file=str(target.relative_to(home())),
        file_sha256=sha256_file(target), report=report, engine=result.engine,
        seconds=round(time.monotonic() - started, 3), created_by=actor,
    )  # fmt: skip
    audit.record("places.assigned", actor=actor, city=dataset.city, obj=chosen, boundaries=bversion.dataset.name,
                 boundary_version=bversion.number, assigned=result.assigned, rows=result.rows)  # fmt: skip
    return saved


def _hash(data: Mapping[str, str]) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(dict(data), sort_keys=True).encode()).hexdigest()[:12]


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)[:40]


def list_assignments(actor: User, city: str, name: str) -> list[AreaAssignment]:
    dataset = get_dataset(actor, city, name)
    return list(
        AreaAssignment.objects.filter(dataset_version__dataset=dataset)
        .select_related("boundary_version__dataset", "dataset_version")
        .order_by("-created_at", "-id")
    )


def assignment_path(item: AreaAssignment) -> Path:
    path = home() / item.file
    if not path.exists():
        raise NotFoundError(f"the stored area assignment {item.file} is missing; assign again")
    return path


def describe(item: AreaAssignment) -> dict[str, Any]:
    report: Mapping[str, Any] = item.report
    return {
        "id": item.pk,
        "dataset": item.dataset_version.dataset.name,
        "version": item.dataset_version.number,
        "boundaries": item.boundary_version.dataset.name,
        "boundary_version": item.boundary_version.number,
        "id_field": item.id_field,
        "column": item.column,
        "rows": report.get("rows"),
        "counts": report.get("counts"),
        "per_area": report.get("per_area"),
        "examples": report.get("examples"),
        "boundary_problems": report.get("boundary_problems"),
        "addresses": report.get("addresses"),
        "engine": item.engine,
        "seconds": item.seconds,
        "created_at": item.created_at.isoformat(),
    }


# -- the analyses on area ids (hot spots, service gaps, where resources go) ---------------------------------------
PLACES_KINDS = ("hot_spots", "service_gaps", "resource_scores")
#: The figure a finding from each places run is about, by default.
FINDING_COLUMN = {"hot_spots": "z", "service_gaps": "median_days", "resource_scores": "score"}
PLACES_INPUTS: dict[str, set[str]] = {
    "hot_spots": {
        "boundaries",
        "id_field",
        "area_column",
        "addresses",
        "population",
        "correction",
        "weights",
        "inference",
    },
    "service_gaps": {
        "by",
        "boundaries",
        "id_field",
        "area_column",
        "addresses",
        "population",
        "reference",
        "groups",
        "unit",
    },
    "resource_scores": {"boundaries", "id_field", "area_column", "addresses", "by", "census"},
}


def _pinned(dataset: Dataset, name: object, field: str) -> DatasetVersion:
    found = Dataset.objects.filter(city=dataset.city, name=str(name)).select_related("current_version").first()
    if found is None or found.current_version is None:
        raise FieldError(field, f"{dataset.city.name} has no dataset {name!r} with data")
    return found.current_version


def _columns_of(version: DatasetVersion) -> list[str]:
    return [str(c["name"]) for c in version.schema]


def _needs(value: object, field: str, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not set(keys) <= set(value) or set(value) - set(keys) - set(optional):
        raise FieldError(field, f"is {{{', '.join(keys + optional)}}}")
    return value


def clean_params(
    kind: str, params: Mapping[str, Any], dataset: Dataset, columns: set[str], personal: set[str]
) -> dict[str, Any]:
    """A places analysis's inputs, checked, with every other dataset pinned to its current version."""
    out: dict[str, Any] = {}
    boundaries = params.get("boundaries")
    area_column = params.get("area_column") or None
    if area_column is not None and area_column not in columns:
        raise FieldError("area_column", f"{area_column!r} is not a column of {dataset.name}")
    if boundaries:
        bversion = _pinned(dataset, boundaries, "boundaries")
        _geometry_column(bversion)
        id_field = params.get("id_field") or None
        if id_field is not None and id_field not in _columns_of(bversion):
            raise FieldError("id_field", f"{bversion.dataset.name} has no column {id_field!r}")
        out["boundaries"] = {"dataset": bversion.dataset.name, "version": bversion.number, "id_field": id_field}
    elif kind == "hot_spots":
        raise FieldError("boundaries", "hot spots need the areas' polygons: name a boundary dataset")
    by = params.get("by") or None
    if isinstance(by, (list, tuple)):
        if len(by) > 1:
            raise FieldError("by", "gaps are between the groups of one column")
        by = str(by[0]) if by else None
    if kind != "hot_spots":
        if by is not None and by not in columns:
            raise FieldError("by", f"{by!r} is not a column of {dataset.name}")
        if by is None and area_column is None and not boundaries:
            raise FieldError("by", "name the column of groups or areas (by), or a boundary dataset to assign areas")
    for name in (by, area_column):
        if name in personal:
            raise FieldError("by", f"{name!r} is a personal or sensitive column: its values cannot name groups")
    out["area_column"] = area_column
    out["by"] = by
    if params.get("addresses"):
        a = _needs(params["addresses"], "addresses", ("dataset", "address", "lat", "lon"))
        av = _pinned(dataset, a["dataset"], "addresses")
        for part in ("address", "lat", "lon"):
            if a[part] not in _columns_of(av):
                raise FieldError("addresses", f"{av.dataset.name} has no column {a[part]!r}")
        out["addresses"] = {k: str(a[k]) for k in ("dataset", "address", "lat", "lon")}
    if params.get("population"):
        p = _needs(params["population"], "population", ("dataset", "key", "value"))
        pv = _pinned(dataset, p["dataset"], "population")
        for part in ("key", "value"):
            if p[part] not in _columns_of(pv):
                raise FieldError("population", f"{pv.dataset.name} has no column {p[part]!r}")
        out["population"] = {"dataset": pv.dataset.name, "version": pv.number, "key": p["key"], "value": p["value"]}
    if kind == "hot_spots":
        correction = params.get("correction") or "fdr"
        if correction not in ("fdr", "bonferroni", "none"):
            raise FieldError("correction", "is fdr (Benjamini-Hochberg), bonferroni or none")
        weights = params.get("weights") or "queen"
        if weights not in ("queen", "rook"):
            raise FieldError("weights", "is queen or rook contiguity")
        inference = params.get("inference") or "normal"
        if inference not in ("normal", "permutation"):
            raise FieldError("inference", "is normal (z-scores) or permutation (999 conditional permutations)")
        out.update(correction=correction, weights=weights, inference=inference)
    if kind == "service_gaps":
        unit = params.get("unit") or "calendar"
        if unit not in ("calendar", "business"):
            raise FieldError("unit", "is calendar or business")
        out.update(unit=unit, reference=str(params["reference"]) if params.get("reference") else None)
        if params.get("groups"):
            g = _needs(params["groups"], "groups", ("dataset", "key", "variable"), ("bins",))
            gv = _pinned(dataset, g["dataset"], "groups")
            for part in ("key", "variable"):
                if g[part] not in _columns_of(gv):
                    raise FieldError("groups", f"{gv.dataset.name} has no column {g[part]!r}")
            bins = int(g.get("bins") or 5)
            if not 2 <= bins <= 10:
                raise FieldError("groups", "bins is between 2 and 10")
            out["groups"] = {"dataset": gv.dataset.name, "version": gv.number, "key": g["key"],
                             "variable": g["variable"], "bins": bins}  # fmt: skip
    if kind == "resource_scores":
        c = _needs(params.get("census"), "census", ("dataset", "key", "baseline"), ("demographics",))
        cv = _pinned(dataset, c["dataset"], "census")
        names = _columns_of(cv)
        demographics = [str(d) for d in c.get("demographics") or ()]
        for column in (c["key"], c["baseline"], *demographics):
            if column not in names:
                raise FieldError("census", f"{cv.dataset.name} has no column {column!r}")
        out["census"] = {"dataset": cv.dataset.name, "version": cv.number, "key": c["key"],
                         "baseline": c["baseline"], "demographics": demographics}  # fmt: skip
    return out


def _frame(actor: User, city: str, spec: Mapping[str, Any], engine_url: str | None) -> Any:
    """A pinned side dataset (census, population) as a small pandas frame."""
    table = open_table(actor, city, spec["dataset"], version=spec["version"], engine_url=engine_url)
    return table.to_pandas()


def compute(item: Any, engine_url: str | None, report: Any) -> Any:
    """A places run's result (called by :func:`ridp.workspace.analysis.run`)."""
    from ridp.readiness import CanonicalMapping
    from ridp.workspace.analysis import _population, calendar_for, targets_for

    version = item.dataset_version
    dataset = version.dataset
    actor, city, p = item.created_by, dataset.city.slug, item.params
    b = p.get("boundaries")
    areas = None
    if b:
        areas, _ = boundaries_of(actor, city, b["dataset"], version=b["version"], id_field=b["id_field"])
    assignment = None
    column = p.get("area_column") or p.get("by")
    if b and column is None:
        report(0.1, "assigning points to areas")
        assignment = assign(actor, city, dataset.name, b["dataset"], version=version.number,
                            boundary_version=b["version"], id_field=b["id_field"], addresses=p.get("addresses"),
                            engine_url=engine_url)  # fmt: skip
        column = assignment.column
    report(0.3, "opening the data")
    table = open_table(actor, city, dataset.name, version=version.number, engine_url=engine_url, areas=assignment)
    people = _population(actor, city, p["population"], engine_url) if p.get("population") else None
    report(0.5, f"computing {item.get_kind_display()}")
    if item.kind == "hot_spots":
        from ridp.analysis.hotspots import hot_spots

        assert areas is not None
        return hot_spots(table, area=column, boundaries=areas, population=people, weights=p["weights"],
                         correction=p["correction"], inference=p["inference"])  # fmt: skip
    if item.kind == "service_gaps":
        from ridp.analysis.gaps import service_gaps

        groups = None
        if p.get("groups"):
            from ridp.analysis.census import groups_from_census, read_acs

            g = p["groups"]
            census = read_acs(_frame(actor, city, g, engine_url), key=g["key"])
            groups = groups_from_census(census, g["variable"], bins=g["bins"])
        targets = targets_for(dataset)
        return service_gaps(
            table, CanonicalMapping(**p["mapping"]), by=column, unit=p["unit"],
            targets=targets if targets is not None and targets.unit == p["unit"] else None,
            calendar=calendar_for(dataset.city), groups=groups, reference=p["reference"], population=people,
        )  # fmt: skip
    from ridp.analysis.census import read_acs
    from ridp.analysis.equity import resource_scores

    c = p["census"]
    census = read_acs(_frame(actor, city, c, engine_url), key=c["key"])
    return resource_scores(table, area=column, census=census, baseline=c["baseline"], demographics=c["demographics"])


def result_from_dict(kind: str, data: Mapping[str, Any]) -> Any:
    """The frozen result a finished places run holds."""
    if kind == "hot_spots":
        from ridp.analysis.hotspots import HotSpots

        return HotSpots.from_dict(data)
    if kind == "service_gaps":
        from ridp.analysis.gaps import ServiceGaps

        return ServiceGaps.from_dict(data)
    from ridp.analysis.equity import ResourceScores

    return ResourceScores.from_dict(data)


def _pinned_boundaries(item: Any) -> Boundaries | None:
    b = item.params.get("boundaries")
    if not b:
        return None
    version = DatasetVersion.objects.filter(dataset__city=item.project.city, dataset__name=b["dataset"],
                                            number=b["version"]).select_related("dataset").first()  # fmt: skip
    if version is None:
        raise NotFoundError(f"the boundary dataset {b['dataset']} v{b['version']} is gone")
    return _read_boundaries(version, b["id_field"], None)


def chart_for(item: Any, result: Any) -> Any:
    """The map of a finished places run (None when the run named no boundaries: no polygons to draw)."""
    areas = _pinned_boundaries(item)
    if areas is None:
        return result.chart() if hasattr(result, "chart") else None
    if hasattr(result, "map"):
        return result.map(areas)
    from ridp.analysis.maps import choropleth

    frame = result.to_pandas().rename(columns={"area": "area_id"})
    frame["score_points"] = 100 * frame["score"]
    return choropleth(
        areas, frame, column="score_points", title=f"Where {result.what} go against where residents live",
        legend_title="share of events − share of residents (points)", diverging=True, midpoint=0.0,
        details=("events", "residents", "z"),
    )  # fmt: skip


def map_spec(actor: User, item: Any) -> dict[str, Any]:
    """A finished places run's map as a Vega-Lite specification (for the API and the page)."""
    from ridp.analysis.charts import to_vega
    from ridp.workspace.analysis import result_of

    if item.kind not in PLACES_KINDS:
        raise FieldError("analysis_id", f"run {item.pk} is {item.get_kind_display()}: only places runs have a map")
    if item.result is None:
        raise FieldError("analysis_id", f"run {item.pk} has not finished ({item.status})")
    chart = chart_for(item, result_of(item))
    if chart is None:
        raise FieldError("analysis_id", f"run {item.pk} named no boundaries: it has no map")
    return dict(to_vega(chart))


def worst_first(result: Any) -> Any:
    """A places result's rows, the worst-served or most significant first (None for other results)."""
    from ridp.analysis.equity import ResourceScores
    from ridp.analysis.gaps import ServiceGaps
    from ridp.analysis.hotspots import HotSpots

    if isinstance(result, ServiceGaps):
        return result.worst(n=len(result.to_pandas()))
    if isinstance(result, HotSpots):
        frame = result.to_pandas()
        return frame.sort_values("z", ascending=False, kind="stable") if "z" in frame.columns else frame
    if isinstance(result, ResourceScores):
        frame = result.to_pandas()
        order = frame["score"].abs().sort_values(ascending=False, kind="stable").index
        return frame.loc[order]
    return None


def assignment_of(item: Any) -> dict[str, Any] | None:
    """The stored assignment a places run used (for the page: how many points were placed)."""
    b = item.params.get("boundaries")
    if not b or item.params.get("area_column") or item.params.get("by"):
        return None
    found = AreaAssignment.objects.filter(
        dataset_version=item.dataset_version, boundary_version__dataset__name=b["dataset"],
        boundary_version__number=b["version"], boundary_version__dataset__city=item.project.city,
    ).select_related("dataset_version__dataset", "boundary_version__dataset").first()  # fmt: skip
    if found is None:
        return None
    data = describe(found)
    counts = data["counts"] or {}
    data["placed"] = int(counts.get("assigned", 0)) + int(counts.get("swapped", 0))
    data["share"] = data["placed"] / data["rows"] if data["rows"] else 0.0
    data["problems"] = [(k, v) for k, v in counts.items() if k not in ("assigned",) and v]
    return data
