"""Personal API tokens for scripts: shown once, stored as a SHA-256, revocable, optionally expiring.

Examples
--------
``token, raw = create(ana, "nightly refresh")`` then send ``Authorization: Bearer <raw>``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone as django_timezone

from ridp.errors import FieldError, NotFoundError
from ridp.workspace import audit
from ridp.workspace.models import ApiToken, User

__all__ = ["PREFIX", "authenticate", "create", "list_tokens", "revoke"]

PREFIX = "ridp_"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create(user: User, name: str, *, days: int | None = 90) -> tuple[ApiToken, str]:
    """A new token for ``user`` (valid ``days``; ``None``: until revoked). The raw token is returned once."""
    name = name.strip()
    if not name or len(name) > 100:
        raise FieldError("name", "name the token (1 to 100 characters), e.g. what script uses it")
    if days is not None and not 1 <= days <= 366:
        raise FieldError("days", "a token lasts 1 to 366 days")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[: len(PREFIX) + 4],
        token_sha256=_hash(raw),
        expires_at=None if days is None else django_timezone.now() + timedelta(days=days),
    )
    audit.record("token.created", actor=user, obj=token)
    return token, raw


def authenticate(raw: str) -> User | None:
    """The active person behind a valid, unexpired, unrevoked token."""
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.filter(token_sha256=_hash(raw), revoked_at=None).select_related("user").first()
    now = django_timezone.now()
    if token is None or not token.user.is_active or (token.expires_at is not None and token.expires_at <= now):
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def list_tokens(user: User) -> list[ApiToken]:
    return list(user.api_tokens.filter(revoked_at=None).order_by("-created_at"))


def revoke(user: User, token_id: int) -> ApiToken:
    token = user.api_tokens.filter(pk=token_id, revoked_at=None).first()
    if token is None:
        raise NotFoundError(f"no token {token_id}")
    token.revoked_at = django_timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record("token.revoked", actor=user, obj=token)
    return token
