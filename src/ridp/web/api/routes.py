"""API routers, one module per area, registered here."""

from __future__ import annotations

from ninja import NinjaAPI


def register(api: NinjaAPI) -> None:
    from ridp.web.api import (
        agreements,
        audit,
        catalog,
        cohorts,
        gates,
        meetings,
        people,
        projects,
        scoping,
        team,
        tokens,
        uploads,
    )  # fmt: skip

    for module in (
        people,
        catalog,
        uploads,
        agreements,
        team,
        projects,
        scoping,
        meetings,
        gates,
        cohorts,
        tokens,
        audit,
    ):
        api.add_router("/", module.router)
