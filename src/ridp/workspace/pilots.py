"""A project's pilots in the store: power before it starts, the randomisation and its confirmation.

Every function here checks who may do it (``pilot.design``; a confirmation needs ``rows.read`` and a second
person), reads the catalog through :func:`ridp.workspace.datasets.open_table` (the same masking and agreement
rules as any analysis), calls the analytical core (:mod:`ridp.evaluation`) and keeps the result with the
dataset version it read and its parameters, in one transaction with its audit entry. The plan and the
estimates are in :mod:`ridp.workspace.plans`.

Examples
--------
``pilot = create_pilot(ana, "demo", 1, "crew", "Second pothole crew")``
``study_power(ana, "demo", 1, "crew", history="service_requests", outcome="days_to_close", cluster="area_id")``
``r = randomise(ana, "demo", 1, "crew", units="population", unit="area_id", method="clustered", cluster="area_id")``
``confirm_randomisation(lead, "demo", 1, "crew", r.pk)``
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any, Final

import ibis
from django.db import transaction
from django.utils import timezone as django_timezone

from ridp.errors import FieldError, NotFoundError
from ridp.evaluation.history import OUTCOME, request_history
from ridp.evaluation.power import PowerStudy, power_study
from ridp.evaluation.randomise import Assignment, Balance, Confirmation, assign, balance, confirm
from ridp.workspace import audit
from ridp.workspace.access import require
from ridp.workspace.datasets import get_dataset, open_table
from ridp.workspace.models import Dataset, DatasetVersion, Pilot, PowerStudyRecord, Project, Randomisation, User
from ridp.workspace.projects import get_project

__all__ = [
    "METHODS",
    "assignment_of",
    "balance_of",
    "confirm_randomisation",
    "create_pilot",
    "get_pilot",
    "get_randomisation",
    "latest_randomisation",
    "list_pilots",
    "power_of",
    "randomise",
    "study_power",
]

METHODS: Final = ("simple", "blocked", "clustered", "staggered")
_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _project(actor: User, city: str, project_id: int, action: str) -> Project:
    project = get_project(actor, city, project_id)
    require(actor, project.city, action, obj=project)  # type: ignore[arg-type]
    return project


def create_pilot(actor: User, city: str, project_id: int, name: str, title: str) -> Pilot:
    """A new pilot of the project; ``name`` is its short handle (lower-case letters, digits, dashes)."""
    project = _project(actor, city, project_id, "pilot.design")
    name = name.strip()
    if not _NAME.match(name):
        raise FieldError("name", f"{name!r} is not a short name: use lower-case letters, digits and dashes")
    if not title.strip():
        raise FieldError("title", "say what the pilot tests, e.g. 'A second pothole crew in the slowest areas'")
    if Pilot.objects.filter(project=project, name=name).exists():
        raise FieldError("name", f"project {project.pk} has a pilot named {name!r} already")
    with transaction.atomic():
        pilot = Pilot.objects.create(project=project, name=name, title=title.strip(), created_by=actor)
        audit.record("pilot.created", actor=actor, city=project.city, obj=project, pilot=name)
    return pilot


def get_pilot(actor: User, city: str, project_id: int, name: str) -> Pilot:
    """A pilot of a project the actor can see; another city's (or a missing one) is not found."""
    project = get_project(actor, city, project_id)
    pilot = Pilot.objects.filter(project=project, name=name).select_related("project__city").first()
    if pilot is None:
        raise NotFoundError(f"project {project_id} has no pilot named {name!r}")
    return pilot


def list_pilots(actor: User, city: str, project_id: int) -> list[Pilot]:
    project = get_project(actor, city, project_id)
    return list(Pilot.objects.filter(project=project).order_by("name", "id"))


def _version(dataset: Dataset, number: int | None) -> DatasetVersion:
    chosen = dataset.current_version if number is None else dataset.versions.filter(number=number).first()
    if chosen is None:
        raise NotFoundError(
            f"{dataset.name} has no data yet" if number is None else f"{dataset.name} has no version {number}"
        )
    return chosen


def _columns(table: ibis.Table, **named: str | None) -> None:
    """Each user-chosen column must be one of the dataset's own (FieldError naming the argument otherwise)."""
    for argument, column in named.items():
        if column is not None and column not in table.columns:
            raise FieldError(argument, f"no column {column!r}; the columns are {', '.join(table.columns)}")


# ---- power ------------------------------------------------------------------------------------------------------


def study_power(
    actor: User, city: str, project_id: int, pilot_name: str, *, history: str, outcome: str,
    cluster: str | None = None, types: Sequence[str] = (), effects: Sequence[float] = (),
    n_units: Sequence[int] = (), n_clusters: Sequence[int] = (), share_treated: float = 0.5, draws: int = 10_000,
    alpha: float = 0.05, target: float = 0.8, planned_effect: float | None = None, seed: int = 0,
    version: int | None = None, engine_url: str | None = None,
) -> PowerStudyRecord:  # fmt: skip
    """Power by formula and by simulation on the city's own history (a catalogued dataset), kept with the pilot.

    ``outcome`` is a numeric column of the history, or ``days_to_close`` for a service-request dataset with
    its opened and closed dates mapped (``types`` then keeps only those request types).
    """
    from ridp.workspace.analysis import _mapping

    pilot = get_pilot(actor, city, project_id, pilot_name)
    require(actor, pilot.project.city, "pilot.design", obj=pilot.project)
    dataset = get_dataset(actor, city, history)
    chosen = _version(dataset, version)
    table = open_table(actor, city, history, version=chosen.number, engine_url=engine_url)
    _columns(table, cluster=cluster)
    if outcome == OUTCOME and OUTCOME not in table.columns:
        table = request_history(table, _mapping(dataset), types=types, cluster=cluster)
    else:
        _columns(table, outcome=outcome)
        if types:
            raise FieldError("types", f"request types filter days_to_close only, not a column like {outcome!r}")
    started = time.perf_counter()
    study = power_study(
        table, outcome=outcome, effects=list(effects) or None, n_units=list(n_units) or None, cluster=cluster,
        n_clusters=list(n_clusters) or None, share_treated=share_treated, draws=draws, alpha=alpha, target=target,
        planned_effect=planned_effect, seed=seed,
    )  # fmt: skip
    params: dict[str, Any] = {
        "history": history, "version": chosen.number, "outcome": outcome, "cluster": cluster, "types": list(types),
        "effects": list(effects), "n_units": list(n_units), "n_clusters": list(n_clusters),
        "share_treated": share_treated, "draws": draws, "alpha": alpha, "target": target,
        "planned_effect": planned_effect, "seed": seed,
    }  # fmt: skip
    with transaction.atomic():
        item = PowerStudyRecord.objects.create(
            pilot=pilot, history_version=chosen, params=params, result=study.to_dict(), adequate=study.adequate,
            seconds=time.perf_counter() - started, created_by=actor,
        )  # fmt: skip
        audit.record("pilot.power_studied", actor=actor, city=pilot.project.city, obj=pilot.project,
                     pilot=pilot.name, adequate=study.adequate, dataset=history, version=chosen.number)  # fmt: skip
    return item


def power_of(item: PowerStudyRecord) -> PowerStudy:
    return PowerStudy.from_dict(item.result)


# ---- randomisation ----------------------------------------------------------------------------------------------


def randomise(
    actor: User, city: str, project_id: int, pilot_name: str, *, units: str, unit: str, method: str = "simple",
    block: str | None = None, cluster: str | None = None, share_treated: float = 0.5, waves: int | None = None,
    seed: int | None = None, covariates: Sequence[str] = (), version: int | None = None,
    engine_url: str | None = None,
) -> Randomisation:  # fmt: skip
    """Assign the units of a catalogued dataset (one row per unit) to the pilot's arms, with the seed recorded
    and the balance of ``covariates``; a second person then confirms it (:func:`confirm_randomisation`)."""
    pilot = get_pilot(actor, city, project_id, pilot_name)
    require(actor, pilot.project.city, "pilot.design", obj=pilot.project)
    if method not in METHODS:
        raise FieldError("method", f"{method!r} is one of {', '.join(METHODS)}")
    dataset = get_dataset(actor, city, units)
    chosen = _version(dataset, version)
    table = open_table(actor, city, units, version=chosen.number, engine_url=engine_url)
    _columns(table, unit=unit, block=block, cluster=cluster)
    for name in covariates:
        _columns(table, covariates=name)
    result = assign(table, unit=unit, method=method, block=block, cluster=cluster,  # type: ignore[arg-type]
                    share_treated=share_treated, waves=waves, seed=seed)  # fmt: skip
    checked = balance(table, result, list(covariates)) if covariates else None
    record = {**result.record(), "dataset": units, "version": chosen.number}
    with transaction.atomic():
        item = Randomisation.objects.create(
            pilot=pilot, units_version=chosen, record=record, assignment=result.to_dict(),
            balance=None if checked is None else checked.to_dict(), fingerprint=result.fingerprint, created_by=actor,
        )  # fmt: skip
        audit.record("pilot.randomised", actor=actor, city=pilot.project.city, obj=pilot.project, pilot=pilot.name,
                     randomisation=item.pk, method=method, seed=result.seed, fingerprint=result.fingerprint)  # fmt: skip
    return item


def get_randomisation(actor: User, city: str, project_id: int, pilot_name: str, randomisation_id: int) -> Randomisation:
    pilot = get_pilot(actor, city, project_id, pilot_name)
    item = (
        Randomisation.objects.filter(pilot=pilot, pk=randomisation_id).select_related("units_version__dataset").first()
    )
    if item is None:
        raise NotFoundError(f"pilot {pilot.name!r} has no randomisation {randomisation_id}")
    return item


def latest_randomisation(pilot: Pilot) -> Randomisation | None:
    return pilot.randomisations.order_by("-created_at", "-id").select_related("units_version__dataset").first()


def assignment_of(item: Randomisation) -> Assignment:
    return Assignment.from_dict(item.assignment)


def balance_of(item: Randomisation) -> Balance | None:
    return None if item.balance is None else Balance.from_dict(item.balance)


def confirm_randomisation(
    actor: User, city: str, project_id: int, pilot_name: str, randomisation_id: int, *, engine_url: str | None = None
) -> Randomisation:
    """A second person reruns the recorded randomisation on the same units version; the outcome is recorded,
    whether it matches or not."""
    item = get_randomisation(actor, city, project_id, pilot_name, randomisation_id)
    project = item.pilot.project
    require(actor, project.city, "rows.read", obj=project)
    if item.created_by_id == actor.pk:
        raise FieldError("confirmed_by", f"{actor.username} made this assignment: a second person must confirm it")
    dataset = item.units_version.dataset
    table = open_table(actor, city, dataset.name, version=item.units_version.number, engine_url=engine_url)
    outcome: Confirmation = confirm(item.record, table)
    with transaction.atomic():
        item.confirmed_by, item.confirmed_at = actor, django_timezone.now()
        item.confirmation = outcome.to_dict()
        item.save(update_fields=["confirmed_by", "confirmed_at", "confirmation"])
        audit.record("pilot.randomisation_confirmed", actor=actor, city=project.city, obj=project,
                     pilot=item.pilot.name, randomisation=item.pk, matches=outcome.matches)  # fmt: skip
    return item
