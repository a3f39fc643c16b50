"""The adoption decision: after its pilot, the city scales, adapts or stops the solution (PROGRAM.md §7).

The senior leader records the decision with the reason and the estimate it rests on (a recorded
:class:`~ridp.workspace.models.PilotEstimate` of one of the project's pilots). Decisions are kept in order; the
latest is the project's. Two conditions of the gate out of testing and action read them:

* "impact estimate recorded" (:func:`estimate_gaps`) — every pilot of the project has an estimate recorded
  under its frozen plan (or a recorded deviation of it);
* "adoption decision made" (:func:`decision_gaps`) — the project has a decision.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from ridp.errors import FieldError, NotFoundError
from ridp.evaluation.evaluate import Evaluation
from ridp.workspace import audit
from ridp.workspace.access import require
from ridp.workspace.models import AdoptionDecision, Pilot, PilotEstimate, Project, User
from ridp.workspace.plans import plan_of
from ridp.workspace.projects import get_project

__all__ = [
    "MAX_REASON",
    "decision_gaps",
    "decisions",
    "describe_decision",
    "estimate_gaps",
    "latest_decision",
    "record_decision",
]

MAX_REASON = 4000


def record_decision(actor: User, city: str, project_id: int, *, decision: str, reason: str,
                    estimate_id: int) -> AdoptionDecision:  # fmt: skip
    """Record ``decision`` (scale, adapt or stop) with its ``reason``, resting on recorded estimate ``estimate_id``."""
    project = get_project(actor, city, project_id)
    require(actor, project.city, "adoption.decide", obj=project)
    choices = [c.value for c in AdoptionDecision.Choice]
    if decision not in choices:
        raise FieldError("decision", f"{decision!r} is one of {', '.join(choices)}")
    if not isinstance(reason, str) or not reason.strip():
        raise FieldError("reason", "says why: the decision is kept with its reason")
    if len(reason) > MAX_REASON:
        raise FieldError("reason", f"is longer than {MAX_REASON} characters")
    estimate = (PilotEstimate.objects.filter(pk=estimate_id, pilot__project=project)
                .select_related("pilot").first())  # fmt: skip
    if estimate is None:
        raise NotFoundError(f"project {project_id} has no recorded estimate {estimate_id}")
    with transaction.atomic():
        made = AdoptionDecision.objects.create(project=project, estimate=estimate, decision=decision,
                                               reason=reason.strip(), decided_by=actor)  # fmt: skip
        audit.record("adoption.decided", actor=actor, city=project.city, obj=project, decision=decision,
                     estimate=estimate.pk, pilot=estimate.pilot.name)  # fmt: skip
    return made


def decisions(actor: User, city: str, project_id: int) -> list[AdoptionDecision]:
    """The project's decisions, latest first."""
    project = get_project(actor, city, project_id)
    return list(AdoptionDecision.objects.filter(project=project).select_related("estimate__pilot", "decided_by"))


def latest_decision(project: Project) -> AdoptionDecision | None:
    return AdoptionDecision.objects.filter(project=project).select_related("estimate__pilot", "decided_by").first()


def describe_decision(item: AdoptionDecision) -> str:
    """``Scale (decided by ana on 2026-11-27): <reason>. It rests on estimate 4 of pilot crews: <sentence>``."""
    result = Evaluation.from_dict(item.estimate.result)
    terms = result.residents[0]
    basis = terms.sentence if terms is not None else result.primary.summary().splitlines()[0]
    return (f"{item.decision.capitalize()} (decided by {item.decided_by.username} on {item.decided_at:%Y-%m-%d}): "
            f"{item.reason} It rests on estimate {item.estimate.pk} of pilot {item.estimate.pilot.name}: {basis}")  # fmt: skip


def estimate_gaps(project: Project) -> list[str]:
    """What stops "impact estimate recorded": per pilot, no estimate under its frozen plan."""
    pilots = list(Pilot.objects.filter(project=project).order_by("name", "id"))
    if not pilots:
        return [_("no pilot yet: a pilot's estimate is what the decision rests on")]
    lines: list[str] = []
    for pilot in pilots:
        record = plan_of(pilot)
        if record is None or record.frozen_at is None:
            lines.append(_("pilot %(pilot)s: no estimate can be recorded before its plan is frozen")
                         % {"pilot": pilot.name})  # fmt: skip
            continue
        allowed = {record.sha256, *record.deviations.values_list("sha256", flat=True)}
        if not PilotEstimate.objects.filter(pilot=pilot, plan_sha256__in=allowed).exists():
            lines.append(_("pilot %(pilot)s: no impact estimate recorded under its frozen plan (ridp evaluate run)")
                         % {"pilot": pilot.name})  # fmt: skip
    return lines


def decision_gaps(project: Project) -> list[str]:
    """What stops "adoption decision made": no decision recorded yet."""
    if latest_decision(project) is None:
        return [_("no adoption decision recorded: the senior leader records scale, adapt or stop, with the reason "
                  "and the estimate it rests on (ridp evaluate decide)")]  # fmt: skip
    return []
