"""Helpers for CLI tests that run ``ridp`` as processes: the environment they run in, and a script that runs many
``ridp`` commands in one process (for a module's setup: a ``ridp`` process costs seconds to start)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

Ridp = Callable[..., "subprocess.CompletedProcess[str]"]

#: Runs ``ridp`` commands one after the other in one process, each as the person named with it (RIDP_USER, read
#: per command), stopping at the first that fails. argv[1]: JSON of ``[[user, [args...]], ...]``.
IN_ONE_PROCESS = """
import json, os, sys
from ridp.cli import app
for user, args in json.loads(sys.argv[1]):
    os.environ.pop("RIDP_USER", None)
    if user:
        os.environ["RIDP_USER"] = user
    code = app(args, prog_name="ridp", standalone_mode=False)
    if isinstance(code, int) and code != 0:
        sys.exit(f"ridp {' '.join(args)} (as {user or 'the admin'}) exited with {code}")
"""


def environment(home: Path) -> dict[str, str]:
    """As ``tests/cli/test_cli.py``'s ``ridp`` fixture: no RIDP_*, DJANGO_* or DATABASE_URL of ours."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RIDP_", "DJANGO_", "DATABASE_URL"))}
    return base | {"RIDP_HOME": str(home), "COLUMNS": "200"}
