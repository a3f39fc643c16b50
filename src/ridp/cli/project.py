"""``ridp project start|list|show|intake``: a city's projects and their intake."""

from __future__ import annotations

import typer
from rich.table import Table

from ridp.cli import console, ready, run

app = typer.Typer(help="A city's projects: the intake, and where each stands.", no_args_is_help=True)


@app.command("start")
def start(
    city: str = typer.Option(..., help="The city."),
    title: str = typer.Option(..., help="A short title, e.g. 'Faster pothole repair'."),
    problem: str = typer.Option(..., help="The problem, in a few sentences."),
    why: str = typer.Option(..., help="Why it matters to residents."),
    service_change: str = typer.Option(..., help="What service would change."),
) -> None:
    """Start a project with its intake (senior leaders)."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.projects import start_project

        p = start_project(
            acting_user(), city, title=title, problem=problem, why_it_matters=why, service_change=service_change
        )
        console.print(f"project {p.pk} started in {p.city.slug}: {p.title} (phase: {p.phase}, cohort: {p.cohort.name})")

    run(go)


@app.command("list")
def list_(city: str = typer.Option(..., help="The city.")) -> None:
    """List a city's projects."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.projects import list_projects

        table = Table("#", "title", "phase", "since", "decision", "cohort", title=f"projects of {city}")
        for p in list_projects(acting_user(), city):
            table.add_row(str(p.pk), p.title, p.phase, str(p.phase_since), p.get_decision_display(), p.cohort.name)
        console.print(table)

    run(go)


@app.command("show")
def show(
    project: int = typer.Argument(..., help="Project number."), city: str = typer.Option(..., help="The city.")
) -> None:
    """Show a project's intake and where it stands."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.projects import get_project

        p = get_project(acting_user(), city, project)
        console.print(f"[bold]{p.title}[/] — {p.city.name}, {p.cohort.name}", highlight=False)
        console.print(f"phase: {p.phase} since {p.phase_since}; decision: {p.get_decision_display()}")
        for label, text in (
            ("problem", p.problem),
            ("why it matters", p.why_it_matters),
            ("service that would change", p.service_change),
        ):
            console.print(f"[bold]{label}:[/] {text}", highlight=False, markup=True)

    run(go)


@app.command("intake")
def intake(
    project: int = typer.Argument(..., help="Project number."),
    city: str = typer.Option(..., help="The city."),
    title: str = typer.Option(None, help="A new title."),
    problem: str = typer.Option(None, help="A new problem statement."),
    why: str = typer.Option(None, help="Why it matters, anew."),
    service_change: str = typer.Option(None, help="What service would change, anew."),
) -> None:
    """Change the intake's answers."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.projects import update_intake

        values = {"title": title, "problem": problem, "why_it_matters": why, "service_change": service_change}
        p = update_intake(acting_user(), city, project, **{k: v for k, v in values.items() if v is not None})
        console.print(f"project {p.pk}: intake saved")

    run(go)
