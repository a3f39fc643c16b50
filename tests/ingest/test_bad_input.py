"""Bad input: each file gets a typed error naming the file (and row and column where
it applies); nothing is written; the parse child stays under its memory cap."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ridp import errors
from ridp.ingest import parse_file
from ridp.ingest.worker import last_peak_bytes

CAP = 2_000_000_000


def parse(path: Path, **kw):
    target = path.parent / "out" / "staged.parquet"
    target.parent.mkdir(exist_ok=True)
    options = dict(
        max_columns=2000, max_line_bytes=2_097_152, memory_bytes=CAP, cpu_seconds=120, engine_memory=500_000_000
    )
    options.update(kw)
    try:
        return parse_file(path, target, **options)
    finally:
        leftovers = sorted(p.name for p in target.parent.iterdir()) if target.parent.exists() else []
        if not (target.exists() and leftovers == ["staged.parquet"]):
            assert leftovers == [], f"a failed parse left {leftovers}"


def big_rows(n_bytes: int) -> bytes:
    line = b"123,pothole,2024-01-01 10:00:00,ok\n"
    return line * (n_bytes // len(line) + 1)


HEADER = b"id,type,opened,note\n"


@pytest.mark.parametrize(
    ("content", "error", "row"),
    [
        (b"", errors.EmptyFileError, None),
        (b"id,type\n", errors.EmptyFileError, None),
        (b"   \n\n  \n", errors.EmptyFileError, None),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20, errors.BinaryFileError, None),
        (bytes(range(1, 32)) * 500, errors.BinaryFileError, None),
        (HEADER + b"1,a,2024-01-01,x\n2,b,2024-01-02\n", errors.RaggedRowError, 3),
        (HEADER + b"1,a,2024-01-01,x\n2,b,2024-01-02,x\n3,c,2024-01-03,x,extra\n", errors.RaggedRowError, 4),
        (HEADER + "1,a,2024-01-01,caf\u00e9\n".encode() + b"2,b,2024-01-02,caf\xe9\n", errors.EncodingError, 3),
        (HEADER + b'1,a,2024-01-01,"never closed\n2,b,2024-01-02,x\n', errors.FileFormatError, 2),
    ],
    ids=[
        "zero-bytes",
        "header-only",
        "blank-space",
        "png-as-csv",
        "control-bytes",
        "short-row",
        "long-row",
        "mixed-encodings",
        "open-quote",
    ],
)
def test_small_bad_files_get_typed_errors(tmp_path, content, error, row):
    path = tmp_path / "city-export.csv"
    path.write_bytes(content)
    with pytest.raises(error) as info:
        parse(path)
    assert isinstance(info.value, ValueError)
    assert "city-export.csv" in str(info.value)
    if row is not None:
        assert info.value.row == row


@pytest.mark.parametrize("size", [3_000_000, 20_000_000], ids=["in-sample", "past-sample"])
def test_ragged_row_anywhere_names_its_row(tmp_path, size):
    body = big_rows(size)
    lines = body.count(b"\n")
    path = tmp_path / "long.csv"
    path.write_bytes(HEADER + body + b"9,pothole,2024-01-01 10:00:00\n")
    with pytest.raises(errors.RaggedRowError) as info:
        parse(path)
    assert info.value.row == lines + 2


@pytest.mark.parametrize("size", [3_000_000, 20_000_000], ids=["in-sample", "past-sample"])
@pytest.mark.parametrize("tail", [b"", b"1,a,2024-01-01 10:00:00,x\n" * 100], ids=["last-line", "mid-file"])
def test_mixed_encoding_anywhere_names_its_row(tmp_path, size, tail):
    body = big_rows(size)
    lines = body.count(b"\n")
    path = tmp_path / "mixed.csv"
    utf8_row = "1,a,2024-01-01 10:00:00,café\n".encode()
    path.write_bytes(HEADER + utf8_row + body + b"9,pothole,2024-01-01 10:00:00,Caf\xe9 de la Paix\n" + tail)
    with pytest.raises(errors.EncodingError) as info:
        parse(path)
    assert info.value.row == lines + 3
    assert "mixes encodings" in str(info.value)


def test_fifty_megabyte_line_is_refused_within_the_memory_cap(tmp_path):
    path = tmp_path / "oneline.csv"
    path.write_bytes(b"id,text\n1," + b"x" * 50_000_000 + b"\n")
    with pytest.raises(errors.LineTooLongError) as info:
        parse(path)
    assert info.value.row == 2
    peak = last_peak_bytes()  # the parse child's own peak (other children of the test run do not count)
    assert peak is not None and 0 < peak < CAP


def test_fifty_megabytes_without_a_newline_is_refused_at_line_one(tmp_path):
    path = tmp_path / "noline.csv"
    path.write_bytes(b"a," * 25_000_000)
    with pytest.raises(errors.LineTooLongError) as info:
        parse(path)
    assert info.value.row == 1


def test_hundred_thousand_columns_are_refused(tmp_path):
    path = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(100_000))
    row = ",".join("1" for _ in range(100_000))
    path.write_text(f"{header}\n{row}\n")
    with pytest.raises(errors.TooManyColumnsError) as info:
        parse(path)
    assert info.value.row == 1 and "100,000 columns" in str(info.value)


def test_corrupt_parquet_files_are_refused(tmp_path):
    fake = tmp_path / "fake.parquet"
    fake.write_bytes(b"PAR1" + b"\x00garbage" * 100 + b"PAR1")
    with pytest.raises(errors.CorruptFileError):
        parse(fake)
    real = tmp_path / "real.parquet"
    pq.write_table(pa.table({"a": list(range(1000)), "b": ["x"] * 1000}), real)
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(real.read_bytes()[:-100])
    with pytest.raises(errors.CorruptFileError):
        parse(truncated)
    renamed = tmp_path / "notparquet.parquet"
    renamed.write_bytes(b"id,type\n1,a\n")
    with pytest.raises(errors.FileFormatError, match="its name says PARQUET but its bytes are CSV"):
        parse(renamed)


def test_parse_over_its_memory_cap_is_a_clear_resource_error(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_bytes(HEADER + b"1,a,2024-01-01,x\n")
    with pytest.raises(errors.ResourceLimitError) as info:
        parse(path, memory_bytes=60_000_000)
    assert "ok.csv" in str(info.value)


# ---- files that are odd but good: read whole and right -----------------------------


def read_back(path: Path, **kw):
    sniffed, result = parse(path, **kw)
    return sniffed, result, pq.read_table(path.parent / "out" / "staged.parquet")


def test_windows_1252_text_is_read_right(tmp_path):
    path = tmp_path / "cp.csv"
    path.write_bytes("id;note\n1;“Smart” quotes cost 5€\n2;naïve\n".encode("cp1252"))
    sniffed, _result, table = read_back(path)
    assert (sniffed.encoding, sniffed.delimiter) == ("cp1252", ";")
    assert table.column("note").to_pylist() == ["“Smart” quotes cost 5€", "naïve"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "latin-1"])
def test_other_encodings_are_read_right(tmp_path, encoding):
    path = tmp_path / "enc.csv"
    path.write_bytes("id\tname\n1\tJosé\n2\tZoë\n".encode(encoding))
    sniffed, _result, table = read_back(path)
    assert sniffed.delimiter == "\t"
    assert table.column("name").to_pylist() == ["José", "Zoë"]
    assert table.column_names == ["id", "name"]


def test_quoted_delimiters_newlines_leading_zeros_and_formulas_survive(tmp_path):
    text = 'zip,address,comment\n02134,"1 Main St, Apt 2","line one\nline two"\n00501,"2 Elm","=HYPERLINK(""x"")"\n'
    path = tmp_path / "q.csv"
    path.write_text(text)
    _, result, table = read_back(path)
    assert result.rows == 2
    assert table.column("zip").to_pylist() == ["02134", "00501"]
    assert table.column("address").to_pylist()[0] == "1 Main St, Apt 2"
    assert table.column("comment").to_pylist() == ["line one\nline two", '=HYPERLINK("x")']


def test_a_value_that_breaks_the_sniffed_type_keeps_the_column_as_text(tmp_path):
    body = io.StringIO()
    body.write("id,amount\n")
    for i in range(500_000):
        body.write(f"{i},{i}.5\n")
    body.write("500000,unknown\n")
    path = tmp_path / "late.csv"
    path.write_text(body.getvalue())
    _, result, table = read_back(path)
    assert result.rows == 500_001
    assert result.demoted == ("amount",)
    assert table.column("amount").to_pylist()[-1] == "unknown"
    assert table.schema.field("id").type == pa.int64()
