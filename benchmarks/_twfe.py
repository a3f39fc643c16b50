"""The evaluation benchmark's TWFE part: two-way fixed effects, errors clustered by unit, ridp against its references.

What is measured (PERFORMANCE.md: "two-way fixed-effects DiD, 1.04M-row panel, clustered SE", goal ≤ 1.1×
pyfixest): a difference in differences by two-way fixed effects, ``y ~ d | unit + week`` with CR1 errors
clustered by unit, on a balanced panel of :data:`UNITS` units × :data:`WEEKS` weeks (1,040,000 rows).

The panel (:func:`panel`) is synthetic and the same in every child: numpy with seed :data:`SEED`. A unit effect
(normal, SD 1) and a week effect (a slow trend plus a yearly cycle plus normal noise of SD 0.2), half the units
(drawn at random) treated from the middle week on (week 53 of 104: a single adoption date, so ridp sees no
staggered timing), a true effect of :data:`EFFECT`, and normal noise of SD 1. One row per unit and week, columns
``unit`` and ``week`` (int64), ``d`` (0/1, int64) and ``y`` (float64), sorted by unit then week.

The contenders, each a fresh process (``python _twfe.py NAME UNITS WEEKS``), each building that frame first
(not timed as work) and then timing its estimate:

``ridp``
    ``ridp.evaluation.did.twfe(frame, outcome="y", unit="unit", time="week", treatment="d", se="CR1")``:
    pyfixest's ``feols`` on a frame of safe column names, with ridp's input checks (0/1 treatment, one row per
    unit and week, a pre-period, the treatment not absorbed by the effects) and its result's facts. ridp
    imports pyfixest inside ``twfe``, and pyfixest loads its estimation package lazily, at the first ``feols``:
    both children import ``pyfixest.estimation`` before the clock starts, so neither's work time holds that
    import (about 1.5 s).
``pyfixest``
    ``pyfixest.feols("y ~ d | unit + week", data=frame, vcov={"CRV1": "unit"})``, then ``coef()`` and ``se()``.
``linearmodels``
    ``PanelOLS(y, d, entity_effects=True, time_effects=True).fit(cov_type="clustered", cluster_entity=True)``
    on the frame indexed by ``(unit, week)`` (the ``set_index`` is part of its work: PanelOLS needs it).

The last line a contender prints is JSON: ``rows``, ``import_s`` (from the child's ``main`` to its imports
done), ``build_s`` (the frame), ``work_s`` (the estimate alone), ``coef`` and ``se``. The estimates must agree
(:func:`agreement`): every coefficient within :data:`COEF_RTOL` (relative) of pyfixest's, ridp's standard
error within :data:`SE_RTOL` of pyfixest's. linearmodels' clustered SE has its own small-sample convention
(its degrees-of-freedom factor counts the unit effects, which fixest leaves out as they are nested in the
clusters), so its SE is printed with its ratio to pyfixest's, never checked.

Only the standard library is imported at the top: the benchmark process (``evaluation.py``) imports this
module and must stay small.

Examples
--------
>>> adoption_week(104), adoption_week(20)
(53, 11)
>>> relative_gap(1.0, 1.0 + 1e-9) < 1e-8
True
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import aligned, fmt_ratio, ridp_env
from _harness import Run, Runs, describe_exit, measure, median

__all__ = [
    "COEF_RTOL",
    "EFFECT",
    "GOAL_RATIO",
    "SE_RTOL",
    "SMOKE_UNITS",
    "SMOKE_WEEKS",
    "TWFE_SPECS",
    "UNITS",
    "WEEKS",
    "TwfeContender",
    "TwfePart",
    "adoption_week",
    "agreement",
    "relative_gap",
    "run_twfe",
]

SCRIPT = Path(__file__).resolve()
HERE = SCRIPT.parent
SEED = 2026
UNITS, WEEKS = 10_000, 104  # 1,040,000 rows
SMOKE_UNITS, SMOKE_WEEKS = 500, 20
EFFECT = 0.5
GOAL_RATIO = 1.1  # ridp's work time at most this many times pyfixest's
COEF_RTOL = 1e-6  # every coefficient within this of pyfixest's (relative)
SE_RTOL = 1e-8  # ridp's SE within this of pyfixest's (relative); linearmodels' is printed, not checked
REFERENCE = "pyfixest"


@dataclass(frozen=True)
class TwfeSpec:
    key: str
    label: str


TWFE_SPECS = (
    TwfeSpec("ridp", "ridp did.twfe (CR1)"),
    TwfeSpec("pyfixest", 'pyfixest feols (CRV1 "unit")'),
    TwfeSpec("linearmodels", "linearmodels PanelOLS (clustered)"),
)


@dataclass
class TwfeContender(Runs):
    spec: TwfeSpec

    @property
    def peak_rss_mb(self) -> float:
        return max(r.peak_rss_mb for r in self.ok_runs)

    def median_of(self, name: str) -> float:
        return median([float(v) for v in self.extra(name)])

    @property
    def work_s(self) -> float:
        return self.median_of("work_s")

    @property
    def facts(self) -> dict[str, Any]:
        """What its last successful run reported (:func:`check` makes its runs agree with one another)."""
        return self.ok_runs[-1].extra


def adoption_week(weeks: int) -> int:
    """The week the treated units start (weeks count from 1): the first of the second half."""
    return weeks // 2 + 1


def relative_gap(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


# --- the children -------------------------------------------------------------------------------------------------


def panel(units: int, weeks: int) -> Any:
    """The synthetic panel as a pandas frame: the same numbers in every child (numpy, seed :data:`SEED`)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED)
    unit_effect = rng.normal(0.0, 1.0, units)
    w = np.arange(1, weeks + 1)
    week_effect = 0.01 * w + 0.3 * np.sin(2 * np.pi * w / 52) + rng.normal(0.0, 0.2, weeks)
    treated = np.zeros(units, dtype=bool)
    treated[rng.permutation(units)[: units // 2]] = True
    unit = np.repeat(np.arange(units, dtype=np.int64), weeks)
    week = np.tile(w.astype(np.int64), units)
    d = (treated[unit] & (week >= adoption_week(weeks))).astype(np.int64)
    y = unit_effect[unit] + week_effect[week - 1] + EFFECT * d + rng.normal(0.0, 1.0, units * weeks)
    return pd.DataFrame({"unit": unit, "week": week, "d": d, "y": y})


def run_ridp(units: int, weeks: int, imported: Callable[[], None]) -> dict[str, Any]:
    import pyfixest.estimation  # noqa: F401  (twfe imports it inside: here, so that the work time holds no import)

    from ridp.evaluation.did import twfe

    imported()
    frame = panel(units, weeks)
    built = time.perf_counter()
    result = twfe(frame, outcome="y", unit="unit", time="week", treatment="d", se="CR1")
    done = time.perf_counter()
    return {
        "build_end": built,
        "work_s": done - built,
        "coef": result.effect,
        "se": result.se,
        "n": result.n,
        "clusters": result.n_clusters,
        "warnings": list(result.warnings),
    }


def run_pyfixest(units: int, weeks: int, imported: Callable[[], None]) -> dict[str, Any]:
    import pyfixest as pf
    import pyfixest.estimation  # pyfixest loads it lazily, at the first pf.feols: here, before the clock

    imported()
    frame = panel(units, weeks)
    built = time.perf_counter()
    fit = pf.feols("y ~ d | unit + week", data=frame, vcov={"CRV1": "unit"})
    coef, se = float(fit.coef()["d"]), float(fit.se()["d"])
    done = time.perf_counter()
    return {"build_end": built, "work_s": done - built, "coef": coef, "se": se, "n": int(fit._N)}


def run_linearmodels(units: int, weeks: int, imported: Callable[[], None]) -> dict[str, Any]:
    from linearmodels.panel import PanelOLS

    imported()
    frame = panel(units, weeks)
    built = time.perf_counter()
    data = frame.set_index(["unit", "week"])
    fit = PanelOLS(data["y"], data[["d"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True
    )
    coef, se = float(fit.params["d"]), float(fit.std_errors["d"])
    done = time.perf_counter()
    return {"build_end": built, "work_s": done - built, "coef": coef, "se": se, "n": int(fit.nobs)}


RUNNERS: dict[str, Callable[[int, int, Callable[[], None]], dict[str, Any]]] = {
    "ridp": run_ridp,
    "pyfixest": run_pyfixest,
    "linearmodels": run_linearmodels,
}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in RUNNERS:
        print(f"usage: _twfe.py {{{','.join(RUNNERS)}}} UNITS WEEKS", file=sys.stderr)
        return 2
    start = time.perf_counter()
    marks: dict[str, float] = {}

    def imported() -> None:  # the runner calls it once its imports are done
        marks["imported"] = time.perf_counter()

    facts = RUNNERS[argv[0]](int(argv[1]), int(argv[2]), imported)
    built = facts.pop("build_end")
    facts = {
        "rows": int(argv[1]) * int(argv[2]),
        "import_s": marks["imported"] - start,
        "build_s": built - marks["imported"],
        **facts,
    }
    print(json.dumps(facts, default=str))
    return 0


# --- the part, run from evaluation.py -----------------------------------------------------------------------------


def check(c: TwfeContender, run: Run, rows: int) -> str | None:
    """Why this run failed, or None: its own report, then its earlier runs (the data never change)."""
    if not run.ok:
        return describe_exit(run.exit_code)
    if not {"coef", "se", "work_s", "n"} <= set(run.extra):
        return "it printed no result line"
    if int(run.extra["n"]) != rows:
        return f"it estimated on {run.extra['n']:,} rows, not {rows:,}"
    if c.measured and relative_gap(float(run.extra["coef"]), float(c.facts["coef"])) > COEF_RTOL:
        return f"its coefficient {run.extra['coef']!r} differs from its earlier run's {c.facts['coef']!r}"
    return None


def run_twfe(contenders: Sequence[TwfeContender], units: int, weeks: int, repeat: int) -> TwfePart:
    """Run each contender ``repeat`` times, interleaved (a slow spell hits all alike), each a fresh process."""
    for k in range(repeat):
        for c in contenders:
            run = measure([sys.executable, str(SCRIPT), c.spec.key, str(units), str(weeks)], env=ridp_env(), cwd=HERE)
            if run.ok:
                try:
                    run.extra = json.loads(run.stdout.strip().splitlines()[-1])
                except (IndexError, json.JSONDecodeError):
                    run.extra = {}
            c.record(c.spec.key, k, repeat, run, check(c, run, units * weeks))
    return TwfePart(contenders, units, weeks, repeat)


def agreement(contenders: Sequence[TwfeContender]) -> dict[str, list[str] | None]:
    """Per measured contender but pyfixest: how its estimate differs from pyfixest's beyond the tolerances.

    [] when it agrees, None when it cannot be checked (pyfixest was not measured). The coefficient is checked
    for every contender, the standard error for ridp only (linearmodels' has its own small-sample factor).
    """
    by_key = {c.spec.key: c for c in contenders if c.measured}
    reference = by_key.get(REFERENCE)
    found: dict[str, list[str] | None] = {}
    for key, c in by_key.items():
        if key == REFERENCE:
            continue
        if reference is None:
            found[key] = None
            continue
        differences = []
        gap = relative_gap(float(c.facts["coef"]), float(reference.facts["coef"]))
        if gap > COEF_RTOL:
            differences.append(f"coefficient {c.facts['coef']!r} vs {reference.facts['coef']!r} (relative {gap:.1e})")
        if key == "ridp":
            gap = relative_gap(float(c.facts["se"]), float(reference.facts["se"]))
            if gap > SE_RTOL:
                differences.append(f"SE {c.facts['se']!r} vs {reference.facts['se']!r} (relative {gap:.1e})")
        found[key] = differences
    return found


@dataclass
class TwfePart:
    """The part's contenders once they ran, with the panel's size."""

    contenders: Sequence[TwfeContender]
    units: int
    weeks: int
    repeat: int

    @property
    def rows(self) -> int:
        return self.units * self.weeks

    @property
    def agrees(self) -> dict[str, list[str] | None]:
        return agreement(self.contenders)

    @property
    def failed(self) -> bool:
        """A contender failed a run (or every run), or an estimate disagrees with pyfixest's."""
        return any(c.failed or not c.measured for c in self.contenders) or any(self.agrees.values())

    def by_key(self) -> dict[str, TwfeContender]:
        return {c.spec.key: c for c in self.contenders if c.measured}

    @property
    def goal(self) -> dict[str, Any] | None:
        """ridp's work time over pyfixest's, against :data:`GOAL_RATIO` (None when either was not measured)."""
        by_key = self.by_key()
        ridp, reference = by_key.get("ridp"), by_key.get(REFERENCE)
        if ridp is None or reference is None:
            return None
        ratio = ridp.work_s / reference.work_s
        return {
            "line": "ridp work time / pyfixest work time",
            "value": ratio,
            "goal": f"<= {GOAL_RATIO:g}",
            "pass": ratio <= GOAL_RATIO,
        }

    def report(self, load_before: float) -> None:
        by_key = self.by_key()
        reference = by_key.get(REFERENCE)
        print()
        print(
            f"evaluation benchmark, TWFE: y ~ d | unit + week, CR1 clustered by unit, {self.units:,} units x "
            f"{self.weeks} weeks = {self.rows:,} rows (treated from week {adoption_week(self.weeks)}), "
            f"median of {self.repeat} fresh process(es) each"
        )
        print(
            f"load average (1 min) before: {load_before:.2f}, after: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
        )
        header = (
            "contender",
            "wall s",
            "min-max s",
            "import s",
            "build s",
            "work s",
            "work/pyfixest",
            "peak RSS MB",
            "coef",
            "SE",
        )
        lines: list[Sequence[str]] = [header]
        notes: dict[int, str] = {}
        for c in self.contenders:
            label = c.spec.label + (f" ({c.failed}/{len(c.runs)} runs FAILED)" if c.failed else "")
            if not c.measured:
                notes[len(lines)] = "FAILED in every run"
                lines.append((label, *[""] * (len(header) - 1)))
                continue
            walls = [r.wall_s for r in c.ok_runs]
            lines.append(
                (
                    label,
                    f"{c.median_wall_s:.2f}",
                    f"{min(walls):.2f}-{max(walls):.2f}",
                    f"{c.median_of('import_s'):.2f}",
                    f"{c.median_of('build_s'):.2f}",
                    f"{c.work_s:.3f}",
                    fmt_ratio(c.work_s / reference.work_s) if reference is not None else "n/a",
                    f"{c.peak_rss_mb:,.0f}",
                    f"{float(c.facts['coef']):.10f}",
                    f"{float(c.facts['se']):.10f}",
                )
            )
        print(aligned(lines, notes))
        print("wall s: the whole process (start, imports, the panel, the estimate); import s: the child's imports;")
        print("build s: making the panel (not work); work s: the estimate alone, as the child timed it;")
        print("peak RSS: ru_maxrss from wait4 (1 MB = 10^6 bytes), highest over the runs.")
        ridp = by_key.get("ridp")
        if ridp is not None and reference is not None:
            print(
                f"ratio ridp / pyfixest, whole process: {fmt_ratio(ridp.median_wall_s / reference.median_wall_s)}; "
                f"work: {fmt_ratio(ridp.work_s / reference.work_s)}"
            )
        lm = by_key.get("linearmodels")
        if lm is not None and ridp is not None:
            print(
                f"ratio linearmodels / ridp, whole process: {fmt_ratio(lm.median_wall_s / ridp.median_wall_s)}; "
                f"work: {fmt_ratio(lm.work_s / ridp.work_s)}"
            )
        if lm is not None and reference is not None:
            print(
                f"linearmodels' SE / pyfixest's: {float(lm.facts['se']) / float(reference.facts['se']):.6f} "
                "(its own small-sample convention: printed, not checked)"
            )
        for key, differences in self.agrees.items():
            if differences is None:
                print(f"{key}: estimate not checked (pyfixest was not measured)")
            elif differences:
                print("!" * 100)
                print(f"TWFE MISMATCH: {key}'s estimate DIFFERS from pyfixest's: {'; '.join(differences)}")
                print("!" * 100)
            else:
                what = "coefficient and SE agree" if key == "ridp" else "coefficient agrees"
                tol = f"{COEF_RTOL:g}" + (f" and {SE_RTOL:g}" if key == "ridp" else "")
                print(f"{key}: {what} with pyfixest's (relative {tol})")
        if ridp is not None and ridp.facts.get("warnings"):
            print(f"ridp's warnings: {' | '.join(ridp.facts['warnings'])}")
        goal = self.goal
        if goal is not None:
            verdict = "PASS" if goal["pass"] else "NOT MET"
            print(f"goal {goal['line']} {goal['goal']}: {fmt_ratio(goal['value'])} -> {verdict}")

    def payload(self) -> dict[str, Any]:
        """The part's JSON: the panel, the goal, the agreement, every run."""
        return {
            "panel": {
                "units": self.units,
                "weeks": self.weeks,
                "rows": self.rows,
                "seed": SEED,
                "adoption_week": adoption_week(self.weeks),
                "effect": EFFECT,
            },
            "repeat": self.repeat,
            "goal": self.goal,
            "tolerances": {"coef_relative": COEF_RTOL, "ridp_se_relative": SE_RTOL},
            "differences_from_pyfixest": self.agrees,
            "contenders": {
                c.spec.key: {
                    "label": c.spec.label,
                    "failed_runs": c.failed,
                    "median_wall_s": c.median_wall_s if c.measured else None,
                    "median_work_s": c.work_s if c.measured else None,
                    "peak_rss_mb": c.peak_rss_mb if c.measured else None,
                    "runs": [
                        {
                            "wall_s": r.wall_s,
                            "peak_rss_kib": r.peak_rss_kib,
                            "tree_rss_kib": r.tree_rss_kib,
                            "exit_code": r.exit_code,
                            "failure": failure,
                            "child": r.extra,
                            "wrapper": r.wrapper,
                            "stderr": r.stderr[-4000:] if failure else None,
                        }
                        for r, failure in zip(c.runs, c.failures, strict=True)
                    ],
                }
                for c in self.contenders
            },
        }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
