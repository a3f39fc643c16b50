"""Data readiness in the store: runs saved and answered again, judged against the project's metric specs,
personal columns masked in what is saved, the gate condition and criterion 3 of scoping filled from it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ridp.errors import NotFoundError, PermissionDeniedError
from ridp.readiness import CheckSpecError
from tests.workspace.test_project_team import Team, make_team

SPEC = """\
name: trash_days
formula: median(days_to_close) where type == "Missed Trash Pickup"
unit: days
direction: lower_is_better
baseline: {value: 2.5, start: 2023-01-01, end: 2023-12-31}
target: {value: 2, category: accuracy}
source: service_requests
refresh: weekly
owner: Director of Sanitation
"""
TODAY = date(2025, 1, 15)


@pytest.fixture(scope="module")
def city_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ridp.demo import generate_city

    return generate_city(tmp_path_factory.mktemp("demo"), rows=4_000, seed=11).requests_csv


@pytest.fixture
def team(people: Any, city_files: Path) -> Team:
    from ridp.workspace.datasets import add_file
    from ridp.workspace.mapping import map_dataset

    t = make_team(people)
    add_file(people.ana, city_files, city="springfield", name="service_requests")
    map_dataset(people.ana, "springfield", "service_requests", accept=True)
    return t


def _spec(t: Team, text: str = SPEC) -> None:
    from ridp.workspace.metric_specs import save_specs

    save_specs(t.users["ana"], "springfield", t.project.pk, text)


def test_a_run_is_saved_with_its_inputs_and_the_same_question_is_answered_from_it(team: Team) -> None:
    from ridp.workspace.models import AuditEntry, ReadinessRun
    from ridp.workspace.readiness import assess_now

    _spec(team)
    run, result = assess_now(team.users["ana"], "springfield", "service_requests", today=TODAY)
    assert run.status == "done" and run.dataset_version.number == 1 and len(run.checks_hash) == 64
    assert result.rows == 4_000 and result.needs["metrics"] == ["trash_days"]
    assert set(result.needs["fields"]) == {"type", "opened", "closed"} and result.needs["start"] == "2023-01-01"
    assert "unique: service_request_id" in [c.name for c in result.checks]
    from ridp.workspace.models import MetricSpecVersion

    spec = MetricSpecVersion.objects.get(name="trash_days")
    assert run.needs["specs"] == {f"{team.project.pk}:trash_days": spec.spec_hash}  # the spec version it was judged for
    again, same = assess_now(team.users["dan"], "springfield", "service_requests", today=TODAY)
    assert again.pk == run.pk and same.to_dict() == result.to_dict()
    assert ReadinessRun.objects.count() == 1
    assert AuditEntry.objects.filter(action="readiness.done").count() == 1


def test_other_checks_or_changed_metrics_are_a_new_question(team: Team) -> None:
    from ridp.workspace.models import ReadinessRun
    from ridp.workspace.readiness import assess_now

    first, _ = assess_now(team.users["ana"], "springfield", "service_requests", today=TODAY)
    checks = "checks:\n  - not_null: address\n"
    second, result = assess_now(team.users["ana"], "springfield", "service_requests", checks_text=checks, today=TODAY)
    assert second.pk != first.pk and [c.name for c in result.checks] == ["not null: address"]
    assert result.check("not null: address").failing > 0  # the demo plants blanks and 'N/A' in addresses
    _spec(team)
    third, _ = assess_now(team.users["ana"], "springfield", "service_requests", today=TODAY)
    assert third.pk not in (first.pk, second.pk) and ReadinessRun.objects.count() == 3


def test_viewers_read_saved_results_but_cannot_run(team: Team) -> None:
    from ridp.workspace.models import Dataset
    from ridp.workspace.readiness import assess_now, latest_run, request

    with pytest.raises(PermissionDeniedError):
        request(team.users["vera"], "springfield", "service_requests", enqueue=lambda run_id: "")
    with pytest.raises(NotFoundError):  # another city's people do not learn that it exists
        request(team.users["otto"], "springfield", "service_requests", enqueue=lambda run_id: "")
    run, _ = assess_now(team.users["ana"], "springfield", "service_requests", today=TODAY)
    assert latest_run(Dataset.objects.get(name="service_requests")) == run


def test_personal_columns_are_masked_in_the_saved_result_whoever_ran_it(team: Team, city_files: Path) -> None:
    import pandas as pd

    from ridp.workspace.classify import classify_dataset
    from ridp.workspace.readiness import assess_now

    classify_dataset(team.admin, "springfield", "service_requests", set_columns={"address": "personal"})
    checks = "checks:\n  - not_null: address\n  - pattern: {column: address, regex: '^[0-9]+ '}\n"
    run, result = assess_now(team.admin, "springfield", "service_requests", checks_text=checks, today=TODAY)
    saved = str(run.result)
    assert not result.check("not null: address").sample.empty  # masked for everyone without an agreement
    for check in result.checks:
        if not check.sample.empty:
            assert set(check.sample["address"].dropna()) <= {"•••"}
    address = result.column("address")
    assert address.masked and address.top == () and address.patterns == () and address.min is None
    addresses = pd.read_csv(city_files, dtype=str, keep_default_na=False)["address"]
    real = {a.strip() for a in addresses if len(a.strip()) > 5}
    assert len(real) > 1_000 and not [a for a in real if a in saved]


def test_checks_declared_for_a_dataset_are_checked_against_its_columns_first(team: Team) -> None:
    from ridp.workspace.models import DatasetChecks
    from ridp.workspace.readiness import assess_now, set_checks

    with pytest.raises(CheckSpecError, match=r"line 3, range.column: unknown column 'lat'"):
        set_checks(
            team.users["ana"],
            "springfield",
            "service_requests",
            "checks:\n  - not_null: status\n  - range: {column: lat, min: 0}\n",
        )
    assert not DatasetChecks.objects.exists()
    with pytest.raises(PermissionDeniedError):
        set_checks(team.users["vera"], "springfield", "service_requests", "checks:\n  - not_null: status\n")
    set_checks(team.users["ana"], "springfield", "service_requests", "checks:\n  - not_null: status\n")
    _, result = assess_now(team.users["ana"], "springfield", "service_requests", today=TODAY)
    assert [c.name for c in result.checks] == ["not null: status"] and result.checks[0].passed


def test_the_gate_condition_follows_the_metric_specs_and_the_verdict(team: Team) -> None:
    from ridp.workspace.gates import REGISTRY
    from ridp.workspace.readiness import assess_now

    check = REGISTRY["readiness_not_insufficient"].check
    assert check(team.project).missing == [
        "add the project's metric specs: readiness is judged against the datasets they read"
    ]
    _spec(team)
    assert check(team.project).missing == ["service_requests: run data readiness on version 1"]
    _, result = assess_now(team.users["ana"], "springfield", "service_requests", today=TODAY)
    assert result.verdict.level != "insufficient"
    assert check(team.project).met and check(team.project).available
    # A metric needing a period the data does not have: the verdict is insufficient, and the gate says why.
    _spec(team, SPEC.replace("start: 2023-01-01, end: 2023-12-31", "start: 2010-01-01, end: 2014-12-31"))
    assert check(team.project).missing == [
        "service_requests: the metrics or the mapping changed since readiness ran: run it again"
    ]
    _, worse = assess_now(team.users["ana"], "springfield", "service_requests", today=TODAY)
    assert worse.verdict.level == "insufficient" and "2010-01-01 to 2014-12-31" in worse.verdict.explanation
    [line] = check(team.project).missing
    assert line.startswith("service_requests: readiness is insufficient") and "2014-12-31" in line


def test_a_run_fills_criterion_3_of_scoping_for_the_projects_that_use_the_dataset(team: Team) -> None:
    from ridp.workspace.models import AuditEntry, CriterionRating
    from ridp.workspace.readiness import assess_now

    _spec(team)
    _, result = assess_now(team.users["ana"], "springfield", "service_requests", today=TODAY)
    rating = CriterionRating.objects.get(project=team.project, criterion="data_quality")
    assert rating.score == {"insufficient": 0, "proceed with caution": 1, "sufficient": 2}[result.verdict.level]
    assert rating.evidence.startswith(f"Data readiness of service_requests v1: {result.verdict.level}.")
    assert rating.rater == team.users["ana"]
    assert AuditEntry.objects.filter(action="scoping.rated", detail__source="readiness").count() == 1


def test_the_success_metric_condition_needs_a_chosen_spec_with_a_baseline_computed_from_the_data(team: Team) -> None:
    from ridp.workspace.gates import REGISTRY
    from ridp.workspace.metric_specs import set_success_metric

    check = REGISTRY["success_metric_set"].check
    assert check(team.project).missing == ["choose the project's success metric among its metric specs"]
    _spec(team, SPEC.replace("value: 2.5, ", "value: null, "))
    set_success_metric(team.users["ana"], "springfield", team.project.pk, "trash_days")
    team.project.refresh_from_db()
    needed = ["compute the baseline of trash_days from service_requests (`ridp analyze baseline`)"]
    assert check(team.project).missing == needed
    _spec(team)  # a baseline typed by a person is not enough: the gate asks for one computed from the data
    assert check(team.project).missing == needed
    from ridp.workspace.analysis import compute_baseline

    compute_baseline(team.users["ana"], "springfield", team.project.pk, "trash_days")
    assert check(team.project).met


def test_a_run_that_cannot_finish_is_failed_with_a_clear_error_and_nothing_half_saved(team: Team) -> None:
    from ridp.workspace.models import ReadinessRun
    from ridp.workspace.readiness import request, run

    queued = request(team.users["ana"], "springfield", "service_requests", enqueue=lambda run_id: "")
    assert queued.status == "queued"
    ReadinessRun.objects.filter(pk=queued.pk).update(checks_yaml="checks:\n  - not_null: gone\n")
    done = run(queued.pk)
    assert done.status == "failed" and "unknown column 'gone'" in done.error and done.result is None


def test_asking_and_running_each_read_the_metric_specs_once(team: Team) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ridp.workspace.gates import REGISTRY
    from ridp.workspace.models import MetricSpecVersion
    from ridp.workspace.readiness import request, run

    def spec_reads(queries: CaptureQueriesContext) -> int:
        table = f'"{MetricSpecVersion._meta.db_table}"'
        return sum(table in q["sql"] for q in queries.captured_queries)

    _spec(team)
    with CaptureQueriesContext(connection) as asking:
        queued = request(team.users["ana"], "springfield", "service_requests", enqueue=lambda run_id: "")
    with CaptureQueriesContext(connection) as running:
        done = run(queued.pk, today=TODAY)
    with CaptureQueriesContext(connection) as gating:
        REGISTRY["readiness_not_insufficient"].check(team.project)
    assert done.status == "done"
    assert (spec_reads(asking), spec_reads(running)) == (1, 1)  # the question; criterion 3's projects
    assert spec_reads(gating) == 2  # the project's sources, then each source's latest specs
