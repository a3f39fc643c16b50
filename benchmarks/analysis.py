"""Benchmark: ridp's service-level analysis against DuckDB SQL, polars and pandas, and its places against geopandas.

What is measured (issue 7, PERFORMANCE.md): the wall time and peak RSS of the
**service-level cube** of the demo city's requests: per area x request type x
month opened, the request count, the exact median and p90 of days to close
(closed requests only) and the share closed within a per-type target. On the
same Parquet file, in the same run:

* **ridp**: ``ridp.analysis.service_levels(..., by=("area_id", "type"),
  period="month", censoring="closed-only", targets=...)`` on an in-memory DuckDB;
* **DuckDB SQL**: one hand-written query (``quantile_cont``);
* **polars**: ``group_by`` with ``median`` and ``quantile(0.9, "linear")``;
* **pandas**: ``groupby`` with ``median`` and ``quantile(0.9)``.

ridp computes more than the cube (means, backlog age, resident-days waiting,
the median's order-statistic interval...: see ``_analysis_contenders.py``); the
output lists its extra columns, so the ratio is read knowing that.

polars is not ridp's dependency: it runs with ``.venv-bench/bin/python``
(``make bench-setup``). Without ``.venv-bench`` it is skipped, and the output
says so.

How (PERFORMANCE.md: each contender in its own process, peak RSS from wait4):
the input is the readiness benchmark's (``_readiness_data.py``: the demo city
generated once, converted once to Parquet, cached under ``~/.cache/ridp-bench/``
and not timed). Every measurement is a fresh child process
(``_analysis_contenders.py``), started and reaped by the lean wrapper of
``_harness.py``: wall time from start to reap, so imports count, and peak RSS
from ``os.wait4``. Each contender runs ``--repeat`` times, interleaved, and the
median wall time is reported. Every contender's cube is checked against DuckDB
SQL's: group count, total requests, the medians of the largest groups, and the
sums of every group's median, p90 and share.

The **places** part (``_places.py``; ``--parts places`` runs it alone): every
request of the same file assigned to one of 200 polygons (the demo's 40
neighbourhoods cut into 5 strips each, written as GeoJSON to the work folder) and
stored as Parquet, in a fresh process each:

* **ridp**: ``Boundaries.from_file`` + ``ridp.analysis.assign.assign_areas(...,
  write=OUT)`` on an in-memory DuckDB (the same ``connect`` + ``load_parquet``
  as the cube): every input column and the polygon id, stored;
* **geopandas**: ``gpd.points_from_xy`` + ``gpd.sjoin(points, polygons,
  predicate="within", how="left")``, the ids written with pyarrow.

Each written file is read back (untimed) and ridp's rows per polygon and per
status are checked against geopandas'.

Usage::

    python benchmarks/analysis.py                   # 10,000,000 rows, 3 runs each, both parts
    python benchmarks/analysis.py --rows 1000000 --repeat 1
    python benchmarks/analysis.py --rows 2000000 --parts places
    python benchmarks/analysis.py --smoke           # 10,000 rows, 1 run: checks that everything runs

Prints a table and the goal lines (ridp within 1.0x the fastest of DuckDB SQL,
polars and pandas; places at least 5x faster than geopandas; ridp's peak RSS
within 3 GB) and writes ``benchmarks/out/analysis-<rows>.json``. Missing a goal
is reported, never an error: the exit code is 1 when a contender fails, its cube
differs from DuckDB SQL's or its counts per polygon from geopandas', 2 when the
input cannot be made.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _analysis_contenders import TARGETS
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
from _places import PLACE_SPECS, PlaceContender, run_places
from _readiness_data import City, default_cache, demo_parquet

HERE = Path(__file__).resolve().parent
CONTENDERS_SCRIPT = HERE / "_analysis_contenders.py"
DEFAULT_RESULTS = HERE / "out"  # git-ignored
SEED = 2026
DEFAULT_ROWS = 10_000_000
DEFAULT_REPEAT = 3
SMOKE_ROWS = 10_000
GOAL_VS_FASTEST = 1.0  # ridp at most this many times the fastest of DuckDB SQL, polars and pandas
GOAL_PEAK_GB = 3.0
REFERENCE = "sql"  # every cube is checked against this contender's
#: Two cubes agree when every figure is within this (relative, or absolute near 0): the float sums
#: and medians of different engines may differ in the last bits; counts must be equal.
TOLERANCE = 1e-9
#: ridp's columns that are the cube's own (the rest is what ridp computes beyond it) ...
CUBE_COLUMNS = ("area_id", "type", "period", "requests", "median_days_closed", "p90_days_closed", "share_within_target")
#: ... and the headline columns that, with censoring="closed-only", are copies of the *_closed ones.
COPIED_COLUMNS = ("median_days", "p90_days", "mean_days")


@dataclass(frozen=True)
class Spec:
    """One contender: its key in ``_analysis_contenders.py``, its label, and where it runs."""

    key: str
    label: str
    bench_venv: bool  # runs with .venv-bench's interpreter (not a ridp dependency)


SPECS = (
    Spec("ridp", "ridp service_levels (closed-only)", bench_venv=False),
    Spec("sql", "DuckDB SQL, hand-written", bench_venv=False),
    Spec("polars", "polars group_by", bench_venv=True),
    Spec("pandas", "pandas groupby", bench_venv=False),
)
BY_KEY = {s.key: s for s in SPECS}
PARTS = ("cube", "places")
PLACE_KEYS = tuple(s.key for s in PLACE_SPECS)
ALL_KEYS = (*BY_KEY, *PLACE_KEYS)


@dataclass
class Contender(Runs):
    spec: Spec
    skipped: str | None = None

    @property
    def peak_rss_gb(self) -> float:
        return max(r.peak_rss_kib for r in self.ok_runs) * 1024 / 1e9

    @property
    def cube(self) -> dict[str, Any]:
        """The fingerprint of its cube (from its last successful run; :func:`check` makes every run agree)."""
        cube: dict[str, Any] = self.ok_runs[-1].extra["cube"]
        return cube


# --- running ----------------------------------------------------------------------------------------------------


def run_contender(c: Contender, city: City, bench_python: Path, scratch: Path) -> Run:
    python = bench_python if c.spec.bench_venv else Path(sys.executable)
    home = Path(tempfile.mkdtemp(prefix="ridp-home-", dir=scratch))  # a fresh, empty workspace: nothing cached
    try:
        run = measure(
            [str(python), str(CONTENDERS_SCRIPT), c.spec.key, str(city.parquet)], env=ridp_env(home), cwd=scratch
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if run.ok:
        try:
            run.extra = json.loads(run.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            run.extra = {}
    return run


def check(c: Contender, run: Run, city: City) -> str | None:
    """Why this run failed, or None. A run whose cube differs from the contender's earlier runs fails too."""
    if not run.ok:
        return describe_exit(run.exit_code)
    if "rows" not in run.extra or "cube" not in run.extra:
        return "it printed no result line"
    if int(run.extra["rows"]) != city.rows:
        return f"it read {run.extra['rows']:,} rows, not {city.rows:,}"
    if c.measured and (differences := compare(run.extra["cube"], c.cube)):
        return f"its cube differs from its own earlier run: {'; '.join(differences)}"
    return None


def wait_for_service_levels(timeout_s: float) -> str | None:
    """Wait until ``ridp.analysis.service_levels`` imports; None when it does, else the last error."""
    probe = poll_import("from ridp.analysis import TargetTable, service_levels", "ridp.analysis", timeout_s)
    return None if probe.returncode == 0 else (probe.stderr.strip().splitlines() or ["?"])[-1]


def wait_for_assign(timeout_s: float) -> str | None:
    """Wait until ``ridp.analysis.assign`` and ``.boundaries`` import; None when they do, else the last error."""
    code = "from ridp.analysis.assign import assign_areas; from ridp.analysis.boundaries import Boundaries"
    probe = poll_import(code, "ridp.analysis.assign", timeout_s)
    return None if probe.returncode == 0 else (probe.stderr.strip().splitlines() or ["?"])[-1]


# --- the cube check ---------------------------------------------------------------------------------------------


def compare(cube: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """How ``cube`` differs from ``reference`` (two fingerprints, see ``_analysis_contenders.fingerprint``)."""
    differences = [
        f"{name} {cube[name]:,} vs {reference[name]:,}"
        for name in ("groups", "requests", "median_groups", "p90_groups", "share_groups")
        if cube[name] != reference[name]
    ]
    differences += [
        f"{name} {cube[name]!r} vs {reference[name]!r}"
        for name in ("median_sum", "p90_sum", "share_sum")
        if not _close(cube[name], reference[name])
    ]
    for key, value in reference["medians"].items():
        if key not in cube["medians"]:
            differences.append(f"the group {key} is not among its largest")
        elif not _close(cube["medians"][key], value):
            differences.append(f"median of {key} {cube['medians'][key]!r} vs {value!r}")
    return differences


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def agreement(by_key: dict[str, Contender]) -> dict[str, list[str] | None]:
    """Per measured contender: how its cube differs from DuckDB SQL's ([] when it agrees; None: not checkable)."""
    reference = by_key.get(REFERENCE)
    if reference is None or not reference.measured:
        return {k: None for k, c in by_key.items() if c.measured}
    return {k: compare(c.cube, reference.cube) for k, c in by_key.items() if c.measured and k != REFERENCE}


# --- report ---------------------------------------------------------------------------------------------------


def table(contenders: Sequence[Contender], ridp: Contender | None, agrees: dict[str, list[str] | None]) -> str:
    header = ("contender", "median s", "min-max s", "work s", "peak RSS GB", "groups", "requests", "cube", "ridp/this")
    lines: list[Sequence[str]] = [header]
    notes: dict[int, str] = {}  # line -> why the contender has no figures
    for c in contenders:
        label = c.spec.label + (f" ({c.failed}/{len(c.runs)} runs FAILED)" if c.failed else "")
        if c.skipped or not c.measured:
            notes[len(lines)] = c.skipped or "FAILED in every run"
            lines.append((label, *[""] * (len(header) - 1)))
            continue
        walls = [r.wall_s for r in c.ok_runs]
        work = c.extra("work_s")
        vs = "-"
        if ridp is not None and ridp.measured and c is not ridp:
            vs = fmt_ratio(ridp.median_wall_s / c.median_wall_s)
        lines.append(
            (
                label,
                f"{c.median_wall_s:.2f}",
                f"{min(walls):.2f}-{max(walls):.2f}",
                f"{median(work):.2f}" if work else "-",
                f"{c.peak_rss_gb:.2f}",
                f"{c.cube['groups']:,}",
                f"{c.cube['requests']:,}",
                _cube_cell(c.spec.key, agrees),
                vs,
            )
        )
    return aligned(lines, notes)


def _cube_cell(key: str, agrees: dict[str, list[str] | None]) -> str:
    if key == REFERENCE:
        return "reference"
    differences = agrees.get(key)
    return "not checked" if differences is None else "DIFFERS" if differences else "same"


def summarise(by_key: dict[str, Contender]) -> dict[str, Any]:
    """The goal lines (a goal is left out when a contender it needs was not measured)."""
    goals: dict[str, Any] = {}
    ridp = by_key.get("ridp")
    if ridp is None or not ridp.measured:
        return goals
    others = [k for k in ("sql", "polars", "pandas") if k in by_key]
    measured = [by_key[k] for k in others if by_key[k].measured]
    if measured:
        best = min(measured, key=lambda c: c.median_wall_s)
        value = ridp.median_wall_s / best.median_wall_s
        missing = [BY_KEY[k].label for k in ("sql", "polars", "pandas") if k not in by_key or not by_key[k].measured]
        goals["vs_fastest"] = {
            "line": f"ridp ÷ fastest of (DuckDB SQL, polars, pandas) = ridp ÷ {best.spec.label}"
            + (f" (not measured: {', '.join(missing)})" if missing else ""),
            "value": value,
            "goal": f"<= {GOAL_VS_FASTEST:g}",
            "pass": value <= GOAL_VS_FASTEST,
        }
    goals["peak_rss"] = {
        "line": "ridp peak RSS (GB)",
        "value": ridp.peak_rss_gb,
        "goal": f"<= {GOAL_PEAK_GB:g} GB",
        "pass": ridp.peak_rss_gb <= GOAL_PEAK_GB,
    }
    return goals


def print_report(
    contenders: Sequence[Contender],
    goals: dict[str, Any],
    agrees: dict[str, list[str] | None],
    city: City,
    repeat: int,
    load: float,
) -> None:
    by_key = {c.spec.key: c for c in contenders}
    ridp = by_key.get("ridp")
    print()
    print(
        f"analysis benchmark: service-level cube (area x type x month) of {city.rows:,} requests, "
        f"{city.bytes / 1e6:,.1f} MB Parquet, median of {repeat} fresh process(es) each"
    )
    print(f"load average (1 min) before: {load:.2f}, after: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(table(contenders, ridp, agrees))
    print(
        "median s: wall time of the whole process (start, imports, work); work s: the work alone, as the child timed it;"
    )
    print("peak RSS: ru_maxrss from wait4 (1 GB = 10^9 bytes), highest over the runs;")
    print(
        "cube: checked against DuckDB SQL's (groups, requests, largest groups' medians, sums of medians, p90s, shares)."
    )
    for key, differences in agrees.items():
        if differences:
            print(f"{BY_KEY[key].label}: its cube DIFFERS from DuckDB SQL's: {'; '.join(differences)}")
        elif differences is None:
            print(f"{BY_KEY[key].label}: cube not checked (DuckDB SQL was not measured)")
    for name, g in goals.items():
        value = f"{g['value']:.2f} GB" if name == "peak_rss" else fmt_ratio(g["value"])
        print(f"goal {g['line']} {g['goal']}: {value} -> {verdict(bool(g['pass']))}")
    if ridp is not None and ridp.measured:
        facts = ridp.ok_runs[-1].extra
        extra = [c for c in facts.get("columns", []) if c not in (*CUBE_COLUMNS, *COPIED_COLUMNS)]
        left_out = ", ".join(f"{n:,} {reason}" for reason, n in facts.get("left_out", {}).items()) or "none"
        print(
            f"ridp computed beyond the cube (its time includes them): {', '.join(extra)} "
            f"({', '.join(COPIED_COLUMNS)} are copies of the *_closed figures with censoring='closed-only')"
        )
        print(f"rows left out, by every contender alike (ridp's count): {left_out}")


# --- main -----------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows of the demo city (default 10,000,000)")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="fresh processes per contender (default 3)")
    parser.add_argument("--smoke", action="store_true", help="10,000 rows, 1 run: checks that everything runs")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated subset of: {', '.join(PARTS)} (default both)"
    )
    parser.add_argument(
        "--contenders",
        default=",".join(ALL_KEYS),
        help=f"comma-separated subset of: {', '.join(ALL_KEYS)} (default all; each part runs its own)",
    )
    parser.add_argument("--cache", type=Path, default=None, help="where the demo city is kept (~/.cache/ridp-bench)")
    parser.add_argument("--bench-venv", type=Path, default=BENCH_VENV, help="polars' venv (.venv-bench)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="folder of the JSON results")
    parser.add_argument(
        "--wait-minutes", type=float, default=0.0, help="how long to wait for ridp.analysis to become importable"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.repeat = SMOKE_ROWS, 1
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")
    args.contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    unknown = sorted(set(args.contenders) - set(ALL_KEYS))
    if unknown or not args.contenders:
        parser.error(f"unknown contender(s) {unknown}; choose from {', '.join(ALL_KEYS)}")
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if not args.parts or set(args.parts) - set(PARTS):
        parser.error(f"--parts takes a comma-separated subset of {', '.join(PARTS)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cache: Path = (args.cache or default_cache()).expanduser().absolute()
    bench_python = args.bench_venv.expanduser().absolute() / "bin" / "python"
    has_bench = bench_python.is_file()
    contenders = [Contender(spec=s) for s in SPECS if "cube" in args.parts and s.key in args.contenders]
    places = [PlaceContender(spec=s) for s in PLACE_SPECS if "places" in args.parts and s.key in args.contenders]
    for c in contenders:
        if c.spec.bench_venv and not has_bench:
            c.skipped = SKIPPED_NO_VENV
    try:
        city = demo_parquet(cache, args.rows, SEED, wait_for_demo(args.wait_minutes * 60))
    except BenchError as exc:
        print(f"benchmark error: {exc}", file=sys.stderr)
        return 2
    ridp = next((c for c in contenders if c.spec.key == "ridp"), None)
    if ridp is not None:
        missing = wait_for_service_levels(args.wait_minutes * 60)
        if missing is not None:
            ridp.skipped = f"FAILED: ridp.analysis.service_levels does not import ({missing})"
    for p in places:
        if p.spec.key == "ridp-places" and (missing := wait_for_assign(args.wait_minutes * 60)) is not None:
            p.skipped = f"FAILED: ridp.analysis.assign does not import ({missing})"
    warm_page_cache(city.parquet)

    load_before = os.getloadavg()[0]  # other work on the machine skews the figures: show how much there was
    scratch = Path(tempfile.mkdtemp(prefix="ridp-analysis-bench-"))
    try:
        # Interleaved (ridp, SQL, polars, pandas, ridp, ...) so a slow spell hits every contender alike.
        for k in range(args.repeat):
            for c in contenders:
                if not c.skipped:
                    run = run_contender(c, city, bench_python, scratch)
                    c.record(c.spec.key, k, args.repeat, run, check(c, run, city))
        # The polygons and every run's output go to the work folder (scratch), removed at the end.
        part = run_places(places, city.parquet, city.folder / "neighbourhoods.geojson", city.rows, args.repeat, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    by_key = {c.spec.key: c for c in contenders}
    agrees = agreement(by_key)
    goals = summarise({k: c for k, c in by_key.items() if c.measured})
    if contenders:
        print_report(contenders, goals, agrees, city, args.repeat, load_before)
    if places:
        if not contenders:
            print(
                f"\nload average (1 min) before: {load_before:.2f}, after: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
            )
        part.report(city.rows, args.repeat)
        goals.update(part.goals)
    args.results.mkdir(parents=True, exist_ok=True)
    suffix = "" if set(args.parts) == set(PARTS) else "-" + "-".join(args.parts)
    results = args.results / f"analysis-{args.rows}{suffix}.json"
    write_json(
        results,
        payload(args, city, contenders, goals, agrees, bench_python if has_bench else None, load_before)
        | {"places": part.payload() if places else None},
    )
    print(f"results: {results}")
    every: list[Contender | PlaceContender] = [*contenders, *places]
    crashed = any(c.failed for c in every) or any(c.skipped and c.skipped.startswith("FAILED") for c in every)
    return 1 if crashed or any(agrees.values()) or part.mismatch else 0


def payload(
    args: argparse.Namespace,
    city: City,
    contenders: Sequence[Contender],
    goals: dict[str, Any],
    agrees: dict[str, list[str] | None],
    bench_python: Path | None,
    load_before: float,
) -> dict[str, Any]:
    """Everything, every run included, for ``analysis-<rows>.json``."""
    return {
        "benchmark": "analysis",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "parts": args.parts,
        "rows": args.rows,
        "seed": SEED,
        "repeat": args.repeat,
        "targets_days": TARGETS,
        "parquet": {"path": str(city.parquet), "bytes": city.bytes},
        "environment": environment(
            ("ridp", "duckdb", "ibis-framework", "pandas", "pyarrow", "geopandas", "shapely"),
            bench_python,
            ("polars", "pyarrow"),
        ),
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "goals": goals,
        "cube_differences_from_sql": agrees,
        "contenders": {
            c.spec.key: {
                "label": c.spec.label,
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


if __name__ == "__main__":
    sys.exit(main())
