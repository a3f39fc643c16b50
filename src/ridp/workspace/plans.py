"""A pilot's analysis plan, frozen before outcome data, and the estimates made under it.

The plan is a draft until it is frozen; then its text, SHA-256 and UTC time are fixed, and any change is a
:class:`~ridp.workspace.models.PlanDeviation` with its reason, never silent. Outcome analysis is refused until
the plan is frozen. The outcome data arrive in a catalogued dataset linked to the pilot: they arrived when its
first version was ingested, and a plan frozen after that is recorded as late (with the reason given) and the
testing-and-action gate shows it.

Examples
--------
``save_plan(ana, "demo", 1, "crew", EXAMPLE_PLAN)``; ``freeze_plan(ana, "demo", 1, "crew")``
``link_outcomes(ana, "demo", 1, "crew", "pilot_outcomes")``; ``evaluate_pilot(ana, "demo", 1, "crew")``
``reanalyse_estimate(lead, "demo", 1, "crew", estimate.pk)``
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone as django_timezone
from django.utils.translation import gettext as _

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError
from ridp.evaluation.evaluate import Evaluation, evaluate
from ridp.evaluation.plan import AnalysisPlan, changes, freeze
from ridp.evaluation.reanalysis import reanalyse
from ridp.workspace import audit
from ridp.workspace.access import require
from ridp.workspace.datasets import get_dataset, masked_columns, open_table
from ridp.workspace.models import Pilot, PilotEstimate, PlanDeviation, PlanRecord, Project, User
from ridp.workspace.pilots import get_pilot, latest_randomisation
from ridp.workspace.store import home

__all__ = [
    "current_plan",
    "deviate",
    "estimate_of",
    "evaluate_pilot",
    "freeze_plan",
    "get_estimate",
    "link_outcomes",
    "outcomes_arrived",
    "plan_gaps",
    "plan_of",
    "reanalyse_estimate",
    "save_plan",
]


def _plan_from(spec: Mapping[str, Any] | str, source: str | None = None) -> AnalysisPlan:
    return AnalysisPlan.from_yaml(spec, source=source) if isinstance(spec, str) else AnalysisPlan.from_dict(spec)


def plan_of(pilot: Pilot) -> PlanRecord | None:
    return PlanRecord.objects.filter(pilot=pilot).first()


def current_plan(record: PlanRecord) -> tuple[AnalysisPlan, str]:
    """The plan as it stands (the frozen one, or its latest recorded deviation) and its SHA-256."""
    last = record.deviations.order_by("-created_at", "-id").first()
    spec = record.spec if last is None else last.spec
    plan = AnalysisPlan.from_dict(spec)
    return plan, plan.sha256


def outcomes_arrived(pilot: Pilot) -> datetime | None:
    """When the pilot's outcome data arrived: its outcome dataset's first version's ingest time (None: not yet)."""
    if pilot.outcome_dataset_id is None:
        return None
    first = pilot.outcome_dataset.versions.order_by("created_at").values_list("created_at", flat=True).first()  # type: ignore[union-attr]
    return first


def save_plan(actor: User, city: str, project_id: int, pilot_name: str, spec: Mapping[str, Any] | str,
              *, source: str | None = None) -> PlanRecord:  # fmt: skip
    """Write (or rewrite) the pilot's draft plan from a mapping or YAML text; a frozen plan changes only by
    :func:`deviate`."""
    pilot = get_pilot(actor, city, project_id, pilot_name)
    require(actor, pilot.project.city, "plan.freeze", obj=pilot.project)
    plan = _plan_from(spec, source)
    existing = plan_of(pilot)
    if existing is not None and existing.frozen_at is not None:
        raise FieldError("plan", _("the plan was frozen on %(day)s: record a change as a deviation, with its reason")
                         % {"day": existing.frozen_at.isoformat(timespec="seconds")})  # fmt: skip
    with transaction.atomic():
        record, _created = PlanRecord.objects.update_or_create(
            pilot=pilot, defaults={"spec": plan.to_dict(), "updated_by": actor, "updated_at": django_timezone.now()}
        )
        audit.record("plan.saved", actor=actor, city=pilot.project.city, obj=pilot.project, pilot=pilot.name)
    return record


def freeze_plan(actor: User, city: str, project_id: int, pilot_name: str, *, late_reason: str = "") -> PlanRecord:
    """Freeze the draft: its SHA-256 and the UTC time are kept, and it no longer changes silently.

    After the outcome data arrived, freezing needs ``late_reason``; the plan is then marked late and the
    testing-and-action gate reports it.
    """
    pilot = get_pilot(actor, city, project_id, pilot_name)
    require(actor, pilot.project.city, "plan.freeze", obj=pilot.project)
    record = plan_of(pilot)
    if record is None:
        raise NotFoundError(f"pilot {pilot.name!r} has no plan yet: write one first (ridp plan save)")
    if record.frozen_at is not None:
        raise FieldError("plan", f"the plan was frozen already, on {record.frozen_at.isoformat(timespec='seconds')}")
    arrived = outcomes_arrived(pilot)
    if arrived is not None and not late_reason.strip():
        raise FieldError(
            "late_reason",
            f"the outcome data arrived on {arrived.isoformat(timespec='seconds')}: a plan frozen now is frozen after "
            "the outcomes could be seen; say why (it is recorded, and the gate shows it)",
        )
    frozen = freeze(AnalysisPlan.from_dict(record.spec))
    with transaction.atomic():
        record.sha256, record.frozen_at, record.frozen_by = frozen.sha256, frozen.frozen_at, actor
        record.late, record.late_reason = arrived is not None, late_reason.strip()
        record.save(update_fields=["sha256", "frozen_at", "frozen_by", "late", "late_reason"])
        audit.record("plan.frozen", actor=actor, city=pilot.project.city, obj=pilot.project, pilot=pilot.name,
                     sha256=frozen.sha256, late=record.late)  # fmt: skip
    return record


def deviate(actor: User, city: str, project_id: int, pilot_name: str, spec: Mapping[str, Any] | str, reason: str,
            *, source: str | None = None) -> PlanDeviation:  # fmt: skip
    """Record a change to the frozen plan: the fields that changed, the reason, and the plan as it becomes."""
    pilot = get_pilot(actor, city, project_id, pilot_name)
    require(actor, pilot.project.city, "plan.freeze", obj=pilot.project)
    record = plan_of(pilot)
    if record is None or record.frozen_at is None:
        raise FieldError("plan", "the plan is not frozen yet: change the draft instead (ridp plan save)")
    if not reason.strip():
        raise FieldError("reason", "a deviation needs its reason: it is shown beside every estimate made after it")
    before, _sha = current_plan(record)
    after = _plan_from(spec, source)
    changed = changes(before, after)
    if not changed:
        raise FieldError("plan", "nothing changed: the plan is the same as it stands")
    with transaction.atomic():
        item = PlanDeviation.objects.create(
            plan=record, reason=reason.strip(), spec=after.to_dict(), sha256=after.sha256, created_by=actor,
            changes=[{"field": c.field, "before": c.before, "after": c.after} for c in changed],
        )  # fmt: skip
        audit.record("plan.deviation", actor=actor, city=pilot.project.city, obj=pilot.project, pilot=pilot.name,
                     fields=", ".join(c.field for c in changed), sha256=after.sha256)  # fmt: skip
    return item


def link_outcomes(actor: User, city: str, project_id: int, pilot_name: str, dataset: str) -> Pilot:
    """Name the catalogued dataset the pilot's outcomes arrive in (one row per unit or per request)."""
    pilot = get_pilot(actor, city, project_id, pilot_name)
    require(actor, pilot.project.city, "pilot.evaluate", obj=pilot.project)
    found = get_dataset(actor, city, dataset)
    with transaction.atomic():
        pilot.outcome_dataset, pilot.outcomes_linked_at = found, django_timezone.now()
        pilot.save(update_fields=["outcome_dataset", "outcomes_linked_at"])
        audit.record("pilot.outcomes_linked", actor=actor, city=pilot.project.city, obj=pilot.project,
                     pilot=pilot.name, dataset=found.name)  # fmt: skip
    return pilot


def _compliance(pilot: Pilot, plan: AnalysisPlan, frame: Any) -> list[str]:
    """Where the outcome data's treatment disagrees with the confirmed randomisation (non-compliance)."""
    chosen = latest_randomisation(pilot)
    key = plan.cluster or plan.unit
    if chosen is None or key is None or key not in frame.columns:
        return []
    from ridp.workspace.pilots import assignment_of

    frame_arms = assignment_of(chosen).arms
    names = frame_arms["cluster"] if plan.cluster and frame_arms["cluster"].notna().all() else frame_arms["unit"]
    arms = {str(k): arm == "treatment" for k, arm in zip(names, frame_arms["arm"], strict=True)}
    treated_value = 1 if plan.treated is None else plan.treated
    seen = frame[[key, plan.treatment]].drop_duplicates()
    differ = sorted({str(k) for k, t in zip(seen[key], seen[plan.treatment], strict=True)
                     if str(k) in arms and (t == treated_value) != arms[str(k)]})  # fmt: skip
    lines = []
    if chosen.confirmed_at is None:
        lines.append(_("the randomisation was never confirmed by a second person"))
    if differ:
        lines.append(_("%(n)d %(what)s received another arm than assigned (e.g. %(ex)s): the estimate is of the "
                       "treatment received, not of the assignment") % {"n": len(differ), "what": key,
                                                                        "ex": ", ".join(differ[:5])})  # fmt: skip
    return lines


def evaluate_pilot(actor: User, city: str, project_id: int, pilot_name: str, *, version: int | None = None,
                   engine_url: str | None = None, seed: int = 0) -> PilotEstimate:  # fmt: skip
    """Estimate every outcome of the plan on the outcome data; refused until the plan is frozen."""
    pilot = get_pilot(actor, city, project_id, pilot_name)
    require(actor, pilot.project.city, "pilot.evaluate", obj=pilot.project)
    record = plan_of(pilot)
    if record is None or record.frozen_at is None:
        raise PermissionDeniedError(
            _("outcome analysis of pilot %(pilot)s is refused until its analysis plan is frozen")
            % {"pilot": pilot.name},
            hint="freeze the plan first: ridp plan freeze",
        )
    if pilot.outcome_dataset is None:
        raise FieldError("outcomes", f"pilot {pilot.name!r} has no outcome data linked yet (ridp evaluate link)")
    plan, sha = current_plan(record)
    dataset = pilot.outcome_dataset
    table = open_table(actor, city, dataset.name, version=version, engine_url=engine_url)
    plan.check_columns(list(table.columns))
    chosen = dataset.versions.get(number=version) if version is not None else dataset.current_version
    assert chosen is not None  # open_table found it
    frame = table.select(*sorted(plan.columns() & set(table.columns))).to_pandas()
    result = evaluate(frame, plan, seed=seed)
    extra = tuple(_compliance(pilot, plan, frame))
    if extra:
        result = Evaluation(plan_sha256=result.plan_sha256, estimates=result.estimates, residents=result.residents,
                            correction=result.correction, warnings=result.warnings + extra)  # fmt: skip
    with transaction.atomic():
        item = PilotEstimate.objects.create(pilot=pilot, outcome_version=chosen, plan_sha256=sha,
                                            result=result.to_dict(), created_by=actor)  # fmt: skip
        audit.record("pilot.evaluated", actor=actor, city=pilot.project.city, obj=pilot.project, pilot=pilot.name,
                     estimate=item.pk, dataset=dataset.name, version=chosen.number if chosen else None)  # fmt: skip
    return item


def get_estimate(actor: User, city: str, project_id: int, pilot_name: str, estimate_id: int) -> PilotEstimate:
    pilot = get_pilot(actor, city, project_id, pilot_name)
    item = PilotEstimate.objects.filter(pilot=pilot, pk=estimate_id).select_related("outcome_version__dataset").first()
    if item is None:
        raise NotFoundError(f"pilot {pilot.name!r} has no estimate {estimate_id}")
    return item


def estimate_of(item: PilotEstimate) -> Evaluation:
    return Evaluation.from_dict(item.result)


def reanalyse_estimate(actor: User, city: str, project_id: int, pilot_name: str, estimate_id: int,
                       *, timeout: float = 300) -> PilotEstimate:  # fmt: skip
    """Write the standalone reanalysis script of the estimate's primary result, run it on the version's Parquet
    and keep what it recomputed and whether it matches."""
    item = get_estimate(actor, city, project_id, pilot_name, estimate_id)
    pilot = item.pilot
    require(actor, pilot.project.city, "rows.read", obj=pilot.project)
    plan = AnalysisPlan.from_dict(_spec_for(item))
    hidden = masked_columns(actor, item.outcome_version.dataset) & plan.columns()
    if hidden:  # the script reads the Parquet itself: it may not read columns this person sees masked
        raise PermissionDeniedError(f"the plan reads columns you see masked: {', '.join(sorted(hidden))}")
    primary = Evaluation.from_dict(item.result).primary
    expected = {"effect": primary.effect, "se": primary.se, "ci_low": primary.ci_low, "ci_high": primary.ci_high,
                "p_value": primary.p_value, "n": primary.n}  # fmt: skip
    workdir = home() / "reanalysis" / pilot.project.city.slug / f"pilot{pilot.pk}"
    workdir.mkdir(parents=True, exist_ok=True)
    done = reanalyse(plan, home() / item.outcome_version.file,
                     {k: float(v) for k, v in expected.items() if v is not None},
                     workdir=workdir, timeout=timeout, se_type=primary.se_type,
                     estimate_seed=int(primary.spec.get("seed") or 0),
                     placebos=bool(primary.spec.get("placebos", True)))  # fmt: skip
    with transaction.atomic():
        item.reanalysis, item.reanalysed_at = done.to_dict(), django_timezone.now()
        item.save(update_fields=["reanalysis", "reanalysed_at"])
        audit.record("pilot.reanalysed", actor=actor, city=pilot.project.city, obj=pilot.project, pilot=pilot.name,
                     estimate=item.pk, matches=done.matches)  # fmt: skip
    return item


def _spec_for(item: PilotEstimate) -> dict[str, Any]:
    """The plan an estimate followed: the frozen one or the deviation whose hash it recorded."""
    record = plan_of(item.pilot)
    if record is None:
        raise NotFoundError("the estimate's plan is gone")
    if record.sha256 == item.plan_sha256:
        return dict(record.spec)
    found = record.deviations.filter(sha256=item.plan_sha256).order_by("-id").first()
    if found is None:
        raise NotFoundError(f"no plan version {item.plan_sha256[:12]} in pilot {item.pilot.name!r}")
    return dict(found.spec)


# ---- the gate condition "analysis plan frozen before outcome data" -----------------------------------------------

_WHEN = re.compile(r"\.\d+")


def _moment(value: datetime) -> str:
    return _WHEN.sub("", value.astimezone(UTC).isoformat(timespec="seconds")).replace("+00:00", " UTC")


def plan_gaps(project: Project) -> list[str]:
    """What stops "analysis plan frozen before outcome data": per pilot, a plan not frozen, or frozen after its
    outcome data arrived. A project with no pilot has nothing frozen."""
    pilots = list(Pilot.objects.filter(project=project).select_related("outcome_dataset").order_by("name", "id"))
    if not pilots:
        return [_("no pilot yet: design one, then write and freeze its analysis plan")]
    lines: list[str] = []
    for pilot in pilots:
        record = plan_of(pilot)
        arrived = outcomes_arrived(pilot)
        if record is None or record.frozen_at is None:
            lines.append(_("pilot %(pilot)s: its analysis plan is not frozen") % {"pilot": pilot.name})
        elif arrived is not None and record.frozen_at >= arrived:
            lines.append(
                _("pilot %(pilot)s: its plan was frozen at %(frozen)s, after the outcome data arrived at %(arrived)s "
                  "(reason given: %(reason)s)")
                % {"pilot": pilot.name, "frozen": _moment(record.frozen_at), "arrived": _moment(arrived),
                   "reason": record.late_reason or _("none")}
            )  # fmt: skip
    return lines


# ---- where a pilot stands, in words (the CLI's list and show, the pilot page) ------------------------------------


def status_of(pilot: Pilot) -> dict[str, str]:
    """One short phrase per step: power, randomisation, plan, estimate ("—" for not yet)."""
    from ridp.workspace.pilots import latest_randomisation

    study = pilot.power_studies.order_by("-created_at", "-id").first()
    chosen = latest_randomisation(pilot)
    record = plan_of(pilot)
    latest = pilot.estimates.order_by("-created_at", "-id").first()
    power = "—"
    if study is not None:
        planned = study.result.get("planned_power")
        power = ("enough" if study.adequate else "too little") + (f" ({planned:.2f})" if planned is not None else "")
    randomisation = "—"
    if chosen is not None:
        outcome = (chosen.confirmation or {}).get("matches")
        randomisation = {True: "confirmed", False: "confirmation failed", None: "not confirmed"}[outcome]
    plan = "—"
    if record is not None:
        plan = (
            "draft"
            if record.frozen_at is None
            else f"frozen {record.frozen_at:%Y-%m-%d}" + (" (late)" if record.late else "")
        )
        deviations = record.deviations.count()
        plan += f", {deviations} deviation(s)" if deviations else ""
    estimate = "—"
    if latest is not None:
        primary = Evaluation.from_dict(latest.result).primary
        estimate = f"{primary.effect:+.3g} ({primary.ci_low:.3g} to {primary.ci_high:.3g})"
    return {"power": power, "randomisation": randomisation, "plan": plan, "estimate": estimate}


def describe_pilot(pilot: Pilot) -> str:
    """The pilot in plain text: each step's latest result, as the CLI prints it."""
    from ridp.workspace.pilots import balance_of, latest_randomisation, power_of

    lines = [f"Pilot {pilot.name} of project {pilot.project_id}: {pilot.title}"]
    study = pilot.power_studies.order_by("-created_at", "-id").first()
    lines += ["", "Power:", power_of(study).summary() if study is not None else "  not studied yet (ridp pilot power)"]
    chosen = latest_randomisation(pilot)
    lines += ["", "Randomisation:"]
    if chosen is None:
        lines.append("  none yet (ridp pilot assign)")
    else:
        record = chosen.record
        lines.append(f"  {chosen.pk}: {record.get('method')} on {chosen.units_version}, seed {record.get('seed')}, "
                     f"fingerprint {chosen.fingerprint[:12]}, by {chosen.created_by.username}")  # fmt: skip
        if chosen.confirmed_by is not None:
            outcome = "the same assignment" if (chosen.confirmation or {}).get("matches") else "NOT the same assignment"
            lines.append(f"  confirmed by {chosen.confirmed_by.username} on {chosen.confirmed_at:%Y-%m-%d}: {outcome}")
        else:
            lines.append("  not confirmed by a second person yet")
        checked = balance_of(chosen)
        if checked is not None:
            lines.append(checked.summary())
    record_ = plan_of(pilot)
    lines += ["", "Analysis plan:"]
    if record_ is None:
        lines.append("  none yet (ridp plan save)")
    elif record_.frozen_at is None:
        lines.append("  a draft, not frozen")
    else:
        lines.append(f"  frozen {_moment(record_.frozen_at)} by {record_.frozen_by}, SHA-256 {record_.sha256}")
        if record_.late:
            lines.append(f"  frozen after the outcome data arrived; reason: {record_.late_reason}")
        for item in record_.deviations.order_by("created_at", "id"):
            fields = ", ".join(change["field"] for change in item.changes)
            lines.append(f"  deviation {_moment(item.created_at)} by {item.created_by}: {fields} — {item.reason}")
    latest = pilot.estimates.order_by("-created_at", "-id").first()
    lines += ["", "Estimate:"]
    if latest is None:
        lines.append("  none yet (ridp evaluate run)")
    else:
        lines.append(Evaluation.from_dict(latest.result).summary())
        if latest.reanalysis is not None:
            lines.append("Reanalysis: " + ("the numbers match" if latest.reanalysis.get("matches") else "MISMATCH"))
    return "\n".join(lines)
