"""``ridp scoping show|rate|value|decide``: the five criteria, value x complexity, and the decision."""

from __future__ import annotations

import typer
from rich.table import Table

from ridp.cli import console, optional_day, ready, run

app = typer.Typer(
    help="Scoping a project: the five criteria, value and complexity, and the decision.", no_args_is_help=True
)

_SCORES = {0: "0 not met", 1: "1 partly", 2: "2 met"}


@app.command("show")
def show(
    project: int = typer.Argument(..., help="Project number."), city: str = typer.Option(..., help="The city.")
) -> None:
    """Show the five criteria with their current ratings, value x complexity and the decision."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.projects import get_project
        from ridp.workspace.scoping import current_ratings

        p = get_project(acting_user(), city, project)
        table = Table("#", "criterion", "key", "score", "evidence", "rater", "rated on", "ratings", title=p.title)
        for s in current_ratings(p):
            r = s.rating
            table.add_row(
                str(s.position), s.name, s.key, _SCORES[r.score] if r else "not rated", r.evidence if r else "",
                r.rater.username if r else "", str(r.rated_on) if r else "", str(s.history_count),
            )  # fmt: skip
        console.print(table)
        console.print("criterion 3 (data_quality) is filled from the data readiness verdict once it exists")
        console.print(f"value: {p.value or 'not rated'}; complexity: {p.complexity or 'not rated'}")
        decided = f" by {p.decided_by.username} on {p.decided_at:%Y-%m-%d}" if p.decided_by and p.decided_at else ""
        console.print(f"decision: {p.get_decision_display()}{decided}", highlight=False)
        if p.decision_reason:
            console.print(f"reason: {p.decision_reason}", highlight=False, markup=False)
        if p.other_help:
            console.print(f"other help offered: {p.other_help}", highlight=False, markup=False)

    run(go)


@app.command("rate")
def rate(
    project: int = typer.Argument(..., help="Project number."),
    city: str = typer.Option(..., help="The city."),
    criterion: str = typer.Option(
        ..., help="resident_impact, appetite, data_quality, earlier_attempts or fits_process."
    ),
    score: int = typer.Option(..., help="0 (not met), 1 (partly) or 2 (met)."),
    evidence: str = typer.Option(..., help="What shows it."),
    on: str = typer.Option(None, help="The day of the rating, YYYY-MM-DD (default: today)."),
) -> None:
    """Rate one of the five criteria (you are the rater; every rating is kept)."""

    def go() -> None:
        ready()
        from ridp.workspace import scoping
        from ridp.workspace.people import acting_user

        r = scoping.rate(acting_user(), city, project, criterion, score, evidence, optional_day(on, "rated_on"))
        console.print(f"project {project}: {r.criterion} rated {r.score} on {r.rated_on} by {r.rater.username}")

    run(go)


@app.command("value")
def value(
    project: int = typer.Argument(..., help="Project number."),
    city: str = typer.Option(..., help="The city."),
    value: str = typer.Option(..., "--value", help="low or high."),
    complexity: str = typer.Option(..., help="low or high."),
) -> None:
    """Record value (low/high) x complexity (low/high)."""

    def go() -> None:
        ready()
        from ridp.workspace import scoping
        from ridp.workspace.people import acting_user

        p = scoping.set_value_complexity(acting_user(), city, project, value, complexity)
        console.print(f"project {p.pk}: value {p.value}, complexity {p.complexity}")

    run(go)


@app.command("decide")
def decide(
    project: int = typer.Argument(..., help="Project number."),
    city: str = typer.Option(..., help="The city."),
    decision: str = typer.Option(..., help="accept, accept_with_risks or off_ramp."),
    reason: str = typer.Option("", help="The risks (accept_with_risks) or why (off_ramp)."),
    other_help: str = typer.Option("", help="For an off-ramp: the other kind of help offered."),
) -> None:
    """Decide on the project once all five criteria are rated (coaches and programme admins)."""

    def go() -> None:
        ready()
        from ridp.workspace import scoping
        from ridp.workspace.people import acting_user

        p = scoping.decide(acting_user(), city, project, decision, reason, other_help)
        console.print(f"project {p.pk}: {p.get_decision_display()}", highlight=False)

    run(go)
