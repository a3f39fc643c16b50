"""Uploading a file from the browser: staged, ingested by the task, followed on a live status page."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile

from ridp.workspace import uploads
from ridp.workspace.models import Dataset, DatasetVersion, Upload
from tests.conftest import SHARED_DATA
from tests.web.conftest import csrf_post

UPLOAD = "/c/springfield/data/upload/"
NYC = SHARED_DATA / "city/boston/NYC311-5.csv"
BAD = SHARED_DATA / "city/boston/boston311-100-bad.tsv"


def test_a_real_file_uploads_end_to_end_and_the_status_page_links_the_dataset(world, as_persona):
    client = as_persona("analyst")
    form = client.get(UPLOAD)
    assert form.status_code == 200 and b'enctype="multipart/form-data"' in form.content
    with NYC.open("rb") as fh:
        response = csrf_post(client, UPLOAD, {"name": "nyc requests", "file": fh})
    upload = Upload.objects.get(dataset_name="nyc requests")
    assert response.status_code == 302 and response["Location"] == f"/c/springfield/data/uploads/{upload.pk}/"
    assert upload.status == Upload.Status.DONE and upload.version.rows == 5
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and "Done: NYC311-5.csv is version 1, with 5 rows." in html
    dataset = Dataset.objects.get(city=world.springfield, name="nyc requests")
    assert f'href="/c/springfield/data/{dataset.pk}/"' in html
    assert 'role="status"' in html and 'value="100"' in html and "hx-trigger" not in html  # finished: no polling
    assert b"NYC311-5.csv" in client.get(UPLOAD).content  # listed among recent uploads


def test_a_bad_file_fails_with_an_error_naming_file_row_and_column_and_stores_nothing(world, as_persona):
    client = as_persona("analyst")
    with BAD.open("rb") as fh:
        response = csrf_post(client, UPLOAD, {"name": "boston", "file": fh})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert 'class="notice notice-error" role="alert"' in html
    assert "boston311-100-bad.tsv, row 41, column &quot;source&quot;" in html
    assert not Dataset.objects.filter(name="boston").exists()
    assert not DatasetVersion.objects.filter(source_name="boston311-100-bad.tsv").exists()


def test_a_ragged_csv_for_an_existing_dataset_adds_no_version(world, as_persona):
    ragged = SimpleUploadedFile("more.csv", b"request_id,type\n1,pothole\n2,graffiti,extra\n", "text/csv")
    response = csrf_post(as_persona("analyst"), UPLOAD, {"name": "requests", "file": ragged})
    upload = Upload.objects.get(source_name="more.csv")
    assert response.status_code == 302 and upload.status == Upload.Status.FAILED
    assert "more.csv" in upload.error and "row 3" in upload.error
    assert world.datasets["a"].versions.count() == 1


def test_wrong_suffix_missing_file_and_too_big_are_shown_beside_the_field(world, as_persona, monkeypatch):
    client = as_persona("analyst")
    before = Upload.objects.count()
    wrong = SimpleUploadedFile("notes.exe", b"MZ\x90\x00", "application/octet-stream")
    response = csrf_post(client, UPLOAD, {"name": "notes", "file": wrong})
    assert response.status_code == 400 and b'id="id_file_error"' in response.content
    assert b"notes.exe: ridp reads .csv" in response.content
    missing = csrf_post(client, UPLOAD, {"name": "notes"})
    assert missing.status_code == 400 and b"Choose a file to upload." in missing.content
    monkeypatch.setenv("RIDP_UPLOAD_MAX_BYTES", "10")
    big = SimpleUploadedFile("big.csv", b"a,b\n1,2\n3,4\n5,6\n", "text/csv")
    too_big = csrf_post(client, UPLOAD, {"name": "big", "file": big})
    assert too_big.status_code == 400 and b"upload limit" in too_big.content
    assert Upload.objects.count() == before
    assert not Dataset.objects.filter(name__in=["notes", "big"]).exists()


def test_an_empty_name_takes_the_files_name(world, as_persona):
    file = SimpleUploadedFile("street lights.csv", b"id,ward\n1,3\n2,4\n", "text/csv")
    assert csrf_post(as_persona("analyst"), UPLOAD, {"name": "", "file": file}).status_code == 302
    assert Dataset.objects.get(city=world.springfield, name="street lights").current_version.rows == 2


def test_status_page_polls_while_queued_and_htmx_gets_only_the_partial(world, as_persona):
    queued = uploads.start(
        world.users["analyst"], "springfield", name="later", source_name="later.csv",
        stream=io.BytesIO(b"a,b\n1,2\n"), enqueue=lambda upload_id: "not-run",
    )  # fmt: skip
    url = f"/c/springfield/data/uploads/{queued.pk}/"
    client = as_persona("analyst")
    page = client.get(url).content.decode()
    assert f'hx-get="{url}" hx-trigger="every 1s" hx-swap="outerHTML"' in page
    assert '<progress id="upload-bar" max="100" value="0">' in page and 'aria-live="polite"' in page
    partial = client.get(url, HTTP_HX_REQUEST="true")
    body = partial.content.decode().strip()
    assert partial.status_code == 200 and body.startswith('<div id="upload-progress"') and "<html" not in body
    uploads.run(queued.pk)
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done and "Done: later.csv is version 1" in done


def test_viewer_and_leader_cannot_upload_or_see_uploads(world, as_persona):
    before = Upload.objects.count()
    for persona in ("viewer", "leader"):
        client = as_persona(persona)
        assert client.get(UPLOAD).status_code == 403
        assert client.get(f"/c/springfield/data/uploads/{world.uploads['a'].pk}/").status_code == 403
        file = SimpleUploadedFile("x.csv", b"a\n1\n", "text/csv")
        assert csrf_post(client, UPLOAD, {"name": "x", "file": file}).status_code == 403
    assert Upload.objects.count() == before


def test_another_citys_upload_is_not_found(world, as_persona):
    theirs = uploads.start(
        world.users["b_analyst"], "shelbyville", name="theirs", source_name="theirs.csv",
        stream=io.BytesIO(b"a,b\n1,2\n"), enqueue=lambda upload_id: "not-run",
    )  # fmt: skip
    client = as_persona("analyst")
    assert client.get(f"/c/springfield/data/uploads/{theirs.pk}/").status_code == 404
    assert client.get(f"/c/shelbyville/data/uploads/{theirs.pk}/").status_code == 404


def test_upload_without_csrf_token_is_refused(world, as_persona):
    file = SimpleUploadedFile("x.csv", b"a\n1\n", "text/csv")
    assert as_persona("analyst").post(UPLOAD, {"name": "x", "file": file}).status_code == 403
    assert not Upload.objects.filter(source_name="x.csv").exists()


def test_the_same_bytes_again_make_no_new_version_and_the_page_says_so(world, as_persona):
    page = as_persona("analyst").get(f"/c/springfield/data/uploads/{world.uploads['a'].pk}/")
    assert page.status_code == 200
    assert b"holds the same bytes as version 1; no new version was made." in page.content
