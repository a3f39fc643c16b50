"""``ridp data add|list|show|versions|preview``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ridp.cli import console, ready, run

app = typer.Typer(help="A city's datasets and their versions.", no_args_is_help=True)


def _pairs(items: list[str], form: str, *, split_last: bool) -> dict[str, str]:
    """``--set a=b`` options as a dict. A column name may hold ``=``, so the ``=`` that
    splits is the one beside the side that cannot (a field or a class)."""
    from ridp.errors import FieldError

    pairs = {}
    for item in items:
        if "=" not in item:
            raise FieldError("set", f"{item!r} is not {form}")
        key, value = item.rsplit("=", 1) if split_last else item.split("=", 1)
        pairs[key.strip()] = value.strip()
    return pairs


@app.command("add")
def add(
    file: str = typer.Argument(
        ..., help="A file, or an https:// URL of an open-data portal export or Socrata resource."
    ),
    city: str = typer.Option(..., help="The city the data belongs to."),
    name: str = typer.Option("", help="Dataset name (default: the file name without extension)."),
    encoding: str = typer.Option(
        "", help="State the encoding (utf-8, cp1252, latin-1, utf-16) if sniffing gets it wrong."
    ),
    delimiter: str = typer.Option("", help="State the delimiter if sniffing gets it wrong ('\\t' for tab)."),
    sheet: str = typer.Option("", help="The sheet of an .xlsx workbook (default: the first with data)."),
) -> None:
    """Ingest a file as a new version of a dataset (atomic: all or nothing).

    CSV, TSV, Parquet, JSON, NDJSON, GeoJSON, Excel (.xlsx) and zip archives holding
    a shapefile (converted to WGS84) or one data file.
    """

    def go() -> None:
        ready()
        from ridp.workspace.datasets import add_file
        from ridp.workspace.people import acting_user

        actor = acting_user()
        delim = "\t" if delimiter in ("\\t", "tab") else (delimiter or None)
        columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task("ingesting", total=1.0)
            if file.startswith(("https://", "http://")):
                from ridp.workspace.datasets import add_url

                outcome = add_url(
                    actor, file, city=city, name=name or None,
                    progress=lambda fraction, stage: bar.update(task, completed=fraction, description=stage),
                )  # fmt: skip
            else:
                outcome = add_file(
                    actor,
                    Path(file),
                    city=city,
                    name=name or None,
                    encoding=encoding or None,
                    delimiter=delim,
                    sheet=sheet or None,
                    progress=lambda fraction, stage: bar.update(task, completed=fraction, description=stage),
                )
        v = outcome.version
        if outcome.created:
            console.print(f"{v.dataset.name} v{v.number}: {v.rows:,} rows, {len(v.schema)} columns")
            for note in v.notes:
                console.print(f"  note: {note}", style="yellow")
        else:
            console.print(f"unchanged: these bytes are already {v.dataset.name} v{v.number} ({v.rows:,} rows)")

    run(go)


@app.command("list")
def list_(city: str = typer.Option(..., help="The city.")) -> None:
    """List a city's datasets with their current version and row count."""

    def go() -> None:
        ready()
        from ridp.workspace.datasets import list_datasets
        from ridp.workspace.people import acting_user

        table = Table("dataset", "version", "rows", "columns", "source", "added (UTC)", title=f"datasets of {city}")
        for d in list_datasets(acting_user(), city):
            v = d.current_version
            if v is None:
                table.add_row(
                    d.name, "-", "no data", "", "inventory record only", d.created_at.strftime("%Y-%m-%d %H:%M")
                )
                continue
            table.add_row(
                d.name,
                str(v.number),
                f"{v.rows:,}",
                str(len(v.schema)),
                v.source_name,
                v.created_at.strftime("%Y-%m-%d %H:%M"),
            )
        console.print(table)

    run(go)


@app.command("show")
def show(
    name: str = typer.Argument(..., help="Dataset name."),
    city: str = typer.Option(..., help="The city."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show a dataset's inventory record, current version and columns."""

    def go() -> None:
        ready()
        from ridp.workspace.datasets import describe, get_dataset
        from ridp.workspace.people import acting_user

        d = get_dataset(acting_user(), city, name)
        if as_json:
            sys.stdout.write(json.dumps(describe(d), indent=2) + "\n")  # no rich markup in JSON
            return
        v = d.current_version
        if v is None:
            console.print(f"[bold]{d.name}[/] ({d.city.slug})  inventory record, no data uploaded")
            for field in (
                "description",
                "owner_department",
                "steward",
                "source_system",
                "sensitivity",
                "sensitivity_reason",
            ):
                if getattr(d, field):
                    console.print(f"{field.replace('_', ' ')}: {getattr(d, field)}")
            return
        console.print(
            f"[bold]{d.name}[/] ({d.city.slug})  version {v.number}  {v.rows:,} rows  {len(v.schema)} columns"
        )
        console.print(
            f"source {v.source_name} ({v.source_format}, {v.source_bytes:,} bytes, {v.encoding or '-'}, delimiter {v.delimiter!r})"
        )
        console.print(f"sha256 {v.source_sha256}")
        for field in (
            "description",
            "owner_department",
            "steward",
            "source_system",
            "update_frequency",
            "licence",
            "public",
            "sensitivity",
        ):
            value = getattr(d, field)
            if value:
                console.print(f"{field.replace('_', ' ')}: {value}")
        table = Table("#", "column", "type", "classification")
        for c in v.columns.all():
            table.add_row(str(c.position + 1), c.name, c.dtype, c.get_classification_display())
        console.print(table)

    run(go)


@app.command("versions")
def versions_(
    name: str = typer.Argument(..., help="Dataset name."), city: str = typer.Option(..., help="The city.")
) -> None:
    """List every version of a dataset."""

    def go() -> None:
        ready()
        from ridp.workspace.datasets import get_dataset, versions
        from ridp.workspace.people import acting_user

        actor = acting_user()
        current = get_dataset(actor, city, name).current_version
        table = Table("version", "rows", "source", "sha256", "by", "added (UTC)", "current")
        for v in versions(actor, city, name):
            table.add_row(
                str(v.number),
                f"{v.rows:,}",
                v.source_name,
                v.source_sha256[:12],
                v.created_by.username,
                v.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                "yes" if current and v.pk == current.pk else "",
            )
        console.print(table)

    run(go)


@app.command("preview")
def preview_(
    name: str = typer.Argument(..., help="Dataset name."),
    city: str = typer.Option(..., help="The city."),
    rows: int = typer.Option(10, help="How many rows."),
    version: int = typer.Option(0, help="Version number (default: current)."),
) -> None:
    """Show the first rows of a dataset (personal columns masked)."""

    def go() -> None:
        ready()
        from ridp.workspace.datasets import preview
        from ridp.workspace.people import acting_user

        p = preview(acting_user(), city, name, limit=rows, version=version or None)
        table = Table(*p.columns, title=f"{name} v{p.version.number}: first {len(p.rows)} of {p.version.rows:,} rows")
        for row in p.rows:
            table.add_row(*("" if value is None else str(value) for value in row))
        console.print(table)

    run(go)


@app.command("map")
def map_(
    name: str = typer.Argument(..., help="Dataset name."),
    city: str = typer.Option(..., help="The city."),
    set_: list[str] = typer.Option([], "--set", help="field=column (repeat); field= removes a field."),
    area: list[str] = typer.Option([], "--area", help="An area column (repeat; replaces the proposed ones)."),
    accept: bool = typer.Option(False, "--accept", help="Confirm the mapping."),
) -> None:
    """Show, correct and confirm how a dataset's columns map to the canonical schema."""

    def go() -> None:
        ready()
        from ridp.workspace.mapping import map_dataset
        from ridp.workspace.people import acting_user

        m = map_dataset(
            acting_user(),
            city,
            name,
            set_fields=_pairs(set_, "field=column", split_last=False),
            areas=list(area) or None,
            accept=accept,
        )
        state = f"confirmed by {m.confirmed_by.username}" if m.confirmed_by else "proposed, not confirmed (--accept)"
        table = Table(
            "field", "column", "confidence", "why", title=f"{name}: canonical mapping ({state}; times in {m.timezone})"
        )
        for field_name, entry in m.fields.items():
            formats = f" [{', '.join(entry['date_formats'])}]" if entry.get("date_formats") else ""
            table.add_row(
                field_name, str(entry["column"]) + formats, f"{entry['confidence']:.2f}", "; ".join(entry["reasons"])
            )
        if m.areas:
            table.add_row("areas", ", ".join(m.areas), "", "")
        console.print(table)

    run(go)


@app.command("classify")
def classify(
    name: str = typer.Argument(..., help="Dataset name."),
    city: str = typer.Option(..., help="The city."),
    set_: list[str] = typer.Option([], "--set", help="column=class (public, internal, personal, sensitive); repeat."),
    accept: bool = typer.Option(False, "--accept", help="Confirm every column's class."),
) -> None:
    """Show, change and confirm which columns hold personal data."""

    def go() -> None:
        ready()
        from ridp.workspace.classify import classify_dataset
        from ridp.workspace.people import acting_user

        columns = classify_dataset(
            acting_user(), city, name, set_columns=_pairs(set_, "column=class", split_last=True), accept=accept
        )
        table = Table("column", "suggested", "confirmed", "why", title=f"{name}: column classes")
        for c in columns:
            table.add_row(
                c.name, c.suggested_classification, c.classification or "-", "; ".join(c.classification_reasons)
            )
        console.print(table)

    run(go)


@app.command("inventory")
def inventory(
    name: str = typer.Argument(..., help="Dataset name (created as an inventory record if new)."),
    city: str = typer.Option(..., help="The city."),
    description: str | None = typer.Option(None, help="What the dataset holds."),
    owner_department: str | None = typer.Option(None, help="Department that owns it."),
    steward: str | None = typer.Option(None, help="Person who looks after it."),
    source_system: str | None = typer.Option(None, help="System it comes from."),
    update_frequency: str | None = typer.Option(None, help="How often it changes, e.g. daily."),
    licence: str | None = typer.Option(None, help="Licence or terms of use."),
    public: str | None = typer.Option(None, help="yes, no or partial."),
    sensitivity: str | None = typer.Option(None, help="e.g. low, medium, high."),
    sensitivity_reason: str | None = typer.Option(None, help="Why it is sensitive."),
    years_of_history: float | None = typer.Option(None, help="Years of history held."),
    known_quality_issues: str | None = typer.Option(None, help="Known problems with the data."),
    needs_agreement: bool | None = typer.Option(
        None, "--needs-agreement/--no-agreement-needed", help="Whether use needs an active data-sharing agreement."
    ),
) -> None:
    """Record or update a dataset's inventory record (with or without data)."""

    def go() -> None:
        ready()
        from ridp.workspace.datasets import record_inventory
        from ridp.workspace.people import acting_user

        given = {k: v for k, v in locals_.items() if v is not None}
        d = record_inventory(acting_user(), city, name, **given)
        console.print(f"inventory record {d.name} ({d.city.slug}) saved: {', '.join(sorted(given)) or 'no changes'}")

    locals_ = {
        "description": description, "owner_department": owner_department, "steward": steward,
        "source_system": source_system, "update_frequency": update_frequency, "licence": licence, "public": public,
        "sensitivity": sensitivity, "sensitivity_reason": sensitivity_reason, "years_of_history": years_of_history,
        "known_quality_issues": known_quality_issues, "needs_agreement": needs_agreement,
    }  # fmt: skip
    run(go)
