"""Agreements through the API: drafting, the lifecycle, signing with a PDF, the audited document download."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ridp.workspace import tokens
from ridp.workspace.models import Agreement, AuditEntry

PDF = b"%PDF-1.4\n% api test\n"


def bearer(world: Any, name: str) -> Client:
    raw = world.tokens.get(name) or tokens.create(world.users[name], f"{name} test")[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def draft_body(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Requests, 2026",
        "parties": "City and programme",
        "purpose": "Resident impact analysis",
        "datasets": {"requests": ["request_id", "type"]},
        "personal_roles": ["data_analyst"],
        "retention_days": 30,
        "starts_on": str(date.today() - timedelta(days=1)),
        "expires_on": str(date.today() + timedelta(days=90)),
        **extra,
    }


def test_leader_drafts_reviews_signs_activates_and_terminates(world):
    client = bearer(world, "leader")
    created = client.post("/api/cities/springfield/agreements", draft_body(), content_type="application/json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == "draft" and data["datasets"][0]["columns"] == ["request_id", "type"]
    url = f"/api/cities/springfield/agreements/{data['id']}"
    assert client.post(url + "/activate").status_code == 422  # a draft is not signed
    assert client.post(url + "/review").json()["status"] == "legal_review"
    signatories = json.dumps([{"name": "Pat Mayor", "role": "mayor", "signed_on": str(date.today())}])
    signed = client.post(
        url + "/sign", {"document": SimpleUploadedFile("signed copy.pdf", PDF), "signatories": signatories}
    )
    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == "signed" and signed.json()["signatories"][0]["name"] == "Pat Mayor"
    assert signed.json()["document_name"] == "signed_copy.pdf" and signed.json()["has_document"] is True
    assert client.post(url + "/activate").json()["status"] == "active"
    ended = client.post(url + "/terminate", {"reason": "project ended"}, content_type="application/json")
    assert ended.status_code == 200 and ended.json()["status"] == "terminated"
    assert [h["status"] for h in ended.json()["history"]] == ["draft", "legal_review", "signed", "active", "terminated"]
    assert client.post(url + "/terminate", {"reason": ""}, content_type="application/json").status_code == 422


def test_sign_takes_form_fields_and_refuses_what_is_not_a_pdf(world):
    client = bearer(world, "leader")
    draft = world.drafts["a"]
    url = f"/api/cities/springfield/agreements/{draft.pk}"
    client.post(url + "/review")
    not_pdf = client.post(
        url + "/sign",
        {"document": SimpleUploadedFile("x.pdf", b"<html>"), "signatory_name": "Pat", "signed_on": "2026-01-02"},
    )
    assert not_pdf.status_code == 422 and not_pdf.json()["detail"][0]["field"] == "document"
    bad_json = client.post(url + "/sign", {"document": SimpleUploadedFile("x.pdf", PDF), "signatories": "[{"})
    assert bad_json.status_code == 422 and bad_json.json()["detail"][0]["field"] == "signatories"
    nobody = client.post(url + "/sign", {"document": SimpleUploadedFile("x.pdf", PDF)})
    assert nobody.status_code == 422
    assert Agreement.objects.get(pk=draft.pk).status == "legal_review"
    signed = client.post(
        url + "/sign",
        {"document": SimpleUploadedFile("x.pdf", PDF), "signatory_name": "Pat", "signed_on": "2026-01-02"},
    )
    assert signed.status_code == 200 and signed.json()["signatories"] == [
        {"name": "Pat", "role": "", "signed_on": "2026-01-02"}
    ]


def test_draft_body_is_checked_field_by_field(world):
    client = bearer(world, "leader")
    before = Agreement.objects.count()
    for body, status in (
        (draft_body(retention_days=True), 422),
        (draft_body(retention_days=-1), 422),
        (draft_body(starts_on="tomorrow"), 422),
        (draft_body(datasets={}), 422),
        (draft_body(datasets={"no such data": []}), 422),
        (draft_body(datasets={"requests": ["no such column"]}), 422),
        (draft_body(personal_roles=["king"]), 422),
        (draft_body(expires_on=str(date.today() - timedelta(days=5))), 422),
        (draft_body(title=""), 422),
        (draft_body(surprise=1), 422),
    ):
        response = client.post("/api/cities/springfield/agreements", body, content_type="application/json")
        assert response.status_code == status, (body, response.content)
    assert Agreement.objects.count() == before


def test_document_download_is_a_pdf_attachment_audited_and_refused_to_viewers(world):
    url = f"/api/cities/springfield/agreements/{world.agreements['a'].pk}/document"
    response = bearer(world, "analyst").get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert AuditEntry.objects.filter(action="export.agreement_document", actor=world.users["analyst"]).count() == 1
    assert bearer(world, "viewer").get(url).status_code == 403
    draft = f"/api/cities/springfield/agreements/{world.drafts['a'].pk}/document"
    assert bearer(world, "analyst").get(draft).status_code == 404  # no document yet


def test_viewers_and_analysts_read_agreements_but_do_not_manage_them(world):
    for name in ("viewer", "analyst"):
        client = bearer(world, name)
        listed = client.get("/api/cities/springfield/agreements")
        assert listed.status_code == 200 and len(listed.json()) == 2
        url = f"/api/cities/springfield/agreements/{world.drafts['a'].pk}"
        assert client.get(url).status_code == 200
        assert client.post(url + "/review").status_code == 403
        body = draft_body()
        assert (
            client.post("/api/cities/springfield/agreements", body, content_type="application/json").status_code == 403
        )
    assert Agreement.objects.get(pk=world.drafts["a"].pk).status == "draft"


def test_another_citys_agreement_is_not_found_on_every_operation(world):
    client = bearer(world, "leader")
    other = world.agreements["b"].pk
    base = f"/api/cities/springfield/agreements/{other}"
    for method, suffix, body in (
        ("get", "", None),
        ("post", "/review", None),
        ("post", "/activate", None),
        ("post", "/terminate", {"reason": "mine now"}),
        ("get", "/document", None),
    ):
        response = getattr(client, method)(base + suffix, body, content_type="application/json")
        assert response.status_code == 404, (method, suffix)
    signed = client.post(base + "/sign", {"document": SimpleUploadedFile("x.pdf", PDF), "signatory_name": "x"})
    assert signed.status_code == 404
    assert client.get("/api/cities/shelbyville/agreements").status_code == 404
    assert (
        client.post("/api/cities/shelbyville/agreements", draft_body(), content_type="application/json").status_code
        == 404
    )
    assert client.get("/api/cities/springfield/agreements/424242").status_code == 404
    assert Agreement.objects.get(pk=other).status == "active"
