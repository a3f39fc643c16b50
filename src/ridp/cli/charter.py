"""(being written)"""

from __future__ import annotations

import typer

app = typer.Typer(help="A project's charter: versions, what changed, and sign-offs.", no_args_is_help=True)
