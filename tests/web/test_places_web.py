"""Places in the browser and through the API: a boundary dataset checked, points assigned to its wards once,
hot spots and service gaps run from the analysis page with their maps (SVG drawn on the server, the same map live
where script runs), a finding joining the week's briefing, and who may do what."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
from django.test import Client
from django.urls import reverse

from ridp.workspace import tokens
from tests.web.conftest import CANARY, _parse_once_per_session, csrf_post

# Springfield's four wards: a 2 x 2 grid of squares around (42.0, -71.0).
WARDS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"ward": str(1 + i + 2 * j), "name": f"Ward {1 + i + 2 * j}"},
     "geometry": {"type": "Polygon", "coordinates": [[[-71.0 + 0.1 * i, 42.0 + 0.1 * j],
                                                      [-70.9 + 0.1 * i, 42.0 + 0.1 * j],
                                                      [-70.9 + 0.1 * i, 42.1 + 0.1 * j],
                                                      [-71.0 + 0.1 * i, 42.1 + 0.1 * j],
                                                      [-71.0 + 0.1 * i, 42.0 + 0.1 * j]]]}}
    for i in range(2) for j in range(2)]}  # fmt: skip


def _geo_requests(path: Path, rows: int = 400) -> Path:
    """Requests with coordinates: ward 4 (north-east) waits four times longer; 3 rows cannot be placed."""
    rng = np.random.default_rng(3)
    lines = ["request_id,created_at,closed_at,type,latitude,longitude"]
    for k in range(rows):
        lat, lon = 42.0 + 0.2 * rng.random(), -71.0 + 0.2 * rng.random()
        slow = lat > 42.1 and lon > -70.9
        hours = rng.exponential(96 if slow else 24) + 1
        opened = np.datetime64("2025-01-01T08:00") + np.timedelta64(int(rng.integers(0, 60 * 24 * 90)), "m")
        closed = opened + np.timedelta64(int(hours * 60), "m")
        lines.append(
            f"{k + 1},{str(opened).replace('T', ' ')},{str(closed).replace('T', ' ')},pothole,{lat:.6f},{lon:.6f}"
        )
    lines += [f"{rows + 1},2025-02-01 08:00,,pothole,,", f"{rows + 2},2025-02-01 08:00,,pothole,0,0",
              f"{rows + 3},2025-02-01 08:00,,pothole,-70.95,42.05"]  # missing, zero, swapped  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _setup(world: Any, tmp_path: Path) -> None:
    """The requests with coordinates (mapped) and the wards, added by the analyst. Both tests add the same two
    files: each is parsed once per session by the real ingest and its Parquet reused, as the worlds' are."""
    from ridp.workspace import datasets
    from ridp.workspace.mapping import map_dataset

    analyst = world.users["analyst"]
    wards = tmp_path / "wards.geojson"
    wards.write_text(json.dumps(WARDS), encoding="utf-8")
    with _parse_once_per_session():
        datasets.add_file(analyst, _geo_requests(tmp_path / "geo.csv"), city="springfield", name="geo_requests")
        map_dataset(analyst, "springfield", "geo_requests", accept=True)
        datasets.add_file(analyst, wards, city="springfield", name="wards")


def _url(world: Any, name: str, **extra: Any) -> str:
    return reverse(name, kwargs={"city": "springfield", "project_id": world.projects["a"].pk, **extra})


def test_hot_spots_and_gaps_from_the_analysis_page_with_maps_and_a_finding(world, as_persona, tmp_path):
    from ridp.workspace.models import AnalysisRun, AreaAssignment

    _setup(world, tmp_path)
    analyst = as_persona("analyst")
    page = analyst.get(_url(world, "analysis")).content.decode()
    assert "Hot spots (Getis-Ord Gi*)" in page and "Areas from the boundaries" in page
    base = {"dataset": "geo_requests", "unit": "calendar", "freq": "week", "period": "", "by": "type",
            "boundaries": "wards", "correction": "fdr"}  # fmt: skip
    started = csrf_post(analyst, _url(world, "analysis_start"), {**base, "kind": "service_gaps"})
    assert started.status_code == 302, started.content.decode()[-2000:]
    run = AnalysisRun.objects.filter(project=world.projects["a"], kind="service_gaps").latest("id")
    assert run.status == "done", run.error
    assert AreaAssignment.objects.filter(dataset_version__dataset__name="geo_requests").count() == 1
    text = html.unescape(analyst.get(started["Location"]).content.decode())
    assert "<svg" in text and "Ward 4" in text  # the map, drawn on the server, names the wards
    assert "401 of 403 requests placed in the areas of wards" in text  # 400, and the swapped one exchanged
    assert "missing 1" in text and "zero 1" in text and "swapped 1" in text
    body = text.split("</header>", 1)[-1]
    assert body.count("<script") == 1 and '<script id="chart-spec" type="application/json">' in body
    assert "http://" not in body.split('id="chart-spec"', 1)[1].split("</script>", 1)[0].replace(
        "https://vega.github.io/schema", ""
    )

    added = csrf_post(analyst, reverse("briefing_finding", kwargs={"city": "springfield",
                      "project_id": world.projects["a"].pk, "analysis_id": run.pk}),
                      {"briefing": world.briefings["a"].pk, "title": "Ward 4 waits", "text": "Four times longer.",
                       "column": "median_days"})  # fmt: skip
    assert added.status_code == 302
    finding = world.briefings["a"].findings.get()
    assert finding.title == "Ward 4 waits" and finding.numbers

    hot = csrf_post(analyst, _url(world, "analysis_start"), {**base, "kind": "hot_spots"})
    assert hot.status_code == 302
    hot_run = AnalysisRun.objects.filter(project=world.projects["a"], kind="hot_spots").latest("id")
    assert hot_run.status == "done", hot_run.error
    assert AreaAssignment.objects.count() == 1  # the same assignment, kept
    assert "<svg" in analyst.get(hot["Location"]).content.decode()

    bad = csrf_post(analyst, _url(world, "analysis_start"), {**base, "kind": "hot_spots", "boundaries": ""})
    assert bad.status_code == 400 and "hot spots need the areas" in html.unescape(bad.content.decode())


def _bearer(world: Any, name: str) -> Client:
    raw = tokens.create(world.users[name], f"{name} places")[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _send(client: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    return client.generic(method, url, json.dumps(body), content_type="application/json")


def test_the_api_checks_boundaries_assigns_once_and_serves_maps(world, tmp_path):
    from ridp.workspace.datasets import get_dataset

    _setup(world, tmp_path)
    analyst, viewer = _bearer(world, "analyst"), _bearer(world, "viewer")
    geo = get_dataset(world.users["analyst"], "springfield", "geo_requests").pk
    wards = get_dataset(world.users["analyst"], "springfield", "wards").pk
    city = "/api/cities/springfield"

    checked = analyst.get(f"{city}/datasets/{wards}/boundaries")
    assert checked.status_code == 200 and checked.json()["areas"] == 4 and checked.json()["id_field"] == "ward"
    assert viewer.get(f"{city}/datasets/{wards}/boundaries").status_code == 403

    assigned = _send(analyst, "POST", f"{city}/datasets/{geo}/areas", {"boundaries": "wards"})
    assert assigned.status_code == 200, assigned.content
    body = assigned.json()
    assert body["counts"]["assigned"] == 400 and body["counts"]["swapped"] == 1 and body["column"] == "area_wards"
    assert sum(body["per_area"].values()) == 401 and body["examples"]["missing"]
    again = _send(analyst, "POST", f"{city}/datasets/{geo}/areas", {"boundaries": "wards"})
    assert again.json()["id"] == body["id"]
    listed = viewer.get(f"{city}/datasets/{geo}/areas").json()
    assert listed[0]["counts"] == body["counts"] and listed[0]["examples"] is None  # no rows for a viewer
    wrong = _send(analyst, "POST", f"{city}/datasets/{geo}/areas", {"boundaries": "requests"})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["field"] == "boundaries"

    project = f"{city}/projects/{world.projects['a'].pk}"
    started = _send(analyst, "POST", project + "/analyses",
                    {"dataset": "geo_requests", "kind": "service_gaps", "boundaries": "wards"})  # fmt: skip
    assert started.status_code == 200, started.content
    run = started.json()
    detail = viewer.get(f"{project}/analyses/{run['id']}").json()
    assert detail["status"] == "done" and detail["result"]
    drawn = viewer.get(f"{project}/analyses/{run['id']}/map")
    assert drawn.status_code == 200 and "Ward 4" in json.dumps(drawn.json()) and CANARY not in drawn.content.decode()
    other = _send(analyst, "POST", project + "/analyses", {"dataset": "geo_requests", "kind": "service_levels"})
    not_places = viewer.get(f"{project}/analyses/{other.json()['id']}/map")
    assert not_places.status_code == 422 and not_places.json()["detail"][0]["field"] == "analysis_id"
    unknown = _send(analyst, "POST", project + "/analyses",
                    {"dataset": "geo_requests", "kind": "hot_spots", "boundaries": "wards", "colour": "red"})  # fmt: skip
    assert unknown.status_code == 422
