"""Data readiness in the browser: the latest result, running it with a progress bar, the checks, the report."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.urls import reverse

from tests.web.conftest import CANARY, csrf_post

CHECKS = "checks:\n  - not_null: closed_at\n  - unique: request_id\n"


def _url(world: Any, name: str = "readiness", key: str = "a") -> str:
    city = "springfield" if key == "a" else "shelbyville"
    return reverse(name, kwargs={"city": city, "dataset_id": world.datasets[key].pk})


@pytest.fixture
def queued_only(settings: Any) -> None:
    """A task backend that only records: the test runs the queued run itself, as the worker would."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "ENQUEUE_ON_COMMIT": False}}


def test_the_dataset_page_links_to_readiness_and_everyone_reads_the_latest_result(world, as_persona):
    from ridp.workspace.readiness import result_of

    client = as_persona("viewer")
    dataset = client.get(reverse("dataset", kwargs={"city": "springfield", "dataset_id": world.datasets["a"].pk}))
    assert f'href="{_url(world)}"' in dataset.content.decode()
    response = client.get(_url(world))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    verdict = result_of(world.readiness_runs["a"]).verdict
    assert verdict.level == "insufficient" and "map a column to 'opened'" in verdict.explanation
    assert '<span class="badge badge-bad">insufficient</span>' in page and verdict.explanation in page
    assert "Fix first" in page and all(f"<li>{step}</li>" in page for step in verdict.fix_first)
    assert "history 0/100: 0.0 years of requests; the metrics need 1" in verdict.fix_first
    assert "closed_at: 33.3% missing (1 empty)" in page  # a dimension's finding
    for dimension in ("completeness", "validity", "uniqueness", "consistency", "timeliness", "coverage", "history"):
        assert f'<th scope="row">{dimension}</th>' in page
    assert "<caption" in page and "Every column as read" in page
    assert reverse("readiness_report", kwargs={"city": "springfield", "dataset_id": world.datasets["a"].pk}) in page
    # a viewer reads results but neither runs readiness nor edits the checks
    assert "Run readiness" not in page and "Save the checks" not in page
    assert "Alice Example" not in page and CANARY not in page


def test_a_viewer_cannot_run_readiness_nor_set_the_checks(world, as_persona):
    from ridp.workspace.models import DatasetChecks, ReadinessRun

    runs = ReadinessRun.objects.count()
    viewer = as_persona("viewer")
    assert csrf_post(viewer, _url(world, "readiness_run")).status_code == 403
    assert csrf_post(viewer, _url(world, "readiness_checks"), {"yaml": CHECKS}).status_code == 403
    assert ReadinessRun.objects.count() == runs and not DatasetChecks.objects.exists()
    # an expert may run it (row-level data) but not declare the checks (mapping)
    expert = as_persona("expert")
    assert "Run readiness" in expert.get(_url(world)).content.decode()
    assert csrf_post(expert, _url(world, "readiness_checks"), {"yaml": CHECKS}).status_code == 403


def test_run_shows_progress_until_done_then_the_verdict_findings_and_masked_sample(world, as_persona, queued_only):
    from ridp.workspace.models import ReadinessRun
    from ridp.workspace.readiness import run

    client = as_persona("analyst")
    saved = csrf_post(client, _url(world, "readiness_checks"), {"yaml": CHECKS})
    assert saved.status_code == 302 and saved["Location"] == _url(world)
    started = csrf_post(client, _url(world, "readiness_run"))
    queued = ReadinessRun.objects.order_by("-id").first()
    assert queued is not None and queued.pk != world.readiness_runs["a"].pk and queued.status == "queued"
    assert started.status_code == 302 and started["Location"] == f"{_url(world)}?run={queued.pk}"

    page = html.unescape(client.get(started["Location"]).content.decode())
    progress = f"{_url(world, 'readiness_progress')}?run={queued.pk}"
    assert f'hx-get="{progress}"' in page and 'hx-trigger="every 1s"' in page and "Waiting its turn" in page
    assert '<progress id="readiness-bar" max="100" value="0">' in page
    assert "Verdict" in page  # the earlier result stays on the page while the new one runs
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TRIGGER": "readiness-progress"}
    polled = client.get(progress, **htmx)
    assert polled.status_code == 200 and "HX-Refresh" not in polled and "every 1s" in polled.content.decode()

    ReadinessRun.objects.filter(pk=queued.pk).update(status="running", fraction=0.4, stage="profiling")
    polled = client.get(progress, **htmx).content.decode()
    assert 'value="40"' in polled and "Computing readiness (profiling)" in polled

    assert run(queued.pk).status == "done"
    polled = client.get(progress, **htmx)
    assert polled["HX-Refresh"] == "true" and "every 1s" not in polled.content.decode()
    assert f"Readiness run {queued.pk} is done: insufficient." in polled.content.decode()

    page = html.unescape(client.get(started["Location"]).content.decode())
    assert "hx-get" not in page and "Verdict" in page and "Fix first" in page
    assert "not null: closed_at" in page and "1 of 3" in page and "33.3%" in page  # the failing check and its share
    assert "unique: request_id" in page and "passed" in page
    assert "Rows failing “not null: closed_at” (the first 1)" in page
    assert "Bob Example" not in page and "•••" in page  # the personal column is masked in the sample
    assert "graffiti" in page  # the sample's other values are there
    assert "Declared checks are in force:" in page and CHECKS.strip() in page


def test_a_failed_run_shows_its_error(world, as_persona):
    from ridp.workspace.models import ReadinessRun

    failed = ReadinessRun.objects.create(
        dataset_version=world.datasets["a"].current_version, checks_yaml="checks: []\n", checks_hash="x",
        needs={}, needs_hash="y", created_by=world.users["analyst"], status="failed",
        error="the engine ran out of memory; give it more with RIDP_ENGINE_MEMORY",
    )  # fmt: skip
    page = html.unescape(as_persona("viewer").get(_url(world)).content.decode())
    assert f"Readiness run {failed.pk} failed." in page and "give it more with RIDP_ENGINE_MEMORY" in page
    assert 'role="alert"' in page and "Verdict" in page  # the last finished result is still shown


def test_a_bad_check_file_comes_back_beside_the_field_with_its_line(world, as_persona):
    from ridp.workspace.models import DatasetChecks

    bad = "checks:\n  - not_null: request_id\n  - unique: no_such_column\n"
    response = csrf_post(as_persona("analyst"), _url(world, "readiness_checks"), {"yaml": bad})
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    error = re.search(r'<p class="error" id="id_yaml_error">(.*?)</p>', page, re.S)
    assert error is not None, page
    assert error.group(1).startswith("checks of requests, line 3, unique.column: unknown column 'no_such_column'")
    assert "no_such_column" in page.split('id="id_yaml"', 1)[1]  # the text is kept in the field
    assert not DatasetChecks.objects.exists()


def test_the_report_is_self_contained_html_with_a_strict_policy(world, as_persona):
    response = as_persona("viewer").get(_url(world, "readiness_report"))
    assert response.status_code == 200 and response["Content-Type"] == "text/html; charset=utf-8"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "style-src 'unsafe-inline'" in policy and "script" not in policy
    assert response["Content-Disposition"].startswith("inline;")
    page = response.content.decode()
    assert "<svg" in page and "Verdict: insufficient" in page and "<script" not in page
    # the only URLs are XML namespaces of the inline SVG charts: nothing is fetched
    without_namespaces = re.sub(r'xmlns(:\w+)?="http://www\.w3\.org/[^"]+"', "", page)
    assert "http://" not in without_namespaces and "https://" not in without_namespaces
    download = as_persona("viewer").get(_url(world, "readiness_report") + "?download=1")
    assert download["Content-Disposition"].startswith("attachment;")


def test_a_dataset_without_a_finished_run_says_so_and_has_no_report(world, as_persona):
    from ridp.workspace.models import ReadinessRun

    ReadinessRun.objects.filter(pk=world.readiness_runs["a"].pk).delete()
    page = as_persona("analyst").get(_url(world)).content.decode()
    assert "Readiness has not been run on this version yet." in page and "Run readiness" in page
    assert "Verdict" not in page
    assert as_persona("analyst").get(_url(world, "readiness_report")).status_code == 404


def test_another_citys_readiness_is_not_found(world, as_persona):
    client = as_persona("analyst")
    for name in ("readiness", "readiness_report", "readiness_progress"):
        assert client.get(_url(world, name, key="b")).status_code == 404
    other_run = world.readiness_runs["b"].pk
    assert client.get(f"{_url(world)}?run={other_run}").status_code == 404
