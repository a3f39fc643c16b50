"""The catalog through the API: datasets, inventory records, versions, previews, mappings, column classes."""

from __future__ import annotations

from typing import Any

from django.test import Client

from ridp.workspace import tokens
from ridp.workspace.models import AuditEntry, Column, Dataset, DatasetMapping
from tests.web.conftest import CANARY


def bearer(world: Any, name: str) -> Client:
    """A client sending ``name``'s personal token (one is made for personas the world gave none)."""
    raw = world.tokens.get(name) or tokens.create(world.users[name], f"{name} test")[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def ds_url(world: Any, suffix: str = "", key: str = "a") -> str:
    return f"/api/cities/springfield/datasets/{world.datasets[key].pk}{suffix}"


def test_analyst_lists_and_reads_datasets(world):
    client = bearer(world, "analyst")
    listed = client.get("/api/cities/springfield/datasets")
    assert listed.status_code == 200
    [item] = listed.json()
    assert item["name"] == "requests" and item["needs_agreement"] is True
    assert item["current_version"]["number"] == 1 and item["current_version"]["rows"] == 3
    one = client.get(ds_url(world)).json()
    assert [c["name"] for c in one["columns"]][-1] == "resident_name"
    assert next(c for c in one["columns"] if c["name"] == "resident_name")["classification"] == "personal"
    assert CANARY not in listed.content.decode() + str(one)
    versions = client.get(ds_url(world, "/versions")).json()
    assert [v["number"] for v in versions] == [1] and versions[0]["created_by"] == "analyst"


def test_leader_records_a_dataset_without_data_and_patches_it(world):
    client = bearer(world, "leader")
    body = {"name": "child welfare cases", "sensitivity": "high", "public": "no", "needs_agreement": True}
    created = client.post("/api/cities/springfield/datasets", body, content_type="application/json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["current_version"] is None and data["needs_agreement"] is True and data["sensitivity"] == "high"
    again = client.post("/api/cities/springfield/datasets", body, content_type="application/json")
    assert again.status_code == 409
    url = f"/api/cities/springfield/datasets/{data['id']}"
    patched = client.patch(url, {"steward": "Pat", "years_of_history": 4}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["steward"] == "Pat"
    assert patched.json()["sensitivity"] == "high"  # left out: kept
    found = Dataset.objects.get(pk=data["id"])
    assert found.years_of_history == 4.0 and found.city == world.springfield
    assert client.get(url + "/preview").status_code == 404  # no data yet


def test_inventory_body_is_strict(world):
    client = bearer(world, "analyst")
    for body in (
        {"name": "x", "needs_agreement": 1},  # a number is not a boolean
        {"name": "x", "years_of_history": True},  # a boolean is not a number
        {"name": "x", "public": "maybe"},
        {"name": "x", "owner": "someone"},  # unknown field
        {"name": "x" * 201},
        {"name": "x\x00y"},
        {"name": "x", "years_of_history": -1},
    ):
        response = client.post("/api/cities/springfield/datasets", body, content_type="application/json")
        assert response.status_code == 422, body
    assert (
        client.post("/api/cities/springfield/datasets", "{not json", content_type="application/json").status_code == 400
    )
    assert not Dataset.objects.filter(name__startswith="x").exists()


def test_viewer_reads_the_catalog_but_not_rows_nor_changes(world):
    client = bearer(world, "viewer")
    assert client.get("/api/cities/springfield/datasets").status_code == 200
    assert client.get(ds_url(world)).status_code == 200
    preview = client.get(ds_url(world, "/preview"))
    assert preview.status_code == 403 and preview.json()["detail"].startswith("viewers see summaries")
    assert AuditEntry.objects.filter(action="permission.denied", actor=world.users["viewer"]).exists()
    body = {"name": "mine"}
    assert client.post("/api/cities/springfield/datasets", body, content_type="application/json").status_code == 403
    assert client.patch(ds_url(world), {"steward": "x"}, content_type="application/json").status_code == 403
    assert client.put(ds_url(world, "/mapping"), {}, content_type="application/json").status_code == 403
    assert client.put(ds_url(world, "/columns"), {"accept": True}, content_type="application/json").status_code == 403


def test_preview_masks_personal_columns_for_those_the_agreement_does_not_name(world):
    analyst = bearer(world, "analyst").get(ds_url(world, "/preview?limit=2")).json()
    assert analyst["masked"] == [] and len(analyst["rows"]) == 2 and "Alice Example" in analyst["rows"][0]
    expert = bearer(world, "expert").get(ds_url(world, "/preview"))
    assert expert.status_code == 200
    data = expert.json()
    position = data["columns"].index("resident_name")
    assert data["masked"] == ["resident_name"] and {row[position] for row in data["rows"]} == {"•••"}
    assert "Alice" not in expert.content.decode()
    client = bearer(world, "analyst")
    assert client.get(ds_url(world, "/preview?limit=0")).status_code == 422
    assert client.get(ds_url(world, "/preview?limit=1001")).status_code == 422
    assert client.get(ds_url(world, "/preview?version=7")).status_code == 404
    assert client.get(ds_url(world, "/preview?version=abc")).status_code == 422


def test_mapping_get_changes_nothing_and_put_proposes_sets_and_confirms(world):
    client = bearer(world, "analyst")
    before = DatasetMapping.objects.count()
    shown = client.get(ds_url(world, "/mapping"))
    assert shown.status_code == 200 and shown.json()["version"] is None
    assert DatasetMapping.objects.count() == before
    proposed = client.put(ds_url(world, "/mapping"), {}, content_type="application/json")
    assert proposed.status_code == 200 and proposed.json()["version"] == 1
    assert proposed.json()["fields"]["opened"]["column"] == "created_at"
    body = {"set": {"type": "type", "id": "request_id"}, "accept": True}
    confirmed = client.put(ds_url(world, "/mapping"), body, content_type="application/json")
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["confirmed"] is True and confirmed.json()["confirmed_by"] == "analyst"
    assert client.get(ds_url(world, "/mapping")).json()["fields"]["id"]["column"] == "request_id"
    wrong = client.put(ds_url(world, "/mapping"), {"set": {"type": "nope"}}, content_type="application/json")
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["field"] == "type"
    not_bool = client.put(ds_url(world, "/mapping"), {"accept": 1}, content_type="application/json")
    assert not_bool.status_code == 422


def test_columns_get_changes_nothing_and_put_sets_classes(world):
    client = bearer(world, "analyst")
    snapshot = list(Column.objects.values_list("suggested_classification", "classification"))
    listed = client.get(ds_url(world, "/columns"))
    assert listed.status_code == 200
    assert list(Column.objects.values_list("suggested_classification", "classification")) == snapshot
    assert {c["name"]: c["classification"] for c in listed.json()}["resident_name"] == "personal"
    changed = client.put(ds_url(world, "/columns"), {"set": {"ward": "internal"}}, content_type="application/json")
    assert changed.status_code == 200
    assert {c["name"]: c["classification"] for c in changed.json()}["ward"] == "internal"
    bad = client.put(ds_url(world, "/columns"), {"set": {"ward": "secret"}}, content_type="application/json")
    assert bad.status_code == 422
    missing = client.put(ds_url(world, "/columns"), {"set": {"nope": "public"}}, content_type="application/json")
    assert missing.status_code == 422


def test_another_citys_dataset_is_not_found_on_every_operation(world):
    client = bearer(world, "analyst")
    other = world.datasets["b"].pk
    base = f"/api/cities/springfield/datasets/{other}"
    for method, url, body in (
        ("get", base, None),
        ("patch", base, {"steward": "x"}),
        ("get", base + "/versions", None),
        ("get", base + "/preview", None),
        ("get", base + "/mapping", None),
        ("put", base + "/mapping", {}),
        ("get", base + "/columns", None),
        ("put", base + "/columns", {"accept": True}),
    ):
        response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 404 and response.json() == {"detail": "not found"}, (method, url)
    shelby = f"/api/cities/shelbyville/datasets/{other}"
    assert client.get(shelby).status_code == 404
    assert client.get("/api/cities/shelbyville/datasets").status_code == 404
    body = {"name": "planted"}
    assert client.post("/api/cities/shelbyville/datasets", body, content_type="application/json").status_code == 404
    assert client.get("/api/cities/springfield/datasets/999999").status_code == 404
    assert client.get("/api/cities/springfield/datasets/0").status_code == 422
    assert client.get("/api/cities/springfield/datasets/99999999999999999999999").status_code == 422
    assert not Dataset.objects.filter(name="planted").exists()
    assert Dataset.objects.get(pk=other).steward == ""
