"""Resident-impact analysis in the store: runs saved with their inputs, targets, the calendar, briefings.

A project's analysis of a dataset version is an :class:`AnalysisRun`; its inputs
(breakdown, period, unit, the dataset's target table and the city's working-day
calendar as they were, the mapping) are kept with it and hashed, so the same
question on the same bytes is answered from the saved result, and a finding made
from it names exactly what it was computed from.

A finding goes into the week's :class:`Briefing`; the coach (or a programme
admin) may bless a briefing, which freezes it and meets the analysis gate's
"at least one findings briefing blessed". A metric spec's baseline is computed
from the data (:func:`compute_baseline`), which the gate's "success metric with
baseline and target" asks for.

Breakdowns by personal or sensitive columns are refused: a group's name would
show a person's value.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone as django_timezone

from ridp.analysis import (
    PERIODS,
    Composite,
    DiscoveryRate,
    ServiceLevels,
    TargetTable,
    Trends,
    WorkCalendar,
    composite,
    discovery_rate,
    metric_value,
    service_levels,
    trends,
)
from ridp.analysis.trends import LevelChange, Seasonality
from ridp.errors import FieldError, NotFoundError, RidpError
from ridp.metrics import Baseline, MetricSpec, dump_metric
from ridp.readiness import CanonicalMapping
from ridp.workspace import audit, places
from ridp.workspace.access import allowed, city_for, require
from ridp.workspace.datasets import get_dataset, open_table
from ridp.workspace.metric_specs import get_spec
from ridp.workspace.models import (
    AnalysisRun,
    Briefing,
    City,
    Column,
    Dataset,
    DatasetTargets,
    DatasetVersion,
    Finding,
    MetricSpecVersion,
    Project,
    User,
)
from ridp.workspace.projects import get_project

__all__ = [
    "Result",
    "add_finding",
    "analyze_now",
    "bless_briefing",
    "calendar_for",
    "composite_for",
    "compute_baseline",
    "create_briefing",
    "get_briefing",
    "get_run",
    "list_briefings",
    "list_runs",
    "request",
    "result_of",
    "run",
    "set_calendar",
    "set_targets",
    "targets_for",
]

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
Result = ServiceLevels | Trends | DiscoveryRate
KINDS = tuple(AnalysisRun.Kind.values)
MAX_FINDING_ROWS = 25
_PROGRESS_EVERY = 0.5


# -- the city's calendar and the dataset's targets -----------------------------------------------------------------
def calendar_for(city: City) -> WorkCalendar:
    """The city's working-day calendar (Monday to Friday without holidays until someone sets it)."""
    return WorkCalendar.from_dict(city.work_calendar or None)


def set_calendar(
    actor: User, city: str, *, weekdays: Sequence[str] | None = None, holidays: Sequence[date] | None = None
) -> WorkCalendar:
    """Set the city's working weekdays and/or holidays (the city's data analysts and senior leaders)."""
    city_obj = city_for(actor, city)
    require(actor, city_obj, "dataset.inventory", obj=city_obj)
    current = calendar_for(city_obj)
    calendar = WorkCalendar(
        tuple(weekdays) if weekdays is not None else current.weekdays,
        tuple(holidays) if holidays is not None else current.holidays,
    )
    with transaction.atomic():
        City.objects.filter(pk=city_obj.pk).update(work_calendar=calendar.to_dict())
        audit.record("analysis.calendar_set", actor=actor, city=city_obj, obj=city_obj,
                     weekdays=",".join(calendar.weekdays), holidays=len(calendar.holidays))  # fmt: skip
    return calendar


def targets_for(dataset: Dataset) -> TargetTable | None:
    """The dataset's service-level targets, or None when none are set."""
    latest = DatasetTargets.objects.filter(dataset=dataset).order_by("-created_at", "-id").first()
    if latest is None or not latest.targets:
        return None
    return TargetTable.from_dict(latest.targets)


def set_targets(actor: User, city: str, name: str, targets: TargetTable | None) -> DatasetTargets:
    """Set the dataset's targets: days to close per request type (None removes them). Data analysts."""
    dataset = get_dataset(actor, city, name)
    require(actor, dataset.city, "dataset.map", obj=dataset)
    with transaction.atomic():
        saved = DatasetTargets.objects.create(
            dataset=dataset, targets=targets.to_dict() if targets else {}, created_by=actor
        )
        audit.record("analysis.targets_set", actor=actor, city=dataset.city, obj=dataset,
                     types=len(targets.days) if targets else 0)  # fmt: skip
    return saved


# -- runs ----------------------------------------------------------------------------------------------------------
def _hash(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _mapping(dataset: Dataset) -> CanonicalMapping:
    from ridp.workspace.readiness import _mapping as stored_mapping

    return stored_mapping(dataset)


def _version(dataset: Dataset, number: int | None) -> DatasetVersion:
    if number is None:
        if dataset.current_version is None:
            raise NotFoundError(f"{dataset.name} has no data yet", hint="add a version with `ridp data add`")
        return dataset.current_version
    found = DatasetVersion.objects.filter(dataset=dataset, number=number).first()
    if found is None:
        raise NotFoundError(f"{dataset.name} has no version {number}")
    return found


def _personal(version: DatasetVersion) -> set[str]:
    kinds = [Column.Classification.PERSONAL, Column.Classification.SENSITIVE]
    return set(version.columns.filter(classification__in=kinds).values_list("name", flat=True))


def _day(value: object, field: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return (value if isinstance(value, date) else date.fromisoformat(str(value))).isoformat()
    except ValueError:
        raise FieldError(field, f"{value!r} is not a date like 2024-01-31") from None


def _clean_params(kind: str, params: Mapping[str, Any], dataset: Dataset, version: DatasetVersion) -> dict[str, Any]:
    """The run's inputs, checked and completed, as JSON-ready data (the hash is taken of exactly this)."""
    mapping = _mapping(dataset)
    columns = set(version.columns.values_list("name", flat=True))
    personal = _personal(version)
    if kind in places.PLACES_KINDS:
        unknown = sorted(set(params) - places.PLACES_INPUTS[kind])
        if unknown:
            raise FieldError(unknown[0], f"is not an input of {kind.replace('_', ' ')}; inputs: "
                             f"{', '.join(sorted(places.PLACES_INPUTS[kind]))}")  # fmt: skip
        return {"mapping": mapping.to_dict(), **places.clean_params(kind, params, dataset, columns, personal)}
    known = {
        "service_levels": {"by", "period", "unit", "censoring", "start", "end", "acknowledged", "population"},
        "trends": {"freq", "measure", "where", "start", "end"},
        "discovery_rate": {"found_column", "found_values", "not_held", "by", "period"},
    }[kind]
    unknown = sorted(set(params) - known)
    if unknown:
        raise FieldError(unknown[0], f"is not an input of {kind.replace('_', ' ')}; inputs: {', '.join(sorted(known))}")
    out: dict[str, Any] = {"mapping": mapping.to_dict()}
    by = [str(b) for b in params.get("by") or (("type",) if kind == "service_levels" else ())]
    for name in by:
        column = mapping.areas[0] if name == "area" and mapping.areas else mapping.column(name) or name
        if column in personal:
            raise FieldError("by", f"{name!r} is a personal or sensitive column: its values cannot name groups")
        if column not in columns and name not in ("type", "agency", "channel", "status", "area"):
            raise FieldError("by", f"{name!r} is not a column of {dataset.name}")
    if kind == "service_levels":
        period = params.get("period") or None
        if period is not None and period not in PERIODS:
            raise FieldError("period", f"{period!r} is not one of {', '.join(PERIODS)}")
        unit = params.get("unit") or "calendar"
        targets = targets_for(dataset)
        acknowledged = params.get("acknowledged") or None
        if acknowledged is not None and acknowledged not in columns:
            raise FieldError("acknowledged", f"{acknowledged!r} is not a column of {dataset.name}")
        out.update(by=by, period=period, unit=unit, censoring=params.get("censoring") or "kaplan-meier",
                   start=_day(params.get("start"), "start"), end=_day(params.get("end"), "end"),
                   targets=targets.to_dict() if targets and targets.unit == unit else None,
                   calendar=calendar_for(dataset.city).to_dict(), acknowledged=acknowledged,
                   population=_population_param(params.get("population"), dataset, by, mapping))  # fmt: skip
    elif kind == "trends":
        where = {str(k): [str(v) for v in vs] for k, vs in (params.get("where") or {}).items()}
        for name in where:
            column = mapping.column(name) or name
            if column in personal:
                raise FieldError("where", f"{name!r} is a personal or sensitive column")
        out.update(freq=params.get("freq") or "week", measure=params.get("measure") or "requests", where=where,
                   start=_day(params.get("start"), "start"), end=_day(params.get("end"), "end"))  # fmt: skip
    else:
        column = str(params.get("found_column") or "")
        if column not in columns:
            raise FieldError("found_column", f"{column!r} is not a column of {dataset.name}")
        out.update(found_column=column, found_values=[str(v) for v in params.get("found_values") or ()],
                   not_held=[str(v) for v in params.get("not_held") or ()], by=by,
                   period=params.get("period") or None)  # fmt: skip
    return out


def _population_param(
    value: object, dataset: Dataset, by: list[str], mapping: CanonicalMapping
) -> dict[str, Any] | None:
    """``{"dataset", "key", "value"}``: a dataset of the city with people per area, pinned to its current version."""
    if not value:
        return None
    if not isinstance(value, Mapping) or set(value) != {"dataset", "key", "value"}:
        raise FieldError("population", "is {dataset, key, value}: the dataset, its area column and its people column")
    if not any(b == "area" or b in mapping.areas for b in by):
        raise FieldError("population", "is per area: break down by an area too (by: area)")
    found = Dataset.objects.filter(city=dataset.city, name=str(value["dataset"])).first()
    if found is None or found.current_version is None:
        raise FieldError("population", f"{dataset.city.name} has no dataset {value['dataset']!r} with data")
    names = set(found.current_version.columns.values_list("name", flat=True))
    for part in ("key", "value"):
        if str(value[part]) not in names:
            raise FieldError("population", f"{found.name} has no column {value[part]!r}")
    return {"dataset": found.name, "version": found.current_version.number, "key": str(value["key"]),
            "value": str(value["value"])}  # fmt: skip


def _population(actor: User, city: str, spec: Mapping[str, Any], engine_url: str | None) -> dict[str, float]:
    """People per area, read from the population dataset's pinned version."""
    import pandas as pd

    table = open_table(actor, city, spec["dataset"], version=spec["version"], engine_url=engine_url)
    frame = table.select(table[spec["key"]].cast("string").name("k"), table[spec["value"]].name("v")).to_pandas()
    values = pd.to_numeric(frame["v"], errors="coerce")
    return {str(k): float(v) for k, v in zip(frame["k"], values, strict=True) if k is not None and pd.notna(v)}


def request(
    actor: User, city: str, project_id: int, dataset_name: str, kind: str, params: Mapping[str, Any] | None = None,
    *, version: int | None = None, enqueue: Callable[[int], str] | None = None,
) -> AnalysisRun:  # fmt: skip
    """The saved run answering this question, or a new run queued as a background task."""
    if kind not in KINDS:
        raise FieldError("kind", f"{kind!r} is one of {', '.join(KINDS)}")
    project = get_project(actor, city, project_id)
    dataset = get_dataset(actor, city, dataset_name)
    require(actor, dataset.city, "rows.read", obj=dataset)
    chosen = _version(dataset, version)
    clean = _clean_params(kind, params or {}, dataset, chosen)
    params_hash = _hash({"kind": kind, **clean})
    existing = (
        AnalysisRun.objects.filter(project=project, dataset_version=chosen, kind=kind, params_hash=params_hash)
        .exclude(status=AnalysisRun.Status.FAILED)
        .order_by("-created_at", "-id")
        .first()
    )
    if existing is not None:
        return existing
    new = AnalysisRun.objects.create(
        project=project, dataset_version=chosen, kind=kind, params=clean, params_hash=params_hash, created_by=actor
    )
    audit.record("analysis.requested", actor=actor, city=project.city, obj=project, run=new.pk, kind=kind,
                 dataset=dataset.name, version=chosen.number)  # fmt: skip
    (enqueue or _enqueue)(new.pk)
    return new


def _enqueue(run_id: int) -> str:
    from ridp.web.tasks import analysis_run

    return str(analysis_run.enqueue(run_id).id)


def _compute(item: AnalysisRun, engine_url: str | None, report: Progress) -> Result:
    if item.kind in places.PLACES_KINDS:
        return places.compute(item, engine_url, report)  # type: ignore[no-any-return]
    version = item.dataset_version
    dataset = version.dataset
    p = item.params
    report(0.1, "opening the data")
    table = open_table(item.created_by, dataset.city.slug, dataset.name, version=version.number, engine_url=engine_url)
    mapping = CanonicalMapping(**p["mapping"])
    start = date.fromisoformat(p["start"]) if p.get("start") else None
    end = date.fromisoformat(p["end"]) if p.get("end") else None
    report(0.3, f"computing {item.get_kind_display()}")
    if item.kind == AnalysisRun.Kind.SERVICE_LEVELS:
        people = p.get("population")
        return service_levels(
            table, mapping, by=p["by"], period=p["period"], unit=p["unit"], censoring=p["censoring"],
            start=start, end=end, targets=TargetTable.from_dict(p["targets"]) if p.get("targets") else None,
            calendar=WorkCalendar.from_dict(p["calendar"]), acknowledged=p.get("acknowledged"),
            population=_population(item.created_by, dataset.city.slug, people, engine_url) if people else None,
        )  # fmt: skip
    if item.kind == AnalysisRun.Kind.TRENDS:
        return trends(table, mapping, freq=p["freq"], measure=p["measure"], where=p["where"], start=start, end=end)
    return discovery_rate(table, mapping, found_column=p["found_column"], found_values=p["found_values"] or None,
                          not_held=p["not_held"], by=p["by"], period=p["period"])  # fmt: skip


def run(run_id: int, *, engine_url: str | None = None, progress: Progress | None = None) -> AnalysisRun:
    """Compute a queued run (the background task's body): saves the result, or a clear error."""
    item = AnalysisRun.objects.select_related("dataset_version__dataset__city", "created_by", "project").get(pk=run_id)
    if item.status not in (AnalysisRun.Status.QUEUED, AnalysisRun.Status.RUNNING):
        return item
    AnalysisRun.objects.filter(pk=item.pk).update(status=AnalysisRun.Status.RUNNING, stage="starting", fraction=0.0)
    last = [0.0]

    def report(fraction: float, stage: str) -> None:
        if progress is not None:
            progress(fraction, stage)
        now = time.monotonic()
        if now - last[0] >= _PROGRESS_EVERY or fraction >= 1.0:
            last[0] = now
            AnalysisRun.objects.filter(pk=item.pk).update(fraction=min(max(fraction, 0.0), 1.0), stage=stage[:40])

    try:
        result = _compute(item, engine_url, report)
    except RidpError as exc:
        _fail(item, str(exc))
    except Exception:
        log.exception("analysis run %s failed unexpectedly", item.pk)
        _fail(item, "ridp could not finish the analysis because of an internal error; it was recorded.")
    else:
        report(1.0, "done")
        with transaction.atomic():
            AnalysisRun.objects.filter(pk=item.pk).update(
                status=AnalysisRun.Status.DONE, result=result.to_dict(), fraction=1.0, stage="done",
                finished_at=django_timezone.now(),
            )  # fmt: skip
            audit.record("analysis.done", actor=item.created_by, city=item.project.city, obj=item.project,
                         run=item.pk, kind=item.kind)  # fmt: skip
    item.refresh_from_db()
    return item


def _fail(item: AnalysisRun, message: str) -> None:
    AnalysisRun.objects.filter(pk=item.pk).update(
        status=AnalysisRun.Status.FAILED, error=message, finished_at=django_timezone.now(), stage="failed"
    )
    audit.record("analysis.failed", actor=item.created_by, city=item.project.city, obj=item.project, run=item.pk)


def analyze_now(
    actor: User, city: str, project_id: int, dataset_name: str, kind: str, params: Mapping[str, Any] | None = None,
    *, version: int | None = None, engine_url: str | None = None, progress: Progress | None = None,
) -> tuple[AnalysisRun, Result]:  # fmt: skip
    """Answer now, in this process (the CLI, a notebook): the saved result when there is one, else a new run."""
    item = request(actor, city, project_id, dataset_name, kind, params, version=version, enqueue=lambda _id: "")
    if item.status in (AnalysisRun.Status.QUEUED, AnalysisRun.Status.RUNNING):
        item = run(item.pk, engine_url=engine_url, progress=progress)
    if item.status == AnalysisRun.Status.FAILED:
        raise RidpError(item.error)
    return item, result_of(item)


def result_of(item: AnalysisRun) -> Result:
    """The frozen result a finished run holds."""
    if item.result is None:
        raise NotFoundError(f"analysis run {item.pk} has no result yet ({item.status})")
    data = item.result
    if item.kind == AnalysisRun.Kind.SERVICE_LEVELS:
        return ServiceLevels.from_dict(data)
    if item.kind == AnalysisRun.Kind.TRENDS:
        return _trends_from_dict(data)
    if item.kind in places.PLACES_KINDS:
        return places.result_from_dict(item.kind, data)  # type: ignore[no-any-return]
    return _discovery_from_dict(data)


def _trends_from_dict(data: Mapping[str, Any]) -> Trends:
    import pandas as pd

    frame = pd.DataFrame(list(data["rows"]), columns=list(data["columns"]))
    frame["period"] = pd.to_datetime(frame["period"])
    season = data.get("seasonality")
    changes = tuple(
        LevelChange(
            date=date.fromisoformat(c["date"]),
            date_low=date.fromisoformat(c["date_low"]),
            date_high=date.fromisoformat(c["date_high"]),
            before=c["before"],
            after=c["after"],
            step=c["step"],
            step_low=c["step_low"],
            step_high=c["step_high"],
            f_statistic=c["f_statistic"],
        )
        for c in data["changes"]
    )
    return Trends(
        data["freq"], data["measure"], {k: tuple(v) for k, v in data["where"].items()},
        datetime.fromisoformat(data["as_of"]), Seasonality(**season) if season else None, changes,
        tuple(data["notes"]), frame,
    )  # fmt: skip


def _discovery_from_dict(data: Mapping[str, Any]) -> DiscoveryRate:
    return DiscoveryRate.from_dict(data)


def get_run(actor: User, city: str, project_id: int, run_id: int) -> AnalysisRun:
    project = get_project(actor, city, project_id)
    item = AnalysisRun.objects.filter(pk=run_id, project=project).select_related("dataset_version__dataset").first()
    if item is None:
        raise NotFoundError(f"no analysis run {run_id} in project {project_id}")
    return item


def list_runs(actor: User, city: str, project_id: int) -> list[AnalysisRun]:
    project = get_project(actor, city, project_id)
    return list(
        AnalysisRun.objects.filter(project=project)
        .select_related("dataset_version__dataset")
        .order_by("-created_at", "-id")
    )


# -- the composite score ----------------------------------------------------------------------------------------
def composite_for(actor: User, city: str, project_id: int, *, engine_url: str | None = None) -> Composite:
    """The project's CityScore-style composite over its metric specs (each on its own source dataset)."""
    from ridp.workspace.metric_specs import list_specs, spec_of

    project = get_project(actor, city, project_id)
    require(actor, project.city, "rows.read", obj=project)
    items: list[tuple[MetricSpec, Any, CanonicalMapping]] = []
    for version in list_specs(actor, city, project_id):
        spec = spec_of(version)
        dataset = get_dataset(actor, city, spec.source)
        table = open_table(actor, city, dataset.name, engine_url=engine_url)
        items.append((spec, table, _mapping(dataset)))
    if not items:
        raise FieldError("metrics", "the project has no metric specs: the composite is made of them")
    return composite(items)


# -- the baseline, from the data ------------------------------------------------------------------------------------
def compute_baseline(
    actor: User, city: str, project_id: int, name: str, *, engine_url: str | None = None
) -> MetricSpecVersion:
    """Compute the metric's baseline from its source dataset over its baseline period, as a new spec version.

    The new version records the dataset version and the number of requests the value came from.
    """
    project = get_project(actor, city, project_id)
    require(actor, project.city, "metric.edit", obj=project)
    current = get_spec(actor, city, project_id, name)
    spec = MetricSpec.from_dict(current.spec)
    dataset = get_dataset(actor, city, spec.source)
    require(actor, dataset.city, "rows.read", obj=dataset)
    version = _version(dataset, None)
    table = open_table(actor, city, dataset.name, version=version.number, engine_url=engine_url)
    value = metric_value(spec, table, _mapping(dataset))
    if value.value is None:
        raise RidpError(f"{spec.name}: no value over {spec.baseline.start} – {spec.baseline.end} "
                        f"({value.requests} requests): the baseline cannot be computed from {dataset.name}")  # fmt: skip
    computed = MetricSpec.from_dict(
        {
            **spec.to_dict(),
            "baseline": {
                "value": round(value.value, 6),
                "start": spec.baseline.start.isoformat(),
                "end": spec.baseline.end.isoformat(),
            },
        }
    )
    assert isinstance(computed.baseline, Baseline)
    with transaction.atomic():
        number = (MetricSpecVersion.objects.filter(project=project, name=name).aggregate(n=Max("number"))["n"] or 0) + 1
        saved = MetricSpecVersion.objects.create(
            project=project, name=name, number=number, spec=computed.to_dict(), yaml=dump_metric(computed),
            spec_hash=computed.spec_hash(), baseline_from=version, baseline_requests=value.requests, created_by=actor,
        )  # fmt: skip
        audit.record("metric.baseline_computed", actor=actor, city=project.city, obj=project, metric=name,
                     value=computed.baseline.value, dataset=dataset.name, version=version.number,
                     requests=value.requests)  # fmt: skip
    return saved


def baseline_gaps(project: Project) -> list[str]:
    """Why the project's success metric has no baseline computed from the data and no target (empty = met)."""
    from ridp.workspace.metric_specs import success_metric

    chosen = success_metric(project)
    if chosen is None:
        return ["choose the project's success metric among its metric specs"]
    spec = MetricSpec.from_dict(chosen.spec)
    if chosen.baseline_from_id is None or spec.baseline.value is None:
        return [f"compute the baseline of {spec.name} from {spec.source} (`ridp analyze baseline`)"]
    return []


# -- briefings ------------------------------------------------------------------------------------------------------
def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def create_briefing(actor: User, city: str, project_id: int, title: str, *, week: date | None = None) -> Briefing:
    """Start the findings briefing of a week (this week by default) for the coach meeting."""
    project = get_project(actor, city, project_id)
    require(actor, project.city, "project.edit", obj=project)
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise FieldError("title", "is between 1 and 200 characters")
    with transaction.atomic():
        item = Briefing.objects.create(
            project=project, week=_monday(week or django_timezone.localdate()), title=title, created_by=actor
        )
        audit.record("briefing.created", actor=actor, city=project.city, obj=project, briefing=item.pk)
    return item


def get_briefing(actor: User, city: str, project_id: int, briefing_id: int) -> Briefing:
    project = get_project(actor, city, project_id)
    item = Briefing.objects.filter(pk=briefing_id, project=project).first()
    if item is None:
        raise NotFoundError(f"no briefing {briefing_id} in project {project_id}")
    return item


def list_briefings(actor: User, city: str, project_id: int) -> list[Briefing]:
    project = get_project(actor, city, project_id)
    return list(Briefing.objects.filter(project=project).prefetch_related("findings").order_by("-week", "-id"))


def _numbers(result: Result, column: str) -> list[dict[str, Any]]:
    ranked = places.worst_first(result)
    if ranked is not None:
        frame = ranked.head(MAX_FINDING_ROWS)
    elif isinstance(result, ServiceLevels):
        frame = result.ranked(column).head(MAX_FINDING_ROWS)
    else:
        frame = (
            result.to_pandas().head(MAX_FINDING_ROWS)
            if not isinstance(result, Trends)
            else result.to_pandas().tail(MAX_FINDING_ROWS)
        )
    if column not in frame.columns:
        raise FieldError("column", f"{column!r} is not a column of this result; columns: {', '.join(frame.columns)}")
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return rows


def add_finding(
    actor: User, city: str, project_id: int, briefing_id: int, run_id: int, *, title: str, text: str,
    column: str = "median_days",
) -> Finding:  # fmt: skip
    """Add a finding made from a finished run to a briefing that is not blessed yet."""
    briefing = get_briefing(actor, city, project_id, briefing_id)
    project = briefing.project
    require(actor, project.city, "project.edit", obj=project)
    if briefing.blessed_at is not None:
        raise FieldError("briefing", "is blessed and frozen: put new findings in a new briefing")
    try:
        item = get_run(actor, city, project_id, run_id)
    except NotFoundError:  # the briefing exists: a run named in the request that is not the project's is a bad field
        raise FieldError("run", f"the project has no analysis run {run_id}") from None
    if item.status != AnalysisRun.Status.DONE:
        raise FieldError("run", f"analysis run {run_id} has not finished ({item.status})")
    title, text = (title or "").strip(), (text or "").strip()
    if not title or len(title) > 200:
        raise FieldError("title", "is between 1 and 200 characters")
    if not text or len(text) > 4000:
        raise FieldError("text", "is between 1 and 4,000 characters")
    result = result_of(item)
    if isinstance(result, Trends) and column == "median_days":
        column = "value"
    if item.kind in places.PLACES_KINDS and column == "median_days":
        column = places.FINDING_COLUMN[item.kind]
    numbers = _numbers(result, column)
    version = item.dataset_version
    specs = {s.name: s.spec_hash for s in MetricSpecVersion.objects.filter(project=project).order_by("name", "number")}
    provenance = {"dataset": version.dataset.name, "version": version.number, "source_sha256": version.source_sha256,
                  "kind": item.kind, "params_hash": item.params_hash, "run": item.pk, "metric_specs": specs}  # fmt: skip
    with transaction.atomic():
        position = briefing.findings.count() + 1
        finding = Finding.objects.create(
            briefing=briefing, run=item, position=position, title=title, text=text, column=column, numbers=numbers,
            provenance=provenance, created_by=actor,
        )  # fmt: skip
        audit.record("briefing.finding_added", actor=actor, city=project.city, obj=project, briefing=briefing.pk,
                     finding=finding.pk, run=item.pk)  # fmt: skip
    return finding


def bless_briefing(actor: User, city: str, project_id: int, briefing_id: int, note: str = "") -> Briefing:
    """The coach's blessing to go on: the briefing is frozen, and the analysis gate's condition is met."""
    briefing = get_briefing(actor, city, project_id, briefing_id)
    project = briefing.project
    require(actor, project.city, "meeting.bless", obj=project)
    if briefing.blessed_at is not None:
        raise FieldError("briefing", "is blessed already")
    if not briefing.findings.exists():
        raise FieldError("briefing", "has no findings yet: a blessing is given to findings")
    with transaction.atomic():
        Briefing.objects.filter(pk=briefing.pk).update(
            blessed_by=actor, blessed_at=django_timezone.now(), blessing_note=(note or "").strip()[:4000]
        )
        audit.record("briefing.blessed", actor=actor, city=project.city, obj=project, briefing=briefing.pk)
    briefing.refresh_from_db()
    return briefing


def briefing_gaps(project: Project) -> list[str]:
    """Empty when at least one of the project's briefings is blessed."""
    if Briefing.objects.filter(project=project, blessed_at__isnull=False).exists():
        return []
    if Briefing.objects.filter(project=project).exists():
        return ["the coach has not blessed a findings briefing yet"]
    return ["add a findings briefing and ask the coach to bless it"]


def can_bless(actor: User, project: Project) -> bool:
    return allowed(actor, project.city, "meeting.bless")
