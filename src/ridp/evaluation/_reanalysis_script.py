"""The text of the standalone reanalysis script that :mod:`ridp.evaluation.reanalysis` fills in and runs.

Not ridp code: it is written out and run by another Python that must not import ridp.
"""

from typing import Final

# ---- the script ---------------------------------------------------------------------------------------------------
# Not ridp code: text written out and run by another Python that must not import ridp. ``@@NAME@@`` markers are
# replaced by the plan, the reported numbers and the settings.

SCRIPT: Final = r'''#!/usr/bin/env python3
# Reanalysis of the primary result of a frozen analysis plan.
# Plan SHA-256: @@SHA256@@
# Plan: @@TITLE@@
#
# This script stands alone: it imports no ridp module, only Python's standard library, numpy, pandas, pyarrow,
# statsmodels, and where the method needs them pyfixest and scipy. It reads the Parquet file, applies the plan, recomputes
# the primary result and compares it with the numbers reported (EXPECTED). It prints one JSON document and
# exits 0 when every number matches, 1 otherwise.
#
#     python -I @@FILENAME@@ [data.parquet]
"""Recompute the primary result of analysis plan @@SHA12@@ without ridp."""

import hashlib
import json
import math
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.parquet as pq
import statsmodels
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.contrast import ContrastResults

PLAN_SHA256 = "@@SHA256@@"
PLAN = json.loads(r"""
@@PLAN@@
""")
EXPECTED = json.loads(r"""
@@EXPECTED@@
""")
SETTINGS = json.loads(r"""
@@SETTINGS@@
""")
# Closed-form numbers match within RTOL (relative); p-values from random draws within 3 Monte Carlo standard
# errors of the difference of two proportions of REPS draws each, plus 1/REPS for the (1 + hits) / (1 + draws)
# convention.
RTOL = SETTINGS["rtol"]
REPS = SETTINGS["reps"]
WEBB = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])


class Failure(Exception):
    """The data or the plan cannot be analysed as written."""


def plan_hash():
    text = json.dumps(PLAN, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_hash(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def as_float(series, name):
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    raise Failure(f"column {name!r} is not numeric ({series.dtype})")


def treatment_indicator(series):
    name, treated = PLAN["treatment"], PLAN["treated"]
    values = pd.unique(series)
    if len(values) != 2:
        raise Failure(f"treatment column {name!r} has {len(values)} distinct values, not 2")
    if treated is None:
        if not set(values.tolist()) <= {0, 1}:  # 0/1 and False/True alike
            raise Failure(f"treatment column {name!r} holds {values.tolist()}: the plan must say which is treated")
        treated = 1
    indicator = (series == treated).to_numpy(dtype=bool)
    if indicator.all() or not indicator.any():
        raise Failure(f"no row of {name!r} equals the treated value {treated!r}")
    return indicator.astype("float64")


def load(path):
    outcome, treatment = PLAN["primary"]["column"], PLAN["treatment"]
    extra = [c for c in [PLAN["cluster"], PLAN["block"]] if c]
    needed = list(dict.fromkeys([outcome, treatment, *PLAN["covariates"], *extra]))
    there = pq.read_schema(path).names
    missing = [c for c in needed if c not in there]
    if missing:
        raise Failure(f"columns {missing} are not in the data; its columns are {there}")
    frame = pq.read_table(path, columns=needed).to_pandas()
    rows = len(frame)
    y = as_float(frame[outcome], outcome)
    keep = ~np.isnan(y)  # as ridp's estimators do: a row without the primary outcome is dropped
    frame, y = frame.loc[keep].reset_index(drop=True), y[keep]
    for column in needed[1:]:
        if frame[column].isna().any():
            raise Failure(f"column {column!r} has missing values among the rows with an outcome")
    covariates = [as_float(frame[c], c) for c in PLAN["covariates"]]
    data = {
        "y": y,
        "t": treatment_indicator(frame[treatment]),
        "x": np.column_stack(covariates) if covariates else None,
        "rows_read": rows,
        "rows_dropped_missing_outcome": int(rows - keep.sum()),
    }
    for role in ("cluster", "block"):
        data[role] = pd.factorize(frame[PLAN[role]])[0] if PLAN[role] else None
    return data


def design(data):
    """Intercept, treatment, and for Lin's estimator the centred covariates and their products with treatment."""
    y, t, x = data["y"], data["t"], data["x"]
    columns, names = [np.ones_like(y), t], ["const", "treat"]
    if PLAN["estimator"] == "lin":
        centred = x - x.mean(axis=0)
        columns += [centred[:, i] for i in range(centred.shape[1])]
        columns += [t * centred[:, i] for i in range(centred.shape[1])]
        names += [f"cov_{i}" for i in range(centred.shape[1])]
        names += [f"treat_x_cov_{i}" for i in range(centred.shape[1])]
    X = np.column_stack(columns)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise Failure("the design is collinear (a covariate repeats another, or does not vary)")
    return X, names


def t_result(effect, se, df, alpha):
    """p-value and interval from Student's t with df degrees of freedom (statsmodels' t-test container)."""
    test = ContrastResults(t=np.array([effect / se]), sd=np.array([se]), effect=np.array([effect]), df_denom=df)
    low, high = test.conf_int(alpha=alpha)[0]
    return {"effect": float(effect), "se": float(se), "ci_low": float(low), "ci_high": float(high),
            "p_value": float(test.pvalue), "df": float(df)}


def hc2(y, X, t, alpha):
    """HC2 errors from statsmodels; t with n - k df for Lin's estimator, and for the difference in means the
    Welch-Satterthwaite df (with HC2 errors it is Welch's test: the convention of estimatr and of ridp)."""
    fit = OLS(y, X).fit(cov_type="HC2", use_t=True)
    if PLAN["estimator"] == "lin":
        low, high = fit.conf_int(alpha=alpha)[1]
        return {"effect": float(fit.params[1]), "se": float(fit.bse[1]), "ci_low": float(low),
                "ci_high": float(high), "p_value": float(fit.pvalues[1]), "df": float(fit.df_resid)}
    v1, v0 = y[t == 1].var(ddof=1) / (t == 1).sum(), y[t == 0].var(ddof=1) / (t == 0).sum()
    df = (v1 + v0) ** 2 / (v1**2 / ((t == 1).sum() - 1) + v0**2 / ((t == 0).sum() - 1))
    return t_result(fit.params[1], fit.bse[1], df, alpha)


def cr1(y, X, names, groups, alpha):
    import pyfixest as pf

    frame = pd.DataFrame(X[:, 1:], columns=names[1:])
    frame["outcome_y"], frame["cluster_g"] = y, groups
    fit = pf.feols("outcome_y ~ " + " + ".join(names[1:]), data=frame, vcov={"CRV1": "cluster_g"})
    low, high = fit.confint(alpha=alpha).loc["treat"].to_numpy()
    return {"effect": float(fit.coef()["treat"]), "se": float(fit.se()["treat"]), "ci_low": float(low),
            "ci_high": float(high), "p_value": float(fit.pvalue()["treat"]),
            "df": float(len(np.unique(groups)) - 1)}


def inverse_sqrt(matrix):
    values, vectors = np.linalg.eigh(matrix)
    scaled = np.where(values > 1e-12, 1.0 / np.sqrt(np.clip(values, 1e-12, None)), 0.0)
    return (vectors * scaled) @ vectors.T


def cr2(y, X, groups, alpha):
    """CR2 (Bell-McCaffrey) errors and Bell-McCaffrey degrees of freedom for the treatment coefficient.

    df = tr(G'G)^2 / tr((G'G)^2) where column g of G is (I - H)[:, g] A_g X_g (X'X)^-1 c. G'G is formed
    without the n x n matrix: diag(v_g'v_g) - W'(X'X)^-1 W, v_g = A_g X_g (X'X)^-1 c, column g of W = X_g'v_g.
    """
    bread = np.linalg.inv(X.T @ X)
    beta = bread @ X.T @ y
    residual = y - X @ beta
    c = np.zeros(X.shape[1])
    c[1] = 1.0
    ids = np.unique(groups)
    meat = np.zeros_like(bread)
    v_norms, W = np.zeros(len(ids)), np.zeros((X.shape[1], len(ids)))
    for j, g in enumerate(ids):  # one pass per cluster (a handful), not per row
        Xg = X[groups == g]
        A = inverse_sqrt(np.eye(len(Xg)) - Xg @ bread @ Xg.T)
        score = Xg.T @ (A @ residual[groups == g])
        meat += np.outer(score, score)
        v = A @ (Xg @ (bread @ c))
        v_norms[j], W[:, j] = v @ v, Xg.T @ v
    se = math.sqrt(c @ bread @ meat @ bread @ c)
    GtG = np.diag(v_norms) - W.T @ bread @ W
    df = np.trace(GtG) ** 2 / np.trace(GtG @ GtG)
    return t_result(beta[1], se, df, alpha)


def wild(y, X, groups):
    """Restricted wild cluster bootstrap (Webb weights) of the clustered t-statistic of the treatment effect.

    Under H0 a draw's coefficient is v . a and its cluster scores are (diag(a) - Q) v, so all draws are one
    product of a draws x clusters matrix: no refit per draw.
    """
    bread = np.linalg.inv(X.T @ X)
    b = bread[1]
    beta = bread @ X.T @ y
    onehot = np.eye(groups.max() + 1)[groups]
    scores = b @ ((X * (y - X @ beta)[:, None]).T @ onehot)
    t_observed = beta[1] / math.sqrt(scores @ scores)
    Xr = np.delete(X, 1, axis=1)
    restricted = y - Xr @ np.linalg.lstsq(Xr, y, rcond=None)[0]
    S = (X * restricted[:, None]).T @ onehot  # column g: X_g' e_g
    a = b @ S
    Q = np.einsum("i,gij,jh->gh", b, np.einsum("ni,nj,ng->gij", X, X, onehot), bread @ S)
    v = np.random.default_rng(SETTINGS["seed"]).choice(WEBB, size=(REPS, onehot.shape[1]))
    t_star = (v @ a) / np.sqrt(((v @ (np.diag(a) - Q).T) ** 2).sum(axis=1))
    p = float(np.mean(np.abs(t_star) >= abs(t_observed) * (1 - 1e-12)))
    return {"effect": float(beta[1]), "p_value": p}


def randomisation(data):
    """Difference in means; two-sided p-value from re-drawing the assignment as it was made (within blocks, and
    whole clusters when clusters were assigned), in chunks of draws so memory stays small."""
    y, t, cluster, block = data["y"], data["t"], data["cluster"], data["block"]
    unit = cluster if cluster is not None else np.arange(len(y))
    _, first, codes = np.unique(unit, return_index=True, return_inverse=True)
    unit_t = t[first]
    if not np.array_equal(unit_t[codes], t):
        raise Failure("treatment varies within a cluster: clusters were not assigned as wholes")
    unit_block = block[first] if block is not None else np.zeros(len(first), dtype=int)
    if block is not None and not np.array_equal(unit_block[codes], block):
        raise Failure("a cluster spans two blocks")
    order = np.argsort(unit_block, kind="stable")
    sorted_block, sorted_t = unit_block[order], unit_t[order]
    observed = y[t == 1].mean() - y[t == 0].mean()
    rng = np.random.default_rng(SETTINGS["seed"])
    hits, done = 0, 0
    while done < REPS:
        size = min(2000, REPS - done)
        keys = sorted_block[None, :] + rng.random((size, len(first)))  # a key below 1 shuffles within blocks
        drawn = np.empty((size, len(first)))
        drawn[:, order] = sorted_t[np.argsort(keys, axis=1)]
        rows = drawn[:, codes]
        n1 = rows.sum(axis=1)
        stat = rows @ y / n1 - (1 - rows) @ y / (len(y) - n1)
        hits += int(np.sum(np.abs(stat) >= abs(observed) * (1 - 1e-12) - 1e-12))
        done += size
    return {"effect": float(observed), "p_value": hits / REPS}


def recompute(path):
    if PLAN["estimator"] in QUASI:
        return recompute_quasi(path)
    data = load(path)
    y, t = data["y"], data["t"]
    se_type, alpha = SETTINGS["se_type"], PLAN["alpha"]
    numbers = {"n": int(len(y)), "n_treated": int(t.sum()), "control_mean": float(y[t == 0].mean()),
               "treated_mean": float(y[t == 1].mean()), "alpha": float(alpha)}
    if data["cluster"] is not None:
        numbers["n_clusters"] = int(len(np.unique(data["cluster"])))
    if se_type == "randomisation":
        numbers.update(randomisation(data))
        return numbers, data, ["p_value"], "difference in means; p-value by own random re-assignments (numpy)"
    X, names = design(data)
    if se_type == "HC2":
        numbers.update(hc2(y, X, t, alpha))
        df_rule = "n - k" if PLAN["estimator"] == "lin" else "Welch-Satterthwaite df"
        return numbers, data, [], f"statsmodels {statsmodels.__version__} OLS with HC2 errors, t with {df_rule}"
    if se_type == "CR1":
        numbers.update(cr1(y, X, names, data["cluster"], alpha))
        return numbers, data, [], f"pyfixest {sys.modules['pyfixest'].__version__} feols with CRV1 errors, t(G - 1)"
    if se_type == "CR2":
        numbers.update(cr2(y, X, data["cluster"], alpha))
        return numbers, data, [], "CR2 errors with Bell-McCaffrey df (numpy), t from statsmodels"
    if se_type == "wild":
        numbers.update(wild(y, X, data["cluster"]))
        return numbers, data, ["p_value"], "restricted wild cluster bootstrap, Webb weights (numpy)"
    raise Failure(f"unknown standard errors {se_type!r}")


def compare(recomputed, monte_carlo):
    planned = {"estimator": PLAN["estimator"], "se_type": SETTINGS["se_type"], "outcome": PLAN["primary"]["column"],
               "treatment": PLAN["treatment"], "cluster": PLAN["cluster"]}
    rows, unchecked = [], []
    for name, expected in EXPECTED.items():
        if isinstance(expected, str):
            got = planned[name]
            rows.append({"name": name, "expected": expected, "recomputed": got, "difference": None,
                         "tolerance": None, "kind": "text", "matches": got == expected})
            continue
        if expected is None:
            continue
        if name not in recomputed:
            unchecked.append(name)
            continue
        got = recomputed[name]
        difference = got - expected
        if name in monte_carlo:
            p = min(max((expected + got) / 2, 1 / REPS), 1 - 1 / REPS)
            tolerance, kind = 3 * math.sqrt(2 * p * (1 - p) / REPS) + 1 / REPS, "monte carlo"
        else:
            tolerance, kind = RTOL * max(abs(expected), abs(got)) + 1e-12, "closed form"
        rows.append({"name": name, "expected": expected, "recomputed": got, "difference": difference,
                     "tolerance": tolerance, "kind": kind, "matches": bool(abs(difference) <= tolerance)})
    return rows, unchecked


def finite(value):
    """JSON has no NaN or infinity: such a number is written as null (and cannot match)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def main(argv):
    path = Path(argv[1] if len(argv) > 1 else SETTINGS["parquet"])
    report = {
        "plan_sha256": PLAN_SHA256,
        "plan_sha256_recomputed": plan_hash(),
        "parquet": str(path),
        "estimator": PLAN["estimator"],
        "se_type": SETTINGS["se_type"],
        "reps": REPS,
        "seed": SETTINGS["seed"],
        "exclusions_not_applied": PLAN["exclusions"],  # text in the plan: the file is taken as the analysis set
        "isolated": bool(sys.flags.isolated),
    }
    try:
        report["parquet_sha256"] = file_hash(path)
        recomputed, data, monte_carlo, method = recompute(path)
    except (Failure, OSError, pyarrow.ArrowException) as exc:
        report.update(error=str(exc), matches=False, recomputed={}, comparison=[], not_checked=[])
    else:
        rows, unchecked = compare(recomputed, monte_carlo)
        report.update(method=method, rows_read=data["rows_read"], recomputed=recomputed, comparison=rows,
                      rows_dropped_missing_outcome=data["rows_dropped_missing_outcome"], not_checked=unchecked)
        report["matches"] = report["plan_sha256_recomputed"] == PLAN_SHA256 and all(r["matches"] for r in rows)
    versions = {"python": platform.python_version()}
    for name in ("numpy", "pandas", "pyarrow", "statsmodels", "pyfixest"):
        if name in sys.modules:
            versions[name] = sys.modules[name].__version__
    report["versions"] = versions
    # Every module loaded, not only those named above: no ridp module, not even through another package.
    report["ridp_modules"] = sorted(m for m in sys.modules if m == "ridp" or m.startswith("ridp."))
    print(json.dumps(finite(report), indent=2, sort_keys=True, allow_nan=False))
    return 0 if report["matches"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
'''
