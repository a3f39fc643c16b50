"""API routers, one module per area, registered here."""

from __future__ import annotations

from ninja import NinjaAPI


def register(api: NinjaAPI) -> None:
    from ridp.web.api import people

    api.add_router("/", people.router)
