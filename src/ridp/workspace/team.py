"""A city's team: who holds which role, and removing a role (the person loses it on their next request)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError
from ridp.workspace import audit
from ridp.workspace.access import city_for, is_programme_admin, require
from ridp.workspace.models import PROGRAMME_ROLES, Membership, Role, User

__all__ = ["Member", "members", "remove"]


@dataclass(frozen=True)
class Member:
    membership_id: int
    username: str
    full_name: str
    email: str
    role: str
    role_label: str
    programme_side: bool  # a coach or programme analyst assigned to the city


def members(actor: User, city: str) -> list[Member]:
    """Everyone with a role in ``city`` (anyone who can see the city sees its team)."""
    city_obj = city_for(actor, city)
    rows = (
        Membership.objects.filter(city=city_obj, user__is_active=True)
        .select_related("user")
        .order_by("role", "user__username")
    )
    return [
        Member(
            membership_id=m.pk,
            username=m.user.username,
            full_name=m.user.get_full_name(),
            email=m.user.email,
            role=m.role,
            role_label=Role(m.role).label,
            programme_side=m.role in PROGRAMME_ROLES,
        )
        for m in rows
    ]


def remove(actor: User, city: str, membership_id: int) -> None:
    """Take a role away. Senior leaders remove their city's roles; programme admins any assignment."""
    city_obj = city_for(actor, city)
    membership = Membership.objects.filter(pk=membership_id, city=city_obj).select_related("user").first()
    if membership is None:
        raise NotFoundError(f"no member {membership_id}")
    require(actor, city_obj, "team.manage", obj=membership)
    if membership.role in PROGRAMME_ROLES and not is_programme_admin(actor):
        audit.record("permission.denied", actor=actor, city=city_obj, obj=membership, action_tried="team.assign")
        raise PermissionDeniedError("only a programme admin changes who coaches or analyses for a city")
    if membership.user_id == actor.pk and membership.role == Role.SENIOR_LEADER:
        others = Membership.objects.filter(city=city_obj, role=Role.SENIOR_LEADER).exclude(pk=membership.pk)
        if not others.exists():
            raise FieldError("membership", "you are the city's only senior leader; add another before you step down")
    with transaction.atomic():
        audit.record(
            "permission.revoked", actor=actor, city=city_obj, obj=membership, role=membership.role,
            user=membership.user.username,
        )  # fmt: skip
        membership.delete()
