"""A project's metric specs (PROGRAM.md §6): versioned, audited, and one of them the project's success metric.

A spec is written in YAML and read by :func:`ridp.metrics.metric_documents`; each
saved version keeps the spec as data, the text as written and its
:meth:`~ridp.metrics.MetricSpec.spec_hash`. Saving a spec whose hash equals its
latest version's makes no new version (a comment or a reordering changes nothing).
The success metric is a spec's *name*: its latest version is the one that counts.

Anyone who can see the project reads its specs; saving them and choosing the
success metric need ``metric.edit`` (the project's city team, its coach and its
programme analyst).

Examples
--------
``save_specs(ana, "springfield", 7, Path("potholes.yaml"))`` -> ``[SavedSpec(version=..., created=True)]``;
``set_success_metric(ana, "springfield", 7, "pothole_days")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike

from django.db import IntegrityError, transaction

from ridp.errors import FieldError, NotFoundError, SpecError
from ridp.metrics import MetricDocument, MetricSpec, metric_documents
from ridp.workspace import audit
from ridp.workspace.access import require
from ridp.workspace.models import Dataset, MetricSpecVersion, Project, User
from ridp.workspace.projects import get_project

__all__ = [
    "SavedSpec",
    "get_spec",
    "list_specs",
    "save_specs",
    "set_success_metric",
    "spec_history",
    "spec_of",
    "success_metric",
]


@dataclass(frozen=True)
class SavedSpec:
    """A spec as saved: its version (the latest one when nothing changed) and whether it is new."""

    version: MetricSpecVersion
    created: bool


def spec_of(version: MetricSpecVersion) -> MetricSpec:
    """The frozen spec a stored version holds."""
    return MetricSpec.from_dict(version.spec)


def _check_sources(project: Project, docs: tuple[MetricDocument, ...], path: str | None) -> None:
    """Every spec's source is a dataset of the project's city."""
    names = set(Dataset.objects.filter(city_id=project.city_id).values_list("name", flat=True))
    for doc in docs:
        if doc.spec.source not in names:
            raise SpecError(
                "source",
                f"{project.city.name} has no dataset named {doc.spec.source!r}",
                line=doc.lines.get("source"),
                path=path,
                hint="the city's datasets are listed in its catalog",
            )


def save_specs(actor: User, city: str, project_id: int, source: str | PathLike[str]) -> list[SavedSpec]:
    """Add or replace the project's specs written in ``source`` (YAML text, or a file as a Path), one per YAML
    document; a spec makes a new version only when it changed (``metric.edit``). All are saved, or none."""
    project = get_project(actor, city, project_id)
    require(actor, project.city, "metric.edit", obj=project)
    docs = metric_documents(source)
    path = str(source) if isinstance(source, PathLike) else None
    _check_sources(project, docs, path)
    saved: list[SavedSpec] = []
    try:
        with transaction.atomic():
            Project.objects.select_for_update().filter(pk=project.pk).first()  # one writer per project at a time
            for doc in docs:
                saved.append(_save(actor, project, doc))
    except IntegrityError:  # another request saved a version of the same spec meanwhile
        raise FieldError("yaml", "the spec was changed by someone else meanwhile: look at it and try again") from None
    return saved


def _save(actor: User, project: Project, doc: MetricDocument) -> SavedSpec:
    spec = doc.spec
    digest = spec.spec_hash()
    latest = MetricSpecVersion.objects.filter(project=project, name=spec.name).order_by("-number").first()
    if latest is not None and latest.spec_hash == digest:
        return SavedSpec(latest, created=False)
    version = MetricSpecVersion.objects.create(
        project=project, name=spec.name, number=(latest.number + 1) if latest else 1, spec=spec.to_dict(),
        yaml=doc.text, spec_hash=digest, created_by=actor,
    )  # fmt: skip
    audit.record(
        "metric.spec_saved", actor=actor, city=project.city, obj=project, name=spec.name, number=version.number,
        spec_hash=digest,
    )  # fmt: skip
    return SavedSpec(version, created=True)


def list_specs(actor: User, city: str, project_id: int) -> list[MetricSpecVersion]:
    """The latest version of each of the project's specs, by name."""
    project = get_project(actor, city, project_id)
    latest: dict[str, MetricSpecVersion] = {}
    for version in MetricSpecVersion.objects.filter(project=project).order_by("name", "number"):
        latest[version.name] = version
    return list(latest.values())


def get_spec(actor: User, city: str, project_id: int, name: str, number: int | None = None) -> MetricSpecVersion:
    """One spec of the project: its latest version, or version ``number``."""
    project = get_project(actor, city, project_id)
    versions = MetricSpecVersion.objects.filter(project=project, name=name)
    found = versions.order_by("-number").first() if number is None else versions.filter(number=number).first()
    if found is None:
        what = f"metric {name!r}" + (f" version {number}" if number is not None else "")
        raise NotFoundError(f"no {what} in project {project.pk}")
    return found


def spec_history(actor: User, city: str, project_id: int, name: str) -> list[MetricSpecVersion]:
    """Every version of one spec, the newest first."""
    project = get_project(actor, city, project_id)
    versions = list(MetricSpecVersion.objects.filter(project=project, name=name).order_by("-number"))
    if not versions:
        raise NotFoundError(f"no metric {name!r} in project {project.pk}")
    return versions


def success_metric(project: Project) -> MetricSpecVersion | None:
    """The latest version of the project's success metric, or None when none is chosen. No permission check."""
    if not project.success_metric_name:
        return None
    return (
        MetricSpecVersion.objects.filter(project=project, name=project.success_metric_name).order_by("-number").first()
    )


def set_success_metric(actor: User, city: str, project_id: int, name: str | None) -> Project:
    """Make the spec ``name`` the project's success metric; ``None`` or ``""`` unsets it (``metric.edit``)."""
    project = get_project(actor, city, project_id)
    require(actor, project.city, "metric.edit", obj=project)
    name = (name or "").strip()
    if name and not MetricSpecVersion.objects.filter(project=project, name=name).exists():
        raise FieldError("name", f"the project has no metric {name!r}: add its spec first")
    if name == project.success_metric_name:
        return project
    with transaction.atomic():
        project.success_metric_name = name
        project.save(update_fields=["success_metric_name"])
        if name:
            audit.record("metric.success_set", actor=actor, city=project.city, obj=project, name=name)
        else:
            audit.record("metric.success_unset", actor=actor, city=project.city, obj=project)
    return project
