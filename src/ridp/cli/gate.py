"""``ridp gate show|advance|override``: the gate out of a project's phase, moving on, overriding it."""

from __future__ import annotations

import typer

from ridp.cli import console, ready, run

app = typer.Typer(
    help="Phase gates: what a project still needs before its next phase, moving on, overrides.", no_args_is_help=True
)


@app.command("show")
def show(
    project: int = typer.Argument(..., help="Project number."), city: str = typer.Option(..., help="The city.")
) -> None:
    """Show the gate out of the project's phase: each condition, met or what is missing; and the phase changes."""

    def go() -> None:
        ready()
        from ridp.workspace import gates
        from ridp.workspace.people import acting_user
        from ridp.workspace.projects import get_project

        actor = acting_user()
        status = gates.evaluate(actor, city, project)
        if status.last:
            console.print(f"project {project} is in {status.from_name}, the last phase: no gate", highlight=False)
        else:
            verdict = "passes" if status.passed else f"blocked: {len(status.missing)} missing"
            console.print(f"gate {status.from_name} → {status.to_name}: {verdict}", highlight=False)
            for result in status.results:
                mark = "met" if result.met else "not available" if not result.available else "not met"
                console.print(f"  [{mark}] {result.label}", highlight=False, markup=False)
                for line in result.missing:
                    console.print(f"      - {line}", highlight=False, markup=False)
        for change in gates.history(get_project(actor, city, project)):
            how = f"overridden: {change.override_reason}" if change.override_reason else "gate passed"
            console.print(
                f"{change.at:%Y-%m-%d %H:%M} {change.from_phase} → {change.to_phase} by {change.by.username} ({how})",
                highlight=False,
                markup=False,
            )

    run(go)


@app.command("advance")
def advance(
    project: int = typer.Argument(..., help="Project number."), city: str = typer.Option(..., help="The city.")
) -> None:
    """Move the project to its next phase; its gate must pass (senior leaders, coaches)."""

    def go() -> None:
        ready()
        from ridp.workspace import gates
        from ridp.workspace.people import acting_user

        change = gates.advance(acting_user(), city, project)
        console.print(f"project {project}: {change.from_phase} → {change.to_phase}", highlight=False)

    run(go)


@app.command("override")
def override(
    project: int = typer.Argument(..., help="Project number."),
    city: str = typer.Option(..., help="The city."),
    reason: str = typer.Option(..., help="Why move on although the gate is blocked (at least 20 characters)."),
) -> None:
    """Move the project on although its gate is blocked, with a written reason (coaches, programme admins)."""

    def go() -> None:
        ready()
        from ridp.workspace import gates
        from ridp.workspace.people import acting_user

        change = gates.override(acting_user(), city, project, reason)
        console.print(
            f"project {project}: {change.from_phase} → {change.to_phase}, gate overridden "
            f"({len(change.missing)} missing kept with the change)",
            highlight=False,
        )

    run(go)
