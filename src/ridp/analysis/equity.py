"""Where resources go: each area's share of events against its share of residents (PROGRAM.md §6).

``resource_scores(events, area="tract", census=acs, baseline="B01003_001")`` follows the Urban
Institute's Spatial Equity Data Tool. Events (service requests, inspections, dollars, trees
planted) are counted per area on the engine, one Ibis group-by; the per-area counts are joined
to a census table in pandas. For every census area:

* **geographic score** = share of the city's events in the area − share of its residents there.
  The events are a count, not a sample: the score's uncertainty is the census estimate's. Its
  margin of error is the Census Bureau's for a derived proportion; SE = MOE / 1.645; a score is
  significant when |z| > 1.96.
* **demographic score** (per census variable, such as median income or the share of renters) =
  the event-weighted mean of the areas' values − the citywide value (the population-weighted
  mean), with an SE from the margins of error under the assumption that areas' estimates are
  independent.

Areas with events and no census row, census areas with no events, events with no area: all
are counted and shown with examples, never dropped in silence. Part of the analytical core.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from ridp.analysis.census import Z90, CensusTable, KeyMatch, _proportion_moe, _short_label, match_keys, moe_sum
from ridp.analysis.service import LeftOut
from ridp.errors import FieldError

__all__ = ["AREA_COLUMNS", "DEMOGRAPHIC_COLUMNS", "Z_CRITICAL", "ResourceScores", "resource_scores"]

#: |z| above which a score is called significant (two-sided 5 %).
Z_CRITICAL: Final = 1.96
EXAMPLES: Final = 5
#: More distinct area values than this and the column is not an area column.
MAX_AREAS: Final = 100_000

#: The columns of :meth:`ResourceScores.to_pandas`, and what each holds.
AREA_COLUMNS: Final[dict[str, str]] = {
    "area": "the census area (its key in the census table)",
    "area_ids": "the dataset's area ids that matched it, joined by '; '",
    "rows": "rows of the dataset in the area",
    "events": "events in the area (rows, or the weight column summed)",
    "residents": "the baseline estimate (residents, households...) in the area",
    "residents_moe": "its 90 % margin of error",
    "event_share": "events / events in all census areas",
    "resident_share": "residents / residents of all census areas",
    "resident_share_moe": "90 % margin of error of the resident share (Census Bureau proportion formula)",
    "score": "event_share − resident_share (× 100: percentage points)",
    "se": "standard error of the score: resident_share_moe / 1.645",
    "z": "score / se",
    "significant": "|z| > 1.96 (empty when no margin of error is known)",
    "moe_formula": "proportion, or ratio where the proportion formula's radicand was negative",
    "events_per_1000_residents": "events / residents × 1,000",
}
#: The columns of :meth:`ResourceScores.demographic_scores`, and what each holds.
DEMOGRAPHIC_COLUMNS: Final[dict[str, str]] = {
    "variable": "the census variable",
    "label": "what it is",
    "event_weighted": "mean of the areas' values, each area weighted by its events",
    "citywide": "mean of the areas' values, each weighted by its residents",
    "score": "event_weighted − citywide",
    "se": "standard error of the score (delta method, areas' estimates independent)",
    "z": "score / se",
    "significant": "|z| > 1.96 (empty when a margin of error is missing)",
    "events": "events in the areas with a value",
    "residents": "residents of the areas with a value",
    "areas": "areas with a value",
    "areas_without_value": "census areas without an estimate of the variable (left out of this score)",
}


@dataclass(frozen=True, eq=False)
class ResourceScores:
    """Where events go against where residents live, per area and per demographic variable.

    ``to_pandas()`` gives one row per census area (:data:`AREA_COLUMNS`), ``demographic_scores()``
    one row per variable (:data:`DEMOGRAPHIC_COLUMNS`); ``summary()`` says it in words.
    """

    area: str
    what: str
    baseline: str
    baseline_label: str
    weight: str | None
    demographics: tuple[str, ...]
    rows_read: int
    events_read: float
    events_scored: float
    residents: float
    residents_moe: float | None
    key_match: KeyMatch
    left_out: tuple[LeftOut, ...]
    notes: tuple[LeftOut, ...]
    method: str
    census_source: str | None
    _areas: pd.DataFrame
    _demographics: pd.DataFrame

    def to_pandas(self) -> pd.DataFrame:
        """One row per census area with a baseline estimate (a copy)."""
        return self._areas.copy()

    def demographic_scores(self) -> pd.DataFrame:
        """One row per demographic variable (a copy)."""
        return self._demographics.copy()

    def __len__(self) -> int:
        return len(self._areas)

    def row(self, area: str) -> dict[str, Any]:
        """The row of one census area, by its census key."""
        found = self._areas[self._areas["area"] == area]
        if len(found) != 1:
            raise KeyError(f"{area!r} is not an area of this result")
        return {str(k): _plain(v) for k, v in found.iloc[0].items()}

    def summary(self) -> str:
        frame = self._areas
        what = self.what
        weighted = f" ({self.weight} summed)" if self.weight else ""
        moe = f" ± {self.residents_moe:,.0f}" if self.residents_moe is not None else ""
        lines = [
            f"Where {_number(self.events_scored)} {what}{weighted} go, against where {self.residents:,.0f}{moe} "
            f"residents live ({self.baseline}: {self.baseline_label}), over {len(frame):,} areas.",
        ]
        sig = frame["significant"]
        more = frame[(sig == True) & (frame["score"] > 0)]  # noqa: E712 - the column holds True, False and None
        less = frame[(sig == True) & (frame["score"] < 0)]  # noqa: E712
        unknown = int(sig.isna().sum())
        lines.append(
            f"{len(more):,} area(s) get significantly more of the {what} than their share of residents, "
            f"{len(less):,} significantly less; the other {len(frame) - len(more) - len(less) - unknown:,} are within "
            "the census margin of error" + (f", and {unknown:,} have no margin of error." if unknown else ".")
        )
        ranked = frame.reindex(frame["score"].abs().sort_values(ascending=False, kind="stable").index)
        for _, r in ranked.head(5).iterrows():
            if pd.isna(r["score"]) or r["score"] == 0:
                continue
            points = abs(float(r["score"])) * 100
            side = "more" if r["score"] > 0 else "less"
            lines.append(
                f"Area {r['area']} gets {points:.1f} points {side} of the {what} than its share of residents "
                f"({_verdict(r['significant'], r['z'])}; {_number(r['events'])} {what}, {r['residents']:,.0f} residents)."
            )
        for _, d in self._demographics.iterrows():
            if pd.isna(d["score"]):
                lines.append(f"{d['label']}: no score (no area with both {what} and a value).")
                continue
            side = "above" if d["score"] > 0 else "below"
            lines.append(
                f"{str(what).capitalize()} go to areas where {_short_label(str(d['label']))} averages {_value(d['event_weighted'])}, "
                f"against {_value(d['citywide'])} citywide: {_value(abs(d['score']))} {side} "
                f"({_verdict(d['significant'], d['z'])})."
            )
        for item in self.left_out:
            lines.append(
                f"Left out: {_number(item.count)} {item.reason}"
                + (f" (e.g. {', '.join(item.examples)})" if item.examples else "")
            )
        for item in self.notes:
            lines.append(
                f"Note: {_number(item.count)} {item.reason}"
                + (f" (e.g. {', '.join(item.examples)})" if item.examples else "")
            )
        lines.append(self.method)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "resource_scores",
            "area": self.area,
            "what": self.what,
            "baseline": self.baseline,
            "baseline_label": self.baseline_label,
            "weight": self.weight,
            "demographics": list(self.demographics),
            "rows_read": self.rows_read,
            "events_read": _plain(self.events_read),
            "events_scored": _plain(self.events_scored),
            "residents": _plain(self.residents),
            "residents_moe": _plain(self.residents_moe),
            "key_match": self.key_match.to_dict(),
            "left_out": [x.to_dict() for x in self.left_out],
            "notes": [x.to_dict() for x in self.notes],
            "method": self.method,
            "census_source": self.census_source,
            "area_columns": list(self._areas.columns),
            "areas": _records(self._areas),
            "demographic_columns": list(self._demographics.columns),
            "demographic_scores": _records(self._demographics),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResourceScores:
        def left(items: Sequence[Mapping[str, Any]]) -> tuple[LeftOut, ...]:
            return tuple(LeftOut(x["reason"], int(x["count"]), tuple(x["examples"])) for x in items)

        return cls(
            area=data["area"],
            what=data["what"],
            baseline=data["baseline"],
            baseline_label=data["baseline_label"],
            weight=data["weight"],
            demographics=tuple(data["demographics"]),
            rows_read=int(data["rows_read"]),
            events_read=data["events_read"],
            events_scored=data["events_scored"],
            residents=data["residents"],
            residents_moe=data["residents_moe"],
            key_match=KeyMatch.from_dict(data["key_match"]),
            left_out=left(data["left_out"]),
            notes=left(data["notes"]),
            method=data["method"],
            census_source=data["census_source"],
            _areas=_frame(data["areas"], data["area_columns"]),
            _demographics=_frame(data["demographic_scores"], data["demographic_columns"]),
        )


def _frame(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(list(records), columns=list(columns))
    if "significant" in frame.columns:
        frame["significant"] = frame["significant"].astype(object)
    return frame


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    return value


def _number(value: Any) -> str:
    v = float(value)
    return f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}"


def _value(value: Any) -> str:
    v = float(value)
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"


def _verdict(significant: Any, z: Any) -> str:
    if significant is None or (isinstance(significant, float) and math.isnan(significant)):
        return "significance unknown: no margin of error"
    if z is None or (isinstance(z, float) and math.isnan(z)):
        return "no sampling error" if significant else "no difference"
    return f"significant, z = {float(z):.1f}" if significant else f"within the margin of error, z = {float(z):.1f}"


def _test(score: float, se: float) -> tuple[float | None, bool | None]:
    """z and whether |z| > 1.96; with no SE known, neither; with an SE of 0 (controlled), any difference counts."""
    if math.isnan(score) or math.isnan(se):
        return None, None
    if se == 0:
        return None, bool(score != 0)
    z = score / se
    return z, bool(abs(z) > Z_CRITICAL)


def resource_scores(
    events: ir.Table,
    *,
    area: str,
    census: CensusTable,
    baseline: str,
    demographics: Sequence[str] = (),
    weight: str | None = None,
    what: str = "events",
) -> ResourceScores:
    """Where ``events`` go, per census area and per demographic variable, against ``baseline``.

    Parameters
    ----------
    events
        Any Ibis table (DuckDB, PostgreSQL or Spark): one row per event.
    area
        The column of ``events`` holding each event's area id (tract, neighbourhood); ids are
        matched to the census keys by :func:`ridp.analysis.census.match_keys`.
    census
        The census table (:func:`ridp.analysis.census.read_acs`), with the baseline and the
        demographic variables.
    baseline
        The variable whose shares the events are compared with: residents (population), households,
        children... (a variable name or its label).
    demographics
        Variables describing each area as a value per resident (median income, per capita income,
        a share made with :meth:`CensusTable.proportion`), never a count.
    weight
        A numeric column to add up instead of counting rows (dollars spent, trees planted); rows
        where it is empty are left out, and counted.
    what
        What the events are, for the summary ("requests", "inspections").

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"tract": ["A", "A", "A", "B"]}))
    >>> acs = CensusTable("tract", ("A", "B"), {"pop": (500.0, 1500.0)}, {"pop": (50.0, 90.0)})
    >>> r = resource_scores(t, area="tract", census=acs, baseline="pop", what="requests")
    >>> r.row("A")["score"]  # 3/4 of the requests, 1/4 of the residents
    0.5
    """
    columns = list(events.columns)
    if area not in columns:
        raise FieldError("area", f"{area!r} is not a column of the events; columns: {', '.join(columns[:30])}")
    base = census.resolve(baseline, "baseline")
    demo = [census.resolve(d, "demographics") for d in demographics]
    if len(set(demo)) != len(demo):
        raise FieldError("demographics", "a variable is named twice")
    if weight is not None:
        if weight not in columns:
            raise FieldError("weight", f"{weight!r} is not a column of the events")
        dtype = events[weight].type()
        if not dtype.is_numeric() or dtype.is_boolean():
            raise FieldError("weight", f"{weight} holds {dtype}, not numbers")
    counts = _count_on_engine(events, area, weight)
    what = what.strip() or "events"

    # -- pandas from here on: one row per area value ---------------------------------------
    value = "w" if weight else "n"
    ids = counts["ridp_area"].map(lambda v: None if v is None or pd.isna(v) or not str(v).strip() else str(v).strip())
    counts = counts.assign(ridp_area=ids)
    rows_read = int(counts["n"].sum())
    left_out: list[LeftOut] = []
    notes: list[LeftOut] = []
    if weight:
        negative = int(counts["w_negative"].sum())
        if negative:
            raise FieldError("weight", f"{negative:,} row(s) have a negative {weight}; events are never negative")
        no_weight = int(counts["w_null"].sum())
        if no_weight:
            left_out.append(LeftOut(f"row(s) with no {weight}", no_weight))
    events_read = float(counts[value].sum())
    null = counts[counts["ridp_area"].isna()]
    if int(null["n"].sum()):
        amount = f" ({weight} {_number(null[value].sum())})" if weight else ""
        left_out.append(LeftOut(f"{_rows(weight, what)} with no {area} (empty){amount}", int(null["n"].sum())))
    counts = counts[counts["ridp_area"].notna()]
    per_id = counts.groupby("ridp_area", sort=True)[["n", "w"] if weight else ["n"]].sum()

    matched = match_keys(census, list(per_id.index))
    key_of = pd.Series(dict(matched.pairs), dtype=object)
    per_id["census"] = key_of.reindex(per_id.index)
    orphan = per_id[per_id["census"].isna()].sort_values(value, ascending=False, kind="stable")
    if len(orphan):
        examples = tuple(f"{i} ({_number(v)})" for i, v in orphan[value].head(EXAMPLES).items())
        amount = f" ({weight} {_number(orphan[value].sum())})" if weight else ""
        left_out.append(
            LeftOut(
                f"{_rows(weight, what)} in {len(orphan):,} area id(s) with no census row{amount}",
                int(orphan["n"].sum()),
                examples,
            )
        )
    inside = per_id[per_id["census"].notna()]
    by_key = inside.groupby("census", sort=False).agg(rows=("n", "sum"), events=(value, "sum"))
    names = inside.reset_index().groupby("census", sort=False)["ridp_area"].agg(lambda s: "; ".join(map(str, s)))

    keys = pd.Index(census.keys)
    residents = census.estimate(base).reindex(keys)
    residents_moe = census.moe(base)
    frame = pd.DataFrame(
        {
            "area": list(census.keys),
            "area_ids": names.reindex(keys).fillna("").to_numpy(),
            "rows": by_key["rows"].reindex(keys).fillna(0).to_numpy(dtype=np.int64),
            "events": by_key["events"].reindex(keys).fillna(0).to_numpy(dtype=float),
            "residents": residents.to_numpy(dtype=float),
            "residents_moe": residents_moe.to_numpy(dtype=float) if residents_moe is not None else np.nan,
        }
    )
    no_base = frame["residents"].isna() | (frame["residents"] < 0)
    if no_base.any():
        gone = frame[no_base]
        amount = f" ({weight} {_number(gone['events'].sum())})" if weight else ""
        left_out.append(
            LeftOut(
                f"{_rows(weight, what)} in {len(gone):,} census area(s) without a {base} estimate{amount}",
                int(gone["rows"].sum()),
                tuple(gone["area"].head(EXAMPLES)),
            )
        )
    frame = frame[~no_base].reset_index(drop=True)
    silent = frame[frame["events"] == 0]
    if len(silent):
        notes.append(
            LeftOut(
                f"census area(s) with no {what} (kept, with a share of 0)",
                len(silent),
                tuple(silent["area"].head(EXAMPLES)),
            )
        )
    if not weight:
        frame["events"] = frame["events"].astype(np.int64)

    total_events = float(frame["events"].sum())
    if total_events == 0:
        raise FieldError(
            "area",
            f"no {what} fall in an area of the census table ({matched.areas_only.count:,} area id(s) did not match, "
            f"e.g. {', '.join(matched.areas_only.examples) or 'none'}; census keys look like "
            f"{', '.join(census.keys[:3])})",
        )
    total_residents = float(frame["residents"].sum())
    if total_residents <= 0:
        raise FieldError("baseline", f"{base} adds up to {total_residents:,.0f} over the census areas")
    p = frame["residents"].to_numpy(dtype=float)
    e = frame["events"].to_numpy(dtype=float)
    mp = frame["residents_moe"].to_numpy(dtype=float)
    total_moe = moe_sum(mp, p) if residents_moe is not None else math.nan

    frame["event_share"] = e / total_events
    frame["resident_share"] = p / total_residents
    share_moe, ratio = _proportion_moe(p, np.full_like(p, total_residents), mp, np.full_like(p, total_moe))
    frame["resident_share_moe"] = share_moe
    frame["score"] = frame["event_share"] - frame["resident_share"]
    frame["se"] = share_moe / Z90
    tests = [_test(s, se) for s, se in zip(frame["score"], frame["se"], strict=True)]
    frame["z"] = [t[0] if t[0] is not None else np.nan for t in tests]
    frame["significant"] = pd.Series([t[1] for t in tests], dtype=object)
    frame["moe_formula"] = [
        None if math.isnan(m) else "ratio" if r else "proportion" for m, r in zip(share_moe, ratio, strict=True)
    ]
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["events_per_1000_residents"] = np.where(p > 0, e / p * 1000, np.nan)
    used_ratio = frame[frame["moe_formula"] == "ratio"]
    if len(used_ratio):
        notes.append(
            LeftOut(
                "area(s) where the proportion formula's radicand was negative: the ratio formula gave the margin",
                len(used_ratio),
                tuple(used_ratio["area"].head(EXAMPLES)),
            )
        )
    if residents_moe is None:
        notes.append(LeftOut(f"area(s) without significance: {base} has no margin of error", len(frame)))
    elif frame["resident_share_moe"].isna().any():
        gone = frame[frame["resident_share_moe"].isna()]
        notes.append(
            LeftOut(
                f"area(s) without significance: a margin of error of {base} is missing",
                len(gone),
                tuple(gone["area"].head(EXAMPLES)),
            )
        )
    if weight is None:
        frame = frame.drop(columns=["rows"])

    demographic_rows = [_demographic(census, d, frame, what, notes) for d in demo]
    demographic_frame = pd.DataFrame(demographic_rows, columns=list(DEMOGRAPHIC_COLUMNS))
    demographic_frame["significant"] = demographic_frame["significant"].astype(object)

    return ResourceScores(
        area=area,
        what=what,
        baseline=base,
        baseline_label=census.label(base),
        weight=weight,
        demographics=tuple(demo),
        rows_read=rows_read,
        events_read=_count(events_read),
        events_scored=_count(total_events),
        residents=_count(total_residents),
        residents_moe=None if math.isnan(total_moe) else total_moe,
        key_match=matched,
        left_out=tuple(left_out),
        notes=tuple(notes),
        method=_method(area, base, weight, matched, len(frame), bool(demo)),
        census_source=census.source,
        _areas=frame,
        _demographics=demographic_frame,
    )


def _rows(weight: str | None, what: str) -> str:
    return "row(s)" if weight else what


def _count(value: Any) -> float:
    v = float(value)
    return int(v) if v.is_integer() else v


def _count_on_engine(events: ir.Table, area: str, weight: str | None) -> pd.DataFrame:
    """Rows (and the weight summed) per area value: the one pass over the events, on their engine."""
    column = events[area]
    if not column.type().is_string():
        column = column.cast("string")
    t = events.select(ridp_area=column, **({"ridp_weight": events[weight]} if weight else {}))
    metrics: dict[str, Any] = {"n": t.count()}
    if weight:
        w = t["ridp_weight"].cast("float64")
        metrics.update(w=w.sum(), w_null=w.isnull().sum(), w_negative=(w < 0).sum())
    expr = t.group_by("ridp_area").aggregate(**metrics).limit(MAX_AREAS + 1)
    frame: pd.DataFrame = expr.to_pandas()
    if len(frame) > MAX_AREAS:
        raise FieldError("area", f"{area} has more than {MAX_AREAS:,} distinct values: is it an area column?")
    frame["n"] = pd.to_numeric(frame["n"]).astype(np.int64)
    if weight:
        frame["w"] = pd.to_numeric(frame["w"]).astype(float).fillna(0.0)
        for c in ("w_null", "w_negative"):
            frame[c] = pd.to_numeric(frame[c]).fillna(0).astype(np.int64)
    frame["ridp_area"] = frame["ridp_area"].astype(object)
    return frame


def _demographic(
    census: CensusTable, variable: str, areas: pd.DataFrame, what: str, notes: list[LeftOut]
) -> dict[str, Any]:
    """The demographic score of ``variable`` over ``areas`` (census areas with a baseline)."""
    values = census.estimate(variable).reindex(areas["area"]).to_numpy(dtype=float)
    margin = census.moe(variable)
    md = margin.reindex(areas["area"]).to_numpy(dtype=float) if margin is not None else np.full(len(areas), np.nan)
    known = ~np.isnan(values)
    d, e = values[known], areas["events"].to_numpy(dtype=float)[known]
    p, mp = areas["residents"].to_numpy(dtype=float)[known], areas["residents_moe"].to_numpy(dtype=float)[known]
    sd, sp = md[known] / Z90, mp / Z90
    total_e, total_p = float(e.sum()), float(p.sum())
    row: dict[str, Any] = {
        "variable": variable,
        "label": census.label(variable),
        "event_weighted": np.nan,
        "citywide": np.nan,
        "score": np.nan,
        "se": np.nan,
        "z": np.nan,
        "significant": None,
        "events": _count(total_e),
        "residents": _count(total_p),
        "areas": int(known.sum()),
        "areas_without_value": int((~known).sum()),
    }
    if (~known).any():
        gone = areas.loc[~known, "area"]
        notes.append(
            LeftOut(
                f"census area(s) left out of the {variable} score: no estimate of it",
                len(gone),
                tuple(gone.head(EXAMPLES)),
            )
        )
    if total_e == 0 or total_p == 0:
        return row
    w, v = e / total_e, p / total_p
    event_weighted = float(np.sum(w * d))
    citywide = float(np.sum(v * d))
    # Delta method: the score is Σ(w−v)·d with w fixed (events are counts); the d's and the
    # residents behind v are estimates, taken as independent of one another.
    variance = float(np.sum((w - v) ** 2 * sd**2) + np.sum(((d - citywide) / total_p) ** 2 * sp**2))
    if margin is None:
        notes.append(LeftOut(f"demographic score without significance: {variable} has no margin of error", 1))
    elif math.isnan(variance):
        notes.append(
            LeftOut(
                f"demographic score of {variable} without significance: a margin of error (of it or of the baseline) is missing",
                1,
            )
        )
    score = event_weighted - citywide
    se = math.sqrt(variance) if not math.isnan(variance) else math.nan
    z, significant = _test(score, se)
    row.update(
        event_weighted=event_weighted,
        citywide=citywide,
        score=score,
        se=se,
        z=np.nan if z is None else z,
        significant=significant,
    )
    return row


def _method(area: str, baseline: str, weight: str | None, matched: KeyMatch, n: int, demographic: bool) -> str:
    counted = f"{weight} summed" if weight else "rows counted"
    text = (
        f"Method (Urban Institute Spatial Equity Data Tool): events ({counted}) per {area} on the engine; area ids "
        f"matched to census keys by {matched.rule}. Geographic score = the area's share of the events in the {n:,} "
        f"census areas with a {baseline} estimate − its share of {baseline}. Events are counts, not estimates: the "
        "score's uncertainty is the census share's, its margin of error the Census Bureau's formula for a derived "
        "proportion (the ratio formula where the proportion one's radicand is negative), the total's margin √ΣMOE² "
        "(with the largest margin only of several zero estimates); SE = MOE / 1.645 (ACS 90 % level); significant "
        "when |z| > 1.96."
    )
    if demographic:
        text += (
            " Demographic score = the event-weighted mean of the areas' values − the citywide value, the "
            "population-weighted mean of the same areas (for a median, an approximation of the citywide median); its "
            "SE by the delta method, assuming the areas' estimates are independent of one another (ACS estimates of "
            "neighbouring areas share controls, so this is an approximation)."
        )
    return text
