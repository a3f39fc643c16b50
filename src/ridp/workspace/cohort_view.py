"""The coach's cohort view (PROGRAM.md §1, §8, §9): every project of the cities assigned to a person, against the calendar.

For each project: its phase and days in it, the calendar's phase for today (and whether
the project is behind it), the gate out of its phase, the next meeting and missed
cadence, overdue follow-ups, the city's agreements expiring within 30 days, and short
risk flags. Rows with risk flags come first; any column sorts, and city, cohort, phase
and "at risk only" filter.

The meeting facts are :func:`ridp.workspace.meetings.cadence_status` and
:func:`~ridp.workspace.meetings.overdue_follow_ups` (same rules, same grace days) read
for all projects at once: two aggregate queries instead of five per project; a test
holds them equal to the per-project functions.

Coaches and programme analysts see the cities they are assigned to (hold their
programme role in); programme admins see every city. Others are refused.

A fixed number of queries serves all projects' cities, cohorts, calendars, meetings and
follow-ups; each project then costs only the queries of its gate's conditions (none in
a phase whose conditions are not available yet; four for the scoping gate).

Examples
--------
``cohort_rows(coach, sort="-days", at_risk=True)`` -> the coach's at-risk projects, longest in their phase first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from django.db.models import Count, Max, Min, Q
from django.utils import timezone as django_timezone
from django.utils.translation import gettext as _

from ridp.errors import FieldError, PermissionDeniedError
from ridp.workspace import audit, gates, meetings
from ridp.workspace.access import ROLE_ACTIONS, is_programme_admin
from ridp.workspace.models import Agreement, Cadence, City, CohortPhase, FollowUp, Meeting, Project, User

__all__ = ["DEFAULT_SORT", "EXPIRING_DAYS", "SORT_KEYS", "CohortRow", "cities_of", "cohort_rows", "require_view"]

#: Risk flags first: the most flags at the top.
DEFAULT_SORT: Final = "-risk"
#: An active agreement expiring within this many days is flagged.
EXPIRING_DAYS: Final = 30


@dataclass(frozen=True)
class CohortRow:
    """One project on the cohort view."""

    project_id: int
    city: str  # slug
    city_name: str
    title: str
    cohort_id: int
    cohort: str
    phase: str
    phase_name: str
    phase_position: int
    phase_since: date
    days_in_phase: int
    phase_ends_on: date | None  # the calendar's end of the project's phase
    calendar_phase: str | None  # the calendar's phase for today (None before the cohort starts)
    calendar_phase_name: str
    behind: bool  # still in a phase the calendar has left behind
    gate: str  # "passed" | "blocked" | "last"
    gate_missing: int
    next_meeting: datetime | None
    cadence: str
    missed_meetings: int
    cadence_late: bool
    overdue_follow_ups: int
    agreements_expiring: int  # the city's active agreements expiring within EXPIRING_DAYS
    decision: str
    risks: tuple[str, ...]

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)

    @property
    def missed_cadence(self) -> bool:
        return self.missed_meetings > 0 or self.cadence_late


def _far(value: datetime | None) -> tuple[int, Any]:
    return (1, 0) if value is None else (0, value)


#: sort key -> the row's value it sorts by (ties: city, then title).
SORT_KEYS: Final[dict[str, Callable[[CohortRow], Any]]] = {
    "risk": lambda r: len(r.risks),
    "city": lambda r: r.city_name.lower(),
    "title": lambda r: r.title.lower(),
    "cohort": lambda r: r.cohort.lower(),
    "phase": lambda r: r.phase_position,
    "days": lambda r: r.days_in_phase,
    "calendar": lambda r: (not r.behind, r.calendar_phase_name.lower()),
    "gate": lambda r: ({"blocked": 0, "passed": 1, "last": 2}[r.gate], -r.gate_missing),
    "next_meeting": lambda r: _far(r.next_meeting),
    "cadence": lambda r: (not r.missed_cadence, -r.missed_meetings),
    "follow_ups": lambda r: r.overdue_follow_ups,
    "agreements": lambda r: r.agreements_expiring,
}

_VIEW_ROLES: Final = frozenset(role for role, actions in ROLE_ACTIONS.items() if "cohort.view" in actions)


def cities_of(actor: User) -> list[City]:
    """The cities on the actor's cohort view: all for programme admins, else those they are assigned to (one query)."""
    if not actor.is_active:
        return []
    if is_programme_admin(actor):
        return list(City.objects.select_related("cohort").order_by("name"))
    return list(
        City.objects.filter(memberships__user=actor, memberships__role__in=_VIEW_ROLES)
        .select_related("cohort")
        .distinct()
        .order_by("name")
    )


def require_view(actor: User) -> list[City]:
    """The actor's cohort-view cities; none (not a coach, programme analyst or admin) is refused and audited."""
    cities = cities_of(actor)
    if not cities:
        audit.record("permission.denied", actor=actor if actor.pk else None, action_tried="cohort.view")
        raise PermissionDeniedError("the cohort view is for coaches, programme analysts and programme admins")
    return cities


def _calendar_phase(phases: list[CohortPhase], today: date) -> CohortPhase | None:
    """The calendar's phase for today: the last one that has started (a gap between phases belongs to the earlier)."""
    started = [p for p in phases if p.starts_on <= today]
    return started[-1] if started else None


def _risks(row: dict[str, Any]) -> tuple[str, ...]:
    flags: list[str] = []
    if row["decision"] == Project.Decision.OFF_RAMP:
        flags.append(_("off-ramped"))
    if row["behind"]:
        flags.append(_("behind the calendar"))
    if row["behind"] and row["gate"] == "blocked":
        flags.append(_("gate blocked past the phase's end"))
    if row["missed_meetings"] or row["cadence_late"]:
        flags.append(_("missed meetings"))
    if row["overdue_follow_ups"]:
        flags.append(_("overdue follow-ups"))
    if row["agreements_expiring"]:
        flags.append(_("agreement expiring"))
    return tuple(flags)


def _sorter(sort: str) -> tuple[Callable[[CohortRow], Any], bool]:
    descending = sort.startswith("-")
    key = sort[1:] if descending else sort
    if key not in SORT_KEYS:
        raise FieldError("sort", f"{sort!r} is not one of {', '.join(SORT_KEYS)} (a leading '-' reverses)")
    return SORT_KEYS[key], descending


def cohort_rows(
    actor: User,
    *,
    today: date | None = None,
    city: str = "",
    cohort: int | None = None,
    phase: str = "",
    at_risk: bool = False,
    sort: str = DEFAULT_SORT,
) -> list[CohortRow]:
    """Every project of the actor's cities (``cohort.view``), filtered, risk flags first unless ``sort`` says otherwise.

    ``city`` is a slug of one of the actor's cities, ``cohort`` a cohort id, ``phase`` a phase key;
    ``sort`` one of :data:`SORT_KEYS`, with a leading ``-`` for descending (default ``-risk``: the most
    risk flags first; ties by city and title). Bad values are FieldErrors.
    """
    day = today or django_timezone.localdate()
    cities = require_view(actor)
    by, descending = _sorter(sort or DEFAULT_SORT)
    if city and city not in {c.slug for c in cities}:
        raise FieldError("city", f"{city!r} is not one of the cities on your cohort view")
    if phase and not CohortPhase.objects.filter(key=phase).exists():
        raise FieldError("phase", f"{phase!r} is not a phase of any cohort")
    chosen = [c for c in cities if not city or c.slug == city]
    projects = Project.objects.filter(city__in=chosen).select_related("city", "cohort").order_by("city__name", "title")
    if cohort is not None:
        projects = projects.filter(cohort_id=cohort)
    if phase:
        projects = projects.filter(phase=phase)
    found = list(projects)
    calendars: dict[int, list[CohortPhase]] = {}
    for p in CohortPhase.objects.filter(cohort_id__in={p.cohort_id for p in found}).order_by("cohort_id", "position"):
        calendars.setdefault(p.cohort_id, []).append(p)
    soon = day + timedelta(days=EXPIRING_DAYS)
    expiring = Counter(
        Agreement.objects.filter(
            city__in=chosen, status=Agreement.Status.ACTIVE, expires_on__gte=day, expires_on__lte=soon
        ).values_list("city_id", flat=True)
    )
    facts = _meeting_facts(found, calendars, day)
    rows: list[CohortRow] = []
    with gates.batch():
        for project in found:
            calendar = calendars.get(project.cohort_id, [])
            rows.append(_row(project, calendar, day, expiring[project.city_id], facts[project.pk]))
    if at_risk:
        rows = [r for r in rows if r.at_risk]
    rows.sort(key=lambda r: (r.city_name.lower(), r.title.lower(), r.project_id))
    rows.sort(key=by, reverse=descending)
    return rows


@dataclass(frozen=True)
class MeetingFacts:
    """What the cohort view shows of a project's meetings: as ``meetings.cadence_status`` and the overdue count."""

    cadence: str
    next_planned: datetime | None
    missed: int
    late: bool
    overdue: int


def _meeting_facts(
    projects: list[Project], calendars: dict[int, list[CohortPhase]], day: date
) -> dict[int, MeetingFacts]:
    """:func:`meetings.cadence_status` and :func:`meetings.overdue_follow_ups` for many projects in two queries."""
    now = django_timezone.now()
    ids = [p.pk for p in projects]
    planned, held = Meeting.Status.PLANNED, Meeting.Status.HELD
    per_meetings = {
        r["project_id"]: r
        for r in Meeting.objects.filter(project_id__in=ids)
        .values("project_id")
        .annotate(
            last_held=Max("starts_at", filter=Q(status=held)),
            next_planned=Min("starts_at", filter=Q(status=planned, starts_at__gte=now)),
            missed=Count("id", filter=Q(status=planned, starts_at__lt=now)),
        )
        .order_by()
    }
    overdue = dict(
        FollowUp.objects.filter(project_id__in=ids, status=FollowUp.Status.OPEN, due_on__lt=day)
        .values("project_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("project_id", "n")
    )
    facts: dict[int, MeetingFacts] = {}
    for project in projects:
        cadence = next(
            (p.cadence for p in calendars.get(project.cohort_id, []) if p.key == project.phase), Cadence.NONE
        )
        m = per_meetings.get(project.pk, {})
        late = meetings.is_late(cadence, project.phase_since, m.get("last_held"), day)
        facts[project.pk] = MeetingFacts(
            cadence=cadence, next_planned=m.get("next_planned"), missed=m.get("missed") or 0, late=late,
            overdue=overdue.get(project.pk, 0),
        )  # fmt: skip
    return facts


def _row(project: Project, calendar: list[CohortPhase], day: date, expiring: int, facts: MeetingFacts) -> CohortRow:
    mine = next((p for p in calendar if p.key == project.phase), None)
    today_phase = _calendar_phase(calendar, day)
    is_last = bool(calendar) and calendar[-1].key == project.phase
    behind = mine is not None and not is_last and day > mine.ends_on
    gate = gates.gate_of(project, calendar)
    values: dict[str, Any] = {
        "project_id": project.pk,
        "city": project.city.slug,
        "city_name": project.city.name,
        "title": project.title,
        "cohort_id": project.cohort_id,
        "cohort": project.cohort.name,
        "phase": project.phase,
        "phase_name": mine.name if mine else project.phase,
        "phase_position": mine.position if mine else -1,
        "phase_since": project.phase_since,
        "days_in_phase": max(0, (day - project.phase_since).days),
        "phase_ends_on": mine.ends_on if mine else None,
        "calendar_phase": today_phase.key if today_phase else None,
        "calendar_phase_name": today_phase.name if today_phase else "",
        "behind": behind,
        "gate": "last" if gate.last else "passed" if gate.passed else "blocked",
        "gate_missing": len(gate.missing),
        "next_meeting": facts.next_planned,
        "cadence": facts.cadence,
        "missed_meetings": facts.missed,
        "cadence_late": facts.late,
        "overdue_follow_ups": facts.overdue,
        "agreements_expiring": expiring,
        "decision": project.decision,
    }
    return CohortRow(**values, risks=_risks(values))
