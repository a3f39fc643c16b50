"""(being written)"""

from __future__ import annotations

import typer

app = typer.Typer(help="Cohorts: their calendars and the coach's cohort view.", no_args_is_help=True)
