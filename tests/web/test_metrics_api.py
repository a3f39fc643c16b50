"""A project's metric specs and success metric through the API."""

from __future__ import annotations

from typing import Any

from django.test import Client

from ridp.workspace import tokens
from tests.web.test_metric_pages import SPEC


def bearer(world: Any, name: str) -> Client:
    raw = world.tokens.get(name) or tokens.create(world.users[name], f"{name} test")[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _base(world: Any, key: str = "a") -> str:
    city = "springfield" if key == "a" else "shelbyville"
    return f"/api/cities/{city}/projects/{world.projects[key].pk}"


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def test_save_list_get_versions_and_choose_the_success_metric(world):
    analyst, viewer = bearer(world, "analyst"), bearer(world, "viewer")
    first = _post(analyst, _base(world) + "/metrics", {"yaml": SPEC})
    assert first.status_code == 200, first.content
    [saved] = first.json()
    assert saved["created"] is True and saved["metric"]["number"] == 1 and saved["metric"]["yaml"] == SPEC
    assert saved["metric"]["needs"] == {
        "dataset": "requests", "fields": ["type", "opened", "closed", "latitude", "longitude"], "areas": ["ward"],
        "start": "2025-01-01", "end": "2025-06-30",
    }  # fmt: skip
    assert _post(analyst, _base(world) + "/metrics", {"yaml": SPEC}).json()[0]["created"] is False
    changed = _post(analyst, _base(world) + "/metrics", {"yaml": SPEC.replace("value: 4,", "value: 3,")}).json()[0]
    assert changed["created"] is True and changed["metric"]["number"] == 2

    chosen = bearer(world, "expert").put(
        _base(world) + "/success-metric", {"name": "pothole_days"}, content_type="application/json"
    )
    assert chosen.status_code == 200 and chosen.json() == {"success_metric": "pothole_days"}
    listed = viewer.get(_base(world) + "/metrics").json()
    assert listed["success_metric"] == "pothole_days"
    assert [(m["name"], m["number"], m["success"]) for m in listed["metrics"]] == [("pothole_days", 2, True)]
    detail = viewer.get(_base(world) + "/metrics/pothole_days?version=1").json()
    assert detail["number"] == 1 and detail["spec"]["target"]["value"] == 4.0
    assert [v["number"] for v in detail["versions"]] == [2, 1]
    assert viewer.get(_base(world) + "/metrics/pothole_days?version=9").status_code == 404
    assert viewer.get(_base(world) + "/metrics/no_such").status_code == 404


def test_a_bad_spec_is_a_422_naming_the_field_and_line(world):
    answer = _post(bearer(world, "analyst"), _base(world) + "/metrics", {"yaml": SPEC.replace("unit: days", "unit: [")})
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["field"] == "yaml" and error["msg"].startswith("line 5: is not valid YAML: expected ',' or ']'")
    assert error["msg"].endswith("(while parsing a flow sequence that starts on line 3)")
    formula = SPEC.replace("median(days_to_close)", "median(days_to_close.real)")
    answer = _post(bearer(world, "analyst"), _base(world) + "/metrics", {"yaml": formula})
    assert answer.json()["detail"] == [
        {"field": "formula", "msg": "line 2: column 8: attribute access (a.b) is not allowed: name a field"}
    ]
    unknown = bearer(world, "analyst").put(
        _base(world) + "/success-metric", {"name": "nothing"}, content_type="application/json"
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "name"


def test_viewer_and_another_city_are_refused(world):
    assert _post(bearer(world, "viewer"), _base(world) + "/metrics", {"yaml": SPEC}).status_code == 403
    assert _post(bearer(world, "analyst"), _base(world, "b") + "/metrics", {"yaml": SPEC}).status_code == 404
    assert bearer(world, "analyst").get(_base(world, "b") + "/metrics").status_code == 404
