"""``ridp pilot design|list|show|power|assign|confirm``: a pilot's design, power, randomisation and confirmation.

A thin shell over :mod:`ridp.workspace.pilots` (the same calls the browser and the API make).
"""

from __future__ import annotations

import json

import typer
from rich.table import Table

from ridp.cli import console, ready, run

app = typer.Typer(help="Pilots: design, power, randomisation and its confirmation.", no_args_is_help=True)


def _numbers(value: str | None, field: str, kind: type = float) -> list:  # type: ignore[type-arg]
    from ridp.errors import FieldError

    if not value:
        return []
    try:
        return [kind(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise FieldError(field, f"{value!r} is not a comma-separated list of numbers") from None


@app.command("design")
def design(
    project: int = typer.Argument(..., help="Project number."),
    name: str = typer.Argument(..., help="The pilot's short name (lower-case letters, digits, dashes)."),
    title: str = typer.Option(..., help="What the pilot tests."),
    city: str = typer.Option(..., help="The city."),
) -> None:
    """Start a pilot's design: then its power, its randomisation and its analysis plan."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.pilots import create_pilot

        pilot = create_pilot(acting_user(), city, project, name, title)
        console.print(f"pilot {pilot.name} of project {project}: {pilot.title}", highlight=False)
        console.print(f"next: ridp pilot power {project} {pilot.name} --city {city} --history DATASET ...",
                      highlight=False, markup=False)  # fmt: skip

    run(go)


@app.command("list")
def list_(project: int = typer.Argument(..., help="Project number."),
          city: str = typer.Option(..., help="The city.")) -> None:  # fmt: skip
    """The project's pilots, with what each has done so far."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.pilots import list_pilots
        from ridp.workspace.plans import status_of

        table = Table(
            "pilot", "title", "power", "randomisation", "plan", "estimate", title=f"pilots of project {project}"
        )
        for pilot in list_pilots(acting_user(), city, project):
            s = status_of(pilot)
            table.add_row(pilot.name, pilot.title, s["power"], s["randomisation"], s["plan"], s["estimate"])
        console.print(table)

    run(go)


@app.command("show")
def show(project: int = typer.Argument(..., help="Project number."), name: str = typer.Argument(..., help="Pilot."),
         city: str = typer.Option(..., help="The city.")) -> None:  # fmt: skip
    """Everything the pilot has: its latest power study, randomisation with balance, plan and estimate."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.pilots import get_pilot
        from ridp.workspace.plans import describe_pilot

        pilot = get_pilot(acting_user(), city, project, name)
        console.print(describe_pilot(pilot), highlight=False, markup=False)

    run(go)


@app.command("power")
def power(
    project: int = typer.Argument(..., help="Project number."),
    name: str = typer.Argument(..., help="The pilot."),
    city: str = typer.Option(..., help="The city."),
    history: str = typer.Option(..., help="The catalogued dataset whose history is resampled."),
    outcome: str = typer.Option("days_to_close", help="A numeric column, or days_to_close (from the mapped dates)."),
    cluster: str | None = typer.Option(None, help="The column of the clusters randomised (e.g. area_id)."),
    types: str | None = typer.Option(None, help="Request types to keep, comma-separated (days_to_close only)."),
    effects: str | None = typer.Option(None, help="Effect sizes, comma-separated (default: around the MDE)."),
    n_units: str | None = typer.Option(None, help="Numbers of units, comma-separated."),
    n_clusters: str | None = typer.Option(None, help="Numbers of clusters, comma-separated."),
    planned_effect: float | None = typer.Option(None, help="The effect the pilot is designed to detect."),
    share_treated: float = typer.Option(0.5, help="The share of units (or clusters) treated."),
    draws: int = typer.Option(10_000, help="Simulation draws per point."),
    alpha: float = typer.Option(0.05, help="Significance level."),
    target: float = typer.Option(0.8, help="The power the design needs."),
    seed: int = typer.Option(0, help="Seed of the simulation."),
    as_json: bool = typer.Option(False, "--json", help="Print the study as JSON."),
) -> None:
    """Power and the minimum detectable effect, by formula and by simulation on the city's own history; a design
    with too little power is flagged (exit code 2) before it starts."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.pilots import power_of, study_power

        with console.status("simulating the pilot on the city's history", spinner="dots"):
            item = study_power(
                acting_user(), city, project, name, history=history, outcome=outcome, cluster=cluster,
                types=[t.strip() for t in (types or "").split(",") if t.strip()],
                effects=_numbers(effects, "effects"), n_units=_numbers(n_units, "n_units", int),
                n_clusters=_numbers(n_clusters, "n_clusters", int), share_treated=share_treated, draws=draws,
                alpha=alpha, target=target, planned_effect=planned_effect, seed=seed,
            )  # fmt: skip
        study = power_of(item)
        if as_json:
            console.print_json(json.dumps(study.to_dict()))
        else:
            console.print(study.summary(), highlight=False, markup=False)
        if not item.adequate:
            raise typer.Exit(2)

    run(go)


@app.command("assign")
def assign(
    project: int = typer.Argument(..., help="Project number."),
    name: str = typer.Argument(..., help="The pilot."),
    city: str = typer.Option(..., help="The city."),
    units: str = typer.Option(..., help="The catalogued dataset of the units, one row each."),
    unit: str = typer.Option(..., help="The column identifying each unit."),
    method: str = typer.Option("simple", help="simple, blocked, clustered or staggered."),
    block: str | None = typer.Option(None, help="The column of the blocks (strata)."),
    cluster: str | None = typer.Option(None, help="The column of the clusters assigned whole."),
    share_treated: float = typer.Option(0.5, help="The share treated."),
    waves: int | None = typer.Option(None, help="Staggered roll-out: the number of waves."),
    seed: int | None = typer.Option(None, help="The seed (default: drawn and recorded)."),
    covariates: str | None = typer.Option(None, help="Columns for the balance table, comma-separated."),
    as_json: bool = typer.Option(False, "--json", help="Print the assignment record as JSON."),
) -> None:
    """Randomise the units with a recorded seed and show the balance table; a second person confirms it."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.pilots import assignment_of, balance_of, randomise

        item = randomise(
            acting_user(), city, project, name, units=units, unit=unit, method=method, block=block, cluster=cluster,
            share_treated=share_treated, waves=waves, seed=seed,
            covariates=[c.strip() for c in (covariates or "").split(",") if c.strip()],
        )  # fmt: skip
        if as_json:
            console.print_json(json.dumps({"id": item.pk, "record": item.record}))
            return
        console.print(f"randomisation {item.pk}", highlight=False)
        console.print(assignment_of(item).summary(), highlight=False, markup=False)
        checked = balance_of(item)
        if checked is not None:
            console.print(checked.summary(), highlight=False, markup=False)
        console.print(f"a second person confirms it: ridp pilot confirm {project} {name} {item.pk} --city {city}",
                      highlight=False, markup=False)  # fmt: skip

    run(go)


@app.command("confirm")
def confirm(
    project: int = typer.Argument(..., help="Project number."),
    name: str = typer.Argument(..., help="The pilot."),
    randomisation: int = typer.Argument(..., help="The randomisation's number."),
    city: str = typer.Option(..., help="The city."),
) -> None:
    """Rerun a recorded randomisation (as a second person) and record whether it gives the same assignment;
    exit code 1 if it does not."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.pilots import confirm_randomisation

        item = confirm_randomisation(acting_user(), city, project, name, randomisation)
        outcome = item.confirmation or {}
        if outcome.get("matches"):
            console.print(f"confirmed: the same assignment ({item.fingerprint[:12]})", highlight=False)
            return
        console.print(f"[bold red]not the same assignment[/]: {outcome.get('reason') or outcome}", highlight=False)
        raise typer.Exit(1)

    run(go)
