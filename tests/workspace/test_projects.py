"""Projects: the intake, the cohort a project joins, and city isolation."""

from __future__ import annotations

import pytest

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError

INTAKE = {
    "title": "Faster pothole repair",
    "problem": "Potholes wait weeks for repair.",
    "why_it_matters": "Residents trip; cars break.",
    "service_change": "Crews routed by risk, not by order of calls.",
}


def test_a_senior_leader_starts_a_project_in_the_citys_cohort_at_the_first_phase(people):
    from ridp.workspace.models import AuditEntry, CohortPhase
    from ridp.workspace.projects import get_project, list_projects, start_project

    project = start_project(people.sam, "springfield", **INTAKE)
    assert project.phase == "scoping"
    assert project.cohort.name.startswith("Cohort ")
    assert project.city.cohort_id == project.cohort_id  # the city joined the cohort made for it
    keys = list(CohortPhase.objects.filter(cohort=project.cohort).values_list("key", flat=True))
    assert keys == ["scoping", "analysis", "testing", "closeout"]
    assert project.phase_name == "Scoping"
    assert get_project(people.ana, "springfield", project.pk) == project
    assert [p.pk for p in list_projects(people.vera, "springfield")] == [project.pk]
    entry = AuditEntry.objects.filter(action="project.started").get()
    assert entry.object_id == str(project.pk) and entry.actor == people.sam


@pytest.mark.parametrize("who", ["ana", "vera"])
def test_only_senior_leaders_start_projects(people, who):
    from ridp.workspace.models import Project
    from ridp.workspace.projects import start_project

    with pytest.raises(PermissionDeniedError):
        start_project(getattr(people, who), "springfield", **INTAKE)
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("title", "  ", "is required"),
        ("problem", "", "is required"),
        ("why_it_matters", "x" * 5001, "longer than 5000"),
        ("service_change", "a\x00b", "NUL"),
    ],
)
def test_a_bad_intake_names_the_field_and_saves_nothing(people, field, value, reason):
    from ridp.workspace.models import Project
    from ridp.workspace.projects import start_project

    with pytest.raises(FieldError) as caught:
        start_project(people.sam, "springfield", **{**INTAKE, field: value})
    assert caught.value.field == field and reason in caught.value.reason
    assert not Project.objects.exists()


def test_another_citys_project_is_not_found_for_everyone_but_the_programme_admin(people):
    from ridp.workspace.projects import get_project, list_projects, start_project

    project = start_project(people.sam, "springfield", **INTAKE)
    with pytest.raises(NotFoundError):
        get_project(people.otto, "springfield", project.pk)  # not their city
    with pytest.raises(NotFoundError):
        get_project(people.otto, "shelbyville", project.pk)  # their city, not its project
    with pytest.raises(NotFoundError):
        list_projects(people.otto, "springfield")
    assert get_project(people.admin, "springfield", project.pk) == project


def test_the_intake_changes_only_what_differs_and_the_audit_names_the_fields(people):
    from ridp.workspace.models import AuditEntry
    from ridp.workspace.projects import start_project, update_intake

    project = start_project(people.sam, "springfield", **INTAKE)
    update_intake(people.ana, "springfield", project.pk, title="Safer streets", problem=INTAKE["problem"])
    project.refresh_from_db()
    assert project.title == "Safer streets"
    entry = AuditEntry.objects.filter(action="project.intake_changed").get()
    assert entry.detail == {"fields": "title"}  # names, never the texts
    update_intake(people.ana, "springfield", project.pk, title="Safer streets")  # nothing changed
    assert AuditEntry.objects.filter(action="project.intake_changed").count() == 1
    with pytest.raises(PermissionDeniedError):
        update_intake(people.vera, "springfield", project.pk, title="Viewer's title")
    with pytest.raises(FieldError) as caught:
        update_intake(people.ana, "springfield", project.pk, budget="1")
    assert caught.value.field == "budget"


def test_a_city_already_in_a_cohort_keeps_it(people):
    from ridp.workspace.cities import add_city
    from ridp.workspace.people import add_member
    from ridp.workspace.projects import start_project

    city = add_city(people.admin, "Capital City", cohort="Cohort 2027")
    leader = add_member(people.admin, "cleo", "senior_leader", city=city).user
    project = start_project(leader, "capital-city", **INTAKE)
    assert project.cohort.name == "Cohort 2027"
    assert project.cohort.phases.get(key="analysis").starts_on.isoformat() == "2027-05-15"
