"""The charter: every field of PROGRAM.md §3, versions, what changed, sign-offs and when they stop holding."""

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
TODAY = date.today()


@pytest.fixture
def project(people):
    from ridp.workspace.projects import start_project

    return start_project(people.sam, "springfield", **INTAKE)


def _sign_all(people, project):
    from ridp.workspace import charter

    for kind, name in (("team", "Ana Analyst"), ("champion", "Pat Lee"), ("leadership", "Mayor Quimby")):
        charter.sign(people.sam, "springfield", project.pk, kind, name, "role of " + kind, TODAY)


# ---- signature_status -------------------------------------------------------------------------------------------


def test_no_charter_yet_is_not_signed(project):
    from ridp.workspace.charter import signature_status

    status = signature_status(project)
    assert status.signed is False and status.version is None
    assert status.missing == ["there is no charter yet"]


def test_signed_by_team_champion_and_leadership_then_an_edit_invalidates_naming_the_field(people, project):
    from ridp.workspace import charter

    charter.edit(people.sam, "springfield", project.pk, {"department": "Public Works"})
    status = charter.signature_status(project)
    assert status.signed is False and status.version == 1
    assert status.missing == [
        "the team has not signed version 1",
        "the champion has not signed version 1",
        "leadership has not signed version 1",
    ]
    _sign_all(people, project)
    status = charter.signature_status(project)
    assert status.signed is True and status.missing == [] and len(status.valid) == 3
    assert status.invalidated == ()

    charter.edit(people.ana, "springfield", project.pk, {"metric_target": "7 days"}, note="target")
    status = charter.signature_status(project)
    assert status.signed is False and status.version == 2 and status.valid == ()
    assert len(status.invalidated) == 3
    for item in status.invalidated:
        assert (item.signed_version, item.invalidated_by, item.changed) == (1, 2, ("metric_target",))
        assert item.changed_labels == ("Success metric: target",)
    assert "the champion has not signed version 2" in status.missing


def test_only_the_missing_kinds_are_listed(people, project):
    from ridp.workspace import charter

    charter.edit(people.sam, "springfield", project.pk, {})
    charter.sign(people.sam, "springfield", project.pk, "champion", "Pat Lee", "Director", TODAY)
    status = charter.signature_status(project)
    assert status.missing == ["the team has not signed version 1", "leadership has not signed version 1"]
    assert [s.kind for s in status.valid] == ["champion"]


def test_an_invalidated_sign_off_names_the_version_right_after_it(people, project):
    from ridp.workspace import charter

    charter.edit(people.sam, "springfield", project.pk, {})
    _sign_all(people, project)
    charter.edit(people.sam, "springfield", project.pk, {"goals": "Fewer days waiting"})
    charter.edit(people.sam, "springfield", project.pk, {"milestones": "June: first findings"})
    status = charter.signature_status(project)
    assert status.version == 3
    assert {(i.signed_version, i.invalidated_by, i.changed) for i in status.invalidated} == {(1, 2, ("goals",))}


# ---- edit -------------------------------------------------------------------------------------------------------


def test_the_fields_cover_program_section_3():
    from ridp.workspace.charter import CHARTER_FIELDS

    keys = [f.key for f in CHARTER_FIELDS]
    assert len(keys) == len(set(keys))
    for key in (
        "title", "department", "problem_statement", "affected", "why_now", "earlier_attempts", "stakeholders_inside",
        "stakeholders_outside", "goals", "trade_off", "constraint_budget", "constraint_people", "constraint_time",
        "constraint_legal", "existing_process", "actions_informed", "service_change", "data_sources",
        "analysis_type", "ethics_equity", "risks_dependencies", "success_metric", "metric_baseline",
        "metric_target", "deliverable", "maintainer", "milestones",
    ):  # fmt: skip
        assert key in keys
    by_key = {f.key: f for f in CHARTER_FIELDS}
    assert {k for k, _ in by_key["trade_off"].choices} == {"efficiency", "effectiveness", "equity"}
    assert {k for k, _ in by_key["analysis_type"].choices} == {
        "descriptive", "detection", "prediction", "behaviour_change",
    }  # fmt: skip


def test_the_first_version_starts_from_the_intake_and_an_unchanged_edit_makes_no_version(people, project):
    from ridp.workspace import charter
    from ridp.workspace.models import AuditEntry, CharterVersion

    first = charter.edit(people.sam, "springfield", project.pk, {"department": "Public Works"}, note="draft")
    assert first.number == 1 and first.note == "draft" and first.created_by == people.sam
    assert first.fields["title"] == INTAKE["title"]
    assert first.fields["problem_statement"] == INTAKE["problem"]
    assert first.fields["service_change"] == INTAKE["service_change"]
    assert first.fields["department"] == "Public Works" and first.fields["goals"] == ""
    same = charter.edit(people.ana, "springfield", project.pk, {"department": "  Public Works "})
    assert same.pk == first.pk and CharterVersion.objects.count() == 1
    second = charter.edit(people.ana, "springfield", project.pk, {"trade_off": "equity", "goals": "Fair repair"})
    assert second.number == 2 and charter.current(project) == second
    assert [v.number for v in charter.versions(people.vera, "springfield", project.pk)] == [2, 1]
    entry = AuditEntry.objects.filter(action="charter.edited").order_by("id").last()
    assert entry.detail["fields"] == "goals,trade_off" and entry.detail["number"] == 2
    assert "Fair repair" not in str(entry.detail)


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"nonsense": "x"}, "nonsense", "not a field"),
        ({"title": "  "}, "title", "needs a title"),
        ({"title": "x" * 301}, "title", "longer than 300"),
        ({"goals": "x" * 5001}, "goals", "longer than 5000"),
        ({"goals": "a\x00b"}, "goals", "NUL"),
        ({"department": "two\nlines"}, "department", "one line"),
        ({"trade_off": "speed"}, "trade_off", "must be one of"),
        ({"analysis_type": "magic"}, "analysis_type", "must be one of"),
        ({"goals": 5}, "goals", "must be text"),
    ],
)
def test_a_bad_edit_names_the_field_and_saves_nothing(people, project, fields, field, reason):
    from ridp.workspace import charter
    from ridp.workspace.models import CharterVersion

    with pytest.raises(FieldError) as caught:
        charter.edit(people.sam, "springfield", project.pk, fields)
    assert caught.value.field == field and reason in caught.value.reason
    assert not CharterVersion.objects.exists()


def test_a_long_note_is_refused(people, project):
    from ridp.workspace import charter

    with pytest.raises(FieldError) as caught:
        charter.edit(people.sam, "springfield", project.pk, {"goals": "x"}, note="n" * 301)
    assert caught.value.field == "note"


def test_viewers_and_other_cities_cannot_edit(people, project):
    from ridp.workspace import charter
    from ridp.workspace.models import AuditEntry, CharterVersion

    with pytest.raises(PermissionDeniedError):
        charter.edit(people.vera, "springfield", project.pk, {"goals": "x"})
    assert AuditEntry.objects.filter(action="permission.denied", detail__action_tried="project.edit").exists()
    with pytest.raises(NotFoundError):
        charter.edit(people.otto, "springfield", project.pk, {"goals": "x"})
    with pytest.raises(NotFoundError):
        charter.edit(people.otto, "shelbyville", project.pk, {"goals": "x"})
    assert not CharterVersion.objects.exists()


def test_get_version_is_scoped_to_the_project(people, project):
    from ridp.workspace import charter
    from ridp.workspace.projects import start_project

    v1 = charter.edit(people.sam, "springfield", project.pk, {})
    other = start_project(people.sam, "springfield", **{**INTAKE, "title": "Other"})
    assert charter.get_version(people.vera, "springfield", project.pk, v1.pk) == v1
    with pytest.raises(NotFoundError):
        charter.get_version(people.sam, "springfield", other.pk, v1.pk)
    with pytest.raises(NotFoundError):
        charter.get_version(people.otto, "shelbyville", project.pk, v1.pk)
    assert charter.version_by_number(people.vera, "springfield", project.pk, 1) == v1
    with pytest.raises(NotFoundError):
        charter.version_by_number(people.vera, "springfield", project.pk, 2)


# ---- diff -------------------------------------------------------------------------------------------------------


def test_diff_is_word_level_for_text_and_label_level_for_choices(people, project):
    from ridp.workspace import charter

    v1 = charter.edit(people.sam, "springfield", project.pk, {"goals": "Repair potholes within two weeks."})
    v2 = charter.edit(
        people.sam, "springfield", project.pk,
        {"goals": "Repair potholes within one week.", "analysis_type": "behaviour_change"},
    )  # fmt: skip
    changes = charter.diff(v1, v2)
    assert [c.key for c in changes] == ["goals", "analysis_type"]
    goals = changes[0]
    assert goals.label == "Goals" and goals.before.endswith("two weeks.") and goals.after.endswith("one week.")
    ops = [(s.op, s.text) for s in goals.segments]
    assert ("removed", "two weeks") in ops and ("added", "one week") in ops
    assert ops[0] == ("same", "Repair potholes within ")
    assert "".join(s.text for s in goals.segments if s.op != "added") == goals.before
    assert "".join(s.text for s in goals.segments if s.op != "removed") == goals.after
    assert [(s.op, s.text) for s in changes[1].segments] == [("added", "behaviour change")]
    assert charter.diff(v2, v2) == []
    assert {c.key for c in charter.diff(None, v1)} == {"title", "problem_statement", "service_change", "goals"}


# ---- sign -------------------------------------------------------------------------------------------------------


def test_sign_records_the_current_version_and_is_audited(people, project):
    from ridp.workspace import charter
    from ridp.workspace.models import AuditEntry

    charter.edit(people.sam, "springfield", project.pk, {})
    v2 = charter.edit(people.sam, "springfield", project.pk, {"goals": "x"})
    s = charter.sign(people.admin, "springfield", project.pk, "leadership", " Mayor Q ", "Mayor", TODAY)
    assert s.version == v2 and s.name == "Mayor Q" and s.recorded_by == people.admin
    entry = AuditEntry.objects.get(action="charter.signed")
    assert entry.detail == {"project": project.pk, "number": 2, "kind": "leadership"}


@pytest.mark.parametrize(
    ("kind", "name", "role", "signed_on", "field", "reason"),
    [
        ("mayor", "Pat", "Mayor", TODAY, "kind", "must be one of"),
        ("team", " ", "Analyst", TODAY, "name", "required"),
        ("team", "Pat", "", TODAY, "role", "required"),
        ("team", "P" * 201, "Analyst", TODAY, "name", "longer than 200"),
        ("team", "Pat", "Analyst", TODAY + timedelta(days=1), "signed_on", "in the future"),
    ],
)
def test_a_bad_sign_off_names_the_field_and_saves_nothing(people, project, kind, name, role, signed_on, field, reason):
    from ridp.workspace import charter
    from ridp.workspace.models import SignOff

    charter.edit(people.sam, "springfield", project.pk, {})
    with pytest.raises(FieldError) as caught:
        charter.sign(people.sam, "springfield", project.pk, kind, name, role, signed_on)
    assert caught.value.field == field and reason in caught.value.reason
    assert not SignOff.objects.exists()


def test_nothing_to_sign_before_the_first_version(people, project):
    from ridp.workspace import charter

    with pytest.raises(FieldError) as caught:
        charter.sign(people.sam, "springfield", project.pk, "team", "Pat", "Analyst", TODAY)
    assert caught.value.field == "version"


@pytest.mark.parametrize("who", ["ana", "vera"])
def test_only_senior_leaders_and_admins_sign(people, project, who):
    from ridp.workspace import charter
    from ridp.workspace.models import SignOff

    charter.edit(people.sam, "springfield", project.pk, {})
    with pytest.raises(PermissionDeniedError):
        charter.sign(getattr(people, who), "springfield", project.pk, "team", "Pat", "Analyst", TODAY)
    with pytest.raises(NotFoundError):
        charter.sign(people.otto, "springfield", project.pk, "team", "Pat", "Analyst", TODAY)
    assert not SignOff.objects.exists()
