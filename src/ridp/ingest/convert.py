"""Converting a sniffed file to Parquet with DuckDB (runs inside the parse child).

The CSV is read with the dialect and column types that sniffing chose and
``auto_detect`` off, so DuckDB never guesses the structure of a row on its
own; strict mode turns every ragged row into an error with its line. A value
that does not fit the sniffed type of its column demotes that column to text
and the conversion starts again, so nothing is dropped or altered.
"""

from __future__ import annotations

import codecs
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ridp.engine import sql_literal
from ridp.errors import (
    CorruptFileError,
    EncodingError,
    FileFormatError,
    LineTooLongError,
    RaggedRowError,
    ResourceLimitError,
)
from ridp.ingest.sniff import Sniffed

__all__ = ["ColumnSpec", "ConvertResult", "convert_to_parquet", "transcode_to_utf8"]

Progress = Callable[[float], None]


@dataclass(frozen=True)
class ColumnSpec:
    """A column of a stored version: name, position and Arrow type name."""

    name: str
    position: int
    dtype: str


@dataclass(frozen=True)
class ConvertResult:
    """What a conversion wrote."""

    rows: int
    columns: tuple[ColumnSpec, ...]
    encoding: str
    delimiter: str
    demoted: tuple[str, ...]  # columns read as text because a value did not fit the sniffed type


def transcode_to_utf8(source: Path, target: Path, encoding: str, progress: Progress | None = None) -> None:
    """Stream ``source`` from ``encoding`` to UTF-8 in ``target`` (bounded memory)."""
    size = max(1, source.stat().st_size)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    done = 0
    line = 1
    with source.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(8 * 1024 * 1024):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                row = line + chunk[: exc.start].count(b"\n")
                raise EncodingError(f"bytes that are not {encoding}", path=source, row=row) from None
            dst.write(text.lstrip("\ufeff") if done == 0 else text)
            line += chunk.count(b"\n")
            done += len(chunk)
            if progress:
                progress(0.3 * done / size)
        dst.write(decoder.decode(b"", final=True))


def convert_to_parquet(
    sniffed: Sniffed,
    source: Path,
    target: Path,
    con: Any,
    *,
    max_line_bytes: int,
    progress: Progress | None = None,
) -> ConvertResult:
    """Write ``source`` (UTF-8 CSV or Parquet) to ``target`` as Parquet through ``con``.

    ``con`` is a locked-down DuckDB connection that may read ``source`` and
    write ``target``.
    """
    types = {c.name: c.duckdb_type for c in sniffed.columns}
    demoted: list[str] = []
    while True:
        query = _select(sniffed, source, types, max_line_bytes)
        try:
            rows = _run_copy(con, query, target, progress)
            break
        except Exception as exc:  # DuckDB's errors are typed by message only
            column = _conversion_column(str(exc))
            if column is not None and column in types and types[column] != "VARCHAR":
                types[column] = "VARCHAR"
                demoted.append(column)
                target.unlink(missing_ok=True)
                continue
            raise _translate(exc, sniffed) from None
    import pyarrow.parquet as pq

    schema = pq.read_schema(target)
    columns = tuple(ColumnSpec(name, i, str(schema.field(name).type)) for i, name in enumerate(schema.names))
    return ConvertResult(rows, columns, sniffed.encoding, sniffed.delimiter, tuple(demoted))


def _select(sniffed: Sniffed, source: Path, types: dict[str, str], max_line_bytes: int) -> str:
    path = sql_literal(str(source))
    if sniffed.kind == "parquet":
        return f"SELECT * FROM read_parquet({path})"
    if sniffed.kind in ("json", "ndjson"):
        layout = "'array'" if sniffed.kind == "json" else "'newline_delimited'"
        return f"SELECT * FROM read_json({path}, format={layout}, records=true, maximum_depth=64)"
    if sniffed.kind in ("geojson", "shapefile"):
        # Coordinates are stored in WGS84 (EPSG:4326) whatever the file's own system.
        return (
            f"SELECT * EXCLUDE (OGC_FID) REPLACE (ST_Transform(geom, 'EPSG:4326', always_xy := true) AS geom) "
            f"FROM ST_Read({path})"
        )
    columns = ", ".join(f"{sql_literal(name)}: {sql_literal(t)}" for name, t in types.items())
    delim = sql_literal(sniffed.delimiter)
    # Names come from the file's own header and are passed as string literals.
    return (
        f"SELECT * FROM read_csv({path}, auto_detect=false, header=true, delim={delim}, "
        f"quote='\"', escape='\"', strict_mode=true, null_padding=false, allow_quoted_nulls=false, "
        f"max_line_size={int(max_line_bytes)}, encoding='utf-8', columns={{{columns}}})"
    )


def _run_copy(con: Any, query: str, target: Path, progress: Progress | None) -> int:
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            row = con.execute(
                f"COPY ({query}) TO {sql_literal(str(target))} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"
            ).fetchone()
            result["rows"] = int(row[0]) if row else 0
        except BaseException as exc:  # re-raised in the calling thread
            result["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    done = 0.3
    while thread.is_alive():
        thread.join(0.25)
        if progress is not None and thread.is_alive():
            try:
                pct = float(con.query_progress())
            except Exception:  # progress is best effort; the query's own error matters
                pct = -1.0
            if pct >= 0:
                done = max(done, 0.3 + 0.7 * min(pct, 100.0) / 100.0)
            progress(done)  # also a heartbeat: the parent may cancel between two
    if "error" in result:
        raise result["error"]
    return int(result["rows"])


_LINE = re.compile(r"CSV Error on Line: (\d+)")
_CONVERT = re.compile(r'Error when converting column "((?:[^"]|"")*)"')


def _conversion_column(message: str) -> str | None:
    m = _CONVERT.search(message)
    return m.group(1).replace('""', '"') if m else None


def _translate(exc: BaseException, sniffed: Sniffed) -> Exception:
    """Turn a DuckDB error into ridp's typed error naming file, row and column.

    The row's content is never repeated: it may hold personal data.
    """
    message = str(exc)
    path = sniffed.path
    if "INTERNAL Error" in message or "FATAL Error" in message:
        # DuckDB's own bug, not the file's fault as far as we know: find what is wrong ourselves.
        return _diagnose(sniffed, message)
    if isinstance(exc, MemoryError) or "Out of Memory" in message:
        return ResourceLimitError(f"{path.name}: parsing ran out of memory")
    m = _LINE.search(message)
    row = int(m.group(1)) if m else None
    if "Invalid unicode" in message or "not utf-8" in message:
        return EncodingError(
            f"bytes that are not {sniffed.encoding}: the file mixes encodings",
            path=path,
            row=row,
            hint="state the encoding with --encoding, or re-export the file as UTF-8",
        )
    if "Maximum line size" in message:
        return LineTooLongError("the line is longer than the allowed maximum", path=path, row=row)
    expected = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if expected:
        want, got = int(expected.group(1)), int(expected.group(2))
        word = "more" if got > want else "fewer"
        return RaggedRowError(f"has {got} fields, {word} than the header's {want}", path=path, row=row)
    if "too many columns" in message.lower() or "missing column" in message.lower():
        return RaggedRowError("has a different number of fields than the header", path=path, row=row)
    if "Value with unterminated quote" in message or "unterminated quote" in message.lower():
        return FileFormatError("a quoted value is never closed", path=path, row=row)
    if sniffed.kind == "parquet":
        return CorruptFileError(f"the Parquet file cannot be read: {message.splitlines()[0]}", path=path)
    if sniffed.kind in ("json", "ndjson", "geojson", "shapefile"):
        first = message.splitlines()[0] if message else type(exc).__name__
        if "crs" in message.lower() or "transform" in message.lower():
            return FileFormatError("its coordinate system is unknown (is the .prj file missing?)", path=path)
        return FileFormatError(f"cannot be read as {sniffed.kind}: {first}", path=path, row=row)
    first = message.splitlines()[0] if message else type(exc).__name__
    return FileFormatError(f"cannot be read: {first}", path=path, row=row)


def _diagnose(sniffed: Sniffed, message: str) -> Exception:
    """Scan the file with Python for invalid UTF-8, so the error names its row."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    line = 1
    with sniffed.path.open("rb") as fh:
        while chunk := fh.read(8 * 1024 * 1024):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                row = line + chunk[: exc.start].count(b"\n")
                return EncodingError("bytes that are not utf-8: the file mixes encodings", path=sniffed.path, row=row)
            line += chunk.count(b"\n")
    first = message.splitlines()[0] if message else "unknown error"
    return FileFormatError(f"the CSV reader failed ({first})", path=sniffed.path)
