"""Analysis in the store: runs saved with their inputs and answered again, targets and the city's calendar
taken into the question, personal breakdowns refused, briefings blessed by the coach, the baseline computed
from the data, and the two analysis-gate conditions met by them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ridp.analysis import ServiceLevels, TargetTable
from ridp.errors import FieldError, NotFoundError, PermissionDeniedError
from tests.workspace.test_project_team import Team, make_team

SPEC = """\
name: trash_days
formula: median(days_to_close) where type == "Missed Trash Pickup"
unit: days
direction: lower_is_better
baseline: {value: null, start: 2023-01-01, end: 2023-12-31}
target: {value: 2, category: accuracy}
source: service_requests
refresh: weekly
owner: Director of Sanitation
"""


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


def _levels(t: Team, who: str = "ana", **params: Any) -> tuple[Any, Any]:
    from ridp.workspace.analysis import analyze_now

    return analyze_now(t.users[who], "springfield", t.project.pk, "service_requests", "service_levels", params)


def test_a_run_is_saved_with_its_inputs_and_the_same_question_is_answered_from_it(team: Team) -> None:
    from ridp.workspace.models import AnalysisRun, AuditEntry

    run, result = _levels(team, by=["type"], period="month")
    assert isinstance(result, ServiceLevels) and run.status == "done" and run.dataset_version.number == 1
    assert result.rows_read == 4_000 and result.by == ("type",) and result.period == "month"
    assert run.params["calendar"] == {"weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri"], "holidays": []}
    assert run.params["mapping"]["fields"]["opened"] == "requested_datetime"
    again, same = _levels(team, "dan", by=["type"], period="month")
    assert again.pk == run.pk and same.to_dict() == result.to_dict()
    assert AnalysisRun.objects.count() == 1 and AuditEntry.objects.filter(action="analysis.done").count() == 1
    assert result.left_out  # the demo plants closed-before-opened rows: set aside, counted


def test_targets_and_the_citys_holidays_are_part_of_the_question(team: Team) -> None:
    from ridp.workspace.analysis import calendar_for, set_calendar, set_targets
    from ridp.workspace.models import AnalysisRun

    first, _ = _levels(team, unit="business")
    set_targets(
        team.users["ana"], "springfield", "service_requests", TargetTable({"Missed Trash Pickup": 3}, "business")
    )
    second, result = _levels(team, unit="business")
    assert second.pk != first.pk and "share_within_target" in result.columns
    assert dict(result.types_without_target)  # every other type is named, with its count
    set_calendar(team.users["lee"], "springfield", holidays=[date(2023, 7, 4)])
    third, _ = _levels(team, unit="business")
    assert third.pk not in (first.pk, second.pk) and AnalysisRun.objects.count() == 3
    team.city.refresh_from_db()
    assert calendar_for(team.city).holidays == (date(2023, 7, 4),)
    calendar_targets, _ = _levels(team, unit="calendar")
    assert calendar_targets.params["targets"] is None  # business-day targets do not apply to calendar days
    with pytest.raises(PermissionDeniedError):
        set_calendar(team.users["vera"], "springfield", holidays=[])


def test_bad_inputs_and_personal_breakdowns_are_refused_by_field(team: Team) -> None:
    from ridp.workspace.analysis import request
    from ridp.workspace.classify import classify_dataset

    classify_dataset(team.users["ana"], "springfield", "service_requests", set_columns={"address": "personal"})
    for params, field in [({"by": ["address"]}, "by"), ({"by": ["nope"]}, "by"), ({"period": "decade"}, "period"),
                          ({"colour": "red"}, "colour"), ({"start": "yesterday"}, "start")]:  # fmt: skip
        with pytest.raises(FieldError) as caught:
            request(team.users["ana"], "springfield", team.project.pk, "service_requests", "service_levels", params)
        assert caught.value.field == field
    with pytest.raises(FieldError):
        request(team.users["ana"], "springfield", team.project.pk, "service_requests", "mood", {})


def test_viewers_cannot_run_and_other_cities_do_not_see_the_runs(team: Team) -> None:
    from ridp.workspace.analysis import get_run, list_runs, request

    run, _ = _levels(team)
    with pytest.raises(PermissionDeniedError):
        request(team.users["vera"], "springfield", team.project.pk, "service_requests", "trends", {})
    with pytest.raises(NotFoundError):
        get_run(team.users["sid"], "springfield", team.project.pk, run.pk)
    assert [r.pk for r in list_runs(team.users["eve"], "springfield", team.project.pk)] == [run.pk]


def test_trends_and_a_failed_run_keep_a_clear_error(team: Team) -> None:
    from ridp.workspace.analysis import analyze_now, request, run

    trend_run, result = analyze_now(team.users["ana"], "springfield", team.project.pk, "service_requests", "trends",
                                    {"freq": "month", "where": {"type": ["Missed Trash Pickup"]}})  # fmt: skip
    assert trend_run.status == "done" and result.freq == "month" and len(result.to_pandas()) > 12
    queued = request(team.users["ana"], "springfield", team.project.pk, "service_requests", "trends",
                     {"where": {"type": ["No such type"]}}, enqueue=lambda _id: "")  # fmt: skip
    failed = run(queued.pk)
    assert failed.status == "failed" and "no request matches" in failed.error


def test_a_briefing_is_blessed_by_the_coach_and_then_frozen_and_the_gate_condition_is_met(team: Team) -> None:
    from ridp.workspace.analysis import add_finding, bless_briefing, create_briefing
    from ridp.workspace.gates import REGISTRY

    condition = REGISTRY["briefing_blessed"]
    assert condition.available and condition.check(team.project).missing == [
        "add a findings briefing and ask the coach to bless it"
    ]
    run, result = _levels(team, by=["type"])
    briefing = create_briefing(team.users["ana"], "springfield", team.project.pk, "Week 1: who waits longest")
    with pytest.raises(FieldError):  # nothing to bless yet
        bless_briefing(team.users["cora"], "springfield", team.project.pk, briefing.pk)
    finding = add_finding(team.users["ana"], "springfield", team.project.pk, briefing.pk, run.pk,
                          title="Graffiti waits longest", text="Median 9 days.", column="median_days")  # fmt: skip
    worst = result.ranked("median_days").iloc[0]
    assert finding.numbers[0]["type"] == worst["type"] and finding.numbers[0]["median_days"] == pytest.approx(
        worst["median_days"]
    )
    assert finding.provenance["dataset"] == "service_requests" and finding.provenance["version"] == 1
    assert finding.provenance["params_hash"] == run.params_hash
    assert not condition.check(team.project).met
    with pytest.raises(PermissionDeniedError):
        bless_briefing(team.users["ana"], "springfield", team.project.pk, briefing.pk)
    blessed = bless_briefing(team.users["cora"], "springfield", team.project.pk, briefing.pk, "Go on")
    assert blessed.blessed_by == team.users["cora"] and blessed.blessing_note == "Go on"
    assert condition.check(team.project).met
    with pytest.raises(FieldError) as caught:
        add_finding(team.users["ana"], "springfield", team.project.pk, briefing.pk, run.pk, title="x", text="y")
    assert caught.value.field == "briefing"


def test_the_baseline_is_computed_from_the_data_and_meets_the_success_metric_condition(team: Team) -> None:
    import pandas as pd

    from ridp.workspace.analysis import compute_baseline
    from ridp.workspace.gates import REGISTRY
    from ridp.workspace.metric_specs import save_specs, set_success_metric

    condition = REGISTRY["success_metric_set"]
    save_specs(team.users["ana"], "springfield", team.project.pk, SPEC)
    set_success_metric(team.users["ana"], "springfield", team.project.pk, "trash_days")
    team.project.refresh_from_db()
    assert condition.check(team.project).missing == [
        "compute the baseline of trash_days from service_requests (`ridp analyze baseline`)"
    ]
    saved = compute_baseline(team.users["ana"], "springfield", team.project.pk, "trash_days")
    assert saved.number == 2 and saved.baseline_from is not None and saved.baseline_requests > 0
    assert condition.check(team.project).met
    # the value is the Kaplan-Meier median of 2023's Missed Trash Pickup requests, censored at the data's end
    from ridp.workspace.datasets import open_table

    frame = open_table(team.users["ana"], "springfield", "service_requests").to_pandas()
    opened = pd.to_datetime(frame["requested_datetime"], format="mixed", errors="coerce")
    closed = pd.to_datetime(frame["closed_datetime"], format="mixed", errors="coerce")
    keep = (frame["service_name"] == "Missed Trash Pickup") & (opened >= "2023-01-01") & (opened < "2024-01-01")
    keep &= ~(closed < opened)
    assert saved.baseline_requests == int(keep.sum())
    assert saved.spec["baseline"]["value"] > 0
    with pytest.raises(PermissionDeniedError):
        compute_baseline(team.users["vera"], "springfield", team.project.pk, "trash_days")


def test_residents_behind_the_figures_come_from_the_citys_population_dataset(team: Team, city_files: Path) -> None:
    import pandas as pd

    from ridp.workspace.datasets import add_file

    add_file(team.users["ana"], city_files.parent / "population.csv", city="springfield", name="population")
    people = {"dataset": "population", "key": "area_id", "value": "population"}
    run, result = _levels(team, by=["area_id"], population=people)
    assert run.params["population"] == {**people, "version": 1}
    census = pd.read_csv(city_files.parent / "population.csv", dtype={"area_id": str}).set_index("area_id")
    frame = result.to_pandas().dropna(subset=["area_id"]).set_index("area_id")
    assert len(frame) == len(census)
    for area, row in frame.iterrows():
        assert row["residents"] == census.loc[area, "population"]
    rates = frame["requests"] / frame["residents"]
    ratio = frame["requests_per_1000_residents_per_year"] / (rates * 1000)
    # one span of years for every area: the rate is requests per resident, times 1,000, over the same years
    assert ratio.min() == pytest.approx(ratio.max(), rel=1e-12) and 0.1 < ratio.iloc[0] < 1.0
    with pytest.raises(FieldError) as caught:
        _levels(team, by=["type"], population=people)
    assert caught.value.field == "population"
    with pytest.raises(FieldError):
        _levels(team, by=["area_id"], population={**people, "key": "nope"})
