"""Benchmark: ridp's data-readiness assessment against DuckDB, polars, Great Expectations and ydata-profiling.

What is measured (issue 6, PERFORMANCE.md): the wall time and peak RSS of
``ridp.readiness.assess`` (profile of every column, the default checks, the
dimension scores and the verdict, forced whole with ``to_dict()``) on the demo
city's service requests as Parquet, next to, on the same file in the same run:

* **floor**: one DuckDB ``SELECT`` of ``count``/``min``/``max`` of every
  column, about the least any profile can cost;
* **DuckDB SUMMARIZE** of the whole table;
* **polars** ``describe()`` with ``null_count()`` and ``n_unique()`` per column;
* heavy references, with ``--heavy`` or by default when ``--rows`` is at most
  1,000,000: **Great Expectations** with a 24-expectation suite like ridp's
  default checks, and **ydata-profiling** in minimal mode.

polars, Great Expectations and ydata-profiling are not ridp's dependencies:
they run with ``.venv-bench/bin/python`` (``make bench-setup`` makes it from
``benchmarks/requirements-bench.txt``). Without ``.venv-bench`` they are
skipped, and the output says so.

How (PERFORMANCE.md: each contender in its own process, peak RSS from wait4):
the demo city is generated once with ``ridp.demo.generate_city`` and its CSV
converted once to Parquet with DuckDB (``_readiness_data.py``; cached under
``~/.cache/ridp-bench/``, outside the repository, and not timed). Every
measurement is a fresh child process (``_readiness_contenders.py``), started
and reaped by the lean wrapper of ``_harness.py``: wall time from start to
reap, so imports count, and peak RSS from ``os.wait4``. ridp runs cold: a new
process, an in-memory DuckDB and no result cache. Each contender runs
``--repeat`` times, interleaved, and the median wall time is reported.

Usage::

    python benchmarks/readiness.py                      # 10,000,000 rows, 3 runs each (make bench)
    python benchmarks/readiness.py --rows 1000000       # heavy references included when .venv-bench exists
    python benchmarks/readiness.py --rows 10000000 --heavy --heavy-rows 1000000
    python benchmarks/readiness.py --smoke              # 10,000 rows, 1 run, no heavy references (make test)

Prints a table and the goal lines (ridp within 1.0x the faster of SUMMARIZE
and polars; Great Expectations and ydata-profiling at least 25x slower per
row than ridp; ridp's peak RSS within 2 GB) and writes
``benchmarks/out/readiness-<rows>.json``. Missing a goal is reported, never an
error: the exit code is 1 only when a contender fails, 2 when the input cannot
be made.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import (
    BENCH_VENV,
    SKIPPED_NO_VENV,
    BenchError,
    aligned,
    environment,
    fmt_ratio,
    poll_import,
    ridp_env,
    verdict,
    wait_for_demo,
    warm_page_cache,
    write_json,
)
from _harness import Run, Runs, describe_exit, measure, median
from _readiness_data import City, default_cache, demo_parquet

HERE = Path(__file__).resolve().parent
CONTENDERS_SCRIPT = HERE / "_readiness_contenders.py"
DEFAULT_RESULTS = HERE / "out"  # git-ignored
SEED = 2026
DEFAULT_ROWS = 10_000_000
DEFAULT_REPEAT = 3
SMOKE_ROWS = 10_000
HEAVY_BY_DEFAULT_ROWS = 1_000_000  # GE and ydata take minutes and ~10 GB at 10M rows
GOAL_VS_FASTEST = 1.0  # ridp at most this many times the faster of SUMMARIZE and polars
GOAL_HEAVY_FACTOR = 25.0  # GE and ydata-profiling at least this many times slower than ridp, per row
GOAL_PEAK_GB = 2.0


@dataclass(frozen=True)
class Spec:
    """One contender: its key in ``_readiness_contenders.py``, its label, and where it runs."""

    key: str
    label: str
    bench_venv: bool  # runs with .venv-bench's interpreter (not a ridp dependency)
    heavy: bool  # a heavy reference: only with --heavy, or at most 1M rows by default


SPECS = (
    Spec("floor", "floor: DuckDB scan, count/min/max of every column", bench_venv=False, heavy=False),
    Spec("summarize", "DuckDB SUMMARIZE", bench_venv=False, heavy=False),
    Spec("polars", "polars describe + null_count + n_unique", bench_venv=True, heavy=False),
    Spec("ridp", "ridp readiness.assess + to_dict", bench_venv=False, heavy=False),
    Spec("ge", "Great Expectations, 24 expectations", bench_venv=True, heavy=True),
    Spec("ydata", "ydata-profiling, minimal", bench_venv=True, heavy=True),
)
BY_KEY = {s.key: s for s in SPECS}


@dataclass
class Contender(Runs):
    spec: Spec
    city: City | None = None  # the input it runs on (heavy references may use a smaller one)
    skipped: str | None = None

    @property
    def peak_rss_gb(self) -> float:
        return max(r.peak_rss_kib for r in self.ok_runs) * 1024 / 1e9

    @property
    def seconds_per_row(self) -> float:
        assert self.city is not None
        return self.median_wall_s / self.city.rows


# --- running ----------------------------------------------------------------------------------------------------


def clean_env(home: Path | None = None) -> dict[str, str]:
    """This environment without ridp's settings (so ridp runs with its defaults), analytics and progress bars off."""
    env = ridp_env(home)
    # Nothing may phone home from here (and a blocked request would only add a timeout to the figures).
    env.update(GX_ANALYTICS_ENABLED="false", YDATA_PROFILING_NO_ANALYTICS="True", MPLBACKEND="Agg", TQDM_DISABLE="1")
    return env


def run_contender(c: Contender, bench_python: Path, scratch: Path) -> Run:
    assert c.city is not None
    python = bench_python if c.spec.bench_venv else Path(sys.executable)
    city = {
        "folder": str(c.city.folder),
        "bbox": list(c.city.bbox),
        "export_datetime": c.city.export_datetime,
    }
    home = Path(tempfile.mkdtemp(prefix="ridp-home-", dir=scratch))  # a fresh, empty workspace: nothing cached
    try:
        run = measure(
            [str(python), str(CONTENDERS_SCRIPT), c.spec.key, str(c.city.parquet), json.dumps(city)],
            env=clean_env(home),
            cwd=scratch,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if run.ok:
        try:
            run.extra = json.loads(run.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            run.extra = {}
    return run


def check(c: Contender, run: Run) -> str | None:
    """Why this run failed, or None."""
    if not run.ok:
        return describe_exit(run.exit_code)
    if "rows" not in run.extra:
        return "it printed no result line"
    assert c.city is not None
    if int(run.extra["rows"]) != c.city.rows:
        return f"it read {run.extra['rows']:,} rows, not {c.city.rows:,}"
    return None


def wait_for_assess(timeout_s: float) -> str | None:
    """Wait until ``ridp.readiness.assess`` imports; None when it does, else the last error."""
    probe = poll_import("from ridp.readiness import CanonicalMapping, assess", "ridp.readiness.assess", timeout_s)
    return None if probe.returncode == 0 else (probe.stderr.strip().splitlines() or ["?"])[-1]


# --- report ---------------------------------------------------------------------------------------------------


def table(contenders: Sequence[Contender], ridp: Contender | None) -> str:
    header = (
        "contender",
        "rows",
        "median s",
        "min-max s",
        "work s",
        "peak RSS GB",
        "s per M rows",
        "ridp/this per row",
    )
    lines: list[Sequence[str]] = [header]
    notes: dict[int, str] = {}  # line -> why the contender has no figures
    for c in contenders:
        label = c.spec.label + (f" ({c.failed}/{len(c.runs)} runs FAILED)" if c.failed else "")
        if c.skipped or not c.measured:
            notes[len(lines)] = c.skipped or "FAILED in every run"
            lines.append((label, "", "", "", "", "", "", ""))
            continue
        assert c.city is not None
        walls = [r.wall_s for r in c.ok_runs]
        work = c.extra("work_s")
        vs = "-"
        if ridp is not None and ridp.measured and c is not ridp:
            vs = fmt_ratio(ridp.seconds_per_row / c.seconds_per_row)
        lines.append(
            (
                label,
                f"{c.city.rows:,}",
                f"{c.median_wall_s:.2f}",
                f"{min(walls):.2f}-{max(walls):.2f}",
                f"{median(work):.2f}" if work else "-",
                f"{c.peak_rss_gb:.2f}",
                f"{c.seconds_per_row * 1e6:.2f}",
                vs,
            )
        )
    return aligned(lines, notes)


def summarise(by_key: dict[str, Contender]) -> dict[str, Any]:
    """The ratios and goal lines (a goal is left out when a contender it needs was not measured)."""
    goals: dict[str, Any] = {}
    ridp = by_key.get("ridp")
    if ridp is None or not ridp.measured:
        return goals
    fastest = [by_key[k] for k in ("summarize", "polars") if k in by_key and by_key[k].measured]
    if fastest:
        best = min(fastest, key=lambda c: c.median_wall_s)
        value = ridp.median_wall_s / best.median_wall_s
        missing = [BY_KEY[k].label for k in ("summarize", "polars") if k not in by_key or not by_key[k].measured]
        goals["vs_fastest"] = {
            "line": f"ridp ÷ min(SUMMARIZE, polars) = ridp ÷ {best.spec.label}"
            + (f" (not measured: {', '.join(missing)})" if missing else ""),
            "value": value,
            "goal": f"<= {GOAL_VS_FASTEST:g}",
            "pass": value <= GOAL_VS_FASTEST,
        }
    floor = by_key.get("floor")
    if floor is not None and floor.measured:
        goals["vs_floor"] = {
            "line": "ridp ÷ floor (what reading every value once costs; no goal, shown to size the gap)",
            "value": ridp.median_wall_s / floor.median_wall_s,
            "goal": None,
            "pass": None,
        }
    for key, name in (("ge", "Great Expectations"), ("ydata", "ydata-profiling")):
        c = by_key.get(key)
        if c is None or not c.measured:
            continue
        value = c.seconds_per_row / ridp.seconds_per_row
        assert c.city is not None and ridp.city is not None
        scale = (
            "" if c.city.rows == ridp.city.rows else f" ({name} at {c.city.rows:,} rows, ridp at {ridp.city.rows:,})"
        )
        goals[f"{key}_per_row"] = {
            "line": f"{name} per row ÷ ridp per row{scale}",
            "value": value,
            "goal": f">= {GOAL_HEAVY_FACTOR:g}",
            "pass": value >= GOAL_HEAVY_FACTOR,
        }
    goals["peak_rss"] = {
        "line": "ridp peak RSS (GB)",
        "value": ridp.peak_rss_gb,
        "goal": f"<= {GOAL_PEAK_GB:g} GB",
        "pass": ridp.peak_rss_gb <= GOAL_PEAK_GB,
    }
    return goals


def print_report(contenders: Sequence[Contender], goals: dict[str, Any], city: City, repeat: int, load: float) -> None:
    by_key = {c.spec.key: c for c in contenders}
    print()
    print(
        f"readiness benchmark: {city.rows:,} rows x {len(city.columns)} columns, "
        f"{city.bytes / 1e6:,.1f} MB Parquet, median of {repeat} fresh process(es) each"
    )
    print(f"load average (1 min) before: {load:.2f}, after: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(table(contenders, by_key.get("ridp")))
    print(
        "median s: wall time of the whole process (start, imports, work); work s: the work alone, as the child timed it;"
    )
    print("peak RSS: ru_maxrss from wait4 (1 GB = 10^9 bytes), highest over the runs.")
    for name, g in goals.items():
        value = f"{g['value']:.2f} GB" if name == "peak_rss" else fmt_ratio(g["value"])
        if g["goal"] is None:
            print(f"{g['line']}: {value}")
        else:
            print(f"goal {g['line']} {g['goal']}: {value} -> {verdict(bool(g['pass']))}")
    for key, name in (("ge", "Great Expectations"), ("ydata", "ydata-profiling")):
        c = by_key.get(key)
        if c is not None and f"{key}_per_row" not in goals:
            why = c.skipped or "it failed in every run"
            print(f"goal {name} per row ÷ ridp per row >= {GOAL_HEAVY_FACTOR:g}: not measured ({why})")
    ridp = by_key.get("ridp")
    if ridp is not None and ridp.measured:
        facts = ridp.ok_runs[-1].extra
        print(
            f"ridp computed: {facts.get('columns')} column profiles, {facts.get('checks')} checks "
            f"({facts.get('failing_checks')} failing), verdict '{facts.get('verdict')}', "
            f"{facts.get('json_bytes', 0) / 1e3:,.0f} kB of JSON"
        )


# --- main -----------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows of the demo city (default 10,000,000)")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="fresh processes per contender (default 3)")
    parser.add_argument(
        "--heavy",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run Great Expectations and ydata-profiling (default: only when --rows <= 1,000,000 and .venv-bench exists)",
    )
    parser.add_argument(
        "--heavy-rows",
        type=int,
        default=None,
        help="run the heavy references on a city of this many rows (default --rows); compared per row",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="10,000 rows, 1 run, no heavy references: checks that everything runs"
    )
    parser.add_argument(
        "--contenders",
        default=",".join(s.key for s in SPECS),
        help=f"comma-separated subset of: {', '.join(s.key for s in SPECS)} (default all)",
    )
    parser.add_argument("--cache", type=Path, default=None, help="where the demo city is kept (~/.cache/ridp-bench)")
    parser.add_argument("--bench-venv", type=Path, default=BENCH_VENV, help="the references' venv (.venv-bench)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="folder of the JSON results")
    parser.add_argument(
        "--wait-minutes", type=float, default=0.0, help="how long to wait for ridp.readiness to become importable"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.repeat, args.heavy = SMOKE_ROWS, 1, False
    if args.rows < 1 or args.repeat < 1 or (args.heavy_rows is not None and args.heavy_rows < 1):
        parser.error("--rows, --heavy-rows and --repeat must be at least 1")
    args.contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    unknown = sorted(set(args.contenders) - set(BY_KEY))
    if unknown or not args.contenders:
        parser.error(f"unknown contender(s) {unknown}; choose from {', '.join(BY_KEY)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cache: Path = (args.cache or default_cache()).expanduser().absolute()
    bench_python = args.bench_venv.expanduser().absolute() / "bin" / "python"
    has_bench = bench_python.is_file()
    heavy = args.heavy if args.heavy is not None else (args.rows <= HEAVY_BY_DEFAULT_ROWS and has_bench)
    heavy_rows = args.heavy_rows or args.rows
    contenders = [Contender(s) for s in SPECS if s.key in args.contenders]
    for c in contenders:
        if c.spec.heavy and not heavy:
            why = (
                "--smoke"
                if args.smoke
                else f"--rows > {HEAVY_BY_DEFAULT_ROWS:,}"
                if args.heavy is None
                else "--no-heavy"
            )
            c.skipped = f"skipped: heavy reference ({why}; --heavy runs it)"
        elif c.spec.bench_venv and not has_bench:
            c.skipped = SKIPPED_NO_VENV
    try:
        demo_folder = wait_for_demo(args.wait_minutes * 60)
        city = demo_parquet(cache, args.rows, SEED, demo_folder)
        heavy_city = city
        if heavy and heavy_rows != args.rows and any(c.spec.heavy and not c.skipped for c in contenders):
            heavy_city = demo_parquet(cache, heavy_rows, SEED, demo_folder)
    except BenchError as exc:
        print(f"benchmark error: {exc}", file=sys.stderr)
        return 2
    for c in contenders:
        c.city = heavy_city if c.spec.heavy else city
    ridp = next((c for c in contenders if c.spec.key == "ridp"), None)
    if ridp is not None:
        missing = wait_for_assess(args.wait_minutes * 60)
        if missing is not None:
            ridp.skipped = f"FAILED: ridp.readiness.assess does not import ({missing})"
    for path in {c.city.parquet for c in contenders if c.city is not None and not c.skipped}:
        warm_page_cache(path)

    load_before = os.getloadavg()[0]  # other work on the machine skews the figures: show how much there was
    scratch = Path(tempfile.mkdtemp(prefix="ridp-readiness-bench-"))
    try:
        # Interleaved (floor, SUMMARIZE, polars, ridp, ..., floor, ...) so a slow spell hits every contender alike.
        for k in range(args.repeat):
            for c in contenders:
                if c.skipped:
                    continue
                run = run_contender(c, bench_python, scratch)
                c.record(c.spec.key, k, args.repeat, run, check(c, run))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    goals = summarise({c.spec.key: c for c in contenders if c.measured})
    print_report(contenders, goals, city, args.repeat, load_before)
    args.results.mkdir(parents=True, exist_ok=True)
    results = args.results / f"readiness-{args.rows}.json"
    payload = {
        "benchmark": "readiness",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "heavy_rows": heavy_rows if heavy else None,
        "seed": SEED,
        "repeat": args.repeat,
        "parquet": {"path": str(city.parquet), "bytes": city.bytes, "types": city.types},
        "environment": environment(
            ("ridp", "duckdb", "ibis-framework", "pandas", "pyarrow"),
            bench_python if has_bench else None,
            ("polars", "great-expectations", "ydata-profiling", "pandas"),
        ),
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "goals": goals,
        "contenders": {
            c.spec.key: {
                "label": c.spec.label,
                "rows": c.city.rows if c.city else None,
                "skipped": c.skipped,
                "failed_runs": c.failed,
                "median_wall_s": c.median_wall_s if c.measured else None,
                "peak_rss_gb": c.peak_rss_gb if c.measured else None,
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
            for c in contenders
        },
    }
    write_json(results, payload)
    print(f"results: {results}")
    crashed = any(c.failed for c in contenders) or any(c.skipped and c.skipped.startswith("FAILED") for c in contenders)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
