"""Mapping a dataset's columns to the canonical schema: see the proposal, confirm it, change a field."""

from __future__ import annotations

from ridp.workspace.mapping import show_mapping
from ridp.workspace.models import DatasetMapping
from tests.web.conftest import csrf_post


def _url(world):
    return f"/c/springfield/data/{world.datasets['a'].pk}/mapping/"


def test_analyst_sees_the_proposal_and_confirms_it_in_one_click(world, as_persona):
    client = as_persona("analyst")
    page = client.get(_url(world))
    assert page.status_code == 200
    html = page.content.decode()
    assert "proposed, not confirmed" in html and "Confirm mapping" in html
    assert '<option value="created_at" selected>' in html  # opened -> created_at, proposed from the values
    response = csrf_post(client, _url(world), {"action": "confirm"})
    assert response.status_code == 302
    mapping = DatasetMapping.objects.filter(dataset=world.datasets["a"]).order_by("-id").first()
    assert mapping.confirmed_by == world.users["analyst"] and mapping.fields["opened"]["column"] == "created_at"
    assert b"by analyst" in client.get(_url(world)).content


def test_analyst_changes_a_fields_column(world, as_persona):
    client = as_persona("analyst")
    client.get(_url(world))
    assert not DatasetMapping.objects.filter(dataset=world.datasets["a"]).exists()  # looking stores nothing
    shown = show_mapping(world.users["analyst"], "springfield", "requests")
    data = {field: entry["column"] for field, entry in shown.fields.items()}
    data["status"] = "type" if "type" not in data.values() else "ward"
    moved = data["status"]
    response = csrf_post(client, _url(world), {**data, "action": "save"})
    assert response.status_code == 302
    mapping = DatasetMapping.objects.filter(dataset=world.datasets["a"]).order_by("-id").first()
    assert mapping.fields["status"]["column"] == moved and mapping.confirmed_by is None
    assert mapping.fields["status"]["reasons"] == ["set by analyst"]


def test_a_column_the_dataset_lacks_is_refused_beside_the_field(world, as_persona):
    client = as_persona("analyst")
    client.get(_url(world))
    before = DatasetMapping.objects.count()
    response = csrf_post(client, _url(world), {"status": "1; DROP TABLE x", "action": "save"})
    assert response.status_code == 400
    assert b'id="id_status_error"' in response.content and b"is not a column of this dataset" in response.content
    assert DatasetMapping.objects.count() == before


def test_viewer_sees_the_mapping_without_buttons_and_cannot_confirm(world, as_persona):
    client = as_persona("viewer")
    page = client.get(_url(world))
    assert page.status_code == 200
    assert b"Confirm mapping" not in page.content and b"<select" not in page.content
    assert csrf_post(client, _url(world), {"action": "confirm"}).status_code == 403
    assert not DatasetMapping.objects.filter(confirmed_by=world.users["viewer"]).exists()
