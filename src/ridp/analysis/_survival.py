"""Kaplan-Meier time to close, per group, computed on the engine.

A request still open at the analysis date has waited *at least* its age: dropping
it would make the slowest services look fast, counting its age as its time to
close would too. The Kaplan-Meier estimator keeps it as a censored observation.
Per group, durations are counted once per distinct value (closed ones as events,
open ones as censored), the number still at risk is a cumulative sum from the
longest duration down, and the survival curve is the running product of
``1 - closed / at_risk`` (a sum of logarithms, so every engine computes it with
window functions). The median (p90) is the first duration where the share still
open falls to 0.5 (0.1) or below; when it never does, the estimate is unknown
("more than the longest wait seen"), never a guess. The mean is the restricted
mean: the area under the curve up to the longest duration seen. The median's 95 %
interval is where Greenwood's band around the curve crosses one half.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

__all__ = ["km_summary"]

#: Room for rounding in the running product (S is compared with 0.5 and 0.1).
_EPS = 1e-9
Z95 = 1.959963984540054


def km_summary(
    table: ir.Table, keys: Sequence[str], days: str, closed: str, *, quantiles: Sequence[float] = ()
) -> ir.Table:
    """Per ``keys``: ``km_median`` with its 95 % interval (``km_median_low``, ``km_median_high``: where
    Greenwood's band crosses one half, as R's survfit does with a plain interval), ``km_p90``, ``km_mean``
    (restricted) of ``days``, and ``km_q{i}`` for each of ``quantiles``.

    ``table[closed]`` is true for a request that closed (an event) and false for one
    still open (censored at its age). Rows with a null ``days`` must be filtered out first.
    """
    keys = list(keys)
    steps = table.group_by([*keys, days]).aggregate(
        __km_events=table[closed].sum().cast("int64"), __km_rows=table.count().cast("int64")
    )
    # At risk at t: every row whose duration is t or longer.
    down = ibis.cumulative_window(group_by=keys or None, order_by=ibis.desc(steps[days]))
    steps = steps.mutate(__at_risk=steps["__km_rows"].sum().over(down))
    up = ibis.cumulative_window(group_by=keys or None, order_by=steps[days])
    d, n = steps["__km_events"].cast("float64"), steps["__at_risk"].cast("float64")
    log_factor = ibis.cases((d < n, (1.0 - d / n).ln()), else_=0.0)
    ends = ibis.cases(((d >= n) & (d > 0), 1), else_=0)
    greenwood = ibis.cases((d < n, d / (n * (n - d))), else_=0.0)
    steps = steps.mutate(__log_s=log_factor.sum().over(up), __ended=ends.max().over(up), __gw=greenwood.sum().over(up))
    survival = ibis.cases((steps["__ended"] > 0, 0.0), else_=steps["__log_s"].exp())
    steps = steps.mutate(__s=survival)
    # Greenwood's standard error of S(t); the median's 95 % interval is where the band S ± 1.96·se crosses 0.5
    se = steps["__s"] * steps["__gw"].sqrt()
    before = ibis.window(group_by=keys or None, order_by=steps[days])
    s_prev = steps["__s"].lag().over(before).fill_null(1.0)
    t_prev = steps[days].lag().over(before).fill_null(0.0)
    steps = steps.mutate(__area=s_prev * (steps[days] - t_prev))
    s = steps["__s"]
    stats = {
        "km_median": steps[days].min(where=s <= 0.5 + _EPS),
        "km_p90": steps[days].min(where=s <= 0.1 + _EPS),
        "km_mean": steps["__area"].sum(),
        "km_median_low": steps[days].min(where=s - Z95 * se <= 0.5 + _EPS),
        "km_median_high": steps[days].min(where=s + Z95 * se <= 0.5 + _EPS),
    }
    for i, q in enumerate(quantiles):
        stats[f"km_q{i}"] = steps[days].min(where=s <= 1.0 - q + _EPS)
    return steps.group_by(keys).aggregate(**stats) if keys else steps.aggregate(**stats)
