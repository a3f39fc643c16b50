"""The reanalysis script: it imports no ridp module, runs isolated, and recomputes the primary result as
statsmodels, pyfixest, scipy, a dense-matrix CR2 and exact enumerations computed here say it should.

Most checks run the script's text in this process (fast: the libraries are loaded once); two run it for real
through :func:`reanalyse` in a separate ``python -I``.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyfixest as pf
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

import ridp.evaluation.reanalysis as reanalysis_module
from ridp.errors import FieldError, RidpError
from ridp.evaluation.plan import AnalysisPlan, Outcome, freeze
from ridp.evaluation.reanalysis import ALLOWED_IMPORTS, Reanalysis, imports_of, reanalyse, reanalysis_script

RTOL = 1e-6
REPS = 10_000


def make_plan(**changed: Any) -> AnalysisPlan:
    fields: dict[str, Any] = {
        "title": "Triage crews",
        "questions": ("Do triage crews shorten the wait?",),
        "hypotheses": ("Requests close sooner with triage.",),
        "treatment": "triage",
        "primary": Outcome(column="days_to_close", label="Days to close", measure="days of waiting", per="request"),
        "secondary": (Outcome(column="reopened", label="Reopened"),),
        "alpha": 0.05,
    }
    return AnalysisPlan(**{**fields, **changed})


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reanalysis")


@pytest.fixture(scope="module")
def pilot(folder: Path) -> tuple[pd.DataFrame, Path]:
    """8 neighbourhoods of 10-40 requests, 4 with triage crews; three requests still open (no outcome)."""
    rng = np.random.default_rng(20260301)
    sizes = rng.integers(10, 41, 8)
    hood = np.repeat(np.arange(8), sizes)
    triage = np.isin(hood, [0, 3, 5, 6]).astype(np.int64)
    prior = rng.normal(8, 2, len(hood)) + rng.normal(0, 1, 8)[hood]
    days = 9 - 1.5 * triage + 0.6 * (prior - 8) + rng.normal(0, 1, 8)[hood] + rng.lognormal(0, 0.6, len(hood))
    days[[4, 40, 77]] = np.nan
    frame = pd.DataFrame({
        "days_to_close": days,
        "triage": triage,
        "prior": prior,
        "hood": [f"hood-{h}" for h in hood],
        "reopened": rng.integers(0, 2, len(hood)),
    })  # fmt: skip
    path = folder / "pilot.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return frame.dropna(subset=["days_to_close"]).reset_index(drop=True), path


def run_in_process(script: str, parquet: Path) -> tuple[int, dict[str, Any]]:
    """Run the script's ``main`` here (its text, compiled afresh), returning its exit code and JSON report."""
    namespace: dict[str, Any] = {"__name__": "reanalysis_script"}
    exec(compile(script, "reanalyse.py", "exec"), namespace)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        # pyfixest 0.60 passes inplace= to pandas 3.1, which deprecates it
        warnings.filterwarnings("ignore", message="The inplace keyword", category=pd.errors.Pandas4Warning)
        code = namespace["main"](["reanalyse.py", str(parquet)])
    return code, json.loads(out.getvalue())


def common(frame: pd.DataFrame) -> dict[str, float]:
    y, t = frame["days_to_close"], frame["triage"]
    return {
        "n": len(frame),
        "n_treated": int(t.sum()),
        "control_mean": float(y[t == 0].mean()),
        "treated_mean": float(y[t == 1].mean()),
        "alpha": 0.05,
    }


def assert_all_match(code: int, report: dict[str, Any], expected: dict[str, Any]) -> None:
    failed = [row for row in report["comparison"] if not row["matches"]]
    assert code == 0 and report["matches"], failed or report.get("error")
    assert {row["name"] for row in report["comparison"]} == set(expected)
    assert report["plan_sha256_recomputed"] == report["plan_sha256"]


# ---- expected numbers computed here, independently ---------------------------------------------------------------


def expected_hc2_difference(frame: pd.DataFrame) -> dict[str, Any]:
    y, t = frame["days_to_close"], frame["triage"]
    fit = sm.OLS(y, sm.add_constant(t)).fit(cov_type="HC2")
    welch = stats.ttest_ind(y[t == 1], y[t == 0], equal_var=False)  # HC2 here is Welch's test
    low, high = welch.confidence_interval(0.95)
    assert fit.bse["triage"] == pytest.approx(math.sqrt(y[t == 1].var() / t.sum() + y[t == 0].var() / (1 - t).sum()))
    return {"effect": fit.params["triage"], "se": fit.bse["triage"], "ci_low": low, "ci_high": high,
            "p_value": welch.pvalue, "df": welch.df, **common(frame)}  # fmt: skip


def expected_lin_hc2(frame: pd.DataFrame) -> dict[str, Any]:
    data = frame.assign(centred=frame["prior"] - frame["prior"].mean())
    fit = smf.ols("days_to_close ~ triage * centred", data=data).fit(cov_type="HC2", use_t=True)
    low, high = fit.conf_int(0.05).loc["triage"]
    return {"effect": fit.params["triage"], "se": fit.bse["triage"], "ci_low": low, "ci_high": high,
            "p_value": fit.pvalues["triage"], "df": fit.df_resid, **common(frame)}  # fmt: skip


def expected_cr1(frame: pd.DataFrame) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The inplace keyword", category=pd.errors.Pandas4Warning)
        fit = pf.feols("days_to_close ~ triage", data=frame, vcov={"CRV1": "hood"})
        low, high = fit.confint(alpha=0.05).loc["triage"]
        numbers = {"effect": fit.coef()["triage"], "se": fit.se()["triage"], "p_value": fit.pvalue()["triage"]}
    return {**numbers, "ci_low": low, "ci_high": high, "df": 7.0, "n_clusters": 8, **common(frame)}


def expected_lin_cr2_dense(frame: pd.DataFrame) -> dict[str, Any]:
    """CR2 and Bell-McCaffrey df with the whole n x n matrices, as the formulas are written (Imbens-Kolesar 2016)."""
    y = frame["days_to_close"].to_numpy()
    t = frame["triage"].to_numpy(dtype=float)
    xc = frame["prior"].to_numpy() - frame["prior"].mean()
    X = np.column_stack([np.ones_like(y), t, xc, t * xc])
    groups = frame["hood"].to_numpy()
    n = len(y)
    bread = np.linalg.inv(X.T @ X)
    residual = y - X @ (bread @ X.T @ y)
    M = np.eye(n) - X @ bread @ X.T
    A = np.zeros((n, n))  # block diagonal: (I - H_gg)^(-1/2) per cluster
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        values, vectors = np.linalg.eigh(M[np.ix_(idx, idx)])
        A[np.ix_(idx, idx)] = vectors @ np.diag(values**-0.5) @ vectors.T
    adjusted = A @ residual
    D = (groups[:, None] == np.unique(groups)[None, :]).astype(float)  # n x G membership
    scores = X.T @ (adjusted[:, None] * D)  # k x G
    V = bread @ scores @ scores.T @ bread
    c = np.array([0.0, 1.0, 0.0, 0.0])
    Gmat = M @ ((A @ X @ bread @ c)[:, None] * D)  # column g: (I - H)[:, g] A_g X_g (X'X)^-1 c
    lam = np.linalg.eigvalsh(Gmat.T @ Gmat)
    df = lam.sum() ** 2 / (lam**2).sum()
    effect, se = (bread @ X.T @ y)[1], math.sqrt(V[1, 1])
    q = stats.t.ppf(0.975, df)
    return {"effect": effect, "se": se, "ci_low": effect - q * se, "ci_high": effect + q * se,
            "p_value": 2 * stats.t.sf(abs(effect / se), df), "df": df, "n_clusters": 8, **common(frame)}  # fmt: skip


# ---- closed-form methods: every number within 1e-6 --------------------------------------------------------------


@pytest.mark.parametrize(
    ("changed", "reference", "se_type"),
    [
        ({}, expected_hc2_difference, "HC2"),
        ({"estimator": "lin", "covariates": ("prior",)}, expected_lin_hc2, "HC2"),
        ({"cluster": "hood", "se": "CR1"}, expected_cr1, "CR1"),
        ({"cluster": "hood", "se": "CR2", "estimator": "lin", "covariates": ("prior",)}, expected_lin_cr2_dense, "CR2"),
    ],
    ids=["difference-HC2-vs-statsmodels-and-welch", "lin-HC2-vs-statsmodels", "CR1-vs-pyfixest", "lin-CR2-vs-dense"],
)
def test_script_recomputes_closed_form_results(
    pilot: tuple[pd.DataFrame, Path], changed: dict[str, Any], reference: Any, se_type: str
) -> None:
    frame, path = pilot
    expected = {k: float(v) for k, v in reference(frame).items()}
    script = reanalysis_script(make_plan(**changed), path, expected)
    code, report = run_in_process(script, path)
    assert_all_match(code, report, expected)
    assert report["se_type"] == se_type and report["rows_dropped_missing_outcome"] == 3
    assert all(row["tolerance"] <= 2e-6 * abs(row["expected"]) + 1e-12 for row in report["comparison"])


def test_a_difference_beyond_the_tolerance_fails(pilot: tuple[pd.DataFrame, Path]) -> None:
    frame, path = pilot
    expected = expected_lin_hc2(frame)
    expected["ci_high"] *= 1 + 1e-5
    code, report = run_in_process(
        reanalysis_script(make_plan(estimator="lin", covariates=("prior",)), path, expected), path
    )
    assert code == 1 and not report["matches"]
    assert [row["name"] for row in report["comparison"] if not row["matches"]] == ["ci_high"]


# ---- methods with random draws: effect exactly, p-value within Monte Carlo error ------------------------------------


def test_randomisation_by_cluster_matches_exact_enumeration(pilot: tuple[pd.DataFrame, Path]) -> None:
    frame, path = pilot
    y = frame["days_to_close"].to_numpy()
    codes = pd.factorize(frame["hood"])[0]
    treated_hoods = set(codes[frame["triage"].to_numpy() == 1])
    observed = y[frame["triage"] == 1].mean() - y[frame["triage"] == 0].mean()
    hits = []
    for chosen in itertools.combinations(range(8), 4):  # all 70 ways to pick 4 of 8 neighbourhoods
        d = np.isin(codes, chosen)
        hits.append(abs(y[d].mean() - y[~d].mean()) >= abs(observed) * (1 - 1e-9))
    exact = float(np.mean(hits))
    assert len(treated_hoods) == 4 and 0.02 < exact < 0.6
    expected = {"effect": observed, "p_value": exact, "n_clusters": 8, **common(frame)}
    script = reanalysis_script(make_plan(estimator="randomisation", cluster="hood"), path, expected, reps=REPS)
    code, report = run_in_process(script, path)
    assert_all_match(code, report, expected)
    row = next(r for r in report["comparison"] if r["name"] == "p_value")
    assert row["kind"] == "monte carlo" and row["tolerance"] < 0.025


def test_blocked_randomisation_matches_exact_enumeration(folder: Path) -> None:
    rng = np.random.default_rng(7)
    block = np.repeat([0, 1], 6)
    triage = np.array([1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0, 1])
    days = 8 + 3 * block - 1.2 * triage + rng.normal(0, 1, 12)
    path = folder / "blocked.parquet"
    pd.DataFrame({"days_to_close": days, "triage": triage, "ward": np.where(block, "north", "south")}).to_parquet(path)
    observed = days[triage == 1].mean() - days[triage == 0].mean()
    stats_all = []
    for south in itertools.combinations(range(6), 3):  # 20 x 20 assignments, 3 treated in each block
        for north in itertools.combinations(range(6, 12), 3):
            d = np.isin(np.arange(12), south + north)
            stats_all.append(days[d].mean() - days[~d].mean())
    exact = float(np.mean(np.abs(stats_all) >= abs(observed) * (1 - 1e-9)))
    plan = make_plan(estimator="randomisation", block="ward", secondary=())
    code, report = run_in_process(reanalysis_script(plan, path, {"effect": observed, "p_value": exact}), path)
    assert_all_match(code, report, {"effect": 0, "p_value": 0})
    # A p-value off by far more than the Monte Carlo error does not match.
    code, report = run_in_process(reanalysis_script(plan, path, {"effect": observed, "p_value": exact + 0.05}), path)
    assert code == 1 and [r["name"] for r in report["comparison"] if not r["matches"]] == ["p_value"]


def test_wild_bootstrap_matches_exact_enumeration_of_webb_weights(folder: Path) -> None:
    rng = np.random.default_rng(11)
    hood = np.repeat(np.arange(5), [12, 20, 9, 25, 16])
    triage = np.isin(hood, [1, 3]).astype(float)
    days = 7 - 0.8 * triage + rng.normal(0, 0.7, 5)[hood] + rng.normal(0, 1, len(hood))
    path = folder / "wild.parquet"
    pd.DataFrame({"days_to_close": days, "triage": triage.astype(int), "hood": hood}).to_parquet(path)
    # Every one of the 6^5 Webb weight vectors, each by refitting OLS on its bootstrap sample.
    X = np.column_stack([np.ones_like(days), triage])
    fitted_r = np.full_like(days, days.mean())  # the model with the null imposed: intercept only
    webb = np.array([-math.sqrt(1.5), -1, -math.sqrt(0.5), math.sqrt(0.5), 1, math.sqrt(1.5)])
    V = webb[np.array(list(itertools.product(range(6), repeat=5)))]  # 7776 x 5
    Y = fitted_r[:, None] + (days - fitted_r)[:, None] * V[:, hood].T  # n x 7776
    pinv = np.linalg.pinv(X)
    B = pinv @ Y
    U = Y - X @ B
    per_cluster = np.stack([(pinv[1][hood == g, None] * U[hood == g]).sum(axis=0) for g in range(5)])
    t_star = B[1] / np.sqrt((per_cluster**2).sum(axis=0))
    beta = pinv @ days
    u = days - X @ beta
    t_obs = beta[1] / math.sqrt(sum((pinv[1][hood == g] @ u[hood == g]) ** 2 for g in range(5)))
    exact = float(np.mean(np.abs(t_star) >= abs(t_obs) * (1 - 1e-9)))
    assert 0.05 < exact < 0.95
    expected = {"effect": beta[1], "p_value": exact, "n_clusters": 5, "se_type": "wild", "ci_low": -2.0}
    plan = make_plan(cluster="hood", secondary=())
    code, report = run_in_process(reanalysis_script(plan, path, expected), path)
    assert_all_match(code, report, {"effect": 0, "p_value": 0, "n_clusters": 0, "se_type": 0})
    assert report["not_checked"] == ["ci_low"]  # the bootstrap interval is not recomputed, and says so


# ---- the real thing: a separate, isolated Python -------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_run(pilot: tuple[pd.DataFrame, Path], folder: Path) -> Iterator[tuple[Reanalysis, dict[str, Any]]]:
    frame, path = pilot
    expected = expected_hc2_difference(frame)
    yield reanalyse(freeze(make_plan()), path, expected, workdir=folder / "work"), expected


def test_reanalyse_runs_isolated_without_ridp_and_matches(
    real_run: tuple[Reanalysis, dict[str, Any]], folder: Path
) -> None:
    result, expected = real_run
    assert result.matches, result.differences
    assert result.differences == () and result.returncode == 0
    assert result.command[1] == "-I" and result.command[2].endswith(f"reanalyse_{make_plan().sha256[:12]}.py")
    assert (folder / "work" / Path(result.command[2]).name).read_text() == result.script
    report = json.loads(result.output)
    assert report["isolated"] is True and report["ridp_modules"] == []
    assert set(report["versions"]) == {"python", "numpy", "pandas", "pyarrow", "statsmodels"}
    assert result.recomputed["effect"] == pytest.approx(expected["effect"], rel=RTOL)
    assert result.warnings == ("3 rows without the primary outcome were dropped",)
    assert "every reported number matches" in result.summary()
    assert Reanalysis.from_dict(json.loads(json.dumps(result.to_dict()))) == result
    assert list(result.tidy()["name"]) == list(expected)  # in the order given
    assert result.chart().to_dict()["layer"][0]["mark"]["type"] == "rule"


def test_a_tampered_number_is_named(pilot: tuple[pd.DataFrame, Path]) -> None:
    """Run here, where ridp is loaded: the record names the tampered number, and the ridp modules it saw."""
    frame, path = pilot
    expected = expected_hc2_difference(frame)
    expected["se"] *= 1.001
    plan = make_plan()
    script = reanalysis_script(plan, path, expected)
    code, report = run_in_process(script, path)
    record = reanalysis_module._Record(script, plan.sha256, ("in this process",), expected)
    result = reanalysis_module._from_report(record, json.dumps(report), "", code)
    assert not result.matches and result.returncode == 1
    assert result.differences[0].startswith("se: reported ")
    assert "tolerance" in result.differences[0] and "1e-06 relative" in result.differences[0]
    assert result.differences[1].startswith("the script loaded ridp modules: ridp")
    assert len(result.differences) == 2
    assert "does NOT match" in result.summary() and "  - se: reported" in result.summary()
    assert list(result.tidy().query("not matches")["name"]) == ["se"]
    crashed = reanalysis_module._from_report(record, "", "Traceback ...\nMemoryError", 1)
    assert crashed.differences == ("the script stopped without a result (exit 1): MemoryError",)


def test_script_imports_only_allowed_modules_and_never_ridp(pilot: tuple[pd.DataFrame, Path]) -> None:
    _, path = pilot
    script = reanalysis_script(make_plan(cluster="hood", se="CR1"), path, {"effect": 1.0})
    assert imports_of(script) == {
        "hashlib", "json", "math", "platform", "sys", "pathlib", "warnings", "numpy", "pandas", "pyarrow",
        "statsmodels", "pyfixest", "scipy",
    }  # fmt: skip
    assert imports_of(script) - {"hashlib", "json", "math", "platform", "sys", "pathlib", "warnings"} <= ALLOWED_IMPORTS
    assert "ridp" not in imports_of(script)
    sha = make_plan(cluster="hood", se="CR1").sha256
    assert script.splitlines()[2] == f"# Plan SHA-256: {sha}"
    assert f'PLAN_SHA256 = "{sha}"' in script


def test_a_title_cannot_inject_code(pilot: tuple[pd.DataFrame, Path]) -> None:
    _, path = pilot
    plan = make_plan(title="Triage @@PLAN@@\nimport ridp\u2028@@SETTINGS@@ \x1b")
    script = reanalysis_script(plan, path, {"effect": 1.0})
    assert "ridp" not in imports_of(script)
    assert script.splitlines()[3] == "# Plan: Triage @@PLAN@@ import ridp @@SETTINGS@@"
    assert json.loads(script.split('PLAN = json.loads(r"""', 1)[1].split('""")', 1)[0])["title"] == plan.title


def test_imports_of_sees_every_way_to_import() -> None:
    text = (
        "import os.path, numpy as np\nfrom ridp.evaluation import plan\ndef f():\n    import json\n"
        "    __import__('ridp.errors')\n    importlib.import_module('scipy.stats')\nfrom . import sibling\n"
    )
    assert imports_of(text) == {"os", "numpy", "ridp", "json", "scipy", "."}
    with pytest.raises(FieldError, match="script: is not Python"):
        imports_of("import (")


def test_reanalyse_refuses_a_script_that_imports_ridp(
    pilot: tuple[pd.DataFrame, Path], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, path = pilot
    tainted = reanalysis_module._SCRIPT.replace("import hashlib\n", "import hashlib\nimport ridp.evaluation\n", 1)
    monkeypatch.setattr(reanalysis_module, "_SCRIPT", tainted)
    with pytest.raises(RidpError, match="imports ridp: it would not be an independent rerun"):
        reanalyse(make_plan(), path, {"effect": 1.0}, workdir=folder / "tainted")
    assert not (folder / "tainted").exists() or not list((folder / "tainted").iterdir())


# ---- what the script is told, and what it checks besides numbers -----------------------------------------------


def test_reported_names_are_checked_against_the_plan(pilot: tuple[pd.DataFrame, Path]) -> None:
    frame, path = pilot
    expected = {**expected_hc2_difference(frame), "outcome": "reopened", "treatment": "triage", "spec": {"x": 1}}
    code, report = run_in_process(reanalysis_script(make_plan(), path, expected), path)
    assert code == 1
    assert [(r["name"], r["expected"], r["recomputed"]) for r in report["comparison"] if not r["matches"]] == [
        ("outcome", "reopened", "days_to_close")
    ]


def test_missing_columns_and_an_edited_plan_are_reported(pilot: tuple[pd.DataFrame, Path], folder: Path) -> None:
    _, path = pilot
    code, report = run_in_process(reanalysis_script(make_plan(treatment="crew"), path, {"effect": 1.0}), path)
    assert code == 1 and "columns ['crew'] are not in the data" in report["error"]
    edited = reanalysis_script(make_plan(), path, {"effect": 1.0}).replace('"alpha": 0.05', '"alpha": 0.1', 1)
    code, report = run_in_process(edited, path)
    assert code == 1 and report["plan_sha256_recomputed"] != report["plan_sha256"]


def test_arguments_are_checked(pilot: tuple[pd.DataFrame, Path], folder: Path) -> None:
    _, path = pilot
    clustered_auto = make_plan(cluster="hood")
    with pytest.raises(FieldError, match="se_type: the plan's se is auto"):
        reanalysis_script(clustered_auto, path, {"effect": 1.0})
    assert '"se_type": "CR2"' in reanalysis_script(clustered_auto, path, {"effect": 1.0, "se_type": "CR2"})
    numpy_numbers = reanalysis_script(make_plan(), path, {"effect": np.float64(-1.5), "n": np.int64(157)})
    assert '"n": 157' in numpy_numbers and '"effect": -1.5' in numpy_numbers
    with pytest.raises(FieldError, match="expected: has no effect"):
        reanalysis_script(make_plan(), path, {"se": 1.0})
    with pytest.raises(FieldError, match="expected: se is 'big', not a number"):
        reanalysis_script(make_plan(), path, {"effect": 1.0, "se": "big"})
    frozen = freeze(make_plan())
    edited = type(frozen)(make_plan(alpha=0.1), frozen.sha256, frozen.frozen_at)
    with pytest.raises(FieldError, match="plan: has changed since it was frozen"):
        reanalyse(edited, path, {"effect": 1.0}, workdir=folder)
    with pytest.raises(FieldError, match="parquet: there is no file"):
        reanalyse(make_plan(), folder / "missing.parquet", {"effect": 1.0}, workdir=folder)
