"""The ``ridp`` command: a thin shell over :mod:`ridp.workspace` and the core.

Each command parses its arguments, calls one library function and prints the
result. Library errors become one red line and exit code 1, here and only here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

import typer
from rich.console import Console

from ridp.errors import RidpError

__all__ = ["app", "main"]

T = TypeVar("T")
# Piped output (CI logs, `make demo`) gets a wide page rather than rich's 80 columns.
console = Console(width=None if Console().is_terminal else 160)
err_console = Console(stderr=True, width=None if Console(stderr=True).is_terminal else 160)

app = typer.Typer(
    name="ridp",
    help="Run a city's Resident Impact Data Project: data, readiness, analysis, pilots, impact.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def ready() -> None:
    """Boot the workspace store and recover from any crashed ingest."""
    import ridp.workspace
    from ridp.errors import WorkspaceError

    try:
        ridp.workspace.boot()
    except RidpError:
        raise
    except Exception as exc:  # Django's ImproperlyConfigured etc. at the edge
        raise WorkspaceError(f"cannot open the workspace: {exc}") from exc
    from ridp.workspace.store import ensure_ready

    ensure_ready()


def day(value: str, field: str) -> date:
    """A ``YYYY-MM-DD`` option as a date; anything else is a FieldError naming the option."""
    from ridp.errors import FieldError

    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise FieldError(field, f"{value!r} is not a date like 2026-04-01") from None


def optional_day(value: str | None, field: str) -> date | None:
    """:func:`day` for an option that may be left out (None)."""
    return None if value is None else day(value, field)


def run(fn: Callable[[], T]) -> T:
    """Call ``fn``; turn a ridp error into one red line and exit code 1."""
    try:
        return fn()
    except RidpError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(1) from None


def _register() -> None:
    from ridp.cli import (
        agreement,
        analyze,
        charter,
        city,
        cohort,
        data,
        demo,
        evaluate,
        gate,
        meeting,
        metric,
        pilot,
        places,
        plan,
        project,
        projectteam,
        readiness,
        scoping,
        serve,
        workspace,
    )  # fmt: skip

    workspace.register(app)
    app.command("serve")(serve.serve)
    app.command("readiness")(readiness.readiness)
    app.add_typer(city.app, name="city")
    app.add_typer(data.app, name="data")
    app.add_typer(agreement.app, name="agreement")
    app.add_typer(project.app, name="project")
    app.add_typer(scoping.app, name="scoping")
    app.add_typer(charter.app, name="charter")
    app.add_typer(projectteam.app, name="team")
    app.add_typer(meeting.app, name="meeting")
    app.add_typer(gate.app, name="gate")
    app.add_typer(cohort.app, name="cohort")
    app.add_typer(demo.app, name="demo")
    app.add_typer(metric.app, name="metric")
    app.add_typer(analyze.app, name="analyze")
    app.add_typer(places.app, name="places")
    app.add_typer(pilot.app, name="pilot")
    app.add_typer(plan.app, name="plan")
    app.add_typer(evaluate.app, name="evaluate")


_register()


def main() -> None:
    """Entry point of the console script."""
    app(prog_name="ridp")
