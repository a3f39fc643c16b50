"""(being written)"""

from __future__ import annotations

import typer

app = typer.Typer(help="Phase gates: what a project still needs before its next phase, moving on, overrides.", no_args_is_help=True)
