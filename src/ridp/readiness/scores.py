"""Seven dimensions scored 0-100, each with the findings that lowered it, and the verdict.

The scores are plain, explainable arithmetic (no weights hidden in a model):

completeness
    100 × (1 − mean missing share) over the columns that hold canonical fields
    (all columns when nothing is mapped). A closed date counts as missing only on
    a request whose status says it is closed.
validity
    100 × (1 − mean failing share) over the checks of values (in set, range,
    pattern, expression, not null), and the text no date format fits.
uniqueness
    100 × (1 − (exact duplicate rows + rows reusing an id) ÷ rows).
consistency
    100 × (1 − share of rows with a date order broken, padded text in a canonical
    column, or a closed status without a closed date).
timeliness
    100 when the newest request is at most 30 days old, falling linearly to 0 at
    a year.
coverage
    The mean of time coverage (months with requests ÷ months in the span) and,
    with coordinates, space coverage (points inside the city ÷ rows).
history
    100 × min(1, years available ÷ years needed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from ridp.readiness._canonical import CanonicalMapping, Needs
from ridp.readiness.result import CheckResult, ColumnProfile, DimensionScore, TableProfile, Verdict

__all__ = ["score_dimensions", "verdict_for"]

VALUE_KINDS = ("in_set", "range", "pattern", "expression", "not_null")
SUFFICIENT = 80.0  # every needed dimension at least this for "sufficient"
INSUFFICIENT_MISSING = 0.5  # a needed field missing in more than half the rows
CAUTION_MISSING = 0.1


def _pct(x: float) -> str:
    return f"{x:.1%}" if x < 0.001 or x >= 0.01 else f"{x:.2%}"


def _clip(x: float) -> float:
    return round(max(0.0, min(100.0, x)), 1)


def _closed_missing(extra: Mapping[str, Any]) -> tuple[int, int] | None:
    if "closed_status" in extra:
        return int(extra["closed_status_no_date"] or 0), int(extra["closed_status"] or 0)
    return None


def score_dimensions(
    profiles: Sequence[ColumnProfile], table: TableProfile, checks: Sequence[CheckResult], mapping: CanonicalMapping,
    needs: Needs, today: date, extra: Mapping[str, Any],
) -> tuple[DimensionScore, ...]:  # fmt: skip
    rows = table.rows
    out: list[DimensionScore] = []

    # completeness
    findings: list[str] = []
    mapped = [p for p in profiles if p.canonical] or list(profiles)
    shares: list[float] = []
    for p in mapped:
        if p.canonical == "closed" and _closed_missing(extra) is not None:
            missing, closed = _closed_missing(extra)  # type: ignore[misc]
            share = missing / closed if closed else 0.0
            if missing:
                findings.append(
                    f"{p.name}: no closed date on {missing:,} of {closed:,} closed requests ({_pct(share)})"
                )
        elif p.canonical == "closed":
            continue  # open requests have no closed date: not a gap without a status to tell them apart
        else:
            share = p.missing_share
            if p.missing:
                kinds = [f"{n:,} {what}" for n, what in ((p.nulls, "empty"), (p.blanks, "blank"),
                                                          (p.placeholders, "placeholders")) if n]  # fmt: skip
                findings.append(f"{p.name}: {_pct(share)} missing ({', '.join(kinds)})")
        shares.append(share)
    score = 100 * (1 - sum(shares) / len(shares)) if shares and rows else 0.0
    out.append(DimensionScore("completeness", _clip(score), tuple(findings)))

    # validity
    findings = []
    value_checks = [c for c in checks if c.kind in VALUE_KINDS and c.error is None]
    fails = [c.share for c in value_checks]
    for c in value_checks:
        if c.failing:
            findings.append(f"{c.name}: {c.failing:,} rows ({_pct(c.share)})")
    for f, n in table.unparsed_dates.items():
        if n:
            findings.append(f"{mapping.fields.get(f, f)}: {n:,} values are not dates in any known format")
            fails.append(n / rows if rows else 0.0)
    for c in checks:
        if c.error:
            findings.append(f"{c.name} could not run: {c.error}")
    score = 100 * (1 - sum(fails) / len(fails)) if fails else 100.0
    out.append(DimensionScore("validity", _clip(score if rows else 0.0), tuple(findings)))

    # uniqueness
    findings = []
    dup = table.exact_duplicate_rows + (table.duplicate_id_rows or 0)
    if table.exact_duplicate_rows:
        findings.append(f"{table.exact_duplicate_rows:,} rows are exact copies of another row")
    if table.duplicate_id_rows:
        findings.append(f"{table.duplicate_id_rows:,} rows reuse the id of a different row")
    out.append(DimensionScore("uniqueness", _clip(100 * (1 - dup / rows) if rows else 0.0), tuple(findings)))

    # consistency
    findings = []
    inconsistent = 0
    for c in checks:
        if c.kind == "date_order" and c.failing:
            inconsistent += c.failing
            findings.append(f"{c.name}: {c.failing:,} rows ({_pct(c.share)})")
    for p in profiles:
        if p.canonical and p.padded:
            inconsistent += p.padded
            findings.append(f"{p.name}: {p.padded:,} values with leading or trailing spaces")
        elif p.padded and p.distinct and p.distinct <= max(50, rows * 0.01):
            inconsistent += p.padded
            findings.append(f"{p.name}: {p.padded:,} category values with leading or trailing spaces")
    for f, formats in table.date_formats.items():
        if len(formats) > 1:
            findings.append(
                f"{mapping.fields.get(f, f)} is written in {len(formats)} date formats ({', '.join(formats)})"
            )
    cm = _closed_missing(extra)
    if cm and cm[0] and "closed" in mapping.fields:
        inconsistent += cm[0]
        findings.append(f"{cm[0]:,} requests have a closed status but no closed date")
    out.append(
        DimensionScore(
            "consistency", _clip(100 * (1 - min(1.0, inconsistent / rows)) if rows else 0.0), tuple(findings)
        )
    )

    # timeliness
    findings = []
    if table.last is not None:
        age = (datetime.combine(today, datetime.min.time()) - table.last.replace(tzinfo=None)).days
        score = 100.0 if age <= 30 else max(0.0, 100 * (1 - (age - 30) / 335))
        if age > 30:
            findings.append(f"the newest request is from {table.last:%Y-%m-%d}, {age:,} days before {today:%Y-%m-%d}")
        freshness = [c for c in checks if c.kind == "freshness" and c.failing]
        findings += [f"{c.name}: older than allowed" for c in freshness]
    else:
        score = 0.0
        findings.append("no request date could be read, so how recent the data is is unknown")
    out.append(DimensionScore("timeliness", _clip(score), tuple(findings)))

    # coverage
    findings = []
    parts: list[float] = []
    if table.months:
        with_data = sum(1 for _, n in table.months if n)
        parts.append(with_data / len(table.months))
        if table.empty_months:
            shown = ", ".join(table.empty_months[:6]) + (" ..." if len(table.empty_months) > 6 else "")
            findings.append(f"{len(table.empty_months)} of {len(table.months)} months have no requests ({shown})")
    xy = table.coordinates
    if xy is not None and rows:
        parts.append(xy.inside / rows)
        for n, what in ((xy.outside, "outside the city"), (xy.swapped, "with latitude and longitude swapped"),
                        (xy.zero, "at the (0, 0) placeholder"), (xy.missing, "without coordinates")):  # fmt: skip
            if n:
                findings.append(f"{n:,} points {what} ({_pct(n / rows)})")
    elif needs.areas and not mapping.areas:
        parts.append(0.0)
        findings.append("no coordinates and no area column, so requests cannot be placed")
    out.append(
        DimensionScore(
            "coverage", _clip(100 * sum(parts) / len(parts) if parts else (100.0 if rows else 0.0)), tuple(findings)
        )
    )

    # history
    findings = []
    available = table.years
    score = 100 * min(1.0, available / needs.years) if needs.years > 0 else 100.0
    if available < needs.years:
        findings.append(f"{available:.1f} years of requests; the metrics need {needs.years:g}")
    if needs.start and table.first and table.first.date() > needs.start:
        findings.append(f"requests start on {table.first:%Y-%m-%d}, after the needed start {needs.start:%Y-%m-%d}")
        score = min(score, 50.0)
    if needs.end and table.last and table.last.date() < needs.end:
        findings.append(f"requests end on {table.last:%Y-%m-%d}, before the needed end {needs.end:%Y-%m-%d}")
        score = min(score, 50.0)
    out.append(DimensionScore("history", _clip(score if rows else 0.0), tuple(findings)))
    return tuple(out)


def verdict_for(
    profiles: Sequence[ColumnProfile], table: TableProfile, checks: Sequence[CheckResult],
    dimensions: Sequence[DimensionScore], mapping: CanonicalMapping, needs: Needs, extra: Mapping[str, Any],
) -> Verdict:  # fmt: skip
    """Insufficient, proceed with caution or sufficient, against what the metrics need."""
    what = f"the metrics {', '.join(needs.metrics)}" if needs.metrics else "the project's metrics"
    if not needs.metrics:
        # Nothing declares what is needed yet: judged against the defaults, and the verdict says so.
        what = "a first metric (no metric spec reads this dataset yet, so the default needs apply)"
    if table.rows == 0:
        return Verdict("insufficient", "The dataset has no rows, so there is nothing to measure.",
                       ("load a version that has the requests in it",))  # fmt: skip
    blocking: list[str] = []
    risks: list[str] = []
    by_name = {p.name: p for p in profiles}
    for f in needs.fields:
        column = mapping.fields.get(f)
        if column is None:
            blocking.append(f"map a column to '{f}' (needed by {what}), or add a dataset that has it")
            continue
        p = by_name[column]
        if f == "closed":
            cm = _closed_missing(extra)
            share = cm[0] / cm[1] if cm and cm[1] else 0.0
        else:
            share = p.missing_share
        if share > INSUFFICIENT_MISSING:
            blocking.append(f"fill '{column}' ({f}): {share:.0%} of rows have no value")
        elif share > CAUTION_MISSING:
            risks.append(f"'{column}' ({f}) is missing in {share:.0%} of rows")
        if f in ("opened", "closed") and table.unparsed_dates.get(f, 0) > INSUFFICIENT_MISSING * table.rows:
            blocking.append(f"give the date format of '{column}': most of its values are not read as dates")
    if needs.areas and not mapping.areas and not (table.coordinates and table.coordinates.inside):
        blocking.append(f"add an area column or coordinates: {what} are broken down by place")
    if "opened" in needs.fields and table.first is None and "opened" in mapping.fields:
        blocking.append("no request date could be read")
    if table.first is not None:
        if needs.years > 0 and table.years < needs.years / 2:
            blocking.append(f"find more history: {table.years:.1f} years of requests, {what} need {needs.years:g}")
        elif table.years < needs.years:
            risks.append(f"{table.years:.1f} years of requests where {needs.years:g} are needed")
        if needs.start and needs.end:
            covered = max(0.0, (min(table.last.date(), needs.end) - max(table.first.date(), needs.start)).days)  # type: ignore[union-attr]
            wanted = max(1, (needs.end - needs.start).days)
            if covered / wanted < 0.5:
                blocking.append(f"get requests for {needs.start:%Y-%m-%d} to {needs.end:%Y-%m-%d}: "
                                f"the data covers {covered / wanted:.0%} of that period")  # fmt: skip
            elif covered / wanted < 0.95:
                risks.append(f"the data covers {covered / wanted:.0%} of the period {what} need")
    # A historical baseline (needs that end on a date) does not need fresh data: timeliness counts only without one.
    weak = sorted(
        (d for d in dimensions if d.score < SUFFICIENT and (d.name != "timeliness" or needs.end is None)),
        key=lambda d: d.score,
    )
    for d in weak:
        first = d.findings[0] if d.findings else "see the report"
        risks.append(f"{d.name} {d.shown}/100: {first}")
    for c in checks:
        if c.severity == "error" and c.kind != "freshness" and c.share > 0.05:
            risks.append(f"check '{c.name}' fails on {c.share:.0%} of rows")
    risks = list(dict.fromkeys(risks))
    if blocking:
        return Verdict(
            "insufficient",
            f"Not enough to measure {what}: " + "; ".join(blocking) + ".",
            tuple(blocking + risks)[:5],
            tuple(risks),
        )
    if risks:
        return Verdict(
            "proceed with caution",
            f"The data can measure {what}, with {len(risks)} risk{'s' if len(risks) != 1 else ''} to state in every result.",
            tuple(risks)[:5],
            tuple(risks),
        )
    return Verdict("sufficient", f"The data has what {what} need, and no dimension scores below {SUFFICIENT:.0f}.")
