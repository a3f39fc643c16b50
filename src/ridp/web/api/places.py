"""Places (PROGRAM.md §6): boundary datasets checked, points assigned to areas once, and maps of places runs.

Checking boundaries and assigning points read rows (``rows.read``); the list of a dataset's assignments shows
counts to everyone in the city, and the example rows only to those who may read rows. Hot spots, service gaps
and "where resources go" are analysis runs (``POST .../analyses`` with ``kind``); their maps are here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field, StrictInt, StrictStr

from ridp.web.api.people import acting
from ridp.web.api.schemas import NO_NUL, READ, WRITE, CityPath, ColumnName, IdPath, Input, answers
from ridp.workspace import analysis, places
from ridp.workspace.access import allowed
from ridp.workspace.datasets import get_dataset_by_id

router = Router(tags=["places"])


class AddressesIn(Input):
    """An address-point (or parcel) dataset: requests without coordinates are matched to it by address first."""

    dataset: Annotated[StrictStr, Field(min_length=1, max_length=200, pattern=NO_NUL)]
    address: ColumnName
    lat: ColumnName
    lon: ColumnName


class AssignIn(Input):
    """The boundary dataset whose areas the points go to; its id and name columns (else chosen and said)."""

    boundaries: Annotated[StrictStr, Field(min_length=1, max_length=200, pattern=NO_NUL)]
    version: Annotated[StrictInt, Field(ge=1, le=2_147_483_647)] | None = None
    id_field: ColumnName | None = None
    name_field: ColumnName | None = None
    addresses: AddressesIn | None = None


class AssignmentOut(Schema):
    id: int
    dataset: str
    version: int
    boundaries: str
    boundary_version: int
    id_field: str
    column: str  # the area-id column analyses group by
    rows: int | None
    counts: dict[str, int] | None  # assigned, swapped, missing, zero, invalid, outside
    per_area: dict[str, int] | None
    examples: dict[str, list[dict[str, Any]]] | None  # only for those who may read rows
    boundary_problems: list[str] | None
    addresses: dict[str, Any] | None  # the address match: rate, counts, unmatched examples (rows only)
    engine: str
    seconds: float
    created_at: datetime


class BoundaryProblemOut(Schema):
    kind: str
    count: int
    message: str
    examples: list[str]
    left_out: bool


class BoundariesOut(Schema):
    name: str
    version: int
    areas: int
    id_field: str
    ids: list[str]
    names: list[str]
    problems: list[BoundaryProblemOut]
    notes: list[str]
    bounds: list[float] | None


def _out(item: Any, *, rows: bool) -> AssignmentOut:
    data = places.describe(item)
    if not rows:
        data["examples"] = None
        if data.get("addresses"):
            data["addresses"] = {k: v for k, v in data["addresses"].items() if "example" not in k}
    data.pop("id")
    return AssignmentOut(id=item.pk, **data)


@router.post(
    "/cities/{city}/datasets/{dataset_id}/areas",
    response=answers({200: AssignmentOut}, *WRITE),
    operation_id="assign_areas",
    summary="Assign the dataset's points to a boundary dataset's areas (stored once per pair of versions)",
)
def areas_assign(request: HttpRequest, city: CityPath, dataset_id: IdPath, payload: AssignIn) -> AssignmentOut:
    actor = acting(request)
    found = get_dataset_by_id(actor, city, dataset_id)
    item = places.assign(actor, city, found.name, payload.boundaries, boundary_version=payload.version,
                         id_field=payload.id_field, name_field=payload.name_field,
                         addresses=payload.addresses.model_dump() if payload.addresses else None)  # fmt: skip
    return _out(item, rows=True)


@router.get(
    "/cities/{city}/datasets/{dataset_id}/areas",
    response=answers({200: list[AssignmentOut]}, *READ),
    operation_id="list_area_assignments",
    summary="The dataset's stored area assignments, the newest first",
)
def areas_list(request: HttpRequest, city: CityPath, dataset_id: IdPath) -> list[AssignmentOut]:
    actor = acting(request)
    found = get_dataset_by_id(actor, city, dataset_id)
    rows = allowed(actor, found.city, "rows.read")
    return [_out(item, rows=rows) for item in places.list_assignments(actor, city, found.name)]


@router.get(
    "/cities/{city}/datasets/{dataset_id}/boundaries",
    response=answers({200: BoundariesOut}, 403, *READ),
    operation_id="check_boundaries",
    summary="A boundary dataset checked: its areas, and invalid, mis-projected, overlapping or missing ones",
)
def boundaries_check(
    request: HttpRequest, city: CityPath, dataset_id: IdPath, id_field: str | None = None
) -> BoundariesOut:
    actor = acting(request)
    found = get_dataset_by_id(actor, city, dataset_id)
    areas, version = places.boundaries_of(actor, city, found.name, id_field=id_field or None)
    data = areas.to_dict()
    return BoundariesOut(version=version.number, **data)


@router.get(
    "/cities/{city}/projects/{project_id}/analyses/{analysis_id}/map",
    response=answers({200: dict[str, Any]}, *READ),
    operation_id="get_analysis_map",
    summary="A places run's map as a Vega specification (compiled offline from Vega-Lite; Vega renders it)",
)
def analysis_map(request: HttpRequest, city: CityPath, project_id: IdPath, analysis_id: IdPath) -> dict[str, Any]:
    actor = acting(request)
    item = analysis.get_run(actor, city, project_id, analysis_id)
    return places.map_spec(actor, item)
