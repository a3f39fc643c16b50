"""``ridp serve``: the web app (gunicorn) and the task worker, started and stopped together.

Two child processes run with the same Python and environment:

* the web server, ``gunicorn ridp.web.wsgi:application`` with threaded (gthread)
  workers, no access log (paths carry invitation and password-reset tokens),
  errors only, and never a request body;
* the task worker, ``django db_worker``, which runs uploads' ingests and other
  background jobs from the database queue.

Once the app answers, and every hour after, ``ridp serve`` queues the reminders
task (e-mails of follow-ups coming due and meetings coming up; each is sent at
most once a day, so a restart sends nothing twice).

Ctrl-C or SIGTERM stops both (gracefully, then by force after a grace period);
if either dies, the other is stopped and ``ridp serve`` exits with code 1. On
Linux the children also get SIGTERM if ``ridp serve`` itself is killed, so no
orphan keeps the port.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import typer
from rich.markup import escape

from ridp.cli import console, err_console, ready, run

__all__ = ["serve"]

#: Seconds a child has to stop after SIGTERM (a running task finishes) before it is killed.
GRACE_SECONDS = 25
#: Seconds the web app has to answer its first request.
START_SECONDS = 90
WORKER_INTERVAL = "0.5"
#: Seconds between two runs of the reminders task.
REMINDER_SECONDS = 3600

# Runs first in each child on Linux: ask the kernel for SIGTERM when ``ridp serve`` dies,
# then become the real command (same pid). Set up here, not in ``preexec_fn``, which is
# unsafe once native threads (e.g. Arrow's allocator) exist in the parent.
_LAUNCH = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(1)\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])\n"
)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, min=0, max=65535, help="Port to listen on (0: any free port)."),
    workers: int = typer.Option(2, min=1, max=64, help="Web server processes."),
    threads: int = typer.Option(4, min=1, max=64, help="Threads per web server process."),
) -> None:
    """Serve the web app and run the task worker until Ctrl-C (or SIGTERM)."""

    def go() -> int:
        ready()
        from ridp.web.security import require_secret_key

        require_secret_key()
        chosen = _check_port(host, port)
        return _supervise(host, chosen, workers=workers, threads=threads)

    code = run(go)
    if code:
        raise typer.Exit(code)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _check_port(host: str, port: int) -> int:
    """The port to serve on, after making sure it can be bound (0: pick a free one)."""
    from ridp.errors import FieldError

    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise FieldError(
                "port", f"cannot listen on {host}:{port}: {exc.strerror or exc}", hint="choose another --port"
            ) from None
        return int(sock.getsockname()[1])


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 (a name to show, not a bind)
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def _answering(host: str, port: int) -> bool:
    """Whether the web app answers HTTP (any status: the host name may not be an allowed one)."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    connection = http.client.HTTPConnection(target, port, timeout=5)
    try:
        connection.request("GET", "/login/")
        connection.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _environment() -> dict[str, str]:
    """The children's environment: ours, with the settings module and an absolute workspace path."""
    from ridp.workspace.store import home

    env = {k: v for k, v in os.environ.items() if k != "GUNICORN_CMD_ARGS"}  # no hidden gunicorn options
    env["DJANGO_SETTINGS_MODULE"] = os.environ.get("DJANGO_SETTINGS_MODULE") or "ridp.settings"
    env["RIDP_HOME"] = str(home())
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _spawn(name: str, args: list[str], env: dict[str, str], cwd: Path) -> Child:
    if sys.platform == "linux":
        argv = [sys.executable, "-c", _LAUNCH, str(os.getpid()), *args]
    else:
        argv = [sys.executable, *args]
    # Their own process group: Ctrl-C reaches ``ridp serve`` only, which stops them in order.
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, process_group=0)
    return Child(name, process)


def _web_args(host: str, port: int, workers: int, threads: int) -> list[str]:
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [
        "-m", "gunicorn", "ridp.web.wsgi:application",
        "--bind", bind,
        "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
        "--timeout", "120", "--graceful-timeout", str(GRACE_SECONDS - 5), "--keep-alive", "5",
        # No access log: request paths carry invitation and password-reset tokens. Errors only.
        "--error-logfile", "-", "--log-level", "warning",
        "--no-control-socket", "--name", "ridp",
    ]  # fmt: skip


def _worker_args() -> list[str]:
    return ["-m", "django", "db_worker", "--interval", WORKER_INTERVAL, "--no-reload", "--no-startup-delay"]


def _supervise(host: str, port: int, *, workers: int, threads: int) -> int:
    """Start both children, announce the URL once the app answers, and stop both together."""
    from ridp.workspace.store import home

    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    watched = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    previous = {s: signal.signal(s, on_signal) for s in watched}
    children: list[Child] = []
    try:
        env = _environment()
        children.append(_spawn("web server", _web_args(host, port, workers, threads), env, home()))
        children.append(_spawn("task worker", _worker_args(), env, home()))
        announced = False
        started = time.monotonic()
        reminders_due = 0.0
        while not received:
            dead = next((c for c in children if c.process.poll() is not None), None)
            if dead is not None:
                err_console.print(
                    f"[bold red]error:[/] the {dead.name} stopped (exit code {dead.process.returncode}); "
                    "stopping the rest",
                    highlight=False,
                )
                _stop(children, received)
                return 1
            if not announced and _answering(host, port):
                announced = True
                web, worker = (c.process.pid for c in children)
                console.print(
                    f"ridp is serving at [bold]{escape(_url(host, port))}[/] "
                    f"(web server pid {web}, task worker pid {worker}); press Ctrl-C to stop",
                    highlight=False,
                )
            if announced and time.monotonic() >= reminders_due:
                reminders_due = time.monotonic() + REMINDER_SECONDS
                _queue_reminders()
            if not announced and time.monotonic() - started > START_SECONDS:
                err_console.print(
                    f"[bold red]error:[/] the web app did not answer on {host}:{port} "
                    f"within {START_SECONDS} s; stopping",
                    highlight=False,
                )
                _stop(children, received)
                return 1
            time.sleep(0.2)
        console.print("stopping the web server and the task worker...", highlight=False)
        _stop(children, received)
        console.print("stopped")
        return 0
    finally:
        _stop(children, received)  # nothing left running, whatever happened
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _queue_reminders() -> None:
    """Queue the reminders task for the worker; a failure to queue is said, and serving goes on."""
    from ridp.web.tasks import send_due_reminders

    try:
        send_due_reminders.enqueue()
    except Exception as exc:  # the store is busy or down: the next hour tries again
        err_console.print(f"warning: could not queue the reminders: {exc}", highlight=False)


def _stop(children: list[Child], received: list[int]) -> None:
    """SIGTERM each running child, wait up to :data:`GRACE_SECONDS`, then kill what is left.

    A second Ctrl-C (or SIGTERM) while waiting kills at once.
    """
    alive = [c for c in children if c.process.poll() is None]
    if not alive:
        return
    already = len(received)
    for child in alive:
        _signal(child, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while any(c.process.poll() is None for c in alive):
        if time.monotonic() > deadline or len(received) > already:
            break
        time.sleep(0.1)
    for child in alive:
        if child.process.poll() is None:
            err_console.print(f"the {child.name} did not stop in time; killing it", highlight=False)
            _signal(child, signal.SIGKILL)
        child.process.wait()


def _signal(child: Child, sig: signal.Signals) -> None:
    child.process.send_signal(sig)  # a no-op once the child has exited
