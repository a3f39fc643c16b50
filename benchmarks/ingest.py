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
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _harness import Run, describe_exit, measure, median

SEED = 2026
DEFAULT_ROWS = 10_000_000
DEFAULT_REPEAT = 3
DEFAULT_WORKDIR = Path(__file__).resolve().parent / "out"  # git-ignored
GOAL_WALL_RATIO = 2.5  # ridp's median wall time at most this many DuckDB scans
GOAL_PEAK_MB = 2000.0  # 2 GB, in ridp's own units (1 GB = 1000**3 bytes)
WAIT_POLL_SECONDS = 30.0

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

GENERATE = """\
import json, sys
from pathlib import Path
from ridp.demo import generate_city
city = generate_city(Path(sys.argv[1]), rows=int(sys.argv[2]), seed=int(sys.argv[3]))
print(json.dumps({"requests_csv": str(city.requests_csv), "rows": city.rows}))
"""

CACHE_MARKER = "bench-cache.json"


class BenchError(Exception):
    """The benchmark cannot go on (setup failed, not a contender's measurement)."""


@dataclass
class Contender:
    name: str
    runs: list[Run] = field(default_factory=list)
    failures: list[str | None] = field(default_factory=list)  # per run: why it failed, or None

    @property
    def ok_runs(self) -> list[Run]:
        """The successful runs: every figure is computed from these only."""
        return [r for r, failure in zip(self.runs, self.failures, strict=True) if failure is None]

    @property
    def failed(self) -> int:
        return sum(failure is not None for failure in self.failures)

    @property
    def median_wall_s(self) -> float:
        return median([r.wall_s for r in self.ok_runs])

    @property
    def peak_rss_mb(self) -> float:
        return max(r.peak_rss_mb for r in self.ok_runs)

    @property
    def tree_rss_mb(self) -> float:
        return max(r.tree_rss_mb for r in self.ok_runs)

    @property
    def measured(self) -> bool:
        return bool(self.ok_runs)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.failed}/{len(self.runs)} runs FAILED)" if self.failed else self.name


# --- the CSV --------------------------------------------------------------------------------------------------


def demo_sources_digest(folder: Path) -> str:
    """SHA-256 over ``ridp.demo``'s source files: a changed generator invalidates the cache."""
    digest = hashlib.sha256()
    for source in sorted(folder.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def wait_for_demo(timeout_s: float) -> Path:
    """Wait until ``ridp.demo`` imports; return its folder.

    The import is tried in a child process: a half-written package is then
    never cached here, and this process stays small (its size would otherwise
    count towards every child's peak RSS, see ``_harness.py``).
    """
    deadline = time.monotonic() + timeout_s
    announced = False
    while True:
        probe = subprocess.run(
            [sys.executable, "-c", "import ridp.demo; from ridp.demo import generate_city; print(ridp.demo.__file__)"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0:
            return Path(probe.stdout.strip().splitlines()[-1]).parent
        if time.monotonic() >= deadline:
            raise BenchError(f"ridp.demo is still not importable after {timeout_s / 60:.0f} min:\n{probe.stderr}")
        if not announced:
            last = probe.stderr.strip().splitlines()[-1:] or ["?"]
            print(f"waiting for ridp.demo to become importable ({last[0]}); polling every {WAIT_POLL_SECONDS:.0f} s")
            announced = True
        time.sleep(WAIT_POLL_SECONDS)


def demo_csv(workdir: Path, rows: int, seed: int, demo_folder: Path) -> Path:
    """The demo city's requests CSV for ``(rows, seed)``, generated once per generator version."""
    folder = workdir / f"city-{rows}-seed{seed}"
    digest = demo_sources_digest(demo_folder)
    marker = folder / CACHE_MARKER
    if marker.exists():
        cached = json.loads(marker.read_text())
        csv = folder / str(cached["requests_csv"])
        if cached.get("generator") == digest and csv.is_file() and csv.stat().st_size == cached["bytes"]:
            print(f"using the cached {csv} ({cached['bytes'] / 1e6:,.1f} MB)")
            return csv
        print(f"the cached city in {folder} is stale (ridp.demo changed); generating it again")
    print(f"generating the demo city: {rows:,} rows, seed {seed} ...", flush=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=workdir))
    try:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", GENERATE, str(partial), str(rows), str(seed)],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"generate_city failed ({describe_exit(done.returncode)}); its error is above")
        made = json.loads(done.stdout.strip().splitlines()[-1])
        name = Path(made["requests_csv"]).relative_to(partial).as_posix()
        size = (partial / name).stat().st_size
        (partial / CACHE_MARKER).write_text(
            json.dumps({"rows": rows, "seed": seed, "generator": digest, "requests_csv": name, "bytes": size})
        )
        shutil.rmtree(folder, ignore_errors=True)
        partial.replace(folder)
        print(f"generated {size / 1e6:,.1f} MB in {time.perf_counter() - start:.1f} s")
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder / name


def warm_page_cache(path: Path) -> None:
    """Read the file once (untimed) so the first contender does not also pay for the disk."""
    buffer = bytearray(1024 * 1024)
    with path.open("rb") as fh:
        while fh.readinto(buffer):
            pass


# --- contenders -----------------------------------------------------------------------------------------------


def ridp_env(home: Path) -> dict[str, str]:
    """This environment with ``RIDP_HOME`` set to a fresh workspace.

    Inherited ``RIDP_*`` settings and ``DATABASE_URL`` are dropped, so every
    run measures ridp's defaults on a fresh SQLite workspace whatever the
    caller's shell (or ``make``, which exports ``RIDP_HOME``) holds.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIDP_") and k != "DATABASE_URL"}
    env["RIDP_HOME"] = str(home)
    return env


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


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


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
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for i, line in enumerate(lines):
        cells = [
            cell.ljust(w) if j == 0 else cell.rjust(w) for j, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells))
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


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
        print(f"goal {g['target']}: {fmt_ratio(g['value'])} -> {'PASS' if g['pass'] else 'NOT YET'}")
    if "peak_rss" in goals:
        g = goals["peak_rss"]
        print(f"goal {g['target']}: {g['value_mb']:,.0f} MB -> {'PASS' if g['pass'] else 'NOT YET'}")


def environment() -> dict[str, Any]:
    def version(package: str) -> str | None:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None

    mem_total_kib = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        m = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        mem_total_kib = int(m.group(1)) if m else None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "mem_total_mb": mem_total_kib * 1024 / 1e6 if mem_total_kib else None,
        "versions": {p: version(p) for p in ("ridp", "duckdb", "pandas", "pyarrow")},
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(path)


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
                # A failed run does not stop the others: how often a contender fails is a finding too.
                run = RUNNERS[c.name](csv, workdir)
                failure = check(c.name, run)
                c.runs.append(run)
                c.failures.append(failure)
                status = f"FAILED: {failure}" if failure else f"{run.wall_s:.2f} s, peak RSS {run.peak_rss_mb:,.0f} MB"
                print(f"  {c.name} run {k + 1}/{args.repeat}: {status}", flush=True)
                if failure:
                    print(
                        f"--- {c.name} stdout ---\n{run.stdout}--- {c.name} stderr ---\n{run.stderr}", file=sys.stderr
                    )
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
            "environment": environment(),
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
