"""Resident-impact analysis through the API: targets, a run and its result, a briefing the coach blesses,
the city's calendar, and what a wrong input answers."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from ridp.workspace import tokens
from tests.web.conftest import CANARY


def bearer(world: Any, name: str) -> Client:
    raw = world.tokens.get(name) or tokens.create(world.users[name], f"{name} test")[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _send(client: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    return client.generic(method, url, json.dumps(body), content_type="application/json")


def test_a_run_a_finding_and_the_coachs_blessing(world):
    from ridp.workspace.mapping import map_dataset

    map_dataset(world.users["analyst"], "springfield", "requests", accept=True)
    analyst, coach, viewer = bearer(world, "analyst"), bearer(world, "coach"), bearer(world, "viewer")
    project = f"/api/cities/springfield/projects/{world.projects['a'].pk}"
    targets = f"/api/cities/springfield/datasets/{world.datasets['a'].pk}/targets"
    assert _send(analyst, "PUT", targets, {"days": {"pothole": 2, "graffiti": 3}}).status_code == 200
    assert viewer.get(targets).json() == {
        "unit": "calendar",
        "default": None,
        "days": {"pothole": 2.0, "graffiti": 3.0},
    }

    started = _send(analyst, "POST", project + "/analyses", {"dataset": "requests", "kind": "service_levels",
                                                             "by": ["type"]})  # fmt: skip
    assert started.status_code == 200, started.content  # the tests' task backend runs it at once
    run = started.json()
    assert run["status"] == "done" and run["params"]["targets"]["days"] == {"pothole": 2.0, "graffiti": 3.0}
    detail = viewer.get(f"{project}/analyses/{run['id']}").json()
    rows = {r["type"]: r for r in detail["result"]["rows"]}
    assert rows["pothole"]["requests"] == 1 and rows["pothole"]["median_days"] == 23 / 24  # 23 hours
    assert rows["graffiti"]["still_open"] == 1 and rows["streetlight"]["share_within_target"] is None
    assert viewer.get(project + "/analyses").json()[0]["id"] == run["id"]
    again = _send(analyst, "POST", project + "/analyses", {"dataset": "requests", "kind": "service_levels",
                                                           "by": ["type"]})  # fmt: skip
    assert again.status_code == 200 and again.json()["id"] == run["id"]

    briefing = _send(analyst, "POST", project + "/briefings", {"title": "Week 1"})
    assert briefing.status_code == 201
    b = briefing.json()["id"]
    added = _send(analyst, "POST", f"{project}/briefings/{b}/findings",
                  {"run_id": run["id"], "title": "Graffiti waits", "text": "Still open after weeks."})  # fmt: skip
    # ranked worst first by median days: graffiti is still open, so its median is not known yet and comes last
    assert added.status_code == 201 and added.json()["findings"][0]["numbers"][0]["type"] == "streetlight"
    assert added.json()["findings"][0]["provenance"]["dataset"] == "requests"
    assert _send(analyst, "POST", f"{project}/briefings/{b}/bless", {}).status_code == 403
    blessed = _send(coach, "POST", f"{project}/briefings/{b}/bless", {"note": "Go on"})
    assert blessed.status_code == 200 and blessed.json()["blessed"] and blessed.json()["blessed_by"] == "coach"
    frozen = _send(analyst, "POST", f"{project}/briefings/{b}/findings",
                   {"run_id": run["id"], "title": "More", "text": "More."})  # fmt: skip
    assert frozen.status_code == 422 and frozen.json()["detail"][0]["field"] == "briefing"


def test_wrong_inputs_name_their_field_and_other_cities_stay_hidden(world):
    analyst = bearer(world, "analyst")
    project = f"/api/cities/springfield/projects/{world.projects['a'].pk}"
    wrong = _send(analyst, "POST", project + "/analyses", {"dataset": "requests", "kind": "trends", "by": ["type"]})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["field"] == "by"
    unknown = _send(analyst, "POST", project + "/analyses", {"dataset": "requests", "kind": "mood"})
    assert unknown.status_code == 422
    personal = _send(analyst, "POST", project + "/analyses", {"dataset": "requests", "kind": "service_levels",
                                                              "by": ["resident_name"]})  # fmt: skip
    assert personal.status_code == 422 and "personal" in personal.json()["detail"][0]["msg"]
    other = f"/api/cities/shelbyville/projects/{world.projects['b'].pk}/analyses/{world.analysis_runs['b'].pk}"
    hidden = analyst.get(other)
    assert hidden.status_code == 404 and CANARY.encode() not in hidden.content
    calendar = _send(bearer(world, "analyst"), "PUT", "/api/cities/springfield/calendar",
                     {"weekdays": ["Mon", "Tue", "Wed", "Thu"], "holidays": ["2025-01-01"]})  # fmt: skip
    assert calendar.status_code == 200 and calendar.json() == {"weekdays": ["Mon", "Tue", "Wed", "Thu"],
                                                               "holidays": ["2025-01-01"]}  # fmt: skip
    assert (
        _send(bearer(world, "viewer"), "PUT", "/api/cities/springfield/calendar", {"holidays": []}).status_code == 403
    )
