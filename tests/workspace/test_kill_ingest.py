"""kill -9 at random moments of an ingest, drawn uniformly over the whole run (start-up,
parse, verify, rename and commit included). After each, the store passes its integrity
check and the dataset is wholly old or wholly new. KILL_RUNS sets the count (default 8, with
a kill at each named stage besides; `make stress` runs 100). The seed is printed so a failure can be replayed with KILL_SEED.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.kill, pytest.mark.slow]

RIDP = [sys.executable, "-m", "ridp.cli"]
IN_ONE_PROCESS = """
import json, sys
from ridp.cli import app
for args in json.loads(sys.argv[1]):
    code = app(args, prog_name="ridp", standalone_mode=False)
    if isinstance(code, int) and code != 0:
        sys.exit(f"ridp {' '.join(args)} exited with {code}")
"""


def write_requests(path: Path, rows: int, salt: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("request_id,type,opened,closed,area,latitude,longitude,note\n")
        for i in range(rows):
            fh.write(
                f"{i},pothole,2024-01-{1 + i % 28:02d} 08:00:00,2024-02-{1 + i % 28:02d} 09:30:00,N{i % 40:02d},42.{i % 9999:04d},-71.{i % 7777:04d},run {salt}\n"
            )
    return path


@pytest.fixture
def store_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for CLI runs: a fresh RIDP_HOME, and a fresh PostgreSQL database when
    the suite runs with DATABASE_URL (so the kill test proves both stores)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["RIDP_HOME"] = str(tmp_path / "home")
    admin_url = os.environ.get("DATABASE_URL")
    db_name = None
    if admin_url:
        import psycopg

        db_name = f"ridp_kill_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin_url, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{db_name}"')
        env["DATABASE_URL"] = admin_url.rsplit("/", 1)[0] + "/" + db_name
    yield env
    if admin_url and db_name:
        import psycopg

        with psycopg.connect(admin_url, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*RIDP, *args], env=env, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"ridp {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def state(env: dict[str, str]) -> dict:
    return json.loads(cli(env, "data", "show", "requests", "--city", "testville", "--json").stdout)


def test_kill_minus_nine_anywhere_leaves_every_dataset_wholly_old_or_wholly_new(tmp_path, store_env):
    runs = int(os.environ.get("KILL_RUNS", "8"))
    seed = int(os.environ.get("KILL_SEED", str(random.SystemRandom().randrange(1_000_000))))
    print(f"\nkill -9 test: {runs} runs, seed {seed} (replay with KILL_SEED={seed})")
    rng = random.Random(seed)
    env = store_env
    cli(env, "init")
    cli(env, "city", "add", "Testville")
    rows = 120_000
    first = write_requests(tmp_path / "requests.csv", rows, salt=0)
    cli(env, "data", "add", str(first), "--city", "testville", "--name", "requests")

    # Calibrate: how long one whole ingest takes, start-up to exit.
    calib = write_requests(tmp_path / "calibration.csv", rows, salt=-1)
    started = time.monotonic()
    cli(env, "data", "add", str(calib), "--city", "testville", "--name", "calibration")
    duration = time.monotonic() - started

    outcomes = {"old": 0, "new": 0}
    for run in range(1, runs + 1):
        before = state(env)["current_version"]
        new_rows = rows + run  # each run's file differs, so every ingest does real work
        source = write_requests(tmp_path / f"requests-{run}.csv", new_rows, salt=run)
        delay = rng.uniform(0, duration)
        proc = subprocess.Popen(
            [*RIDP, "data", "add", str(source), "--city", "testville", "--name", "requests"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

        check = cli(env, "check", check=False)
        assert check.returncode == 0, f"run {run} (seed {seed}, kill at {delay:.3f}s): {check.stdout}{check.stderr}"
        after = state(env)["current_version"]
        if after["number"] == before["number"]:
            assert after == before, f"run {run}: the old version changed"
            outcomes["old"] += 1
        else:
            assert after["number"] == before["number"] + 1, f"run {run}: skipped a version number"
            assert after["rows"] == new_rows, f"run {run}: the new version is not whole"
            outcomes["new"] += 1
        source.unlink()
    print(f"kill -9 test: ingest takes {duration:.2f}s; outcomes {outcomes}")
    assert outcomes["old"] + outcomes["new"] == runs


KILL_AT_STAGE = """
import os, signal, sys
from pathlib import Path
import ridp.workspace
ridp.workspace.boot()
from ridp.workspace.store import ensure_ready
from ridp.workspace.datasets import add_file
from ridp.workspace.people import acting_user
ensure_ready()
stage = sys.argv[2]
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
add_file(
    acting_user(), Path(sys.argv[1]), city="testville", name="requests",
    progress=lambda fraction, s: die() if s == stage else None,
    _before_commit=die if stage == "inside-transaction" else None,
)
"""


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("checksum", "old"),
        ("parse", "old"),
        ("verify", "old"),
        ("commit", "old"),  # the file is renamed into versions/, the transaction not begun
        ("inside-transaction", "old"),  # every row written, COMMIT not yet sent
        ("done", "new"),  # committed
    ],
)
def test_kill_minus_nine_at_each_stage(tmp_path, store_env, stage, expected):
    env = store_env
    first = str(write_requests(tmp_path / "a.csv", 5_000, 0))
    steps = [
        ["init"],
        ["city", "add", "Testville"],
        ["data", "add", first, "--city", "testville", "--name", "requests"],
    ]
    # the workspace before the kill is made in one process: a ridp process costs seconds to start
    subprocess.run([sys.executable, "-c", IN_ONE_PROCESS, json.dumps(steps)], env=env, check=True, timeout=300)
    before = state(env)["current_version"]
    source = write_requests(tmp_path / "b.csv", 6_000, 1)
    proc = subprocess.run(
        [sys.executable, "-c", KILL_AT_STAGE, str(source), stage], env=env, capture_output=True, text=True
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert cli(env, "check", check=False).returncode == 0
    after = state(env)["current_version"]
    if expected == "old":
        assert after == before
    else:
        assert (after["number"], after["rows"]) == (before["number"] + 1, 6_000)
    home = Path(env["RIDP_HOME"]) / "cities" / "testville"
    assert list((home / "staging").iterdir()) == []
    assert len(list((home / "versions").iterdir())) == after["number"]
