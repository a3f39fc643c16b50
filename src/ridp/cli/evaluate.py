"""``ridp evaluate link|run|show|reanalyse``: a pilot's outcome data, its estimate under the frozen plan, and
the standalone reanalysis that checks it; ``ridp evaluate did|its|synth`` on a catalogued dataset; ``ridp
evaluate decide|decisions``: the adoption decision.

A thin shell over :mod:`ridp.workspace.plans`, :mod:`ridp.workspace.quasi` and :mod:`ridp.workspace.adoption`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from ridp.cli import console, ready, run
from ridp.errors import FieldError

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


# ---- quasi-experimental methods on a catalogued dataset, and the adoption decision ---------------------------------


def _value(text: str) -> int | float | str:
    """A period or unit as typed: a whole number, a number, or text (dates stay text)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _show_quasi(result: Any, *, as_json: bool, chart: Path | None, table: str | None) -> None:
    from ridp.cli.places import _write_chart

    _write_chart(result.chart(), chart)
    if as_json:
        console.print_json(json.dumps(result.to_dict(), default=str))
        return
    console.print(result.summary(), highlight=False, markup=False)
    if table is not None:
        if table not in result.tables and table != "detail":
            raise FieldError("table", f"{table!r} is one of detail, {', '.join(result.tables)}")
        frame = result.detail_frame(None if table == "detail" else table)
        console.print(frame.to_string(index=False, float_format=lambda x: f"{x:.4g}"), highlight=False, markup=False)


def _run_method(dataset: str, city: str, method: str, params: dict[str, Any], version: int | None) -> Any:
    ready()
    from ridp.workspace.people import acting_user
    from ridp.workspace.quasi import run_method

    with console.status(f"{method.replace('_', ' ')} on {dataset}", spinner="dots"):
        return run_method(acting_user(), city, dataset, method, {k: v for k, v in params.items() if v is not None},
                          version=version)  # fmt: skip


_CHART = typer.Option(None, "--chart", help="Write the chart: .svg or .png.")
_JSON = typer.Option(False, "--json", help="Print the result as JSON.")
_TABLE = typer.Option(None, "--table", help="Also print a table: detail, or one the result names (att_gt, groups, weights...).")  # fmt: skip
_VERSION = typer.Option(None, help="The dataset's version (default: current).")


@app.command("did")
def did_(
    dataset: str = typer.Argument(..., help="The catalogued dataset (a panel, or a before/after table)."),
    city: str = typer.Option(..., help="The city."),
    outcome: str = typer.Option(..., help="The outcome column."),
    group: str | None = typer.Option(None, help="2×2: the treated-group column (0/1)."),
    post: str | None = typer.Option(None, help="2×2: the after-period column (0/1)."),
    unit: str | None = typer.Option(None, help="Panel: the unit column."),
    time: str | None = typer.Option(None, help="Panel: the period column."),
    treatment: str | None = typer.Option(None, help="Two-way fixed effects: treated now (0/1)."),
    first_treated: str | None = typer.Option(None, help="Staggered: the period each unit was first treated (0 = never)."),
    sun_abraham: bool = typer.Option(False, "--sun-abraham", help="Staggered: Sun-Abraham instead of Callaway-Sant'Anna."),
    control: str | None = typer.Option(None, help="Callaway-Sant'Anna comparisons: never or notyet."),
    aggregation: str | None = typer.Option(None, help="Callaway-Sant'Anna headline: group, simple, dynamic, calendar."),
    covariate: list[str] = typer.Option([], help="A covariate (repeat for several; 2×2 and TWFE)."),
    cluster: str | None = typer.Option(None, help="Cluster column (2×2 and TWFE)."),
    se: str | None = typer.Option(None, help="Standard errors: auto, iid, HC1, HC2, CR2, wild, CR1."),
    reps: int | None = typer.Option(None, help="Bootstrap draws."),
    seed: int | None = typer.Option(None, help="Seed of the draws."),
    version: int | None = _VERSION, as_json: bool = _JSON, chart: Path | None = _CHART, table: str | None = _TABLE,
) -> None:  # fmt: skip
    """Difference-in-differences: 2×2 (--group --post), two-way fixed effects (--unit --time --treatment) or a
    staggered roll-out (--unit --time --first-treated) with its event study and pre-trend test."""

    def go() -> None:
        if group or post:
            method = "did"
            params: dict[str, Any] = {"outcome": outcome, "group": group, "post": post, "cluster": cluster, "se": se,
                                      "covariates": covariate or None, "reps": reps, "seed": seed}  # fmt: skip
        elif treatment:
            method = "twfe"
            params = {"outcome": outcome, "unit": unit, "time": time, "treatment": treatment, "cluster": cluster,
                      "se": se, "covariates": covariate or None, "reps": reps, "seed": seed}  # fmt: skip
        elif first_treated:
            method = "sun_abraham" if sun_abraham else "callaway_santanna"
            params = {"outcome": outcome, "unit": unit, "time": time, "first_treated": first_treated}
            if not sun_abraham:
                params.update(control=control, aggregation=aggregation, reps=reps, seed=seed)
        else:
            raise FieldError("group", "say the design: --group and --post (2×2), --treatment (two-way fixed "
                             "effects) or --first-treated (staggered), with --unit and --time for a panel")  # fmt: skip
        _show_quasi(_run_method(dataset, city, method, params, version), as_json=as_json, chart=chart, table=table)

    run(go)


@app.command("its")
def its_(
    dataset: str = typer.Argument(..., help="The catalogued dataset: one row per period."),
    city: str = typer.Option(..., help="The city."),
    outcome: str = typer.Option(..., help="The outcome column (a measure, or a count)."),
    time: str = typer.Option(..., help="The period column (evenly spaced)."),
    post: str = typer.Option(..., help="The column that is 1 from the change on."),
    family: str | None = typer.Option(None, help="gaussian (default), poisson, quasipoisson or negbin."),
    offset: str | None = typer.Option(None, help="Counts: population or exposure column (its log is the offset)."),
    season: str | None = typer.Option(None, help="Position in the seasonal cycle (month 1-12, week 1-52)."),
    period: int | None = typer.Option(None, help="Length of the cycle (default 12)."),
    harmonics: int | None = typer.Option(None, help="Sine/cosine pairs for the season (default 2)."),
    slope_change: bool = typer.Option(True, "--slope-change/--no-slope-change", help="Also estimate a change of trend."),
    se: str | None = typer.Option(None, help="auto, model or HAC (Newey-West)."),
    version: int | None = _VERSION, as_json: bool = _JSON, chart: Path | None = _CHART, table: str | None = _TABLE,
) -> None:  # fmt: skip
    """Interrupted time series: the level (and slope) change when the intervention starts, with the
    counterfactual the chart draws."""

    def go() -> None:
        params = {"outcome": outcome, "time": time, "post": post, "family": family, "offset": offset,
                  "season": season, "period": period, "harmonics": harmonics, "slope_change": slope_change, "se": se}  # fmt: skip
        _show_quasi(_run_method(dataset, city, "its", params, version), as_json=as_json, chart=chart, table=table)

    run(go)


@app.command("synth")
def synth_(
    dataset: str = typer.Argument(..., help="The catalogued panel: one row per unit and period."),
    city: str = typer.Option(..., help="The city."),
    outcome: str = typer.Option(..., help="The outcome column."),
    unit: str = typer.Option(..., help="The unit column."),
    time: str = typer.Option(..., help="The period column."),
    treated_unit: str = typer.Option(..., help="The treated unit (a value of --unit)."),
    start: str = typer.Option(..., help="The first period of the intervention."),
    predictor: list[str] = typer.Option([], help="A predictor averaged over the pre-period (repeat)."),
    predictor_period: str | None = typer.Option(None, help="FIRST:LAST periods the predictors are averaged over."),
    special: list[str] = typer.Option([], help="COLUMN:FIRST:LAST, a predictor over its own periods (repeat)."),
    placebos: bool = typer.Option(True, "--placebos/--no-placebos", help="Placebo-in-space inference."),
    starts: int | None = typer.Option(None, help="Starting points of the importance search (default 3)."),
    seed: int | None = typer.Option(None, help="Seed of the random starting points."),
    version: int | None = _VERSION, as_json: bool = _JSON, chart: Path | None = _CHART, table: str | None = _TABLE,
) -> None:  # fmt: skip
    """Synthetic control: donor weights, the gap after the start, and placebo-in-space inference."""

    def go() -> None:
        specials = []
        for text in special:
            parts = text.split(":")
            if len(parts) != 3:
                raise FieldError("special", f"{text!r} is COLUMN:FIRST:LAST, e.g. cigsale:1975:1975")
            specials.append((parts[0], _value(parts[1]), _value(parts[2])))
        window = None
        if predictor_period is not None:
            parts = predictor_period.split(":")
            if len(parts) != 2:
                raise FieldError("predictor_period", f"{predictor_period!r} is FIRST:LAST, e.g. 1980:1988")
            window = (_value(parts[0]), _value(parts[1]))
        params = {"outcome": outcome, "unit": unit, "time": time, "treated_unit": _value(treated_unit),
                  "start": _value(start), "predictors": predictor or None, "predictor_period": window,
                  "special": specials or None, "placebos": placebos, "starts": starts, "seed": seed}  # fmt: skip
        _show_quasi(_run_method(dataset, city, "synth", params, version), as_json=as_json, chart=chart, table=table)

    run(go)


@app.command("decide")
def decide(
    project: int = typer.Argument(..., help="Project number."),
    city: str = typer.Option(..., help="The city."),
    decision: str = typer.Option(..., help="scale, adapt or stop."),
    reason: str = typer.Option(..., help="Why: kept with the decision."),
    estimate: int = typer.Option(..., help="The recorded estimate the decision rests on (ridp evaluate run)."),
) -> None:
    """Record the adoption decision: scale, adapt or stop, with the reason and the estimate it rests on."""

    def go() -> None:
        ready()
        from ridp.workspace.adoption import describe_decision, record_decision
        from ridp.workspace.people import acting_user

        made = record_decision(acting_user(), city, project, decision=decision, reason=reason, estimate_id=estimate)
        console.print(describe_decision(made), highlight=False, markup=False)

    run(go)


@app.command("decisions")
def decisions_(
    project: int = typer.Argument(..., help="Project number."),
    city: str = typer.Option(..., help="The city."),
    as_json: bool = _JSON,
) -> None:
    """The project's adoption decisions, latest first."""

    def go() -> None:
        ready()
        from ridp.workspace.adoption import decisions, describe_decision
        from ridp.workspace.people import acting_user

        found = decisions(acting_user(), city, project)
        if as_json:
            console.print_json(json.dumps([{"id": d.pk, "decision": d.decision, "reason": d.reason,
                                            "estimate": d.estimate_id, "decided_by": d.decided_by.username,
                                            "decided_at": d.decided_at.isoformat()} for d in found]))  # fmt: skip
            return
        if not found:
            console.print("no adoption decision yet (ridp evaluate decide)", highlight=False)
        for item in found:
            console.print(describe_decision(item), highlight=False, markup=False)

    run(go)
