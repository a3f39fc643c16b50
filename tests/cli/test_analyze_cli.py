"""``ridp analyze``, as a person runs it on Boston's 100 real cases: service levels ranked worst first with
exports, targets and the calendar, trends, the baseline from the data, and a briefing the coach blesses."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import load_workbook

from tests.cli.test_cli import BOSTON, ridp  # noqa: F401  (the fixture)

SPEC = """\
name: on_time
formula: share(days_to_close <= 14)
unit: share of requests
direction: higher_is_better
baseline: {value: null, start: 2022-01-01, end: 2022-01-31}
target: {value: 0.9, category: accuracy}
source: requests
refresh: weekly
owner: Director of Public Works
"""


def test_analyze_service_levels_targets_trends_baseline_and_a_blessed_briefing(ridp, tmp_path: Path):  # noqa: F811
    ridp("init")
    ridp("city", "add", "Boston", "--timezone", "America/New_York")
    for name, role in (("sam", "senior_leader"), ("ana", "data_analyst"), ("cora", "coach"), ("vera", "viewer")):
        ridp("member", name, "--role", role, "--city", "boston", "--email", f"{name}@boston.gov")
    ridp("data", "add", str(BOSTON / "boston311-100.csv"), "--city", "boston", "--name", "requests", user="ana")
    ridp("data", "map", "requests", "--city", "boston", "--accept", user="ana")
    ridp("project", "start", "--city", "boston", "--title", "Faster repairs", "--problem", "p", "--why", "w",
         "--service-change", "s", user="sam")  # fmt: skip

    ridp("analyze", "targets", "requests", "--city", "boston", "--set", "Request for Pothole Repair=3", user="ana")
    out, sheet, chart = tmp_path / "levels.csv", tmp_path / "levels.xlsx", tmp_path / "levels.svg"
    shown = ridp("analyze", "service-levels", "1", "requests", "--city", "boston", "--by", "type", "--csv", str(out),
                 "--xlsx", str(sheet), "--svg", str(chart), user="ana").stdout  # fmt: skip
    assert "run 1 of requests v1" in shown and "Kaplan-Meier" in shown and "Worst 20 by median_days" in shown
    assert "No target for" in shown  # the table names one type only: the others are listed with counts
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert sum(int(r["requests"]) for r in rows) == 100 and "share_within_target" in rows[0]
    workbook = load_workbook(sheet)
    assert workbook.active is not None and workbook.active.max_row == len(rows) + 1
    assert chart.read_text().startswith("<svg")
    again = ridp("analyze", "service-levels", "1", "requests", "--city", "boston", user="vera", ok=False)
    assert again.returncode == 1 and "viewers see summaries, not rows" in again.stderr

    cal = ridp("analyze", "calendar", "--city", "boston", "--holiday", "2022-01-17", user="sam").stdout
    assert "working days: Mon, Tue, Wed, Thu, Fri; holidays: 2022-01-17" in cal
    business = ridp("analyze", "service-levels", "1", "requests", "--city", "boston", "--unit", "business",
                    "--censoring", "closed-only", user="ana").stdout  # fmt: skip
    assert "run 2 of" in business and "Business days count working days (Mon/Tue/Wed/Thu/Fri, 1 holiday(s))" in business

    trend = ridp("analyze", "trends", "1", "requests", "--city", "boston", "--freq", "week", user="ana").stdout
    assert "Requests per week, all requests" in trend and "too few" in trend  # one month of data

    spec = tmp_path / "on_time.yaml"
    spec.write_text(SPEC)
    ridp("metric", "add", "1", str(spec), "--city", "boston", user="ana")
    base = ridp("analyze", "baseline", "1", "on_time", "--city", "boston", user="ana").stdout
    assert "on_time: baseline " in base and "from requests v1" in base and "version 2" in base
    score = ridp("analyze", "composite", "1", "--city", "boston", user="ana").stdout
    assert "Composite score" in score and "(1.00 is on target)" in score and "quarter" in score

    ridp("data", "add", str(BOSTON.parent / "chicago" / "Food_Inspections.csv"), "--city", "boston", "--name",
         "inspections", user="ana")  # fmt: skip
    found = ridp("analyze", "discovery", "1", "inspections", "--city", "boston", "--found-column", "Results",
                 "--found", "Fail", "--found", "Pass w/ Conditions", "--not-held", "Out of Business",
                 "--not-held", "No Entry", "--not-held", "Not Ready", user="ana").stdout  # fmt: skip
    assert "144 of 301 inspections found a violation (47.8%)" in found and "Results is one of 'Fail'" in found

    ridp("analyze", "briefing", "add", "1", "Week 1: who waits longest", "--city", "boston", user="ana")
    found = ridp("analyze", "briefing", "finding", "1", "1", "1", "--city", "boston", "--title", "Slowest types",
                 "--text", "=HYPERLINK is just text here", user="ana").stdout  # fmt: skip
    assert "finding 1 of briefing 1: Slowest types" in found
    denied = ridp("analyze", "briefing", "bless", "1", "1", "--city", "boston", user="ana", ok=False)
    assert denied.returncode == 1 and "blessing" in denied.stderr
    assert "blessed by cora" in ridp("analyze", "briefing", "bless", "1", "1", "--city", "boston", user="cora").stdout
    listed = ridp("analyze", "briefing", "list", "1", "--city", "boston", user="vera").stdout
    assert "Week 1: who waits longest" in listed and "blessed by cora" in listed and "1. Slowest types" in listed
