"""A project's team, meetings, follow-ups, comments and calendar feed (PROGRAM.md §2, §8).

Times: ``starts_at`` with an offset is that instant; without one it is the
city's wall-clock time. Answers give times in UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone as django_timezone
from ninja import Router, Schema, Status
from ninja.params import P, QueryEx
from pydantic import BeforeValidator, Field, StrictInt, StrictStr

from ridp.web.api.people import acting
from ridp.web.api.schemas import MAX_ID, NO_NUL, READ, WRITE, CityPath, IdPath, Input, Name, Text, answers
from ridp.workspace import comments, meetings, project_team
from ridp.workspace.models import Comment, FollowUp, Meeting
from ridp.workspace.projects import get_project

router = Router(tags=["meetings"])

BASE = "/cities/{city}/projects/{project_id}"
Username = Annotated[StrictStr, Field(min_length=1, max_length=150, pattern=NO_NUL)]
TeamRole = Literal["senior_leader", "data_analyst", "subject_matter_expert", "coach", "programme_analyst"]
Kind = Literal["kickoff", "weekly_analysis", "monthly_action", "as_needed"]
FollowUpStatus = Literal["open", "done", "dropped"]
Body = Annotated[StrictStr, Field(min_length=1, max_length=5000, pattern=NO_NUL)]


def _text_only(value: object) -> object:
    """A time is an ISO 8601 string, never a number."""
    if not isinstance(value, str | datetime):
        raise ValueError("give a date and time as text, e.g. 2026-05-20T10:00:00-05:00")
    return value


When = Annotated[datetime, BeforeValidator(_text_only)]


# ---- schemas ----------------------------------------------------------------------------------------------------


class TeamMemberOut(Schema):
    id: int
    username: str
    name: str
    role: str
    counts: bool  # False: they no longer hold this role in the city


class TeamStatusOut(Schema):
    valid: bool
    problems: list[str]
    members: list[TeamMemberOut]


class TeamMemberIn(Input):
    username: Username
    role: TeamRole


class MeetingOut(Schema):
    id: int
    kind: str
    phase: str
    starts_at: datetime
    minutes: int
    status: str
    goal: str
    pre_read: str
    presented: str
    decisions: str
    blessed: bool
    data_requested: str
    risks: str
    usefulness: int | None
    recorded_by: str | None


class AttendeeOut(Schema):
    username: str | None  # None for a guest
    name: str
    role: str


class FollowUpOut(Schema):
    id: int
    meeting_id: int
    text: str
    owner: str
    due_on: date
    status: str
    closed_at: datetime | None
    overdue: bool


class MeetingDetail(MeetingOut):
    attendees: list[AttendeeOut]
    carried_follow_ups: list[FollowUpOut]  # from earlier meetings, open at this meeting's time
    follow_ups: list[FollowUpOut]  # raised at this meeting


class MeetingsOut(Schema):
    cadence: str
    cadence_kept: bool
    missed: int
    late: bool
    last_held_id: int | None
    next_planned_id: int | None
    meetings: list[MeetingOut]


class MeetingIn(Input):
    kind: Kind = "as_needed"
    starts_at: When
    minutes: StrictInt = Field(default=60, ge=1, le=meetings.MAX_MINUTES)
    goal: Text = ""


class GuestIn(Input):
    name: Name
    role: Annotated[StrictStr, Field(min_length=1, max_length=200, pattern=NO_NUL)]


class RecordIn(Input):
    """Fields to record; those left out keep their value. ``attendees`` (usernames of team members) and ``guests``
    together replace the attendance when either is given."""

    status: Literal["planned", "held", "cancelled"] | None = None
    starts_at: When | None = None
    minutes: StrictInt | None = Field(default=None, ge=1, le=meetings.MAX_MINUTES)
    goal: Text | None = None
    pre_read: Text | None = None
    presented: Text | None = None
    decisions: Text | None = None
    data_requested: Text | None = None
    risks: Text | None = None
    usefulness: StrictInt | None = Field(default=None, ge=1, le=5)
    attendees: list[Username] | None = Field(default=None, max_length=meetings.MAX_ATTENDEES)
    guests: list[GuestIn] | None = Field(default=None, max_length=meetings.MAX_ATTENDEES)


class FollowUpIn(Input):
    text: Annotated[StrictStr, Field(min_length=1, max_length=meetings.MAX_FOLLOW_UP, pattern=NO_NUL)]
    owner: Username
    due_on: date


class FollowUpPatch(Input):
    status: FollowUpStatus


class CommentOut(Schema):
    id: int
    target: str
    target_id: int | None
    author: str
    body: str
    created_at: datetime


class CommentIn(Input):
    target: Literal["charter", "meeting", "finding"]
    target_id: StrictInt | None = Field(default=None, ge=1, le=MAX_ID)
    body: Body


def _meeting(m: Meeting) -> MeetingOut:
    return MeetingOut(
        id=m.pk, kind=m.kind, phase=m.phase, starts_at=m.starts_at, minutes=m.minutes, status=m.status, goal=m.goal,
        pre_read=m.pre_read, presented=m.presented, decisions=m.decisions, blessed=m.blessed,
        data_requested=m.data_requested, risks=m.risks, usefulness=m.usefulness,
        recorded_by=m.recorded_by.username if m.recorded_by else None,
    )  # fmt: skip


def _follow_up(f: FollowUp, today: date) -> FollowUpOut:
    return FollowUpOut(
        id=f.pk, meeting_id=f.meeting_id, text=f.text, owner=f.owner.username, due_on=f.due_on, status=f.status,
        closed_at=f.closed_at, overdue=f.status == FollowUp.Status.OPEN and f.due_on < today,
    )  # fmt: skip


def _team(places: list[project_team.TeamMember]) -> list[TeamMemberOut]:
    return [TeamMemberOut(id=p.id, username=p.username, name=p.name, role=p.role, counts=p.counts) for p in places]


def _today() -> date:
    return django_timezone.localdate()


# ---- the team ---------------------------------------------------------------------------------------------------


@router.get(
    BASE + "/team",
    response=answers({200: list[TeamMemberOut]}, *READ),
    operation_id="list_project_members",
    summary="The project's team",
)
def team_list(request: HttpRequest, city: CityPath, project_id: IdPath) -> list[TeamMemberOut]:
    return _team(project_team.members(acting(request), city, project_id))


@router.get(
    BASE + "/team/status",
    response=answers({200: TeamStatusOut}, *READ),
    operation_id="get_team_status",
    summary="Whether the team is valid, and each problem",
)
def team_status(request: HttpRequest, city: CityPath, project_id: IdPath) -> TeamStatusOut:
    project = get_project(acting(request), city, project_id)
    problems = project_team.team_problems(project)
    return TeamStatusOut(valid=not problems, problems=problems, members=_team(project_team.places(project)))


@router.post(
    BASE + "/team",
    response=answers({201: TeamMemberOut}, *WRITE),
    operation_id="add_project_member",
    summary="Put someone on the team in a role they hold in the city",
)
def team_add(request: HttpRequest, city: CityPath, project_id: IdPath, payload: TeamMemberIn) -> Status[TeamMemberOut]:
    member = project_team.add_member(acting(request), city, project_id, payload.username, payload.role)
    place = next(p for p in project_team.places(member.project) if p.id == member.pk)
    return Status(201, _team([place])[0])


@router.delete(
    BASE + "/team/{member_id}",
    response=answers({204: None}, *WRITE),
    operation_id="remove_project_member",
    summary="Take a place off the team",
)
def team_remove(request: HttpRequest, city: CityPath, project_id: IdPath, member_id: IdPath) -> Status[None]:
    project_team.remove_member(acting(request), city, project_id, member_id)
    return Status(204, None)


# ---- meetings ---------------------------------------------------------------------------------------------------


@router.get(
    BASE + "/meetings",
    response=answers({200: MeetingsOut}, *READ),
    operation_id="list_meetings",
    summary="The project's meetings and whether the cadence is kept",
)
def meeting_list(request: HttpRequest, city: CityPath, project_id: IdPath) -> MeetingsOut:
    user = acting(request)
    project = get_project(user, city, project_id)
    status = meetings.cadence_status(project, _today())
    every = Meeting.objects.filter(project=project).select_related("recorded_by").order_by("starts_at", "id")
    return MeetingsOut(
        cadence=status.cadence, cadence_kept=status.kept, missed=status.missed, late=status.late,
        last_held_id=status.last_held.pk if status.last_held else None,
        next_planned_id=status.next_planned.pk if status.next_planned else None,
        meetings=[_meeting(m) for m in every],
    )  # fmt: skip


@router.post(
    BASE + "/meetings/plan",
    response=answers({200: list[MeetingOut]}, *WRITE),
    operation_id="plan_meetings",
    summary="Plan the current phase's meetings from its cadence (only those missing)",
)
def meeting_plan(request: HttpRequest, city: CityPath, project_id: IdPath) -> list[MeetingOut]:
    return [_meeting(m) for m in meetings.plan_meetings(acting(request), city, project_id)]


@router.post(
    BASE + "/meetings",
    response=answers({201: MeetingOut}, *WRITE),
    operation_id="create_meeting",
    summary="Schedule an extra meeting",
)
def meeting_create(request: HttpRequest, city: CityPath, project_id: IdPath, payload: MeetingIn) -> Status[MeetingOut]:
    meeting = meetings.schedule(acting(request), city, project_id, **payload.model_dump())
    return Status(201, _meeting(meeting))


def _detail(meeting: Meeting) -> MeetingDetail:
    today = _today()
    items = meetings.follow_ups_at(meeting)
    attendees = [
        AttendeeOut(username=a.user.username if a.user else None, name=a.name, role=a.role)
        for a in meeting.attendees.select_related("user").order_by("name", "id")
    ]
    return MeetingDetail(
        **_meeting(meeting).model_dump(), attendees=attendees,
        carried_follow_ups=[_follow_up(f, today) for f in items.carried],
        follow_ups=[_follow_up(f, today) for f in items.new],
    )  # fmt: skip


@router.get(
    BASE + "/meetings/{meeting_id}",
    response=answers({200: MeetingDetail}, *READ),
    operation_id="get_meeting",
    summary="One meeting: its record, attendees, carried and new follow-ups",
)
def meeting_get(request: HttpRequest, city: CityPath, project_id: IdPath, meeting_id: IdPath) -> MeetingDetail:
    return _detail(meetings.get_meeting(acting(request), city, project_id, meeting_id))


@router.patch(
    BASE + "/meetings/{meeting_id}",
    response=answers({200: MeetingDetail}, *WRITE),
    operation_id="record_meeting",
    summary="Record what happened at a meeting",
)
def meeting_record(
    request: HttpRequest, city: CityPath, project_id: IdPath, meeting_id: IdPath, payload: RecordIn
) -> MeetingDetail:
    values = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if k not in ("attendees", "guests")}
    if "attendees" in payload.model_fields_set or "guests" in payload.model_fields_set:
        values["attendees"] = payload.attendees or []
        values["guests"] = [(g.name, g.role) for g in payload.guests or []]
    meeting = meetings.record(acting(request), city, project_id, meeting_id, **values)
    return _detail(meeting)


@router.post(
    BASE + "/meetings/{meeting_id}/bless",
    response=answers({200: MeetingOut}, *WRITE),
    operation_id="bless_meeting",
    summary="The coach's blessing to go on, at a held meeting",
)
def meeting_bless(request: HttpRequest, city: CityPath, project_id: IdPath, meeting_id: IdPath) -> MeetingOut:
    return _meeting(meetings.bless(acting(request), city, project_id, meeting_id))


# ---- follow-ups -------------------------------------------------------------------------------------------------


@router.get(
    BASE + "/follow-ups",
    response=answers({200: list[FollowUpOut]}, *READ),
    operation_id="list_follow_ups",
    summary="The project's follow-ups by due date",
)
def follow_up_list(
    request: HttpRequest,
    city: CityPath,
    project_id: IdPath,
    status: QueryEx[FollowUpStatus | None, P(default=None, description="Only those with this status")] = None,
) -> list[FollowUpOut]:
    today = _today()
    return [_follow_up(f, today) for f in meetings.list_follow_ups(acting(request), city, project_id, status=status)]


@router.post(
    BASE + "/meetings/{meeting_id}/follow-ups",
    response=answers({201: FollowUpOut}, *WRITE),
    operation_id="create_follow_up",
    summary="A follow-up item from a meeting",
)
def follow_up_create(
    request: HttpRequest, city: CityPath, project_id: IdPath, meeting_id: IdPath, payload: FollowUpIn
) -> Status[FollowUpOut]:
    item = meetings.add_follow_up(
        acting(request), city, project_id, meeting_id, payload.text, payload.owner, payload.due_on
    )
    return Status(201, _follow_up(item, _today()))


@router.patch(
    BASE + "/follow-ups/{follow_up_id}",
    response=answers({200: FollowUpOut}, *WRITE),
    operation_id="update_follow_up",
    summary="Mark a follow-up done or dropped, or open it again",
)
def follow_up_update(
    request: HttpRequest, city: CityPath, project_id: IdPath, follow_up_id: IdPath, payload: FollowUpPatch
) -> FollowUpOut:
    item = meetings.set_follow_up_status(acting(request), city, project_id, follow_up_id, payload.status)
    return _follow_up(item, _today())


# ---- comments ---------------------------------------------------------------------------------------------------


def _comment(c: Comment) -> CommentOut:
    return CommentOut(
        id=c.pk, target=c.target, target_id=c.target_id, author=c.author.username, body=c.body, created_at=c.created_at
    )


@router.get(
    BASE + "/comments",
    response=answers({200: list[CommentOut]}, *READ),
    operation_id="list_comments",
    summary="Comments on the charter, or on one meeting",
)
def comment_list(
    request: HttpRequest,
    city: CityPath,
    project_id: IdPath,
    target: QueryEx[Literal["charter", "meeting"], P(default="charter", description="charter or meeting")] = "charter",
    target_id: QueryEx[int | None, P(default=None, ge=1, le=MAX_ID, description="The meeting's id")] = None,
) -> list[CommentOut]:
    return [_comment(c) for c in comments.comments_for(acting(request), city, project_id, target, target_id)]


@router.post(
    BASE + "/comments",
    response=answers({201: CommentOut}, *WRITE),
    operation_id="create_comment",
    summary="Comment on the charter or a meeting",
)
def comment_create(request: HttpRequest, city: CityPath, project_id: IdPath, payload: CommentIn) -> Status[CommentOut]:
    comment = comments.add_comment(acting(request), city, project_id, payload.target, payload.target_id, payload.body)
    return Status(201, _comment(comment))


# ---- the calendar feed ------------------------------------------------------------------------------------------


@router.get(
    BASE + "/calendar.ics",
    response=answers({}, *READ),
    operation_id="get_project_calendar",
    summary="The project's meetings as an iCalendar feed",
    openapi_extra={
        "responses": {
            200: {
                "description": "An iCalendar file (RFC 5545), one event per meeting",
                "content": {"text/calendar": {"schema": {"type": "string"}}},
            }
        }
    },
)
def calendar_get(request: HttpRequest, city: CityPath, project_id: IdPath) -> HttpResponse:
    data = meetings.ics_feed(acting(request), city, project_id)
    response = HttpResponse(data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="project-{project_id}.ics"'
    return response
