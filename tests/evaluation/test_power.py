"""Power and MDE: formulas against statsmodels, simulation against the formulas, the flag, and bad input."""

from __future__ import annotations

import json
import math

import ibis
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy.linalg import sqrtm
from statsmodels.stats.anova import anova_lm
from statsmodels.stats.power import TTestIndPower

from ridp.errors import FieldError
from ridp.evaluation import _powersim
from ridp.evaluation.power import PowerStudy, anova_icc, mde, power, power_study, simulate_power

ALPHA = 0.05


def normal_history(n: int = 5000, *, mean: float = 10.0, sd: float = 3.0, seed: int = 11) -> pd.DataFrame:
    return pd.DataFrame({"days": np.random.default_rng(seed).normal(mean, sd, n)})


def clustered_history(
    clusters: int = 300, size: int | tuple[int, int] = 15, *, icc: float = 0.1, seed: int = 12
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = np.full(clusters, size) if isinstance(size, int) else rng.integers(size[0], size[1], clusters)
    group = np.repeat(np.arange(clusters), sizes)
    y = rng.normal(0, math.sqrt(icc), clusters)[group] + rng.normal(0, math.sqrt(1 - icc), group.size)
    return pd.DataFrame({"y": 5.0 + y, "hood": [f"h{g:03d}" for g in group]})


def agrees(sim: float, mc_se: float, formula: float) -> bool:
    """The issue's tolerance: within max(2 percentage points, 3 Monte Carlo SEs)."""
    return abs(sim - formula) <= max(0.02, 3 * mc_se)


# --- formulas -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effect", "sd", "n", "share"),
    [(1.0, 2.0, 40, 0.5), (0.3, 1.0, 200, 0.5), (2.5, 4.0, 30, 0.3), (-1.0, 2.0, 90, 0.6), (0.05, 1.0, 20000, 0.5)],
)
def test_individual_formula_equals_statsmodels_ttestindpower(effect: float, sd: float, n: int, share: float) -> None:
    reference = TTestIndPower().power(
        effect_size=abs(effect) / sd, nobs1=n * share, alpha=ALPHA, ratio=(1 - share) / share
    )
    assert power(effect, sd=sd, n=n, share_treated=share, alpha=ALPHA) == pytest.approx(reference, rel=1e-8)


@pytest.mark.parametrize(("g", "m", "icc", "cv"), [(8, 30, 0.05, 0.0), (20, 12.5, 0.2, 0.0), (10, 40, 0.1, 0.6)])
def test_clustered_formula_equals_t_test_on_cluster_means(g: int, m: float, icc: float, cv: float) -> None:
    # By hand: the design effect of Eldridge et al. (2006) inflates the variance of a unit mean, and the test
    # has G - 2 degrees of freedom, i.e. a two-sample t test on G cluster means.
    design_effect = 1 + ((cv**2 + 1) * m - 1) * icc
    sd_of_cluster_mean = 1.5 * math.sqrt(design_effect / m)
    reference = TTestIndPower().power(effect_size=0.6 / sd_of_cluster_mean, nobs1=g / 2, alpha=ALPHA, ratio=1.0)
    got = power(0.6, sd=1.5, n_clusters=g, cluster_size=m, icc=icc, cv=cv)
    assert got == pytest.approx(reference, rel=1e-8)
    # n (total units) in place of cluster_size gives the same mean cluster size.
    assert power(0.6, sd=1.5, n=round(g * m * 2) / 2, n_clusters=g, icc=icc, cv=cv) == pytest.approx(got, rel=1e-12)


def test_cluster_size_variation_costs_power() -> None:
    equal = power(0.4, sd=1.0, n_clusters=12, cluster_size=25, icc=0.05)
    assert power(0.4, sd=1.0, n_clusters=12, cluster_size=25, icc=0.05, cv=0.7) < equal
    assert power(0.4, sd=1.0, n=300) > equal  # clustering itself costs power


@pytest.mark.parametrize(
    "design",
    [{"n": 64}, {"n": 500, "share_treated": 0.25}, {"n_clusters": 10, "cluster_size": 20, "icc": 0.08, "cv": 0.4}],
)
@pytest.mark.parametrize("target", [0.5, 0.8, 0.9])
def test_mde_inverts_power(design: dict[str, float], target: float) -> None:
    effect = mde(sd=2.0, power=target, **design)  # type: ignore[arg-type]
    assert effect > 0
    assert power(effect, sd=2.0, **design) == pytest.approx(target, abs=1e-9)  # type: ignore[arg-type]


def test_mde_equals_statsmodels_solve_power() -> None:
    d = TTestIndPower().solve_power(effect_size=None, nobs1=32, alpha=ALPHA, power=0.8, ratio=1.0)
    assert mde(sd=3.0, n=64) == pytest.approx(3.0 * d, rel=1e-6)


# --- the planned estimator, in closed form ------------------------------------------------------------------


def test_individual_draws_are_statsmodels_ols_hc2_t_tests() -> None:
    y = np.random.default_rng(3).lognormal(1.0, 0.7, 400)
    draws = _powersim.individual_draws(y, n=30, n_treated=12, draws=6, alpha=ALPHA, rng=np.random.default_rng(9))
    # The same stream of indices (one chunk), treated = the first 12 of each draw.
    index = np.random.default_rng(9).integers(0, y.size, size=(6, 30), dtype=np.int32)
    treated = np.r_[np.ones(12), np.zeros(18)]
    for k in range(6):
        fit = sm.OLS(y[index[k]], sm.add_constant(treated)).fit(cov_type="HC2", use_t=True)
        assert draws.diff[k] == pytest.approx(fit.params[1], rel=1e-9)
        assert draws.se[k] == pytest.approx(fit.bse[1], rel=1e-9)
        for effect in (0.0, 0.8):
            shifted = sm.OLS(y[index[k]] + effect * treated, sm.add_constant(treated)).fit(cov_type="HC2", use_t=True)
            one = _powersim.Draws(draws.diff[k : k + 1], draws.se[k : k + 1], draws.crit)
            assert one.power(effect)[0] == float(shifted.pvalues[1] < ALPHA)


def test_cr2_and_bell_mccaffrey_closed_forms_equal_the_matrix_definitions() -> None:
    rng = np.random.default_rng(4)
    sizes = np.array([3, 7, 2, 5, 4, 6])
    g_treated = 3
    cluster = np.repeat(np.arange(sizes.size), sizes)
    y = rng.normal(size=cluster.size) + rng.normal(size=sizes.size)[cluster]
    treated = (cluster < g_treated).astype(float)
    x = np.column_stack([np.ones(cluster.size), treated])
    bread = np.linalg.inv(x.T @ x)
    hat = x @ bread @ x.T
    resid = y - hat @ y
    residual_maker = np.eye(cluster.size) - hat
    meat = np.zeros((2, 2))
    columns = []
    for g in range(sizes.size):
        rows = cluster == g
        adjust = np.real(sqrtm(np.linalg.inv(residual_maker[np.ix_(rows, rows)])))  # (I - H_gg)^(-1/2)
        score = x[rows].T @ adjust @ resid[rows]
        meat += np.outer(score, score)
        a = np.zeros(cluster.size)
        a[rows] = adjust @ x[rows] @ bread[:, 1]
        columns.append(residual_maker @ a)
    cr2 = (bread @ meat @ bread)[1, 1]
    w = np.column_stack(columns)
    p = w @ w.T
    bm = np.trace(p) ** 2 / np.trace(p @ p)

    sums = np.bincount(cluster, weights=y)[None, :]
    diff, var = _powersim.cr2_difference(sums, sizes[None, :].astype(float), g_treated)
    assert diff[0] == pytest.approx(y[treated == 1].mean() - y[treated == 0].mean(), rel=1e-12)
    assert var[0] == pytest.approx(cr2, rel=1e-9)
    assert _powersim.bell_mccaffrey_df(sizes[None, :].astype(float), g_treated)[0] == pytest.approx(bm, rel=1e-9)
    # Equal sizes and arms: Bell-McCaffrey's df is G - 2.
    assert _powersim.bell_mccaffrey_df(np.full((1, 8), 9.0), 4)[0] == pytest.approx(6.0, rel=1e-12)


def test_chunking_does_not_change_the_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    y = np.random.default_rng(0).normal(size=300)

    def run() -> _powersim.Draws:
        return _powersim.individual_draws(y, n=33, n_treated=16, draws=1000, alpha=ALPHA, rng=np.random.default_rng(5))

    whole = run()
    monkeypatch.setattr(_powersim, "MAX_ELEMENTS", 33 * 7)  # 143 chunks
    chunked = run()
    assert np.array_equal(whole.diff, chunked.diff) and np.array_equal(whole.se, chunked.se)


def test_anova_icc_equals_statsmodels_anova_mean_squares() -> None:
    frame = clustered_history(40, (3, 30), icc=0.15, seed=5)
    table = anova_lm(smf.ols("y ~ C(hood)", data=frame).fit())
    between, within = table.loc["C(hood)", "mean_sq"], table.loc["Residual", "mean_sq"]
    sizes = frame.groupby("hood").size().to_numpy()
    n, k = sizes.sum(), sizes.size
    m0 = (n - (sizes**2).sum() / n) / (k - 1)
    expected = (between - within) / (between + (m0 - 1) * within)
    assert anova_icc(frame["y"], frame["hood"]) == pytest.approx(expected, rel=1e-9)


# --- simulation against the formula -------------------------------------------------------------------------


def test_simulated_power_agrees_with_the_formula_individual() -> None:
    study = power_study(normal_history(), outcome="days", effects=[0.0, 0.5, 1.0, 2.0], n_units=[20, 60, 200])
    table = study.tidy().pivot_table(index=["effect", "n_units"], columns="method", values=["power", "mc_se"])
    assert len(table) == 12
    for (effect, n), row in table.iterrows():
        sim, formula, mc_se = row[("power", "simulation")], row[("power", "formula")], row[("mc_se", "simulation")]
        assert agrees(sim, mc_se, formula), (effect, n, sim, formula)
    assert study.mde_simulated == pytest.approx(study.mde_formula, rel=0.05)


def test_simulated_power_agrees_with_the_formula_unequal_allocation() -> None:
    study = power_study(
        normal_history(seed=21), outcome="days", effects=[0.8, 1.6], n_units=[100], share_treated=0.3, seed=3
    )
    for effect in (0.8, 1.6):
        sim = study.power_at(effect, 100)
        formula = study.power_at(effect, 100, "formula")
        assert sim is not None and formula is not None
        assert agrees(sim, math.sqrt(sim * (1 - sim) / study.draws), formula), (effect, sim, formula)


def test_simulated_power_agrees_with_the_formula_clustered() -> None:
    # 1,000 history clusters: with a few hundred, the history's own cluster means can stray from normal enough
    # (excess kurtosis 0.5 at 300) to move a 4-df t test's power by 2 points, which is the simulation's point.
    history = clustered_history(1000, 10)
    study = power_study(history, outcome="y", cluster="hood", effects=[0.2, 0.4, 0.6], n_clusters=[6, 10, 20], seed=1)
    assert study.icc == pytest.approx(0.1, abs=0.03) and study.cv == 0.0
    sims = [p for p in study.points if p.method == "simulation"]
    assert len(sims) == 9
    for p in sims:
        formula = study.power_at(p.effect, int(p.n_clusters or 0), "formula")
        assert formula is not None and p.mc_se is not None
        assert agrees(p.power, p.mc_se, formula), (p, formula)
        assert p.n_units == 10 * p.n_clusters  # type: ignore[operator]


def test_simulated_mde_is_where_the_simulated_curve_crosses_the_target() -> None:
    y = np.random.default_rng(8).gamma(2.0, 2.0, 2000)
    draws = _powersim.individual_draws(y, n=80, n_treated=40, draws=5000, alpha=ALPHA, rng=np.random.default_rng(1))
    for sign in (1.0, -1.0):
        effect = draws.mde(target=0.8, sign=sign)
        assert draws.power(sign * effect * (1 + 1e-9))[0] >= 0.8 > draws.power(sign * effect * (1 - 1e-6))[0]


# --- the flag -----------------------------------------------------------------------------------------------


def test_an_underpowered_design_is_flagged_before_it_starts() -> None:
    study = simulate_power(
        normal_history(sd=4.0), outcome="days", effects=[1.0], n_units=[40], effect_unit="day", draws=4000
    )
    assert study.planned_effect == 1.0 and study.planned_size == 40
    assert not study.adequate
    assert study.planned_power is not None and study.planned_power < 0.3
    flag = study.warnings[0]
    # 0.80 needs about n units: statsmodels' sample size at the history's SD, rounded up to two digits.
    n1 = TTestIndPower().solve_power(effect_size=1.0 / study.sd, nobs1=None, alpha=ALPHA, power=0.8, ratio=1.0)
    needed = math.ceil(2 * n1)
    about = math.ceil(needed / 10) * 10
    assert flag.startswith(f"too little power: {study.planned_power:.2f} at an effect of 1.0 day with 40 units; ")
    assert f"0.80 needs about {about:,} units or an effect of" in flag
    assert "TOO LITTLE POWER" in study.summary() and flag in study.summary()


def test_an_adequate_design_is_not_flagged() -> None:
    study = power_study(normal_history(), outcome="days", effects=[0.5, 2.0], n_units=[200], planned_effect=2.0)
    assert study.adequate and study.planned_power is not None and study.planned_power > 0.95
    assert not any("too little power" in w for w in study.warnings)
    assert study.power_formula == pytest.approx(power(2.0, sd=study.sd, n=200), rel=1e-12)


def test_an_underpowered_cluster_design_is_flagged_in_clusters() -> None:
    study = power_study(
        clustered_history(60, (5, 80), seed=2), outcome="y", cluster="hood", effects=[0.3], n_clusters=[6, 8]
    )
    assert study.planned_size == 8 and not study.adequate
    assert study.warnings[0].startswith("too little power: ")
    assert "with 8 clusters (about " in study.warnings[0] and " clusters or an effect of " in study.warnings[0]
    assert "Bell-McCaffrey" in study.estimator


def test_without_a_planned_effect_adequacy_is_not_judged_and_it_says_so() -> None:
    study = simulate_power(normal_history(), outcome="days", effects=[0.5, 1.0], n_units=[40, 80], draws=500)
    assert study.planned_power is None
    assert any("no planned effect was given" in w for w in study.warnings)


def test_default_grids_and_planned_size() -> None:
    study = simulate_power(normal_history(300), outcome="days", effects=[1.0], draws=200)
    assert sorted({p.n_units for p in study.points}) == [20, 40, 80, 160] and study.planned_size == 160
    assert "the largest studied" in study.summary()
    clustered = simulate_power(clustered_history(50), outcome="y", cluster="hood", effects=[0.5], draws=200)
    assert sorted({p.n_clusters for p in clustered.points}) == [4, 6, 8, 10, 12, 16, 20, 30, 40]  # type: ignore[type-var]
    chosen = simulate_power(
        normal_history(300), outcome="days", effects=[1.0], n_units=[40], planned_size=50, draws=200
    )
    assert sorted({p.n_units for p in chosen.points}) == [40, 50] and chosen.planned_size == 50


# --- the result ---------------------------------------------------------------------------------------------


def test_result_round_trips_and_charts() -> None:
    study = power_study(
        clustered_history(30, (5, 25)), outcome="y", cluster="hood", effects=[0.2, 0.5], n_clusters=[6, 12]
    )
    again = PowerStudy.from_dict(json.loads(json.dumps(study.to_dict())))
    assert again == study
    assert list(study.tidy().columns) == ["method", "effect", "n_units", "n_clusters", "power", "mc_se"]
    for by in ("effect", "n"):
        spec = study.chart(by=by).to_dict()  # type: ignore[arg-type]
        assert len(spec["layer"]) == 3 and "url" not in json.dumps(spec["datasets"])
    with pytest.raises(FieldError, match="by"):
        study.chart(by="size")  # type: ignore[arg-type]
    assert "0.2" in study.summary() and "12" in study.summary()


def test_an_ibis_table_gives_the_same_history() -> None:
    frame = normal_history(300)
    from_ibis = simulate_power(ibis.memtable(frame), outcome="days", effects=[1.0], n_units=[40], draws=2000)
    from_pandas = simulate_power(frame, outcome="days", effects=[1.0], n_units=[40], draws=2000)
    assert from_ibis.sd == pytest.approx(from_pandas.sd, rel=1e-12) and from_ibis.history_n == 300
    assert from_ibis.planned_power == pytest.approx(from_pandas.planned_power, abs=0.05)


def test_a_decimal_outcome_from_the_engine_is_read_as_numbers() -> None:
    frame = normal_history(200).round(2)
    table = ibis.memtable(frame).mutate(days=ibis._.days.cast("decimal(10, 2)"))
    study = simulate_power(table, outcome="days", effects=[1.0], n_units=[40], draws=200)
    assert study.history_n == 200 and study.sd == pytest.approx(frame["days"].std(), rel=1e-12)


# --- bad input ----------------------------------------------------------------------------------------------


def test_missing_outcomes_are_left_out_with_a_warning() -> None:
    frame = normal_history(100)
    frame.loc[:9, "days"] = np.nan
    study = simulate_power(frame, outcome="days", effects=[1.0], n_units=[20], draws=200)
    assert study.history_n == 90
    assert "10 row(s) of the history without 'days' were left out" in study.warnings


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"outcome": "wait"}, "outcome", "no column 'wait'; its columns: days"),
        ({"cluster": "hood"}, "cluster", "no column 'hood'"),
        ({"n_units": [3]}, "n_units", "each arm needs 2"),
        ({"n_clusters": [4]}, "n_clusters", "need cluster="),
        ({"share_treated": 1.0}, "share_treated", "strictly between"),
        ({"draws": 10}, "draws", "at least 100"),
        ({"effects": [float("nan")]}, "effects", "finite effect sizes"),
        ({"planned_effect": 0.0}, "planned_effect", "not 0"),
        ({"df": "satterthwaite"}, "df", "one of auto"),
        ({"target": 0.01}, "target", "above alpha"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, object], field: str, words: str) -> None:
    arguments: dict[str, object] = {"outcome": "days", "effects": [1.0], "n_units": [40], "draws": 200} | kwargs
    if "n_clusters" in kwargs or "cluster" in kwargs:
        arguments.pop("n_units")
    with pytest.raises(FieldError, match=words) as caught:
        simulate_power(normal_history(100), **arguments)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_too_small_a_history_is_an_error_naming_history() -> None:
    with pytest.raises(FieldError, match="19 unit") as caught:
        simulate_power(normal_history(19), outcome="days", effects=[1.0], n_units=[20])
    assert caught.value.field == "history"
    with pytest.raises(FieldError, match="3 cluster") as caught:
        simulate_power(clustered_history(3), outcome="y", cluster="hood", effects=[1.0], n_clusters=[4])
    assert caught.value.field == "history"


def test_outcomes_that_cannot_be_studied_are_errors() -> None:
    with pytest.raises(FieldError, match="not numbers") as caught:
        simulate_power(pd.DataFrame({"days": ["a"] * 30}), outcome="days", effects=[1.0])
    assert caught.value.field == "outcome"
    with pytest.raises(FieldError, match="throughout the history"):
        simulate_power(pd.DataFrame({"days": [3.0] * 30}), outcome="days", effects=[1.0])
    with pytest.raises(FieldError, match="Ibis table or a pandas DataFrame"):
        simulate_power([1.0, 2.0], outcome="days", effects=[1.0])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n": 40, "icc": 0.1}, "n_clusters"),
        ({"n": -5}, "n"),
        ({"n": 3}, "n"),
        ({"n_clusters": 3, "cluster_size": 10}, "n_clusters"),
        ({"n_clusters": 10}, "n"),
        ({"n_clusters": 10, "cluster_size": 10, "icc": 1.2}, "icc"),
        ({"n": 40, "sd": 0.0}, "sd"),
        ({"n": 40, "alpha": 0.0}, "alpha"),
        ({"n": 100, "n_clusters": 10, "cluster_size": 12}, "n"),
    ],
)
def test_formula_arguments_are_checked(kwargs: dict[str, float], field: str) -> None:
    arguments = {"sd": 1.0} | kwargs
    with pytest.raises(FieldError) as caught:
        power(0.5, **arguments)  # type: ignore[arg-type]
    assert caught.value.field == field
    with pytest.raises(FieldError, match="power"):
        mde(sd=1.0, n=40, power=0.04)


def test_without_effects_the_grid_is_around_the_formulas_mde() -> None:
    rng = np.random.default_rng(4)
    history = pd.DataFrame({"days": rng.lognormal(1.0, 0.6, 600)})
    study = power_study(history, outcome="days", n_units=[200], draws=400, seed=1)
    around = mde(sd=float(history["days"].std()), n=200)
    effects = sorted({p.effect for p in study.points})
    assert effects == pytest.approx(
        [f * around for f in (0.5, 0.75, 1.0, 1.5, 2.0)], rel=4e-3
    )  # 3 significant digits kept
    assert study.power_at(effects[2], 200, "formula") == pytest.approx(0.8, abs=0.01)
