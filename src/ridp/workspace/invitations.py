"""Invitations by link: a senior leader (their city's roles) or a programme admin (any role) invites by e-mail.

Only a SHA-256 of the token is stored; the link carries the token. A link works
once, for 7 days, and can be revoked. Accepting creates the person (or, for a
logged-in person with that e-mail, adds the role) and writes an audit entry.

Examples
--------
``invitation, token = invite(sam, city="springfield", role="data_analyst", email="ana@city.gov")``
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone as django_timezone
from django.utils.translation import gettext as _

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError
from ridp.workspace import audit
from ridp.workspace.access import city_for, is_programme_admin, require
from ridp.workspace.models import PROGRAMME_ROLES, Invitation, Membership, Programme, Role, User

__all__ = ["VALID_DAYS", "accept", "invite", "pending", "revoke", "send", "token_hash", "valid_invitation"]

log = logging.getLogger("ridp.invitations")

VALID_DAYS = 7
CITY_ROLES = (Role.SENIOR_LEADER, Role.DATA_ANALYST, Role.SUBJECT_MATTER_EXPERT, Role.VIEWER)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(actor: User, *, city: str | None, role: str, email: str) -> tuple[Invitation, str]:
    """Invite ``email`` to ``role`` (in ``city`` for city roles and assignments). Returns the invitation and its token."""
    try:
        role_value = Role(role)
    except ValueError:
        raise FieldError("role", f"{role!r} is not a role") from None
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise FieldError("email", "enter an e-mail address such as name@city.gov")
    city_obj = city_for(actor, city) if city else None
    if role_value in CITY_ROLES:
        if city_obj is None:
            raise FieldError("city", f"the role {role_value.label} belongs to a city")
        require(actor, city_obj, "team.manage")
    elif not is_programme_admin(actor):
        if city_obj is not None:
            require(actor, city_obj, "team.manage")  # audited denial for a city's team manager
        raise PermissionDeniedError("only a programme admin invites coaches, programme analysts and admins")
    if role_value == Role.PROGRAMME_ADMIN and city_obj is not None:
        raise FieldError("city", "programme admins hold their role programme-wide")
    if role_value in PROGRAMME_ROLES - {Role.PROGRAMME_ADMIN} and city_obj is None:
        raise FieldError("city", "coaches and programme analysts are invited to the city they are assigned to")
    programme = Programme.objects.order_by("id").first()
    assert programme is not None
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            programme=programme,
            city=city_obj,
            role=role_value,
            email=email,
            token_sha256=token_hash(token),
            invited_by=actor,
            expires_at=django_timezone.now() + timedelta(days=VALID_DAYS),
        )
        audit.record("invitation.sent", actor=actor, city=city_obj, obj=invitation, role=role_value.value)
    return invitation, token


def send(invitation: Invitation, link: str, *, inviter: User) -> bool:
    """E-mail the invitation link; False if the mail could not be handed over (nothing about the token is logged)."""
    where = invitation.city.name if invitation.city else _("the programme")
    values = {"who": inviter.username, "where": where, "role": invitation.get_role_display(), "link": link}
    subject = _("You are invited to join %(where)s on ridp") % values
    body = _(
        "%(who)s invites you to join %(where)s on ridp as %(role)s.\n\n"
        "Open this link to accept. It works once, for %(days)d days:\n%(link)s\n\n"
        "If you did not expect this invitation, you can ignore this e-mail."
    ) % (values | {"days": VALID_DAYS})
    try:
        send_mail(subject, body, None, [invitation.email])
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("invitation %s: the e-mail could not be sent (%s)", invitation.pk, type(exc).__name__)
        return False
    return True


def valid_invitation(token: str) -> Invitation:
    """The open invitation behind ``token``; not found when unknown, used, revoked or expired."""
    invitation = Invitation.objects.filter(token_sha256=token_hash(token)).select_related("city").first()
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= django_timezone.now()
    ):
        raise NotFoundError("this invitation link is not valid: it was used, withdrawn or has expired")
    return invitation


def accept(token: str, *, user: User | None = None, username: str = "", password: str = "") -> User:
    """Accept an invitation: as the logged-in ``user``, or as a new person with ``username`` and ``password``."""
    with transaction.atomic():
        invitation = valid_invitation(token)
        Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
        if user is None:
            username = username.strip()
            if not username or len(username) > 150:
                raise FieldError("username", "choose a username of 1 to 150 characters")
            if User.objects.filter(username__iexact=username).exists():
                raise FieldError("username", "this username is taken; choose another")
            candidate = User(username=username, email=invitation.email)
            try:
                validate_password(password, candidate)
            except ValidationError as exc:
                raise FieldError("password", " ".join(str(m) for m in exc.messages)) from None
            candidate.set_password(password)
            candidate.save()
            user = candidate
        elif user.email.lower() != invitation.email:
            raise FieldError("email", "this invitation was sent to another e-mail address")
        role = Role(invitation.role)
        if role in PROGRAMME_ROLES and role != Role.PROGRAMME_ADMIN:
            Membership.objects.get_or_create(user=user, programme=invitation.programme, city=None, role=role)
        Membership.objects.get_or_create(user=user, programme=invitation.programme, city=invitation.city, role=role)
        invitation.accepted_at = django_timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit.record(
            "permission.granted", actor=user, city=invitation.city, obj=invitation, role=role.value, via="invitation"
        )
    return user


def pending(actor: User, city: str) -> list[Invitation]:
    """A city's open invitations (for those who manage its team)."""
    city_obj = city_for(actor, city)
    require(actor, city_obj, "team.manage")
    return list(
        Invitation.objects.filter(
            city=city_obj, accepted_at=None, revoked_at=None, expires_at__gt=django_timezone.now()
        ).order_by("-created_at")
    )


def revoke(actor: User, city: str, invitation_id: int) -> Invitation:
    city_obj = city_for(actor, city)
    invitation = Invitation.objects.filter(pk=invitation_id, city=city_obj).first()
    if invitation is None:
        raise NotFoundError(f"no invitation {invitation_id}")
    require(actor, city_obj, "team.manage")
    invitation.revoked_at = django_timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record("invitation.revoked", actor=actor, city=city_obj, obj=invitation)
    return invitation
