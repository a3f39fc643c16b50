"""Metric specs (ridp.metrics): the formula language's whitelist, YAML errors that name the line and field,
a canonical hash, what a metric needs, and YAML that reads back to the same spec."""

from __future__ import annotations

import doctest
from datetime import date
from pathlib import Path

import pytest

import ridp.metrics
from ridp.errors import SpecError
from ridp.metrics import (
    Baseline,
    MetricSpec,
    Target,
    dump_metric,
    load_metric,
    load_metrics,
    metric_documents,
    parse_formula,
)

SPEC = """\
name: pothole_days
formula: median(days_to_close) where type == "Pothole"
unit: days
direction: lower_is_better
baseline:
  value: 6.5
  start: 2024-01-01
  end: 2024-12-31
target:
  value: 4
  category: accuracy
  by: 2026-12-31
disaggregation: [geography, ward]
source: service_requests
refresh: weekly
owner: Director of Public Works
"""


def test_the_docstring_examples_run() -> None:
    for module in (ridp.metrics, ridp.errors):
        failed, tried = doctest.testmod(module)
        assert tried > 0 and failed == 0, module.__name__


def test_a_spec_reads_with_every_field() -> None:
    spec = load_metric(SPEC)
    assert spec == MetricSpec(
        name="pothole_days", formula='median(days_to_close) where type == "Pothole"', unit="days",
        direction="lower_is_better", baseline=Baseline(6.5, date(2024, 1, 1), date(2024, 12, 31)),
        target=Target(4.0, "accuracy", date(2026, 12, 31)), disaggregation=("geography", "ward"),
        source="service_requests", refresh="weekly", owner="Director of Public Works",
    )  # fmt: skip


def test_a_file_is_read_and_its_name_is_in_the_errors(tmp_path: Path) -> None:
    path = tmp_path / "potholes.yaml"
    path.write_text(SPEC)
    assert load_metric(path).name == "pothole_days"
    path.write_text(SPEC.replace("weekly", "hourly"))
    with pytest.raises(SpecError) as caught:
        load_metric(path)
    assert str(caught.value).startswith("potholes.yaml, line 15, field \"refresh\": 'hourly' is not one of daily")


@pytest.mark.parametrize(
    ("change", "field", "line", "words"),
    [
        # the formula: unknown names, attribute access, calls outside the whitelist
        (("median(days_to_close)", "median(dayz)"), "formula", 2, "column 8: unknown field 'dayz'"),
        (('type == "Pothole"', 'kind == "Pothole"'), "formula", 2, "unknown field 'kind'"),
        (("median(days_to_close)", "median(days_to_close.real)"), "formula", 2, "attribute access"),
        (('type == "Pothole"', 'type.lower() == "pothole"'), "formula", 2, "a function may only be the formula's"),
        (("median(days_to_close)", "__import__('os').system('id')"), "formula", 2, "attribute access"),
        (("median(days_to_close)", "eval('1')"), "formula", 2, "unknown function 'eval'"),
        (("median(days_to_close)", "open('/etc/passwd')"), "formula", 2, "unknown function 'open'"),
        (("median(days_to_close)", "median(sum(days_to_close))"), "formula", 2, "a function may only be"),
        (('type == "Pothole"', "type == status"), "formula", 2, "not with a name"),
        (("median(days_to_close)", "median(type)"), "formula", 2, "'type' is not a number"),
        (("median(days_to_close)", "count() + 1"), "formula", 2, "starts with an aggregate"),
        (('type == "Pothole"', "days_to_close[0] > 1"), "formula", 2, "indexing"),
        (('type == "Pothole"', 'opened > "last week"'), "formula", 2, "is not a date or time"),
        # YAML itself
        (("unit: days", "unit: [days"), "yaml", 4, "is not valid YAML"),
        (("  value: 6.5", "\tvalue: 6.5"), "yaml", 6, "is not valid YAML"),
        (
            ("unit: days", "unit: !!python/object/apply:os.system ['id']"),
            "unit",
            3,
            "could not determine a constructor",
        ),
        (("owner: Director of Public Works", "owner: Director\nowner: Mayor"), "owner", 17, "is given twice"),
        # fields
        (("owner:", "ownr:"), "ownr", 16, "is not a field of a metric"),
        (("  by: 2026-12-31", "  when: 2026-12-31"), "target.when", 12, "is not a field of a metric target"),
        (("end: 2024-12-31", "end: 2024-13-31"), "baseline.end", 8, "is not a valid date"),
        (("start: 2024-01-01", "start: soon"), "baseline.start", 7, "is not a date like 2024-01-01"),
        (("end: 2024-12-31", "end: 2023-12-31"), "baseline.end", 8, "is before the start"),
        (("  value: 6.5\n", ""), "baseline.value", 5, "is missing (null when it is not measured yet)"),
        (("value: 4", "value: true"), "target.value", 10, "is a number"),
        (("value: 4", "value: .inf"), "target.value", 10, "is a finite number"),
        (("category: accuracy", "category: bold"), "target.category", 11, "'bold' is not one of uncertainty"),
        (("lower_is_better", "lower"), "direction", 4, "is not one of lower_is_better, higher_is_better"),
        (("name: pothole_days", "name: Pothole Days"), "name", 1, "lower-case letters"),
        (("unit: days\n", ""), "unit", 1, "is missing"),
        (("[geography, ward]", "[ward, ward]"), "disaggregation", 13, "'ward' is listed twice"),
        (("[geography, ward]", "geography"), "disaggregation", 13, "is a list"),
    ],
)
def test_every_bad_input_names_its_line_and_field(change: tuple[str, str], field: str, line: int, words: str) -> None:
    text = SPEC.replace(*change)
    assert text != SPEC
    with pytest.raises(SpecError) as caught:
        load_metric(text)
    error = caught.value
    assert (error.field, error.line) == (field, line), str(error)
    assert words in str(error)
    assert str(error).startswith(f'line {line}, field "{field}": ')
    assert isinstance(error, ValueError)  # an input error


def test_an_alias_is_refused_where_it_is_used() -> None:
    text = SPEC.replace("baseline:\n", "baseline: &b\n").replace("owner: Director of Public Works", "owner: *b")
    with pytest.raises(SpecError, match="anchors and aliases") as caught:
        load_metric(text)
    assert (caught.value.field, caught.value.line) == ("owner", 16)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "null\n", "- a\n- b\n", "just words\n"])
def test_yaml_that_is_not_a_spec_says_so_at_line_1(text: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_metric(text)
    assert (caught.value.field, caught.value.line) == ("yaml", 1)


def test_several_documents_are_several_specs_and_a_name_twice_is_refused() -> None:
    other = SPEC.replace("pothole_days", "pothole_count").replace("median(days_to_close)", "count()")
    specs = load_metrics(SPEC + "---\n" + other)
    assert [s.name for s in specs] == ["pothole_days", "pothole_count"]
    docs = metric_documents(SPEC + "---\n" + other)
    assert docs[1].line == 18 and docs[1].text.startswith("name: pothole_count")
    with pytest.raises(SpecError, match="holds 2 metrics"):
        load_metric(SPEC + "---\n" + other)
    with pytest.raises(SpecError) as caught:
        load_metrics(SPEC + "---\n" + SPEC)
    assert caught.value.field == "name" and "defined twice" in str(caught.value)


def test_dump_reads_back_to_the_same_spec_and_hash() -> None:
    spec = load_metric(SPEC)
    again = load_metric(dump_metric(spec))
    assert again == spec and again.spec_hash() == spec.spec_hash()
    unmeasured = load_metric(SPEC.replace("value: 6.5", "value: null").replace("  by: 2026-12-31\n", ""))
    assert unmeasured.baseline.value is None and unmeasured.target.by is None
    assert load_metric(dump_metric(unmeasured)) == unmeasured


def test_the_hash_is_of_the_meaning_not_the_spelling() -> None:
    spec = load_metric(SPEC)
    respelled = load_metric(
        "# a comment\n"
        + SPEC.replace('median(days_to_close) where type == "Pothole"', "median( days_to_close )where type=='Pothole'")
        .replace("value: 4\n", "value: 4.0\n")
        .replace("start: 2024-01-01", "start: '2024-01-01'")
    )
    assert respelled.spec_hash() == spec.spec_hash()
    assert load_metric(SPEC.replace("value: 4\n", "value: 3\n")).spec_hash() != spec.spec_hash()
    assert len(spec.spec_hash()) == 64 and spec.canonical_json().startswith('{"baseline":')


def test_needs_lists_the_canonical_fields_areas_and_the_baseline_period() -> None:
    needs = load_metric(SPEC).needs()
    assert needs.dataset == "service_requests"
    assert needs.fields == ("type", "opened", "closed", "latitude", "longitude")
    assert needs.areas == ("ward",)
    assert (needs.start, needs.end) == (date(2024, 1, 1), date(2024, 12, 31))
    assert needs.as_dict()["start"] == "2024-01-01"
    count = load_metric(SPEC.replace("median(days_to_close)", "count()").replace("[geography, ward]", "[]"))
    assert count.needs().fields == ("type", "opened")  # the period is on the opening time


@pytest.mark.parametrize(
    ("formula", "canonical"),
    [
        ("count()", "count()"),
        ("mean(latitude)", "mean(latitude)"),
        ("p90(days_to_close)", "p90(days_to_close)"),
        ("quantile(days_to_close, .75)", "quantile(days_to_close, 0.75)"),
        ("share(days_to_close <= 4.0)", "share(days_to_close <= 4)"),
        ("share(closed is not None)", "share(closed is not None)"),
        ("count() where type in ['a', 'b'] and not status == 'dup'", 'count() where type in ("a", "b") and not status == "dup"'),
        ("count() where (type == 'a' or type == 'b') and agency != 'X'", 'count() where (type == "a" or type == "b") and agency != "X"'),
        ("count() where type not in ('a',)", 'count() where type not in ("a",)'),
        ("median(days_to_close) where opened >= '2024-01-01' and days_to_close > -1", 'median(days_to_close) where opened >= "2024-01-01" and days_to_close > -1'),
    ],
)  # fmt: skip
def test_formulas_have_one_canonical_text_that_parses_to_the_same_formula(formula: str, canonical: str) -> None:
    parsed = parse_formula(formula)
    assert str(parsed) == canonical
    assert parse_formula(canonical) == parsed


@pytest.mark.parametrize(
    ("formula", "words"),
    [
        ("count(type)", "count takes 0 arguments"),
        ("quantile(days_to_close, 1.5)", "between 0 and 1"),
        ("quantile(days_to_close, q=0.5)", "takes no named arguments"),
        ("median(*days_to_close)", "median takes 1 argument"),
        ("count() where type < 'a'", "'type' is text"),
        ("count() where closed == None", "is None"),
        ("count() where 1 < days_to_close < 4", "one field with one value at a time"),
        ("count() where type == 'a' where type == 'b'", "at most one 'where'"),
        ("count() where", "the condition after 'where' is missing"),
        ("count() where type in ()", "takes a list of values"),
        ("count() where (lambda: 1)()", "a function may only be"),
        ("count() where days_to_close > 1 + 1", "arithmetic is not allowed"),
        ("median(", "cannot be read"),
        ("count()\nwhere type == 'a'", "one line"),
    ],
)
def test_formula_errors_say_what_is_wrong_and_where(formula: str, words: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_formula(formula)
    assert caught.value.field == "formula" and words in str(caught.value)


def test_a_spec_built_in_python_is_checked_like_yaml() -> None:
    base = {
        "name": "backlog", "formula": "count() where closed is None", "unit": "requests",
        "direction": "lower_is_better", "baseline": Baseline(None, date(2024, 1, 1), date(2024, 2, 1)),
        "target": Target(10, "uncertainty"), "source": "requests", "refresh": "daily", "owner": "ana",
    }  # fmt: skip
    assert MetricSpec(**base).target.value == 10.0  # type: ignore[arg-type]
    for field, value in (("refresh", "hourly"), ("formula", "median(x.y)"), ("owner", " "), ("name", "a-b")):
        with pytest.raises(SpecError) as caught:
            MetricSpec(**{**base, field: value})  # type: ignore[arg-type]
        assert caught.value.field == field
