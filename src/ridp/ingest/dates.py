"""Recognising dates in the many forms cities export them.

:func:`detect_dates` looks at a sample of a text column and says which formats
its values are in (several formats in one column happen: exports merged over
the years), what share of them parse, whether day and month are ambiguous, and
whether the values carry their own UTC offset. :func:`parse_dates` turns values
into UTC timestamps, reading values without an offset in the city's time zone.

Examples
--------
>>> d = detect_dates(["2024-03-05 13:22:00", "03/06/2024 01:22:00 PM", None])
>>> [f for f, _ in d.formats], d.parsed_share
(['ISO 8601', '%m/%d/%Y %I:%M:%S %p'], 1.0)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

__all__ = ["DateDetection", "detect_dates", "parse_dates"]

ISO = "ISO 8601"
# Month-first and day-first forms are tried separately: which one a column uses
# is decided by its values (a first number above 12 means day-first).
MONTH_FIRST = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")
DAY_FIRST = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")
YEAR_FIRST_SLASH = ("%Y/%m/%d %H:%M:%S%z", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")
OTHER = ("%m/%d/%y %H:%M", "%m/%d/%y", "%d-%b-%Y", "%d %b %Y", "%b %d %Y", "%B %d, %Y", "%a %b %d %H:%M:%S %Z %Y")
# An offset only counts after a time of day: "2022-01-21" ends in "-21", which is a day.
_SHORT_OFFSET = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([+-]\d{2})$")
_ISO_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$")
_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s?(?:Z|[+-]\d{2}(?::?\d{2})?)$")


@dataclass(frozen=True)
class DateDetection:
    """What a sample of a column says about its dates."""

    formats: tuple[tuple[str, int], ...]  # (format, values in it), most used first
    parsed_share: float  # of the non-blank values
    ambiguous_day_month: bool  # slashed dates whose day and month could be either
    has_offset: bool  # values carry their own UTC offset
    values: int  # non-blank values looked at


def _normalise(values: pd.Series) -> pd.Series:
    text: Any = values.astype("string").str.strip()
    text = text.mask(text == "")
    result: pd.Series = text.str.replace(_SHORT_OFFSET, r"\1\2:00", regex=True)
    return result


def _series(values: Sequence[object] | pd.Series) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    return pd.Series(cast(Any, list(values)), dtype="object")


def _candidates(text: pd.Series) -> list[str]:
    """Formats in the order to try them, with day/month order decided by the values."""
    slashed = text.dropna()
    slashed = slashed[slashed.str.match(r"^\d{1,2}/\d{1,2}/\d{2,4}")]
    first = pd.to_numeric(slashed.str.extract(r"^(\d{1,2})/")[0], errors="coerce")
    second = pd.to_numeric(slashed.str.extract(r"^\d{1,2}/(\d{1,2})/")[0], errors="coerce")
    day_first = bool((first > 12).any()) and not bool((second > 12).any())
    order = [ISO, *YEAR_FIRST_SLASH]
    order += [*DAY_FIRST, *MONTH_FIRST] if day_first else [*MONTH_FIRST, *DAY_FIRST]
    return [*order, *OTHER]


def _try(text: pd.Series, fmt: str) -> pd.Series:
    if fmt == ISO:
        iso = text.where(text.str.match(_ISO_LIKE.pattern, na=False))
        return pd.to_datetime(iso, format="ISO8601", errors="coerce", utc=True)
    return pd.to_datetime(text, format=fmt, errors="coerce", utc=True)


def detect_dates(values: Sequence[object] | pd.Series, *, max_values: int = 5000) -> DateDetection:
    """Which date formats a column's values are in (from at most ``max_values`` of them)."""
    series = _series(values)
    if pd.api.types.is_datetime64_any_dtype(series):
        present = int(series.notna().sum())
        return DateDetection(((ISO, present),), 1.0 if present else 0.0, False, False, present)
    text = _normalise(series.dropna().head(max_values))
    text = text.dropna()
    total = len(text)
    if total == 0:
        return DateDetection((), 0.0, False, False, 0)
    remaining = text
    found: list[tuple[str, int]] = []
    for fmt in _candidates(text):
        if remaining.empty:
            break
        parsed = _try(remaining, fmt)
        hits = int(parsed.notna().sum())
        if hits:
            found.append((fmt, hits))
            remaining = remaining[parsed.isna()]
    parsed_count = total - len(remaining)
    slashed = text[text.str.match(r"^\d{1,2}/\d{1,2}/\d{2,4}", na=False)]
    first = pd.to_numeric(slashed.str.extract(r"^(\d{1,2})/")[0], errors="coerce")
    second = pd.to_numeric(slashed.str.extract(r"^\d{1,2}/(\d{1,2})/")[0], errors="coerce")
    ambiguous = bool(len(slashed)) and not bool((first > 12).any()) and not bool((second > 12).any())
    has_offset = bool(text.str.contains(_OFFSET.pattern, regex=True, na=False).mean() > 0.5)
    found.sort(key=lambda item: -item[1])
    return DateDetection(tuple(found), parsed_count / total, ambiguous, has_offset, total)


def parse_dates(values: Sequence[object] | pd.Series, formats: Sequence[str], timezone: str) -> pd.Series:
    """Parse ``values`` with ``formats`` (as :func:`detect_dates` found them) into UTC.

    Values with their own offset keep it; the others are read as local time in
    ``timezone`` (an IANA name such as ``America/New_York``). Unparseable values
    become NaT. Ambiguous or missing local times (daylight-saving changes) become
    NaT too rather than guessing.
    """
    series = _series(values)
    text = _normalise(series)
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    for fmt in formats:
        todo = result.isna() & text.notna()
        if not todo.any():
            break
        chunk = text[todo]
        with_offset = chunk.str.contains(_OFFSET.pattern, regex=True, na=False)
        if with_offset.any():
            result.loc[with_offset[with_offset].index] = _try(chunk[with_offset], fmt)
        naive = chunk[~with_offset]
        if naive.empty:
            continue
        if fmt == ISO:
            local = pd.to_datetime(
                naive.where(naive.str.match(_ISO_LIKE.pattern, na=False)), format="ISO8601", errors="coerce"
            )
        else:
            local = pd.to_datetime(naive, format=fmt, errors="coerce")
        localised = local.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
        result.loc[localised.index] = result.loc[localised.index].fillna(localised)
    return result
