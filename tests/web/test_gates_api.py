"""The phase gate through the API: the gate, advancing, overriding, the phase changes."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

REASON = "Readiness is checked by hand this cohort; the coach reviewed the data."


def _base(world: Any) -> str:
    return f"/api/cities/springfield/projects/{world.projects['a'].pk}"


def _post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    client.get("/login/")
    csrf = client.cookies["csrftoken"].value
    data = json.dumps(body) if body is not None else ""
    return client.post(url, data, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)


def test_the_gate_lists_each_condition(world):
    token = world.tokens["viewer"]
    gate = Client().get(f"{_base(world)}/gate", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert (gate["from_phase"], gate["to_phase"], gate["passed"], gate["last"]) == ("scoping", "analysis", False, False)
    names = [c["name"] for c in gate["conditions"]]
    assert names == ["charter_signed", "team_valid", "agreements_active", "readiness_not_insufficient"]
    charter = gate["conditions"][0]
    assert charter["missing"] == ["the champion has not signed version 1", "leadership has not signed version 1"]
    assert gate["conditions"][2]["met"] is True  # Springfield's dataset has an active agreement
    readiness = gate["conditions"][3]
    assert readiness["available"] is True and readiness["met"] is False
    assert readiness["missing"] == [
        "add the project's metric specs: readiness is judged against the datasets they read"
    ]
    assert len(gate["missing"]) == 8
    other = f"/api/cities/springfield/projects/{world.projects['b'].pk}/gate"
    assert Client().get(other, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 404


def test_advance_blocked_is_422_naming_the_gate_and_override_moves_on(world, as_persona):
    blocked = _post(as_persona("leader"), f"{_base(world)}/gate/advance")
    assert blocked.status_code == 422 and blocked.json()["detail"][0]["field"] == "gate"
    assert "the champion has not signed version 1" in blocked.json()["detail"][0]["msg"]
    coach = as_persona("coach")
    short = _post(coach, f"{_base(world)}/gate/override", {"reason": "short"})
    assert short.status_code == 422 and short.json()["detail"][0]["field"] == "reason"
    extra = _post(coach, f"{_base(world)}/gate/override", {"reason": REASON, "to": "closeout"})
    assert extra.status_code == 422
    made = _post(coach, f"{_base(world)}/gate/override", {"reason": REASON})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["overridden"] and body["override_reason"] == REASON and body["to_phase"] == "analysis"
    assert body["by"] == "coach" and len(body["missing"]) == 8
    listed = coach.get(f"{_base(world)}/phase-changes").json()
    assert [c["id"] for c in listed] == [body["id"]]
    gate = coach.get(f"{_base(world)}/gate").json()
    assert gate["from_phase"] == "analysis" and gate["to_phase"] == "testing"
