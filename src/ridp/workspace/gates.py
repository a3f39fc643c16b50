"""Phase gates (PROGRAM.md §9): a registry of named conditions, the gate out of each phase, advancing and overriding.

The gate out of a phase is a list of condition *names*, read from ``programme.yaml``
(:func:`ridp.workspace.cohorts.gate_conditions`); each name is looked up in the
registry below. A condition is a function ``(project) -> ConditionResult`` that says
whether it is met and, when it is not, exactly what is missing, one line each.

Conditions that later issues will implement are registered as *not available*: they
block with "not available until <feature>" until that issue replaces them
(``@condition(name, label, replace=True)``) with a real check and its test.

A project moves on with :func:`advance` (``phase.advance``) only when its gate passes;
a coach or programme admin may :func:`override` a blocked gate with a written reason
(``gate.override``), kept on the :class:`~ridp.workspace.models.PhaseChange`; the audit
entry carries the gate, the ids and counts, never the reason's text.

Examples
--------
``evaluate(sam, "springfield", 7).missing`` -> ``["Charter signed: the champion has not signed version 2", ...]``;
``advance(sam, "springfield", 7)`` once it passes; ``override(coach, "springfield", 7, reason="...")`` when not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from django.db import transaction
from django.utils import timezone as django_timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ridp.errors import FieldError, WorkspaceError
from ridp.workspace import audit, charter, cohorts, project_team
from ridp.workspace.access import require
from ridp.workspace.agreements import covering
from ridp.workspace.meetings import plan_phase
from ridp.workspace.models import Agreement, CohortPhase, Dataset, PhaseChange, Project, User
from ridp.workspace.projects import get_project

__all__ = [
    "MIN_REASON",
    "REGISTRY",
    "Condition",
    "ConditionResult",
    "GateStatus",
    "advance",
    "batch",
    "condition",
    "evaluate",
    "gate_of",
    "history",
    "override",
    "unavailable",
]

#: The shortest written reason an override accepts (characters, after trimming).
MIN_REASON: Final = 20
MAX_REASON: Final = 5000


@dataclass(frozen=True)
class ConditionResult:
    """One condition of a gate, evaluated: ``missing`` says exactly what is missing (empty when met)."""

    name: str
    label: str
    met: bool
    missing: list[str]
    available: bool = True


@dataclass(frozen=True)
class Condition:
    """A registered condition: its name, what a person reads, and its check."""

    name: str
    label: str | Promise
    check: Callable[[Project], ConditionResult]
    available: bool


#: name -> condition. Filled by :func:`condition` and :func:`unavailable` below (and by later issues).
REGISTRY: dict[str, Condition] = {}


def condition(
    name: str, label: str | Promise, *, replace: bool = False
) -> Callable[[Callable[[Project], list[str]]], Callable[[Project], ConditionResult]]:
    """Register a condition: the decorated function returns what is missing (one line each; empty = met).

    The registered function is ``(project) -> ConditionResult``. A name is registered once;
    a later issue replaces a *not available* condition with ``replace=True``.
    """

    def register(missing_of: Callable[[Project], list[str]]) -> Callable[[Project], ConditionResult]:
        if name in REGISTRY and not replace:
            raise ValueError(f"gate condition {name!r} is registered already")

        def check(project: Project) -> ConditionResult:
            missing = [str(line) for line in missing_of(project)]
            return ConditionResult(name=name, label=str(label), met=not missing, missing=missing, available=True)

        check.__name__ = missing_of.__name__
        check.__doc__ = missing_of.__doc__
        REGISTRY[name] = Condition(name=name, label=label, check=check, available=True)
        return check

    return register


def unavailable(name: str, label: str | Promise, until: str | Promise) -> None:
    """Register a condition a later issue implements: it blocks with "not available until <until>"."""
    if name in REGISTRY:
        raise ValueError(f"gate condition {name!r} is registered already")

    def check(project: Project) -> ConditionResult:
        line = _("not available until %(feature)s") % {"feature": until}
        return ConditionResult(name=name, label=str(label), met=False, missing=[line], available=False)

    REGISTRY[name] = Condition(name=name, label=label, check=check, available=False)


# ---- a per-request memo: city-level answers computed once for many projects (the cohort view) -------------------

_MEMO: ContextVar[dict[Any, Any] | None] = ContextVar("ridp_gate_memo", default=None)


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Within this block, city-level conditions (agreements) are evaluated once per city."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _memoised(key: Any, compute: Callable[[], list[str]]) -> list[str]:
    memo = _MEMO.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return list(memo[key])


# ---- the conditions this issue implements -------------------------------------------------------------------------


@condition("charter_signed", gettext_lazy("Charter signed"))
def charter_signed(project: Project) -> list[str]:
    """The charter's latest version is signed by the team, the champion and leadership."""
    status = charter.signature_status(project)
    return [] if status.signed else [str(line) for line in status.missing]


@condition("team_valid", gettext_lazy("Team valid"))
def team_valid(project: Project) -> list[str]:
    """3-5 city members with a senior leader, a data analyst and a subject-matter expert; coach and analyst."""
    return [str(line) for line in project_team.team_problems(project)]


def _agreement_reason(agreement: Agreement, today: date) -> str:
    """Why one agreement does not cover its datasets today: not yet active, expired or terminated."""
    status = Agreement.Status
    values = {"id": agreement.pk, "title": agreement.title}
    if agreement.status == status.TERMINATED:
        return _("agreement %(id)d (%(title)s) was terminated on %(day)s") % {
            **values,
            "day": agreement.ended_on or agreement.expires_on,
        }
    if agreement.status == status.EXPIRED or agreement.expires_on <= today:
        return _("agreement %(id)d (%(title)s) expired on %(day)s") % {**values, "day": agreement.expires_on}
    if agreement.status == status.ACTIVE:  # active, but its start date is still ahead
        return _("agreement %(id)d (%(title)s) is not yet active: it starts on %(day)s") % {
            **values,
            "day": agreement.starts_on,
        }
    return _("agreement %(id)d (%(title)s) is not yet active: it is %(status)s") % {
        **values,
        "status": agreement.get_status_display(),
    }


def _agreement_gaps(city_id: int) -> list[str]:
    """One line per dataset of the city that needs an agreement and has no active one covering it today."""
    today = django_timezone.now().date()  # the day agreements.require_use judges by
    lines: list[str] = []
    for dataset in Dataset.objects.filter(city_id=city_id, needs_agreement=True).order_by("name", "id"):
        if covering(dataset):
            continue
        tried = list(Agreement.objects.filter(coverage__dataset=dataset).distinct().order_by("-id")[:3])
        if not tried:
            lines.append(_("%(dataset)s: no data-sharing agreement covers it") % {"dataset": dataset.name})
            continue
        reasons = "; ".join(_agreement_reason(a, today) for a in tried)
        lines.append(_("%(dataset)s: %(reasons)s") % {"dataset": dataset.name, "reasons": reasons})
    return lines


@condition("agreements_active", gettext_lazy("Every dataset that needs an agreement has an active one"))
def agreements_active(project: Project) -> list[str]:
    """Every dataset of the project's city marked ``needs_agreement`` has an active covering agreement today."""
    return _memoised(("agreements", project.city_id), lambda: _agreement_gaps(project.city_id))


@condition("readiness_not_insufficient", gettext_lazy("Data readiness verdict not “insufficient”"))
def readiness_not_insufficient(project: Project) -> list[str]:
    """Every dataset the project's metric specs read has a readiness run of its current version, judged
    against the metrics as they are now, whose verdict is not insufficient."""
    from ridp.workspace.readiness import project_gaps

    return project_gaps(project)


@condition("success_metric_set", gettext_lazy("Success metric with baseline and target"))
def success_metric_set(project: Project) -> list[str]:
    """The project names one of its metric specs as its success metric; that spec has a target (every spec
    has one) and a baseline computed by ridp from its source dataset (``ridp analyze baseline``)."""
    from ridp.workspace.analysis import baseline_gaps

    return baseline_gaps(project)


@condition("briefing_blessed", gettext_lazy("At least one findings briefing blessed"))
def briefing_blessed(project: Project) -> list[str]:
    """The coach has blessed at least one of the project's findings briefings."""
    from ridp.workspace.analysis import briefing_gaps

    return briefing_gaps(project)


@condition("plan_frozen_before_outcomes", gettext_lazy("Analysis plan frozen before outcome data"))
def plan_frozen_before_outcomes(project: Project) -> list[str]:
    """Every pilot of the project has its analysis plan frozen, and frozen before its outcome data arrived
    (the outcome dataset's first version); a project with no pilot has not met it."""
    from ridp.workspace.plans import plan_gaps

    return plan_gaps(project)


@condition("impact_estimate_recorded", gettext_lazy("Impact estimate recorded"))
def impact_estimate_recorded(project: Project) -> list[str]:
    """Every pilot of the project has an estimate recorded under its frozen plan (or a recorded deviation)."""
    from ridp.workspace.adoption import estimate_gaps

    return estimate_gaps(project)


@condition("adoption_decision_made", gettext_lazy("Adoption decision made"))
def adoption_decision_made(project: Project) -> list[str]:
    """The project has recorded scale, adapt or stop, with the reason and the estimate it rests on."""
    from ridp.workspace.adoption import decision_gaps

    return decision_gaps(project)


# ---- evaluating, advancing, overriding ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GateStatus:
    """The gate out of a project's current phase: each condition's result, whether it passes, all that is missing.

    ``to_phase`` is None in the last phase (there is no gate out of it, and nothing to pass).
    """

    project_id: int
    from_phase: str
    from_name: str
    to_phase: str | None
    to_name: str | None
    results: tuple[ConditionResult, ...]
    passed: bool
    missing: list[str]  # "label: line" for every unmet condition's every line

    @property
    def last(self) -> bool:
        return self.to_phase is None


def gate_of(project: Project, calendar: list[CohortPhase] | None = None) -> GateStatus:
    """Evaluate the gate out of ``project``'s current phase (no permission check: callers read the project first).

    ``calendar``: the cohort's phases in order, if the caller has them already.
    Raises :class:`~ridp.errors.WorkspaceError` if ``programme.yaml`` names a condition nobody registered.
    """
    ordered = calendar if calendar else cohorts.phases(project.cohort)
    index = next((i for i, p in enumerate(ordered) if p.key == project.phase), None)
    current_name = ordered[index].name if index is not None else project.phase
    following = ordered[index + 1] if index is not None and index + 1 < len(ordered) else None
    names = cohorts.gate_conditions(project.phase)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise WorkspaceError(
            f"programme.yaml: the gate out of {project.phase!r} names unknown conditions: {', '.join(unknown)}",
            hint=f"the known conditions are {', '.join(sorted(REGISTRY))}",
        )
    if following is None:
        return GateStatus(
            project_id=project.pk, from_phase=project.phase, from_name=current_name, to_phase=None, to_name=None,
            results=(), passed=False, missing=[],
        )  # fmt: skip
    results = tuple(REGISTRY[name].check(project) for name in names)
    missing = [f"{r.label}: {line}" for r in results if not r.met for line in r.missing]
    return GateStatus(
        project_id=project.pk, from_phase=project.phase, from_name=current_name, to_phase=following.key,
        to_name=following.name, results=results, passed=all(r.met for r in results), missing=missing,
    )  # fmt: skip


def evaluate(actor: User, city: str, project_id: int) -> GateStatus:
    """The gate out of the project's current phase, for anyone who can see the project."""
    return gate_of(get_project(actor, city, project_id))


def _not_off_ramped(project: Project) -> None:
    if project.decision == Project.Decision.OFF_RAMP:
        raise FieldError("decision", _("the project was off-ramped; it does not move on to another phase"))


def _move(project: Project, gate: GateStatus, actor: User, *, reason: str = "") -> PhaseChange:
    assert gate.to_phase is not None
    today = django_timezone.localdate()
    change = PhaseChange.objects.create(
        project=project, from_phase=gate.from_phase, to_phase=gate.to_phase,
        missing=[] if gate.passed else list(gate.missing), override_reason=reason, by=actor,
    )  # fmt: skip
    project.phase = gate.to_phase
    project.phase_since = today
    project.save(update_fields=["phase", "phase_since"])
    return change


def advance(actor: User, city: str, project_id: int) -> PhaseChange:
    """Move the project to its next phase when its gate passes (``phase.advance``); then plan that phase's meetings.

    A blocked gate is a :class:`~ridp.errors.FieldError` on ``gate`` listing everything missing.
    """
    project = get_project(actor, city, project_id)
    require(actor, project.city, "phase.advance", obj=project)
    _not_off_ramped(project)
    with transaction.atomic():
        project = Project.objects.select_for_update().select_related("city", "cohort").get(pk=project.pk)
        gate = gate_of(project)
        if gate.last:
            raise FieldError(
                "phase", _("%(phase)s is the last phase: there is none after it") % {"phase": gate.from_name}
            )
        if not gate.passed:
            raise FieldError(
                "gate",
                _("the gate out of %(phase)s is blocked: %(missing)s")
                % {"phase": gate.from_name, "missing": "; ".join(gate.missing)},
            )
        change = _move(project, gate, actor)
        audit.record(
            "gate.passed", actor=actor, city=project.city, obj=project, phase_change=change.pk,
            from_phase=gate.from_phase, to_phase=gate.to_phase,
        )  # fmt: skip
        plan_phase(project, by=actor)
    return change


def override(actor: User, city: str, project_id: int, reason: str) -> PhaseChange:
    """Move the project on although its gate is blocked (``gate.override``: coaches and programme admins).

    ``reason`` is a written reason of at least :data:`MIN_REASON` characters, kept on the phase change
    with what was missing; the audit entry ``gate.overridden`` names the gate and ids, and the reason's length.
    """
    project = get_project(actor, city, project_id)
    require(actor, project.city, "gate.override", obj=project)
    text = (reason or "").strip()
    if "\x00" in text:
        raise FieldError("reason", _("holds a NUL character"))
    if len(text) < MIN_REASON:
        raise FieldError(
            "reason", _("say why the gate is overridden, in at least %(n)d characters") % {"n": MIN_REASON}
        )
    if len(text) > MAX_REASON:
        raise FieldError("reason", _("is longer than %(n)d characters") % {"n": MAX_REASON})
    _not_off_ramped(project)
    with transaction.atomic():
        project = Project.objects.select_for_update().select_related("city", "cohort").get(pk=project.pk)
        gate = gate_of(project)
        if gate.last:
            raise FieldError(
                "phase", _("%(phase)s is the last phase: there is none after it") % {"phase": gate.from_name}
            )
        if gate.passed:
            raise FieldError("gate", _("the gate passes: move the project on without an override"))
        change = _move(project, gate, actor, reason=text)
        audit.record(
            "gate.overridden", actor=actor, city=project.city, obj=project, phase_change=change.pk,
            gate=gate.from_phase, from_phase=gate.from_phase, to_phase=gate.to_phase,
            unmet=",".join(r.name for r in gate.results if not r.met), missing_count=len(gate.missing),
            reason_length=len(text),
        )  # fmt: skip
        plan_phase(project, by=actor)
    return change


def history(project: Project) -> list[PhaseChange]:
    """The project's phase changes, oldest first (no permission check: callers read the project first)."""
    return list(PhaseChange.objects.filter(project=project).select_related("by").order_by("at", "id"))
