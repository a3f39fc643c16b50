"""Projects in the browser: the list, starting one with the intake, its overview, editing the intake."""

from __future__ import annotations

from tests.web.conftest import CANARY, csrf_post

INTAKE = {
    "title": "Shorter waits for bulky-item pickup",
    "problem": "Residents wait three weeks for a bulky-item pickup.",
    "why_it_matters": "Items left on the kerb block pavements.",
    "service_change": "Pickups scheduled by area and day.",
}


def test_the_city_page_and_the_list_show_the_citys_projects_only(world, as_persona):
    client = as_persona("viewer")
    for url in ("/c/springfield/", "/c/springfield/projects/"):
        page = client.get(url).content.decode()
        assert "Faster pothole repair" in page
        assert CANARY not in page
    assert "Start a project" not in client.get("/c/springfield/projects/").content.decode()
    assert "Start a project" in as_persona("leader").get("/c/springfield/projects/").content.decode()


def test_a_senior_leader_starts_a_project_and_lands_on_its_overview(world, as_persona):
    from ridp.workspace.models import Project

    client = as_persona("leader")
    assert client.get("/c/springfield/projects/new/").status_code == 200
    response = csrf_post(client, "/c/springfield/projects/new/", INTAKE)
    project = Project.objects.get(title=INTAKE["title"])
    assert response.status_code == 302 and response["Location"] == f"/c/springfield/projects/{project.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert INTAKE["problem"] in page and "Scoping" in page
    assert project.city == world.springfield and project.phase == "scoping"


def test_a_bad_intake_is_sent_back_naming_the_field_and_nothing_is_saved(world, as_persona):
    from ridp.workspace.models import Project

    before = Project.objects.count()
    response = csrf_post(as_persona("leader"), "/c/springfield/projects/new/", {**INTAKE, "why_it_matters": ""})
    assert response.status_code == 400
    assert 'id="id_why_it_matters_error"' in response.content.decode()
    assert Project.objects.count() == before


def test_the_team_edits_the_intake(world, as_persona):
    project = world.projects["a"]
    client = as_persona("expert")
    url = f"/c/springfield/projects/{project.pk}/intake/"
    assert 'value="Faster pothole repair"' in client.get(url).content.decode()
    response = csrf_post(client, url, {**INTAKE, "title": "Pothole repair in days"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.title == "Pothole repair in days"
    assert csrf_post(as_persona("viewer"), url, INTAKE).status_code == 403


def test_the_overview_has_the_project_tabs(world, as_persona):
    page = as_persona("analyst").get(f"/c/springfield/projects/{world.projects['a'].pk}/").content.decode()
    assert 'aria-current="page"' in page and "Overview" in page
