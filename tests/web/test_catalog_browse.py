"""Browsing the catalog: the list, a dataset's page, its versions; another city's ids are not found."""

from __future__ import annotations

from tests.web.conftest import CANARY

CATALOG = "/c/springfield/data/"


def test_analyst_sees_the_catalog_with_upload_and_record_buttons(world, as_persona):
    page = as_persona("analyst").get(CATALOG)
    assert page.status_code == 200
    html = page.content.decode()
    assert ">requests</a>" in html and "needs an agreement" in html
    assert 'href="/c/springfield/data/upload/"' in html and 'href="/c/springfield/data/new/"' in html
    assert CANARY not in html


def test_viewer_sees_the_catalog_without_buttons_for_what_the_role_lacks(world, as_persona):
    page = as_persona("viewer").get(CATALOG)
    assert page.status_code == 200
    html = page.content.decode()
    assert ">requests</a>" in html
    assert "/data/upload/" not in html and "/data/new/" not in html


def test_leader_may_record_a_dataset_but_not_upload(world, as_persona):
    html = as_persona("leader").get(CATALOG).content.decode()
    assert "/data/new/" in html and "/data/upload/" not in html


def test_dataset_page_shows_inventory_version_columns_and_agreements(world, as_persona):
    dataset = world.datasets["a"]
    page = as_persona("analyst").get(f"{CATALOG}{dataset.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Service requests" in html  # the inventory description
    assert "springfield-requests.csv" in html and dataset.current_version.source_sha256 in html
    assert "resident_name" in html and "personal" in html
    assert "Requests sharing" in html and "badge-ok" in html  # the active agreement
    for part in ("versions/", "preview/", "mapping/", "columns/", "inventory/"):
        assert f"{CATALOG}{dataset.pk}/{part}" in html


def test_viewer_dataset_page_has_no_preview_link_or_edit_button(world, as_persona):
    dataset = world.datasets["a"]
    html = as_persona("viewer").get(f"{CATALOG}{dataset.pk}/").content.decode()
    assert f"{dataset.pk}/preview/" not in html and f"{dataset.pk}/inventory/" not in html


def test_versions_page_lists_every_version(world, as_persona):
    dataset = world.datasets["a"]
    page = as_persona("viewer").get(f"{CATALOG}{dataset.pk}/versions/")
    assert page.status_code == 200
    assert b"springfield-requests.csv" in page.content and b'<th scope="row">1' in page.content


def test_another_citys_dataset_is_not_found_on_every_catalog_page(world, as_persona):
    other = world.datasets["b"]
    client = as_persona("analyst")
    for part in ("", "inventory/", "versions/", "preview/", "mapping/", "columns/"):
        response = client.get(f"{CATALOG}{other.pk}/{part}")
        assert response.status_code == 404, part
        assert CANARY.encode() not in response.content
    # ...and through the other city's own address, which this analyst cannot see at all.
    assert client.get(f"/c/shelbyville/data/{other.pk}/").status_code == 404
    assert client.get("/c/shelbyville/data/").status_code == 404


def test_another_citys_dataset_cannot_be_changed_by_post(world, as_persona):
    from tests.web.conftest import csrf_post

    other = world.datasets["b"]
    client = as_persona("analyst")
    assert csrf_post(client, f"{CATALOG}{other.pk}/columns/", {"action": "accept"}).status_code == 404
    assert csrf_post(client, f"{CATALOG}{other.pk}/mapping/", {"action": "confirm"}).status_code == 404
    assert csrf_post(client, f"{CATALOG}{other.pk}/inventory/", {"public": "yes"}).status_code == 404


def test_viewer_sees_the_personal_column_marked_masked(world, as_persona):
    page = as_persona("viewer").get(f"/c/springfield/data/{world.datasets['a'].pk}/").content.decode()
    row = page.split("resident_name", 1)[1].split("</tr>", 1)[0]
    assert "masked for you" in row


def test_analyst_named_by_the_agreement_sees_no_mask_but_the_leader_does(world, as_persona):
    url = f"/c/springfield/data/{world.datasets['a'].pk}/"
    assert "masked for you" not in as_persona("analyst").get(url).content.decode()
    assert "masked for you" in as_persona("leader").get(url).content.decode()
