"""Personal tokens through the API: a person's own list, made from the session (shown once), revoked."""

from __future__ import annotations

from django.test import Client

from ridp.workspace.models import ApiToken
from tests.web.conftest import csrf_post


def test_a_person_lists_only_their_own_tokens(world):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens['analyst']}")
    listed = client.get("/api/tokens")
    assert listed.status_code == 200
    assert [t["name"] for t in listed.json()] == ["analyst script"]
    assert world.tokens["analyst"] not in listed.content.decode() and "token" not in listed.json()[0]


def test_a_token_is_made_from_the_session_shown_once_and_works(world, as_persona):
    session = as_persona("analyst")
    made = csrf_post(session, "/api/tokens", {"name": "nightly", "days": 30}, content_type="application/json")
    assert made.status_code == 201, made.content
    raw = made.json()["token"]
    assert raw.startswith("ridp_") and made.json()["prefix"] == raw[:9]
    script = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert script.get("/api/me").json()["username"] == "analyst"
    assert raw not in script.get("/api/tokens").content.decode()
    bad = csrf_post(session, "/api/tokens", {"name": "x", "days": 999}, content_type="application/json")
    assert bad.status_code == 422
    forever = csrf_post(session, "/api/tokens", {"name": "x", "days": None}, content_type="application/json")
    assert forever.status_code == 201 and forever.json()["expires_at"] is None


def test_a_token_cannot_make_tokens_but_revokes_its_own(world):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens['analyst']}")
    before = ApiToken.objects.count()
    made = client.post("/api/tokens", {"name": "sneaky"}, content_type="application/json")
    assert made.status_code == 403 and ApiToken.objects.count() == before
    own = ApiToken.objects.get(user=world.users["analyst"])
    others = ApiToken.objects.get(user=world.users["viewer"])
    assert client.delete(f"/api/tokens/{others.pk}").status_code == 404  # someone else's: not found
    assert ApiToken.objects.get(pk=others.pk).revoked_at is None
    assert client.delete(f"/api/tokens/{own.pk}").status_code == 204
    assert client.get("/api/me").status_code == 401  # the revoked token stops working at once
    assert client.delete("/api/tokens/0").status_code == 401
