"""The analysis period in the browser (issue 7): from a catalogued 311 dataset to ranked service levels with
their chart, a finding in the week's briefing, and the coach's blessing. Every page is checked by axe-core
(WCAG 2.1 AA) and for CSP violations (tests/e2e/conftest.py)."""

from __future__ import annotations

import re

from tests.e2e.test_journeys import REAL_FILE, log_in


def test_an_analyst_ranks_service_levels_adds_a_finding_and_the_coach_blesses_the_briefing(web, server):
    analyst = web()
    log_in(analyst, "analyst")
    analyst.goto("/c/springfield/data/upload/")
    analyst.page.get_by_label("Dataset", exact=True).fill("boston cases")
    analyst.page.get_by_label("File").set_input_files(str(REAL_FILE))
    analyst.page.get_by_role("button", name="Upload").click()
    analyst.page.get_by_text("Done:").wait_for(timeout=60_000)
    analyst.page.get_by_role("link", name=re.compile("Open the dataset")).click()
    dataset_url = analyst.page.url
    analyst.goto(dataset_url.removeprefix(server.url) + "mapping/")
    analyst.page.get_by_role("button", name="Confirm mapping").click()
    analyst.page.get_by_text(re.compile("confirmed", re.I)).first.wait_for()

    analyst.goto("/c/springfield/projects/")
    analyst.page.get_by_role("link", name="Faster pothole repair").click()
    analyst.page.get_by_role("link", name="Analysis", exact=True).click()
    analyst.page.get_by_role("heading", name="Where and how residents wait").wait_for()
    analyst.axe()
    analyst.page.get_by_label("Dataset", exact=True).select_option("boston cases")
    analyst.page.get_by_label("Break down by").fill("type")
    analyst.page.get_by_role("button", name="Run", exact=True).click()
    # the run is a background task: the page follows it, then links to the result
    analyst.page.get_by_role("link", name="Show the result").click(timeout=60_000)
    analyst.page.get_by_role("heading", name="The figures, worst first").wait_for()
    # the server's SVG becomes a live Vega chart, its expressions interpreted without eval under the CSP
    analyst.page.locator('figure.chart[data-live="yes"]').wait_for(timeout=15_000)
    analyst.axe()
    assert analyst.page.locator("figure.chart svg").count() == 1
    assert analyst.page.locator("figure.chart .chart-static").count() == 0
    assert "Kaplan-Meier" in analyst.page.content()
    result_url = analyst.page.url
    analyst.page.get_by_label("Finding", exact=True).fill("Some requests wait for weeks")
    analyst.page.get_by_label("What it shows").fill("The slowest types take weeks; most close within days.")
    analyst.page.get_by_label("Briefing", exact=True).select_option(label="Week 1 findings")
    analyst.page.get_by_role("button", name="Add the finding").click()
    analyst.page.get_by_text("Some requests wait for weeks").wait_for()
    analyst.axe()

    coach = web()
    log_in(coach, "coach")
    coach.goto(result_url.removeprefix(server.url).rsplit("/", 2)[0] + "/")
    coach.page.get_by_role("heading", name="Where and how residents wait").wait_for()
    coach.page.get_by_label("The coach's words").fill("Clear and useful: go on to the pilot design.")
    coach.page.get_by_role("button", name="Bless this briefing").click()
    coach.page.get_by_text("blessed by coach").first.wait_for()
    coach.axe()
