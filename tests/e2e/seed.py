"""Seed a served workspace with the web tests' world (run in its own process: ``python -m tests.e2e.seed DIR``)."""

from __future__ import annotations

import sys
from pathlib import Path


def main(folder: str) -> None:
    import ridp.workspace

    ridp.workspace.boot()
    from django.db import transaction

    from tests.web.conftest import build_world

    with transaction.atomic():
        build_world(Path(folder))


if __name__ == "__main__":
    main(sys.argv[1])
