"""What the benchmarks share: the demo city as their input, ridp's clean environment, and the report's small parts.

The input: :func:`cached_demo` generates the demo city (``ridp.demo.generate_city``,
in a child process), lets the caller turn it into what its contenders read (the CSV
for ``ingest.py``, Parquet for ``readiness.py`` and ``analysis.py``), and caches the
result in ``<cache>/city-<rows>-seed<seed>/``, made again only when the source of
``ridp.demo`` changes. The benchmark process stays small and never imports
``ridp``, pandas or DuckDB (``_harness.py`` says how a process's size leaks into
the peak RSS of the processes it starts): whatever needs them runs in a child
process, and this module uses the standard library only.

Examples
--------
>>> fmt_ratio(None), fmt_ratio(1.234), verdict(False)
('n/a', '1.23x', 'NOT YET')
>>> print(aligned([("name", "s"), ("ridp", "1.00")]))
name     s
----  ----
ridp  1.00
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from _harness import describe_exit

__all__ = [
    "BENCH_VENV",
    "MARKER",
    "SKIPPED_NO_VENV",
    "BenchError",
    "aligned",
    "cached_demo",
    "demo_sources_digest",
    "environment",
    "fmt_ratio",
    "poll_import",
    "ridp_env",
    "run_child",
    "verdict",
    "wait_for_demo",
    "warm_page_cache",
    "write_json",
]

#: The cache folder's record of what it holds and which generator made it.
MARKER = "bench-cache.json"
#: The references' own virtual environment (``make bench-setup``; benchmarks/requirements-bench.txt):
#: polars, Great Expectations and ydata-profiling are not ridp's dependencies and conflict with its pins.
BENCH_VENV = Path(__file__).resolve().parent.parent / ".venv-bench"
SKIPPED_NO_VENV = "skipped: .venv-bench missing, run `make bench-setup`"
WAIT_POLL_SECONDS = 30.0

GENERATE = """\
import json, sys
from pathlib import Path
from ridp.demo import generate_city
city = generate_city(Path(sys.argv[1]), rows=int(sys.argv[2]), seed=int(sys.argv[3]))
print(json.dumps({"requests_csv": str(city.requests_csv), "rows": city.rows}))
"""


class BenchError(Exception):
    """The benchmark cannot go on (its input could not be made; not a contender's measurement)."""


# --- waiting for ridp -----------------------------------------------------------------------------------------


def poll_import(code: str, what: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a child until it succeeds or ``timeout_s`` has passed; return the last attempt.

    Tried in a child process, so a half-written package (another session may be
    editing ridp) is never cached in this one, and this process stays small.
    """
    deadline = time.monotonic() + timeout_s
    announced = False
    while True:
        probe = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        if probe.returncode == 0 or time.monotonic() >= deadline:
            return probe
        if not announced:
            last = (probe.stderr.strip().splitlines() or ["?"])[-1]
            print(f"waiting for {what} to become importable ({last}); polling every {WAIT_POLL_SECONDS:.0f} s")
            announced = True
        time.sleep(WAIT_POLL_SECONDS)


def wait_for_demo(timeout_s: float) -> Path:
    """Wait until ``ridp.demo`` imports; return its folder (its sources key the cache)."""
    probe = poll_import(
        "import ridp.demo; from ridp.demo import generate_city; print(ridp.demo.__file__)", "ridp.demo", timeout_s
    )
    if probe.returncode != 0:
        raise BenchError(
            f"ridp.demo is not importable with {sys.executable} (waited {timeout_s / 60:.0f} min):\n{probe.stderr}"
        )
    return Path(probe.stdout.strip().splitlines()[-1]).parent


# --- the demo city, made once ---------------------------------------------------------------------------------


def demo_sources_digest(folder: Path) -> str:
    """SHA-256 over ``ridp.demo``'s source files: a changed generator invalidates the cache."""
    digest = hashlib.sha256()
    for source in sorted(folder.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def run_child(script: str, *args: str, what: str) -> dict[str, Any]:
    """Run ``script`` with this interpreter; its last line of output is a JSON object, returned.

    Its error output is not captured: if it fails, the reason is on the terminal above ours.
    """
    done = subprocess.run([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"{what} failed ({describe_exit(done.returncode)}); its error is above")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def cached_demo(
    cache: Path,
    rows: int,
    seed: int,
    demo_folder: Path,
    file_key: str,
    finish: Callable[[Path, Path], dict[str, Any]],
) -> tuple[Path, dict[str, Any]]:
    """The demo city for ``(rows, seed)`` in ``cache``, made once per generator version: ``(folder, record)``.

    On a miss the city is generated into a fresh folder and ``finish(folder, csv)``
    makes what the contenders read from it. It returns what the record keeps:
    ``file_key`` (that file's name in the folder), ``bytes`` (its size) and
    anything else. The record also holds ``rows``, ``seed`` and ``generator``
    (:func:`demo_sources_digest`). A hit needs the same generator and the file at
    its recorded size. The folder only takes its final name once it is whole, so
    an interrupted run never leaves a half-made city to be trusted later.
    """
    folder = cache / f"city-{rows}-seed{seed}"
    digest = demo_sources_digest(demo_folder)
    marker = folder / MARKER
    if marker.exists():
        cached: dict[str, Any] = json.loads(marker.read_text())
        path = folder / str(cached.get(file_key, ""))
        if cached.get("generator") == digest and path.is_file() and path.stat().st_size == cached.get("bytes"):
            print(f"using the cached {path} ({cached['bytes'] / 1e6:,.1f} MB)")
            return folder, cached
        print(f"the cached city in {folder} is stale (ridp.demo changed, or a file is missing); making it again")
    cache.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=cache))
    try:
        print(f"generating the demo city: {rows:,} rows, seed {seed} ...", flush=True)
        start = time.perf_counter()
        csv = Path(run_child(GENERATE, str(partial), str(rows), str(seed), what="generate_city")["requests_csv"])
        print(f"generated {csv.stat().st_size / 1e6:,.1f} MB of CSV in {time.perf_counter() - start:.1f} s", flush=True)
        cached = {"rows": rows, "seed": seed, "generator": digest, **finish(partial, csv)}
        (partial / MARKER).write_text(json.dumps(cached, indent=2))
        shutil.rmtree(folder, ignore_errors=True)
        partial.replace(folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder, cached


def warm_page_cache(path: Path) -> None:
    """Read the file once (untimed) so the first contender does not also pay for the disk."""
    buffer = bytearray(1024 * 1024)
    with path.open("rb") as fh:
        while fh.readinto(buffer):
            pass


# --- running ridp ---------------------------------------------------------------------------------------------


def ridp_env(home: Path | None = None) -> dict[str, str]:
    """This environment without ridp's settings, and with ``RIDP_HOME`` set to ``home`` when given.

    Inherited ``RIDP_*`` settings and ``DATABASE_URL`` are dropped, so every run
    measures ridp's defaults on a fresh workspace whatever the caller's shell (or
    ``make``, which exports ``RIDP_HOME``) holds.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIDP_") and k != "DATABASE_URL"}
    if home is not None:
        env["RIDP_HOME"] = str(home)
    return env


# --- the report -----------------------------------------------------------------------------------------------


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def verdict(ok: bool) -> str:
    """A missed goal is a finding, not a failure: it reads NOT YET."""
    return "PASS" if ok else "NOT YET"


def aligned(lines: Sequence[Sequence[str]], notes: Mapping[int, str] | None = None) -> str:
    """``lines`` as a text table: the first line is the header, ruled below; the first column left-aligned.

    A line whose index is in ``notes`` shows its first cell and that note instead
    of its cells (a contender that was skipped, or failed in every run).
    """
    notes = notes or {}
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for i, line in enumerate(lines):
        if i in notes:
            out.append(f"{line[0].ljust(widths[0])}  {notes[i]}")
            continue
        cells = (
            cell.ljust(w) if j == 0 else cell.rjust(w) for j, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        out.append("  ".join(cells))
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def environment(
    packages: Sequence[str], bench_python: Path | None = None, bench_packages: Sequence[str] = ()
) -> dict[str, Any]:
    """The machine and the versions measured (``bench_versions``: the references' venv, None without it)."""
    mem_total_kib = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        m = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        mem_total_kib = int(m.group(1)) if m else None
    found: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "mem_total_mb": mem_total_kib * 1024 / 1e6 if mem_total_kib else None,
        "versions": _versions(Path(sys.executable), packages),
    }
    if bench_packages:
        found["bench_versions"] = _versions(bench_python, bench_packages) if bench_python else None
    return found


def _versions(python: Path, packages: Sequence[str]) -> dict[str, str | None]:
    """The installed versions of ``packages`` for ``python``, asked in a child (this process imports none)."""
    script = (
        "import importlib.metadata as m, json, sys\n"
        "def v(p):\n"
        "    try:\n        return m.version(p)\n    except m.PackageNotFoundError:\n        return None\n"
        "print(json.dumps({p: v(p) for p in sys.argv[1:]}))"
    )
    done = subprocess.run([str(python), "-c", script, *packages], capture_output=True, text=True, check=False)
    found: dict[str, str | None] = json.loads(done.stdout) if done.returncode == 0 else {}
    return found


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    """Write ``payload`` whole or not at all (a reader never sees half a file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    tmp.replace(path)
