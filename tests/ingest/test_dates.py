"""Dates in the forms cities export them, read in the city's time zone."""

from __future__ import annotations

import pandas as pd

from ridp.ingest.dates import detect_dates, parse_dates


def test_formats_are_detected_per_value_and_counted():
    d = detect_dates(["2024-03-05 13:22:00", "03/06/2024 01:22:00 PM", "2024-03-07T08:00:00", None, " "])
    assert dict(d.formats) == {"ISO 8601": 2, "%m/%d/%Y %I:%M:%S %p": 1}
    assert d.parsed_share == 1.0 and d.values == 3


def test_day_first_is_decided_by_the_values():
    assert detect_dates(["21/01/2022 13:47:00", "04/02/2022 13:47:30"]).formats[0][0] == "%d/%m/%Y %H:%M:%S"
    us = detect_dates(["01/21/2022", "02/04/2022"])
    assert us.formats[0][0] == "%m/%d/%Y" and not us.ambiguous_day_month
    assert detect_dates(["01/02/2022", "03/04/2022"]).ambiguous_day_month


def test_offsets_are_kept_and_local_times_use_the_city_zone():
    values = ["2018/05/08 07:51:45+00", "2024-07-01 12:00:00", "2024-01-15 12:00:00", "nonsense"]
    d = detect_dates(values)
    parsed = parse_dates(values, [f for f, _ in d.formats], "America/New_York")
    assert parsed[0] == pd.Timestamp("2018-05-08 07:51:45", tz="UTC")
    assert parsed[1] == pd.Timestamp("2024-07-01 16:00:00", tz="UTC")  # EDT, UTC-4
    assert parsed[2] == pd.Timestamp("2024-01-15 17:00:00", tz="UTC")  # EST, UTC-5
    assert pd.isna(parsed[3])


def test_a_local_time_that_does_not_exist_is_not_guessed():
    parsed = parse_dates(["2024-03-10 02:30:00"], ["ISO 8601"], "America/New_York")
    assert pd.isna(parsed[0])


def test_a_date_ending_in_a_day_is_not_read_as_an_offset():
    d = detect_dates(["2022-01-21", "2022-01-19"])
    assert d.formats == (("ISO 8601", 2),) and not d.has_offset
