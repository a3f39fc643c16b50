"""A city's projects: list, start (the intake), read one, change the intake."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field, StrictStr

from ridp.web.api.people import acting
from ridp.web.api.schemas import NO_NUL, READ, WRITE, CityPath, IdPath, Input, Title, answers
from ridp.workspace import projects
from ridp.workspace.models import Project

router = Router(tags=["projects"])

Answer = Annotated[StrictStr, Field(min_length=1, max_length=5000, pattern=NO_NUL)]


class ProjectOut(Schema):
    id: int
    city: str
    cohort: str
    cohort_id: int
    title: str
    problem: str
    why_it_matters: str
    service_change: str
    phase: str
    phase_since: date
    value: str
    complexity: str
    decision: str
    decision_reason: str
    other_help: str
    created_at: datetime


class ProjectIn(Input):
    """The intake: DataSF's three short answers, and a title."""

    title: Title
    problem: Answer
    why_it_matters: Answer
    service_change: Answer


class IntakePatch(Input):
    """Answers to change; those left out keep their value."""

    title: Title | None = None
    problem: Answer | None = None
    why_it_matters: Answer | None = None
    service_change: Answer | None = None


def project_out(p: Project) -> ProjectOut:
    return ProjectOut(
        id=p.pk, city=p.city.slug, cohort=p.cohort.name, cohort_id=p.cohort_id, title=p.title, problem=p.problem,
        why_it_matters=p.why_it_matters, service_change=p.service_change, phase=p.phase, phase_since=p.phase_since,
        value=p.value, complexity=p.complexity, decision=p.decision, decision_reason=p.decision_reason,
        other_help=p.other_help, created_at=p.created_at,
    )  # fmt: skip


@router.get(
    "/cities/{city}/projects",
    response=answers({200: list[ProjectOut]}, *READ),
    operation_id="list_projects",
    summary="The city's projects",
)
def project_list(request: HttpRequest, city: CityPath) -> list[ProjectOut]:
    return [project_out(p) for p in projects.list_projects(acting(request), city)]


@router.post(
    "/cities/{city}/projects",
    response=answers({201: ProjectOut}, *WRITE),
    operation_id="create_project",
    summary="Start a project with its intake",
)
def project_create(request: HttpRequest, city: CityPath, payload: ProjectIn) -> Status[ProjectOut]:
    project = projects.start_project(acting(request), city, **payload.model_dump())
    return Status(201, project_out(project))


@router.get(
    "/cities/{city}/projects/{project_id}",
    response=answers({200: ProjectOut}, *READ),
    operation_id="get_project",
    summary="One project",
)
def project_get(request: HttpRequest, city: CityPath, project_id: IdPath) -> ProjectOut:
    return project_out(projects.get_project(acting(request), city, project_id))


@router.patch(
    "/cities/{city}/projects/{project_id}",
    response=answers({200: ProjectOut}, *WRITE),
    operation_id="update_intake",
    summary="Change the intake's answers",
)
def project_update(request: HttpRequest, city: CityPath, project_id: IdPath, payload: IntakePatch) -> ProjectOut:
    values = {k: v for k, v in payload.model_dump().items() if v is not None}
    return project_out(projects.update_intake(acting(request), city, project_id, **values))
