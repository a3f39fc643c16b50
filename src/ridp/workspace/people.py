"""People and their roles; what each role may do is :mod:`ridp.workspace.access`."""

from __future__ import annotations

from django.db import transaction

from ridp.config import Config
from ridp.errors import FieldError, NotFoundError, PermissionDeniedError, WorkspaceError
from ridp.workspace import audit
from ridp.workspace.access import allowed, city_for, is_programme_admin, visible_cities
from ridp.workspace.models import PROGRAMME_ROLES, City, Membership, Programme, Role, User

__all__ = [
    "acting_user",
    "add_member",
    "can_read_city",
    "can_read_rows",
    "can_upload",
    "cities_for",
    "is_programme_admin",
    "require_city",
]

CITY_ROLES = {Role.SENIOR_LEADER, Role.DATA_ANALYST, Role.SUBJECT_MATTER_EXPERT, Role.VIEWER}


def acting_user() -> User:
    """The person the CLI acts as: ``RIDP_USER``, or the first programme admin."""
    username = Config.from_env().user
    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise NotFoundError(f"RIDP_USER={username!r} is not an active person in this workspace")
        return user
    admin = User.objects.filter(is_active=True, memberships__role=Role.PROGRAMME_ADMIN).order_by("id").first()
    if admin is None:
        raise WorkspaceError("this workspace has no programme admin", hint="run `ridp init`")
    return admin


def can_read_city(user: User, city: City) -> bool:
    return allowed(user, city, "city.read")


def can_read_rows(user: User, city: City) -> bool:
    """Row-level data: everyone who reads the city except viewers."""
    return allowed(user, city, "rows.read")


def can_upload(user: User, city: City) -> bool:
    return allowed(user, city, "dataset.upload")


def cities_for(user: User) -> list[City]:
    """The cities a person may see, by name."""
    return visible_cities(user)


def require_city(user: User, slug: str) -> City:
    """The city with this slug if ``user`` may read it; else NotFound (never 'forbidden': ids reveal nothing)."""
    return city_for(user, slug)


def add_member(actor: User, username: str, role: str, *, city: City | None = None, email: str = "") -> Membership:
    """Give ``username`` a role (creating the person if new). Programme admins only."""
    if not is_programme_admin(actor):
        raise PermissionDeniedError("only a programme admin can change who has which role")
    try:
        role_value = Role(role)
    except ValueError:
        raise FieldError("role", f"{role!r} is not a role", hint="one of " + ", ".join(r.value for r in Role)) from None
    if role_value in CITY_ROLES and city is None:
        raise FieldError("city", f"the role {role_value.label} belongs to a city")
    if role_value == Role.PROGRAMME_ADMIN and city is not None:
        raise FieldError("city", "programme admins hold their role programme-wide")
    programme = Programme.objects.order_by("id").first()
    if programme is None:
        raise WorkspaceError("this workspace has no programme", hint="run `ridp init`")
    with transaction.atomic():
        user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
        if role_value in PROGRAMME_ROLES and role_value != Role.PROGRAMME_ADMIN and city is not None:
            Membership.objects.get_or_create(user=user, programme=programme, city=None, role=role_value)
        membership, _ = Membership.objects.get_or_create(user=user, programme=programme, city=city, role=role_value)
        audit.record(
            "permission.granted", actor=actor, city=city, obj=membership, role=role_value.value, user=user.username
        )
    return membership
