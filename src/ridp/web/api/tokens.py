"""A person's own personal tokens: list, create (the token is shown once), revoke.

A token is made from the logged-in session (password and second factor), never
with another token: a token that leaked cannot mint fresh ones that outlive its
revocation or expiry. Revoking works either way.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from ridp.errors import PermissionDeniedError
from ridp.web.api.people import acting
from ridp.web.api.schemas import WRITE, IdPath, TokenCreated, TokenIn, TokenOut, answers
from ridp.workspace import audit, tokens
from ridp.workspace.models import ApiToken

router = Router(tags=["tokens"])


def token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.pk,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
    )


def _by_token(request: HttpRequest) -> bool:
    """Whether the request came with a token (rather than the logged-in session alone)."""
    return "authorization" in request.headers


@router.get("/tokens", response=answers({200: list[TokenOut]}), operation_id="list_tokens", summary="Your tokens")
def tokens_list(request: HttpRequest) -> list[TokenOut]:
    return [token_out(t) for t in tokens.list_tokens(acting(request))]


@router.post(
    "/tokens",
    response=answers({201: TokenCreated}, *WRITE),
    operation_id="create_token",
    summary="Make a token for a script (from your logged-in session; the token is shown this once)",
)
def token_create(request: HttpRequest, payload: TokenIn) -> Status[TokenCreated]:
    if _by_token(request):
        audit.record("permission.denied", actor=acting(request), action_tried="token.create", via="token")
        raise PermissionDeniedError("make tokens from your logged-in session (your account page), not with a token")
    token, raw = tokens.create(acting(request), payload.name, days=payload.days)
    return Status(201, TokenCreated(**token_out(token).model_dump(), token=raw))


@router.delete(
    "/tokens/{token_id}",
    response=answers({204: None}, *WRITE),
    operation_id="revoke_token",
    summary="Revoke one of your tokens",
)
def token_revoke(request: HttpRequest, token_id: IdPath) -> Status[None]:
    tokens.revoke(acting(request), token_id)
    return Status(204, None)
