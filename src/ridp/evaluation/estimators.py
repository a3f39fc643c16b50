"""Experimental estimates of a pilot's effect: one call, one :class:`Estimate` with its interval and method.

* :func:`difference_in_means` — OLS of the outcome on the treatment. Without clusters the errors are HC2
  (statsmodels ``cov_type="HC2"``, which for this design is Welch's unequal-variance standard error) with
  Welch-Satterthwaite degrees of freedom: the whole test is Welch's t test, as in estimatr's difference_in_means.
* :func:`lin` — Lin (2013): covariates centred at their means and interacted with the treatment, so the
  treatment coefficient is the average effect; HC2 errors with n - k degrees of freedom.
* Clustered designs (``cluster=``): ``CR2`` (Bell-McCaffrey bias-reduced errors and degrees of freedom,
  :mod:`ridp.evaluation._cr2`), ``wild`` (restricted wild cluster bootstrap with Webb's six-point weights,
  p-value and interval by test inversion, :mod:`ridp.evaluation._wild`), or ``CR1`` (pyfixest's ``CRV1``,
  t with G - 1 degrees of freedom, reproduced exactly).
* :func:`randomisation_inference` — the sharp null of no effect, reassigning blocks and clusters as the design
  did, exact when there are at most ``reps`` assignments; interval by inversion under a constant effect.
* :func:`holm` / :func:`adjust` — several outcomes.

``se="auto"`` picks HC2 without clusters and CR2 with Bell-McCaffrey degrees of freedom with them. The choice
rests on ridp's coverage simulation (``tests/evaluation/test_coverage.py``): 8 clusters, 4 treated, 30–400
units each, ICC 0.1, log-normal outcome; over 10,000 draws the nominal 95 % intervals covered the truth
95.2 % of the time with CR2-BM, 93.3 % with the wild bootstrap and 90.1 % with CR1 (84.5 % with normal critical
values; Monte Carlo SE about 0.3 points). CR2-BM also stayed within 94–97 % with 6 (3 treated), 10 (3 treated)
or 12 clusters, ICC 0.3, or a more skewed outcome, where the wild bootstrap fell to 91.5 % with 6 clusters. So
the default is CR2-BM at any number of clusters; below :data:`FEW_CLUSTERS` the result carries a warning saying
which method was used and why.

>>> import pandas as pd
>>> data = pd.DataFrame({"days": [5.0, 7, 6, 8, 3, 4, 2, 5], "pilot": [0, 0, 0, 0, 1, 1, 1, 1]})
>>> result = difference_in_means(data, outcome="days", treatment="pilot")
>>> round(result.effect, 2), result.se_type
(-3.0, 'HC2')
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Final, Literal, get_args

import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from ridp.analysis._values import plain
from ridp.errors import FieldError, InputError
from ridp.evaluation._cr2 import cr2
from ridp.evaluation._ri import count_assignments, randomisation_test
from ridp.evaluation._wild import wild_restricted

__all__ = [
    "ESTIMATORS", "FEW_CLUSTERS", "SE", "Correction", "Estimate", "Estimator", "adjust", "difference_in_means",
    "estimate", "holm", "lin", "randomisation_inference",
]  # fmt: skip

SE = Literal["auto", "HC2", "CR2", "wild", "CR1"]
Estimator = Literal["difference_in_means", "lin", "randomisation"]
Correction = Literal["holm", "bonferroni", "none"]
ESTIMATORS: Final = ("difference_in_means", "lin")
#: Below this many clusters a clustered estimate carries a warning naming the method and why.
FEW_CLUSTERS: Final = 30
#: Fewer units than this in an arm: a warning (large-sample intervals may be off); fewer than 2: an error.
SMALL_ARM: Final = 10
#: ridp's coverage simulation (module docstring): the numbers the few-cluster warning quotes.
COVERAGE: Final = {"CR2": 0.952, "wild": 0.933, "CR1": 0.901}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_NAMES: Final = {"difference_in_means": "Difference in means", "lin": "Lin covariate adjustment",
                 "randomisation": "Randomisation inference (difference in means)",
                 "did": "Difference-in-differences (2×2)", "twfe": "Two-way fixed effects",
                 "callaway_santanna": "Callaway-Sant'Anna group-time effects", "sun_abraham": "Sun-Abraham interaction-weighted event study",
                 "its": "Interrupted time series", "synth": "Synthetic control"}  # fmt: skip
_SE_NAMES: Final = {
    "HC2": "HC2 standard errors",
    "CR2": "CR2 clustered standard errors, Bell-McCaffrey degrees of freedom",
    "wild": "restricted wild cluster bootstrap, Webb weights",
    "CR1": "CR1 clustered standard errors",
    "randomisation": "exact or simulated reassignment",
    "iid": "classical (homoskedastic) standard errors",
    "HC1": "HC1 standard errors",
    "means": "no interval (one row per cell)",
    "bootstrap": "multiplier bootstrap clustered by unit",
    "HAC": "Newey-West autocorrelation-robust standard errors",
    "model": "model-based standard errors",
    "placebo": "placebo-in-space inference (RMSPE ratio)",
}


@dataclass(frozen=True)
class Estimate:
    """The estimated effect of ``treatment`` on ``outcome``, with its interval, p-value and how it was made."""

    outcome: str
    treatment: str
    estimator: str
    se_type: str
    effect: float
    se: float | None
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    n_treated: int
    n_clusters: int | None
    df: float | None
    alpha: float
    control_mean: float
    treated_mean: float
    covariates: tuple[str, ...]
    cluster: str | None
    spec: Mapping[str, Any]
    p_adjusted: float | None = None
    correction: str | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # plain facts about the method (draws, enumeration, degrees of freedom)

    @property
    def label(self) -> str:
        """``"Difference in means, HC2 standard errors"``."""
        name = _NAMES.get(self.estimator, self.estimator)
        return name if self.se_type == "randomisation" else f"{name}, {_SE_NAMES.get(self.se_type, self.se_type)}"

    @property
    def statistic(self) -> float | None:
        return self.effect / self.se if self.se else None

    def summary(self) -> str:
        level = f"{(1 - self.alpha) * 100:g}%"
        lines = [
            f"Effect of {self.treatment} on {self.outcome}: {_num(self.effect)} ({level} CI {_num(self.ci_low)} to "
            f"{_num(self.ci_high)}), {_p(self.p_value)}",
            f"Method: {self.label}" + (f"; df {self.df:.1f}" if self.df is not None else "") + ".",
            f"n = {self.n:,} ({self.n_treated:,} treated, {self.n - self.n_treated:,} control)"
            + (f"; {self.n_clusters} clusters of {self.cluster!r}" if self.n_clusters else "")
            + (f"; covariates {', '.join(self.covariates)}" if self.covariates else "")
            + ".",
            f"Means: control {_num(self.control_mean)}, treated {_num(self.treated_mean)}"
            + (f"; standard error {_num(self.se)}" if self.se is not None else "")
            + ".",
        ]
        if self.p_adjusted is not None:
            lines.append(f"{(self.correction or '').capitalize()}-adjusted {_p(self.p_adjusted)}.")
        lines.extend(f"Note: {n}." for n in self.notes)
        lines.extend(f"Warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def tidy(self) -> pd.DataFrame:
        """One row: term, estimate, std_error, statistic, p_value, conf_low, conf_high, df, n, method (then
        outcome and p_adjusted)."""
        row = {"term": self.treatment, "estimate": self.effect, "std_error": _nan(self.se),
               "statistic": _nan(self.statistic), "p_value": self.p_value, "conf_low": self.ci_low,
               "conf_high": self.ci_high, "df": _nan(self.df), "n": self.n, "method": self.label,
               "outcome": self.outcome, "p_adjusted": _nan(self.p_adjusted)}  # fmt: skip
        return pd.DataFrame([row])

    def chart(self) -> Any:
        """The effect as a point with its interval as a bar, beside a dashed line at zero (Altair, data inline)."""
        import altair as alt

        level = f"{(1 - self.alpha) * 100:g}%"
        finite = {k: (v if math.isfinite(v) else None) for k, v in (("low", self.ci_low), ("high", self.ci_high))}
        frame = pd.DataFrame([{"outcome": self.outcome, "effect": self.effect, **finite, "p": self.p_value}])
        y = alt.Y("outcome:N", title=None)
        x_title = f"Effect of {self.treatment} ({level} CI)"
        zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(strokeDash=[4, 4], color="gray").encode(x="zero:Q")
        bar = alt.Chart(frame).mark_rule(strokeWidth=3).encode(x=alt.X("low:Q", title=x_title), x2="high:Q", y=y)
        tips = [alt.Tooltip("effect:Q", format=",.3g"), alt.Tooltip("low:Q", format=",.3g"),
                alt.Tooltip("high:Q", format=",.3g"), alt.Tooltip("p:Q", format=".3f")]  # fmt: skip
        point = alt.Chart(frame).mark_point(filled=True, size=90).encode(x="effect:Q", y=y, tooltip=tips)
        return alt.layer(zero, bar, point).properties(title=self.label, width=420)

    def to_dict(self) -> dict[str, Any]:
        out = {k: plain(v) for k, v in asdict(self).items() if k not in ("spec", "covariates", "warnings", "notes")}
        out.update(
            kind="estimate",
            spec={k: list(v) if isinstance(v, tuple) else plain(v) for k, v in self.spec.items()},
            covariates=list(self.covariates),
            warnings=list(self.warnings),
            notes=list(self.notes),
        )
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Estimate:
        """The estimate :meth:`to_dict` wrote (an unbounded interval end is stored as None); a quasi-experimental
        estimate comes back as a :class:`~ridp.evaluation.quasi.QuasiEstimate`."""
        if cls is Estimate and d.get("kind") == "quasi_estimate":
            from ridp.evaluation.quasi import QuasiEstimate

            return QuasiEstimate.from_dict(d)
        values: dict[str, Any] = {k: d.get(k) for k in cls.__dataclass_fields__}
        values["ci_low"] = -math.inf if d.get("ci_low") is None else float(d["ci_low"])
        values["ci_high"] = math.inf if d.get("ci_high") is None else float(d["ci_high"])
        for key in ("effect", "p_value", "control_mean", "treated_mean", "alpha"):
            values[key] = math.nan if d.get(key) is None else float(d[key])
        spec = dict(d.get("spec") or {})
        if isinstance(spec.get("covariates"), list):
            spec["covariates"] = tuple(spec["covariates"])
        values.update(spec=spec, covariates=tuple(d.get("covariates") or ()), warnings=tuple(d.get("warnings") or ()),
                      notes=tuple(d.get("notes") or ()))  # fmt: skip
        return cls(**values)


def _num(x: float | None) -> str:
    if x is None or math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "unbounded" if x > 0 else "-unbounded"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


# ------------------------------------------------------------------------------------------------ input
@dataclass
class _Design:
    y: FloatArray
    d: FloatArray
    covariates: FloatArray  # n × p, not centred
    names: tuple[str, ...]
    groups: IntArray | None
    blocks: IntArray | None
    treated: Any
    warnings: list[str]

    @property
    def n_clusters(self) -> int | None:
        return None if self.groups is None else int(self.groups.max()) + 1


def _check_options(estimator: str, se: str, alpha: float, reps: int, seed: int) -> None:
    """Every option of every entry point, checked in one place."""
    if estimator not in get_args(Estimator):
        raise FieldError("estimator", f"{estimator!r} is one of {', '.join(get_args(Estimator))}")
    if se not in get_args(SE):
        raise FieldError("se", f"{se!r} is one of {', '.join(get_args(SE))}")
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise FieldError("alpha", f"{alpha!r} is a number between 0 and 1, such as 0.05")
    if isinstance(reps, bool) or not isinstance(reps, int | np.integer) or reps < 99:
        raise FieldError("reps", f"{reps!r} is a whole number of at least 99 (fewer cannot show p below 0.01)")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise FieldError("seed", f"{seed!r} is a whole number")


def _frame(data: ir.Table | pd.DataFrame, needed: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    if not isinstance(data, ir.Table | pd.DataFrame):
        raise FieldError("data", f"is a pandas DataFrame or an Ibis table, not {type(data).__name__}")
    columns = [str(c) for c in data.columns]
    for argument, names in needed.items():
        for name in names:
            if name not in columns:
                raise FieldError(argument, f"there is no column {name!r}; the columns are {', '.join(columns)}")
    wanted = list(dict.fromkeys(n for names in needed.values() for n in names))
    if isinstance(data, pd.DataFrame):
        return data[wanted].reset_index(drop=True)
    frame: pd.DataFrame = data.select(*wanted).to_pandas()
    return frame.reset_index(drop=True)


def _no_missing(frame: pd.DataFrame, column: str, argument: str) -> None:
    missing = frame[column].isna().to_numpy()
    if missing.any():
        raise FieldError(argument, f"column {column!r} is missing in {int(missing.sum()):,} row(s), first at row "
                         f"{int(np.argmax(missing))} (counting from 0)", hint="fill or remove those rows first")  # fmt: skip


def _arms(series: pd.Series, column: str, treated: Any) -> tuple[FloatArray, Any]:
    values = list(pd.unique(series))
    if len(values) == 1:
        raise FieldError("treatment", f"column {column!r} never varies: every row is {plain(values[0])!r}",
                         hint="an estimate compares treated and control units")  # fmt: skip
    if len(values) > 2:
        shown = ", ".join(repr(plain(v)) for v in values[:5])
        raise FieldError("treatment", f"column {column!r} has {len(values)} distinct values ({shown}); it needs two")
    if treated is None:
        if not all(isinstance(v, bool | int | float | np.number | np.bool_) and v in (0, 1) for v in values):
            raise FieldError("treated", f"column {column!r} holds {plain(values[0])!r} and {plain(values[1])!r}: "
                             "say which is the treatment with treated=...")  # fmt: skip
        treated = True if any(isinstance(v, bool | np.bool_) for v in values) else 1
    elif not any(v == treated for v in values):
        raise FieldError("treated", f"{treated!r} is not a value of column {column!r} "
                         f"({plain(values[0])!r}, {plain(values[1])!r})")  # fmt: skip
    return (series == treated).to_numpy(dtype=np.float64), treated


def _prepare(
    data: ir.Table | pd.DataFrame, *, outcome: str, treatment: str, covariates: Sequence[str] = (),
    cluster: str | None = None, block: str | None = None, treated: Any = None,
) -> _Design:  # fmt: skip
    if isinstance(covariates, str):
        covariates = (covariates,)
    covariates = tuple(covariates)
    for argument, name in (("outcome", outcome), ("treatment", treatment)):
        if name in covariates:
            raise FieldError("covariates", f"{name!r} is the {argument}; it cannot also be a covariate")
    if len(set(covariates)) < len(covariates):
        raise FieldError("covariates", f"a covariate is listed twice: {', '.join(covariates)}")
    needed = {"outcome": [outcome], "treatment": [treatment], "covariates": list(covariates),
              "cluster": [cluster] if cluster else [], "block": [block] if block else []}  # fmt: skip
    frame = _frame(data, needed)
    warns: list[str] = []
    _no_missing(frame, treatment, "treatment")
    y_raw = frame[outcome]
    if not (pd.api.types.is_numeric_dtype(y_raw) or pd.api.types.is_bool_dtype(y_raw)):
        example = next((plain(v) for v in y_raw if v is not None and v == v), None)
        raise FieldError("outcome", f"column {outcome!r} is not numeric (it holds {y_raw.dtype}, e.g. {example!r})",
                         hint="convert it to a number, or pick a numeric outcome")  # fmt: skip
    dropped = int(y_raw.isna().sum())
    if dropped:
        warns.append(f"{dropped:,} of {len(frame):,} rows had no {outcome!r} and were dropped.")
        frame = frame[y_raw.notna().to_numpy()].reset_index(drop=True)
    optional: list[tuple[str | None, str]] = [(c, "covariates") for c in covariates]
    for column, argument in [*optional, (cluster, "cluster"), (block, "block")]:
        if column:
            _no_missing(frame, column, argument)
    d, treated_value = _arms(frame[treatment], treatment, treated)
    n_treated, n_control = int(d.sum()), int(len(d) - d.sum())
    if min(n_treated, n_control) < 2:
        raise InputError(f"column {treatment!r}: {n_treated} treated and {n_control} control row(s) have an "
                         f"outcome; at least 2 in each arm are needed")  # fmt: skip
    if min(n_treated, n_control) < SMALL_ARM:
        warns.append(f"Only {n_treated} treated and {n_control} control units: intervals lean on approximations "
                     "that need more; randomisation inference is exact at any size.")  # fmt: skip
    y = frame[outcome].to_numpy(dtype=np.float64)
    if np.ptp(y) == 0:
        raise FieldError("outcome", f"column {outcome!r} never varies (every value is {y[0]:g})")
    x = np.empty((len(y), len(covariates)))
    for j, name in enumerate(covariates):
        col = frame[name]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            raise FieldError("covariates", f"column {name!r} is not numeric (it holds {col.dtype})",
                             hint="turn categories into 0/1 indicator columns")  # fmt: skip
        x[:, j] = col.to_numpy(dtype=np.float64)
        if np.ptp(x[:, j]) == 0:
            raise FieldError("covariates", f"covariate {name!r} is constant ({x[0, j]:g}): it adjusts for nothing")
    groups = blocks = None
    if cluster:
        codes, labels = pd.factorize(frame[cluster], sort=True)
        groups = codes.astype(np.int64)
        treated_share = np.bincount(groups, weights=d) / np.bincount(groups)
        mixed = np.flatnonzero((treated_share > 0) & (treated_share < 1))
        if len(mixed):
            raise FieldError("cluster", f"{treatment!r} varies within {len(mixed)} cluster(s) of {cluster!r} "
                             f"(first: {plain(labels[mixed[0]])!r}); a clustered design treats whole clusters",
                             hint="check the cluster column, or analyse without cluster=")  # fmt: skip
        g_t, g_c = int((treated_share == 1).sum()), int((treated_share == 0).sum())
        if min(g_t, g_c) < 2:
            raise FieldError("cluster", f"{g_t} treated and {g_c} control cluster(s) of {cluster!r}: at least 2 "
                             "in each arm are needed for any clustered interval")  # fmt: skip
    if block:
        blocks = pd.factorize(frame[block], sort=True)[0].astype(np.int64)
        if groups is not None and pd.Series(blocks).groupby(groups).nunique().max() > 1:
            raise FieldError("block", f"a cluster of {cluster!r} spans several blocks of {block!r}")
    return _Design(y, d, x, covariates, groups, blocks, treated_value, warns)


def _lin_matrix(design: _Design, treatment: str) -> tuple[FloatArray, list[str]]:
    """[1, d, x - x̄, d·(x - x̄)], checked for collinearity (a FieldError names the column)."""
    centred = design.covariates - design.covariates.mean(axis=0)
    X = np.column_stack([np.ones_like(design.y), design.d, centred, design.d[:, None] * centred])
    names = ["intercept", treatment, *design.names, *(f"{treatment}×{c}" for c in design.names)]
    if len(design.y) <= X.shape[1]:
        raise InputError(f"{len(design.y)} rows cannot fit {len(design.names)} covariates and their interactions "
                         f"with {treatment!r} ({X.shape[1]} coefficients)")  # fmt: skip
    scaled = X / np.linalg.norm(X, axis=0)
    if np.linalg.matrix_rank(scaled) < X.shape[1]:
        for j in range(2, X.shape[1]):
            if np.linalg.matrix_rank(scaled[:, : j + 1]) <= j:
                coef = np.linalg.lstsq(scaled[:, :j], scaled[:, j], rcond=None)[0]
                partners = [names[i] for i in np.flatnonzero(np.abs(coef) > 1e-8) if i > 0] or ["the intercept"]
                what = names[j]
                if j >= 2 + len(design.names):
                    what = f"the interaction {names[j]} (covariate {design.names[j - 2 - len(design.names)]!r} " \
                           "barely varies within one arm)"  # fmt: skip
                raise FieldError("covariates", f"{what} is collinear with {', '.join(partners)}: drop one of them")
    return X, names


# --------------------------------------------------------------------------------------------- methods
@dataclass(frozen=True)
class _Fit:
    effect: float
    se: float | None
    df: float | None
    p: float
    low: float
    high: float
    notes: tuple[str, ...] = ()


def _t_fit(effect: float, se: float, df: float, alpha: float, notes: tuple[str, ...] = ()) -> _Fit:
    if not (math.isfinite(se) and se > 0 and math.isfinite(df) and df > 0):
        raise InputError(f"the standard error cannot be computed (se {se}, df {df}): the outcome does not vary "
                         "enough within the arms or clusters")  # fmt: skip
    q = float(stats.t.ppf(1 - alpha / 2, df))
    p = float(2 * stats.t.sf(abs(effect / se), df))
    return _Fit(effect, se, df, p, effect - q * se, effect + q * se, notes)


def _hc2(X: FloatArray, design: _Design, alpha: float, welch: bool) -> _Fit:
    import statsmodels.api as sm

    fit = sm.OLS(design.y, X).fit(cov_type="HC2", use_t=True)
    effect, se = float(fit.params[1]), float(fit.bse[1])
    if not welch:
        return _t_fit(effect, se, float(fit.df_resid), alpha, ("degrees of freedom n - k, as statsmodels",))
    t, c = design.y[design.d == 1], design.y[design.d == 0]
    v_t, v_c = t.var(ddof=1) / len(t), c.var(ddof=1) / len(c)
    df = (v_t + v_c) ** 2 / (v_t**2 / (len(t) - 1) + v_c**2 / (len(c) - 1)) if v_t + v_c > 0 else math.nan
    return _t_fit(effect, se, df, alpha, ("Welch-Satterthwaite degrees of freedom, as Welch's t test",))


def _cr2_fit(X: FloatArray, design: _Design, alpha: float) -> _Fit:
    assert design.groups is not None
    beta, *_ = np.linalg.lstsq(X, design.y, rcond=None)
    variance, df, singular = cr2(X, design.y - X @ beta, design.groups, 1)
    if singular:
        design.warnings.append("A cluster's fitted values reproduce its outcomes (a covariate singles out "
                               "clusters): CR2 used the pseudo-inverse adjustment, as clubSandwich does.")  # fmt: skip
    return _t_fit(float(beta[1]), math.sqrt(variance), df, alpha)


def _cr1_fit(X: FloatArray, design: _Design, alpha: float) -> _Fit:
    import pyfixest as pf

    assert design.groups is not None
    regressors = [f"x{j}" for j in range(1, X.shape[1])]
    frame = pd.DataFrame(X[:, 1:], columns=regressors).assign(y=design.y, g=design.groups)
    with warnings.catch_warnings():
        # pyfixest 0.60 passes inplace= to pandas 3.1, which only deprecates it
        warnings.filterwarnings("ignore", message="The inplace keyword", category=pd.errors.Pandas4Warning)
        fit = pf.feols(f"y ~ {' + '.join(regressors)}", data=frame, vcov={"CRV1": "g"})
        effect, se, p = float(fit.coef()["x1"]), float(fit.se()["x1"]), float(fit.pvalue()["x1"])
        low, high = (float(v) for v in fit.confint(alpha=alpha).loc["x1"])
    return _Fit(effect, se, float(int(design.groups.max())), p, low, high, ("pyfixest CRV1, t with G - 1 df",))


def _wild_fit(X: FloatArray, design: _Design, alpha: float, reps: int, seed: int) -> _Fit:
    assert design.groups is not None
    result = wild_restricted(X, design.y, design.groups, 1, reps=reps, seed=seed, alpha=alpha)
    effect = float(np.linalg.lstsq(X, design.y, rcond=None)[0][1])
    notes = (f"{reps:,} Webb-weight draws (seed {seed}), null imposed; interval by test inversion",)
    if not (math.isfinite(result.ci_low) and math.isfinite(result.ci_high)):
        design.warnings.append("The wild bootstrap interval is unbounded: too few clusters to reject any effect.")
    return _Fit(effect, None, None, result.p_value, result.ci_low, result.ci_high, notes)


def _regression(
    data: ir.Table | pd.DataFrame, *, estimator: str, outcome: str, treatment: str, covariates: Sequence[str],
    cluster: str | None, block: str | None, se: str, alpha: float, treated: Any, reps: int, seed: int,
) -> Estimate:  # fmt: skip
    _check_options(estimator, se, alpha, reps, seed)
    if estimator == "difference_in_means" and covariates:
        raise FieldError("covariates", "difference_in_means adjusts for no covariates: use estimator='lin'")
    if estimator == "lin" and not covariates and not block:
        raise FieldError("covariates", "lin needs at least one covariate (without any, use difference_in_means)")
    if se == "HC2" and cluster:
        raise FieldError("se", "HC2 ignores the clusters: use CR2, wild, CR1 or auto")
    if se in ("CR2", "wild", "CR1") and not cluster:
        raise FieldError("se", f"{se} errors need cluster=<column>")
    design = _prepare(data, outcome=outcome, treatment=treatment, covariates=covariates, cluster=cluster,
                      block=block, treated=treated)  # fmt: skip
    if block and estimator == "lin":
        codes = pd.factorize(pd.Series(design.blocks))[0]
        extra = np.eye(codes.max() + 1)[codes][:, 1:]
        design.covariates = np.column_stack([design.covariates, extra])
        design.names = (*design.names, *(f"{block}[{k}]" for k in range(1, codes.max() + 1)))
    elif block:
        design.warnings.append(f"Blocks of {block!r} are not used by the difference in means; estimator='lin' "
                               "with block= adjusts for them.")  # fmt: skip
    if estimator == "lin":
        X, _ = _lin_matrix(design, treatment)
    else:
        X = np.column_stack([np.ones_like(design.y), design.d])
    se_type = ("CR2" if cluster else "HC2") if se == "auto" else se
    if se_type == "HC2":
        fit = _hc2(X, design, alpha, welch=estimator == "difference_in_means")
    elif se_type == "CR2":
        fit = _cr2_fit(X, design, alpha)
    elif se_type == "CR1":
        fit = _cr1_fit(X, design, alpha)
    else:
        fit = _wild_fit(X, design, alpha, reps, seed)
    g = design.n_clusters
    if g is not None and g < FEW_CLUSTERS:
        design.warnings.append(_few_clusters(g, se, se_type))
    spec = {"estimator": estimator, "outcome": outcome, "treatment": treatment, "covariates": tuple(covariates),
            "cluster": cluster, "block": block, "se": se, "alpha": alpha, "treated": plain(treated), "reps": reps,
            "seed": seed}  # fmt: skip
    return _result(design, fit, spec, se_type)


def _few_clusters(g: int, se: str, se_type: str) -> str:
    """The warning for fewer than FEW_CLUSTERS clusters: which method, and why (ridp's coverage simulation)."""
    evidence = (f"in ridp's simulation of 8 clusters (ICC 0.1, log-normal outcome) 95% intervals covered the effect "
                f"{COVERAGE['CR2']:.1%} of the time with CR2, {COVERAGE['wild']:.1%} with the wild bootstrap and "
                f"{COVERAGE['CR1']:.1%} with CR1")  # fmt: skip
    if se_type == "CR2":
        why = "chosen by se='auto' because" if se == "auto" else "as asked; a good choice, since"
        return (f"Only {g} clusters: the interval uses CR2 errors with Bell-McCaffrey degrees of freedom ({why} "
                f"ordinary clustered errors are too small with few clusters): {evidence}.")  # fmt: skip
    if se_type == "wild":
        return (f"Only {g} clusters: the interval uses the restricted wild cluster bootstrap, as asked; {evidence}, "
                "so se='auto' (CR2) is the default.")  # fmt: skip
    return f"Only {g} clusters: CR1 errors are too small with few clusters; {evidence}; se='auto' uses CR2."


def _result(design: _Design, fit: _Fit, spec: Mapping[str, Any], se_type: str) -> Estimate:
    return Estimate(
        outcome=spec["outcome"], treatment=spec["treatment"], estimator=spec["estimator"], se_type=se_type,
        effect=fit.effect, se=fit.se, ci_low=fit.low, ci_high=fit.high, p_value=fit.p, n=len(design.y),
        n_treated=int(design.d.sum()), n_clusters=design.n_clusters, df=fit.df, alpha=float(spec["alpha"]),
        control_mean=float(design.y[design.d == 0].mean()), treated_mean=float(design.y[design.d == 1].mean()),
        covariates=tuple(spec["covariates"]), cluster=spec["cluster"], spec=dict(spec),
        warnings=tuple(design.warnings), notes=fit.notes,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------- public calls
def difference_in_means(
    data: ir.Table | pd.DataFrame, *, outcome: str, treatment: str, cluster: str | None = None, se: SE = "auto",
    alpha: float = 0.05, treated: Any = None, block: str | None = None, reps: int = 9999, seed: int = 0,
) -> Estimate:  # fmt: skip
    """Difference in means of ``outcome`` between the arms of ``treatment`` (OLS of the outcome on it).

    ``se``: ``auto`` (HC2, or CR2 with ``cluster``), ``HC2``, ``CR2``, ``wild`` (``reps`` draws from ``seed``)
    or ``CR1``. A treatment that is not 0/1 or boolean needs ``treated=<the treated value>``.
    """
    return _regression(data, estimator="difference_in_means", outcome=outcome, treatment=treatment, covariates=(),
                       cluster=cluster, block=block, se=se, alpha=alpha, treated=treated, reps=reps, seed=seed)  # fmt: skip


def lin(
    data: ir.Table | pd.DataFrame, *, outcome: str, treatment: str, covariates: Sequence[str],
    cluster: str | None = None, se: SE = "auto", alpha: float = 0.05, treated: Any = None,
    block: str | None = None, reps: int = 9999, seed: int = 0,
) -> Estimate:  # fmt: skip
    """Lin's (2013) covariate-adjusted estimate: centred ``covariates`` and their interactions with the
    treatment. ``block`` adds the block's indicators as covariates."""
    return _regression(data, estimator="lin", outcome=outcome, treatment=treatment, covariates=covariates,
                       cluster=cluster, block=block, se=se, alpha=alpha, treated=treated, reps=reps, seed=seed)  # fmt: skip


def randomisation_inference(
    data: ir.Table | pd.DataFrame, *, outcome: str, treatment: str, block: str | None = None,
    cluster: str | None = None, reps: int = 10000, seed: int = 0, alpha: float = 0.05, treated: Any = None,
) -> Estimate:  # fmt: skip
    """The difference in means with its randomisation p-value (sharp null of no effect) and interval.

    Assignments are redrawn as the design made them: whole clusters, within blocks, the observed number treated
    in each block; every one when there are at most ``reps``, else ``reps`` random ones from ``seed``.
    """
    _check_options("randomisation", "auto", alpha, reps, seed)
    design = _prepare(data, outcome=outcome, treatment=treatment, cluster=cluster, block=block, treated=treated)
    units = design.groups if design.groups is not None else np.arange(len(design.y), dtype=np.int64)
    totals = np.bincount(units, weights=design.y).astype(np.float64)
    sizes = np.bincount(units).astype(np.float64)
    arm = (np.bincount(units, weights=design.d) > 0).astype(np.int64)
    first = np.unique(units, return_index=True)[1]
    blocks = design.blocks[first] if design.blocks is not None else np.zeros(len(totals), dtype=np.int64)
    result = randomisation_test(totals, sizes, arm, blocks, reps=reps, seed=seed, alpha=alpha)
    possible = count_assignments(blocks, arm)
    if result.exact:
        note = f"exact: all {possible:,} possible assignments enumerated"
    else:
        many = f"{possible:,}" if possible < 10**12 else f"about 10^{len(str(possible)) - 1}"
        note = f"{reps:,} random assignments (seed {seed}) of {many} possible"
    if not (math.isfinite(result.ci_low) and math.isfinite(result.ci_high)):
        design.warnings.append(f"The interval is unbounded: with {possible:,} possible assignments the test cannot "
                               f"reject every large effect at alpha {alpha:g}.")  # fmt: skip
    fit = _Fit(result.effect, None, None, result.p_value, result.ci_low, result.ci_high, (note,))
    spec = {"estimator": "randomisation", "outcome": outcome, "treatment": treatment, "covariates": (),
            "cluster": cluster, "block": block, "se": "auto", "alpha": alpha, "treated": plain(treated),
            "reps": reps, "seed": seed}  # fmt: skip
    return _result(design, fit, spec, "randomisation")


def estimate(
    data: ir.Table | pd.DataFrame, *, outcome: str, treatment: str, estimator: Estimator = "difference_in_means",
    covariates: Sequence[str] = (), cluster: str | None = None, se: SE = "auto", alpha: float = 0.05,
    treated: Any = None, reps: int = 9999, seed: int = 0, block: str | None = None,
) -> Estimate:  # fmt: skip
    """One estimate, by name: ``difference_in_means``, ``lin`` or ``randomisation``. ``estimate(data, **e.spec)``
    reruns an estimate ``e``."""
    _check_options(estimator, se, alpha, reps, seed)
    if estimator == "randomisation":
        if se != "auto":
            raise FieldError("se", "randomisation inference has no standard error: leave se='auto'")
        if covariates:
            raise FieldError("covariates", "randomisation inference here uses the plain difference in means")
        return randomisation_inference(data, outcome=outcome, treatment=treatment, block=block, cluster=cluster,
                                       reps=reps, seed=seed, alpha=alpha, treated=treated)  # fmt: skip
    return _regression(data, estimator=estimator, outcome=outcome, treatment=treatment, covariates=covariates,
                       cluster=cluster, block=block, se=se, alpha=alpha, treated=treated, reps=reps, seed=seed)  # fmt: skip


# ------------------------------------------------------------------------------------ several outcomes
def adjust(estimates: Sequence[Estimate], correction: Correction = "holm") -> tuple[Estimate, ...]:
    """The estimates in the same order with ``p_adjusted`` for ``correction`` across them (family-wise error)."""
    if correction not in get_args(Correction):
        raise FieldError("correction", f"{correction!r} is one of {', '.join(get_args(Correction))}")
    p = np.array([e.p_value for e in estimates], dtype=np.float64)
    if np.isnan(p).any():
        raise InputError("an estimate has no p-value; cannot adjust")
    m = len(p)
    if correction == "holm":
        order = np.argsort(p, kind="stable")
        stepped = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
        adjusted = np.empty(m)
        adjusted[order] = stepped
    elif correction == "bonferroni":
        adjusted = np.minimum(1.0, m * p)
    else:
        adjusted = p
    return tuple(
        replace(e, p_adjusted=float(a), correction=correction) for e, a in zip(estimates, adjusted, strict=True)
    )


def holm(estimates: Sequence[Estimate]) -> tuple[Estimate, ...]:
    """Holm's step-down adjustment across several outcomes' estimates (same order)."""
    return adjust(estimates, "holm")
