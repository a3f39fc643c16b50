"""The project's team page: members, validity with each problem, adding and removing (PROGRAM.md §2)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tests.web.conftest import csrf_post


def _url(world: Any, name: str = "project_team", **extra: Any) -> str:
    return reverse(name, kwargs={"city": "springfield", "project_id": world.projects["a"].pk, **extra})


def _fill_team(world: Any) -> None:
    from ridp.workspace.models import ProjectMember

    for persona, role in (("leader", "senior_leader"), ("expert", "subject_matter_expert"), ("coach", "coach"),
                          ("panalyst", "programme_analyst")):  # fmt: skip
        ProjectMember.objects.create(project=world.projects["a"], user=world.users[persona], role=role)


def test_an_invalid_team_is_shown_as_such_with_each_problem(world, as_persona):
    page = as_persona("viewer").get(_url(world))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Team not valid" in text
    for problem in ("1 city members: a team has 3 to 5", "no senior leader on the team",
                    "no subject-matter expert on the team", "no coach assigned to the team",
                    "no programme analyst assigned to the team"):  # fmt: skip
        assert problem in text
    assert "analyst" in text and "Add someone to the team" not in text and "Remove" not in text


def test_a_valid_team_is_shown_as_valid(world, as_persona):
    _fill_team(world)
    text = as_persona("viewer").get(_url(world)).content.decode()
    assert "Team valid" in text and "Team not valid" not in text
    assert "3 city members with every required role" in text


def test_leader_adds_someone_in_a_role_they_hold(world, as_persona):
    from ridp.workspace.models import ProjectMember

    client = as_persona("leader")
    page = client.get(_url(world)).content.decode()
    assert "Add someone to the team" in page and 'value="expert"' in page and 'value="viewer"' not in page
    response = csrf_post(
        client, _url(world, "project_team_add"), {"username": "expert", "role": "subject_matter_expert"}
    )
    assert response.status_code == 302 and response["Location"] == _url(world)
    assert ProjectMember.objects.filter(project=world.projects["a"], user=world.users["expert"]).exists()
    assert "expert is on the team." in client.get(_url(world)).content.decode()


def test_a_role_the_person_does_not_hold_is_refused_beside_the_field(world, as_persona):
    from ridp.workspace.models import ProjectMember

    client = as_persona("leader")
    response = csrf_post(client, _url(world, "project_team_add"), {"username": "expert", "role": "data_analyst"})
    assert response.status_code == 400
    text = response.content.decode()
    assert 'id="id_username_error"' in text and "expert is not a data analyst of Springfield" in text
    assert ProjectMember.objects.filter(project=world.projects["a"]).count() == 1
    empty = csrf_post(client, _url(world, "project_team_add"), {"username": "", "role": "viewer"})
    assert empty.status_code == 400
    assert 'id="id_username_error"' in empty.content.decode() and 'id="id_role_error"' in empty.content.decode()


def test_leader_removes_a_place(world, as_persona):
    from ridp.workspace.models import AuditEntry, ProjectMember

    place = world.project_members["a"]
    client = as_persona("leader")
    assert "Remove" in client.get(_url(world)).content.decode()
    response = csrf_post(client, _url(world, "project_team_remove", member_id=place.pk))
    assert response.status_code == 302
    assert not ProjectMember.objects.filter(pk=place.pk).exists()
    assert AuditEntry.objects.filter(action="project.member_removed").count() == 1
    # another project's place is not found through this project
    other = world.project_members["b"]
    assert csrf_post(client, _url(world, "project_team_remove", member_id=other.pk)).status_code == 404


def test_a_member_whose_city_role_was_removed_shows_so(world, as_persona):
    from ridp.workspace.models import Membership

    Membership.objects.filter(user=world.users["analyst"], city=world.springfield).delete()
    text = as_persona("leader").get(_url(world)).content.decode()
    assert "no longer holds this role in the city" in text
    assert "analyst no longer holds their team role in the city and does not count" in text


def test_the_overview_shows_the_team_panel(world, as_persona):
    text = as_persona("viewer").get(reverse("project", kwargs={"city": "springfield",
                                                               "project_id": world.projects["a"].pk})).content.decode()  # fmt: skip
    assert "Team not valid" in text and "no coach assigned to the team" in text and "Open the team" in text
