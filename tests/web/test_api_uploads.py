"""Uploads through the API: a file becomes a new version, its progress and outcome readable by id."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ridp.workspace import tokens
from ridp.workspace.models import Upload
from tests.web.conftest import SPRINGFIELD_CSV


def bearer(world: Any, name: str) -> Client:
    raw = world.tokens.get(name) or tokens.create(world.users[name], f"{name} test")[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_analyst_uploads_a_csv_and_reads_its_outcome(world):
    client = bearer(world, "analyst")
    text = SPRINGFIELD_CSV + "4,2025-03-01 09:00,,pothole,3,Dan Example\n"
    started = client.post(
        "/api/cities/springfield/uploads", {"file": SimpleUploadedFile("311.csv", text.encode()), "name": "requests"}
    )
    assert started.status_code == 202, started.content
    data = started.json()
    assert data["dataset"] == "requests" and data["source_name"] == "311.csv"
    status = client.get(f"/api/cities/springfield/uploads/{data['id']}")
    assert status.status_code == 200
    done = status.json()  # the test task queue runs at once
    assert done["status"] == "done" and done["version"] == 2 and done["fraction"] == 1.0


def test_a_bad_file_is_refused_or_fails_with_a_clear_error(world):
    client = bearer(world, "analyst")
    wrong_kind = client.post(
        "/api/cities/springfield/uploads", {"file": SimpleUploadedFile("notes.exe", b"MZ"), "name": "requests"}
    )
    assert wrong_kind.status_code == 422 and wrong_kind.json()["detail"][0]["field"] == "file"
    no_name = client.post("/api/cities/springfield/uploads", {"file": SimpleUploadedFile("a.csv", b"a\n1\n")})
    assert no_name.status_code == 422
    ragged = client.post(
        "/api/cities/springfield/uploads", {"file": SimpleUploadedFile("r.csv", b"a,b\n1,2,3\n"), "name": "ragged"}
    )
    assert ragged.status_code == 202
    failed = client.get(f"/api/cities/springfield/uploads/{ragged.json()['id']}").json()
    assert failed["status"] == "failed" and "r.csv" in failed["error"] and failed["version"] is None


def test_only_those_who_upload_see_uploads_and_other_cities_are_not_found(world):
    upload = {"file": SimpleUploadedFile("a.csv", b"a\n1\n"), "name": "x"}
    assert bearer(world, "viewer").post("/api/cities/springfield/uploads", upload).status_code == 403
    assert bearer(world, "leader").post("/api/cities/springfield/uploads", upload).status_code == 403
    mine = bearer(world, "analyst").post(
        "/api/cities/springfield/uploads", {"file": SimpleUploadedFile("a.csv", b"a\n1\n"), "name": "x"}
    )
    url = f"/api/cities/springfield/uploads/{mine.json()['id']}"
    assert bearer(world, "viewer").get(url).status_code == 403
    assert bearer(world, "b_analyst").get(url).status_code == 404
    assert bearer(world, "b_analyst").get(url.replace("springfield", "shelbyville")).status_code == 404
    other = bearer(world, "b_analyst").post(
        "/api/cities/springfield/uploads", {"file": SimpleUploadedFile("a.csv", b"a\n1\n"), "name": "y"}
    )
    assert other.status_code == 404
    assert bearer(world, "analyst").get("/api/cities/springfield/uploads/987654").status_code == 404
    assert not Upload.objects.filter(dataset_name="y").exists()
