"""Inventory records: every field of the GovEx guide, with or without data."""

from __future__ import annotations

import pytest

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError
from tests.conftest import SHARED_DATA


def test_a_sensitive_system_is_listed_without_data(people):
    from ridp.workspace.datasets import describe, list_datasets, preview, record_inventory
    from ridp.workspace.models import AuditEntry
    from ridp.workspace.store import check_integrity

    d = record_inventory(
        people.sam, "springfield", "child welfare cases",
        description="Case records of the children's services department", owner_department="Children's Services",
        steward="J. Rivera", source_system="CaseTrack", update_frequency="daily", licence="internal use",
        public="no", sensitivity="high", sensitivity_reason="minors, family circumstances",
        years_of_history=12, known_quality_issues="addresses typed by hand", needs_agreement=True,
    )  # fmt: skip
    record = describe(d)
    assert record["current_version"] is None and record["needs_agreement"] is True
    assert record["inventory"]["years_of_history"] == 12.0 and record["inventory"]["sensitivity"] == "high"
    assert [x.name for x in list_datasets(people.vera, "springfield")] == ["child welfare cases"]
    with pytest.raises(NotFoundError, match="has no data yet"):
        preview(people.ana, "springfield", "child welfare cases")
    assert check_integrity() == []
    assert AuditEntry.objects.filter(action="dataset.inventory_recorded", actor=people.sam).count() == 1


def test_uploading_data_keeps_the_record_and_updates_change_it(people):
    from ridp.workspace.datasets import add_file, get_dataset, record_inventory

    record_inventory(people.ana, "springfield", "requests", owner_department="Public Works", public="partial")
    add_file(people.ana, SHARED_DATA / "city/boston/NYC311-5.csv", city="springfield", name="requests")
    record_inventory(people.ana, "springfield", "requests", update_frequency="weekly")
    d = get_dataset(people.ana, "springfield", "requests")
    assert (d.owner_department, d.public, d.update_frequency, d.current_version.rows) == (
        "Public Works",
        "partial",
        "weekly",
        5,
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"public": "maybe"}, "public"),
        ({"years_of_history": -1}, "years_of_history"),
        ({"years_of_history": "lots"}, "years_of_history"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_fields_are_named(people, fields, field):
    from ridp.workspace.datasets import record_inventory

    with pytest.raises(FieldError) as info:
        record_inventory(people.ana, "springfield", "x", **fields)
    assert info.value.field == field


def test_viewers_and_other_cities_cannot_write_the_inventory(people):
    from ridp.workspace.datasets import record_inventory

    with pytest.raises(PermissionDeniedError):
        record_inventory(people.vera, "springfield", "x", public="no")
    with pytest.raises(NotFoundError):
        record_inventory(people.otto, "springfield", "x", public="no")
