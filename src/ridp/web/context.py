"""Template context for every page: the cities the person can see and the one in view."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ridp.workspace.access import ACTIONS, Action, actions_in, is_programme_admin, visible_cities
from ridp.workspace.models import City, Membership, Role, User


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        return {}
    match = request.resolver_match
    slug = match.kwargs.get("city") if match else None
    cities = visible_cities(user)
    current: City | None = next((c for c in cities if c.slug == slug), None)
    can: frozenset[Action] = actions_in(user, current) if current is not None else frozenset()
    admin = is_programme_admin(user)
    return {
        "nav_cities": cities,
        "nav_city": current,
        "nav_is_admin": admin,
        # coaches, programme analysts and programme admins have the cohort view of their cities
        "nav_cohort_view": admin
        or Membership.objects.filter(user=user, role__in=(Role.COACH, Role.PROGRAMME_ANALYST)).exists(),
        # keyed without dots, so templates can read them: nav_can.dataset_upload
        "nav_can": {action.replace(".", "_"): action in can for action in ACTIONS},
    }
