"""A dataset's canonical mapping in the store: propose, correct, confirm.

The proposal comes from :func:`ridp.ingest.mapping.propose_mapping` on a sample
of the current version, read in the city's time zone. Column names a person
sets are checked against the dataset's own columns (never expanded into a
query), and every change is a new, attributed row.
"""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd
from django.db import transaction
from django.utils import timezone as django_timezone

from ridp.errors import FieldError
from ridp.ingest.mapping import CANONICAL_FIELDS, MappingProposal, propose_mapping
from ridp.workspace import audit
from ridp.workspace.access import allowed, require
from ridp.workspace.datasets import SAMPLE_ROWS, get_dataset, sample_rows
from ridp.workspace.models import Dataset, DatasetMapping, User

__all__ = ["SAMPLE_ROWS", "current_mapping", "map_dataset", "propose"]


def _sample(actor: User, dataset: Dataset) -> pd.DataFrame:
    return sample_rows(actor, dataset, "mapping")


def _as_json(proposal: MappingProposal) -> dict[str, dict[str, object]]:
    return {m.field: {k: v for k, v in asdict(m).items() if k != "field"} for m in proposal.fields}


def propose(actor: User, city: str, name: str, *, store: bool = True) -> DatasetMapping:
    """Propose a mapping for the current version.

    Stored (unconfirmed) when ``store`` and the acting person may edit mappings;
    otherwise it is shown but not kept.
    """
    dataset = get_dataset(actor, city, name)
    proposal = propose_mapping(_sample(actor, dataset), timezone=dataset.city.timezone)
    assert dataset.current_version is not None
    mapping = DatasetMapping(
        dataset=dataset,
        version=dataset.current_version,
        fields=_as_json(proposal),
        areas=[a.column for a in proposal.areas],
        timezone=proposal.timezone,
        created_by=actor,
    )
    if store and allowed(actor, dataset.city, "dataset.map"):
        mapping.save()
    return mapping


def show_mapping(actor: User, city: str, name: str) -> DatasetMapping:
    """The dataset's mapping as it stands, or (none yet, or made for columns that are gone) a proposal
    that is shown but not stored: looking changes nothing."""
    dataset = get_dataset(actor, city, name)
    mapping = dataset.mappings.order_by("-id").first()
    assert dataset.current_version is not None
    stale = mapping is not None and mapping.version_id != dataset.current_version.pk and _missing(dataset, mapping)
    if mapping is None or stale:
        return propose(actor, city, name, store=False)
    return mapping


def current_mapping(actor: User, city: str, name: str) -> DatasetMapping | None:
    """The newest mapping of a dataset, or ``None`` if none was made yet."""
    dataset = get_dataset(actor, city, name)
    return dataset.mappings.order_by("-id").first()


def _require_editor(actor: User, dataset: Dataset) -> None:
    require(actor, dataset.city, "dataset.map", obj=dataset)


def map_dataset(
    actor: User,
    city: str,
    name: str,
    *,
    set_fields: dict[str, str] | None = None,
    areas: list[str] | None = None,
    accept: bool = False,
) -> DatasetMapping:
    """Show, correct and confirm a dataset's mapping.

    Parameters
    ----------
    set_fields
        ``{field: column}`` to set; an empty column removes the field.
    areas
        The area columns (replacing the proposed ones).
    accept
        Confirm the mapping as the acting person.
    """
    dataset = get_dataset(actor, city, name)
    mapping = dataset.mappings.order_by("-id").first()
    assert dataset.current_version is not None
    stale = mapping is not None and mapping.version_id != dataset.current_version.pk and _missing(dataset, mapping)
    asked = bool(set_fields) or areas is not None or accept
    if mapping is None or stale:
        # Kept only when nothing more is asked; otherwise the one row written below holds it.
        mapping = propose(actor, city, name, store=not asked)
    if not asked:
        return mapping
    _require_editor(actor, dataset)
    columns = {c["name"] for c in dataset.current_version.schema}
    fields = {k: dict(v) for k, v in mapping.fields.items()}
    for field_name, column in (set_fields or {}).items():
        if field_name not in CANONICAL_FIELDS:
            raise FieldError(
                "field", f"{field_name!r} is not a canonical field", hint="one of " + ", ".join(CANONICAL_FIELDS)
            )
        if not column:
            fields.pop(field_name, None)
            continue
        if column not in columns:
            raise FieldError(field_name, f"{dataset.name} has no column {column!r}")
        fields[field_name] = {
            "column": column,
            "confidence": 1.0,
            "reasons": [f"set by {actor.username}"],
            "date_formats": [],
            "ambiguous_day_month": False,
        }
    new_areas = list(mapping.areas) if areas is None else areas
    for column in new_areas:
        if column not in columns:
            raise FieldError("area", f"{dataset.name} has no column {column!r}")
    used = [v["column"] for v in fields.values()]
    if len(used) != len(set(used)):
        raise FieldError("set", "one column cannot stand for two fields")
    with transaction.atomic():
        updated = DatasetMapping.objects.create(
            dataset=dataset,
            version=dataset.current_version,
            fields=_refresh_formats(actor, dataset, fields),
            areas=new_areas,
            timezone=mapping.timezone,
            created_by=actor,
            confirmed_by=actor if accept else None,
            confirmed_at=django_timezone.now() if accept else None,
        )
        audit.record(
            "dataset.mapping_confirmed" if accept else "dataset.mapping_changed",
            actor=actor,
            city=dataset.city,
            obj=updated,
            dataset=dataset.name,
            fields=len(fields),
        )
    return updated


def _missing(dataset: Dataset, mapping: DatasetMapping) -> bool:
    assert dataset.current_version is not None
    columns = {c["name"] for c in dataset.current_version.schema}
    wanted = {v["column"] for v in mapping.fields.values()} | set(mapping.areas)
    return not wanted <= columns


def _refresh_formats(
    actor: User, dataset: Dataset, fields: dict[str, dict[str, object]]
) -> dict[str, dict[str, object]]:
    """Date formats for date fields a person set, read from the values."""
    from ridp.ingest.dates import detect_dates

    sample = None
    for field_name in ("opened", "closed"):
        entry = fields.get(field_name)
        if entry is None or entry.get("date_formats"):
            continue
        if sample is None:
            sample = _sample(actor, dataset)
        detection = detect_dates(sample[str(entry["column"])])
        entry["date_formats"] = [f for f, _ in detection.formats]
        entry["ambiguous_day_month"] = detection.ambiguous_day_month
    return fields
