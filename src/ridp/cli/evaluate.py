"""``ridp evaluate link|run|show|reanalyse``: a pilot's outcome data, its estimate under the frozen plan, and
the standalone reanalysis that checks it.

A thin shell over :mod:`ridp.workspace.plans`.
"""

from __future__ import annotations

import json

import typer

from ridp.cli import console, ready, run

app = typer.Typer(help="A pilot's estimates under its frozen plan, in residents' terms, and their reanalysis.",
                  no_args_is_help=True)  # fmt: skip


@app.command("link")
def link(
    project: int = typer.Argument(..., help="Project number."),
    pilot: str = typer.Argument(..., help="The pilot."),
    dataset: str = typer.Argument(..., help="The catalogued dataset the outcomes arrive in."),
    city: str = typer.Option(..., help="The city."),
) -> None:
    """Name the dataset the pilot's outcome data arrive in."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.plans import link_outcomes, outcomes_arrived

        item = link_outcomes(acting_user(), city, project, pilot, dataset)
        arrived = outcomes_arrived(item)
        when = f"arrived {arrived.isoformat(timespec='seconds')}" if arrived else "no version yet"
        console.print(f"pilot {pilot}: outcomes in {dataset} ({when})", highlight=False)

    run(go)


@app.command("run")
def run_(
    project: int = typer.Argument(..., help="Project number."),
    pilot: str = typer.Argument(..., help="The pilot."),
    city: str = typer.Option(..., help="The city."),
    version: int | None = typer.Option(None, help="The outcome dataset's version (default: current)."),
    as_json: bool = typer.Option(False, "--json", help="Print the estimates as JSON."),
) -> None:
    """Estimate every outcome of the frozen plan, corrected for several, in residents' terms (refused until the
    plan is frozen)."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.plans import estimate_of, evaluate_pilot

        item = evaluate_pilot(acting_user(), city, project, pilot, version=version)
        result = estimate_of(item)
        if as_json:
            console.print_json(json.dumps({"id": item.pk, **result.to_dict()}))
            return
        console.print(f"estimate {item.pk}", highlight=False)
        console.print(result.summary(), highlight=False, markup=False)

    run(go)


@app.command("show")
def show(
    project: int = typer.Argument(..., help="Project number."),
    pilot: str = typer.Argument(..., help="The pilot."),
    estimate: int = typer.Argument(..., help="The estimate's number."),
    city: str = typer.Option(..., help="The city."),
    as_json: bool = typer.Option(False, "--json", help="Print it as JSON."),
) -> None:
    """One estimate, with its reanalysis if it was run."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.plans import estimate_of, get_estimate

        item = get_estimate(acting_user(), city, project, pilot, estimate)
        if as_json:
            console.print_json(json.dumps({"id": item.pk, **item.result, "reanalysis": item.reanalysis}))
            return
        console.print(estimate_of(item).summary(), highlight=False, markup=False)
        if item.reanalysis is not None:
            console.print("reanalysis: " + ("the numbers match" if item.reanalysis.get("matches") else "MISMATCH"),
                          highlight=False)  # fmt: skip

    run(go)


@app.command("reanalyse")
def reanalyse(
    project: int = typer.Argument(..., help="Project number."),
    pilot: str = typer.Argument(..., help="The pilot whose frozen plan is reanalysed."),
    city: str = typer.Option(..., help="The city."),
    estimate: int | None = typer.Option(None, help="The estimate (default: the latest)."),
) -> None:
    """Write a standalone Python script (no ridp import) that recomputes the primary result from the dataset
    version's Parquet and the frozen plan with statsmodels or pyfixest, run it, and check the numbers match
    (exit code 1 if they do not)."""

    def go() -> None:
        ready()
        from ridp.errors import NotFoundError
        from ridp.workspace.people import acting_user
        from ridp.workspace.pilots import get_pilot
        from ridp.workspace.plans import reanalyse_estimate

        user = acting_user()
        chosen = estimate
        if chosen is None:
            latest = get_pilot(user, city, project, pilot).estimates.order_by("-created_at", "-id").first()
            if latest is None:
                raise NotFoundError(f"pilot {pilot} has no estimate yet (ridp evaluate run)")
            chosen = latest.pk
        with console.status("running the reanalysis script", spinner="dots"):
            item = reanalyse_estimate(user, city, project, pilot, chosen)
        done = item.reanalysis or {}
        command = done.get("command") or []
        console.print(f"script: {command[2] if len(command) > 2 else '—'}", highlight=False, markup=False)
        for name, value in (done.get("recomputed") or {}).items():
            console.print(f"  {name}: {value} (ridp: {(done.get('expected') or {}).get(name)})", highlight=False)
        if done.get("matches"):
            console.print("the numbers match", highlight=False)
            return
        console.print(f"[bold red]mismatch[/]: {done.get('differences')}", highlight=False)
        raise typer.Exit(1)

    run(go)
