"""Schema mapping on every real 311 export: from names, and from values alone."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from ridp.ingest import parse_file
from ridp.ingest.mapping import propose_mapping
from tests.conftest import SHARED_DATA

CITY = SHARED_DATA / "city"
# Hand-checked against each file's own documentation and values.
EXPECTED = {
    "nyc/311.csv": (
        "America/New_York",
        {
            "id": "Unique Key",
            "type": "Complaint Type",
            "opened": "Created Date",
            "closed": "Closed Date",
            "status": "Status",
            "agency": "Agency",
            "channel": "Open Data Channel Type",
            "latitude": "Latitude",
            "longitude": "Longitude",
            "address": "Incident Address",
        },
    ),
    "boston/NYC311-5.csv": (
        "America/New_York",
        {
            "id": "Unique Key",
            "opened": "Created Date",
            "closed": "Closed Date",
            "latitude": "Latitude",
            "longitude": "Longitude",
        },
    ),
    "boston/NYC311-5.parquet": (
        "America/New_York",
        {
            "id": "Unique Key",
            "opened": "Created Date",
            "closed": "Closed Date",
            "latitude": "Latitude",
            "longitude": "Longitude",
        },
    ),
    "boston/boston311-100.csv": (
        "America/New_York",
        {
            "id": "case_enquiry_id",
            "type": "type",
            "opened": "open_dt",
            "closed": "closed_dt",
            "status": "case_status",
            "agency": "department",
            "channel": "source",
            "latitude": "latitude",
            "longitude": "longitude",
            "address": "location",
        },
    ),
    "boston/boston311-dmy-100.csv": (
        "America/New_York",
        {"opened": "open_dt", "closed": "closed_dt", "latitude": "latitude", "longitude": "longitude"},
    ),
    "boston/boston311-100-notime.csv": (
        "America/New_York",
        {"opened": "open_dt", "closed": "closed_dt", "latitude": "latitude", "longitude": "longitude"},
    ),
    "boston/boston311-100-with-nonascii.csv": (
        "America/New_York",
        {"opened": "open_dt", "closed": "closed_dt", "latitude": "latitude", "longitude": "longitude"},
    ),
    "chicago/311 Service Requests - Pot Holes Reported - Historical.csv": (
        "America/Chicago",
        {
            "id": "service_request_number",
            "opened": "creation_date",
            "closed": "completion_date",
            "status": "status",
            "latitude": "latitude",
            "longitude": "longitude",
            "address": "street_address",
        },
    ),
    "san_francisco/cases_sample.csv": (
        "America/Los_Angeles",
        {
            "id": "CaseID",
            "type": "Request.Type",
            "opened": "Opened",
            "closed": "Closed",
            "status": "Status",
            "channel": "Source",
            "latitude": "Lat",
            "longitude": "Long",
            "address": "Address",
        },
    ),
    "baltimore/Customer_Service_Requests_2018.csv": (
        "America/New_York",
        {
            "id": "servicerequestnum",
            "type": "srtype",
            "opened": "createddate",
            "closed": "closedate",
            "status": "srstatus",
            "agency": "agency",
            "latitude": "latitude",
            "longitude": "longitude",
            "address": "address",
        },
    ),
}
FROM_VALUES = ("opened", "closed", "latitude", "longitude")


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """Each file as ridp stores it (typed Parquet), first 5,000 rows."""
    folder = tmp_path_factory.mktemp("mapping")
    out = {}
    for i, name in enumerate(EXPECTED):
        target = folder / f"{i}.parquet"
        parse_file(
            CITY / name,
            target,
            max_columns=2000,
            max_line_bytes=2_097_152,
            memory_bytes=4_000_000_000,
            cpu_seconds=60,
            engine_memory=500_000_000,
        )
        out[name] = next(pq.ParquetFile(target).iter_batches(batch_size=5000)).to_pandas()
    return out


@pytest.mark.parametrize("name", list(EXPECTED))
def test_mapping_from_names_and_values(samples, name):
    timezone, expected = EXPECTED[name]
    proposal = propose_mapping(samples[name], timezone=timezone)
    assert {f: proposal.column(f) for f in expected} == expected
    for match in proposal.fields:
        assert 0 < match.confidence <= 1 and match.reasons


@pytest.mark.parametrize("name", list(EXPECTED))
@pytest.mark.parametrize("as_text", [False, True], ids=["typed", "all-text"])
def test_mapping_from_values_alone_with_columns_renamed(samples, name, as_text):
    timezone, expected = EXPECTED[name]
    frame = samples[name].copy()
    if as_text:
        frame = frame.astype("string")
    renamed = {c: f"col_{i + 1}" for i, c in enumerate(frame.columns)}
    frame.columns = list(renamed.values())
    proposal = propose_mapping(frame, timezone=timezone)
    for field in FROM_VALUES:
        assert proposal.column(field) == renamed[expected[field]], (field, proposal.get(field))


def test_area_columns_are_found_by_name(samples):
    proposal = propose_mapping(samples["boston/boston311-100.csv"], timezone="America/New_York")
    areas = {a.column for a in proposal.areas}
    assert {"neighborhood", "ward", "city_council_district", "location_zipcode"} <= areas
    assert "case_enquiry_id" not in areas


def test_dates_carry_their_formats_and_day_month_order(samples):
    dmy = propose_mapping(samples["boston/boston311-dmy-100.csv"], timezone="America/New_York").get("opened")
    assert dmy is not None and dmy.date_formats[0] == "%d/%m/%Y %H:%M:%S" and not dmy.ambiguous_day_month
    nyc = propose_mapping(samples["nyc/311.csv"], timezone="America/New_York").get("opened")
    assert nyc is not None and nyc.date_formats[0] == "%m/%d/%Y %I:%M:%S %p"


def test_demo_city_maps_with_mixed_date_formats(tmp_path):
    from ridp.demo import generate_city

    city = generate_city(tmp_path, rows=5000, seed=3)
    target = tmp_path / "v.parquet"
    parse_file(
        city.requests_csv,
        target,
        max_columns=100,
        max_line_bytes=2_097_152,
        memory_bytes=4_000_000_000,
        cpu_seconds=60,
        engine_memory=500_000_000,
    )
    proposal = propose_mapping(pq.read_table(target).to_pandas(), timezone="America/New_York")
    assert proposal.column("opened") == "requested_datetime" and proposal.column("closed") == "closed_datetime"
    assert len(proposal.get("opened").date_formats) >= 2
