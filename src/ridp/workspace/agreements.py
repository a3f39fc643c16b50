"""Data-sharing agreements: their lifecycle, the gate on use, masking, and retention.

Status moves draft → legal review → signed → active → expired / terminated,
each step dated and attributed in the agreement's history and the audit log.
A dataset marked ``needs_agreement`` cannot be read by any preview, analysis
or export unless an *active* agreement covers it (:func:`require_use`); the
error names what is missing or expired. Personal columns are shown only to the
roles and people an active covering agreement names (:func:`visible_personal_columns`).
When an agreement ends, use stops at once; after its retention period the
covered versions' bytes are deleted, leaving a tombstone and the audit entry
(:func:`enforce`, run at every start).
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone as django_timezone

from ridp.errors import AgreementRequiredError, FieldError, NotFoundError
from ridp.workspace import audit
from ridp.workspace.access import require
from ridp.workspace.models import (
    Agreement,
    AgreementDataset,
    AgreementStatusChange,
    City,
    Dataset,
    Membership,
    Role,
    Tombstone,
    User,
)
from ridp.workspace.people import require_city
from ridp.workspace.store import city_dir, home

__all__ = [
    "Signatory",
    "activate",
    "add_agreement",
    "covering",
    "enforce",
    "get_agreement",
    "list_agreements",
    "require_use",
    "sign",
    "submit_for_review",
    "terminate",
    "visible_personal_columns",
]

S = Agreement.Status
MAX_DOCUMENT_BYTES = 50_000_000
ENDED = (S.EXPIRED, S.TERMINATED)


@dataclass(frozen=True)
class Signatory:
    """A person who signed for a party."""

    name: str
    role: str
    signed_on: date


def _today() -> date:
    return django_timezone.now().date()


def _require_manager(actor: User, city: City) -> None:
    """Senior leaders of the city (and programme admins) manage its agreements."""
    require(actor, city, "agreement.manage")


def _change(agreement: Agreement, status: str, actor: User | None, note: str = "") -> None:
    agreement.status = status
    agreement.save(update_fields=["status", "ended_on"])
    AgreementStatusChange.objects.create(agreement=agreement, status=status, by=actor, note=note)
    audit.record(
        "agreement.status_changed",
        actor=actor,
        city=agreement.city,
        obj=agreement,
        status=status,
        title=agreement.title,
    )


def add_agreement(
    actor: User,
    city: str,
    *,
    title: str,
    parties: str,
    purpose: str,
    datasets: dict[str, list[str]],
    starts_on: date,
    expires_on: date,
    permitted_uses: str = "",
    retention_days: int = 0,
    personal_roles: list[str] | None = None,
    personal_people: list[str] | None = None,
) -> Agreement:
    """Draft an agreement covering ``datasets`` (name → covered columns; empty list: all)."""
    city_obj = require_city(actor, city)
    _require_manager(actor, city_obj)
    for field_name, value in (("title", title), ("parties", parties), ("purpose", purpose)):
        if not value.strip():
            raise FieldError(field_name, "is required")
    if expires_on <= starts_on:
        raise FieldError("expires_on", f"{expires_on} is not after the start {starts_on}")
    if retention_days < 0:
        raise FieldError("retention_days", "cannot be negative")
    if not datasets:
        raise FieldError("datasets", "an agreement covers at least one dataset")
    roles = personal_roles or []
    for role in roles:
        if role not in Role.values:
            raise FieldError("personal_roles", f"{role!r} is not a role")
    covered: list[tuple[Dataset, list[str]]] = []
    for name, columns in datasets.items():
        dataset = Dataset.objects.filter(city=city_obj, name=name).select_related("current_version").first()
        if dataset is None:
            raise FieldError("datasets", f"{city_obj.slug} has no dataset {name!r}")
        known = {c["name"] for c in dataset.current_version.schema} if dataset.current_version else set()
        for column in columns:
            if known and column not in known:
                raise FieldError("columns", f"{name} has no column {column!r}")
        covered.append((dataset, list(columns)))
    people = []
    for username in personal_people or []:
        person = User.objects.filter(username=username, memberships__city=city_obj).first()
        if person is None:
            raise FieldError("personal_people", f"{username!r} is not a member of {city_obj.slug}")
        people.append(person)
    with transaction.atomic():
        agreement = Agreement.objects.create(
            city=city_obj, title=title.strip(), parties=parties.strip(), purpose=purpose.strip(),
            permitted_uses=permitted_uses.strip(), personal_roles=roles, retention_days=retention_days,
            starts_on=starts_on, expires_on=expires_on, created_by=actor,
        )  # fmt: skip
        for dataset, columns in covered:
            AgreementDataset.objects.create(agreement=agreement, dataset=dataset, columns=columns)
        agreement.personal_people.set(people)
        _change(agreement, S.DRAFT, actor, "drafted")
    return agreement


def get_agreement(actor: User, city: str, agreement_id: int) -> Agreement:
    """An agreement of a city the actor can see; another city's is NotFound."""
    city_obj = require_city(actor, city)
    agreement = Agreement.objects.filter(city=city_obj, pk=agreement_id).first()
    if agreement is None:
        raise NotFoundError(f"no agreement {agreement_id} in {city_obj.slug}")
    return agreement


def list_agreements(actor: User, city: str) -> list[Agreement]:
    city_obj = require_city(actor, city)
    return list(Agreement.objects.filter(city=city_obj).order_by("id"))


def _move(
    actor: User,
    city: str,
    agreement_id: int,
    allowed_from: tuple[str, ...],
    to: str,
    note: str = "",
    *,
    ends: bool = False,
) -> Agreement:
    agreement = get_agreement(actor, city, agreement_id)
    _require_manager(actor, agreement.city)
    if agreement.status not in allowed_from:
        raise FieldError(
            "status",
            f"agreement {agreement.pk} is {agreement.get_status_display()}; it can become {S(to).label} only from "
            + " or ".join(S(s).label for s in allowed_from),
        )
    with transaction.atomic():
        if ends:
            agreement.ended_on = _today()
        _change(agreement, to, actor, note)
    return agreement


def submit_for_review(actor: User, city: str, agreement_id: int) -> Agreement:
    """Draft → legal review."""
    return _move(actor, city, agreement_id, (S.DRAFT,), S.LEGAL_REVIEW, "sent to legal review")


def sign(actor: User, city: str, agreement_id: int, *, signatories: list[Signatory], document: Path) -> Agreement:
    """Legal review → signed, with its signatories and the signed document (a PDF)."""
    agreement = get_agreement(actor, city, agreement_id)
    _require_manager(actor, agreement.city)
    if not signatories:
        raise FieldError("signatories", "a signed agreement names who signed it")
    source = Path(document)
    if not source.is_file():
        raise FieldError("document", f"{source} is not a file")
    size = source.stat().st_size
    if size == 0 or size > MAX_DOCUMENT_BYTES:
        raise FieldError("document", f"{source.name} is {size:,} bytes; a signed document is 1 byte to 50 MB")
    with source.open("rb") as fh:
        if fh.read(5) != b"%PDF-":
            raise FieldError("document", f"{source.name} is not a PDF (its first bytes say otherwise)")
    folder = city_dir(agreement.city) / "agreements"
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{uuid.uuid4().hex}.pdf"  # stored under an internal id, never the uploaded name
    shutil.copyfile(source, stored)
    digest = hashlib.sha256(stored.read_bytes()).hexdigest()
    try:
        with transaction.atomic():
            agreement = _move(actor, city, agreement_id, (S.LEGAL_REVIEW,), S.SIGNED, f"signed by {len(signatories)}")
            agreement.signatories = [
                {"name": s.name, "role": s.role, "signed_on": s.signed_on.isoformat()} for s in signatories
            ]
            agreement.document = stored.relative_to(home()).as_posix()
            agreement.document_name = source.name
            agreement.document_sha256 = digest
            agreement.save(update_fields=["signatories", "document", "document_name", "document_sha256"])
    except BaseException:
        stored.unlink(missing_ok=True)
        raise
    return agreement


def activate(actor: User, city: str, agreement_id: int) -> Agreement:
    """Signed → active, on or after its start date and before it expires."""
    agreement = get_agreement(actor, city, agreement_id)
    today = _today()
    if today < agreement.starts_on:
        raise FieldError("starts_on", f"agreement {agreement.pk} starts on {agreement.starts_on}")
    if today >= agreement.expires_on:
        raise FieldError("expires_on", f"agreement {agreement.pk} expired on {agreement.expires_on}")
    return _move(actor, city, agreement_id, (S.SIGNED,), S.ACTIVE, "in force")


def terminate(actor: User, city: str, agreement_id: int, *, reason: str) -> Agreement:
    """End an agreement before its expiry: use stops now; retention follows."""
    if not reason.strip():
        raise FieldError("reason", "say why the agreement ends")
    agreement = _move(
        actor, city, agreement_id, (S.DRAFT, S.LEGAL_REVIEW, S.SIGNED, S.ACTIVE), S.TERMINATED, reason, ends=True
    )
    enforce()
    return agreement


def signed_document(actor: User, city: str, agreement_id: int) -> tuple[Path, str]:
    """The stored signed PDF and its name, for people who may read rows; every download is audited."""
    agreement = get_agreement(actor, city, agreement_id)
    require(actor, agreement.city, "rows.read", obj=agreement)
    root = home().resolve()
    stored = (root / agreement.document).resolve() if agreement.document else None
    if stored is None or not stored.is_relative_to(root) or not stored.is_file():
        raise NotFoundError(f"agreement {agreement.pk} has no signed document")
    audit.record(
        "export.agreement_document", actor=actor, city=agreement.city, obj=agreement, sha256=agreement.document_sha256
    )
    return stored, agreement.document_name or f"agreement-{agreement.pk}.pdf"


def covering(dataset: Dataset) -> list[Agreement]:
    today = _today()
    return [
        a
        for a in Agreement.objects.filter(coverage__dataset=dataset, status=S.ACTIVE).distinct()
        if a.starts_on <= today < a.expires_on
    ]


def require_use(actor: User, dataset: Dataset, use: str) -> list[Agreement]:
    """The active agreements covering ``dataset``; raises if it needs one and has none.

    ``use`` (preview, analysis, export...) is named in the audit entry of a refusal.
    An agreement past its expiry grants nothing even before :func:`enforce` marks it
    expired (that runs at start-up, with the retention it triggers).
    """
    active = covering(dataset)
    if dataset.needs_agreement and not active:
        ended = Agreement.objects.filter(coverage__dataset=dataset).order_by("-id").first()
        if ended is None:
            why = f"{dataset.name} needs a data-sharing agreement and none covers it"
        elif ended.status in ENDED:
            when = ended.ended_on or ended.expires_on
            why = f"{dataset.name}: agreement {ended.pk} ({ended.title!r}) {ended.get_status_display()} on {when}"
        elif ended.status == S.ACTIVE and ended.expires_on <= _today():
            why = f"{dataset.name}: agreement {ended.pk} ({ended.title!r}) expired on {ended.expires_on}"
        else:
            why = f"{dataset.name}: agreement {ended.pk} ({ended.title!r}) is {ended.get_status_display()}, not active"
        audit.record("agreement.use_refused", actor=actor, city=dataset.city, obj=dataset, use=use)
        raise AgreementRequiredError(why, hint="a senior leader activates an agreement that covers it")
    return active


def visible_personal_columns(actor: User, dataset: Dataset) -> set[str] | None:
    """Personal columns whose values ``actor`` may see: ``None`` means all of them.

    Only people and roles an active covering agreement names see personal values.
    """
    roles = set(Membership.objects.filter(user=actor, city=dataset.city).values_list("role", flat=True))
    visible: set[str] = set()
    for agreement in covering(dataset):
        named = bool(roles & set(agreement.personal_roles)) or agreement.personal_people.filter(pk=actor.pk).exists()
        if not named:
            continue
        for coverage in agreement.coverage.filter(dataset=dataset):
            if not coverage.columns:
                return None
            visible |= set(coverage.columns)
    return visible


def enforce(today: date | None = None) -> list[str]:
    """Expire agreements past their date; delete the bytes of versions whose agreements
    ended more than their retention period ago. Returns what was done."""
    day = today or _today()
    done: list[str] = []
    for agreement in Agreement.objects.filter(status=S.ACTIVE, expires_on__lte=day):
        with transaction.atomic():
            agreement.ended_on = agreement.expires_on
            _change(agreement, S.EXPIRED, None, "expired")
        done.append(f"agreement {agreement.pk} expired")
    for agreement in Agreement.objects.filter(status__in=ENDED, ended_on__isnull=False):
        assert agreement.ended_on is not None
        if agreement.ended_on + timedelta(days=agreement.retention_days) > day:
            continue
        for coverage in agreement.coverage.select_related("dataset"):
            dataset = coverage.dataset
            if not dataset.needs_agreement or covering(dataset):
                continue  # still lawfully held under another agreement, or no agreement needed
            for version in dataset.versions.filter(tombstone__isnull=True):
                path = home() / version.file
                with transaction.atomic():
                    Tombstone.objects.create(
                        version=version,
                        agreement=agreement,
                        reason=f"retention: agreement {agreement.pk} {agreement.get_status_display()} on {agreement.ended_on}",
                    )
                    audit.record(
                        "retention.bytes_deleted", actor=None, city=dataset.city, obj=version,
                        dataset=dataset.name, number=version.number, agreement=agreement.pk,
                    )  # fmt: skip
                path.unlink(missing_ok=True)
                done.append(f"{dataset} v{version.number}: bytes deleted")
    return done
