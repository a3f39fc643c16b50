"""Scoping a project (PROGRAM.md §3): the five criteria, value x complexity, and the decision.

Each criterion is rated 0 (not met), 1 (partly) or 2 (met) with written evidence, by
a rater on a date. Every rating is kept; the latest per criterion is the current one.
Criterion 3, "sufficient quality data", is filled from the data readiness verdict
(§5) once that exists; until then a rater records it by hand. The decision (accept,
accept with risks, off-ramp) can be taken only once all five criteria are rated.

Examples
--------
``rate(coach, "springfield", 7, "appetite", 2, "The mayor named it in the budget speech")``
``decide(coach, "springfield", 7, "accept_with_risks", "The repair log has gaps before 2021")``
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone as django_timezone
from django.utils.translation import gettext as _

from ridp.errors import FieldError
from ridp.workspace import audit
from ridp.workspace.access import require
from ridp.workspace.cohorts import CriterionSpec, criteria
from ridp.workspace.models import CriterionRating, Project, User
from ridp.workspace.projects import get_project

__all__ = [
    "DECISIONS",
    "LEVELS",
    "SCORES",
    "CriterionStatus",
    "current_ratings",
    "decide",
    "rate",
    "set_value_complexity",
]

SCORES: tuple[int, ...] = (0, 1, 2)
LEVELS: tuple[str, ...] = (Project.Level.LOW, Project.Level.HIGH)
DECISIONS: tuple[str, ...] = (
    Project.Decision.ACCEPT,
    Project.Decision.ACCEPT_WITH_RISKS,
    Project.Decision.OFF_RAMP,
)
MAX_TEXT = 5000


@dataclass(frozen=True)
class CriterionStatus:
    """One criterion with its current (latest) rating, or None, and the ratings before it (newest first)."""

    key: str
    name: str
    position: int  # 1..5
    rating: CriterionRating | None
    history: tuple[CriterionRating, ...]  # every rating, newest first (the current one included)

    @property
    def history_count(self) -> int:
        return len(self.history)


def _text(field: str, raw: Any, *, required: bool) -> str:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise FieldError(field, _("must be text"))
    text = raw.strip()
    if required and not text:
        raise FieldError(field, _("is required"))
    if "\x00" in text:
        raise FieldError(field, _("holds a NUL character"))
    if len(text) > MAX_TEXT:
        raise FieldError(field, _("is longer than %(n)d characters") % {"n": MAX_TEXT})
    return text


def _criterion(key: str) -> CriterionSpec:
    for spec in criteria():
        if spec.key == key:
            return spec
    raise FieldError("criterion", _("must be one of %(keys)s") % {"keys": ", ".join(c.key for c in criteria())})


def rate(
    actor: User,
    city: str,
    project_id: int,
    criterion: str,
    score: int,
    evidence: str,
    rated_on: date | None = None,
) -> CriterionRating:
    """Rate one of the five criteria 0 (not met), 1 (partly) or 2 (met), with written evidence; the actor rates."""
    project = get_project(actor, city, project_id)
    require(actor, project.city, "scoping.rate", obj=project)
    spec = _criterion(criterion)
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise FieldError("score", _("must be 0 (not met), 1 (partly) or 2 (met)"))
    text = _text("evidence", evidence, required=True)
    today = django_timezone.localdate()
    day = today if rated_on is None else rated_on
    if not isinstance(day, date):
        raise FieldError("rated_on", _("is not a date"))
    if day > today:
        raise FieldError("rated_on", _("%(day)s is in the future") % {"day": day.isoformat()})
    with transaction.atomic():
        rating = CriterionRating.objects.create(
            project=project, criterion=spec.key, score=score, evidence=text, rater=actor, rated_on=day
        )
        audit.record(
            "scoping.rated", actor=actor, city=project.city, obj=rating, project=project.pk, criterion=spec.key,
            score=score,
        )  # fmt: skip
    return rating


def current_ratings(project: Project) -> list[CriterionStatus]:
    """The five criteria in order, each with its latest rating (or None) and its history."""
    by_key: dict[str, list[CriterionRating]] = {}
    for rating in (
        CriterionRating.objects.filter(project=project).select_related("rater").order_by("-created_at", "-id")
    ):
        by_key.setdefault(rating.criterion, []).append(rating)
    out: list[CriterionStatus] = []
    for position, spec in enumerate(criteria(), start=1):
        history = tuple(by_key.get(spec.key, ()))
        out.append(
            CriterionStatus(
                key=spec.key, name=spec.name, position=position, rating=history[0] if history else None, history=history
            )
        )
    return out


def set_value_complexity(actor: User, city: str, project_id: int, value: str, complexity: str) -> Project:
    """Record the project's value (low/high) and complexity (low/high)."""
    project = get_project(actor, city, project_id)
    require(actor, project.city, "scoping.rate", obj=project)
    for field, level in (("value", value), ("complexity", complexity)):
        if level not in LEVELS:
            raise FieldError(field, _("must be low or high"))
    if (project.value, project.complexity) == (value, complexity):
        return project
    with transaction.atomic():
        project.value, project.complexity = value, complexity
        project.save(update_fields=["value", "complexity"])
        audit.record(
            "scoping.value_set", actor=actor, city=project.city, obj=project, value=value, complexity=complexity
        )
    return project


def decide(actor: User, city: str, project_id: int, decision: str, reason: str, other_help: str = "") -> Project:
    """Accept, accept with risks (``reason``: the risks), or off-ramp (``reason`` and the ``other_help`` offered).

    Refused until all five criteria are rated.
    """
    project = get_project(actor, city, project_id)
    require(actor, project.city, "scoping.decide", obj=project)
    if decision not in DECISIONS:
        raise FieldError("decision", _("must be accept, accept_with_risks or off_ramp"))
    unrated = [status for status in current_ratings(project) if status.rating is None]
    if unrated:
        raise FieldError(
            "decision",
            _("rate all five criteria first; not yet rated: %(names)s") % {"names": "; ".join(s.name for s in unrated)},
        )
    needs_reason = decision in (Project.Decision.ACCEPT_WITH_RISKS, Project.Decision.OFF_RAMP)
    why = _text("reason", reason, required=needs_reason)
    help_text = _text("other_help", other_help, required=decision == Project.Decision.OFF_RAMP)
    if help_text and decision != Project.Decision.OFF_RAMP:
        raise FieldError("other_help", _("only an off-ramp offers another kind of help"))
    with transaction.atomic():
        project.decision = decision
        project.decision_reason = why
        project.other_help = help_text
        project.decided_by = actor
        project.decided_at = django_timezone.now()
        project.save(update_fields=["decision", "decision_reason", "other_help", "decided_by", "decided_at"])
        audit.record("scoping.decided", actor=actor, city=project.city, obj=project, decision=decision)
    return project
