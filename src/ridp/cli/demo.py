"""``ridp demo city|programme|code`` and ``ridp demo --check``: the synthetic demo city and programme."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ridp.cli import console, err_console, ready, run

if TYPE_CHECKING:
    from ridp.workspace.demo_programme import Persona

app = typer.Typer(help="The synthetic demo city and the demo programme.", no_args_is_help=True)

#: The pages ``ridp demo --check`` fetches for every persona ({city}: the persona's first city).
CHECK_PAGES: tuple[tuple[str, str], ...] = (
    ("home", "/"),
    ("city", "/c/{city}/"),
    ("data", "/c/{city}/data/"),
    ("agreements", "/c/{city}/agreements/"),
    ("team", "/c/{city}/team/"),
    ("projects", "/c/{city}/projects/"),
    ("project", "/c/{city}/projects/{project}/"),
    ("charter", "/c/{city}/projects/{project}/charter/"),
    ("meetings", "/c/{city}/projects/{project}/meetings/"),
    ("gate", "/c/{city}/projects/{project}/gate/"),
    ("metrics", "/c/{city}/projects/{project}/metrics/"),
    ("analysis", "/c/{city}/projects/{project}/analysis/"),
    ("pilots", "/c/{city}/projects/{project}/pilots/"),
    ("cohort", "/cohort/"),
    ("account", "/account/"),
    ("api/me", "/api/me"),
    ("api/projects", "/api/cities/{city}/projects"),
    ("api/analyses", "/api/cities/{city}/projects/{project}/analyses"),
    ("api/briefings", "/api/cities/{city}/projects/{project}/briefings"),
    ("api/pilots", "/api/cities/{city}/projects/{project}/pilots"),
)
#: Pages only the programme's people have (coaches, programme analysts, the programme admin).
PROGRAMME_PAGES = frozenset({"cohort"})


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    check: bool = typer.Option(
        False,
        "--check",
        help="Seed a demo workspace, serve it, log in as every persona over HTTP and fetch the main pages; "
        "exit 0 only if every page answers 200.",
    ),
    rows: int = typer.Option(20_000, min=100, help="With --check: Demo City's service requests."),
    home: Path | None = typer.Option(
        None, help="With --check: the workspace folder to use (default: a temporary one, removed afterwards)."
    ),
) -> None:
    """The synthetic demo city and the demo programme."""
    if ctx.invoked_subcommand is not None:
        return
    if not check:
        typer.echo(ctx.get_help())
        return
    code = run(lambda: _check(rows=rows, home=home))
    raise typer.Exit(code)


@app.command("city")
def city(
    out: Path = typer.Argument(..., help="Folder to write the city's files into."),
    rows: int = typer.Option(100_000, help="Service requests to generate."),
    seed: int = typer.Option(2026, help="Random seed (same seed, same bytes)."),
) -> None:
    """Generate the demo city's files and truth.json."""

    def go() -> None:
        from ridp.demo import generate_city

        out.mkdir(parents=True, exist_ok=True)
        columns = (TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task("rows", total=rows)
            demo = generate_city(
                out, rows=rows, seed=seed, progress=lambda done, total: bar.update(task, completed=done)
            )
        for path in (demo.requests_csv, demo.population_csv, demo.neighbourhoods_geojson, demo.truth_json):
            console.print(f"wrote {path}")

    run(go)


@app.command("programme")
def programme(
    rows: int = typer.Option(20_000, min=100, help="Demo City's service requests, if it has no data yet."),
    city_dir: Path | None = typer.Option(
        None, help="A folder written by `ridp demo city` to ingest, if Demo City has no data yet."
    ),
) -> None:
    """Seed the demo programme (3 cities, teams, agreements, demo logins) into a fresh workspace."""

    def go() -> None:
        ready()
        from ridp.workspace.demo_programme import seed

        seeded = seed(rows=rows, city_dir=city_dir, progress=lambda message: console.print(f"  {message}"))
        if not seeded.created:
            console.print("this workspace is a seeded demo already; its logins:")
        _print_logins(seeded.password)

    run(go)


@app.command("code")
def code(
    username: str = typer.Argument(..., help="A demo persona, e.g. ana."),
    uri: bool = typer.Option(False, "--uri", help="Print the otpauth:// link instead, to add to a phone app."),
) -> None:
    """Print a demo persona's current 6-digit code (demo workspaces only)."""

    def go() -> None:
        ready()
        from ridp.workspace.demo_programme import current_code, otpauth_uri

        if uri:
            sys.stdout.write(otpauth_uri(username) + "\n")
            return
        value, valid = current_code(username)
        sys.stdout.write(value + "\n")
        err_console.print(f"valid for {valid} s; each code works once", highlight=False)

    run(go)


def _ridp_command() -> str:
    """How the person ran ``ridp`` (so the printed hints can be pasted as they are)."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "ridp":
        found = shutil.which("ridp")
        same = found is not None and Path(found).resolve() == argv0.resolve()
        command = "ridp" if same else str(argv0)  # as it was typed, e.g. .venv/bin/ridp
    else:
        command = f"{sys.executable} -m ridp.cli"
    if os.environ.get("RIDP_HOME"):
        from ridp.workspace.store import home

        return f"RIDP_HOME={home()} {command}"
    return command


def _print_logins(password: str) -> None:
    from ridp.workspace.demo_programme import logins

    table = Table("login", "name", "role", "cities", "second factor", title="demo logins")
    command = _ridp_command()
    for login in logins():
        factor = "yes: an authenticator is set up" if login.two_factor else "no (password only)"
        table.add_row(login.username, login.full_name, login.role, ", ".join(login.cities), factor)
    console.print(table)
    console.print(f"demo password (every login): [bold]{password}[/]", highlight=False)
    console.print(
        f"a persona's current code: [bold]{command} demo code ana[/] (each code works once; "
        f"`--uri` gives the otpauth:// link for a phone app)",
        highlight=False,
    )


# --- ridp demo --check ---------------------------------------------------------------------------------------


@dataclass
class Hit:
    status: int
    seconds: float
    ok: bool
    note: str = ""


@dataclass
class PersonaResult:
    username: str
    role: str
    city: str
    login: Hit
    pages: dict[str, Hit] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.login.ok and all(h.ok for h in self.pages.values())


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float


class Browser:
    """A tiny HTTP client with a cookie jar: enough to log in through the real forms."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Response:
        headers = {"Accept": "text/html,application/json"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            seconds = time.perf_counter() - started
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Response(response.status, response.headers, data, seconds)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Response:
        return self.request("POST", path, form)


_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def _form_token(page: Response) -> str:
    found = _CSRF.search(page.body)
    return found.group(1).decode() if found else ""


def _log_in(browser: Browser, username: str, password: str) -> Hit:
    """Log in through /login/ (and /login/two-factor/ with the persona's current code)."""
    from ridp.workspace.demo_programme import current_code

    started = time.perf_counter()
    page = browser.get("/login/")
    if page.status != 200:
        return Hit(page.status, time.perf_counter() - started, False, "GET /login/")
    answer = browser.post(
        "/login/", {"csrfmiddlewaretoken": _form_token(page), "username": username, "password": password}
    )
    target = answer.headers.get("Location", "")
    if answer.status != 302:
        return Hit(answer.status, time.perf_counter() - started, False, "password refused")
    if target.endswith("/login/two-factor/"):
        page = browser.get("/login/two-factor/")
        answer = browser.post(
            "/login/two-factor/", {"csrfmiddlewaretoken": _form_token(page), "code": current_code(username)[0]}
        )
        if answer.status != 302:
            return Hit(answer.status, time.perf_counter() - started, False, "code refused")
    elif target.endswith("/account/two-factor/"):
        return Hit(answer.status, time.perf_counter() - started, False, "asked to set up an authenticator")
    return Hit(answer.status, time.perf_counter() - started, True)


def _visit(port: int, persona: Persona, password: str) -> PersonaResult:
    """Log in as ``persona`` and fetch every page of :data:`CHECK_PAGES` in their (first) city."""
    from django.db import connections

    from ridp.workspace.models import PROGRAMME_ROLES, Project

    city = persona.cities[0] if persona.cities else "demo"
    browser = Browser(port)
    try:
        first = Project.objects.filter(city__slug=city).order_by("id").values_list("pk", flat=True).first()
        login = _log_in(browser, persona.username, password)
    except (OSError, http.client.HTTPException) as exc:
        login = Hit(0, 0.0, False, f"no answer: {exc}")
    finally:
        connections.close_all()  # this thread's store connection (read for the persona's code)
    result = PersonaResult(persona.username, persona.role.label, city, login)
    if result.login.ok:
        for label, path in CHECK_PAGES:
            if label in PROGRAMME_PAGES and persona.role not in PROGRAMME_ROLES:
                continue
            try:
                answer = browser.get(path.format(city=city, project=first))
            except (OSError, http.client.HTTPException) as exc:
                result.pages[label] = Hit(0, 0.0, False, f"no answer: {exc}")
                continue
            note = answer.headers.get("Location", "") if 300 <= answer.status < 400 else ""
            result.pages[label] = Hit(answer.status, answer.seconds, answer.status == 200, note)
    return result


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _use_home(home: Path) -> None:
    """Point this process at ``home`` before Django reads its settings."""
    from ridp.errors import WorkspaceError

    target = home.expanduser().absolute()
    loaded = sys.modules.get("ridp.settings")
    if loaded is not None and Path(loaded.RIDP_HOME) != target:
        raise WorkspaceError("the check must choose its workspace before the store is opened in this process")
    os.environ["RIDP_HOME"] = str(target)


def _wait_until_serving(server: subprocess.Popen[bytes], port: int, log: Path, seconds: float = 90) -> None:
    from ridp.errors import WorkspaceError

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise WorkspaceError(f"`ridp serve` stopped (exit code {server.returncode}):\n{_tail(log)}")
        try:
            if Browser(port).get("/login/").status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass  # not listening yet
        time.sleep(0.3)
    raise WorkspaceError(f"`ridp serve` did not answer within {seconds:.0f} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _stop_server(server: subprocess.Popen[bytes]) -> int:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=45)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return server.returncode


def _check(*, rows: int, home: Path | None) -> int:
    """Seed, serve, log in as every persona over HTTP, fetch the main pages; 0 only if all answered 200."""
    began = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="ridp-demo-check-"))  # the server's log, and the workspace unless given
    if home is None:
        os.environ.pop("DATABASE_URL", None)  # a throw-away workspace is SQLite, never a shared database
    workspace = (home or scratch / "home").expanduser().absolute()
    log = scratch / "serve.log"
    try:
        _use_home(workspace)
        import ridp.workspace

        ridp.workspace.boot()
        from ridp.workspace.demo_programme import PERSONAS, demo_password, seed
        from ridp.workspace.store import ensure_ready, init_workspace

        console.print(f"demo check in {workspace}", highlight=False)
        init_workspace("admin")
        ensure_ready()
        seed(rows=rows, progress=lambda message: console.print(f"  seeding: {message}", highlight=False))
        password = demo_password()
        port = _free_port()
        with log.open("wb") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "ridp.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=dict(os.environ),
            )  # fmt: skip
        try:
            _wait_until_serving(server, port, log)
            console.print(f"  serving at http://127.0.0.1:{port}/", highlight=False)
            with ThreadPoolExecutor(max_workers=4) as pool:  # as many as the server's threads
                results = list(pool.map(lambda persona: _visit(port, persona, password), PERSONAS))
        finally:
            stopped = _stop_server(server)
        _print_results(results)
        passed = all(r.passed for r in results) and stopped == 0
        if not passed:
            err_console.print(f"`ridp serve` exited with code {stopped}; the end of its log:\n{_tail(log)}")
        total = sum(1 + len(r.pages) for r in results)
        verdict = "[bold green]passed[/]" if passed else "[bold red]FAILED[/]"
        console.print(
            f"demo check {verdict}: {len(results)} personas, {total} requests, {time.monotonic() - began:.0f} s"
        )
        return 0 if passed else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _cell(hit: Hit | None, *, login: bool = False) -> str:
    if hit is None:
        return "[dim]-[/]"
    if hit.ok:
        return f"[green]{'ok' if login else hit.status}[/] {hit.seconds:.2f}s"
    note = f" ({hit.note})" if hit.note else ""
    return f"[red]{hit.status}[/] {hit.seconds:.2f}s{note}"


def _print_results(results: list[PersonaResult]) -> None:
    table = Table("persona", "role", "city", "login", *(label for label, _ in CHECK_PAGES), title="demo check")
    for r in results:
        table.add_row(
            r.username,
            r.role,
            r.city,
            _cell(r.login, login=True),
            *(_cell(r.pages.get(label)) for label, _ in CHECK_PAGES),
        )
    console.print(table)
    missing = sorted(
        {
            path.format(city="<city>", project="<project>")
            for r in results
            for label, path in CHECK_PAGES
            if _status(r, label) == 404
        }
    )
    if missing:
        console.print("not found (404; pages perhaps not built yet): " + ", ".join(missing), highlight=False)


def _status(result: PersonaResult, label: str) -> int | None:
    hit = result.pages.get(label)
    return hit.status if hit else None
