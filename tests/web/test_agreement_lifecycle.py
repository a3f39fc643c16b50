"""A senior leader takes an agreement through its life in the browser: draft, legal review, signed, active, terminated."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile

from ridp.workspace.models import Agreement, AuditEntry
from tests.web.conftest import csrf_post

TODAY = date.today()
PDF = b"%PDF-1.4\n% signed\n%%EOF\n"


def draft_data(world, **changes):
    data = {
        "title": "Pothole pilot",
        "parties": "City of Springfield; the programme",
        "purpose": "How fast potholes are fixed, by ward",
        "permitted_uses": "aggregate analysis",
        "datasets": ["requests"],
        f"columns_{world.datasets['a'].pk}": "type, ward",
        "personal_roles": ["data_analyst"],
        "retention_days": "30",
        "starts_on": (TODAY - timedelta(days=1)).isoformat(),
        "expires_on": (TODAY + timedelta(days=300)).isoformat(),
    }
    return data | changes


def test_leader_drafts_reviews_signs_and_activates_an_agreement(world, as_persona, home):
    leader = as_persona("leader")
    listing = leader.get("/c/springfield/agreements/")
    assert listing.status_code == 200 and b"Draft an agreement" in listing.content
    form = leader.get("/c/springfield/agreements/new/")
    assert form.status_code == 200 and b'name="datasets"' in form.content and b"resident_name" in form.content

    created = csrf_post(leader, "/c/springfield/agreements/new/", draft_data(world))
    assert created.status_code == 302
    agreement = Agreement.objects.get(title="Pothole pilot")
    url = f"/c/springfield/agreements/{agreement.pk}/"
    assert created["Location"] == url
    assert agreement.status == "draft" and agreement.personal_roles == ["data_analyst"]
    assert agreement.coverage.get().columns == ["type", "ward"]
    detail = leader.get(url)
    assert b"Send to legal review" in detail.content and b"Pothole pilot" in detail.content

    assert csrf_post(leader, url + "review/")["Location"] == url
    assert b"Record the signatures" in leader.get(url).content
    assert leader.get(url + "sign/").status_code == 200
    upload = SimpleUploadedFile("signed agreement.pdf", PDF, content_type="application/pdf")
    signed = csrf_post(
        leader,
        url + "sign/",
        {"name_1": "Pat Mayor", "role_1": "mayor", "signed_on_1": TODAY.isoformat(), "document": upload},
    )
    assert signed.status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == "signed" and agreement.document_name == "signed_agreement.pdf"
    assert agreement.signatories == [{"name": "Pat Mayor", "role": "mayor", "signed_on": TODAY.isoformat()}]
    assert not any((home / "uploads").iterdir())  # the temporary upload is gone

    assert csrf_post(leader, url + "activate/").status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == "active"
    page = leader.get(url).content.decode()
    assert "Pat Mayor" in page and "signed_agreement.pdf" in page and "Terminate" in page
    assert [h.status for h in agreement.history.all()] == ["draft", "legal_review", "signed", "active"]
    assert AuditEntry.objects.filter(action="agreement.status_changed", object_id=str(agreement.pk)).count() == 4


def test_a_bad_field_is_explained_beside_it(world, as_persona):
    leader = as_persona("leader")
    backwards = draft_data(world, expires_on=(TODAY - timedelta(days=5)).isoformat())
    response = csrf_post(leader, "/c/springfield/agreements/new/", backwards)
    assert response.status_code == 400
    assert b'id="id_expires_on_error"' in response.content and b"is not after the start" in response.content
    unknown = csrf_post(
        leader,
        "/c/springfield/agreements/new/",
        draft_data(world, **{f"columns_{world.datasets['a'].pk}": "shoe_size"}),
    )
    assert unknown.status_code == 400 and b"has no column" in unknown.content
    assert not Agreement.objects.filter(title="Pothole pilot").exists()


def test_a_document_that_is_not_a_pdf_is_refused_beside_the_field(world, as_persona, home):
    leader = as_persona("leader")
    draft = world.drafts["a"]
    url = f"/c/springfield/agreements/{draft.pk}/"
    csrf_post(leader, url + "review/")
    fake = SimpleUploadedFile("agreement.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    response = csrf_post(
        leader, url + "sign/", {"name_1": "Pat", "role_1": "mayor", "signed_on_1": TODAY.isoformat(), "document": fake}
    )
    assert response.status_code == 400
    assert b'id="id_document_error"' in response.content and b"is not a PDF" in response.content
    assert str(home).encode() not in response.content  # no server path
    draft.refresh_from_db()
    assert draft.status == "legal_review"
    assert not any((home / "uploads").iterdir())


def test_terminating_needs_a_reason(world, as_persona):
    leader = as_persona("leader")
    url = f"/c/springfield/agreements/{world.agreements['a'].pk}/"
    refused = csrf_post(leader, url + "terminate/", {"reason": ""})
    assert refused.status_code == 400 and b"Say why the agreement ends" in refused.content
    assert csrf_post(leader, url + "terminate/", {"reason": "the project ended"}).status_code == 302
    world.agreements["a"].refresh_from_db()
    assert world.agreements["a"].status == "terminated"
    assert b"terminated" in leader.get("/c/springfield/agreements/").content


def test_agreement_posts_without_a_csrf_token_are_refused(world, as_persona):
    leader = as_persona("leader")
    url = f"/c/springfield/agreements/{world.drafts['a'].pk}/"
    assert leader.post(url + "review/").status_code == 403
    assert leader.post("/c/springfield/agreements/new/", draft_data(world)).status_code == 403
    world.drafts["a"].refresh_from_db()
    assert world.drafts["a"].status == "draft"
