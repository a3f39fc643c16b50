"""The team, meetings, follow-ups, comments and the calendar feed through the API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import icalendar
from django.test import Client
from django.utils import timezone as django_timezone

from ridp.workspace import tokens

BASE = "/api/cities/springfield/projects/{}"


def bearer(world: Any, name: str) -> Client:
    raw = world.tokens.get(name) or tokens.create(world.users[name], f"{name} test")[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _base(world: Any) -> str:
    return BASE.format(world.projects["a"].pk)


def test_team_list_status_add_remove(world):
    leader = bearer(world, "leader")
    listed = bearer(world, "viewer").get(_base(world) + "/team")
    assert listed.status_code == 200
    assert [(m["username"], m["role"], m["counts"]) for m in listed.json()] == [("analyst", "data_analyst", True)]
    status = bearer(world, "viewer").get(_base(world) + "/team/status").json()
    assert status["valid"] is False and "no coach assigned to the team" in status["problems"]
    for username, role in (("leader", "senior_leader"), ("expert", "subject_matter_expert"), ("coach", "coach"),
                           ("panalyst", "programme_analyst")):  # fmt: skip
        added = leader.post(
            _base(world) + "/team", {"username": username, "role": role}, content_type="application/json"
        )
        assert added.status_code == 201, added.content
        assert added.json()["username"] == username and added.json()["counts"] is True
    status = bearer(world, "viewer").get(_base(world) + "/team/status").json()
    assert status == {"valid": True, "problems": [], "members": status["members"]} and len(status["members"]) == 5
    wrong = leader.post(_base(world) + "/team", {"username": "viewer", "role": "data_analyst"},
                        content_type="application/json")  # fmt: skip
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["field"] == "username"
    viewer_role = leader.post(_base(world) + "/team", {"username": "viewer", "role": "viewer"},
                              content_type="application/json")  # fmt: skip
    assert viewer_role.status_code == 422  # not a team role: refused by the schema
    assert leader.delete(_base(world) + f"/team/{world.project_members['a'].pk}").status_code == 204
    assert bearer(world, "analyst").delete(_base(world) + f"/team/{added.json()['id']}").status_code == 403
    assert bearer(world, "viewer").get(_base(world) + "/team/status").json()["problems"] == [
        "2 city members: a team has 3 to 5",
        "no data analyst on the team",
    ]


def test_meetings_create_get_record_bless(world):
    analyst = bearer(world, "analyst")
    created = analyst.post(_base(world) + "/meetings",
                           {"kind": "as_needed", "starts_at": "2099-01-05T14:30:00", "minutes": 45, "goal": "Crews"},
                           content_type="application/json")  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["starts_at"].startswith("2099-01-05T20:30:00")  # Chicago wall-clock, answered in UTC
    with_offset = analyst.post(_base(world) + "/meetings", {"starts_at": "2099-01-05T10:00:00+00:00"},
                               content_type="application/json")  # fmt: skip
    assert with_offset.json()["starts_at"].startswith("2099-01-05T10:00:00")
    for bad in ({"starts_at": 4070908800}, {"starts_at": "2099-01-05T10:00:00", "colour": "red"},
                {"starts_at": "2099-01-05T10:00:00", "minutes": "60"}, {"starts_at": "2099-01-05T10:00:00", "kind": "x"}):  # fmt: skip
        assert analyst.post(_base(world) + "/meetings", bad, content_type="application/json").status_code == 422, bad
    held = world.meetings["a"]
    recorded = analyst.patch(_base(world) + f"/meetings/{held.pk}",
                             {"decisions": "Use 2024", "usefulness": 5, "attendees": ["analyst"],
                              "guests": [{"name": "Pat Lee", "role": "crew chief"}]},
                             content_type="application/json")  # fmt: skip
    assert recorded.status_code == 200, recorded.content
    data = recorded.json()
    assert data["decisions"] == "Use 2024" and data["usefulness"] == 5 and data["goal"] == "Agree the problem"
    assert {(a["username"], a["name"]) for a in data["attendees"]} == {("analyst", "analyst"), (None, "Pat Lee")}
    assert [f["text"] for f in data["follow_ups"]] == ["Send the repair log"]
    stranger = analyst.patch(_base(world) + f"/meetings/{held.pk}", {"attendees": ["viewer"]},
                             content_type="application/json")  # fmt: skip
    assert stranger.status_code == 422 and stranger.json()["detail"][0]["field"] == "attendees"
    assert bearer(world, "analyst").post(_base(world) + f"/meetings/{held.pk}/bless").status_code == 403
    blessed = bearer(world, "coach").post(_base(world) + f"/meetings/{held.pk}/bless")
    assert blessed.status_code == 200 and blessed.json()["blessed"] is True
    planned = bearer(world, "coach").post(_base(world) + f"/meetings/{created.json()['id']}/bless")
    assert planned.status_code == 422 and planned.json()["detail"][0]["field"] == "status"
    listing = bearer(world, "viewer").get(_base(world) + "/meetings").json()
    assert [m["id"] for m in listing["meetings"]] == [held.pk, with_offset.json()["id"], created.json()["id"]]
    assert listing["last_held_id"] == held.pk and listing["next_planned_id"] == with_offset.json()["id"]
    other = bearer(world, "analyst").get(f"/api/cities/springfield/projects/{world.projects['a'].pk}/meetings/"
                                         f"{world.meetings['b'].pk}")  # fmt: skip
    assert other.status_code == 404


def test_plan_meetings(world):
    from ridp.workspace.models import CohortPhase

    today = django_timezone.localdate()
    phases = CohortPhase.objects.filter(cohort=world.cohorts["a"])
    phases.update(starts_on=date(2000, 1, 1), ends_on=date(2000, 1, 1))
    phases.filter(key="testing").update(starts_on=today + timedelta(days=1), ends_on=today + timedelta(days=70),
                                        cadence="monthly")  # fmt: skip
    world.projects["a"].phase = "testing"
    world.projects["a"].save()
    planned = bearer(world, "analyst").post(_base(world) + "/meetings/plan")
    assert planned.status_code == 200
    assert [m["kind"] for m in planned.json()] == ["monthly_action"] * 3
    assert bearer(world, "analyst").post(_base(world) + "/meetings/plan").json() == []
    assert bearer(world, "viewer").post(_base(world) + "/meetings/plan").status_code == 403


def test_follow_ups_create_list_update(world):
    analyst = bearer(world, "analyst")
    meeting = world.meetings["a"]
    due = (date.today() + timedelta(days=4)).isoformat()
    created = analyst.post(_base(world) + f"/meetings/{meeting.pk}/follow-ups",
                           {"text": "Call dispatch", "owner": "leader", "due_on": due}, content_type="application/json")  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["owner"] == "leader" and created.json()["overdue"] is False
    for body, field in (({"text": "x", "owner": "b_leader", "due_on": due}, "owner"),
                        ({"text": "x", "owner": "leader", "due_on": "2000-01-01"}, "due_on")):  # fmt: skip
        refused = analyst.post(
            _base(world) + f"/meetings/{meeting.pk}/follow-ups", body, content_type="application/json"
        )
        assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == field
    assert analyst.post(_base(world) + f"/meetings/{meeting.pk}/follow-ups", {"text": "x", "owner": "leader",
                        "due_on": 20990101}, content_type="application/json").status_code == 422  # fmt: skip
    listed = bearer(world, "viewer").get(_base(world) + "/follow-ups?status=open").json()
    assert {f["text"] for f in listed} == {"Send the repair log", "Call dispatch"}
    done = analyst.patch(_base(world) + f"/follow-ups/{created.json()['id']}", {"status": "done"},
                         content_type="application/json")  # fmt: skip
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["closed_at"]
    assert {f["text"] for f in bearer(world, "viewer").get(_base(world) + "/follow-ups?status=done").json()} == {
        "Call dispatch"
    }
    assert bearer(world, "viewer").get(_base(world) + "/follow-ups?status=late").status_code == 422


def test_comments_create_and_list(world):
    expert = bearer(world, "expert")
    meeting = world.meetings["a"]
    made = expert.post(_base(world) + "/comments", {"target": "meeting", "target_id": meeting.pk, "body": "Gaps"},
                       content_type="application/json")  # fmt: skip
    assert made.status_code == 201 and made.json()["author"] == "expert"
    on_meeting = bearer(world, "viewer").get(_base(world) + f"/comments?target=meeting&target_id={meeting.pk}").json()
    assert [c["body"] for c in on_meeting] == ["Gaps"]
    assert [c["body"] for c in bearer(world, "viewer").get(_base(world) + "/comments").json()] == ["Looks right"]
    finding = expert.post(_base(world) + "/comments", {"target": "finding", "target_id": 1, "body": "x"},
                          content_type="application/json")  # fmt: skip
    assert finding.status_code == 422 and finding.json()["detail"][0]["field"] == "target"
    assert "findings arrive with the analysis issue" in finding.json()["detail"][0]["msg"]
    other = expert.post(_base(world) + "/comments", {"target": "meeting", "target_id": world.meetings["b"].pk,
                        "body": "x"}, content_type="application/json")  # fmt: skip
    assert other.status_code == 404


def test_the_calendar_feed(world):
    response = bearer(world, "viewer").get(_base(world) + "/calendar.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"meeting-{world.meetings['a'].pk}@ridp"]
    assert (
        bearer(world, "viewer")
        .get(f"/api/cities/shelbyville/projects/{world.projects['b'].pk}/calendar.ics")
        .status_code
        == 404
    )
