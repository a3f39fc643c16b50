"""The vectorised engine of power by simulation: read a history, resample it, assign, keep each draw's statistics.

:func:`read_history` takes the history's outcome (and cluster labels) out of an Ibis table or DataFrame,
leaves out missing outcomes with a warning, and summarises what the formulas need (SD, one-way ANOVA ICC,
mean cluster size and its CV) and what the cluster draws need (each cluster's centred sum and size).

One call gives, for one design size, every draw's difference in means *without* an effect and its standard
error. A constant effect added to every treated outcome shifts each draw's difference by exactly that effect
and leaves its standard error unchanged (HC2 and CR2 depend on residuals only, and the residuals do not
move), so the rejections for any effect follow from the same draws: ``|diff + effect| > crit · se``. Every
effect is then judged on the same draws (common random numbers), which keeps the power curve smooth, and
the effect at which the simulated power crosses a target can be found exactly on the draws.

Resampled units (or clusters) are independent draws from the history, so they are exchangeable: treating
the first ``n_treated`` of each draw has the same distribution as complete randomisation of them, and no
permutation is needed.

The draws are processed in chunks of at most :data:`MAX_ELEMENTS` cells per matrix (8 MB each), so
memory stays bounded whatever the number of draws; no Python loop runs over draws, only over chunks.

Examples
--------
>>> import numpy as np
>>> y = np.random.default_rng(1).normal(size=500)
>>> d = individual_draws(y, n=40, n_treated=20, draws=2000, alpha=0.05, rng=np.random.default_rng(2))
>>> d.power(0.0)[0] < 0.08 < d.power(1.0)[0]
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from ridp.errors import FieldError

__all__ = [
    "MAX_ELEMENTS",
    "DfRule",
    "Draws",
    "History",
    "anova_icc",
    "bell_mccaffrey_df",
    "cluster_draws",
    "cr2_difference",
    "individual_draws",
    "read_history",
]

#: The most cells (draws × units, or draws × clusters) one chunk's matrix holds: 1M float64 = 8 MB, so a
#: chunk's few matrices stay near 30 MB whatever the number of draws (larger chunks were no faster).
MAX_ELEMENTS: Final = 1_000_000

#: Degrees of freedom of the t test: ``residual`` is n - 2 (units) or G - 2 (clusters); ``bell-mccaffrey`` the
#: Satterthwaite approximation of Bell & McCaffrey (2002) under a working model of independent, equal-variance
#: errors, per draw (it equals the residual df on a balanced design with equal cluster sizes).
DfRule = Literal["residual", "bell-mccaffrey"]
#: A variance below this share of the outcome's variance is a zero one (rounding leaves ~1e-30, not 0).
_ZERO: Final = 1e-24

Floats = npt.NDArray[np.float64]
MIN_UNITS: Final = 20
MIN_CLUSTERS: Final = 4


@dataclass(frozen=True)
class Draws:
    """Every draw's difference in means without an effect (``diff``), its standard error (``se``), and the
    critical value of its two-sided t test at the study's alpha (``crit``: one value, or one per draw)."""

    diff: Floats
    se: Floats
    crit: Floats

    @property
    def draws(self) -> int:
        return int(self.diff.size)

    @property
    def degenerate(self) -> int:
        """Draws whose standard error is zero (every arm's units, or clusters, alike): judged by ``|diff| > 0``."""
        return int(np.count_nonzero(self.se == 0.0))

    def power(self, effect: float) -> tuple[float, float]:
        """The share of draws whose test rejects with ``effect`` added, and its Monte Carlo standard error
        ``sqrt(p(1 - p) / draws)``."""
        rejected = np.abs(self.diff + effect) > self.crit * self.se
        share = float(np.count_nonzero(rejected)) / self.draws
        return share, math.sqrt(share * (1.0 - share) / self.draws)

    def mde(self, *, target: float, sign: float = 1.0) -> float:
        """The smallest effect size (a magnitude, in the direction of ``sign``) whose simulated power reaches
        ``target``, found exactly on the draws.

        For an effect ``e >= 0`` a draw rejects when ``e > crit·se - diff`` (upper) or
        ``e < -crit·se - diff`` (lower); the power only changes at those thresholds, so each upper threshold
        is a candidate and the first one where the count reaches ``ceil(target · draws)`` is the answer.
        """
        diff = self.diff if sign >= 0 else -self.diff
        upper = np.sort(self.crit * self.se - diff)
        lower = np.sort(-self.crit * self.se - diff)
        need = math.ceil(target * self.draws - 1e-9)
        candidates = np.maximum(upper, 0.0)
        # Just above candidate j, every draw with a threshold at or below it rejects on the upper side.
        upper_count = np.searchsorted(upper, candidates, side="right")
        lower_count = self.draws - np.searchsorted(lower, candidates, side="right")
        reached = np.flatnonzero(upper_count + lower_count >= need)
        return float(candidates[reached[0]]) if reached.size else math.inf


def _chunks(draws: int, width: int) -> list[int]:
    rows = max(1, MAX_ELEMENTS // max(width, 1))
    sizes = [rows] * (draws // rows)
    if draws % rows:
        sizes.append(draws % rows)
    return sizes


def _index_dtype(n: int) -> type[np.signedinteger[npt.NBitBase]]:
    # int32 indices are drawn about 3x faster than int64 and halve the index matrix.
    return np.int32 if n < 2**31 else np.int64  # type: ignore[return-value]


def _critical(alpha: float, df: Floats | float) -> Floats:
    return np.asarray(stats.t.ppf(1.0 - alpha / 2.0, df), dtype=np.float64)


def individual_draws(
    y: Floats, *, n: int, n_treated: int, draws: int, alpha: float, rng: np.random.Generator, df: DfRule = "residual"
) -> Draws:
    """Draws of ``n`` units resampled from ``y``, the first ``n_treated`` treated: difference in means with
    HC2 standard errors (``s1²/n1 + s0²/n0``), t with ``n - 2`` degrees of freedom (or Bell-McCaffrey's)."""
    n1, n0 = n_treated, n - n_treated
    assert n1 >= 2 and n0 >= 2, "each arm needs two units"
    # Centring keeps sums of squares accurate when the outcome's mean is large next to its spread.
    centred = np.ascontiguousarray(y - y.mean(), dtype=np.float64)
    zero = _ZERO * float(centred.var())
    dtype = _index_dtype(centred.size)
    diff = np.empty(draws)
    var = np.empty(draws)
    start = 0
    for rows in _chunks(draws, n):
        values = centred[rng.integers(0, centred.size, size=(rows, n), dtype=dtype)]
        treated, control = values[:, :n1], values[:, n1:]
        sum1, sum0 = treated.sum(axis=1), control.sum(axis=1)
        mean1, mean0 = sum1 / n1, sum0 / n0
        ss1 = np.einsum("ij,ij->i", treated, treated) - sum1 * mean1
        ss0 = np.einsum("ij,ij->i", control, control) - sum0 * mean0
        block = slice(start, start + rows)
        diff[block] = mean1 - mean0
        var[block] = np.maximum(ss1, 0.0) / ((n1 - 1) * n1) + np.maximum(ss0, 0.0) / ((n0 - 1) * n0)
        start += rows
    var[var <= zero] = 0.0
    if df == "residual":
        dof: float = n - 2.0
    else:  # Bell-McCaffrey with one unit per cluster: the sizes are all 1, so it is one number
        ones = np.ones((1, n))
        dof = float(bell_mccaffrey_df(ones, n1)[0])
    return Draws(diff=diff, se=np.sqrt(var), crit=_critical(alpha, dof))


def cr2_difference(sums: Floats, sizes: Floats, n_treated: int) -> tuple[Floats, Floats]:
    """Difference in unit means and its CR2 variance for rows of resampled clusters (the first ``n_treated``
    columns treated), from each cluster's outcome sum and size alone.

    For ``y ~ 1 + treated`` with clusters nested in arms, a treated cluster's block of the hat matrix is
    ``J / N_T`` (``N_T`` the treated units), so CR2's adjustment ``(I - H_gg)^(-1/2)`` scales the cluster's
    residual sum by ``1 / sqrt(1 - m_g / N_T)``, and the cross terms between arms vanish:
    ``V = Σ_T r_g² / (1 - m_g/N_T) / N_T² + Σ_C r_g² / (1 - m_g/N_C) / N_C²`` with ``r_g = s_g - m_g·ȳ_arm``
    (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018). With one unit per cluster this is HC2.
    """
    halves = []
    for part in (slice(None, n_treated), slice(n_treated, None)):
        s, m = sums[:, part], sizes[:, part]
        units = m.sum(axis=1)
        mean = s.sum(axis=1) / units
        resid = s - m * mean[:, None]
        var = (resid * resid / (1.0 - m / units[:, None])).sum(axis=1) / (units * units)
        halves.append((mean, var))
    (mean1, var1), (mean0, var0) = halves
    return mean1 - mean0, var1 + var0


def bell_mccaffrey_df(sizes: Floats, n_treated: int) -> Floats:
    """Bell & McCaffrey's degrees of freedom for the CR2 difference in means, per row of cluster sizes.

    The CR2 variance is a quadratic form ``e'Pe`` in the errors; under working independence with equal
    variances its Satterthwaite df is ``tr(P)² / tr(P²)``. For this design ``tr(P) = 1/N_T + 1/N_C`` and,
    per arm with ``q_g = 1 / (N²(1 - m_g/N))``, ``tr(P²) = Σ q²m² - 2 Σ q²m³ / N + (Σ q m²)² / N²``.
    """
    trace = np.zeros(sizes.shape[0])
    trace_sq = np.zeros(sizes.shape[0])
    for part in (slice(None, n_treated), slice(n_treated, None)):
        m = sizes[:, part]
        units = m.sum(axis=1)
        q = 1.0 / (units[:, None] ** 2 * (1.0 - m / units[:, None]))
        trace += 1.0 / units
        trace_sq += (q * q * m * m).sum(axis=1) - 2.0 * (q * q * m**3).sum(axis=1) / units
        trace_sq += (q * m * m).sum(axis=1) ** 2 / units**2
    out: Floats = trace * trace / trace_sq
    return out


def cluster_draws(
    sums: Floats,
    sizes: Floats,
    *,
    g: int,
    g_treated: int,
    draws: int,
    alpha: float,
    rng: np.random.Generator,
    scale: float,
    df: DfRule = "bell-mccaffrey",
) -> Draws:
    """Draws of ``g`` whole clusters resampled (each with all its units) from the history's clusters, given by
    their centred outcome ``sums`` and unit counts ``sizes``; the first ``g_treated`` treated. Difference in
    unit means with CR2 standard errors, t with Bell-McCaffrey's degrees of freedom (or ``g - 2``).
    ``scale`` is the outcome's SD (a variance below ``1e-24·scale²`` counts as zero)."""
    assert g_treated >= 2 and g - g_treated >= 2, "each arm needs two clusters"
    dtype = _index_dtype(sums.size)
    diff = np.empty(draws)
    var = np.empty(draws)
    dof = np.full(draws, g - 2.0)
    start = 0
    for rows in _chunks(draws, 2 * g):
        pick = rng.integers(0, sums.size, size=(rows, g), dtype=dtype)
        block = slice(start, start + rows)
        m = sizes[pick]
        diff[block], var[block] = cr2_difference(sums[pick], m, g_treated)
        if df == "bell-mccaffrey":
            dof[block] = bell_mccaffrey_df(m, g_treated)
        start += rows
    var[var <= _ZERO * scale * scale] = 0.0
    return Draws(diff=diff, se=np.sqrt(var), crit=_critical(alpha, dof))


# --- the history --------------------------------------------------------------------------------------------


def anova_icc(values: Sequence[float] | npt.ArrayLike, groups: Sequence[Any] | npt.ArrayLike) -> float:
    """The one-way ANOVA estimate of the intra-cluster correlation (Donner 1986), unbounded below.

    ``(MSB - MSW) / (MSB + (m0 - 1)·MSW)`` with ``m0 = (N - Σ m_k² / N) / (K - 1)`` for unequal sizes.
    """
    frame = pd.DataFrame({"y": np.asarray(values, dtype=float), "g": np.asarray(groups)})
    by = frame.groupby("g", sort=False)["y"]
    sizes, means = by.size().to_numpy(float), by.mean().to_numpy(float)
    k, total = sizes.size, float(sizes.sum())
    if k < 2 or total <= k:
        raise FieldError("cluster", "an ICC needs at least 2 clusters and a cluster with more than one unit")
    within = float(((frame["y"] - by.transform("mean")) ** 2).sum()) / (total - k)
    between = float((sizes * (means - frame["y"].mean()) ** 2).sum()) / (k - 1)
    m0 = (total - float((sizes**2).sum()) / total) / (k - 1)
    return (between - within) / (between + (m0 - 1) * within)


@dataclass(frozen=True)
class History:
    y: Floats  # outcome, missing dropped
    sums: Floats | None  # per cluster: centred outcome sum
    sizes: Floats | None  # per cluster: units
    sd: float
    icc: float | None
    cluster_size: float | None
    cv: float | None
    warnings: tuple[str, ...]


def read_history(history: Any, outcome: str, cluster: str | None) -> History:
    wanted = [outcome] if cluster is None else [outcome, cluster]
    if cluster == outcome:
        raise FieldError("cluster", f"is the outcome column {outcome!r}; name the column of cluster labels")
    if isinstance(history, ir.Table):
        columns = list(history.columns)
    elif isinstance(history, pd.DataFrame):
        columns = [str(c) for c in history.columns]
    else:
        raise FieldError("history", f"is a {type(history).__name__}; give an Ibis table or a pandas DataFrame")
    for name, column in zip(("outcome", "cluster"), wanted, strict=False):
        if column not in columns:
            raise FieldError(name, f"the history has no column {column!r}; its columns: {', '.join(columns)}")
    frame = history.select(*wanted).to_pandas() if isinstance(history, ir.Table) else history[wanted]
    # Rows in one canonical order (by cluster, then outcome), whatever order an engine returned them in: the same
    # history and seed then give the same draws on DuckDB, PostgreSQL and Spark.
    frame = frame.sort_values(wanted[::-1], kind="mergesort", na_position="last").reset_index(drop=True)
    raw = frame[outcome]
    if raw.dtype == object and raw.dropna().map(lambda v: isinstance(v, Decimal)).all():
        raw = raw.astype(float)  # a DECIMAL column arrives from the engine as Python Decimals
    if not (pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw)):
        raise FieldError("outcome", f"column {outcome!r} is {raw.dtype}, not numbers")
    y = raw.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(y).any():
        raise FieldError("outcome", f"column {outcome!r} has {int(np.isinf(y).sum()):,} infinite value(s)")
    keep = ~np.isnan(y)
    warnings: list[str] = []
    if (~keep).any():
        warnings.append(f"{int((~keep).sum()):,} row(s) of the history without {outcome!r} were left out")
    labels = None
    if cluster is not None:
        labels = frame[cluster].to_numpy()
        no_label = pd.isna(frame[cluster]).to_numpy() & keep
        if no_label.any():
            warnings.append(f"{int(no_label.sum()):,} row(s) of the history without a {cluster!r} were left out")
        keep &= ~pd.isna(frame[cluster]).to_numpy()
    y = y[keep]
    if y.size < MIN_UNITS:
        raise FieldError("history", f"has {y.size} unit(s) with an outcome; at least {MIN_UNITS} are needed")
    sd = float(np.std(y, ddof=1))
    if sd == 0:
        raise FieldError("outcome", f"column {outcome!r} is {y[0]:g} throughout the history: nothing to detect")
    if labels is None:
        return History(y, None, None, sd, None, None, None, tuple(warnings))
    codes, groups = pd.factorize(labels[keep], sort=True)
    if groups.size < MIN_CLUSTERS:
        raise FieldError("history", f"has {groups.size} cluster(s) of {cluster!r}; at least {MIN_CLUSTERS} needed")
    sizes: Floats = np.bincount(codes).astype(np.float64)
    sums = np.bincount(codes, weights=y - y.mean()).astype(float)
    if y.size > groups.size:
        icc = anova_icc(y, codes)
        if icc < 0:
            warnings.append(f"the history's ICC estimate is negative ({icc:.3f}); 0 is used in the formula")
    else:
        icc = 0.0
        warnings.append("every cluster of the history has one unit: its ICC cannot be estimated; 0 is used")
    mean_size = float(sizes.mean())
    cv = float(sizes.std(ddof=0) / mean_size)
    return History(y, sums, sizes, sd, max(icc, 0.0), mean_size, cv, tuple(warnings))
