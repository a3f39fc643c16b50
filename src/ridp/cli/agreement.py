"""``ridp agreement add|review|sign|activate|terminate|list|show``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ridp.cli import console, day, ready, run

app = typer.Typer(help="Data-sharing agreements that gate the use of a city's data.", no_args_is_help=True)


@app.command("add")
def add(
    city: str = typer.Option(..., help="The city."),
    title: str = typer.Option(..., help="A short title."),
    parties: str = typer.Option(..., help="Who agrees, e.g. 'City of Springfield; Data Programme'."),
    purpose: str = typer.Option(..., help="What the data may be used for."),
    dataset: list[str] = typer.Option(..., help="NAME or NAME:col1,col2 (covered columns); repeat."),
    starts: str = typer.Option(..., help="Start date, YYYY-MM-DD."),
    expires: str = typer.Option(..., help="Expiry date, YYYY-MM-DD."),
    permitted_uses: str = typer.Option("", help="Uses allowed, in words."),
    retention_days: int = typer.Option(0, help="Days the bytes are kept after the agreement ends."),
    personal_role: list[str] = typer.Option([], help="A role that may see personal columns; repeat."),
    personal_person: list[str] = typer.Option([], help="A person (username) who may see personal columns; repeat."),
) -> None:
    """Draft an agreement."""

    def go() -> None:
        ready()
        from ridp.workspace.agreements import add_agreement
        from ridp.workspace.people import acting_user

        covered = {}
        for item in dataset:
            name, _, cols = item.partition(":")
            covered[name] = [c.strip() for c in cols.split(",") if c.strip()]
        a = add_agreement(
            acting_user(), city, title=title, parties=parties, purpose=purpose, datasets=covered,
            starts_on=day(starts, "starts"), expires_on=day(expires, "expires"), permitted_uses=permitted_uses,
            retention_days=retention_days, personal_roles=list(personal_role), personal_people=list(personal_person),
        )  # fmt: skip
        console.print(f"agreement {a.pk} drafted: {a.title}")

    run(go)


def _step(verb: str, fn_name: str) -> None:
    def command(
        agreement: int = typer.Argument(..., help="Agreement number."), city: str = typer.Option(..., help="The city.")
    ) -> None:
        def go() -> None:
            ready()
            from ridp.workspace import agreements
            from ridp.workspace.people import acting_user

            a = getattr(agreements, fn_name)(acting_user(), city, agreement)
            console.print(f"agreement {a.pk} is {a.get_status_display()}")

        run(go)

    command.__doc__ = f"{verb.capitalize()} an agreement."
    app.command(verb)(command)


_step("review", "submit_for_review")
_step("activate", "activate")


@app.command("sign")
def sign(
    agreement: int = typer.Argument(..., help="Agreement number."),
    city: str = typer.Option(..., help="The city."),
    signatory: list[str] = typer.Option(..., help="'Name|Role|YYYY-MM-DD'; repeat."),
    document: Path = typer.Option(..., help="The signed agreement (PDF)."),
) -> None:
    """Record the signatures and the signed document."""

    def go() -> None:
        ready()
        from ridp.errors import FieldError
        from ridp.workspace.agreements import Signatory
        from ridp.workspace.agreements import sign as sign_agreement
        from ridp.workspace.people import acting_user

        people = []
        for item in signatory:
            parts = [p.strip() for p in item.split("|")]
            if len(parts) != 3:
                raise FieldError("signatory", f"{item!r} is not 'Name|Role|YYYY-MM-DD'")
            people.append(Signatory(parts[0], parts[1], day(parts[2], "signatory")))
        a = sign_agreement(acting_user(), city, agreement, signatories=people, document=document)
        console.print(f"agreement {a.pk} is {a.get_status_display()} ({len(people)} signatories)")

    run(go)


@app.command("terminate")
def terminate(
    agreement: int = typer.Argument(..., help="Agreement number."),
    city: str = typer.Option(..., help="The city."),
    reason: str = typer.Option(..., help="Why it ends."),
) -> None:
    """End an agreement now: use stops, retention follows."""

    def go() -> None:
        ready()
        from ridp.workspace.agreements import terminate as end
        from ridp.workspace.people import acting_user

        a = end(acting_user(), city, agreement, reason=reason)
        console.print(f"agreement {a.pk} is {a.get_status_display()}")

    run(go)


@app.command("list")
def list_(city: str = typer.Option(..., help="The city.")) -> None:
    """List a city's agreements."""

    def go() -> None:
        ready()
        from ridp.workspace.agreements import list_agreements
        from ridp.workspace.people import acting_user

        table = Table("#", "title", "status", "datasets", "starts", "expires", title=f"agreements of {city}")
        for a in list_agreements(acting_user(), city):
            names = ", ".join(c.dataset.name for c in a.coverage.select_related("dataset"))
            table.add_row(str(a.pk), a.title, a.get_status_display(), names, str(a.starts_on), str(a.expires_on))
        console.print(table)

    run(go)


@app.command("show")
def show(
    agreement: int = typer.Argument(..., help="Agreement number."), city: str = typer.Option(..., help="The city.")
) -> None:
    """Show an agreement, what it covers, who may see personal columns, and its history."""

    def go() -> None:
        ready()
        from ridp.workspace.agreements import get_agreement
        from ridp.workspace.people import acting_user

        a = get_agreement(acting_user(), city, agreement)
        console.print(
            f"[bold]{a.title}[/] — {a.get_status_display()}  ({a.starts_on} to {a.expires_on}, retention {a.retention_days} days)"
        )
        console.print(f"parties: {a.parties}\npurpose: {a.purpose}")
        for c in a.coverage.select_related("dataset"):
            console.print(f"covers {c.dataset.name}: {', '.join(c.columns) or 'all columns'}")
        people = ", ".join(a.personal_people.values_list("username", flat=True))
        console.print(
            f"personal columns visible to roles: {', '.join(a.personal_roles) or '-'}; people: {people or '-'}"
        )
        if a.document_name:
            console.print(f"signed document: {a.document_name} (sha256 {a.document_sha256[:12]})")
        table = Table("when (UTC)", "status", "by", "note")
        for h in a.history.select_related("by"):
            table.add_row(
                h.at.strftime("%Y-%m-%d %H:%M"), h.get_status_display(), h.by.username if h.by else "ridp", h.note
            )
        console.print(table)

    run(go)
