"""Scoping (the five criteria, value x complexity, the decision) and the charter (versions, diff, sign-offs)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.params import P, QueryEx
from pydantic import Field, StrictInt, StrictStr

from ridp.errors import NotFoundError
from ridp.web.api.people import acting
from ridp.web.api.schemas import MAX_ID, NO_NUL, READ, WRITE, CityPath, IdPath, Input, Line, Name, Short, Text, answers
from ridp.workspace import charter, scoping
from ridp.workspace.models import CharterVersion, CriterionRating, Project, SignOff
from ridp.workspace.projects import get_project

router = Router(tags=["scoping"])

Evidence = Annotated[StrictStr, Field(min_length=1, max_length=5000, pattern=NO_NUL)]
BASE = "/cities/{city}/projects/{project_id}"


# ---- scoping ----------------------------------------------------------------------------------------------------


class RatingOut(Schema):
    id: int
    criterion: str
    score: int
    evidence: str
    rater: str
    rated_on: date
    created_at: datetime


class CriterionOut(Schema):
    key: str
    name: str
    position: int
    rating: RatingOut | None
    history_count: int
    history: list[RatingOut]  # newest first, the current rating included


class ScopingOut(Schema):
    criteria: list[CriterionOut]
    value: str
    complexity: str
    decision: str
    decision_reason: str
    other_help: str
    decided_by: str | None
    decided_at: datetime | None


class RatingIn(Input):
    """One criterion rated 0 (not met), 1 (partly) or 2 (met), with written evidence; ``rated_on`` defaults to today."""

    criterion: Short
    score: StrictInt = Field(ge=0, le=2)
    evidence: Evidence
    rated_on: date | None = None


class ValueIn(Input):
    value: Literal["low", "high"]
    complexity: Literal["low", "high"]


class DecisionIn(Input):
    """``reason``: the risks (accept_with_risks) or why (off_ramp); ``other_help``: the help offered (off_ramp)."""

    decision: Literal["accept", "accept_with_risks", "off_ramp"]
    reason: Text = ""
    other_help: Text = ""


def _rating(r: CriterionRating) -> RatingOut:
    return RatingOut(
        id=r.pk, criterion=r.criterion, score=r.score, evidence=r.evidence, rater=r.rater.username,
        rated_on=r.rated_on, created_at=r.created_at,
    )  # fmt: skip


def _scoping(project: Project) -> ScopingOut:
    statuses = scoping.current_ratings(project)
    return ScopingOut(
        criteria=[
            CriterionOut(
                key=s.key, name=s.name, position=s.position, rating=_rating(s.rating) if s.rating else None,
                history_count=s.history_count, history=[_rating(r) for r in s.history],
            )
            for s in statuses
        ],
        value=project.value, complexity=project.complexity, decision=project.decision,
        decision_reason=project.decision_reason, other_help=project.other_help,
        decided_by=project.decided_by.username if project.decided_by else None, decided_at=project.decided_at,
    )  # fmt: skip


@router.get(
    f"{BASE}/scoping",
    response=answers({200: ScopingOut}, *READ),
    operation_id="get_scoping",
    summary="The five criteria with their current ratings, value x complexity and the decision",
)
def scoping_get(request: HttpRequest, city: CityPath, project_id: IdPath) -> ScopingOut:
    return _scoping(get_project(acting(request), city, project_id))


@router.post(
    f"{BASE}/scoping/ratings",
    response=answers({201: RatingOut}, *WRITE),
    operation_id="rate_criterion",
    summary="Rate one of the five criteria (every rating is kept; the latest counts)",
)
def scoping_rate(request: HttpRequest, city: CityPath, project_id: IdPath, payload: RatingIn) -> Status[RatingOut]:
    rating = scoping.rate(
        acting(request), city, project_id, payload.criterion, payload.score, payload.evidence, payload.rated_on
    )
    return Status(201, _rating(rating))


@router.put(
    f"{BASE}/scoping/value",
    response=answers({200: ScopingOut}, *WRITE),
    operation_id="set_value_complexity",
    summary="Record value (low/high) and complexity (low/high)",
)
def scoping_value(request: HttpRequest, city: CityPath, project_id: IdPath, payload: ValueIn) -> ScopingOut:
    return _scoping(scoping.set_value_complexity(acting(request), city, project_id, payload.value, payload.complexity))


@router.put(
    f"{BASE}/scoping/decision",
    response=answers({200: ScopingOut}, *WRITE),
    operation_id="decide_project",
    summary="Accept, accept with risks, or off-ramp (all five criteria must be rated)",
)
def scoping_decide(request: HttpRequest, city: CityPath, project_id: IdPath, payload: DecisionIn) -> ScopingOut:
    project = scoping.decide(acting(request), city, project_id, payload.decision, payload.reason, payload.other_help)
    return _scoping(project)


# ---- the charter ------------------------------------------------------------------------------------------------


class VersionSummary(Schema):
    id: int
    number: int
    note: str
    created_by: str
    created_at: datetime


class VersionOut(VersionSummary):
    fields: dict[str, str]


class SignOffOut(Schema):
    id: int
    version: int  # the version's number
    kind: str
    name: str
    role: str
    signed_on: date
    recorded_by: str


class InvalidatedOut(Schema):
    sign_off: SignOffOut
    signed_version: int
    invalidated_by: int
    changed: list[str]  # field keys


class StatusOut(Schema):
    signed: bool
    version: int | None
    valid: list[SignOffOut]
    invalidated: list[InvalidatedOut]
    missing: list[str]


class CharterOut(Schema):
    """The current version (null before the first edit) and whether it is signed."""

    version: VersionOut | None
    status: StatusOut


class SegmentOut(Schema):
    op: str  # same | added | removed
    text: str


class ChangeOut(Schema):
    key: str
    label: str
    before: str
    after: str
    segments: list[SegmentOut]


class DiffOut(Schema):
    from_version: int | None  # null: compared with an empty charter
    to_version: int
    changes: list[ChangeOut]


class CharterIn(Input):
    """Fields to change (keys of the charter; those left out keep their value) and a note on what changed."""

    fields: dict[Short, Text] = Field(default_factory=dict, max_length=60)
    note: Line = ""


class SignOffIn(Input):
    kind: Literal["team", "champion", "leadership"]
    name: Name
    role: Name
    signed_on: date


def _version(v: CharterVersion) -> VersionOut:
    return VersionOut(
        id=v.pk, number=v.number, note=v.note, created_by=v.created_by.username, created_at=v.created_at,
        fields=charter.complete(v.fields or {}),
    )  # fmt: skip


def _sign_off(s: SignOff) -> SignOffOut:
    return SignOffOut(
        id=s.pk, version=s.version.number, kind=s.kind, name=s.name, role=s.role, signed_on=s.signed_on,
        recorded_by=s.recorded_by.username,
    )  # fmt: skip


def _charter(project: Project) -> CharterOut:
    version = charter.current(project)
    status = charter.signature_status(project)
    return CharterOut(
        version=_version(version) if version is not None else None,
        status=StatusOut(
            signed=status.signed,
            version=status.version,
            valid=[_sign_off(s) for s in status.valid],
            invalidated=[
                InvalidatedOut(
                    sign_off=_sign_off(i.sign_off),
                    signed_version=i.signed_version,
                    invalidated_by=i.invalidated_by,
                    changed=list(i.changed),
                )
                for i in status.invalidated
            ],
            missing=list(status.missing),
        ),
    )


@router.get(
    f"{BASE}/charter",
    response=answers({200: CharterOut}, *READ),
    operation_id="get_charter",
    summary="The charter's current version and its sign-off status",
)
def charter_get(request: HttpRequest, city: CityPath, project_id: IdPath) -> CharterOut:
    return _charter(get_project(acting(request), city, project_id))


@router.post(
    f"{BASE}/charter/versions",
    response=answers({200: VersionOut, 201: VersionOut}, *WRITE),
    operation_id="update_charter",
    summary="Change charter fields: 201 with a new version, or 200 with the current one when nothing changed",
)
def charter_update(request: HttpRequest, city: CityPath, project_id: IdPath, payload: CharterIn) -> Status[VersionOut]:
    user = acting(request)
    before = charter.current(get_project(user, city, project_id))
    version = charter.edit(user, city, project_id, dict(payload.fields), note=payload.note)
    made = before is None or version.pk != before.pk
    return Status(201 if made else 200, _version(version))


@router.get(
    f"{BASE}/charter/versions",
    response=answers({200: list[VersionSummary]}, *READ),
    operation_id="list_charter_versions",
    summary="Every version of the charter, newest first",
)
def charter_versions(request: HttpRequest, city: CityPath, project_id: IdPath) -> list[VersionSummary]:
    return [
        VersionSummary(id=v.pk, number=v.number, note=v.note, created_by=v.created_by.username, created_at=v.created_at)
        for v in charter.versions(acting(request), city, project_id)
    ]


@router.get(
    f"{BASE}/charter/versions/{{version_id}}",
    response=answers({200: VersionOut}, *READ),
    operation_id="get_charter_version",
    summary="One version of the charter",
)
def charter_version(request: HttpRequest, city: CityPath, project_id: IdPath, version_id: IdPath) -> VersionOut:
    return _version(charter.get_version(acting(request), city, project_id, version_id))


VersionNumber = QueryEx[int | None, P(ge=1, le=MAX_ID, description="A version's number")]


@router.get(
    f"{BASE}/charter/diff",
    response=answers({200: DiffOut}, *READ),
    operation_id="diff_charter",
    summary="What changed between two versions (default: the latest and the one before it)",
)
def charter_diff(
    request: HttpRequest,
    city: CityPath,
    project_id: IdPath,
    from_: QueryEx[int | None, P(ge=1, le=MAX_ID, alias="from", description="The older version's number")] = None,
    to: VersionNumber = None,
) -> DiffOut:
    user = acting(request)
    project = get_project(user, city, project_id)
    if to is None:
        latest = charter.current(project)
        if latest is None:
            raise NotFoundError("the charter has no version yet")
        new = latest
    else:
        new = charter.version_by_number(user, city, project_id, to)
    if from_ is not None:
        old: CharterVersion | None = charter.version_by_number(user, city, project_id, from_)
    elif new.number > 1:
        old = charter.version_by_number(user, city, project_id, new.number - 1)
    else:
        old = None
    return DiffOut(
        from_version=old.number if old is not None else None,
        to_version=new.number,
        changes=[
            ChangeOut(
                key=c.key,
                label=c.label,
                before=c.before,
                after=c.after,
                segments=[SegmentOut(op=s.op, text=s.text) for s in c.segments],
            )
            for c in charter.diff(old, new)
        ],
    )


@router.post(
    f"{BASE}/charter/sign-offs",
    response=answers({201: SignOffOut}, *WRITE),
    operation_id="sign_charter",
    summary="Record a sign-off of the charter's current version",
)
def charter_sign(request: HttpRequest, city: CityPath, project_id: IdPath, payload: SignOffIn) -> Status[SignOffOut]:
    sign_off = charter.sign(
        acting(request), city, project_id, payload.kind, payload.name, payload.role, payload.signed_on
    )
    return Status(201, _sign_off(sign_off))
