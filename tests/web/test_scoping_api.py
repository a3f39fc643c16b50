"""The scoping and charter API: criteria, value x complexity, the decision; charter versions, diff, sign-offs."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from django.test import Client

from tests.web.conftest import CANARY

KEYS = ["resident_impact", "appetite", "data_quality", "earlier_attempts", "fits_process"]
TODAY = date.today().isoformat()


def _base(world: Any, key: str = "a", city: str = "springfield") -> str:
    return f"/api/cities/{city}/projects/{world.projects[key].pk}"


def _call(client: Client, method: str, url: str, body: Any = None) -> Any:
    client.get("/login/")
    csrf = client.cookies["csrftoken"].value
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, url, data, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)


def test_get_scoping_lists_the_five_criteria_city_scoped(world):
    token = world.tokens["viewer"]
    answer = Client().get(_base(world) + "/scoping", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 200
    body = answer.json()
    assert [c["key"] for c in body["criteria"]] == KEYS
    assert all(c["rating"] is None and c["history_count"] == 0 for c in body["criteria"])
    assert body["decision"] == "" and body["decided_by"] is None
    for url in (_base(world, "b", "shelbyville") + "/scoping", _base(world, "b") + "/scoping"):
        other = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert other.status_code == 404 and CANARY not in other.content.decode()


def test_rate_value_and_decide(world, as_persona):
    from ridp.workspace.models import CriterionRating, Project

    leader, coach = as_persona("leader"), as_persona("coach")
    made = _call(leader, "POST", _base(world) + "/scoping/ratings",
                 {"criterion": "appetite", "score": 2, "evidence": "Budget speech", "rated_on": "2025-04-02"})  # fmt: skip
    assert made.status_code == 201, made.content
    assert made.json()["rater"] == "leader" and made.json()["rated_on"] == "2025-04-02"
    for body, field in (
        ({"criterion": "speed", "score": 1, "evidence": "e"}, "criterion"),
        ({"criterion": "appetite", "score": 3, "evidence": "e"}, "score"),
        ({"criterion": "appetite", "score": "1", "evidence": "e"}, "score"),
        ({"criterion": "appetite", "score": 1, "evidence": ""}, "evidence"),
        ({"criterion": "appetite", "score": 1, "evidence": "e", "rated_on": "2999-01-01"}, "rated_on"),
        ({"criterion": "appetite", "score": 1, "evidence": "e", "rater": "coach"}, "rater"),
    ):
        bad = _call(leader, "POST", _base(world) + "/scoping/ratings", body)
        assert bad.status_code == 422 and field in bad.content.decode(), body
    assert CriterionRating.objects.count() == 1
    denied = _call(as_persona("analyst"), "POST", _base(world) + "/scoping/ratings",
                   {"criterion": "appetite", "score": 1, "evidence": "e"})  # fmt: skip
    assert denied.status_code == 403

    value = _call(leader, "PUT", _base(world) + "/scoping/value", {"value": "high", "complexity": "low"})
    assert value.status_code == 200 and (value.json()["value"], value.json()["complexity"]) == ("high", "low")
    assert (
        _call(leader, "PUT", _base(world) + "/scoping/value", {"value": "big", "complexity": "low"}).status_code == 422
    )

    early = _call(coach, "PUT", _base(world) + "/scoping/decision", {"decision": "accept"})
    assert early.status_code == 422 and early.json()["detail"][0]["field"] == "decision"
    for key in KEYS:
        _call(coach, "POST", _base(world) + "/scoping/ratings", {"criterion": key, "score": 1, "evidence": "e"})
    risky = _call(coach, "PUT", _base(world) + "/scoping/decision", {"decision": "accept_with_risks"})
    assert risky.status_code == 422 and risky.json()["detail"][0]["field"] == "reason"
    done = _call(coach, "PUT", _base(world) + "/scoping/decision",
                 {"decision": "accept_with_risks", "reason": "Gaps before 2021"})  # fmt: skip
    assert done.status_code == 200 and done.json()["decision"] == "accept_with_risks"
    assert done.json()["decided_by"] == "coach"
    assert done.json()["criteria"][1]["history_count"] == 2
    assert Project.objects.get(pk=world.projects["a"].pk).decision_reason == "Gaps before 2021"
    assert _call(leader, "PUT", _base(world) + "/scoping/decision", {"decision": "accept"}).status_code == 403


def test_charter_read_edit_versions_diff(world, as_persona):
    token = world.tokens["viewer"]
    got = Client().get(_base(world) + "/charter", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert got["version"]["number"] == 1 and got["version"]["fields"]["department"] == "Public Works"
    assert got["status"]["signed"] is False and len(got["status"]["valid"]) == 1
    assert "the champion has not signed version 1" in got["status"]["missing"]

    analyst = as_persona("analyst")
    made = _call(analyst, "POST", _base(world) + "/charter/versions",
                 {"fields": {"goals": "Repair within two weeks"}, "note": "goals"})  # fmt: skip
    assert made.status_code == 201 and made.json()["number"] == 2
    same = _call(analyst, "POST", _base(world) + "/charter/versions", {"fields": {"goals": "Repair within two weeks"}})
    assert same.status_code == 200 and same.json()["number"] == 2
    for body, field in (
        ({"fields": {"nonsense": "x"}}, "nonsense"),
        ({"fields": {"trade_off": "speed"}}, "trade_off"),
        ({"fields": {"goals": "x" * 5001}}, "goals"),
        ({"fields": {"goals": 5}}, "goals"),
        ({"fields": {}, "extra": 1}, "extra"),
    ):
        bad = _call(analyst, "POST", _base(world) + "/charter/versions", body)
        assert bad.status_code == 422 and field in bad.content.decode(), body
    assert _call(as_persona("viewer"), "POST", _base(world) + "/charter/versions",
                 {"fields": {"goals": "x"}}).status_code == 403  # fmt: skip
    _call(analyst, "POST", _base(world) + "/charter/versions", {"fields": {"goals": "Repair within one week"}})

    listed = Client().get(_base(world) + "/charter/versions", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert [v["number"] for v in listed] == [3, 2, 1]
    one = Client().get(_base(world) + f"/charter/versions/{listed[1]['id']}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert one.status_code == 200 and one.json()["fields"]["goals"] == "Repair within two weeks"
    other = Client().get(
        _base(world) + f"/charter/versions/{world.charters['b'].pk}", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert other.status_code == 404

    latest = Client().get(_base(world) + "/charter/diff", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert (latest["from_version"], latest["to_version"]) == (2, 3)
    (change,) = latest["changes"]
    assert change["key"] == "goals" and {"op": "removed", "text": "two weeks"} in change["segments"]
    assert {"op": "added", "text": "one week"} in change["segments"]
    wide = Client().get(_base(world) + "/charter/diff?from=1&to=3", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert wide["from_version"] == 1 and [c["key"] for c in wide["changes"]] == ["goals"]
    missing = Client().get(_base(world) + "/charter/diff?from=1&to=9", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert missing.status_code == 404


def test_sign_offs_then_an_edit_invalidates_them(world, as_persona):
    leader = as_persona("leader")
    for kind in ("team", "champion", "leadership"):
        signed = _call(leader, "POST", _base(world) + "/charter/sign-offs",
                       {"kind": kind, "name": f"{kind} person", "role": "Director", "signed_on": TODAY})  # fmt: skip
        assert signed.status_code == 201 and signed.json()["version"] == 1
    status = _call(leader, "GET", _base(world) + "/charter").json()["status"]
    assert status["signed"] is True and status["missing"] == []
    for body, field in (
        ({"kind": "mayor", "name": "P", "role": "R", "signed_on": TODAY}, "kind"),
        ({"kind": "team", "name": "", "role": "R", "signed_on": TODAY}, "name"),
        ({"kind": "team", "name": "P", "role": "R", "signed_on": (date.today() + timedelta(days=1)).isoformat()},
         "signed_on"),
    ):  # fmt: skip
        bad = _call(leader, "POST", _base(world) + "/charter/sign-offs", body)
        assert bad.status_code == 422 and field in bad.content.decode(), body
    refused = _call(as_persona("coach"), "POST", _base(world) + "/charter/sign-offs",
                    {"kind": "team", "name": "P", "role": "R", "signed_on": TODAY})  # fmt: skip
    assert refused.status_code == 403
    _call(as_persona("analyst"), "POST", _base(world) + "/charter/versions", {"fields": {"metric_target": "7 days"}})
    status = _call(leader, "GET", _base(world) + "/charter").json()["status"]
    assert status["signed"] is False and status["version"] == 2 and status["valid"] == []
    assert len(status["invalidated"]) == 4  # the world's own team sign-off too
    assert {(i["signed_version"], i["invalidated_by"], tuple(i["changed"])) for i in status["invalidated"]} == {
        (1, 2, ("metric_target",))
    }
