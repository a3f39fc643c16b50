"""Restricted wild cluster bootstrap (WCR) with Webb's six-point weights, and test inversion for its interval.

Cameron, Gelbach and Miller (2008); Webb (2023); MacKinnon, Nielsen and Webb (2023) for the closed form used
here. For H0: β_j = β0 the model is fitted with the null imposed (y - β0·x_j on the other columns), giving
restricted residuals ``ũ``; each draw multiplies cluster g's residuals by one weight v_g from
{±√(1/2), ±1, ±√(3/2)} and refits. Nothing is refitted in a loop: the bootstrap coefficient and the cluster
scores of its (CR0) t statistic are linear in the weights,

    β* - β0 = Σ_g v_g a_g,          score*_h = Σ_g K[h, g] v_g,   K = diag(a) - B'S,

with ``a_g = c'M X_g'ũ_g``, ``S = [X_g'ũ_g]``, ``B = [M X_h'X_h M c]``. Both ``a`` and ``K`` are linear in β0
(``ũ = r_y - β0·r_x``), so after one pass over the draws the p-value at any β0 costs O(reps): the interval is
found by bisection on β0 with the same draws (test inversion). The small-sample factor of CR1 cancels between
the observed and the bootstrap statistics, so CR0 is used for both.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> g = np.repeat(np.arange(8), 20)
>>> X = np.column_stack([np.ones(160), (g >= 4).astype(float)])
>>> y = rng.normal(size=8)[g] + rng.normal(size=160)
>>> result = wild_restricted(X, y, g, 1, reps=999, seed=1, alpha=0.05)
>>> 0 <= result.p_value <= 1 and result.ci_low < result.ci_high
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["WEBB", "WildResult", "invert_test", "wild_restricted"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

WEBB: Final = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass(frozen=True)
class WildResult:
    p_value: float
    ci_low: float
    ci_high: float
    t_statistic: float


def _cluster_sums(values: FloatArray, groups: IntArray, n_groups: int) -> FloatArray:
    """Column sums of ``values`` (n × k) per cluster, as a k × G matrix."""
    out = np.zeros((n_groups, values.shape[1]))
    np.add.at(out, groups, values)
    return out.T


def wild_restricted(
    X: FloatArray, y: FloatArray, groups: IntArray, column: int, *, reps: int, seed: int, alpha: float
) -> WildResult:
    """p-value for H0: coefficient ``column`` = 0 and a 1 - alpha interval by inverting the test.

    ``groups`` holds cluster codes 0..G-1. The same ``reps`` Webb draws (from ``seed``) serve every β0.
    """
    n_groups = int(groups.max()) + 1
    x = X[:, column]
    z = np.delete(X, column, axis=1)
    q_z, _ = np.linalg.qr(z)
    r_y = y - q_z @ (q_z.T @ y)  # y on the other columns: the restricted residuals at β0 = 0
    r_x = x - q_z @ (q_z.T @ x)  # ... and how they move with β0
    r = np.linalg.qr(X, mode="r")
    r_inv = np.linalg.inv(r)
    m = r_inv @ r_inv.T
    mc = m[:, column]
    beta = float(mc @ (X.T @ y))
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    score_hat = _cluster_sums((X @ mc * resid)[:, None], groups, n_groups)[0]
    se0 = float(np.sqrt(score_hat @ score_hat))

    # B[:, h] = M X_h'X_h M c, from the per-cluster cross products.
    xtx = np.zeros((n_groups, X.shape[1], X.shape[1]))
    np.add.at(xtx, groups, X[:, :, None] * X[:, None, :])
    b = (m @ xtx @ mc).T  # k × G

    def k_matrix(u: FloatArray) -> tuple[FloatArray, FloatArray]:
        s = _cluster_sums(X * u[:, None], groups, n_groups)  # k × G
        a = mc @ s
        return a, np.diag(a) - b.T @ s

    a_y, k_y = k_matrix(r_y)
    a_x, k_x = k_matrix(r_x)
    rng = np.random.default_rng(seed)
    v = WEBB[rng.integers(0, len(WEBB), size=(reps, n_groups))]
    num_y, num_x = v @ a_y, v @ a_x
    vk_y, vk_x = v @ k_y.T, v @ k_x.T
    s_yy = np.einsum("rg,rg->r", vk_y, vk_y)
    s_yx = np.einsum("rg,rg->r", vk_y, vk_x)
    s_xx = np.einsum("rg,rg->r", vk_x, vk_x)

    def p_at(beta0: float) -> float:
        observed = abs(beta - beta0) / se0
        with np.errstate(divide="ignore", invalid="ignore"):
            t_star = np.abs(num_y - beta0 * num_x) / np.sqrt(np.maximum(s_yy - 2 * beta0 * s_yx + beta0**2 * s_xx, 0))
        return float(np.mean(t_star >= observed * (1 - 1e-12)))

    low, high = invert_test(p_at, beta, se0, alpha)
    return WildResult(p_value=p_at(0.0), ci_low=low, ci_high=high, t_statistic=beta / se0)


def invert_test(p_at: Callable[[float], float], center: float, scale: float, alpha: float) -> tuple[float, float]:
    """The interval of values whose test is not rejected at ``alpha``, found outward from ``center``.

    Steps of ``scale`` double until the p-value falls to ``alpha`` or below (at most 2^40 · scale away: beyond
    that the bound is infinite), then bisection narrows each bound to 1e-10 of the interval's size.
    """
    scale = scale if scale > 0 and np.isfinite(scale) else max(abs(center), 1.0)
    bounds = []
    for direction in (-1.0, 1.0):
        inside, step = center, scale
        outside = None
        for _ in range(41):
            trial = center + direction * step
            if p_at(trial) <= alpha:
                outside = trial
                break
            inside, step = trial, step * 2
        if outside is None:
            bounds.append(direction * np.inf)
            continue
        for _ in range(200):
            middle = 0.5 * (inside + outside)
            if p_at(middle) > alpha:
                inside = middle
            else:
                outside = middle
            if abs(outside - inside) <= 1e-10 * max(scale, abs(center)):
                break
        bounds.append(0.5 * (inside + outside))
    return float(bounds[0]), float(bounds[1])
