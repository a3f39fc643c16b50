"""``ridp city add|list``."""

from __future__ import annotations

import typer
from rich.table import Table

from ridp.cli import console, ready, run

app = typer.Typer(help="Cities in the programme.", no_args_is_help=True)


@app.command("add")
def add(
    name: str = typer.Argument(..., help="The city's name, e.g. 'Springfield'."),
    slug: str = typer.Option("", help="Short name used in commands (default: from the name)."),
    timezone: str = typer.Option("UTC", help="The city's time zone, e.g. America/New_York."),
    cohort: str = typer.Option("", help="Cohort to put the city in, e.g. '2026'."),
) -> None:
    """Add a city (programme admins only)."""

    def go() -> None:
        ready()
        from ridp.workspace.cities import add_city
        from ridp.workspace.people import acting_user

        city = add_city(acting_user(), name, slug=slug or None, timezone=timezone, cohort=cohort or None)
        console.print(f"added city [bold]{city.name}[/] ({city.slug})")

    run(go)


@app.command("list")
def list_() -> None:
    """List the cities you can see."""

    def go() -> None:
        ready()
        from ridp.workspace.cities import list_cities
        from ridp.workspace.people import acting_user

        table = Table("city", "name", "time zone", "cohort", "datasets")
        for city in list_cities(acting_user()):
            table.add_row(
                city.slug, city.name, city.timezone, city.cohort.name if city.cohort else "", str(city.datasets.count())
            )
        console.print(table)

    run(go)
