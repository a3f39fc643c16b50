"""Quasi-experimental methods on a catalogued dataset, and a project's adoption decision (PROGRAM.md §7).

``POST /cities/{city}/datasets/{dataset_id}/methods/{method}`` runs one method (``did``, ``twfe``,
``callaway_santanna``, ``sun_abraham``, ``its``, ``synth``) with ``{"params": {...}, "version": n}`` and returns
the :class:`~ridp.evaluation.quasi.QuasiEstimate` as JSON (``to_dict()``: the effect, interval, detail, tables,
facts, warnings). Each method is its own operation, so its parameters have their own schema. Running needs
``rows.read``; a pilot's outcome data are refused until its plan is frozen (403). The run is audited, not stored.

``GET``/``POST /cities/{city}/projects/{project_id}/decisions``: the adoption decisions, latest first; recording
one (scale, adapt or stop, the reason and the recorded estimate it rests on) needs ``adoption.decide``.

A request without a body is answered after the permission check (403 before 422): the workspace says what
is missing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr

from ridp.errors import FieldError
from ridp.web.api.people import acting
from ridp.web.api.schemas import MAX_ID, NO_NUL, READ, WRITE, CityPath, ColumnName, IdPath, Input, answers
from ridp.workspace import adoption
from ridp.workspace.access import require
from ridp.workspace.datasets import get_dataset_by_id
from ridp.workspace.models import AdoptionDecision, Dataset
from ridp.workspace.quasi import run_method

router = Router(tags=["quasi-experiments"])

Version = Annotated[StrictInt, Field(ge=1, le=2_147_483_647)]
Seed = Annotated[StrictInt, Field(ge=0, le=2**32 - 1)]
Alpha = Annotated[float, Field(strict=True, gt=0, lt=1, allow_inf_nan=False)]
Reps = Annotated[StrictInt, Field(ge=99, le=99_999)]
Columns = Annotated[list[ColumnName], Field(max_length=50)]
#: A unit or a period, as its column holds it: a whole number, a number or text (a date is ISO text).
Value = (
    Annotated[StrictInt, Field(ge=-(2**53), le=2**53)]
    | Annotated[StrictFloat, Field(allow_inf_nan=False)]
    | Annotated[StrictStr, Field(min_length=1, max_length=200, pattern=NO_NUL)]
)


class DidParams(Input):
    outcome: ColumnName
    group: ColumnName
    post: ColumnName
    covariates: Columns | None = None
    cluster: ColumnName | None = None
    se: Literal["auto", "iid", "HC1", "HC2", "CR2", "wild", "CR1"] | None = None
    alpha: Alpha | None = None
    reps: Reps | None = None
    seed: Seed | None = None


class TwfeParams(Input):
    outcome: ColumnName
    unit: ColumnName
    time: ColumnName
    treatment: ColumnName
    covariates: Columns | None = None
    cluster: ColumnName | None = None
    se: Literal["auto", "iid", "HC1", "CR1", "wild"] | None = None
    alpha: Alpha | None = None
    reps: Reps | None = None
    seed: Seed | None = None


class CallawaySantAnnaParams(Input):
    outcome: ColumnName
    unit: ColumnName
    time: ColumnName
    first_treated: ColumnName
    control: Literal["never", "notyet"] | None = None
    base: Literal["varying", "universal"] | None = None
    aggregation: Literal["group", "simple", "dynamic", "calendar"] | None = None
    alpha: Alpha | None = None
    reps: Reps | None = None
    seed: Seed | None = None


class SunAbrahamParams(Input):
    outcome: ColumnName
    unit: ColumnName
    time: ColumnName
    first_treated: ColumnName
    alpha: Alpha | None = None


class ItsParams(Input):
    outcome: ColumnName
    time: ColumnName
    post: ColumnName | None = None
    start: Value | None = None
    family: Literal["gaussian", "poisson", "quasipoisson", "negbin"] | None = None
    offset: ColumnName | None = None
    season: ColumnName | None = None
    period: Annotated[StrictInt, Field(ge=2, le=366)] | None = None
    harmonics: Annotated[StrictInt, Field(ge=1, le=10)] | None = None
    slope_change: StrictBool | None = None
    se: Literal["auto", "model", "HAC"] | None = None
    hac_lags: Annotated[StrictInt, Field(ge=0, le=520)] | None = None
    alpha: Alpha | None = None


class SynthParams(Input):
    outcome: ColumnName
    unit: ColumnName
    time: ColumnName
    treated_unit: Value
    start: Value
    predictors: Columns | None = None
    predictor_period: tuple[Value, Value] | None = None
    special: Annotated[list[tuple[ColumnName, Value, Value]], Field(max_length=50)] | None = None
    placebos: StrictBool | None = None
    starts: Annotated[StrictInt, Field(ge=1, le=50)] | None = None
    seed: Seed | None = None
    alpha: Alpha | None = None


class DidIn(Input):
    params: DidParams
    version: Version | None = None


class TwfeIn(Input):
    params: TwfeParams
    version: Version | None = None


class CallawaySantAnnaIn(Input):
    params: CallawaySantAnnaParams
    version: Version | None = None


class SunAbrahamIn(Input):
    params: SunAbrahamParams
    version: Version | None = None


class ItsIn(Input):
    params: ItsParams
    version: Version | None = None


class SynthIn(Input):
    params: SynthParams
    version: Version | None = None


MethodIn = DidIn | TwfeIn | CallawaySantAnnaIn | SunAbrahamIn | ItsIn | SynthIn
#: Each method's columns with a role of their own: no two of them may be the same column.
ROLES: dict[str, tuple[str, ...]] = {
    "did": ("outcome", "group", "post"),
    "twfe": ("outcome", "unit", "time", "treatment"),
    "callaway_santanna": ("outcome", "unit", "time", "first_treated"),
    "sun_abraham": ("outcome", "unit", "time", "first_treated"),
    "its": ("outcome", "time", "post", "season"),
    "synth": ("outcome", "unit", "time"),
}


def _run(request: HttpRequest, city: str, dataset_id: int, method: str, payload: MethodIn | None) -> dict[str, Any]:
    actor = acting(request)
    found: Dataset = get_dataset_by_id(actor, city, dataset_id)
    require(actor, found.city, "rows.read", obj=found)
    if payload is None:
        raise FieldError("params", f'send the method\'s parameters: {{"params": {{...}}}} (see the {method} schema)')
    params = {k: v for k, v in payload.params.model_dump().items() if v is not None}
    seen: dict[str, str] = {}
    for role in ROLES[method]:
        column = params.get(role)
        if column in seen:
            raise FieldError(role, f"{column!r} is the {seen[column]} column already: each role needs its own column")
        if column is not None:
            seen[column] = role
    result = run_method(actor, city, found.name, method, params, version=payload.version)
    return result.to_dict()


METHODS = "/cities/{city}/datasets/{dataset_id}/methods"
RESULT = answers({200: dict[str, Any]}, *WRITE)


@router.post(METHODS + "/did", response=RESULT, operation_id="run_did",
             summary="2×2 difference-in-differences: the treated group's change against the comparison group's")  # fmt: skip
def run_did(request: HttpRequest, city: CityPath, dataset_id: IdPath, payload: DidIn | None = None) -> dict[str, Any]:
    return _run(request, city, dataset_id, "did", payload)


@router.post(METHODS + "/twfe", response=RESULT, operation_id="run_twfe",
             summary="Two-way fixed effects on a panel, with the negative weights of a staggered roll-out")  # fmt: skip
def run_twfe(request: HttpRequest, city: CityPath, dataset_id: IdPath, payload: TwfeIn | None = None) -> dict[str, Any]:
    return _run(request, city, dataset_id, "twfe", payload)


@router.post(METHODS + "/callaway_santanna", response=RESULT, operation_id="run_callaway_santanna",
             summary="Staggered roll-out: Callaway-Sant'Anna group-time effects, their aggregation and pre-trends")  # fmt: skip
def run_callaway_santanna(
    request: HttpRequest, city: CityPath, dataset_id: IdPath, payload: CallawaySantAnnaIn | None = None
) -> dict[str, Any]:
    return _run(request, city, dataset_id, "callaway_santanna", payload)


@router.post(METHODS + "/sun_abraham", response=RESULT, operation_id="run_sun_abraham",
             summary="Staggered roll-out: Sun-Abraham interaction-weighted event study")  # fmt: skip
def run_sun_abraham(
    request: HttpRequest, city: CityPath, dataset_id: IdPath, payload: SunAbrahamIn | None = None
) -> dict[str, Any]:
    return _run(request, city, dataset_id, "sun_abraham", payload)


@router.post(METHODS + "/its", response=RESULT, operation_id="run_its",
             summary="Interrupted time series: the level (and slope) change, with the counterfactual")  # fmt: skip
def run_its(request: HttpRequest, city: CityPath, dataset_id: IdPath, payload: ItsIn | None = None) -> dict[str, Any]:
    return _run(request, city, dataset_id, "its", payload)


@router.post(METHODS + "/synth", response=RESULT, operation_id="run_synth",
             summary="Synthetic control: donor weights, the gap after the start and placebo-in-space inference")  # fmt: skip
def run_synth(
    request: HttpRequest, city: CityPath, dataset_id: IdPath, payload: SynthIn | None = None
) -> dict[str, Any]:
    return _run(request, city, dataset_id, "synth", payload)


# ---- the adoption decision -----------------------------------------------------------------------------------------


class DecisionIn(Input):
    decision: Literal["scale", "adapt", "stop"]
    reason: Annotated[StrictStr, Field(min_length=1, max_length=adoption.MAX_REASON, pattern=NO_NUL)]
    estimate_id: Annotated[StrictInt, Field(ge=1, le=MAX_ID)]


class DecisionOut(Schema):
    id: int
    decision: str
    reason: str
    estimate_id: int
    pilot: str
    decided_by: str
    decided_at: datetime
    description: str  # the decision in a sentence, with the estimate it rests on


def _decision_out(item: AdoptionDecision) -> DecisionOut:
    return DecisionOut(
        id=item.pk, decision=item.decision, reason=item.reason, estimate_id=item.estimate_id,
        pilot=item.estimate.pilot.name, decided_by=item.decided_by.username, decided_at=item.decided_at,
        description=adoption.describe_decision(item),
    )  # fmt: skip


DECISIONS = "/cities/{city}/projects/{project_id}/decisions"


@router.get(DECISIONS, response=answers({200: list[DecisionOut]}, *READ), operation_id="list_decisions",
            summary="The project's adoption decisions, latest first (the first is the project's)")  # fmt: skip
def decisions_list(request: HttpRequest, city: CityPath, project_id: IdPath) -> list[DecisionOut]:
    return [_decision_out(item) for item in adoption.decisions(acting(request), city, project_id)]


@router.post(DECISIONS, response=answers({200: DecisionOut}, *WRITE), operation_id="record_decision",
             summary="Record the adoption decision: scale, adapt or stop, the reason and the estimate it rests on")  # fmt: skip
def decision_record(
    request: HttpRequest, city: CityPath, project_id: IdPath, payload: DecisionIn | None = None
) -> DecisionOut:
    if payload is None:  # the workspace checks who may decide first, then says what is missing
        made = adoption.record_decision(acting(request), city, project_id, decision="", reason="", estimate_id=0)
    else:
        made = adoption.record_decision(acting(request), city, project_id, decision=payload.decision,
                                        reason=payload.reason, estimate_id=payload.estimate_id)  # fmt: skip
    return _decision_out(made)
