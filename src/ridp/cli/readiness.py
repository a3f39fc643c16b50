"""``ridp readiness DATASET``: is there sufficient quality data? A thin shell over
:mod:`ridp.workspace.readiness` (the same run the browser and the API start)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ridp.cli import console, ready, run

STYLE = {"insufficient": "bold red", "proceed with caution": "bold yellow", "sufficient": "bold green"}


def readiness(
    dataset: str = typer.Argument(..., help="Dataset name."),
    city: str = typer.Option(..., help="The city."),
    checks: Path | None = typer.Option(
        None, help="A YAML file of checks (default: the dataset's own, or those made from its mapping)."
    ),
    html: Path | None = typer.Option(None, help="Write the full report (offline charts) to this HTML file."),
    version: int | None = typer.Option(None, help="A version number (default: the current one)."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole result as JSON."),
    save_checks: bool = typer.Option(False, "--save-checks", help="Keep --checks as the dataset's declared checks."),
) -> None:
    """Profile the dataset, run its checks, score seven dimensions and give the verdict against what the
    project's metrics need. The same version and checks are answered from the saved result."""

    def go() -> None:
        ready()
        from ridp.errors import InputError
        from ridp.workspace.people import acting_user
        from ridp.workspace.readiness import assess_now, set_checks

        actor = acting_user()
        text = None
        if checks is not None:
            try:
                text = checks.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"{checks}: cannot read it ({exc})") from exc
            if save_checks:
                set_checks(actor, city, dataset, text)
        columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal or as_json) as bar:
            task = bar.add_task("readiness", total=1.0)
            item, result = assess_now(
                actor, city, dataset, version=version, checks_text=text,
                progress=lambda fraction, stage: bar.update(task, completed=fraction, description=stage),
            )  # fmt: skip
        if html is not None:
            html.write_text(
                result.to_html(title=f"Data readiness: {dataset} v{item.dataset_version.number}"), encoding="utf-8"
            )
        if as_json:
            console.print_json(json.dumps(result.to_dict()))
            return
        v = result.verdict
        console.print(
            f"[{STYLE[v.level]}]{v.level.upper()}[/] {dataset} v{item.dataset_version.number}: {v.explanation}"
        )
        t = result.table
        span = f"; {t.first:%Y-%m-%d} to {t.last:%Y-%m-%d} ({t.years:.1f} years)" if t.first and t.last else ""
        console.print(f"{result.rows:,} rows, {len(result.columns)} columns{span}; saved as run {item.pk}")
        scores = Table(title="Dimensions", title_justify="left")
        scores.add_column("dimension")
        scores.add_column("score", justify="right")
        scores.add_column("what lowered it")
        for d in result.dimensions:
            scores.add_row(d.name, d.shown, "\n".join(d.findings[:4]))
        console.print(scores)
        failing = [c for c in result.checks if not c.passed]
        if failing:
            table = Table(title="Checks not passed", title_justify="left")
            for name in ("check", "failing", "share"):
                table.add_column(name, justify="right" if name != "check" else "left")
            for c in failing:
                table.add_row(c.name, c.error or f"{c.failing:,}", "" if c.error else f"{c.share:.1%}")
            console.print(table)
        if v.fix_first:
            console.print("Fix first:")
            for i, step in enumerate(v.fix_first, 1):
                console.print(f"  {i}. {step}", highlight=False)
        if html is not None:
            console.print(f"report: {html}")

    run(go)
