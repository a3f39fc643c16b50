"""Demo city (placeholder docstring)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ridp.demo._generate import CHUNK_ROWS, DemoCity, _generate

__all__ = ["DemoCity", "generate_city"]


def generate_city(
    directory: Path,
    rows: int = 100_000,
    seed: int = 2026,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> DemoCity:
    """Generate."""
    return _generate(directory, rows, seed, progress=progress, chunk_rows=CHUNK_ROWS)
