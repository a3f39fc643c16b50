"""Address matching: the normaliser case by case and under Hypothesis, and the match on real exports
equal to an independent pandas computation (normalise with ridp's normaliser, merge in pandas).

San Francisco: the geocoded ``cases_sample.csv`` (Address, Lat, Long) is the address-point dataset for the
10,000 cases of ``cases_sample_10000(no-geo).csv``; that file keeps the city's own geocoded ``Point`` text,
which the match never reads and which checks where the matched requests landed. New York: the ``311.csv``
rows without coordinates matched to the rows with them, on ``Incident Address``.
"""

from __future__ import annotations

import json
import math

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ridp.analysis.addresses import (
    DIRECTIONALS,
    STREET_SUFFIXES,
    AddressMatch,
    match_addresses,
    normalise_address,
)
from ridp.errors import FieldError
from tests.readiness.test_real_data import BY_PATH, raw_text

SF_POINTS = BY_PATH["san_francisco/cases_sample.csv"]
SF_REQUESTS = BY_PATH["san_francisco/cases_sample_10000(no-geo).csv"]
NYC = BY_PATH["nyc/311.csv"]
# Written again here: the expected figures use nothing of ridp's but the normaliser.
M_PER_DEGREE = 6_371_008.8 * math.pi / 180

CASES = [
    # city, state and ZIP tails after a comma
    ("2820 GREENWICH ST, SAN FRANCISCO, CA, 94123", "2820 GREENWICH ST"),
    ("  37 BRET HARTE TER, SAN FRANCISCO, CA, 94133", "37 BRET HARTE TER"),
    ("100 Main St., Suite 300, Springfield, IL 62701", "100 MAIN ST"),
    ("100, Main Street, Springfield", "100 MAIN ST"),
    # units
    ("255 WOODSIDE AVE, Apt 211, SAN FRANCISCO, CA, 94131", "255 WOODSIDE AVE"),
    ("100 Main Street Apt 4", "100 MAIN ST"),
    ("100 Main St #4", "100 MAIN ST"),
    ("100 Main St # 4B", "100 MAIN ST"),
    ("100 Main St Unit B", "100 MAIN ST"),
    ("1 Market Plaza Ste 200", "1 MARKET PLZ"),
    ("PIER 39", "PIER 39"),
    # suffixes and directionals (USPS Publication 28)
    ("500 Sunset Boulevard", "500 SUNSET BLVD"),
    ("12 Oak Road", "12 OAK RD"),
    ("40 Elm Drive", "40 ELM DR"),
    ("7 Rose Place", "7 ROSE PL"),
    ("9 Kings Court", "9 KINGS CT"),
    ("3 Lovers Lane", "3 LOVERS LN"),
    ("37 Bret Harte Terrace", "37 BRET HARTE TER"),
    ("1 Pacific Coast Highway", "1 PACIFIC COAST HWY"),
    ("20 Eastern Parkway", "20 EASTERN PKWY"),
    ("454 South Van Ness Avenue", "454 S VAN NESS AVE"),
    ("1600 Pennsylvania Avenue Northwest", "1600 PENNSYLVANIA AVE NW"),
    ("N.W. 3rd Street", "NW 3RD ST"),
    # numbered streets
    ("FIRST STREET", "1ST ST"),
    ("1st St", "1ST ST"),
    ("Twenty-First Avenue", "21ST AVE"),
    ("03RD ST", "3RD ST"),
    ("72 STREET", "72ND ST"),
    ("11 St", "11TH ST"),
    ("28 EAST   10 STREET", "28 E 10TH ST"),
    ("88-33 80 STREET", "88-33 80TH ST"),
    # house numbers: hyphenated numbers kept whole (Queens), fractions kept
    ("37 -47 103 STREET", "37-47 103RD ST"),
    ("100-104 Main St", "100-104 MAIN ST"),
    ("245-35A 77 CRESCENT", "245-35A 77 CRES"),
    ("123 1/2 Main St", "123 1/2 MAIN ST"),
    # punctuation and letters
    ("O'Farrell St", "OFARRELL ST"),
    ("Cañada Road", "CANADA RD"),
    ("Wilkes-Barre St", "WILKES BARRE ST"),
    # intersections: the two streets in sorted order
    ("Intersection of PACIFIC AVE and WEBSTER ST", "PACIFIC AVE & WEBSTER ST"),
    ("Intersection of WEBSTER STREET and PACIFIC AVENUE", "PACIFIC AVE & WEBSTER ST"),
    ("MARKET ST & 5TH ST", "5TH ST & MARKET ST"),
    ("5th Street / Market Street", "5TH ST & MARKET ST"),
    ("Market St @ Fifth St", "5TH ST & MARKET ST"),
    ("Intersection of MARKET ST and MARKET STREET", "MARKET ST"),
    # no address
    ("N/A", None),
    ("", None),
    ("   ", None),
    ("null", None),
    ("UNKNOWN", None),
    ("Not associated with a specific address", None),
    (", SAN FRANCISCO, CA, 94110", None),
    ("#", None),
    (None, None),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_normalise_address_cases(text, expected):
    assert normalise_address(text) == expected


def test_the_standard_forms_are_their_own_standard_form():
    for value in [*STREET_SUFFIXES.values(), *DIRECTIONALS.values()]:
        assert normalise_address(f"1 X {value}") == f"1 X {value}"


ADDRESS_WORDS = st.sampled_from(
    ["1", "100", "88-33", "1/2", "MAIN", "ST", "STREET", "AVENUE", "N", "NORTH", "FIRST", "TWENTY", "1ST", "72",
     "AND", "&", "@", "/", "#", "APT", "4B", "UNIT", "INTERSECTION", "OF", ",", "N/A", "-", ".", "'", "É", "0"]
)  # fmt: skip
ADDRESS_LIKE = st.lists(ADDRESS_WORDS, max_size=12).map(" ".join) | st.lists(ADDRESS_WORDS, max_size=12).map("".join)


@settings(max_examples=600, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text() | ADDRESS_LIKE)
def test_normalising_twice_is_normalising_once(text):
    once = normalise_address(text)
    assert once is None or normalise_address(once) == once


@settings(max_examples=600, deadline=None, database=None)
@given(st.text(alphabet=st.characters(), max_size=200))
def test_normalise_never_raises_and_gives_plain_text(text):
    out = normalise_address(text)
    assert out is None or (out == out.strip() and "  " not in out and out.isascii() and out == out.upper() and out)


# -- the independent computation ----------------------------------------------------------------------------------


def number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.str.strip(), errors="coerce")


def expected_match(
    requests: pd.DataFrame,
    points: pd.DataFrame,
    *,
    request_address: str,
    address: str,
    lat: str,
    lon: str,
    request_lat: str | None = None,
    request_lon: str | None = None,
    max_spread_m: float = 100.0,
) -> pd.DataFrame:
    """Each request's status and coordinates, from the raw text with pandas (one row per request, same order)."""
    plat, plon = number(points[lat]), number(points[lon])
    usable = plat.notna() & plon.notna() & ~((plat == 0) & (plon == 0))
    pts = pd.DataFrame({"norm": points[address].map(normalise_address), "lat": plat, "lon": plon})[usable]
    pts = pts.dropna(subset=["norm"]).drop_duplicates()
    per = pts.groupby("norm").agg(
        points=("lat", "size"),
        mlat=("lat", "mean"),
        mlon=("lon", "mean"),
        max_lat=("lat", "max"),
        min_lat=("lat", "min"),
        max_lon=("lon", "max"),
        min_lon=("lon", "min"),
    )
    per["dlat"], per["dlon"] = per.max_lat - per.min_lat, per.max_lon - per.min_lon  # each group's range
    per["spread"] = np.hypot(per.dlat * M_PER_DEGREE, per.dlon * M_PER_DEGREE * np.cos(np.radians(per.mlat)))
    out = pd.DataFrame({"raw": requests[request_address], "norm": requests[request_address].map(normalise_address)})
    if request_lat:
        out["lat"], out["lon"] = number(requests[request_lat]), number(requests[request_lon])
    else:
        out["lat"], out["lon"] = np.nan, np.nan
    out["given"] = out.lat.notna() & out.lon.notna() & ~((out.lat == 0) & (out.lon == 0))
    out = out.join(per[["points", "mlat", "mlon", "spread"]], on="norm")
    out["status"] = np.select(
        [out.given, out.norm.isna(), out.spread <= max_spread_m, out.points.notna()],
        ["given", "no_address", "matched", "ambiguous"],
        "unmatched",
    )
    matched = out.status == "matched"
    out["out_lat"] = out.mlat.where(matched, out.lat)
    out["out_lon"] = out.mlon.where(matched, out.lon)
    return out


def expected_examples(out: pd.DataFrame) -> list[tuple[str, int, str]]:
    missed = out[out.status.isin(["unmatched", "ambiguous"])]
    top = missed.groupby("norm").agg(n=("raw", "size"), status=("status", "first")).reset_index()
    top = top.sort_values(["n", "norm"], ascending=[False, True]).head(10)
    reason = {"unmatched": "no address point", "ambiguous": "ambiguous"}
    return [(r.norm, int(r.n), reason[r.status]) for r in top.itertuples()]


def assert_counts(result: AddressMatch, out: pd.DataFrame) -> None:
    status = out.status.value_counts()
    for name in ("given", "matched", "unmatched", "ambiguous", "no_address"):
        assert getattr(result, name) == int(status.get(name, 0)), name
    assert result.rows == len(out) and result.needing == int((~out.given).sum())
    assert result.needing == result.matched + result.unmatched + result.ambiguous + result.no_address
    assert result.averaged == int(((out.status == "matched") & (out.points > 1)).sum())
    assert result.match_rate == pytest.approx(status.get("matched", 0) / (~out.given).sum(), rel=1e-12)
    assert [(e.normalised, e.requests, e.reason) for e in result.examples] == expected_examples(out)


# -- San Francisco ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sf(stored_table):
    stored_table.prefetch([SF_POINTS.source, SF_REQUESTS.source])
    requests, points = stored_table(SF_REQUESTS.source), stored_table(SF_POINTS.source)
    result = match_addresses(requests, points, request_address="Address", address="Address", lat="Lat", lon="Long")
    out = expected_match(
        raw_text(SF_REQUESTS.source), raw_text(SF_POINTS.source),
        request_address="Address", address="Address", lat="Lat", lon="Long",
    )  # fmt: skip
    return result, out


def test_sf_counts_and_match_rate_equal_pandas(sf):
    result, out = sf
    assert_counts(result, out)
    assert result.rows == result.needing == 10_000 and result.given == 0
    assert result.points_read == 4_984
    # the figures as run when this test was written, so a change in the normaliser shows here too
    assert (result.matched, result.unmatched, result.ambiguous, result.no_address) == (3_040, 6_932, 5, 23)
    print(result.summary())
    print(result.to_pandas().to_string())


def test_sf_filled_coordinates_equal_pandas_and_the_citys_own_geocode(sf):
    result, out = sf
    table = result.table.to_pandas()
    raw = raw_text(SF_REQUESTS.source)
    assert raw.CaseID.is_unique
    got = table.assign(CaseID=table.CaseID.astype(str)).set_index("CaseID")
    want = out.assign(CaseID=raw.CaseID.to_numpy()).set_index("CaseID").loc[got.index]
    np.testing.assert_allclose(got.lat.astype(float), want.out_lat.astype(float), rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(got.lon.astype(float), want.out_lon.astype(float), rtol=1e-12, equal_nan=True)
    expected_from = want.status.map({"matched": "address"})
    assert [None if pd.isna(v) else v for v in got.coordinates_from] == [
        None if pd.isna(v) else v for v in expected_from
    ]
    # The no-geo file kept the city's own geocoded point as text; the match never read it.
    placed = got[got.coordinates_from == "address"]
    point = (
        raw.set_index("CaseID").loc[placed.index, "Point"].str.strip("()").str.split(", ", expand=True).astype(float)
    )
    metres = np.hypot(
        (point[0] - placed.lat) * M_PER_DEGREE, (point[1] - placed.lon) * M_PER_DEGREE * np.cos(np.radians(point[0]))
    )
    assert (metres < 50).mean() > 0.99, metres.describe()


def test_sf_unmatched_examples_are_shown_with_raw_and_normalised_text(sf):
    result, out = sf
    assert len(result.examples) == 10
    top = result.examples[0]
    missed = out[out.norm == top.normalised]
    assert top.address in set(missed.raw) and top.requests == len(missed)
    assert repr(top.address.strip()) in result.summary()
    frame = result.to_pandas()
    assert list(frame.columns) == ["address", "normalised", "requests", "reason", "points", "spread_m"]
    assert frame.requests.is_monotonic_decreasing


def test_sf_result_round_trips_through_json(sf):
    result, _ = sf
    data = json.loads(json.dumps(result.to_dict()))
    again = AddressMatch.from_dict(data)
    assert again.to_dict() == result.to_dict() and again.table is None
    assert again.summary() == result.summary()


# -- New York -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nyc(stored_table):
    table = stored_table(NYC.source)
    columns = {"request_address": "Incident Address", "request_lat": "Latitude", "request_lon": "Longitude"}
    result = match_addresses(table, table, address="Incident Address", lat="Latitude", lon="Longitude", **columns)
    raw = raw_text(NYC.source)
    out = expected_match(raw, raw, address="Incident Address", lat="Latitude", lon="Longitude", **columns)
    return result, out, raw


def test_nyc_rows_without_coordinates_matched_to_rows_with_them(nyc):
    result, out, _ = nyc
    assert_counts(result, out)
    assert result.rows == 5_895 and result.needing == int((out.lat.isna() | out.lon.isna()).sum())
    assert result.needing - result.no_address == int((~out.given & out.norm.notna()).sum())
    print(result.summary())


def test_nyc_given_coordinates_are_kept_untouched(nyc):
    result, out, raw = nyc
    table = result.table.to_pandas()
    got = table.assign(key=table["Unique Key"].astype(str)).set_index("key")
    given = raw[out.given.to_numpy()].set_index("Unique Key")
    kept = got.loc[given.index]
    assert (kept.coordinates_from == "given").all()
    assert kept.Latitude.astype(float).tolist() == number(given.Latitude).tolist()
    assert kept.Longitude.astype(float).tolist() == number(given.Longitude).tolist()
    filled = got[got.coordinates_from == "address"]
    want = out.assign(key=raw["Unique Key"].to_numpy()).set_index("key").loc[filled.index]
    np.testing.assert_allclose(filled.Latitude.astype(float), want.out_lat.astype(float), rtol=1e-12)


# -- small tables: the rules one at a time ------------------------------------------------------------------------

POINTS = pd.DataFrame(
    {
        "addr": ["100 MAIN STREET", "100 Main St", "200 ELM ROAD", "200 Elm Rd", "300 PINE DRIVE", "300 Pine Dr",
                 "400 Oak Ave", "500 Ash Ct"],
        "y": [40.5, 40.5, 40.7, 40.7002, 40.8, 40.82, 0.0, None],
        "x": [-75.5, -75.5, -75.7, -75.7, -75.8, -75.8, 0.0, -75.9],
    }
)  # fmt: skip


def small(requests: dict[str, list[object]], **kwargs: object) -> AddressMatch:
    return match_addresses(
        ibis.memtable(pd.DataFrame(requests)), ibis.memtable(POINTS), address="addr", lat="y", lon="x", **kwargs
    )


def test_given_coordinates_stay_and_missing_or_zero_ones_are_filled():
    result = small(
        {
            "id": [1, 2, 3, 4],
            "where": ["100 Main St", "100 Main St", "100 Main St", "100 Main St"],
            "la": [41.25, None, 0.0, 41.5],
            "lo": [-74.125, None, 0.0, None],
        },
        request_address="where",
        request_lat="la",
        request_lon="lo",
    )
    frame = result.table.to_pandas().sort_values("id")
    assert list(frame.columns) == ["id", "where", "la", "lo", "coordinates_from"]
    assert frame.la.tolist() == [41.25, 40.5, 40.5, 40.5]
    assert frame.lo.tolist() == [-74.125, -75.5, -75.5, -75.5]
    assert frame.coordinates_from.tolist() == ["given", "address", "address", "address"]
    # two rows of one point at one place are one point: not an average
    assert (result.given, result.needing, result.matched, result.averaged) == (1, 3, 3, 0)


def test_close_points_are_averaged_and_far_ones_are_ambiguous():
    result = small({"id": [1, 2, 3, 4], "where": ["200 Elm Road", "300 Pine Drive", "400 Oak Avenue", "500 ASH COURT"]},
                   request_address="where")  # fmt: skip
    frame = result.table.to_pandas().sort_values("id")
    assert frame.lat.iloc[0] == pytest.approx((40.7 + 40.7002) / 2, rel=1e-12)  # 22 m apart: the mean
    assert frame.lon.iloc[0] == pytest.approx(-75.7, rel=1e-12)
    assert frame.lat.iloc[1:].isna().all()  # 2.2 km apart; points at (0, 0) or without latitude are no points
    assert (result.matched, result.averaged, result.ambiguous, result.unmatched) == (1, 1, 1, 2)
    pine = next(e for e in result.examples if e.normalised == "300 PINE DR")
    assert pine.reason == "ambiguous" and pine.points == 2
    assert pine.spread_m == pytest.approx(round(0.02 * M_PER_DEGREE, 1))
    assert result.points_read == 8 and result.points_used == 6
    tight = small({"where": ["200 Elm Road"]}, request_address="where", max_spread_m=10)
    assert (tight.matched, tight.ambiguous) == (0, 1)


def test_requests_without_address_text_are_counted_apart():
    result = small({"where": ["", None, "N/A", "  ", "100 main street"]}, request_address="where")
    assert (result.no_address, result.matched, result.needing) == (4, 1, 5)
    assert result.match_rate == pytest.approx(0.2) and result.address_match_rate == pytest.approx(1.0)
    assert "4 have no address text" in result.summary()


@pytest.mark.parametrize(
    ("kwargs", "field", "named"),
    [
        ({"request_address": "nope"}, "request_address", "nope"),
        ({"address": "nope"}, "address", "nope"),
        ({"lat": "nope"}, "lat", "nope"),
        ({"lon": "nope"}, "lon", "nope"),
        ({"request_lat": "nope", "request_lon": "lo"}, "request_lat", "nope"),
        ({"request_lat": "la"}, "request_lon", "request_lat"),
    ],
)
def test_a_missing_column_is_a_field_error_naming_it(kwargs, field, named):
    requests = ibis.memtable(pd.DataFrame({"where": ["1 A ST"], "la": [1.0], "lo": [2.0]}))
    arguments = {"request_address": "where", "address": "addr", "lat": "y", "lon": "x", **kwargs}
    with pytest.raises(FieldError) as caught:
        match_addresses(requests, ibis.memtable(POINTS), **arguments)
    assert caught.value.field == field and named in str(caught.value)


def test_coordinate_columns_already_there_must_be_named():
    requests = ibis.memtable(pd.DataFrame({"where": ["1 A ST"], "lat": [1.0]}))
    with pytest.raises(FieldError, match="'lat'") as caught:
        match_addresses(requests, ibis.memtable(POINTS), request_address="where", address="addr", lat="y", lon="x")
    assert caught.value.field == "request_lat"
