"""A project's phase gate: the gate out of its phase, moving on, overriding a blocked gate, the phase changes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field, StrictStr

from ridp.web.api.people import acting
from ridp.web.api.schemas import NO_NUL, READ, WRITE, CityPath, IdPath, Input, answers
from ridp.workspace import gates
from ridp.workspace.models import PhaseChange
from ridp.workspace.projects import get_project

router = Router(tags=["gates"])

BASE = "/cities/{city}/projects/{project_id}"
Reason = Annotated[StrictStr, Field(max_length=gates.MAX_REASON, pattern=NO_NUL)]


class ConditionOut(Schema):
    name: str
    label: str
    met: bool
    available: bool  # False: a later issue implements it; until then it blocks
    missing: list[str]


class GateOut(Schema):
    """The gate out of the project's current phase; ``to_phase`` is null in the last phase."""

    project_id: int
    from_phase: str
    from_name: str
    to_phase: str | None
    to_name: str | None
    passed: bool
    last: bool
    missing: list[str]
    conditions: list[ConditionOut]


class PhaseChangeOut(Schema):
    """A move to the next phase; ``overridden`` with its reason and what was missing when a blocked gate was."""

    id: int
    project_id: int
    from_phase: str
    to_phase: str
    overridden: bool
    override_reason: str
    missing: list[str]
    by: str
    at: datetime


class OverrideIn(Input):
    """A written reason (at least 20 characters) for moving on although the gate is blocked."""

    reason: Reason


def _gate(status: gates.GateStatus) -> GateOut:
    return GateOut(
        project_id=status.project_id, from_phase=status.from_phase, from_name=status.from_name,
        to_phase=status.to_phase, to_name=status.to_name, passed=status.passed, last=status.last,
        missing=list(status.missing),
        conditions=[
            ConditionOut(name=r.name, label=r.label, met=r.met, available=r.available, missing=list(r.missing))
            for r in status.results
        ],
    )  # fmt: skip


def _change(c: PhaseChange) -> PhaseChangeOut:
    return PhaseChangeOut(
        id=c.pk, project_id=c.project_id, from_phase=c.from_phase, to_phase=c.to_phase,
        overridden=bool(c.override_reason), override_reason=c.override_reason, missing=list(c.missing),
        by=c.by.username, at=c.at,
    )  # fmt: skip


@router.get(
    f"{BASE}/gate",
    response=answers({200: GateOut}, *READ),
    operation_id="get_gate",
    summary="The gate out of the project's current phase: each condition, met or what is missing",
)
def gate_get(request: HttpRequest, city: CityPath, project_id: IdPath) -> GateOut:
    return _gate(gates.evaluate(acting(request), city, project_id))


@router.post(
    f"{BASE}/gate/advance",
    response=answers({201: PhaseChangeOut}, *WRITE),
    operation_id="advance_phase",
    summary="Move the project to its next phase (its gate must pass; 422 lists what is missing)",
)
def gate_advance(request: HttpRequest, city: CityPath, project_id: IdPath) -> Status[PhaseChangeOut]:
    return Status(201, _change(gates.advance(acting(request), city, project_id)))


@router.post(
    f"{BASE}/gate/override",
    response=answers({201: PhaseChangeOut}, *WRITE),
    operation_id="override_gate",
    summary="Move the project on although its gate is blocked, with a written reason (coaches, programme admins)",
)
def gate_override(
    request: HttpRequest, city: CityPath, project_id: IdPath, payload: OverrideIn
) -> Status[PhaseChangeOut]:
    return Status(201, _change(gates.override(acting(request), city, project_id, payload.reason)))


@router.get(
    f"{BASE}/phase-changes",
    response=answers({200: list[PhaseChangeOut]}, *READ),
    operation_id="list_phase_changes",
    summary="The project's phase changes, oldest first",
)
def phase_changes(request: HttpRequest, city: CityPath, project_id: IdPath) -> list[PhaseChangeOut]:
    return [_change(c) for c in gates.history(get_project(acting(request), city, project_id))]
