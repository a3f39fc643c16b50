"""Pilots (PROGRAM.md §7): power, randomisation and its confirmation, the frozen analysis plan, estimates.

Designing (power, randomisation) needs ``pilot.design``; writing, freezing and deviating from the plan
``plan.freeze``; linking outcome data, estimating and reanalysing ``pilot.evaluate`` (reanalysis: ``rows.read``);
a confirmation is a second person's who may read rows. Everyone in the city reads what was recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.params import P, PathEx
from pydantic import Field, StrictFloat, StrictInt, StrictStr

from ridp.web.api.people import acting
from ridp.web.api.schemas import NO_NUL, READ, WRITE, CityPath, ColumnName, IdPath, Input, Name, Text, Title, answers
from ridp.workspace import pilots, plans
from ridp.workspace.models import Pilot

router = Router(tags=["pilots"])

PilotPath = PathEx[str, P(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$", description="The pilot")]
Share = Annotated[float, Field(strict=True, gt=0, lt=1, allow_inf_nan=False)]
Number = Annotated[StrictFloat | StrictInt, Field(allow_inf_nan=False)]
Count = Annotated[StrictInt, Field(ge=2, le=10_000_000)]
Version = Annotated[StrictInt, Field(ge=1, le=2_147_483_647)]
Seed = Annotated[StrictInt, Field(ge=0, le=2**63 - 1)]
Yaml = Annotated[StrictStr, Field(min_length=1, max_length=100_000, pattern=NO_NUL)]


class PilotIn(Input):
    name: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
    title: Title


class PilotOut(Schema):
    id: int
    name: str
    title: str
    outcome_dataset: str | None
    outcomes_arrived_at: datetime | None
    status: dict[str, str]  # power, randomisation, plan, estimate: a phrase each
    created_at: datetime


class PowerIn(Input):
    history: Name
    outcome: ColumnName = "days_to_close"
    cluster: ColumnName | None = None
    types: list[Annotated[StrictStr, Field(max_length=500, pattern=NO_NUL)]] = Field(default=[], max_length=200)
    effects: list[Number] = Field(default=[], max_length=50)
    n_units: list[Count] = Field(default=[], max_length=20)
    n_clusters: list[Count] = Field(default=[], max_length=20)
    share_treated: Share = 0.5
    draws: Annotated[StrictInt, Field(ge=100, le=100_000)] = 10_000
    alpha: Annotated[float, Field(strict=True, gt=0, lt=0.5)] = 0.05
    target: Annotated[float, Field(strict=True, gt=0, lt=1)] = 0.8
    planned_effect: Number | None = None
    seed: Seed = 0
    version: Version | None = None


class PowerOut(Schema):
    id: int
    adequate: bool
    history: str
    version: int
    seconds: float
    study: dict[str, Any]  # the PowerStudy: points (formula and simulation), MDEs, warnings, spec
    created_at: datetime


class RandomiseIn(Input):
    units: Name
    unit: ColumnName
    method: Annotated[StrictStr, Field(pattern=r"^(simple|blocked|clustered|staggered)$")] = "simple"
    block: ColumnName | None = None
    cluster: ColumnName | None = None
    share_treated: Share = 0.5
    waves: Annotated[StrictInt, Field(ge=2, le=1000)] | None = None
    seed: Seed | None = None
    covariates: list[ColumnName] = Field(default=[], max_length=50)
    version: Version | None = None


class RandomisationOut(Schema):
    id: int
    fingerprint: str
    record: dict[str, Any]  # method, parameters, seed, fingerprints (and each unit's arm: for those who read rows)
    assignment: dict[str, Any] | None  # the arms of each unit: for those who may read rows
    balance: dict[str, Any] | None
    created_by: str
    created_at: datetime
    confirmed_by: str | None
    confirmed_at: datetime | None
    confirmation: dict[str, Any] | None


class PlanIn(Input):
    yaml: Yaml


class FreezeIn(Input):
    late_reason: Text = ""


class DeviationIn(Input):
    yaml: Yaml
    reason: Annotated[StrictStr, Field(min_length=1, max_length=10_000, pattern=NO_NUL)]


class DeviationOut(Schema):
    changes: list[dict[str, Any]]
    reason: str
    sha256: str
    created_by: str
    created_at: datetime


class PlanOut(Schema):
    plan: dict[str, Any]  # as it stands: the frozen plan or its latest deviation
    sha256: str
    frozen: bool
    frozen_sha256: str | None
    frozen_at: datetime | None
    frozen_by: str | None
    late: bool
    late_reason: str
    deviations: list[DeviationOut]


class OutcomesIn(Input):
    dataset: Name


class EvaluateIn(Input):
    version: Version | None = None
    seed: Seed = 0


class EstimateOut(Schema):
    id: int
    dataset: str
    version: int
    plan_sha256: str
    result: dict[str, Any]  # estimates (primary first), residents' terms, correction, warnings
    reanalysis: dict[str, Any] | None
    created_by: str
    created_at: datetime


def _pilot_out(pilot: Pilot) -> PilotOut:
    return PilotOut(
        id=pilot.pk, name=pilot.name, title=pilot.title, created_at=pilot.created_at,
        outcome_dataset=pilot.outcome_dataset.name if pilot.outcome_dataset else None,
        outcomes_arrived_at=plans.outcomes_arrived(pilot), status=plans.status_of(pilot),
    )  # fmt: skip


def _randomisation_out(request: HttpRequest, item: Any) -> RandomisationOut:
    from ridp.workspace.access import allowed

    rows = allowed(acting(request), item.pilot.project.city, "rows.read")
    return RandomisationOut(
        id=item.pk, fingerprint=item.fingerprint, assignment=item.assignment if rows else None,
        # each unit's arm is row-level data (a unit may be a resident): only for those who may read rows
        record=item.record if rows else {k: v for k, v in item.record.items() if k != "arms"},
        balance=item.balance, created_by=item.created_by.username, created_at=item.created_at,
        confirmed_by=item.confirmed_by.username if item.confirmed_by else None, confirmed_at=item.confirmed_at,
        confirmation=item.confirmation,
    )  # fmt: skip


def _plan_out(pilot: Pilot) -> PlanOut:
    from ridp.errors import NotFoundError

    record = plans.plan_of(pilot)
    if record is None:
        raise NotFoundError(f"pilot {pilot.name!r} has no plan yet")
    plan, sha = plans.current_plan(record)
    return PlanOut(
        plan=plan.to_dict(), sha256=sha, frozen=record.frozen_at is not None, frozen_sha256=record.sha256 or None,
        frozen_at=record.frozen_at, frozen_by=record.frozen_by.username if record.frozen_by else None,
        late=record.late, late_reason=record.late_reason,
        deviations=[DeviationOut(changes=d.changes, reason=d.reason, sha256=d.sha256, created_by=d.created_by.username,
                                 created_at=d.created_at) for d in record.deviations.order_by("created_at", "id")],
    )  # fmt: skip


def _estimate_out(item: Any) -> EstimateOut:
    return EstimateOut(
        id=item.pk, dataset=item.outcome_version.dataset.name, version=item.outcome_version.number,
        plan_sha256=item.plan_sha256, result=item.result, reanalysis=item.reanalysis,
        created_by=item.created_by.username, created_at=item.created_at,
    )  # fmt: skip


BASE = "/cities/{city}/projects/{project_id}/pilots"


@router.post(BASE, response=answers({200: PilotOut}, *WRITE), operation_id="create_pilot",
             summary="Start a pilot's design")  # fmt: skip
def pilot_create(request: HttpRequest, city: CityPath, project_id: IdPath, payload: PilotIn) -> PilotOut:
    return _pilot_out(pilots.create_pilot(acting(request), city, project_id, payload.name, payload.title))


@router.get(BASE, response=answers({200: list[PilotOut]}, *READ), operation_id="list_pilots",
            summary="The project's pilots and where each stands")  # fmt: skip
def pilot_list(request: HttpRequest, city: CityPath, project_id: IdPath) -> list[PilotOut]:
    return [_pilot_out(p) for p in pilots.list_pilots(acting(request), city, project_id)]


@router.get(BASE + "/{pilot}", response=answers({200: PilotOut}, *READ), operation_id="get_pilot",
            summary="One pilot and where it stands")  # fmt: skip
def pilot_get(request: HttpRequest, city: CityPath, project_id: IdPath, pilot: PilotPath) -> PilotOut:
    return _pilot_out(pilots.get_pilot(acting(request), city, project_id, pilot))


@router.post(BASE + "/{pilot}/power", response=answers({200: PowerOut}, *WRITE), operation_id="study_power",
             summary="Power and the minimum detectable effect, by formula and by simulation on the city's history")  # fmt: skip
def pilot_power(
    request: HttpRequest, city: CityPath, project_id: IdPath, pilot: PilotPath, payload: PowerIn
) -> PowerOut:
    data = payload.model_dump()
    item = pilots.study_power(acting(request), city, project_id, pilot, **data)
    return PowerOut(id=item.pk, adequate=item.adequate, history=payload.history, version=item.history_version.number,
                    seconds=item.seconds, study=item.result, created_at=item.created_at)  # fmt: skip


@router.post(BASE + "/{pilot}/randomisations", response=answers({200: RandomisationOut}, *WRITE),
             operation_id="randomise_units", summary="Assign the units with a recorded seed, with the balance table")  # fmt: skip
def pilot_randomise(request: HttpRequest, city: CityPath, project_id: IdPath, pilot: PilotPath,
                    payload: RandomiseIn) -> RandomisationOut:  # fmt: skip
    item = pilots.randomise(acting(request), city, project_id, pilot, **payload.model_dump())
    return _randomisation_out(request, item)


@router.get(BASE + "/{pilot}/randomisations/{randomisation_id}", response=answers({200: RandomisationOut}, *READ),
            operation_id="get_randomisation", summary="A randomisation's record, balance and confirmation")  # fmt: skip
def pilot_randomisation(request: HttpRequest, city: CityPath, project_id: IdPath, pilot: PilotPath,
                        randomisation_id: IdPath) -> RandomisationOut:  # fmt: skip
    item = pilots.get_randomisation(acting(request), city, project_id, pilot, randomisation_id)
    return _randomisation_out(request, item)


@router.post(BASE + "/{pilot}/randomisations/{randomisation_id}/confirm", response=answers({200: RandomisationOut}, *WRITE),
             operation_id="confirm_randomisation",
             summary="A second person reruns the randomisation; whether it matches is recorded")  # fmt: skip
def pilot_confirm(request: HttpRequest, city: CityPath, project_id: IdPath, pilot: PilotPath,
                  randomisation_id: IdPath) -> RandomisationOut:  # fmt: skip
    item = pilots.confirm_randomisation(acting(request), city, project_id, pilot, randomisation_id)
    return _randomisation_out(request, item)


@router.get(BASE + "/{pilot}/plan", response=answers({200: PlanOut}, *READ), operation_id="get_plan",
            summary="The analysis plan as it stands, its hash, freezing and deviations")  # fmt: skip
def plan_get(request: HttpRequest, city: CityPath, project_id: IdPath, pilot: PilotPath) -> PlanOut:
    return _plan_out(pilots.get_pilot(acting(request), city, project_id, pilot))


@router.put(BASE + "/{pilot}/plan", response=answers({200: PlanOut}, *WRITE), operation_id="save_plan",
            summary="Write the draft analysis plan (YAML); a frozen plan changes only by a deviation")  # fmt: skip
def plan_save(request: HttpRequest, city: CityPath, project_id: IdPath, pilot: PilotPath, payload: PlanIn) -> PlanOut:
    record = plans.save_plan(acting(request), city, project_id, pilot, payload.yaml)
    return _plan_out(record.pilot)


@router.post(BASE + "/{pilot}/plan/freeze", response=answers({200: PlanOut}, *WRITE), operation_id="freeze_plan",
             summary="Freeze the plan with its SHA-256 and UTC time (after outcome data: with the reason)")  # fmt: skip
def plan_freeze(
    request: HttpRequest, city: CityPath, project_id: IdPath, pilot: PilotPath, payload: FreezeIn
) -> PlanOut:
    record = plans.freeze_plan(acting(request), city, project_id, pilot, late_reason=payload.late_reason)
    return _plan_out(record.pilot)


@router.post(BASE + "/{pilot}/plan/deviations", response=answers({200: PlanOut}, *WRITE),
             operation_id="record_deviation", summary="Record a change to the frozen plan, with its reason")  # fmt: skip
def plan_deviate(request: HttpRequest, city: CityPath, project_id: IdPath, pilot: PilotPath,
                 payload: DeviationIn) -> PlanOut:  # fmt: skip
    item = plans.deviate(acting(request), city, project_id, pilot, payload.yaml, payload.reason)
    return _plan_out(item.plan.pilot)


@router.put(BASE + "/{pilot}/outcomes", response=answers({200: PilotOut}, *WRITE), operation_id="link_outcomes",
            summary="Name the catalogued dataset the pilot's outcome data arrive in")  # fmt: skip
def pilot_outcomes(request: HttpRequest, city: CityPath, project_id: IdPath, pilot: PilotPath,
                   payload: OutcomesIn) -> PilotOut:  # fmt: skip
    return _pilot_out(plans.link_outcomes(acting(request), city, project_id, pilot, payload.dataset))


@router.post(BASE + "/{pilot}/estimates", response=answers({200: EstimateOut}, *WRITE), operation_id="evaluate_pilot",
             summary="Estimate every outcome under the frozen plan, in residents' terms (refused until frozen)")  # fmt: skip
def pilot_evaluate(request: HttpRequest, city: CityPath, project_id: IdPath, pilot: PilotPath,
                   payload: EvaluateIn) -> EstimateOut:  # fmt: skip
    item = plans.evaluate_pilot(acting(request), city, project_id, pilot, version=payload.version, seed=payload.seed)
    return _estimate_out(item)


@router.get(BASE + "/{pilot}/estimates/{estimate_id}", response=answers({200: EstimateOut}, *READ),
            operation_id="get_estimate", summary="One estimate, with its reanalysis if it was run")  # fmt: skip
def pilot_estimate(request: HttpRequest, city: CityPath, project_id: IdPath, pilot: PilotPath,
                   estimate_id: IdPath) -> EstimateOut:  # fmt: skip
    return _estimate_out(plans.get_estimate(acting(request), city, project_id, pilot, estimate_id))


@router.post(BASE + "/{pilot}/estimates/{estimate_id}/reanalysis", response=answers({200: EstimateOut}, *WRITE),
             operation_id="reanalyse_estimate",
             summary="Run the standalone reanalysis script (no ridp import) and check the numbers match")  # fmt: skip
def pilot_reanalyse(request: HttpRequest, city: CityPath, project_id: IdPath, pilot: PilotPath,
                    estimate_id: IdPath) -> EstimateOut:  # fmt: skip
    return _estimate_out(plans.reanalyse_estimate(acting(request), city, project_id, pilot, estimate_id))
