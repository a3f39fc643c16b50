"""A city's catalog: datasets and their inventory records, versions, previews, mappings and column classes.

Every operation finds its dataset by id within the city through the workspace
(:func:`~ridp.workspace.datasets.get_dataset_by_id`: another city's id is not
found) and leaves the decisions to the workspace functions, which check the
role and the agreements on every call. GETs change nothing: the mapping and the
column classes are read as stored; a PUT proposes, corrects and confirms them.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError as DjangoIntegrityError
from django.http import HttpRequest
from ninja import Router, Status
from ninja.params import P, QueryEx

from ridp.errors import NotFoundError, RidpError
from ridp.web.api.people import acting
from ridp.web.api.schemas import (
    READ,
    WRITE,
    CityPath,
    ColumnOut,
    ColumnsIn,
    DatasetDetail,
    DatasetIn,
    DatasetOut,
    IdPath,
    InventoryPatch,
    MappingFieldOut,
    MappingIn,
    MappingOut,
    PreviewOut,
    VersionOut,
    answers,
)
from ridp.workspace.access import city_for, require
from ridp.workspace.classify import classify_dataset
from ridp.workspace.datasets import (
    get_dataset_by_id,
    list_datasets,
    preview,
    record_inventory,
    versions,
)
from ridp.workspace.mapping import current_mapping, map_dataset
from ridp.workspace.models import Column, Dataset, DatasetMapping, DatasetVersion

router = Router(tags=["catalog"])

DATASET = "/cities/{city}/datasets/{dataset_id}"


def version_out(v: DatasetVersion) -> VersionOut:
    return VersionOut(
        number=v.number,
        rows=v.rows,
        source_name=v.source_name,
        source_format=v.source_format,
        source_bytes=v.source_bytes,
        encoding=v.encoding,
        delimiter=v.delimiter,
        notes=[str(n) for n in v.notes],
        created_at=v.created_at,
        created_by=v.created_by.username,
        data_deleted=getattr(v, "tombstone", None) is not None,
    )


def dataset_out(d: Dataset) -> DatasetOut:
    return DatasetOut(
        id=d.pk,
        city=d.city.slug,
        name=d.name,
        description=d.description,
        owner_department=d.owner_department,
        steward=d.steward,
        source_system=d.source_system,
        update_frequency=d.update_frequency,
        licence=d.licence,
        public=d.public,
        sensitivity=d.sensitivity,
        sensitivity_reason=d.sensitivity_reason,
        years_of_history=d.years_of_history,
        known_quality_issues=d.known_quality_issues,
        needs_agreement=d.needs_agreement,
        created_at=d.created_at,
        current_version=version_out(d.current_version) if d.current_version else None,
    )


def column_out(c: Column) -> ColumnOut:
    return ColumnOut(
        name=c.name,
        position=c.position,
        dtype=c.dtype,
        classification=c.classification,
        suggested_classification=c.suggested_classification,
        reasons=[str(r) for r in c.classification_reasons],
        classified_by=c.classified_by.username if c.classified_by else None,
        classified_at=c.classified_at,
    )


def _columns(d: Dataset) -> list[Column]:
    version = d.current_version
    return list(version.columns.select_related("classified_by")) if version else []


def _with_data(d: Dataset) -> DatasetVersion:
    if d.current_version is None:
        raise NotFoundError(f"{d} has no data yet", hint="upload a version first")
    return d.current_version


def _cell(value: Any) -> Any:
    """A preview value as JSON: numbers, text, booleans and null as they are; dates ISO; the rest as text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _mapping_out(mapping: DatasetMapping | None) -> MappingOut:
    if mapping is None:
        return MappingOut(
            version=None, fields={}, areas=[], timezone="", created_at=None, created_by=None,
            confirmed=False, confirmed_by=None, confirmed_at=None,
        )  # fmt: skip
    fields = {
        name: MappingFieldOut(
            column=str(entry.get("column", "")),
            confidence=float(entry.get("confidence", 0.0)),
            reasons=[str(r) for r in entry.get("reasons", [])],
            date_formats=[str(f) for f in entry.get("date_formats", [])],
            ambiguous_day_month=bool(entry.get("ambiguous_day_month", False)),
        )
        for name, entry in mapping.fields.items()
    }
    return MappingOut(
        version=mapping.version.number,
        fields=fields,
        areas=[str(a) for a in mapping.areas],
        timezone=mapping.timezone,
        created_at=mapping.created_at,
        created_by=mapping.created_by.username,
        confirmed=mapping.confirmed_by_id is not None,
        confirmed_by=mapping.confirmed_by.username if mapping.confirmed_by else None,
        confirmed_at=mapping.confirmed_at,
    )


@router.get(
    "/cities/{city}/datasets",
    response=answers({200: list[DatasetOut]}, *READ),
    operation_id="list_datasets",
    summary="The city's datasets and their inventory records",
)
def datasets_list(request: HttpRequest, city: CityPath) -> list[DatasetOut]:
    return [dataset_out(d) for d in list_datasets(acting(request), city)]


@router.post(
    "/cities/{city}/datasets",
    response=answers({201: DatasetOut}, *WRITE),
    operation_id="create_dataset",
    summary="Record a dataset in the inventory (no data yet)",
)
def dataset_create(request: HttpRequest, city: CityPath, payload: DatasetIn) -> Status[DatasetOut]:
    actor = acting(request)
    city_obj = city_for(actor, city)
    require(actor, city_obj, "dataset.inventory")
    name = payload.name.strip()
    if Dataset.objects.filter(city=city_obj, name=name).exists():
        raise RidpError(f"{city_obj.slug} has a dataset named {name!r} already", hint="change it with PATCH")
    try:
        created = record_inventory(actor, city, name, **payload.model_dump(exclude={"name"}))
    except DjangoIntegrityError:  # the same name, created at the same moment
        raise RidpError(f"{city_obj.slug} has a dataset named {name!r} already") from None
    return Status(201, dataset_out(created))


@router.get(DATASET, response=answers({200: DatasetDetail}, *READ), operation_id="get_dataset", summary="One dataset")
def dataset_get(request: HttpRequest, city: CityPath, dataset_id: IdPath) -> DatasetDetail:
    found = get_dataset_by_id(acting(request), city, dataset_id)
    return DatasetDetail(**dataset_out(found).model_dump(), columns=[column_out(c) for c in _columns(found)])


@router.patch(
    DATASET,
    response=answers({200: DatasetOut}, *WRITE),
    operation_id="update_dataset",
    summary="Change a dataset's inventory record (fields left out keep their value)",
)
def dataset_update(request: HttpRequest, city: CityPath, dataset_id: IdPath, payload: InventoryPatch) -> DatasetOut:
    actor = acting(request)
    found = get_dataset_by_id(actor, city, dataset_id)
    require(actor, found.city, "dataset.inventory", obj=found)
    fields = payload.model_dump(exclude_unset=True)
    if not fields:
        return dataset_out(found)
    return dataset_out(record_inventory(actor, city, found.name, **fields))


@router.get(
    DATASET + "/versions",
    response=answers({200: list[VersionOut]}, *READ),
    operation_id="list_versions",
    summary="A dataset's versions, oldest first",
)
def versions_list(request: HttpRequest, city: CityPath, dataset_id: IdPath) -> list[VersionOut]:
    actor = acting(request)
    found = get_dataset_by_id(actor, city, dataset_id)
    return [version_out(v) for v in versions(actor, city, found.name)]


@router.get(
    DATASET + "/preview",
    response=answers({200: PreviewOut}, 400, 403, *READ),
    operation_id="preview_dataset",
    summary="The first rows, personal columns masked for those an agreement does not name",
)
def dataset_preview(
    request: HttpRequest,
    city: CityPath,
    dataset_id: IdPath,
    limit: QueryEx[int, P(ge=1, le=1000, description="How many rows (1 to 1,000)")] = 20,
    version: QueryEx[
        int | None, P(ge=1, le=2_147_483_647, description="A version number; default the current one")
    ] = None,
) -> PreviewOut:
    actor = acting(request)
    found = get_dataset_by_id(actor, city, dataset_id)
    shown = preview(actor, city, found.name, limit=limit, version=version)
    return PreviewOut(
        version=shown.version.number,
        columns=list(shown.columns),
        rows=[[_cell(v) for v in row] for row in shown.rows],
        masked=list(shown.masked),
    )


@router.get(
    DATASET + "/mapping",
    response=answers({200: MappingOut}, *READ),
    operation_id="get_mapping",
    summary="The dataset's mapping to the canonical service-request fields, as stored",
)
def mapping_get(request: HttpRequest, city: CityPath, dataset_id: IdPath) -> MappingOut:
    actor = acting(request)
    found = get_dataset_by_id(actor, city, dataset_id)
    return _mapping_out(current_mapping(actor, city, found.name))


@router.put(
    DATASET + "/mapping",
    response=answers({200: MappingOut}, *WRITE),
    operation_id="update_mapping",
    summary="Propose, correct and confirm the mapping",
)
def mapping_put(request: HttpRequest, city: CityPath, dataset_id: IdPath, payload: MappingIn) -> MappingOut:
    actor = acting(request)
    found = get_dataset_by_id(actor, city, dataset_id)
    require(actor, found.city, "dataset.map", obj=found)
    _with_data(found)
    mapping = map_dataset(
        actor, city, found.name, set_fields=payload.set or None, areas=payload.areas, accept=payload.accept
    )
    return _mapping_out(mapping)


@router.get(
    DATASET + "/columns",
    response=answers({200: list[ColumnOut]}, *READ),
    operation_id="list_columns",
    summary="The current version's columns and their classes, as stored",
)
def columns_get(request: HttpRequest, city: CityPath, dataset_id: IdPath) -> list[ColumnOut]:
    found = get_dataset_by_id(acting(request), city, dataset_id)
    return [column_out(c) for c in _columns(found)]


@router.put(
    DATASET + "/columns",
    response=answers({200: list[ColumnOut]}, *WRITE),
    operation_id="classify_columns",
    summary="Set and confirm column classes (personal and sensitive columns are masked)",
)
def columns_put(request: HttpRequest, city: CityPath, dataset_id: IdPath, payload: ColumnsIn) -> list[ColumnOut]:
    actor = acting(request)
    found = get_dataset_by_id(actor, city, dataset_id)
    require(actor, found.city, "dataset.classify", obj=found)
    _with_data(found)
    columns = classify_dataset(actor, city, found.name, set_columns=dict(payload.set) or None, accept=payload.accept)
    return [column_out(c) for c in columns]
