"""Browser journeys in Debian's Chromium against `ridp serve` (gunicorn + the task worker).

Every page the journeys open is checked by axe-core (WCAG 2.1 AA) and for CSP violations.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.web.conftest import PASSWORD, code_for

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "city"
REAL_FILE = SHARED / "boston" / "boston311-100.csv"


def log_in(page, username: str, *, two_factor: bool = True) -> None:
    page.goto("/login/")
    page.page.get_by_label("Username").fill(username)
    page.page.get_by_label("Password").fill(PASSWORD)
    page.page.get_by_role("button", name="Log in").click()
    if two_factor:
        page.page.wait_for_url("**/login/two-factor/")
        page.axe()
        page.page.get_by_label("Six-digit code from your authenticator app").fill(code_for(username))
        page.page.get_by_role("button", name="Continue").click()
    # Wait until the login pages are left behind: the two-factor page's own URL also ends with "/", so a
    # pattern like ".*/$" matched before the code was checked, and the next page could race the session.
    page.page.wait_for_url(lambda url: "/login/" not in url)
    page.axe()


def test_analyst_uploads_a_real_file_and_confirms_mapping_and_a_personal_column(web, server):
    page = web()
    log_in(page, "analyst")
    page.goto("/c/springfield/data/upload/")
    page.page.get_by_label("Dataset", exact=True).fill("boston 311")
    page.page.get_by_label("File").set_input_files(str(REAL_FILE))
    page.page.get_by_role("button", name="Upload").click()
    page.page.wait_for_url("**/uploads/*/")
    page.axe()
    bar = page.page.locator("#upload-bar")
    # The bar fills as the task worker reads the file; it ends at 100 with a link to the dataset.
    page.page.get_by_text("Done:").wait_for(timeout=60_000)
    assert bar.get_attribute("value") == "100"
    page.axe()
    page.page.get_by_role("link", name=re.compile("Open the dataset")).click()
    page.axe()
    dataset_url = page.page.url
    page.goto(dataset_url.removeprefix(server.url) + "mapping/")
    page.page.get_by_role("button", name="Confirm mapping").click()
    page.page.get_by_text(re.compile("confirmed", re.I)).first.wait_for()
    page.axe()
    page.goto(dataset_url.removeprefix(server.url) + "columns/")
    select = page.page.get_by_label("Class of location_street_name")
    select.select_option("personal")
    select.locator("xpath=ancestor::tr").get_by_role("button", name="Save").click()
    page.page.locator("tr", has_text="location_street_name").get_by_text(re.compile("personal", re.I)).first.wait_for()
    page.axe()


def test_senior_leader_activates_an_agreement(web, tmp_path):
    page = web()
    log_in(page, "leader")
    page.goto("/c/springfield/agreements/")
    page.page.get_by_role("link", name="Requests sharing (renewal)").click()
    page.axe()
    page.page.get_by_role("button", name="Send to legal review").click()
    page.axe()
    page.page.get_by_role("link", name="Record the signatures").click()
    page.axe()
    page.page.get_by_label("Name").first.fill("Pat Mayor")
    page.page.get_by_label("Role or title").first.fill("mayor")
    page.page.get_by_label("Signed on").first.fill("2026-11-20")
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% signed\n")
    page.page.get_by_label("Signed document (PDF)").set_input_files(str(pdf))
    page.page.get_by_role("button", name="Record the signatures").click()
    page.axe()
    page.page.get_by_role("button", name="Activate").click()
    page.page.get_by_text(re.compile(r"\bactive\b")).first.wait_for()
    page.axe()


def test_viewer_sees_the_personal_column_masked(web):
    page = web()
    log_in(page, "viewer", two_factor=False)
    page.goto("/c/springfield/data/")
    page.page.get_by_role("link", name="requests").first.click()
    page.axe()
    row = page.page.locator("tr", has_text="resident_name")
    row.get_by_text(re.compile("masked", re.I)).first.wait_for()


def test_pages_fit_a_tablet(web):
    page = web(width=768, height=1024)
    log_in(page, "analyst")
    for path in (
        "/c/springfield/",
        "/c/springfield/data/",
        "/c/springfield/agreements/",
        "/c/springfield/team/",
        "/account/",
    ):
        page.goto(path)
        overflow = page.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways on a tablet ({overflow}px)"
