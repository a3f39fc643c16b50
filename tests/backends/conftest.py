"""The parity suite's engines: one Ibis table per engine, all from the same stored version."""

from __future__ import annotations

from pathlib import Path

import pytest

ENGINES = ["duckdb", "postgres", "pyspark"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Turn ``@pytest.mark.gap(engine, reason=...)`` into a strict xfail on that engine only.

    Strict: if the gap closes, the test fails until the marker is removed, so a
    declared gap can never hide a working feature or linger after a fix.
    """
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "engine" not in callspec.params:
            continue
        engine = callspec.params["engine"]
        if engine == "pyspark":
            item.add_marker(pytest.mark.spark)
        if engine == "postgres":
            item.add_marker(pytest.mark.postgres)
        for mark in item.iter_markers("gap"):
            if mark.args[0] == engine:
                item.add_marker(pytest.mark.xfail(reason=mark.kwargs["reason"], strict=True))


@pytest.fixture(scope="session")
def stored_version(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Parquet dataset version made by ridp's own ingest from a deterministic CSV."""
    from ridp.ingest import parse_file
    from tests.backends.data import write_requests_csv

    folder = tmp_path_factory.mktemp("parity")
    csv_path = write_requests_csv(folder / "requests.csv")
    target = folder / "store" / "version.parquet"
    target.parent.mkdir()
    parse_file(
        csv_path,
        target,
        max_columns=100,
        max_line_bytes=1_000_000,
        memory_bytes=4_000_000_000,
        cpu_seconds=120,
        engine_memory=1_000_000_000,
    )
    return target


@pytest.fixture(scope="session", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


_tables: dict[str, object] = {}
_connections: list[object] = []


@pytest.fixture(scope="session", autouse=True)
def _close_engines():
    yield
    for con in _connections:
        con.disconnect()


@pytest.fixture
def table(engine: str, stored_version: Path, request: pytest.FixtureRequest):
    """The stored version as an Ibis table on ``engine`` (loaded once per session)."""
    import ridp.engine

    if engine not in _tables:
        if engine == "duckdb":
            con = ridp.engine.connect("duckdb://:memory:", allowed_directories=[stored_version.parent])
        elif engine == "postgres":
            con = ridp.engine.connect(request.getfixturevalue("pg_url"))
        else:
            con = ridp.engine.connect("spark://local")
        _connections.append(con)
        _tables[engine] = ridp.engine.load_parquet(con, stored_version, "ridp_parity_requests")
    return _tables[engine]
