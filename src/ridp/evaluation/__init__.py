"""Pilot design and experimental estimates: power, assignment, frozen analysis plans, estimators, reanalysis.

Part of the analytical core: Ibis tables (or pandas frames of a pilot's few hundred units) in, frozen results
out; never imports Django. The steps, in the order a team works them (PROGRAM.md §7)::

    from ridp import evaluation as ev
    study = ev.power_study(history, outcome="days_to_close", cluster="area_id", effects=[1, 2],
                           n_clusters=[20, 40], planned_effect=1.5)      # formula and 10,000 simulated draws
    study.adequate, study.summary()                                       # too little power is flagged
    chosen = ev.assign(units, unit="area_id", method="blocked", block="ward", seed=2026)
    ev.balance(units, chosen, ["population"]).summary(); ev.confirm(chosen.record(), units).matches
    plan = ev.AnalysisPlan.from_yaml(open("plan.yaml").read()); frozen = ev.freeze(plan)
    result = ev.evaluate(outcomes, plan)                                  # every outcome, Holm-corrected
    result.primary.summary(); result.residents[0].sentence                # in residents' terms
    ev.reanalyse(plan, "outcomes.parquet", {"effect": result.primary.effect}, workdir=Path("."))
"""

from ridp.evaluation.estimators import (
    Estimate,
    adjust,
    difference_in_means,
    estimate,
    holm,
    lin,
    randomisation_inference,
)
from ridp.evaluation.evaluate import Evaluation, evaluate
from ridp.evaluation.history import request_history
from ridp.evaluation.plan import AnalysisPlan, FrozenPlan, Outcome, changes, freeze
from ridp.evaluation.power import PowerStudy, mde, power, power_study, simulate_power
from ridp.evaluation.randomise import Assignment, Balance, Confirmation, assign, balance, confirm
from ridp.evaluation.reanalysis import Reanalysis, reanalyse, reanalysis_script
from ridp.evaluation.residents import ResidentTerms, in_residents_terms

__all__ = [
    "AnalysisPlan",
    "Assignment",
    "Balance",
    "Confirmation",
    "Estimate",
    "Evaluation",
    "FrozenPlan",
    "Outcome",
    "PowerStudy",
    "Reanalysis",
    "ResidentTerms",
    "adjust",
    "assign",
    "balance",
    "changes",
    "confirm",
    "difference_in_means",
    "estimate",
    "evaluate",
    "freeze",
    "holm",
    "in_residents_terms",
    "lin",
    "mde",
    "power",
    "power_study",
    "randomisation_inference",
    "reanalyse",
    "reanalysis_script",
    "request_history",
    "simulate_power",
]
