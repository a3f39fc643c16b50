"""``ridp init`` and ``ridp check``."""

from __future__ import annotations

import typer

from ridp.cli import console, err_console, ready, run


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("check")(check)
    app.command("member")(member)


def init(
    admin: str = typer.Option("admin", help="Username of the first programme admin (the CLI's acting user)."),
    email: str = typer.Option("", help="E-mail of the first programme admin."),
) -> None:
    """Create a workspace under RIDP_HOME and its first programme admin."""
    import ridp.workspace

    def go() -> None:
        ridp.workspace.boot()
        from ridp.workspace.store import home, init_workspace

        user = init_workspace(admin, email=email)
        console.print(f"workspace ready at [bold]{home()}[/]; programme admin: [bold]{user.username}[/]")

    run(go)


def check(checksums: bool = typer.Option(True, help="Recompute every version file's SHA-256.")) -> None:
    """Check the store's integrity (after recovering from any crashed ingest)."""

    def go() -> None:
        ready()
        from ridp.workspace.store import check_integrity

        problems = check_integrity(checksums=checksums)
        for problem in problems:
            err_console.print(f"[red]problem:[/] {problem}", highlight=False)
        if problems:
            raise typer.Exit(1)
        console.print("store is whole: every version file matches its record")

    run(go)


def member(
    username: str = typer.Argument(..., help="The person's username (created if new)."),
    role: str = typer.Option(
        ...,
        help="programme_admin, coach, programme_analyst, senior_leader, data_analyst, subject_matter_expert or viewer.",
    ),
    city: str = typer.Option("", help="The city, for city roles and for assigning coaches and programme analysts."),
    email: str = typer.Option("", help="E-mail, for a new person."),
) -> None:
    """Give a person a role (programme admins only)."""

    def go() -> None:
        ready()
        from ridp.workspace.people import acting_user, add_member, require_city

        actor = acting_user()
        city_obj = require_city(actor, city) if city else None
        m = add_member(actor, username, role, city=city_obj, email=email)
        where = f" in {m.city.slug}" if m.city else ""
        console.print(f"{username} is {m.get_role_display()}{where}")

    run(go)
