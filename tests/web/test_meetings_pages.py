"""Meetings in the browser: the list with the cadence, planning, scheduling, recording, the blessing,
follow-ups carried from meeting to meeting, and the .ics feed (PROGRAM.md §8)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from django.urls import reverse
from django.utils import timezone as django_timezone

from tests.web.conftest import csrf_post

CHICAGO = ZoneInfo("America/Chicago")


def _url(world: Any, name: str, **extra: Any) -> str:
    return reverse(name, kwargs={"city": "springfield", "project_id": world.projects["a"].pk, **extra})


def _weekly(world: Any) -> None:
    """Project a is in a weekly analysis phase from 10 days ago to 30 days ahead."""
    from ridp.workspace.models import CohortPhase

    today = django_timezone.localdate()
    phases = CohortPhase.objects.filter(cohort=world.cohorts["a"])
    phases.update(starts_on=date(2000, 1, 1), ends_on=date(2000, 1, 1))
    phases.filter(key="analysis").update(starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=30),
                                         cadence="weekly")  # fmt: skip
    project = world.projects["a"]
    project.phase, project.phase_since = "analysis", today - timedelta(days=10)
    project.save()


def test_the_meetings_page_lists_meetings_cadence_and_follow_ups(world, as_persona):
    page = as_persona("viewer").get(_url(world, "meetings"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Kickoff" in text or "kickoff" in text
    assert "Send the repair log" in text and "Calendar feed (.ics)" in text
    assert "Plan this phase" not in text and "Schedule a meeting" not in text  # viewers read only
    assert "Plan this phase" in as_persona("analyst").get(_url(world, "meetings")).content.decode()


def test_planning_the_phase_from_its_cadence(world, as_persona):
    from ridp.workspace.models import Meeting

    _weekly(world)
    client = as_persona("analyst")
    response = csrf_post(client, _url(world, "meetings_plan"))
    assert response.status_code == 302
    planned = list(Meeting.objects.filter(project=world.projects["a"], kind="weekly_analysis"))
    assert 4 <= len(planned) <= 6
    assert all(django_timezone.localtime(m.starts_at, CHICAGO).hour == 10 for m in planned)
    page = client.get(_url(world, "meetings")).content.decode()
    assert f"{len(planned)} meetings planned." in page and "weekly analysis" in page
    csrf_post(client, _url(world, "meetings_plan"))
    assert "Nothing to plan" in client.get(_url(world, "meetings")).content.decode()
    assert Meeting.objects.filter(project=world.projects["a"], kind="weekly_analysis").count() == len(planned)


def test_missed_cadence_and_overdue_follow_ups_show(world, as_persona):
    from ridp.workspace.models import FollowUp, Meeting

    _weekly(world)
    Meeting.objects.filter(pk=world.meetings["a"].pk).update(starts_at=django_timezone.now() - timedelta(days=20))
    world.projects["a"].phase_since = date.today() - timedelta(days=25)
    world.projects["a"].save()
    Meeting.objects.create(project=world.projects["a"], kind="weekly_analysis", phase="analysis",
                           starts_at=django_timezone.now() - timedelta(days=3))  # fmt: skip
    FollowUp.objects.filter(pk=world.follow_ups["a"].pk).update(due_on=date.today() - timedelta(days=2))
    text = as_persona("coach").get(_url(world, "meetings")).content.decode()
    assert "cadence missed" in text and "1 planned meeting not recorded" in text
    assert "no meeting held for longer than the cadence allows" in text and "overdue" in text
    overview = as_persona("coach").get(_url(world, "project")).content.decode()
    assert "cadence missed" in overview and "1 follow-up overdue" in overview


def test_schedule_a_meeting_in_the_citys_time(world, as_persona):
    from ridp.workspace.models import Meeting

    client = as_persona("expert")
    assert client.get(_url(world, "meeting_new")).status_code == 200
    response = csrf_post(client, _url(world, "meeting_new"),
                         {"kind": "as_needed", "starts_at": "2099-01-05T14:30", "minutes": "45", "goal": "Crews"})  # fmt: skip
    assert response.status_code == 302
    meeting = Meeting.objects.get(project=world.projects["a"], goal="Crews")
    assert meeting.starts_at == datetime(2099, 1, 5, 20, 30, tzinfo=UTC) and meeting.minutes == 45
    assert response["Location"] == _url(world, "meeting", meeting_id=meeting.pk)
    page = client.get(response["Location"]).content.decode()
    assert "2099-01-05 14:30" in page  # shown in Chicago time


def test_schedule_refuses_bad_input_naming_the_field(world, as_persona):
    from ridp.workspace.models import Meeting

    client = as_persona("expert")
    before = Meeting.objects.count()
    for data, field in (
        ({"kind": "as_needed", "starts_at": "next tuesday", "minutes": "60"}, "starts_at"),
        ({"kind": "as_needed", "starts_at": "2099-01-05T10:00", "minutes": "0"}, "minutes"),
        ({"kind": "party", "starts_at": "2099-01-05T10:00", "minutes": "60"}, "kind"),
        ({"kind": "as_needed", "starts_at": "1999-01-05T10:00", "minutes": "60"}, "starts_at"),
    ):
        response = csrf_post(client, _url(world, "meeting_new"), data)
        assert response.status_code == 400, data
        assert f'id="id_{field}_error"' in response.content.decode(), data
    assert Meeting.objects.count() == before


def test_the_meeting_page_shows_everything_of_the_record(world, as_persona):
    from ridp.workspace.models import FollowUp, Meeting

    earlier = Meeting.objects.create(project=world.projects["a"], kind="kickoff", phase="scoping", status="held",
                                     starts_at=world.meetings["a"].starts_at - timedelta(days=7))  # fmt: skip
    FollowUp.objects.create(project=world.projects["a"], meeting=earlier, text="Carried item",
                            owner=world.users["leader"], due_on=date.today())  # fmt: skip
    client = as_persona("viewer")
    text = client.get(_url(world, "meeting", meeting_id=world.meetings["a"].pk)).content.decode()
    assert "Agree the problem" in text  # the goal
    when = django_timezone.localtime(earlier.starts_at, CHICAGO).strftime("%Y-%m-%d")
    assert "Carried item" in text and f"carried from {when}" in text
    assert "Send the repair log" in text and "this meeting" in text
    assert "Comments" in text and "Record the meeting" not in text and "Give the blessing" not in text
    coach = as_persona("coach").get(_url(world, "meeting", meeting_id=world.meetings["a"].pk)).content.decode()
    assert "Give the blessing to go on" in coach and "Record the meeting" in coach
    assert "Add a follow-up" in coach and "Your comment" in coach


def test_record_a_meeting(world, as_persona):
    from ridp.workspace.models import Meeting

    client = as_persona("analyst")
    url = _url(world, "meeting_record", meeting_id=world.meetings["a"].pk)
    form = client.get(url)
    assert form.status_code == 200 and 'value="analyst"' in form.content.decode()
    local = django_timezone.localtime(world.meetings["a"].starts_at, CHICAGO).strftime("%Y-%m-%dT%H:%M")
    data = {
        "status": "held", "starts_at": local, "minutes": "90", "attendees": ["analyst"],
        "guests": "Pat Lee, crew chief\nSam Ward, dispatcher", "goal": "Agree the problem",
        "pre_read": "The log", "presented": "Counts", "decisions": "Use 2024", "data_requested": "Rosters",
        "risks": "Roster is personal", "usefulness": "4",
    }  # fmt: skip
    response = csrf_post(client, url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    meeting = Meeting.objects.get(pk=world.meetings["a"].pk)
    assert (meeting.minutes, meeting.decisions, meeting.data_requested, meeting.usefulness) == (90, "Use 2024",
                                                                                                "Rosters", 4)  # fmt: skip
    assert sorted(a.name for a in meeting.attendees.all()) == ["Pat Lee", "Sam Ward", "analyst"]
    page = client.get(_url(world, "meeting", meeting_id=meeting.pk)).content.decode()
    assert "Pat Lee — crew chief" in page and "4 of 5" in page and "Rosters" in page


def test_record_refuses_bad_input_and_saves_nothing(world, as_persona):
    from ridp.workspace.models import Meeting

    client = as_persona("analyst")
    url = _url(world, "meeting_record", meeting_id=world.meetings["a"].pk)
    local = django_timezone.localtime(world.meetings["a"].starts_at, CHICAGO).strftime("%Y-%m-%dT%H:%M")
    base = {"status": "held", "starts_at": local, "minutes": "60", "decisions": "Not kept"}
    for extra, field in (
        ({"usefulness": "7"}, "usefulness"),
        ({"guests": "Pat Lee without a role"}, "guests"),
        ({"attendees": ["viewer"]}, "attendees"),  # not a choice: viewers are not on the team
        ({"status": "postponed"}, "status"),
        ({"starts_at": "2999-01-01T10:00"}, "starts_at"),
    ):
        response = csrf_post(client, url, base | extra)
        assert response.status_code == 400, extra
        text = response.content.decode()
        assert f'id="id_{field}_error"' in text or (field == "attendees" and "Select a valid choice" in text), extra
    assert Meeting.objects.get(pk=world.meetings["a"].pk).decisions == ""
    future = csrf_post(client, url, base | {"starts_at": "2099-01-01T10:00"})
    assert future.status_code == 400 and "cannot be recorded as held" in future.content.decode()


def test_the_coach_blesses_a_held_meeting(world, as_persona):
    from ridp.workspace.models import AuditEntry, Meeting

    url = _url(world, "meeting_bless", meeting_id=world.meetings["a"].pk)
    assert csrf_post(as_persona("analyst"), url).status_code == 403
    response = csrf_post(as_persona("coach"), url)
    assert response.status_code == 302
    assert Meeting.objects.get(pk=world.meetings["a"].pk).blessed
    assert AuditEntry.objects.filter(action="meeting.blessed").count() == 1
    planned = Meeting.objects.create(project=world.projects["a"], kind="as_needed", phase="scoping",
                                     starts_at=django_timezone.now() + timedelta(days=3))  # fmt: skip
    refused = csrf_post(as_persona("coach"), _url(world, "meeting_bless", meeting_id=planned.pk))
    assert refused.status_code == 400 and "record it as held first" in refused.content.decode()


def test_follow_ups_added_and_closed(world, as_persona):
    from ridp.workspace.models import FollowUp

    client = as_persona("expert")
    meeting = world.meetings["a"]
    url = _url(world, "follow_up_add", meeting_id=meeting.pk)
    held_on = django_timezone.localtime(meeting.starts_at, CHICAGO).date()
    ok = csrf_post(
        client, url, {"text": "Call dispatch", "owner": "leader", "due_on": str(held_on + timedelta(days=5))}
    )
    assert ok.status_code == 302
    item = FollowUp.objects.get(text="Call dispatch")
    assert item.owner == world.users["leader"] and item.status == "open"
    before = FollowUp.objects.count()
    early = csrf_post(client, url, {"text": "x", "owner": "leader", "due_on": str(held_on - timedelta(days=1))})
    assert early.status_code == 400 and 'id="id_follow_up_due_on_error"' in early.content.decode()
    nobody = csrf_post(client, url, {"text": "x", "owner": "b_leader", "due_on": str(held_on)})
    assert nobody.status_code == 400 and 'id="id_follow_up_owner_error"' in nobody.content.decode()
    assert FollowUp.objects.count() == before
    status_url = _url(world, "follow_up_status", follow_up_id=item.pk)
    assert csrf_post(client, status_url, {"status": "done"}).status_code == 302
    item.refresh_from_db()
    assert item.status == "done" and item.closed_at is not None
    assert csrf_post(client, status_url, {"status": "finished"}).status_code == 400
    assert csrf_post(as_persona("viewer"), status_url, {"status": "open"}).status_code == 403
    item.refresh_from_db()
    assert item.status == "done"


def test_the_calendar_feed(world, as_persona):
    response = as_persona("viewer").get(_url(world, "project_calendar"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"] == f'attachment; filename="project-{world.projects["a"].pk}.ics"'
    events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"meeting-{world.meetings['a'].pk}@ridp"]
    assert str(events[0]["SUMMARY"]) == "Faster pothole repair: kickoff"
    assert events[0].decoded("DTSTART").utcoffset() == timedelta(0)
