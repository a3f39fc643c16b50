"""Resident-impact analysis: runs (service levels, trends, discovery rate), targets, the working calendar,
the baseline from the data, and findings briefings the coach blesses (PROGRAM.md §6, §8).

Everyone in the city reads saved runs and briefings; starting a run needs row-level access (``rows.read``);
targets need ``dataset.map``, the calendar ``dataset.inventory``, the baseline ``metric.edit``, briefings and
findings ``project.edit``, the blessing ``meeting.bless`` (the coach). A run is a background task: ``POST``
answers 202 with the queued run (200 when the same question on the same bytes was answered already).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field, StrictFloat, StrictInt, StrictStr

from ridp.analysis import TargetTable
from ridp.web.api.metrics import MetricPath, MetricVersionOut
from ridp.web.api.people import acting
from ridp.web.api.schemas import NO_NUL, READ, WRITE, CityPath, ColumnName, IdPath, Input, Line, Title, answers
from ridp.workspace import analysis
from ridp.workspace.access import city_for
from ridp.workspace.datasets import get_dataset_by_id
from ridp.workspace.models import AnalysisRun, Briefing, Finding

router = Router(tags=["analysis"])

PROJECT = "/cities/{city}/projects/{project_id}"
Days = Annotated[StrictFloat | StrictInt, Field(gt=0, le=100_000)]
Value = Annotated[StrictStr, Field(max_length=200, pattern=NO_NUL)]


# ---- schemas ----------------------------------------------------------------------------------------------------


class PopulationIn(Input):
    """A dataset of the city with people per area: its area column (``key``) and its people column (``value``)."""

    dataset: Annotated[StrictStr, Field(min_length=1, max_length=200, pattern=NO_NUL)]
    key: ColumnName
    value: ColumnName


DatasetName = Annotated[StrictStr, Field(min_length=1, max_length=200, pattern=NO_NUL)]


class AddressesIn(Input):
    """An address-point (or parcel) dataset: requests without coordinates are matched to it by address first."""

    dataset: DatasetName
    address: ColumnName
    lat: ColumnName
    lon: ColumnName


class GroupsIn(Input):
    """Areas grouped by a census variable (quantile bins), for gaps between demographic groups."""

    dataset: DatasetName
    key: ColumnName
    variable: ColumnName
    bins: Annotated[StrictInt, Field(ge=2, le=10)] = 5


class CensusIn(Input):
    """An ACS-style table per area: its area column, the baseline population and demographic estimates."""

    dataset: DatasetName
    key: ColumnName
    baseline: ColumnName
    demographics: Annotated[list[ColumnName], Field(max_length=20)] | None = None


class AnalysisIn(Input):
    """Which dataset, which analysis, and its inputs (each analysis takes only its own; others are a 422).

    Places analyses (``hot_spots``, ``service_gaps``, ``resource_scores``) name a boundary dataset
    (``boundaries``): the points are assigned to its areas once and stored; or an existing area column
    (``area_column``, or ``by`` for gaps between any groups).
    """

    dataset: Annotated[StrictStr, Field(min_length=1, max_length=200, pattern=NO_NUL)]
    kind: Literal["service_levels", "trends", "discovery_rate", "hot_spots", "service_gaps", "resource_scores"]
    version: Annotated[StrictInt, Field(ge=1, le=2_147_483_647)] | None = None
    # service levels (and discovery rate's by/period)
    by: Annotated[list[ColumnName], Field(max_length=5)] | None = None
    period: Literal["day", "week", "month", "quarter", "year"] | None = None
    unit: Literal["calendar", "business"] | None = None
    censoring: Literal["kaplan-meier", "closed-only"] | None = None
    start: date | None = None
    end: date | None = None
    acknowledged: ColumnName | None = None  # a column with the time each request was acknowledged
    population: PopulationIn | None = None  # people per area, for requests per 1,000 residents
    # trends
    freq: Literal["week", "month"] | None = None
    measure: Literal["requests", "median_days", "backlog"] | None = None
    where: Annotated[dict[ColumnName, Annotated[list[Value], Field(min_length=1, max_length=200)]],
                     Field(max_length=5)] | None = None  # fmt: skip
    # discovery rate
    found_column: ColumnName | None = None
    found_values: Annotated[list[Value], Field(max_length=200)] | None = None
    not_held: Annotated[list[Value], Field(max_length=200)] | None = None
    # places: hot spots, service gaps, where resources go
    boundaries: DatasetName | None = None
    id_field: ColumnName | None = None
    area_column: ColumnName | None = None
    correction: Literal["fdr", "bonferroni", "none"] | None = None
    weights: Literal["queen", "rook"] | None = None
    inference: Literal["normal", "permutation"] | None = None
    reference: Value | None = None
    addresses: AddressesIn | None = None  # requests without coordinates matched by address first
    groups: GroupsIn | None = None
    census: CensusIn | None = None


class AnalysisRunOut(Schema):
    id: int
    kind: str
    dataset: str
    version: int
    status: str  # queued, running, done or failed
    fraction: float
    stage: str
    error: str
    params: dict[str, Any]  # every input, as the run used it
    created_by: str
    created_at: datetime
    finished_at: datetime | None


class AnalysisRunDetail(AnalysisRunOut):
    result: dict[str, Any] | None  # the result's to_dict(), once done


class TargetsIn(Input):
    """Days to close per request type; an empty ``days`` and no default removes the targets."""

    unit: Literal["calendar", "business"] = "calendar"
    default: Days | None = None
    days: Annotated[dict[Value, Days], Field(max_length=5000)]


class TargetsOut(Schema):
    unit: str | None
    default: float | None
    days: dict[str, float]


class CalendarIn(Input):
    weekdays: Annotated[list[Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]],
                        Field(min_length=1, max_length=7)] | None = None  # fmt: skip
    holidays: Annotated[list[date], Field(max_length=2000)] | None = None


class CalendarOut(Schema):
    weekdays: list[str]
    holidays: list[date]


class BaselineOut(MetricVersionOut):
    baseline: float | None
    dataset_version: int | None
    requests: int | None


class BriefingIn(Input):
    title: Title
    week: date | None = None


class FindingIn(Input):
    run_id: Annotated[StrictInt, Field(ge=1, le=2_147_483_647)]
    title: Title
    text: Annotated[StrictStr, Field(min_length=1, max_length=4000, pattern=NO_NUL)]
    column: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=NO_NUL)] = "median_days"


class BlessIn(Input):
    note: Line = ""


class FindingOut(Schema):
    id: int
    position: int
    title: str
    text: str
    column: str
    run_id: int
    numbers: list[dict[str, Any]]
    provenance: dict[str, Any]
    created_by: str
    created_at: datetime


class BriefingOut(Schema):
    id: int
    title: str
    week: date
    blessed: bool
    blessed_by: str | None
    blessed_at: datetime | None
    blessing_note: str
    findings: list[FindingOut]
    created_by: str
    created_at: datetime


def run_out(run: AnalysisRun) -> AnalysisRunOut:
    return AnalysisRunOut(
        id=run.pk, kind=run.kind, dataset=run.dataset_version.dataset.name, version=run.dataset_version.number,
        status=run.status, fraction=run.fraction, stage=run.stage, error=run.error, params=run.params,
        created_by=run.created_by.username, created_at=run.created_at, finished_at=run.finished_at,
    )  # fmt: skip


def _finding(f: Finding) -> FindingOut:
    return FindingOut(id=f.pk, position=f.position, title=f.title, text=f.text, column=f.column, run_id=f.run_id,
                      numbers=f.numbers, provenance=f.provenance, created_by=f.created_by.username,
                      created_at=f.created_at)  # fmt: skip


def briefing_out(b: Briefing) -> BriefingOut:
    return BriefingOut(
        id=b.pk, title=b.title, week=b.week, blessed=b.blessed_at is not None,
        blessed_by=b.blessed_by.username if b.blessed_by else None, blessed_at=b.blessed_at,
        blessing_note=b.blessing_note, findings=[_finding(f) for f in b.findings.order_by("position", "id")],
        created_by=b.created_by.username, created_at=b.created_at,
    )  # fmt: skip


# ---- runs -------------------------------------------------------------------------------------------------------


@router.post(
    PROJECT + "/analyses",
    response=answers({200: AnalysisRunOut, 202: AnalysisRunOut}, *WRITE),
    operation_id="run_analysis",
    summary="Analyse a dataset for the project: the saved answer (200) or a new run in the background (202)",
)
def analysis_start(
    request: HttpRequest, city: CityPath, project_id: IdPath, payload: AnalysisIn
) -> Status[AnalysisRunOut]:
    actor = acting(request)
    params = payload.model_dump(exclude_none=True, exclude={"dataset", "kind", "version"})
    started = analysis.request(actor, city, project_id, payload.dataset, payload.kind, params, version=payload.version)
    started.refresh_from_db()  # a task backend that runs at once has finished it already
    return Status(200 if started.status == AnalysisRun.Status.DONE else 202, run_out(started))


@router.get(
    PROJECT + "/analyses",
    response=answers({200: list[AnalysisRunOut]}, *READ),
    operation_id="list_analyses",
    summary="The project's analysis runs, the newest first",
)
def analysis_list(request: HttpRequest, city: CityPath, project_id: IdPath) -> list[AnalysisRunOut]:
    return [run_out(r) for r in analysis.list_runs(acting(request), city, project_id)]


@router.get(
    PROJECT + "/analyses/{analysis_id}",
    response=answers({200: AnalysisRunDetail}, *READ),
    operation_id="get_analysis",
    summary="A run's progress, and its result once done",
)
def analysis_get(request: HttpRequest, city: CityPath, project_id: IdPath, analysis_id: IdPath) -> AnalysisRunDetail:
    run = analysis.get_run(acting(request), city, project_id, analysis_id)
    result = run.result if run.status == AnalysisRun.Status.DONE else None
    return AnalysisRunDetail(**run_out(run).model_dump(), result=result)


# ---- targets, calendar, baseline ---------------------------------------------------------------------------------


def _targets(table: TargetTable | None) -> TargetsOut:
    if table is None:
        return TargetsOut(unit=None, default=None, days={})
    return TargetsOut(unit=table.unit, default=table.default, days=dict(table.days))


@router.get(
    "/cities/{city}/datasets/{dataset_id}/targets",
    response=answers({200: TargetsOut}, *READ),
    operation_id="get_targets",
    summary="The dataset's service-level targets: days to close per request type",
)
def targets_get(request: HttpRequest, city: CityPath, dataset_id: IdPath) -> TargetsOut:
    return _targets(analysis.targets_for(get_dataset_by_id(acting(request), city, dataset_id)))


@router.put(
    "/cities/{city}/datasets/{dataset_id}/targets",
    response=answers({200: TargetsOut}, *WRITE),
    operation_id="set_targets",
    summary="Set the dataset's service-level targets (empty days and no default: none)",
)
def targets_put(request: HttpRequest, city: CityPath, dataset_id: IdPath, payload: TargetsIn) -> TargetsOut:
    actor = acting(request)
    found = get_dataset_by_id(actor, city, dataset_id)
    table = TargetTable(payload.days, payload.unit, payload.default) if payload.days or payload.default else None
    analysis.set_targets(actor, city, found.name, table)
    return _targets(table)


@router.get(
    "/cities/{city}/calendar",
    response=answers({200: CalendarOut}, *READ),
    operation_id="get_work_calendar",
    summary="The city's working days and holidays (business days are counted on them)",
)
def calendar_get(request: HttpRequest, city: CityPath) -> CalendarOut:
    cal = analysis.calendar_for(city_for(acting(request), city))
    return CalendarOut(weekdays=list(cal.weekdays), holidays=list(cal.holidays))


@router.put(
    "/cities/{city}/calendar",
    response=answers({200: CalendarOut}, *WRITE),
    operation_id="set_work_calendar",
    summary="Set the city's working days and/or holidays",
)
def calendar_put(request: HttpRequest, city: CityPath, payload: CalendarIn) -> CalendarOut:
    cal = analysis.set_calendar(acting(request), city, weekdays=payload.weekdays, holidays=payload.holidays)
    return CalendarOut(weekdays=list(cal.weekdays), holidays=list(cal.holidays))


@router.post(
    PROJECT + "/metrics/{metric_name}/baseline",
    response=answers({200: BaselineOut}, *WRITE),
    operation_id="compute_baseline",
    summary="Compute the metric's baseline from its source dataset (a new spec version)",
)
def baseline_post(request: HttpRequest, city: CityPath, project_id: IdPath, metric_name: MetricPath) -> BaselineOut:
    saved = analysis.compute_baseline(acting(request), city, project_id, metric_name)
    return BaselineOut(
        name=saved.name, number=saved.number, spec_hash=saved.spec_hash, created_by=saved.created_by.username,
        created_at=saved.created_at, baseline=saved.spec["baseline"]["value"],
        dataset_version=saved.baseline_from.number if saved.baseline_from else None, requests=saved.baseline_requests,
    )  # fmt: skip


# ---- briefings --------------------------------------------------------------------------------------------------


@router.get(
    PROJECT + "/briefings",
    response=answers({200: list[BriefingOut]}, *READ),
    operation_id="list_briefings",
    summary="The project's findings briefings, the newest week first",
)
def briefings_list(request: HttpRequest, city: CityPath, project_id: IdPath) -> list[BriefingOut]:
    return [briefing_out(b) for b in analysis.list_briefings(acting(request), city, project_id)]


@router.post(
    PROJECT + "/briefings",
    response=answers({201: BriefingOut}, *WRITE),
    operation_id="create_briefing",
    summary="Start a week's findings briefing",
)
def briefing_create(
    request: HttpRequest, city: CityPath, project_id: IdPath, payload: BriefingIn
) -> Status[BriefingOut]:
    item = analysis.create_briefing(acting(request), city, project_id, payload.title, week=payload.week)
    return Status(201, briefing_out(item))


@router.get(
    PROJECT + "/briefings/{briefing_id}",
    response=answers({200: BriefingOut}, *READ),
    operation_id="get_briefing",
    summary="A briefing with its findings",
)
def briefing_get(request: HttpRequest, city: CityPath, project_id: IdPath, briefing_id: IdPath) -> BriefingOut:
    return briefing_out(analysis.get_briefing(acting(request), city, project_id, briefing_id))


@router.post(
    PROJECT + "/briefings/{briefing_id}/findings",
    response=answers({201: BriefingOut}, *WRITE),
    operation_id="add_finding",
    summary="Add a finding made from a finished run to a briefing not blessed yet",
)
def finding_add(
    request: HttpRequest, city: CityPath, project_id: IdPath, briefing_id: IdPath, payload: FindingIn
) -> Status[BriefingOut]:
    actor = acting(request)
    analysis.add_finding(actor, city, project_id, briefing_id, payload.run_id, title=payload.title, text=payload.text,
                         column=payload.column)  # fmt: skip
    return Status(201, briefing_out(analysis.get_briefing(actor, city, project_id, briefing_id)))


@router.post(
    PROJECT + "/briefings/{briefing_id}/bless",
    response=answers({200: BriefingOut}, *WRITE),
    operation_id="bless_briefing",
    summary="The coach's blessing to go on: the briefing is frozen",
)
def briefing_bless(
    request: HttpRequest, city: CityPath, project_id: IdPath, briefing_id: IdPath, payload: BlessIn
) -> BriefingOut:
    return briefing_out(analysis.bless_briefing(acting(request), city, project_id, briefing_id, payload.note))


class CompositeOut(Schema):
    as_of: datetime
    overall: float | None  # the mean of the windows' composites; 1 is on target
    by_window: dict[str, float | None]  # day, week, month, quarter
    scores: list[dict[str, Any]]  # per metric and window: actual, target, score, requests, spec_hash
    notes: list[str]


@router.get(
    PROJECT + "/composite",
    response=answers({200: CompositeOut}, 403, *READ),
    operation_id="get_composite",
    summary="The CityScore-style composite of the project's metrics over the last day, week, month and quarter",
)
def composite_get(request: HttpRequest, city: CityPath, project_id: IdPath) -> CompositeOut:
    result = analysis.composite_for(acting(request), city, project_id)
    data = result.to_dict()
    return CompositeOut(as_of=result.as_of, overall=result.overall, by_window=dict(result.by_window),
                        scores=data["rows"], notes=list(result.notes))  # fmt: skip
