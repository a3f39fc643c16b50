"""Any JSON at the create endpoints: never a server error, and a refused body leaves nothing half-saved."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ridp.workspace import tokens
from ridp.workspace.models import (
    Agreement,
    AgreementDataset,
    AgreementStatusChange,
    ApiToken,
    Dataset,
    DatasetMapping,
    Invitation,
)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(["", " ", "requests", "2026-01-01", "viewer", "data_analyst", "a@b.gov", "x" * 400, "a\x00b"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "name": st.sampled_from(["requests", "new data", "  ", "n" * 201]),
    "title": st.text(max_size=20),
    "parties": st.just("City and programme"),
    "purpose": st.just("Analysis"),
    "datasets": st.dictionaries(st.sampled_from(["requests", "nope"]), st.lists(st.sampled_from(["type", "x"]))),
    "personal_roles": st.lists(st.sampled_from(["viewer", "data_analyst", "king"]), max_size=3),
    "personal_people": st.lists(st.sampled_from(["analyst", "b_analyst", "nobody"]), max_size=2),
    "retention_days": st.integers(-5, 40_000),
    "starts_on": st.dates().map(str),
    "expires_on": st.dates().map(str),
    "email": st.emails() | st.text(max_size=10),
    "role": st.sampled_from(["viewer", "coach", "programme_admin", "senior_leader", "king"]),
    "days": st.none() | st.integers(-2, 400),
    "public": st.sampled_from(["yes", "no", "partial", "maybe"]),
    "years_of_history": st.floats() | st.integers(),
    "needs_agreement": st.booleans() | st.integers(0, 1),
    "reason": st.text(max_size=10),
}
FIELDS = {
    "datasets": ["name", "description", "public", "years_of_history", "needs_agreement", "steward"],
    "agreements": ["title", "parties", "purpose", "datasets", "personal_roles", "personal_people", "retention_days",
                   "starts_on", "expires_on", "permitted_uses"],
    "invitations": ["email", "role"],
    "tokens": ["name", "days"],
}  # fmt: skip
TABLES = (Dataset, Agreement, AgreementDataset, AgreementStatusChange, Invitation, ApiToken, DatasetMapping)


def bodies(kind: str) -> st.SearchStrategy[Any]:
    known = {key: PLAUSIBLE.get(key, st.nothing()) | JSON for key in FIELDS[kind]}
    return (
        JSON
        | st.fixed_dictionaries({}, optional=known)
        | st.fixed_dictionaries({}, optional=known).map(lambda body: {**body, "unexpected": 1})
    )


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in TABLES)


def check(send: Callable[[bytes], Any], body: Any) -> None:
    with transaction.atomic():
        before = counts()
        response = send(json.dumps(body).encode())
        assert response.status_code < 500, (body, response.content[:300])
        if not 200 <= response.status_code < 300:
            assert counts() == before, (body, response.status_code)
            assert response.json()["detail"]
        transaction.set_rollback(True)


FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_any_json_at_the_catalog_agreements_and_team_create_endpoints(world):
    leader = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(world.users['leader'], 'fuzz')[1]}")
    admin = Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens['admin']}")
    for kind, client in (("datasets", leader), ("agreements", leader), ("invitations", leader), ("datasets", admin)):
        fuzz_posts(client, f"/api/cities/springfield/{kind}", bodies(kind))


def fuzz_posts(client: Client, url: str, strategy: st.SearchStrategy[Any]) -> None:
    @FUZZ
    @given(body=strategy)
    def fuzz(body: Any) -> None:
        check(lambda raw: client.post(url, raw, content_type="application/json"), body)

    fuzz()


def test_any_json_at_token_creation_and_termination(world, as_persona):
    session = as_persona("analyst")
    session.get("/login/")
    csrf = session.cookies["csrftoken"].value
    leader = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(world.users['leader'], 'fuzz')[1]}")

    @FUZZ
    @given(body=bodies("tokens"))
    def fuzz_tokens(body: Any) -> None:
        check(
            lambda raw: session.post("/api/tokens", raw, content_type="application/json", HTTP_X_CSRFTOKEN=csrf), body
        )

    fuzz_tokens()
    reason = JSON | st.fixed_dictionaries({}, optional={"reason": PLAUSIBLE["reason"] | JSON})
    fuzz_posts(leader, f"/api/cities/springfield/agreements/{world.drafts['a'].pk}/terminate", reason)
