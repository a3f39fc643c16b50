"""Who may do what, per city: the one table every view, API operation, export and task consults.

SECURITY.md's role table, as data. A person's roles in a city are read from the
store on every call, so removing someone from a city (or disabling them) takes
effect on their very next request. Another city's objects are *not found*, never
*forbidden*: :func:`city_for` raises :class:`~ridp.errors.NotFoundError` so ids
reveal nothing; a permitted city with an action the role lacks raises
:class:`~ridp.errors.PermissionDeniedError` and writes an audit entry.

Examples
--------
``city = city_for(ana, "springfield"); require(ana, city, "dataset.upload")``
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Final, Literal

from ridp.errors import NotFoundError, PermissionDeniedError
from ridp.workspace import audit
from ridp.workspace.models import City, Membership, Role, User

__all__ = [
    "ACTIONS",
    "ROLE_ACTIONS",
    "Action",
    "actions_in",
    "allowed",
    "city_for",
    "city_roles",
    "is_programme_admin",
    "needs_two_factor",
    "require",
    "visible_cities",
]

Action = Literal[
    "city.read",  # see the city, its catalog and agreements (summaries, no rows)
    "rows.read",  # row-level data: previews, samples, analyses
    "dataset.inventory",  # keep the inventory record
    "dataset.upload",  # add versions
    "dataset.map",  # map columns to the canonical schema
    "dataset.classify",  # confirm or change column classes
    "agreement.manage",  # draft, review, sign, activate, terminate; documents
    "team.manage",  # invite and remove the city's own members
    "project.start",  # start a project: the intake
    "project.edit",  # edit the charter, record meetings and follow-ups
    "project.team",  # choose a project's team
    "charter.sign",  # record sign-offs of the charter
    "scoping.rate",  # rate the five criteria, value and complexity
    "scoping.decide",  # accept, accept with risks, or off-ramp
    "comment",  # comment on charters, findings and meetings
    "meeting.bless",  # give a meeting's "blessing" to go on
    "phase.advance",  # move a project to its next phase when its gate passes
    "gate.override",  # move it on although the gate is blocked, with a written reason
    "cohort.view",  # the coach's cohort view, for the cities assigned
    "metric.edit",  # add or change a project's metric specs, choose its success metric
    "pilot.design",  # pilots: power, randomise and assign units
    "plan.freeze",  # write, freeze and deviate from a pilot's analysis plan
    "pilot.evaluate",  # link outcome data, estimate the effect, reanalyse
    "adoption.decide",  # record the adoption decision: scale, adapt or stop, with the reason and the estimate
]
ACTIONS: Final[tuple[Action, ...]] = (
    "city.read",
    "rows.read",
    "dataset.inventory",
    "dataset.upload",
    "dataset.map",
    "dataset.classify",
    "agreement.manage",
    "team.manage",
    "project.start",
    "project.edit",
    "project.team",
    "charter.sign",
    "scoping.rate",
    "scoping.decide",
    "comment",
    "meeting.bless",
    "phase.advance",
    "gate.override",
    "cohort.view",
    "metric.edit",
    "pilot.design",
    "plan.freeze",
    "pilot.evaluate",
    "adoption.decide",
)

#: SECURITY.md "Who may do what", for a city's own people and the programme people assigned to it.
#: Meetings are the team's with the coach and the programme analyst: all of them record them.
ROLE_ACTIONS: Final[dict[str, frozenset[Action]]] = {
    Role.COACH: frozenset(
        {
            "city.read",
            "rows.read",
            "project.edit",
            "scoping.rate",
            "scoping.decide",
            "comment",
            "meeting.bless",
            "phase.advance",
            "gate.override",
            "cohort.view",
            "metric.edit",
        }
    ),
    Role.PROGRAMME_ANALYST: frozenset(
        {"city.read", "rows.read", "project.edit", "scoping.rate", "comment", "cohort.view", "metric.edit"}
    ),
    Role.SENIOR_LEADER: frozenset(
        {
            "city.read",
            "rows.read",
            "dataset.inventory",
            "agreement.manage",
            "team.manage",
            "project.start",
            "project.edit",
            "project.team",
            "charter.sign",
            "scoping.rate",
            "comment",
            "phase.advance",
            "metric.edit",
            "adoption.decide",
        }
    ),
    Role.DATA_ANALYST: frozenset(
        {
            "city.read",
            "rows.read",
            "dataset.inventory",
            "dataset.upload",
            "dataset.map",
            "dataset.classify",
            "project.edit",
            "comment",
            "metric.edit",
            "pilot.design",
            "plan.freeze",
            "pilot.evaluate",
        }
    ),
    Role.SUBJECT_MATTER_EXPERT: frozenset({"city.read", "rows.read", "project.edit", "comment", "metric.edit"}),
    Role.VIEWER: frozenset({"city.read"}),
}


#: Within one web request, a person's roles are read once (see :func:`one_reading`); elsewhere on every call.
_READ: ContextVar[dict[tuple[object, ...], object] | None] = ContextVar("ridp_roles_read", default=None)


@contextmanager
def one_reading() -> Iterator[None]:
    """Read each person's roles at most once inside this block (one web request), not on every check.

    A change to any membership inside the block forgets what was read (see ``forget``), so a request
    that removes a role sees the removal at once; the next request reads afresh anyway.
    """
    token = _READ.set({})
    try:
        yield
    finally:
        _READ.reset(token)


def forget() -> None:
    """Forget the roles read in this request (a membership changed)."""
    read = _READ.get()
    if read is not None:
        read.clear()


def is_programme_admin(user: User) -> bool:
    """Programme admins hold every action in every city."""
    if not user.is_active:
        return False
    read = _READ.get()
    key = ("admin", user.pk)
    if read is not None and key in read:
        return bool(read[key])
    found = user.memberships.filter(role=Role.PROGRAMME_ADMIN).exists()
    if read is not None:
        read[key] = found
    return found


def city_roles(user: User, city: City) -> set[str]:
    """The roles ``user`` holds in ``city`` now (read from the store on every call, once per web request)."""
    if not user.is_active:
        return set()
    read = _READ.get()
    key = ("roles", user.pk, city.pk)
    cached = read.get(key) if read is not None else None
    if isinstance(cached, frozenset):
        return set(cached)
    roles = set(Membership.objects.filter(user=user, city=city).values_list("role", flat=True))
    if read is not None:
        read[key] = frozenset(roles)
    return roles


def actions_in(user: User, city: City) -> frozenset[Action]:
    """Everything ``user`` may do in ``city``, read from the store once."""
    if is_programme_admin(user):
        return frozenset(ACTIONS)
    return frozenset().union(*(ROLE_ACTIONS.get(role, frozenset()) for role in city_roles(user, city)))


def allowed(user: User, city: City, action: Action) -> bool:
    """Whether ``user`` may do ``action`` in ``city``."""
    return action in actions_in(user, city)


def visible_cities(user: User) -> list[City]:
    """The cities a person may see: all for programme admins, else those they belong or are assigned to."""
    if not user.is_active:
        return []
    if is_programme_admin(user):
        return list(City.objects.order_by("name"))
    return list(City.objects.filter(memberships__user=user).distinct().order_by("name"))


def city_for(user: User, slug: str) -> City:
    """The city with this slug if ``user`` may see it; otherwise not found (never 'forbidden')."""
    city = City.objects.filter(slug=slug).first()
    if city is not None and not allowed(user, city, "city.read"):
        # An attempt on a city that is not theirs: audited, and answered exactly like a missing one.
        audit.record("permission.denied", actor=user if user.pk else None, city=city, action_tried="city.read")
    if city is None or not allowed(user, city, "city.read"):
        raise NotFoundError(f"no city {slug!r}", hint="the cities you can see are listed on your home page")
    return city


def require(user: User, city: City, action: Action, *, obj: object = None) -> None:
    """Raise (and audit the denial) unless ``user`` may do ``action`` in ``city``."""
    if allowed(user, city, action):
        return
    audit.record("permission.denied", actor=user, city=city, obj=obj, action_tried=action)
    raise PermissionDeniedError(_DENIED.get(action, "your role in this city does not allow this"))


_DENIED: Final[dict[str, str]] = {
    "rows.read": "viewers see summaries, not rows",
    "dataset.inventory": "only the city's senior leaders and data analysts keep the inventory",
    "dataset.upload": "only the city's data analysts (and programme admins) upload data",
    "dataset.map": "only the city's data analysts (and programme admins) can map columns",
    "dataset.classify": "only the city's data analysts (and programme admins) can confirm classifications",
    "agreement.manage": "only the city's senior leaders (and programme admins) manage agreements",
    "team.manage": "only the city's senior leaders (and programme admins) manage its team",
    "project.start": "only the city's senior leaders (and programme admins) start a project",
    "project.edit": "only the project's city team, coach and programme analyst edit it",
    "project.team": "only the city's senior leaders (and programme admins) choose a project's team",
    "charter.sign": "only the city's senior leaders (and programme admins) record sign-offs",
    "scoping.rate": "only senior leaders, coaches and programme analysts rate the criteria",
    "scoping.decide": "only the coach (or a programme admin) decides on a project",
    "comment": "viewers read; they do not comment",
    "meeting.bless": "only the coach (or a programme admin) gives the blessing to go on",
    "phase.advance": "only the city's senior leaders and the coach move a project on",
    "gate.override": "only a coach or a programme admin can override a gate",
    "pilot.design": "only the city's data analysts (and programme admins) design pilots",
    "plan.freeze": "only the city's data analysts (and programme admins) write and freeze analysis plans",
    "pilot.evaluate": "only the city's data analysts (and programme admins) evaluate pilots",
    "adoption.decide": "only the city's senior leaders (and programme admins) record the adoption decision",
    "cohort.view": "the cohort view is for coaches, programme analysts and programme admins",
    "metric.edit": "only the project's city team, coach and programme analyst define its metrics",
}


def needs_two_factor(user: User) -> bool:
    """Two factors are required of everyone whose roles can reach personal values.

    That is every role that reads rows anywhere (an agreement may name any of
    them); a viewer, who never sees rows, may log in with a password alone.
    """
    if is_programme_admin(user):
        return True
    roles = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    return any("rows.read" in ROLE_ACTIONS.get(role, frozenset()) for role in roles)
