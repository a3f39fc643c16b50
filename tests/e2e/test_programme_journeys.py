"""Browser journeys of the programme (issue 5), in Debian's Chromium against `ridp serve`.

Every page is checked by axe-core (WCAG 2.1 AA) and for CSP violations (tests/e2e/conftest.py).
"""

from __future__ import annotations

import re
from datetime import date

from tests.e2e.test_journeys import log_in

TODAY = date.today().isoformat()


def test_leader_completes_intake_drafts_and_signs_a_charter_then_an_analysts_edit_invalidates_it(web):
    leader = web()
    log_in(leader, "leader")
    leader.goto("/c/springfield/projects/")
    leader.page.get_by_role("link", name="Start a project").click()
    leader.axe()
    leader.page.get_by_label("Title").fill("Quicker streetlight repair")
    leader.page.get_by_label("The problem").fill("Broken streetlights stay dark for weeks.")
    leader.page.get_by_label("Why it matters").fill("Dark streets feel unsafe; residents stop walking at night.")
    leader.page.get_by_label("What service would change").fill("Repair crews would be sent by outage length.")
    leader.page.get_by_role("button", name="Start the project").click()
    leader.page.get_by_role("heading", name="Quicker streetlight repair").wait_for()
    leader.axe()
    project_url = leader.page.url
    leader.page.get_by_role("link", name="Charter", exact=True).click()
    leader.axe()
    leader.page.get_by_role("link", name="Write the charter").click()
    leader.axe()
    leader.page.get_by_label("Department").fill("Public Works, Lighting")
    leader.page.get_by_label("Success metric", exact=True).fill("Median days a streetlight stays dark")
    leader.page.get_by_role("button", name="Save the charter").click()
    leader.page.get_by_text(re.compile("Version 1")).first.wait_for()
    leader.axe()
    for kind, name in (("team", "Lee Leader"), ("champion", "Dana Director"), ("leadership", "Chief of Staff")):
        leader.page.get_by_label("Signed by").select_option(kind)
        leader.page.get_by_label("Name", exact=True).fill(name)
        leader.page.get_by_label("Role or title").fill(kind)
        leader.page.get_by_label("Signed on").fill(TODAY)
        leader.page.get_by_role("button", name="Record the sign-off").click()
        leader.page.wait_for_load_state("load")
        leader.axe()
    leader.page.locator(".badge", has_text=re.compile(r"^Signed$")).wait_for()

    analyst = web()
    log_in(analyst, "analyst")
    analyst.goto(project_url.removeprefix(analyst.base) + "charter/edit/")
    analyst.page.get_by_label("Department").fill("Public Works, Street Lighting")
    analyst.page.get_by_role("button", name="Save the charter").click()
    analyst.page.get_by_text(re.compile("Version 2")).first.wait_for()
    analyst.axe()
    analyst.page.locator(".badge", has_text="Not signed").wait_for()
    invalidated = analyst.page.locator("table", has_text="invalidated")
    assert invalidated.locator("tbody tr").count() == 3
    assert "Department" in invalidated.inner_text()


def test_coach_finds_an_at_risk_project_on_the_cohort_view_and_overrides_its_blocked_gate(web):
    coach = web()
    log_in(coach, "coach")
    coach.page.get_by_role("navigation", name="Main").get_by_role("link", name="Cohort view").click()
    coach.page.get_by_role("heading", name="Cohort view").wait_for()
    coach.axe()
    coach.page.get_by_label("At risk only").check()
    coach.page.get_by_role("button", name="Show").click()
    coach.page.wait_for_load_state("load")
    coach.axe()
    row = coach.page.locator("tbody tr", has_text="Faster pothole repair")
    assert "behind" in row.inner_text()  # still scoping while the calendar has moved on
    assert "CANARY" not in coach.page.content()  # another city's project never shows
    row.get_by_role("link", name=re.compile("blocked")).click()
    coach.page.get_by_role("heading", name=re.compile("gate", re.I)).first.wait_for()
    coach.axe()
    coach.page.get_by_label("Why move on although the gate is blocked?").fill(
        "The team reviewed the data by hand with the department; readiness checks come later."
    )
    coach.page.once("dialog", lambda dialog: dialog.accept())
    coach.page.get_by_role("button", name="Override and move on").click()
    coach.page.wait_for_load_state("load")
    coach.axe()
    coach.page.get_by_text(re.compile("overrid", re.I)).first.wait_for()
    coach.page.get_by_role("link", name="Overview").click()
    coach.page.wait_for_load_state("load")
    coach.axe()
    assert "phase: Analysis" in coach.page.inner_text("main")


def test_programme_pages_fit_a_tablet(web):
    page = web(width=768, height=1024)
    log_in(page, "coach")
    page.goto("/c/springfield/projects/")
    page.page.get_by_role("link", name="Faster pothole repair").first.click()
    project = page.page.url.removeprefix(page.base)
    for path in ("/cohort/", project, project + "scoping/", project + "charter/", project + "team/",
                 project + "meetings/", project + "gate/"):  # fmt: skip
        page.goto(path)
        overflow = page.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways on a tablet ({overflow}px)"
