"""Data-sharing agreements: lifecycle, the gate on use, masking by agreement, retention."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ridp.errors import AgreementRequiredError, FieldError, NotFoundError, PermissionDeniedError
from tests.conftest import SHARED_DATA

BOSTON = SHARED_DATA / "city/boston/boston311-100.csv"
TODAY = date.today()


@pytest.fixture
def sensitive(people, tmp_path):
    """Springfield's requests, classified, and marked as needing an agreement."""
    from ridp.workspace.classify import classify_dataset
    from ridp.workspace.datasets import add_file, record_inventory

    add_file(people.ana, BOSTON, city="springfield", name="requests")
    classify_dataset(people.ana, "springfield", "requests", accept=True)  # before the gate closes
    record_inventory(people.sam, "springfield", "requests", needs_agreement=True, sensitivity="residents' addresses")
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% signed agreement\n%%EOF\n")
    return people, pdf


def active_agreement(people, pdf, **kw):
    from ridp.workspace.agreements import Signatory, activate, add_agreement, sign, submit_for_review

    options = dict(
        title="311 analysis", parties="City of Springfield; Data Programme", purpose="service-level analysis",
        datasets={"requests": []}, starts_on=TODAY - timedelta(days=1), expires_on=TODAY + timedelta(days=365),
    )  # fmt: skip
    options.update(kw)
    a = add_agreement(people.sam, "springfield", **options)
    submit_for_review(people.sam, "springfield", a.pk)
    sign(
        people.sam,
        "springfield",
        a.pk,
        signatories=[Signatory("Sam Leader", "Chief Data Officer", TODAY)],
        document=pdf,
    )
    return activate(people.sam, "springfield", a.pk)


def test_no_agreement_no_use_and_the_error_says_why(sensitive):
    from ridp.workspace.datasets import open_table, preview
    from ridp.workspace.mapping import map_dataset
    from ridp.workspace.models import AuditEntry

    people, _ = sensitive
    for attempt in (
        lambda: preview(people.ana, "springfield", "requests"),
        lambda: open_table(people.ana, "springfield", "requests"),
        lambda: map_dataset(people.ana, "springfield", "requests"),
    ):
        with pytest.raises(AgreementRequiredError, match="requests needs a data-sharing agreement and none covers it"):
            attempt()
    assert AuditEntry.objects.filter(action="agreement.use_refused").count() == 3


def test_lifecycle_with_dated_history_and_document(sensitive):
    from ridp.workspace.agreements import get_agreement
    from ridp.workspace.datasets import preview
    from ridp.workspace.store import check_integrity, home

    people, pdf = sensitive
    a = active_agreement(people, pdf)
    a = get_agreement(people.ana, "springfield", a.pk)
    assert [h.status for h in a.history.all()] == ["draft", "legal_review", "signed", "active"]
    assert a.signatories[0]["name"] == "Sam Leader" and (home() / a.document).read_bytes() == pdf.read_bytes()
    assert a.document.endswith(".pdf") and "signed" not in a.document  # stored under an internal id
    assert len(preview(people.ana, "springfield", "requests", limit=3).rows) == 3
    assert check_integrity() == []


def test_personal_columns_show_only_to_roles_the_agreement_names(sensitive):
    from ridp.workspace.datasets import preview

    people, pdf = sensitive
    active_agreement(people, pdf, personal_roles=["data_analyst"])
    analyst = preview(people.ana, "springfield", "requests", limit=5)
    leader = preview(people.sam, "springfield", "requests", limit=5)
    assert analyst.masked == () and "location" in leader.masked
    i = leader.columns.index("location")
    assert {r[i] for r in leader.rows} <= {"•••", None} and any(r[i] not in ("•••", None) for r in analyst.rows)


def test_wrong_steps_and_wrong_people_are_refused(sensitive):
    from ridp.workspace.agreements import Signatory, activate, add_agreement, get_agreement, sign

    people, pdf = sensitive
    a = add_agreement(
        people.sam, "springfield", title="t", parties="p", purpose="u", datasets={"requests": []},
        starts_on=TODAY, expires_on=TODAY + timedelta(days=30),
    )  # fmt: skip
    with pytest.raises(FieldError, match="can become active only from signed"):
        activate(people.sam, "springfield", a.pk)
    with pytest.raises(PermissionDeniedError):
        activate(people.ana, "springfield", a.pk)
    with pytest.raises(NotFoundError):
        get_agreement(people.otto, "springfield", a.pk)
    not_pdf = pdf.with_suffix(".txt")
    not_pdf.write_text("I agree")
    with pytest.raises(FieldError, match="is not a PDF"):
        sign(people.sam, "springfield", a.pk, signatories=[Signatory("A", "B", TODAY)], document=not_pdf)
    with pytest.raises(FieldError, match="expires_on"):
        add_agreement(
            people.sam,
            "springfield",
            title="t",
            parties="p",
            purpose="u",
            datasets={"requests": []},
            starts_on=TODAY,
            expires_on=TODAY,
        )
    with pytest.raises(FieldError, match="has no column 'nope'"):
        add_agreement(
            people.sam,
            "springfield",
            title="t",
            parties="p",
            purpose="u",
            datasets={"requests": ["nope"]},
            starts_on=TODAY,
            expires_on=TODAY + timedelta(days=1),
        )


def test_termination_stops_use_and_deletes_the_bytes_leaving_a_tombstone(sensitive):
    from ridp.workspace.agreements import terminate
    from ridp.workspace.datasets import get_dataset, preview
    from ridp.workspace.models import AuditEntry, Tombstone
    from ridp.workspace.store import check_integrity, home

    people, pdf = sensitive
    a = active_agreement(people, pdf)
    path = home() / get_dataset(people.ana, "springfield", "requests").current_version.file
    assert path.exists()
    terminate(people.sam, "springfield", a.pk, reason="the department withdrew consent")
    with pytest.raises(AgreementRequiredError, match=r"agreement \d+ \('311 analysis'\) terminated on " + str(TODAY)):
        preview(people.ana, "springfield", "requests")
    assert not path.exists()
    stone = Tombstone.objects.get()
    assert stone.agreement == a and "retention" in stone.reason
    assert AuditEntry.objects.filter(action="retention.bytes_deleted").count() == 1
    assert check_integrity() == []


def test_expiry_stops_use_and_the_retention_period_delays_deletion(sensitive):
    from ridp.workspace.agreements import enforce
    from ridp.workspace.datasets import get_dataset
    from ridp.workspace.models import Agreement
    from ridp.workspace.store import home

    people, pdf = sensitive
    a = active_agreement(people, pdf, expires_on=TODAY + timedelta(days=10), retention_days=30)
    path = home() / get_dataset(people.ana, "springfield", "requests").current_version.file
    assert enforce(TODAY + timedelta(days=10)) == [f"agreement {a.pk} expired"]
    assert Agreement.objects.get(pk=a.pk).status == "expired" and path.exists()
    assert enforce(TODAY + timedelta(days=39)) == [] and path.exists()
    assert enforce(TODAY + timedelta(days=40)) == ["springfield/requests v1: bytes deleted"] and not path.exists()


def test_open_table_hides_personal_columns_from_people_the_agreement_does_not_name(sensitive):
    from ridp.workspace.datasets import open_table

    people, pdf = sensitive
    active_agreement(people, pdf, personal_roles=["data_analyst"])
    analyst = open_table(people.ana, "springfield", "requests")
    leader = open_table(people.sam, "springfield", "requests")
    assert analyst.location.notnull().sum().execute() > 0
    assert leader.location.notnull().sum().execute() == 0 and leader.latitude.notnull().sum().execute() == 0
    assert leader.type.notnull().sum().execute() == 100
    assert leader.schema() == analyst.schema()
    for t in (analyst, leader):
        t.get_backend().disconnect()
