"""A project's team, meetings, follow-ups, comments and calendar feed (PROGRAM.md §2, §8).

Thin views over :mod:`ridp.workspace.project_team`, :mod:`ridp.workspace.meetings`
and :mod:`ridp.workspace.comments`: every read goes through the city-scoped
project, every change through a workspace function that checks the permission
and writes the audit entry. Views check the permission too, before reading a
form, so a refused request is refused whatever it sends.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone as django_timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ridp.errors import FieldError
from ridp.web.forms_agreements import show_error
from ridp.web.forms_meetings import (
    CommentForm,
    FollowUpForm,
    FollowUpStatusForm,
    MeetingForm,
    RecordForm,
    TeamAddForm,
)
from ridp.web.views.projects import project_context
from ridp.workspace import comments, meetings, project_team
from ridp.workspace.access import allowed, require
from ridp.workspace.models import Cadence, Comment, Meeting, Project, User
from ridp.workspace.projects import get_project

__all__ = ["comments_context", "panel", "urlpatterns"]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _role_names(roles: tuple[str, ...]) -> str:
    from ridp.web.forms_meetings import ROLE_LABELS

    return ", ".join(str(ROLE_LABELS.get(r, r)) for r in roles)


# ---- the team ----------------------------------------------------------------------------------------------------


def _team_page(
    request: HttpRequest, project: Project, form: TeamAddForm | None = None, *, error: str = "", status: int = 200
) -> HttpResponse:
    user = _user(request)
    context = project_context(user, project, "team")
    places = project_team.places(project)
    problems = project_team.team_problems(project)
    if context["can"].get("project_team"):
        people = [(c.username, f"{c.name} ({_role_names(c.roles)})") for c in project_team.candidates(project)]
        context["form"] = form or TeamAddForm(people=people)
    context |= {
        "members": places,
        "problems": problems,
        "city_members": sum(1 for p in places if p.counts and p.role in project_team.CITY_TEAM_ROLES),
        "error": error,
    }
    return render(request, "ridp/meetings/team.html", context, status=status)


@login_required
@require_GET
def team_page(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    return _team_page(request, get_project(_user(request), city, project_id))


@login_required
@require_POST
def team_add(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "project.team", obj=project)
    people = [(c.username, c.username) for c in project_team.candidates(project)]
    form = TeamAddForm(request.POST, people=people)
    if form.is_valid():
        try:
            project_team.add_member(user, city, project_id, form.cleaned_data["username"], form.cleaned_data["role"])
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("%(user)s is on the team.") % {"user": form.cleaned_data["username"]})
            return redirect("project_team", city=city, project_id=project_id)
    return _team_page(request, project, form, status=400)


@login_required
@require_POST
def team_remove(request: HttpRequest, city: str, project_id: int, member_id: int) -> HttpResponse:
    project_team.remove_member(_user(request), city, project_id, member_id)
    messages.success(request, _("The place on the team is removed."))
    return redirect("project_team", city=city, project_id=project_id)


# ---- meetings ----------------------------------------------------------------------------------------------------


def _local_input(meeting: Meeting, project: Project) -> str:
    """The meeting's start as the city's wall-clock time, for a ``datetime-local`` input."""
    zone = meetings.city_zone(project.city)
    return django_timezone.localtime(meeting.starts_at, zone).strftime("%Y-%m-%dT%H:%M")


@login_required
@require_GET
def meetings_page(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    now = django_timezone.now()
    today = django_timezone.localdate()
    every = meetings.list_meetings(user, city, project_id)
    cadence = meetings.cadence_status(project, today)
    context = project_context(user, project, "meetings") | {
        "upcoming": [m for m in every if m.starts_at >= now and m.status == Meeting.Status.PLANNED],
        "past": list(reversed([m for m in every if not (m.starts_at >= now and m.status == Meeting.Status.PLANNED)])),
        "cadence": cadence,
        "cadence_label": Cadence(cadence.cadence).label if cadence.cadence in Cadence.values else cadence.cadence,
        "overdue": meetings.overdue_follow_ups(project, today),
        "open_follow_ups": meetings.open_follow_ups(project),
        "zone": meetings.city_zone(project.city),
        "now_utc": now,
    }
    return render(request, "ridp/meetings/meetings.html", context)


@login_required
@require_POST
def meetings_plan(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    made = meetings.plan_meetings(_user(request), city, project_id)
    if made:
        messages.success(request, _("%(count)d meetings planned.") % {"count": len(made)})
    else:
        messages.info(request, _("Nothing to plan: the phase's meetings are planned already."))
    return redirect("meetings", city=city, project_id=project_id)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "project.edit", obj=project)
    form = MeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = meetings.schedule(user, city, project_id, **form.cleaned_data)
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("The meeting is scheduled."))
            return redirect("meeting", city=city, project_id=project_id, meeting_id=meeting.pk)
    context = project_context(user, project, "meetings") | {"form": form, "zone": meetings.city_zone(project.city)}
    return render(request, "ridp/meetings/new.html", context, status=400 if request.method == "POST" else 200)


def _meeting_page(
    request: HttpRequest,
    project: Project,
    meeting: Meeting,
    *,
    follow_up_form: FollowUpForm | None = None,
    comment_form: CommentForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    context = project_context(user, project, "meetings")
    items = meetings.follow_ups_at(meeting)
    if context["can"].get("project_edit"):
        context["follow_up_form"] = follow_up_form or FollowUpForm(people=project_team.people_of(project))
    context |= {
        "meeting": meeting,
        "attendees": list(meeting.attendees.order_by("name", "id")),
        "carried": items.carried,
        "new_follow_ups": items.new,
        "zone": meetings.city_zone(project.city),
        "today": django_timezone.localdate(),
        "now_utc": django_timezone.now(),
        "error": error,
        "can_bless": bool(context["can"].get("meeting_bless"))
        and meeting.status == Meeting.Status.HELD
        and not meeting.blessed,
    }
    context |= comments_context(user, project, Comment.Target.MEETING, meeting.pk, form=comment_form)
    return render(request, "ridp/meetings/meeting.html", context, status=status)


@login_required
@require_GET
def meeting_page(request: HttpRequest, city: str, project_id: int, meeting_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    return _meeting_page(request, project, meetings.get_meeting(user, city, project_id, meeting_id))


@login_required
@require_http_methods(["GET", "POST"])
def meeting_record(request: HttpRequest, city: str, project_id: int, meeting_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    meeting = meetings.get_meeting(user, city, project_id, meeting_id)
    require(user, project.city, "project.edit", obj=meeting)
    places = project_team.places(project)
    roles: dict[str, list[str]] = {}
    for place in places:
        roles.setdefault(place.username, [place.name]).append(place.role)
    team = [(u, f"{r[0]} ({_role_names(tuple(r[1:]))})") for u, r in roles.items()]
    attended = [a.user.username for a in meeting.attendees.select_related("user") if a.user is not None]
    guests = "\n".join(f"{a.name}, {a.role}" for a in meeting.attendees.filter(user__isnull=True).order_by("id"))
    initial = {
        "status": meeting.status,
        "starts_at": _local_input(meeting, project),
        "minutes": meeting.minutes,
        "attendees": attended,
        "guests": guests,
        "usefulness": meeting.usefulness or "",
        **{name: getattr(meeting, name) for name in meetings.TEXT_FIELDS},
    }
    form = RecordForm(request.POST or None, initial=initial, team=team)
    if request.method == "POST" and form.is_valid():
        try:
            meetings.record(user, city, project_id, meeting_id, **form.cleaned_data)
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("The meeting is recorded."))
            return redirect("meeting", city=city, project_id=project_id, meeting_id=meeting_id)
    context = project_context(user, project, "meetings") | {
        "meeting": meeting,
        "form": form,
        "zone": meetings.city_zone(project.city),
    }
    return render(request, "ridp/meetings/record.html", context, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def meeting_bless(request: HttpRequest, city: str, project_id: int, meeting_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    try:
        meetings.bless(user, city, project_id, meeting_id)
    except FieldError as exc:
        meeting = meetings.get_meeting(user, city, project_id, meeting_id)
        return _meeting_page(request, project, meeting, error=exc.reason, status=400)
    messages.success(request, _("The blessing to go on is recorded."))
    return redirect("meeting", city=city, project_id=project_id, meeting_id=meeting_id)


@login_required
@require_POST
def follow_up_add(request: HttpRequest, city: str, project_id: int, meeting_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    meeting = meetings.get_meeting(user, city, project_id, meeting_id)
    require(user, project.city, "project.edit", obj=meeting)
    form = FollowUpForm(request.POST, people=project_team.people_of(project))
    if form.is_valid():
        data = form.cleaned_data
        try:
            meetings.add_follow_up(user, city, project_id, meeting_id, data["text"], data["owner"], data["due_on"])
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("The follow-up is added."))
            return redirect("meeting", city=city, project_id=project_id, meeting_id=meeting_id)
    return _meeting_page(request, project, meeting, follow_up_form=form, status=400)


@login_required
@require_POST
def follow_up_status(request: HttpRequest, city: str, project_id: int, follow_up_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    item = meetings.get_follow_up(user, city, project_id, follow_up_id)
    require(user, project.city, "project.edit", obj=item)
    form = FollowUpStatusForm(request.POST)
    if form.is_valid():
        meetings.set_follow_up_status(user, city, project_id, follow_up_id, form.cleaned_data["status"])
        messages.success(request, _("The follow-up is marked %(status)s.") % {"status": item.get_status_display()})
        target = request.POST.get("next", "")
        if target == "meetings":
            return redirect("meetings", city=city, project_id=project_id)
        return redirect("meeting", city=city, project_id=project_id, meeting_id=item.meeting_id)
    error = _("Choose open, done or dropped.")
    return _meeting_page(request, project, item.meeting, error=error, status=400)


# ---- comments ----------------------------------------------------------------------------------------------------


def comments_context(
    user: User, project: Project, target: str, target_id: int | None, *, form: CommentForm | None = None
) -> dict[str, Any]:
    """What the comments block (ridp/projects/_comments.html) needs, under the key ``comments_block``.

    The charter page: ``context |= comments_context(user, project, "charter", None)`` and
    ``{% include "ridp/projects/_comments.html" %}``.
    """
    can_comment = allowed(user, project.city, "comment")
    block: dict[str, Any] = {
        "project": project,
        "comments": comments.comments_for(user, project.city.slug, project.pk, target, target_id),
        "can_comment": can_comment,
        "target": target,
        "target_id": target_id,
    }
    if can_comment:
        block["form"] = form or CommentForm(initial={"target": target, "target_id": target_id})
    return {"comments_block": block}


@login_required
@require_POST
def comment_add(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "comment", obj=project)
    form = CommentForm(request.POST)
    if form.is_valid():
        target, target_id = form.cleaned_data["target"], form.cleaned_data["target_id"]
        try:
            comments.add_comment(user, city, project_id, target, target_id, form.cleaned_data["body"])
        except FieldError as exc:
            show_error(form, exc, aliases={"target_id": "body", "target": "body"})
        else:
            messages.success(request, _("Your comment is added."))
            if target == Comment.Target.MEETING:
                return redirect("meeting", city=city, project_id=project_id, meeting_id=target_id)
            return redirect("charter", city=city, project_id=project_id)
    meeting_id = form.cleaned_data.get("target_id") if form.cleaned_data.get("target") == "meeting" else None
    meeting = Meeting.objects.filter(project=project, pk=meeting_id).first() if meeting_id else None
    if meeting is not None:
        return _meeting_page(request, project, meeting, comment_form=form, status=400)
    context = project_context(user, project, "overview") | {"comment_form": form}
    return render(request, "ridp/meetings/comment.html", context, status=400)


# ---- the calendar feed -------------------------------------------------------------------------------------------


@login_required
@require_GET
def project_calendar(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    data = meetings.ics_feed(_user(request), city, project_id)
    response = HttpResponse(data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="project-{project_id}.ics"'
    return response


# ---- the overview's panels ---------------------------------------------------------------------------------------


def panel(user: User, project: Project) -> list[tuple[str, dict[str, Any]]]:
    """The overview's summaries: whether the team is valid; the next meeting, the cadence and overdue follow-ups."""
    today = django_timezone.localdate()
    team_panel = {"project": project, "problems": project_team.team_problems(project)}
    meetings_panel = {
        "project": project,
        "cadence": meetings.cadence_status(project, today),
        "overdue": meetings.overdue_follow_ups(project, today),
        "zone": meetings.city_zone(project.city),
    }
    return [("ridp/meetings/_panel_team.html", team_panel), ("ridp/meetings/_panel_meetings.html", meetings_panel)]


urlpatterns: list[URLPattern] = [
    path("team/", team_page, name="project_team"),
    path("team/add/", team_add, name="project_team_add"),
    path("team/<int:member_id>/remove/", team_remove, name="project_team_remove"),
    path("meetings/", meetings_page, name="meetings"),
    path("meetings/plan/", meetings_plan, name="meetings_plan"),
    path("meetings/new/", meeting_new, name="meeting_new"),
    path("meetings/<int:meeting_id>/", meeting_page, name="meeting"),
    path("meetings/<int:meeting_id>/record/", meeting_record, name="meeting_record"),
    path("meetings/<int:meeting_id>/bless/", meeting_bless, name="meeting_bless"),
    path("meetings/<int:meeting_id>/follow-ups/", follow_up_add, name="follow_up_add"),
    path("follow-ups/<int:follow_up_id>/status/", follow_up_status, name="follow_up_status"),
    path("comments/", comment_add, name="comment_add"),
    path("calendar.ics", project_calendar, name="project_calendar"),
]
