"""Cohorts and their calendars (PROGRAM.md §1): the default template, who sees a cohort, editing a phase."""

from __future__ import annotations

from datetime import date

import pytest

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError


def test_the_default_template_is_the_seed_calendar():
    from ridp.workspace import cohorts

    d = cohorts.defaults()
    assert [p.key for p in d.phases] == ["scoping", "analysis", "testing", "closeout"]
    assert [p.cadence for p in d.phases] == ["as_needed", "weekly", "monthly", "none"]
    assert [c.key for c in cohorts.criteria()] == [
        "resident_impact", "appetite", "data_quality", "earlier_attempts", "fits_process",
    ]  # fmt: skip
    assert cohorts.gate_conditions("closeout") == ()


def test_a_new_cohort_copies_the_template_into_its_year(people):
    from ridp.workspace import cohorts
    from ridp.workspace.models import AuditEntry

    cohort = cohorts.create_cohort(people.admin, "  Cohort 2027 ", year=2027)
    assert cohort.name == "Cohort 2027"
    got = [(p.key, p.starts_on, p.ends_on, p.cadence, p.position) for p in cohorts.phases(cohort)]
    assert got == [
        ("scoping", date(2027, 4, 1), date(2027, 5, 14), "as_needed", 0),
        ("analysis", date(2027, 5, 15), date(2027, 8, 14), "weekly", 1),
        ("testing", date(2027, 8, 15), date(2027, 11, 30), "monthly", 2),
        ("closeout", date(2027, 12, 1), date(2027, 12, 31), "none", 3),
    ]
    assert cohorts.next_phase(cohort, "analysis").key == "testing"  # type: ignore[union-attr]
    assert cohorts.next_phase(cohort, "closeout") is None
    assert cohorts.phase_of(cohort, "testing").name == "Testing & action"
    with pytest.raises(NotFoundError):
        cohorts.phase_of(cohort, "nope")
    assert AuditEntry.objects.filter(action="cohort.added", detail__year=2027).count() == 1


@pytest.mark.parametrize(
    ("name", "year", "field"),
    [(" ", 2027, "name"), ("x" * 201, 2027, "name"), ("a\x00b", 2027, "name"), ("Old", 1999, "year")],
)
def test_a_new_cohort_needs_a_name_and_a_year(people, name, year, field):
    from ridp.workspace import cohorts

    with pytest.raises(FieldError) as caught:
        cohorts.create_cohort(people.admin, name, year=year)
    assert caught.value.field == field


def test_cohort_names_are_unique_and_only_the_programme_admin_adds_one(people):
    from ridp.workspace import cohorts
    from ridp.workspace.models import AuditEntry

    cohorts.create_cohort(people.admin, "Cohort 2027", year=2027)
    with pytest.raises(FieldError, match="exists already"):
        cohorts.create_cohort(people.admin, "Cohort 2027", year=2028)
    with pytest.raises(PermissionDeniedError):
        cohorts.create_cohort(people.sam, "Mine", year=2027)
    assert AuditEntry.objects.filter(action="permission.denied", detail__action_tried="cohort.add").exists()


def test_a_city_joins_this_years_cohort(people):
    from django.utils import timezone as django_timezone

    from ridp.workspace import cohorts
    from ridp.workspace.models import City

    spring = City.objects.get(slug="springfield")
    cohort = cohorts.cohort_for_city(spring)
    assert cohort.year == django_timezone.localdate().year and len(cohorts.phases(cohort)) == 4
    shelby = City.objects.get(slug="shelbyville")
    assert cohorts.cohort_for_city(shelby) == cohort  # the same, not a second one
    spring.refresh_from_db()
    assert spring.cohort_id == cohort.pk


def test_who_sees_a_cohort(people):
    from ridp.workspace import cohorts
    from ridp.workspace.models import City

    spring, shelby = City.objects.get(slug="springfield"), City.objects.get(slug="shelbyville")
    ours = cohorts.create_cohort(people.admin, "Ours", year=2026)
    theirs = cohorts.create_cohort(people.admin, "Theirs", year=2027)
    City.objects.filter(pk=spring.pk).update(cohort=ours)
    City.objects.filter(pk=shelby.pk).update(cohort=theirs)
    assert cohorts.get_cohort(people.vera, ours.pk) == ours
    with pytest.raises(NotFoundError):
        cohorts.get_cohort(people.vera, theirs.pk)
    with pytest.raises(NotFoundError):
        cohorts.get_cohort(people.vera, 987_654)
    assert cohorts.get_cohort(people.admin, theirs.pk) == theirs
    assert cohorts.list_cohorts(people.vera) == [ours]
    assert cohorts.list_cohorts(people.otto) == [theirs]
    assert cohorts.list_cohorts(people.admin) == [theirs, ours]  # newest year first


def test_the_programme_admin_edits_a_phase(people):
    from ridp.workspace import cohorts
    from ridp.workspace.models import AuditEntry

    cohort = cohorts.create_cohort(people.admin, "Cohort 2027", year=2027)
    phase = cohorts.edit_phase(
        people.admin, cohort.pk, "analysis", name=" Analysis (long) ", starts_on=date(2027, 5, 20),
        ends_on=date(2027, 8, 10), cadence="monthly",
    )  # fmt: skip
    assert (phase.name, phase.starts_on, phase.ends_on, phase.cadence) == (
        "Analysis (long)", date(2027, 5, 20), date(2027, 8, 10), "monthly",
    )  # fmt: skip
    entry = AuditEntry.objects.filter(action="cohort.phase_changed").get()
    assert entry.detail == {"phase": "analysis", "changed": "name,starts_on,ends_on,cadence"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"starts_on": date(2027, 5, 14)}, "starts_on"),  # not after scoping's end
        ({"ends_on": date(2027, 8, 15)}, "ends_on"),  # not before testing's start
        ({"starts_on": date(2027, 6, 1), "ends_on": date(2027, 5, 31)}, "ends_on"),
        ({"cadence": "daily"}, "cadence"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_a_phase_edit_keeps_the_calendar_in_order(people, changes, field):
    from ridp.workspace import cohorts

    cohort = cohorts.create_cohort(people.admin, "Cohort 2027", year=2027)
    with pytest.raises(FieldError) as caught:
        cohorts.edit_phase(people.admin, cohort.pk, "analysis", **changes)
    assert caught.value.field == field
    assert cohorts.phase_of(cohort, "analysis").starts_on == date(2027, 5, 15)


def test_only_the_programme_admin_edits_and_others_cohorts_are_not_found(people):
    from ridp.workspace import cohorts
    from ridp.workspace.models import City

    cohort = cohorts.create_cohort(people.admin, "Cohort 2027", year=2027)
    City.objects.filter(slug="springfield").update(cohort=cohort)
    with pytest.raises(PermissionDeniedError):
        cohorts.edit_phase(people.sam, cohort.pk, "analysis", cadence="monthly")
    with pytest.raises(NotFoundError):
        cohorts.edit_phase(people.otto, cohort.pk, "analysis", cadence="monthly")
    with pytest.raises(NotFoundError):
        cohorts.edit_phase(people.admin, cohort.pk, "no-such-phase", cadence="monthly")
