"""The readiness core on small tables whose answers are known: every check kind, bad input named
clearly, an empty dataset, masking, the verdict against needs, and the result's forms."""

from __future__ import annotations

import doctest
import json
import re
from datetime import date

import ibis
import pandas as pd
import pytest

import ridp.readiness
from ridp.readiness import CanonicalMapping, CheckSpecError, Needs, Readiness, assess, load_checks

TODAY = date(2024, 7, 1)
MAPPING = CanonicalMapping(
    {"id": "id", "opened": "opened", "closed": "closed", "status": "status", "latitude": "lat", "longitude": "lon"},
    areas=("ward",),
)


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c", "c", "e", "f"],
            "opened": ["2024-01-02 10:00:00", "2024-01-03 11:00:00", "2024-03-04 09:00:00",
                       "2024-03-04 09:00:00", "2024-06-01 08:00:00", "N/A"],
            "closed": ["2024-01-04 10:00:00", "2024-01-01 11:00:00", None, None, "1900-01-01 00:00:00", None],
            "status": ["Closed", "Closed", "Open", "Open", "Closed", " Closed "],
            "lat": [42.30, 42.31, 42.32, 42.32, 0.0, -71.05],
            "lon": [-71.05, -71.06, -71.07, -71.07, 0.0, 42.33],
            "ward": ["1", "2", "2", "2", "", "3"],
            "note": ["x", "  ", "", None, "n/a", "ok"],
        }
    )  # fmt: skip


def table() -> ibis.Table:
    return ibis.memtable(frame())


BOX = (-71.2, 42.2, -70.9, 42.45)


def test_profile_counts_nulls_blanks_placeholders_and_padding_per_column() -> None:
    r = assess(table(), mapping=MAPPING, boundary=BOX, today=TODAY)
    note = r.column("note")
    assert (note.nulls, note.blanks, note.placeholders, note.missing) == (1, 2, 1, 4)
    assert r.column("opened").placeholders == 1  # 'N/A'
    assert r.column("closed").placeholders == 1 and r.column("closed").nulls == 3  # 1900-01-01 is a placeholder
    assert r.column("lat").placeholders == 1 and r.column("lon").placeholders == 1  # the (0, 0) pair
    assert r.column("status").padded == 1 and r.column("status").distinct == 3
    assert r.column("status").top == (("Closed", 3), ("Open", 2), (" Closed ", 1))
    assert r.column("id").patterns == (("a", 6),)
    assert r.column("lat").quantiles[1][1] == pytest.approx(42.305)


def test_table_profile_duplicates_span_gaps_and_coordinates() -> None:
    r = assess(table(), mapping=MAPPING, boundary=BOX, today=TODAY)
    t = r.table
    assert (t.rows, t.exact_duplicate_rows, t.duplicate_id_rows) == (
        6,
        0,
        1,
    )  # rows 3 and 4 differ in 'note' ('' and None)
    assert (t.first, t.last) == (
        pd.Timestamp("2024-01-02 10:00").to_pydatetime(),
        pd.Timestamp("2024-06-01 08:00").to_pydatetime(),
    )
    assert t.months == (("2024-01", 2), ("2024-02", 0), ("2024-03", 2), ("2024-04", 0), ("2024-05", 0), ("2024-06", 1))
    assert t.empty_months == ("2024-02", "2024-04", "2024-05")
    xy = t.coordinates
    assert xy is not None and (xy.inside, xy.outside, xy.swapped, xy.zero, xy.missing) == (4, 0, 1, 1, 0)
    assert xy.boundary_source == "given"


def test_an_exact_copy_is_counted_apart_from_a_row_reusing_an_id() -> None:
    df = frame()
    df.loc[3, "note"] = ""  # now row 4 is an exact copy of row 3
    r = assess(ibis.memtable(df), mapping=MAPPING, today=TODAY)
    assert (r.table.exact_duplicate_rows, r.table.duplicate_id_rows) == (1, 0)
    assert r.check("unique: id").failing == 1 and list(r.check("unique: id").sample["id"]) == ["c", "c"]


def test_every_check_kind_counts_its_failing_rows_with_a_sample() -> None:
    checks = """\
checks:
  - not_null: note
  - unique: id
  - in_set: {column: status, values: [Closed, Open]}
  - range: {column: lat, min: 40, max: 45}
  - range: {column: opened, min: "2024-02-01", name: recent}
  - pattern: {column: id, regex: "^[a-d]$"}
  - date_order: {first: opened, then: closed}
  - freshness: {column: opened, max_age_days: 10}
  - expression: {name: north, rule: "lat > 42 and lon < -70 or col(\\"ward\\") == '3'"}
  - referential: {column: ward, dataset: wards, key: ward_id}
"""
    wards = ibis.memtable(pd.DataFrame({"ward_id": ["1", "2"]}))
    r = assess(table(), mapping=MAPPING, checks=checks, boundary=BOX, today=TODAY, others={"wards": wards})
    failing = {c.name: c.failing for c in r.checks}
    assert failing == {
        "not null: note": 4, "unique: id": 1, "in set: status": 1, "range: lat": 2, "recent": 2,
        "pattern: id": 2, "closed not before opened": 1, "freshness: opened": 1, "north": 1,
        "referential: ward": 2,
    }  # fmt: skip
    assert list(r.check("pattern: id").sample["id"]) == ["e", "f"]
    assert r.check("closed not before opened").sample["id"].tolist() == ["b"]
    assert r.check("freshness: opened").total == 1 and r.check("in set: status").share == pytest.approx(1 / 6)


def test_a_check_on_a_wrong_type_says_so_and_the_others_still_run() -> None:
    checks = "checks:\n  - range: {column: status, min: 1}\n  - in_set: {column: lat, values: [a]}\n  - not_null: id\n"
    r = assess(table(), mapping=MAPPING, checks=checks, today=TODAY)
    assert "column 'status' holds string, not numbers" in (r.check("range: status").error or "")
    assert "holds numbers" in (r.check("in set: lat").error or "")
    assert r.check("not null: id").passed
    assert any("could not run" in f for f in r.dimension("validity").findings)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "checks:\n  - not_null: nope\n",
            r"line 2, not_null.column: unknown column 'nope'; the columns are: id, opened",
        ),
        ("checks:\n  - nonsense: id\n", r"line 2, nonsense: unknown check kind 'nonsense'; the kinds are: not_null"),
        ("checks:\n  - range: {column: lat}\n", r"line 2, range: give 'min', 'max' or both"),
        ("checks:\n  - pattern: {column: id, regex: '('}\n", r"line 2, pattern.regex: not a valid regular expression"),
        (
            "checks:\n  - in_set: {column: id, values: []}\n",
            r"line 2, in_set.values: 'values' must be a non-empty list",
        ),
        ("checks:\n  - freshness: {column: opened, max_age_days: -1}\n", r"line 2, freshness.max_age_days"),
        (
            "checks:\n  - expression: {name: x, rule: \"id.upper() == 'A'\"}\n",
            r"line 2, expression.rule: 'id.upper\(\)' is not allowed",
        ),
        (
            "checks:\n  - expression: {name: x, rule: \"__import__('os')\"}\n",
            r"line 2, expression.rule: .* is not allowed",
        ),
        ('checks:\n  - expression: {name: x, rule: "ghost > 1"}\n', r"line 2, expression.rule: unknown column 'ghost'"),
        (
            "checks:\n  - not_null: id\n  - not_null: id\n",
            r"line 3: two checks are named 'not null: id'; give one a 'name'",
        ),
        ("checks:\n  - not_null: id\n   bad: [\n", r"checks, line \d+: not valid YAML"),
        ("check:\n  - not_null: id\n", r"line 1: unknown key 'check'; a check file has one key, 'checks'"),
        ("checks:\n  - range: {column: lat, min: 1, step: 2}\n", r"line 2, range.step: unknown setting 'step'"),
    ],
)
def test_mistakes_in_a_check_file_name_the_line_and_the_field(text: str, message: str) -> None:
    with pytest.raises(CheckSpecError, match=message):
        load_checks(text, columns=list(frame().columns))


def test_the_default_checks_round_trip_through_yaml() -> None:
    r = assess(table(), mapping=MAPPING, today=TODAY)
    again = load_checks(r.checks_yaml, columns=list(frame().columns))
    assert [c.name for c in again.checks] == [c.name for c in r.checks]
    assert again.to_yaml() == r.checks_yaml


def test_unknown_columns_in_the_mapping_or_masks_name_the_available_ones() -> None:
    with pytest.raises(ValueError, match=r"puts opened in column 'when', .* its columns are: id, opened, closed"):
        assess(table(), mapping=CanonicalMapping({"opened": "when"}))
    with pytest.raises(ValueError, match=r"masked column 'who' is not in the table; its columns are: id"):
        assess(table(), masked=["who"])
    with pytest.raises(ValueError, match="unknown canonical field"):
        CanonicalMapping({"opnd": "opened"})


def test_an_empty_dataset_is_insufficient_with_the_reason_not_a_crash() -> None:
    empty = ibis.memtable(frame().iloc[0:0])
    r = assess(empty, mapping=MAPPING, today=TODAY)
    assert r.rows == 0 and r.verdict.level == "insufficient"
    assert r.verdict.explanation == "The dataset has no rows, so there is nothing to measure."
    assert all(d.score == 0 for d in r.dimensions if d.name != "timeliness") and r.table.first is None


def test_masked_columns_never_show_their_values() -> None:
    checks = "checks:\n  - in_set: {column: status, values: [Open]}\n"
    r = assess(table(), mapping=MAPPING, checks=checks, masked=["status", "note"], today=TODAY)
    sample = r.check("in set: status").sample
    assert set(sample["status"]) == {"•••"} and len(sample) == 4
    for name in ("status", "note"):
        c = r.column(name)
        assert c.masked and c.top == () and c.patterns == () and c.min is None and c.max is None
    text = json.dumps(r.to_dict()) + r.to_html()
    assert "Closed" not in text and "n/a" not in text


def test_the_verdict_is_judged_against_what_the_metrics_need() -> None:
    enough = Needs(fields=("opened", "status"), start=date(2024, 1, 1), end=date(2024, 6, 1), years=0.3)
    r = assess(table(), mapping=MAPPING, needs=enough, boundary=BOX, today=TODAY)
    assert r.verdict.level == "proceed with caution" and r.verdict.risks
    missing_field = Needs(fields=("opened", "type"), years=0.3, metrics=("backlog",))
    r = assess(table(), mapping=MAPPING, needs=missing_field, today=TODAY)
    assert r.verdict.level == "insufficient"
    assert "map a column to 'type' (needed by the metrics backlog)" in r.verdict.fix_first[0]
    history = Needs(fields=("opened",), years=3)
    r = assess(table(), mapping=MAPPING, needs=history, today=TODAY)
    assert r.verdict.level == "insufficient" and "find more history: 0.4 years of requests" in r.verdict.explanation
    assert r.dimension("history").score == pytest.approx(100 * (150.917 / 365.25) / 3, abs=0.06)


def test_clean_recent_data_that_meets_the_needs_is_sufficient() -> None:
    days = pd.date_range("2022-07-01", "2024-06-30", freq="6h")
    clean = pd.DataFrame(
        {
            "id": [f"SR-{i:06d}" for i in range(len(days))],
            "opened": days.strftime("%Y-%m-%d %H:%M:%S"),
            "closed": (days + pd.Timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S"),
            "status": "Closed",
        }
    )
    needs = Needs(fields=("opened", "closed"), start=date(2023, 1, 1), end=date(2024, 6, 1), years=1.5)
    mapping = CanonicalMapping({"id": "id", "opened": "opened", "closed": "closed", "status": "status"})
    r = assess(ibis.memtable(clean), mapping=mapping, needs=needs, today=TODAY)
    assert r.verdict.level == "sufficient", r.summary()
    assert all(d.score == 100 for d in r.dimensions), r.dimensions_frame()


def test_freshness_judges_the_newest_value_once_and_passes_a_column_without_dates() -> None:
    df = frame().assign(checked=["N/A", None, "", "junk", "N/A", None])
    checks = """\
checks:
  - freshness: {column: opened, max_age_days: 10, name: stale}
  - freshness: {column: opened, max_age_days: 40, name: fresh}
  - freshness: {column: checked, max_age_days: 1, name: undated}
"""
    r = assess(ibis.memtable(df), mapping=MAPPING, checks=checks, today=TODAY)
    judged = {c.name: (c.failing, c.total, c.error) for c in r.checks}
    assert judged == {"stale": (1, 1, None), "fresh": (0, 1, None), "undated": (0, 1, None)}
    assert r.check("stale").sample.empty  # a table-level check has no failing rows to show


def test_old_data_is_a_risk_unless_the_metrics_need_a_period_that_has_ended() -> None:
    days = pd.date_range("2020-07-01", "2022-06-30", freq="6h")
    old = pd.DataFrame(
        {
            "id": [f"SR-{i:06d}" for i in range(len(days))],
            "opened": days.strftime("%Y-%m-%d %H:%M:%S"),
            "closed": (days + pd.Timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S"),
            "status": "Closed",
        }
    )
    mapping = CanonicalMapping({"id": "id", "opened": "opened", "closed": "closed", "status": "status"})
    baseline = Needs(fields=("opened", "closed"), start=date(2021, 1, 1), end=date(2022, 6, 1), years=1.5)
    r = assess(ibis.memtable(old), mapping=mapping, needs=baseline, today=TODAY)
    assert r.dimension("timeliness").score < 80 and r.verdict.level == "sufficient", r.summary()
    ongoing = Needs(fields=("opened", "closed"), years=1.5)
    r = assess(ibis.memtable(old), mapping=mapping, needs=ongoing, today=TODAY)
    assert r.verdict.level == "proceed with caution"
    assert [risk for risk in r.verdict.risks if risk.startswith("timeliness ")] == [
        f"timeliness {r.dimension('timeliness').shown}/100: {r.dimension('timeliness').findings[0]}"
    ]


def test_text_dates_in_several_formats_and_with_offsets_are_read_in_the_citys_time() -> None:
    df = pd.DataFrame({"opened": ["2024-01-02T10:00:00", "01/03/2024 01:22:00 PM", "2024/01/04 15:00:00+00", "junk"]})
    mapping = CanonicalMapping({"opened": "opened"}, {"opened": ("ISO 8601", "%m/%d/%Y %I:%M:%S %p", "%Y/%m/%d %H:%M:%S%z")},
                               timezone="America/New_York")  # fmt: skip
    r = assess(ibis.memtable(df), mapping=mapping, today=TODAY)
    assert r.table.unparsed_dates == {"opened": 1}
    assert r.table.last == pd.Timestamp("2024-01-04 10:00").to_pydatetime()  # 15:00 UTC is 10:00 in New York
    assert r.table.first == pd.Timestamp("2024-01-02 10:00").to_pydatetime()
    assert any("not dates in any known format" in f for f in r.dimension("validity").findings)


def test_the_result_round_trips_and_reads_in_words_tables_and_html() -> None:
    r = assess(table(), mapping=MAPPING, boundary=BOX, today=TODAY)
    data = r.to_dict()
    json.dumps(data)  # JSON-safe
    assert Readiness.from_dict(data).to_dict() == data
    text = r.summary()
    assert text.startswith(f"Verdict: {r.verdict.level.upper()}") and "6 rows, 8 columns" in text
    assert list(r.checks_frame().columns)[:2] == ["check", "kind"] and len(r.profile_frame()) == 8
    assert list(r.dimensions_frame()["dimension"]) == list(ridp.readiness.DIMENSIONS)
    page = r.to_html(title="Test")
    assert page.startswith("<!doctype html>") and page.count("<svg") >= 3 and "<script" not in page
    assert not re.findall(r"(?:src|href)=\"https?://", page)
    assert not [u for u in re.findall(r"https?://[^\"' )]+", page) if "w3.org" not in u]


def test_the_module_is_callable_as_a_notebook_user_would_expect() -> None:
    r = ridp.readiness(table(), mapping=MAPPING, today=TODAY)
    assert isinstance(r, Readiness) and r.rows == 6


@pytest.mark.parametrize(
    "module",
    [
        "ridp.readiness",
        "ridp.readiness._canonical",
        "ridp.readiness.checks",
        "ridp.readiness._assess",
        "ridp.readiness.result",
    ],
)
def test_the_examples_in_the_docstrings_run(module: str) -> None:
    import importlib

    failed, tried = doctest.testmod(importlib.import_module(module))
    assert tried > 0 and failed == 0
