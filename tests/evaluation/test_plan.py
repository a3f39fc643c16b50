"""Analysis plans: reading (dict, YAML), checking every field by name and line, the canonical hash, freezing and
the list of changes."""

from __future__ import annotations

import doctest
import hashlib
import json
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest

import ridp.evaluation.plan as plan_module
from ridp.errors import FieldError, SpecError
from ridp.evaluation.plan import (
    EXAMPLE_PLAN,
    AnalysisPlan,
    Change,
    FrozenPlan,
    Outcome,
    changes,
    freeze,
)

# The canonical bytes of FIXED, written out by hand: sorted keys, no spaces, 8700 as the float 8700.0.
FIXED_CANONICAL = (
    '{"alpha":0.05,"already_looked_at":[],"block":null,"cluster":null,"correction":"holm","covariates":[],'
    '"estimator":"difference_in_means","exclusions":[],"hypotheses":["Yes."],"primary":{"better":"lower",'
    '"column":"days_to_close","label":"Days to close","measure":"days of waiting","per":"request",'
    '"volume":8700.0,"volume_label":"requests per year"},"questions":["Faster?"],"ridp_plan":1,"se":"auto",'
    '"secondary":[{"better":"lower","column":"reopened","label":"Reopened","measure":null,"per":null,'
    '"volume":null,"volume_label":null}],"title":"Pilot","treated":null,"treatment":"triage","unit":null}'
)
FIXED_SHA256 = "f20d1df9ce6c162466979fddc28440a02f0461f90cccc3f324030179cb364bfb"


def fixed_plan(**changed: object) -> AnalysisPlan:
    fields: dict[str, object] = {
        "title": "Pilot",
        "questions": ("Faster?",),
        "hypotheses": ("Yes.",),
        "treatment": "triage",
        "primary": Outcome(
            column="days_to_close",
            label="Days to close",
            measure="days of waiting",
            per="request",
            volume=8700,
            volume_label="requests per year",
        ),
        "secondary": (Outcome(column="reopened", label="Reopened"),),
        "alpha": 0.05,
    }
    return AnalysisPlan(**{**fields, **changed})  # type: ignore[arg-type]


# ---- reading and round trips ----------------------------------------------------------------------------------------


def test_the_example_plan_reads() -> None:
    plan = AnalysisPlan.from_yaml(EXAMPLE_PLAN)
    assert plan.primary == Outcome(
        column="days_to_close",
        label="Days from request to close",
        better="lower",
        measure="days of waiting",
        per="request",
        volume=8700.0,
        volume_label="requests per year",
    )
    assert [o.column for o in plan.secondary] == ["reopened"]
    assert (plan.estimator, plan.se, plan.cluster, plan.covariates) == (
        "lin",
        "CR2",
        "neighbourhood",
        ("days_to_close_2024",),
    )
    assert plan.columns() == {
        "days_to_close",
        "reopened",
        "triage",
        "days_to_close_2024",
        "neighbourhood",
        "request_id",
    }
    assert "EXAMPLE_PLAN" in str(plan_module.__doc__)  # the docstring points at it instead of copying it


def test_docstring_examples_run() -> None:
    failed, tried = doctest.testmod(plan_module)
    assert tried >= 5 and failed == 0


def test_round_trips_through_dict_yaml_and_json() -> None:
    plan = AnalysisPlan.from_yaml(EXAMPLE_PLAN)
    assert AnalysisPlan.from_dict(plan.to_dict()) == plan
    assert AnalysisPlan.from_yaml(plan.to_yaml()) == plan
    assert AnalysisPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    frozen = freeze(plan, at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    again = FrozenPlan.from_dict(json.loads(json.dumps(frozen.to_dict())))
    assert again == frozen and again.verify()


def test_defaults_fill_what_the_yaml_leaves_out() -> None:
    plan = AnalysisPlan.from_yaml(
        "title: t\nquestions: [q]\nhypotheses: [h]\nprimary: {column: y, label: Y}\ntreatment: d\n"
        "estimator: difference_in_means\nalpha: 0.05\n"
    )
    assert (plan.se, plan.correction, plan.secondary, plan.covariates, plan.cluster) == ("auto", "holm", (), (), None)
    assert plan.primary.better == "lower"


# ---- the canonical form and its hash --------------------------------------------------------------------------------


def test_canonical_bytes_and_hash_of_a_fixed_plan() -> None:
    plan = fixed_plan()
    assert plan.canonical() == FIXED_CANONICAL.encode("utf-8")
    assert plan.sha256 == FIXED_SHA256 == hashlib.sha256(FIXED_CANONICAL.encode()).hexdigest()


def test_hash_ignores_key_order_layout_number_spelling_and_omitted_defaults() -> None:
    plan = fixed_plan()
    reversed_keys = dict(reversed(list(plan.to_dict().items())))
    reversed_keys["primary"] = dict(reversed(list(reversed_keys["primary"].items())))
    assert AnalysisPlan.from_dict(reversed_keys).canonical() == plan.canonical()
    written = """
# a plan written by hand, in another order, with comments and flow style
treatment: triage
alpha: 5.0e-2
primary: {label: Days to close, column: days_to_close, volume: 8700, per: request,
          measure: days of waiting, volume_label: requests per year}
secondary:
  - {column: reopened, label: Reopened}
hypotheses: ["Yes."]
questions:
  - Faster?     # the only question
title: Pilot
estimator: difference_in_means
se: auto
"""
    assert AnalysisPlan.from_yaml(written).sha256 == FIXED_SHA256


def test_hash_changes_with_any_value_and_floats_are_written_by_repr() -> None:
    assert fixed_plan(alpha=0.1).sha256 != FIXED_SHA256
    assert b'"alpha":0.1,' in fixed_plan(alpha=0.1).canonical()
    assert b'"alpha":0.025,' in fixed_plan(alpha=0.025).canonical()
    assert fixed_plan(treated=1).sha256 != fixed_plan(treated=True).sha256 != FIXED_SHA256
    assert fixed_plan(title="Pilot ").sha256 != FIXED_SHA256


def test_unicode_spelling_does_not_change_the_hash() -> None:
    composed, decomposed = unicodedata.normalize("NFC", "Café crews"), unicodedata.normalize("NFD", "Café crews")
    assert composed != decomposed
    assert fixed_plan(title=composed).sha256 == fixed_plan(title=decomposed).sha256
    assert "Café crews".encode() in fixed_plan(title=decomposed).canonical()  # UTF-8, not \\u escapes


# ---- every check names its field (and its line in YAML) -----------------------------------------------------------

# (what to replace in EXAMPLE_PLAN, with what, the field named, its line in the YAML)
BAD_YAML = [
    ("title: Triage crews for pothole requests\n", "", "title", 1),
    ("title: Triage crews for pothole requests", "title: ''", "title", 1),
    ("  - Do triage crews shorten the wait for a pothole repair?", "  - 7", "questions[0]", 3),
    ("questions:\n  - Do triage crews shorten the wait for a pothole repair?", "questions: []", "questions", 2),
    ("  column: days_to_close          # a column of the pilot's data\n", "", "primary.column", 6),
    ("  label: Days from request to close", "  lable: Days", "primary.lable", 8),
    ("  better: lower                  # lower", "  better: less #", "primary.better", 9),
    ("  volume: 8700 ", "  volume: -5 ", "primary.volume", 12),
    ("  volume: 8700 ", "  volume: lots ", "primary.volume", 12),
    ("    better: lower", "    better: down", "secondary[0].better", 17),
    ("  - column: reopened", "  - column: days_to_close", "secondary[0].column", 15),
    ("  - column: reopened", "  - column: triage", "secondary[0].column", 15),
    ("treatment: triage ", "treatment: [a, b] ", "treatment", 18),
    ("treatment: triage ", "treatment: reopened ", "secondary[0].column", 15),
    ("cluster: neighbourhood ", "cluster: triage ", "cluster", 20),
    ("estimator: lin ", "estimator: ols ", "estimator", 21),
    ("se: CR2 ", "se: HC3 ", "se", 22),
    ("cluster: neighbourhood ", "cluster: null ", "se", 22),
    ("se: CR2 ", "se: HC2 ", "se", 22),
    ("covariates: [days_to_close_2024]", "covariates: []", "covariates", 23),
    ("covariates: [days_to_close_2024]", "covariates: [x, x]", "covariates[1]", 23),
    ("covariates: [days_to_close_2024]", "covariates: [x, days_to_close]", "covariates[1]", 23),
    ("covariates: [days_to_close_2024]", "covariates: x", "covariates", 23),
    ("estimator: lin ", "estimator: difference_in_means ", "covariates", 23),
    ("alpha: 0.05", "alpha: 0.5", "alpha", 24),
    ("alpha: 0.05", "alpha: 0", "alpha", 24),
    ("alpha: 0.05", "alpha: 5%", "alpha", 24),
    ("alpha: 0.05", "alpha: true", "alpha", 24),
    ("alpha: 0.05", "alpha: .nan", "alpha", 24),
    ("correction: holm ", "correction: sidak ", "correction", 25),
    ("  - Requests closed as duplicates", "  - {a: b}", "exclusions[0]", 27),
    ("unit: request_id", "unit: request_id\ntreated: 2024-01-01", "treated", 20),
    ("unit: request_id", "unit: request_id\nunit: ward", "unit", 20),
    ("unit: request_id", "unit: request_id\nreps: 10", "reps", 20),
    ("unit: request_id", "unit: &u request_id\nblock: *u", "block", 20),
    ("covariates: [days_to_close_2024]", "covariates: [&c a, *c]", "covariates[1]", 23),
    ("alpha: 0.05", "alpha: [0.05", "yaml", 25),
]


@pytest.mark.parametrize(("old", "new", "field", "line"), BAD_YAML, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD_YAML)])
def test_each_wrong_field_is_named_with_its_line(old: str, new: str, field: str, line: int) -> None:
    assert old in EXAMPLE_PLAN
    text = EXAMPLE_PLAN.replace(old, new, 1)
    with pytest.raises(SpecError) as caught:
        AnalysisPlan.from_yaml(text, source="plans/pilot.yaml")
    assert caught.value.field == field
    assert caught.value.line == line
    assert str(caught.value).startswith(f'pilot.yaml, line {line}, field "{field}": ')


def test_randomisation_has_no_standard_error_to_choose() -> None:
    text = EXAMPLE_PLAN.replace("estimator: lin ", "estimator: randomisation ").replace(
        "covariates: [days_to_close_2024]", "covariates: []"
    )
    with pytest.raises(SpecError, match='line 22, field "se": randomisation inference has no standard error'):
        AnalysisPlan.from_yaml(text)
    assert AnalysisPlan.from_yaml(text.replace("se: CR2 ", "se: auto ")).estimator == "randomisation"


def test_text_that_is_not_one_plan() -> None:
    for text, message in [
        ("", 'line 1, field "yaml": holds no analysis plan'),
        ("- a list\n", 'line 1, field "yaml": is a mapping of title'),
        (EXAMPLE_PLAN + "---\ntitle: second\n", 'line 30, field "yaml": is not valid YAML: but found another'),
    ]:
        with pytest.raises(SpecError, match=message):
            AnalysisPlan.from_yaml(text)


def test_checks_also_apply_when_built_in_python() -> None:
    with pytest.raises(SpecError) as caught:
        fixed_plan(estimator="ols")
    assert caught.value.field == "estimator" and caught.value.line is None
    with pytest.raises(SpecError, match='field "volume": is how many request there are in a year'):
        Outcome(column="y", label="Y", per="request", volume=0)
    with pytest.raises(SpecError, match=r'field "column": .* has spaces at its ends'):
        Outcome(column=" y", label="Y")
    with pytest.raises(SpecError, match='field "secondary\\[0\\]"'):
        fixed_plan(secondary=("reopened",))


def test_check_columns_names_the_field_and_lists_the_columns() -> None:
    plan = AnalysisPlan.from_yaml(EXAMPLE_PLAN)
    there = ["days_to_close", "reopened", "triage", "neighbourhood", "request_id", "prior"]
    with pytest.raises(FieldError) as caught:
        plan.check_columns(there)
    assert caught.value.field == "covariates[0]"
    assert "'days_to_close_2024' is not in the data; the columns are: days_to_close, reopened" in str(caught.value)
    plan.check_columns([*there, "days_to_close_2024"])


# ---- freezing ------------------------------------------------------------------------------------------------------


def test_freeze_stamps_hash_and_utc_time_and_verify_catches_an_edit() -> None:
    plan = fixed_plan()
    before = datetime.now(UTC)
    frozen = freeze(plan)
    assert frozen.sha256 == FIXED_SHA256 and frozen.verify()
    assert frozen.frozen_at.tzinfo == UTC and before <= frozen.frozen_at <= datetime.now(UTC)
    local = datetime(2026, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    assert freeze(plan, at=local).frozen_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    edited = FrozenPlan(fixed_plan(alpha=0.1), frozen.sha256, frozen.frozen_at)
    assert not edited.verify()
    assert "CHANGED since it was frozen" in edited.summary()
    stored = frozen.to_dict()
    stored["plan"]["alpha"] = 0.1  # an edit of the stored record
    assert not FrozenPlan.from_dict(stored).verify()
    with pytest.raises(FieldError, match="at: is a time with its time zone"):
        freeze(plan, at=datetime(2026, 3, 1, 9, 30))  # a naive time: the point of the test


# ---- changes -------------------------------------------------------------------------------------------------------


def test_changes_lists_each_field_with_before_and_after() -> None:
    old = AnalysisPlan.from_yaml(EXAMPLE_PLAN)
    data = old.to_dict()
    data["primary"]["column"] = "hours_to_close"
    data["primary"]["volume"] = 9100
    data["secondary"][0]["label"] = "Reopened within 60 days"
    data["covariates"] = ["days_to_close_2024", "requests_2024"]
    data["alpha"] = 0.1
    new = AnalysisPlan.from_dict(data)
    assert changes(old, new) == (
        Change("primary.column", "days_to_close", "hours_to_close"),
        Change("primary.volume", 8700.0, 9100.0),
        Change("secondary.reopened.label", "Share of requests reopened within 30 days", "Reopened within 60 days"),
        Change("covariates", ["days_to_close_2024"], ["days_to_close_2024", "requests_2024"]),
        Change("alpha", 0.05, 0.1),
    )
    assert str(changes(old, new)[-1]) == "alpha: 0.05 -> 0.1"
    stored = json.loads(json.dumps([c.to_dict() for c in changes(old, new)]))
    assert tuple(Change.from_dict(c) for c in stored) == changes(old, new)
    assert changes(old, old) == () and changes(old, AnalysisPlan.from_yaml(old.to_yaml())) == ()


def test_changes_of_secondary_outcomes_added_removed_or_reordered() -> None:
    a, b, c = (Outcome(column=name, label=name.title()) for name in ("reopened", "complaints", "calls"))
    old = fixed_plan(secondary=(a, b))
    assert changes(old, fixed_plan(secondary=(a, c))) == (
        Change("secondary.complaints", b.to_dict(), None),
        Change("secondary.calls", None, c.to_dict()),
    )
    reordered = fixed_plan(secondary=(b, a))
    assert reordered.sha256 != old.sha256
    assert changes(old, reordered) == (
        Change("secondary.order", ["reopened", "complaints"], ["complaints", "reopened"]),
    )


def test_changes_is_empty_exactly_when_the_hashes_agree() -> None:
    base = fixed_plan()
    variants = [
        fixed_plan(treated=1),
        fixed_plan(treated=True),
        fixed_plan(treated=1.0),
        fixed_plan(block="ward"),
        fixed_plan(exclusions=("duplicates",)),
        fixed_plan(primary=Outcome(column="days_to_close", label="Days to close")),
        base,
    ]
    for x in variants:
        for y in variants:
            assert (changes(x, y) == ()) == (x.sha256 == y.sha256)
