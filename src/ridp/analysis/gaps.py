"""How well residents are served: service-level gaps between areas or groups, with honest uncertainty.

``service_gaps(table, mapping, by="area_id", population=people)`` compares, for each area (or each
group of areas, e.g. areas binned by income with ``groups=``), the median and 90th-percentile days
to close (Kaplan-Meier, open requests censored, exactly as :func:`ridp.service_levels` computes
them), the share closed within the per-type target, the residents behind each figure and the
requests per 1,000 residents, with a ratio to a reference group and the 0.8–1.25 band that
Aequitas uses to flag a disparity (PROGRAM.md §6, "how well residents are served").

Intervals are percentile bootstrap intervals. The heavy part runs on the engine: one grouped query
counts each group's durations per rounded value, closed or open. The resampling then runs in numpy
on those counts, all resamples of a group at once: a multinomial draw over the counted values gives
each resample, and its Kaplan-Meier median (p90) is the closed request at which the curve falls to
one half (one tenth), found without expanding the requests:

* between two open requests the curve only falls with closed ones, and there it is the share still
  at risk (the product telescopes), so runs of closed values and runs of open values are counted as
  single categories, and the closed request at which the curve crosses is an order statistic of the
  run's closed requests, drawn from its Beta distribution;
* everything well past the last crossing (ten standard errors of the curve) only counts as at risk;
* in large groups whose closed and open values interleave more than :data:`EXACT_RUNS` times, the
  curve is resampled over at most :data:`BLOCKS` stretches of about equal drops in the number at risk,
  and the open requests' effect inside each stretch is spread as in the data; the crossing inside a
  stretch is still found among the resample's closed requests. This agrees with full resampling
  within simulation error (``tests/analysis/test_gaps.py`` checks it) and keeps 200 groups of 50,000
  requests to seconds.

Part of the analytical core: Ibis only, never Django.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd

from ridp.analysis._survival import _EPS
from ridp.analysis._values import engine_of as _engine
from ridp.analysis._values import plain as _plain
from ridp.analysis.calendar import WorkCalendar
from ridp.analysis.service import LeftOut, TargetTable, _examples, _resolve_by, _wilson, _years, service_levels
from ridp.errors import FieldError
from ridp.readiness._canonical import CanonicalMapping, parse_datetime

if TYPE_CHECKING:
    from ridp.analysis.boundaries import Boundaries

__all__ = ["BAND", "COLUMNS", "MIN_CLOSED", "ServiceGaps", "service_gaps"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DaysUnit = Literal["calendar", "business"]
Gap = Literal["clear", "possible", "none", "reference"]

#: The band of ratios to the reference group inside which no gap is flagged (Aequitas' default).
BAND: Final = (0.8, 1.25)
#: Fewer closed requests than this (or requests decided against the target, for the share): no interval.
MIN_CLOSED: Final = 10
#: How durations are rounded on the engine before resampling (calendar days; business days are whole).
RESOLUTION: Final = "0.01 day (14.4 minutes); under one day 0.001 day, under 0.1 day 0.0001 day (about 9 seconds)"
#: Closed/open alternations up to which a group's resampling is exact for its rounded durations.
EXACT_RUNS: Final = 48
#: Stretches of the curve a larger group is resampled over.
BLOCKS: Final = 24
_SUB_SLOTS: Final = 4  # open requests of a stretch, in this many parts, for the stretch's end
_MARGIN: Final = 10.0  # standard errors of the curve past the last level reached before values only count at risk
_LEVELS: Final = (0.5, 0.1)  # survival levels of the median and the p90
_MIN_RESAMPLES, _MAX_RESAMPLES = 100, 100_000
_MAX_GROUPS_MAP = 10_000
_SECONDS_PER_DAY: Final = 86400
_TICKS_PER_DAY: Final = 10_000  # bins are counted in 0.0001 day

#: The columns of :meth:`ServiceGaps.to_pandas` and what each holds (those that apply to the result).
COLUMNS: Final[dict[str, str]] = {
    "group": "the area or group (the value of `by`, or its label from `groups`), as text",
    "requests": "requests of the group analysed (the residents behind every figure)",
    "closed": "of those, closed by the analysis date",
    "still_open": "of those, still open at the analysis date (censored, not dropped)",
    "residents": "people living in the group's area(s), from `population`",
    "requests_per_1000_residents_per_year": "requests / residents × 1,000 / years analysed",
    "resident_days_waiting": "calendar days residents waited, summed: to the close, or to the analysis date if open",
    "median_days": "median days to close, Kaplan-Meier (as service levels give it)",
    "median_days_low": "lower end of the median's percentile bootstrap interval",
    "median_days_high": "upper end of that interval (empty when too many resamples never reach one half)",
    "median_ratio": "median_days ÷ the reference group's median_days",
    "median_ratio_low": "lower end of the ratio's bootstrap interval (reference resampled independently)",
    "median_ratio_high": "upper end of the ratio's bootstrap interval",
    "median_gap": "clear (whole interval outside 0.8–1.25), possible (ratio outside, interval not), none, or reference",
    "p90_days": "90th percentile days to close, Kaplan-Meier (empty when more than 10% may still be waiting)",
    "p90_days_low": "lower end of the p90's bootstrap interval",
    "p90_days_high": "upper end of the p90's bootstrap interval",
    "median_days_closed": "median days to close of closed requests only (the usual dashboard figure)",
    "within_target": "closed within the type's target",
    "past_target": "closed after the target, or still open past it",
    "share_within_target": "within_target / (within_target + past_target)",
    "share_within_target_low": "lower end of the share's Wilson interval",
    "share_within_target_high": "upper end of the share's Wilson interval",
    "share_ratio": "share_within_target ÷ the reference group's",
    "share_ratio_low": "lower end of the share ratio's bootstrap interval",
    "share_ratio_high": "upper end of the share ratio's bootstrap interval",
    "share_gap": "clear, possible, none or reference, as for median_gap",
    "interval_note": "why an interval is empty or open-ended, where it is",
}
_FLOATS: Final = tuple(
    c for c in COLUMNS if c not in ("group", "requests", "closed", "still_open", "within_target", "past_target")
    and not c.endswith(("_gap", "_note"))
)  # fmt: skip
_INTS: Final = ("requests", "closed", "still_open", "within_target", "past_target")
#: Direction of each rankable column: True when a higher value is worse.
_WORSE_HIGH: Final = {
    "median_days": True,
    "p90_days": True,
    "median_ratio": True,
    "median_days_closed": True,
    "share_within_target": False,
    "share_ratio": False,
    "requests_per_1000_residents_per_year": True,
    "resident_days_waiting": True,
}
# Okabe & Ito: readable with every common colour-vision deficiency.
_GAP_COLOURS: Final = {
    "clear gap": "#D55E00",
    "possible gap": "#E69F00",
    "no gap": "#0072B2",
    "reference": "#000000",
    "no interval": "#999999",
}


# -- the result ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ServiceGaps:
    """Service levels per area or group, their intervals, ratios to a reference group and the gaps flagged.

    ``to_pandas()`` gives one row per group (:data:`COLUMNS` that apply); ``worst()`` the worst-served
    first; ``summary()`` the plain-language account; ``chart()`` and ``map()`` Altair charts;
    ``to_dict()`` / ``from_dict()`` JSON.
    """

    by: str
    grouped: bool  # True when `groups` labelled the values of `by`
    reference: str | None
    reference_rule: str  # "most requests" (of the groups whose median is known, if need be) or "named"
    unit: DaysUnit
    as_of: datetime
    confidence: float
    resamples: int
    seed: int
    rows_read: int
    rows_analysed: int
    left_out: tuple[LeftOut, ...]
    notes: tuple[LeftOut, ...]
    types_without_target: tuple[tuple[str, int], ...]
    method: str
    calendar: WorkCalendar
    targets: TargetTable | None
    _frame: pd.DataFrame

    band: tuple[float, float] = BAND
    resolution: str = RESOLUTION
    groups: Mapping[str, str] | None = None  # each value of `by` -> its group, when `groups` was given

    def to_pandas(self) -> pd.DataFrame:
        """One row per group (a copy: the result itself never changes)."""
        return self._frame.copy()

    def __len__(self) -> int:
        return len(self._frame)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._frame.columns)

    def row(self, group: object) -> dict[str, Any]:
        """The row of one group (``row("Bayview")``; a number is matched as its text)."""
        found = self._frame[self._frame["group"] == _text(group)]
        if len(found) != 1:
            raise KeyError(f"{group!r} is not a group of this result")
        return {str(k): _plain(v) for k, v in found.iloc[0].items()}

    def worst(self, n: int = 10, by: str = "median_days") -> pd.DataFrame:
        """The ``n`` worst-served groups on ``by``, worst first, with the residents and requests behind each.

        ``by`` is ``median_days`` (the default), ``p90_days``, ``median_ratio``, ``median_days_closed``,
        ``share_within_target`` or ``share_ratio`` (lowest first), ``requests_per_1000_residents_per_year``
        or ``resident_days_waiting``. Groups whose figure is unknown (e.g. a median not yet reached) come
        after the others.
        """
        if by not in _WORSE_HIGH:
            raise FieldError("by", f"{by!r} is not one of {', '.join(_WORSE_HIGH)}")
        if by not in self._frame.columns:
            raise FieldError("by", f"{by!r} is not in this result (columns: {', '.join(self.columns)})")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise FieldError("n", f"{n!r} is not a number of groups")
        frame = self._frame.sort_values(
            [by, "requests", "group"], ascending=[not _WORSE_HIGH[by], False, True], na_position="last", kind="stable"
        ).head(n)
        frame = frame.reset_index(drop=True)
        frame.insert(0, "rank", range(1, len(frame) + 1))
        return frame

    def summary(self) -> str:
        """The findings in plain language: the worst-served groups, their intervals and the gaps flagged."""
        frame = self._frame
        total = int(frame["requests"].sum()) if len(frame) else 0
        what = f"groups of {self.by}" if self.grouped else self.by
        lines = [
            f"Service gaps by {what}: {len(frame):,} groups, {total:,} requests, as of {self.as_of:%Y-%m-%d %H:%M}."
        ]
        if self.reference is None:
            lines.append("No group to compare.")
        else:
            ref = self.row(self.reference)
            lines.append(
                f"Reference group: {self.reference} ({self.reference_rule}), "
                + (f"median {_days(ref['median_days'])} days" if ref["median_days"] is not None else "median unknown")
                + f"; ratios outside {self.band[0]}–{self.band[1]} are flagged."
            )
            flagged = frame[frame["median_gap"].isin(["clear", "possible"]) & (frame["median_ratio"] > 1)]
            flagged = flagged.sort_values(["median_ratio", "requests"], ascending=[False, False], kind="stable")
            for _, row in flagged.head(5).iterrows():
                lines.append(self._sentence(row))
            if len(flagged) > 5:
                lines.append(f"…and {len(flagged) - 5} more groups wait longer than the band allows.")
            if flagged.empty:
                lines.append(
                    f"No group's median wait is more than {self.band[1]}× the reference group's."
                    if frame["median_ratio"].notna().any()
                    else "No group's median wait could be compared with the reference group's."
                )
            faster = frame[frame["median_gap"].isin(["clear", "possible"]) & (frame["median_ratio"] < 1)]
            faster = faster.sort_values(["median_ratio", "group"], kind="stable")
            if len(faster):
                shown = ", ".join(
                    f"{g} ({r:.2f}×, {gap})" for g, r, gap in
                    zip(faster["group"][:5], faster["median_ratio"][:5], faster["median_gap"][:5], strict=True)
                )  # fmt: skip
                more = f" and {len(faster) - 5} more" if len(faster) > 5 else ""
                lines.append(f"Served faster than the band allows: {shown}{more}.")
            if "share_gap" in frame.columns:
                low = frame[frame["share_gap"].isin(["clear", "possible"]) & (frame["share_ratio"] < 1)]
                for _, row in low.sort_values("share_ratio", kind="stable").head(5).iterrows():
                    lines.append(
                        f"In {row['group']}, {row['share_within_target']:.0%} of requests were closed within target "
                        f"({self._ci(row, 'share_within_target', percent=True)}), {row['share_ratio']:.2f}× the "
                        f"reference group's share: {_gap_words(row['share_gap'])}."
                    )
        unknown = frame[frame["median_days"].isna()]
        if len(unknown):
            lines.append(
                f"Median unknown in {len(unknown)} group(s) (more than half may still be waiting): "
                + ", ".join(unknown["group"].head(5))
            )
        for item in self.notes:
            lines.append(
                f"Note: {item.count:,} {item.reason}" + (f" (e.g. {', '.join(item.examples)})" if item.examples else "")
            )
        for item in self.left_out:
            lines.append(
                f"Left out: {item.count:,} {item.reason}"
                + (f" (e.g. {', '.join(item.examples)})" if item.examples else "")
            )
        if self.types_without_target:
            shown = ", ".join(f"{name} ({k:,})" for name, k in self.types_without_target[:5])
            lines.append(f"No target for {len(self.types_without_target)} type(s): {shown}")
        lines.append(f"Days are {self.unit} days. {self.method}")
        return "\n".join(lines)

    def _ci(self, row: pd.Series, column: str, *, percent: bool = False) -> str:
        low, high = row.get(f"{column}_low"), row.get(f"{column}_high")
        label = f"{self.confidence:.0%} CI"
        if pd.isna(low) and pd.isna(high):
            note = row.get("interval_note")
            return f"no interval: {note}" if isinstance(note, str) and note else "no interval"
        show = (lambda v: f"{v:.0%}") if percent else _days
        return f"{label} {show(low) if not pd.isna(low) else '…'}–{show(high) if not pd.isna(high) else 'unknown'}"

    def _sentence(self, row: pd.Series) -> str:
        ratio_low, ratio_high = row["median_ratio_low"], row["median_ratio_high"]
        if pd.isna(ratio_low) and pd.isna(ratio_high):
            interval = "no interval"
        else:
            interval = "interval " + (f"{ratio_low:.2f}" if not pd.isna(ratio_low) else "…") + "–" + (
                f"{ratio_high:.2f}" if not pd.isna(ratio_high) else "unknown")  # fmt: skip
        words = _gap_words(row["median_gap"])
        if interval == "no interval" and row["median_gap"] == "possible":
            words = "a possible gap (too few requests to tell)"
        people = f"{row['requests']:,} requests"
        if "residents" in row.index and not pd.isna(row["residents"]):
            people = f"{round(float(row['residents'])):,} residents, " + people
        return (
            f"Residents of {row['group']} wait a median {_days(row['median_days'])} days "
            f"({self._ci(row, 'median_days')}), {row['median_ratio']:.2f}× the reference group {self.reference} "
            f"({interval}): {words}; {people}."
        )

    def to_dict(self) -> dict[str, Any]:
        records = [{str(k): _plain(v) for k, v in row.items()} for row in self._frame.to_dict(orient="records")]
        return {
            "kind": "service_gaps",
            "by": self.by,
            "grouped": self.grouped,
            "reference": self.reference,
            "reference_rule": self.reference_rule,
            "unit": self.unit,
            "as_of": self.as_of.isoformat(),
            "confidence": self.confidence,
            "resamples": self.resamples,
            "seed": self.seed,
            "band": list(self.band),
            "resolution": self.resolution,
            "groups": dict(self.groups) if self.groups is not None else None,
            "rows_read": self.rows_read,
            "rows_analysed": self.rows_analysed,
            "left_out": [x.to_dict() for x in self.left_out],
            "notes": [x.to_dict() for x in self.notes],
            "types_without_target": [list(x) for x in self.types_without_target],
            "method": self.method,
            "calendar": self.calendar.to_dict(),
            "targets": self.targets.to_dict() if self.targets else None,
            "columns": list(self._frame.columns),
            "rows": records,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceGaps:
        frame = pd.DataFrame(list(data["rows"]), columns=list(data["columns"]))
        frame = _typed(frame)

        def items(key: str) -> tuple[LeftOut, ...]:
            return tuple(LeftOut(x["reason"], int(x["count"]), tuple(x["examples"])) for x in data.get(key, ()))

        return cls(
            by=str(data["by"]),
            grouped=bool(data["grouped"]),
            reference=data["reference"],
            reference_rule=str(data["reference_rule"]),
            unit=data["unit"],
            as_of=datetime.fromisoformat(data["as_of"]),
            confidence=float(data["confidence"]),
            resamples=int(data["resamples"]),
            seed=int(data["seed"]),
            rows_read=int(data["rows_read"]),
            rows_analysed=int(data["rows_analysed"]),
            left_out=items("left_out"),
            notes=items("notes"),
            types_without_target=tuple((str(a), int(b)) for a, b in data["types_without_target"]),
            method=str(data["method"]),
            calendar=WorkCalendar.from_dict(data["calendar"]),
            targets=TargetTable.from_dict(data["targets"]) if data["targets"] else None,
            _frame=frame,
            band=(float(data["band"][0]), float(data["band"][1])),
            resolution=str(data["resolution"]),
            groups={str(k): str(v) for k, v in data["groups"].items()} if data.get("groups") is not None else None,
        )

    def chart(self, metric: Literal["median_days", "share_within_target"] = "median_days", *, top: int = 25) -> Any:
        """An Altair chart of the ratios to the reference group, worst first: a point and its interval per
        group, the line of equal service at 1 and the 0.8–1.25 band shaded; colours say clear, possible or
        no gap (Okabe-Ito, readable with colour-vision deficiencies)."""
        import altair as alt

        prefix = {"median_days": "median", "share_within_target": "share"}.get(metric)
        if prefix is None or f"{prefix}_ratio" not in self._frame.columns:
            raise FieldError("metric", f"{metric!r} has no ratios in this result (median_days or share_within_target)")
        frame = self._frame
        data = pd.DataFrame(
            {
                "group": frame["group"],
                "ratio": frame[f"{prefix}_ratio"],
                "low": frame[f"{prefix}_ratio_low"],
                "high": frame[f"{prefix}_ratio_high"],
                "value": frame[metric],
                "requests": frame["requests"],
                "gap": [_gap_label(g) for g in frame[f"{prefix}_gap"]],
            }
        )
        if "residents" in frame.columns:
            data["residents"] = frame["residents"]
        data = data[data["ratio"].notna()]
        data = data.sort_values(["ratio", "requests"], ascending=[metric == "share_within_target", False],
                                kind="stable").head(top)  # fmt: skip
        data = data.assign(low=data["low"].fillna(data["ratio"]), high=data["high"].fillna(data["ratio"]))
        label = "Median days to close" if prefix == "median" else "Share closed within target"
        title = f"{label}: ratio to {self.reference}, worst first ({self.confidence:.0%} intervals)"
        order = list(data["group"])
        y = alt.Y("group:N", sort=order, title=None)
        domain = [g for g in _GAP_COLOURS if g in set(data["gap"])]
        colour = alt.Color(
            "gap:N", title="Gap", scale=alt.Scale(domain=domain, range=[_GAP_COLOURS[g] for g in domain])
        )
        tips = ["group:N", alt.Tooltip("ratio:Q", format=".2f"), alt.Tooltip("low:Q", format=".2f"),
                alt.Tooltip("high:Q", format=".2f"), alt.Tooltip("value:Q", title=label, format=",.2f"),
                alt.Tooltip("requests:Q", format=","), "gap:N"]  # fmt: skip
        if "residents" in data.columns:
            tips.append(alt.Tooltip("residents:Q", format=","))
        band = (
            alt.Chart(pd.DataFrame({"x": [self.band[0]], "x2": [self.band[1]]}))
            .mark_rect(color="#999999", opacity=0.18)
            .encode(x="x:Q", x2="x2:Q")
        )
        one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(color="#000000").encode(x="x:Q")
        bars = (
            alt.Chart(data)
            .mark_rule(strokeWidth=2)
            .encode(x=alt.X("low:Q", title=f"Ratio to {self.reference}"), x2="high:Q", y=y, color=colour, tooltip=tips)
        )
        points = alt.Chart(data).mark_point(filled=True, size=70).encode(x="ratio:Q", y=y, color=colour, tooltip=tips)
        return alt.layer(band, one, bars, points).properties(
            title=title, width=560, height=max(120, 18 * len(data)), description=self.summary().split("\n", 1)[0]
        )

    def map(self, boundaries: Boundaries, *, show: str = "median_ratio") -> Any:
        """A choropleth of each area's ``show`` (``median_ratio`` diverging around 1 by default, or
        ``median_days``, ``share_within_target``, ``share_ratio``, ``requests_per_1000_residents_per_year``).

        With ``groups``, each area takes its group's figure. ``boundaries`` are the areas of ``by``.
        """
        from ridp.analysis.maps import choropleth

        if show not in _WORSE_HIGH or show not in self._frame.columns:
            raise FieldError("show", f"{show!r} is not a column to map here ({', '.join(self.columns)})")
        frame = self._frame.rename(columns={show: "value"})
        if self.groups is not None:  # each area shows its group's figure (and the group's requests)
            areas = pd.DataFrame({"area_id": list(self.groups), "group": list(self.groups.values())})
            frame = areas.merge(frame, on="group", how="inner")
        else:
            frame = frame.assign(area_id=frame["group"])
        keep = ["area_id", "group", "value", "requests", *(["residents"] if "residents" in frame.columns else [])]
        frame = frame[frame["value"].notna()][keep]
        ratio = show.endswith("_ratio")
        titles = {"median_ratio": f"Median days to close ÷ {self.reference}'s", "share_ratio":
                  f"Share within target ÷ {self.reference}'s", "median_days": "Median days to close",
                  "p90_days": "90th percentile days to close", "median_days_closed": "Median days (closed only)",
                  "share_within_target": "Share closed within target", "resident_days_waiting":
                  "Resident-days of waiting", "requests_per_1000_residents_per_year":
                  "Requests per 1,000 residents per year"}  # fmt: skip
        return choropleth(
            boundaries,
            frame,
            title=f"{titles[show]} by {self.by}",
            legend_title=titles[show],
            scheme="blueorange" if ratio else "viridis",
            diverging=ratio,
            midpoint=1.0,
            label_format=",.2f",
            description=self.summary().split("\n", 1)[0],
            details=("group", "requests", *(["residents"] if "residents" in frame.columns else [])),
        )


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for c in frame.columns:
        if c in _FLOATS:
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
        elif c in _INTS:
            frame[c] = frame[c].astype("int64")
        else:
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return frame


def _days(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    v = float(value)  # type: ignore[arg-type]
    return f"{v:,.1f}" if v >= 1 else f"{v:.2f}"


def _gap_words(gap: object) -> str:
    return {
        "clear": "a clear gap",
        "possible": "a possible gap (its interval reaches into the band)",
        "none": "within the band",
        "reference": "the reference",
    }.get(str(gap), "not comparable")


def _gap_label(gap: object) -> str:
    return {"clear": "clear gap", "possible": "possible gap", "none": "no gap", "reference": "reference"}.get(
        str(gap), "no interval"
    )


def _text(value: object) -> str:
    """A group value as the text the result shows (an integral float as an integer: 23.0 → "23")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _texts(values: pd.Series) -> list[str]:
    """:func:`_text` of each value (computed once per distinct value: a column may have a million rows)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    shown = np.array([_text(u) for u in uniques], dtype=object)
    return list(shown[codes])


# -- the analysis ---------------------------------------------------------------------------------------------------
def service_gaps(
    table: ir.Table,
    mapping: CanonicalMapping,
    *,
    by: str,
    as_of: datetime | None = None,
    targets: TargetTable | Mapping[str, float] | None = None,
    unit: DaysUnit = "calendar",
    calendar: WorkCalendar | None = None,
    groups: Mapping[str, str] | None = None,
    reference: str | None = None,
    population: Mapping[str, float] | None = None,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> ServiceGaps:
    """Service levels per area or group, with bootstrap intervals, ratios to a reference group and gaps flagged.

    Parameters
    ----------
    table, mapping
        The service requests (any Ibis table: DuckDB, PostgreSQL, Spark) and their canonical mapping;
        ``opened`` and ``closed`` are needed.
    by
        The column of areas (e.g. assigned neighbourhood ids) or of any groups, by name; a name that is
        not a column (``area``, ``type``, ``agency``, ``channel``, ``status``) names the mapped column.
    as_of
        The moment the data describes (requests open then are censored at their age); default: the
        latest opened or closed time in the table.
    targets
        Days to close per request type: adds the share closed within target, its Wilson interval and
        its ratio to the reference group.
    unit, calendar
        Calendar or business days, and the working calendar for business days.
    groups
        A map from each value of ``by`` (as text) to a group label (e.g. areas to income quintiles): the
        gaps are then between the groups. Rows whose value has no label are left out, counted.
    reference
        The group the others are compared with; default: the group with the most requests (of those whose
        median is known).
    population
        Residents per value of ``by`` (as text): residents per group, requests per 1,000 residents.
    confidence, resamples, seed
        The intervals' level, the bootstrap's resamples and its seed (the same seed gives the same
        intervals, on every engine; each group's resamples depend only on the seed and its name).

    Rows without a ``by`` value are left out and counted, and so are the rows service levels set aside
    (no opened date, closed before opened, opened after ``as_of``).

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> days = [1, 2, 3, 4, 5] * 20 + [2, 4, 6, 8, 10] * 20
    >>> t = ibis.memtable(pd.DataFrame({"area": ["A"] * 100 + ["B"] * 100,
    ...     "o": pd.Timestamp("2024-01-01"), "c": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, "D")}))
    >>> r = service_gaps(t, CanonicalMapping({"opened": "o", "closed": "c"}), by="area", reference="A")
    >>> r.row("B")["median_days"], r.row("B")["median_ratio"], r.row("B")["median_gap"]
    (6.0, 2.0, 'clear')
    """
    if not isinstance(by, str) or not by:
        raise FieldError("by", "name one column of areas or groups")
    if unit not in ("calendar", "business"):
        raise FieldError("unit", "is calendar or business")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0.5 <= confidence < 1:
        raise FieldError("confidence", f"{confidence!r} is not a level between 0.5 and 1 (e.g. 0.95)")
    if (
        isinstance(resamples, bool)
        or not isinstance(resamples, int)
        or not _MIN_RESAMPLES <= resamples <= _MAX_RESAMPLES
    ):
        raise FieldError(
            "resamples", f"{resamples!r} is not a whole number from {_MIN_RESAMPLES} to {_MAX_RESAMPLES:,}"
        )
    if resamples * (1 - confidence) / 2 < 5:
        raise FieldError(
            "resamples", f"{resamples} resamples leave fewer than 5 beyond each end of a {confidence:.0%} interval"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise FieldError("seed", f"{seed!r} is not a whole number of 0 or more")
    labels = _check_groups(groups)
    people = _check_population(population)
    if reference is not None and (not isinstance(reference, str) or not reference):
        raise FieldError("reference", "name one of the groups")
    columns = list(table.columns)
    opened_col = mapping.column("opened")
    closed_col = mapping.column("closed")
    if opened_col is None:
        raise FieldError(
            "mapping", "no column is mapped to opened: a time to close needs the date each request came in"
        )
    if closed_col is None:
        raise FieldError("mapping", "no column is mapped to closed: gaps in time to close need the date each closed")
    for f, c in mapping.fields.items():
        if c not in columns:
            raise FieldError("mapping", f"{f} is mapped to {c!r}, which this table does not have")
    by_col = by if by in columns else _resolve_by([by], mapping, columns)[by]
    calendar = calendar or WorkCalendar()
    id_col = mapping.column("id")
    type_col = mapping.column("type")
    engine = _engine(table)

    def parsed(field: str, column: str) -> ir.TimestampValue:
        return parse_datetime(
            table[column], mapping.date_formats.get(field, ()), engine=engine, timezone=mapping.timezone
        )

    value = table[by_col]
    present = value.notnull()
    if value.type().is_string():
        present &= value.strip().length() > 0
    label = _label_expr(value, labels) if labels is not None else ibis.null().cast("string")
    needed = [c for c in dict.fromkeys([id_col, type_col, mapping.column("status"), opened_col, closed_col, by_col,
                                        *mapping.fields.values()]) if c]  # fmt: skip
    base = (
        table.select(*needed)
        .mutate(
            __opened=parsed("opened", opened_col),
            __closed=parsed("closed", closed_col),
            __gap_present=present,
            __gap_label=label,
        )
        .cache()
    )
    try:
        return _service_gaps(
            base, mapping, by=by, by_col=by_col, labels=labels, people=people, as_of=as_of, targets=targets,
            unit=unit, calendar=calendar, reference=reference, confidence=float(confidence), resamples=resamples,
            seed=seed, id_col=id_col, opened_col=opened_col, closed_col=closed_col,
        )  # fmt: skip
    finally:
        base.release()


def _service_gaps(
    base: ir.Table, mapping: CanonicalMapping, *, by: str, by_col: str, labels: dict[str, str] | None,
    people: dict[str, float] | None, as_of: datetime | None, targets: TargetTable | Mapping[str, float] | None,
    unit: DaysUnit, calendar: WorkCalendar, reference: str | None, confidence: float, resamples: int, seed: int,
    id_col: str | None, opened_col: str, closed_col: str,
) -> ServiceGaps:  # fmt: skip
    present, label = base["__gap_present"], base["__gap_label"]
    unlabelled = present & label.isnull() if labels is not None else present & False
    first = (
        base.aggregate(
            rows=base.count(),
            absent=(~present).sum(),
            unlabelled=unlabelled.sum(),
            max_opened=base["__opened"].max(),
            max_closed=base["__closed"].max(),
        )
        .to_pandas()
        .iloc[0]
    )
    rows_read = int(first["rows"])
    if as_of is None:
        candidates = [v for v in (first["max_opened"], first["max_closed"]) if v is not None and not pd.isna(v)]
        as_of = max(pd.Timestamp(v).to_pydatetime() for v in candidates) if candidates else datetime.now()
    as_of = as_of.replace(tzinfo=None)
    left_out: list[LeftOut] = []
    absent = int(first["absent"] or 0)
    if absent:
        left_out.append(LeftOut(f"without a value in {by}", absent, _examples(base, ~present, id_col, opened_col,
                                                                            closed_col)))  # fmt: skip
    n_unlabelled = int(first["unlabelled"] or 0)
    if n_unlabelled:
        left_out.append(LeftOut(f"whose {by} has no group in `groups`", n_unlabelled,
                                _top_values(base, unlabelled, by_col)))  # fmt: skip
    key = label if labels is not None else base[by_col]
    kept = base.filter(present & key.notnull() if labels is not None else present).mutate(__gap_group=key)
    levels = service_levels(kept, mapping, by=("__gap_group",), unit=unit, calendar=calendar, targets=targets,
                            as_of=as_of)  # fmt: skip
    points = levels.to_pandas()
    points["group"] = _texts(points["__gap_group"])
    counts = _duration_counts(kept, as_of, unit, calendar)
    left_out.extend(levels.left_out)
    frame, notes, draws = _groups(points, counts, levels.targets is not None, unit, confidence, resamples, seed)
    if labels is not None:
        residents: dict[str, float] = {}
        for area, group in labels.items():
            if people is not None and area in people:
                residents[group] = residents.get(group, 0.0) + people[area]
    else:
        residents = dict(people or {})
    if people is not None:
        frame["residents"] = [residents.get(g) for g in frame["group"]]
        frame["residents"] = frame["residents"].astype("float64")
        first_opened = counts["first"].min() if len(counts) else None
        years = _years(pd.Timestamp(first_opened).date(), as_of.date()) if first_opened is not None else 1.0
        per = frame["requests"] / frame["residents"].where(frame["residents"] > 0) * 1000 / years
        frame["requests_per_1000_residents_per_year"] = per.astype("float64")
        missing = frame.loc[frame["residents"].isna(), "group"]
        if len(missing):
            notes.append(LeftOut("groups without a population figure: no residents or rate per resident",
                                 len(missing), tuple(missing.head(5))))  # fmt: skip
    ref, rule = _reference(frame, reference)
    if ref is not None:
        _ratios(frame, ref, draws, confidence=confidence, unit=unit, targets=levels.targets is not None)
    order = [c for c in COLUMNS if c in frame.columns]
    frame = frame[order].sort_values("group", kind="stable").reset_index(drop=True)
    return ServiceGaps(
        by=by,
        grouped=labels is not None,
        reference=ref,
        reference_rule=rule,
        unit=unit,
        as_of=as_of,
        confidence=confidence,
        resamples=resamples,
        seed=seed,
        rows_read=rows_read,
        rows_analysed=levels.rows_analysed,
        left_out=tuple(left_out),
        notes=(*levels.notes, *notes),
        types_without_target=levels.types_without_target,
        method=_method(as_of, unit, calendar, confidence, resamples, seed, ref, rule, levels.targets is not None),
        calendar=calendar,
        targets=levels.targets,
        _frame=_typed(frame),
        groups=labels,
    )


def _check_groups(groups: Mapping[str, str] | None) -> dict[str, str] | None:
    if groups is None:
        return None
    if not isinstance(groups, Mapping) or not groups:
        raise FieldError("groups", "is a map from each value of `by` to its group's label")
    if len(groups) > _MAX_GROUPS_MAP:
        raise FieldError("groups", f"at most {_MAX_GROUPS_MAP:,} values")
    out: dict[str, str] = {}
    for k, v in groups.items():
        if not isinstance(v, str) or not v.strip():
            raise FieldError("groups", f"the label of {k!r} is {v!r}, not a name")
        out[_text(k)] = v
    return out


def _check_population(population: Mapping[str, float] | None) -> dict[str, float] | None:
    if population is None:
        return None
    if not isinstance(population, Mapping):
        raise FieldError("population", "is a map from each value of `by` to the people living there")
    out: dict[str, float] = {}
    for k, v in population.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise FieldError("population", f"{v!r} (for {k!r}) is not a number of residents")
        out[_text(k)] = float(v)
    return out


def _label_expr(value: ir.Value, labels: Mapping[str, str]) -> ir.StringValue:
    """Each row's group label, by its ``by`` value (numbers compared as numbers, so 23 matches "23")."""
    kind = value.type()
    branches: list[tuple[ir.BooleanValue, ir.Value]] = []
    for k, v in labels.items():
        if kind.is_integer() or kind.is_floating():
            try:
                number = float(k)
            except ValueError:
                continue
            if kind.is_integer() and not number.is_integer():
                continue
            branches.append((value == (int(number) if kind.is_integer() else number), ibis.literal(v)))
        else:
            branches.append((value.cast("string") == k, ibis.literal(v)))
    if not branches:
        return ibis.null().cast("string")
    return ibis.cases(*branches, else_=ibis.null().cast("string")).cast("string")


def _top_values(base: ir.Table, cond: ir.BooleanValue, column: str) -> tuple[str, ...]:
    chosen = base.filter(cond)
    rows = chosen.group_by(__v=chosen[column]).aggregate(n=chosen.count())
    found = rows.order_by([ibis.desc("n"), "__v"]).limit(5).to_pandas()
    return tuple(f"{_text(v)} ({int(n):,} rows)" for v, n in zip(found["__v"], found["n"], strict=True))


def _duration_counts(kept: ir.Table, as_of: datetime, unit: DaysUnit, calendar: WorkCalendar) -> pd.DataFrame:
    """Per group, rounded duration (in 0.0001 day) and closed or not: the number of requests (one grouped query).

    The rows and the duration are those of service levels: rows with an opened date, not closed before
    opened, not opened after ``as_of``; closed requests to their close, open ones to ``as_of``.
    """
    opened, closed = kept["__opened"], kept["__closed"]
    usable = opened.notnull() & ~(closed.notnull() & (closed < opened)) & ~(opened > as_of)
    t = kept.filter(usable)
    event = ibis.cases((t["__closed"].notnull() & (t["__closed"] <= as_of), True), else_=False)
    t = t.mutate(__event=event)
    t = t.mutate(__until=ibis.cases((t["__event"], t["__closed"]), else_=ibis.literal(as_of)))
    if unit == "business":
        ticks = calendar.business_days_expr(t["__opened"], t["__until"]).cast("int64") * _TICKS_PER_DAY
    else:
        # whole seconds, rounded half up to 0.0001 / 0.001 / 0.01 day in integer arithmetic (the same on every engine)
        s = (t["__until"].epoch_seconds() - t["__opened"].epoch_seconds()).cast("int64")
        day = _SECONDS_PER_DAY
        ticks = ibis.cases(
            (s < day // 10, (s * 10_000 + day // 2) // day),
            (s < day, (s * 1_000 + day // 2) // day * 10),
            else_=(s * 100 + day // 2) // day * 100,
        ).cast("int64")
    t = t.mutate(__ticks=ticks)
    grouped = t.group_by(["__gap_group", "__ticks", "__event"]).aggregate(n=t.count(), first=t["__opened"].min())
    frame = grouped.to_pandas()
    frame["group"] = _texts(frame["__gap_group"])
    frame["__event"] = frame["__event"].astype(bool)
    frame["__ticks"] = frame["__ticks"].astype("int64")
    frame["n"] = frame["n"].astype("int64")
    ordered: pd.DataFrame = frame.sort_values(["group", "__ticks", "__event"], kind="stable").reset_index(drop=True)
    return ordered


@dataclass
class _Draws:
    """One group's resamples of its median, p90 and share within target (nan where it has none)."""

    median: FloatArray
    p90: FloatArray
    share: FloatArray | None


def _groups(
    points: pd.DataFrame, counts: pd.DataFrame, with_targets: bool, unit: DaysUnit, confidence: float,
    resamples: int, seed: int,
) -> tuple[pd.DataFrame, list[LeftOut], dict[str, _Draws]]:  # fmt: skip
    """Each group's figures (from service levels) with its bootstrap intervals, and its resamples."""
    out = pd.DataFrame(
        {
            "group": points["group"],
            "requests": points["requests"].astype("int64"),
            "closed": points["closed"].astype("int64"),
            "still_open": points["still_open"].astype("int64"),
            "resident_days_waiting": points["resident_days_waiting"].astype("float64"),
            "median_days": points["median_days"].astype("float64"),
            "p90_days": points["p90_days"].astype("float64"),
            "median_days_closed": points["median_days_closed"].astype("float64"),
        }
    )
    if with_targets:
        for c in ("within_target", "past_target"):
            out[c] = points[c].astype("int64")
        out["share_within_target"] = points["share_within_target"].astype("float64")
        decided = out["within_target"] + out["past_target"]
        z = _z(confidence)
        low, high = _wilson(out["within_target"], decided.where(decided > 0), z)
        out["share_within_target_low"] = low.where(decided >= MIN_CLOSED)
        out["share_within_target_high"] = high.where(decided >= MIN_CLOSED)
    by_group = {g: f for g, f in counts.groupby("group", sort=False)}
    draws: dict[str, _Draws] = {}
    notes: dict[str, str] = {}
    approximated: list[str] = []
    bounds: dict[str, list[float]] = {c: [] for c in ("median_days_low", "median_days_high", "p90_days_low",
                                                    "p90_days_high")}  # fmt: skip
    for _, row in out.iterrows():
        group = str(row["group"])
        why: list[str] = []
        median = p90 = np.full(resamples, np.nan)
        cells = by_group.get(group)
        if row["closed"] < MIN_CLOSED:
            why.append(f"fewer than {MIN_CLOSED} closed requests")
        elif pd.isna(row["median_days"]):
            why.append("median not reached: more than half may still be waiting")
        elif cells is not None:
            days, ev, ce = _cells(cells)
            found, approx = _km_draws(days, ev, ce, _LEVELS, resamples, _rng(seed, group, 0))
            median, p90 = found[0], found[1]
            if pd.isna(row["p90_days"]):
                p90 = np.full(resamples, np.nan)
            if approx:
                approximated.append(group)
        ends = {"median_days": _ends(median, confidence, unit), "p90_days": _ends(p90, confidence, unit)}
        for c, (lo, hi) in ends.items():
            bounds[f"{c}_low"].append(lo)
            bounds[f"{c}_high"].append(hi)
        if not why and math.isnan(ends["median_days"][1]):
            why.append(f"the median's upper end is unknown: more than {(1 - confidence) / 2:.1%} of resamples never "
                       "reached one half")  # fmt: skip
        share = None
        if with_targets:
            n_decided = int(row["within_target"] + row["past_target"])
            if n_decided >= MIN_CLOSED:
                rng = _rng(seed, group, 1)
                share = rng.binomial(n_decided, float(row["share_within_target"]), resamples) / n_decided
            elif n_decided:
                why.append(f"fewer than {MIN_CLOSED} requests decided against the target")
        draws[group] = _Draws(median, p90, share)
        notes[group] = "; ".join(why)
    for c, values in bounds.items():
        out[c] = np.array(values, dtype=np.float64)
    out["interval_note"] = [notes[str(g)] or None for g in out["group"]]
    items: list[LeftOut] = []
    few = out.loc[out["closed"] < MIN_CLOSED, "group"]
    if len(few):
        items.append(LeftOut(f"groups with fewer than {MIN_CLOSED} closed requests: no interval", len(few),
                             tuple(few.head(5))))  # fmt: skip
    if approximated:
        items.append(LeftOut(f"groups whose closed and open durations interleave more than {EXACT_RUNS} times: "
                             f"resampled over {BLOCKS} stretches of the curve (see the method)", len(approximated),
                             tuple(approximated[:5])))  # fmt: skip
    return out, items, draws


def _cells(cells: pd.DataFrame) -> tuple[FloatArray, IntArray, IntArray]:
    """Distinct rounded durations (days) of one group with their closed and open counts."""
    ticks = cells["__ticks"].to_numpy(np.int64)
    values, where = np.unique(ticks, return_inverse=True)
    n = cells["n"].to_numpy(np.int64)
    closed = cells["__event"].to_numpy(bool)
    ev = np.bincount(where, weights=np.where(closed, n, 0), minlength=values.size).astype(np.int64)
    ce = np.bincount(where, weights=np.where(closed, 0, n), minlength=values.size).astype(np.int64)
    return values.astype(np.float64) / _TICKS_PER_DAY, ev, ce


def _rng(seed: int, group: str, stream: int) -> np.random.Generator:
    """A group's own generator: its resamples depend on the seed and its name only, not on the other groups."""
    return np.random.default_rng([seed, zlib.crc32(group.encode("utf-8")), stream])


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


def _half_step(values: FloatArray, unit: DaysUnit) -> FloatArray:
    """Half the rounding step of each resampled value (0 for business days, which are whole)."""
    if unit == "business":
        return np.zeros_like(values)
    with np.errstate(invalid="ignore"):
        return np.where(values < 0.1, 0.5e-4, np.where(values < 1.0, 0.5e-3, 0.5e-2))


def _ends(draws: FloatArray, confidence: float, unit: DaysUnit) -> tuple[float, float]:
    """The percentile interval of resampled values, widened by half their rounding step (nan: none; an
    infinite end, from resamples that never reached the level, is unknown: nan)."""
    if np.isnan(draws).all():
        return math.nan, math.nan
    half = _half_step(draws, unit)
    lo, hi = _percentiles(np.maximum(draws - half, 0.0), draws + half, confidence)
    return lo, hi


def _percentiles(low: FloatArray, high: FloatArray, confidence: float) -> tuple[float, float]:
    a = (1 - confidence) / 2
    lo = float(np.quantile(np.where(np.isnan(low), 0.0, low), a, method="inverted_cdf"))
    hi = float(np.quantile(np.where(np.isnan(high), np.inf, high), 1 - a, method="inverted_cdf"))
    return (lo if math.isfinite(lo) else math.nan), (hi if math.isfinite(hi) else math.nan)


def _reference(frame: pd.DataFrame, reference: str | None) -> tuple[str | None, str]:
    if reference is not None:
        if reference not in set(frame["group"]):
            shown = ", ".join(frame["group"].head(5))
            raise FieldError(
                "reference", f"{reference!r} is not one of the groups ({shown}{'…' if len(frame) > 5 else ''})"
            )
        return reference, "named"
    if frame.empty:
        return None, "most requests"
    # as Aequitas does, the largest group; but one whose median is known, or no ratio could be computed
    known = frame[frame["median_days"].notna()]
    pool = known if len(known) else frame
    top = pool.sort_values(["requests", "group"], ascending=[False, True], kind="stable").iloc[0]
    rule = "most requests" if len(pool) == len(frame) or top["requests"] == frame["requests"].max() else (
        "most requests of the groups whose median is known")  # fmt: skip
    return str(top["group"]), rule


def _ratios(
    frame: pd.DataFrame, ref: str, draws: Mapping[str, _Draws], *, confidence: float, unit: DaysUnit, targets: bool
) -> None:
    """Each group's ratio to the reference group, its bootstrap interval and its gap (in place)."""
    at = int(np.flatnonzero((frame["group"] == ref).to_numpy())[0])
    ref_draws = draws[ref]
    columns: dict[str, list[object]] = {k: [] for k in ("median_ratio", "median_ratio_low", "median_ratio_high",
                                                        "median_gap", "share_ratio", "share_ratio_low",
                                                        "share_ratio_high", "share_gap")}  # fmt: skip
    for i, (_, row) in enumerate(frame.iterrows()):
        mine = draws[str(row["group"])]
        is_ref = i == at
        ratio = _ratio(float(row["median_days"]), float(frame["median_days"].iloc[at]))
        lo = hi = math.nan
        if not is_ref and not np.isnan(mine.median).all() and not np.isnan(ref_draws.median).all():
            lo, hi = _ratio_ends(mine.median, ref_draws.median, confidence, unit=unit)
        columns["median_ratio"].append(ratio)
        columns["median_ratio_low"].append(lo)
        columns["median_ratio_high"].append(hi)
        columns["median_gap"].append(_gap(ratio, lo, hi, is_ref))
        if targets:
            ratio = _ratio(float(row["share_within_target"]), float(frame["share_within_target"].iloc[at]))
            lo = hi = math.nan
            if not is_ref and mine.share is not None and ref_draws.share is not None:
                lo, hi = _ratio_ends(mine.share, ref_draws.share, confidence, unit=None)
            columns["share_ratio"].append(ratio)
            columns["share_ratio_low"].append(lo)
            columns["share_ratio_high"].append(hi)
            columns["share_gap"].append(_gap(ratio, lo, hi, is_ref))
    for k, v in columns.items():
        if v:
            frame[k] = pd.Series(v, index=frame.index, dtype=object if k.endswith("_gap") else "float64")


def _ratio(mine: float, ref: float) -> float:
    if math.isnan(mine) or math.isnan(ref) or ref <= 0:
        return math.nan
    return mine / ref


def _ratio_ends(mine: FloatArray, ref: FloatArray, confidence: float, *, unit: DaysUnit | None) -> tuple[float, float]:
    """Percentile interval of the ratio of independent resamples; for rounded days (``unit``), each resample's
    ratio is bounded for the rounding of both values (lowest: mine rounded down over ref rounded up)."""
    if unit is not None:
        h_mine, h_ref = _half_step(mine, unit), _half_step(ref, unit)
    else:
        h_mine = h_ref = np.zeros_like(mine)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.maximum(mine - h_mine, 0.0) / (ref + h_ref)
        den = ref - h_ref
        high = np.where(den > 0, (mine + h_mine) / np.where(den > 0, den, 1.0), np.inf)
        high = np.where(np.isnan(mine) | np.isnan(ref), np.nan, high)
    return _percentiles(low, high, confidence)


def _gap(ratio: float, low: float, high: float, is_ref: bool) -> str | None:
    if is_ref:
        return "reference"
    if math.isnan(ratio):
        return None
    lo_band, hi_band = BAND
    if lo_band <= ratio <= hi_band:
        return "none"
    if ratio > hi_band:
        return "clear" if not math.isnan(low) and low > hi_band else "possible"
    return "clear" if not math.isnan(high) and high < lo_band else "possible"


def _method(
    as_of: datetime, unit: DaysUnit, calendar: WorkCalendar, confidence: float, resamples: int, seed: int,
    ref: str | None, rule: str, targets: bool,
) -> str:  # fmt: skip
    level = f"{confidence:.0%}"
    rounding = "whole business days" if unit == "business" else RESOLUTION
    parts = [
        f"Median and 90th-percentile days to close are Kaplan-Meier estimates, as in service levels: requests "
        f"still open on {as_of:%Y-%m-%d} are censored at their age, not dropped.",
        f"Their {level} intervals are percentile bootstrap intervals from {resamples:,} resamples (seed {seed}; the "
        "same seed gives the same intervals): one grouped query on the engine counts each group's durations, "
        f"rounded to {rounding}, per value, closed or open; each group is then resampled multinomially over those "
        "values in numpy, all resamples at once, and each resample's median and p90 is the closed request at which "
        "its Kaplan-Meier curve falls to one half and one tenth (an order statistic of the closed requests, exact "
        f"for the rounded durations; in groups whose closed and open durations interleave more than {EXACT_RUNS} "
        f"times, the open requests' effect within each of up to {BLOCKS} stretches of the curve is spread as in "
        "the data, which agrees with full resampling within simulation error). Interval ends are widened by half "
        "the rounding step.",
    ]
    if ref is not None:
        parts.append(
            f"Ratios are to the reference group, {ref} ({rule}); a ratio's interval divides each resample of the "
            "group's median by an independent resample of the reference's. "
            f"A ratio outside {BAND[0]}–{BAND[1]} (the band Aequitas uses) is flagged: a clear gap when its whole "
            "interval lies outside the band, a possible gap when the interval reaches into it."
        )
    if targets:
        parts.append(
            "The share closed within target counts requests closed within their type's target against those closed "
            "after it or still open past it (open requests not yet past it count neither way); its interval is "
            "Wilson's, and its ratio's comes from binomial resamples of each group's decided requests."
        )
    parts.append(
        f"Groups with fewer than {MIN_CLOSED} closed requests (or decided requests, for the share) get no interval."
    )
    if unit == "business":
        holidays = f", {len(calendar.holidays)} holiday(s)" if calendar.holidays else ", no holidays"
        parts.append(
            f"Business days count working days ({'/'.join(calendar.weekdays)}{holidays}) from the day opened "
            "up to the day closed, not counting that day."
        )
    return " ".join(parts)


# -- the resampling -------------------------------------------------------------------------------------------------
def _km_curve(events: IntArray, censored: IntArray) -> tuple[FloatArray, FloatArray]:
    """Kaplan-Meier survival after each distinct value, and Greenwood's standard error."""
    at_risk = np.cumsum((events + censored)[::-1])[::-1].astype(np.float64)
    d = events.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_f = np.where(d < at_risk, np.log1p(-d / np.where(at_risk > 0, at_risk, 1.0)), 0.0)
        gw = np.where(d < at_risk, d / (at_risk * (at_risk - d)), 0.0)
    ended = np.maximum.accumulate((d >= at_risk) & (d > 0))
    s = np.where(ended, 0.0, np.exp(np.cumsum(log_f)))
    return s, s * np.sqrt(np.cumsum(gw))


def _km_draws(
    days: FloatArray, events: IntArray, censored: IntArray, levels: Sequence[float], resamples: int,
    rng: np.random.Generator, *, exact_runs: int = EXACT_RUNS,
) -> tuple[FloatArray, bool]:  # fmt: skip
    """Resampled Kaplan-Meier quantiles: for each of ``levels`` (0.5: the median), ``resamples`` values, the
    smallest of ``days`` at which a resample's curve falls to the level or below (inf: never).

    ``days`` are a group's distinct durations in increasing order, ``events`` and ``censored`` how many
    closed and open requests have each. Returns the draws and whether the group was resampled in
    stretches (more than ``exact_runs`` alternations of closed and open values) rather than exactly.
    """
    out = np.full((len(levels), resamples), np.inf)
    n = int(events.sum() + censored.sum())
    s, se = _km_curve(events, censored)
    reached = [q for q in levels if bool((s <= q + _EPS).any())]
    if not reached or n == 0:
        return out, False
    # Past the last level's crossing by a wide margin, values only count as at risk: one lump.
    k = days.size
    safe = np.flatnonzero(s + _MARGIN * se <= min(reached) + _EPS)
    if safe.size:
        k = int(safe[0]) + 1
    # Items in the curve's order: each value's closed requests, then its open ones (open ones are at risk there).
    w = np.stack([events[:k], censored[:k]], axis=1).ravel().astype(np.int64)
    kind = np.tile(np.array([True, False]), k)
    cell = np.repeat(np.arange(k), 2)
    keep = w > 0
    w, kind, cell = w[keep], kind[keep], cell[keep]
    e_cell = cell[kind]  # the value of each closed item
    cum_e = np.cumsum(w[kind])
    cum0 = np.concatenate([[0], cum_e])
    lump = n - int(w.sum())
    run = np.concatenate([[0], np.cumsum(kind[1:] != kind[:-1])])
    n_runs = int(run[-1]) + 1
    run_w = np.bincount(run, weights=w, minlength=n_runs)
    approx = n_runs > exact_runs
    if not approx:
        run_block = np.arange(n_runs)
    else:
        # stretches of about equal drops in log(number at risk): fine where few remain, the last run on its own
        risk = n - np.concatenate([[0.0], np.cumsum(run_w)[:-1]])
        tag = np.minimum((np.log(n / risk) / math.log(n / risk[-1]) * BLOCKS).astype(np.int64), BLOCKS - 1)
        tag[-1] = BLOCKS
        run_block = np.concatenate([[0], np.cumsum(tag[1:] != tag[:-1])])
    block = run_block[run]
    n_blocks = int(block[-1]) + 1
    we = np.where(kind, w, 0)
    big_e = np.bincount(block, weights=we, minlength=n_blocks).astype(np.int64)
    big_c = np.bincount(block, weights=w - we, minlength=n_blocks).astype(np.int64)
    ids = np.arange(n_blocks)
    i0, i1 = np.searchsorted(block, ids, "left"), np.searchsorted(block, ids, "right")
    e_idx = np.cumsum(kind) - 1
    first = e_idx[i0] + (~kind[i0]).astype(np.int64)
    last = e_idx[i1 - 1]
    mixed = (big_e > 0) & (big_c > 0)
    runs = _Runs.of(run, kind, w, run_block, big_e, big_c)
    has_e, has_c = big_e > 0, big_c > 0
    n_e, n_c = int(has_e.sum()), int(has_c.sum())
    weights = np.concatenate([big_e[has_e], big_c[has_c], [lump] if lump else []]).astype(np.float64)
    x = rng.multinomial(n, weights / weights.sum(), size=resamples)
    ev = np.zeros((resamples, n_blocks))
    ce = np.zeros((resamples, n_blocks))
    ev[:, has_e] = x[:, :n_e]
    ce[:, has_c] = x[:, n_e : n_e + n_c]
    tail = x[:, n_e + n_c :].sum(axis=1).astype(np.float64)
    at = np.cumsum((ev + ce)[:, ::-1], axis=1)[:, ::-1] + tail[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(has_e[None, :] & (at > 0), (at - ev) / np.where(at > 0, at, 1.0), 1.0)
        if mixed.any():
            # the curve only falls at closed requests: a stretch without any in a resample leaves it as it was
            f = np.where(mixed[None, :] & (ev > 0), _stretch_factor(at, ev, ce, runs, mixed), f)
    s_end = np.cumprod(f, axis=1)
    rows = np.arange(resamples)
    for li, q in enumerate(levels):
        crossed = (s_end <= q + _EPS) & (ev > 0)
        hit = crossed.any(axis=1)
        where = crossed.argmax(axis=1)
        for j in np.unique(where[hit]):
            b = rows[hit & (where == j)]
            s0 = s_end[b, j - 1] if j > 0 else np.ones(b.size)
            a, e, c = at[b, j], ev[b, j], ce[b, j]
            if mixed[j]:
                pos = _walk(a, e, c, s0, q, runs, j, cum_e, cum0, int(first[j]), int(last[j]), int(big_e[j]), rng)
            else:
                # the curve falls by the share of the stretch's closed requests: the crossing is an order statistic
                need = np.clip(np.ceil(a * (1.0 - (q + _EPS) / s0)), 1, e)
                u = rng.beta(need, e - need + 1)
                pos = np.clip(np.searchsorted(cum_e, cum0[first[j]] + u * big_e[j], "left"), first[j], last[j])
            out[li, b] = days[e_cell[pos]]
    return out, approx


@dataclass(frozen=True)
class _Runs:
    """A group's runs of closed values and of open values (up to the lump), with their place in their stretch:
    the stretch's closed share up to and including the run, its open share before the run, the run's own
    open share; and, for each closed value, the rank of its run among its stretch's closed runs."""

    closed: npt.NDArray[np.bool_]
    block: IntArray
    start: IntArray  # first run of each stretch
    stop: IntArray
    pe: FloatArray
    qc: FloatArray
    qw: FloatArray
    rank_of_value: IntArray

    @classmethod
    def of(
        cls, run: IntArray, kind: npt.NDArray[np.bool_], w: IntArray, run_block: IntArray, big_e: IntArray,
        big_c: IntArray,
    ) -> _Runs:  # fmt: skip
        n_runs = run_block.size
        closed = np.zeros(n_runs, dtype=bool)
        closed[run[kind]] = True
        run_e = np.bincount(run, weights=np.where(kind, w, 0), minlength=n_runs)
        run_c = np.bincount(run, weights=np.where(kind, 0, w), minlength=n_runs)
        ids = np.arange(big_e.size)
        start, stop = np.searchsorted(run_block, ids, "left"), np.searchsorted(run_block, ids, "right")
        cs_e, cs_c = np.cumsum(run_e), np.cumsum(run_c)
        with np.errstate(divide="ignore", invalid="ignore"):
            pe = (cs_e - (cs_e - run_e)[start][run_block]) / big_e[run_block]
            qc = (cs_c - run_c - (cs_c - run_c)[start][run_block]) / big_c[run_block]
            qw = run_c / big_c[run_block]
        n_closed = np.cumsum(closed)
        rank = n_closed - 1 - (n_closed - closed)[start][run_block]
        return cls(closed, run_block, start, stop, pe, qc, qw, rank[run[kind]].astype(np.int64))


def _stretch_factor(
    at: FloatArray, ev: FloatArray, ce: FloatArray, runs: _Runs, mixed: npt.NDArray[np.bool_]
) -> FloatArray:
    """The curve's factor over each mixed stretch: the share still at risk after it, times the open requests'
    correction (the Kaplan-Meier product written as at-risk shares), with each stretch's open requests in
    :data:`_SUB_SLOTS` parts placed as in the data."""
    cmask = ~runs.closed & mixed[runs.block]
    part = np.minimum((runs.qc[cmask] * _SUB_SLOTS).astype(np.int64), _SUB_SLOTS - 1)
    keys, inv = np.unique(runs.block[cmask] * _SUB_SLOTS + part, return_inverse=True)
    sub_block = keys // _SUB_SLOTS
    sub_q = np.bincount(inv, weights=runs.qw[cmask])
    sub_p = np.bincount(inv, weights=runs.qw[cmask] * runs.pe[cmask]) / sub_q
    sub_before = np.full(keys.size, np.inf)
    np.minimum.at(sub_before, inv, runs.qc[cmask])
    m = at[:, sub_block] - ev[:, sub_block] * sub_p - ce[:, sub_block] * sub_before
    leave = ce[:, sub_block] * sub_q / np.where(m > 0, m, 1.0)
    g = np.where(m > 0, -np.log(np.clip(1.0 - leave, 1e-300, None)), 0.0)
    gamma = np.zeros_like(at)
    starts = np.flatnonzero(np.concatenate([[True], sub_block[1:] != sub_block[:-1]]))
    gamma[:, sub_block[starts]] = np.add.reduceat(g, starts, axis=1)
    after = (at - ev - ce) / np.where(at > 0, at, 1.0) * np.exp(gamma)
    return np.where(at > 0, np.minimum(after, 1.0), 1.0)


def _walk(
    a: FloatArray, e: FloatArray, c: FloatArray, s0: FloatArray, q: float, runs: _Runs, j: int, cum_e: IntArray,
    cum0: IntArray, first: int, last: int, total: int, rng: np.random.Generator,
) -> IntArray:  # fmt: skip
    """The closed value at which each resample's curve crosses ``q`` inside a mixed stretch.

    With the stretch's open requests placed as in the data, the curve is at or below ``q`` after the k-th
    closed request of the stretch when k reaches a threshold r that depends (a little) on where that
    request lies. The resample's closed requests of the stretch are ordered uniforms mapped through the
    stretch's distribution of closed values; walking up the order statistics from the lowest threshold
    (jumping to the least threshold still ahead) finds the first k with k >= r(value of the k-th): the
    crossing.
    """
    sl = slice(int(runs.start[j]), int(runs.stop[j]))
    closed, pe, qc, qw = runs.closed[sl], runs.pe[sl], runs.qc[sl], runs.qw[sl]
    with np.errstate(divide="ignore", invalid="ignore"):
        m = a[:, None] - e[:, None] * pe[None, :] - c[:, None] * qc[None, :]
        leave = c[:, None] * qw[None, :] / np.where(m > 0, m, 1.0)
        lg = np.where(~closed[None, :] & (m > 0), -np.log(np.clip(1.0 - leave, 1e-300, None)), 0.0)
        gamma = np.cumsum(lg, axis=1) - lg
        r = a[:, None] - c[:, None] * qc[None, :] - (q + _EPS) * a[:, None] * np.exp(-gamma) / s0[:, None]
    r = r[:, closed]  # the threshold is the same for every closed value of a run
    # the crossing k is at least the threshold's least value from the k-th request's value on: jump there
    floor = np.minimum.accumulate(r[:, ::-1], axis=1)[:, ::-1]
    k = np.clip(np.ceil(floor[:, 0]), 1, e)
    u = rng.beta(k, e - k + 1)

    def value_of(u_t: FloatArray) -> IntArray:
        found: IntArray = np.clip(np.searchsorted(cum_e, cum0[first] + u_t * total, "left"), first, last)
        return found

    pos = value_of(u)
    rank = runs.rank_of_value
    done = k >= r[np.arange(r.shape[0]), rank[pos]] - 1e-9
    while True:
        todo = np.flatnonzero(~done & (k < e))
        if not todo.size:
            return pos
        # the next order statistics to look at: U(k') given U(k) is U(k) + (1 - U(k)) * Beta(k' - k, e - k' + 1)
        ahead = np.clip(np.maximum(k[todo] + 1, np.ceil(floor[todo, rank[pos[todo]]] - 1e-9)), 1, e[todo])
        u[todo] += (1.0 - u[todo]) * rng.beta(ahead - k[todo], e[todo] - ahead + 1)
        k[todo] = ahead
        pos[todo] = value_of(u[todo])
        done[todo] = k[todo] >= r[todo, rank[pos[todo]]] - 1e-9
