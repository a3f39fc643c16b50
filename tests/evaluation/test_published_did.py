"""Difference-in-differences against published results (../shared/data/studies, SOURCES.md).

Each test states the published number and the tolerance: "to the printed digits" means the difference is below
half a unit of the last printed digit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ridp.errors import FieldError, InputError
from ridp.evaluation.did import did, staggered_weights, twfe
from ridp.evaluation.estimators import Estimate
from ridp.evaluation.quasi import QuasiEstimate
from ridp.evaluation.residents import in_residents_terms


def printed(value: float, published: float, digits: int) -> None:
    """``value`` rounds to ``published`` at ``digits`` decimals (as printed in the source)."""
    assert abs(value - published) <= 0.5 * 10**-digits + 1e-12, (value, published)


@pytest.fixture(scope="module")
def studies(shared_data: Path) -> Path:
    return shared_data / "studies"


def test_card_krueger_means_and_regression(studies: Path) -> None:
    data = pd.read_csv(studies / "card_krueger" / "njmin3.csv")
    result = did(data, outcome="fte", group="nj", post="d", se="iid")
    cells = {(c["group"], c["period"]): c["mean"] for c in result.detail}
    printed(cells["comparison", "before"], 23.33, 2)
    printed(cells["comparison", "after"], 21.17, 2)
    printed(cells["treated", "before"], 20.44, 2)
    printed(cells["treated", "after"], 21.03, 2)
    printed(result.effect, 2.754, 3)
    assert result.se is not None
    printed(result.se, 1.688, 3)
    assert result.n == 794
    # 26 rows without FTE are dropped, and said so
    assert any("26 of 820 rows" in w for w in result.warnings)
    # the regression's product term is the difference of the cell means' differences
    by_means = (cells["treated", "after"] - cells["treated", "before"]) - (
        cells["comparison", "after"] - cells["comparison", "before"]
    )
    assert result.effect == pytest.approx(by_means, rel=1e-10)


def test_wooldridge_13_3_kielmc(studies: Path) -> None:
    data = pd.read_csv(studies / "wooldridge" / "kielmc.csv")
    result = did(data, outcome="rprice", group="nearinc", post="y81", se="iid")
    printed(result.effect, -11863.90, 2)
    assert result.se is not None
    printed(result.se, 7456.65, 2)
    assert result.n == 321


def test_wooldridge_13_4_injury_kentucky(studies: Path) -> None:
    data = pd.read_csv(studies / "wooldridge" / "injury.csv")
    result = did(data[data["ky"] == 1], outcome="ldurat", group="highearn", post="afchnge", se="iid")
    printed(result.effect, 0.191, 3)
    assert result.se is not None
    printed(result.se, 0.069, 3)
    assert result.n == 5626


def test_mississippi_banks_did_is_19(studies: Path) -> None:
    """Banks in business on 1 July 1930 and 1931, Sixth (Atlanta Fed) and Eighth (St Louis) districts."""
    daily = pd.read_csv(studies / "mississippi_banks" / "banks.csv")
    july = daily[(daily["month"] == 7) & (daily["day"] == 1) & daily["year"].isin([1930, 1931])]
    long = pd.concat(
        [
            pd.DataFrame({"banks": july["bib6"], "sixth": 1, "after": (july["year"] == 1931).astype(int)}),
            pd.DataFrame({"banks": july["bib8"], "sixth": 0, "after": (july["year"] == 1931).astype(int)}),
        ]
    )
    result = did(long, outcome="banks", group="sixth", post="after")
    cells = {(c["group"], c["period"]): c["mean"] for c in result.detail}
    assert cells == {("treated", "before"): 135, ("treated", "after"): 121, ("comparison", "before"): 165,
                     ("comparison", "after"): 132}  # fmt: skip
    assert result.effect == 19
    assert result.se is None and np.isnan(result.ci_low)
    assert "exact arithmetic" in result.warnings[0]


def organ(studies: Path) -> pd.DataFrame:
    data = pd.read_csv(studies / "organ_donations" / "organ_donation.csv")
    data["period"] = data["Quarter"].str[2:].astype(int) * 10 + data["Quarter"].str[1].astype(int)
    data["treated"] = ((data["State"] == "California") & (data["period"] >= 20113)).astype(int)
    return data


def test_organ_donations_twfe(studies: Path) -> None:
    """Kessler and Roth (2014) as in The Effect ch. 18: −0.0225, state-clustered SE ≈ 0.006 (fixest)."""
    data = organ(studies)
    result = twfe(data, outcome="Rate", unit="State", time="period", treatment="treated", se="CR1")
    printed(result.effect, -0.0225, 4)
    assert result.se == pytest.approx(0.006, abs=0.0005)
    assert result.n_clusters == 27
    # the wrapper agrees with pyfixest called directly
    import warnings

    import pyfixest as pf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=pd.errors.Pandas4Warning)  # pyfixest 0.60 on pandas 3.1
        direct = pf.feols("Rate ~ treated | State + period", data=data, vcov={"CRV1": "State"})
    assert result.effect == pytest.approx(float(direct.coef()["treated"]), rel=1e-8)
    assert result.se == pytest.approx(float(direct.se()["treated"]), rel=1e-8)


def test_twfe_default_with_few_clusters_is_the_wild_bootstrap_and_says_one_treated_cluster(studies: Path) -> None:
    result = twfe(organ(studies), outcome="Rate", unit="State", time="period", treatment="treated", reps=999)
    assert result.se_type == "wild" and result.se is None
    assert result.ci_low < result.effect < result.ci_high
    said = " ".join(result.warnings)
    assert "Only 27 clusters" in said and "Only one cluster" in said


def staggered_panel(seed: int = 3) -> pd.DataFrame:
    """Units adopting at periods 2, 6 or never, with an effect that grows with time since adoption."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(60):
        start = (2, 6, 0)[u % 3]
        for t in range(1, 9):
            on = start and t >= start
            rows.append({"unit": u, "t": t, "first": start, "d": int(bool(on)),
                         "y": u * 0.1 + t * 0.2 + (1.0 + (t - start)) * bool(on) + rng.normal(0, 0.1)})  # fmt: skip
    return pd.DataFrame(rows)


def test_twfe_warns_when_timing_is_staggered() -> None:
    result = twfe(staggered_panel(), outcome="y", unit="unit", time="t", treatment="d", se="CR1")
    assert any("starts at 2 different times" in w for w in result.warnings)
    panel = staggered_panel()
    cells, negative, weight = staggered_weights(
        panel["d"].to_numpy(float), panel["unit"].to_numpy(), panel["t"].to_numpy()
    )
    # the early cohort's last periods enter negatively (de Chaisemartin-D'Haultfœuille): 20 units × 3 periods
    assert (cells, negative) == (20 * 7 + 20 * 3, 60) and weight == pytest.approx(-0.2368, abs=1e-4)
    assert "60 of 200 treated cells enter with a negative weight" in " ".join(result.warnings)


def test_did_roundtrips_and_converts_to_residents_terms(studies: Path) -> None:
    result = did(pd.read_csv(studies / "card_krueger" / "njmin3.csv"), outcome="fte", group="nj", post="d")
    again = Estimate.from_dict(result.to_dict())
    assert isinstance(again, QuasiEstimate) and again == result
    terms = in_residents_terms(result, measure="full-time jobs", per="restaurant", better="higher", volume=410)
    assert terms.per_unit == pytest.approx(result.effect)
    assert "full-time jobs per restaurant" in terms.sentence
    assert result.chart().to_dict()["title"].startswith("Difference-in-differences")
    assert "Cell means" in result.summary()


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        (lambda d: d.assign(d=1), FieldError, "no pre-period"),
        (lambda d: d.assign(nj=1), FieldError, "never varies"),
        (lambda d: d[~((d["nj"] == 0) & (d["d"] == 1))], InputError, "no rows of the comparison group after"),
        (lambda d: d.assign(nj=d["nj"] * 2), FieldError, "must be 0/1"),
        (lambda d: d.assign(fte=d["fte"].astype(str)), FieldError, "not numeric"),
    ],
)
def test_did_bad_input(studies: Path, change, error, words) -> None:  # type: ignore[no-untyped-def]
    data = pd.read_csv(studies / "card_krueger" / "njmin3.csv").dropna(subset=["fte"])
    with pytest.raises(error, match=words):
        did(change(data), outcome="fte", group="nj", post="d")


def test_twfe_bad_input() -> None:
    panel = staggered_panel()
    with pytest.raises(FieldError, match="never varies"):
        twfe(panel.assign(d=0), outcome="y", unit="unit", time="t", treatment="d")
    with pytest.raises(InputError, match="repeats unit"):
        twfe(pd.concat([panel, panel.head(1)]), outcome="y", unit="unit", time="t", treatment="d")
    with pytest.raises(FieldError, match="no pre-period"):
        twfe(panel.assign(d=1 - (panel["unit"] == 0)), outcome="y", unit="unit", time="t", treatment="d")
    with pytest.raises(FieldError, match="absorbed by the unit and time effects"):
        twfe(panel.assign(d=(panel["unit"] < 30).astype(int)), outcome="y", unit="unit", time="t", treatment="d")


def test_twfe_refuses_a_text_outcome_and_says_when_singletons_are_dropped() -> None:
    panel = staggered_panel()
    with pytest.raises(FieldError, match="'y' is not numeric"):
        twfe(panel.assign(y=panel["y"].astype(str)), outcome="y", unit="unit", time="t", treatment="d")
    lonely = pd.concat([panel, pd.DataFrame([{"unit": 999, "t": 1, "first": 0, "d": 0, "y": 1.0}])])
    result = twfe(lonely, outcome="y", unit="unit", time="t", treatment="d", se="CR1")
    assert any("singleton" in w for w in result.warnings)
