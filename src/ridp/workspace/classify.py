"""Column classes in the store: suggested from names and values, confirmed by a person.

A confirmed ``personal`` or ``sensitive`` column is masked in every preview,
listing and sample the workspace hands out (``datasets.preview``); a new
version inherits the confirmed classes of the columns it shares with the last.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone as django_timezone

from ridp.errors import FieldError
from ridp.ingest.pii import CLASSES, suggest_classification
from ridp.workspace import audit
from ridp.workspace.access import allowed, require
from ridp.workspace.datasets import get_dataset, sample_rows
from ridp.workspace.models import Column, User

__all__ = ["classify_dataset", "suggest"]

VALUES_PER_COLUMN = 200


def suggest(actor: User, city: str, name: str, *, store: bool = True) -> list[Column]:
    """Suggest a class for every column of the current version (stored for editors when ``store``)."""
    dataset = get_dataset(actor, city, name)
    sample = sample_rows(actor, dataset, "classification")
    assert dataset.current_version is not None
    columns = list(dataset.current_version.columns.all())
    for column in columns:
        values = list(sample[column.name].dropna())[:VALUES_PER_COLUMN] if column.name in sample else []
        found = suggest_classification(column.name, [str(v) for v in values])
        column.suggested_classification = found.classification
        column.classification_reasons = list(found.reasons)
    if store and allowed(actor, dataset.city, "dataset.classify"):
        Column.objects.bulk_update(columns, ["suggested_classification", "classification_reasons"])
    return columns


def classify_dataset(
    actor: User, city: str, name: str, *, set_columns: dict[str, str] | None = None, accept: bool = False
) -> list[Column]:
    """Show, change and confirm the classes of a dataset's columns.

    ``set_columns`` maps a column to one of public, internal, personal or
    sensitive; ``accept`` confirms every column (its set class, else its
    suggestion) as the acting person.
    """
    dataset = get_dataset(actor, city, name)
    version = dataset.current_version
    assert version is not None
    columns = list(version.columns.all())
    if any(not c.suggested_classification for c in columns):
        columns = suggest(actor, city, name, store=bool(set_columns or accept))  # looking stores nothing
    if not set_columns and not accept:
        return columns
    require(actor, dataset.city, "dataset.classify", obj=dataset)
    by_name = {c.name: c for c in columns}
    for column_name, value in (set_columns or {}).items():
        if column_name not in by_name:
            raise FieldError("set", f"{dataset.name} has no column {column_name!r}")
        if value not in CLASSES:
            raise FieldError(column_name, f"{value!r} is not a class", hint="one of " + ", ".join(CLASSES))
    now = django_timezone.now()
    changed: list[Column] = []
    for column in columns:
        wanted = (set_columns or {}).get(column.name)
        if wanted is None and not accept:
            continue
        column.classification = wanted or column.classification or column.suggested_classification
        column.classified_by = actor
        column.classified_at = now
        changed.append(column)
    with transaction.atomic():
        Column.objects.bulk_update(changed, ["classification", "classified_by", "classified_at"])
        audit.record(
            "dataset.classification_confirmed",
            actor=actor,
            city=dataset.city,
            obj=version,
            dataset=dataset.name,
            columns=len(changed),
            personal=sum(1 for c in changed if c.classification in ("personal", "sensitive")),
        )
    return columns
