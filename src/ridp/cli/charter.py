"""``ridp charter show|edit|history|diff|sign``: a project's charter, its versions and sign-offs."""

from __future__ import annotations

import typer
from rich.table import Table

from ridp.cli import console, optional_day, ready, run

app = typer.Typer(help="A project's charter: versions, what changed, and sign-offs.", no_args_is_help=True)


def _pairs(items: list[str]) -> dict[str, str]:
    from ridp.errors import FieldError

    out: dict[str, str] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise FieldError("set", f"{item!r} is not key=value")
        out[key.strip()] = text
    return out


@app.command("show")
def show(
    project: int = typer.Argument(..., help="Project number."), city: str = typer.Option(..., help="The city.")
) -> None:
    """Show the charter's current version and whether it is signed."""

    def go() -> None:
        ready()
        from ridp.workspace import charter
        from ridp.workspace.people import acting_user
        from ridp.workspace.projects import get_project

        p = get_project(acting_user(), city, project)
        version = charter.current(p)
        if version is None:
            console.print(f"project {p.pk} has no charter yet: `ridp charter edit {p.pk} --city {city}` starts it")
        else:
            console.print(f"charter of {p.title}, version {version.number}", highlight=False, markup=False)
            for spec in charter.CHARTER_FIELDS:
                value = charter.value_of(version, spec.key)
                shown = spec.choice_label(value) if spec.kind == "choice" else value
                console.print(f"{spec.key} ({spec.label}): {shown or '—'}", highlight=False, markup=False)
        status = charter.signature_status(p)
        console.print("signed" if status.signed else "not signed", highlight=False)
        for s in status.valid:
            console.print(f"  valid: {s.kind} — {s.name} ({s.role}), {s.signed_on}", highlight=False, markup=False)
        for i in status.invalidated:
            s = i.sign_off
            console.print(
                f"  invalidated: {s.kind} — {s.name}, signed version {i.signed_version}; "
                f"version {i.invalidated_by} changed {', '.join(i.changed)}",
                highlight=False, markup=False,
            )  # fmt: skip
        for line in status.missing:
            console.print(f"  missing: {line}", highlight=False, markup=False)

    run(go)


@app.command("edit")
def edit(
    project: int = typer.Argument(..., help="Project number."),
    city: str = typer.Option(..., help="The city."),
    set_: list[str] = typer.Option([], "--set", help="key=value (repeat); see `ridp charter show` for the keys."),
    note: str = typer.Option("", help="What changed, in a few words."),
) -> None:
    """Change charter fields: a new version when something changed."""

    def go() -> None:
        ready()
        from ridp.workspace import charter
        from ridp.workspace.people import acting_user
        from ridp.workspace.projects import get_project

        user = acting_user()
        before = charter.current(get_project(user, city, project))
        version = charter.edit(user, city, project, _pairs(set_), note=note)
        if before is not None and before.pk == version.pk:
            console.print(f"project {project}: nothing changed; the charter stays at version {version.number}")
        else:
            console.print(f"project {project}: charter version {version.number} saved")

    run(go)


@app.command("history")
def history(
    project: int = typer.Argument(..., help="Project number."), city: str = typer.Option(..., help="The city.")
) -> None:
    """List every version of the charter, newest first."""

    def go() -> None:
        ready()
        from ridp.workspace import charter
        from ridp.workspace.people import acting_user

        table = Table("version", "saved by", "saved at", "note", title=f"charter of project {project}")
        for v in charter.versions(acting_user(), city, project):
            table.add_row(str(v.number), v.created_by.username, f"{v.created_at:%Y-%m-%d %H:%M}", v.note)
        console.print(table)

    run(go)


@app.command("diff")
def diff(
    project: int = typer.Argument(..., help="Project number."),
    from_: int = typer.Argument(..., metavar="FROM", help="The older version's number."),
    to: int = typer.Argument(..., help="The newer version's number."),
    city: str = typer.Option(..., help="The city."),
) -> None:
    """Show what changed between two versions ([-removed-] and {+added+} words)."""

    def go() -> None:
        ready()
        from ridp.workspace import charter
        from ridp.workspace.people import acting_user

        user = acting_user()
        old = charter.version_by_number(user, city, project, from_)
        new = charter.version_by_number(user, city, project, to)
        changes = charter.diff(old, new)
        if not changes:
            console.print(f"nothing changed from version {from_} to version {to}")
        for change in changes:
            text = "".join(
                f"[-{s.text}-]" if s.op == "removed" else f"{{+{s.text}+}}" if s.op == "added" else s.text
                for s in change.segments
            )
            console.print(f"{change.key} ({change.label}): {text}", highlight=False, markup=False)

    run(go)


@app.command("sign")
def sign(
    project: int = typer.Argument(..., help="Project number."),
    city: str = typer.Option(..., help="The city."),
    kind: str = typer.Option(..., help="team, champion or leadership."),
    name: str = typer.Option(..., help="Who signed."),
    role: str = typer.Option(..., help="Their role or title."),
    on: str = typer.Option(None, help="The day they signed, YYYY-MM-DD (default: today)."),
) -> None:
    """Record a sign-off of the charter's current version (senior leaders and programme admins)."""

    def go() -> None:
        ready()
        from django.utils import timezone as django_timezone

        from ridp.workspace import charter
        from ridp.workspace.people import acting_user

        signed_on = optional_day(on, "signed_on") or django_timezone.localdate()
        s = charter.sign(acting_user(), city, project, kind, name, role, signed_on)
        console.print(f"project {project}: {s.kind} signed version {s.version.number} on {s.signed_on}")

    run(go)
