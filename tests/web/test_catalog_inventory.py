"""Keeping the inventory: recording a dataset with no data, editing a record, refusing bad values."""

from __future__ import annotations

from ridp.workspace.models import Dataset
from tests.web.conftest import csrf_post

NEW = "/c/springfield/data/new/"


def _record(**overrides):
    data = {
        "name": "child welfare cases",
        "description": "Open cases",
        "owner_department": "Children's services",
        "update_frequency": "monthly",
        "public": "no",
        "sensitivity": "high",
        "sensitivity_reason": "minors",
        "years_of_history": "12",
        "needs_agreement": "on",
    }
    data.update(overrides)
    return data


def test_leader_records_a_dataset_without_data(world, as_persona):
    client = as_persona("leader")
    assert client.get(NEW).status_code == 200
    response = csrf_post(client, NEW, _record())
    dataset = Dataset.objects.get(city=world.springfield, name="child welfare cases")
    assert response.status_code == 302 and response["Location"] == f"/c/springfield/data/{dataset.pk}/"
    assert dataset.needs_agreement and dataset.sensitivity == "high" and dataset.years_of_history == 12
    assert dataset.current_version is None
    page = client.get(response["Location"]).content.decode()
    assert "Children&#x27;s services" in page and "No data yet" in page
    catalog = client.get("/c/springfield/data/").content.decode()
    assert "child welfare cases" in catalog and "no data yet" in catalog


def test_a_bad_value_is_shown_beside_its_field(world, as_persona):
    response = csrf_post(as_persona("leader"), NEW, _record(years_of_history="-3", public="maybe"))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_years_of_history_error"' in html and 'id="id_public_error"' in html
    assert not Dataset.objects.filter(name="child welfare cases").exists()


def test_a_name_already_in_the_catalog_is_refused(world, as_persona):
    response = csrf_post(as_persona("analyst"), NEW, _record(name="requests"))
    assert response.status_code == 400 and b'id="id_name_error"' in response.content
    assert Dataset.objects.get(city=world.springfield, name="requests").description == "Service requests"


def test_viewer_cannot_record_a_dataset(world, as_persona):
    client = as_persona("viewer")
    assert client.get(NEW).status_code == 403
    assert csrf_post(client, NEW, _record()).status_code == 403
    assert not Dataset.objects.filter(name="child welfare cases").exists()


def test_analyst_edits_the_inventory_record(world, as_persona):
    dataset = world.datasets["a"]
    url = f"/c/springfield/data/{dataset.pk}/inventory/"
    client = as_persona("analyst")
    form = client.get(url)
    assert form.status_code == 200 and b"Service requests" in form.content  # the form starts from the record
    response = csrf_post(client, url, _record(name="ignored", description="311 requests", needs_agreement="on"))
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert (
        dataset.name == "requests" and dataset.description == "311 requests" and dataset.update_frequency == "monthly"
    )


def test_post_without_csrf_token_is_refused(world, as_persona):
    response = as_persona("leader").post(NEW, _record())
    assert response.status_code == 403
    assert not Dataset.objects.filter(name="child welfare cases").exists()
