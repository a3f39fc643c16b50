"""The cohort view and the cohorts' calendars through the API."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.web.conftest import CANARY


def _send(client: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    client.get("/login/")
    csrf = client.cookies["csrftoken"].value
    return client.generic(method, url, json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=csrf)


def test_the_cohort_view_rows_and_filters(world, as_persona):
    coach = as_persona("coach")
    response = coach.get("/api/cohort-view")
    assert response.status_code == 200 and CANARY not in response.content.decode()
    (row,) = response.json()
    assert (row["city"], row["phase"], row["calendar_phase"], row["behind"]) == (
        "springfield", "scoping", "testing", True,
    )  # fmt: skip
    assert row["gate"] == "blocked" and row["gate_missing"] == 8 and row["agreements_expiring"] == 1
    assert row["at_risk"] and "behind the calendar" in row["risks"]
    assert coach.get("/api/cohort-view?phase=analysis").json() == []
    assert len(coach.get("/api/cohort-view?at_risk=true&sort=-days").json()) == 1
    bad = coach.get("/api/cohort-view?sort=salary")
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "sort"
    assert coach.get("/api/cohort-view?city=shelbyville").status_code == 422
    assert as_persona("leader").get("/api/cohort-view").status_code == 403
    assert len(as_persona("admin").get("/api/cohort-view").json()) == 2


def test_cohorts_their_calendars_and_edits(world, as_persona):
    viewer = as_persona("viewer")
    assert [c["id"] for c in viewer.get("/api/cohorts").json()] == [world.cohorts["a"].pk]
    cohort = viewer.get(f"/api/cohorts/{world.cohorts['a'].pk}").json()
    assert [p["key"] for p in cohort["phases"]] == ["scoping", "analysis", "testing", "closeout"]
    assert cohort["phases"][0]["gate"][0] == "charter_signed" and cohort["phases"][3]["gate"] == []
    assert viewer.get(f"/api/cohorts/{world.cohorts['b'].pk}").status_code == 404
    admin = as_persona("admin")
    url = f"/api/cohorts/{world.cohorts['a'].pk}/phases/testing"
    changed = _send(admin, "PATCH", url, {"cadence": "weekly", "name": "Testing"})
    assert changed.status_code == 200 and changed.json()["cadence"] == "weekly"
    closeout = world.cohorts["a"].phases.get(key="closeout")
    overlap = _send(admin, "PATCH", url, {"ends_on": closeout.starts_on.isoformat()})  # runs into close-out
    assert overlap.status_code == 422 and overlap.json()["detail"][0]["field"] == "ends_on"
    assert _send(admin, "PATCH", url, {"cadence": "daily"}).status_code == 422
    assert _send(as_persona("coach"), "PATCH", url, {"cadence": "monthly"}).status_code == 403
    made = _send(admin, "POST", "/api/cohorts", {"name": "Cohort 2027", "year": 2027})
    assert made.status_code == 201 and made.json()["phases"][0]["starts_on"] == "2027-04-01"
    assert _send(admin, "POST", "/api/cohorts", {"name": "Cohort 2028", "year": "2028"}).status_code == 422
