"""Classifying columns: confirm every suggestion at once, or change one column's class (with or without htmx)."""

from __future__ import annotations

from ridp.workspace.models import Column
from tests.web.conftest import csrf_post


def _url(world):
    return f"/c/springfield/data/{world.datasets['a'].pk}/columns/"


def _column(world, name):
    return Column.objects.get(version=world.datasets["a"].current_version, name=name)


def test_analyst_sees_suggestions_with_reasons(world, as_persona):
    page = as_persona("analyst").get(_url(world))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Confirm all suggestions" in html and "suggests a person" in html
    assert 'for="class-5"' in html  # every select has its label


def test_analyst_confirms_all_suggestions_in_one_click(world, as_persona):
    Column.objects.filter(version=world.datasets["a"].current_version).exclude(name="resident_name").update(
        classification="", classified_by=None
    )
    response = csrf_post(as_persona("analyst"), _url(world), {"action": "accept"})
    assert response.status_code == 302
    ward = _column(world, "ward")
    assert ward.classification == ward.suggested_classification and ward.classified_by == world.users["analyst"]
    assert _column(world, "resident_name").classification == "personal"


def test_analyst_changes_one_columns_class_without_javascript(world, as_persona):
    response = csrf_post(as_persona("analyst"), _url(world), {"column": "ward", "classification": "sensitive"})
    assert response.status_code == 302 and response["Location"] == _url(world)
    assert _column(world, "ward").classification == "sensitive"


def test_changing_a_class_with_htmx_returns_the_row(world, as_persona):
    response = csrf_post(
        as_persona("analyst"), _url(world), {"column": "type", "classification": "internal"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode().strip()
    assert html.startswith('<tr id="column-') and "<html" not in html and "Saved." in html
    assert _column(world, "type").classification == "internal"


def test_a_class_that_does_not_exist_is_refused_beside_the_column(world, as_persona):
    response = csrf_post(as_persona("analyst"), _url(world), {"column": "ward", "classification": "secret"})
    assert response.status_code == 400
    assert b'id="class-4-error"' in response.content and b"is not a class" in response.content
    assert _column(world, "ward").classification != "secret"


def test_viewer_sees_classes_but_no_controls_and_cannot_change_them(world, as_persona):
    client = as_persona("viewer")
    page = client.get(_url(world))
    assert page.status_code == 200 and b"<select" not in page.content
    response = csrf_post(client, _url(world), {"column": "resident_name", "classification": "public"})
    assert response.status_code == 403
    assert _column(world, "resident_name").classification == "personal"


def test_post_without_csrf_token_is_refused(world, as_persona):
    response = as_persona("analyst").post(_url(world), {"column": "resident_name", "classification": "public"})
    assert response.status_code == 403
    assert _column(world, "resident_name").classification == "personal"
