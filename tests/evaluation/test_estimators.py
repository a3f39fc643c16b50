"""Experimental estimators against independent references: statsmodels, pyfixest, scipy, dense formulas, loops."""

from __future__ import annotations

import itertools
import json
import math

import ibis
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import scipy.linalg
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

from ridp.errors import FieldError, InputError
from ridp.evaluation import estimators as E
from ridp.evaluation._wild import WEBB

REL = 1e-8


def close(a: float, b: float, rel: float = REL) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def clustered(seed: int = 1, groups: int = 10, low: int = 5, high: int = 40) -> pd.DataFrame:
    """Clusters of unequal size, alternate clusters treated, a covariate and a log-normal outcome."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(low, high, groups)
    g = np.repeat(np.arange(groups), sizes)
    d = (g % 2).astype(np.int64)
    x1, x2 = rng.normal(size=len(g)), rng.gamma(2.0, size=len(g))
    y = np.exp(rng.normal(0, 0.4, groups)[g] + rng.normal(0, 0.8, len(g))) + 0.7 * d + 0.5 * x1 - 0.2 * x2
    return pd.DataFrame({"wait": y, "pilot": d, "ward": [f"W{k:02d}" for k in g], "age": x1, "load": x2})


def pyfixest_quiet(formula: str, data: pd.DataFrame, cluster: str) -> pf.Feols:
    # pyfixest 0.60 passes inplace= to pandas 3.1, which deprecates it (the library silences the same warning)
    with pytest.warns(pd.errors.Pandas4Warning):
        return pf.feols(formula, data=data, vcov={"CRV1": cluster})


# ------------------------------------------------------------------------------------------ references
def test_difference_in_means_hc2_equals_statsmodels_and_welch_test() -> None:
    data = clustered(2)
    got = E.difference_in_means(data, outcome="wait", treatment="pilot")
    X = sm.add_constant(data["pilot"].to_numpy(dtype=float))
    fit = sm.OLS(data["wait"].to_numpy(), X).fit(cov_type="HC2")
    assert close(got.effect, fit.params[1]) and got.se is not None and close(got.se, fit.bse[1])
    welch = stats.ttest_ind(data.wait[data.pilot == 1], data.wait[data.pilot == 0], equal_var=False)
    ci = welch.confidence_interval(0.95)
    assert close(got.p_value, welch.pvalue) and close(got.df or 0, welch.df)
    assert close(got.ci_low, ci.low) and close(got.ci_high, ci.high)
    assert (got.se_type, got.cluster, got.n, got.n_treated) == ("HC2", None, len(data), int(data.pilot.sum()))
    assert got.label == "Difference in means, HC2 standard errors"


def test_lin_hc2_equals_a_hand_built_statsmodels_design() -> None:
    data = clustered(3)
    got = E.lin(data, outcome="wait", treatment="pilot", covariates=["age", "load"], alpha=0.1)
    centred = data[["age", "load"]] - data[["age", "load"]].mean()
    design = pd.concat([centred, centred.mul(data.pilot, axis=0).add_prefix("pilot_")], axis=1)
    design.insert(0, "pilot", data.pilot.astype(float))
    fit = sm.OLS(data.wait, sm.add_constant(design)).fit(cov_type="HC2", use_t=True)
    low, high = fit.conf_int(alpha=0.1).loc["pilot"]
    assert close(got.effect, fit.params["pilot"]) and close(got.se or 0, fit.bse["pilot"])
    assert close(got.p_value, fit.pvalues["pilot"]) and close(got.ci_low, low) and close(got.ci_high, high)
    assert got.df == fit.df_resid and got.covariates == ("age", "load")


@pytest.mark.parametrize("estimator", ["difference_in_means", "lin"])
def test_cr1_equals_pyfixest_crv1(estimator: E.Estimator) -> None:
    data = clustered(4)
    covariates = ["age"] if estimator == "lin" else []
    got = E.estimate(data, outcome="wait", treatment="pilot", estimator=estimator, covariates=covariates,
                     cluster="ward", se="CR1", alpha=0.1)  # fmt: skip
    frame = data.assign(age_c=data.age - data.age.mean())
    frame["pilot_age_c"] = frame.pilot * frame.age_c
    fit = pyfixest_quiet("wait ~ pilot" + (" + age_c + pilot_age_c" if covariates else ""), frame, "ward")
    low, high = fit.confint(alpha=0.1).loc["pilot"]
    assert close(got.effect, fit.coef()["pilot"]) and close(got.se or 0, fit.se()["pilot"])
    assert close(got.p_value, fit.pvalue()["pilot"]) and close(got.ci_low, low) and close(got.ci_high, high)
    assert got.df == 9 and got.n_clusters == 10
    assert any("CR1 errors are too small" in w for w in got.warnings)


def test_every_method_estimates_the_same_ols_coefficient() -> None:
    data = clustered(5)
    ols = sm.OLS(data.wait, sm.add_constant(data.pilot.astype(float))).fit().params["pilot"]
    for se in ("CR2", "wild", "CR1"):
        assert close(E.difference_in_means(data, outcome="wait", treatment="pilot", cluster="ward", se=se,
                                           reps=199).effect, ols)  # fmt: skip
    assert close(E.randomisation_inference(data, outcome="wait", treatment="pilot", reps=199).effect, ols)
    centred = data.age - data.age.mean()
    lin_ols = sm.OLS(data.wait, sm.add_constant(np.column_stack([data.pilot, centred, data.pilot * centred]))).fit()
    for se in ("auto", "CR2", "wild", "CR1"):
        cluster = None if se == "auto" else "ward"
        got = E.lin(data, outcome="wait", treatment="pilot", covariates=["age"], cluster=cluster, se=se, reps=199)  # type: ignore[arg-type]
        assert close(got.effect, lin_ols.params.iloc[1])


def dense_cr2(X: np.ndarray, y: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """Bell-McCaffrey CR2 variance and degrees of freedom of coefficient 1, with n × n matrices and sqrtm."""
    n = len(y)
    M = np.linalg.inv(X.T @ X)
    H = X @ M @ X.T
    e = y - H @ y
    c = np.zeros(X.shape[1])
    c[1] = 1.0
    meat = np.zeros((X.shape[1], X.shape[1]))
    columns = []
    for cluster in np.unique(g):
        rows = np.flatnonzero(g == cluster)
        A = np.linalg.inv(np.real(scipy.linalg.sqrtm(np.eye(len(rows)) - H[np.ix_(rows, rows)])))
        u = X[rows].T @ A @ e[rows]
        meat += np.outer(u, u)
        columns.append((np.eye(n) - H)[:, rows] @ A @ X[rows] @ M @ c)
    Q = np.column_stack(columns)
    P = Q.T @ Q
    return float((M @ meat @ M)[1, 1]), float(np.trace(P) ** 2 / np.trace(P @ P))


@pytest.mark.parametrize("covariates", [[], ["age", "load"]])
def test_cr2_and_bell_mccaffrey_df_equal_the_dense_formula(covariates: list[str]) -> None:
    data = clustered(6, groups=8, low=3, high=25)
    got = E.estimate(data, outcome="wait", treatment="pilot", estimator="lin" if covariates else "difference_in_means",
                     covariates=covariates, cluster="ward")  # fmt: skip
    centred = (data[covariates] - data[covariates].mean()).to_numpy()
    d = data.pilot.to_numpy(dtype=float)
    X = np.column_stack([np.ones(len(d)), d, centred, d[:, None] * centred])
    variance, df = dense_cr2(X, data.wait.to_numpy(), data.ward.to_numpy())
    assert got.se_type == "CR2" and close(got.se or 0, math.sqrt(variance), 1e-7) and close(got.df or 0, df, 1e-7)
    assert close(got.p_value, 2 * stats.t.sf(abs(got.effect) / math.sqrt(variance), df), 1e-7)
    assert any("Only 8 clusters" in w and "CR2" in w for w in got.warnings)


def test_cr2_of_equal_clusters_is_the_two_sample_variance_of_cluster_means() -> None:
    rng = np.random.default_rng(7)
    g = np.repeat(np.arange(9), 12)
    d = (g < 4).astype(int)
    data = pd.DataFrame({"y": rng.normal(size=9)[g] + rng.normal(size=len(g)), "d": d, "g": g})
    got = E.difference_in_means(data, outcome="y", treatment="d", cluster="g")
    means = data.groupby("g").agg(y=("y", "mean"), d=("d", "first"))
    t, c = means.y[means.d == 1], means.y[means.d == 0]
    assert close((got.se or 0) ** 2, t.var(ddof=1) / len(t) + c.var(ddof=1) / len(c))


def test_cr2_with_one_unit_per_cluster_is_hc2_with_imbens_kolesar_two_group_df() -> None:
    data = clustered(8).reset_index().rename(columns={"index": "row"})
    hc2 = E.difference_in_means(data, outcome="wait", treatment="pilot")
    cr2 = E.difference_in_means(data, outcome="wait", treatment="pilot", cluster="row")
    n1, n0 = hc2.n_treated, hc2.n - hc2.n_treated
    # Imbens and Kolesár (2016): Bell-McCaffrey df of the two-group HC2 difference in means
    df_bm = (n0 + n1) ** 2 * (n0 - 1) * (n1 - 1) / (n1**2 * (n1 - 1) + n0**2 * (n0 - 1))
    assert close(cr2.se or 0, hc2.se or 0) and close(cr2.df or 0, df_bm) and cr2.warnings == ()


def wild_by_loop(data: pd.DataFrame, beta0: float, reps: int, seed: int) -> float:
    """The restricted wild bootstrap p-value, refitting OLS draw by draw with CR0 t statistics."""
    codes = pd.factorize(data.ward, sort=True)[0]
    y, d = data.wait.to_numpy(), data.pilot.to_numpy(dtype=float)
    X = np.column_stack([np.ones_like(y), d])

    def t_stat(outcome: np.ndarray) -> float:
        beta, *_ = np.linalg.lstsq(X, outcome, rcond=None)
        M = np.linalg.inv(X.T @ X)
        scores = np.array([(M @ X[codes == k].T @ (outcome - X @ beta)[codes == k])[1] for k in range(codes.max() + 1)])
        return float((beta[1] - beta0) / math.sqrt(scores @ scores))

    restricted = y - beta0 * d
    u = restricted - restricted.mean()
    weights = WEBB[np.random.default_rng(seed).integers(0, 6, size=(reps, codes.max() + 1))]
    observed = abs(t_stat(y))
    hits = sum(abs(t_stat(restricted.mean() + beta0 * d + w[codes] * u)) >= observed * (1 - 1e-12) for w in weights)
    return hits / reps


def test_wild_bootstrap_p_value_and_interval_equal_a_refit_per_draw() -> None:
    data = clustered(9, groups=8)
    got = E.difference_in_means(data, outcome="wait", treatment="pilot", cluster="ward", se="wild", reps=199, seed=4)
    assert got.p_value == wild_by_loop(data, 0.0, 199, 4)
    width = got.ci_high - got.ci_low
    for bound, side in ((got.ci_low, -1), (got.ci_high, 1)):
        assert wild_by_loop(data, bound - side * 1e-6 * width, 199, 4) > 0.05
        assert wild_by_loop(data, bound + side * 1e-6 * width, 199, 4) <= 0.05
    assert got.se is None and got.df is None and got.se_type == "wild"


# ---------------------------------------------------------------------------------- randomisation
def ri_by_enumeration(y: np.ndarray, d: np.ndarray, blocks: np.ndarray, tau: float = 0.0) -> float:
    """Exact two-sided p-value for H0: effect = tau, listing every assignment with itertools.combinations."""
    y0 = y - tau * d
    per_block = [list(itertools.combinations(np.flatnonzero(blocks == b), int(d[blocks == b].sum())))
                 for b in np.unique(blocks)]  # fmt: skip
    observed = abs(y[d == 1].mean() - y[d == 0].mean() - tau)
    stats_ = []
    for choice in itertools.product(*per_block):
        w = np.zeros(len(y), dtype=bool)
        w[[i for part in choice for i in part]] = True
        stats_.append(abs(y0[w].mean() - y0[~w].mean()))
    return float(np.mean(np.array(stats_) >= observed - 1e-12))


def test_randomisation_p_value_equals_exact_enumeration() -> None:
    rng = np.random.default_rng(10)
    y = rng.exponential(5, 10)
    d = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 0])
    y = y - 2.5 * d
    got = E.randomisation_inference(pd.DataFrame({"y": y, "d": d}), outcome="y", treatment="d")
    assert got.p_value == pytest.approx(ri_by_enumeration(y, d, np.zeros(10)), abs=1e-12)
    assert "all 252 possible assignments" in got.notes[0]
    for bound, side in ((got.ci_low, -1), (got.ci_high, 1)):
        assert ri_by_enumeration(y, d, np.zeros(10), bound - side * 1e-6) > 0.05
        assert ri_by_enumeration(y, d, np.zeros(10), bound + side * 1e-6) <= 0.05


def test_blocked_randomisation_p_value_equals_exact_enumeration() -> None:
    rng = np.random.default_rng(11)
    blocks = np.array(["a"] * 6 + ["b"] * 5)
    d = np.array([1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0])
    y = rng.normal(size=11) + 3 * (blocks == "b") + 0.8 * d
    got = E.randomisation_inference(pd.DataFrame({"y": y, "d": d, "b": blocks}), outcome="y", treatment="d", block="b")
    assert got.p_value == pytest.approx(ri_by_enumeration(y, d, blocks), abs=1e-12)
    assert "all 200 possible assignments" in got.notes[0]  # C(6,3) × C(5,2)


def test_clustered_randomisation_moves_whole_clusters() -> None:
    rng = np.random.default_rng(12)
    g = np.repeat(np.arange(6), [2, 3, 4, 2, 5, 3])
    d = (g % 2).astype(int)
    y = rng.normal(size=6)[g] + rng.normal(size=len(g))
    got = E.randomisation_inference(pd.DataFrame({"y": y, "d": d, "g": g}), outcome="y", treatment="d", cluster="g")
    expected = []
    for treated in itertools.combinations(range(6), 3):
        w = np.isin(g, treated)
        expected.append(abs(y[w].mean() - y[~w].mean()))
    observed = abs(y[d == 1].mean() - y[d == 0].mean())
    assert got.p_value == pytest.approx(np.mean(np.array(expected) >= observed - 1e-12), abs=1e-12)
    assert got.n_clusters == 6 and any("unbounded" in w for w in got.warnings)  # 20 assignments: p ≥ 0.05


def test_randomisation_draws_agree_with_enumeration_within_monte_carlo_error() -> None:
    rng = np.random.default_rng(13)
    d = np.repeat([0, 1], 8)
    y = rng.normal(size=16) + 0.9 * d
    exact = ri_by_enumeration(y, d, np.zeros(16))  # 12,870 assignments
    got = E.randomisation_inference(pd.DataFrame({"y": y, "d": d}), outcome="y", treatment="d", reps=5000, seed=3)
    assert "5,000 random assignments" in got.notes[0] and 0.01 < exact < 0.5
    assert abs(got.p_value - exact) <= 3 * math.sqrt(exact * (1 - exact) / 5000)


# ------------------------------------------------------------------------------ several outcomes, result
def test_holm_and_bonferroni_equal_statsmodels() -> None:
    data = clustered(14)
    rng = np.random.default_rng(1)
    estimates = [E.difference_in_means(data.assign(o=data.wait + rng.normal(0, s, len(data))), outcome="o",
                                       treatment="pilot") for s in (0.5, 3, 8, 20)]  # fmt: skip
    p = [e.p_value for e in estimates]
    for method in ("holm", "bonferroni"):
        adjusted = E.adjust(estimates, method)
        assert [a.p_adjusted for a in adjusted] == pytest.approx(multipletests(p, method=method)[1], rel=1e-12)
        assert all(a.correction == method and a.effect == e.effect for a, e in zip(adjusted, estimates, strict=True))
    assert E.holm(estimates) == E.adjust(estimates, "holm")
    assert "Holm-adjusted p" in E.holm(estimates)[0].summary()
    with pytest.raises(FieldError, match="correction"):
        E.adjust(estimates, "fdr")  # type: ignore[arg-type]


def test_result_round_trips_and_renders() -> None:
    data = clustered(15)
    for got in (E.difference_in_means(data.assign(wait=data.wait.where(data.index % 7 > 0)), outcome="wait",
                                      treatment="pilot", cluster="ward", se="wild", reps=199),
                E.randomisation_inference(data.groupby("pilot").head(6), outcome="wait", treatment="pilot")):  # fmt: skip
        text = json.dumps(got.to_dict())
        assert E.Estimate.from_dict(json.loads(text)) == got
        assert all(f"Warning: {w}" in got.summary() for w in got.warnings)
        row = got.tidy()
        assert list(row.columns[:10]) == ["term", "estimate", "std_error", "statistic", "p_value", "conf_low",
                                          "conf_high", "df", "n", "method"] and len(row) == 1  # fmt: skip
        spec = got.chart().to_dict()
        assert '"url"' not in json.dumps({k: v for k, v in spec.items() if k != "$schema"})
        assert E.estimate(data.assign(wait=data.wait.where(data.index % 7 > 0)) if got.se_type == "wild"
                          else data.groupby("pilot").head(6), **got.spec) == got  # fmt: skip
    assert "rows had no 'wait' and were dropped" in E.difference_in_means(
        data.assign(wait=data.wait.where(data.index % 7 > 0)), outcome="wait", treatment="pilot").warnings[0]  # fmt: skip


def test_ibis_table_gives_the_same_estimate_as_its_dataframe() -> None:
    data = clustered(16)
    kwargs = {"outcome": "wait", "treatment": "pilot", "covariates": ["age"], "cluster": "ward"}
    assert E.lin(ibis.memtable(data), **kwargs) == E.lin(data, **kwargs)  # type: ignore[arg-type]


def test_treatment_labels_need_treated() -> None:
    data = clustered(17).assign(arm=lambda f: np.where(f.pilot == 1, "pilot", "usual"))
    with pytest.raises(FieldError, match="treated=") as error:
        E.difference_in_means(data, outcome="wait", treatment="arm")
    assert error.value.field == "treated"
    labelled = E.difference_in_means(data, outcome="wait", treatment="arm", treated="pilot")
    assert labelled.effect == E.difference_in_means(data, outcome="wait", treatment="pilot").effect
    with pytest.raises(FieldError, match="'other' is not a value"):
        E.difference_in_means(data, outcome="wait", treatment="arm", treated="other")


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("change", "kwargs", "error", "field", "message"),
    [
        (lambda f: f, {"outcome": "waiting"}, FieldError, "outcome", "no column 'waiting'"),
        (lambda f: f.assign(pilot=1), {}, FieldError, "treatment", "'pilot' never varies"),
        (lambda f: f.assign(pilot=f.index % 3), {}, FieldError, "treatment", "3 distinct values"),
        (lambda f: f.assign(pilot=f.pilot.where(f.index != 4)), {}, FieldError, "treatment", "first at row 4"),
        (lambda f: f.assign(wait=f.wait.astype(str)), {}, FieldError, "outcome", "'wait' is not numeric"),
        (lambda f: f.assign(wait=7.0), {}, FieldError, "outcome", "never varies"),
        (
            lambda f: f.assign(age=f.age.where(f.index != 9)),
            {"estimator": "lin", "covariates": ["age"]},
            FieldError,
            "covariates",
            "'age' is missing in 1 row(s), first at row 9",
        ),
        (
            lambda f: f.assign(age=3.0),
            {"estimator": "lin", "covariates": ["age"]},
            FieldError,
            "covariates",
            "'age' is constant",
        ),
        (
            lambda f: f.assign(age2=2 * f.age + 1),
            {"estimator": "lin", "covariates": ["age", "age2"]},
            FieldError,
            "covariates",
            "age2 is collinear with age",
        ),
        (
            lambda f: f.assign(age=f.age * (f.pilot == 0)),
            {"estimator": "lin", "covariates": ["age"]},
            FieldError,
            "covariates",
            "interaction",
        ),
        (
            lambda f: f.assign(age=f.age.astype(str)),
            {"estimator": "lin", "covariates": ["age"]},
            FieldError,
            "covariates",
            "'age' is not numeric",
        ),
        (lambda f: f, {"estimator": "lin"}, FieldError, "covariates", "at least one covariate"),
        (lambda f: f, {"covariates": ["age"]}, FieldError, "covariates", "estimator='lin'"),
        (
            lambda f: f.assign(ward=np.where(f.index % 2 == 0, "A", "B")),
            {"cluster": "ward"},
            FieldError,
            "cluster",
            "varies within 2 cluster(s)",
        ),
        (
            lambda f: f.assign(ward=np.where(f.pilot == 1, "T", f.ward)),
            {"cluster": "ward"},
            FieldError,
            "cluster",
            "1 treated and 6 control cluster(s)",
        ),
        (
            lambda f: f.assign(ward=f.ward.where(f.index != 2)),
            {"cluster": "ward"},
            FieldError,
            "cluster",
            "first at row 2",
        ),
        (lambda f: f.iloc[[0, 1, 2, 30, 40]].assign(pilot=[1, 0, 0, 0, 0]), {}, InputError, None, "1 treated"),
        (lambda f: f.assign(wait=2.0 * f.pilot), {}, InputError, None, "standard error cannot be computed"),
        (lambda f: f, {"se": "CR1"}, FieldError, "se", "need cluster="),
        (lambda f: f, {"se": "HC2", "cluster": "ward"}, FieldError, "se", "ignores the clusters"),
        (lambda f: f, {"se": "robust"}, FieldError, "se", "is one of"),
        (lambda f: f, {"alpha": 5}, FieldError, "alpha", "between 0 and 1"),
        (lambda f: f, {"reps": 10}, FieldError, "reps", "at least 99"),
        (lambda f: f, {"estimator": "ols"}, FieldError, "estimator", "is one of"),
        (lambda f: f, {"estimator": "randomisation", "se": "CR2"}, FieldError, "se", "no standard error"),
    ],
)
def test_bad_input_is_a_clear_error(change, kwargs, error, field, message) -> None:  # type: ignore[no-untyped-def]
    data = change(clustered(18, groups=12))
    arguments = {"outcome": "wait", "treatment": "pilot", **kwargs}
    with pytest.raises(error) as raised:
        E.estimate(data, **arguments)
    assert message in str(raised.value)
    if field is not None:
        assert raised.value.field == field


def test_small_arms_and_few_clusters_are_warnings_kept_in_the_result() -> None:
    data = clustered(19).groupby("pilot").head(7)
    got = E.difference_in_means(data, outcome="wait", treatment="pilot")
    assert any("Only" in w and "treated" in w for w in got.warnings)
    assert "Warning: Only" in got.summary()
    clustered_ = E.difference_in_means(clustered(19), outcome="wait", treatment="pilot", cluster="ward")
    assert clustered_.se_type == "CR2" and "Only 10 clusters" in clustered_.warnings[0]
    assert "chosen by se='auto'" in clustered_.warnings[0]
    wild = E.difference_in_means(clustered(19), outcome="wait", treatment="pilot", cluster="ward", se="wild", reps=99)
    assert "wild cluster bootstrap, as asked" in wild.warnings[0]
    many = clustered(19, groups=40, low=3, high=6)
    assert E.difference_in_means(many, outcome="wait", treatment="pilot", cluster="ward").warnings == ()
