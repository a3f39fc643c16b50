"""``ridp serve`` as a person runs it: the web server and the task worker start, answer, and stop together."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest


def environment(home: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RIDP_", "DJANGO_", "DATABASE_URL", "GUNICORN"))}
    base["RIDP_HOME"] = str(home)
    base["COLUMNS"] = "200"
    return base


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """One workspace made by `ridp init`, copied for each test (init takes a few seconds)."""
    home = tmp_path_factory.mktemp("serve") / "home"
    subprocess.run(
        [sys.executable, "-m", "ridp.cli", "init"], env=environment(home), check=True, capture_output=True, timeout=300
    )
    return home


@pytest.fixture
def env(template: Path, tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    shutil.copytree(template, home)
    return environment(home)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """A running `ridp serve` whose output is collected line by line."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.port = port
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ridp.cli", "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def pids(self, timeout: float = 90) -> tuple[int, int]:
        """The web server's and the task worker's pids, once the URL is printed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if "serving at" in line:
                    assert f"http://127.0.0.1:{self.port}/" in line
                    web = int(line.split("web server pid ")[1].split(",")[0])
                    worker = int(line.split("task worker pid ")[1].split(")")[0])
                    return web, worker
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"ridp serve did not start:\n{self.output()}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.reader.join(timeout=5)
        assert self.process.stdout is not None
        self.process.stdout.close()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def wait_gone(*pids: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def reminders_ran(home: Path, seconds: float = 60) -> bool:
    """Whether the task worker ran the reminders task that `ridp serve` queues once the app answers."""
    import sqlite3

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(home / "workspace.sqlite3")) as con:
            rows = con.execute(
                "SELECT status FROM django_tasks_database_dbtaskresult WHERE task_path LIKE '%send_due_reminders'"
            ).fetchall()
        if ("SUCCESSFUL",) in rows:
            return True
        time.sleep(0.5)
    return False


@pytest.mark.slow  # the web server's first request waits for its worker to boot: about 12 s in all
def test_serve_answers_with_security_headers_runs_the_worker_and_stops_both_on_sigterm(env):
    served = Served(env, free_port())
    try:
        web, worker = served.pids()
        with urllib.request.urlopen(f"http://127.0.0.1:{served.port}/login/", timeout=30) as response:
            assert response.status == 200
            assert "default-src 'self'" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert alive(worker) and "db_worker" in command_line(worker)
        assert alive(web) and "gunicorn" in command_line(web) and "gthread" in command_line(web)
        assert reminders_ran(Path(env["RIDP_HOME"])), "the reminders task was not queued and run"
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=60) == 0, served.output()
        assert wait_gone(web, worker)
        assert "stopped" in served.output() and "Traceback" not in served.output()
    finally:
        served.close()


def test_serve_stops_the_web_server_and_exits_one_when_the_worker_dies(env):
    served = Served(env, free_port())
    try:
        web, worker = served.pids()
        os.kill(worker, signal.SIGKILL)
        assert served.process.wait(timeout=60) == 1
        assert wait_gone(web)
        assert "the task worker stopped" in served.output()
    finally:
        served.close()


def test_serve_refuses_a_weak_secret_key(env):
    result = subprocess.run(
        [sys.executable, "-m", "ridp.cli", "serve", "--port", str(free_port())],
        env=dict(env, RIDP_SECRET_KEY="changeme"), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "RIDP_SECRET_KEY" in result.stderr and "Traceback" not in result.stderr
    assert "serving at" not in result.stdout


def test_serve_refuses_a_port_in_use(env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "ridp.cli", "serve", "--port", str(port)],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
