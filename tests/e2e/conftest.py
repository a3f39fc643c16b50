"""Browser journeys: a real `ridp serve` (gunicorn + task worker) on loopback, Debian's Chromium driven by
Playwright, and axe-core checking every page for WCAG 2.1 AA violations.

The served workspace holds the web tests' world (tests/web/conftest.py). Under
CI with DATABASE_URL set, the server runs on a fresh PostgreSQL database of its own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.store)
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    home: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path
    extra: dict[str, Any] = field(default_factory=dict)


def _database_env() -> tuple[dict[str, str], str | None]:
    """A fresh PostgreSQL database for the server when DATABASE_URL is set; else SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return {}, None
    import psycopg

    name = f"ridp_e2e_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    base = url.rsplit("/", 1)[0]
    return {"DATABASE_URL": f"{base}/{name}"}, name


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing: `make test` installs it (scripts/system-deps --with-browser)")
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make test` installs it (scripts/axe-core)")
    home = tmp_path_factory.mktemp("served")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIDP_") and k != "DATABASE_URL"}
    db_env, db_name = _database_env()
    env.update({"RIDP_HOME": str(home / "ridp"), "PYTHONPATH": str(ROOT), **db_env})
    subprocess.run(
        [sys.executable, "-m", "ridp.cli", "init", "--admin", "admin"], env=env, check=True, capture_output=True
    )
    seed = subprocess.run(
        [sys.executable, "-m", "tests.e2e.seed", str(home)], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert seed.returncode == 0, seed.stderr[-3000:]
    port = _free_port()
    log = home / "serve.log"
    with log.open("wb") as fh:
        process = subprocess.Popen(
            [sys.executable, "-m", "ridp.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=fh, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/login/", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("ridp serve did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.3)
    yield Server(url=url, home=home, env=env, process=process, log=log)
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    if db_name:
        import psycopg

        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Checked:
    """A page whose every load is checked: axe-core finds no WCAG 2.1 AA violation, the CSP is never violated."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.problems: list[str] = []
        self.checked: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))

    def _console(self, message: Any) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            self.problems.append(f"CSP: {text}")

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        self.axe()
        return response

    def axe(self) -> None:
        """Run axe-core on the page as it is now; fail on any WCAG 2.0/2.1 A or AA violation."""
        self.page.wait_for_load_state("load")
        self.page.evaluate(AXE.read_text())
        result = self.page.evaluate(
            "async () => { const r = await axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']});"
            " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
        )
        self.checked.append(self.page.url)
        assert not result, f"accessibility violations on {self.page.url}: {result}"

    def finish(self) -> None:
        assert not self.problems, self.problems


@pytest.fixture
def web(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh browser context (its own cookies) with checks on every page; ``web(width, height)`` for tablets."""
    contexts: list[Any] = []
    pages: list[Checked] = []

    def open_page(width: int = 1280, height: int = 900) -> Checked:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
        contexts.append(context)
        checked = Checked(context.new_page(), server.url)
        pages.append(checked)
        return checked

    yield open_page
    for checked in pages:
        checked.finish()
    for context in contexts:
        context.close()
