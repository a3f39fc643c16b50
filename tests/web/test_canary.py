"""The canary crawl: Shelbyville is full of a canary value; as every Springfield persona (and anonymously),
request every route and API operation, with our own ids and with Shelbyville's, and search every response,
header, download, mail, audit entry and log line for it. Zero hits.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests.web import authz
from tests.web.conftest import CANARY, sign_in
from tests.web.test_authorisation import CSRF_SECRET, ROUTES, WEB_ROUTES, _kwargs

LOGGERS = ("ridp", "ridp.web", "ridp.uploads", "django", "django.request", "django.security", "django_tasks")


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture):
    """Capture every record of ridp's and Django's loggers (they do not propagate to the root)."""
    loggers = [logging.getLogger(name) for name in LOGGERS]
    for logger in loggers:
        logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    yield caplog
    for logger in loggers:
        logger.removeHandler(caplog.handler)


def _hits(response: Any) -> list[str]:
    found = []
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    if CANARY.encode() in body:
        found.append("body")
    for header, value in response.items():
        if CANARY in value:
            found.append(f"header {header}")
    return found


def crawl(world: Any, persona: str, requests: list[tuple[str, str]]) -> list[str]:
    from ridp.workspace.models import AuditEntry

    hits: list[str] = []
    for method, url in requests:
        client = Client(enforce_csrf_checks=True)
        if persona != "anon":
            sign_in(client, world.users[persona])
        client.cookies["csrftoken"] = CSRF_SECRET
        before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        with transaction.atomic():
            response = client.generic(method, url, HTTP_X_CSRFTOKEN=CSRF_SECRET)
            hits += [f"{method} {url} as {persona}: {where}" for where in _hits(response)]
            for entry in AuditEntry.objects.filter(id__gt=before):
                if CANARY in str(entry.detail) or CANARY in entry.object_id:
                    hits.append(f"{method} {url} as {persona}: audit entry {entry.action}")
            transaction.set_rollback(True)
    return hits


def _web_requests(world: Any, persona: str) -> list[tuple[str, str]]:
    requests = []
    for name in WEB_ROUTES:
        pattern = ROUTES[name]
        for scope in ("own", "other") if "<" in pattern else ("own",):
            url = reverse(name, kwargs=_kwargs(world, name, scope, persona))
            for method in authz.WEB.get(name, {"GET": None}):
                requests.append((method, url))
    return requests


@pytest.mark.parametrize("persona", [p for p in authz.CITY_PERSONAS if p != "admin"] + ["anon"])
def test_no_springfield_persona_ever_sees_shelbyville(world, persona, every_log, capsys):
    hits = crawl(world, persona, _web_requests(world, persona))
    hits += [f"mail to {m.to}" for m in mail.outbox if CANARY in m.body or CANARY in m.subject]
    hits += [f"log: {r.name}" for r in every_log.records if CANARY in r.getMessage()]
    out = capsys.readouterr()
    hits += ["stdout/stderr"] if CANARY in out.out + out.err else []
    assert not hits, "\n".join(hits[:30])


def test_the_crawl_would_see_a_leak(world):
    """The admin sees every city, so the same crawl finds the canary: the search works."""
    hits = crawl(
        world,
        "admin",
        [("GET", reverse("dataset", kwargs={"city": "shelbyville", "dataset_id": world.datasets["b"].pk}))],
    )
    assert hits


@pytest.mark.parametrize("persona", [p for p in authz.CITY_PERSONAS if p != "admin"] + ["anon"])
def test_no_springfield_persona_ever_sees_shelbyville_through_the_api(world, persona, every_log, capsys):
    import json

    from ridp.workspace.models import AuditEntry
    from tests.web.test_authorisation_api import OPERATIONS, _bodies, _multipart, _url

    hits: list[str] = []
    for op, method, path in OPERATIONS:
        for scope in ("own", "other") if "{" in path else ("own",):
            url = _url(world, path, scope, persona)
            client = Client(enforce_csrf_checks=True)
            if persona != "anon":
                sign_in(client, world.users[persona])
            client.cookies["csrftoken"] = CSRF_SECRET
            body, files = _bodies(world).get(op), _multipart(op)
            before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
            with transaction.atomic():
                if files is not None:
                    response = client.post(url, files, HTTP_X_CSRFTOKEN=CSRF_SECRET)
                elif body is not None:
                    response = client.generic(
                        method,
                        url,
                        json.dumps(body["json"]),
                        content_type="application/json",
                        HTTP_X_CSRFTOKEN=CSRF_SECRET,
                    )
                else:
                    response = client.generic(method, url, HTTP_X_CSRFTOKEN=CSRF_SECRET)
                hits += [f"{method} {url} as {persona}: {where}" for where in _hits(response)]
                hits += [
                    f"{method} {url} as {persona}: audit {e.action}"
                    for e in AuditEntry.objects.filter(id__gt=before)
                    if CANARY in str(e.detail) or CANARY in e.object_id
                ]
                transaction.set_rollback(True)
    hits += [f"mail to {m.to}" for m in mail.outbox if CANARY in m.body or CANARY in m.subject]
    hits += [f"log: {r.name}" for r in every_log.records if CANARY in r.getMessage()]
    out = capsys.readouterr()
    hits += ["stdout/stderr"] if CANARY in out.out + out.err else []
    assert not hits, "\n".join(hits[:30])
