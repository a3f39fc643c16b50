"""Power and minimum detectable effect of a pilot, by formula and by simulation on the city's own history.

A pilot with too little power wastes a year: it cannot tell a real improvement from noise. So before it
starts, ``power_study`` answers "with this many units (or neighbourhoods), how likely are we to detect an
effect this big?" twice: by formula, and by resampling the city's own catalogued history and running the
planned estimator on it 10,000 times. When the power at the planned effect and size is below the target the
study says so in words (``adequate`` is False and a warning says what would suffice).

Formulas (two-sided test at ``alpha``; ``p`` the share treated; ``σ`` the outcome's SD):

* Individual randomisation of ``n`` units: ``SE = σ / sqrt(n·p·(1 - p))``; power from the noncentral t
  with ``n - 2`` degrees of freedom and noncentrality ``effect / SE`` (Cohen 1988, ch. 2; statsmodels'
  ``TTestIndPower``). The t correction is exact, not just a small-sample nicety, for the planned estimator
  on a balanced design with a normal outcome: with equal arms HC2's variance ``s1²/n1 + s0²/n0`` equals the
  pooled one, so the HC2 t statistic *is* Student's t (MacKinnon & White 1985).
* Cluster randomisation of ``G`` clusters of mean size ``m̄``: the same with ``σ²`` multiplied by the design
  effect ``DE = 1 + ((cv² + 1)·m̄ - 1)·ICC`` (Eldridge, Ashby & Kerry 2006, Int J Epidemiol 35:1292-1300;
  with equal sizes, ``cv = 0``, Donner & Klar's ``1 + (m̄ - 1)·ICC``), ``cv`` the coefficient of variation of
  the cluster sizes, and t with ``G - 2`` degrees of freedom (Hayes & Moulton 2017, ch. 7), which with few
  clusters matters. With equal sizes and arms the planned CR2 test equals the t test on cluster means, for
  which this power is again exact under normality.

Simulation (:mod:`ridp.evaluation._powersim`): for each size, draw units (or whole clusters with their units)
from the history with replacement, treat ``share_treated`` of them (complete randomisation, of clusters
when clustered), add the effect to the treated outcomes, and run the planned estimator: the difference in
means with HC2 standard errors and t on ``n - 2`` df, or with CR2 standard errors and t on Bell-McCaffrey's
df (Bell & McCaffrey 2002; ``G - 2`` with equal cluster sizes and arms; ``df="residual"`` for ``G - 2``).
The rejection share is the power, with its Monte Carlo SE. The formula curve uses the history's SD and its
one-way ANOVA ICC (:func:`anova_icc`).

Examples
--------
>>> round(power(1.0, sd=2.0, n=128), 3)
0.801
>>> round(mde(sd=2.0, n=128), 3)
0.998
>>> import numpy as np, pandas as pd
>>> history = pd.DataFrame({"days": np.random.default_rng(0).gamma(2.0, 2.0, 1000)})
>>> study = power_study(history, outcome="days", effects=[0.5, 1.0, 2.0], n_units=[40, 160],
...                     planned_effect=1.0, planned_size=40, draws=2000, effect_unit="day")
>>> study.adequate, study.warnings[0][:22]
(False, 'too little power: 0.23')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal, get_args

import altair as alt
import numpy as np
import pandas as pd
from scipy import optimize, stats

from ridp.analysis._values import plain
from ridp.errors import FieldError
from ridp.evaluation._powersim import DfRule, Draws, History, anova_icc, cluster_draws, individual_draws, read_history

__all__ = ["PowerPoint", "PowerStudy", "anova_icc", "mde", "power", "power_study", "simulate_power"]

Method = Literal["formula", "simulation"]
ChartBy = Literal["effect", "n"]
MIN_DRAWS: Final = 100
DEFAULT_CLUSTERS: Final = (4, 6, 8, 10, 12, 16, 20, 30, 40)
#: Without effects named, these multiples of the formula's minimum detectable effect at the planned size.
DEFAULT_EFFECTS: Final = (0.5, 0.75, 1.0, 1.5, 2.0)
Df = Literal["auto", "residual", "bell-mccaffrey"]
HC2_LABEL: Final = "difference in means, HC2 standard errors, t with n - 2 degrees of freedom"
_LABELS: Final = {
    (False, "residual"): HC2_LABEL,
    (False, "bell-mccaffrey"): "difference in means, HC2 standard errors, t with Bell-McCaffrey degrees of freedom",
    (True, "residual"): "difference in means, CR2 standard errors, t with G - 2 degrees of freedom",
    (True, "bell-mccaffrey"): "difference in means, CR2 standard errors, t with Bell-McCaffrey degrees of freedom",
}


# --- the formula ------------------------------------------------------------------------------------------


def _fraction(name: str, value: float, *, low: float = 0.0, high: float = 1.0) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not low < value < high:
        raise FieldError(name, f"is {value!r}; it must be a number strictly between {low:g} and {high:g}")
    return float(value)


def _positive(name: str, value: float | None) -> float:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise FieldError(name, f"is {value!r}; it must be a positive number")
    return float(value)


def _design(
    sd: float,
    n: float | None,
    n_clusters: float | None,
    cluster_size: float | None,
    icc: float,
    cv: float,
    share_treated: float,
    alpha: float,
) -> tuple[float, float]:
    """Validate a design (in one place) and give its SE for a unit effect and the test's degrees of freedom."""
    sd = _positive("sd", sd)
    p = _fraction("share_treated", share_treated)
    _fraction("alpha", alpha)
    if isinstance(icc, bool) or not isinstance(icc, int | float) or not 0.0 <= icc < 1.0:
        raise FieldError("icc", f"is {icc!r}; an intra-cluster correlation is at least 0 and below 1")
    if isinstance(cv, bool) or not isinstance(cv, int | float) or not 0.0 <= cv < math.inf:
        raise FieldError("cv", f"is {cv!r}; the cluster sizes' coefficient of variation is 0 or more")
    if n_clusters is None:
        if icc or cv or cluster_size is not None:
            raise FieldError("n_clusters", "icc, cv and cluster_size describe clusters: give n_clusters too")
        units = _positive("n", n)
        if min(units * p, units * (1 - p)) < 2:
            raise FieldError("n", f"{units:g} units at share_treated {p:g} leave an arm with fewer than 2 units")
        return sd / math.sqrt(units * p * (1 - p)), units - 2
    g = _positive("n_clusters", n_clusters)
    if min(g * p, g * (1 - p)) < 2:
        raise FieldError("n_clusters", f"{g:g} clusters at share_treated {p:g} leave an arm with fewer than 2")
    if cluster_size is None:
        cluster_size = _positive("n", n) / g
    elif n is not None and not math.isclose(n, g * cluster_size, rel_tol=1e-9):
        raise FieldError("n", f"is {n:g}, but {g:g} clusters of {cluster_size:g} units are {g * cluster_size:g}")
    m = _positive("cluster_size", cluster_size)
    effect = 1.0 + ((cv * cv + 1.0) * m - 1.0) * icc
    return sd * math.sqrt(effect / (g * m * p * (1 - p))), g - 2


def _t_power(effect: float, se: float, df: float, alpha: float) -> float:
    crit = stats.t.ppf(1 - alpha / 2, df)
    nc = abs(effect) / se
    # Both tails as survival functions: scipy's nct.cdf(-crit) gives NaN far out, nct.sf(crit, -nc) does not.
    return float(stats.nct.sf(crit, df, nc) + stats.nct.sf(crit, df, -nc))


def power(
    effect: float,
    *,
    sd: float,
    n: int | None = None,
    n_clusters: int | None = None,
    cluster_size: float | None = None,
    icc: float = 0.0,
    cv: float = 0.0,
    share_treated: float = 0.5,
    alpha: float = 0.05,
) -> float:
    """The power of a two-sided test at ``alpha`` to detect ``effect`` (see the module for the formulas).

    Individual: give ``n`` units. Clustered: give ``n_clusters`` and ``cluster_size`` (or ``n``, the total
    units, from which the mean cluster size follows), with ``icc`` and the sizes' ``cv``.

    >>> round(power(0.5, sd=1.0, n_clusters=20, cluster_size=30, icc=0.05), 3)
    0.959
    """
    se, df = _design(sd, n, n_clusters, cluster_size, icc, cv, share_treated, alpha)
    return _t_power(float(effect), se, df, alpha)


def mde(
    *,
    sd: float,
    n: int | None = None,
    n_clusters: int | None = None,
    cluster_size: float | None = None,
    icc: float = 0.0,
    cv: float = 0.0,
    share_treated: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """The minimum detectable effect: the (positive) effect whose power by :func:`power` equals ``power``."""
    target = _fraction("power", power)
    if target <= alpha:
        raise FieldError("power", f"is {target:g}; a test at alpha {alpha:g} already has that power with no effect")
    se, df = _design(sd, n, n_clusters, cluster_size, icc, cv, share_treated, alpha)
    return _solve_effect(se, df, alpha, target)


def _solve_effect(se: float, df: float, alpha: float, target: float) -> float:
    high = 2 * (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(target)) * se
    while _t_power(high, se, df, alpha) < target:
        high *= 2
    return float(optimize.brentq(lambda e: _t_power(e, se, df, alpha) - target, 0.0, high, xtol=1e-12 * high))


def _size_needed(effect: float, study: PowerStudy) -> float:
    """Units (individual) or clusters of the history's mean size (clustered) that reach the target by formula."""
    p = study.share_treated

    def gap(size: float) -> float:
        if study.cluster is None:
            se, df = _design(study.sd, size, None, None, 0.0, 0.0, p, study.alpha)
        else:
            icc, cv = study.icc or 0.0, study.cv or 0.0
            se, df = _design(study.sd, None, size, study.cluster_size, icc, cv, p, study.alpha)
        return _t_power(effect, se, df, study.alpha) - study.target

    low = max(4.0, 2 / p, 2 / (1 - p)) * (1 + 1e-9)
    if gap(low) >= 0:
        return low
    high = 2 * low
    while gap(high) < 0:
        if high > 1e12:
            return math.inf
        high *= 2
    return float(optimize.brentq(gap, low, high, xtol=1e-6))


# --- the result ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PowerPoint:
    """The power at one effect and one size, by formula or by simulation (with its Monte Carlo SE)."""

    effect: float
    n_units: int
    n_clusters: int | None
    power: float
    mc_se: float | None
    method: Method

    def to_dict(self) -> dict[str, Any]:
        return {k: plain(getattr(self, k)) for k in ("effect", "n_units", "n_clusters", "power", "mc_se", "method")}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PowerPoint:
        method = str(d["method"])
        if method not in get_args(Method):
            raise FieldError("method", f"is {method!r}; formula or simulation")
        return cls(
            effect=float(d["effect"]),
            n_units=int(d["n_units"]),
            n_clusters=None if d.get("n_clusters") is None else int(d["n_clusters"]),
            power=float(d["power"]),
            mc_se=None if d.get("mc_se") is None else float(d["mc_se"]),
            method=method,  # type: ignore[arg-type]
        )


def _num(x: float, unit: str | None = None) -> str:
    """Three significant digits, with a decimal below 10 (1.0 days, not 1 days)."""
    text = f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"
    if 0 < abs(x) < 10 and "." not in text and "e" not in text:
        text += ".0"
    return f"{text} {unit}" if unit else text


def _about(x: float) -> int:
    """Rounded up to two significant digits: 127 -> 130."""
    whole = math.ceil(x - 1e-9)
    step = 10 ** max(0, len(str(whole)) - 2)
    return int(math.ceil(whole / step) * step)


@dataclass(frozen=True)
class PowerStudy:
    """Power over an effect × size grid, by simulation on a history (and by formula with ``power_study``).

    Sizes are units (individual) or clusters (clustered; ``n_units`` is then about ``G · cluster_size``).
    ``mde_formula`` and ``mde_simulated`` are magnitudes at the planned size; ``mde_simulated`` is found
    exactly on the simulated draws (the simulated power curve crosses the target there). ``planned_power``
    is the simulated power at the planned effect and size; ``adequate`` is False, with a warning, when it is
    below ``target``.
    """

    outcome: str
    cluster: str | None
    sd: float
    icc: float | None
    history_n: int
    draws: int
    alpha: float
    target: float
    points: tuple[PowerPoint, ...]
    mde_formula: float
    mde_simulated: float | None
    planned_effect: float | None
    planned_power: float | None
    adequate: bool
    warnings: tuple[str, ...]
    spec: Mapping[str, Any]
    planned_size: int = 0
    share_treated: float = 0.5
    cluster_size: float | None = None
    cv: float | None = None
    history_clusters: int | None = None
    effect_unit: str | None = None
    estimator: str = HC2_LABEL
    power_formula: float | None = None  # the formula's power at the planned effect and size
    size_needed: float | None = None  # by formula: units (or clusters) that reach the target

    @property
    def size_word(self) -> str:
        return "units" if self.cluster is None else "clusters"

    def _size(self, p: PowerPoint) -> int:
        return p.n_units if self.cluster is None else int(p.n_clusters or 0)

    def power_at(self, effect: float, size: int, method: Method = "simulation") -> float | None:
        """The power at one point of the grid (None when it was not computed)."""
        for p in self.points:
            if p.method == method and p.effect == effect and self._size(p) == size:
                return p.power
        return None

    def summary(self) -> str:
        u, sw = self.effect_unit, self.size_word
        design = "individual randomisation" if self.cluster is None else f"randomisation of {self.cluster!r} clusters"
        history = f"{self.history_n:,} units" + (
            f" in {self.history_clusters:,} clusters (mean size {self.cluster_size:.1f}, CV {self.cv:.2f}, "
            f"ICC {self.icc:.3f})"
            if self.cluster is not None
            else ""
        )
        lines = [
            f"Power for {self.outcome!r}: {design}, {self.share_treated:.0%} treated, two-sided test at alpha "
            f"{self.alpha:g}; planned estimator: {self.estimator}.",
            f"History: {history}, SD {_num(self.sd, u)}; {self.draws:,} simulated draws per size "
            f"(seed {self.spec.get('seed')}).",
        ]
        if self.planned_effect is not None and self.planned_power is not None:
            mc = math.sqrt(self.planned_power * (1 - self.planned_power) / self.draws)
            formula = "" if self.power_formula is None else f", {self.power_formula:.2f} by formula"
            lines.append(
                f"Planned: an effect of {_num(self.planned_effect, u)} with {self.planned_size:,} {sw}: power "
                f"{self.planned_power:.2f} by simulation (MC SE {mc:.3f}){formula}; target {self.target:.2f}: "
                + ("adequate." if self.adequate else "TOO LITTLE POWER.")
            )
        simulated = "" if self.mde_simulated is None else f", {_num(self.mde_simulated, u)} by simulation"
        lines.append(
            f"Minimum detectable effect at {self.target:.0%} power with {self.planned_size:,} {sw}: "
            f"{_num(self.mde_formula, u)} by formula{simulated}."
        )
        if self.planned_effect is not None and len({self._size(p) for p in self.points}) > 1:
            reach = sorted(
                self._size(p)
                for p in self.points
                if p.method == "simulation" and p.effect == self.planned_effect and p.power >= self.target
            )
            default = (
                " (the largest studied; pass planned_size= to choose)" if self.spec.get("planned_size") is None else ""
            )
            lines.append(
                f"Planned size: {self.planned_size:,} {sw}{default}. At the planned effect the simulated power reaches "
                f"{self.target:.2f} "
                + (f"from {reach[0]:,} {sw} of the sizes studied." if reach else "at none of the sizes studied.")
            )
        if self.size_needed is not None and math.isfinite(self.size_needed):
            what = "units" if self.cluster is None else f"clusters of about {self.cluster_size:.0f} units"
            lines.append(
                f"By formula (the history's SD{'' if self.cluster is None else ' and ICC'}), {self.target:.2f} "
                f"at the planned effect needs about {_about(self.size_needed):,} {what}."
            )
        lines += [f"Warning: {w}" for w in self.warnings]
        frame = self.tidy()
        if not frame.empty:
            frame["size"] = frame["n_units"] if self.cluster is None else frame["n_clusters"]
            grid = frame.pivot_table(index="size", columns=["effect", "method"], values="power")
            table = pd.DataFrame(index=grid.index.rename(sw))
            for e in sorted(set(frame["effect"])):
                cells = [grid[(e, m)] if (e, m) in grid.columns else None for m in ("simulation", "formula")]
                sim, form = (pd.Series("", index=grid.index) if c is None else c.map("{:.3f}".format) for c in cells)
                table[_num(e, self.effect_unit)] = sim + np.where(form != "", " / " + form, "")
            label = "simulation / formula" if (frame["method"] == "formula").any() else "simulation"
            lines += [f"Power ({label}) by size (rows) and effect (columns):", table.to_string()]
        return "\n".join(lines)

    def tidy(self) -> pd.DataFrame:
        columns = ["method", "effect", "n_units", "n_clusters", "power", "mc_se"]
        rows = [p.to_dict() for p in self.points]
        frame = pd.DataFrame(rows, columns=columns)
        return frame.astype({"n_clusters": "Int64", "mc_se": "Float64"})

    def chart(self, by: ChartBy = "effect") -> alt.LayerChart:
        """Power curves with the target as a rule, simulation solid and formula dashed: over effect size, one
        line per size (``by="effect"``), or over size, one line per effect (``by="n"``)."""
        if by not in get_args(ChartBy):
            raise FieldError("by", f"is {by!r}; effect or n")
        frame = self.tidy()
        frame["size"] = frame["n_units"] if self.cluster is None else frame["n_clusters"].astype(float)
        frame["mc_se"] = frame["mc_se"].astype(float)
        size_title = "Units" if self.cluster is None else "Clusters"
        effect_title = f"Effect ({self.effect_unit})" if self.effect_unit else "Effect"
        x, line = ("effect", "size") if by == "effect" else ("size", "effect")
        titles = {"effect": effect_title, "size": size_title}
        base = alt.Chart(frame).encode(
            x=alt.X(f"{x}:Q", title=titles[x]),
            y=alt.Y("power:Q", title="Power", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(f"{line}:O", title=titles[line]),
            tooltip=["method:N", "effect:Q", "n_units:Q", "n_clusters:Q", "power:Q", "mc_se:Q"],
        )
        dash = alt.StrokeDash(
            "method:N",
            title="Method",
            legend=alt.Legend(symbolType="stroke", symbolStrokeColor="#555"),
            scale=alt.Scale(domain=["simulation", "formula"], range=[[1, 0], [6, 4]]),
        )
        # Points on the simulated curve only: that is where the draws were made.
        points = base.mark_point(filled=True, size=30).transform_filter(alt.datum.method == "simulation")
        lines = base.mark_line().encode(strokeDash=dash, detail="method:N")
        rule = alt.Chart(pd.DataFrame({"target": [self.target]})).mark_rule(color="gray").encode(y="target:Q")
        title = f"Power to detect an effect on {self.outcome} (target {self.target:.0%})"
        return alt.LayerChart(layer=[lines, points, rule], title=title)

    def to_dict(self) -> dict[str, Any]:
        out = {name: plain(getattr(self, name)) for name in self.__dataclass_fields__}
        spec = {k: [plain(v) for v in x] if isinstance(x, list | tuple) else plain(x) for k, x in self.spec.items()}
        return out | {"points": [p.to_dict() for p in self.points], "warnings": list(self.warnings), "spec": spec}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PowerStudy:
        kw = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        for names, kind in ((_FLOATS, float), (_INTS, int), (_TEXTS, str)):
            kw |= {k: None if kw.get(k) is None else kind(kw[k]) for k in names if k in kw}
        points = tuple(PowerPoint.from_dict(p) for p in d["points"])
        warnings = tuple(str(w) for w in d.get("warnings", ()))
        return cls(
            **kw
            | {"points": points, "warnings": warnings, "spec": dict(d.get("spec", {})), "adequate": bool(d["adequate"])}
        )


_FLOATS: Final = (
    "sd",
    "icc",
    "alpha",
    "target",
    "mde_formula",
    "mde_simulated",
    "planned_effect",
    "planned_power",
    "share_treated",
    "cluster_size",
    "cv",
    "power_formula",
    "size_needed",
)
_INTS: Final = ("history_n", "draws", "planned_size", "history_clusters")
_TEXTS: Final = ("outcome", "cluster", "effect_unit", "estimator")


# --- the entry points ---------------------------------------------------------------------------------------


def _sizes(name: str, given: Sequence[int] | None, default: Sequence[int], p: float, word: str) -> list[int]:
    sizes = list(default if given is None else given)
    if not sizes:
        raise FieldError(name, "is empty; give at least one size")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 1:
            raise FieldError(name, f"has {s!r}; sizes are whole numbers of {word}")
        treated = math.floor(p * s + 0.5)
        if min(treated, s - treated) < 2:
            raise FieldError(name, f"{s} {word} give {treated} treated and {s - treated} control; each arm needs 2")
    return sorted({int(s) for s in sizes})


def simulate_power(
    history: Any,
    *,
    outcome: str,
    effects: Sequence[float] | None = None,
    n_units: Sequence[int] | None = None,
    cluster: str | None = None,
    n_clusters: Sequence[int] | None = None,
    share_treated: float = 0.5,
    draws: int = 10_000,
    alpha: float = 0.05,
    target: float = 0.8,
    planned_effect: float | None = None,
    planned_size: int | None = None,
    seed: int = 0,
    effect_unit: str | None = None,
    df: Df = "auto",
) -> PowerStudy:
    """Power by simulation on ``history`` (an Ibis table or DataFrame) over ``effects`` × sizes (no ``effects``:
    half to twice the formula's minimum detectable effect at the planned size).

    Sizes are ``n_units`` (individual; default 20, 40, 80, ... up to the history's size or 2,560) or, with
    ``cluster``, ``n_clusters`` (default 4 to 40). ``planned_size`` (units or clusters) defaults to the only
    size, or the largest; ``planned_effect`` to the only effect. Both join the grid if missing from it.

    ``df`` is the planned test's degrees of freedom: ``auto`` is ``n - 2`` for units (as statsmodels' and
    estimatr's HC2 t tests) and Bell-McCaffrey's for clusters (as ``estimate(..., se="auto")`` with CR2);
    ``residual`` is ``n - 2`` or ``G - 2``. With unequal cluster sizes CR2 with ``G - 2`` df rejects too
    often (about 7-8 % at alpha 0.05 with 4-12 clusters and a size CV of 0.5), so its "power" flatters.
    """
    return _study(**locals(), with_formula=False)


def power_study(
    history: Any,
    *,
    outcome: str,
    effects: Sequence[float] | None = None,
    n_units: Sequence[int] | None = None,
    cluster: str | None = None,
    n_clusters: Sequence[int] | None = None,
    share_treated: float = 0.5,
    draws: int = 10_000,
    alpha: float = 0.05,
    target: float = 0.8,
    planned_effect: float | None = None,
    planned_size: int | None = None,
    seed: int = 0,
    effect_unit: str | None = None,
    df: Df = "auto",
) -> PowerStudy:
    """:func:`simulate_power` plus the formula's curve from the history's SD (and ICC) on the same grid."""
    return _study(**locals(), with_formula=True)


def _study(history: Any, *, with_formula: bool, **kw: Any) -> PowerStudy:
    outcome, cluster = str(kw["outcome"]), kw["cluster"]
    p, alpha, target = (_fraction(k, kw[k]) for k in ("share_treated", "alpha", "target"))
    if target <= alpha:
        raise FieldError("target", f"is {target:g}; it must be above alpha ({alpha:g})")
    draws, seed = kw["draws"], kw["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise FieldError("seed", f"is {seed!r}; a seed is a whole number, 0 or more")
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < MIN_DRAWS:
        raise FieldError("draws", f"is {draws!r}; at least {MIN_DRAWS} draws are needed (10,000 by default)")
    if kw["df"] not in get_args(Df):
        raise FieldError("df", f"is {kw['df']!r}; one of {', '.join(get_args(Df))}")
    rule: DfRule = kw["df"] if kw["df"] != "auto" else "residual" if cluster is None else "bell-mccaffrey"
    if cluster is None and kw["n_clusters"] is not None:
        raise FieldError("n_clusters", "sizes in clusters need cluster=<the history's cluster column>")
    if cluster is not None and kw["n_units"] is not None:
        raise FieldError("n_units", "with cluster=..., give the sizes as n_clusters")
    given = kw["effects"]  # None or empty: a grid around the formula's MDE at the planned size (below)
    effects = [float(e) for e in given or ()]
    if not all(math.isfinite(e) for e in effects):
        raise FieldError("effects", f"is {given!r}; give finite effect sizes")
    planned_effect = kw["planned_effect"]
    if planned_effect is None and len(set(effects)) == 1:
        planned_effect = effects[0]
    if planned_effect is not None:
        planned_effect = float(planned_effect)
        if planned_effect == 0 or not math.isfinite(planned_effect):
            raise FieldError("planned_effect", f"is {planned_effect!r}; the effect the pilot hopes for is not 0")
        effects.append(planned_effect)

    h = read_history(history, outcome, cluster)
    if cluster is None:
        doubling = [20 * 2**k for k in range(8) if 20 * 2**k <= max(h.y.size, 40)]  # at most 2,560
        sizes = _sizes("n_units", kw["n_units"], doubling, p, "units")
    else:
        sizes = _sizes("n_clusters", kw["n_clusters"], DEFAULT_CLUSTERS, p, "clusters")
    planned_size = kw["planned_size"]
    if planned_size is None:
        planned_size = sizes[-1]
    else:
        sizes = _sizes("planned_size", [*sizes, planned_size], [], p, "units" if cluster is None else "clusters")
    planned_size = int(planned_size)
    if not given:  # no effects named: half to twice the minimum detectable effect the formula gives
        around = _formula_mde(h, planned_size, p, alpha, target)
        effects += [float(f"{factor * around:.3g}") for factor in DEFAULT_EFFECTS]
    effects = sorted(set(effects))

    rng = np.random.default_rng(seed)
    points: list[PowerPoint] = []
    planned_draws: Draws | None = None
    degenerate = 0
    for size in sizes:
        treated = math.floor(p * size + 0.5)
        if h.sums is None or h.sizes is None:
            sim = individual_draws(h.y, n=size, n_treated=treated, draws=draws, alpha=alpha, rng=rng, df=rule)
            units, clusters = size, None
        else:
            sim = cluster_draws(
                h.sums, h.sizes, g=size, g_treated=treated, draws=draws, alpha=alpha, rng=rng, scale=h.sd, df=rule
            )
            units, clusters = round(size * (h.cluster_size or 1.0)), size
        degenerate += sim.degenerate
        if size == planned_size:
            planned_draws = sim
        for e in effects:
            share, mc = sim.power(e)
            points.append(PowerPoint(e, units, clusters, share, mc, "simulation"))
            if with_formula:
                points.append(PowerPoint(e, units, clusters, _formula_at(h, e, size, p, alpha), None, "formula"))
    assert planned_draws is not None

    warnings = list(h.warnings)
    if degenerate:
        warnings.append(
            f"{degenerate:,} simulated draw(s) had a zero standard error (in each arm every resampled "
            f"{'unit' if cluster is None else 'cluster'} was the same one); they count as rejecting whenever the "
            "difference is not 0"
        )
    sign = -1.0 if planned_effect is not None and planned_effect < 0 else 1.0
    simulated_mde = planned_draws.mde(target=target, sign=sign)
    study = PowerStudy(
        outcome=outcome,
        cluster=cluster,
        sd=h.sd,
        icc=h.icc,
        history_n=int(h.y.size),
        draws=draws,
        alpha=alpha,
        target=target,
        points=tuple(points),
        mde_formula=_formula_mde(h, planned_size, p, alpha, target),
        mde_simulated=simulated_mde if math.isfinite(simulated_mde) else None,
        planned_effect=planned_effect,
        planned_power=None,
        adequate=True,
        warnings=(),
        spec={k: (list(v) if isinstance(v, Sequence) and not isinstance(v, str) else v) for k, v in kw.items()}
        | {"formula": with_formula},
        planned_size=planned_size,
        share_treated=p,
        cluster_size=h.cluster_size,
        cv=h.cv,
        history_clusters=None if h.sizes is None else int(h.sizes.size),
        effect_unit=kw["effect_unit"],
        estimator=_LABELS[cluster is not None, rule],
    )
    if planned_effect is None:
        warnings.append(
            "no planned effect was given, so whether the design has enough power is not judged; pass planned_effect="
        )
        return replace(study, warnings=tuple(warnings))
    planned_power = planned_draws.power(planned_effect)[0]
    needed = _size_needed(planned_effect, study)
    adequate = planned_power >= target
    if not adequate:
        u, word = study.effect_unit, study.size_word
        at = f"{planned_size:,} {word}"
        if cluster is not None:
            at += f" (about {round(planned_size * (h.cluster_size or 1)):,} units)"
        more = f"about {_about(needed):,} {word}" if math.isfinite(needed) else f"more {word} than can be had"
        warnings.insert(
            0,
            f"too little power: {planned_power:.2f} at an effect of {_num(planned_effect, u)} with {at}; "
            f"{target:.2f} needs {more} or an effect of {_num(sign * (study.mde_simulated or study.mde_formula), u)}",
        )
    return replace(
        study,
        planned_power=planned_power,
        adequate=adequate,
        warnings=tuple(warnings),
        power_formula=_formula_at(h, planned_effect, planned_size, p, alpha),
        size_needed=needed,
    )


def _formula_args(h: History, size: int) -> dict[str, Any]:
    if h.sizes is None:
        return {"n": size}
    return {"n_clusters": size, "cluster_size": h.cluster_size, "icc": h.icc or 0.0, "cv": h.cv or 0.0}


def _formula_at(h: History, effect: float, size: int, p: float, alpha: float) -> float:
    return power(effect, sd=h.sd, share_treated=p, alpha=alpha, **_formula_args(h, size))


def _formula_mde(h: History, size: int, p: float, alpha: float, target: float) -> float:
    return mde(sd=h.sd, share_treated=p, alpha=alpha, power=target, **_formula_args(h, size))
