"""``ridp demo city``: the synthetic demo city."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ridp.cli import console, run

app = typer.Typer(help="The synthetic demo city.", no_args_is_help=True)


@app.command("city")
def city(
    out: Path = typer.Argument(..., help="Folder to write the city's files into."),
    rows: int = typer.Option(100_000, help="Service requests to generate."),
    seed: int = typer.Option(2026, help="Random seed (same seed, same bytes)."),
) -> None:
    """Generate the demo city's files and truth.json."""

    def go() -> None:
        from ridp.demo import generate_city

        out.mkdir(parents=True, exist_ok=True)
        columns = (TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task("rows", total=rows)
            demo = generate_city(
                out, rows=rows, seed=seed, progress=lambda done, total: bar.update(task, completed=done)
            )
        for path in (demo.requests_csv, demo.population_csv, demo.neighbourhoods_geojson, demo.truth_json):
            console.print(f"wrote {path}")

    run(go)
