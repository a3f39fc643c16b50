"""Data readiness of a dataset: start a run, follow it, read the latest result, declare the checks.

Everyone in the city reads runs and results (personal columns are masked in
every saved result); starting a run needs row-level access (``rows.read``);
declaring the checks needs ``dataset.map``. A run is a background task: ``POST``
answers 202 with the queued run (200 when the same question on the same bytes
was answered already), ``GET .../runs/{run_id}`` follows its progress. A check
file's mistake is a 400 whose message names its line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field, StrictInt, StrictStr

from ridp.errors import NotFoundError
from ridp.web.api.people import acting
from ridp.web.api.schemas import NO_NUL, READ, WRITE, CityPath, IdPath, Input, answers
from ridp.workspace import readiness
from ridp.workspace.access import require
from ridp.workspace.datasets import get_dataset_by_id
from ridp.workspace.models import ReadinessRun

router = Router(tags=["readiness"])

BASE = "/cities/{city}/datasets/{dataset_id}/readiness"
MAX_CHECKS_YAML = 50_000
ChecksYaml = Annotated[StrictStr, Field(max_length=MAX_CHECKS_YAML, pattern=NO_NUL)]


# ---- schemas ----------------------------------------------------------------------------------------------------


class ReadinessIn(Input):
    """Which version (default the current one) and, to try other checks than the declared ones, their YAML."""

    version: Annotated[StrictInt, Field(ge=1, le=2_147_483_647)] | None = None
    checks: ChecksYaml | None = None


class ReadinessRunOut(Schema):
    id: int
    version: int  # the dataset version's number
    status: str  # queued, running, done or failed
    fraction: float  # 0 to 1
    stage: str
    verdict: str | None  # insufficient, proceed with caution or sufficient, once done
    error: str  # why it failed
    checks_yaml: str  # the checks it runs
    created_by: str
    created_at: datetime
    finished_at: datetime | None


class ReadinessRunDetail(ReadinessRunOut):
    result: dict[str, Any] | None  # ridp.readiness.Readiness.to_dict(), once done


class ChecksIn(Input):
    """The dataset's checks in YAML; "" goes back to the defaults made from the mapping."""

    yaml: ChecksYaml


class ChecksOut(Schema):
    declared: bool  # False: the defaults made from the mapping are in force
    yaml: str  # the checks in force: the declared ones, else the defaults made from the mapping


def run_out(run: ReadinessRun) -> ReadinessRunOut:
    verdict = (run.result or {}).get("verdict", {}).get("level") if run.status == ReadinessRun.Status.DONE else None
    return ReadinessRunOut(
        id=run.pk, version=run.dataset_version.number, status=run.status, fraction=run.fraction, stage=run.stage,
        verdict=verdict, error=run.error, checks_yaml=run.checks_yaml, created_by=run.created_by.username,
        created_at=run.created_at, finished_at=run.finished_at,
    )  # fmt: skip


def run_detail(run: ReadinessRun) -> ReadinessRunDetail:
    result = run.result if run.status == ReadinessRun.Status.DONE else None
    return ReadinessRunDetail(**run_out(run).model_dump(), result=result)


# ---- operations -------------------------------------------------------------------------------------------------


@router.post(
    BASE,
    response=answers({200: ReadinessRunOut, 202: ReadinessRunOut}, *WRITE),
    operation_id="run_readiness",
    summary="Judge a version's readiness: the saved answer (200) or a new run in the background (202)",
)
def readiness_start(
    request: HttpRequest, city: CityPath, dataset_id: IdPath, payload: ReadinessIn
) -> Status[ReadinessRunOut]:
    actor = acting(request)
    found = get_dataset_by_id(actor, city, dataset_id)
    started = readiness.request(actor, city, found.name, version=payload.version, checks_text=payload.checks)
    started.refresh_from_db()  # a task backend that runs at once has finished it already
    return Status(200 if started.status == ReadinessRun.Status.DONE else 202, run_out(started))


@router.get(
    BASE,
    response=answers({200: ReadinessRunDetail}, *READ),
    operation_id="get_readiness",
    summary="The latest finished run of the current version, with its result (404 when there is none)",
)
def readiness_latest(request: HttpRequest, city: CityPath, dataset_id: IdPath) -> ReadinessRunDetail:
    found = get_dataset_by_id(acting(request), city, dataset_id)
    latest = readiness.latest_run(found)
    if latest is None:
        raise NotFoundError(f"no finished readiness run of the current version of {found.name}")
    return run_detail(latest)


@router.get(
    BASE + "/runs/{run_id}",
    response=answers({200: ReadinessRunDetail}, *READ),
    operation_id="get_readiness_run",
    summary="A run's progress, and its result once done",
)
def readiness_run_get(request: HttpRequest, city: CityPath, dataset_id: IdPath, run_id: IdPath) -> ReadinessRunDetail:
    actor = acting(request)
    found = get_dataset_by_id(actor, city, dataset_id)
    return run_detail(readiness.get_run(actor, city, found.name, run_id))


@router.get(
    BASE + "/checks",
    response=answers({200: ChecksOut}, *READ),
    operation_id="get_readiness_checks",
    summary="The dataset's checks in force (YAML): the declared ones, else the defaults made from the mapping",
)
def checks_get(request: HttpRequest, city: CityPath, dataset_id: IdPath) -> ChecksOut:
    found = get_dataset_by_id(acting(request), city, dataset_id)
    return ChecksOut(declared=bool(readiness.checks_for(found)), yaml=readiness.checks_in_force(found))


@router.put(
    BASE + "/checks",
    response=answers({200: ChecksOut}, *WRITE),
    operation_id="set_readiness_checks",
    summary='Declare the dataset\'s checks in YAML (checked against its columns; "" goes back to the defaults)',
)
def checks_put(request: HttpRequest, city: CityPath, dataset_id: IdPath, payload: ChecksIn) -> ChecksOut:
    actor = acting(request)
    found = get_dataset_by_id(actor, city, dataset_id)
    require(actor, found.city, "dataset.map", obj=found)
    saved = readiness.set_checks(actor, city, found.name, payload.yaml)
    return ChecksOut(declared=bool(saved.yaml), yaml=saved.yaml)
