"""``ridp cohort list|show|new|edit-phase|view``: cohorts, their calendars, and the coach's cohort view."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from ridp.cli import console, optional_day, ready, run

app = typer.Typer(help="Cohorts: their calendars and the coach's cohort view.", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """List the cohorts of your cities (every cohort for a programme admin)."""

    def go() -> None:
        ready()
        from ridp.workspace.cohorts import list_cohorts
        from ridp.workspace.people import acting_user

        table = Table("#", "name", "year", title="cohorts")
        for cohort in list_cohorts(acting_user()):
            table.add_row(str(cohort.pk), escape(cohort.name), str(cohort.year))
        console.print(table)

    run(go)


@app.command("show")
def show(cohort: int = typer.Argument(..., help="Cohort number.")) -> None:
    """Show a cohort's calendar: its phases, dates, meeting cadence and what each produces."""

    def go() -> None:
        ready()
        from ridp.workspace import cohorts
        from ridp.workspace.people import acting_user

        found = cohorts.get_cohort(acting_user(), cohort)
        table = Table(
            "phase", "key", "starts", "ends", "cadence", "produces", "gate out of it", title=escape(found.name)
        )
        for phase in cohorts.phases(found):
            table.add_row(
                escape(phase.name), phase.key, str(phase.starts_on), str(phase.ends_on), phase.get_cadence_display(),
                escape(phase.produces), ", ".join(cohorts.gate_conditions(phase.key)),
            )  # fmt: skip
        console.print(table)

    run(go)


@app.command("new")
def new(
    name: str = typer.Argument(..., help="The cohort's name, e.g. 'Cohort 2027'."),
    year: int = typer.Option(..., help="The year of its calendar."),
) -> None:
    """Add a cohort with the programme's default calendar in YEAR (programme admins)."""

    def go() -> None:
        ready()
        from ridp.workspace import cohorts
        from ridp.workspace.people import acting_user

        made = cohorts.create_cohort(acting_user(), name, year=year)
        phases = cohorts.phases(made)
        console.print(
            f"cohort {made.pk} added: {made.name}, {phases[0].starts_on} to {phases[-1].ends_on}", highlight=False
        )

    run(go)


@app.command("edit-phase")
def edit_phase(
    cohort: int = typer.Argument(..., help="Cohort number."),
    phase: str = typer.Argument(..., help="The phase's key: scoping, analysis, testing or closeout."),
    name: str = typer.Option(None, help="A new name."),
    starts: str = typer.Option(None, help="A new start date (YYYY-MM-DD)."),
    ends: str = typer.Option(None, help="A new end date (YYYY-MM-DD)."),
    cadence: str = typer.Option(None, help="as_needed, weekly, monthly or none."),
) -> None:
    """Change one phase of a cohort's calendar (programme admins). Phases may not overlap."""

    def go() -> None:
        ready()
        from ridp.workspace import cohorts
        from ridp.workspace.people import acting_user

        changed = cohorts.edit_phase(
            acting_user(), cohort, phase, name=name, starts_on=optional_day(starts, "starts"), ends_on=optional_day(ends, "ends"),
            cadence=cadence,
        )  # fmt: skip
        console.print(
            f"{changed.name}: {changed.starts_on} to {changed.ends_on}, {changed.get_cadence_display()}",
            highlight=False,
        )

    run(go)


@app.command("view")
def view(
    city: str = typer.Option("", help="Only this city."),
    cohort: int = typer.Option(None, help="Only this cohort."),
    phase: str = typer.Option("", help="Only projects in this phase."),
    at_risk: bool = typer.Option(False, "--at-risk", help="Only projects with a risk flag."),
    sort: str = typer.Option("-risk", help="A column: risk, city, title, cohort, phase, days, ... ('-' reverses)."),
) -> None:
    """The coach's cohort view: every project of your assigned cities against the calendar, risk flags first."""

    def go() -> None:
        ready()
        from ridp.workspace.cohort_view import cohort_rows
        from ridp.workspace.people import acting_user

        rows = cohort_rows(acting_user(), city=city, cohort=cohort, phase=phase, at_risk=at_risk, sort=sort)
        table = Table(
            "#", "city", "project", "phase", "days", "calendar", "gate", "next meeting", "missed", "overdue",
            "expiring", "risks", title="cohort view",
        )  # fmt: skip
        for r in rows:
            gate = {"passed": "passes", "last": "last phase"}.get(r.gate, f"blocked ({r.gate_missing})")
            table.add_row(
                str(r.project_id), r.city, escape(r.title), escape(r.phase_name), str(r.days_in_phase),
                escape(r.calendar_phase_name) + (" (behind)" if r.behind else ""), gate,
                f"{r.next_meeting:%Y-%m-%d %H:%M}" if r.next_meeting else "—",
                str(r.missed_meetings) + (" late" if r.cadence_late else ""), str(r.overdue_follow_ups),
                str(r.agreements_expiring), "; ".join(r.risks),
            )  # fmt: skip
        console.print(table)

    run(go)
