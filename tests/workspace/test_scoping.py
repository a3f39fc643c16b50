"""Scoping: the five criteria with evidence, rater and date; value x complexity; the decision."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError

INTAKE = {
    "title": "Faster pothole repair",
    "problem": "Potholes wait weeks for repair.",
    "why_it_matters": "Residents trip; cars break.",
    "service_change": "Crews routed by risk, not by order of calls.",
}
KEYS = ["resident_impact", "appetite", "data_quality", "earlier_attempts", "fits_process"]


@pytest.fixture
def project(people):
    from ridp.workspace.projects import start_project

    return start_project(people.sam, "springfield", **INTAKE)


@pytest.fixture
def coach(people):
    from ridp.workspace.models import City
    from ridp.workspace.people import add_member

    return add_member(people.admin, "cora", "coach", city=City.objects.get(slug="springfield")).user


def _rate_all(actor, project, skip=()):
    from ridp.workspace.scoping import rate

    for key in KEYS:
        if key not in skip:
            rate(actor, "springfield", project.pk, key, 2, f"evidence for {key}")


def test_rating_keeps_every_rating_and_the_latest_is_current(people, project, coach):
    from ridp.workspace.models import AuditEntry
    from ridp.workspace.scoping import current_ratings, rate

    statuses = current_ratings(project)
    assert [s.key for s in statuses] == KEYS and [s.position for s in statuses] == [1, 2, 3, 4, 5]
    assert all(s.rating is None and s.history_count == 0 for s in statuses)
    first = rate(people.sam, "springfield", project.pk, "appetite", 1, "The council asked twice", date(2025, 3, 1))
    second = rate(coach, "springfield", project.pk, "appetite", 2, " The mayor named it in the budget ")
    appetite = current_ratings(project)[1]
    assert appetite.rating == second and appetite.history == (second, first) and appetite.history_count == 2
    assert second.rater == coach and second.rated_on == date.today() and second.evidence.startswith("The mayor")
    assert first.rated_on == date(2025, 3, 1) and first.rater == people.sam
    assert current_ratings(project)[0].rating is None
    entry = AuditEntry.objects.filter(action="scoping.rated").order_by("id").last()
    assert entry.detail == {"project": project.pk, "criterion": "appetite", "score": 2}


@pytest.mark.parametrize(
    ("criterion", "score", "evidence", "rated_on", "field", "reason"),
    [
        ("speed", 1, "e", None, "criterion", "must be one of"),
        ("appetite", 3, "e", None, "score", "must be 0"),
        ("appetite", -1, "e", None, "score", "must be 0"),
        ("appetite", True, "e", None, "score", "must be 0"),
        ("appetite", "2", "e", None, "score", "must be 0"),
        ("appetite", 1, "  ", None, "evidence", "required"),
        ("appetite", 1, "x" * 5001, None, "evidence", "longer than 5000"),
        ("appetite", 1, "a\x00b", None, "evidence", "NUL"),
        ("appetite", 1, "e", date.today() + timedelta(days=1), "rated_on", "in the future"),
    ],
)
def test_a_bad_rating_names_the_field_and_saves_nothing(
    people, project, criterion, score, evidence, rated_on, field, reason
):
    from ridp.workspace.models import CriterionRating
    from ridp.workspace.scoping import rate

    with pytest.raises(FieldError) as caught:
        rate(people.sam, "springfield", project.pk, criterion, score, evidence, rated_on)
    assert caught.value.field == field and reason in caught.value.reason
    assert not CriterionRating.objects.exists()


@pytest.mark.parametrize("who", ["ana", "vera"])
def test_analysts_and_viewers_do_not_rate(people, project, who):
    from ridp.workspace.models import CriterionRating
    from ridp.workspace.scoping import rate, set_value_complexity

    with pytest.raises(PermissionDeniedError):
        rate(getattr(people, who), "springfield", project.pk, "appetite", 1, "e")
    with pytest.raises(PermissionDeniedError):
        set_value_complexity(getattr(people, who), "springfield", project.pk, "high", "low")
    assert not CriterionRating.objects.exists()


def test_another_city_cannot_rate(people, project):
    from ridp.workspace.scoping import rate

    with pytest.raises(NotFoundError):
        rate(people.otto, "springfield", project.pk, "appetite", 1, "e")
    with pytest.raises(NotFoundError):
        rate(people.otto, "shelbyville", project.pk, "appetite", 1, "e")


def test_value_and_complexity(people, project):
    from ridp.workspace.models import AuditEntry, Project
    from ridp.workspace.scoping import set_value_complexity

    set_value_complexity(people.sam, "springfield", project.pk, "high", "low")
    project.refresh_from_db()
    assert (project.value, project.complexity) == ("high", "low")
    assert AuditEntry.objects.get(action="scoping.value_set").detail == {"value": "high", "complexity": "low"}
    for value, complexity, field in (("huge", "low", "value"), ("high", "", "complexity")):
        with pytest.raises(FieldError) as caught:
            set_value_complexity(people.sam, "springfield", project.pk, value, complexity)
        assert caught.value.field == field
    assert Project.objects.get(pk=project.pk).value == "high"


def test_deciding_is_refused_until_all_five_are_rated(people, project, coach):
    from ridp.workspace.models import Project
    from ridp.workspace.scoping import decide

    _rate_all(people.sam, project, skip=("data_quality", "fits_process"))
    with pytest.raises(FieldError) as caught:
        decide(coach, "springfield", project.pk, "accept", "")
    assert caught.value.field == "decision"
    assert "Sufficient quality data" in caught.value.reason and "fits an existing process" in caught.value.reason
    assert Project.objects.get(pk=project.pk).decision == ""


def test_accept_records_who_and_when(people, project, coach):
    from ridp.workspace.models import AuditEntry
    from ridp.workspace.scoping import decide

    _rate_all(people.sam, project)
    decided = decide(coach, "springfield", project.pk, "accept", "")
    decided.refresh_from_db()
    assert decided.decision == "accept" and decided.decided_by == coach and decided.decided_at is not None
    assert AuditEntry.objects.get(action="scoping.decided").detail == {"decision": "accept"}


def test_accept_with_risks_needs_the_risks(people, project, coach):
    from ridp.workspace.models import Project
    from ridp.workspace.scoping import decide

    _rate_all(people.sam, project)
    with pytest.raises(FieldError) as caught:
        decide(coach, "springfield", project.pk, "accept_with_risks", "  ")
    assert caught.value.field == "reason"
    assert Project.objects.get(pk=project.pk).decision == ""
    decide(coach, "springfield", project.pk, "accept_with_risks", "The repair log has gaps")
    assert Project.objects.get(pk=project.pk).decision_reason == "The repair log has gaps"


def test_off_ramp_needs_a_reason_and_the_other_help(people, project, coach):
    from ridp.workspace.models import Project
    from ridp.workspace.scoping import decide

    _rate_all(people.sam, project)
    for reason, other, field in (("", "A data clinic", "reason"), ("No appetite", "", "other_help")):
        with pytest.raises(FieldError) as caught:
            decide(coach, "springfield", project.pk, "off_ramp", reason, other)
        assert caught.value.field == field
    assert Project.objects.get(pk=project.pk).decision == ""
    decide(coach, "springfield", project.pk, "off_ramp", "No appetite", "A data clinic")
    p = Project.objects.get(pk=project.pk)
    assert (p.decision, p.decision_reason, p.other_help) == ("off_ramp", "No appetite", "A data clinic")


def test_other_help_only_with_an_off_ramp_and_unknown_decisions_refused(people, project, coach):
    from ridp.workspace.scoping import decide

    _rate_all(people.sam, project)
    with pytest.raises(FieldError) as caught:
        decide(coach, "springfield", project.pk, "accept", "", "A clinic")
    assert caught.value.field == "other_help"
    with pytest.raises(FieldError) as caught:
        decide(coach, "springfield", project.pk, "maybe", "x")
    assert caught.value.field == "decision"


@pytest.mark.parametrize("who", ["sam", "ana", "vera"])
def test_only_the_coach_or_an_admin_decides(people, project, who):
    from ridp.workspace.models import Project
    from ridp.workspace.scoping import decide

    _rate_all(people.sam, project)
    with pytest.raises(PermissionDeniedError):
        decide(getattr(people, who), "springfield", project.pk, "accept", "")
    decide(people.admin, "springfield", project.pk, "accept", "")
    assert Project.objects.get(pk=project.pk).decided_by == people.admin
