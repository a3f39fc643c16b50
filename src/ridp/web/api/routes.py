"""API routers, one module per area, registered here."""

from __future__ import annotations

from ninja import NinjaAPI


def register(api: NinjaAPI) -> None:
    from ridp.web.api import agreements, audit, catalog, people, team, tokens, uploads

    for module in (people, catalog, uploads, agreements, team, tokens, audit):
        api.add_router("/", module.router)
