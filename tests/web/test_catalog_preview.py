"""Previewing rows: personal columns masked unless an active agreement names the role; viewers see no rows."""

from __future__ import annotations

from ridp.workspace.datasets import MASK
from ridp.workspace.models import AuditEntry


def _url(world, suffix=""):
    return f"/c/springfield/data/{world.datasets['a'].pk}/preview/{suffix}"


def test_analyst_sees_resident_names_the_agreement_names_data_analysts(world, as_persona):
    page = as_persona("analyst").get(_url(world))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Alice Example" in html and "Carol Example" in html
    assert 'class="masked"' not in html


def test_leader_sees_personal_column_masked(world, as_persona):
    page = as_persona("leader").get(_url(world))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Alice Example" not in html and "Bob Example" not in html
    assert f'<td class="masked"><span aria-hidden="true">{MASK}</span>' in html
    assert "your role is not named in an active agreement" in html
    assert "pothole" in html  # the other columns stay


def test_viewer_preview_is_forbidden(world, as_persona):
    response = as_persona("viewer").get(_url(world))
    assert response.status_code == 403
    assert b"Alice" not in response.content
    assert AuditEntry.objects.filter(actor=world.users["viewer"], action="permission.denied").exists()


def test_preview_without_an_active_agreement_explains_what_is_missing(world, as_persona):
    from ridp.workspace import agreements

    agreements.terminate(world.users["leader"], "springfield", world.agreements["a"].pk, reason="ended early")
    response = as_persona("analyst").get(_url(world))
    assert response.status_code == 409
    html = response.content.decode()
    assert "needs an active data-sharing agreement" in html and "Alice" not in html
    assert 'role="alert"' in html


def test_preview_of_an_unknown_version_is_not_found_and_a_bad_one_is_refused(world, as_persona):
    client = as_persona("analyst")
    assert client.get(_url(world, "?version=1")).status_code == 200
    assert client.get(_url(world, "?version=9")).status_code == 404
    assert client.get(_url(world, "?version=abc")).status_code == 400
