"""A project's metric specs (YAML, versioned) and its success metric (PROGRAM.md §6).

A bad spec is a 422 naming the spec's field, the message starting with its line
(``{"field": "formula", "msg": "line 2: column 8: unknown field 'dayz' ..."}``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.params import P, PathEx, QueryEx
from pydantic import Field, StrictStr

from ridp.metrics import MAX_YAML
from ridp.web.api.people import acting
from ridp.web.api.schemas import MAX_ID, NO_NUL, READ, WRITE, CityPath, IdPath, Input, answers
from ridp.workspace import metric_specs
from ridp.workspace.models import MetricSpecVersion
from ridp.workspace.projects import get_project

router = Router(tags=["metrics"])

BASE = "/cities/{city}/projects/{project_id}"
METRIC_NAME = r"^[a-z][a-z0-9_]*$"
MetricPath = PathEx[str, P(min_length=1, max_length=64, pattern=METRIC_NAME, description="The metric's name")]


# ---- schemas ----------------------------------------------------------------------------------------------------


class MetricVersionOut(Schema):
    name: str
    number: int
    spec_hash: str
    created_by: str
    created_at: datetime


class MetricOut(MetricVersionOut):
    spec: dict[str, Any]  # the spec as data (ridp.metrics.MetricSpec.to_dict())
    yaml: str  # as written
    needs: dict[str, Any]  # dataset, canonical fields, area columns, baseline period
    success: bool  # the project's success metric


class MetricDetail(MetricOut):
    versions: list[MetricVersionOut]  # the newest first


class MetricsOut(Schema):
    success_metric: str | None
    metrics: list[MetricOut]  # the latest version of each, by name


class SavedMetricOut(Schema):
    created: bool  # False: nothing changed, the latest version stands
    metric: MetricOut


class MetricsIn(Input):
    """One spec in YAML, or several separated by ``---``."""

    yaml: Annotated[StrictStr, Field(min_length=1, max_length=MAX_YAML, pattern=NO_NUL)]


class SuccessMetricIn(Input):
    """A metric's name, or null for none."""

    name: Annotated[StrictStr, Field(max_length=64, pattern=NO_NUL)] | None


class SuccessMetricOut(Schema):
    success_metric: str | None


def _version(v: MetricSpecVersion) -> MetricVersionOut:
    return MetricVersionOut(
        name=v.name, number=v.number, spec_hash=v.spec_hash, created_by=v.created_by.username, created_at=v.created_at
    )


def _metric(v: MetricSpecVersion, success: str) -> MetricOut:
    return MetricOut(
        **_version(v).model_dump(), spec=v.spec, yaml=v.yaml, needs=metric_specs.spec_of(v).needs().as_dict(),
        success=v.name == success,
    )  # fmt: skip


# ---- operations -------------------------------------------------------------------------------------------------


@router.get(
    BASE + "/metrics",
    response=answers({200: MetricsOut}, *READ),
    operation_id="list_metrics",
    summary="The project's metric specs (the latest version of each) and its success metric",
)
def metrics_list(request: HttpRequest, city: CityPath, project_id: IdPath) -> MetricsOut:
    user = acting(request)
    project = get_project(user, city, project_id)
    found = metric_specs.list_specs(user, city, project_id)
    success = project.success_metric_name
    return MetricsOut(success_metric=success or None, metrics=[_metric(v, success) for v in found])


@router.post(
    BASE + "/metrics",
    response=answers({200: list[SavedMetricOut]}, *WRITE),
    operation_id="save_metrics",
    summary="Add or replace specs from YAML; a spec makes a new version only when it changed",
)
def metrics_save(request: HttpRequest, city: CityPath, project_id: IdPath, payload: MetricsIn) -> list[SavedMetricOut]:
    user = acting(request)
    saved = metric_specs.save_specs(user, city, project_id, payload.yaml)
    success = get_project(user, city, project_id).success_metric_name
    return [SavedMetricOut(created=s.created, metric=_metric(s.version, success)) for s in saved]


@router.get(
    BASE + "/metrics/{metric_name}",
    response=answers({200: MetricDetail}, *READ),
    operation_id="get_metric",
    summary="One metric spec (its latest version, or ?version=N) and every version",
)
def metric_get(
    request: HttpRequest,
    city: CityPath,
    project_id: IdPath,
    metric_name: MetricPath,
    version: QueryEx[int | None, P(ge=1, le=MAX_ID)] = None,
) -> MetricDetail:
    user = acting(request)
    project = get_project(user, city, project_id)
    found = metric_specs.get_spec(user, city, project_id, metric_name, version)
    history = metric_specs.spec_history(user, city, project_id, metric_name)
    return MetricDetail(
        **_metric(found, project.success_metric_name).model_dump(), versions=[_version(h) for h in history]
    )


@router.put(
    BASE + "/success-metric",
    response=answers({200: SuccessMetricOut}, *WRITE),
    operation_id="set_success_metric",
    summary="Choose the project's success metric among its specs (null: none)",
)
def success_set(request: HttpRequest, city: CityPath, project_id: IdPath, payload: SuccessMetricIn) -> SuccessMetricOut:
    project = metric_specs.set_success_metric(acting(request), city, project_id, payload.name)
    return SuccessMetricOut(success_metric=project.success_metric_name or None)
