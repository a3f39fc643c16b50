"""A working-day calendar: which weekdays are worked, and the city's holidays.

Business days between two moments follow :func:`numpy.busday_count`: the working
days in ``[opened date, closed date)``, so a request closed the day it was opened
took 0 business days, and one opened on a Friday and closed on Monday took 1.
On the engines this is a closed form over day numbers (no join, no per-row
Python): the count of each working weekday below a day number is
``(n - w + 6) // 7``, less the holidays that fall on a working day in the span.

Examples
--------
>>> from datetime import date
>>> cal = WorkCalendar(holidays=(date(2024, 1, 1),))
>>> cal.business_days(date(2023, 12, 29), date(2024, 1, 2))  # Friday, weekend, holiday
1
>>> cal.is_working(date(2024, 1, 1))
False
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np

from ridp.errors import FieldError

__all__ = ["WEEKDAYS", "WorkCalendar"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_ZERO = date(1900, 1, 1)  # a Monday: day numbers count from it, so every real date has n >= 0
_EPOCH_DAY = (date(1970, 1, 1) - _DAY_ZERO).days
_MAX_HOLIDAYS = 2000


@dataclass(frozen=True)
class WorkCalendar:
    """Working weekdays (``"Mon"`` … ``"Sun"``) and holidays (dates that are not worked).

    Parameters
    ----------
    weekdays
        The days of the week that are worked; Monday to Friday unless given.
    holidays
        Dates that are not worked (a holiday on a day that is not worked anyway changes nothing).
    """

    weekdays: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")
    holidays: tuple[date, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        days = tuple(self.weekdays)
        unknown = [d for d in days if d not in WEEKDAYS]
        if unknown:
            raise FieldError("weekdays", f"{unknown[0]!r} is not one of {', '.join(WEEKDAYS)}")
        if not days:
            raise FieldError("weekdays", "at least one day of the week is worked")
        holidays: list[date] = []
        for h in self.holidays:
            if isinstance(h, datetime):
                h = h.date()
            if not isinstance(h, date):
                raise FieldError("holidays", f"{h!r} is not a date like 2024-07-04")
            holidays.append(h)
        if len(holidays) > _MAX_HOLIDAYS:
            raise FieldError("holidays", f"at most {_MAX_HOLIDAYS} holidays")
        object.__setattr__(self, "weekdays", tuple(d for d in WEEKDAYS if d in days))
        object.__setattr__(self, "holidays", tuple(sorted(set(holidays))))

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> WorkCalendar:
        """From ``{"weekdays": [...], "holidays": ["2024-07-04", ...]}`` (either key may be missing)."""
        if not data:
            return cls()
        holidays = []
        for value in data.get("holidays") or ():
            try:
                holidays.append(value if isinstance(value, date) else date.fromisoformat(str(value)))
            except ValueError:
                raise FieldError("holidays", f"{value!r} is not a date like 2024-07-04") from None
        return cls(tuple(data.get("weekdays") or cls.weekdays), tuple(holidays))

    def to_dict(self) -> dict[str, Any]:
        return {"weekdays": list(self.weekdays), "holidays": [h.isoformat() for h in self.holidays]}

    @property
    def _working(self) -> tuple[int, ...]:
        return tuple(WEEKDAYS.index(d) for d in self.weekdays)

    def _working_holidays(self, start: date | None = None, end: date | None = None) -> list[date]:
        return [
            h
            for h in self.holidays
            if h.weekday() in self._working and (start is None or h >= start) and (end is None or h <= end)
        ]

    def is_working(self, day: date) -> bool:
        return day.weekday() in self._working and day not in self.holidays

    def business_days(self, start: date, end: date) -> int:
        """Working days in ``[start, end)``, as :func:`numpy.busday_count` counts them (``end >= start``)."""
        mask = [d in self.weekdays for d in WEEKDAYS]
        return int(np.busday_count(start, end, weekmask=mask, holidays=list(self.holidays)))

    def business_days_expr(
        self, opened: ir.TimestampValue, closed: ir.TimestampValue, *, span: tuple[date, date] | None = None
    ) -> ir.IntegerValue:
        """:meth:`business_days` of two timestamp columns, on any engine (rows where ``closed >= opened``;
        the analysis sets negative durations aside before it counts).

        ``span`` bounds the holidays written into the query (only those between the
        data's first and last dates can matter).
        """
        a = _day_number(opened)
        b = _day_number(closed)
        count: ir.IntegerValue = _workdays_below(b, self._working) - _workdays_below(a, self._working)
        for h in self._working_holidays(*(span or (None, None))):
            n = (h - _DAY_ZERO).days
            count = count - ibis.cases(((a <= n) & (b > n), 1), else_=0)
        return count


def _day_number(value: ir.TimestampValue) -> ir.IntegerValue:
    """Days since 1900-01-01 of a local timestamp's date."""
    seconds = value.epoch_seconds().cast("int64")
    # floor division of a possibly negative number of seconds, written so every engine agrees
    days = ibis.cases((seconds >= 0, seconds // 86400), else_=-((-seconds + 86399) // 86400))
    return (days + _EPOCH_DAY).cast("int64")


def _workdays_below(n: ir.IntegerValue, working: Iterable[int]) -> ir.IntegerValue:
    """How many days m in ``[0, n)`` fall on a working weekday (``m mod 7`` is the weekday: day 0 is a Monday)."""
    total: ir.IntegerValue | None = None
    for w in working:
        part = (n - w + 6) // 7
        total = part if total is None else total + part
    assert total is not None
    return total
