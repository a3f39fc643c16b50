"""A project's team: 3 to 5 city members with the required roles, plus the assigned coach and programme analyst.

PROGRAM.md §2: a team has 3-5 city members (distinct people) and includes a
senior leader, a data analyst and a subject-matter expert; a coach and a
programme analyst are assigned. Someone joins a team in one of the roles they
hold *in the project's city* (viewers never do). A member whose role in the city
was later removed stays listed but no longer counts, and :func:`team_problems`
says so.

Examples
--------
``add_member(sam, "springfield", 7, "ana", "data_analyst")``;
``team_problems(project)`` -> ``[]`` for a valid team, else one sentence per problem.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from ridp.errors import FieldError, NotFoundError
from ridp.workspace import audit
from ridp.workspace.access import require
from ridp.workspace.models import Membership, Project, ProjectMember, Role, User
from ridp.workspace.projects import get_project

__all__ = [
    "CITY_TEAM_ROLES",
    "MAX_CITY_MEMBERS",
    "MIN_CITY_MEMBERS",
    "PROGRAMME_TEAM_ROLES",
    "TEAM_ROLES",
    "Candidate",
    "TeamMember",
    "add_member",
    "candidates",
    "members",
    "people_of",
    "places",
    "remove_member",
    "team_problems",
]

#: The city roles a team is made of, and the programme roles assigned to it.
CITY_TEAM_ROLES: tuple[str, ...] = (Role.SENIOR_LEADER, Role.DATA_ANALYST, Role.SUBJECT_MATTER_EXPERT)
PROGRAMME_TEAM_ROLES: tuple[str, ...] = (Role.COACH, Role.PROGRAMME_ANALYST)
TEAM_ROLES: tuple[str, ...] = CITY_TEAM_ROLES + PROGRAMME_TEAM_ROLES
MIN_CITY_MEMBERS = 3
MAX_CITY_MEMBERS = 5


@dataclass(frozen=True)
class TeamMember:
    """One place on a team: who, in which role, and whether it counts (they still hold that role in the city)."""

    id: int
    user_id: int
    username: str
    name: str
    role: str
    role_label: str
    counts: bool


def _role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


def places(project: Project) -> list[TeamMember]:
    """The team's places, with whether each still counts: two queries."""
    rows = list(
        ProjectMember.objects.filter(project=project).select_related("user").order_by("role", "user__username", "id")
    )
    held = set(
        Membership.objects.filter(city_id=project.city_id, user_id__in=[r.user_id for r in rows]).values_list(
            "user_id", "role"
        )
    )
    return [
        TeamMember(
            id=r.pk,
            user_id=r.user_id,
            username=r.user.username,
            name=r.user.get_full_name() or r.user.username,
            role=r.role,
            role_label=_role_label(r.role),
            counts=bool(r.user.is_active) and (r.user_id, r.role) in held,
        )
        for r in rows
    ]


def team_problems(project: Project) -> list[str]:
    """What makes the team invalid, one sentence each (empty: the team is valid). No permission check."""
    team = places(project)
    counting = [p for p in team if p.counts]
    problems: list[str] = []
    lapsed = sorted({p.username for p in team if not p.counts})
    for username in lapsed:
        problems.append(
            _("%(user)s no longer holds their team role in the city and does not count") % {"user": username}
        )
    city_people = {p.user_id for p in counting if p.role in CITY_TEAM_ROLES}
    count = len(city_people)
    if count < MIN_CITY_MEMBERS or count > MAX_CITY_MEMBERS:
        problems.append(
            _("%(count)d city members: a team has %(low)d to %(high)d")
            % {"count": count, "low": MIN_CITY_MEMBERS, "high": MAX_CITY_MEMBERS}
        )
    roles = {p.role for p in counting}
    missing = {
        Role.SENIOR_LEADER: _("no senior leader on the team"),
        Role.DATA_ANALYST: _("no data analyst on the team"),
        Role.SUBJECT_MATTER_EXPERT: _("no subject-matter expert on the team"),
        Role.COACH: _("no coach assigned to the team"),
        Role.PROGRAMME_ANALYST: _("no programme analyst assigned to the team"),
    }
    problems.extend(str(text) for role, text in missing.items() if role not in roles)
    return problems


@dataclass(frozen=True)
class Candidate:
    """Someone who may join the team: a person holding team roles in the project's city."""

    username: str
    name: str
    roles: tuple[str, ...]


def candidates(project: Project) -> list[Candidate]:
    """The city's active people holding a team role there (one query; callers read the project first)."""
    found: dict[str, tuple[str, list[str]]] = {}
    rows = (
        Membership.objects.filter(city_id=project.city_id, role__in=TEAM_ROLES, user__is_active=True)
        .select_related("user")
        .order_by("user__username", "role")
    )
    for m in rows:
        found.setdefault(m.user.username, (m.user.get_full_name() or m.user.username, []))[1].append(m.role)
    return [Candidate(username=u, name=n, roles=tuple(r)) for u, (n, r) in found.items()]


def people_of(project: Project) -> list[tuple[str, str]]:
    """(username, name) of everyone on the team or with a role in the city: who may own a follow-up."""
    users = (
        User.objects.filter(is_active=True)
        .filter(models.Q(project_memberships__project=project) | models.Q(memberships__city_id=project.city_id))
        .distinct()
        .order_by("username")
    )
    return [(u.username, u.get_full_name() or u.username) for u in users]


def members(actor: User, city: str, project_id: int) -> list[TeamMember]:
    """The project's team (anyone who can see the project)."""
    project = get_project(actor, city, project_id)
    return places(project)


def add_member(actor: User, city: str, project_id: int, username: str, role: str) -> ProjectMember:
    """Put ``username`` on the team in ``role``, a role they hold in the project's city (``project.team``)."""
    project = get_project(actor, city, project_id)
    require(actor, project.city, "project.team", obj=project)
    if role not in TEAM_ROLES:
        raise FieldError(
            "role", _("%(role)r is not a team role: one of %(roles)s") % {"role": role, "roles": ", ".join(TEAM_ROLES)}
        )
    username = (username or "").strip()
    if not username:
        raise FieldError("username", _("name the person to add"))
    person = User.objects.filter(username=username, is_active=True).first()
    holds = person is not None and Membership.objects.filter(user=person, city_id=project.city_id, role=role).exists()
    if person is None or not holds:
        # The same answer whether the person exists or not: names of other cities' people stay unknown.
        raise FieldError(
            "username",
            _("%(user)s is not a %(role)s of %(city)s")
            % {"user": username, "role": _role_label(role), "city": project.city.name},
        )
    if ProjectMember.objects.filter(project=project, user=person, role=role).exists():
        raise FieldError(
            "username", _("%(user)s is on the team as %(role)s already") % {"user": username, "role": _role_label(role)}
        )
    try:
        with transaction.atomic():
            member = ProjectMember.objects.create(project=project, user=person, role=role)
            audit.record(
                "project.member_added", actor=actor, city=project.city, obj=project, member=member.pk, role=role
            )
    except IntegrityError:  # a second request added the same place meanwhile
        raise FieldError(
            "username", _("%(user)s is on the team as %(role)s already") % {"user": username, "role": _role_label(role)}
        ) from None
    return member


def remove_member(actor: User, city: str, project_id: int, member_id: int) -> None:
    """Take a place off the team (``project.team``)."""
    project = get_project(actor, city, project_id)
    member = ProjectMember.objects.filter(project=project, pk=member_id).first()
    if member is None:
        raise NotFoundError(f"no team member {member_id} on project {project.pk}")
    require(actor, project.city, "project.team", obj=project)
    with transaction.atomic():
        role = member.role
        member.delete()
        audit.record("project.member_removed", actor=actor, city=project.city, obj=project, member=member_id, role=role)
