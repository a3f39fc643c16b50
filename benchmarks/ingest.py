"""Benchmark: ridp's CSV ingest against a DuckDB scan and pandas, on the same file.

What is measured: the wall time and peak RSS of ``ridp data add`` on the demo
city's service-request CSV (``ridp.demo.generate_city``, seed 2026), next to
a DuckDB scan that parses every column and ``pandas.read_csv`` of the same
file, all in the same run.

How (PERFORMANCE.md: each contender in its own process, peak RSS from wait4):
every measurement is a fresh child process, timed by this script from start to
reap, with its peak RSS from the ``os.wait4`` that reaps it. A lean wrapper
process does the reaping, so that this script's own size never counts. For
ridp, which parses in a child process of its own, the figure includes that
child (see ``_harness.py``). Each contender runs ``--repeat`` times,
interleaved, and the median wall time is reported, because this machine's
speed swings by 20-30 % between runs.

Usage::

    python benchmarks/ingest.py --rows 10000000 --repeat 3 --workdir benchmarks/out

Prints a table and the goal lines (ridp within 2.5x the DuckDB scan, peak RSS
within 2 GB) and writes ``<workdir>/ingest-<rows>.json``. Missing a goal is
reported, never an error; the exit code is 1 only when a contender fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import (
    BenchError,
    aligned,
    cached_demo,
    environment,
    fmt_ratio,
    ridp_env,
    verdict,
    wait_for_demo,
    warm_page_cache,
    write_json,
)
from _harness import Run, Runs, describe_exit, measure, median

SEED = 2026
DEFAULT_ROWS = 10_000_000
DEFAULT_REPEAT = 3
DEFAULT_WORKDIR = Path(__file__).resolve().parent / "out"  # git-ignored
GOAL_WALL_RATIO = 2.5  # ridp's median wall time at most this many DuckDB scans
GOAL_PEAK_MB = 2000.0  # 2 GB, in ridp's own units (1 GB = 1000**3 bytes)

RIDP, DUCKDB, PANDAS = "ridp", "duckdb scan", "pandas read_csv"
CONTENDERS = (RIDP, DUCKDB, PANDAS)

# DuckDB reads only the columns a query uses, so ``count(*)`` alone would skip
# most of the parsing. ``min()`` of every column (``COLUMNS(*)`` expands to all
# of them) makes it parse and convert every value of every column to the type
# its sniffer chose, while the aggregate itself is cheap and holds no rows in
# memory: the cost of reading the file, and nothing else. Default settings
# (sniffing on, one thread per core, in-memory database).
DUCKDB_SCAN = """\
import json, sys, time
start = time.perf_counter()
import duckdb
imported = time.perf_counter()
path = sys.argv[1].replace("'", "''")
row = duckdb.sql(f"SELECT count(*), min(COLUMNS(*)) FROM read_csv('{path}')").fetchone()
done = time.perf_counter()
print(json.dumps({"rows": row[0], "import_s": imported - start, "work_s": done - imported}))
"""

# Default options: the C parser (not the pyarrow engine), type inference on.
PANDAS_READ = """\
import json, sys, time
start = time.perf_counter()
import pandas
imported = time.perf_counter()
frame = pandas.read_csv(sys.argv[1])
done = time.perf_counter()
print(json.dumps({"rows": len(frame), "import_s": imported - start, "work_s": done - imported}))
"""


@dataclass
class Contender(Runs):
    name: str

    @property
    def peak_rss_mb(self) -> float:
        return max(r.peak_rss_mb for r in self.ok_runs)

    @property
    def tree_rss_mb(self) -> float:
        return max(r.tree_rss_mb for r in self.ok_runs)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.failed}/{len(self.runs)} runs FAILED)" if self.failed else self.name


# --- the CSV --------------------------------------------------------------------------------------------------


def demo_csv(workdir: Path, rows: int, seed: int, demo_folder: Path) -> Path:
    """The demo city's requests CSV for ``(rows, seed)``, generated once per generator version."""

    def keep(folder: Path, csv: Path) -> dict[str, Any]:
        return {"requests_csv": csv.relative_to(folder).as_posix(), "bytes": csv.stat().st_size}

    folder, cached = cached_demo(workdir, rows, seed, demo_folder, "requests_csv", keep)
    return folder / str(cached["requests_csv"])


# --- contenders -----------------------------------------------------------------------------------------------


def ridp_executable() -> Path:
    ridp = Path(sys.executable).parent / "ridp"
    if not ridp.is_file():
        raise BenchError(f"no ridp console script next to {sys.executable}; run with the project's virtualenv")
    return ridp


def run_ridp(csv: Path, workdir: Path) -> Run:
    """``ridp data add`` in a fresh workspace; ``ridp init`` and ``ridp city add`` before it are not timed."""
    ridp = str(ridp_executable())
    home = Path(tempfile.mkdtemp(prefix="ridp-home-", dir=workdir))
    try:
        env = ridp_env(home)
        for setup in (["init"], ["city", "add", "Bench", "--slug", "bench"]):
            done = subprocess.run([ridp, *setup], env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise BenchError(f"`ridp {' '.join(setup)}` failed:\n{done.stdout}{done.stderr}")
        # ridp parses in a child process of its own; wait4's figure folds that reaped child in (see _harness).
        return measure([ridp, "data", "add", str(csv), "--city", "bench", "--name", "requests"], env=env)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run_duckdb(csv: Path, workdir: Path) -> Run:
    return _run_script(DUCKDB_SCAN, csv)


def run_pandas(csv: Path, workdir: Path) -> Run:
    return _run_script(PANDAS_READ, csv)


def _run_script(script: str, csv: Path) -> Run:
    run = measure([sys.executable, "-c", script, str(csv)])
    if run.ok:
        run.extra = json.loads(run.stdout.strip().splitlines()[-1])
    return run


RUNNERS: dict[str, Callable[[Path, Path], Run]] = {RIDP: run_ridp, DUCKDB: run_duckdb, PANDAS: run_pandas}

_RIDP_ADDED = re.compile(r"requests v1: ([\d,]+) rows")


def rows_read(name: str, run: Run) -> int | None:
    """How many rows the contender says it read."""
    if name == RIDP:
        m = _RIDP_ADDED.search(run.stdout)
        return int(m.group(1).replace(",", "")) if m else None
    value = run.extra.get("rows")
    return int(value) if value is not None else None


def check(name: str, run: Run) -> str | None:
    """Why this run failed, or None."""
    if not run.ok:
        return describe_exit(run.exit_code)
    if name == RIDP and _RIDP_ADDED.search(run.stdout) is None:
        return "it did not report a new version 'requests v1' (was the workspace fresh?)"
    return None


# --- report ---------------------------------------------------------------------------------------------------


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def table(contenders: dict[str, Contender], rows: int) -> str:
    header = ("contender", "median wall s", "min-max s", "in-child work s", "peak RSS MB", "tree RSS MB", "rows")
    lines: list[Sequence[str]] = [header]
    for c in contenders.values():
        if not c.measured:
            lines.append((c.label, "FAILED", "", "", "", "", ""))
            continue
        walls = [r.wall_s for r in c.ok_runs]
        work = [float(r.extra["work_s"]) for r in c.ok_runs if "work_s" in r.extra]
        counted = {rows_read(c.name, r) for r in c.ok_runs}
        lines.append(
            (
                c.label,
                f"{c.median_wall_s:.2f}",
                f"{min(walls):.2f}-{max(walls):.2f}",
                f"{median(work):.2f}" if work else "-",
                f"{c.peak_rss_mb:,.0f}",
                f"{c.tree_rss_mb:,.0f}",
                ", ".join(f"{n:,}" if n is not None else "?" for n in sorted(counted, key=lambda n: n or -1)),
            )
        )
    return aligned(lines)


def summarise(contenders: dict[str, Contender], rows: int) -> dict[str, Any]:
    """Ratios and goals (None where a contender is missing)."""
    ridp = contenders.get(RIDP)
    result: dict[str, Any] = {"ratios": {}, "goals": {}}
    if ridp is None or not ridp.measured:
        return result
    for other in (DUCKDB, PANDAS):
        c = contenders.get(other)
        if c is not None and c.measured:
            result["ratios"][f"ridp / {other}"] = {
                "wall": ratio(ridp.median_wall_s, c.median_wall_s),
                "peak_rss": ratio(ridp.peak_rss_mb, c.peak_rss_mb),
            }
    duck = contenders.get(DUCKDB)
    if duck is not None and duck.measured:
        wall = ratio(ridp.median_wall_s, duck.median_wall_s)
        result["goals"]["wall"] = {
            "target": f"ridp <= {GOAL_WALL_RATIO}x the DuckDB scan",
            "value": wall,
            "pass": wall is not None and wall <= GOAL_WALL_RATIO,
        }
    result["goals"]["peak_rss"] = {
        "target": f"ridp peak RSS <= {GOAL_PEAK_MB / 1000:g} GB",
        "value_mb": ridp.peak_rss_mb,
        "pass": ridp.peak_rss_mb <= GOAL_PEAK_MB,
    }
    return result


def print_report(
    contenders: dict[str, Contender], summary: dict[str, Any], rows: int, csv: Path, repeat: int, load_before: float
) -> None:
    size = csv.stat().st_size
    print()
    print(f"ingest benchmark: {rows:,} rows, {size / 1e6:,.1f} MB CSV, median of {repeat} fresh process(es) each")
    print(f"load average (1 min) before: {load_before:.2f}, after: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(table(contenders, rows))
    print("peak RSS: ru_maxrss from wait4, max over runs (for ridp: its largest process, parse child included);")
    print("tree RSS: largest sampled sum over the live process tree (ridp's CLI + parse child at once).")
    for c in contenders.values():
        if c.failed and c.measured:
            print(f"{c.name} failed in {c.failed} of {len(c.runs)} runs: its figures come from the other runs only")
    for label, r in summary["ratios"].items():
        print(f"{label}: wall {fmt_ratio(r['wall'])}, peak RSS {fmt_ratio(r['peak_rss'])}")
    goals = summary["goals"]
    if "wall" in goals:
        g = goals["wall"]
        print(f"goal {g['target']}: {fmt_ratio(g['value'])} -> {verdict(g['pass'])}")
    if "peak_rss" in goals:
        g = goals["peak_rss"]
        print(f"goal {g['target']}: {g['value_mb']:,.0f} MB -> {verdict(g['pass'])}")


# --- main -----------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows of the demo CSV (default 10,000,000)")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="fresh processes per contender (default 3)")
    parser.add_argument(
        "--workdir", type=Path, default=DEFAULT_WORKDIR, help="cache and results (default benchmarks/out)"
    )
    parser.add_argument(
        "--contenders",
        default=",".join(CONTENDERS),
        help=f"comma-separated subset of: {', '.join(CONTENDERS)} (default all)",
    )
    parser.add_argument(
        "--wait-minutes",
        type=float,
        default=0.0,
        help="how long to wait for ridp.demo to become importable (0: fail at once)",
    )
    args = parser.parse_args(argv)
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")
    args.contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    unknown = sorted(set(args.contenders) - set(CONTENDERS))
    if unknown or not args.contenders:
        parser.error(f"unknown contender(s) {unknown}; choose from {', '.join(CONTENDERS)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workdir: Path = args.workdir.expanduser().absolute()
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if RIDP in args.contenders:
            ridp_executable()
        demo_folder = wait_for_demo(args.wait_minutes * 60)
        csv = demo_csv(workdir, args.rows, SEED, demo_folder)
        warm_page_cache(csv)
        load_before = os.getloadavg()[0]  # other work on the machine skews the figures: show how much there was
        contenders = {name: Contender(name) for name in args.contenders}
        # Interleaved (ridp, duckdb, pandas, ridp, ...) so a slow spell of the machine hits all contenders alike.
        for k in range(args.repeat):
            for c in contenders.values():
                run = RUNNERS[c.name](csv, workdir)
                c.record(c.name, k, args.repeat, run, check(c.name, run))
    except BenchError as exc:
        print(f"benchmark error: {exc}", file=sys.stderr)
        return 2

    summary = summarise(contenders, args.rows)
    print_report(contenders, summary, args.rows, csv, args.repeat, load_before)
    for c in contenders.values():
        if c.measured:
            counts = {rows_read(c.name, r) for r in c.ok_runs}
            if counts != {args.rows}:
                print(f"warning: {c.name} read {counts} rows, not {args.rows:,}")
    results = workdir / f"ingest-{args.rows}.json"
    write_json(
        results,
        {
            "benchmark": "ingest",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "rows": args.rows,
            "seed": SEED,
            "repeat": args.repeat,
            "csv": {"path": str(csv), "bytes": csv.stat().st_size},
            "environment": environment(("ridp", "duckdb", "pandas", "pyarrow")),
            "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
            "contenders": {
                c.name: {
                    "failed_runs": c.failed,
                    "median_wall_s": c.median_wall_s if c.measured else None,
                    "peak_rss_mb": c.peak_rss_mb if c.measured else None,
                    "tree_rss_mb": c.tree_rss_mb if c.measured else None,
                    "runs": [
                        {
                            "wall_s": r.wall_s,
                            "peak_rss_kib": r.peak_rss_kib,
                            "tree_rss_kib": r.tree_rss_kib,
                            "exit_code": r.exit_code,
                            "failure": failure,
                            "rows": rows_read(c.name, r),
                            "child": r.extra,
                            "wrapper": r.wrapper,
                            "stdout": r.stdout if c.name == RIDP else None,
                            "stderr": r.stderr if failure else None,
                        }
                        for r, failure in zip(c.runs, c.failures, strict=True)
                    ],
                }
                for c in contenders.values()
            },
            **summary,
        },
    )
    print(f"results: {results}")
    return 1 if any(c.failed for c in contenders.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
