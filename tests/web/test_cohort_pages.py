"""The coach's cohort view and the cohorts' calendars in the browser."""

from __future__ import annotations

from datetime import timedelta

from tests.web.conftest import CANARY, csrf_post


def test_the_coach_sees_the_assigned_citys_projects_with_their_risks(world, as_persona):
    page = as_persona("coach").get("/cohort/").content.decode()
    assert "Faster pothole repair" in page and CANARY not in page
    # scoping ended in May of the cohort's year; the agreement expires in 30 days; the follow-up is due today
    assert "behind the calendar" in page and "agreement expiring" in page
    assert "blocked: 8 missing" in page
    assert 'aria-sort="descending"' in page  # risk flags first
    assert 'href="?sort=title"' in page and 'class="table-scroll"' in page
    assert f'href="/cohorts/{world.cohorts["a"].pk}/"' in page
    assert f"/cohorts/{world.cohorts['b'].pk}/" not in page
    assert "Add a cohort" not in page
    assert "Add a cohort" in as_persona("admin").get("/cohort/").content.decode()


def test_sorting_and_filtering_are_links_and_a_get_form(world, as_persona):
    client = as_persona("panalyst")
    by_title = client.get("/cohort/?sort=title").content.decode()
    assert 'aria-sort="ascending"' in by_title and 'href="?sort=-title"' in by_title
    filtered = client.get("/cohort/?city=springfield&at_risk=on&sort=-days").content.decode()
    assert "Faster pothole repair" in filtered and 'href="?city=springfield&amp;at_risk=on&amp;sort=days"' in filtered
    assert 'value="springfield" selected' in filtered and 'id="id_at_risk" checked' in filtered
    assert "No projects match." in client.get("/cohort/?phase=analysis").content.decode()
    bad = client.get("/cohort/?sort=salary")
    assert bad.status_code == 400 and "is not one of" in bad.content.decode()
    other_city = client.get("/cohort/?city=shelbyville")
    assert other_city.status_code == 400 and CANARY not in other_city.content.decode()


def test_city_people_are_refused_the_cohort_view(world, as_persona):
    for persona in ("leader", "analyst", "expert", "viewer"):
        assert as_persona(persona).get("/cohort/").status_code == 403


def test_the_calendar_is_for_the_cohorts_cities_and_the_admin_edits_it(world, as_persona):
    cohort = world.cohorts["a"]
    viewer = as_persona("viewer").get(f"/cohorts/{cohort.pk}/").content.decode()
    assert "Testing &amp; action" in viewer and "weekly" in viewer and "signed charter" in viewer
    assert "Charter signed" in viewer and "Edit" not in viewer
    assert as_persona("viewer").get(f"/cohorts/{world.cohorts['b'].pk}/").status_code == 404
    admin = as_persona("admin")
    url = f"/cohorts/{cohort.pk}/phases/analysis/"
    assert url in admin.get(f"/cohorts/{cohort.pk}/").content.decode()
    form = admin.get(url).content.decode()
    assert 'value="Analysis"' in form and 'type="date"' in form
    scoping, analysis = cohort.phases.get(key="scoping"), cohort.phases.get(key="analysis")
    overlap = csrf_post(admin, url, {"name": "Analysis", "starts_on": scoping.ends_on.isoformat(),
                                     "ends_on": analysis.ends_on.isoformat(), "cadence": "weekly"})  # fmt: skip
    assert overlap.status_code == 400 and 'id="id_starts_on_error"' in overlap.content.decode()
    saved = csrf_post(admin, url, {"name": "Analysis sprint", "starts_on": (analysis.starts_on + timedelta(days=5)).isoformat(),
                                   "ends_on": (analysis.ends_on - timedelta(days=4)).isoformat(), "cadence": "monthly"})  # fmt: skip
    assert saved.status_code == 302 and saved["Location"] == f"/cohorts/{cohort.pk}/"
    assert "Analysis sprint" in admin.get(saved["Location"]).content.decode()
    assert as_persona("coach").get(url).status_code == 403


def test_the_admin_adds_a_cohort_from_the_default_template(world, as_persona):
    from ridp.workspace.models import Cohort

    admin = as_persona("admin")
    assert "Close-out" in admin.get("/cohorts/new/").content.decode()
    made = csrf_post(admin, "/cohorts/new/", {"name": "Cohort 2027", "year": "2027"})
    cohort = Cohort.objects.get(name="Cohort 2027")
    assert made.status_code == 302 and made["Location"] == f"/cohorts/{cohort.pk}/"
    assert "2027-04-01" in admin.get(made["Location"]).content.decode()
    again = csrf_post(admin, "/cohorts/new/", {"name": "Cohort 2027", "year": "2028"})
    assert again.status_code == 400 and "exists already" in again.content.decode()
    assert csrf_post(as_persona("coach"), "/cohorts/new/", {"name": "Mine", "year": "2027"}).status_code == 403
