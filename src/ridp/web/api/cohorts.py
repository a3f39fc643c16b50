"""Cohorts and their calendars, and the coach's cohort view (the same rows and filters as the page)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.params import P, PathEx, QueryEx
from pydantic import Field, StrictInt, StrictStr

from ridp.web.api.people import acting
from ridp.web.api.schemas import MAX_ID, NO_NUL, READ, SLUG, WRITE, IdPath, Input, Name, answers
from ridp.workspace import cohort_view, cohorts
from ridp.workspace.models import Cohort, CohortPhase

router = Router(tags=["cohorts"])

PhasePath = PathEx[str, P(min_length=1, max_length=40, pattern=SLUG, description="A phase's key, e.g. scoping")]
PhaseName = Annotated[StrictStr, Field(min_length=1, max_length=100, pattern=NO_NUL)]
CadenceName = Literal["as_needed", "weekly", "monthly", "none"]


class PhaseOut(Schema):
    key: str
    name: str
    position: int
    starts_on: date
    ends_on: date
    cadence: str
    produces: str
    gate: list[str]  # the condition names of the gate out of it (empty for the last phase)


class CohortOut(Schema):
    id: int
    name: str
    year: int
    phases: list[PhaseOut]


class CohortSummary(Schema):
    id: int
    name: str
    year: int


class CohortIn(Input):
    """A new cohort; its calendar is the programme's default template in ``year``."""

    name: Name
    year: StrictInt = Field(ge=2000, le=2100)


class PhasePatch(Input):
    """What to change of one phase; what is left out keeps its value. Phases may not overlap."""

    name: PhaseName | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    cadence: CadenceName | None = None


class CohortRowOut(Schema):
    project_id: int
    city: str
    city_name: str
    title: str
    cohort_id: int
    cohort: str
    phase: str
    phase_name: str
    phase_since: date
    days_in_phase: int
    phase_ends_on: date | None
    calendar_phase: str | None
    calendar_phase_name: str
    behind: bool
    gate: str  # passed | blocked | last
    gate_missing: int
    next_meeting: datetime | None
    cadence: str
    missed_meetings: int
    cadence_late: bool
    overdue_follow_ups: int
    agreements_expiring: int
    decision: str
    at_risk: bool
    risks: list[str]


def _phase(p: CohortPhase) -> PhaseOut:
    return PhaseOut(
        key=p.key, name=p.name, position=p.position, starts_on=p.starts_on, ends_on=p.ends_on, cadence=p.cadence,
        produces=p.produces, gate=list(cohorts.gate_conditions(p.key)),
    )  # fmt: skip


def _cohort(c: Cohort) -> CohortOut:
    return CohortOut(id=c.pk, name=c.name, year=c.year, phases=[_phase(p) for p in cohorts.phases(c)])


def _row(r: cohort_view.CohortRow) -> CohortRowOut:
    return CohortRowOut(
        project_id=r.project_id, city=r.city, city_name=r.city_name, title=r.title, cohort_id=r.cohort_id,
        cohort=r.cohort, phase=r.phase, phase_name=r.phase_name, phase_since=r.phase_since,
        days_in_phase=r.days_in_phase, phase_ends_on=r.phase_ends_on, calendar_phase=r.calendar_phase,
        calendar_phase_name=r.calendar_phase_name, behind=r.behind, gate=r.gate, gate_missing=r.gate_missing,
        next_meeting=r.next_meeting, cadence=r.cadence, missed_meetings=r.missed_meetings,
        cadence_late=r.cadence_late, overdue_follow_ups=r.overdue_follow_ups,
        agreements_expiring=r.agreements_expiring, decision=r.decision, at_risk=r.at_risk, risks=list(r.risks),
    )  # fmt: skip


@router.get(
    "/cohort-view",
    response=answers({200: list[CohortRowOut]}, 403, *READ),
    operation_id="get_cohort_view",
    summary="The coach's cohort view: every project of your assigned cities, risk flags first",
)
def cohort_view_get(
    request: HttpRequest,
    city: QueryEx[str, P(max_length=100, pattern=r"^[-a-zA-Z0-9_]*$", description="A city's slug")] = "",
    cohort: QueryEx[int | None, P(ge=1, le=MAX_ID, description="A cohort's id")] = None,
    phase: QueryEx[str, P(max_length=40, pattern=r"^[-a-zA-Z0-9_]*$", description="A phase's key")] = "",
    at_risk: QueryEx[bool, P(description="Only projects with a risk flag")] = False,
    sort: QueryEx[
        str,
        P(
            max_length=40,
            pattern=r"^-?[a-z_]+$",
            description=f"One of {', '.join(cohort_view.SORT_KEYS)}; a leading '-' reverses",
        ),
    ] = cohort_view.DEFAULT_SORT,
) -> list[CohortRowOut]:
    rows = cohort_view.cohort_rows(acting(request), city=city, cohort=cohort, phase=phase, at_risk=at_risk, sort=sort)
    return [_row(r) for r in rows]


@router.get(
    "/cohorts",
    response=answers({200: list[CohortSummary]}, *READ),
    operation_id="list_cohorts",
    summary="The cohorts of your cities (every cohort for a programme admin)",
)
def cohort_list(request: HttpRequest) -> list[CohortSummary]:
    return [CohortSummary(id=c.pk, name=c.name, year=c.year) for c in cohorts.list_cohorts(acting(request))]


@router.post(
    "/cohorts",
    response=answers({201: CohortOut}, *WRITE),
    operation_id="create_cohort",
    summary="Add a cohort with the default calendar in its year (programme admins)",
)
def cohort_create(request: HttpRequest, payload: CohortIn) -> Status[CohortOut]:
    return Status(201, _cohort(cohorts.create_cohort(acting(request), payload.name, year=payload.year)))


@router.get(
    "/cohorts/{cohort_id}",
    response=answers({200: CohortOut}, *READ),
    operation_id="get_cohort",
    summary="A cohort and its calendar",
)
def cohort_get(request: HttpRequest, cohort_id: IdPath) -> CohortOut:
    return _cohort(cohorts.get_cohort(acting(request), cohort_id))


@router.patch(
    "/cohorts/{cohort_id}/phases/{phase}",
    response=answers({200: PhaseOut}, *WRITE),
    operation_id="update_cohort_phase",
    summary="Change one phase of a cohort's calendar: name, dates, cadence (programme admins)",
)
def cohort_phase_update(request: HttpRequest, cohort_id: IdPath, phase: PhasePath, payload: PhasePatch) -> PhaseOut:
    changed = cohorts.edit_phase(acting(request), cohort_id, phase, **payload.model_dump())
    return _phase(changed)
