"""Running benchmark contenders: one fresh child process per measurement.

PERFORMANCE.md: each contender runs in its own process, and its peak RSS comes
from ``wait4``. :func:`measure` starts a contender as a fresh process, takes
the wall time around it, and takes the peak RSS (``ru_maxrss``, KiB on Linux)
from the ``os.wait4`` that reaps it. That figure belongs to that one
contender, so measurements never mix.

Two Linux facts shape how this is done:

* A process's ``ru_maxrss`` starts from the RSS of the process that spawned
  it. The address space that the child shared (vfork, which ``subprocess``
  uses) or copied (fork) before its ``exec`` counts towards its high-water
  mark. If this benchmark process reaped the contenders itself, every figure
  would be at least this process's own size. So each contender is started and
  reaped by :data:`WRAPPER`, a lean child (a standard-library-only Python
  started with ``-I -S``, about 11 MB). That is the floor of every figure.
* ``wait4``'s ``ru_maxrss`` covers the reaped process and, folded in, every
  descendant it reaped in turn. ridp parses in a child process of its own,
  so ridp's figure includes that parse child. The wrapper also reports
  ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` as a cross-check. It covers the
  same processes, so the two figures agree.

``ru_maxrss`` is the peak of the *largest single process*, not of the sum of
processes that were alive at once. So :func:`measure` also samples the summed
RSS of the contender's process tree (the wrapper left out) from ``/proc``
every :data:`SAMPLE_SECONDS`. That cross-check can miss a short spike, but it
does count processes that run at the same time.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SAMPLE_SECONDS", "WRAPPER", "Run", "Runs", "describe_exit", "measure", "median"]

#: How often the process tree's summed RSS is sampled.
SAMPLE_SECONDS = 0.05

_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

#: ``python -I -S -c WRAPPER REPORT ARGV...``: run ARGV, reap it with wait4,
#: write its peak RSS, exit status and wall time to REPORT as JSON, and exit
#: with ARGV's exit code (128 + N if signal N killed it).
WRAPPER = """\
import json, os, resource, subprocess, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
proc = subprocess.Popen(argv)
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
with open(report, "w") as fh:
    json.dump({
        "wall_s": wall,
        "exit_code": code,
        "wait4_maxrss_kib": usage.ru_maxrss,
        "children_maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        "wrapper_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }, fh)
sys.exit(code if code >= 0 else 128 - code)
"""


@dataclass
class Run:
    """One measurement: one fresh contender process (with any children of its own)."""

    wall_s: float  # taken by this process around the wrapper, start to reap
    peak_rss_kib: int  # ru_maxrss from the wrapper's wait4 on the contender (descendants folded in)
    tree_rss_kib: int  # largest sampled sum of RSS over the contender's live process tree (0 without /proc)
    exit_code: int  # negative: killed by that signal
    stdout: str
    stderr: str
    wrapper: dict[str, Any] = field(default_factory=dict)  # the wrapper's report
    extra: dict[str, Any] = field(default_factory=dict)  # what the contender reported about itself

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss_kib * 1024 / 1e6

    @property
    def tree_rss_mb(self) -> float:
        return self.tree_rss_kib * 1024 / 1e6


@dataclass
class Runs:
    """One contender's runs, and for each why it failed (None: it did not).

    A failed run does not stop the others: how often a contender fails is a
    finding too. Every figure comes from the successful runs only. Benchmarks
    subclass it with the contender's own name and details (its fields are
    keyword-only, so a subclass's come first).
    """

    runs: list[Run] = field(default_factory=list, kw_only=True)
    failures: list[str | None] = field(default_factory=list, kw_only=True)

    @property
    def ok_runs(self) -> list[Run]:
        return [r for r, failure in zip(self.runs, self.failures, strict=True) if failure is None]

    @property
    def failed(self) -> int:
        return sum(failure is not None for failure in self.failures)

    @property
    def measured(self) -> bool:
        return bool(self.ok_runs)

    @property
    def median_wall_s(self) -> float:
        return median([r.wall_s for r in self.ok_runs])

    def extra(self, name: str) -> list[Any]:
        """What the successful runs' contender processes reported as ``name`` (where they did)."""
        return [r.extra[name] for r in self.ok_runs if name in r.extra]

    def record(self, name: str, k: int, repeat: int, run: Run, failure: str | None) -> None:
        """Keep run ``k`` (0-based) and print its line; a failed run's output goes to stderr."""
        self.runs.append(run)
        self.failures.append(failure)
        status = f"FAILED: {failure}" if failure else f"{run.wall_s:.2f} s, peak RSS {run.peak_rss_mb:,.0f} MB"
        print(f"  {name} run {k + 1}/{repeat}: {status}", flush=True)
        if failure:
            print(f"--- {name} stdout ---\n{run.stdout}--- {name} stderr ---\n{run.stderr}", file=sys.stderr)


def measure(argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run ``argv`` as a fresh process under :data:`WRAPPER`; time it and take its peak RSS from ``wait4``."""
    with (
        tempfile.TemporaryDirectory(prefix="ridp-bench-") as tmp,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        report = Path(tmp) / "report.json"
        sampler = _TreeSampler()
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", WRAPPER, str(report), *argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=None if env is None else dict(env),
            cwd=cwd,
        )
        sampler.start(proc.pid)
        try:
            _, status, _ = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            sampler.stop()
        wall = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen.wait
        wrapper: dict[str, Any] = json.loads(report.read_text()) if report.exists() else {}
        if wrapper:
            code = int(wrapper["exit_code"])  # the contender's own status, signals included
        out.seek(0)
        err.seek(0)
        return Run(
            wall_s=wall,
            peak_rss_kib=int(wrapper.get("wait4_maxrss_kib", 0)),
            tree_rss_kib=sampler.peak_kib,
            exit_code=code,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            wrapper=wrapper,
        )


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def describe_exit(code: int) -> str:
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


class _TreeSampler:
    """Samples, in a thread, the summed RSS of a wrapper's descendants (not the wrapper's own)."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, wrapper: int) -> None:
        if not Path(f"/proc/{wrapper}/task").exists():
            return  # not Linux: only wait4's figure is reported
        self._thread = threading.Thread(target=self._loop, args=(wrapper,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self, wrapper: int) -> None:
        while not self._stop.is_set():
            total = sum(_tree_rss_kib(child) for child in _children(wrapper))
            self.peak_kib = max(self.peak_kib, total)
            self._stop.wait(SAMPLE_SECONDS)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]
    except (OSError, ValueError):
        return []  # the process ended between two reads


def _tree_rss_kib(root: int) -> int:
    total = 0
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_KIB
        except (OSError, ValueError, IndexError):
            continue  # the process ended between two reads
        pending.extend(_children(pid))
    return total
