"""Sniffing a file before it is parsed: its kind, encoding, delimiter, header and types.

Sniffing reads only the start of the file (``SAMPLE_BYTES``), so it is fast on
any size. What it finds wrong in that sample it reports with the row and
column; what lies beyond is checked by the full parse.

Examples
--------
>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
>>> _ = p.write_bytes(b"id;name\\n1;Ana\\n2;Bo\\n")
>>> s = sniff_file(p)
>>> (s.kind, s.encoding, s.delimiter, [c.name for c in s.columns])
('csv', 'utf-8', ';', ['id', 'name'])
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ridp.errors import (
    BinaryFileError,
    CorruptFileError,
    EmptyFileError,
    EncodingError,
    FileFormatError,
    LineTooLongError,
    RaggedRowError,
    TooManyColumnsError,
)

__all__ = ["SAMPLE_BYTES", "ColumnGuess", "FileKind", "Sniffed", "sniff_file"]

FileKind = Literal["csv", "parquet", "json", "ndjson", "geojson", "xlsx", "zip", "shapefile"]
SAMPLE_BYTES = 4 * 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1")

# Types ridp gives a CSV column from its sample; anything else stays text.
# Integers with a leading zero (ZIP codes, ids) stay text so nothing is lost.
_INT = re.compile(r"[+-]?(0|[1-9]\d{0,17})")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_LEADING_ZERO = re.compile(r"[+-]?0\d")
_BOOL = re.compile(r"(?i)true|false")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")


@dataclass(frozen=True)
class ColumnGuess:
    """A column as sniffed: its name in the file and the DuckDB type to read it as."""

    name: str
    duckdb_type: str


@dataclass(frozen=True)
class Sniffed:
    """What sniffing learned about a file."""

    path: Path
    kind: FileKind
    size: int
    encoding: str  # "utf-8" for Parquet
    delimiter: str  # "" for Parquet
    columns: tuple[ColumnGuess, ...]
    sample_rows: int
    warnings: tuple[str, ...] = ()  # what the sample shows a person should know; never values


def sniff_file(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_columns: int = 2000,
    max_line_bytes: int = 2_097_152,
) -> Sniffed:
    """Sniff ``path`` and raise a typed :class:`~ridp.errors.FileFormatError` on what is wrong.

    Parameters
    ----------
    encoding, delimiter
        Stated by the person; sniffed when ``None``.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileFormatError(f"cannot read the file: {exc.strerror}", path=path) from None
    if not path.is_file():
        raise FileFormatError("is not a regular file", path=path)
    if size == 0:
        raise EmptyFileError("the file is empty (0 bytes)", path=path)
    with path.open("rb") as fh:
        head = fh.read(min(size, SAMPLE_BYTES))
        if head.count(b"\n") < 2 and len(head) < size:
            # No whole data row in the sample: read on far enough to find the
            # first two line ends, or to know a line is longer than allowed.
            head += fh.read(2 * max_line_bytes + 2 - len(head))
    from ridp.ingest.formats import detect_kind, json_depth

    kind = detect_kind(path, head)
    if kind == "parquet" or path.suffix.lower() == ".parquet":
        return _sniff_parquet(path, size, head, max_columns)
    if kind in ("json", "ndjson", "geojson"):
        json_depth(path)  # refuses absurd nesting before any parser sees it
        return Sniffed(path, kind, size, "utf-8", "", (), 0)
    if kind in ("xlsx", "zip"):
        return Sniffed(path, kind, size, "", "", (), 0)
    return _sniff_csv(path, size, head, encoding, delimiter, max_columns, max_line_bytes)


def _sniff_parquet(path: Path, size: int, head: bytes, max_columns: int) -> Sniffed:
    import pyarrow.parquet as pq

    with path.open("rb") as fh:
        fh.seek(max(0, size - 4))
        tail = fh.read(4)
    if size < 12 or head[:4] != b"PAR1" or tail != b"PAR1":
        raise CorruptFileError("is not a valid Parquet file (its magic bytes are missing)", path=path)
    try:
        meta = pq.ParquetFile(path).metadata
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError...: all mean a damaged file
        raise CorruptFileError(f"the Parquet file is damaged: {exc}", path=path) from None
    if len(schema.names) > max_columns:
        raise TooManyColumnsError(
            f"has {len(schema.names):,} columns; at most {max_columns:,} are allowed",
            path=path,
            hint="raise RIDP_MAX_COLUMNS if this is intended",
        )
    if meta.num_rows == 0:
        raise EmptyFileError("the Parquet file has no rows", path=path)
    _check_names(path, list(schema.names))
    columns = tuple(ColumnGuess(name, "") for name in schema.names)
    return Sniffed(path, "parquet", size, "utf-8", "", columns, 0)


def _sniff_csv(
    path: Path,
    size: int,
    head: bytes,
    encoding: str | None,
    delimiter: str | None,
    max_columns: int,
    max_line_bytes: int,
) -> Sniffed:
    enc = encoding or _sniff_encoding(path, head)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise FileFormatError(f"unknown encoding {encoding!r}", path=path) from None
    if not enc.startswith("utf-16") and b"\x00" in head:
        raise BinaryFileError(
            "holds binary data, not text: it is not a CSV file",
            path=path,
            hint="upload the CSV export, or a Parquet file",
        )
    newline = b"\n" if not enc.startswith("utf-16") else b"\n\x00"
    start = 0
    for row in (1, 2):
        end = head.find(newline, start)
        if (end < 0 and size - start > max_line_bytes) or end - start > max_line_bytes:
            raise LineTooLongError(
                f"line {row} is longer than {max_line_bytes:,} bytes",
                path=path,
                row=row,
                hint="is this really a CSV file? raise RIDP_MAX_LINE_BYTES if it is",
            )
        if end < 0:
            break
        start = end + len(newline)
    # Decode the sample, dropping a character cut in half at its end.
    cut = head if len(head) == size else head[: head.rfind(b"\n") + 1] or head
    try:
        text = codecs.getincrementaldecoder(enc)(errors="strict").decode(cut, final=len(head) == size)
    except UnicodeDecodeError as exc:
        row = cut[: exc.start].count(b"\n") + 1
        raise EncodingError(
            f"bytes that are not {enc} at byte {exc.start:,}",
            path=path,
            row=row,
            hint="state the encoding with --encoding",
        ) from None
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise EmptyFileError("the file holds only blank space", path=path)
    if _control_share(text) > 0.05:
        raise BinaryFileError("holds control characters, not text: it is not a CSV file", path=path)
    delim = delimiter or _sniff_delimiter(text)
    csv.field_size_limit(max(max_line_bytes, 131_072))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"', doublequote=True, strict=False)
    complete = len(head) == size
    try:
        header = next(reader)
    except csv.Error as exc:
        raise FileFormatError(f"cannot read the header: {exc}", path=path, row=1) from None
    except StopIteration:
        raise EmptyFileError("the file has no header row", path=path) from None
    if len(header) > max_columns:
        raise TooManyColumnsError(
            f"has {len(header):,} columns; at most {max_columns:,} are allowed",
            path=path,
            row=1,
            hint="raise RIDP_MAX_COLUMNS if this is intended",
        )
    names = _clean_names(header)
    _check_names(path, names)
    values: list[list[str]] = [[] for _ in names]
    rows = 0
    last_line = 1
    try:
        for record in reader:
            line = last_line + 1
            last_line = reader.line_num
            if not record:
                continue  # a blank line: DuckDB skips it too
            if len(record) != len(names):
                if not complete and reader.line_num >= text.count("\n"):
                    break  # the last record of a cut sample may be partial
                more_or_fewer = "more" if len(record) > len(names) else "fewer"
                column = names[-1] if len(record) > len(names) else names[len(record)]
                raise RaggedRowError(
                    f"has {len(record)} fields, {more_or_fewer} than the header's {len(names)}",
                    path=path,
                    row=line,
                    column=column,
                )
            rows += 1
            for i, value in enumerate(record):
                values[i].append(value)
    except csv.Error as exc:
        if complete:
            raise FileFormatError(f"malformed CSV: {exc}", path=path, row=reader.line_num) from None
    if rows == 0:
        raise EmptyFileError("the file has a header but no data rows", path=path)
    columns = tuple(ColumnGuess(name, _guess_type(vals)) for name, vals in zip(names, values, strict=True))
    warnings = _sample_warnings(names, values, columns, rows, complete)
    return Sniffed(path, "csv", size, enc, delim, columns, rows, warnings)


_DATE_LIKE = re.compile(
    r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?(\.\d+)?( ?[AaPp][Mm])?)?( ?([+-]\d{2}(:?\d{2})?|Z|UTC))?"
)


def _sample_warnings(
    names: list[str], values: list[list[str]], columns: tuple[ColumnGuess, ...], rows: int, complete: bool
) -> tuple[str, ...]:
    """Findings from the sample that a person should know at ingest (counts, never values)."""
    scope = f"all {rows:,} rows" if complete else f"the first {rows:,} rows"
    found: list[str] = []
    seen: set[tuple[str, ...]] = set()
    duplicates = 0
    for record in zip(*values, strict=True):
        if record in seen:
            duplicates += 1
        else:
            seen.add(record)
    if duplicates:
        found.append(f"{duplicates:,} exact duplicate row(s) in {scope}")
    spaces: list[str] = []
    for name, vals, col in zip(names, values, columns, strict=True):
        blanks = sum(1 for v in vals if v != "" and v.strip() == "")
        if blanks:
            spaces.append(f"{name} {blanks:,}")
        present = [v.strip() for v in vals if v.strip()]
        if col.duckdb_type == "VARCHAR" and present:
            dated = sum(1 for v in present if _DATE_LIKE.fullmatch(v))
            iso = sum(1 for v in present if _TIMESTAMP.fullmatch(v) or _DATE.fullmatch(v))
            if dated / len(present) >= 0.9 and 0 < iso < len(present):
                found.append(f"column {name!r} holds dates in more than one format: kept as text")
            elif dated / len(present) >= 0.9:
                found.append(
                    f"column {name!r} holds dates not in ISO form (day/month/year, a time zone...): kept as text"
                )
    if spaces:
        found.append(f"values made only of spaces in {scope}: " + ", ".join(spaces))
    return tuple(found)


def _sniff_encoding(path: Path, head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[: head.rfind(b"\n") + 1] or head
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    lenient = sample.decode("utf-8", errors="replace")
    if any(ord(ch) > 127 and ch != "\ufffd" for ch in lenient):
        # Valid UTF-8 letters beside bytes that are not UTF-8: two encodings in one file.
        raise EncodingError(
            "mixes encodings: it holds UTF-8 text and bytes that are not UTF-8",
            path=path,
            row=sample[:first_bad].count(b"\n") + 1,
            hint="re-export the file in one encoding, or state it with --encoding",
        )
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _control_share(text: str) -> float:
    sample = text[:65_536]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return bad / max(1, len(sample))


def _sniff_delimiter(text: str) -> str:
    lines = text.splitlines()[:50]
    best, best_fields = ",", 1
    for delim in DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=delim) if r]
        except csv.Error:
            continue
        if not counts:
            continue
        fields = counts[0]
        consistent = sum(1 for c in counts if c == fields) / len(counts)
        if fields > best_fields and consistent >= 0.9:
            best, best_fields = delim, fields
    return best


def _clean_names(header: list[str]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(header, start=1):
        name = raw.strip().lstrip("\ufeff") or f"column_{i}"
        candidate, n = name, 2
        while candidate.lower() in seen:
            candidate, n = f"{name}_{n}", n + 1
        seen.add(candidate.lower())
        names.append(candidate)
    return names


def _check_names(path: Path, names: list[str]) -> None:
    for name in names:
        if any(ord(ch) < 32 for ch in name):
            raise FileFormatError(
                "a column name holds control characters",
                path=path,
                row=1,
                column=name.encode("unicode_escape").decode(),
            )


def _guess_type(values: list[str]) -> str:
    present = [v.strip() for v in values if v.strip() != ""]
    if not present:
        return "VARCHAR"
    if any(v != "" and v.strip() == "" for v in values):
        return "VARCHAR"  # blanks made of spaces are data (a quality finding), not numbers
    for pattern, duck_type in (
        (_INT, "BIGINT"),
        (_FLOAT, "DOUBLE"),
        (_BOOL, "BOOLEAN"),
        (_DATE, "DATE"),
        (_TIMESTAMP, "TIMESTAMP"),
    ):
        if all(pattern.fullmatch(v) for v in present):
            if duck_type in ("BIGINT", "DOUBLE") and any(_LEADING_ZERO.match(v) for v in present):
                return "VARCHAR"  # ZIP codes and ids keep their leading zeros
            return duck_type
    return "VARCHAR"
