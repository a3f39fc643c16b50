"""(being written)"""

from __future__ import annotations

import typer

app = typer.Typer(help="Scoping a project: the five criteria, value and complexity, and the decision.", no_args_is_help=True)
