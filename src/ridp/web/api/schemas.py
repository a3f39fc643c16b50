"""Response and request schemas shared by the API routers.

Request bodies are strict: a boolean never passes as a number nor a number as a
string, unknown keys are refused, every string has a length limit and no NUL
character (PostgreSQL stores none), and dates are ``YYYY-MM-DD``. A body that
breaks a rule is a 422 naming the field, before any workspace function runs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

from ninja import Schema
from ninja.params import P, PathEx
from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr

#: No NUL characters (PostgreSQL text cannot hold them); everything else is a person's own text.
NO_NUL: Final = r"^[^\x00]*$"
#: A city's slug, as in its URLs.
SLUG: Final = r"^[-a-zA-Z0-9_]+$"
#: The largest id the store's 64-bit keys hold.
MAX_ID: Final = 9_223_372_036_854_775_807

Name = Annotated[StrictStr, Field(min_length=1, max_length=200, pattern=NO_NUL)]
Short = Annotated[StrictStr, Field(max_length=100, pattern=NO_NUL)]
Line = Annotated[StrictStr, Field(max_length=200, pattern=NO_NUL)]
Title = Annotated[StrictStr, Field(min_length=1, max_length=300, pattern=NO_NUL)]
Text = Annotated[StrictStr, Field(max_length=10_000, pattern=NO_NUL)]
ColumnName = Annotated[StrictStr, Field(max_length=500, pattern=NO_NUL)]
Years = Annotated[float, Field(strict=True, ge=0, le=10_000, allow_inf_nan=False)]
RoleName = Literal[
    "programme_admin",
    "coach",
    "programme_analyst",
    "senior_leader",
    "data_analyst",
    "subject_matter_expert",
    "viewer",
]
ClassName = Literal["public", "internal", "personal", "sensitive"]


#: Path parameters: a city's slug, and an object's id.
CityPath = PathEx[str, P(min_length=1, max_length=100, pattern=SLUG, description="The city's slug")]
IdPath = PathEx[int, P(ge=1, le=MAX_ID)]


class Error(Schema):
    """``detail``: a message, or for 422 a list of what is wrong with which field."""

    detail: Any


def answers(ok: dict[int, Any], *codes: int) -> dict[int, Any]:
    """An operation's responses: ``ok`` plus an :class:`Error` for 401 and each of ``codes``."""
    return {**ok, **{code: Error for code in sorted({401, *codes})}}


#: Error codes of operations that read (bad parameters are 422) and that change something.
READ: Final = (404, 422)
WRITE: Final = (400, 403, 404, 409, 422)


class Input(Schema):
    """A request body: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


# --- people -----------------------------------------------------------------------------------------------------


class CitySchema(Schema):
    slug: str
    name: str
    timezone: str
    cohort: str | None


class MeSchema(Schema):
    username: str
    email: str
    programme_admin: bool
    cities: list[CitySchema]


# --- catalog ----------------------------------------------------------------------------------------------------


class InventoryPatch(Input):
    """Inventory fields (GovEx data inventory guide); those left out keep their value."""

    description: Text = ""
    owner_department: Line = ""
    steward: Line = ""
    source_system: Line = ""
    update_frequency: Short = ""
    licence: Line = ""
    public: Literal["yes", "no", "partial"] = "no"
    sensitivity: Short = ""
    sensitivity_reason: Text = ""
    years_of_history: Years | None = None
    known_quality_issues: Text = ""
    needs_agreement: StrictBool = False


class DatasetIn(InventoryPatch):
    """A new inventory record: the dataset's name and what is known of it, before (or without) any data."""

    name: Name


class ColumnOut(Schema):
    name: str
    position: int
    dtype: str
    classification: str
    suggested_classification: str
    reasons: list[str]
    classified_by: str | None
    classified_at: datetime | None


class VersionOut(Schema):
    number: int
    rows: int
    source_name: str
    source_format: str
    source_bytes: int
    encoding: str
    delimiter: str
    notes: list[str]
    created_at: datetime
    created_by: str
    data_deleted: bool


class DatasetOut(Schema):
    id: int
    city: str
    name: str
    description: str
    owner_department: str
    steward: str
    source_system: str
    update_frequency: str
    licence: str
    public: str
    sensitivity: str
    sensitivity_reason: str
    years_of_history: float | None
    known_quality_issues: str
    needs_agreement: bool
    created_at: datetime
    current_version: VersionOut | None


class DatasetDetail(DatasetOut):
    columns: list[ColumnOut]


class PreviewOut(Schema):
    """The first rows; values of personal columns this person may not see read ``•••``."""

    version: int
    columns: list[str]
    rows: list[list[Any]]
    masked: list[str]


class MappingFieldOut(Schema):
    column: str
    confidence: float
    reasons: list[str]
    date_formats: list[str]
    ambiguous_day_month: bool


class MappingOut(Schema):
    """The dataset's newest mapping; ``version`` is null while none was made (PUT proposes one)."""

    version: int | None
    fields: dict[str, MappingFieldOut]
    areas: list[str]
    timezone: str
    created_at: datetime | None
    created_by: str | None
    confirmed: bool
    confirmed_by: str | None
    confirmed_at: datetime | None


class MappingIn(Input):
    """``set``: canonical field -> column (an empty column removes the field); ``areas`` replaces the area
    columns; ``accept`` confirms the mapping. An empty body proposes a mapping when there is none."""

    set: dict[Short, ColumnName] = Field(default_factory=dict, max_length=50)
    areas: list[ColumnName] | None = Field(default=None, max_length=200)
    accept: StrictBool = False


class ColumnsIn(Input):
    """``set``: column -> class; ``accept`` confirms every column (its set class, else its suggestion)."""

    set: dict[ColumnName, ClassName] = Field(default_factory=dict, max_length=2000)
    accept: StrictBool = False


# --- uploads ----------------------------------------------------------------------------------------------------


class UploadOut(Schema):
    """An upload and its ingest: queued, running, done (``version`` made current) or failed (``error``)."""

    id: int
    dataset: str
    source_name: str
    source_bytes: int
    status: str
    fraction: float
    stage: str
    error: str
    error_field: str
    version: int | None
    created_at: datetime
    finished_at: datetime | None


# --- agreements -------------------------------------------------------------------------------------------------


class CoverageOut(Schema):
    dataset_id: int
    dataset: str
    columns: list[str]


class SignatoryOut(Schema):
    name: str
    role: str
    signed_on: str


class StatusChangeOut(Schema):
    status: str
    at: datetime
    by: str | None
    note: str


class AgreementOut(Schema):
    id: int
    city: str
    title: str
    parties: str
    purpose: str
    permitted_uses: str
    status: str
    datasets: list[CoverageOut]
    personal_roles: list[str]
    retention_days: int
    starts_on: date
    expires_on: date
    ended_on: date | None
    signatories: list[SignatoryOut]
    document_name: str
    has_document: bool
    created_at: datetime
    created_by: str
    history: list[StatusChangeOut]


class AgreementIn(Input):
    """A draft agreement. ``datasets``: dataset name -> the columns it covers (an empty list: all of them)."""

    title: Title
    parties: Annotated[StrictStr, Field(min_length=1, max_length=10_000, pattern=NO_NUL)]
    purpose: Annotated[StrictStr, Field(min_length=1, max_length=10_000, pattern=NO_NUL)]
    permitted_uses: Text = ""
    datasets: dict[Name, Annotated[list[ColumnName], Field(max_length=2000)]] = Field(min_length=1, max_length=500)
    personal_roles: list[RoleName] = Field(default_factory=list, max_length=10)
    personal_people: list[Annotated[StrictStr, Field(min_length=1, max_length=150, pattern=NO_NUL)]] = Field(
        default_factory=list, max_length=200
    )
    retention_days: Annotated[StrictInt, Field(ge=0, le=36_500)] = 0
    starts_on: date
    expires_on: date


class SignatoryIn(Input):
    name: Annotated[StrictStr, Field(min_length=1, max_length=200, pattern=NO_NUL)]
    role: Line = ""
    signed_on: date


class TerminateIn(Input):
    reason: Annotated[StrictStr, Field(min_length=1, max_length=2000, pattern=NO_NUL)]


# --- team -------------------------------------------------------------------------------------------------------


class MemberOut(Schema):
    membership_id: int
    username: str
    full_name: str
    email: str
    role: str
    role_label: str
    programme_side: bool


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    invited_by: str
    created_at: datetime
    expires_at: datetime


class InvitationIn(Input):
    email: Annotated[StrictStr, Field(min_length=3, max_length=254, pattern=NO_NUL)]
    role: RoleName


class InvitationCreated(InvitationOut):
    """The new invitation. ``link`` is shown this once (it is also e-mailed); ``mailed`` says if the mail left."""

    link: str
    mailed: bool


# --- tokens -----------------------------------------------------------------------------------------------------


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenIn(Input):
    """``days``: how long the token works (1 to 366; null: until revoked)."""

    name: Annotated[StrictStr, Field(min_length=1, max_length=100, pattern=NO_NUL)]
    days: Annotated[StrictInt, Field(ge=1, le=366)] | None = 90


class TokenCreated(TokenOut):
    """The new token: ``token`` is shown this once and never again."""

    token: str


# --- audit ------------------------------------------------------------------------------------------------------


class AuditEntryOut(Schema):
    id: int
    at: datetime
    actor: str
    action: str
    city: str | None
    object_type: str
    object_id: str
    detail: dict[str, Any]


class AuditPage(Schema):
    page: int
    pages: int
    total: int
    entries: list[AuditEntryOut]
