"""Interrupted time series: a series before and after a change on a known date, as segmented regression.

:func:`interrupted_time_series` fits ``outcome ~ time + post [+ post·(time - start)] [+ harmonics]`` with
statsmodels: ordinary least squares for a measure such as days to close (``family="gaussian"``), or a log-link
model for counts — Poisson, quasi-Poisson (Poisson with the Pearson overdispersion scale) or negative binomial —
with ``offset=`` a population or exposure column entering as its logarithm (Lopez Bernal, Cummins and
Gasparrini, 2017). Seasonality enters as ``harmonics`` pairs of sine and cosine terms of ``season``'s
position in its ``period`` (12 months, 52 weeks). Errors: model-based, or Newey-West autocorrelation-robust
(``se="HAC"``, the default for a gaussian series); a Ljung-Box test of the residuals says when a count
model's errors should be too.

The effect is the level change in the outcome's own units: the coefficient of ``post`` for a gaussian
series; for a count model the mean counterfactual after the change times (rate ratio - 1), with the rate
ratio and its interval among the facts. ``detail`` is the series with its fitted values and the
counterfactual without the change, which the chart draws.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Literal, get_args

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from ridp.analysis._values import plain
from ridp.errors import FieldError, InputError
from ridp.evaluation.estimators import _frame, _no_missing
from ridp.evaluation.quasi import QuasiEstimate

__all__ = ["Family", "interrupted_time_series"]

Family = Literal["gaussian", "poisson", "quasipoisson", "negbin"]
ItsSE = Literal["auto", "model", "HAC"]
#: Fewer points than this on either side of the change: an error; fewer than _FEW_POINTS: a warning.
_MIN_POINTS = 3
_FEW_POINTS = 8


def _regular(times: pd.Series, column: str) -> np.ndarray:
    """Positions 0, 1, 2... of an evenly spaced series; a gap or a repeat is an error naming where."""
    if pd.api.types.is_datetime64_any_dtype(times):
        values = times.astype("datetime64[ns]").to_numpy().astype(np.int64) / 86400e9
    elif pd.api.types.is_numeric_dtype(times):
        values = times.to_numpy(dtype=np.float64)
    else:
        raise FieldError("time", f"column {column!r} holds {times.dtype}: it is a number or a date")
    order = np.argsort(values, kind="stable")
    if not np.array_equal(order, np.arange(len(values))):
        raise InputError(f"column {column!r} is not in time order (row {int(np.argmax(np.diff(values) < 0)) + 1} "
                         "comes before the row above it)", hint="sort the series by time first")  # fmt: skip
    steps = np.diff(values)
    if (steps == 0).any():
        raise InputError(f"column {column!r} repeats {plain(times.iloc[int(np.argmax(steps == 0)) + 1])!r}: a "
                         "time series has one row per period")  # fmt: skip
    step = float(np.median(steps))
    tolerance = 3.5 if pd.api.types.is_datetime64_any_dtype(times) and step >= 28 else 1e-9 * max(1.0, step)
    gaps = np.flatnonzero(np.abs(steps - step) > tolerance)
    if len(gaps):
        at = int(gaps[0])
        raise InputError(f"the series has gaps: after {plain(times.iloc[at])!r} (row {at}) comes "
                         f"{plain(times.iloc[at + 1])!r}, but the series moves in steps of {step:g}"
                         f"{' days' if pd.api.types.is_datetime64_any_dtype(times) else ''} ({len(gaps)} gap(s))",
                         hint="fill the missing periods (with 0 for counts) or analyse a gap-free stretch")  # fmt: skip
    return np.arange(len(values), dtype=np.float64)


def interrupted_time_series(
    data: ir.Table | pd.DataFrame, *, outcome: str, time: str, post: str | None = None, start: Any = None,
    family: Family = "gaussian", offset: str | None = None, season: str | None = None, period: int = 12,
    harmonics: int = 2, slope_change: bool = True, se: ItsSE = "auto", hac_lags: int | None = None,
    alpha: float = 0.05,
) -> QuasiEstimate:  # fmt: skip
    """The level (and slope) change of ``outcome`` when the intervention starts.

    The change is marked by ``post`` (a 0/1 column) or ``start`` (the first value of ``time`` after it).
    """
    import statsmodels.api as sm

    if family not in get_args(Family):
        raise FieldError("family", f"{family!r} is one of {', '.join(get_args(Family))}")
    if se not in get_args(ItsSE):
        raise FieldError("se", f"{se!r} is one of {', '.join(get_args(ItsSE))}")
    if (post is None) == (start is None):
        raise FieldError("post", "give either post=<0/1 column> or start=<first time after the change>")
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise FieldError("alpha", f"{alpha!r} is a number between 0 and 1, such as 0.05")
    if season is not None and not (isinstance(period, int) and period >= 2 and 1 <= harmonics <= period // 2):
        raise FieldError("harmonics", f"{harmonics!r} pairs of terms for a period of {period!r}: at least 1 and at "
                         "most half the period")  # fmt: skip
    if offset and family == "gaussian":
        raise FieldError("offset", "an offset (log exposure) is for count families: poisson, quasipoisson, negbin")
    needed = {"outcome": [outcome], "time": [time], "post": [post] if post else [], "offset": [offset] if offset else [],
              "season": [season] if season else []}  # fmt: skip
    frame = _frame(data, needed)
    for column, argument in (
        (time, "time"),
        (outcome, "outcome"),
        (post, "post"),
        (offset, "offset"),
        (season, "season"),
    ):
        if column:
            _no_missing(frame, column, argument)
    if not pd.api.types.is_numeric_dtype(frame[outcome]):
        raise FieldError("outcome", f"column {outcome!r} is not numeric (it holds {frame[outcome].dtype})")
    index = _regular(frame[time], time)
    y = frame[outcome].to_numpy(dtype=np.float64)
    if post is not None:
        p = frame[post].to_numpy(dtype=np.float64)
        if not set(np.unique(p)) <= {0.0, 1.0}:
            raise FieldError("post", f"column {post!r} must be 0/1 (1 from the change on)")
        if (np.diff(p) < 0).any():
            raise FieldError("post", f"column {post!r} turns off again after the change: one change per series")
    else:
        p = (frame[time] >= start).to_numpy(dtype=np.float64)
    n_pre, n_post = int((p == 0).sum()), int((p == 1).sum())
    if n_pre < _MIN_POINTS:
        raise InputError(f"only {n_pre} point(s) before the change: no pre-period to project from (at least "
                         f"{_MIN_POINTS} are needed)")  # fmt: skip
    if n_post < _MIN_POINTS:
        raise InputError(f"only {n_post} point(s) after the change (at least {_MIN_POINTS} are needed)")
    if family != "gaussian" and ((y < 0).any() or (np.abs(y - np.round(y)) > 1e-9).any()):
        raise FieldError("outcome", f"column {outcome!r} is not a count (a negative or fractional value): use "
                         "family='gaussian'")  # fmt: skip
    first_post = int(np.argmax(p == 1))
    columns = {"const": np.ones_like(y), "time": index, "post": p}
    if slope_change:
        columns["post_time"] = p * (index - index[first_post])
    if season:
        position = frame[season].to_numpy(dtype=np.float64)
        for k in range(1, harmonics + 1):
            columns[f"sin{k}"] = np.sin(2 * np.pi * k * position / period)
            columns[f"cos{k}"] = np.cos(2 * np.pi * k * position / period)
    X = pd.DataFrame(columns)
    if np.linalg.matrix_rank(X.to_numpy()) < X.shape[1]:
        raise InputError("the time, the change and the seasonal terms are collinear (too short a series for "
                         "this many terms): use fewer harmonics or no slope change")  # fmt: skip
    exposure = None
    if offset:
        exposure = frame[offset].to_numpy(dtype=np.float64)
        if (exposure <= 0).any():
            raise FieldError("offset", f"column {offset!r} must be positive (it is a population or exposure)")
    se_type = ("HAC" if family == "gaussian" else "model") if se == "auto" else se
    lags = hac_lags if hac_lags is not None else math.floor(4 * (len(y) / 100) ** (2 / 9))
    cov: dict[str, Any] = {"cov_type": "HAC", "cov_kwds": {"maxlags": lags}} if se_type == "HAC" else {}
    log_offset = None if exposure is None else np.log(exposure)
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", category=ConvergenceWarning)
        warnings.simplefilter("ignore", category=RuntimeWarning)
        if family == "gaussian":
            fit = sm.OLS(y, X).fit(**cov)
        elif family == "negbin":
            start_fit = sm.GLM(y, X, family=sm.families.Poisson(), offset=log_offset).fit()
            start_params = np.append(start_fit.params.to_numpy(), 0.05)
            # Newton steps from Poisson's estimates can step to a negative alpha; Nelder-Mead does not
            fit = sm.NegativeBinomial(y, X, offset=log_offset).fit(start_params=start_params, method="nm",
                                                                    maxiter=20000, disp=0, **cov)  # fmt: skip
        else:
            scale = "X2" if family == "quasipoisson" else None
            fit = sm.GLM(y, X, family=sm.families.Poisson(), offset=log_offset).fit(scale=scale, **cov)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        raise InputError(f"the {family} model of {outcome!r} did not converge: try family='quasipoisson' (or "
                         "fewer terms)")  # fmt: skip
    params = fit.params
    bse = fit.bse
    z = float(stats.norm.ppf(1 - alpha / 2))
    linear = X.to_numpy() @ params[X.columns].to_numpy() + (0 if log_offset is None else log_offset)
    cf_X = X.copy()
    cf_X["post"] = 0.0
    if slope_change:
        cf_X["post_time"] = 0.0
    cf_linear = cf_X.to_numpy() @ params[X.columns].to_numpy() + (0 if log_offset is None else log_offset)
    fitted, counterfactual = (linear, cf_linear) if family == "gaussian" else (np.exp(linear), np.exp(cf_linear))
    after = p == 1
    b, s = float(params["post"]), float(bse["post"])
    facts: dict[str, Any] = {"Points before and after": f"{n_pre} and {n_post}"}
    ratio_row: tuple[dict[str, float], ...] = ()
    warns: list[str] = []
    notes: list[str] = []
    if family == "gaussian":
        df = float(fit.df_resid)
        q = float(stats.t.ppf(1 - alpha / 2, df))
        effect, std, low, high = b, s, b - q * s, b + q * s
        p_value = float(2 * stats.t.sf(abs(b / s), df))
        if slope_change:
            facts["Slope change per period"] = f"{params['post_time']:.4g} (SE {bse['post_time']:.3g})"
    else:
        df = None
        ratio, r_low, r_high = math.exp(b), math.exp(b - z * s), math.exp(b + z * s)
        level = float(counterfactual[after].mean())
        effect, low, high = level * (ratio - 1), level * (r_low - 1), level * (r_high - 1)
        std = level * ratio * s  # delta method on the level change, the counterfactual taken as known
        p_value = float(2 * stats.norm.sf(abs(b / s)))
        facts["Rate ratio at the change"] = f"{ratio:.3f} ({(1 - alpha) * 100:g}% CI {r_low:.3f}–{r_high:.3f})"
        ratio_row = ({"rate_ratio": ratio, "low": r_low, "high": r_high, "se_log": s},)
        if slope_change:
            facts["Slope change (ratio per period)"] = f"{math.exp(params['post_time']):.4f}"
        notes.append("level change in the outcome's units = mean counterfactual after the change × (rate ratio - 1)")
        if family == "quasipoisson":
            facts["Overdispersion (Pearson scale)"] = float(fit.scale)
        if family == "negbin":
            facts["Negative binomial alpha"] = float(params["alpha"])
    if se_type == "HAC":
        notes.append(f"Newey-West errors with {lags} lag(s)")
    from statsmodels.stats.diagnostic import acorr_ljungbox

    residuals = y - fitted if family == "gaussian" else (y - fitted) / np.sqrt(fitted)
    lb_lag = max(1, min((season and period) or 10, len(y) // 5))
    lb = float(acorr_ljungbox(residuals, lags=[lb_lag])["lb_pvalue"].iloc[0])
    facts["Ljung-Box test of residual autocorrelation"] = f"p = {lb:.3f} at lag {lb_lag}"
    if lb < alpha and se_type != "HAC":
        warns.append(f"The residuals are autocorrelated (Ljung-Box p = {lb:.3f}): model-based errors are too "
                     "narrow; use se='HAC'.")  # fmt: skip
    if family == "poisson" and len(y) > X.shape[1]:
        dispersion = float(np.sum(residuals**2) / (len(y) - X.shape[1]))
        if dispersion > 1.5:
            warns.append(f"The counts vary {dispersion:.1f} times more than Poisson allows: use "
                         "family='quasipoisson' or 'negbin' for honest intervals.")  # fmt: skip
    if min(n_pre, n_post) < _FEW_POINTS:
        warns.append(f"Only {min(n_pre, n_post)} points on one side of the change: the trend is barely identified.")
    times = frame[time]
    detail = tuple(
        {
            "time": plain(times.iloc[i]),
            "observed": float(y[i]),
            "fitted": float(fitted[i]),
            "counterfactual": float(counterfactual[i]),
            "post": bool(after[i]),
        }
        for i in range(len(y))
    )
    spec = {"estimator": "its", "outcome": outcome, "time": time, "post": post, "start": plain(start),
            "family": family, "offset": offset, "season": season, "period": period, "harmonics": harmonics,
            "slope_change": slope_change, "se": se, "hac_lags": hac_lags, "alpha": alpha,
            "treatment": post or f"{time} ≥ {plain(start)}", "covariates": ()}  # fmt: skip
    return QuasiEstimate(
        outcome=outcome, treatment=spec["treatment"], estimator="its", se_type=se_type, effect=effect, se=std,
        ci_low=low, ci_high=high, p_value=p_value, n=len(y), n_treated=n_post, n_clusters=None, df=df,
        alpha=float(alpha), control_mean=float(counterfactual[after].mean()), treated_mean=float(y[after].mean()),
        covariates=(), cluster=None, spec=spec, warnings=tuple(warns), notes=tuple(notes), facts=facts,
        detail_kind="series", detail=detail, tables={"rate_ratio": ratio_row} if ratio_row else {},
    )  # fmt: skip
