"""``ridp team show|add|remove``: a project's team (3-5 city members, a coach and a programme analyst)."""

from __future__ import annotations

import typer
from rich.table import Table

from ridp.cli import console, ready, run

app = typer.Typer(help="A project's team: its city members, coach and programme analyst.", no_args_is_help=True)


@app.command("show")
def show(
    project: int = typer.Argument(..., help="Project number."), city: str = typer.Option(..., help="The city.")
) -> None:
    """Show the team and whether it is valid."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.project_team import members, team_problems
        from ridp.workspace.projects import get_project

        user = acting_user()
        p = get_project(user, city, project)
        table = Table("#", "username", "name", "role", "counts", title=f"team of project {p.pk}")
        for m in members(user, city, project):
            table.add_row(str(m.id), m.username, m.name, m.role_label, "yes" if m.counts else "no: role removed")
        console.print(table)
        problems = team_problems(p)
        if problems:
            console.print("team not valid:", highlight=False)
            for problem in problems:
                console.print(f"  - {problem}", highlight=False, markup=False)
        else:
            console.print("team valid", highlight=False)

    run(go)


@app.command("add")
def add(
    project: int = typer.Argument(..., help="Project number."),
    city: str = typer.Option(..., help="The city."),
    user: str = typer.Option(..., "--user", help="The person's username."),
    role: str = typer.Option(
        ..., help="senior_leader, data_analyst, subject_matter_expert, coach or programme_analyst."
    ),
) -> None:
    """Put someone on the team in a role they hold in the city (senior leaders)."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.project_team import add_member

        member = add_member(acting_user(), city, project, user, role)
        console.print(f"{user} is on the team of project {project} as {role} (place {member.pk})", highlight=False)

    run(go)


@app.command("remove")
def remove(
    project: int = typer.Argument(..., help="Project number."),
    member: int = typer.Argument(..., help="The place's number (see `ridp team show`)."),
    city: str = typer.Option(..., help="The city."),
) -> None:
    """Take a place off the team (senior leaders)."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user
        from ridp.workspace.project_team import remove_member

        remove_member(acting_user(), city, project, member)
        console.print(f"place {member} removed from the team of project {project}", highlight=False)

    run(go)
