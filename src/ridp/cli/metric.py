"""``ridp metric add|list|show|success``: a project's metric specs (YAML) and its success metric."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ridp.cli import console, ready, run

app = typer.Typer(help="A project's metric specs and its success metric.", no_args_is_help=True)


@app.command("add")
def add(
    project: int = typer.Argument(..., help="Project number."),
    file: Path = typer.Argument(..., help="A YAML file of one spec, or several separated by ---."),
    city: str = typer.Option(..., help="The city."),
) -> None:
    """Add or replace specs; a spec makes a new version only when it changed (the project's team)."""

    def go() -> None:
        ready()
        from ridp.workspace.metric_specs import save_specs
        from ridp.workspace.people import acting_user

        for saved in save_specs(acting_user(), city, project, file):
            v = saved.version
            state = "saved" if saved.created else "unchanged"
            console.print(f"{v.name}: version {v.number} {state} (spec {v.spec_hash[:12]})", highlight=False)

    run(go)


@app.command("list")
def list_(
    project: int = typer.Argument(..., help="Project number."), city: str = typer.Option(..., help="The city.")
) -> None:
    """The project's specs (latest version of each); * marks the success metric."""

    def go() -> None:
        ready()
        from ridp.workspace.metric_specs import list_specs, spec_of
        from ridp.workspace.people import acting_user
        from ridp.workspace.projects import get_project

        user = acting_user()
        p = get_project(user, city, project)
        table = Table(
            "", "name", "version", "formula", "unit", "direction", "target", title=f"metrics of project {p.pk}"
        )
        for v in list_specs(user, city, project):
            spec = spec_of(v)
            mark = "*" if v.name == p.success_metric_name else ""
            target = f"{spec.target.value:g} ({spec.target.category})"
            table.add_row(mark, v.name, str(v.number), spec.formula, spec.unit, spec.direction, target)
        console.print(table)
        console.print(f"success metric: {p.success_metric_name or 'not chosen'}", highlight=False)

    run(go)


@app.command("show")
def show(
    project: int = typer.Argument(..., help="Project number."),
    name: str = typer.Argument(..., help="The metric's name."),
    city: str = typer.Option(..., help="The city."),
    version: int | None = typer.Option(None, "--version", help="A version number (default: the latest)."),
) -> None:
    """One spec as written (YAML), what it needs, and its versions."""

    def go() -> None:
        ready()
        from ridp.workspace.metric_specs import get_spec, spec_history, spec_of
        from ridp.workspace.people import acting_user

        user = acting_user()
        v = get_spec(user, city, project, name, version)
        console.print(f"# {v.name} version {v.number}, spec {v.spec_hash}", highlight=False, markup=False)
        console.print(v.yaml.rstrip("\n"), highlight=False, markup=False)
        needs = spec_of(v).needs()
        console.print(
            f"# needs {needs.dataset}: {', '.join(needs.fields)}"
            + (f"; areas {', '.join(needs.areas)}" if needs.areas else "")
            + f"; {needs.start} to {needs.end}",
            highlight=False,
            markup=False,
        )
        for h in spec_history(user, city, project, name):
            when = h.created_at.strftime("%Y-%m-%d %H:%M UTC")
            console.print(f"# v{h.number} {h.spec_hash[:12]} by {h.created_by.username}, {when}", highlight=False)

    run(go)


@app.command("success")
def success(
    project: int = typer.Argument(..., help="Project number."),
    name: str = typer.Argument("", help="The metric's name (leave out with --unset)."),
    city: str = typer.Option(..., help="The city."),
    unset: bool = typer.Option(False, "--unset", help="The project has no success metric any more."),
) -> None:
    """Choose the project's success metric among its specs (the project's team)."""

    def go() -> None:
        ready()
        from ridp.errors import FieldError
        from ridp.workspace.metric_specs import set_success_metric
        from ridp.workspace.people import acting_user

        if bool(name) == unset:
            raise FieldError("name", "give a metric's name, or --unset")
        p = set_success_metric(acting_user(), city, project, None if unset else name)
        console.print(f"success metric of project {p.pk}: {p.success_metric_name or 'none'}", highlight=False)

    run(go)
