"""Meetings (PROGRAM.md §8): planned from the cadence, recorded, blessed; follow-ups carried; the cadence kept or
missed; the .ics feed; e-mail reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.utils import timezone as django_timezone

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError
from tests.workspace.test_project_team import VALID, Team, _add, make_team

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def team(people: Any) -> Team:
    return make_team(people)


def _phase(t: Team, key: str, starts: date, ends: date, cadence: str) -> Any:
    """Put the project in phase ``key`` with these dates and cadence."""
    from ridp.workspace.models import CohortPhase

    phase = CohortPhase.objects.get(cohort=t.project.cohort, key=key)
    CohortPhase.objects.filter(cohort=t.project.cohort).exclude(pk=phase.pk).update(
        starts_on=date(2000, 1, 1), ends_on=date(2000, 1, 1)
    )
    phase.starts_on, phase.ends_on, phase.cadence = starts, ends, cadence
    phase.save()
    t.project.phase = key
    t.project.phase_since = min(starts, django_timezone.localdate())
    t.project.save()
    return phase


def _meeting(t: Team, *, days: float, status: str = "planned", kind: str = "as_needed", phase: str = "") -> Any:
    from ridp.workspace.models import Meeting

    return Meeting.objects.create(
        project=t.project, kind=kind, phase=phase or t.project.phase, status=status,
        starts_at=django_timezone.now() + timedelta(days=days),
    )  # fmt: skip


# --- planning --------------------------------------------------------------------------------------------------


def test_weekly_cadence_plans_every_seven_days_at_ten_in_the_city(team: Team) -> None:
    from ridp.workspace.meetings import plan_phase
    from ridp.workspace.models import AuditEntry, Meeting

    today = django_timezone.localdate()
    start = today - timedelta(days=10)
    _phase(team, "analysis", start, today + timedelta(days=40), "weekly")
    made = plan_phase(team.project, team.admin)
    days = [django_timezone.localtime(m.starts_at, CHICAGO) for m in made]
    expected = [start + timedelta(days=n) for n in range(0, 51, 7) if start + timedelta(days=n) > today]
    assert [d.date() for d in days] == expected
    assert all(d.hour == 10 and d.minute == 0 for d in days)
    assert all(m.starts_at.utcoffset() == timedelta(0) for m in Meeting.objects.all())  # stored in UTC
    assert {m.kind for m in made} == {"weekly_analysis"} and {m.status for m in made} == {"planned"}
    assert plan_phase(team.project, team.admin) == []  # idempotent
    assert Meeting.objects.count() == len(expected)
    entry = AuditEntry.objects.get(action="meeting.planned")
    assert entry.detail == {"phase": "analysis", "count": len(expected)}


def test_planning_again_fills_only_the_gaps(team: Team) -> None:
    from ridp.workspace.meetings import plan_phase
    from ridp.workspace.models import Meeting

    today = django_timezone.localdate()
    _phase(team, "analysis", today + timedelta(days=1), today + timedelta(days=22), "weekly")
    first = plan_phase(team.project, team.admin)
    assert len(first) == 4
    first[1].delete()
    again = plan_phase(team.project, team.admin)
    assert [m.starts_at for m in again] == [first[1].starts_at]
    assert Meeting.objects.count() == 4


def test_monthly_cadence_keeps_the_day_of_month_clamped() -> None:
    """A phase from January 31: the 31st, or the month's last day when it has no 31st (no store needed)."""
    from ridp.workspace.meetings import _slots
    from ridp.workspace.models import CohortPhase

    phase = CohortPhase(starts_on=date(2099, 1, 31), ends_on=date(2099, 5, 31), cadence="monthly")
    assert _slots(phase) == [
        date(2099, 1, 31),
        date(2099, 2, 28),
        date(2099, 3, 31),
        date(2099, 4, 30),
        date(2099, 5, 31),
    ]
    december = CohortPhase(starts_on=date(2099, 11, 15), ends_on=date(2100, 2, 14), cadence="monthly")
    assert _slots(december) == [date(2099, 11, 15), date(2099, 12, 15), date(2100, 1, 15)]


def test_monthly_plan_across_daylight_saving(team: Team) -> None:
    """10:00 in Chicago is 16:00 UTC in winter and 15:00 UTC in summer."""
    from ridp.workspace.meetings import plan_phase

    _phase(team, "testing", date(2099, 1, 31), date(2099, 7, 31), "monthly")
    made = plan_phase(team.project, team.admin)
    assert [m.starts_at.astimezone(UTC).hour for m in made] == [16, 16, 15, 15, 15, 15, 15]
    assert [m.kind for m in made] == ["monthly_action"] * 7


def test_as_needed_plans_one_kickoff_unless_there_is_one(team: Team) -> None:
    from ridp.workspace.meetings import plan_phase

    today = django_timezone.localdate()
    _phase(team, "scoping", today + timedelta(days=3), today + timedelta(days=30), "as_needed")
    made = plan_phase(team.project, team.admin)
    assert len(made) == 1 and made[0].kind == "kickoff"
    assert django_timezone.localtime(made[0].starts_at, CHICAGO).date() == today + timedelta(days=3)
    assert plan_phase(team.project, team.admin) == []
    made[0].status = "cancelled"
    made[0].save()
    assert plan_phase(team.project, team.admin) == []  # the project has a kickoff (cancelled or not)


def test_a_phase_without_meetings_or_already_over_plans_nothing(team: Team) -> None:
    from ridp.workspace.meetings import plan_phase

    today = django_timezone.localdate()
    _phase(team, "closeout", today, today + timedelta(days=30), "none")
    assert plan_phase(team.project, team.admin) == []
    _phase(team, "analysis", today - timedelta(days=60), today - timedelta(days=1), "weekly")
    assert plan_phase(team.project, team.admin) == []


def test_plan_meetings_needs_project_edit(team: Team) -> None:
    from ridp.workspace.meetings import plan_meetings
    from ridp.workspace.models import Meeting

    today = django_timezone.localdate()
    _phase(team, "analysis", today, today + timedelta(days=20), "weekly")
    with pytest.raises(PermissionDeniedError):
        plan_meetings(team.users["vera"], "springfield", team.project.pk)
    with pytest.raises(NotFoundError):
        plan_meetings(team.users["otto"], "springfield", team.project.pk)
    assert not Meeting.objects.exists()
    assert len(plan_meetings(team.users["ana"], "springfield", team.project.pk)) >= 2


# --- scheduling and recording ----------------------------------------------------------------------------------


def test_schedule_reads_a_wall_clock_time_in_the_city(team: Team) -> None:
    from ridp.workspace.meetings import schedule

    m = schedule(team.users["ana"], "springfield", team.project.pk, kind="as_needed",
                 starts_at=datetime(2099, 1, 5, 14, 30), minutes=45, goal="Look at the log")  # fmt: skip
    assert m.starts_at == datetime(2099, 1, 5, 20, 30, tzinfo=UTC)
    assert (m.minutes, m.goal, m.phase, m.status) == (45, "Look at the log", "scoping", "planned")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "party"}, "kind"),
        ({"minutes": 0}, "minutes"),
        ({"minutes": 601}, "minutes"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"goal": "x" * 5001}, "goal"),
        ({"goal": "a\x00b"}, "goal"),
    ],
)
def test_schedule_refuses_bad_fields(team: Team, values: dict[str, Any], field: str) -> None:
    from ridp.workspace.meetings import schedule
    from ridp.workspace.models import Meeting

    args: dict[str, Any] = {"kind": "as_needed", "starts_at": datetime(2099, 1, 5, 10), "minutes": 60} | values
    with pytest.raises(FieldError) as caught:
        schedule(team.users["ana"], "springfield", team.project.pk, **args)
    assert caught.value.field == field
    assert not Meeting.objects.exists()


def test_record_a_held_meeting_with_attendees_and_guests(team: Team) -> None:
    from ridp.workspace.meetings import record
    from ridp.workspace.models import AuditEntry

    _add(team, *VALID)
    m = _meeting(team, days=-1)
    record(
        team.users["ana"], "springfield", team.project.pk, m.pk, status="held", goal="Agree the data",
        pre_read="The log", presented="Counts by ward", decisions="Use 2024", data_requested="Crew rosters",
        risks="Roster is personal", usefulness=4, attendees=["ana", "sam", "cora"], guests=[("Pat Lee", "crew chief")],
    )  # fmt: skip
    m.refresh_from_db()
    assert (m.status, m.usefulness, m.decisions, m.data_requested, m.recorded_by) == (
        "held",
        4,
        "Use 2024",
        "Crew rosters",
        team.users["ana"],
    )
    rows = {(a.name, a.role, a.user_id is None) for a in m.attendees.all()}
    assert rows == {
        ("ana", "data analyst", False), ("sam", "senior leader", False), ("cora", "coach", False),
        ("Pat Lee", "crew chief", True),
    }  # fmt: skip
    entry = AuditEntry.objects.get(action="meeting.recorded")
    assert "Use 2024" not in str(entry.detail) and "Pat Lee" not in str(entry.detail)
    # Recording the attendees again replaces them.
    record(team.users["ana"], "springfield", team.project.pk, m.pk, attendees=["ana"])
    assert [a.name for a in m.attendees.all()] == ["ana"]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"usefulness": 0}, "usefulness"),
        ({"usefulness": 6}, "usefulness"),
        ({"usefulness": True}, "usefulness"),
        ({"status": "maybe"}, "status"),
        ({"attendees": ["otto"]}, "attendees"),
        ({"attendees": ["vera"]}, "attendees"),  # a city member, not on the team: a guest, by name
        ({"guests": [("", "crew chief")]}, "guests"),
        ({"guests": [("Pat",)]}, "guests"),
        ({"decisions": "x" * 10_001}, "decisions"),
        ({"minutes": 0}, "minutes"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_record_refuses_a_bad_field_and_saves_nothing(team: Team, values: dict[str, Any], field: str) -> None:
    from ridp.workspace.meetings import record

    _add(team, *VALID)
    m = _meeting(team, days=-1)
    with pytest.raises(FieldError) as caught:
        record(
            team.users["ana"], "springfield", team.project.pk, m.pk, **({"status": "held", "goal": "kept?"} | values)
        )
    assert caught.value.field == field
    m.refresh_from_db()
    assert (m.status, m.goal, m.recorded_by, m.attendees.count()) == ("planned", "", None, 0)


def test_a_future_meeting_cannot_be_held_yet(team: Team) -> None:
    from ridp.workspace.meetings import record

    m = _meeting(team, days=2)
    with pytest.raises(FieldError, match="not started yet"):
        record(team.users["ana"], "springfield", team.project.pk, m.pk, status="held")
    record(team.users["ana"], "springfield", team.project.pk, m.pk, status="cancelled")
    m.refresh_from_db()
    assert m.status == "cancelled"


def test_recording_needs_project_edit_and_the_projects_own_meeting(team: Team) -> None:
    from ridp.workspace.meetings import record
    from ridp.workspace.projects import start_project

    m = _meeting(team, days=-1)
    with pytest.raises(PermissionDeniedError):
        record(team.users["vera"], "springfield", team.project.pk, m.pk, status="held")
    other = start_project(team.users["sam"], "springfield", title="Other", problem="p", why_it_matters="w",
                          service_change="s")  # fmt: skip
    with pytest.raises(NotFoundError):
        record(team.users["ana"], "springfield", other.pk, m.pk, status="held")


def test_bless_by_the_coach_at_a_held_meeting(team: Team) -> None:
    from ridp.workspace.meetings import bless
    from ridp.workspace.models import AuditEntry

    planned = _meeting(team, days=1)
    held = _meeting(team, days=-1, status="held")
    for who in ("ana", "sam", "pia", "vera"):
        with pytest.raises(PermissionDeniedError):
            bless(team.users[who], "springfield", team.project.pk, held.pk)
    with pytest.raises(FieldError, match="held meeting"):
        bless(team.users["cora"], "springfield", team.project.pk, planned.pk)
    assert bless(team.users["cora"], "springfield", team.project.pk, held.pk).blessed
    bless(team.users["cora"], "springfield", team.project.pk, held.pk)  # again: nothing new
    assert AuditEntry.objects.filter(action="meeting.blessed").count() == 1
    with pytest.raises(NotFoundError):
        bless(team.users["cole"], "springfield", team.project.pk, held.pk)  # another city's coach


# --- follow-ups ------------------------------------------------------------------------------------------------


def test_follow_ups_owner_and_due_date(team: Team) -> None:
    from ridp.workspace.meetings import add_follow_up
    from ridp.workspace.models import FollowUp

    _add(team, *VALID)
    m = _meeting(team, days=-3, status="held")
    held_on = django_timezone.localtime(m.starts_at, CHICAGO).date()
    item = add_follow_up(team.users["ana"], "springfield", team.project.pk, m.pk, "Send the log", "sam", held_on)
    assert (item.owner, item.status, item.meeting) == (team.users["sam"], "open", m)
    # a city member off the team may own one (the mayor's office viewer, say)
    add_follow_up(team.users["ana"], "springfield", team.project.pk, m.pk, "Ask the mayor", "vera", held_on)
    for owner, due, field in (
        ("otto", held_on, "owner"),  # another city's analyst
        ("cole", held_on, "owner"),  # a coach assigned elsewhere
        ("", held_on, "owner"),
        ("sam", held_on - timedelta(days=1), "due_on"),
        ("sam", held_on + timedelta(days=3 * 366 + 1), "due_on"),
    ):
        with pytest.raises(FieldError) as caught:
            add_follow_up(team.users["ana"], "springfield", team.project.pk, m.pk, "x", owner, due)
        assert caught.value.field == field
    with pytest.raises(FieldError) as caught:
        add_follow_up(team.users["ana"], "springfield", team.project.pk, m.pk, "  ", "sam", held_on)
    assert caught.value.field == "text"
    with pytest.raises(PermissionDeniedError):
        add_follow_up(team.users["vera"], "springfield", team.project.pk, m.pk, "x", "sam", held_on)
    assert FollowUp.objects.count() == 2


def test_follow_up_status_closes_and_reopens(team: Team) -> None:
    from ridp.workspace.meetings import add_follow_up, set_follow_up_status

    m = _meeting(team, days=-3, status="held")
    item = add_follow_up(team.users["ana"], "springfield", team.project.pk, m.pk, "x", "sam", date.today())
    done = set_follow_up_status(team.users["ana"], "springfield", team.project.pk, item.pk, "done")
    assert done.status == "done" and done.closed_at is not None
    reopened = set_follow_up_status(team.users["ana"], "springfield", team.project.pk, item.pk, "open")
    assert reopened.status == "open" and reopened.closed_at is None
    with pytest.raises(FieldError) as caught:
        set_follow_up_status(team.users["ana"], "springfield", team.project.pk, item.pk, "finished")
    assert caught.value.field == "status"
    with pytest.raises(PermissionDeniedError):
        set_follow_up_status(team.users["vera"], "springfield", team.project.pk, item.pk, "done")


def test_follow_ups_are_carried_until_closed(team: Team) -> None:
    """Meeting 2 shows what was open at its time from meeting 1 (carried), and its own new items."""
    from ridp.workspace.meetings import follow_ups_at, open_follow_ups, overdue_follow_ups
    from ridp.workspace.models import FollowUp

    first, second, third = (_meeting(team, days=d, status="held") for d in (-20, -10, -1))
    now = django_timezone.now()

    def item(meeting: Any, text: str, **extra: Any) -> Any:
        values = {"due_on": date.today() + timedelta(days=1)} | extra
        return FollowUp.objects.create(project=team.project, meeting=meeting, text=text, owner=team.users["sam"],
                                       **values)  # fmt: skip

    still_open = item(first, "still open")
    closed_before = item(first, "closed before 2", status="done", closed_at=now - timedelta(days=15))
    closed_after = item(first, "closed after 2", status="dropped", closed_at=now - timedelta(days=5))
    own = item(second, "from 2")
    overdue = item(second, "overdue", due_on=date.today() - timedelta(days=1))
    at_second = follow_ups_at(second)
    assert {f.text for f in at_second.carried} == {"still open", "closed after 2"}
    assert {f.text for f in at_second.new} == {"from 2", "overdue"}
    at_third = follow_ups_at(third)
    assert {f.text for f in at_third.carried} == {"still open", "from 2", "overdue"}
    assert at_third.new == []
    assert follow_ups_at(first).carried == []
    assert {f.pk for f in open_follow_ups(team.project)} == {still_open.pk, own.pk, overdue.pk}
    assert [f.pk for f in overdue_follow_ups(team.project, date.today())] == [overdue.pk]
    assert closed_before.pk not in {f.pk for f in open_follow_ups(team.project)}
    assert closed_after.pk not in {f.pk for f in open_follow_ups(team.project)}


# --- the cadence ----------------------------------------------------------------------------------------------


def test_cadence_status_counts_missed_and_lateness(team: Team, django_assert_max_num_queries: Any) -> None:
    from ridp.workspace.meetings import cadence_status

    today = django_timezone.localdate()
    _phase(team, "analysis", today - timedelta(days=30), today + timedelta(days=30), "weekly")
    team.project.phase_since = today - timedelta(days=30)
    team.project.save()
    held = _meeting(team, days=-12, status="held", kind="weekly_analysis")
    _meeting(team, days=-5, kind="weekly_analysis")  # planned, in the past: missed
    _meeting(team, days=-3, status="cancelled", kind="weekly_analysis")  # cancelled: not missed
    upcoming = _meeting(team, days=2, kind="weekly_analysis")
    with django_assert_max_num_queries(4):
        status = cadence_status(team.project, today)
    assert (status.cadence, status.last_held, status.next_planned, status.missed) == ("weekly", held, upcoming, 1)
    assert status.late is True and not status.kept  # the last held one is 12 days old: more than 10
    assert cadence_status(team.project, today - timedelta(days=3)).late is False  # 9 days then


def test_cadence_with_no_meeting_held_counts_from_the_phase_start(team: Team) -> None:
    from ridp.workspace.meetings import cadence_status

    today = django_timezone.localdate()
    _phase(team, "testing", today - timedelta(days=60), today + timedelta(days=60), "monthly")
    team.project.phase_since = today - timedelta(days=39)
    team.project.save()
    assert cadence_status(team.project, today).late is False
    assert cadence_status(team.project, today + timedelta(days=2)).late is True
    _phase(team, "scoping", today - timedelta(days=60), today + timedelta(days=60), "as_needed")
    team.project.phase_since = today - timedelta(days=60)
    team.project.save()
    status = cadence_status(team.project, today)
    assert status.kept and status.late is False and status.last_held is None and status.next_planned is None


# --- the calendar feed ----------------------------------------------------------------------------------------


def test_ics_feed_parses_back_with_one_event_per_meeting(team: Team) -> None:
    from ridp.workspace.meetings import ics_feed, record

    _add(team, *VALID)
    planned = _meeting(team, days=3, kind="weekly_analysis")
    held = _meeting(team, days=-3, kind="kickoff", status="held")
    cancelled = _meeting(team, days=5, status="cancelled")
    record(team.users["ana"], "springfield", team.project.pk, held.pk, goal="Secret goal", attendees=["ana"],
           guests=[("Pat Lee", "chief")])  # fmt: skip
    data = ics_feed(team.users["vera"], "springfield", team.project.pk)
    assert b"Secret goal" not in data and b"Pat Lee" not in data and b"ATTENDEE" not in data
    cal = icalendar.Calendar.from_ical(data)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {f"meeting-{m.pk}@ridp" for m in (planned, held, cancelled)}
    event = events[f"meeting-{planned.pk}@ridp"]
    start = event.decoded("DTSTART")
    assert start == planned.starts_at.replace(microsecond=0) and start.utcoffset() == timedelta(0)
    assert event.decoded("DURATION") == timedelta(minutes=60)
    assert str(event["SUMMARY"]) == "Faster pothole repair: weekly analysis"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(events[f"meeting-{cancelled.pk}@ridp"]["STATUS"]) == "CANCELLED"
    with pytest.raises(NotFoundError):
        ics_feed(team.users["otto"], "springfield", team.project.pk)


# --- reminders -----------------------------------------------------------------------------------------------


def _emails(t: Team) -> None:
    for name, user in t.users.items():
        user.email = f"{name}@springfield.gov"
        user.save()


def test_reminders_mail_owners_and_team_once(team: Team, settings: Any) -> None:
    from ridp.workspace.meetings import send_reminders
    from ridp.workspace.models import AuditEntry, FollowUp, Meeting

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _emails(team)
    _add(team, *VALID)
    today = django_timezone.localdate()
    held = _meeting(team, days=-3, status="held")
    soon = _meeting(team, days=1, kind="weekly_analysis")
    soon.goal = "Look at crews"
    soon.save()
    _meeting(team, days=5)  # too far ahead
    FollowUp.objects.create(project=team.project, meeting=held, text="Send the log", owner=team.users["dan"],
                            due_on=today + timedelta(days=2))  # fmt: skip
    FollowUp.objects.create(project=team.project, meeting=held, text="Old one", owner=team.users["dan"],
                            due_on=today - timedelta(days=4))  # fmt: skip
    FollowUp.objects.create(project=team.project, meeting=held, text="Later", owner=team.users["dan"],
                            due_on=today + timedelta(days=3))  # fmt: skip
    FollowUp.objects.create(project=team.project, meeting=held, text="Done", owner=team.users["dan"],
                            due_on=today, status="done")  # fmt: skip
    counts = send_reminders(today)
    assert (counts.follow_ups, counts.meetings, counts.failed) == (2, 1, 0)
    recipients = sorted(m.to[0] for m in mail.outbox)
    team_mails = [f"{n}@springfield.gov" for n in ("ana", "cora", "eve", "pia", "sam")]
    assert recipients == sorted([*team_mails, "dan@springfield.gov"]) and counts.mails == 6
    dan = next(m for m in mail.outbox if m.to == ["dan@springfield.gov"])
    assert "Send the log" in dan.body and "Old one" in dan.body and "overdue" in dan.body
    assert "Later" not in dan.body and "Done" not in dan.body and "weekly analysis" not in dan.body
    sam = next(m for m in mail.outbox if m.to == ["sam@springfield.gov"])
    assert "Faster pothole repair: weekly analysis" in sam.body and "Look at crews" in sam.body
    local = django_timezone.localtime(soon.starts_at, CHICAGO).strftime("%Y-%m-%d %H:%M")
    assert local in sam.body and f"/c/springfield/projects/{team.project.pk}/meetings/{soon.pk}/" in sam.body
    assert Meeting.objects.get(pk=soon.pk).reminded_at is not None
    entry = AuditEntry.objects.get(action="meeting.reminders_sent")
    assert entry.detail == {"follow_ups": 2, "meetings": 1, "mails": 6, "failed": 0}
    # The same day again: nothing new. The next day: the follow-ups again, the meeting not.
    mail.outbox.clear()
    assert send_reminders(today).mails == 0 and mail.outbox == []
    again = send_reminders(today + timedelta(days=1))
    assert (again.follow_ups, again.meetings) == (3, 0)  # "Later" is due within two days now
    assert [m.to for m in mail.outbox] == [["dan@springfield.gov"]]


def test_reminders_skip_people_without_mail_or_disabled(team: Team, settings: Any) -> None:
    from ridp.workspace.meetings import send_reminders
    from ridp.workspace.models import FollowUp

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    held = _meeting(team, days=-3, status="held")
    FollowUp.objects.create(project=team.project, meeting=held, text="x", owner=team.users["dan"], due_on=date.today())
    team.users["dan"].email = ""
    team.users["dan"].save()
    assert send_reminders().mails == 0 and mail.outbox == []


def test_a_failed_mail_is_retried_next_run(team: Team, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ridp.workspace import meetings
    from ridp.workspace.models import FollowUp

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _emails(team)
    held = _meeting(team, days=-3, status="held")
    item = FollowUp.objects.create(project=team.project, meeting=held, text="x", owner=team.users["dan"],
                                   due_on=date.today())  # fmt: skip

    def broken(*args: Any, **kwargs: Any) -> int:
        raise OSError("mail server down")

    monkeypatch.setattr(meetings, "send_mail", broken)
    counts = meetings.send_reminders()
    assert (counts.mails, counts.failed, counts.follow_ups) == (0, 1, 0)
    item.refresh_from_db()
    assert item.reminded_on is None
    monkeypatch.undo()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert meetings.send_reminders().mails == 1


def test_reminders_go_through_the_file_backend(team: Team, settings: Any, tmp_path: Any) -> None:
    """The configured file backend (RIDP_HOME/mail) receives the reminder."""
    from ridp.workspace.meetings import send_reminders
    from ridp.workspace.models import FollowUp

    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    _emails(team)
    held = _meeting(team, days=-3, status="held")
    FollowUp.objects.create(project=team.project, meeting=held, text="Send the log", owner=team.users["dan"],
                            due_on=date.today())  # fmt: skip
    assert send_reminders().mails == 1
    written = "".join(p.read_text() for p in (tmp_path / "mail").iterdir())
    assert "dan@springfield.gov" in written and "Send the log" in written
