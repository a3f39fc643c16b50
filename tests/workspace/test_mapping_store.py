"""Mapping a dataset in the store: proposed, corrected, confirmed, attributed, guarded."""

from __future__ import annotations

import pytest

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError
from tests.conftest import SHARED_DATA

BOSTON = SHARED_DATA / "city" / "boston" / "boston311-100.csv"


@pytest.fixture
def requests_dataset(people):
    from ridp.workspace.datasets import add_file

    add_file(people.ana, BOSTON, city="springfield", name="requests")
    return people


def test_first_look_proposes_and_stores_an_unconfirmed_mapping(requests_dataset):
    from ridp.workspace.mapping import current_mapping, map_dataset

    people = requests_dataset
    assert current_mapping(people.ana, "springfield", "requests") is None
    m = map_dataset(people.ana, "springfield", "requests")
    assert m.fields["opened"]["column"] == "open_dt" and m.fields["closed"]["column"] == "closed_dt"
    assert m.timezone == "America/Chicago" and m.confirmed_by is None
    assert "neighborhood" in m.areas
    assert current_mapping(people.ana, "springfield", "requests").pk == m.pk


def test_analyst_corrects_and_confirms_and_it_is_audited(requests_dataset):
    from ridp.workspace.mapping import map_dataset
    from ridp.workspace.models import AuditEntry, DatasetMapping

    people = requests_dataset
    first = map_dataset(people.ana, "springfield", "requests")
    m = map_dataset(people.ana, "springfield", "requests", set_fields={"type": "reason", "channel": ""}, accept=True)
    assert m.fields["type"] == {
        "column": "reason",
        "confidence": 1.0,
        "reasons": ["set by ana"],
        "date_formats": [],
        "ambiguous_day_month": False,
    }
    assert "channel" not in m.fields
    assert m.confirmed_by == people.ana and m.confirmed_at is not None
    assert DatasetMapping.objects.filter(dataset=m.dataset).count() == 2 and first.pk != m.pk
    assert AuditEntry.objects.filter(action="dataset.mapping_confirmed", actor=people.ana).count() == 1


def test_a_date_field_set_by_hand_gets_its_formats_from_the_values(requests_dataset):
    from ridp.workspace.mapping import map_dataset

    m = map_dataset(requests_dataset.ana, "springfield", "requests", set_fields={"closed": "target_dt"})
    assert m.fields["closed"]["date_formats"] == ["ISO 8601"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"opened": "no_such_column"}, "has no column 'no_such_column'"),
        ({"colour": "type"}, "'colour' is not a canonical field"),
        ({"type": "open_dt"}, "one column cannot stand for two fields"),
    ],
)
def test_bad_corrections_are_refused_naming_the_field(requests_dataset, fields, message):
    from ridp.workspace.mapping import map_dataset

    with pytest.raises(FieldError) as info:
        map_dataset(requests_dataset.ana, "springfield", "requests", set_fields=fields)
    assert message in str(info.value)


def test_only_analysts_change_mappings_and_other_cities_see_nothing(requests_dataset):
    from ridp.workspace.mapping import map_dataset

    people = requests_dataset
    assert map_dataset(people.sam, "springfield", "requests").confirmed_by is None  # a leader may look
    with pytest.raises(PermissionDeniedError):
        map_dataset(people.sam, "springfield", "requests", accept=True)
    with pytest.raises(NotFoundError):
        map_dataset(people.otto, "springfield", "requests")


def test_a_new_version_without_the_mapped_columns_gets_a_fresh_proposal(requests_dataset, tmp_path):
    from ridp.workspace.datasets import add_file
    from ridp.workspace.mapping import map_dataset

    people = requests_dataset
    map_dataset(people.ana, "springfield", "requests", accept=True)
    renamed = tmp_path / "requests.csv"
    text = BOSTON.read_text(encoding="utf-8").replace("open_dt", "opened_at", 1)
    renamed.write_text(text, encoding="utf-8")
    add_file(people.ana, renamed, city="springfield", name="requests")
    m = map_dataset(people.ana, "springfield", "requests")
    assert m.fields["opened"]["column"] == "opened_at" and m.confirmed_by is None
