"""``ridp meeting list|plan|record|follow-up|done|remind|ics``: a project's meetings, follow-ups and reminders."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from ridp.cli import console, day, ready, run

app = typer.Typer(help="A project's meetings, follow-ups, comments, calendar feed and reminders.", no_args_is_help=True)


@app.command("list")
def list_(
    project: int = typer.Argument(..., help="Project number."), city: str = typer.Option(..., help="The city.")
) -> None:
    """List the meetings (times in the city's zone), the cadence and the open follow-ups."""

    def go() -> None:
        ready()
        from django.utils import timezone as django_timezone

        from ridp.workspace import meetings
        from ridp.workspace.people import acting_user
        from ridp.workspace.projects import get_project

        user = acting_user()
        p = get_project(user, city, project)
        zone = meetings.city_zone(p.city)
        table = Table("#", "when", "kind", "status", "blessed", "goal", title=f"meetings of project {p.pk}")
        for m in meetings.list_meetings(user, city, project):
            when = django_timezone.localtime(m.starts_at, zone).strftime("%Y-%m-%d %H:%M %Z")
            table.add_row(str(m.pk), when, m.kind, m.status, "yes" if m.blessed else "", m.goal[:60])
        console.print(table)
        status = meetings.cadence_status(p)
        kept = "kept" if status.kept else f"missed ({status.missed} not recorded{', late' if status.late else ''})"
        console.print(f"cadence: {status.cadence}, {kept}", highlight=False)
        today = django_timezone.localdate()
        for f in meetings.open_follow_ups(p):
            late = " OVERDUE" if f.due_on < today else ""
            console.print(
                f"follow-up {f.pk}: {f.text} — {f.owner.username}, due {f.due_on}{late}", highlight=False, markup=False
            )

    run(go)


@app.command("plan")
def plan(
    project: int = typer.Argument(..., help="Project number."), city: str = typer.Option(..., help="The city.")
) -> None:
    """Plan the current phase's meetings from its cadence (only those missing)."""

    def go() -> None:
        ready()
        from ridp.workspace.meetings import plan_meetings
        from ridp.workspace.people import acting_user

        made = plan_meetings(acting_user(), city, project)
        console.print(f"{len(made)} meetings planned", highlight=False)

    run(go)


@app.command("new")
def new(
    project: int = typer.Argument(..., help="Project number."),
    city: str = typer.Option(..., help="The city."),
    at: str = typer.Option(..., help="Start, 'YYYY-MM-DD HH:MM' in the city's time zone."),
    kind: str = typer.Option("as_needed", help="kickoff, weekly_analysis, monthly_action or as_needed."),
    minutes: int = typer.Option(60, help="Length in minutes."),
    goal: str = typer.Option("", help="The goal."),
) -> None:
    """Schedule an extra meeting."""

    def go() -> None:
        ready()
        from ridp.errors import FieldError
        from ridp.workspace.meetings import schedule
        from ridp.workspace.people import acting_user

        try:
            starts_at = datetime.fromisoformat(at)
        except ValueError:
            raise FieldError("starts_at", f"{at!r} is not a date and time such as 2026-05-20 10:00") from None
        m = schedule(acting_user(), city, project, kind=kind, starts_at=starts_at, minutes=minutes, goal=goal)
        console.print(f"meeting {m.pk} scheduled ({m.kind})", highlight=False)

    run(go)


@app.command("record")
def record(
    project: int = typer.Argument(..., help="Project number."),
    meeting: int = typer.Argument(..., help="Meeting number."),
    city: str = typer.Option(..., help="The city."),
    status: str = typer.Option(None, help="planned, held or cancelled."),
    goal: str = typer.Option(None, help="The goal."),
    pre_read: str = typer.Option(None, help="The pre-read."),
    presented: str = typer.Option(None, help="What was presented."),
    decisions: str = typer.Option(None, help="The decisions."),
    data_requested: str = typer.Option(None, help="Data requested for next time."),
    risks: str = typer.Option(None, help="Risks raised."),
    usefulness: int = typer.Option(None, help="1 (not useful) to 5 (very useful)."),
    attendee: list[str] = typer.Option(None, help="A team member who attended (username); repeat."),
    guest: list[str] = typer.Option(None, help="A guest as 'name, role'; repeat."),
) -> None:
    """Record what happened at a meeting."""

    def go() -> None:
        ready()
        from ridp.errors import FieldError
        from ridp.workspace.meetings import record as record_meeting
        from ridp.workspace.people import acting_user

        values: dict[str, Any] = {
            "status": status, "goal": goal, "pre_read": pre_read, "presented": presented, "decisions": decisions,
            "data_requested": data_requested, "risks": risks, "usefulness": usefulness,
        }  # fmt: skip
        values = {k: v for k, v in values.items() if v is not None}
        if attendee or guest:
            guests = []
            for text in guest or []:
                name, comma, role = text.partition(",")
                if not comma:
                    raise FieldError("guests", f"{text!r}: write a guest as 'name, role'")
                guests.append((name.strip(), role.strip()))
            values["attendees"] = list(attendee or [])
            values["guests"] = guests
        m = record_meeting(acting_user(), city, project, meeting, **values)
        console.print(f"meeting {m.pk} recorded: {m.status}", highlight=False)

    run(go)


@app.command("follow-up")
def follow_up(
    project: int = typer.Argument(..., help="Project number."),
    meeting: int = typer.Argument(..., help="The meeting it arose at."),
    city: str = typer.Option(..., help="The city."),
    text: str = typer.Option(..., help="What is to be done."),
    owner: str = typer.Option(..., help="Who owns it (username)."),
    due: str = typer.Option(..., help="Due date, YYYY-MM-DD."),
) -> None:
    """Add a follow-up item to a meeting."""

    def go() -> None:
        ready()
        from ridp.workspace.meetings import add_follow_up
        from ridp.workspace.people import acting_user

        item = add_follow_up(acting_user(), city, project, meeting, text, owner, day(due, "due_on"))
        console.print(f"follow-up {item.pk} added, due {item.due_on}", highlight=False)

    run(go)


@app.command("done")
def done(
    project: int = typer.Argument(..., help="Project number."),
    follow_up: int = typer.Argument(..., help="Follow-up number."),
    city: str = typer.Option(..., help="The city."),
    status: str = typer.Option("done", help="done, dropped, or open to reopen."),
) -> None:
    """Mark a follow-up done (or dropped, or open again)."""

    def go() -> None:
        ready()
        from ridp.workspace.meetings import set_follow_up_status
        from ridp.workspace.people import acting_user

        item = set_follow_up_status(acting_user(), city, project, follow_up, status)
        console.print(f"follow-up {item.pk}: {item.status}", highlight=False)

    run(go)


@app.command("remind")
def remind(today: str = typer.Option(None, help="Act as if today were this date (YYYY-MM-DD).")) -> None:
    """E-mail reminders of follow-ups due within two days (or overdue) and of meetings in the next two days."""

    def go() -> None:
        ready()
        from ridp.workspace.meetings import send_reminders

        counts = send_reminders(day(today, "today") if today else None)
        console.print(
            f"{counts.mails} e-mails sent ({counts.follow_ups} follow-ups, {counts.meetings} meetings); "
            f"{counts.failed} failed",
            highlight=False,
        )

    run(go)


@app.command("ics")
def ics(
    project: int = typer.Argument(..., help="Project number."),
    city: str = typer.Option(..., help="The city."),
    output: Path = typer.Option(None, help="Write the feed to this file (default: standard output)."),
) -> None:
    """The project's meetings as an iCalendar (.ics) feed."""

    def go() -> None:
        ready()
        from ridp.workspace.meetings import ics_feed
        from ridp.workspace.people import acting_user

        data = ics_feed(acting_user(), city, project)
        if output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            output.write_bytes(data)
            console.print(f"wrote {output} ({len(data)} bytes)", highlight=False)

    run(go)
