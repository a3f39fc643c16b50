"""CSRF: every state-changing route refuses a valid session without a token; no GET changes state."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests.web import authz
from tests.web.conftest import sign_in
from tests.web.test_authorisation import WEB_ROUTES, _kwargs

POST_ROUTES = [name for name in WEB_ROUTES if "POST" in authz.WEB.get(name, {})]
GET_ROUTES = [name for name in WEB_ROUTES if "GET" in authz.WEB.get(name, {})]
# Logging what happened is not a change of state: the audit log, sessions, login attempts.
NOT_STATE = {"workspace.auditentry", "sessions.session", "workspace.loginattempt"}


def _state() -> str:
    digest = hashlib.sha256()
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label_lower):
        if model._meta.label_lower in NOT_STATE:
            continue
        for row in model.objects.order_by("pk").values_list():
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.mark.parametrize("name", POST_ROUTES)
def test_post_without_csrf_token_is_refused(world, name):
    persona = "analyst" if authz.WEB[name]["POST"] in (authz.ANY, authz.PUBLIC) else "admin"
    client = sign_in(Client(enforce_csrf_checks=True), world.users[persona])
    url = reverse(name, kwargs=_kwargs(world, name, "own", persona))
    before = _state()
    response = client.post(url, {})
    assert response.status_code == 403, f"POST {url}: {response.status_code}"
    assert _state() == before


@pytest.mark.parametrize("name", GET_ROUTES)
def test_get_changes_no_state(world, name):
    for persona in ("admin", "analyst", "leader"):
        client = sign_in(Client(enforce_csrf_checks=True), world.users[persona])
        url = reverse(name, kwargs=_kwargs(world, name, "own", persona))
        before = _state()
        with transaction.atomic():
            client.get(url)
            after = _state()
            transaction.set_rollback(True)
        assert after == before, f"GET {url} as {persona} changed stored state"


def test_the_state_check_sees_a_change(world):
    before = _state()
    user: Any = world.users["viewer"]
    user.first_name = "Changed"
    user.save()
    assert _state() != before
