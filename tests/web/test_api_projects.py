"""The projects API: list, start, read, change the intake (session with CSRF, or a personal token)."""

from __future__ import annotations

import json

from django.test import Client

from tests.web.conftest import CANARY

BODY = {"title": "Bulky items", "problem": "Long waits", "why_it_matters": "Blocked kerbs", "service_change": "Routes"}


def test_list_and_get_are_city_scoped(world):
    token = world.tokens["viewer"]
    listed = Client().get("/api/cities/springfield/projects", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert listed.status_code == 200
    assert [p["title"] for p in listed.json()] == ["Faster pothole repair"]
    assert CANARY not in listed.content.decode()
    other = world.projects["b"].pk
    for url in (f"/api/cities/shelbyville/projects/{other}", f"/api/cities/springfield/projects/{other}"):
        assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 404


def test_a_leader_starts_a_project_and_bad_bodies_name_the_field(world, as_persona):
    client = as_persona("leader")
    client.get("/login/")
    csrf = client.cookies["csrftoken"].value
    made = client.post(
        "/api/cities/springfield/projects", json.dumps(BODY), content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert made.status_code == 201, made.content
    assert made.json()["phase"] == "scoping" and made.json()["city"] == "springfield"
    bad = client.post(
        "/api/cities/springfield/projects",
        json.dumps({**BODY, "problem": ""}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert bad.status_code == 422 and "problem" in bad.content.decode()
    extra = client.post(
        "/api/cities/springfield/projects",
        json.dumps({**BODY, "phase": "testing"}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert extra.status_code == 422


def test_the_intake_is_patched_and_csrf_is_required(world, as_persona):
    client = as_persona("analyst")
    url = f"/api/cities/springfield/projects/{world.projects['a'].pk}"
    refused = client.patch(url, json.dumps({"title": "New"}), content_type="application/json")
    assert refused.status_code == 403  # a session without the CSRF token
    client.get("/login/")  # its form sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    done = client.patch(url, json.dumps({"title": "New"}), content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert done.status_code == 200 and done.json()["title"] == "New"
