"""Data readiness in the store: a dataset's checks, runs saved with their inputs, the gate and criterion 3.

A run is looked up by (dataset version, checks hash, needs hash): the same
question on the same bytes is answered from the saved result. What the project's
metrics need comes from the metric specs whose source is the dataset; the mapping
is part of the needs hash, so a corrected mapping is a new question.

Personal and sensitive columns are always masked in a saved result (samples and
top values), whoever ran it, because viewers read saved results too.

Examples
--------
``run, result = assess_now(ana, "springfield", "requests")`` then ``result.verdict.level``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone as django_timezone

from ridp.errors import NotFoundError, RidpError
from ridp.metrics import MetricNeeds
from ridp.readiness import CanonicalMapping, CheckSuite, Needs, Readiness, assess, default_checks, load_checks
from ridp.workspace import audit
from ridp.workspace.access import require
from ridp.workspace.datasets import get_dataset, open_table
from ridp.workspace.models import (
    Column,
    CriterionRating,
    Dataset,
    DatasetChecks,
    DatasetMapping,
    DatasetVersion,
    MetricSpecVersion,
    Project,
    ReadinessRun,
    User,
)

__all__ = [
    "assess_now",
    "checks_for",
    "checks_in_force",
    "get_run",
    "latest_run",
    "needs_for",
    "request",
    "result_of",
    "run",
    "set_checks",
]

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
_PROGRESS_EVERY = 0.5  # seconds between progress writes
CRITERION = "data_quality"
SCORE = {"insufficient": 0, "proceed with caution": 1, "sufficient": 2}


# -- inputs ---------------------------------------------------------------------------------
def _latest_specs(dataset: Dataset) -> list[MetricSpecVersion]:
    """The latest version of every metric spec, in the dataset's city, whose source is this dataset."""
    latest: dict[tuple[int, str], MetricSpecVersion] = {}
    rows = MetricSpecVersion.objects.filter(project__city=dataset.city).order_by("project_id", "name", "number")
    for spec in rows:
        latest[(spec.project_id, spec.name)] = spec
    return [s for s in latest.values() if s.spec.get("source") == dataset.name]


def needs_for(dataset: Dataset, specs: list[MetricSpecVersion] | None = None) -> Needs:
    """What the metrics computed from ``dataset`` need of it (fields, period, years, places).

    ``specs`` are the dataset's latest metric specs (:func:`_latest_specs`) when the caller has read them
    already, so that one question reads them once.
    """
    from ridp.metrics import MetricSpec

    specs = _latest_specs(dataset) if specs is None else specs
    if not specs:
        return Needs(fields=("opened",), years=1.0)
    parts: list[MetricNeeds] = [MetricSpec.from_dict(s.spec).needs() for s in specs]
    start = min(p.start for p in parts)
    end = max(p.end for p in parts)
    fields = tuple(dict.fromkeys(f for p in parts for f in p.fields))
    geography = any(p.areas for p in parts) or any(f in ("latitude", "longitude") for f in fields)
    return Needs(
        fields=fields,
        start=start,
        end=end,
        years=max(1.0, round((end - start).days / 365.25, 2)),
        areas=geography,
        metrics=tuple(sorted({s.name for s in specs})),
    )


def _mapping(dataset: Dataset) -> CanonicalMapping:
    stored = DatasetMapping.objects.filter(dataset=dataset).order_by("-created_at", "-id").first()
    if stored is None:
        return CanonicalMapping(timezone=dataset.city.timezone)
    columns = set(dataset.current_version.columns.values_list("name", flat=True)) if dataset.current_version else set()
    fields = {k: v for k, v in stored.fields.items() if isinstance(v, dict) and v.get("column") in columns}
    return CanonicalMapping.from_stored(fields, [a for a in stored.areas if a in columns], stored.timezone)


def checks_for(dataset: Dataset) -> str:
    """The dataset's declared checks (YAML), or "" when it uses the defaults made from its mapping."""
    latest = DatasetChecks.objects.filter(dataset=dataset).order_by("-created_at", "-id").first()
    return latest.yaml if latest else ""


def _suite(dataset: Dataset, version: DatasetVersion, text: str | None) -> CheckSuite:
    columns = list(version.columns.order_by("position").values_list("name", flat=True))
    text = checks_for(dataset) if text is None else text
    if text.strip():
        return load_checks(text, columns=columns, source=f"checks of {dataset.name}")
    return default_checks(_mapping(dataset), columns)


def checks_in_force(dataset: Dataset) -> str:
    """The checks a run of the current version would use, as YAML: the declared text as written, else the
    defaults made from the mapping."""
    declared = checks_for(dataset)
    if declared or dataset.current_version is None:
        return declared
    return _suite(dataset, dataset.current_version, None).to_yaml()


def set_checks(actor: User, city: str, name: str, text: str) -> DatasetChecks:
    """Declare a dataset's checks (YAML; "" goes back to the defaults). Checked against the current columns first."""
    dataset = get_dataset(actor, city, name)
    require(actor, dataset.city, "dataset.map", obj=dataset)
    if dataset.current_version is None:
        raise NotFoundError(f"{dataset.name} has no data yet, so there are no columns to check")
    suite = _suite(dataset, dataset.current_version, text)
    with transaction.atomic():
        saved = DatasetChecks.objects.create(dataset=dataset, yaml=text if text.strip() else "", created_by=actor)
        audit.record("readiness.checks_set", actor=actor, city=dataset.city, obj=dataset, checks=len(suite))
    return saved


def _hash(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _question(dataset: Dataset, version: DatasetVersion, checks_text: str | None) -> tuple[CheckSuite, dict[str, Any]]:
    suite = _suite(dataset, version, checks_text)
    specs = _latest_specs(dataset)  # read once: the needs and the spec hashes are of the same specs
    question: dict[str, Any] = {
        "needs": needs_for(dataset, specs).to_dict(),
        "mapping": _mapping(dataset).to_dict(),
        # every metric spec the verdict is judged for, by the hash of the version read
        "specs": {f"{s.project_id}:{s.name}": s.spec_hash for s in specs},
    }
    return suite, question


def _version(dataset: Dataset, number: int | None) -> DatasetVersion:
    chosen = dataset.current_version if number is None else dataset.versions.filter(number=number).first()
    if chosen is None:
        raise NotFoundError(
            f"{dataset.name} has no data yet" if number is None else f"{dataset.name} has no version {number}"
        )
    return chosen


# -- runs -------------------------------------------------------------------------------------
def request(
    actor: User, city: str, name: str, *, version: int | None = None, checks_text: str | None = None,
    enqueue: Callable[[int], str] | None = None,
) -> ReadinessRun:  # fmt: skip
    """The saved run answering this question, or a new run queued as a background task."""
    dataset = get_dataset(actor, city, name)
    require(actor, dataset.city, "rows.read", obj=dataset)
    chosen = _version(dataset, version)
    suite, question = _question(dataset, chosen, checks_text)
    checks_hash, needs_hash = suite.spec_hash(), _hash(question)
    existing = (
        ReadinessRun.objects.filter(dataset_version=chosen, checks_hash=checks_hash, needs_hash=needs_hash)
        .exclude(status=ReadinessRun.Status.FAILED)
        .order_by("-created_at", "-id")
        .first()
    )
    if existing is not None:
        return existing
    new = ReadinessRun.objects.create(
        dataset_version=chosen, checks_yaml=suite.to_yaml(), checks_hash=checks_hash, needs=question,
        needs_hash=needs_hash, created_by=actor,
    )  # fmt: skip
    audit.record("readiness.requested", actor=actor, city=dataset.city, obj=chosen, run=new.pk)
    (enqueue or _enqueue)(new.pk)
    return new


def _enqueue(run_id: int) -> str:
    from ridp.web.tasks import readiness_run

    return str(readiness_run.enqueue(run_id).id)


def run(
    run_id: int, *, engine_url: str | None = None, progress: Progress | None = None, today: date | None = None
) -> ReadinessRun:
    """Compute a queued run (the background task's body): saves the result, or a clear error."""
    item = ReadinessRun.objects.select_related("dataset_version__dataset__city", "created_by").get(pk=run_id)
    if item.status not in (ReadinessRun.Status.QUEUED, ReadinessRun.Status.RUNNING):
        return item
    version = item.dataset_version
    dataset = version.dataset
    ReadinessRun.objects.filter(pk=item.pk).update(status=ReadinessRun.Status.RUNNING, stage="starting", fraction=0.0)
    last = [0.0]

    def report(fraction: float, stage: str) -> None:
        if progress is not None:
            progress(fraction, stage)
        now = time.monotonic()
        if now - last[0] >= _PROGRESS_EVERY or fraction >= 1.0:
            last[0] = now
            ReadinessRun.objects.filter(pk=item.pk).update(fraction=min(max(fraction, 0.0), 1.0), stage=stage[:40])

    personal = list(
        version.columns.filter(
            classification__in=[Column.Classification.PERSONAL, Column.Classification.SENSITIVE]
        ).values_list("name", flat=True)
    )
    try:
        actor = item.created_by
        # Unmasked so personal columns are counted (missing, distinct) as they are; `personal` below
        # masks their values in every sample, top value and range the result keeps.
        table = open_table(
            actor, dataset.city.slug, dataset.name, version=version.number, engine_url=engine_url, mask=False
        )
        question = item.needs
        mapping = CanonicalMapping(**question["mapping"])
        columns = list(version.columns.order_by("position").values_list("name", flat=True))
        # Parsed again from the stored text, not taken from request(): the worker is another process, and
        # the stored YAML keeps no check descriptions, so a result is the same whichever process computes it.
        suite = load_checks(item.checks_yaml, columns=columns, source=f"checks of {dataset.name}")
        result = assess(
            table, mapping=mapping, checks=suite, needs=Needs.from_dict(question["needs"]), masked=personal,
            today=today or django_timezone.localdate(), others=_others(actor, dataset, suite, engine_url),
            progress=report,
        )  # fmt: skip
    except RidpError as exc:
        _fail(item, str(exc))
    except Exception:
        log.exception("readiness run %s failed unexpectedly", item.pk)
        _fail(item, "ridp could not finish the readiness run because of an internal error; it was recorded.")
    else:
        with transaction.atomic():
            ReadinessRun.objects.filter(pk=item.pk).update(
                status=ReadinessRun.Status.DONE, result=result.to_dict(), fraction=1.0, stage="done",
                finished_at=django_timezone.now(),
            )  # fmt: skip
            audit.record(
                "readiness.done", actor=item.created_by, city=dataset.city, obj=version, run=item.pk,
                verdict=result.verdict.level,
            )  # fmt: skip
            _fill_criterion(item, dataset, result)
    item.refresh_from_db()
    return item


def _others(actor: User, dataset: Dataset, suite: CheckSuite, engine_url: str | None) -> dict[str, object]:
    """The datasets a referential check names, opened on the same engine."""
    names = {str(c.params["dataset"]) for c in suite.checks if c.kind == "referential"}
    out: dict[str, object] = {}
    for other in names:
        try:
            out[other] = open_table(actor, dataset.city.slug, other, engine_url=engine_url)
        except RidpError:
            continue  # the check says it could not follow the references, and why
    return out


def _fail(item: ReadinessRun, message: str) -> None:
    ReadinessRun.objects.filter(pk=item.pk).update(
        status=ReadinessRun.Status.FAILED, error=message, finished_at=django_timezone.now()
    )


def _fill_criterion(item: ReadinessRun, dataset: Dataset, result: Readiness) -> None:
    """Criterion 3 of scoping ("sufficient quality data") for every project whose metrics read this dataset."""
    projects = {s.project_id for s in _latest_specs(dataset)}
    version = item.dataset_version
    for project in Project.objects.filter(pk__in=projects):
        if dataset.current_version_id != version.pk:
            continue
        rating = CriterionRating.objects.create(
            project=project, criterion=CRITERION, score=SCORE[result.verdict.level], rater=item.created_by,
            evidence=f"Data readiness of {dataset.name} v{version.number}: {result.verdict.level}. {result.verdict.explanation}",
        )  # fmt: skip
        audit.record(
            "scoping.rated", actor=item.created_by, city=dataset.city, obj=rating, project=project.pk,
            criterion=CRITERION, score=rating.score, source="readiness",
        )  # fmt: skip


def assess_now(
    actor: User, city: str, name: str, *, version: int | None = None, checks_text: str | None = None,
    engine_url: str | None = None, progress: Progress | None = None, today: date | None = None,
) -> tuple[ReadinessRun, Readiness]:  # fmt: skip
    """Answer now, in this process (the CLI): the saved result when there is one, else a new run."""
    item = request(actor, city, name, version=version, checks_text=checks_text, enqueue=lambda run_id: "")
    if item.status in (ReadinessRun.Status.QUEUED, ReadinessRun.Status.RUNNING):
        item = run(item.pk, engine_url=engine_url, progress=progress, today=today)
    if item.status == ReadinessRun.Status.FAILED:
        raise RidpError(item.error)
    return item, result_of(item)


def result_of(item: ReadinessRun) -> Readiness:
    if item.result is None:
        raise NotFoundError(f"readiness run {item.pk} has no result yet ({item.status})")
    return Readiness.from_dict(item.result)


def get_run(actor: User, city: str, name: str, run_id: int) -> ReadinessRun:
    dataset = get_dataset(actor, city, name)
    item = (
        ReadinessRun.objects.filter(pk=run_id, dataset_version__dataset=dataset)
        .select_related("dataset_version")
        .first()
    )
    if item is None:
        raise NotFoundError(f"no readiness run {run_id} of {dataset.name}")
    return item


def latest_run(dataset: Dataset, *, done: bool = True, version: int | None = None) -> ReadinessRun | None:
    """The newest run of the dataset's current version, or of version number ``version`` (finished ones only,
    by default)."""
    if version is not None:
        runs = ReadinessRun.objects.filter(dataset_version__dataset=dataset, dataset_version__number=version)
    elif dataset.current_version_id is None:
        return None
    else:
        runs = ReadinessRun.objects.filter(dataset_version_id=dataset.current_version_id)
    if done:
        runs = runs.filter(status=ReadinessRun.Status.DONE)
    return runs.order_by("-created_at", "-id").first()


def project_gaps(project: Project) -> list[str]:
    """Why the project's data is not yet judged "not insufficient" (one line per dataset; empty = met)."""
    from ridp.workspace.models import MetricSpecVersion as Spec

    sources = sorted({s.spec.get("source") for s in Spec.objects.filter(project=project)} - {None, ""})
    if not sources:
        return ["add the project's metric specs: readiness is judged against the datasets they read"]
    lines = []
    for source in sources:
        dataset = Dataset.objects.filter(city_id=project.city_id, name=source).first()
        if dataset is None or dataset.current_version_id is None:
            lines.append(f"{source}: no data loaded yet")
            continue
        latest = latest_run(dataset)
        if latest is None:
            lines.append(f"{source}: run data readiness on version {dataset.current_version.number}")  # type: ignore[union-attr]
            continue
        if latest.needs_hash != _hash(_question(dataset, dataset.current_version, None)[1]):  # type: ignore[arg-type]
            lines.append(f"{source}: the metrics or the mapping changed since readiness ran: run it again")
            continue
        verdict = (latest.result or {}).get("verdict", {})
        if verdict.get("level") == "insufficient":
            lines.append(f"{source}: readiness is insufficient — {verdict.get('explanation', '')}")
    return lines
