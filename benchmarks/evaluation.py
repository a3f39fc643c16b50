"""Benchmark: ridp's power simulation against a statsmodels loop (issue 9), and its TWFE against pyfixest's.

Two parts, both by default (``--parts``; ``--twfe`` runs the TWFE part alone):

* **power**: ridp's vectorised power simulation against a plain statsmodels loop (below);
* **twfe** (``_twfe.py``): two-way fixed effects difference in differences, ``y ~ d | unit + week`` with CR1
  errors clustered by unit, on a synthetic 10,000-unit x 104-week panel (1,040,000 rows): ridp's
  ``did.twfe`` against ``pyfixest.feols`` and ``linearmodels``' ``PanelOLS``. Goal (PERFORMANCE.md): ridp's
  work time at most 1.1x pyfixest's. The three coefficients must agree (relative 1e-6), and ridp's SE with
  pyfixest's (relative 1e-8); linearmodels' SE, with its own small-sample convention, is printed.

The power part. What is measured: the wall time and peak RSS of ``ridp.evaluation.power.simulate_power``
running 10,000 draws on a 2,000-unit history (one effect, one size: 2,000 units resampled per draw, half
treated, difference in means with HC2 standard errors, t test at alpha 0.05), against the loop an analyst
would otherwise write: per draw, resample, randomise, add the effect and call statsmodels
``OLS(y, X).fit(cov_type="HC2", use_t=True)``. The loop is far slower, so it runs fewer draws (500 by
default) and its time is extrapolated per draw to the same 10,000, stated plainly in the output.

The history is synthetic and the same in both contenders: 2,000 log-normal "days to close" (median 4 days,
sigma 0.8, seed 2026), made in each child with numpy. The effect is 0.12 of the history's SD, where the
power is about 0.75, so the two contenders' power estimates can be compared: they must agree within four
combined Monte Carlo standard errors.

How (PERFORMANCE.md: each contender in its own process, peak RSS from wait4): every measurement is a fresh
child process (this file with ``--child NAME``), started and reaped by the lean wrapper of ``_harness.py``:
wall time from start to reap, so imports count, and peak RSS from ``os.wait4``. The child also times its
work alone (after imports), which gives the per-draw figures. Contenders run ``--repeat`` times,
interleaved; medians are reported.

Usage::

    python benchmarks/evaluation.py                   # both parts, 3 runs each (make bench)
    python benchmarks/evaluation.py --reference-draws 10000 --repeat 1 --parts power   # the loop in full (20-40 s)
    python benchmarks/evaluation.py --twfe            # the TWFE part alone: 10,000 units x 104 weeks, 3 runs each
    python benchmarks/evaluation.py --smoke           # both parts small (1,000 draws; 500 units x 20 weeks), 1 run
    python benchmarks/evaluation.py --smoke --twfe    # the TWFE part alone, small: a few seconds

Prints, per part, a table, the ratios and the goal line (power: ridp's peak RSS within 500 MB, its draws
processed in bounded chunks, and the loop's extrapolation; TWFE: ridp's work time within 1.1x pyfixest's), and
writes ``benchmarks/out/evaluation-<draws>.json`` (power) and ``benchmarks/out/evaluation-twfe-<units>x<weeks>.json``.
A goal not met is reported, never an error: the exit code is 1 when a contender fails or the estimates
disagree, 2 when ridp cannot be imported.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import aligned, environment, fmt_ratio, poll_import, ridp_env, verdict, write_json
from _harness import Run, Runs, describe_exit, measure, median
from _twfe import SMOKE_UNITS, SMOKE_WEEKS, TWFE_SPECS, UNITS, WEEKS, TwfeContender, run_twfe

HERE = Path(__file__).resolve().parent
DEFAULT_RESULTS = HERE / "out"  # git-ignored
SEED = 2026
DEFAULT_DRAWS = 10_000
DEFAULT_REFERENCE_DRAWS = 500
DEFAULT_HISTORY = 2_000
DEFAULT_REPEAT = 3
SMOKE_DRAWS, SMOKE_REFERENCE_DRAWS = 1_000, 50
EFFECT_IN_SD = 0.12
ALPHA = 0.05
GOAL_PEAK_MB = 500.0
AGREE_SE = 4.0  # the two power estimates may differ by this many combined Monte Carlo SEs
PARTS = ("power", "twfe")


@dataclass
class Contender(Runs):
    key: str
    label: str
    draws: int

    @property
    def peak_rss_mb(self) -> float:
        return max(r.peak_rss_mb for r in self.ok_runs)

    @property
    def work_s(self) -> float:
        return median([float(w) for w in self.extra("work_s")])

    @property
    def per_draw_s(self) -> float:
        return self.work_s / self.draws

    def extrapolated_wall_s(self, draws: int) -> float:
        """The whole process's median wall time had it run ``draws`` draws: start-up as measured, work per draw."""
        return self.median_wall_s + self.work_s * (draws / self.draws - 1)


# --- the children -------------------------------------------------------------------------------------------


def history(units: int) -> Any:
    import numpy as np

    return np.random.default_rng(SEED).lognormal(np.log(4.0), 0.8, units)


def child_ridp(draws: int, units: int, size: int, seed: int) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from ridp.evaluation.power import simulate_power

    y = history(units)
    effect = EFFECT_IN_SD * float(np.std(y, ddof=1))
    start = time.perf_counter()
    study = simulate_power(
        pd.DataFrame({"days": y}), outcome="days", effects=[effect], n_units=[size], draws=draws, seed=seed
    )
    work = time.perf_counter() - start
    point = study.points[0]
    return {"work_s": work, "draws": draws, "power": point.power, "mc_se": point.mc_se, "effect": effect}


def child_statsmodels(draws: int, units: int, size: int, seed: int) -> dict[str, Any]:
    import numpy as np
    import statsmodels.api as sm

    y = history(units)
    effect = EFFECT_IN_SD * float(np.std(y, ddof=1))
    rng = np.random.default_rng(seed)
    treated = size // 2
    rejections = 0
    start = time.perf_counter()
    for _ in range(draws):
        sample = y[rng.integers(0, units, size)]
        arm = np.zeros(size)
        arm[rng.choice(size, treated, replace=False)] = 1.0  # complete randomisation
        fit = sm.OLS(sample + effect * arm, sm.add_constant(arm)).fit(cov_type="HC2", use_t=True)
        rejections += int(fit.pvalues[1] < ALPHA)
    work = time.perf_counter() - start
    share = rejections / draws
    return {"work_s": work, "draws": draws, "power": share, "mc_se": (share * (1 - share) / draws) ** 0.5}


CHILDREN = {"ridp": child_ridp, "statsmodels": child_statsmodels}


# --- running ------------------------------------------------------------------------------------------------


def run_contender(c: Contender, units: int, size: int, seed: int) -> Run:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", c.key, "--draws", str(c.draws)]
    argv += ["--history", str(units), "--size", str(size), "--seed", str(seed)]
    run = measure(argv, env=ridp_env(), cwd=HERE.parent)
    if run.ok:
        try:
            run.extra = json.loads(run.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            run.extra = {}
    return run


def check(c: Contender, run: Run) -> str | None:
    if not run.ok:
        return describe_exit(run.exit_code)
    if "power" not in run.extra or int(run.extra.get("draws", -1)) != c.draws:
        return "it printed no result line for its draws"
    return None


# --- the report ---------------------------------------------------------------------------------------------


def report(contenders: Sequence[Contender], args: argparse.Namespace, load: float) -> dict[str, Any]:
    print()
    print(
        f"evaluation benchmark: power by simulation, {args.draws:,} draws on a {args.history:,}-unit history, "
        f"{args.size:,} units per draw, median of {args.repeat} fresh process(es) each"
    )
    print(f"load average (1 min) before: {load:.2f}, after: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    lines: list[Sequence[str]] = [
        ("contender", "draws run", "median wall s", "work s", "ms per draw", "peak RSS MB", "power (MC SE)")
    ]
    notes: dict[int, str] = {}
    for c in contenders:
        if not c.measured:
            notes[len(lines)] = f"FAILED in every run ({c.failed})"
            lines.append((c.label, "", "", "", "", "", ""))
            continue
        powers = c.extra("power")
        lines.append(
            (
                c.label + (f" ({c.failed}/{len(c.runs)} runs FAILED)" if c.failed else ""),
                f"{c.draws:,}",
                f"{c.median_wall_s:.2f}",
                f"{c.work_s:.3f}",
                f"{1000 * c.per_draw_s:.3f}",
                f"{c.peak_rss_mb:,.0f}",
                f"{powers[-1]:.3f} ({c.extra('mc_se')[-1]:.3f})",
            )
        )
    print(aligned(lines, notes))
    print("wall s: the whole process (start, imports, work); work s: the simulation alone, as the child timed it;")
    print("peak RSS: ru_maxrss from wait4 (1 MB = 10^6 bytes), highest over the runs.")
    ridp, loop = contenders
    out: dict[str, Any] = {}
    if not (ridp.measured and loop.measured):
        return out
    extrapolated_work = loop.per_draw_s * args.draws
    extrapolated_wall = loop.extrapolated_wall_s(args.draws)
    if loop.draws == args.draws:
        print(f"statsmodels loop ran all {args.draws:,} draws: nothing extrapolated")
    else:
        print(
            f"statsmodels loop extrapolated from {loop.draws:,} to {args.draws:,} draws (its work per draw x "
            f"{args.draws:,}): work {extrapolated_work:.1f} s, whole process {extrapolated_wall:.1f} s"
        )
    per_draw = loop.per_draw_s / ridp.per_draw_s
    whole = extrapolated_wall / ridp.median_wall_s
    print(f"ratio statsmodels loop / ridp, work per draw: {fmt_ratio(per_draw)}")
    print(
        f"ratio statsmodels loop / ridp, whole process at {args.draws:,} draws (loop extrapolated): {fmt_ratio(whole)}"
    )
    p1, s1 = ridp.extra("power")[-1], ridp.extra("mc_se")[-1]
    p2, s2 = loop.extra("power")[-1], loop.extra("mc_se")[-1]
    gap = abs(p1 - p2) / max((s1**2 + s2**2) ** 0.5, 1e-12)
    agree = gap <= AGREE_SE
    print(
        f"power: ridp {p1:.3f}, statsmodels loop {p2:.3f}: {gap:.1f} combined MC SEs apart -> "
        + ("agree" if agree else f"DIFFER (more than {AGREE_SE:g})")
    )
    peak_ok = ridp.peak_rss_mb <= GOAL_PEAK_MB
    print(f"goal ridp peak RSS <= {GOAL_PEAK_MB:,.0f} MB: {ridp.peak_rss_mb:,.0f} MB -> {verdict(peak_ok)}")
    return {
        "ratio_per_draw": per_draw,
        "ratio_whole_process_extrapolated": whole,
        "reference_extrapolated_work_s": extrapolated_work,
        "reference_extrapolated_wall_s": extrapolated_wall,
        "power_gap_in_mc_se": gap,
        "agree": agree,
        "goals": {"peak_rss": {"value_mb": ridp.peak_rss_mb, "goal_mb": GOAL_PEAK_MB, "pass": peak_ok}},
    }


# --- main ---------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=DEFAULT_DRAWS, help="ridp's draws (default 10,000)")
    parser.add_argument(
        "--reference-draws", type=int, default=DEFAULT_REFERENCE_DRAWS, help="the statsmodels loop's (default 500)"
    )
    parser.add_argument("--history", type=int, default=DEFAULT_HISTORY, help="units in the history (default 2,000)")
    parser.add_argument("--size", type=int, default=None, help="units per draw (default: the history's size)")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="fresh processes per contender (3)")
    parser.add_argument("--seed", type=int, default=0, help="the draws' seed")
    parser.add_argument("--units", type=int, default=None, help=f"TWFE: units in the panel (default {UNITS:,})")
    parser.add_argument("--weeks", type=int, default=None, help=f"TWFE: weeks in the panel (default {WEEKS})")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"a comma-separated subset of {', '.join(PARTS)} (default: both)"
    )
    parser.add_argument("--twfe", action="store_true", help="the TWFE part alone (--parts twfe)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"1,000 draws against 50; {SMOKE_UNITS} units x {SMOKE_WEEKS} weeks; 1 run: checks that it runs",
    )
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="folder of the JSON results")
    parser.add_argument("--wait-minutes", type=float, default=0.0, help="how long to wait for ridp to import")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.parts = ["twfe"] if args.twfe else [p.strip() for p in args.parts.split(",") if p.strip()]
    if not args.parts or set(args.parts) - set(PARTS):
        parser.error(f"--parts takes a comma-separated subset of {', '.join(PARTS)}")
    if args.smoke:
        args.draws, args.reference_draws, args.repeat = SMOKE_DRAWS, SMOKE_REFERENCE_DRAWS, 1
    args.units = args.units or (SMOKE_UNITS if args.smoke else UNITS)
    args.weeks = args.weeks or (SMOKE_WEEKS if args.smoke else WEEKS)
    args.size = args.size or args.history
    if min(args.draws, args.reference_draws, args.repeat) < 1 or args.history < 20 or args.size < 4:
        parser.error("--draws, --reference-draws and --repeat must be at least 1, --history 20 and --size 4")
    if args.units < 4 or args.weeks < 2:
        parser.error("--units must be at least 4 and --weeks 2")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.draws, args.history, args.size, args.seed)))
        return 0
    codes = [part(args) for name, part in (("power", main_power), ("twfe", main_twfe)) if name in args.parts]
    return max(codes)


def main_power(args: argparse.Namespace) -> int:
    """The power part: ridp's simulation against the statsmodels loop; 0, 1 (failed or disagree) or 2."""
    probe = poll_import("from ridp.evaluation.power import simulate_power", "ridp.evaluation", args.wait_minutes * 60)
    if probe.returncode != 0:
        print(f"benchmark error: ridp.evaluation.power does not import:\n{probe.stderr}", file=sys.stderr)
        return 2
    contenders = [
        Contender(key="ridp", label="ridp simulate_power (vectorised)", draws=args.draws),
        Contender(key="statsmodels", label="statsmodels OLS HC2 loop", draws=args.reference_draws),
    ]
    load = os.getloadavg()[0]  # other work on the machine skews the figures: show how much there was
    for k in range(args.repeat):  # interleaved, so a slow spell hits both alike
        for c in contenders:
            run = run_contender(c, args.history, args.size, args.seed)
            c.record(c.key, k, args.repeat, run, check(c, run))
    found = report(contenders, args, load)
    args.results.mkdir(parents=True, exist_ok=True)
    results = args.results / f"evaluation-{args.draws}.json"
    write_json(
        results,
        {
            "benchmark": "evaluation",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "draws": args.draws,
            "reference_draws": args.reference_draws,
            "history": args.history,
            "size": args.size,
            "seed": args.seed,
            "repeat": args.repeat,
            "environment": environment(("ridp", "numpy", "scipy", "statsmodels", "pandas")),
            "load_average_1min": {"before": load, "after": os.getloadavg()[0]},
            "found": found,
            "contenders": {
                c.key: {
                    "label": c.label,
                    "draws": c.draws,
                    "failed_runs": c.failed,
                    "runs": [
                        {"wall_s": r.wall_s, "peak_rss_kib": r.peak_rss_kib, "exit_code": r.exit_code, "child": r.extra}
                        for r in c.runs
                    ],
                }
                for c in contenders
            },
        },
    )
    print(f"results: {results}")
    failed = any(c.failed for c in contenders) or not all(c.measured for c in contenders)
    return 1 if failed or not found.get("agree", False) else 0


def main_twfe(args: argparse.Namespace) -> int:
    """The TWFE part (``_twfe.py``): ridp, pyfixest and linearmodels; 0, 1 (failed or disagree) or 2."""
    probe = poll_import("from ridp.evaluation.did import twfe", "ridp.evaluation.did", args.wait_minutes * 60)
    if probe.returncode != 0:
        print(f"benchmark error: ridp.evaluation.did does not import:\n{probe.stderr}", file=sys.stderr)
        return 2
    load = os.getloadavg()[0]  # other work on the machine skews the figures: show how much there was
    part = run_twfe([TwfeContender(spec=s) for s in TWFE_SPECS], args.units, args.weeks, args.repeat)
    part.report(load)
    args.results.mkdir(parents=True, exist_ok=True)
    results = args.results / f"evaluation-twfe-{args.units}x{args.weeks}.json"
    write_json(
        results,
        {
            "benchmark": "evaluation-twfe",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "environment": environment(("ridp", "numpy", "pandas", "pyfixest", "linearmodels", "formulaic")),
            "load_average_1min": {"before": load, "after": os.getloadavg()[0]},
            **part.payload(),
        },
    )
    print(f"results: {results}")
    return 1 if part.failed else 0


if __name__ == "__main__":
    sys.exit(main())
