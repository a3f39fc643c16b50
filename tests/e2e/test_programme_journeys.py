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
