"""The coach's cohort view: the assigned cities' projects against the calendar, risk flags first, sorted, filtered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone as django_timezone

from ridp.errors import FieldError, PermissionDeniedError

DAY = date(2026, 6, 1)  # the cohort's calendar (2026): scoping ended May 14, analysis runs May 15 - Aug 14


@dataclass
class V:
    admin: Any
    users: dict[str, Any]
    cohort: Any
    cities: dict[str, Any]
    projects: dict[str, Any]


def _project(city: Any, cohort: Any, title: str, phase: str, since: date, by: Any, **extra: Any) -> Any:
    from ridp.workspace.models import Project

    return Project.objects.create(
        city=city, cohort=cohort, title=title, problem="p", why_it_matters="w", service_change="s", phase=phase,
        phase_since=since, created_by=by, **extra,
    )  # fmt: skip


@pytest.fixture
def v(people: Any) -> V:
    from ridp.workspace.cities import add_city
    from ridp.workspace.cohorts import create_cohort
    from ridp.workspace.models import City
    from ridp.workspace.people import add_member

    admin = people.admin
    add_city(admin, "Ogdenville", timezone="UTC")
    cities = {c.slug: c for c in City.objects.all()}
    cohort = create_cohort(admin, "Cohort test", year=2026)
    City.objects.update(cohort=cohort)
    users = {"sam": people.sam, "vera": people.vera, "ana": people.ana}
    users["cora"] = add_member(admin, "cora", "coach", city=cities["springfield"]).user
    add_member(admin, "cora", "coach", city=cities["ogdenville"])
    users["pia"] = add_member(admin, "pia", "programme_analyst", city=cities["shelbyville"]).user
    projects = {
        # in analysis like the calendar, all well
        "on_time": _project(cities["springfield"], cohort, "Alpha on time", "analysis", date(2026, 5, 15), people.sam),
        # still in scoping after the calendar's scoping ended
        "behind": _project(cities["springfield"], cohort, "Beta behind", "scoping", date(2026, 4, 1), people.sam),
        "ogden": _project(cities["ogdenville"], cohort, "Gamma in Ogdenville", "analysis", date(2026, 5, 20), admin),
        "shelby": _project(cities["shelbyville"], cohort, "Delta in Shelbyville", "analysis", date(2026, 5, 20), admin),
        "off": _project(
            cities["ogdenville"], cohort, "Epsilon off-ramped", "scoping", date(2026, 4, 1), admin, decision="off_ramp"
        ),
    }
    return V(admin, users, cohort, cities, projects)


def _held(project: Any, when: date) -> Any:
    from datetime import UTC, datetime, time

    from ridp.workspace.models import Meeting

    return Meeting.objects.create(
        project=project, kind="weekly_analysis", phase=project.phase, status="held",
        starts_at=datetime.combine(when, time(10), tzinfo=UTC),
    )  # fmt: skip


def _rows(v: V, who: str = "cora", **kwargs: Any) -> dict[str, Any]:
    from ridp.workspace.cohort_view import cohort_rows

    actor = v.admin if who == "admin" else v.users[who]
    return {r.title: r for r in cohort_rows(actor, today=DAY, **kwargs)}


def test_a_coach_sees_the_projects_of_the_cities_assigned_only(v):
    assert set(_rows(v)) == {"Alpha on time", "Beta behind", "Gamma in Ogdenville", "Epsilon off-ramped"}
    assert set(_rows(v, "pia")) == {"Delta in Shelbyville"}
    assert len(_rows(v, "admin")) == 5


@pytest.mark.parametrize("who", ["sam", "vera", "ana"])
def test_city_people_have_no_cohort_view(v, who):
    from ridp.workspace.models import AuditEntry

    with pytest.raises(PermissionDeniedError):
        _rows(v, who)
    assert AuditEntry.objects.filter(action="permission.denied", detail__action_tried="cohort.view").exists()


def test_each_row_against_the_calendar(v):
    from ridp.workspace.models import Agreement, FollowUp, Meeting

    _held(v.projects["on_time"], DAY - timedelta(days=3))
    behind = v.projects["behind"]
    kickoff = _held(behind, date(2026, 4, 2))
    FollowUp.objects.create(project=behind, meeting=kickoff, text="Send the log", owner=v.users["sam"],
                            due_on=DAY - timedelta(days=1))  # fmt: skip
    FollowUp.objects.create(project=behind, meeting=kickoff, text="Later", owner=v.users["sam"], due_on=DAY)
    soon = django_timezone.now() + timedelta(days=2)
    Meeting.objects.create(project=behind, kind="as_needed", phase="scoping", starts_at=soon)
    Meeting.objects.create(project=behind, kind="as_needed", phase="scoping", starts_at=soon - timedelta(days=9))
    Agreement.objects.create(
        city=v.cities["springfield"], title="Sharing", parties="a", purpose="b", starts_on=date(2026, 1, 1),
        expires_on=DAY + timedelta(days=20), status="active", created_by=v.admin,
    )  # fmt: skip
    rows = _rows(v)
    ok, late = rows["Alpha on time"], rows["Beta behind"]
    assert (ok.phase, ok.phase_name, ok.calendar_phase, ok.calendar_phase_name) == (
        "analysis", "Analysis", "analysis", "Analysis",
    )  # fmt: skip
    assert ok.days_in_phase == 17 and not ok.behind and ok.phase_ends_on == date(2026, 8, 14)
    assert ok.gate == "blocked" and ok.gate_missing == 2  # both analysis conditions: not available yet
    assert ok.cadence == "weekly" and ok.missed_meetings == 0 and not ok.cadence_late
    assert ok.agreements_expiring == 1 and ok.risks == ("agreement expiring",)
    assert late.days_in_phase == 61 and late.behind and late.calendar_phase == "analysis"
    assert late.gate == "blocked" and late.gate_missing == 8  # no charter (1), no team (6), readiness (1)
    assert late.next_meeting == soon and late.missed_meetings == 1 and late.overdue_follow_ups == 1
    assert late.risks == (
        "behind the calendar", "gate blocked past the phase's end", "missed meetings", "overdue follow-ups",
        "agreement expiring",
    )  # fmt: skip
    gamma = rows["Gamma in Ogdenville"]
    assert gamma.cadence_late and gamma.risks == ("missed meetings",)  # no meeting held 12 days into weekly
    assert gamma.agreements_expiring == 0  # agreements are the city's own
    assert rows["Epsilon off-ramped"].risks[0] == "off-ramped"


def test_risk_flags_first_then_any_column_sorts(v):
    from ridp.workspace.cohort_view import SORT_KEYS, cohort_rows

    _held(v.projects["on_time"], DAY - timedelta(days=3))
    titles = [r.title for r in cohort_rows(v.users["cora"], today=DAY)]
    assert titles[-1] == "Alpha on time"  # the only one without a flag
    assert titles[0] in ("Beta behind", "Epsilon off-ramped")
    by_days = [r.days_in_phase for r in cohort_rows(v.users["cora"], today=DAY, sort="days")]
    assert by_days == sorted(by_days)
    by_days_desc = [r.days_in_phase for r in cohort_rows(v.users["cora"], today=DAY, sort="-days")]
    assert by_days_desc == sorted(by_days, reverse=True)
    assert [r.title for r in cohort_rows(v.users["cora"], today=DAY, sort="title")] == sorted(titles)
    for key in SORT_KEYS:  # every column sorts both ways
        for sort in (key, f"-{key}"):
            assert len(cohort_rows(v.users["cora"], today=DAY, sort=sort)) == 4
    with pytest.raises(FieldError) as caught:
        cohort_rows(v.users["cora"], today=DAY, sort="salary")
    assert caught.value.field == "sort"


def test_filters_city_cohort_phase_and_at_risk(v):
    from ridp.workspace.cohorts import create_cohort

    _held(v.projects["on_time"], DAY - timedelta(days=3))
    assert set(_rows(v, city="ogdenville")) == {"Gamma in Ogdenville", "Epsilon off-ramped"}
    assert set(_rows(v, phase="scoping")) == {"Beta behind", "Epsilon off-ramped"}
    assert set(_rows(v, at_risk=True)) == {"Beta behind", "Gamma in Ogdenville", "Epsilon off-ramped"}
    assert len(_rows(v, cohort=v.cohort.pk)) == 4
    assert _rows(v, cohort=create_cohort(v.admin, "Other", year=2027).pk) == {}
    for bad, field in ((dict(city="shelbyville"), "city"), (dict(city="atlantis"), "city"), (dict(phase="x"), "phase")):
        with pytest.raises(FieldError) as caught:
            _rows(v, **bad)
        assert caught.value.field == field


def test_queries_per_project_are_few_and_constant(v):
    """Doubling the projects adds a fixed, small number of queries per project (prefetched calendars, one
    agreements query for all cities)."""
    from ridp.workspace.cohort_view import cohort_rows

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            cohort_rows(v.admin, today=DAY)
        return len(queries)

    before = count()
    for i in range(5):
        _project(v.cities["springfield"], v.cohort, f"More {i}", "analysis", date(2026, 5, 15), v.admin)
    after = count()
    per_project = (after - before) / 5
    assert per_project == int(per_project) and per_project <= 10, (before, after)


def test_the_meeting_facts_are_those_of_the_meetings_module(v):
    """The view reads every project's meetings at once; the answers are meetings.cadence_status's and
    meetings.overdue_follow_ups's, project by project."""
    from ridp.workspace import meetings
    from ridp.workspace.cohort_view import cohort_rows
    from ridp.workspace.models import FollowUp, Meeting

    now = django_timezone.now()
    for n, project in enumerate(v.projects.values()):
        for k in range(n + 1):
            _held(project, DAY - timedelta(days=7 * k + n))
            Meeting.objects.create(project=project, kind="as_needed", phase=project.phase,
                                   starts_at=now + timedelta(days=k + 1, hours=n))  # fmt: skip
            Meeting.objects.create(project=project, kind="as_needed", phase=project.phase,
                                   starts_at=now - timedelta(days=k + 1))  # fmt: skip
            Meeting.objects.create(project=project, kind="as_needed", phase=project.phase, status="cancelled",
                                   starts_at=now - timedelta(days=k + 2))  # fmt: skip
        meeting = Meeting.objects.filter(project=project).first()
        for k in range(n):
            FollowUp.objects.create(project=project, meeting=meeting, text="t", owner=v.admin,
                                    due_on=DAY + timedelta(days=k - 2), status="done" if k == 1 else "open")  # fmt: skip
    for day in (DAY, DAY + timedelta(days=30), date(2026, 4, 5)):
        for row in cohort_rows(v.admin, today=day):
            project = next(p for p in v.projects.values() if p.pk == row.project_id)
            status = meetings.cadence_status(project, day)
            expected = (
                status.cadence, status.next_planned.starts_at if status.next_planned else None, status.missed,
                status.late, len(meetings.overdue_follow_ups(project, day)),
            )  # fmt: skip
            got = (row.cadence, row.next_meeting, row.missed_meetings, row.cadence_late, row.overdue_follow_ups)
            assert got == expected, (row.title, day)
