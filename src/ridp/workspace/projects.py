"""A city's projects: intake (DataSF's three short answers), listing and city-scoped reads.

Every project belongs to one city and one cohort (the city's). Reads go through
:func:`get_project`, which answers *not found* for another city's project, so
ids reveal nothing; every other module of the programme reads projects here.

Examples
--------
``p = start_project(leader, "springfield", title="Faster pothole repair", problem=..., why_it_matters=...,
service_change=...)``
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone as django_timezone

from ridp.errors import FieldError, NotFoundError
from ridp.workspace import audit
from ridp.workspace.access import city_for, require
from ridp.workspace.cohorts import cohort_for_city, phases
from ridp.workspace.models import Project, User

__all__ = ["INTAKE_FIELDS", "get_project", "list_projects", "start_project", "update_intake"]

#: The intake's fields and the most each may hold.
INTAKE_FIELDS: dict[str, int] = {"title": 300, "problem": 5000, "why_it_matters": 5000, "service_change": 5000}


def _clean_intake(values: dict[str, str]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for name, value in values.items():
        if name not in INTAKE_FIELDS:
            raise FieldError(name, "is not a field of the intake")
        text = (value or "").strip()
        if not text:
            raise FieldError(name, "is required")
        if "\x00" in text:
            raise FieldError(name, "holds a NUL character")
        if len(text) > INTAKE_FIELDS[name]:
            raise FieldError(name, f"is longer than {INTAKE_FIELDS[name]} characters")
        cleaned[name] = text
    return cleaned


def start_project(
    actor: User, city: str, *, title: str, problem: str, why_it_matters: str, service_change: str
) -> Project:
    """Start a project with its intake: the problem, why it matters, what service would change."""
    city_obj = city_for(actor, city)
    require(actor, city_obj, "project.start")
    values = _clean_intake(
        {"title": title, "problem": problem, "why_it_matters": why_it_matters, "service_change": service_change}
    )
    cohort = cohort_for_city(city_obj)
    first = phases(cohort)[0]
    with transaction.atomic():
        project = Project.objects.create(
            city=city_obj, cohort=cohort, phase=first.key, phase_since=django_timezone.localdate(),
            created_by=actor, **values,
        )  # fmt: skip
        audit.record("project.started", actor=actor, city=city_obj, obj=project)
    return project


def get_project(actor: User, city: str, project_id: int) -> Project:
    """A project of a city the actor can see; another city's (or a missing one) is not found."""
    city_obj = city_for(actor, city)
    project = Project.objects.filter(city=city_obj, pk=project_id).select_related("city", "cohort").first()
    if project is None:
        raise NotFoundError(f"no project {project_id} in {city_obj.slug}")
    return project


def list_projects(actor: User, city: str) -> list[Project]:
    """The city's projects, by title."""
    city_obj = city_for(actor, city)
    return list(Project.objects.filter(city=city_obj).select_related("city", "cohort").order_by("title", "id"))


def update_intake(actor: User, city: str, project_id: int, **values: str) -> Project:
    """Change some of the intake's answers (``title``, ``problem``, ``why_it_matters``, ``service_change``)."""
    project = get_project(actor, city, project_id)
    require(actor, project.city, "project.edit", obj=project)
    cleaned = _clean_intake(values)
    changed = [name for name, value in cleaned.items() if getattr(project, name) != value]
    if not changed:
        return project
    with transaction.atomic():
        for name in changed:
            setattr(project, name, cleaned[name])
        project.save(update_fields=changed)
        audit.record("project.intake_changed", actor=actor, city=project.city, obj=project, fields=",".join(changed))
    return project
