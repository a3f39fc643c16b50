"""Tables for the readiness tests, made the way the product makes them.

Each file is parsed by ridp's own ingest (:func:`ridp.ingest.parse_file`, in its
limited child process) into a Parquet version in one session folder, and read on
one locked-down in-memory DuckDB connection allowed only that folder. Expected
figures are never computed here: the tests compute them from the raw text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import ibis
import pytest


def ingest(source: Path, target: Path) -> Path:
    """Parse ``source`` into the Parquet file ``target`` with ridp's ingest; return ``target``.

    The limits are those of ``tests/backends/conftest.py``, large enough for every file used here.
    """
    from ridp.ingest import parse_file

    parse_file(
        source,
        target,
        max_columns=100,
        max_line_bytes=1_000_000,
        memory_bytes=4_000_000_000,
        cpu_seconds=120,
        engine_memory=1_000_000_000,
    )
    return target


@pytest.fixture(scope="session")
def readiness_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one folder every stored version of this session is written to."""
    return tmp_path_factory.mktemp("readiness-store")


@pytest.fixture(scope="session")
def readiness_con(readiness_store: Path) -> Iterator[Any]:
    """A locked-down in-memory DuckDB that may read the store folder only."""
    import ridp.engine

    con = ridp.engine.connect("duckdb://:memory:", allowed_directories=[readiness_store])
    yield con
    con.disconnect()


class Store:
    """Stored versions of this session, each ingested once and read as an Ibis table."""

    def __init__(self, folder: Path, con: Any) -> None:
        self.folder, self.con = folder, con
        self.parquet: dict[Path, Path] = {}
        self.tables: dict[Path, ibis.Table] = {}

    def _target(self, source: Path) -> Path:
        # Folder and whole file name: NYC311-5.csv and NYC311-5.parquet are two versions.
        slug = re.sub(r"[^a-z0-9]+", "_", f"{source.parent.name}_{source.name}".lower()).strip("_")
        return self.folder / f"v_{slug}.parquet"

    def prefetch(self, sources: Iterable[Path]) -> None:
        """Ingest ``sources`` side by side (each parse is a child process); failures surface on use."""
        todo = [s for s in dict.fromkeys(sources) if s not in self.parquet]
        with ThreadPoolExecutor(max_workers=3) as pool:
            done = {s: pool.submit(ingest, s, self._target(s)) for s in todo}
        for source, future in done.items():
            if future.exception() is None:
                self.parquet[source] = future.result()

    def __call__(self, source: Path) -> ibis.Table:
        import ridp.engine

        if source not in self.tables:
            if source not in self.parquet:
                self.parquet[source] = ingest(source, self._target(source))
            path = self.parquet[source]
            self.tables[source] = ridp.engine.load_parquet(self.con, path, path.stem)
        return self.tables[source]


@pytest.fixture(scope="session")
def stored_table(readiness_store: Path, readiness_con: Any) -> Store:
    """``stored_table(path)``: the file ingested once per session, as an Ibis table."""
    return Store(readiness_store, readiness_con)
