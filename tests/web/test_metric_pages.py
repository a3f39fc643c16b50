"""The project's metrics page: the specs and their versions, adding one in YAML, choosing the success metric."""

from __future__ import annotations

import html
from typing import Any

from django.urls import reverse

from tests.web.conftest import csrf_post

SPEC = """\
name: pothole_days
formula: median(days_to_close) where type == 'pothole'
unit: days
direction: lower_is_better
baseline: {value: 6.5, start: 2025-01-01, end: 2025-06-30}
target: {value: 4, category: accuracy, by: 2026-12-31}
disaggregation: [geography, ward]
source: requests
refresh: weekly
owner: Director of Public Works
"""


def _url(world: Any, name: str = "metrics", key: str = "a") -> str:
    city = "springfield" if key == "a" else "shelbyville"
    return reverse(name, kwargs={"city": city, "project_id": world.projects[key].pk})


def test_the_overview_links_to_the_metrics_and_a_viewer_reads_them_without_forms(world, as_persona):
    client = as_persona("viewer")
    overview = client.get(reverse("project", kwargs={"city": "springfield", "project_id": world.projects["a"].pk}))
    assert f'href="{_url(world)}"' in overview.content.decode()
    page = client.get(_url(world)).content.decode()
    assert "No metric is defined yet." in page and "No success metric" in page
    assert "Add or change a metric" not in page and "Choose the success metric" not in page


def test_analyst_adds_a_spec_and_sees_it_with_what_it_needs(world, as_persona):
    from ridp.workspace.models import AuditEntry, MetricSpecVersion

    client = as_persona("analyst")
    response = csrf_post(client, _url(world, "metric_add"), {"yaml": SPEC})
    assert response.status_code == 302 and response["Location"] == _url(world)
    version = MetricSpecVersion.objects.get(project=world.projects["a"], name="pothole_days")
    assert version.number == 1 and version.yaml == SPEC
    assert AuditEntry.objects.filter(action="metric.spec_saved", actor_name="analyst").exists()
    page = html.unescape(client.get(_url(world)).content.decode())
    assert "pothole_days: version 1 saved." in page
    assert 'median(days_to_close) where type == "pothole"' in page and "lower is better" in page
    assert (
        "category: accuracy" in page and "type, opened, closed, latitude, longitude" in page and "areas: ward" in page
    )
    assert "Choose the success metric" in page
    again = csrf_post(client, _url(world, "metric_add"), {"yaml": SPEC + "# a new comment\n"})
    assert again.status_code == 302 and MetricSpecVersion.objects.count() == 1
    assert "pothole_days: unchanged." in client.get(_url(world)).content.decode()


def test_a_bad_spec_comes_back_beside_the_yaml_with_its_line_and_field(world, as_persona):
    from ridp.workspace.models import MetricSpecVersion

    client = as_persona("expert")
    bad = SPEC.replace("type == 'pothole'", "type.lower() == 'pothole'")
    response = csrf_post(client, _url(world, "metric_add"), {"yaml": bad})
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert 'line 2, field "formula": column 29: a function may only be the formula\'s aggregate' in page
    assert 'id="id_yaml_error"' in page and "type.lower()" in page  # beside the field, the text kept
    unknown = csrf_post(client, _url(world, "metric_add"), {"yaml": SPEC.replace("source: requests", "source: x")})
    assert unknown.status_code == 400
    assert "line 8, field \"source\": Springfield has no dataset named 'x'" in html.unescape(unknown.content.decode())
    assert not MetricSpecVersion.objects.exists()


def test_viewer_cannot_add_a_spec_nor_choose_the_success_metric(world, as_persona):
    from ridp.workspace.models import MetricSpecVersion

    client = as_persona("viewer")
    assert csrf_post(client, _url(world, "metric_add"), {"yaml": SPEC}).status_code == 403
    assert csrf_post(client, _url(world, "metric_success"), {"name": ""}).status_code == 403
    assert not MetricSpecVersion.objects.exists()


def test_coach_chooses_the_success_metric_among_the_specs_and_unsets_it(world, as_persona):
    client = as_persona("coach")
    csrf_post(client, _url(world, "metric_add"), {"yaml": SPEC})
    refused = csrf_post(client, _url(world, "metric_success"), {"name": "not_a_metric"})
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    chosen = csrf_post(client, _url(world, "metric_success"), {"name": "pothole_days"})
    assert chosen.status_code == 302
    world.projects["a"].refresh_from_db()
    assert world.projects["a"].success_metric_name == "pothole_days"
    page = client.get(_url(world)).content.decode()
    assert "pothole_days is the project&#x27;s success metric." in page and "No success metric" not in page
    csrf_post(client, _url(world, "metric_success"), {"name": ""})
    world.projects["a"].refresh_from_db()
    assert world.projects["a"].success_metric_name == ""


def test_another_citys_metrics_are_not_found(world, as_persona):
    client = as_persona("analyst")
    assert client.get(_url(world, key="b")).status_code == 404
    assert csrf_post(client, _url(world, "metric_add", key="b"), {"yaml": SPEC}).status_code == 404
