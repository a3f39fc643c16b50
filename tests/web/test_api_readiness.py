"""Data readiness through the API: declare checks, start a run, follow it, read the result."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from ridp.readiness import DIMENSIONS
from ridp.workspace import tokens
from tests.web.conftest import CANARY
from tests.web.test_readiness_pages import CHECKS


def bearer(world: Any, name: str) -> Client:
    raw = world.tokens.get(name) or tokens.create(world.users[name], f"{name} test")[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _base(world: Any, key: str = "a") -> str:
    city = "springfield" if key == "a" else "shelbyville"
    return f"/api/cities/{city}/datasets/{world.datasets[key].pk}/readiness"


def _send(client: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    return client.generic(method, url, json.dumps(body), content_type="application/json")


@pytest.fixture
def queued_only(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "ENQUEUE_ON_COMMIT": False}}


def test_checks_then_a_run_round_trip(world, queued_only):
    from ridp.workspace.readiness import run

    analyst, viewer = bearer(world, "analyst"), bearer(world, "viewer")
    in_force = viewer.get(_base(world) + "/checks").json()
    assert in_force["declared"] is False and in_force["yaml"].startswith("checks:")
    saved = _send(analyst, "PUT", _base(world) + "/checks", {"yaml": CHECKS})
    assert saved.status_code == 200 and saved.json() == {"declared": True, "yaml": CHECKS}
    assert viewer.get(_base(world) + "/checks").json() == {"declared": True, "yaml": CHECKS}

    started = _send(analyst, "POST", _base(world), {})
    assert started.status_code == 202, started.content
    queued = started.json()
    assert queued["status"] == "queued" and queued["verdict"] is None and queued["version"] == 1
    assert queued["fraction"] == 0.0 and "not_null: closed_at" in queued["checks_yaml"]
    following = viewer.get(f"{_base(world)}/runs/{queued['id']}").json()
    assert following["status"] == "queued" and following["result"] is None
    # the latest finished run is still the world's, until this one is done
    assert viewer.get(_base(world)).json()["id"] == world.readiness_runs["a"].pk

    run(queued["id"])
    done = viewer.get(f"{_base(world)}/runs/{queued['id']}").json()
    assert done["status"] == "done" and done["fraction"] == 1.0 and done["verdict"] == "insufficient"
    checks = {c["name"]: c for c in done["result"]["checks"]}
    assert checks["not null: closed_at"]["failing"] == 1 and checks["unique: request_id"]["failing"] == 0
    assert [row["resident_name"] for row in checks["not null: closed_at"]["sample"]] == ["•••"]
    assert tuple(d["name"] for d in done["result"]["dimensions"]) == DIMENSIONS
    latest = viewer.get(_base(world))
    assert latest.status_code == 200 and latest.json()["id"] == queued["id"]
    # the same question again is answered from the saved run
    again = _send(analyst, "POST", _base(world), {})
    assert again.status_code == 200 and again.json()["id"] == queued["id"] and again.json()["verdict"] == "insufficient"


def test_other_checks_for_one_run_and_another_version_number(world, queued_only):
    analyst = bearer(world, "analyst")
    trial = _send(analyst, "POST", _base(world), {"checks": "checks:\n  - unique: ward\n"})
    assert trial.status_code == 202 and "unique: ward" in trial.json()["checks_yaml"]
    assert _send(analyst, "GET", _base(world) + "/checks", {}).json()["declared"] is False  # nothing declared
    assert _send(analyst, "POST", _base(world), {"version": 7}).status_code == 404
    assert _send(analyst, "POST", _base(world), {"version": True}).status_code == 422


def test_a_bad_check_file_is_a_400_naming_its_line(world):
    analyst = bearer(world, "analyst")
    bad = _send(analyst, "PUT", _base(world) + "/checks", {"yaml": "checks:\n  - not_null: nope\n"})
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("checks of requests, line 2, not_null.column: unknown column 'nope'")
    trial = _send(analyst, "POST", _base(world), {"checks": "checks:\n  - between: ward\n"})
    assert (
        trial.status_code == 400
        and "line 2" in trial.json()["detail"]
        and "unknown check kind" in trial.json()["detail"]
    )


def test_who_may_and_another_city(world):
    viewer, analyst = bearer(world, "viewer"), bearer(world, "analyst")
    assert _send(viewer, "POST", _base(world), {}).status_code == 403
    assert _send(viewer, "PUT", _base(world) + "/checks", {"yaml": CHECKS}).status_code == 403
    assert viewer.get(_base(world)).status_code == 200
    other = world.readiness_runs["b"].pk
    for url in (_base(world, "b"), f"{_base(world, 'b')}/runs/{other}", f"{_base(world)}/runs/{other}"):
        response = analyst.get(url)
        assert response.status_code == 404 and CANARY not in response.content.decode()
    assert _send(analyst, "POST", _base(world, "b"), {}).status_code == 404


def test_no_finished_run_is_a_404(world):
    from ridp.workspace.datasets import record_inventory

    empty = record_inventory(world.users["analyst"], "springfield", "inventory only")
    url = f"/api/cities/springfield/datasets/{empty.pk}/readiness"
    assert bearer(world, "viewer").get(url).status_code == 404
    assert _send(bearer(world, "analyst"), "POST", url, {}).status_code == 404  # no data to judge yet
