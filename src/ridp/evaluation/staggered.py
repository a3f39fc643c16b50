"""Staggered roll-outs: Callaway-Sant'Anna group-time effects with their aggregations, and Sun-Abraham.

When units start treatment at different times, two-way fixed effects can mislead (:func:`ridp.evaluation.did.twfe`
warns). :func:`callaway_santanna` follows Callaway and Sant'Anna (2021) and the R package ``did``:

* ATT(g, t) for each cohort ``g`` (units first treated in period g) and period ``t``: the cohort's change in
  the outcome from its base period minus the change of the comparison units (never treated, or also those not
  yet treated). After treatment the base is the period before g; before treatment it is the period before t
  (``base="varying"``, the package's default) or the period before g for every t (``base="universal"``).
* Aggregations: ``simple`` (every post-treatment ATT(g,t) weighted by cohort size), ``group`` (each cohort's
  average effect, then their cohort-size-weighted mean: the headline by default), ``dynamic`` (by event time
  e = t - g: the event study) and ``calendar`` (by period).
* Inference from each estimate's influence function: a multiplier bootstrap (Rademacher weights, by unit) whose
  standard error is the bootstrap's interquartile range over that of the normal (as ``did``), with pointwise
  intervals and a uniform band over the event study; the influence of the estimated cohort shares is included
  in the aggregations. A Wald test of every pre-treatment ATT(g, t) = 0 is the pre-trend test.

Without covariates the outcome-regression, inverse-probability and doubly-robust estimators of ``did`` coincide
with the difference of mean changes used here. The panel must be balanced (every unit in every period).

:func:`sun_abraham` is the interaction-weighted event study of Sun and Abraham (2021) on pyfixest: its
post-treatment cohort × event-time coefficients equal the ATT(g,t) above with never-treated comparisons.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from ridp.analysis._values import plain
from ridp.errors import FieldError, InputError
from ridp.evaluation.estimators import _frame, _no_missing
from ridp.evaluation.quasi import QuasiEstimate

__all__ = ["Aggregation", "callaway_santanna", "sun_abraham"]

Aggregation = Literal["group", "simple", "dynamic", "calendar"]
Control = Literal["never", "notyet"]
FloatArray = npt.NDArray[np.float64]
_IQR: Final = float(stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
#: Units processed per block of bootstrap draws (bounds memory at reps × this many floats).
_CHUNK: Final = 4096


@dataclass(frozen=True)
class _Panel:
    y: FloatArray  # n units × T periods
    cohort: FloatArray  # first treated period per unit; inf = never treated
    periods: FloatArray
    units: pd.Index
    notes: tuple[str, ...]


def _panel(frame: pd.DataFrame, outcome: str, unit: str, time: str, first: str) -> _Panel:
    for column, argument in ((unit, "unit"), (time, "time"), (outcome, "outcome")):
        _no_missing(frame, column, argument)
    for column, argument in ((time, "time"), (outcome, "outcome"), (first, "first_treated")):
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise FieldError(argument, f"column {column!r} is not numeric (it holds {frame[column].dtype})")
    if frame.duplicated([unit, time]).any():
        row = int(np.argmax(frame.duplicated([unit, time]).to_numpy()))
        raise InputError(f"row {row} (counting from 0) repeats unit {plain(frame[unit].iloc[row])!r} in period "
                         f"{plain(frame[time].iloc[row])!r}: a panel has one row per unit and period")  # fmt: skip
    wide = frame.pivot(index=unit, columns=time, values=outcome).sort_index(axis=1)
    holes = wide.isna().to_numpy()
    if holes.any():
        i, j = (int(k[0]) for k in np.nonzero(holes))
        raise InputError(f"unit {plain(wide.index[i])!r} has no row for period {plain(wide.columns[j])!r}: the "
                         f"panel has gaps ({int(holes.sum()):,} unit-periods missing); the estimator needs every "
                         "unit in every period", hint="drop the units with gaps, or fill the missing periods")  # fmt: skip
    firsts = frame.groupby(unit)[first].agg(["min", "max"])
    varying = firsts[(firsts["min"] != firsts["max"]) & firsts["min"].notna()]
    if len(varying):
        raise FieldError("first_treated", f"column {first!r} changes within unit {plain(varying.index[0])!r}: it "
                         "is the period the unit was first treated, one value per unit")  # fmt: skip
    periods = wide.columns.to_numpy(dtype=np.float64)
    cohort = firsts["min"].reindex(wide.index).to_numpy(dtype=np.float64)
    cohort = np.where(np.isnan(cohort) | (cohort == 0), np.inf, cohort)
    notes: list[str] = []
    late = np.isfinite(cohort) & (cohort > periods.max())
    if late.any():
        notes.append(f"{int(late.sum())} unit(s) first treated after the last period count as never treated")
        cohort[late] = np.inf
    keep = ~(cohort <= periods.min())
    if not keep.all():
        notes.append(f"{int((~keep).sum())} unit(s) treated from the first period were dropped (no pre-period)")
    return _Panel(wide.to_numpy(dtype=np.float64)[keep], cohort[keep], periods, wide.index[keep], tuple(notes))


def _cells(panel: _Panel, control: str, base: str) -> tuple[list[dict[str, Any]], FloatArray]:
    """Every ATT(g, t) with its influence function (n × cells, scaled so that se = sqrt(Σ ψ²) / n)."""
    n = len(panel.y)
    periods = list(panel.periods)
    rows: list[dict[str, Any]] = []
    psis: list[FloatArray] = []
    for g in sorted({c for c in panel.cohort if math.isfinite(c)}):
        g_index = periods.index(g) if g in periods else int(np.searchsorted(panel.periods, g))
        treat = panel.cohort == g
        for ti in range(1, len(periods)):
            t = periods[ti]
            post = t >= g
            bi = g_index - 1 if (post or base == "universal") else ti - 1
            if bi < 0 or bi == ti:
                continue
            if control == "never":
                ctrl = np.isinf(panel.cohort)
            else:
                ctrl = np.isinf(panel.cohort) | ((panel.cohort > max(t, periods[bi])) & (panel.cohort != g))
            if not ctrl.any():
                raise InputError(f"no comparison units for cohort {plain(g)!r} in period {plain(t)!r}: every unit "
                                 "is treated by then (try control='notyet', or keep never-treated units)")  # fmt: skip
            change = panel.y[:, ti] - panel.y[:, bi]
            mean_t, mean_c = change[treat].mean(), change[ctrl].mean()
            psi = np.zeros(n)
            psi[treat] = n / treat.sum() * (change[treat] - mean_t)
            psi[ctrl] -= n / ctrl.sum() * (change[ctrl] - mean_c)
            rows.append({"group": plain(g), "time": plain(t), "event_time": plain(t - g), "post": bool(post),
                         "att": float(mean_t - mean_c), "n_treated": int(treat.sum()),
                         "n_control": int(ctrl.sum())})  # fmt: skip
            psis.append(psi)
    if not rows:
        raise FieldError("first_treated", "no unit is treated after the first period: nothing to estimate")
    return rows, np.column_stack(psis)


def _wif(keepers: Sequence[int], pg: FloatArray, cohort: FloatArray, groups: Sequence[float]) -> FloatArray:
    """The influence of estimating the cohort shares used as weights (``did``'s ``wif``), n × len(keepers)."""
    share = pg[keepers]
    indicator = np.column_stack([(cohort == groups[k]).astype(np.float64) for k in keepers]) - share
    out: FloatArray = indicator / share.sum() - np.outer(indicator.sum(axis=1), share / share.sum() ** 2)
    return out


class _Boot:
    """Multiplier-bootstrap draws of any linear combination of the cells' influence functions."""

    def __init__(self, n: int, reps: int, seed: int) -> None:
        self.n, self.reps, self.seed = n, reps, seed

    def draws(self, psi: FloatArray) -> FloatArray:
        """reps × columns of sqrt(n) · mean(v · ψ) with the same Rademacher weights v for every call."""
        rng = np.random.default_rng(self.seed)
        out = np.zeros((self.reps, psi.shape[1]))
        for start in range(0, self.n, _CHUNK):
            block = psi[start : start + _CHUNK]
            v = rng.integers(0, 2, size=(self.reps, len(block))) * 2.0 - 1.0
            out += v @ block
        return out / math.sqrt(self.n)

    def se(self, psi: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Bootstrap standard errors (IQR / IQR of the normal, over sqrt(n)) and the draws."""
        b = self.draws(psi)
        q75, q25 = np.quantile(b, [0.75, 0.25], axis=0, method="inverted_cdf")
        se: FloatArray = (q75 - q25) / _IQR / math.sqrt(self.n)
        return se, b


def _band(att: FloatArray, se: FloatArray, draws: FloatArray, n: int, alpha: float) -> float:
    """The uniform (sup-t) critical value over several estimates from the same bootstrap draws."""
    scaled = se * math.sqrt(n)
    ok = scaled > 0
    if not ok.any():
        return float(stats.norm.ppf(1 - alpha / 2))
    sup = np.max(np.abs(draws[:, ok] / scaled[ok]), axis=1)
    return float(np.quantile(sup, 1 - alpha))


def callaway_santanna(
    data: ir.Table | pd.DataFrame, *, outcome: str, unit: str, time: str, first_treated: str,
    control: Control = "never", base: Literal["varying", "universal"] = "varying",
    aggregation: Aggregation = "group", alpha: float = 0.05, reps: int = 999, seed: int = 0,
) -> QuasiEstimate:  # fmt: skip
    """Group-time effects of a staggered roll-out and their ``aggregation`` as the headline effect.

    ``first_treated`` holds the period each unit was first treated (0 or empty for never treated). The result's
    ``detail`` is the event study (``dynamic``), ``tables`` hold ``att_gt``, ``groups`` and ``calendar``, and
    ``facts`` every aggregation's overall effect with the pre-trend test.
    """
    if control not in get_args(Control):
        raise FieldError("control", f"{control!r} is never (never-treated units) or notyet (also not yet treated)")
    if base not in ("varying", "universal"):
        raise FieldError("base", f"{base!r} is varying or universal")
    if aggregation not in get_args(Aggregation):
        raise FieldError("aggregation", f"{aggregation!r} is one of {', '.join(get_args(Aggregation))}")
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise FieldError("alpha", f"{alpha!r} is a number between 0 and 1, such as 0.05")
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 99:
        raise FieldError("reps", f"{reps!r} is a whole number of at least 99")
    frame = _frame(data, {"outcome": [outcome], "unit": [unit], "time": [time], "first_treated": [first_treated]})
    panel = _panel(frame, outcome, unit, time, first_treated)
    n = len(panel.y)
    never = int(np.isinf(panel.cohort).sum())
    if control == "never" and never == 0:
        raise FieldError("control", "no unit is never treated: use control='notyet'")
    if len(panel.periods) < 2:
        raise FieldError("time", f"column {time!r} has one period: there is no pre-period")
    rows, psi = _cells(panel, control, base)
    att = np.array([r["att"] for r in rows])
    groups = [float(r["group"]) for r in rows]
    pg = np.array([np.mean(panel.cohort == g) for g in groups])
    boot = _Boot(n, reps, seed)
    z = float(stats.norm.ppf(1 - alpha / 2))

    se_cells, draws = boot.se(psi)
    crit = _band(att, se_cells, draws, n, alpha)
    for r, s in zip(rows, se_cells, strict=True):
        r.update(se=float(s), ci_low=r["att"] - z * s, ci_high=r["att"] + z * s, band_low=r["att"] - crit * s,
                 band_high=r["att"] + crit * s)  # fmt: skip

    def combine(keepers: Sequence[int], weights: FloatArray, with_wif: bool) -> tuple[float, FloatArray]:
        value = float(att[list(keepers)] @ weights)
        inf = psi[:, list(keepers)] @ weights
        if with_wif:
            inf = inf + _wif(keepers, pg, panel.cohort, groups) @ att[list(keepers)]
        return value, inf

    post = [i for i, r in enumerate(rows) if r["post"]]
    simple_w = pg[post] / pg[post].sum()
    simple, simple_inf = combine(post, simple_w, True)
    cohorts = sorted(set(groups))
    group_rows, group_inf = [], []
    for g in cohorts:
        mine = [i for i in post if groups[i] == g]
        value, inf = combine(mine, np.full(len(mine), 1 / len(mine)), False)
        group_rows.append({"group": plain(g), "att": value, "n_units": int(np.sum(panel.cohort == g))})
        group_inf.append(inf)
    first_cell = [next(i for i in post if groups[i] == g) for g in cohorts]
    pgg = pg[first_cell]
    g_att = np.array([r["att"] for r in group_rows])
    g_psi = np.column_stack(group_inf)
    overall_group = float(g_att @ (pgg / pgg.sum()))
    overall_group_inf = g_psi @ (pgg / pgg.sum()) + _wif(first_cell, pg, panel.cohort, groups) @ g_att
    events = sorted({r["event_time"] for r in rows})
    event_rows, event_inf = [], []
    for e in events:
        mine = [i for i, r in enumerate(rows) if r["event_time"] == e]
        value, inf = combine(mine, pg[mine] / pg[mine].sum(), True)
        event_rows.append({"event_time": plain(e), "att": value, "cohorts": len(mine)})
        event_inf.append(inf)
    e_att = np.array([r["att"] for r in event_rows])
    e_psi = np.column_stack(event_inf)
    after = [k for k, e in enumerate(events) if e >= 0]
    overall_dynamic = float(e_att[after].mean())
    overall_dynamic_inf = e_psi[:, after].mean(axis=1)
    calendar_rows, calendar_inf = [], []
    for t in sorted({r["time"] for i, r in enumerate(rows) if i in post}):
        mine = [i for i in post if rows[i]["time"] == t]
        value, inf = combine(mine, pg[mine] / pg[mine].sum(), False)
        calendar_rows.append({"time": plain(t), "att": value})
        calendar_inf.append(inf)
    c_att = np.array([r["att"] for r in calendar_rows])
    c_psi = np.column_stack(calendar_inf)
    overall_calendar = float(c_att.mean())
    overall_calendar_inf = c_psi.mean(axis=1)

    for table, matrix in ((group_rows, g_psi), (event_rows, e_psi), (calendar_rows, c_psi)):
        ses, d = boot.se(matrix)
        crit_t = _band(np.array([r["att"] for r in table]), ses, d, n, alpha)
        for r, s in zip(table, ses, strict=True):
            r.update(se=float(s), ci_low=r["att"] - z * s, ci_high=r["att"] + z * s, band_low=r["att"] - crit_t * s,
                     band_high=r["att"] + crit_t * s)  # fmt: skip
    overall = {"simple": (simple, simple_inf), "group": (overall_group, overall_group_inf),
               "dynamic": (overall_dynamic, overall_dynamic_inf), "calendar": (overall_calendar, overall_calendar_inf)}  # fmt: skip
    overall_se = dict(zip(overall, boot.se(np.column_stack([v[1] for v in overall.values()]))[0], strict=True))
    effect, _ = overall[aggregation]
    se = float(overall_se[aggregation])
    warns: list[str] = []
    facts: dict[str, Any] = {}
    for name, (value, _) in overall.items():
        facts[f"Overall ({name} aggregation)"] = f"{value:.4f} (SE {overall_se[name]:.4f})"
    pre = [i for i, r in enumerate(rows) if not r["post"]]
    if pre:
        v = psi[:, pre].T @ psi[:, pre] / n
        a = att[pre]
        w_stat = float(n * a @ np.linalg.pinv(v) @ a)
        p_pre = float(stats.chi2.sf(w_stat, len(pre)))
        facts["Pre-trend test"] = f"Wald χ² = {w_stat:.2f} on {len(pre)} pre-treatment ATT(g,t), p = {p_pre:.3f}"
        if p_pre < alpha:
            warns.append(f"The pre-trend test rejects parallel trends before treatment (p = {p_pre:.3f}): the "
                         "comparison units were already moving differently, so the effect may be biased.")  # fmt: skip
    else:
        facts["Pre-trend test"] = "not possible: no pre-treatment period before any cohort's base period"
        warns.append("No pre-treatment periods to test parallel trends with.")
    if min(int(np.sum(panel.cohort == g)) for g in cohorts) < 2:
        warns.append("A cohort has a single unit: its effects rest on one unit and their intervals are unreliable.")
    if never < 5 and control == "never":
        warns.append(f"Only {never} never-treated unit(s) to compare with: intervals lean on very few units.")
    treated = np.isfinite(panel.cohort)
    p_value = float(2 * stats.norm.sf(abs(effect / se))) if se > 0 else math.nan
    last = panel.y[:, -1]
    spec = {"estimator": "callaway_santanna", "outcome": outcome, "unit": unit, "time": time,
            "first_treated": first_treated, "treatment": first_treated, "control": control, "base": base,
            "aggregation": aggregation, "alpha": alpha, "reps": reps, "seed": seed, "covariates": ()}  # fmt: skip
    notes = (*panel.notes, f"{reps:,} multiplier-bootstrap draws (Rademacher, by unit; seed {seed}); uniform bands "
             "by the sup-t bootstrap", f"comparison units: {'never treated' if control == 'never' else 'never or not yet treated'}")  # fmt: skip
    return QuasiEstimate(
        outcome=outcome, treatment=first_treated, estimator="callaway_santanna", se_type="bootstrap",
        effect=effect, se=se, ci_low=effect - z * se, ci_high=effect + z * se, p_value=p_value, n=n,
        n_treated=int(treated.sum()), n_clusters=n, df=None, alpha=float(alpha),
        control_mean=float(last[~treated].mean()) if (~treated).any() else math.nan,
        treated_mean=float(last[treated].mean()), covariates=(), cluster=unit, spec=spec, warnings=tuple(warns),
        notes=notes, detail_kind="event_study", detail=tuple(event_rows), facts=facts,
        tables={"att_gt": tuple(rows), "groups": tuple(group_rows), "calendar": tuple(calendar_rows)},
    )  # fmt: skip


def sun_abraham(
    data: ir.Table | pd.DataFrame, *, outcome: str, unit: str, time: str, first_treated: str, alpha: float = 0.05,
) -> QuasiEstimate:  # fmt: skip
    """Sun and Abraham's (2021) interaction-weighted event study: one coefficient per cohort and event time in
    a two-way fixed-effects regression (pyfixest ``feols``, errors clustered by unit), never-treated units and
    each cohort's period before treatment as the reference, then averaged over cohorts by their size.

    The headline effect is the size-weighted mean of every post-treatment cohort × event-time coefficient.
    """
    import pyfixest as pf

    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise FieldError("alpha", f"{alpha!r} is a number between 0 and 1, such as 0.05")
    frame = _frame(data, {"outcome": [outcome], "unit": [unit], "time": [time], "first_treated": [first_treated]})
    panel = _panel(frame, outcome, unit, time, first_treated)  # the same checks: balanced, one cohort per unit
    n_units, n_periods = panel.y.shape
    if not np.isinf(panel.cohort).any():
        raise FieldError("first_treated", "no unit is never treated: Sun-Abraham needs never-treated units")
    cohort = np.repeat(panel.cohort, n_periods)
    t = np.tile(panel.periods, n_units)
    rel = np.where(np.isfinite(cohort), t - np.where(np.isfinite(cohort), cohort, 0), np.nan)
    safe = pd.DataFrame({"y": panel.y.reshape(-1), "u": np.repeat(np.arange(n_units), n_periods), "t": t})
    cells: list[tuple[float, float]] = []
    for g in sorted({c for c in panel.cohort if math.isfinite(c)}):
        for e in sorted(set(rel[cohort == g])):
            if e != -1:
                safe[f"c{len(cells)}"] = ((cohort == g) & (rel == e)).astype(np.float64)
                cells.append((g, e))
    names = [f"c{k}" for k in range(len(cells))]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning)
        warnings.filterwarnings("ignore", message=".*multicollinearity.*", category=UserWarning)
        fit = pf.feols("y ~ " + " + ".join(names) + " | u + t", data=safe, vcov={"CRV1": "u"})
        coef, vcov = fit.coef(), pd.DataFrame(fit._vcov, index=fit._coefnames, columns=fit._coefnames)
    kept = [k for k, name in enumerate(names) if name in coef.index]
    size = {g: float(np.sum(panel.cohort == g)) for g, _ in cells}
    z = float(stats.norm.ppf(1 - alpha / 2))

    def lincomb(weights: Mapping[int, float]) -> tuple[float, float]:
        r = pd.Series({names[k]: w for k, w in weights.items()}).reindex(coef.index, fill_value=0.0)
        variance = float(r.to_numpy() @ vcov.to_numpy() @ r.to_numpy())
        return float(r @ coef), math.sqrt(max(variance, 0.0))

    rows: list[Mapping[str, Any]] = [{"event_time": -1.0, "att": 0.0, "se": 0.0, "ci_low": 0.0, "ci_high": 0.0,
                                      "cohorts": 0}]  # fmt: skip
    for e in sorted({e for _, e in cells}):
        mine = [k for k in kept if cells[k][1] == e]
        if not mine:
            continue
        total = sum(size[cells[k][0]] for k in mine)
        value, se_e = lincomb({k: size[cells[k][0]] / total for k in mine})
        rows.append({"event_time": plain(e), "att": value, "se": se_e, "ci_low": value - z * se_e,
                     "ci_high": value + z * se_e, "cohorts": len(mine)})  # fmt: skip
    rows.sort(key=lambda r: r["event_time"])
    post = [k for k in kept if cells[k][1] >= 0]
    total = sum(size[cells[k][0]] for k in post)
    effect, se = lincomb({k: size[cells[k][0]] / total for k in post})
    dropped = len(names) - len(kept)
    notes = [*panel.notes, "pyfixest feols with cohort × event-time indicators and unit and time effects, CR1 "
             "errors clustered by unit; cohorts weighted by their size"]  # fmt: skip
    if dropped:
        notes.append(f"{dropped} cohort × event-time indicator(s) collinear with the fixed effects were dropped")
    treated = np.isfinite(panel.cohort)
    spec = {"estimator": "sun_abraham", "outcome": outcome, "unit": unit, "time": time,
            "first_treated": first_treated, "treatment": first_treated, "alpha": alpha, "covariates": ()}  # fmt: skip
    return QuasiEstimate(
        outcome=outcome, treatment=first_treated, estimator="sun_abraham", se_type="CR1", effect=effect, se=se,
        ci_low=effect - z * se, ci_high=effect + z * se, p_value=float(2 * stats.norm.sf(abs(effect / se))),
        n=len(safe), n_treated=int(np.sum(np.isfinite(cohort) & (t >= cohort))), n_clusters=n_units,
        df=None, alpha=float(alpha), control_mean=float(panel.y[~treated, -1].mean()),
        treated_mean=float(panel.y[treated, -1].mean()), covariates=(), cluster=unit, spec=spec,
        notes=tuple(notes), detail_kind="event_study", detail=tuple(rows),
    )  # fmt: skip
