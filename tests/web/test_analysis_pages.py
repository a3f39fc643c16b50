"""Analysis in the browser: run service levels, read them worst first with the chart (SVG, no script),
download formula-safe CSV and XLSX, add a finding to the week's briefing, and the coach's blessing."""

from __future__ import annotations

import csv
import html
import io
from typing import Any

from django.urls import reverse
from openpyxl import load_workbook

from tests.web.conftest import CANARY, csrf_post


def _url(world: Any, name: str, key: str = "a", **extra: Any) -> str:
    city = "springfield" if key == "a" else "shelbyville"
    return reverse(name, kwargs={"city": city, "project_id": world.projects[key].pk, **extra})


def test_a_run_its_result_exports_a_finding_and_the_blessing(world, as_persona):
    from ridp.workspace.mapping import map_dataset
    from ridp.workspace.models import AnalysisRun, Briefing

    map_dataset(world.users["analyst"], "springfield", "requests", accept=True)
    analyst = as_persona("analyst")
    page = analyst.get(_url(world, "analysis"))
    assert page.status_code == 200 and b"Run an analysis" in page.content
    title = page.content.decode().split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.startswith("Analysis · ") and "<" not in title  # the title is text, nothing more
    assert f'href="{_url(world, "analysis")}"'.encode() in analyst.get(_url(world, "project")).content  # the tab
    started = csrf_post(analyst, _url(world, "analysis_start"),
                        {"dataset": "requests", "kind": "service_levels", "by": "type", "unit": "calendar",
                         "freq": "week", "period": ""})  # fmt: skip
    run = AnalysisRun.objects.filter(project=world.projects["a"], status="done").latest("id")
    assert started.status_code == 302 and started["Location"] == _url(world, "analysis_result", analysis_id=run.pk)
    result = analyst.get(started["Location"])
    text = html.unescape(result.content.decode())
    assert result.status_code == 200 and "<svg" in text  # drawn on the server: the chart needs no script
    body = text.split("</header>", 1)[-1]
    # the one script element in the page's body is the chart's Vega spec, a data block the browser never runs
    assert body.count("<script") == 1 and '<script id="chart-spec" type="application/json">' in body
    assert '"$schema": "https://vega.github.io/schema/vega/v6.json"' in body or "vega/v6" in body
    assert "ridp/vendor/vega.min.js" in text and "ridp/vendor/vega-interpreter.js" in text
    assert "The figures, worst first" in text and "streetlight" in text and "Kaplan-Meier" in text
    assert "Alice Example" not in text and CANARY not in text

    exported = analyst.get(_url(world, "analysis_export", analysis_id=run.pk, fmt="csv"))
    assert exported["Content-Disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(exported.content.decode(), newline="")))
    assert sorted(r["type"] for r in rows) == ["graffiti", "pothole", "streetlight"]
    sheet = load_workbook(
        io.BytesIO(analyst.get(_url(world, "analysis_export", analysis_id=run.pk, fmt="xlsx")).content)
    )
    assert sheet.active is not None and sheet.active.max_row == 4
    assert analyst.get(_url(world, "analysis_export", analysis_id=run.pk, fmt="pdf")).status_code == 404

    briefing = world.briefings["a"]
    added = csrf_post(analyst, _url(world, "briefing_finding", analysis_id=run.pk),
                      {"title": "Graffiti stays", "text": "=1+1 is text here", "briefing": briefing.pk})  # fmt: skip
    assert added.status_code == 302
    listing = html.unescape(analyst.get(_url(world, "analysis")).content.decode())
    assert "Graffiti stays" in listing and "=1+1 is text here" in listing and "Bless this briefing" not in listing
    coach = as_persona("coach")
    assert "Bless this briefing" in coach.get(_url(world, "analysis")).content.decode()
    blessed = csrf_post(coach, _url(world, "briefing_bless", briefing_id=briefing.pk), {"note": "Go on"})
    assert blessed.status_code == 302 and Briefing.objects.get(pk=briefing.pk).blessed_by == world.users["coach"]
    assert csrf_post(analyst, _url(world, "briefing_bless", briefing_id=briefing.pk), {}).status_code == 403


def test_a_viewer_reads_but_cannot_run_and_a_bad_breakdown_comes_back_beside_the_field(world, as_persona):
    viewer = as_persona("viewer")
    page = viewer.get(_url(world, "analysis")).content.decode()
    assert "Run an analysis" not in page and "Start this week" not in page
    refused = csrf_post(viewer, _url(world, "analysis_start"), {"dataset": "requests", "kind": "service_levels"})
    assert refused.status_code == 403
    analyst = as_persona("analyst")
    bad = csrf_post(analyst, _url(world, "analysis_start"),
                    {"dataset": "requests", "kind": "service_levels", "by": "resident_name", "unit": "calendar",
                     "freq": "week"})  # fmt: skip
    assert bad.status_code == 400 and "personal or sensitive column" in html.unescape(bad.content.decode())


def test_a_discovery_rate_from_the_form(world, as_persona):
    from ridp.workspace.models import AnalysisRun

    analyst = as_persona("analyst")
    started = csrf_post(analyst, _url(world, "analysis_start"),
                        {"dataset": "requests", "kind": "discovery_rate", "found_column": "type",
                         "found_values": "pothole, graffiti", "unit": "calendar", "freq": "week"})  # fmt: skip
    assert started.status_code == 302, started.content.decode()[-2000:]
    run = AnalysisRun.objects.filter(project=world.projects["a"], kind="discovery_rate").latest("id")
    assert run.status == "done" and run.params["found_values"] == ["pothole", "graffiti"]
    page = html.unescape(analyst.get(started["Location"]).content.decode())
    assert "2 of 3 inspections found a violation (66.7%)" in page and "<figure" not in page
    missing = csrf_post(analyst, _url(world, "analysis_start"),
                        {"dataset": "requests", "kind": "discovery_rate", "unit": "calendar", "freq": "week"})  # fmt: skip
    assert missing.status_code == 400 and "is not a column of requests" in html.unescape(missing.content.decode())


def test_targets_the_calendar_the_baseline_and_the_composite_from_the_browser(world, as_persona):
    from ridp.workspace.analysis import calendar_for, targets_for
    from ridp.workspace.mapping import map_dataset
    from ridp.workspace.metric_specs import save_specs

    map_dataset(world.users["analyst"], "springfield", "requests", accept=True)
    analyst, leader = as_persona("analyst"), as_persona("leader")
    saved = csrf_post(analyst, _url(world, "analysis_targets"),
                      {"dataset": "requests", "unit": "calendar", "lines": "pothole = 2\ngraffiti=5\n"})  # fmt: skip
    assert saved.status_code == 302
    table = targets_for(world.datasets["a"])
    assert table is not None and dict(table.days) == {"pothole": 2.0, "graffiti": 5.0}
    bad = csrf_post(analyst, _url(world, "analysis_targets"), {"dataset": "requests", "unit": "calendar",
                                                               "lines": "pothole = soon"})  # fmt: skip
    assert bad.status_code == 400 and "Line 1 is not TYPE = DAYS" in html.unescape(bad.content.decode())
    cal = csrf_post(leader, _url(world, "analysis_calendar"), {"weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri"],
                                                               "holidays": "2025-01-01\n2025-01-20"})  # fmt: skip
    assert cal.status_code == 302
    world.springfield.refresh_from_db()
    assert [h.isoformat() for h in calendar_for(world.springfield).holidays] == ["2025-01-01", "2025-01-20"]
    assert csrf_post(as_persona("expert"), _url(world, "analysis_calendar"), {"weekdays": ["Mon"]}).status_code == 403

    save_specs(world.users["analyst"], "springfield", world.projects["a"].pk, SPEC)
    computed = csrf_post(analyst, _url(world, "metric_baseline"), {"name": "closed_in_two_days"})
    assert computed.status_code == 302
    page = html.unescape(analyst.get(_url(world, "metrics")).content.decode())
    assert "closed_in_two_days: baseline 0.5 from requests version 1 (2 requests)" in page
    composite = html.unescape(analyst.get(_url(world, "analysis_composite")).content.decode())
    assert "Composite score" in composite and "closed_in_two_days" in composite
    assert as_persona("viewer").get(_url(world, "analysis_composite")).status_code == 403


SPEC = """name: closed_in_two_days
formula: share(days_to_close <= 2)
unit: share of requests
direction: higher_is_better
baseline: {value: null, start: 2025-01-01, end: 2025-01-31}
target: {value: 0.8, category: accuracy}
source: requests
refresh: weekly
owner: the team
"""
