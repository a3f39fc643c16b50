"""Shared fixtures: real data paths, a PostgreSQL URL, and a per-test workspace folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()
# Tests never see a person's own settings or workspace: every RIDP_* variable is
# cleared, and RIDP_HOME points at a throw-away folder (Django's settings read it
# once at import; tests that touch files set their own, read per call).
for _name in [n for n in os.environ if n.startswith("RIDP_")]:
    del os.environ[_name]
os.environ["RIDP_HOME"] = tempfile.mkdtemp(prefix="ridp-test-home-")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.fail(f"the shared real data is missing at {SHARED_DATA}")
    return SHARED_DATA


def postgres_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL server for tests; skipped locally if absent, a failure under CI."""
    import psycopg

    url = postgres_url()
    try:
        with psycopg.connect(url, connect_timeout=5) as con:
            con.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL at {url}: {exc}")
        pytest.skip(f"no PostgreSQL at {url}")
    return url


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh RIDP_HOME folder for this test."""
    folder = tmp_path / "ridp-home"
    folder.mkdir()
    monkeypatch.setenv("RIDP_HOME", str(folder))
    return folder
