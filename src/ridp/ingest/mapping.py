"""Proposing how a dataset's columns map to ridp's canonical service-request schema.

Cities name the same thing many ways (NYC ``Created Date``, Boston ``open_dt``,
Open311 ``requested_datetime``, Chicago ``creation_date``, SF ``Opened``,
Baltimore ``createddate``). :func:`propose_mapping` reads column names **and
values**: a column named ``col_7`` whose values are dates that precede another
date column's, and never missing, is still the opening time. Each proposed
field carries a confidence in [0, 1] and the reasons behind it, so a person
can confirm or correct it (``ridp data map``).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"Created Date": ["2024-01-02 10:00:00"] * 3, "Lat": [42.3, 42.31, 42.32]})
>>> propose_mapping(df).column("opened")
'Created Date'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ridp.ingest.dates import DateDetection, detect_dates, parse_dates

__all__ = ["CANONICAL_FIELDS", "FieldMatch", "MappingProposal", "propose_mapping"]

Field = Literal["id", "type", "opened", "closed", "status", "agency", "channel", "latitude", "longitude", "address"]
CANONICAL_FIELDS: tuple[Field, ...] = (
    "id", "type", "opened", "closed", "status", "agency", "channel", "latitude", "longitude", "address",
)  # fmt: skip
MIN_CONFIDENCE = 0.5


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


# Exact names (normalised) seen in real exports, with how sure each makes us.
NAMES: dict[str, dict[str, float]] = {
    "id": {
        n: 1.0
        for n in (
            "uniquekey",
            "caseenquiryid",
            "servicerequestid",
            "servicerequestnumber",
            "caseid",
            "servicerequestnum",
            "requestid",
            "srnumber",
            "casenumber",
            "ticketid",
            "id",
            "srid",
        )
    }
    | {"srrecordid": 0.6, "objectid": 0.3},
    "type": {
        n: 1.0
        for n in (
            "complainttype",
            "type",
            "servicename",
            "requesttype",
            "typeofservicerequest",
            "srtype",
            "servicerequesttype",
            "casetype",
            "problemtype",
        )
    }
    | {"category": 0.7, "subject": 0.3, "reason": 0.4, "descriptor": 0.4, "casetitle": 0.4},
    "opened": {
        n: 1.0
        for n in (
            "createddate",
            "opendt",
            "requesteddatetime",
            "creationdate",
            "opened",
            "createddate",
            "datecreated",
            "requesteddate",
            "opendate",
            "createdat",
            "created",
            "receiveddate",
            "requestdate",
            "datereceived",
            "opentime",
        )
    }
    | {"date": 0.5, "inspectiondate": 0.5},
    "closed": {
        n: 1.0
        for n in (
            "closeddate",
            "closeddt",
            "closeddatetime",
            "completiondate",
            "closed",
            "closedate",
            "dateclosed",
            "closedat",
            "resolveddate",
            "datecompleted",
            "completeddate",
            "closetime",
        )
    },
    "status": {n: 1.0 for n in ("status", "casestatus", "srstatus", "requeststatus", "state")} | {"ontime": 0.2},
    "agency": {n: 1.0 for n in ("agency", "department", "responsibleagency", "agencyname", "dept", "agencyresponsible")}
    | {"queue": 0.4, "owner": 0.4},
    "channel": {
        n: 1.0
        for n in (
            "opendatachanneltype",
            "channel",
            "methodreceived",
            "source",
            "requestchannel",
            "intakemethod",
            "origin",
            "submittedvia",
        )
    },
    "latitude": {n: 1.0 for n in ("latitude", "lat", "latitudewgs84", "ycoord", "latitude1")},
    "longitude": {n: 1.0 for n in ("longitude", "long", "lon", "lng", "longitudewgs84", "xcoord", "longitude1")},
    "address": {
        n: 1.0
        for n in (
            "incidentaddress",
            "address",
            "streetaddress",
            "location",
            "fulladdress",
            "locationaddress",
            "addressline1",
        )
    }
    | {"locationstreetname": 0.4, "streetname": 0.4},
}
# Names that say a date column is NOT the closing time, whatever its values.
NOT_CLOSED = ("due", "target", "updated", "lastactivity", "statusdate", "modified", "resolutionaction", "expected")
AREA_NAMES = ("neighborhood", "neighbourhood", "ward", "borough", "communityboard", "communityarea", "councildistrict",
              "supervisordistrict", "policedistrict", "firedistrict", "pwddistrict", "censustract", "tract", "zip",
              "zipcode", "incidentzip", "district", "precinct", "areaid", "csa", "policepost", "censusblock",
              "neighborhoodservicesdistrict", "locationzipcode", "tractce10", "citycouncildistrict",
              "communitydistrict", "supervisordistrict", "cnbhood", "neighborhoodname")  # fmt: skip

STATUS_WORDS = {"open", "closed", "close", "pending", "assigned", "completed", "complete", "resolved", "in progress",
                "new", "cancelled", "canceled", "duplicate", "started", "onhold", "on hold"}  # fmt: skip
CHANNEL_WORDS = {"phone", "web", "app", "mobile", "email", "e-mail", "call", "walk-in", "walk in", "twitter", "voice in",
                 "internet", "online", "constituent call", "self service", "citizens connect app", "social", "mail",
                 "unknown", "other", "employee generated", "city worker app", "open311", "text", "sms"}  # fmt: skip
_ADDRESS = re.compile(r"^\s*\d+[A-Za-z]?(?:-\d+)?\s+\w+", re.UNICODE)
_STREET = re.compile(r"\b(?:ST|AVE|RD|BLVD|DR|LN|PL|CT|WAY|HWY|PKWY|TER|SQ|STREET|AVENUE|ROAD)\b", re.IGNORECASE)


@dataclass(frozen=True)
class FieldMatch:
    """One proposed field: which column, how sure, and why."""

    field: str
    column: str
    confidence: float
    reasons: tuple[str, ...]
    date_formats: tuple[str, ...] = ()
    ambiguous_day_month: bool = False


@dataclass(frozen=True)
class MappingProposal:
    """A proposed (or confirmed) mapping to the canonical service-request schema."""

    fields: tuple[FieldMatch, ...]
    areas: tuple[FieldMatch, ...]
    timezone: str
    unmapped: tuple[str, ...] = field(default=())

    def column(self, name: str) -> str | None:
        for match in self.fields:
            if match.field == name:
                return match.column
        return None

    def get(self, name: str) -> FieldMatch | None:
        return next((m for m in self.fields if m.field == name), None)


@dataclass
class _Profile:
    name: str
    present: int
    null_share: float
    distinct: int
    numeric: pd.Series | None
    dates: DateDetection | None
    parsed: pd.Series | None
    text: pd.Series | None
    parsed_index: pd.Index


def _profile(name: str, values: pd.Series, rows: int, timezone: str) -> _Profile:
    first = values.dropna().head(1)
    if values.dtype == object and len(first) and isinstance(first.iloc[0], date):
        values = pd.to_datetime(values)  # a DATE column read from Parquet arrives as Python dates
    present_values = values.dropna()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        stripped = present_values.astype("string").str.strip()
        present_values = present_values[stripped.ne("").fillna(False).to_numpy(dtype=bool)]
    present = len(present_values)
    null_share = 1 - present / rows if rows else 1.0
    distinct = int(present_values.astype("string").nunique()) if present else 0
    numeric: pd.Series | None = None
    dates: DateDetection | None = None
    parsed: pd.Series | None = None
    text: pd.Series | None = None
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = detect_dates(present_values)
        parsed = (
            values.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
            if values.dt.tz is None
            else values.dt.tz_convert("UTC")
        )
    elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numeric = pd.to_numeric(present_values, errors="coerce").astype(float)
    elif present:
        text = present_values.astype("string")
        as_number = pd.to_numeric(text.str.strip(), errors="coerce")
        if as_number.notna().mean() >= 0.95:
            numeric = as_number.dropna().astype(float)
        detection = detect_dates(text)
        if detection.parsed_share >= 0.9 and text.str.contains(r"[-/:. ]", regex=True).mean() > 0.9:
            dates = detection
            parsed = parse_dates(values.astype("string"), [f for f, _ in detection.formats], timezone)
    return _Profile(name, present, null_share, distinct, numeric, dates, parsed, text, values.index)


def _name_score(field_name: str, column: str) -> tuple[float, str | None]:
    n = _norm(column)
    exact = NAMES[field_name].get(n)
    if exact is not None:
        return exact, f"its name {column!r} is a usual name for {field_name}"
    partial = {
        "opened": ("created", "opened", "requested", "received", "open"),
        "closed": ("closed", "completion", "completed", "resolved"),
        "id": ("requestid", "caseid", "ticket", "casenumber", "requestnumber"),
        "type": ("complainttype", "requesttype", "servicetype"),
        "latitude": ("latitude",),
        "longitude": ("longitude",),
        "address": ("address",),
        "agency": ("agency", "department"),
        "channel": ("channel", "method"),
        "status": ("status",),
    }[field_name]
    for word in partial:
        if word in n:
            return 0.6, f"its name {column!r} contains {word!r}"
    return 0.0, None


def _lexicon_share(text: pd.Series | None, words: set[str]) -> float:
    if text is None or text.empty:
        return 0.0
    lowered = text.str.strip().str.lower()
    return float(lowered.isin(words).mean())


def _expected_longitude(timezone: str) -> float | None:
    if timezone in ("UTC", "Etc/UTC", ""):
        return None
    offset = datetime(2024, 1, 15, tzinfo=ZoneInfo(timezone)).utcoffset()
    return offset.total_seconds() / 3600 * 15 if offset is not None else None


def propose_mapping(sample: pd.DataFrame, *, timezone: str = "UTC") -> MappingProposal:
    """Propose a canonical mapping from a sample of a dataset's rows.

    Parameters
    ----------
    sample
        Up to a few thousand rows, with the dataset's own column names and types.
    timezone
        The city's time zone: dates without an offset are read in it, and it
        tells longitude from latitude when names do not.
    """
    profiles, scores = _candidate_scores(sample, timezone)
    return _assign(sample, profiles, scores, timezone)


Scores = dict[str, list[tuple[float, str, tuple[str, ...]]]]
Adder = Callable[[str, str, float, float, list[str]], None]


def _candidate_scores(sample: pd.DataFrame, timezone: str) -> tuple[dict[str, _Profile], Scores]:
    """Every (field, column) pair with its confidence and reasons."""
    rows = len(sample)
    profiles = {c: _profile(str(c), sample[c], rows, timezone) for c in sample.columns}
    scores: Scores = {f: [] for f in CANONICAL_FIELDS}

    def add(field_name: str, column: str, name_part: float, value_part: float, reasons: list[str]) -> None:
        if value_part <= 0:
            return
        confidence = 0.55 * name_part + 0.45 * value_part if name_part > 0 else 0.8 * value_part
        scores[field_name].append((round(min(confidence, 1.0), 3), column, tuple(reasons)))

    _score_dates(profiles, timezone, add)
    _score_coordinates(profiles, timezone, add)
    for column, p in profiles.items():
        if p.present == 0 or p.dates is not None:
            continue
        distinct_share = p.distinct / max(p.present, 1)
        for field_name in ("id", "type", "status", "agency", "channel", "address"):
            name_part, why = _name_score(field_name, column)
            reasons = [why] if why else []
            value_part = _value_score(field_name, p, distinct_share, reasons)
            add(field_name, column, name_part, value_part, reasons)
    return profiles, scores


def _assign(sample: pd.DataFrame, profiles: dict[str, _Profile], scores: Scores, timezone: str) -> MappingProposal:
    """Give each field its best column, each column to one field at most."""
    chosen: list[FieldMatch] = []
    used: set[str] = set()
    candidates = sorted(
        ((conf, f, col, why) for f, entries in scores.items() for conf, col, why in entries),
        key=lambda item: (-item[0], CANONICAL_FIELDS.index(item[1])),  # type: ignore[arg-type,unused-ignore]
    )
    for conf, field_name, column, why in candidates:
        if conf < MIN_CONFIDENCE or column in used or any(m.field == field_name for m in chosen):
            continue
        p = profiles[column]
        formats = tuple(f for f, _ in p.dates.formats) if p.dates is not None else ()
        ambiguous = p.dates.ambiguous_day_month if p.dates is not None else False
        chosen.append(FieldMatch(field_name, column, conf, why, formats, ambiguous))
        used.add(column)
    areas = tuple(
        FieldMatch("area", c, 0.9, (f"its name {c!r} names a kind of area",))
        for c in sample.columns
        if _norm(str(c)) in AREA_NAMES and c not in used and profiles[c].present > 0
    )
    used |= {a.column for a in areas}
    order = {f: i for i, f in enumerate(CANONICAL_FIELDS)}
    chosen.sort(key=lambda m: order[m.field])  # type: ignore[index]
    unmapped = tuple(str(c) for c in sample.columns if c not in used)
    return MappingProposal(tuple(chosen), areas, timezone, unmapped)


def _value_score(field_name: str, p: _Profile, distinct_share: float, reasons: list[str]) -> float:
    text = p.text
    if field_name == "id":
        if distinct_share >= 0.97 and p.null_share < 0.05:
            reasons.append(f"{distinct_share:.0%} of its values are distinct")
            return 0.9
        return 0.0
    if text is None:
        return 0.0
    letters = float(text.str.contains(r"[A-Za-z]", regex=True).mean())
    if letters < 0.8:
        return 0.0
    if field_name == "status":
        share = _lexicon_share(text, STATUS_WORDS)
        if 1 < p.distinct <= 15 and share > 0.5:
            reasons.append(f"{share:.0%} of its values are words like open / closed")
            return 0.6 + 0.4 * share
        return 0.3 if 1 < p.distinct <= 15 else 0.0
    if field_name == "channel":
        share = _lexicon_share(text, CHANNEL_WORDS)
        if 1 < p.distinct <= 25 and share > 0.5:
            reasons.append(f"{share:.0%} of its values are words like phone / web / app")
            return 0.6 + 0.4 * share
        return 0.0
    if field_name == "address":
        share = float((text.str.match(_ADDRESS.pattern) | text.str.contains(_STREET.pattern, regex=True)).mean())
        if share > 0.5:
            reasons.append(f"{share:.0%} of its values look like street addresses")
            return share
        return 0.0
    if field_name == "type":
        if 1 < p.distinct <= max(60, 0.3 * p.present):
            return 0.5
        return 0.0
    if field_name == "agency":
        if 0 < p.distinct <= 60:
            return 0.5
        return 0.0
    return 0.0


def _score_dates(profiles: dict[str, _Profile], timezone: str, add: Adder) -> None:
    """Opened: the date column most often present that others follow. Closed: a later
    date, missing while requests are open, that is neither a due date nor an update."""
    dated = {c: p for c, p in profiles.items() if p.dates is not None and p.parsed is not None and p.present}
    if not dated:
        return
    when: dict[str, pd.Series] = {c: p.parsed for c, p in dated.items() if p.parsed is not None}
    add_fn = add
    order_scores: dict[str, float] = {}
    for c in dated:
        later = [
            float((when[oc] >= when[c]).sum()) / max(float((when[oc].notna() & when[c].notna()).sum()), 1.0)
            for oc, o in dated.items()
            if oc != c and (when[oc].notna() & when[c].notna()).sum() > 0
        ]
        order_scores[c] = float(np.mean(later)) if later else 1.0
    for c, p in dated.items():
        name_part, why = _name_score("opened", c)
        reasons = [why] if why else []
        share = p.dates.parsed_share if p.dates else 0.0
        value = share * (0.5 + 0.5 * order_scores[c]) * (1 - p.null_share)
        reasons.append(f"{share:.0%} of its values are dates; others come after it in {order_scores[c]:.0%} of rows")
        add_fn("opened", c, name_part, value, reasons)
    opened = max(dated, key=lambda c: (order_scores[c] * (1 - dated[c].null_share) + _name_score("opened", c)[0]))
    # Whole-day gaps mean "due date" only where openings carry a time of day.
    opened_times = when[opened].dropna()
    local = opened_times.dt.tz_convert(timezone)
    timed = float((local.dt.normalize() != local).mean()) if len(local) else 0.0
    others = {c: p for c, p in dated.items() if c != opened}
    closed_status = _closed_status(profiles)
    for c, p in others.items():
        both = when[opened].notna() & when[c].notna()
        if both.sum() == 0:
            continue
        after = float((when[c][both] >= when[opened][both]).mean())
        # Due dates are the opening plus whole days, at the opening's time of day:
        # judged only where that time is not midnight (date-only openings say nothing).
        opened_local = when[opened][both].dt.tz_convert(timezone)
        with_time = opened_local.dt.normalize() != opened_local
        gap = (when[c][both] - when[opened][both]).dt.total_seconds()[with_time]
        whole_days = float(((gap % 86_400) == 0).mean()) if len(gap) else 0.0
        value = after
        reasons = [f"it follows {opened!r} in {after:.0%} of rows"]
        if p.null_share > 0:
            reasons.append(f"missing in {p.null_share:.0%} of rows (requests still open)")
        else:
            value *= 0.7
        if closed_status is not None:
            # The strongest sign: a closing time is there exactly when the status says closed.
            known = closed_status.notna()
            agree = float((when[c].notna()[known] == closed_status[known].astype(bool)).mean())
            value *= agree**2
            reasons.append(f"present exactly when the status says closed in {agree:.0%} of rows")
        else:
            # Without a status to agree with: due dates are whole days after
            # opening, and update times are present wherever closing times are.
            if (
                timed > 0.5
                and whole_days > 0.5
                and p.dates
                and any(token in f for f in (x for x, _ in p.dates.formats) for token in ("%H", "%I", "ISO"))
            ):
                value *= 0.5
                reasons.append("whole days after opening: looks like a due date")
            for qc in others:
                if qc == c:
                    continue
                here, there = when[c].notna(), when[qc].notna()
                if here.sum() and there.sum():
                    covers = float((there & here).sum() / here.sum())
                    covered = float((there & here).sum() / there.sum())
                    if covered >= 0.98 and covers < 0.95:
                        value *= 0.6
                        reasons.append(f"present wherever {qc!r} is and more often: looks like a last update")
        name_part, why = _name_score("closed", c)
        if any(word in _norm(c) for word in NOT_CLOSED):
            value *= 0.3
            reasons.append(f"its name {c!r} says due date or update")
        if why:
            reasons.insert(0, why)
        add_fn("closed", c, name_part, value, reasons)


_CLOSED_WORDS = re.compile(r"clos|complet|resolv|cancel|done|finish", re.IGNORECASE)
_OPEN_WORDS = re.compile(r"open|pend|progress|assign|new|start|hold|work", re.IGNORECASE)


def _closed_status(profiles: dict[str, _Profile]) -> pd.Series | None:
    """Per row, whether a status-like column says closed (NA where it says neither).

    The status column is found by its values (open / closed words), not its name.
    """
    best: tuple[float, pd.Series] | None = None
    for p in profiles.values():
        if p.text is None or not 1 < p.distinct <= 15:
            continue
        lowered = p.text.str.lower()
        closed = lowered.str.contains(_CLOSED_WORDS.pattern, regex=True)
        opened = lowered.str.contains(_OPEN_WORDS.pattern, regex=True) & ~closed
        share = float((closed | opened).mean())
        if share > 0.8 and closed.any() and opened.any() and (best is None or share > best[0]):
            flags = pd.Series(pd.NA, index=p.parsed_index, dtype="boolean")
            flags.loc[closed[closed].index] = True
            flags.loc[opened[opened].index] = False
            best = (share, flags)
    return None if best is None else best[1]


def _score_coordinates(profiles: dict[str, _Profile], timezone: str, add: Adder) -> None:
    add_fn = add
    expected_lon = _expected_longitude(timezone)
    for c, p in profiles.items():
        if p.numeric is None or p.numeric.empty:
            continue
        values = p.numeric[(p.numeric != 0) & p.numeric.notna()]
        if values.empty:
            continue
        lo, hi = float(values.quantile(0.02)), float(values.quantile(0.98))
        decimals = float((values.round(0) != values).mean())
        if hi - lo > 5 or decimals < 0.5:
            continue
        for field_name, limit in (("latitude", 90.0), ("longitude", 180.0)):
            if not (-limit <= lo and hi <= limit):
                continue
            value = 0.7
            centre = float(values.median())
            reasons = [f"decimal degrees between {lo:.3f} and {hi:.3f}"]
            if field_name == "longitude" and expected_lon is not None:
                if abs(centre - expected_lon) < 30:
                    value = 1.0
                    reasons.append("near the longitude of the city's time zone")
                else:
                    value = 0.3
            if field_name == "latitude" and expected_lon is not None and abs(centre - expected_lon) < 30:
                value = 0.3  # this is the longitude
            if field_name == "latitude" and abs(centre) > 90:
                continue
            name_part, why = _name_score(field_name, c)
            if why:
                reasons.insert(0, why)
            add_fn(field_name, c, name_part, value, reasons)
