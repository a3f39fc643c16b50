"""The malformed-file corpus: ≥ 200 files generated here as variations of what goes
wrong in real uploads. Every one gets a typed ridp error naming the file (and the row
where it applies), never a traceback, never a version, within the memory cap. Cells
that start with = + - @ are not malformed: they are stored as inert text.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ridp import errors
from ridp.ingest import parse_file
from ridp.ingest.worker import last_peak_bytes

pytestmark = pytest.mark.slow
CAP = 2_000_000_000
HEADER = "id,type,opened,note\n"
GOOD_ROW = "1,pothole,2024-01-01 10:00:00,ok\n"
Maker = Callable[[Path], Path]


def csv_bytes(rows: int = 50) -> bytes:
    return (HEADER + GOOD_ROW * rows).encode()


def _write(name: str, data: bytes) -> Maker:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return make


def _parquet_bytes() -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(500)), "t": ["x"] * 500}), buf)
    return buf.getvalue()


def _zip(name: str, entries: list[tuple[str, bytes]]) -> Maker:
    def make(folder: Path) -> Path:
        path = folder / name
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for entry, data in entries:
                z.writestr(entry, data)
        return path

    return make


def _xlsx_bomb(name: str, levels: int) -> Maker:
    def make(folder: Path) -> Path:
        book = openpyxl.Workbook()
        book.active.append(["a"])
        plain = folder / f"plain-{name}"
        book.save(plain)
        entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10 if i else "boom"}">' for i in range(levels))
        sheet = (
            f'<?xml version="1.0"?><!DOCTYPE d [{entities}]><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&e{levels - 1};</t></is></c></row></sheetData></worksheet>'
        )
        path = folder / name
        with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as dst:
            for item in src.infolist():
                dst.writestr(item, sheet.encode() if item.filename.endswith("sheet1.xml") else src.read(item))
        plain.unlink()
        return path

    return make


def corpus() -> list[tuple[str, Maker, type[errors.RidpError], int | None]]:
    rng = random.Random(20261125)
    cases: list[tuple[str, Maker, type[errors.RidpError], int | None]] = []
    good = csv_bytes()
    parquet = _parquet_bytes()
    # wrong extensions and magic bytes that disagree with them
    for ext in (".parquet", ".xlsx", ".json", ".geojson", ".zip", ".ndjson"):
        cases.append((f"csv-named{ext}", _write(f"export{ext}", good), errors.FileFormatError, None))
    for label, magic in {
        "png": b"\x89PNG\r\n\x1a\n",
        "pdf": b"%PDF-1.7\n",
        "gzip": b"\x1f\x8b\x08\x00",
        "elf": b"\x7fELF\x02\x01",
    }.items():
        for ext in (".csv", ".tsv", ".txt"):
            cases.append(
                (f"{label}-as{ext}", _write(f"data{ext}", magic + bytes(range(256)) * 8), errors.FileFormatError, None)
            )
    for ext in (".json", ".xlsx", ".geojson", ".csv"):
        cases.append((f"parquet-named{ext}", _write(f"data{ext}", parquet), errors.FileFormatError, None))
    cases.append(
        (
            "xls-binary",
            _write("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)),
            errors.FileFormatError,
            None,
        )
    )
    cases.append(("parquet-named-csv", _write("data.csv", parquet), errors.FileFormatError, None))
    # empty and nearly empty
    for i, data in enumerate(
        [b"", b"\n", b"   ", b"\r\n\r\n", HEADER.encode(), b"\xef\xbb\xbf", b"\xef\xbb\xbfid,type\n"]
    ):
        cases.append((f"empty-{i}", _write("empty.csv", data), errors.EmptyFileError, None))
    # ragged rows at many positions, short and long
    for row in (2, 3, 4, 5, 7, 9, 12, 15, 20, 25, 30, 35, 40, 45, 49, 50):
        for extra in (-2, -1, 1, 3):
            lines = [HEADER] + [GOOD_ROW] * 49
            fields = GOOD_ROW.strip().split(",")
            bad = fields[: len(fields) + extra] if extra < 0 else fields + ["x"] * extra
            lines[row - 1] = ",".join(bad) + "\n"
            cases.append(
                (
                    f"ragged-row{row}-{extra:+d}",
                    _write("ragged.csv", "".join(lines).encode()),
                    errors.RaggedRowError,
                    row,
                )
            )
    # mixed encodings at many positions
    for row in (2, 3, 5, 8, 10, 15, 20, 30, 40, 50):
        lines = [HEADER, "0,pothole,2024-01-01 10:00:00,café\n".replace("0,", "0,", 1)] + [GOOD_ROW] * 49
        data = "".join(lines[:row]).encode() + b"9,noise,2024-01-01 10:00:00,caf\xe9\n" + "".join(lines[row:]).encode()
        cases.append((f"mixed-encoding-row{row + 1}", _write("mixed.csv", data), errors.EncodingError, None))
    # unterminated quotes
    for row in (2, 10, 40):
        lines = [HEADER] + [GOOD_ROW] * 45
        lines[row - 1] = '1,pothole,2024-01-01 10:00:00,"never closed\n'
        cases.append(
            (f"open-quote-row{row}", _write("quote.csv", "".join(lines).encode()), errors.FileFormatError, None)
        )
    # too wide and too long
    for width in (2001, 10_000, 100_000):
        header = ",".join(f"c{i}" for i in range(width))
        cases.append(
            (
                f"wide-{width}",
                _write("wide.csv", (header + "\n" + ",".join("1" * width) + "\n").encode()),
                errors.TooManyColumnsError,
                1,
            )
        )
    for size in (3_000_000, 20_000_000):
        cases.append(
            (f"long-line-{size}", _write("long.csv", b"id,text\n1," + b"x" * size + b"\n"), errors.LineTooLongError, 2)
        )
    cases.append(("no-newline-50mb", _write("blob.csv", b"a," * 25_000_000), errors.LineTooLongError, 1))
    # corrupt Parquet: truncated at many offsets, and noise between magic bytes
    for cut in sorted({rng.randrange(8, len(parquet) - 4) for _ in range(40)}):
        cases.append((f"parquet-cut-{cut}", _write("cut.parquet", parquet[:cut]), errors.CorruptFileError, None))
    for i in range(20):
        noise = bytes(rng.randrange(256) for _ in range(rng.randrange(16, 4096)))
        cases.append(
            (f"parquet-noise-{i}", _write("noise.parquet", b"PAR1" + noise + b"PAR1"), errors.CorruptFileError, None)
        )
    for i in range(8):
        flipped = bytearray(parquet)
        for _ in range(40):
            flipped[rng.randrange(4, len(flipped) - 8)] ^= 0xFF
        cases.append((f"parquet-flipped-{i}", _write("flip.parquet", bytes(flipped)), errors.RidpError, None))
    # JSON and GeoJSON: deep, truncated, not records
    for depth in (65, 100, 1_000, 10_000):
        doc = '{"type":"FeatureCollection","features":' + "[" * depth + "]" * depth + "}"
        cases.append((f"geojson-depth-{depth}", _write("deep.geojson", doc.encode()), errors.FileFormatError, None))
        cases.append(
            (
                f"json-depth-{depth}",
                _write("deep.json", ("[" * depth + "]" * depth).encode()),
                errors.FileFormatError,
                None,
            )
        )
    good_json = json.dumps([{"id": i, "t": "x"} for i in range(40)]).encode()
    for cut in sorted({rng.randrange(2, len(good_json) - 2) for _ in range(20)}):
        cases.append((f"json-cut-{cut}", _write("cut.json", good_json[:cut]), errors.FileFormatError, None))
    cases.append(
        ("ndjson-broken-line", _write("b.ndjson", b'{"id": 1}\n{"id": 2\n{"id": 3}\n'), errors.FileFormatError, None)
    )
    # archives: traversal, absolute paths, bombs, too many entries, nothing usable, not a zip
    for name in ("../x.csv", "../../etc/x.csv", "a/../../x.csv", "/abs/x.csv", "C:/win/x.csv"):
        cases.append((f"zip-path-{name}", _zip("up.zip", [(name, good)]), errors.FileFormatError, None))
    for size in (50_000_000, 200_000_000):
        cases.append(
            (f"zip-bomb-{size}", _zip("bomb.zip", [("big.csv", b"0" * size)]), errors.ResourceLimitError, None)
        )
    cases.append(
        (
            "zip-many",
            _zip("many.zip", [(f"f{i}.csv", b"a\n1\n") for i in range(10_050)]),
            errors.ResourceLimitError,
            None,
        )
    )
    cases.append(("zip-nothing", _zip("none.zip", [("readme.md", b"hello")]), errors.FileFormatError, None))
    cases.append(("zip-two", _zip("two.zip", [("a.csv", good), ("b.csv", good)]), errors.FileFormatError, None))
    cases.append(
        (
            "zip-damaged",
            _write("dam.zip", b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(300))),
            errors.CorruptFileError,
            None,
        )
    )
    cases.append(
        ("zip-ragged-inside", _zip("r.zip", [("in.csv", (HEADER + "1,2\n").encode())]), errors.RaggedRowError, 2)
    )
    # XML bombs in .xlsx and damaged workbooks
    for levels in (3, 6, 9):
        cases.append(
            (f"xlsx-xml-bomb-{levels}", _xlsx_bomb(f"bomb{levels}.xlsx", levels), errors.FileFormatError, None)
        )
    cases.append(("xlsx-damaged", _write("d.xlsx", b"PK\x03\x04" + bytes(300)), errors.CorruptFileError, None))
    return cases


CASES = corpus()


def test_the_corpus_has_at_least_200_files():
    assert len(CASES) >= 200, len(CASES)


@pytest.mark.parametrize(("label", "make", "error", "row"), CASES, ids=[c[0] for c in CASES])
def test_every_malformed_file_gets_a_typed_error_and_leaves_nothing(tmp_path, label, make, error, row):
    path = make(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(errors.RidpError) as info:
        parse_file(
            path,
            out / "v.parquet",
            max_columns=2000,
            max_line_bytes=2_097_152,
            memory_bytes=CAP,
            cpu_seconds=60,
            engine_memory=500_000_000,
        )
    assert isinstance(info.value, error), f"{label}: {type(info.value).__name__}: {info.value}"
    assert path.name in str(info.value), f"{label}: the error must name the file: {info.value}"
    assert "Traceback" not in str(info.value)
    if row is not None:
        assert info.value.row == row, f"{label}: {info.value}"
    assert list(out.iterdir()) == [], f"{label} left {list(out.iterdir())}"
    peak = last_peak_bytes()  # the parse child's own peak (other children of the test run do not count)
    assert peak is not None and 0 < peak < CAP


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_like_cells_are_stored_as_inert_text(tmp_path, prefix):
    path = tmp_path / "formula.csv"
    value = f'{prefix}HYPERLINK("http://example.invalid","click")'
    with path.open("w", newline="", encoding="utf-8") as fh:
        import csv

        csv.writer(fh).writerows([["id", "note"], ["1", value], ["2", "plain"]])
    out = tmp_path / "v.parquet"
    parse_file(
        path, out, max_columns=10, max_line_bytes=2_097_152, memory_bytes=CAP, cpu_seconds=60, engine_memory=500_000_000
    )
    assert pq.read_table(out).column("note").to_pylist() == [value, "plain"]
