"""Requests without coordinates placed by their street address, matched to an address-point dataset.

``match_addresses(requests, points, request_address=..., address=..., lat=..., lon=...)``
fills in the coordinates of requests that have none (missing, or both zero: a
placeholder) from a dataset of address points (or parcels with their centroids):
a request whose address, once normalised, is the normalised address of a point
takes that point's coordinates.

How it runs: the request table never leaves the engine. Only the **distinct**
address texts are fetched (an Ibis ``distinct()``), normalised here in Python by
:func:`normalise_address`, and the raw → normalised map goes back to the engine as
an ``ibis.memtable`` for the joins.

An address that normalises to several points with different coordinates is
ambiguous. When the points lie close together (the diagonal of the box around them,
an upper bound of the largest distance between two of them, is at most
``max_spread_m``, 100 m by default: the entrances of one building, a parcel and its
address point) the request takes the mean of the distinct points; otherwise it is
left without coordinates and counted as ambiguous.

Each request needing coordinates ends in exactly one of: ``matched``,
``unmatched`` (its address has no point), ``ambiguous`` (points too far apart) or
``no_address`` (no address text, or only a placeholder such as "N/A").

Part of the analytical core: Ibis only, never Django.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from ridp.analysis._values import engine_of as _engine
from ridp.errors import FieldError

__all__ = [
    "DIRECTIONALS",
    "EXAMPLES",
    "METRES_PER_DEGREE",
    "STREET_SUFFIXES",
    "UNIT_DESIGNATORS",
    "AddressMatch",
    "UnmatchedAddress",
    "match_addresses",
    "normalise_address",
]

EXAMPLES: Final = 10
#: Metres in one degree of latitude (mean Earth radius 6,371,008.8 m × π / 180).
METRES_PER_DEGREE: Final = 6_371_008.8 * math.pi / 180
COORDINATES_FROM: Final = "coordinates_from"

# -- the normaliser's tables ------------------------------------------------------------------------------------------

#: Street suffixes (USPS Publication 28, appendix C1): the common spellings of each, to its standard abbreviation.
STREET_SUFFIXES: Final[Mapping[str, str]] = {
    **dict.fromkeys(("ALLEY", "ALLEE", "ALLY", "ALY"), "ALY"),
    **dict.fromkeys(("ANNEX", "ANEX", "ANNX", "ANX"), "ANX"),
    **dict.fromkeys(("AVENUE", "AV", "AVE", "AVEN", "AVENU", "AVN", "AVNUE"), "AVE"),
    **dict.fromkeys(("BOULEVARD", "BLVD", "BOUL", "BOULV", "BLV"), "BLVD"),
    **dict.fromkeys(("BRIDGE", "BRDGE", "BRG"), "BRG"),
    **dict.fromkeys(("BYPASS", "BYPA", "BYPAS", "BYPS", "BYP"), "BYP"),
    **dict.fromkeys(("CIRCLE", "CIR", "CIRC", "CIRCL", "CRCL", "CRCLE"), "CIR"),
    **dict.fromkeys(("COURT", "CT", "CRT"), "CT"),
    **dict.fromkeys(("COVE", "CV"), "CV"),
    **dict.fromkeys(("CRESCENT", "CRES", "CRSENT", "CRSNT"), "CRES"),
    **dict.fromkeys(("CROSSING", "CRSSNG", "XING"), "XING"),
    **dict.fromkeys(("DRIVE", "DR", "DRIV", "DRV"), "DR"),
    **dict.fromkeys(("EXPRESSWAY", "EXPY", "EXP", "EXPR", "EXPRESS", "EXPW"), "EXPY"),
    **dict.fromkeys(("EXTENSION", "EXT", "EXTN", "EXTNSN"), "EXT"),
    **dict.fromkeys(("FREEWAY", "FWY", "FREEWY", "FRWAY", "FRWY"), "FWY"),
    **dict.fromkeys(("GARDENS", "GDNS", "GRDNS"), "GDNS"),
    **dict.fromkeys(("HEIGHTS", "HTS", "HT"), "HTS"),
    **dict.fromkeys(("HIGHWAY", "HWY", "HIGHWY", "HIWAY", "HIWY", "HWAY"), "HWY"),
    **dict.fromkeys(("LANE", "LN"), "LN"),
    **dict.fromkeys(("PARKWAY", "PKWY", "PARKWY", "PKWAY", "PKY"), "PKWY"),
    **dict.fromkeys(("PLACE", "PL"), "PL"),
    **dict.fromkeys(("PLAZA", "PLZ", "PLZA"), "PLZ"),
    **dict.fromkeys(("POINT", "PT"), "PT"),
    **dict.fromkeys(("ROAD", "RD"), "RD"),
    **dict.fromkeys(("SQUARE", "SQ", "SQR", "SQRE", "SQU"), "SQ"),
    **dict.fromkeys(("STREET", "ST", "STR", "STRT"), "ST"),
    **dict.fromkeys(("TERRACE", "TER", "TERR"), "TER"),
    **dict.fromkeys(("TRAIL", "TRL", "TRAILS", "TRLS"), "TRL"),
    **dict.fromkeys(("TURNPIKE", "TPKE", "TRNPK", "TURNPK"), "TPKE"),
    **dict.fromkeys(("WAY", "WY"), "WAY"),
}
#: Directionals (USPS Publication 28, appendix B): spelled out to their one- or two-letter forms.
DIRECTIONALS: Final[Mapping[str, str]] = {
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W",
    "NORTHEAST": "NE", "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW",
}  # fmt: skip
#: Secondary unit designators (USPS Publication 28, appendix C2) that are followed by a unit number; "#" too.
#: Those used without a number (REAR, FRNT, PIER ...) are left alone: they are street names too (Pier 39).
UNIT_DESIGNATORS: Final = frozenset(
    {"APT", "APARTMENT", "UNIT", "STE", "SUITE", "FL", "FLR", "FLOOR", "RM", "ROOM", "BLDG", "BUILDING",
     "SPC", "DEPT", "TRLR", "HNGR", "#"}
)  # fmt: skip
#: Suffixes after which a bare number names a numbered street ("80 STREET" is 80TH ST).
_NUMBERED: Final = frozenset({"ST", "AVE", "RD", "DR", "BLVD", "PL", "CT", "LN", "TER", "WAY", "PKWY", "HWY", "ALY"})
_ORDINAL_WORDS: Final[Mapping[str, int]] = {
    "FIRST": 1, "SECOND": 2, "THIRD": 3, "FOURTH": 4, "FIFTH": 5, "SIXTH": 6, "SEVENTH": 7, "EIGHTH": 8,
    "NINTH": 9, "TENTH": 10, "ELEVENTH": 11, "TWELFTH": 12, "THIRTEENTH": 13, "FOURTEENTH": 14,
    "FIFTEENTH": 15, "SIXTEENTH": 16, "SEVENTEENTH": 17, "EIGHTEENTH": 18, "NINETEENTH": 19, "TWENTIETH": 20,
    "THIRTIETH": 30, "FORTIETH": 40, "FIFTIETH": 50, "SIXTIETH": 60, "SEVENTIETH": 70, "EIGHTIETH": 80,
    "NINETIETH": 90, "HUNDREDTH": 100,
}  # fmt: skip
_TENS: Final[Mapping[str, int]] = {
    "TWENTY": 20, "THIRTY": 30, "FORTY": 40, "FIFTY": 50, "SIXTY": 60, "SEVENTY": 70, "EIGHTY": 80, "NINETY": 90,
}  # fmt: skip
#: Texts that stand for "no address" (the readiness placeholders, and a few more seen in 311 exports).
_PLACEHOLDERS: Final = frozenset(
    {"", "N/A", "NA", "NULL", "NONE", "NAN", "-", "#N/A", "N.A.", "(BLANK)", "?", "0", "UNKNOWN", "UNSPECIFIED",
     "NOT APPLICABLE", "NO ADDRESS", "NOT ASSOCIATED WITH A SPECIFIC ADDRESS"}
)  # fmt: skip
_HOUSE: Final = re.compile(r"\d+[A-Z]?(?:-\d+[A-Z]?)*")
_NUMERIC_ORDINAL: Final = re.compile(r"(\d+)(?:ST|ND|RD|TH)")
_WORD_MAP: Final[Mapping[str, str]] = {**STREET_SUFFIXES, **DIRECTIONALS}


def _ordinal(digits: str) -> str:
    """``"21"`` → ``"21ST"`` (leading zeros dropped; no ``int()``: a digit string may be any length)."""
    number = digits.lstrip("0") or "0"
    last_two = number[-2:]
    if len(last_two) == 2 and last_two[0] == "1":
        return number + "TH"
    return number + {"1": "ST", "2": "ND", "3": "RD"}.get(number[-1], "TH")


def _word(token: str) -> str:
    """One token in its standard form: suffix, directional, ordinal word or numeric ordinal."""
    if token in _WORD_MAP:
        return _WORD_MAP[token]
    if token in _ORDINAL_WORDS:
        return _ordinal(str(_ORDINAL_WORDS[token]))
    numeric = _NUMERIC_ORDINAL.fullmatch(token)
    return _ordinal(numeric.group(1)) if numeric else token


def _street(tokens: list[str]) -> str:
    """One street (with or without a house number) in normal form; ``""`` when nothing is left."""
    # A unit designator after the first word, with a unit after it, ends the street ("100 MAIN ST APT 4 B").
    for i in range(1, len(tokens) - 1):
        if tokens[i] in UNIT_DESIGNATORS:
            tokens = tokens[:i]
            break
    tokens = [t for t in tokens if t != "#"]
    while tokens and tokens[0] == "INTERSECTION":  # "Intersection of X and Y": the prefix of the first street
        tokens = tokens[2:] if tokens[1:2] == ["OF"] else tokens[1:]
    merged: list[str] = []
    for token in tokens:  # TWENTY FIRST -> 21ST
        if merged and merged[-1] in _TENS and token in _ORDINAL_WORDS and _ORDINAL_WORDS[token] < 10:
            merged[-1] = _ordinal(str(_TENS[merged[-1]] + _ORDINAL_WORDS[token]))
        else:
            merged.append(token)
    words = [_word(t) for t in merged]
    # A house number leads, unless the rest is a lone suffix: "72 STREET" is a street, not number 72 of "STREET".
    has_house = len(words) >= 2 and _HOUSE.fullmatch(words[0]) and not (len(words) == 2 and words[1] in _NUMBERED)
    house, name = (words[:1], words[1:]) if has_house else ([], words)
    name = [
        _ordinal(t) if t.isdigit() and t.isascii() and i + 1 < len(name) and name[i + 1] in _NUMBERED else t
        for i, t in enumerate(name)
    ]
    return " ".join(house + name)


def normalise_address(text: str | None) -> str | None:
    """A US street address in one normal form for matching, or None when there is no address.

    Upper case, ASCII (accents dropped), punctuation and repeated spaces removed;
    everything after the first comma dropped (the city, state and ZIP code of
    ``"..., San Francisco, CA 94110"``, and a unit written after a comma); unit
    designators with their unit removed (``APT 4``, ``#4``, ``UNIT B``, ``STE 200``);
    street suffixes and directionals in their USPS Publication 28 forms (STREET → ST,
    AVENUE → AVE, NORTH → N ...); numbered streets as numeric ordinals (FIRST, 1ST and
    a bare ``1`` before a suffix are all ``1ST``; ``TWENTY-FIRST`` is ``21ST``).
    Intersections (``"X & Y"``, ``"X AND Y"``, ``"X @ Y"``, ``"X / Y"``,
    ``"Intersection of X and Y"``) become ``"X & Y"`` with the streets in sorted order.

    A hyphenated house number is kept whole (``100-104`` stays ``100-104``): in Queens
    ``88-33 80 STREET`` is one building, not a range, and without the city's own
    addressing rules the two cannot be told apart. A fraction (``123 1/2``) is kept too.

    Blank text, placeholders (``N/A``, ``NULL``, ``UNKNOWN``, ``0`` ...) and text with
    no letters or digits give None. Normalising twice gives the same as once, and no
    text makes it raise.

    Examples
    --------
    >>> normalise_address("  2820 Greenwich Street, San Francisco, CA, 94123")
    '2820 GREENWICH ST'
    >>> normalise_address("Intersection of PACIFIC AVENUE and WEBSTER ST")
    'PACIFIC AVE & WEBSTER ST'
    >>> normalise_address("28 East 10 Street Apt. 4B")
    '28 E 10TH ST'
    >>> normalise_address("N/A") is None
    True
    """
    if not isinstance(text, str):
        return None
    folded = unicodedata.normalize("NFKD", text).upper().encode("ascii", "ignore").decode("ascii")
    folded = " ".join(folded.split())
    if folded in _PLACEHOLDERS:
        return None
    head, comma, tail = folded.partition(",")
    if comma and _HOUSE.fullmatch(head.strip()):  # "100, MAIN ST, ...": the number stands apart
        head = head + " " + tail.partition(",")[0]
    text = re.sub(r"['`.]", "", head)  # O'FARRELL is OFARRELL, N.W. is NW
    text = re.sub(r"[^A-Z0-9&@#/\- ]", " ", text)
    text = re.sub(r"(?<=\d) *- *(?=\d)", "-", text)  # 37 -47 is the Queens number 37-47
    text = re.sub(r"(?<!\d)-|-(?!\d)", " ", text)  # WILKES-BARRE, TWENTY-FIRST: two words
    text = re.sub(r"(?<!\d)/|/(?!\d)", " & ", text)  # a slash between streets; 1/2 stays a fraction
    text = re.sub(r"[&@]", " & ", text).replace("#", " # ")
    parts: list[list[str]] = [[]]
    for token in text.split():
        if token in ("&", "AND"):
            parts.append([])
        else:
            parts[-1].append(token)
    streets = {s for s in (_street(p) for p in parts) if s not in _PLACEHOLDERS}
    if not streets:
        return None
    out = " & ".join(sorted(streets))
    return None if out in _PLACEHOLDERS else out


# -- the result -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnmatchedAddress:
    """One normalised address that found no coordinates: how many requests, and why.

    ``address`` is the commonest raw text behind it (as written in the requests),
    ``reason`` ``"no address point"`` or ``"ambiguous"`` (points ``spread_m`` apart).
    """

    address: str
    normalised: str
    requests: int
    reason: Literal["no address point", "ambiguous"]
    points: int = 0
    spread_m: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "normalised": self.normalised,
            "requests": self.requests,
            "reason": self.reason,
            "points": self.points,
            "spread_m": self.spread_m,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UnmatchedAddress:
        reason = data["reason"]
        if reason not in ("no address point", "ambiguous"):
            raise FieldError("reason", f"{reason!r} is neither 'no address point' nor 'ambiguous'")
        spread = data.get("spread_m")
        return cls(
            address=str(data["address"]),
            normalised=str(data["normalised"]),
            requests=int(data["requests"]),
            reason=reason,
            points=int(data.get("points", 0)),
            spread_m=None if spread is None else float(spread),
        )


@dataclass(frozen=True)
class AddressMatch:
    """Requests without coordinates matched by address: the filled table, the counts and the misses.

    ``table`` is an Ibis expression on the requests' engine (None after
    :meth:`from_dict`): the requests' columns, with the coordinate columns
    (``lat_column``/``lon_column``, float64) filled where they were missing and the
    address matched, and ``coordinates_from``: ``"given"``, ``"address"`` or null.

    Counts: ``rows`` requests read; ``given`` with usable coordinates (left as they
    were); ``needing`` the rest, each in exactly one of ``matched``, ``unmatched``
    (no point has its address), ``ambiguous`` (points more than ``max_spread_m``
    apart) and ``no_address`` (no address text). ``averaged`` of the matched took the
    mean of several close points. ``points_read`` address points read,
    ``points_used`` those with coordinates and an address.
    """

    table: ir.Table | None
    rows: int
    given: int
    needing: int
    matched: int
    averaged: int
    unmatched: int
    ambiguous: int
    no_address: int
    points_read: int
    points_used: int
    examples: tuple[UnmatchedAddress, ...]
    columns: Mapping[str, str | None]
    max_spread_m: float = 100.0
    engine: str = ""

    @property
    def lat_column(self) -> str:
        return str(self.columns.get("request_lat") or "lat")

    @property
    def lon_column(self) -> str:
        return str(self.columns.get("request_lon") or "lon")

    @property
    def match_rate(self) -> float | None:
        """Matched ÷ requests needing coordinates (None when none needed them)."""
        return self.matched / self.needing if self.needing else None

    @property
    def address_match_rate(self) -> float | None:
        """Matched ÷ requests needing coordinates that have an address text (the geocoder's own rate)."""
        tried = self.needing - self.no_address
        return self.matched / tried if tried else None

    def to_pandas(self) -> pd.DataFrame:
        """The top unmatched addresses, commonest first (the table of requests is ``table``)."""
        columns = ["address", "normalised", "requests", "reason", "points", "spread_m"]
        return pd.DataFrame([e.to_dict() for e in self.examples], columns=columns)

    def summary(self) -> str:
        lines = [
            f"{self.rows:,} requests: {self.given:,} with coordinates, {self.needing:,} without "
            f"(missing, or both zero).",
        ]
        if self.needing:
            rate, tried = self.match_rate or 0.0, self.address_match_rate
            lines.append(
                f"{self.matched:,} of the {self.needing:,} ({rate:.1%}) were placed by their address"
                + (
                    f" ({tried:.1%} of the {self.needing - self.no_address:,} with an address)"
                    if tried is not None
                    else ""
                )
                + f", on {self.points_used:,} address points."
            )
            if self.averaged:
                lines.append(
                    f"{self.averaged:,} of them took the mean of several points within {self.max_spread_m:g} m."
                )
            if self.unmatched:
                lines.append(f"{self.unmatched:,} {_has(self.unmatched)} an address that no address point has.")
            if self.ambiguous:
                lines.append(
                    f"{self.ambiguous:,} {_has(self.ambiguous)} an address whose points lie more than {self.max_spread_m:g} m apart: "
                    "left without coordinates."
                )
            if self.no_address:
                lines.append(f"{self.no_address:,} {_has(self.no_address)} no address text.")
        if self.examples:
            shown = "; ".join(
                f"{e.address.strip()!r} ({e.requests:,}" + (", ambiguous" if e.reason == "ambiguous" else "") + ")"
                for e in self.examples[:5]
            )
            lines.append(f"Commonest unmatched: {shown}.")
        lines.append(
            "Method: addresses normalised (USPS suffixes and directionals, units and city/ZIP dropped, "
            "intersections in sorted order) and joined on the normalised text."
        )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "address_match",
            "rows": self.rows,
            "given": self.given,
            "needing": self.needing,
            "matched": self.matched,
            "averaged": self.averaged,
            "unmatched": self.unmatched,
            "ambiguous": self.ambiguous,
            "no_address": self.no_address,
            "points_read": self.points_read,
            "points_used": self.points_used,
            "match_rate": self.match_rate,
            "address_match_rate": self.address_match_rate,
            "examples": [e.to_dict() for e in self.examples],
            "columns": dict(self.columns),
            "max_spread_m": self.max_spread_m,
            "engine": self.engine,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AddressMatch:
        return cls(
            table=None,
            rows=int(data["rows"]),
            given=int(data["given"]),
            needing=int(data["needing"]),
            matched=int(data["matched"]),
            averaged=int(data["averaged"]),
            unmatched=int(data["unmatched"]),
            ambiguous=int(data["ambiguous"]),
            no_address=int(data["no_address"]),
            points_read=int(data["points_read"]),
            points_used=int(data["points_used"]),
            examples=tuple(UnmatchedAddress.from_dict(e) for e in data["examples"]),
            columns={str(k): None if v is None else str(v) for k, v in data["columns"].items()},
            max_spread_m=float(data["max_spread_m"]),
            engine=str(data.get("engine", "")),
        )


def _has(count: int) -> str:
    return "has" if count == 1 else "have"


# -- the match --------------------------------------------------------------------------------------------------------


def _column(table: ir.Table, name: str | None, field: str, whose: str) -> str:
    if not isinstance(name, str) or not name:
        raise FieldError(field, "name a column")
    if name not in table.columns:
        raise FieldError(field, f"the {whose} have no column {name!r}")
    return name


def _number(table: ir.Table, name: str, field: str) -> ir.FloatingValue:
    value = table[name]
    if value.type().is_numeric():
        return value.cast("float64")
    if value.type().is_string():
        return value.strip().nullif("").try_cast("float64")  # text that is not a number: missing
    raise FieldError(field, f"column {name!r} holds {value.type()}, not numbers")


def _text(table: ir.Table, name: str, field: str) -> ir.StringValue:
    value = table[name]
    if value.type().is_string():
        return value
    if value.type().is_numeric():
        return value.cast("string")
    raise FieldError(field, f"column {name!r} holds {value.type()}, not address text")


def _located(lat: ir.FloatingValue, lon: ir.FloatingValue) -> ir.BooleanValue:
    """Coordinates that are there and are not the (0, 0) placeholder."""
    return lat.notnull() & lon.notnull() & ~((lat == 0) & (lon == 0))


def _distinct_text(expr: ir.Table) -> list[str]:
    column = expr.distinct().to_pyarrow().column(0).to_pylist()
    return [v for v in column if v is not None]


def match_addresses(
    requests: ir.Table,
    addresses: ir.Table,
    *,
    request_address: str,
    address: str,
    lat: str,
    lon: str,
    request_lat: str | None = None,
    request_lon: str | None = None,
    max_spread_m: float = 100.0,
) -> AddressMatch:
    """Fill the coordinates of requests that have none from the address points with the same address.

    Parameters
    ----------
    requests
        The service requests (any Ibis table).
    addresses
        Address points, or parcels with their centroids, on the same engine: one row per point.
    request_address
        The requests' column with the street address.
    address, lat, lon
        The address points' columns: address text, latitude and longitude.
    request_lat, request_lon
        The requests' coordinate columns, if they have any: rows with both, not both zero, keep them
        untouched; the others are matched, and the columns filled in place. Without them every request is
        matched, and the result has new ``lat`` and ``lon`` columns.
    max_spread_m
        Several points with one address are averaged when they lie within this many metres; farther apart,
        the address is ambiguous and its requests stay without coordinates.

    Examples
    --------
    >>> import ibis
    >>> points = ibis.memtable({"addr": ["1 MAIN STREET", "2 OAK AVE"], "y": [37.5, 37.6], "x": [-122.1, -122.2]})
    >>> reqs = ibis.memtable({"id": [1, 2, 3], "where": ["1 Main St, Springfield", "9 Elm St", None]})
    >>> m = match_addresses(reqs, points, request_address="where", address="addr", lat="y", lon="x")
    >>> m.matched, m.unmatched, m.no_address
    (1, 1, 1)
    >>> m.table.order_by("id").lat.to_list()
    [37.5, None, None]
    """
    request_address = _column(requests, request_address, "request_address", "requests")
    address = _column(addresses, address, "address", "address points")
    lat = _column(addresses, lat, "lat", "address points")
    lon = _column(addresses, lon, "lon", "address points")
    if (request_lat is None) != (request_lon is None):
        raise FieldError(
            "request_lon" if request_lon is None else "request_lat", "give request_lat and request_lon together"
        )
    if request_lat is not None and request_lon is not None:
        request_lat = _column(requests, request_lat, "request_lat", "requests")
        request_lon = _column(requests, request_lon, "request_lon", "requests")
        if request_lat == request_lon:
            raise FieldError("request_lon", f"is the same column as request_lat, {request_lat!r}")
    else:
        for name in ("lat", "lon"):
            if name in requests.columns:
                raise FieldError(
                    f"request_{name}",
                    f"the requests have a column {name!r} already: name their coordinate columns "
                    "(request_lat=, request_lon=) so they are filled in place",
                )
    if COORDINATES_FROM in requests.columns:
        raise FieldError("requests", f"the requests have a column {COORDINATES_FROM!r} already; rename it")
    clash = [c for c in requests.columns if c.startswith("_ridp_")]
    if clash:
        raise FieldError("requests", f"column {clash[0]!r} uses the prefix _ridp_, which the match reserves")
    if isinstance(max_spread_m, bool) or not isinstance(max_spread_m, (int, float)) or not max_spread_m >= 0:
        raise FieldError("max_spread_m", f"{max_spread_m!r} is not a distance in metres (0 or more)")
    if not math.isfinite(max_spread_m):
        raise FieldError("max_spread_m", "is not a finite distance")
    engine = _engine(requests)
    try:
        other = addresses._find_backend()
        mine = requests._find_backend()
    except Exception:  # an unbound memtable on either side joins on the other's engine
        other = mine = None
    if other is not None and mine is not None and other is not mine:
        raise FieldError("addresses", "the address points are on another engine than the requests; load them on one")

    # -- the requests that need coordinates, and the text to normalise -----------------------------------------------
    raw = _text(requests, request_address, "request_address")
    if request_lat is not None and request_lon is not None:
        rlat = _number(requests, request_lat, "request_lat")
        rlon = _number(requests, request_lon, "request_lon")
        given: ir.BooleanValue = _located(rlat, rlon)
    else:
        rlat = rlon = ibis.null("float64")
        given = ibis.literal(False)
    base = requests.mutate(_ridp_raw=raw, _ridp_given=given, _ridp_lat=rlat, _ridp_lon=rlon)
    request_texts = _distinct_text(base.filter(~base._ridp_given).select("_ridp_raw"))

    plat, plon = _number(addresses, lat, "lat"), _number(addresses, lon, "lon")
    points = addresses.select(_ridp_raw=_text(addresses, address, "address"), _ridp_plat=plat, _ridp_plon=plon)
    usable = points.filter(_located(points._ridp_plat, points._ridp_plon))
    point_texts = _distinct_text(usable.select("_ridp_raw"))

    normal: dict[str, str] = {}
    for text in dict.fromkeys([*request_texts, *point_texts]):
        norm = normalise_address(text)
        if norm is not None:
            normal[text] = norm
    lookup = ibis.memtable(
        pa.table(
            {
                "_ridp_key": pa.array(list(normal), pa.string()),
                "_ridp_norm": pa.array(list(normal.values()), pa.string()),
            }
        )
    )

    # -- the address points per normalised address ---------------------------------------------------------------------
    keyed = usable.join(lookup, usable._ridp_raw == lookup._ridp_key)
    distinct = keyed.select("_ridp_norm", "_ridp_plat", "_ridp_plon").distinct()
    per_address = distinct.group_by("_ridp_norm").aggregate(
        _ridp_points=distinct.count(),
        _ridp_mlat=distinct._ridp_plat.mean(),
        _ridp_mlon=distinct._ridp_plon.mean(),
        _ridp_dlat=distinct._ridp_plat.max() - distinct._ridp_plat.min(),
        _ridp_dlon=distinct._ridp_plon.max() - distinct._ridp_plon.min(),
    )
    dy = per_address._ridp_dlat * METRES_PER_DEGREE
    dx = per_address._ridp_dlon * METRES_PER_DEGREE * per_address._ridp_mlat.radians().cos()
    per_address = per_address.select(
        _ridp_pnorm=per_address._ridp_norm,
        _ridp_points=per_address._ridp_points,
        _ridp_mlat=per_address._ridp_mlat,
        _ridp_mlon=per_address._ridp_mlon,
        _ridp_spread=(dy * dy + dx * dx).sqrt(),
    )

    # -- each request's fate -------------------------------------------------------------------------------------------
    joined = base.left_join(lookup, base._ridp_raw == lookup._ridp_key)
    joined = joined.left_join(per_address, joined._ridp_norm == per_address._ridp_pnorm)
    need = ~joined._ridp_given
    has_text = joined._ridp_norm.notnull()
    found = joined._ridp_points.notnull()
    close = found & (joined._ridp_spread <= max_spread_m)
    status = ibis.cases(
        (~need, "given"),
        (~has_text, "no_address"),
        (close, "matched"),
        (found, "ambiguous"),
        else_="unmatched",
    )
    joined = joined.mutate(_ridp_status=status)
    matched = joined._ridp_status == "matched"

    lat_out, lon_out = request_lat or "lat", request_lon or "lon"
    filled = {
        lat_out: ibis.cases((matched, joined._ridp_mlat), else_=joined._ridp_lat),
        lon_out: ibis.cases((matched, joined._ridp_mlon), else_=joined._ridp_lon),
    }
    origin = ibis.cases((~need, "given"), (matched, "address"), else_=ibis.null("string"))
    kept = [filled[c].name(c) if c in filled else joined[c] for c in requests.columns]
    extra = [] if request_lat is not None else [filled[lat_out].name(lat_out), filled[lon_out].name(lon_out)]
    table = joined.select(*kept, *extra, origin.name(COORDINATES_FROM))

    # -- counts and the commonest misses -------------------------------------------------------------------------------
    st = joined._ridp_status
    counts = (
        joined.aggregate(
            rows=joined.count(),
            **{name: (st == name).sum() for name in ("given", "matched", "unmatched", "ambiguous", "no_address")},
            averaged=(matched & (joined._ridp_points > 1)).sum(),
        )
        .to_pandas()
        .iloc[0]
    )
    every_point = points.left_join(lookup, points._ridp_raw == lookup._ridp_key)
    point_counts = (
        every_point.aggregate(
            read=every_point.count(),
            used=(_located(every_point._ridp_plat, every_point._ridp_plon) & every_point._ridp_norm.notnull()).sum(),
        )
        .to_pandas()
        .iloc[0]
    )
    missed = joined.filter(st.isin(("unmatched", "ambiguous")))
    missed_by_text = (
        missed.group_by(["_ridp_raw", "_ridp_norm"])
        .aggregate(
            n=missed.count(),
            points=missed._ridp_points.max(),
            spread=missed._ridp_spread.max(),
        )
        .to_pandas()
    )

    def count(name: str) -> int:
        value = counts[name]
        return 0 if value is None or pd.isna(value) else int(value)

    rows, given_n = count("rows"), count("given")
    return AddressMatch(
        table=table,
        rows=rows,
        given=given_n,
        needing=rows - given_n,
        matched=count("matched"),
        averaged=count("averaged"),
        unmatched=count("unmatched"),
        ambiguous=count("ambiguous"),
        no_address=count("no_address"),
        points_read=int(point_counts["read"]),
        points_used=0 if pd.isna(point_counts["used"]) else int(point_counts["used"]),
        examples=_examples(missed_by_text),
        columns={
            "request_address": request_address,
            "request_lat": request_lat,
            "request_lon": request_lon,
            "address": address,
            "lat": lat,
            "lon": lon,
        },
        max_spread_m=float(max_spread_m),
        engine=engine,
    )


def _examples(frame: pd.DataFrame) -> tuple[UnmatchedAddress, ...]:
    """The commonest normalised addresses without coordinates, ordered here (not by the engine's collation)."""
    per_norm: dict[str, dict[str, Any]] = {}
    for raw, norm, n, points, spread in frame.itertuples(index=False):
        entry = per_norm.setdefault(str(norm), {"n": 0, "raws": {}, "points": points, "spread": spread})
        entry["n"] += int(n)
        entry["raws"][str(raw)] = int(n)
    ranked = sorted(per_norm.items(), key=lambda item: (-item[1]["n"], item[0]))[:EXAMPLES]
    out = []
    for norm, entry in ranked:
        ambiguous = entry["points"] is not None and not pd.isna(entry["points"])
        commonest = min(entry["raws"].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        out.append(
            UnmatchedAddress(
                address=commonest,
                normalised=norm,
                requests=entry["n"],
                reason="ambiguous" if ambiguous else "no address point",
                points=int(entry["points"]) if ambiguous else 0,
                spread_m=round(float(entry["spread"]), 1) if ambiguous else None,
            )
        )
    return tuple(out)
