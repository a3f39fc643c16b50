"""Difference-in-differences when a pilot cannot randomise: the 2×2 design and two-way fixed effects.

* :func:`did` — the 2×2 design: a treated and a comparison group, before and after. OLS of the outcome on the
  group, the period and their product (statsmodels), whose product coefficient is the difference of the four
  cell means' differences; errors ``iid`` (as printed in textbooks), ``HC1``, ``HC2``, or clustered (``CR2``
  with Bell-McCaffrey degrees of freedom, ``wild``, ``CR1``). ``se="auto"`` is HC2, or CR2 with clusters, as
  for experiments (:mod:`ridp.evaluation.estimators`).
* :func:`twfe` — two-way fixed effects (pyfixest ``feols`` with unit and time effects), errors clustered by
  unit: CR1 as fixest prints them, or the restricted wild cluster bootstrap when clusters are few (the default
  below :data:`~ridp.evaluation.estimators.FEW_CLUSTERS`; on the data with both sets of effects partialled out,
  which leaves the coefficient and its residuals unchanged). When treatment starts at several times the
  result warns that TWFE compares later- with earlier-treated units and can be biased when effects change
  over time, and counts the treated cells that enter with negative weight (de Chaisemartin and
  D'Haultfœuille, 2020); :func:`ridp.evaluation.staggered.callaway_santanna` is the robust alternative.

>>> import pandas as pd
>>> cells = pd.DataFrame({"banks": [135.0, 121, 165, 132], "sixth": [1, 1, 0, 0], "after": [0, 1, 0, 1]})
>>> result = did(cells, outcome="banks", group="sixth", post="after")
>>> result.effect, result.warnings[0][:40]
(19.0, 'Each of the four cells has one row: the ')
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Final, Literal, get_args

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from ridp.analysis._values import plain
from ridp.errors import FieldError, InputError
from ridp.evaluation._cr2 import cr2
from ridp.evaluation._wild import wild_restricted
from ridp.evaluation.estimators import FEW_CLUSTERS, _frame, _no_missing
from ridp.evaluation.quasi import QuasiEstimate

__all__ = ["DidSE", "TwfeSE", "did", "twfe"]

DidSE = Literal["auto", "iid", "HC1", "HC2", "CR2", "wild", "CR1"]
TwfeSE = Literal["auto", "iid", "HC1", "CR1", "wild"]
_SE_LABELS: Final = {
    "iid": "classical (homoskedastic) standard errors",
    "HC1": "HC1 standard errors",
    "HC2": "HC2 standard errors",
    "CR2": "CR2 clustered standard errors, Bell-McCaffrey degrees of freedom",
    "wild": "restricted wild cluster bootstrap, Webb weights",
    "CR1": "CR1 clustered standard errors",
}


def _indicator(frame: pd.DataFrame, column: str, argument: str) -> np.ndarray:
    """A 0/1 or boolean column as floats; anything else names the column and what it holds."""
    _no_missing(frame, column, argument)
    values = frame[column]
    found = set(pd.unique(values).tolist())
    if not found <= {0, 1}:
        shown = ", ".join(repr(plain(v)) for v in list(found)[:4])
        raise FieldError(argument, f"column {column!r} holds {shown}; it must be 0/1 (or true/false)")
    return values.to_numpy(dtype=np.float64)


def _with_outcome(frame: pd.DataFrame, outcome: str, warns: list[str]) -> pd.DataFrame:
    """The rows that have a numeric ``outcome`` (those without one dropped, and said so in ``warns``)."""
    missing = frame[outcome].isna().to_numpy()
    if missing.any():
        warns.append(f"{int(missing.sum()):,} of {len(frame):,} rows had no {outcome!r} and were dropped.")
        frame = frame[~missing].reset_index(drop=True)
    if not pd.api.types.is_numeric_dtype(frame[outcome]):
        raise FieldError("outcome", f"column {outcome!r} is not numeric (it holds {frame[outcome].dtype})")
    return frame


def _options(se: str, allowed: tuple[str, ...], alpha: float, reps: int) -> None:
    if se not in allowed:
        raise FieldError("se", f"{se!r} is one of {', '.join(allowed)}")
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise FieldError("alpha", f"{alpha!r} is a number between 0 and 1, such as 0.05")
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 99:
        raise FieldError("reps", f"{reps!r} is a whole number of at least 99")


def _t_interval(effect: float, se: float, df: float, alpha: float) -> tuple[float, float, float]:
    q = float(stats.t.ppf(1 - alpha / 2, df))
    return float(2 * stats.t.sf(abs(effect / se), df)), effect - q * se, effect + q * se


# ------------------------------------------------------------------------------------------------- 2 × 2
def did(
    data: ir.Table | pd.DataFrame, *, outcome: str, group: str, post: str, covariates: Sequence[str] = (),
    cluster: str | None = None, se: DidSE = "auto", alpha: float = 0.05, reps: int = 9999, seed: int = 0,
) -> QuasiEstimate:  # fmt: skip
    """The 2×2 difference-in-differences of ``outcome``: ``group`` (1 = treated) by ``post`` (1 = after)."""
    covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    _options(se, get_args(DidSE), alpha, reps)
    if se in ("CR2", "wild", "CR1") and not cluster:
        raise FieldError("se", f"{se} errors need cluster=<column>")
    if se in ("HC1", "HC2", "iid") and cluster:
        raise FieldError("se", f"{se} ignores the clusters: use CR2, wild, CR1 or auto")
    needed = {"outcome": [outcome], "group": [group], "post": [post], "covariates": list(covariates),
              "cluster": [cluster] if cluster else []}  # fmt: skip
    frame = _frame(data, needed)
    notes: list[str] = []
    warns: list[str] = []
    frame = _with_outcome(frame, outcome, warns)
    g = _indicator(frame, group, "group")
    p = _indicator(frame, post, "post")
    if g.min() == g.max():
        raise FieldError("group", f"column {group!r} never varies (every row is {int(g[0])}): a difference-in-"
                         "differences needs a treated and a comparison group")  # fmt: skip
    if p.min() == p.max():
        what = "no pre-period: every row is after" if p[0] == 1 else "no post-period: every row is before"
        raise FieldError("post", f"column {post!r} never varies ({what})")
    y = frame[outcome].to_numpy(dtype=np.float64)
    cells: list[dict[str, Any]] = []
    for gv, gname in ((1.0, "treated"), (0.0, "comparison")):
        for pv, pname in ((0.0, "before"), (1.0, "after")):
            rows = (g == gv) & (p == pv)
            if not rows.any():
                raise InputError(f"no rows of the {gname} group {pname} ({group}={int(gv)}, {post}={int(pv)}): "
                                 "every one of the four cells needs data")  # fmt: skip
            cells.append({"group": gname, "period": pname, "mean": float(y[rows].mean()), "n": int(rows.sum())})
    m: dict[tuple[str, str], float] = {(c["group"], c["period"]): c["mean"] for c in cells}
    by_means = (m["treated", "after"] - m["treated", "before"]) - (m["comparison", "after"] - m["comparison", "before"])
    X = np.column_stack([np.ones_like(y), g, p, g * p])
    for name in covariates:
        _no_missing(frame, name, "covariates")
        if not pd.api.types.is_numeric_dtype(frame[name]):
            raise FieldError("covariates", f"column {name!r} is not numeric (it holds {frame[name].dtype})")
        X = np.column_stack([X, frame[name].to_numpy(dtype=np.float64)])
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise FieldError("covariates", f"a covariate of {', '.join(covariates)} is collinear with the group, the "
                         "period or another covariate: drop it")  # fmt: skip
    groups = None
    if cluster:
        _no_missing(frame, cluster, "cluster")
        groups = pd.factorize(frame[cluster], sort=True)[0].astype(np.int64)
    se_type = ("CR2" if cluster else "HC2") if se == "auto" else se
    df_resid = len(y) - X.shape[1]
    spec = {"estimator": "did", "outcome": outcome, "group": group, "post": post, "treatment": f"{group}×{post}",
            "covariates": covariates, "cluster": cluster, "se": se, "alpha": alpha, "reps": reps, "seed": seed}  # fmt: skip
    if df_resid <= 0:
        warns.append("Each of the four cells has one row: the difference in differences is exact arithmetic on "
                     "the four numbers, with no standard error or interval.")  # fmt: skip
        return _did_result(spec, cells, by_means, None, math.nan, math.nan, math.nan, None, y, g, p, groups,
                           "means", warns, notes)  # fmt: skip
    std: float | None
    if se_type in ("iid", "HC1", "HC2"):
        import statsmodels.api as sm

        fit = sm.OLS(y, X).fit(cov_type="nonrobust" if se_type == "iid" else se_type)
        effect, std = float(fit.params[3]), float(fit.bse[3])
        pv, low, high = _t_interval(effect, std, df_resid, alpha)
        df: float | None = float(df_resid)
    else:
        assert groups is not None
        n_groups = int(groups.max()) + 1
        beta = np.linalg.lstsq(X, y, rcond=None)[0]
        effect = float(beta[3])
        if se_type == "CR2":
            variance, df, _ = cr2(X, y - X @ beta, groups, 3)
            std = math.sqrt(variance)
            pv, low, high = _t_interval(effect, std, df, alpha)
        elif se_type == "CR1":
            import statsmodels.api as sm

            fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups})
            std, df = float(fit.bse[3]), float(n_groups - 1)
            pv, low, high = _t_interval(effect, std, df, alpha)
            notes.append("statsmodels' CR1 small-sample factor, t with G - 1 degrees of freedom")
        else:
            wild = wild_restricted(X, y, groups, 3, reps=reps, seed=seed, alpha=alpha)
            std, df, pv, low, high = None, None, wild.p_value, wild.ci_low, wild.ci_high
            notes.append(f"{reps:,} Webb-weight draws (seed {seed}), null imposed; interval by test inversion")
        if n_groups < FEW_CLUSTERS:
            warns.append(f"Only {n_groups} clusters of {cluster!r}: the interval uses {_SE_LABELS[se_type]}"
                         + ("." if se_type != "CR1" else "; CR1 is too narrow with few clusters, se='auto' uses CR2."))  # fmt: skip
    return _did_result(spec, cells, effect, std, pv, low, high, df, y, g, p, groups, se_type, warns, notes)


def _did_result(
    spec: dict[str, Any], cells: list[dict[str, Any]], effect: float, std: float | None, p_value: float,
    low: float, high: float, df: float | None, y: np.ndarray, g: np.ndarray, p: np.ndarray,
    groups: np.ndarray | None, se_type: str, warns: list[str], notes: list[str],
) -> QuasiEstimate:  # fmt: skip
    after = p == 1
    m = {(c["group"], c["period"]): c["mean"] for c in cells}
    facts = {"Cell means": "; ".join(f"{c['group']} {c['period']} {c['mean']:,.4g} (n {c['n']:,})" for c in cells),
             "Comparison group's change": m["comparison", "after"] - m["comparison", "before"],
             "Treated group's change": m["treated", "after"] - m["treated", "before"]}  # fmt: skip
    return QuasiEstimate(
        outcome=spec["outcome"], treatment=spec["treatment"], estimator="did", se_type=se_type, effect=effect,
        se=std, ci_low=low, ci_high=high, p_value=p_value, n=len(y), n_treated=int(g.sum()),
        n_clusters=None if groups is None else int(groups.max()) + 1, df=df, alpha=float(spec["alpha"]),
        control_mean=float(y[after & (g == 0)].mean()), treated_mean=float(y[after & (g == 1)].mean()),
        covariates=spec["covariates"], cluster=spec["cluster"], spec=spec, warnings=tuple(warns),
        notes=tuple(notes), detail_kind="cells", detail=tuple(cells), facts=facts,
    )  # fmt: skip


# -------------------------------------------------------------------------------------- two-way effects
def _panel_codes(frame: pd.DataFrame, unit: str, time: str) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    _no_missing(frame, unit, "unit")
    _no_missing(frame, time, "time")
    u = pd.factorize(frame[unit], sort=True)[0].astype(np.int64)
    t_codes, t_labels = pd.factorize(frame[time], sort=True)
    cell = u * len(t_labels) + t_codes  # one integer per unit and period: a million rows in milliseconds
    if len(cell) and np.bincount(cell).max() > 1:
        row = int(np.argmax(pd.Series(cell).duplicated().to_numpy()))
        raise InputError(f"row {row} (counting from 0) repeats unit {plain(frame[unit].iloc[row])!r} at "
                         f"{time} {plain(frame[time].iloc[row])!r}: a panel has one row per unit and period")  # fmt: skip
    return u, t_codes.astype(np.int64), pd.Index(t_labels)


def _two_way_residual(values: np.ndarray, u: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``values`` with unit and time effects partialled out (pyfixest's alternating projections)."""
    from pyfixest.estimation import demean

    flist = np.column_stack([u, t]).astype(np.uint64)
    resid, _ = demean(values.reshape(len(values), -1).astype(np.float64), flist, np.ones(len(values)), tol=1e-10)
    return resid[:, 0] if values.ndim == 1 else resid


def staggered_weights(d: np.ndarray, u: np.ndarray, t: np.ndarray) -> tuple[int, int, float]:
    """de Chaisemartin-D'Haultfœuille weights of TWFE: (treated cells, cells with a negative weight, their sum).

    TWFE's coefficient is Σ w_gt ATT_gt over treated cells with ``w ∝`` the residual of the treatment after
    unit and time effects; a negative weight means that cell's effect pulls the estimate the wrong way.
    """
    resid = _two_way_residual(d, u, t)
    treated = d == 1
    w = resid[treated] / resid[treated].sum()
    negative = w < -1e-12
    return int(treated.sum()), int(negative.sum()), float(w[negative].sum())


def twfe(
    data: ir.Table | pd.DataFrame, *, outcome: str, unit: str, time: str, treatment: str,
    covariates: Sequence[str] = (), cluster: str | None = None, se: TwfeSE = "auto", alpha: float = 0.05,
    reps: int = 9999, seed: int = 0,
) -> QuasiEstimate:  # fmt: skip
    """Two-way fixed effects: ``outcome ~ treatment + covariates | unit + time``, errors clustered by ``cluster``
    (default: the unit). ``se``: ``auto`` (CR1, or the wild cluster bootstrap with few clusters), ``CR1``,
    ``wild``, ``HC1`` or ``iid``."""
    import pyfixest as pf

    covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    _options(se, get_args(TwfeSE), alpha, reps)
    cluster = cluster or unit
    needed = {"outcome": [outcome], "unit": [unit], "time": [time], "treatment": [treatment],
              "covariates": list(covariates), "cluster": [cluster]}  # fmt: skip
    frame = _frame(data, needed)
    warns: list[str] = []
    notes: list[str] = []
    frame = _with_outcome(frame, outcome, warns)
    d = _indicator(frame, treatment, "treatment")
    if d.min() == d.max():
        raise FieldError("treatment", f"column {treatment!r} never varies (every row is {int(d[0])})")
    u, t, times = _panel_codes(frame, unit, time)
    n_units = int(u.max()) + 1  # factorised codes are dense
    if (d[t == t.min()] == 1).all() or (d[t == t.min()] == 1).sum() >= n_units - 1:
        raise FieldError("treatment", f"every unit but at most one is treated in the first period "
                         f"({plain(times[0])!r}): there is no pre-period to compare with")  # fmt: skip
    _no_missing(frame, cluster, "cluster")
    groups = u if cluster == unit else pd.factorize(frame[cluster], sort=True)[0].astype(np.int64)
    n_groups = int(groups.max()) + 1
    safe = pd.DataFrame({"y": frame[outcome].to_numpy(dtype=np.float64), "d": d, "u": u, "t": t, "g": groups})
    xs = [f"x{j}" for j in range(len(covariates))]
    for name, x in zip(covariates, xs, strict=True):
        _no_missing(frame, name, "covariates")
        safe[x] = frame[name].to_numpy(dtype=np.float64)
    formula = "y ~ " + " + ".join(["d", *xs]) + " | u + t"
    se_type = ("CR1" if n_groups >= FEW_CLUSTERS else "wild") if se == "auto" else se
    vcov: Any = {"iid": "iid", "HC1": "hetero"}.get(se_type, {"CRV1": "g"})
    absorbed = FieldError("treatment", f"column {treatment!r} is absorbed by the unit and time effects (it never "
                          "changes within a unit, or changes for every unit at once): nothing is left to estimate")  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("ignore", message="The inplace keyword", category=pd.errors.Pandas4Warning)
        warnings.filterwarnings("ignore", message=".*multicollinearity", category=UserWarning)
        warnings.filterwarnings("always", message=".*singleton", category=UserWarning)
        try:
            fit = pf.feols(formula, data=safe, vcov=vcov)
        except ValueError as exc:  # pyfixest: "All variables are collinear"
            if "collinear" in str(exc):
                raise absorbed from None
            raise
        collinear = list(getattr(fit, "_collin_vars", None) or ())
        if "d" in collinear:
            raise absorbed
        if collinear:
            named = ", ".join(repr(covariates[xs.index(x)]) for x in collinear if x in xs)
            raise FieldError("covariates", f"{named} is collinear with the unit and time effects or another "
                             "covariate: drop it")  # fmt: skip
        effect = float(fit.coef()["d"])
        std: float | None = float(fit.se()["d"])
        p_value = float(fit.pvalue()["d"])
        low, high = (float(v) for v in fit.confint(alpha=alpha).loc["d"])
    df: float | None = float(n_groups - 1) if se_type == "CR1" else None  # else pyfixest's own p and interval
    if se_type == "wild":
        demeaned = _two_way_residual(np.column_stack([safe["y"], safe["d"], *(safe[x] for x in xs)]), u, t)
        wild = wild_restricted(demeaned[:, 1:], demeaned[:, 0], groups, 0, reps=reps, seed=seed, alpha=alpha)
        std, df, p_value, low, high = None, None, wild.p_value, wild.ci_low, wild.ci_high
        notes.append(f"{reps:,} Webb-weight draws (seed {seed}) on the data with unit and time effects partialled "
                     "out, null imposed; interval by test inversion")  # fmt: skip
        if n_groups < FEW_CLUSTERS:
            warns.append(f"Only {n_groups} clusters of {cluster!r}: CR1 errors are too narrow with few clusters, so "
                         "the interval comes from the restricted wild cluster bootstrap.")  # fmt: skip
    elif se_type == "CR1":
        notes.append("pyfixest CRV1 (fixest's small-sample factor), t with G - 1 degrees of freedom")
        if n_groups < FEW_CLUSTERS:
            warns.append(f"Only {n_groups} clusters of {cluster!r}: CR1 errors are too narrow with few clusters; "
                         "se='auto' uses the wild cluster bootstrap.")  # fmt: skip
    for seen in caught:
        if "singleton" in str(seen.message):
            warns.append(f"pyfixest: {str(seen.message).strip()} (units or periods with a single row carry no "
                         "within variation and were left out).")  # fmt: skip
    treated_clusters = int(np.count_nonzero(np.bincount(groups, weights=d)))
    if treated_clusters == 1 and se_type in ("CR1", "wild"):
        warns.append(f"Only one cluster of {cluster!r} is ever treated: no clustered interval is reliable then "
                     "(CR1 is far too narrow, the wild bootstrap far too wide; MacKinnon and Webb, 2017). Read the "
                     "estimate with a synthetic control and its placebo test instead.")  # fmt: skip
    first = pd.Series(np.where(d == 1, t, np.iinfo(np.int64).max)).groupby(u).min()
    starts = sorted(set(first[first < np.iinfo(np.int64).max].tolist()))
    facts: dict[str, Any] = {"Units": len(first), "Periods": len(times),
                             "Treated units": int((first < np.iinfo(np.int64).max).sum())}  # fmt: skip
    if len(starts) > 1:
        cells, negative, weight = staggered_weights(d, u, t)
        facts["Treated cells with a negative TWFE weight"] = (
            f"{negative} of {cells} (their weights sum to {weight:.3f})"
        )
        warns.append(f"Treatment starts at {len(starts)} different times: two-way fixed effects then compares "
                     "later-treated units with already-treated ones, and when effects change over time the "
                     f"estimate can be biased, even of the wrong sign ({negative} of {cells} treated cells enter "
                     "with a negative weight). Use callaway_santanna (or sun_abraham) for staggered timing.")  # fmt: skip
    spec = {"estimator": "twfe", "outcome": outcome, "unit": unit, "time": time, "treatment": treatment,
            "covariates": covariates, "cluster": cluster, "se": se, "alpha": alpha, "reps": reps, "seed": seed}  # fmt: skip
    y = safe["y"].to_numpy()
    last = t == t.max()
    return QuasiEstimate(
        outcome=outcome, treatment=treatment, estimator="twfe", se_type=se_type, effect=effect, se=std,
        ci_low=low, ci_high=high, p_value=p_value, n=len(y), n_treated=int(d.sum()), n_clusters=n_groups, df=df,
        alpha=float(alpha), control_mean=float(y[last & (d == 0)].mean()) if (last & (d == 0)).any() else math.nan,
        treated_mean=float(y[last & (d == 1)].mean()) if (last & (d == 1)).any() else math.nan,
        covariates=covariates, cluster=cluster, spec=spec, warnings=tuple(warns), notes=tuple(notes), facts=facts,
    )  # fmt: skip
