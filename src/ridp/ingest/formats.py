"""The formats cities export beyond CSV and Parquet: JSON, NDJSON, GeoJSON, Excel and
zip archives (with a shapefile, or one data file inside).

:func:`detect_kind` decides from the bytes and the extension together, and says so
when they disagree. Archives are checked before anything is unpacked: entry count,
total and per-entry size, compression ratio, absolute or ``../`` paths and
symbolic links. Excel files are read by openpyxl, which uses defusedxml against XML
attacks, after the same archive check (an .xlsx is a zip).
"""

from __future__ import annotations

import csv
import re
import stat
import zipfile
from pathlib import Path
from typing import Any, Literal

from ridp.errors import CorruptFileError, EmptyFileError, FileFormatError, ResourceLimitError

__all__ = [
    "ArchiveLimits",
    "Kind",
    "check_archive",
    "detect_kind",
    "json_depth",
    "unpack_zip",
    "xlsx_to_csv",
]

Kind = Literal["csv", "parquet", "json", "ndjson", "geojson", "xlsx", "zip"]
MAX_JSON_DEPTH = 64


class ArchiveLimits:
    """Limits an archive must keep to be unpacked."""

    entries = 10_000
    total_bytes = 4_000_000_000
    entry_bytes = 2_000_000_000
    ratio = 200  # uncompressed / compressed, per entry and overall


_EXTENSIONS: dict[str, Kind] = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".json": "json", ".ndjson": "ndjson",
    ".jsonl": "ndjson", ".geojson": "geojson", ".xlsx": "xlsx", ".zip": "zip",
}  # fmt: skip


def detect_kind(path: Path, head: bytes) -> Kind:
    """The file's format from its first bytes, checked against its extension."""
    ext = path.suffix.lower()
    claimed = _EXTENSIONS.get(ext)
    if head.startswith(b"PAR1"):
        found: Kind = "parquet"
    elif head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        found = "xlsx" if claimed == "xlsx" or b"[Content_Types].xml" in head[:2000] else "zip"
    elif head.startswith((b"\xd0\xcf\x11\xe0",)):
        raise FileFormatError("is an old binary Excel file (.xls)", path=path, hint="save it as .xlsx or CSV")
    else:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if text.startswith(b"["):
            found = "json"
        elif text.startswith(b"{"):
            first_line = text.split(b"\n", 1)[0].strip()
            if re.search(rb'"type"\s*:\s*"FeatureCollection"', head[:65_536]):
                found = "geojson"
            elif claimed == "ndjson" or (first_line.endswith(b"}") and b"\n{" in text[:65_536]):
                found = "ndjson"
            else:
                found = "json"
        else:
            found = "csv"
    compatible = (claimed == "json" and found in ("geojson", "ndjson")) or (claimed == "geojson" and found == "json")
    if claimed is not None and claimed != found and not compatible:
        raise FileFormatError(
            f"its name says {claimed.upper()} but its bytes are {found.upper()}",
            path=path,
            hint="rename it, or export it again",
        )
    return found


def check_archive(path: Path, limits: type[ArchiveLimits] = ArchiveLimits) -> list[zipfile.ZipInfo]:
    """Every entry of a zip, after checking it is safe to unpack; raises otherwise."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CorruptFileError(f"the zip archive is damaged: {exc}", path=path) from None
    with archive:
        entries = archive.infolist()
    if len(entries) > limits.entries:
        raise ResourceLimitError(f"{path.name}: the archive has {len(entries):,} entries; at most {limits.entries:,}")
    total = 0
    for info in entries:
        name = info.filename
        if (
            name.startswith(("/", "\\"))
            or re.match(r"^[A-Za-z]:", name)
            or ".." in Path(name).parts
            or "\\..\\" in name
        ):
            raise FileFormatError(f"the archive entry {name!r} points outside the archive", path=path)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise FileFormatError(f"the archive entry {name!r} is a symbolic link", path=path)
        if info.file_size > limits.entry_bytes:
            raise ResourceLimitError(f"{path.name}: entry {name!r} unpacks to {info.file_size:,} bytes")
        if info.compress_size and info.file_size / info.compress_size > limits.ratio and info.file_size > 10_000_000:
            raise ResourceLimitError(
                f"{path.name}: entry {name!r} expands {info.file_size // info.compress_size:,}×: a zip bomb?"
            )
        total += info.file_size
    if total > limits.total_bytes:
        raise ResourceLimitError(f"{path.name}: the archive unpacks to {total:,} bytes; at most {limits.total_bytes:,}")
    return entries


def unpack_zip(path: Path, folder: Path) -> list[Path]:
    """Unpack a checked archive into ``folder``, counting bytes as they come (sizes in
    the header can lie). Returns the regular files written."""
    entries = check_archive(path)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    budget = ArchiveLimits.total_bytes
    with zipfile.ZipFile(path) as archive:
        for info in entries:
            if info.is_dir():
                continue
            target = folder / Path(info.filename).name  # flattened: no folders from the archive
            with archive.open(info) as src, target.open("wb") as dst:
                while chunk := src.read(1 << 20):
                    budget -= len(chunk)
                    if budget < 0:
                        raise ResourceLimitError(f"{path.name}: the archive unpacks to more than its header says")
                    dst.write(chunk)
            written.append(target)
    return written


def json_depth(path: Path, limit: int = MAX_JSON_DEPTH) -> int:
    """Deepest nesting of a JSON file (strings skipped); raises past ``limit``."""
    depth = deepest = 0
    in_string = False
    skip_at = -1  # the offset a backslash escapes
    offset = 0
    token = re.compile(rb'[\[\]{}"\\]')
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            for m in token.finditer(chunk):
                at = offset + m.start()
                if at == skip_at:
                    continue
                ch = m.group()
                if ch == b"\\":
                    if in_string:
                        skip_at = at + 1
                elif ch == b'"':
                    in_string = not in_string
                elif not in_string:
                    if ch in (b"[", b"{"):
                        depth += 1
                        if depth > limit:
                            raise FileFormatError(f"is nested more than {limit} levels deep", path=path)
                        deepest = max(deepest, depth)
                    else:
                        depth -= 1
            offset += len(chunk)
    return deepest


def xlsx_to_csv(path: Path, target: Path, sheet: str | None) -> tuple[str, list[str]]:
    """Write one sheet of a workbook as UTF-8 CSV; returns (the sheet read, all sheets)."""
    check_archive(path)
    import openpyxl

    try:
        book: Any = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise CorruptFileError(f"the workbook cannot be read: {type(exc).__name__}: {exc}", path=path) from None
    try:
        names = list(book.sheetnames)
        if sheet is not None and sheet not in names:
            raise FileFormatError(f"has no sheet {sheet!r}; its sheets are {', '.join(names)}", path=path)
        chosen = sheet or next((n for n in names if book[n].max_row and book[n].max_row > 1), names[0])
        with target.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            for row in book[chosen].iter_rows(values_only=True):
                out.writerow(["" if v is None else (v.isoformat() if hasattr(v, "isoformat") else v) for v in row])
    finally:
        book.close()
    return chosen, names


def records_from_portal_json(path: Path, target: Path) -> str | None:
    """Rewrite a portal's JSON object export as NDJSON records; returns what it was.

    CKAN's datastore answers ``{"result": {"records": [...]}}`` (or a bare
    ``{"records": [...]}``); ArcGIS REST answers Esri JSON
    ``{"features": [{"attributes": {...}, "geometry": {"x": .., "y": ..}}]}``.
    A JSON array needs no rewriting (``None``).
    """
    import json

    with path.open("rb") as fh:
        first = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first != b"{":
        return None
    try:
        document = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"is not valid JSON: {exc}", path=path) from None
    records: list[object]
    if isinstance(document.get("result"), dict) and isinstance(document["result"].get("records"), list):
        records, what = document["result"]["records"], "CKAN datastore records"
    elif isinstance(document.get("records"), list):
        records, what = document["records"], "records"
    elif isinstance(document.get("features"), list) and all(
        isinstance(f, dict) and "attributes" in f for f in document["features"]
    ):
        wkid = (document.get("spatialReference") or {}).get("latestWkid") or (
            document.get("spatialReference") or {}
        ).get("wkid")
        records = []
        for feature in document["features"]:
            row = dict(feature["attributes"])
            geometry = feature.get("geometry") or {}
            if "x" in geometry and "y" in geometry and wkid in (4326, None):
                row["longitude"], row["latitude"] = geometry["x"], geometry["y"]
            elif geometry:
                row["geometry_esri"] = json.dumps(geometry)
            records.append(row)
        what = "Esri JSON features"
    else:
        raise FileFormatError("is a JSON object, not a list of records (nor a CKAN or ArcGIS export)", path=path)
    with target.open("w", encoding="utf-8") as out:
        for record in records:
            if not isinstance(record, dict):
                raise FileFormatError("holds records that are not objects", path=path)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    if not records:
        raise EmptyFileError("holds no records", path=path)
    return what
