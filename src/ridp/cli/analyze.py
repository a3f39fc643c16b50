"""``ridp analyze ...``: service levels, trends, targets, the working calendar, the baseline and briefings.

A thin shell over :mod:`ridp.workspace.analysis` (the same runs the browser and the API start).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ridp.cli import console, optional_day, ready, run

app = typer.Typer(help="Resident-impact analysis: service levels, trends, findings and briefings.",
                  no_args_is_help=True)  # fmt: skip

_SHOWN = ("requests", "still_open", "median_days", "p90_days", "share_within_target", "resident_days_waiting")


def _progress(label: str, quiet: bool) -> tuple[Progress, Callable[[float, str], None]]:
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    bar = Progress(*columns, console=console, transient=True, disable=not console.is_terminal or quiet)
    task = bar.add_task(label, total=1.0)
    return bar, lambda fraction, stage: bar.update(task, completed=fraction, description=stage)


def _export(frame: Any, csv: Path | None, xlsx: Path | None, masked: set[str]) -> None:
    from ridp.analysis.export import to_csv, to_xlsx

    if csv is not None:
        csv.write_text(to_csv(frame, masked=masked), encoding="utf-8", newline="")
        console.print(f"wrote {csv}", highlight=False)
    if xlsx is not None:
        xlsx.write_bytes(to_xlsx(frame, masked=masked))
        console.print(f"wrote {xlsx}", highlight=False)


def _fmt(value: Any) -> str:
    if value is None or value != value:  # None or NaN
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@app.command("service-levels")
def service_levels_(
    project: int = typer.Argument(..., help="Project number."),
    dataset: str = typer.Argument(..., help="Dataset name (service requests)."),
    city: str = typer.Option(..., help="The city."),
    by: str = typer.Option("type", help="Comma-separated breakdown: type, agency, channel, status, area or a column."),
    period: str | None = typer.Option(None, help="Also by day, week, month, quarter or year."),
    unit: str = typer.Option("calendar", help="calendar or business days (the city's working calendar)."),
    censoring: str = typer.Option("kaplan-meier", help="kaplan-meier (open requests censored) or closed-only."),
    start: str | None = typer.Option(None, help="Requests opened from this day (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, help="... up to this day."),
    acknowledged: str | None = typer.Option(None, help="A column with the time each request was acknowledged."),
    population: str | None = typer.Option(
        None, help="DATASET:AREA_COLUMN:PEOPLE_COLUMN, people per area (with --by area): requests per 1,000 residents."
    ),
    top: int = typer.Option(20, help="Rows shown, worst first."),
    rank: str = typer.Option("median_days", help="The column to rank by."),
    csv: Path | None = typer.Option(None, help="Write every row to this CSV file (formula-safe)."),
    xlsx: Path | None = typer.Option(None, help="Write every row to this XLSX file (formula-safe)."),
    svg: Path | None = typer.Option(None, help="Write the chart (rendered offline) to this SVG file."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole result as JSON."),
) -> None:
    """Volume, time to close (median, p90, mean), share within target and resident-days of waiting, per group,
    ranked worst first. The same question on the same version is answered from the saved run."""

    def go() -> None:
        ready()
        from ridp.analysis import ServiceLevels
        from ridp.errors import FieldError
        from ridp.workspace.analysis import analyze_now
        from ridp.workspace.people import acting_user

        params: dict[str, Any] = {"by": [b.strip() for b in by.split(",") if b.strip()], "period": period, "unit": unit,
                  "censoring": censoring, "start": optional_day(start, "start"), "end": optional_day(end, "end"),
                  "acknowledged": acknowledged}  # fmt: skip
        if population:
            parts = population.split(":")
            if len(parts) != 3 or not all(parts):
                raise FieldError("population", f"{population!r} is not DATASET:AREA_COLUMN:PEOPLE_COLUMN")
            params["population"] = dict(zip(("dataset", "key", "value"), parts, strict=True))
        bar, report = _progress("service levels", as_json)
        with bar:
            item, result = analyze_now(acting_user(), city, project, dataset, "service_levels", params,
                                       progress=report)  # fmt: skip
        assert isinstance(result, ServiceLevels)
        _export(result.to_pandas(), csv, xlsx, set())
        if svg is not None:
            from ridp.analysis.charts import to_svg

            svg.write_text(to_svg(result.chart(rank)), encoding="utf-8")
            console.print(f"wrote {svg}", highlight=False)
        if as_json:
            console.print_json(json.dumps(result.to_dict()))
            return
        console.print(f"run {item.pk} of {dataset} v{item.dataset_version.number}", highlight=False)
        console.print(result.summary(), highlight=False, markup=False)
        ranked = result.ranked(rank, top=top)
        table = Table(title=f"Worst {min(top, len(ranked))} by {rank}", title_justify="left")
        shown = [*result.by, *(["period"] if result.period else []), *[c for c in _SHOWN if c in ranked.columns]]
        for name in shown:
            table.add_column(name, justify="left" if name in (*result.by, "period") else "right")
        for row in ranked[shown].itertuples(index=False):
            table.add_row(*(_fmt(v) for v in row))
        console.print(table)

    run(go)


@app.command("trends")
def trends_(
    project: int = typer.Argument(..., help="Project number."),
    dataset: str = typer.Argument(..., help="Dataset name."),
    city: str = typer.Option(..., help="The city."),
    freq: str = typer.Option("week", help="week or month."),
    measure: str = typer.Option(
        "requests", help="requests (volume), median_days (time to close) or backlog (open at each period's end)."
    ),
    where: list[str] = typer.Option([], help="Keep requests where FIELD=VALUE (repeat; values of one field OR)."),
    csv: Path | None = typer.Option(None, help="Write the series to this CSV file."),
    svg: Path | None = typer.Option(None, help="Write the chart to this SVG file."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole result as JSON."),
) -> None:
    """The weekly or monthly series, its seasonal swing and the dates its level changed."""

    def go() -> None:
        ready()
        from ridp.analysis import Trends
        from ridp.errors import FieldError
        from ridp.workspace.analysis import analyze_now
        from ridp.workspace.people import acting_user

        filters: dict[str, list[str]] = {}
        for item in where:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise FieldError("where", f"{item!r} is not FIELD=VALUE")
            filters.setdefault(name.strip(), []).append(value)
        bar, report = _progress("trends", as_json)
        with bar:
            run_, result = analyze_now(acting_user(), city, project, dataset, "trends",
                                       {"freq": freq, "measure": measure, "where": filters}, progress=report)  # fmt: skip
        assert isinstance(result, Trends)
        _export(result.to_pandas(), csv, None, set())
        if svg is not None:
            from ridp.analysis.charts import to_svg

            svg.write_text(to_svg(result.chart()), encoding="utf-8")
            console.print(f"wrote {svg}", highlight=False)
        if as_json:
            console.print_json(json.dumps(result.to_dict()))
            return
        console.print(f"run {run_.pk} of {dataset} v{run_.dataset_version.number}", highlight=False)
        console.print(result.summary(), highlight=False, markup=False)

    run(go)


@app.command("discovery")
def discovery(
    project: int = typer.Argument(..., help="Project number."),
    dataset: str = typer.Argument(..., help="Dataset name (inspections)."),
    city: str = typer.Option(..., help="The city."),
    found_column: str = typer.Option(..., help="The column that says whether a violation was found."),
    found: list[str] = typer.Option([], help="A value meaning a violation was found (repeat); none: not empty."),
    not_held: list[str] = typer.Option([], help="A value meaning no inspection took place (repeat)."),
    by: str = typer.Option("", help="Comma-separated breakdown."),
    period: str | None = typer.Option(None, help="Also by day, week, month, quarter or year."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole result as JSON."),
) -> None:
    """The share of inspections that found a violation, with Wilson 95% intervals."""

    def go() -> None:
        ready()
        from ridp.workspace.analysis import analyze_now
        from ridp.workspace.people import acting_user

        params = {"found_column": found_column, "found_values": found, "not_held": not_held,
                  "by": [b.strip() for b in by.split(",") if b.strip()], "period": period}  # fmt: skip
        item, result = analyze_now(acting_user(), city, project, dataset, "discovery_rate", params)
        if as_json:
            console.print_json(json.dumps(result.to_dict()))
            return
        console.print(f"run {item.pk} of {dataset} v{item.dataset_version.number}", highlight=False)
        console.print(result.summary(), highlight=False, markup=False)
        frame = result.to_pandas()
        table = Table(*frame.columns, title="discovery rate", title_justify="left")
        for record in frame.to_dict(orient="records"):
            table.add_row(*(_fmt(v) for v in record.values()))
        console.print(table)

    run(go)


@app.command("targets")
def targets(
    dataset: str = typer.Argument(..., help="Dataset name."),
    city: str = typer.Option(..., help="The city."),
    set_: list[str] = typer.Option([], "--set", help='TYPE=DAYS (repeat), e.g. --set "Pothole=3".'),
    unit: str = typer.Option("calendar", help="The targets' days: calendar or business."),
    default: float | None = typer.Option(None, help="Days for every type not named."),
    clear: bool = typer.Option(False, "--clear", help="Remove the dataset's targets."),
) -> None:
    """Show or set the dataset's service-level targets (days to close per request type)."""

    def go() -> None:
        ready()
        from ridp.analysis import TargetTable
        from ridp.errors import FieldError
        from ridp.workspace.analysis import set_targets, targets_for
        from ridp.workspace.datasets import get_dataset
        from ridp.workspace.people import acting_user

        actor = acting_user()
        if clear or set_ or default is not None:
            days: dict[str, float] = {}
            for item in set_:
                name, sep, number = item.rpartition("=")
                try:
                    days[name.strip()] = float(number)
                except ValueError:
                    raise FieldError("set", f"{item!r} is not TYPE=DAYS") from None
                if not sep:
                    raise FieldError("set", f"{item!r} is not TYPE=DAYS")
            set_targets(actor, city, dataset, None if clear else TargetTable(days, unit, default))  # type: ignore[arg-type]
        table = targets_for(get_dataset(actor, city, dataset))
        if table is None:
            console.print(f"{dataset}: no targets", highlight=False)
            return
        out = Table(title=f"targets of {dataset} ({table.unit} days)", title_justify="left")
        out.add_column("type")
        out.add_column("days", justify="right")
        for name, value in sorted(table.days.items()):
            out.add_row(name, f"{value:g}")
        if table.default is not None:
            out.add_row("(every other type)", f"{table.default:g}")
        console.print(out)

    run(go)


@app.command("calendar")
def calendar(
    city: str = typer.Option(..., help="The city."),
    weekdays: str | None = typer.Option(None, help="Working days, e.g. Mon,Tue,Wed,Thu,Fri."),
    holiday: list[str] = typer.Option([], help="A holiday (YYYY-MM-DD; repeat). Replaces the list when given."),
) -> None:
    """Show or set the city's working-day calendar (business days are counted on it)."""

    def go() -> None:
        ready()
        from ridp.cli import day
        from ridp.workspace.access import city_for
        from ridp.workspace.analysis import calendar_for, set_calendar
        from ridp.workspace.people import acting_user

        actor = acting_user()
        if weekdays is not None or holiday:
            cal = set_calendar(
                actor, city, weekdays=[w.strip() for w in weekdays.split(",")] if weekdays is not None else None,
                holidays=[day(h, "holiday") for h in holiday] if holiday else None,
            )  # fmt: skip
        else:
            cal = calendar_for(city_for(actor, city))
        shown = ", ".join(h.isoformat() for h in cal.holidays) or "none"
        console.print(f"working days: {', '.join(cal.weekdays)}; holidays: {shown}", highlight=False)

    run(go)


@app.command("baseline")
def baseline(
    project: int = typer.Argument(..., help="Project number."),
    metric: str = typer.Argument(..., help="The metric spec's name."),
    city: str = typer.Option(..., help="The city."),
) -> None:
    """Compute the metric's baseline from its source dataset over its baseline period (a new spec version)."""

    def go() -> None:
        ready()
        from ridp.workspace.analysis import compute_baseline
        from ridp.workspace.people import acting_user

        saved = compute_baseline(acting_user(), city, project, metric)
        value = saved.spec["baseline"]
        console.print(
            f"{metric}: baseline {value['value']:g} over {value['start']} to {value['end']}, from "
            f"{saved.spec['source']} v{saved.baseline_from.number if saved.baseline_from else '?'} "
            f"({saved.baseline_requests:,} requests); version {saved.number}",
            highlight=False,
        )

    run(go)


@app.command("composite")
def composite_(
    project: int = typer.Argument(..., help="Project number."), city: str = typer.Option(..., help="The city.")
) -> None:
    """The CityScore-style composite of the project's metrics: actual ÷ target (inverted when lower is better),
    averaged over the last day, week, month and quarter."""

    def go() -> None:
        ready()
        from ridp.workspace.analysis import composite_for
        from ridp.workspace.people import acting_user

        result = composite_for(acting_user(), city, project)
        console.print(result.summary(), highlight=False, markup=False)
        table = Table("metric", "window", "actual", "target", "score", "requests", title="scores", title_justify="left")
        for record in result.to_pandas().to_dict(orient="records"):
            table.add_row(*(_fmt(record[c]) for c in ("metric", "window", "actual", "target", "score", "requests")))
        console.print(table)

    run(go)


briefing = typer.Typer(help="Weekly findings briefings: add, add findings, bless, list.", no_args_is_help=True)
app.add_typer(briefing, name="briefing")


@briefing.command("add")
def briefing_add(
    project: int = typer.Argument(..., help="Project number."),
    title: str = typer.Argument(..., help="The briefing's title."),
    city: str = typer.Option(..., help="The city."),
    week: str | None = typer.Option(None, help="A day of the week it is for (default: this week)."),
) -> None:
    """Start a week's findings briefing."""

    def go() -> None:
        ready()
        from ridp.workspace.analysis import create_briefing
        from ridp.workspace.people import acting_user

        item = create_briefing(acting_user(), city, project, title, week=optional_day(week, "week"))
        console.print(f"briefing {item.pk}: {item.title} (week of {item.week})", highlight=False)

    run(go)


@briefing.command("finding")
def briefing_finding(
    project: int = typer.Argument(..., help="Project number."),
    briefing_id: int = typer.Argument(..., help="Briefing number."),
    run_id: int = typer.Argument(..., help="The analysis run the finding comes from."),
    city: str = typer.Option(..., help="The city."),
    title: str = typer.Option(..., help="The finding's title."),
    text: str = typer.Option(..., help="What it shows, in a few sentences."),
    column: str = typer.Option("median_days", help="The figure it shows."),
) -> None:
    """Add a finding (its numbers, chart and provenance) from a finished run."""

    def go() -> None:
        ready()
        from ridp.workspace.analysis import add_finding
        from ridp.workspace.people import acting_user

        item = add_finding(acting_user(), city, project, briefing_id, run_id, title=title, text=text, column=column)
        console.print(f"finding {item.position} of briefing {briefing_id}: {item.title}", highlight=False)

    run(go)


@briefing.command("bless")
def briefing_bless(
    project: int = typer.Argument(..., help="Project number."),
    briefing_id: int = typer.Argument(..., help="Briefing number."),
    city: str = typer.Option(..., help="The city."),
    note: str = typer.Option("", help="The coach's words."),
) -> None:
    """The coach's blessing to go on (freezes the briefing)."""

    def go() -> None:
        ready()
        from ridp.workspace.analysis import bless_briefing
        from ridp.workspace.people import acting_user

        item = bless_briefing(acting_user(), city, project, briefing_id, note)
        console.print(f"briefing {item.pk} blessed by {item.blessed_by}", highlight=False)

    run(go)


@briefing.command("list")
def briefing_list(
    project: int = typer.Argument(..., help="Project number."), city: str = typer.Option(..., help="The city.")
) -> None:
    """The project's briefings and their findings."""

    def go() -> None:
        ready()
        from ridp.workspace.analysis import list_briefings
        from ridp.workspace.people import acting_user

        for b in list_briefings(acting_user(), city, project):
            state = f"blessed by {b.blessed_by}" if b.blessed_at else "not blessed"
            console.print(f"[bold]{b.pk}[/] {b.title} — week of {b.week}, {state}", highlight=False)
            for f in b.findings.all():
                console.print(f"  {f.position}. {f.title} (run {f.run_id}, {f.column})", highlight=False, markup=False)

    run(go)
