"""Personal-data classification: suggested from real exports, confirmed, inherited, masked."""

from __future__ import annotations

import pytest

from ridp.errors import FieldError, PermissionDeniedError
from tests.conftest import SHARED_DATA

CITY = SHARED_DATA / "city"
CASES = {
    "nyc/311.csv": (
        {"Incident Address", "Latitude", "Longitude"},
        {"Unique Key", "Complaint Type", "Borough", "Agency"},
    ),
    "boston/boston311-100.csv": (
        {"location", "latitude", "longitude"},
        {"case_enquiry_id", "type", "neighborhood", "ward"},
    ),
    "chicago/311 Service Requests - Pot Holes Reported - Historical.csv": (
        {"street_address", "latitude", "longitude"},
        {"service_request_number", "ward", "status"},
    ),
    "san_francisco/cases_sample.csv": ({"Address", "Lat", "Long"}, {"CaseID", "Category", "Neighborhood"}),
    "baltimore/Customer_Service_Requests_2018.csv": (
        {"address", "latitude", "longitude"},
        {"servicerequestnum", "srrecordid", "srtype", "neighborhood"},
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_real_exports_flag_addresses_and_coordinates_not_request_ids(people, name):
    from ridp.workspace.classify import classify_dataset
    from ridp.workspace.datasets import add_file

    add_file(people.ana, CITY / name, city="springfield", name="requests")
    columns = {c.name: c for c in classify_dataset(people.ana, "springfield", "requests")}
    personal, not_personal = CASES[name]
    for column in personal:
        assert columns[column].suggested_classification == "personal", (column, columns[column].classification_reasons)
    for column in not_personal:
        assert columns[column].suggested_classification == "internal", (column, columns[column].classification_reasons)
    assert all(c.classification == "" for c in columns.values())  # nothing confirmed by itself


def test_confirm_set_mask_and_inherit(people, tmp_path):
    from ridp.workspace.classify import classify_dataset
    from ridp.workspace.datasets import add_file, preview
    from ridp.workspace.models import AuditEntry

    add_file(people.ana, CITY / "boston/boston311-100.csv", city="springfield", name="requests")
    columns = classify_dataset(
        people.ana, "springfield", "requests", set_columns={"closure_reason": "personal"}, accept=True
    )
    confirmed = {c.name: c.classification for c in columns}
    assert (
        confirmed["location"] == "personal"
        and confirmed["closure_reason"] == "personal"
        and confirmed["type"] == "internal"
    )
    p = preview(people.ana, "springfield", "requests", limit=5)
    assert set(p.masked) >= {"location", "latitude", "longitude", "closure_reason"}
    i = p.columns.index("location")
    assert {row[i] for row in p.rows} <= {"•••", None}
    entry = AuditEntry.objects.get(action="dataset.classification_confirmed")
    assert entry.detail["personal"] >= 4 and "location" not in str(entry.detail)
    add_file(people.ana, CITY / "boston/boston311-100-notime.csv", city="springfield", name="requests")
    p2 = preview(people.ana, "springfield", "requests", limit=2)
    assert p2.version.number == 2 and set(p2.masked) >= {"location", "closure_reason"}


def test_only_analysts_confirm_and_bad_values_are_named(people):
    from ridp.workspace.classify import classify_dataset
    from ridp.workspace.datasets import add_file

    add_file(people.ana, CITY / "boston/NYC311-5.csv", city="springfield", name="requests")
    with pytest.raises(PermissionDeniedError):
        classify_dataset(people.sam, "springfield", "requests", accept=True)
    with pytest.raises(FieldError, match="'secret' is not a class"):
        classify_dataset(people.ana, "springfield", "requests", set_columns={"Agency": "secret"})
    with pytest.raises(FieldError, match="has no column 'nope'"):
        classify_dataset(people.ana, "springfield", "requests", set_columns={"nope": "public"})
