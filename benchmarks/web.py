"""Benchmark: the web app under 50 people's sessions, on gunicorn (2 workers x 4 threads), SQLite or PostgreSQL.

What is measured (issue 5, PERFORMANCE.md): the latency and throughput of
``ridp serve`` while ``--sessions`` logged-in people click through the
programme with 1-3 s of think time between requests: the coach's cohort view,
a city's project list, a project's overview, charter, meetings and gates
pages, and the API's project list, project and cohort view. Each session asks
only for what its person may see (their own cities). The goal: p95 < 300 ms
and no errors.

How:

1. A child process (``_web_seed.py seed``) seeds a fresh workspace with the ORM
   (``RIDP_HOME`` in a temporary folder; for PostgreSQL a fresh database
   ``ridp_bench_<pid>``, dropped at the end): ``--cities`` cities x
   ``--projects`` projects with their teams, charters, sign-offs, a year of
   meetings with attendees and follow-ups, and comments; 10 coaches each
   assigned to 10 cities. It makes the sessions straight in the session store
   (as the login page and the second factor would leave them) and lists the
   pages each person may visit, finding the paths by route name: a page whose
   route does not exist yet is skipped, and the output says so.
2. ``ridp serve --workers 2 --threads 4`` serves the workspace on a free
   loopback port (the web app and its task worker, as in production).
3. One thread per session, each with its own keep-alive connection (standard
   library ``http.client``), requests a page, reads it whole, waits its think
   time, and so on, until ``--requests`` requests are done or ``--seconds``
   have passed. Any answer other than 2xx/3xx, or a failed connection, is an
   error; the first few are printed. A request on a kept-alive connection that
   the server had closed is retried once on a new one, as a browser does, and
   counted.
4. After the server stops, ``_web_seed.py probe`` requests one page of each
   kind per persona inside a single process (Django's test client): the SQL
   queries each page makes and its time without load, to show where a slow
   page spends its time.

Usage::

    python benchmarks/web.py                                   # 100 cities x 3 projects, 50 sessions, SQLite
    python benchmarks/web.py --database postgresql
    python benchmarks/web.py --smoke                           # 3 cities, 5 sessions, 100 requests (make test)

Prints requests/s, p50/p95/p99 overall and per page kind, the errors and the
goal line, and writes ``<workdir>/web-<database>-<cities>x<projects>-<sessions>.json``.
Missing the goal is reported, never an error; the exit code is 1 only when
seeding fails or the server does not start.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEEDER = HERE / "_web_seed.py"
DEFAULT_WORKDIR = HERE / "out"  # git-ignored
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/"
GOAL_P95_MS = 300.0
START_SECONDS = 120
ERRORS_SHOWN = 5
COLD_SECONDS = 5.0  # the first requests meet cold workers (imports, templates): shown apart as well

#: How often a person goes to each kind of page, relative to one another (the kinds they may see only).
WEIGHTS: dict[str, float] = {
    "cohort view": 3,
    "projects": 2,
    "project": 3,
    "charter": 2,
    "meetings": 2,
    "gates": 1,
    "api projects": 1,
    "api project": 1,
    "api cohort view": 1,
}

# Creates or drops the benchmark's PostgreSQL database (argv: maintenance URL, "create"|"drop", name).
PG_ADMIN = """\
import sys, psycopg
from psycopg import sql
url, action, name = sys.argv[1:4]
with psycopg.connect(url, autocommit=True) as conn:
    if action == "create":
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    else:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
"""


class BenchError(Exception):
    """Setup failed: the workspace could not be seeded or the server did not start."""


# --- the store ------------------------------------------------------------------------------------------------


def _pg_urls(base: str, name: str) -> tuple[str, str]:
    """(maintenance URL, the benchmark database's URL) from a server URL such as postgresql://postgres@host:5432/."""
    match = re.fullmatch(r"(postgres(?:ql)?://[^/]+)(?:/([^?]*))?(\?.*)?", base.strip())
    if not match:
        raise BenchError(f"--database-url {base!r} is not a postgresql://user@host:port/ URL")
    server, maintenance, query = match.group(1), match.group(2) or "postgres", match.group(3) or ""
    return f"{server}/{maintenance}{query}", f"{server}/{name}{query}"


def _pg(maintenance_url: str, action: str, name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PG_ADMIN, maintenance_url, action, name], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise BenchError(f"cannot {action} PostgreSQL database {name}: {done.stderr.strip().splitlines()[-1:]}")


def _environment(home: Path, database_url: str) -> dict[str, str]:
    """ridp's environment: ours, with a fresh RIDP_HOME and the chosen store, and no other ridp settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIDP_") and k != "DATABASE_URL"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["RIDP_HOME"] = str(home)
    if database_url:
        env["DATABASE_URL"] = database_url
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _child(mode: str, spec: dict[str, Any], work: Path, env: dict[str, str]) -> dict[str, Any]:
    spec_path, out_path = work / f"{mode}-spec.json", work / f"{mode}-out.json"
    spec_path.write_text(json.dumps(spec))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(SEEDER), mode, str(spec_path), str(out_path)],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise BenchError(f"{mode} failed (exit code {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(out_path.read_text())
    result["wall_s"] = round(time.perf_counter() - started, 2)
    return result


# --- the server -----------------------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path


def _ridp() -> list[str]:
    script = Path(sys.executable).with_name("ridp")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from ridp.cli import main; main()"]


def start_server(env: dict[str, str], log: Path, workers: int, threads: int) -> Server:
    """``ridp serve`` on a free loopback port; returns once it has announced it answers (or raises)."""
    argv = [*_ridp(), "serve", "--host", "127.0.0.1", "--port", "0", "--workers", str(workers)]
    argv += ["--threads", str(threads)]
    out = log.open("wb")
    env = {**env, "COLUMNS": "400"}  # one line per message: the announcement is parsed
    process = subprocess.Popen(argv, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = re.search(r"serving at http://127\.0\.0\.1:(\d+)/", text)
        if found:
            return Server(process, int(found.group(1)), log)
        if process.poll() is not None:
            break
        time.sleep(0.2)
    stop_server(Server(process, 0, log))
    raise BenchError(f"ridp serve did not start; its output:\n{log.read_text(errors='replace')[-4000:]}")


def stop_server(server: Server) -> None:
    """SIGTERM ``ridp serve`` (it stops gunicorn and the task worker), then kill it if it lingers."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds of these processes so far (0 for those gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


# --- the load ---------------------------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    status: int  # 0: no answer (connection error)
    ms: float
    at: float  # seconds since the load began, when the request was sent
    persona: str
    error: str = ""


@dataclass
class Load:
    port: int
    cookie_name: str
    requests: int
    seconds: float
    think: tuple[float, float]
    seed: int
    samples: list[Sample] = field(default_factory=list)
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    issued: int = 0
    began: float = 0.0

    def take_turn(self) -> bool:
        """Reserve one of the ``requests`` requests; False once they are all taken or time is up."""
        with self.lock:
            if self.issued >= self.requests or time.monotonic() - self.began >= self.seconds:
                return False
            self.issued += 1
            return True

    def run(self, sessions: list[dict[str, Any]]) -> float:
        """Drive every session in its own thread; return the wall time from the first request to the last answer."""
        self.began = time.monotonic()
        threads = [
            threading.Thread(target=self._session, args=(i, s), name=f"session-{i}", daemon=True)
            for i, s in enumerate(sessions)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=self.seconds + 150)
        return time.monotonic() - self.began

    def _session(self, index: int, session: dict[str, Any]) -> None:
        rng = random.Random(self.seed * 1000 + index)
        visits: dict[str, list[str]] = session["visits"]
        kinds = sorted(visits)
        if not kinds:
            return
        weights = [WEIGHTS.get(k, 1.0) for k in kinds]
        headers = {
            "Cookie": f"{self.cookie_name}={session['cookie']}",
            "Host": f"127.0.0.1:{self.port}",
            "User-Agent": "ridp-web-benchmark",
            "Accept-Encoding": "identity",
        }
        connection: http.client.HTTPConnection | None = None
        time.sleep(rng.uniform(0, self.think[1]))  # people arrive over the first think time, not at once
        try:
            while self.take_turn():
                kind = rng.choices(kinds, weights)[0]
                path = rng.choice(visits[kind])
                accept = "application/json" if path.startswith("/api/") else "text/html"
                sent = time.monotonic()
                status, error = 0, ""
                for attempt in (0, 1):
                    fresh = connection is None
                    conn = connection or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                    connection = conn
                    try:
                        conn.request("GET", path, headers={**headers, "Accept": accept})
                        response = conn.getresponse()
                        response.read()
                        status = response.status
                        if response.getheader("Connection", "").lower() == "close":
                            conn.close()
                            connection = None
                        error = "" if 200 <= status < 400 else f"HTTP {status} {response.reason} on GET {path}"
                        break
                    except (OSError, http.client.HTTPException) as exc:
                        conn.close()
                        connection = None
                        stale = isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError))
                        if stale and attempt == 0 and not fresh:  # the server closed a kept-alive connection
                            with self.lock:
                                self.retries += 1
                            continue
                        status, error = 0, f"{type(exc).__name__}: {exc} on GET {path}"
                        break
                done = time.monotonic()
                with self.lock:
                    self.samples.append(
                        Sample(kind, status, (done - sent) * 1000, sent - self.began, session["persona"], error)
                    )
                time.sleep(rng.uniform(*self.think))
        finally:
            if connection is not None:
                connection.close()


# --- figures --------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n q / 100)
    return ordered[int(rank) - 1]


def summary(samples: Sequence[Sample]) -> dict[str, Any]:
    ms = [s.ms for s in samples]
    return {
        "requests": len(samples),
        "errors": sum(1 for s in samples if s.error),
        "redirects": sum(1 for s in samples if 300 <= s.status < 400),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else float("nan"),
    }


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def report(result: dict[str, Any]) -> None:
    load, overall = result["load"], result["load"]["overall"]
    print()
    print(
        f"{result['database']}: {result['counts'].get('City', 0)} cities, {result['counts'].get('Project', 0)} "
        f"projects, {result['counts'].get('Meeting', 0)} meetings, {result['counts'].get('FollowUp', 0)} follow-ups "
        f"({result['counts'].get('overdue follow-ups', 0)} overdue); {len(result['sessions'])} sessions "
        f"({', '.join(f'{n} {p}' for p, n in result['personas'].items())}); gunicorn {result['workers']} workers x "
        f"{result['threads']} threads"
    )
    for note in result["skipped"]:
        print(f"  skipped {note}")
    print(
        f"{overall['requests']} requests in {load['wall_s']:.1f} s: {load['requests_per_s']:.1f} requests/s; "
        f"think time {result['think'][0]}-{result['think'][1]} s; stale keep-alive retries {load['retries']}; "
        f"server CPU {load['server_cpu_s']:.1f} s ({load['server_cpu_ms_per_request']:.1f} ms/request), "
        f"load driver CPU {load['driver_cpu_s']:.1f} s, "
        f"load average {result['load_average_before']} -> {result['load_average_after']}"
    )
    print()
    head = f"{'page':<18}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}"
    print(head)
    print("-" * len(head))
    for kind, row in [*load["by_kind"].items(), ("all", overall)]:
        print(
            f"{kind:<18}{row['requests']:>9}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}{row['p99_ms']:>9.1f}"
            f"{row['max_ms']:>9.1f}{row['errors']:>8}"
        )
    cold, warm = load["first_5_s"], load["after_5_s"]
    print(
        f"first {COLD_SECONDS:.0f} s (cold workers): {cold['requests']} requests, p95 {cold['p95_ms']:.1f} ms, "
        f"max {cold['max_ms']:.1f} ms; after: {warm['requests']} requests, p95 {warm['p95_ms']:.1f} ms, "
        f"p99 {warm['p99_ms']:.1f} ms"
    )
    if load["first_errors"]:
        print(f"\nfirst errors ({overall['errors']} in all):")
        for line in load["first_errors"]:
            print(f"  {line}")
    if overall["redirects"]:
        print(f"\nwarning: {overall['redirects']} answers were redirects (a session sent to log in?)")
    if result.get("probe"):
        print("\nwithout load, in one process (Django test client), per page kind: time and SQL queries")
        for kind, rows in result["probe"].items():
            cells = ", ".join(
                f"{r['persona']} {r['ms']:.0f} ms / {r['queries']} q / {r['bytes'] // 1000} kB"
                + ("" if r["status"] == 200 else f" (HTTP {r['status']})")
                for r in rows
            )
            print(f"  {kind:<16} {cells}")
    goal = overall["p95_ms"] < GOAL_P95_MS and overall["errors"] == 0 and overall["requests"] > 0
    print(
        f"\ngoal: p95 < {GOAL_P95_MS:.0f} ms and 0 errors: p95 {overall['p95_ms']:.1f} ms, "
        f"{overall['errors']} errors: {'PASS' if goal else 'NOT YET'}"
    )


# --- the run --------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cities", type=int, default=100)
    parser.add_argument("--projects", type=int, default=3, help="projects per city")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--requests", type=int, default=3000, help="stop after this many requests")
    parser.add_argument("--seconds", type=float, default=120.0, help="stop after this long")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn process")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", default=DEFAULT_PG_URL, help="the PostgreSQL server (trust auth)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-probe", action="store_true", help="skip the in-process query count per page")
    parser.add_argument("--keep", action="store_true", help="keep the workspace (and the PostgreSQL database)")
    parser.add_argument(
        "--smoke", action="store_true", help="3 cities, 5 sessions, 100 requests, 0.1-0.3 s think (make test)"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.cities, args.sessions, args.requests, args.seconds, args.think = 3, 5, 100, 20.0, (0.1, 0.3)
    args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ridp-web-bench-"))
    database_name, maintenance_url, database_url = "", "", ""
    if args.database == "postgresql":
        database_name = f"ridp_bench_{os.getpid()}"
        maintenance_url, database_url = _pg_urls(args.database_url, database_name)
    env = _environment(work / "home", database_url)
    server: Server | None = None
    created = False
    try:
        if database_name:
            _pg(maintenance_url, "create", database_name)
            created = True
        print(f"seeding {args.cities} cities x {args.projects} projects on {args.database} in {work} ...", flush=True)
        spec = {"cities": args.cities, "projects": args.projects, "sessions": args.sessions, "seed": args.seed}
        seeded = _child("seed", spec, work, env)
        print(
            f"seeded in {seeded['wall_s']:.1f} s (migrate {seeded['migrate_s']} s, rows {seeded['seed_s']} s): "
            + ", ".join(f"{v} {k}" for k, v in seeded["counts"].items()),
            flush=True,
        )
        for note in seeded["skipped"]:
            print(f"  skipped {note}", flush=True)
        log = args.workdir / f"web-server-{args.database}.log"
        started = time.perf_counter()
        server = start_server(env, log, args.workers, args.threads)
        print(f"ridp serve answers on port {server.port} after {time.perf_counter() - started:.1f} s", flush=True)
        pids = _tree(server.process.pid)
        load = Load(
            server.port, seeded["session_cookie_name"], args.requests, args.seconds, tuple(args.think), args.seed
        )
        before_load = _load_average()
        cpu_before = cpu_seconds(pids)
        own_before = os.times()
        print(
            f"driving {len(seeded['sessions'])} sessions: up to {args.requests} requests or {args.seconds:.0f} s ...",
            flush=True,
        )
        wall = load.run(seeded["sessions"])
        cpu_used = cpu_seconds(pids) - cpu_before
        own = os.times()
        driver_cpu = own.user + own.system - own_before.user - own_before.system
        after_load = _load_average()
        stop_server(server)
        server = None
        probe: dict[str, Any] = {}
        if not args.no_probe:
            try:
                probe = _child("probe", {"seeded": str(work / "seed-out.json")}, work, env)
                probe.pop("wall_s", None)
            except BenchError as exc:  # a diagnosis, not the measurement: say so and go on
                print(f"warning: the in-process probe failed: {exc}", file=sys.stderr)
        samples = sorted(load.samples, key=lambda s: s.at)
        by_kind = {
            k: summary([s for s in samples if s.kind == k]) for k in WEIGHTS if any(s.kind == k for s in samples)
        }
        span = (max(s.at + s.ms / 1000 for s in samples) - min(s.at for s in samples)) if samples else 0.0
        personas: dict[str, int] = {}
        for s in seeded["sessions"]:
            personas[s["persona"]] = personas.get(s["persona"], 0) + 1
        result = {
            "benchmark": "web",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
            "database": args.database,
            "workers": args.workers,
            "threads": args.threads,
            "think": list(args.think),
            "limits": {"requests": args.requests, "seconds": args.seconds},
            "counts": seeded["counts"],
            "seed": {"wall_s": seeded["wall_s"], "migrate_s": seeded["migrate_s"], "rows_s": seeded["seed_s"]},
            "pages": seeded["pages"],
            "skipped": seeded["skipped"],
            "personas": personas,
            "sessions": [{"persona": s["persona"], "user": s["user"]} for s in seeded["sessions"]],
            "load_average_before": before_load,
            "load_average_after": after_load,
            "load": {
                "wall_s": round(wall, 2),
                "span_s": round(span, 2),
                "requests_per_s": round(len(samples) / span, 2) if span else 0.0,
                "retries": load.retries,
                "server_cpu_s": round(cpu_used, 2),
                "server_cpu_ms_per_request": round(1000 * cpu_used / len(samples), 1) if samples else 0.0,
                "driver_cpu_s": round(driver_cpu, 2),
                "overall": summary(samples),
                "first_5_s": summary([s for s in samples if s.at < COLD_SECONDS]),
                "after_5_s": summary([s for s in samples if s.at >= COLD_SECONDS]),
                "by_kind": by_kind,
                "first_errors": [s.error for s in samples if s.error][:ERRORS_SHOWN],
                "samples": [[s.kind, s.persona, s.status, round(s.at, 3), round(s.ms, 1)] for s in samples],
            },
            "probe": probe,
            "goal": {"p95_ms_below": GOAL_P95_MS, "errors": 0},
        }
        result["goal"]["met"] = bool(
            samples and result["load"]["overall"]["p95_ms"] < GOAL_P95_MS and result["load"]["overall"]["errors"] == 0
        )
        report(result)
        out = args.workdir / f"web-{args.database}-{args.cities}x{args.projects}-{args.sessions}.json"
        out.write_text(json.dumps(result, indent=1))
        print(f"\nwrote {out}")
        return 0
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            stop_server(server)
        if args.keep:
            print(f"kept the workspace at {work}" + (f" and the database {database_name}" if created else ""))
        else:
            shutil.rmtree(work, ignore_errors=True)
            if created:
                try:
                    _pg(maintenance_url, "drop", database_name)
                except BenchError as exc:
                    print(f"warning: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
