"""A project's metric specs: saved as versions only when they change, audited, read by anyone who sees the
project, changed by its team; one of them the project's success metric (PROGRAM.md §6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError, SpecError
from tests.workspace.test_project_team import Team, make_team

SPEC = """\
# How long a pothole waits
name: pothole_days
formula: median(days_to_close) where type == "Pothole"
unit: days
direction: lower_is_better
baseline: {value: 6.5, start: 2024-01-01, end: 2024-12-31}
target: {value: 4, category: accuracy, by: 2026-12-31}
disaggregation: [geography]
source: service_requests
refresh: weekly
owner: Director of Public Works
"""


@pytest.fixture
def team(people: Any) -> Team:
    from ridp.workspace.models import Dataset

    t = make_team(people)
    Dataset.objects.create(city=t.city, name="service_requests", created_by=t.admin)
    return t


def _save(t: Team, who: str, text: str = SPEC) -> Any:
    from ridp.workspace.metric_specs import save_specs

    return save_specs(t.users[who], "springfield", t.project.pk, text)


def test_analyst_adds_a_spec_as_version_1_with_its_hash_text_and_an_audit_entry(team: Team) -> None:
    from ridp.metrics import load_metric
    from ridp.workspace.models import AuditEntry

    [saved] = _save(team, "ana")
    v = saved.version
    assert saved.created and (v.name, v.number) == ("pothole_days", 1)
    assert v.spec_hash == load_metric(SPEC).spec_hash() and v.yaml == SPEC
    assert v.spec["formula"] == 'median(days_to_close) where type == "Pothole"'
    entry = AuditEntry.objects.get(action="metric.spec_saved")
    assert entry.actor_name == "ana" and entry.detail == {"name": "pothole_days", "number": 1, "spec_hash": v.spec_hash}


def test_saving_the_same_spec_again_makes_no_new_version_even_with_new_comments(team: Team) -> None:
    from ridp.workspace.models import AuditEntry, MetricSpecVersion

    _save(team, "ana")
    [again] = _save(team, "eve", "# reworded comment\n" + SPEC.replace('"Pothole"', "'Pothole'"))
    assert not again.created and again.version.number == 1
    assert MetricSpecVersion.objects.count() == 1
    assert AuditEntry.objects.filter(action="metric.spec_saved").count() == 1


def test_a_changed_spec_is_a_new_version_and_the_old_one_stays(team: Team) -> None:
    from ridp.workspace.metric_specs import get_spec, list_specs, spec_history, spec_of

    first = _save(team, "ana")[0].version
    [second] = _save(team, "sam", SPEC.replace("value: 4,", "value: 3,"))
    assert second.created and second.version.number == 2 and second.version.spec_hash != first.spec_hash
    viewer = team.users["vera"]
    assert [v.number for v in spec_history(viewer, "springfield", team.project.pk, "pothole_days")] == [2, 1]
    assert get_spec(viewer, "springfield", team.project.pk, "pothole_days").number == 2
    assert spec_of(get_spec(viewer, "springfield", team.project.pk, "pothole_days", 1)).target.value == 4.0
    assert [v.number for v in list_specs(viewer, "springfield", team.project.pk)] == [2]


def test_several_specs_in_one_file_each_keep_their_own_text(team: Team, tmp_path: Path) -> None:
    from ridp.workspace.metric_specs import list_specs, save_specs

    other = SPEC.replace("pothole_days", "pothole_volume").replace("median(days_to_close)", "count()")
    path = tmp_path / "metrics.yaml"
    path.write_text(SPEC + "---\n" + other)
    saved = save_specs(team.users["ana"], "springfield", team.project.pk, path)
    assert [s.version.name for s in saved] == ["pothole_days", "pothole_volume"]
    assert "count()" in saved[1].version.yaml and "count()" not in saved[0].version.yaml
    assert [v.name for v in list_specs(team.users["vera"], "springfield", team.project.pk)] == [
        "pothole_days",
        "pothole_volume",
    ]


def test_a_bad_spec_saves_nothing_and_names_the_file_line_and_field(team: Team, tmp_path: Path) -> None:
    from ridp.workspace.metric_specs import save_specs
    from ridp.workspace.models import MetricSpecVersion

    path = tmp_path / "metrics.yaml"
    path.write_text(SPEC + "---\n" + SPEC.replace("pothole_days", "second").replace("days_to_close)", "dayz)"))
    with pytest.raises(SpecError) as caught:
        save_specs(team.users["ana"], "springfield", team.project.pk, path)
    assert (caught.value.field, caught.value.line) == ("formula", 15)
    assert str(caught.value).startswith("metrics.yaml, line 15, field \"formula\": column 8: unknown field 'dayz'")
    assert not MetricSpecVersion.objects.exists()


def test_the_source_must_be_a_dataset_of_the_city(team: Team) -> None:
    with pytest.raises(SpecError) as caught:
        _save(team, "ana", SPEC.replace("source: service_requests", "source: shelbyville_requests"))
    assert (caught.value.field, caught.value.line) == ("source", 9)
    assert "Springfield has no dataset named 'shelbyville_requests'" in str(caught.value)


def test_viewer_cannot_add_a_spec_and_the_refusal_is_audited(team: Team) -> None:
    from ridp.workspace.models import AuditEntry, MetricSpecVersion

    with pytest.raises(PermissionDeniedError, match="define its metrics"):
        _save(team, "vera")
    assert not MetricSpecVersion.objects.exists()
    assert AuditEntry.objects.filter(action="permission.denied", detail__action_tried="metric.edit").exists()


def test_the_permission_is_checked_before_the_yaml_is_read(team: Team) -> None:
    with pytest.raises(PermissionDeniedError):
        _save(team, "vera", "not: [valid")


def test_another_citys_people_do_not_find_the_project(team: Team) -> None:
    from ridp.workspace.metric_specs import list_specs

    _save(team, "ana")
    with pytest.raises(NotFoundError):
        list_specs(team.users["otto"], "springfield", team.project.pk)
    with pytest.raises(NotFoundError):
        _save(team, "cole")


def test_a_missing_spec_or_version_is_not_found(team: Team) -> None:
    from ridp.workspace.metric_specs import get_spec, spec_history

    _save(team, "ana")
    with pytest.raises(NotFoundError, match="version 7"):
        get_spec(team.users["vera"], "springfield", team.project.pk, "pothole_days", 7)
    with pytest.raises(NotFoundError):
        spec_history(team.users["vera"], "springfield", team.project.pk, "nothing")


def test_success_metric_is_set_to_an_existing_spec_and_unset(team: Team) -> None:
    from ridp.workspace.metric_specs import set_success_metric, success_metric
    from ridp.workspace.models import AuditEntry

    _save(team, "ana")
    with pytest.raises(FieldError) as caught:
        set_success_metric(team.users["cora"], "springfield", team.project.pk, "no_such_metric")
    assert caught.value.field == "name"
    project = set_success_metric(team.users["cora"], "springfield", team.project.pk, "pothole_days")
    assert project.success_metric_name == "pothole_days"
    _save(team, "ana", SPEC.replace("value: 4,", "value: 3,"))
    current = success_metric(project)
    assert current is not None and current.number == 2  # the latest version counts
    set_success_metric(team.users["pia"], "springfield", team.project.pk, None)
    project.refresh_from_db()
    assert project.success_metric_name == "" and success_metric(project) is None
    actions = list(AuditEntry.objects.filter(action__startswith="metric.success").values_list("action", flat=True))
    assert actions == ["metric.success_set", "metric.success_unset"]


def test_viewer_cannot_choose_the_success_metric(team: Team) -> None:
    from ridp.workspace.metric_specs import set_success_metric

    _save(team, "ana")
    with pytest.raises(PermissionDeniedError):
        set_success_metric(team.users["vera"], "springfield", team.project.pk, "pothole_days")
