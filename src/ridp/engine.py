"""Analytics engines: one Ibis interface over DuckDB, PostgreSQL and Spark.

``connect(url)`` returns an Ibis backend. The analytical core only ever sees
Ibis tables, so the same code runs on every engine; the parity suite in
``tests/backends/`` proves it and declares each gap.

=========================  =====================================================
URL                        engine
=========================  =====================================================
``None`` / ``""``          DuckDB file ``$RIDP_HOME/engine/ridp.duckdb``
``duckdb:///path/x.duckdb`` DuckDB file at that path
``duckdb://:memory:``      DuckDB in memory
``postgresql://...``       PostgreSQL (``postgres://`` too)
``spark://local``          PySpark in local mode, ``local[2]`` (``spark://local[4]``)
=========================  =====================================================

Every DuckDB connection is locked down in this order (the order matters; see
STACK.md): allowed directories are set to the given folders, extensions are
loaded offline from their PyPI wheels (spatial), then external access is turned
off and the configuration locked. After that, files outside the allowed
folders, ``ATTACH``, URLs and ``INSTALL`` are refused.

Examples
--------
>>> import ridp.engine, tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> con = ridp.engine.connect("duckdb://:memory:", allowed_directories=[folder])
>>> ridp.engine.engine_name(con)
'duckdb'
"""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import ibis
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from ridp.config import Config
from ridp.errors import EngineURLError

__all__ = [
    "EngineKind",
    "EngineURL",
    "connect",
    "engine_name",
    "load_parquet",
    "locked_duckdb",
    "parse_url",
    "sql_literal",
]

EngineKind = Literal["duckdb", "postgres", "pyspark"]


@dataclass(frozen=True)
class EngineURL:
    """A parsed engine URL."""

    kind: EngineKind
    target: str  # DuckDB path or ":memory:", PostgreSQL URL, Spark master


def parse_url(url: str | None, *, home: Path | None = None) -> EngineURL:
    """Parse an engine URL; ``None`` or ``""`` is the default DuckDB file.

    Examples
    --------
    >>> parse_url("spark://local").target
    'local[2]'
    >>> parse_url("postgresql://u@h/db").kind
    'postgres'
    """
    if not url:
        base = home if home is not None else Config.from_env().home
        return EngineURL("duckdb", str(base / "engine" / "ridp.duckdb"))
    if url.startswith("duckdb://"):
        rest = url[len("duckdb://") :]
        if rest in {"", ":memory:", "/:memory:"}:
            return EngineURL("duckdb", ":memory:")
        return EngineURL("duckdb", rest)
    if re.match(r"^postgres(ql)?://", url):
        return EngineURL("postgres", re.sub(r"^postgres://", "postgresql://", url))
    m = re.fullmatch(r"spark://local(\[(\d+|\*)\])?", url)
    if m:
        return EngineURL("pyspark", f"local[{m.group(2) or 2}]")
    raise EngineURLError(
        f"engine URL {url!r} is not supported",
        hint="use duckdb:///path, duckdb://:memory:, postgresql://user@host/db or spark://local",
    )


def locked_duckdb(
    database: str,
    *,
    allowed_directories: Sequence[Path] = (),
    allowed_paths: Sequence[Path] = (),
    memory_limit: int | None = None,
    threads: int | None = None,
    temp_directory: Path | None = None,
    spatial: bool = True,
) -> Any:
    """Open a raw DuckDB connection locked down in the order STACK.md gives.

    Returns a ``duckdb.DuckDBPyConnection``. ``allowed_paths`` admits single
    files (the one file an ingest reads); ``allowed_directories`` whole folders.
    """
    con = _open_duckdb(
        database,
        allowed_directories=allowed_directories,
        allowed_paths=allowed_paths,
        memory_limit=memory_limit,
        threads=threads,
        temp_directory=temp_directory,
        spatial=spatial,
    )
    _lock(con)
    return con


def _open_duckdb(
    database: str,
    *,
    allowed_directories: Sequence[Path],
    allowed_paths: Sequence[Path],
    memory_limit: int | None,
    threads: int | None,
    temp_directory: Path | None,
    spatial: bool,
) -> Any:
    import duckdb

    config = Config.from_env()
    con = duckdb.connect(
        database,
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
        },
    )
    dirs = [str(Path(d).absolute()) for d in allowed_directories]
    files = [str(Path(p).absolute()) for p in allowed_paths]
    # Values are bound as parameters where DuckDB allows it; SET does not take
    # parameters, so paths are quoted with DuckDB's own literal quoting.
    con.execute(f"SET allowed_directories=[{', '.join(sql_literal(d) for d in dirs)}]")
    if files:
        con.execute(f"SET allowed_paths=[{', '.join(sql_literal(f) for f in files)}]")
    if spatial:
        _load_spatial(con)
    nowhere = sql_literal(str(Path(dirs[0] if dirs else tempfile.gettempdir()) / ".no-extension-repository"))
    con.execute(f"SET custom_extension_repository={nowhere}")
    con.execute(f"SET autoinstall_extension_repository={nowhere}")
    if temp_directory is not None:
        con.execute(f"SET temp_directory={sql_literal(str(temp_directory))}")
    con.execute(f"SET memory_limit='{int(memory_limit or config.engine_memory)}B'")
    wanted_threads = threads if threads is not None else config.engine_threads
    if wanted_threads:
        con.execute(f"SET threads={int(wanted_threads)}")
    return con


def _lock(con: Any) -> None:
    con.execute("SET enable_external_access=false")
    con.execute("SET lock_configuration=true")


_spatial_lock = threading.Lock()


def _load_spatial(con: Any) -> None:
    from duckdb_extensions import import_extension

    with _spatial_lock:
        import_extension("spatial", con=con)
    con.execute("LOAD spatial")


def sql_literal(value: str) -> str:
    """A string as a DuckDB/SQL literal (quotes doubled): for paths and names ridp chose."""
    return "'" + value.replace("'", "''") + "'"


_spark_session: Any = None


def _spark(master: str) -> Any:
    global _spark_session
    if _spark_session is None:
        from pyspark.sql import SparkSession

        warehouse = tempfile.mkdtemp(prefix="ridp-spark-warehouse-")
        _spark_session = (
            SparkSession.builder.master(master)
            .appName("ridp")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.warehouse.dir", warehouse)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "false")
            .getOrCreate()
        )
        _spark_session.sparkContext.setLogLevel("ERROR")
    return _spark_session


def connect(
    url: str | None = None,
    *,
    allowed_directories: Sequence[Path] = (),
    memory_limit: int | None = None,
) -> BaseBackend:
    """Connect to an analytics engine and return its Ibis backend.

    Parameters
    ----------
    url
        See the module docstring; ``None`` reads ``RIDP_ENGINE_URL`` and falls
        back to the DuckDB file under the workspace.
    allowed_directories
        DuckDB only: the folders the connection may read and write (the city's
        own store). The DuckDB file's own folder is always allowed.
    memory_limit
        DuckDB only: bytes; default ``RIDP_ENGINE_MEMORY``.
    """
    config = Config.from_env()
    parsed = parse_url(url if url is not None else config.engine_url, home=config.home)
    if parsed.kind == "duckdb":
        return _duckdb_backend(parsed.target, [Path(d).absolute() for d in allowed_directories], memory_limit)
    if parsed.kind == "postgres":
        try:
            return ibis.connect(parsed.target)
        except Exception as exc:  # psycopg raises its own tree; say which URL failed
            raise EngineURLError(f"cannot connect to PostgreSQL at {_redact(parsed.target)}: {exc}") from exc
    return ibis.pyspark.connect(_spark(parsed.target))


# DuckDB keeps one database instance per file and process, and a locked
# instance cannot take new settings: so one backend per file, reused.
_duckdb_files: dict[str, tuple[frozenset[Path], BaseBackend]] = {}
_duckdb_lock = threading.Lock()


def _duckdb_backend(target: str, dirs: list[Path], memory_limit: int | None) -> BaseBackend:
    temp: Path | None = None
    if target != ":memory:":
        path = Path(target).absolute()
        path.parent.mkdir(parents=True, exist_ok=True)
        dirs.append(path.parent)
        temp = path.parent / "tmp"
        temp.mkdir(exist_ok=True)
        with _duckdb_lock:
            cached = _duckdb_files.get(str(path))
            if cached is not None and _alive(cached[1]):
                if cached[0] != frozenset(dirs):
                    raise EngineURLError(
                        f"{path} is already open in this process with other allowed folders",
                        hint="use one DuckDB file per city",
                    )
                return cached[1]
            backend = _new_duckdb(str(path), dirs, memory_limit, temp)
            _duckdb_files[str(path)] = (frozenset(dirs), backend)
            return backend
    return _new_duckdb(target, dirs, memory_limit, temp)


def _alive(backend: BaseBackend) -> bool:
    try:
        backend.con.execute("SELECT 1")
    except Exception:  # a closed connection raises its own error type
        return False
    return True


def _new_duckdb(target: str, dirs: list[Path], memory_limit: int | None, temp: Path | None) -> BaseBackend:
    raw = _open_duckdb(
        target,
        allowed_directories=dirs,
        allowed_paths=(),
        memory_limit=memory_limit,
        threads=None,
        temp_directory=temp,
        spatial=True,
    )
    # Ibis sets its session options (UTC time zone, no replacement scans)
    # when it wraps the connection, so the lock comes after.
    backend = ibis.duckdb.from_connection(raw)
    _lock(raw)
    # Ibis loads the spatial extension before a query with geometry in it by
    # listing the extension folder, which the lock forbids; it is loaded already.
    backend._load_extensions = _extensions_loaded_at_open
    return backend


def _extensions_loaded_at_open(extensions: list[str], force_install: bool = False) -> None:
    missing = sorted(set(extensions) - {"spatial"})
    if missing:
        raise EngineURLError(
            f"DuckDB extension(s) {', '.join(missing)} are not loaded; ridp loads only spatial, offline"
        )


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def engine_name(con: BaseBackend) -> EngineKind:
    """The kind of engine behind an Ibis backend."""
    name = con.name
    if name in ("duckdb", "postgres", "pyspark"):
        return cast(EngineKind, name)
    raise EngineURLError(f"engine {name!r} is not one ridp supports")


def load_parquet(con: BaseBackend, path: Path, table_name: str) -> ibis.Table:
    """Make a stored Parquet dataset version a table on ``con``.

    On DuckDB this is a view over the file (nothing is copied); on PostgreSQL
    the rows are copied into a table of that name (replacing it); on Spark the
    file is registered as a temporary view.
    """
    kind = engine_name(con)
    if kind in ("duckdb", "pyspark"):
        return con.read_parquet(str(path), table_name=table_name)
    return _load_postgres(con, path, table_name)


def _load_postgres(con: BaseBackend, path: Path, table_name: str) -> ibis.Table:
    parquet = pq.ParquetFile(path)
    schema = ibis.Schema.from_pyarrow(parquet.schema_arrow)
    con.create_table(table_name, schema=schema, overwrite=True)
    raw = con.con
    columns = ", ".join('"' + name.replace('"', '""') + '"' for name in schema.names)
    quoted_table = '"' + table_name.replace('"', '""') + '"'
    with raw.cursor() as cur, cur.copy(f"COPY {quoted_table} ({columns}) FROM STDIN") as copy:
        for batch in parquet.iter_batches(batch_size=65_536):
            for row in zip(*(col.to_pylist() for col in batch.columns), strict=True):
                copy.write_row(row)
    raw.commit()
    return con.table(table_name)
