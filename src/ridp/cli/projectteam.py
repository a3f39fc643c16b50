"""(being written)"""

from __future__ import annotations

import typer

app = typer.Typer(help="A project's team: its city members, coach and programme analyst.", no_args_is_help=True)
