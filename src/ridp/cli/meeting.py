"""(being written)"""

from __future__ import annotations

import typer

app = typer.Typer(help="A project's meetings, follow-ups, comments, calendar feed and reminders.", no_args_is_help=True)
