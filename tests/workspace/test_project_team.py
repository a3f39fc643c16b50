"""A project's team: who may join it, in which role, and when it is valid (PROGRAM.md §2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError


@dataclass
class Team:
    admin: Any
    city: Any
    other: Any
    project: Any
    users: dict[str, Any]


@pytest.fixture
def team(people: Any) -> Team:
    return make_team(people)


def make_team(people: Any) -> Team:
    """Springfield's people of every team role (and two of Shelbyville's), and a project in Springfield."""
    from ridp.workspace.models import City
    from ridp.workspace.people import add_member
    from ridp.workspace.projects import start_project

    spring, shelby = City.objects.get(slug="springfield"), City.objects.get(slug="shelbyville")
    users = {"ana": people.ana, "sam": people.sam, "vera": people.vera, "otto": people.otto}
    users["eve"] = add_member(people.admin, "eve", "subject_matter_expert", city=spring).user
    users["dan"] = add_member(people.admin, "dan", "data_analyst", city=spring).user
    users["dora"] = add_member(people.admin, "dora", "data_analyst", city=spring).user
    users["lee"] = add_member(people.admin, "lee", "senior_leader", city=spring).user
    users["cora"] = add_member(people.admin, "cora", "coach", city=spring).user
    users["pia"] = add_member(people.admin, "pia", "programme_analyst", city=spring).user
    users["cole"] = add_member(people.admin, "cole", "coach", city=shelby).user
    users["sid"] = add_member(people.admin, "sid", "senior_leader", city=shelby).user
    project = start_project(
        people.sam, "springfield", title="Faster pothole repair", problem="Potholes wait weeks",
        why_it_matters="Residents trip", service_change="Crews routed by risk",
    )  # fmt: skip
    return Team(people.admin, spring, shelby, project, users)


def _add(t: Team, *places: tuple[str, str]) -> None:
    from ridp.workspace.project_team import add_member

    for username, role in places:
        add_member(t.users["sam"], "springfield", t.project.pk, username, role)


VALID = (
    ("sam", "senior_leader"),
    ("ana", "data_analyst"),
    ("eve", "subject_matter_expert"),
    ("cora", "coach"),
    ("pia", "programme_analyst"),
)


def test_a_full_team_is_valid(team: Team) -> None:
    from ridp.workspace.project_team import team_problems

    _add(team, *VALID)
    assert team_problems(team.project) == []


def test_an_empty_team_lists_every_problem(team: Team) -> None:
    from ridp.workspace.project_team import team_problems

    assert team_problems(team.project) == [
        "0 city members: a team has 3 to 5",
        "no senior leader on the team",
        "no data analyst on the team",
        "no subject-matter expert on the team",
        "no coach assigned to the team",
        "no programme analyst assigned to the team",
    ]


@pytest.mark.parametrize("left_out", [role for _, role in VALID])
def test_each_required_role_is_required(team: Team, left_out: str) -> None:
    from ridp.workspace.project_team import team_problems

    _add(team, *(place for place in VALID if place[1] != left_out))
    if left_out in ("senior_leader", "data_analyst", "subject_matter_expert"):
        _add(team, ("dan", "data_analyst"))  # still three city people
    label = {
        "senior_leader": "no senior leader on the team",
        "data_analyst": None,  # dan is a data analyst too
        "subject_matter_expert": "no subject-matter expert on the team",
        "coach": "no coach assigned to the team",
        "programme_analyst": "no programme analyst assigned to the team",
    }[left_out]
    assert team_problems(team.project) == ([label] if label else [])


def test_distinct_people_count_not_places(team: Team) -> None:
    """Two roles of one person are one city member: sam as leader and as expert leaves two people."""
    from ridp.workspace.people import add_member as grant
    from ridp.workspace.project_team import team_problems

    grant(team.admin, "sam", "subject_matter_expert", city=team.city)
    _add(team, ("sam", "senior_leader"), ("sam", "subject_matter_expert"), ("ana", "data_analyst"))
    _add(team, ("cora", "coach"), ("pia", "programme_analyst"))
    assert team_problems(team.project) == ["2 city members: a team has 3 to 5"]


def test_six_city_members_are_too_many(team: Team) -> None:
    from ridp.workspace.project_team import team_problems

    _add(team, *VALID, ("dan", "data_analyst"), ("dora", "data_analyst"), ("lee", "senior_leader"))
    assert len({p for p, r in VALID if r not in ("coach", "programme_analyst")} | {"dan", "dora", "lee"}) == 6
    assert team_problems(team.project) == ["6 city members: a team has 3 to 5"]


def test_a_member_whose_city_role_was_removed_no_longer_counts(team: Team) -> None:
    from ridp.workspace.models import Membership
    from ridp.workspace.project_team import members, team_problems

    _add(team, *VALID)
    Membership.objects.filter(user=team.users["eve"], city=team.city).delete()
    problems = team_problems(team.project)
    assert problems == [
        "eve no longer holds their team role in the city and does not count",
        "2 city members: a team has 3 to 5",
        "no subject-matter expert on the team",
    ]
    shown = {m.username: m.counts for m in members(team.users["sam"], "springfield", team.project.pk)}
    assert shown["eve"] is False and shown["ana"] is True


def test_a_disabled_person_no_longer_counts(team: Team) -> None:
    from ridp.workspace.project_team import team_problems

    _add(team, *VALID)
    team.users["cora"].is_active = False
    team.users["cora"].save()
    assert "no coach assigned to the team" in team_problems(team.project)


def test_team_problems_reads_the_store_a_few_times(team: Team, django_assert_max_num_queries: Any) -> None:
    from ridp.workspace.project_team import team_problems

    _add(team, *VALID)
    with django_assert_max_num_queries(2):
        team_problems(team.project)


# --- adding and removing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "role", "why"),
    [
        ("vera", "viewer", "is not a team role"),  # viewers are never on a team
        ("vera", "data_analyst", "vera is not a data analyst of Springfield"),
        ("otto", "data_analyst", "otto is not a data analyst of Springfield"),  # another city's analyst
        ("cole", "coach", "cole is not a coach of Springfield"),  # a coach assigned elsewhere
        ("nobody", "data_analyst", "nobody is not a data analyst of Springfield"),
        ("", "data_analyst", "name the person"),
        ("admin", "senior_leader", "admin is not a senior leader of Springfield"),
    ],
)
def test_add_refuses_people_without_that_role_in_the_city(team: Team, username: str, role: str, why: str) -> None:
    from ridp.workspace.models import ProjectMember
    from ridp.workspace.project_team import add_member

    with pytest.raises(FieldError) as caught:
        add_member(team.users["sam"], "springfield", team.project.pk, username, role)
    assert caught.value.field == ("role" if role == "viewer" else "username")
    assert why in str(caught.value)
    assert not ProjectMember.objects.filter(project=team.project).exists()


def test_add_twice_is_refused(team: Team) -> None:
    from ridp.workspace.project_team import add_member

    _add(team, ("ana", "data_analyst"))
    with pytest.raises(FieldError, match="already"):
        add_member(team.users["sam"], "springfield", team.project.pk, "ana", "data_analyst")


@pytest.mark.parametrize("who", ["ana", "vera", "cora", "pia"])
def test_only_senior_leaders_and_admins_choose_the_team(team: Team, who: str) -> None:
    from ridp.workspace.models import AuditEntry, ProjectMember
    from ridp.workspace.project_team import add_member

    with pytest.raises(PermissionDeniedError):
        add_member(team.users[who], "springfield", team.project.pk, "ana", "data_analyst")
    assert not ProjectMember.objects.exists()
    assert AuditEntry.objects.filter(action="permission.denied", actor=team.users[who]).exists()


def test_admin_adds_and_audit_names_no_person(team: Team) -> None:
    from ridp.workspace.models import AuditEntry
    from ridp.workspace.project_team import add_member

    member = add_member(team.admin, "springfield", team.project.pk, "ana", "data_analyst")
    entry = AuditEntry.objects.get(action="project.member_added")
    assert entry.detail == {"member": member.pk, "role": "data_analyst"}


def test_another_citys_leader_cannot_see_the_project(team: Team) -> None:
    from ridp.workspace.project_team import add_member, members

    with pytest.raises(NotFoundError):
        add_member(team.users["sid"], "springfield", team.project.pk, "sid", "senior_leader")
    with pytest.raises(NotFoundError):
        members(team.users["otto"], "springfield", team.project.pk)
    with pytest.raises(NotFoundError):
        add_member(team.users["sid"], "shelbyville", team.project.pk, "sid", "senior_leader")


def test_remove(team: Team) -> None:
    from ridp.workspace.models import AuditEntry, ProjectMember
    from ridp.workspace.project_team import members, remove_member

    _add(team, *VALID)
    place = ProjectMember.objects.get(project=team.project, user=team.users["ana"])
    with pytest.raises(PermissionDeniedError):
        remove_member(team.users["ana"], "springfield", team.project.pk, place.pk)
    remove_member(team.users["sam"], "springfield", team.project.pk, place.pk)
    assert "ana" not in {m.username for m in members(team.users["ana"], "springfield", team.project.pk)}
    assert AuditEntry.objects.filter(action="project.member_removed").count() == 1
    with pytest.raises(NotFoundError):
        remove_member(team.users["sam"], "springfield", team.project.pk, place.pk)
