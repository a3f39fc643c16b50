"""Template context for every page: the cities the person can see and the one in view."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ridp.workspace.access import Action, allowed, is_programme_admin, visible_cities
from ridp.workspace.models import City, User

_NAV_ACTIONS: tuple[Action, ...] = (
    "rows.read",
    "dataset.upload",
    "agreement.manage",
    "team.manage",
    "dataset.inventory",
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        return {}
    match = request.resolver_match
    slug = match.kwargs.get("city") if match else None
    cities = visible_cities(user)
    current: City | None = next((c for c in cities if c.slug == slug), None)
    return {
        "nav_cities": cities,
        "nav_city": current,
        "nav_is_admin": is_programme_admin(user),
        # keyed without dots, so templates can read them: nav_can.dataset_upload
        "nav_can": {action.replace(".", "_"): allowed(user, current, action) for action in _NAV_ACTIONS}
        if current is not None
        else {},
    }
