"""A project's meetings (PROGRAM.md §8): planned from the phase's cadence, recorded, blessed; follow-ups carried
from meeting to meeting; the cadence kept or missed; an ``.ics`` feed; e-mail reminders.

The current phase of the project's cohort calendar says how often the team meets
(:class:`~ridp.workspace.models.Cadence`): a kickoff then as needed, weekly
analysis meetings, monthly action meetings, or none. :func:`plan_phase` creates
the planned meetings that do not exist yet, at 10:00 in the city's time zone
(stored in UTC), anchored on the phase's first day so that planning twice, or on
another day, plans the same meetings.

A follow-up arises at one meeting and is *carried* to every later meeting until it
is done or dropped: :func:`follow_ups_at` gives a meeting's carried and new items.
:func:`cadence_status` and :func:`overdue_follow_ups` feed the coach's cohort view
(a few queries each).

Examples
--------
``plan_meetings(coach, "springfield", 7)`` -> the new planned meetings;
``record(ana, "springfield", 7, 31, status="held", decisions="Use the 2024 log", usefulness=4,
attendees=["ana", "sam"], guests=[("Pat Lee", "crew chief")])``;
``add_follow_up(ana, "springfield", 7, 31, "Send the repair log", "sam", date(2026, 5, 20))``.
"""

from __future__ import annotations

import calendar
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone as django_timezone
from django.utils.translation import gettext as _

from ridp.errors import FieldError, NotFoundError
from ridp.workspace import audit
from ridp.workspace.access import require
from ridp.workspace.models import (
    Cadence,
    City,
    CohortPhase,
    FollowUp,
    Meeting,
    MeetingAttendee,
    Membership,
    Project,
    ProjectMember,
    User,
)
from ridp.workspace.projects import get_project

__all__ = [
    "GRACE_DAYS",
    "MEETING_HOUR",
    "RECORD_FIELDS",
    "REMIND_DAYS",
    "CadenceStatus",
    "CarriedFollowUps",
    "ReminderCounts",
    "add_follow_up",
    "bless",
    "cadence_status",
    "city_zone",
    "follow_ups_at",
    "get_follow_up",
    "get_meeting",
    "ics_feed",
    "is_late",
    "list_follow_ups",
    "list_meetings",
    "open_follow_ups",
    "overdue_follow_ups",
    "plan_meetings",
    "plan_phase",
    "record",
    "schedule",
    "send_reminders",
    "set_follow_up_status",
]

log = logging.getLogger("ridp")

#: Planned meetings start at this hour in the city's time zone.
MEETING_HOUR: Final = 10
#: How long after the last held meeting a weekly / monthly cadence counts as missed.
GRACE_DAYS: Final[dict[str, int]] = {Cadence.WEEKLY: 10, Cadence.MONTHLY: 40}
#: Reminders go out for follow-ups due, and meetings starting, within this many days.
REMIND_DAYS: Final = 2
#: The kind of meeting each cadence plans.
PLANNED_KIND: Final[dict[str, str]] = {
    Cadence.AS_NEEDED: Meeting.Kind.KICKOFF,
    Cadence.WEEKLY: Meeting.Kind.WEEKLY_ANALYSIS,
    Cadence.MONTHLY: Meeting.Kind.MONTHLY_ACTION,
}
#: A meeting's recorded texts (PROGRAM.md §8) and the most each may hold.
TEXT_FIELDS: Final[dict[str, int]] = {
    "goal": 5000,
    "pre_read": 5000,
    "presented": 10_000,
    "decisions": 10_000,
    "data_requested": 5000,
    "risks": 5000,
}
RECORD_FIELDS: Final = (*TEXT_FIELDS, "status", "usefulness", "attendees", "guests", "starts_at", "minutes")
MAX_MINUTES: Final = 600
MAX_FOLLOW_UP: Final = 2000
MAX_ATTENDEES: Final = 50


# --- reading -------------------------------------------------------------------------------------------------


def city_zone(city: City) -> tzinfo:
    """The city's time zone (UTC if its name is unknown here)."""
    try:
        return ZoneInfo(city.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def list_meetings(actor: User, city: str, project_id: int) -> list[Meeting]:
    """The project's meetings in time order (anyone who can see the project)."""
    project = get_project(actor, city, project_id)
    return list(Meeting.objects.filter(project=project).order_by("starts_at", "id"))


def _meeting(project: Project, meeting_id: int) -> Meeting:
    meeting = Meeting.objects.filter(project=project, pk=meeting_id).select_related("recorded_by").first()
    if meeting is None:
        raise NotFoundError(f"no meeting {meeting_id} in project {project.pk}")
    return meeting


def get_meeting(actor: User, city: str, project_id: int, meeting_id: int) -> Meeting:
    """One meeting of the project; another project's is not found."""
    return _meeting(get_project(actor, city, project_id), meeting_id)


def _follow_up(project: Project, follow_up_id: int) -> FollowUp:
    item = FollowUp.objects.filter(project=project, pk=follow_up_id).select_related("owner", "meeting").first()
    if item is None:
        raise NotFoundError(f"no follow-up {follow_up_id} in project {project.pk}")
    return item


def get_follow_up(actor: User, city: str, project_id: int, follow_up_id: int) -> FollowUp:
    return _follow_up(get_project(actor, city, project_id), follow_up_id)


def list_follow_ups(actor: User, city: str, project_id: int, *, status: str | None = None) -> list[FollowUp]:
    """The project's follow-ups by due date, optionally only those with ``status``."""
    project = get_project(actor, city, project_id)
    if status is not None and status not in FollowUp.Status.values:
        raise FieldError("status", f"{status!r} is not one of {', '.join(FollowUp.Status.values)}")
    items = FollowUp.objects.filter(project=project).select_related("owner", "meeting")
    if status is not None:
        items = items.filter(status=status)
    return list(items.order_by("due_on", "id"))


def open_follow_ups(project: Project) -> list[FollowUp]:
    """The project's open follow-ups, by due date (no permission check: callers read the project first)."""
    return list(
        FollowUp.objects.filter(project=project, status=FollowUp.Status.OPEN)
        .select_related("owner", "meeting")
        .order_by("due_on", "id")
    )


def overdue_follow_ups(project: Project, today: date | None = None) -> list[FollowUp]:
    """Open follow-ups due before ``today`` (one query)."""
    today = today or django_timezone.localdate()
    return list(
        FollowUp.objects.filter(project=project, status=FollowUp.Status.OPEN, due_on__lt=today)
        .select_related("owner", "meeting")
        .order_by("due_on", "id")
    )


@dataclass(frozen=True)
class CarriedFollowUps:
    """A meeting's follow-ups: those carried from earlier meetings (open at its time) and its own new ones."""

    carried: list[FollowUp] = field(default_factory=list)
    new: list[FollowUp] = field(default_factory=list)


def follow_ups_at(meeting: Meeting) -> CarriedFollowUps:
    """What a meeting page shows: follow-ups from earlier meetings still open at its time, and its own."""
    earlier = Q(meeting__starts_at__lt=meeting.starts_at) | Q(
        meeting__starts_at=meeting.starts_at, meeting_id__lt=meeting.pk
    )
    still_open = Q(status=FollowUp.Status.OPEN) | Q(closed_at__gt=meeting.starts_at)
    rows = list(
        FollowUp.objects.filter(Q(project_id=meeting.project_id) & ((earlier & still_open) | Q(meeting=meeting)))
        .select_related("owner", "meeting")
        .order_by("due_on", "id")
    )
    return CarriedFollowUps(
        carried=[f for f in rows if f.meeting_id != meeting.pk], new=[f for f in rows if f.meeting_id == meeting.pk]
    )


@dataclass(frozen=True)
class CadenceStatus:
    """Whether a project keeps its phase's meeting cadence.

    ``missed`` counts planned meetings in the past not recorded as held or cancelled;
    ``late`` is True (weekly and monthly only) when the last held meeting — or, with
    none, the day the project entered its phase — is older than the cadence plus grace
    (10 days weekly, 40 monthly).
    """

    cadence: str
    last_held: Meeting | None
    next_planned: Meeting | None
    missed: int
    late: bool

    @property
    def kept(self) -> bool:
        return self.missed == 0 and not self.late


def is_late(cadence: str, phase_since: date, last_held_at: datetime | None, today: date) -> bool:
    """Weekly and monthly phases: whether the last held meeting (or, with none, entering the phase) is older
    than the cadence plus its grace (:data:`GRACE_DAYS`). The one rule, for one project or a cohort's many."""
    if cadence not in GRACE_DAYS:
        return False
    since = phase_since if last_held_at is None else max(phase_since, last_held_at.date())
    return (today - since).days > GRACE_DAYS[cadence]


def cadence_status(project: Project, today: date | None = None) -> CadenceStatus:
    """The cadence of the project's current phase, kept or missed (four queries)."""
    now = django_timezone.now()
    today = today or django_timezone.localdate()
    cadence = (
        CohortPhase.objects.filter(cohort_id=project.cohort_id, key=project.phase)
        .values_list("cadence", flat=True)
        .first()
    ) or Cadence.NONE
    meetings = Meeting.objects.filter(project_id=project.pk)
    last_held = meetings.filter(status=Meeting.Status.HELD).order_by("-starts_at", "-id").first()
    next_planned = (
        meetings.filter(status=Meeting.Status.PLANNED, starts_at__gte=now).order_by("starts_at", "id").first()
    )
    missed = meetings.filter(status=Meeting.Status.PLANNED, starts_at__lt=now).count()
    late = is_late(cadence, project.phase_since, last_held.starts_at if last_held else None, today)
    return CadenceStatus(cadence=cadence, last_held=last_held, next_planned=next_planned, missed=missed, late=late)


# --- planning ------------------------------------------------------------------------------------------------


def _slots(phase: CohortPhase) -> list[date]:
    """Every day of the phase on which its cadence puts a meeting (the kickoff: the first day)."""
    if phase.cadence == Cadence.WEEKLY:
        days = (phase.ends_on - phase.starts_on).days
        return [phase.starts_on + timedelta(days=n) for n in range(0, days + 1, 7)]
    if phase.cadence == Cadence.MONTHLY:
        found: list[date] = []
        year, month = phase.starts_on.year, phase.starts_on.month
        while True:
            day = min(phase.starts_on.day, calendar.monthrange(year, month)[1])
            slot = date(year, month, day)
            if slot > phase.ends_on:
                return found
            found.append(slot)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return []


def _at_ten(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(MEETING_HOUR), tzinfo=zone).astimezone(UTC)


def plan_phase(project: Project, by: User) -> list[Meeting]:
    """Create the planned meetings of the project's current phase that do not exist yet (no permission check).

    From the later of today and the phase's start to its end: a kickoff if the project has
    none (cadence "as needed"), a weekly analysis meeting every 7 days, or a monthly action
    meeting on the phase's first day of month (clamped to the month's end). Meetings whose
    10:00 has passed are not planned. Idempotent.
    """
    phase = CohortPhase.objects.filter(cohort_id=project.cohort_id, key=project.phase).first()
    if phase is None or phase.cadence not in PLANNED_KIND:
        return []
    zone = city_zone(project.city)
    now = django_timezone.now()
    kind = PLANNED_KIND[phase.cadence]
    existing = Meeting.objects.filter(project=project, kind=kind)
    if phase.cadence == Cadence.AS_NEEDED:
        if existing.exists():
            return []
        today = django_timezone.localtime(now, zone).date()
        first = max(today, phase.starts_on)
        slot = first if _at_ten(first, zone) > now else first + timedelta(days=1)
        wanted = [slot] if slot <= phase.ends_on else []
    else:
        taken = {django_timezone.localtime(m, zone).date() for m in existing.values_list("starts_at", flat=True)}
        wanted = [d for d in _slots(phase) if d not in taken and _at_ten(d, zone) > now]
    if not wanted:
        return []
    with transaction.atomic():
        made = [
            Meeting.objects.create(project=project, kind=kind, phase=project.phase, starts_at=_at_ten(day, zone))
            for day in wanted
        ]
        audit.record("meeting.planned", actor=by, city=project.city, obj=project, phase=project.phase, count=len(made))
    return made


def plan_meetings(actor: User, city: str, project_id: int) -> list[Meeting]:
    """Plan the current phase's meetings (``project.edit``); see :func:`plan_phase`."""
    project = get_project(actor, city, project_id)
    require(actor, project.city, "project.edit", obj=project)
    return plan_phase(project, actor)


def _text(name: str, value: Any, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(name, "must be text")
    text = value.strip()
    if required and not text:
        raise FieldError(name, "is required")
    if "\x00" in text:
        raise FieldError(name, "holds a NUL character")
    if len(text) > limit:
        raise FieldError(name, f"is longer than {limit} characters")
    return text


def _minutes(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MINUTES:
        raise FieldError("minutes", f"a meeting lasts 1 to {MAX_MINUTES} minutes")
    return value


def _when(value: object, zone: tzinfo) -> datetime:
    if not isinstance(value, datetime):
        raise FieldError("starts_at", "give a date and time, e.g. 2026-05-20 10:00")
    if django_timezone.is_naive(value):
        value = value.replace(tzinfo=zone)  # a wall-clock time in the city
    if not 2000 <= value.year <= 2100:
        raise FieldError("starts_at", "is not a date between 2000 and 2100")
    return value.astimezone(UTC)


def schedule(
    actor: User,
    city: str,
    project_id: int,
    *,
    kind: str = Meeting.Kind.AS_NEEDED,
    starts_at: datetime,
    minutes: int = 60,
    goal: str = "",
) -> Meeting:
    """An extra meeting (``project.edit``). A time without a zone is the city's wall-clock time."""
    project = get_project(actor, city, project_id)
    require(actor, project.city, "project.edit", obj=project)
    if kind not in Meeting.Kind.values:
        raise FieldError("kind", f"{kind!r} is not one of {', '.join(Meeting.Kind.values)}")
    when = _when(starts_at, city_zone(project.city))
    length = _minutes(minutes)
    text = _text("goal", goal, TEXT_FIELDS["goal"])
    with transaction.atomic():
        meeting = Meeting.objects.create(
            project=project, kind=kind, phase=project.phase, starts_at=when, minutes=length, goal=text
        )
        audit.record("meeting.scheduled", actor=actor, city=project.city, obj=meeting, project=project.pk, kind=kind)
    return meeting


# --- recording -----------------------------------------------------------------------------------------------


def _attendees(project: Project, usernames: Any, guests: Any) -> list[MeetingAttendee]:
    if not isinstance(usernames, list | tuple) or not all(isinstance(u, str) for u in usernames):
        raise FieldError("attendees", "list the usernames of the team members who attended")
    if not isinstance(guests, list | tuple):
        raise FieldError("guests", "list each guest as a name and a role")
    if len(usernames) + len(guests) > MAX_ATTENDEES:
        raise FieldError("attendees", f"at most {MAX_ATTENDEES} attendees")
    places: dict[str, list[ProjectMember]] = defaultdict(list)
    for place in ProjectMember.objects.filter(project=project).select_related("user"):
        places[place.user.username].append(place)
    rows: list[MeetingAttendee] = []
    for username in dict.fromkeys(u.strip() for u in usernames if u.strip()):
        if username not in places:
            raise FieldError("attendees", f"{username} is not on the project's team (add guests by name)")
        person = places[username][0].user
        role = ", ".join(str(p.get_role_display()) for p in places[username])
        rows.append(MeetingAttendee(user=person, name=person.get_full_name() or person.username, role=role))
    for guest in guests:
        if not isinstance(guest, list | tuple) or len(guest) != 2:
            raise FieldError("guests", "list each guest as a name and a role")
        name = _text("guests", guest[0], 200, required=True)
        role = _text("guests", guest[1], 200, required=True)
        rows.append(MeetingAttendee(user=None, name=name, role=role))
    return rows


def record(actor: User, city: str, project_id: int, meeting_id: int, **fields: Any) -> Meeting:
    """Record what happened (``project.edit``). Fields: ``status`` (planned | held | cancelled), the texts
    ``goal``, ``pre_read``, ``presented``, ``decisions``, ``data_requested``, ``risks``; ``usefulness`` (1-5 or
    None); ``attendees`` (usernames of team members: replaces the list) with ``guests`` ((name, role) pairs);
    ``starts_at`` and ``minutes`` to move it. Nothing is saved unless every field is right."""
    project = get_project(actor, city, project_id)
    meeting = _meeting(project, meeting_id)
    require(actor, project.city, "project.edit", obj=meeting)
    for name in fields:
        if name not in RECORD_FIELDS:
            raise FieldError(name, "is not a field of a meeting")
    changes: dict[str, Any] = {}
    for name, limit in TEXT_FIELDS.items():
        if name in fields:
            changes[name] = _text(name, fields[name], limit)
    if "starts_at" in fields:
        changes["starts_at"] = _when(fields["starts_at"], city_zone(project.city))
    if "minutes" in fields:
        changes["minutes"] = _minutes(fields["minutes"])
    if "usefulness" in fields:
        value = fields["usefulness"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5):
            raise FieldError("usefulness", "rate the meeting from 1 (not useful) to 5 (very useful)")
        changes["usefulness"] = value
    if "status" in fields:
        if fields["status"] not in Meeting.Status.values:
            raise FieldError("status", f"{fields['status']!r} is not one of {', '.join(Meeting.Status.values)}")
        changes["status"] = fields["status"]
    starts = changes.get("starts_at", meeting.starts_at)
    if changes.get("status", meeting.status) == Meeting.Status.HELD and starts > django_timezone.now():
        raise FieldError("status", "a meeting that has not started yet cannot be recorded as held")
    attendees = None
    if "attendees" in fields or "guests" in fields:
        attendees = _attendees(project, fields.get("attendees") or [], fields.get("guests") or [])
    with transaction.atomic():
        for name, value in changes.items():
            setattr(meeting, name, value)
        meeting.recorded_by = actor
        meeting.save()
        if attendees is not None:
            MeetingAttendee.objects.filter(meeting=meeting).delete()
            for row in attendees:
                row.meeting = meeting
            MeetingAttendee.objects.bulk_create(attendees)
        audit.record(
            "meeting.recorded", actor=actor, city=project.city, obj=meeting, project=project.pk,
            status=meeting.status, fields=",".join(sorted(fields)),
        )  # fmt: skip
    return meeting


def bless(actor: User, city: str, project_id: int, meeting_id: int) -> Meeting:
    """The coach's blessing to go on, given at a held meeting (``meeting.bless``; audited)."""
    project = get_project(actor, city, project_id)
    meeting = _meeting(project, meeting_id)
    require(actor, project.city, "meeting.bless", obj=meeting)
    if meeting.status != Meeting.Status.HELD:
        raise FieldError("status", "a blessing is given at a held meeting: record it as held first")
    if meeting.blessed:
        return meeting
    with transaction.atomic():
        meeting.blessed = True
        meeting.save(update_fields=["blessed"])
        audit.record("meeting.blessed", actor=actor, city=project.city, obj=meeting, project=project.pk)
    return meeting


# --- follow-ups ----------------------------------------------------------------------------------------------


def add_follow_up(
    actor: User, city: str, project_id: int, meeting_id: int, text: str, owner_username: str, due_on: date
) -> FollowUp:
    """A follow-up item from a meeting (``project.edit``): its owner is on the team or a member of the city."""
    project = get_project(actor, city, project_id)
    meeting = _meeting(project, meeting_id)
    require(actor, project.city, "project.edit", obj=meeting)
    body = _text("text", text, MAX_FOLLOW_UP, required=True)
    username = (owner_username or "").strip()
    owner = User.objects.filter(username=username, is_active=True).first() if username else None
    if owner is None or not (
        ProjectMember.objects.filter(project=project, user=owner).exists()
        or Membership.objects.filter(user=owner, city_id=project.city_id).exists()
    ):
        raise FieldError("owner", f"{username or 'nobody'} is not on the team nor a member of {project.city.name}")
    if not isinstance(due_on, date) or isinstance(due_on, datetime):
        raise FieldError("due_on", "give a date, e.g. 2026-05-20")
    held_on = django_timezone.localtime(meeting.starts_at, city_zone(project.city)).date()
    if due_on < held_on:
        raise FieldError("due_on", f"{due_on} is before the meeting ({held_on})")
    if due_on > held_on + timedelta(days=3 * 366):
        raise FieldError("due_on", f"{due_on} is more than three years after the meeting")
    with transaction.atomic():
        item = FollowUp.objects.create(project=project, meeting=meeting, text=body, owner=owner, due_on=due_on)
        audit.record("follow_up.added", actor=actor, city=project.city, obj=item, meeting=meeting.pk)
    return item


def set_follow_up_status(actor: User, city: str, project_id: int, follow_up_id: int, status: str) -> FollowUp:
    """Mark a follow-up done or dropped, or open it again (``project.edit``)."""
    project = get_project(actor, city, project_id)
    item = _follow_up(project, follow_up_id)
    require(actor, project.city, "project.edit", obj=item)
    if status not in FollowUp.Status.values:
        raise FieldError("status", f"{status!r} is not one of {', '.join(FollowUp.Status.values)}")
    if item.status == status:
        return item
    with transaction.atomic():
        before = item.status
        item.status = status
        item.closed_at = None if status == FollowUp.Status.OPEN else django_timezone.now()
        item.save(update_fields=["status", "closed_at"])
        audit.record("follow_up.status_changed", actor=actor, city=project.city, obj=item, before=before, after=status)
    return item


# --- the calendar feed ---------------------------------------------------------------------------------------


def ics_feed(actor: User, city: str, project_id: int) -> bytes:
    """The project's planned and held meetings as an iCalendar file (RFC 5545): no personal data in it."""
    project = get_project(actor, city, project_id)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//ridp//Resident Impact Data Project//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", project.title)
    stamp = django_timezone.now().astimezone(UTC)
    for meeting in Meeting.objects.filter(project=project).order_by("starts_at", "id"):
        event = icalendar.Event()
        event.add("uid", f"meeting-{meeting.pk}@ridp")
        event.add("dtstamp", stamp)
        event.add("dtstart", meeting.starts_at.astimezone(UTC))
        event.add("duration", timedelta(minutes=meeting.minutes))
        event.add("summary", f"{project.title}: {meeting.get_kind_display()}")
        event.add("status", "CANCELLED" if meeting.status == Meeting.Status.CANCELLED else "CONFIRMED")
        cal.add_component(event)
    return bytes(cal.to_ical())


# --- reminders -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderCounts:
    """What one run of :func:`send_reminders` did."""

    follow_ups: int  # follow-ups reminded
    meetings: int  # meetings reminded
    mails: int  # e-mails sent
    failed: int  # e-mails that could not be sent (their items are reminded on the next run)


@dataclass
class _Inbox:
    user: User
    follow_ups: list[FollowUp] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)


def _local(meeting: Meeting) -> str:
    return django_timezone.localtime(meeting.starts_at, city_zone(meeting.project.city)).strftime("%Y-%m-%d %H:%M %Z")


def send_reminders(today: date | None = None) -> ReminderCounts:
    """E-mail reminders through the configured mail backend (no actor: the daily run and ``ridp meeting remind``).

    Each owner of an open follow-up due within two days or overdue gets one reminder per
    item per day (``FollowUp.reminded_on``); each team member of a planned meeting
    starting within two days is reminded once (``Meeting.reminded_at``). One e-mail per
    person per run. Audited as counts only.
    """
    now = django_timezone.now()
    today = today or django_timezone.localdate()
    start = max(now, datetime.combine(today, time(0), tzinfo=UTC))
    follow_ups = list(
        FollowUp.objects.filter(status=FollowUp.Status.OPEN, due_on__lte=today + timedelta(days=REMIND_DAYS))
        .filter(Q(reminded_on__isnull=True) | Q(reminded_on__lt=today))
        .select_related("owner", "project", "project__city", "meeting")
        .order_by("due_on", "id")
    )
    meetings = list(
        Meeting.objects.filter(
            status=Meeting.Status.PLANNED,
            reminded_at__isnull=True,
            starts_at__gte=start,
            starts_at__lt=start + timedelta(days=REMIND_DAYS),
        )
        .select_related("project", "project__city")
        .order_by("starts_at", "id")
    )
    inboxes: dict[int, _Inbox] = {}
    for item in follow_ups:
        if item.owner.is_active and item.owner.email:
            inboxes.setdefault(item.owner_id, _Inbox(item.owner)).follow_ups.append(item)
    team: dict[int, set[int]] = defaultdict(set)
    for place in ProjectMember.objects.filter(project_id__in={m.project_id for m in meetings}).select_related("user"):
        if place.user.is_active and place.user.email:
            team[place.project_id].add(place.user_id)
            inboxes.setdefault(place.user_id, _Inbox(place.user))
    for meeting in meetings:
        for user_id in sorted(team[meeting.project_id]):
            inboxes[user_id].meetings.append(meeting)
    sent = failed = 0
    reminded: list[int] = []
    unsent_meetings: set[int] = set()
    for inbox in inboxes.values():
        if not inbox.follow_ups and not inbox.meetings:
            continue
        context = {
            "user": inbox.user,
            "today": today,
            "follow_ups": [
                {
                    "item": f,
                    "overdue": f.due_on < today,
                    "path": f"/c/{f.project.city.slug}/projects/{f.project_id}/meetings/{f.meeting_id}/",
                }
                for f in inbox.follow_ups
            ],
            "meetings": [
                {
                    "meeting": m,
                    "when": _local(m),
                    "path": f"/c/{m.project.city.slug}/projects/{m.project_id}/meetings/{m.pk}/",
                }
                for m in inbox.meetings
            ],
        }
        subject = _("ridp: your follow-ups and meetings of the next %(days)d days") % {"days": REMIND_DAYS}
        body = render_to_string("ridp/mail/reminder.txt", context)
        try:
            send_mail(subject, body, None, [inbox.user.email], fail_silently=False)
        except Exception as exc:  # the mail server's failure must not stop the others' reminders
            failed += 1
            unsent_meetings.update(m.pk for m in inbox.meetings)
            log.warning("reminder mail to user %s failed: %s", inbox.user.pk, type(exc).__name__)
            continue
        sent += 1
        reminded.extend(f.pk for f in inbox.follow_ups)
    done_meetings = [m.pk for m in meetings if m.pk not in unsent_meetings]
    with transaction.atomic():
        FollowUp.objects.filter(pk__in=reminded).update(reminded_on=today)
        Meeting.objects.filter(pk__in=done_meetings).update(reminded_at=now)
        if sent or failed:
            audit.record(
                "meeting.reminders_sent", actor=None, follow_ups=len(reminded), meetings=len(done_meetings),
                mails=sent, failed=failed,
            )  # fmt: skip
    return ReminderCounts(follow_ups=len(reminded), meetings=len(done_meetings), mails=sent, failed=failed)
