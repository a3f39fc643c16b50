"""Cohorts and their calendars: phases with dates and meeting cadence, stored as data.

The programme's defaults live in ``programme.yaml`` beside this module (the seed
calendar: scoping in April; analysis mid-May to mid-August, weekly; testing &
action mid-August to November, monthly; close-out in December). A new cohort
copies them with its own year; a programme admin then edits each cohort's
dates and cadence (:func:`edit_phase`).

Examples
--------
``cohort = create_cohort(admin, "Cohort 2027", year=2027)`` makes four phases
from April 1, 2027 to December 31, 2027.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone as django_timezone

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError
from ridp.workspace import audit
from ridp.workspace.access import is_programme_admin
from ridp.workspace.models import Cadence, City, Cohort, CohortPhase, Programme, User

__all__ = [
    "CriterionSpec",
    "PhaseSpec",
    "cohort_for_city",
    "create_cohort",
    "criteria",
    "defaults",
    "edit_phase",
    "gate_conditions",
    "get_cohort",
    "list_cohorts",
    "next_phase",
    "phase_of",
    "phases",
    "require_programme_admin",
]


#: The longest names the store keeps (Cohort.name, CohortPhase.name).
MAX_NAME = 200
MAX_PHASE_NAME = 100


@dataclass(frozen=True)
class PhaseSpec:
    key: str
    name: str
    starts: tuple[int, int]  # (month, day) in the cohort's year
    ends: tuple[int, int]
    cadence: str
    produces: str


@dataclass(frozen=True)
class CriterionSpec:
    key: str
    name: str


@dataclass(frozen=True)
class Defaults:
    phases: tuple[PhaseSpec, ...]
    criteria: tuple[CriterionSpec, ...]
    gates: dict[str, tuple[str, ...]]  # phase key -> condition names of the gate out of it


@functools.cache
def defaults() -> Defaults:
    """The programme's defaults, read once from the packaged ``programme.yaml``."""
    text = resources.files("ridp.workspace").joinpath("programme.yaml").read_text(encoding="utf-8")
    raw: dict[str, Any] = yaml.safe_load(text)
    phase_specs = tuple(
        PhaseSpec(
            key=p["key"],
            name=p["name"],
            starts=(p["starts"][0], p["starts"][1]),
            ends=(p["ends"][0], p["ends"][1]),
            cadence=p["cadence"],
            produces=p.get("produces", ""),
        )
        for p in raw["phases"]
    )
    for spec in phase_specs:
        if spec.cadence not in Cadence.values:
            raise ValueError(f"programme.yaml: phase {spec.key!r} has an unknown cadence {spec.cadence!r}")
    return Defaults(
        phases=phase_specs,
        criteria=tuple(CriterionSpec(key=c["key"], name=c["name"]) for c in raw["criteria"]),
        gates={phase: tuple(names) for phase, names in raw["gates"].items()},
    )


def criteria() -> tuple[CriterionSpec, ...]:
    """The five criteria of a good project, in order."""
    return defaults().criteria


def gate_conditions(phase: str) -> tuple[str, ...]:
    """The named conditions of the gate out of ``phase`` (empty for the last phase)."""
    return defaults().gates.get(phase, ())


def create_cohort(actor: User, name: str, *, year: int) -> Cohort:
    """A new cohort with the default calendar in ``year`` (programme admins only)."""
    require_programme_admin(actor, "cohort.add")
    if not name.strip():
        raise FieldError("name", "a cohort needs a name")
    if "\x00" in name or len(name.strip()) > MAX_NAME:
        raise FieldError("name", f"a cohort's name is 1 to {MAX_NAME} characters, without NUL")
    if not 2000 <= year <= 2100:
        raise FieldError("year", f"{year} is not a year between 2000 and 2100")
    programme = Programme.objects.order_by("id").first()
    assert programme is not None  # ensure_ready() ran
    if Cohort.objects.filter(programme=programme, name=name.strip()).exists():
        raise FieldError("name", f"a cohort {name.strip()!r} exists already")
    with transaction.atomic():
        cohort = Cohort.objects.create(programme=programme, name=name.strip(), year=year)
        _copy_template(cohort)
        audit.record("cohort.added", actor=actor, obj=cohort, year=year)
    return cohort


def _copy_template(cohort: Cohort) -> None:
    year = cohort.year or django_timezone.localdate().year
    for position, spec in enumerate(defaults().phases):
        CohortPhase.objects.create(
            cohort=cohort, key=spec.key, name=spec.name, position=position,
            starts_on=date(year, *spec.starts), ends_on=date(year, *spec.ends),
            cadence=spec.cadence, produces=spec.produces,
        )  # fmt: skip


def phases(cohort: Cohort) -> list[CohortPhase]:
    """The cohort's phases in order; a cohort made before calendars existed gets the default one now."""
    found = list(CohortPhase.objects.filter(cohort=cohort).order_by("position"))
    if not found:
        with transaction.atomic():
            _copy_template(cohort)
        found = list(CohortPhase.objects.filter(cohort=cohort).order_by("position"))
    return found


def phase_of(cohort: Cohort, key: str) -> CohortPhase:
    """The cohort's phase called ``key``."""
    for phase in phases(cohort):
        if phase.key == key:
            return phase
    raise NotFoundError(f"cohort {cohort.name!r} has no phase {key!r}")


def next_phase(cohort: Cohort, key: str) -> CohortPhase | None:
    """The phase after ``key``, or None after the last."""
    ordered = phases(cohort)
    for index, phase in enumerate(ordered):
        if phase.key == key:
            return ordered[index + 1] if index + 1 < len(ordered) else None
    raise NotFoundError(f"cohort {cohort.name!r} has no phase {key!r}")


def cohort_for_city(city: City) -> Cohort:
    """The city's cohort; a city without one joins this year's default cohort (made if missing)."""
    if city.cohort_id is not None:
        cohort = Cohort.objects.get(pk=city.cohort_id)
        phases(cohort)
        return cohort
    year = django_timezone.localdate().year
    with transaction.atomic():
        cohort, made = Cohort.objects.get_or_create(
            programme_id=city.programme_id, name=f"Cohort {year}", defaults={"year": year}
        )
        if made:
            _copy_template(cohort)
        City.objects.filter(pk=city.pk).update(cohort=cohort)
        city.cohort = cohort
    phases(cohort)
    return cohort


def get_cohort(actor: User, cohort_id: int) -> Cohort:
    """A cohort the actor may see: programme admins see all; others the cohorts of cities they belong to."""
    cohort = Cohort.objects.filter(pk=cohort_id).first()
    if cohort is None or not (
        is_programme_admin(actor) or City.objects.filter(cohort=cohort, memberships__user=actor).exists()
    ):
        raise NotFoundError(f"no cohort {cohort_id}")
    return cohort


def require_programme_admin(actor: User, action: str, *, obj: object = None) -> None:
    """Raise (and audit the denial) unless ``actor`` is a programme admin: cohorts and calendars are theirs."""
    if is_programme_admin(actor):
        return
    audit.record("permission.denied", actor=actor, obj=obj, action_tried=action)
    raise PermissionDeniedError("only a programme admin adds cohorts and edits their calendars")


def list_cohorts(actor: User) -> list[Cohort]:
    """The cohorts the actor may see (as :func:`get_cohort`), newest year first."""
    found = (
        Cohort.objects.all() if is_programme_admin(actor) else Cohort.objects.filter(cities__memberships__user=actor)
    )
    return list(found.distinct().order_by("-year", "name", "id"))


def edit_phase(
    actor: User,
    cohort_id: int,
    key: str,
    *,
    name: str | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    cadence: str | None = None,
) -> CohortPhase:
    """Change one phase of a cohort's calendar (programme admins only).

    Phases may not overlap their neighbours: each starts after the previous one ends.
    """
    cohort = get_cohort(actor, cohort_id)
    require_programme_admin(actor, "cohort.edit", obj=cohort)
    ordered = phases(cohort)
    index = next((i for i, p in enumerate(ordered) if p.key == key), None)
    if index is None:
        raise NotFoundError(f"cohort {cohort.name!r} has no phase {key!r}")
    phase = ordered[index]
    before = {
        "name": phase.name,
        "starts_on": str(phase.starts_on),
        "ends_on": str(phase.ends_on),
        "cadence": phase.cadence,
    }
    if name is not None:
        if not name.strip():
            raise FieldError("name", "a phase needs a name")
        if "\x00" in name or len(name.strip()) > MAX_PHASE_NAME:
            raise FieldError("name", f"a phase's name is 1 to {MAX_PHASE_NAME} characters, without NUL")
        phase.name = name.strip()
    if cadence is not None:
        if cadence not in Cadence.values:
            raise FieldError("cadence", f"{cadence!r} is not one of {', '.join(Cadence.values)}")
        phase.cadence = cadence
    phase.starts_on = starts_on or phase.starts_on
    phase.ends_on = ends_on or phase.ends_on
    if phase.ends_on < phase.starts_on:
        raise FieldError("ends_on", f"{phase.ends_on} is before the start {phase.starts_on}")
    if index > 0 and phase.starts_on <= ordered[index - 1].ends_on:
        raise FieldError(
            "starts_on", f"{phase.starts_on} is not after {ordered[index - 1].name}'s end {ordered[index - 1].ends_on}"
        )
    if index + 1 < len(ordered) and phase.ends_on >= ordered[index + 1].starts_on:
        raise FieldError(
            "ends_on", f"{phase.ends_on} is not before {ordered[index + 1].name}'s start {ordered[index + 1].starts_on}"
        )
    with transaction.atomic():
        phase.save()
        after = {
            "name": phase.name,
            "starts_on": str(phase.starts_on),
            "ends_on": str(phase.ends_on),
            "cadence": phase.cadence,
        }
        changed = ",".join(k for k in before if before[k] != after[k])
        audit.record("cohort.phase_changed", actor=actor, obj=phase, phase=key, changed=changed)
    return phase
