"""Running benchmark contenders: one fresh child process per measurement.

PERFORMANCE.md: each contender runs in its own process, and its peak RSS comes
from ``wait4``. The parent starts the child, takes the wall time around it and
reaps it with :func:`os.wait4`, whose ``ru_maxrss`` (KiB on Linux) belongs to
that one child, so measurements never mix.

A contender that starts children of its own (ridp parses in a child process)
runs under :data:`TREE_WRAPPER`, a small Python child that starts the command,
reaps it and reports ``getrusage(RUSAGE_CHILDREN).ru_maxrss``: the largest
peak of any process of the command's tree that was reaped, the grandchildren
included (a process's reaped children fold into its own children's peak,
which folds into the wrapper's when it reaps the command).

``ru_maxrss`` is the peak of the *largest single process*, not of the sum of
processes that were alive at once. So :func:`measure` also samples the summed
RSS of the whole process tree from ``/proc`` every :data:`SAMPLE_SECONDS`: a
cross-check that can miss a short spike but does count concurrent processes.
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

__all__ = ["SAMPLE_SECONDS", "TREE_WRAPPER", "Run", "describe_exit", "measure", "measure_tree", "median"]

#: How often the process tree's summed RSS is sampled.
SAMPLE_SECONDS = 0.05

_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

#: ``python -c TREE_WRAPPER REPORT ARGV...``: run ARGV, write its wall time,
#: exit status and the peak RSS of its whole process tree to REPORT as JSON,
#: and exit with ARGV's exit code. Standard library only, so it stays small.
TREE_WRAPPER = """\
import json, os, resource, subprocess, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
proc = subprocess.Popen(argv)
_, status, _ = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
with open(report, "w") as fh:
    json.dump({
        "wall_s": wall,
        "exit_code": code,
        "children_maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        "self_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }, fh)
sys.exit(code if code >= 0 else 128 - code)
"""


@dataclass
class Run:
    """One measurement: one fresh child process (or process tree), reaped by the parent."""

    wall_s: float  # taken by the parent around the child, start to reap
    peak_rss_kib: int  # ru_maxrss from wait4 (for a tree: max with the wrapper's RUSAGE_CHILDREN)
    tree_rss_kib: int  # largest sampled sum of RSS over the live process tree (0 if /proc is absent)
    exit_code: int  # negative: killed by that signal
    stdout: str
    stderr: str
    extra: dict[str, Any] = field(default_factory=dict)  # what the child or the wrapper reported

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss_kib * 1024 / 1e6

    @property
    def tree_rss_mb(self) -> float:
        return self.tree_rss_kib * 1024 / 1e6


def measure(argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run ``argv`` as a fresh child; time it and take its peak RSS from ``wait4``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sampler = _TreeSampler()
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=None if env is None else dict(env),
            cwd=cwd,
        )
        sampler.start(proc.pid)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            sampler.stop()
        wall = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen.wait
        out.seek(0)
        err.seek(0)
        return Run(
            wall_s=wall,
            peak_rss_kib=int(usage.ru_maxrss),
            tree_rss_kib=sampler.peak_kib,
            exit_code=code,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def measure_tree(argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Like :func:`measure`, for a command that starts processes of its own.

    The command runs under :data:`TREE_WRAPPER`; the wall time is still the
    parent's (it includes the wrapper's start, tens of milliseconds), and the
    peak RSS is the largest of ``wait4``'s and the wrapper's
    ``RUSAGE_CHILDREN``, which covers every reaped process of the tree.
    """
    with tempfile.TemporaryDirectory(prefix="ridp-bench-") as tmp:
        report = Path(tmp) / "report.json"
        run = measure([sys.executable, "-c", TREE_WRAPPER, str(report), *argv], env=env, cwd=cwd)
        if report.exists():
            run.extra = json.loads(report.read_text())
            run.peak_rss_kib = max(run.peak_rss_kib, int(run.extra["children_maxrss_kib"]))
    return run


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
    """Samples the summed RSS of a process and its descendants in a thread."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, root: int) -> None:
        if not Path(f"/proc/{root}/task").exists():
            return  # not Linux: only wait4's figure is reported
        self._thread = threading.Thread(target=self._loop, args=(root,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self, root: int) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, _tree_rss_kib(root))
            self._stop.wait(SAMPLE_SECONDS)


def _tree_rss_kib(root: int) -> int:
    total = 0
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_KIB
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, ValueError, IndexError):
            continue  # the process ended between two reads
    return total
