"""A city's data-sharing agreements: drafting, the lifecycle, and the signed document.

Everyone who sees the city sees its agreements; drafting and every change of
status need ``agreement.manage`` (the workspace checks it, and audits
refusals). The signed PDF goes only to those who may read rows, and each
download is audited as ``export.agreement_document``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path

from django.http import FileResponse, HttpRequest
from ninja import File, Router, Status
from ninja.files import UploadedFile
from ninja.params import FormEx, P
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from ridp.errors import FieldError
from ridp.web.api.people import acting
from ridp.web.api.schemas import (
    NO_NUL,
    READ,
    WRITE,
    AgreementIn,
    AgreementOut,
    CityPath,
    CoverageOut,
    IdPath,
    SignatoryIn,
    SignatoryOut,
    StatusChangeOut,
    TerminateIn,
    answers,
)
from ridp.web.downloads import attachment
from ridp.web.uploaded import staged
from ridp.workspace import agreements
from ridp.workspace.access import require
from ridp.workspace.models import Agreement

router = Router(tags=["agreements"])

AGREEMENT = "/cities/{city}/agreements/{agreement_id}"
MAX_SIGNATORIES = 50
_signatories = TypeAdapter(list[SignatoryIn])

SignatoriesForm = FormEx[
    str | None,
    P(
        max_length=20_000,
        pattern=NO_NUL,
        description='JSON list of who signed: [{"name": "...", "role": "...", "signed_on": "YYYY-MM-DD"}]',
    ),
]
NameForm = FormEx[str | None, P(max_length=200, pattern=NO_NUL, description="One signatory's name (without JSON)")]
RoleForm = FormEx[str | None, P(max_length=200, pattern=NO_NUL, description="That signatory's role")]
DayForm = FormEx[date | None, P(description="The day they signed")]


def agreement_out(a: Agreement) -> AgreementOut:
    coverage = a.coverage.select_related("dataset").order_by("id")
    return AgreementOut(
        id=a.pk,
        city=a.city.slug,
        title=a.title,
        parties=a.parties,
        purpose=a.purpose,
        permitted_uses=a.permitted_uses,
        status=a.status,
        datasets=[
            CoverageOut(dataset_id=c.dataset_id, dataset=c.dataset.name, columns=list(c.columns)) for c in coverage
        ],
        personal_roles=[str(r) for r in a.personal_roles],
        retention_days=a.retention_days,
        starts_on=a.starts_on,
        expires_on=a.expires_on,
        ended_on=a.ended_on,
        signatories=[
            SignatoryOut(
                name=str(s.get("name", "")), role=str(s.get("role", "")), signed_on=str(s.get("signed_on", ""))
            )
            for s in a.signatories
        ],
        document_name=a.document_name,
        has_document=bool(a.document),
        created_at=a.created_at,
        created_by=a.created_by.username,
        history=[
            StatusChangeOut(status=h.status, at=h.at, by=h.by.username if h.by else None, note=h.note)
            for h in a.history.select_related("by")
        ],
    )


@router.get(
    "/cities/{city}/agreements",
    response=answers({200: list[AgreementOut]}, *READ),
    operation_id="list_agreements",
    summary="The city's data-sharing agreements",
)
def agreement_list(request: HttpRequest, city: CityPath) -> list[AgreementOut]:
    return [agreement_out(a) for a in agreements.list_agreements(acting(request), city)]


@router.post(
    "/cities/{city}/agreements",
    response=answers({201: AgreementOut}, *WRITE),
    operation_id="create_agreement",
    summary="Draft an agreement",
)
def agreement_create(request: HttpRequest, city: CityPath, payload: AgreementIn) -> Status[AgreementOut]:
    created = agreements.add_agreement(acting(request), city, **payload.model_dump())
    return Status(201, agreement_out(created))


@router.get(
    AGREEMENT, response=answers({200: AgreementOut}, *READ), operation_id="get_agreement", summary="One agreement"
)
def agreement_get(request: HttpRequest, city: CityPath, agreement_id: IdPath) -> AgreementOut:
    return agreement_out(agreements.get_agreement(acting(request), city, agreement_id))


@router.post(
    AGREEMENT + "/review",
    response=answers({200: AgreementOut}, *WRITE),
    operation_id="review_agreement",
    summary="Send a draft to legal review",
)
def agreement_review(request: HttpRequest, city: CityPath, agreement_id: IdPath) -> AgreementOut:
    return agreement_out(agreements.submit_for_review(acting(request), city, agreement_id))


def _signatories_from(
    raw: str | None, name: str | None, role: str | None, signed_on: date | None
) -> list[agreements.Signatory]:
    if raw and raw.strip():
        try:
            given = _signatories.validate_json(raw)
        except PydanticValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise FieldError("signatories", f"{where}: {problem['msg']}" if where else str(problem["msg"])) from None
    elif name and name.strip():
        if signed_on is None:
            raise FieldError("signed_on", "give the day they signed (YYYY-MM-DD)")
        given = [SignatoryIn(name=name.strip(), role=(role or "").strip(), signed_on=signed_on)]
    else:
        raise FieldError("signatories", "name who signed: a JSON list, or signatory_name and signed_on")
    if len(given) > MAX_SIGNATORIES:
        raise FieldError("signatories", f"at most {MAX_SIGNATORIES} signatories")
    return [agreements.Signatory(name=s.name.strip(), role=s.role.strip(), signed_on=s.signed_on) for s in given]


def _staged(upload: UploadedFile) -> AbstractContextManager[Path]:
    if upload.size is not None and upload.size > agreements.MAX_DOCUMENT_BYTES:
        raise FieldError("document", "a signed document is 1 byte to 50 MB")
    return staged(upload, "agreement-")


@router.post(
    AGREEMENT + "/sign",
    response=answers({200: AgreementOut}, *WRITE),
    operation_id="sign_agreement",
    summary="Record the signatures and the signed document (a PDF) of an agreement in legal review",
)
def agreement_sign(
    request: HttpRequest,
    city: CityPath,
    agreement_id: IdPath,
    document: File[UploadedFile],
    signatories: SignatoriesForm = None,
    signatory_name: NameForm = None,
    signatory_role: RoleForm = None,
    signed_on: DayForm = None,
) -> AgreementOut:
    actor = acting(request)
    found = agreements.get_agreement(actor, city, agreement_id)
    require(actor, found.city, "agreement.manage", obj=found)
    who = _signatories_from(signatories, signatory_name, signatory_role, signed_on)
    with _staged(document) as pdf:
        signed = agreements.sign(actor, city, agreement_id, signatories=who, document=pdf)
    return agreement_out(signed)


@router.post(
    AGREEMENT + "/activate",
    response=answers({200: AgreementOut}, *WRITE),
    operation_id="activate_agreement",
    summary="Put a signed agreement in force (from its start date, before it expires)",
)
def agreement_activate(request: HttpRequest, city: CityPath, agreement_id: IdPath) -> AgreementOut:
    return agreement_out(agreements.activate(acting(request), city, agreement_id))


@router.post(
    AGREEMENT + "/terminate",
    response=answers({200: AgreementOut}, *WRITE),
    operation_id="terminate_agreement",
    summary="End an agreement: use of the data it covers stops now; its retention period starts",
)
def agreement_terminate(
    request: HttpRequest, city: CityPath, agreement_id: IdPath, payload: TerminateIn
) -> AgreementOut:
    return agreement_out(agreements.terminate(acting(request), city, agreement_id, reason=payload.reason))


@router.get(
    AGREEMENT + "/document",
    response=answers({}, 403, *READ),
    operation_id="get_agreement_document",
    summary="The signed document (for those who may read rows; every download is audited)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The signed PDF, as an attachment",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def agreement_document(request: HttpRequest, city: CityPath, agreement_id: IdPath) -> FileResponse:
    stored, name = agreements.signed_document(acting(request), city, agreement_id)
    return attachment(stored, name, "application/pdf")
