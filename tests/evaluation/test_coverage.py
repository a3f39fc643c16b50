"""Coverage of the default clustered interval by simulation, beside naive clustered errors.

The design the issue names: 8 clusters, 4 treated, cluster sizes 30–400, ICC 0.1, a log-normal outcome and a
known additive effect; coverage = 1 - rejection rate of H0: effect = truth over 1,000 seeded draws. The
default (``se="auto"``: CR2 with Bell-McCaffrey degrees of freedom) must land in 93–97 %.

For a difference in means every statistic depends on the data only through cluster totals and sizes, so the
1,000 draws are computed at once in closed form (no model is fitted 1,000 times); the closed forms are checked
against the library's own calls on a few of the draws, so the coverage is the library's.

Run with ``-s`` to see the table.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from scipy import stats

from ridp.evaluation import estimators as E
from ridp.evaluation._wild import WEBB

DRAWS, REPS, G, G_TREATED, ICC, SIGMA2, EFFECT, ALPHA = 1000, 999, 8, 4, 0.1, 1.0, 1.5, 0.05


def arms(n: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each cluster's arm size, the sign of its weight in the difference in means, and N."""
    n_t = (n * d).sum(1, keepdims=True)
    n_c = (n * (1 - d)).sum(1, keepdims=True)
    return np.where(d == 1, n_t, n_c), np.where(d == 1, 1.0, -1.0), n_t + n_c


def closed_forms(Y: np.ndarray, n: np.ndarray, d: np.ndarray) -> dict[str, np.ndarray]:
    """Difference in means, CR1 and CR2 variances and Bell-McCaffrey df per draw, from cluster totals (D × G)."""
    n_arm, sign, N = arms(n, d)
    mean_arm = np.where(d == 1, (Y * d).sum(1, keepdims=True), (Y * (1 - d)).sum(1, keepdims=True)) / n_arm
    beta = (sign * Y / n_arm).sum(1)
    S = Y - n * mean_arm  # residual total of each cluster
    cr0 = (S**2 / n_arm**2).sum(1)
    cr1 = G / (G - 1) * (N[:, 0] - 1) / (N[:, 0] - 2) * cr0
    # CR2: H_gg = 11'/N_arm, so A_g scales the cluster's residual total by (1 - n_g/N_arm)^(-1/2)
    cr2 = (S**2 / (n_arm**2 * (1 - n / n_arm))).sum(1)
    # Bell-McCaffrey: P = diag(w'w) - B'MB with w_g = ±(1 - n_g/N_arm)^(-1/2)/N_arm · 1
    a = sign / n_arm / np.sqrt(1 - n / n_arm)
    B = np.stack([a * n, a * n * d], axis=1)
    n_t, n_c = (n * d).sum(1), (n * (1 - d)).sum(1)
    M = np.empty((len(Y), 2, 2))
    M[:, 0, 0] = 1 / n_c
    M[:, 0, 1] = M[:, 1, 0] = -1 / n_c
    M[:, 1, 1] = 1 / n_c + 1 / n_t
    P = -np.einsum("dkg,dkl,dlh->dgh", B, M, B)
    P[:, np.arange(G), np.arange(G)] += n / (n_arm * (n_arm - n))
    df_bm = np.trace(P, axis1=1, axis2=2) ** 2 / (P**2).sum((1, 2))
    return {"beta": beta, "cr0": cr0, "cr1": cr1, "cr2": cr2, "df_bm": df_bm}


def wild_p(Y: np.ndarray, n: np.ndarray, d: np.ndarray, beta0: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Restricted wild cluster bootstrap p-value of H0: effect = beta0 per draw; weights v (D × R × G)."""
    n_arm, sign, N = arms(n, d)
    forms = closed_forms(Y, n, d)
    restricted = Y - beta0[:, None] * d * n
    U = restricted - n * restricted.sum(1, keepdims=True) / N  # restricted residual totals
    vU = v * U[:, None, :]
    in_arm = d[:, None, :] == 1
    arm_total = np.where(in_arm, (vU * in_arm).sum(2, keepdims=True), (vU * ~in_arm).sum(2, keepdims=True))
    numerator = (vU * (sign / n_arm)[:, None, :]).sum(2)
    scores = (sign / n_arm)[:, None, :] * (vU - (n / n_arm)[:, None, :] * arm_total)
    t_star = np.abs(numerator) / np.sqrt((scores**2).sum(2))
    t_obs = np.abs(forms["beta"] - beta0) / np.sqrt(forms["cr0"])
    p: np.ndarray = (t_star >= t_obs[:, None] * (1 - 1e-12)).mean(1)
    return p


@cache  # both tests read the same 1,000 draws
def simulate(seed: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    # ICC 0.1 on the outcome's own scale: for y = exp(u + e), ICC = (exp(σu²) - 1) / (exp(σ²) - 1)
    var_u = np.log1p(ICC * np.expm1(SIGMA2))
    n = rng.integers(30, 401, size=(DRAWS, G))
    d = np.zeros((DRAWS, G))
    np.put_along_axis(d, np.argsort(rng.random((DRAWS, G)), axis=1)[:, :G_TREATED], 1.0, axis=1)
    u = rng.normal(0, np.sqrt(var_u), size=(DRAWS, G))
    e = np.exp(rng.normal(0, np.sqrt(SIGMA2 - var_u), size=int(n.sum())))
    starts = np.concatenate([[0], np.cumsum(n.ravel())[:-1]])
    Y = np.exp(u) * np.add.reduceat(e, starts).reshape(DRAWS, G) + EFFECT * d * n
    units = np.split(e, starts[1:])  # for rebuilding a draw's rows
    rows = [np.concatenate([np.exp(u[r, g]) * units[r * G + g] + EFFECT * d[r, g] for g in range(G)]) for r in (0, 1)]
    forms = closed_forms(Y, n, d)
    forms["wild_p"] = wild_p(Y, n, d, np.full(DRAWS, EFFECT), WEBB[rng.integers(0, 6, size=(DRAWS, REPS, G))])
    return forms, Y, n, d, rows


def test_closed_forms_are_the_library_on_sample_draws() -> None:
    forms, Y, n, d, rows = simulate(20261125)
    for r, y in enumerate(rows):
        cluster = np.repeat(np.arange(G), n[r])
        data = pd.DataFrame({"y": y, "d": d[r][cluster].astype(int), "g": cluster})
        auto = E.difference_in_means(data, outcome="y", treatment="d", cluster="g")
        assert auto.se_type == "CR2"  # the default for this design is what the coverage test measures
        assert np.isclose(auto.effect, forms["beta"][r], rtol=1e-10)
        assert np.isclose(auto.se**2, forms["cr2"][r], rtol=1e-8) and np.isclose(auto.df, forms["df_bm"][r], rtol=1e-8)  # type: ignore[operator,arg-type]
        cr1 = E.difference_in_means(data, outcome="y", treatment="d", cluster="g", se="CR1")
        assert np.isclose(cr1.se**2, forms["cr1"][r], rtol=1e-8)  # type: ignore[operator]
        wild = E.difference_in_means(data, outcome="y", treatment="d", cluster="g", se="wild", reps=REPS, seed=r)
        v = WEBB[np.random.default_rng(r).integers(0, 6, size=(1, REPS, G))]
        assert wild.p_value == wild_p(Y[r : r + 1], n[r : r + 1], d[r : r + 1], np.zeros(1), v)[0]


def test_default_clustered_interval_covers_95_percent_with_8_clusters() -> None:
    forms = simulate(20261125)[0]
    error = forms["beta"] - EFFECT
    t_cr1, t_cr2 = np.abs(error) / np.sqrt(forms["cr1"]), np.abs(error) / np.sqrt(forms["cr2"])
    coverage = {
        "CR2, Bell-McCaffrey df (default)": np.mean(t_cr2 <= stats.t.ppf(1 - ALPHA / 2, forms["df_bm"])),
        "wild cluster bootstrap (restricted, Webb)": np.mean(forms["wild_p"] > ALPHA),
        "CR1, t(G-1) (naive: pyfixest)": np.mean(t_cr1 <= stats.t.ppf(1 - ALPHA / 2, G - 1)),
        "CR1, normal (naive: statsmodels)": np.mean(t_cr1 <= stats.norm.ppf(1 - ALPHA / 2)),
    }
    report = "\n".join(f"  {name:<44} {value:6.1%}" for name, value in coverage.items())
    print(f"\nCoverage of 95% intervals, {DRAWS:,} draws, 8 clusters (4 treated), sizes 30-400, ICC 0.1:\n{report}")
    default = coverage["CR2, Bell-McCaffrey df (default)"]
    assert 0.93 <= default <= 0.97
    naive = [v for k, v in coverage.items() if "naive" in k]
    assert len(naive) == 2 and "CR1" in report and all(0 < v < default for v in naive)
