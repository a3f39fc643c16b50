"""``ridp plan save|freeze|show|deviate|example``: a pilot's analysis plan, frozen before the outcome data.

A thin shell over :mod:`ridp.workspace.plans`.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ridp.cli import console, ready, run

app = typer.Typer(help="A pilot's analysis plan: write, freeze, show, and record deviations.", no_args_is_help=True)


def _text(file: Path) -> str:
    from ridp.errors import FieldError

    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        raise FieldError("file", f"cannot read {file}: {exc.strerror}") from None


@app.command("example")
def example() -> None:
    """Print a commented example plan (YAML) to start from."""
    from ridp.evaluation.plan import EXAMPLE_PLAN

    console.print(EXAMPLE_PLAN, highlight=False, markup=False)


@app.command("save")
def save(
    project: int = typer.Argument(..., help="Project number."),
    pilot: str = typer.Argument(..., help="The pilot."),
    file: Path = typer.Argument(..., help="The plan, as YAML (ridp plan example prints one)."),
    city: str = typer.Option(..., help="The city."),
) -> None:
    """Write the pilot's draft plan (until it is frozen)."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.plans import save_plan

        save_plan(acting_user(), city, project, pilot, _text(file), source=str(file))
        console.print(f"plan of pilot {pilot} saved as a draft; freeze it before the outcome data arrive:",
                      highlight=False)  # fmt: skip
        console.print(f"ridp plan freeze {project} {pilot} --city {city}", highlight=False, markup=False)

    run(go)


@app.command("freeze")
def freeze(
    project: int = typer.Argument(..., help="Project number."),
    pilot: str = typer.Argument(..., help="The pilot."),
    city: str = typer.Option(..., help="The city."),
    late_reason: str = typer.Option("", help="Needed once the outcome data arrived: why it is frozen only now."),
) -> None:
    """Freeze the plan: its SHA-256 and UTC time are kept; later changes are deviations."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.plans import freeze_plan

        record = freeze_plan(acting_user(), city, project, pilot, late_reason=late_reason)
        assert record.frozen_at is not None
        console.print(f"frozen {record.frozen_at.isoformat(timespec='seconds')}: SHA-256 {record.sha256}",
                      highlight=False)  # fmt: skip
        if record.late:
            console.print("[yellow]frozen after the outcome data arrived: the gate shows it[/]", highlight=False)

    run(go)


@app.command("show")
def show(
    project: int = typer.Argument(..., help="Project number."),
    pilot: str = typer.Argument(..., help="The pilot."),
    city: str = typer.Option(..., help="The city."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as it stands, with its record, as JSON."),
) -> None:
    """The plan as it stands (the frozen plan or its latest deviation), its hash, time and deviations."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.pilots import get_pilot
        from ridp.workspace.plans import current_plan, plan_of

        record = plan_of(get_pilot(acting_user(), city, project, pilot))
        if record is None:
            console.print(f"pilot {pilot} has no plan yet", highlight=False)
            return
        plan, sha = current_plan(record)
        if as_json:
            deviations = [{"at": d.created_at.isoformat(), "by": d.created_by.username, "reason": d.reason,
                           "changes": d.changes, "sha256": d.sha256} for d in record.deviations.all()]  # fmt: skip
            console.print_json(json.dumps({"plan": plan.to_dict(), "sha256": sha, "frozen_sha256": record.sha256,
                                           "frozen_at": record.frozen_at.isoformat() if record.frozen_at else None,
                                           "late": record.late, "deviations": deviations}))  # fmt: skip
            return
        state = "draft" if record.frozen_at is None else f"frozen {record.frozen_at.isoformat(timespec='seconds')}"
        console.print(f"# {state}; SHA-256 {sha}", highlight=False, markup=False)
        for d in record.deviations.order_by("created_at", "id"):
            fields = ", ".join(c["field"] for c in d.changes)
            console.print(f"# deviation {d.created_at:%Y-%m-%d} by {d.created_by.username}: {fields} — {d.reason}",
                          highlight=False, markup=False)  # fmt: skip
        console.print(plan.to_yaml(), highlight=False, markup=False)

    run(go)


@app.command("deviate")
def deviate(
    project: int = typer.Argument(..., help="Project number."),
    pilot: str = typer.Argument(..., help="The pilot."),
    file: Path = typer.Argument(..., help="The plan as it should now be (YAML)."),
    reason: str = typer.Option(..., help="Why it changes: kept and shown beside every later estimate."),
    city: str = typer.Option(..., help="The city."),
) -> None:
    """Record a change to the frozen plan: what changed, why, who and when."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.plans import deviate as record_deviation

        item = record_deviation(acting_user(), city, project, pilot, _text(file), reason, source=str(file))
        for change in item.changes:
            console.print(f"{change['field']}: {change['before']!r} → {change['after']!r}", highlight=False,
                          markup=False)  # fmt: skip
        console.print(f"deviation recorded; the plan is now {item.sha256[:12]}", highlight=False)

    run(go)
