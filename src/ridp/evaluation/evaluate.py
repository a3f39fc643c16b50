"""A pilot's outcome analysis under its frozen plan: every outcome, corrected for several, in residents' terms.

:func:`evaluate` reads the plan (:class:`~ridp.evaluation.plan.AnalysisPlan`) and nothing else: the estimator,
its standard errors, the covariates, alpha and the correction all come from it, so the analysis cannot drift
from what was written down before the outcomes were seen. The primary outcome comes first; the correction
(Holm by default) runs over the primary and the secondary outcomes together.

Examples
--------
>>> import pandas as pd
>>> from ridp.evaluation.plan import AnalysisPlan
>>> plan = AnalysisPlan.from_dict({"title": "Crew pilot", "questions": ["Does the crew close faster?"],
...     "hypotheses": ["Treated requests close sooner"], "treatment": "treated",
...     "estimator": "difference_in_means", "alpha": 0.05,
...     "primary": {"column": "days", "label": "Days to close", "measure": "days of waiting",
...                 "per": "request", "volume": 1000, "volume_label": "requests per year"}})
>>> data = pd.DataFrame({"treated": [0, 1] * 20, "days": [5.0, 3.0, 6.0, 4.0] * 10})
>>> result = evaluate(data, plan)
>>> round(result.primary.effect, 2), round(result.residents[0].total)
(-2.0, 2000)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from ridp.evaluation._design import QUASI
from ridp.evaluation.did import did, twfe
from ridp.evaluation.estimators import Estimate, adjust, estimate, randomisation_inference
from ridp.evaluation.its import interrupted_time_series
from ridp.evaluation.plan import AnalysisPlan, Outcome
from ridp.evaluation.residents import ResidentTerms, in_residents_terms
from ridp.evaluation.staggered import callaway_santanna, sun_abraham
from ridp.evaluation.synth import synthetic_control

__all__ = ["Evaluation", "evaluate"]


@dataclass(frozen=True, eq=False)
class Evaluation:
    """The estimates a plan asked for, in its order (primary first), with residents' terms where the plan
    says what residents feel (an outcome's ``measure``)."""

    plan_sha256: str
    estimates: tuple[Estimate, ...]
    residents: tuple[ResidentTerms | None, ...]
    correction: str
    warnings: tuple[str, ...] = field(default=())

    @property
    def primary(self) -> Estimate:
        return self.estimates[0]

    @property
    def secondary(self) -> tuple[Estimate, ...]:
        return self.estimates[1:]

    def summary(self) -> str:
        lines = [f"Plan {self.plan_sha256[:12]}: {len(self.estimates)} outcome(s), correction: {self.correction}"]
        for position, (item, terms) in enumerate(zip(self.estimates, self.residents, strict=True)):
            lines.append(("Primary" if position == 0 else "Secondary") + f" outcome {item.outcome}:")
            lines.extend("  " + line for line in item.summary().splitlines())
            if terms is not None:
                lines.append(f"  In residents' terms: {terms.sentence}")
        lines.extend(f"Warning: {text}" for text in self.warnings)
        return "\n".join(lines)

    def tidy(self) -> pd.DataFrame:
        frame = pd.concat([item.tidy() for item in self.estimates], ignore_index=True)
        frame.insert(0, "role", ["primary"] + ["secondary"] * (len(self.estimates) - 1))
        return frame

    def chart(self) -> Any:
        """The primary outcome's effect and interval (each estimate has its own ``chart()``)."""
        return self.primary.chart()

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_sha256": self.plan_sha256,
            "correction": self.correction,
            "estimates": [item.to_dict() for item in self.estimates],
            "residents": [None if terms is None else terms.to_dict() for terms in self.residents],
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        return cls(
            plan_sha256=str(data["plan_sha256"]),
            estimates=tuple(Estimate.from_dict(item) for item in data["estimates"]),
            residents=tuple(None if item is None else ResidentTerms.from_dict(item) for item in data["residents"]),
            correction=str(data["correction"]),
            warnings=tuple(data.get("warnings", ())),
        )


def _quasi(data: pd.DataFrame, plan: AnalysisPlan, outcome: Outcome, *, seed: int) -> Estimate:
    """A quasi-experimental estimate as the plan's estimator, treatment and ``design`` say (see ``_design``)."""
    d = dict(plan.design)
    y, alpha = outcome.column, plan.alpha
    if plan.estimator == "did":
        return did(data, outcome=y, group=plan.treatment, post=d["post"], covariates=plan.covariates,
                   cluster=plan.cluster, se=plan.se, alpha=alpha, seed=seed)  # type: ignore[arg-type]  # fmt: skip
    assert plan.estimator == "synth" or plan.estimator == "its" or plan.unit is not None
    if plan.estimator == "twfe":
        return twfe(data, outcome=y, unit=plan.unit, time=d["time"], treatment=plan.treatment,  # type: ignore[arg-type]
                    covariates=plan.covariates, cluster=plan.cluster, se=plan.se, alpha=alpha, seed=seed)  # type: ignore[arg-type]  # fmt: skip
    if plan.estimator == "callaway_santanna":
        options = {k: d[k] for k in ("control", "aggregation", "base", "reps") if k in d}
        return callaway_santanna(data, outcome=y, unit=plan.unit, time=d["time"], first_treated=plan.treatment,  # type: ignore[arg-type]
                                 alpha=alpha, seed=seed, **options)  # fmt: skip
    if plan.estimator == "sun_abraham":
        return sun_abraham(data, outcome=y, unit=plan.unit, time=d["time"], first_treated=plan.treatment,  # type: ignore[arg-type]
                           alpha=alpha)  # fmt: skip
    if plan.estimator == "its":
        options = {k: d[k] for k in ("family", "offset", "season", "period", "harmonics", "slope_change", "hac_lags")
                   if k in d}  # fmt: skip
        return interrupted_time_series(data, outcome=y, time=d["time"], post=plan.treatment, se=plan.se,  # type: ignore[arg-type]
                                       alpha=alpha, **options)  # fmt: skip
    special = [tuple(s) for s in d.get("special", ())]
    period = tuple(d["predictor_period"]) if "predictor_period" in d else None
    return synthetic_control(data, outcome=y, unit=plan.treatment, time=d["time"], treated_unit=plan.treated,
                             start=d["start"], predictors=d.get("predictors", ()), predictor_period=period,
                             special=special, starts=d.get("starts", 3), seed=seed, alpha=alpha)  # fmt: skip


def _one(data: ir.Table | pd.DataFrame, plan: AnalysisPlan, outcome: Outcome, *, seed: int) -> Estimate:
    if plan.estimator in QUASI:
        assert isinstance(data, pd.DataFrame)
        return _quasi(data, plan, outcome, seed=seed)
    if plan.estimator == "randomisation":
        return randomisation_inference(
            data, outcome=outcome.column, treatment=plan.treatment, block=plan.block, cluster=plan.cluster,
            alpha=plan.alpha, treated=plan.treated, seed=seed,
        )  # fmt: skip
    return estimate(
        data, outcome=outcome.column, treatment=plan.treatment, estimator=plan.estimator,  # type: ignore[arg-type]
        covariates=plan.covariates, cluster=plan.cluster, se=plan.se,  # type: ignore[arg-type]
        alpha=plan.alpha, treated=plan.treated, seed=seed, block=plan.block,
    )  # fmt: skip


def evaluate(data: ir.Table | pd.DataFrame, plan: AnalysisPlan, *, seed: int = 0) -> Evaluation:
    """Every outcome of ``plan`` estimated on ``data`` as the plan says, corrected, in residents' terms.

    Parameters
    ----------
    data
        The pilot's outcome data: one row per unit (or per request, with the plan's cluster column), holding the
        plan's treatment, outcome, covariate and cluster columns.
    plan
        The frozen analysis plan (or the plan as its latest recorded deviation left it).
    seed
        For the methods that draw (the wild bootstrap, randomisation inference): the same seed, the same numbers.
    """
    if isinstance(data, ir.Table):
        columns = sorted(plan.columns() & set(data.columns))
        frame = data.select(*columns).to_pandas()
    else:
        frame = data
    plan.check_columns(list(frame.columns))
    outcomes: Sequence[Outcome] = (plan.primary, *plan.secondary)
    raw = [_one(frame, plan, outcome, seed=seed) for outcome in outcomes]
    estimates = adjust(raw, plan.correction) if len(raw) > 1 else tuple(raw)
    residents = tuple(
        None
        if outcome.measure is None
        else in_residents_terms(
            item,
            measure=outcome.measure,
            per=outcome.per or "unit",
            better=outcome.better,
            volume=outcome.volume,
            volume_label=outcome.volume_label,
        )
        for outcome, item in zip(outcomes, estimates, strict=True)
    )
    return Evaluation(
        plan_sha256=plan.sha256, estimates=tuple(estimates), residents=residents, correction=plan.correction
    )
