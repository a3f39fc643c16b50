"""``ridp places ...``: boundaries, points assigned to areas, hot spots, service gaps and where resources go.

A thin shell over :mod:`ridp.workspace.places` and :mod:`ridp.workspace.analysis`
(the same runs the browser and the API start).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from ridp.cli import console, ready, run
from ridp.cli.analyze import _export, _fmt, _progress

app = typer.Typer(help="Places and equity: boundaries, area assignment, hot spots and disparities.",
                  no_args_is_help=True)  # fmt: skip


def _triple(value: str | None, field: str, parts: tuple[str, ...]) -> dict[str, str] | None:
    from ridp.errors import FieldError

    if not value:
        return None
    pieces = value.split(":")
    if len(pieces) != len(parts) or not all(pieces):
        raise FieldError(field, f"{value!r} is not {':'.join(p.upper() for p in parts)}")
    return dict(zip(parts, pieces, strict=True))


@app.command("boundaries")
def boundaries_(
    name: str = typer.Argument(..., help="The boundary dataset (GeoJSON or a zipped shapefile in the catalog)."),
    city: str = typer.Option(..., help="The city."),
    id_field: str | None = typer.Option(None, help="The column that identifies each area (else chosen and said)."),
    name_field: str | None = typer.Option(None, help="The column with each area's name."),
    as_json: bool = typer.Option(False, "--json", help="Print the check as JSON."),
) -> None:
    """Check a boundary dataset: areas, invalid polygons, another coordinate system, overlaps and gaps."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.places import boundaries_of

        areas, version = boundaries_of(acting_user(), city, name, id_field=id_field, name_field=name_field)
        if as_json:
            console.print_json(json.dumps({"version": version.number, **areas.to_dict()}))
            return
        console.print(f"{name} v{version.number}", highlight=False)
        console.print(areas.summary(), highlight=False, markup=False)

    run(go)


@app.command("assign")
def assign_(
    dataset: str = typer.Argument(..., help="The dataset with points (latitude and longitude mapped)."),
    boundaries: str = typer.Argument(..., help="The boundary dataset."),
    city: str = typer.Option(..., help="The city."),
    version: int | None = typer.Option(None, help="The dataset's version (default: current)."),
    id_field: str | None = typer.Option(None, help="The boundary column that identifies each area."),
    name_field: str | None = typer.Option(None, help="The boundary column with each area's name."),
    addresses: str | None = typer.Option(
        None, help="DATASET:ADDRESS:LAT:LON, address points (or parcels): rows without coordinates matched first."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Assign each row's point to its area, once per dataset version and boundary version; report what could not
    be placed (missing, zero, swapped, out-of-range and outside coordinates) with examples."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.places import assign, describe

        with console.status("assigning points to areas", spinner="dots"):
            item = assign(acting_user(), city, dataset, boundaries, version=version, id_field=id_field,
                          name_field=name_field,
                          addresses=_triple(addresses, "addresses", ("dataset", "address", "lat", "lon")))  # fmt: skip
        data = describe(item)
        if as_json:
            console.print_json(json.dumps(data, default=str))
            return
        _print_assignment(data)

    run(go)


def _coordinate(value: Any) -> str:
    return f"{value:.5f}" if isinstance(value, float) else _fmt(value)


def _print_assignment(data: dict[str, Any]) -> None:
    counts = data["counts"] or {}
    rows = int(data["rows"] or 0)
    placed = int(counts.get("assigned", 0)) + int(counts.get("swapped", 0))
    console.print(
        f"{data['dataset']} v{data['version']} → {data['boundaries']} v{data['boundary_version']}: "
        f"{placed:,} of {rows:,} rows placed ({placed / rows if rows else 0:.1%}) in column {data['column']!r} "
        f"({data['engine']}, {data['seconds']:.1f} s)",
        highlight=False,
    )
    table = Table(title="Coordinates", title_justify="left")
    table.add_column("status")
    table.add_column("rows", justify="right")
    table.add_column("examples")
    for status, n in counts.items():
        examples = (data.get("examples") or {}).get(status) or []
        shown = "; ".join(", ".join(_coordinate(v) for v in e.values()) for e in examples[:3])
        table.add_row(status, f"{int(n):,}", shown)
    console.print(table)
    matched = data.get("addresses")
    if matched:
        rate = matched.get("match_rate")
        console.print(
            f"addresses: {matched['matched']:,} of {matched['needing']:,} rows without coordinates matched"
            + (f" ({rate:.1%})" if rate is not None else "")
            + f"; {matched['unmatched']:,} unmatched, "
            f"{matched['ambiguous']:,} ambiguous, {matched['no_address']:,} without an address",
            highlight=False,
        )
        for miss in (matched.get("examples") or [])[:5]:
            console.print(f"  {miss['reason']}: {miss['address']!r} ({miss['requests']:,} rows)", highlight=False,
                          markup=False)  # fmt: skip
    for problem in data.get("boundary_problems") or []:
        console.print(f"boundaries: {problem}", highlight=False, markup=False)


@app.command("assignments")
def assignments_(
    dataset: str = typer.Argument(..., help="The dataset."),
    city: str = typer.Option(..., help="The city."),
) -> None:
    """The stored area assignments of a dataset's versions."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.places import describe, list_assignments

        table = Table(title=f"Area assignments of {dataset}", title_justify="left")
        for name in ("version", "boundaries", "column", "rows", "placed", "engine", "when"):
            table.add_column(name)
        for item in list_assignments(acting_user(), city, dataset):
            d = describe(item)
            counts = d["counts"] or {}
            placed = int(counts.get("assigned", 0)) + int(counts.get("swapped", 0))
            table.add_row(str(d["version"]), f"{d['boundaries']} v{d['boundary_version']}", d["column"],
                          f"{int(d['rows'] or 0):,}", f"{placed:,}", d["engine"], d["created_at"][:16])  # fmt: skip
        console.print(table)

    run(go)


def _analyse(project: int, dataset: str, city: str, kind: str, params: dict[str, Any], quiet: bool) -> Any:
    from ridp.workspace.analysis import analyze_now
    from ridp.workspace.people import acting_user

    bar, report = _progress(kind.replace("_", " "), quiet)
    with bar:
        return analyze_now(acting_user(), city, project, dataset, kind, params, progress=report)


def _write_chart(chart: Any, path: Path | None) -> None:
    if path is None:
        return
    from ridp.analysis.charts import to_png, to_svg

    if path.suffix.lower() == ".png":
        path.write_bytes(to_png(chart))
    else:
        path.write_text(to_svg(chart), encoding="utf-8")
    console.print(f"wrote {path}", highlight=False)


def _print_frame(frame: Any, columns: list[str], title: str, top: int) -> None:
    shown = [c for c in columns if c in frame.columns]
    table = Table(title=title, title_justify="left")
    for name in shown:
        table.add_column(name, justify="left" if frame[name].dtype == object else "right")
    for row in frame[shown].head(top).itertuples(index=False):
        table.add_row(*(_fmt(v) for v in row))
    console.print(table)


def _show(item: Any, result: Any, *, as_json: bool, csv: Path | None, xlsx: Path | None, svg: Path | None,
          top: int, title: str) -> None:  # fmt: skip
    from ridp.workspace import places

    ranked = places.worst_first(result)
    _export(ranked, csv, xlsx, set())
    if svg is not None:
        _write_chart(places.chart_for(item, result), svg)
    if as_json:
        console.print_json(json.dumps(result.to_dict(), default=str))
        return
    console.print(f"run {item.pk} of {item.dataset_version.dataset.name} v{item.dataset_version.number}",
                  highlight=False)  # fmt: skip
    console.print(result.summary(), highlight=False, markup=False)
    _print_frame(ranked, list(ranked.columns), title, top)


_BOUNDARIES = typer.Option(None, help="The boundary dataset: points are assigned to its areas (once, then kept).")
_AREA_COLUMN = typer.Option(None, help="Or a column of the data that holds the area ids already.")
_ID_FIELD = typer.Option(None, help="The boundary column that identifies each area.")
_POPULATION = typer.Option(None, help="DATASET:AREA_COLUMN:PEOPLE_COLUMN, people per area (rates per 1,000 residents).")
_CSV = typer.Option(None, help="Write every row to this CSV file (formula-safe).")
_XLSX = typer.Option(None, help="Write every row to this XLSX file (formula-safe).")
_SVG = typer.Option(None, help="Write the map (rendered offline) to this SVG or PNG file.")
_JSON = typer.Option(False, "--json", help="Print the whole result as JSON.")


@app.command("hot-spots")
def hot_spots_(
    project: int = typer.Argument(..., help="Project number."),
    dataset: str = typer.Argument(..., help="The dataset with points (e.g. service requests)."),
    city: str = typer.Option(..., help="The city."),
    boundaries: str = typer.Option(..., help="The boundary dataset (its polygons define the neighbours)."),
    area_column: str | None = _AREA_COLUMN,
    id_field: str | None = _ID_FIELD,
    population: str | None = _POPULATION,
    correction: str = typer.Option("fdr", help="fdr (Benjamini-Hochberg), bonferroni or none."),
    weights: str = typer.Option("queen", help="queen or rook contiguity."),
    inference: str = typer.Option("normal", help="normal (Gi* z-scores) or permutation (999, seeded) p-values."),
    top: int = typer.Option(20, help="Areas shown, hottest first."),
    csv: Path | None = _CSV,
    xlsx: Path | None = _XLSX,
    svg: Path | None = _SVG,
    as_json: bool = _JSON,
) -> None:
    """Hot and cold spots of requests per area (Getis-Ord Gi*, permutation p-values, the correction stated)."""

    def go() -> None:
        ready()
        params = {"boundaries": boundaries, "area_column": area_column, "id_field": id_field,
                  "population": _triple(population, "population", ("dataset", "key", "value")),
                  "correction": correction, "weights": weights, "inference": inference}  # fmt: skip
        item, result = _analyse(project, dataset, city, "hot_spots", params, as_json)
        _show(item, result, as_json=as_json, csv=csv, xlsx=xlsx, svg=svg, top=top, title="Areas, hottest first")

    run(go)


@app.command("gaps")
def gaps_(
    project: int = typer.Argument(..., help="Project number."),
    dataset: str = typer.Argument(..., help="The dataset (service requests)."),
    city: str = typer.Option(..., help="The city."),
    by: str | None = typer.Option(None, help="A column of groups (or give --boundaries / --area-column)."),
    boundaries: str | None = _BOUNDARIES,
    area_column: str | None = _AREA_COLUMN,
    id_field: str | None = _ID_FIELD,
    population: str | None = _POPULATION,
    reference: str | None = typer.Option(None, help="The reference group (default: the one with most requests)."),
    groups: str | None = typer.Option(
        None, help="CENSUS:AREA_COLUMN:VARIABLE, areas grouped into fifths of a census variable (demographic gaps)."
    ),
    unit: str = typer.Option("calendar", help="calendar or business days."),
    top: int = typer.Option(20, help="Groups shown, worst-served first."),
    csv: Path | None = _CSV,
    xlsx: Path | None = _XLSX,
    svg: Path | None = _SVG,
    as_json: bool = _JSON,
) -> None:
    """How well residents are served: median days to close and share within target per area or group, with
    bootstrap intervals, ratios to a reference group and the 0.8-1.25 flag; worst-served first."""

    def go() -> None:
        ready()
        grouped = _triple(groups, "groups", ("dataset", "key", "variable"))
        params = {"by": by, "boundaries": boundaries, "area_column": area_column, "id_field": id_field,
                  "population": _triple(population, "population", ("dataset", "key", "value")),
                  "reference": reference, "groups": grouped, "unit": unit}  # fmt: skip
        item, result = _analyse(project, dataset, city, "service_gaps", params, as_json)
        _show(item, result, as_json=as_json, csv=csv, xlsx=xlsx, svg=svg, top=top, title="Worst-served first")

    run(go)


@app.command("scores")
def scores_(
    project: int = typer.Argument(..., help="Project number."),
    dataset: str = typer.Argument(..., help="The events (requests, inspections, resources) to score."),
    city: str = typer.Option(..., help="The city."),
    census: str = typer.Option(..., help="CENSUS:AREA_COLUMN:POPULATION_COLUMN, the ACS-style table per area."),
    demographic: list[str] = typer.Option([], help="A demographic column of the census table (repeatable)."),
    boundaries: str | None = _BOUNDARIES,
    area_column: str | None = _AREA_COLUMN,
    id_field: str | None = _ID_FIELD,
    top: int = typer.Option(20, help="Areas shown, largest score first."),
    csv: Path | None = _CSV,
    xlsx: Path | None = _XLSX,
    svg: Path | None = _SVG,
    as_json: bool = _JSON,
) -> None:
    """Where resources go (the Urban Institute's Spatial Equity Data Tool): each area's share of the events
    against its share of residents, and event-weighted demographics, with census margins of error."""

    def go() -> None:
        ready()
        table = _triple(census, "census", ("dataset", "key", "baseline")) or {}
        params = {"boundaries": boundaries, "area_column": area_column, "id_field": id_field,
                  "census": {**table, "demographics": list(demographic)}}  # fmt: skip
        item, result = _analyse(project, dataset, city, "resource_scores", params, as_json)
        _show(item, result, as_json=as_json, csv=csv, xlsx=xlsx, svg=svg, top=top, title="Areas, largest gap first")

    run(go)
