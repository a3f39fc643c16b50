"""The standalone reanalysis covers the quasi-experimental estimators: each script imports no ridp module,
recomputes the primary result from the Parquet file with statsmodels, pyfixest or scipy, and matches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ridp.evaluation import AnalysisPlan, evaluate
from ridp.evaluation.reanalysis import imports_of, reanalyse, reanalysis_script

BASE: dict[str, Any] = {"title": "t", "questions": ["q"], "hypotheses": ["h"], "alpha": 0.05}


def _organ(studies: Path) -> pd.DataFrame:
    data = pd.read_csv(studies / "organ_donations" / "organ_donation.csv")
    data["period"] = data["Quarter"].str[2:].astype(int) * 10 + data["Quarter"].str[1].astype(int)
    data["treated"] = ((data["State"] == "California") & (data["period"] >= 20113)).astype(int)
    return data


CASES: dict[str, tuple[str, dict[str, Any], Any]] = {
    "did, CR2 by store chain": ("card_krueger/njmin3.csv", {
        "primary": {"column": "fte", "label": "FTE"}, "treatment": "nj", "estimator": "did", "cluster": "chain",
        "design": {"post": "d"}}, lambda d: d.assign(chain=d[["bk", "kfc", "roys", "wendys"]].to_numpy().argmax(1) + 4 * d["nj"])),
    "twfe, wild bootstrap": ("organ", {
        "primary": {"column": "Rate", "label": "Rate"}, "treatment": "treated", "unit": "State", "estimator": "twfe",
        "design": {"time": "period"}}, None),
    "callaway_santanna": ("mpdta/mpdta.csv", {
        "primary": {"column": "lemp", "label": "Employment"}, "treatment": "first_treat", "unit": "countyreal",
        "estimator": "callaway_santanna", "design": {"time": "year", "reps": 199}}, None),
    "sun_abraham": ("mpdta/mpdta.csv", {
        "primary": {"column": "lemp", "label": "Employment"}, "treatment": "first_treat", "unit": "countyreal",
        "estimator": "sun_abraham", "design": {"time": "year"}}, None),
    "its, quasi-Poisson": ("sicily_its/sicily.csv", {
        "primary": {"column": "aces", "label": "Events"}, "treatment": "smokban", "estimator": "its",
        "design": {"time": "time", "family": "quasipoisson", "offset": "stdpop", "season": "month"}}, None),
    "synth": ("prop99/smoking_data_long.csv", {
        "primary": {"column": "cigsale", "label": "Packs"}, "treatment": "state", "treated": "California",
        "estimator": "synth", "design": {"time": "year", "start": 1989, "starts": 1,
                                         "predictors": ["retprice"], "special": [["cigsale", 1975, 1975]]}},
        lambda d: d.assign(year=d["year"].astype(int))),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_the_script_recomputes_the_quasi_estimate(case: str, shared_data: Path, tmp_path: Path) -> None:
    source, fields, change = CASES[case]
    studies = shared_data / "studies"
    data = _organ(studies) if source == "organ" else pd.read_csv(studies / source)
    if change is not None:
        data = change(data)
    plan = AnalysisPlan.from_dict({**BASE, **fields})
    primary = evaluate(data, plan).primary
    parquet = tmp_path / "data.parquet"
    data.to_parquet(parquet)
    expected = {k: getattr(primary, k) for k in ("effect", "se", "ci_low", "ci_high", "p_value", "n")}
    script = reanalysis_script(plan, parquet, expected, se_type=primary.se_type)
    assert not any(name.startswith("ridp") for name in imports_of(script))
    done = reanalyse(plan, parquet, expected, workdir=tmp_path, se_type=primary.se_type,
                     estimate_seed=int(primary.spec.get("seed") or 0))  # fmt: skip
    assert done.matches, done.summary() if hasattr(done, "summary") else done
    checked = {row["name"] for row in done.comparison}  # type: ignore[attr-defined]
    assert {"effect", "n"} <= checked
    if primary.estimator not in ("callaway_santanna",):
        assert "p_value" in checked
