"""Downloading an agreement's signed document: for people who read rows, as an attachment, audited."""

from __future__ import annotations

from ridp.workspace.models import AuditEntry


def test_analyst_downloads_the_signed_document_as_an_attachment(world, as_persona):
    agreement = world.agreements["a"]
    agreement.refresh_from_db()
    analyst = as_persona("analyst")
    response = analyst.get(f"/c/springfield/agreements/{agreement.pk}/document/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF-") and response["Content-Length"] == str(len(body))
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'attachment; filename="{agreement.document_name}"'
    entry = AuditEntry.objects.get(action="export.agreement_document")
    assert entry.actor == world.users["analyst"] and entry.object_id == str(agreement.pk)


def test_viewer_may_not_download_the_document(world, as_persona):
    viewer = as_persona("viewer")
    url = f"/c/springfield/agreements/{world.agreements['a'].pk}/"
    assert viewer.get(url).status_code == 200  # the summary is theirs to see
    assert b"/document/" not in viewer.get(url).content
    assert viewer.get(url + "document/").status_code == 403
    assert not AuditEntry.objects.filter(action="export.agreement_document").exists()
    assert AuditEntry.objects.filter(action="permission.denied", actor=world.users["viewer"]).exists()


def test_a_draft_has_no_document(world, as_persona):
    assert as_persona("analyst").get(f"/c/springfield/agreements/{world.drafts['a'].pk}/document/").status_code == 404
