"""The balance table of an assignment: how alike the arms are on covariates chosen before the draw.

Split from :mod:`ridp.evaluation.randomise` (which re-exports these names) to keep each file small.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from ridp.analysis._values import plain
from ridp.errors import FieldError, InputError
from ridp.evaluation.randomise import SMD_THRESHOLD, Assignment, BoolArray, FloatArray, _labels, _load, _text

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["Balance", "BalanceRow", "balance"]


# -- balance ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BalanceRow:
    """One comparison of the arms: a numeric covariate, or one level of a categorical one (its share)."""

    covariate: str
    level: str | None  # the category compared, for a categorical covariate
    compared: Literal["units", "clusters"]  # clusters: one value per cluster (its mean or share)
    n_control: int
    n_treated: int
    control_mean: float | None
    treated_mean: float | None
    smd: float | None  # (treated - control) / sqrt((sd_t² + sd_c²) / 2)
    p_value: float | None
    test: str
    flagged: bool  # |smd| above the threshold

    @property
    def label(self) -> str:
        return self.covariate if self.level is None else f"{self.covariate} = {self.level}"


@dataclass(frozen=True)
class Balance:
    """How alike the arms are on covariates chosen before the draw: means, standardised differences, p-values.

    Numeric (and true/false) covariates: one row, Welch's t-test. Categorical covariates: one row per level
    with the share of each arm at that level and its standardised difference (sd √(p(1-p))); every level's
    row carries the same p-value, Pearson's chi-square test of arm × level over all levels. Clustered designs
    add rows comparing one value per cluster (its mean, or its share at a level), with Welch's t-test.
    """

    method: str
    unit: str
    cluster: str | None
    comparison: str  # "treatment vs control", or "wave 1 vs later waves" for a roll-out
    covariates: tuple[str, ...]
    rows: tuple[BalanceRow, ...]
    fingerprint: str  # of the assignment compared
    threshold: float = SMD_THRESHOLD
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def flagged(self) -> tuple[BalanceRow, ...]:
        return tuple(r for r in self.rows if r.flagged)

    def tidy(self) -> pd.DataFrame:
        frame = pd.DataFrame([asdict(r) for r in self.rows], columns=[f for f in BalanceRow.__dataclass_fields__])
        frame.insert(2, "label", [r.label for r in self.rows])
        return frame

    def summary(self) -> str:
        lines = [f"Balance of the {self.method} assignment: {self.comparison} (sha256:{self.fingerprint[:12]}…)"]
        lines.append(f"  {'covariate':<28} {'compared':<9} {'control':>10} {'treated':>10} {'SMD':>7} {'p':>7}")

        def num(v: float | None, fmt: str) -> str:
            return "—" if v is None else format(v, fmt)

        for r in self.rows:
            lines.append(
                f"  {r.label[:28]:<28} {r.compared:<9} {num(r.control_mean, '10.3f')} {num(r.treated_mean, '10.3f')}"
                f" {num(r.smd, '+7.2f')} {num(r.p_value, '7.3f')}" + ("  *" if r.flagged else "")
            )
        lines.append(f"  * |SMD| above {self.threshold}")
        lines += [f"  Note: {n}" for n in self.notes]
        lines += [f"  Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def chart(self) -> alt.LayerChart:
        """Standardised differences per covariate (a Love plot), with the ±threshold band."""
        frame = self.tidy()[["label", "compared", "smd", "flagged"]].dropna(subset=["smd"])
        points = (
            alt.Chart(frame, title="Standardised mean difference, treated − control")
            .mark_point(filled=True, size=60)
            .encode(
                x=alt.X("smd:Q", title="SMD"),
                y=alt.Y("label:N", title=None, sort=None),
                shape=alt.Shape("compared:N"),
                color=alt.Color("flagged:N", scale=alt.Scale(domain=[False, True], range=["#0072B2", "#D55E00"])),
            )
        )
        band = alt.Chart(pd.DataFrame({"x": [-self.threshold, self.threshold]})).mark_rule(strokeDash=[4, 4])
        layered: alt.LayerChart = band.encode(x="x:Q") + points
        return layered

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method, "unit": self.unit, "cluster": self.cluster, "comparison": self.comparison,
            "covariates": list(self.covariates), "fingerprint": self.fingerprint, "threshold": self.threshold,
            "rows": [{k: plain(v) for k, v in asdict(r).items()} for r in self.rows],
            "warnings": list(self.warnings), "notes": list(self.notes),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Balance:
        return cls(
            method=d["method"], unit=d["unit"], cluster=d.get("cluster"), comparison=d["comparison"],
            covariates=tuple(d["covariates"]), rows=tuple(BalanceRow(**r) for r in d["rows"]),
            fingerprint=d["fingerprint"], threshold=float(d.get("threshold", SMD_THRESHOLD)),
            warnings=tuple(d.get("warnings", ())), notes=tuple(d.get("notes", ())),
        )  # fmt: skip


def _row(
    covariate: str, level: str | None, compared: Literal["units", "clusters"], x: FloatArray, treated: BoolArray,
    *, test: str, share: bool = False, p_value: float | None = None,
) -> BalanceRow:  # fmt: skip
    """Compare ``x`` between the arms (NaN left out). ``share``: x is 0/1 and its sd is √(p(1-p))."""
    ok = ~np.isnan(x)
    xt, xc = x[ok & treated], x[ok & ~treated]
    mt = float(xt.mean()) if len(xt) else None
    mc = float(xc.mean()) if len(xc) else None
    ddof = 0 if share else 1
    smd = None
    spread = len(xt) > ddof and len(xc) > ddof and float(np.ptp(np.concatenate([xt, xc]))) > 0
    if spread and mt is not None and mc is not None:
        pooled = math.sqrt((float(xt.var(ddof=ddof)) + float(xc.var(ddof=ddof))) / 2)
        smd = (mt - mc) / pooled if pooled > 0 else None
        if not share and len(xt) >= 2 and len(xc) >= 2 and pooled > 0:
            p_value = float(stats.ttest_ind(xt, xc, equal_var=False).pvalue)
    return BalanceRow(
        covariate=covariate, level=level, compared=compared, n_control=len(xc), n_treated=len(xt),
        control_mean=mc, treated_mean=mt, smd=smd, p_value=p_value, test=test,
        flagged=smd is not None and abs(smd) > SMD_THRESHOLD,
    )  # fmt: skip


def balance(units: ir.Table | pd.DataFrame, assignment: Assignment, covariates: Sequence[str]) -> Balance:
    """Compare the arms of ``assignment`` on ``covariates`` (columns of ``units``, measured before the draw).

    Rows with a standardised mean difference above :data:`SMD_THRESHOLD` in size are flagged, and a warning
    says so. For a staggered roll-out (every unit treated) the table compares wave 1 with the later waves.

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({"id": range(40), "age": [20 + i % 30 for i in range(40)]})
    >>> b = balance(units, assign(units, unit="id", seed=1), ["age"])
    >>> [r.covariate for r in b.rows]
    ['age']
    """
    names = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    if not names:
        raise FieldError("covariates", "name at least one column to compare")
    frame = _load(units, "units", [("unit", assignment.unit)] + [("covariates", c) for c in names])
    ids = _labels(frame[assignment.unit], "unit", assignment.unit, unique=True)
    index = {u: i for i, u in enumerate(ids)}
    assigned = [_text(u) for u in assignment.arms["unit"]]
    absent = [u for u in assigned if u not in index]
    if absent:
        raise InputError(
            f"{len(absent)} assigned unit(s) are not in units: {', '.join(absent[:5])}",
            hint="compare on the units that were assigned",
        )
    warnings: list[str] = []
    if len(ids) > len(assigned):
        warnings.append(f"{len(ids) - len(assigned)} unit(s) of units were not assigned and are left out")
    data = frame.iloc[[index[u] for u in assigned]].reset_index(drop=True)
    arms = assignment.arms
    staggered = assignment.method == "staggered"
    treated = (arms["wave"] == 1 if staggered else arms["arm"] == "treatment").to_numpy(dtype=np.bool_)
    notes = ["p-values test the draw itself: with a fair draw about 1 covariate in 20 has p < 0.05 by chance"]
    if staggered:
        notes.append("a roll-out treats every unit: this compares wave 1 (treated first) with the later waves")
    groups = arms["cluster"].map(_text) if assignment.cluster else None
    if groups is not None:
        per_cluster = pd.Series(treated).groupby(groups.to_numpy()).first()
        nt, nc = int(per_cluster.sum()), int((~per_cluster).sum())
        notes.append(
            f"units of a cluster are alike, so the unit rows' p-values overstate the evidence; the cluster rows "
            f"compare one value per cluster ({nt} treated, {nc} control)"
            + (": too few clusters in an arm for a test" if min(nt, nc) < 2 else "")
        )

    def cluster_row(covariate: str, level: str | None, x: FloatArray, test: str) -> BalanceRow:
        assert groups is not None
        means = (
            pd.DataFrame({"x": x, "t": treated, "g": groups.to_numpy()})
            .groupby("g")
            .agg(x=("x", "mean"), t=("t", "first"))
        )
        return _row(
            covariate, level, "clusters", means["x"].to_numpy(np.float64), means["t"].to_numpy(np.bool_), test=test
        )

    rows: list[BalanceRow] = []
    for name in names:
        column = data[name]
        missing = int(column.isna().sum())
        if missing:
            warnings.append(f'"{name}": {missing} missing value(s) left out')
        if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(column):
            raise FieldError("covariates", f'column "{name}" holds dates or durations: compare a number or a category')
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            x = column.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
            rows.append(_row(name, None, "units", x, treated, test="Welch t"))
            if groups is not None:
                rows.append(cluster_row(name, None, x, "Welch t on cluster means"))
            continue
        present = column.notna().to_numpy()
        text = np.array([_text(v) if ok else "" for v, ok in zip(column, present, strict=True)], dtype=object)
        levels = sorted(set(text[present]))
        table = np.array([[np.sum(present & (text == lv) & arm) for lv in levels] for arm in (treated, ~treated)])
        p_value = None
        if len(levels) > 1 and table.sum(axis=1).min() > 0:
            chi = stats.chi2_contingency(table, correction=False)
            p_value = float(chi.pvalue)
            if float(np.min(chi.expected_freq)) < 5:
                notes.append(f'"{name}": some expected counts are below 5, so its chi-square p-value is approximate')
        test = f"chi-square over {len(levels)} levels"
        for lv in levels:
            x = np.where(present, (text == lv).astype(np.float64), np.nan)
            rows.append(_row(name, lv, "units", x, treated, test=test, share=True, p_value=p_value))
            if groups is not None:
                rows.append(cluster_row(name, lv, x, "Welch t on cluster shares"))
    for r in rows:
        if r.flagged and r.smd is not None:
            warnings.append(
                f"{r.label} ({r.compared}): standardised mean difference {r.smd:+.2f}, above {SMD_THRESHOLD} in size"
            )
    return Balance(
        method=assignment.method, unit=assignment.unit, cluster=assignment.cluster,
        comparison="wave 1 vs later waves" if staggered else "treatment vs control", covariates=names,
        rows=tuple(rows), fingerprint=assignment.fingerprint, warnings=tuple(warnings), notes=tuple(notes),
    )  # fmt: skip


# -- confirmation -------------------------------------------------------------------------------------------------
