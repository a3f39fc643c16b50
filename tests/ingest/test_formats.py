"""Formats beyond CSV: JSON, NDJSON, GeoJSON, Excel, zipped shapefiles and data files,
and the archive and nesting attacks they invite."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pyarrow.parquet as pq
import pytest

from ridp import errors
from ridp.ingest import parse_file
from tests.conftest import SHARED_DATA


def parse(path: Path, **kw):
    out = path.parent / "out"
    out.mkdir(exist_ok=True)
    target = out / "v.parquet"
    sniffed, result = parse_file(
        path, target, max_columns=2000, max_line_bytes=2_097_152, memory_bytes=4_000_000_000,
        cpu_seconds=120, engine_memory=500_000_000, **kw,
    )  # fmt: skip
    return sniffed, result, pq.read_table(target)


def test_json_array_and_ndjson(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps([{"id": 1, "type": "pothole"}, {"id": 2, "type": "noise"}]))
    sniffed, result, table = parse(tmp_path / "a.json")
    assert (sniffed.kind, result.rows, table.column("type").to_pylist()) == ("json", 2, ["pothole", "noise"])
    (tmp_path / "b.ndjson").write_text('{"id": 1}\n{"id": 2}\n{"id": 3}\n')
    sniffed, result, _ = parse(tmp_path / "b.ndjson")
    assert (sniffed.kind, result.rows) == ("ndjson", 3)


def spatial() -> duckdb.DuckDBPyConnection:
    from duckdb_extensions import import_extension

    con = duckdb.connect()
    import_extension("spatial", con=con)
    con.execute("LOAD spatial")
    return con


@pytest.mark.parametrize(
    ("name", "lon", "lat"),
    [
        ("nyc/nyc.geojson", -74.0, 40.7),
        ("chicago/Chicago_Wards.geojson", -87.7, 41.8),
        ("san_francisco/city_analysis_neighbor.geojson", -122.4, 37.8),
    ],
)
def test_real_geojson_keeps_properties_and_wgs84_geometry(tmp_path, name, lon, lat):
    source = SHARED_DATA / "city" / name
    work = tmp_path / "copy.geojson"
    work.write_bytes(source.read_bytes())
    sniffed, result, table = parse(work)
    features = json.loads(source.read_text())["features"]
    assert sniffed.kind == "geojson" and result.rows == len(features)
    assert set(features[0]["properties"]) <= set(table.column_names) | {"OGC_FID"}
    x, y = (
        spatial()
        .execute(
            f"SELECT avg(ST_X(ST_Centroid(geom))), avg(ST_Y(ST_Centroid(geom))) FROM read_parquet('{tmp_path}/out/v.parquet')"
        )
        .fetchone()
    )
    assert x == pytest.approx(lon, abs=0.5) and y == pytest.approx(lat, abs=0.5)


def test_zipped_shapefile_is_converted_to_wgs84(tmp_path):
    con = spatial()
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    # City Hall, New York, written in the New York state plane (EPSG:2263, feet).
    con.execute(
        "COPY (SELECT 'city hall' AS name, ST_Transform(ST_Point(-74.0060, 40.7128), 'EPSG:4326', 'EPSG:2263', always_xy := true) AS geom) "
        f"TO '{shp_dir}/places.shp' WITH (FORMAT GDAL, DRIVER 'ESRI Shapefile', SRS 'EPSG:2263')"
    )
    archive = tmp_path / "places.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in shp_dir.iterdir():
            z.write(f, f"export/{f.name}")
    sniffed, result, _ = parse(archive)
    assert sniffed.kind == "shapefile" and result.rows == 1 and "converted to WGS84" in sniffed.warnings[0]
    x, y = con.execute(f"SELECT ST_X(geom), ST_Y(geom) FROM read_parquet('{tmp_path}/out/v.parquet')").fetchone()
    assert x == pytest.approx(-74.0060, abs=1e-6) and y == pytest.approx(40.7128, abs=1e-6)
    no_prj = tmp_path / "noprj.zip"
    with zipfile.ZipFile(no_prj, "w") as z:
        for f in shp_dir.iterdir():
            if f.suffix != ".prj":
                z.write(f, f.name)
    with pytest.raises(errors.FileFormatError, match=r"no \.prj"):
        parse(no_prj)


def test_excel_sheets_are_chosen_and_leading_zeros_kept(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "read me"
    sheet = book.create_sheet("requests")
    sheet.append(["id", "zip", "opened"])
    sheet.append([1, "02134", "2024-01-01 10:00:00"])
    sheet.append([2, "00501", "2024-01-02 10:00:00"])
    path = tmp_path / "export.xlsx"
    book.save(path)
    sniffed, result, table = parse(path)
    assert result.rows == 2 and table.column("zip").to_pylist() == ["02134", "00501"]
    assert sniffed.warnings[0] == "read sheet 'requests' of 2: read me, requests"
    with pytest.raises(errors.FileFormatError, match="has no sheet 'other'; its sheets are read me, requests"):
        parse(path, sheet="other")


def test_xml_bomb_inside_xlsx_is_refused(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["a"])
    path = tmp_path / "bomb.xlsx"
    book.save(path)
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
        + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
    )
    bombed = tmp_path / "bombed.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bombed, "w") as dst:
        for item in src.infolist():
            data = laughs.encode() if item.filename == "xl/worksheets/sheet1.xml" else src.read(item)
            dst.writestr(item, data)
    with pytest.raises(errors.FileFormatError):
        parse(bombed)


def test_zip_with_one_csv_inside(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(SHARED_DATA / "city/boston/boston311-100.csv", "folder/boston.csv")
    sniffed, result, _ = parse(archive)
    assert result.rows == 100 and sniffed.warnings[0] == "read boston.csv from the archive"


def zip_with(path: Path, entries: list[tuple[str, bytes]], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize(
    ("entries", "symlink", "error", "message"),
    [
        ([("../../evil.csv", b"a\n1\n")], None, errors.FileFormatError, "points outside the archive"),
        ([("/etc/cron.d/x", b"a\n1\n")], None, errors.FileFormatError, "points outside the archive"),
        ([("ok.csv", b"a\n1\n")], "link.csv", errors.FileFormatError, "is a symbolic link"),
        ([("big.csv", b"a,b\n" + b"0,0\n" * 20_000_000)], None, errors.ResourceLimitError, "zip bomb"),
        ([(f"f{i}.csv", b"a\n1\n") for i in range(10_001)], None, errors.ResourceLimitError, "10,001 entries"),
        ([("a.csv", b"a\n1\n"), ("b.csv", b"a\n1\n")], None, errors.FileFormatError, "one data file"),
    ],
    ids=["dot-dot", "absolute", "symlink", "bomb", "too-many", "two-files"],
)
def test_archive_attacks_are_refused_before_unpacking(tmp_path, entries, symlink, error, message):
    archive = zip_with(tmp_path / "upload.zip", entries, symlink=symlink)
    with pytest.raises(error, match=message):
        parse(archive)
    assert not any(p.name.endswith(".inner") for p in (tmp_path / "out").iterdir())
    assert not (tmp_path.parent / "evil.csv").exists()


def test_deeply_nested_geojson_is_refused(tmp_path):
    path = tmp_path / "deep.geojson"
    path.write_text('{"type":"FeatureCollection","features":' + "[" * 10_000 + "]" * 10_000 + "}")
    with pytest.raises(errors.FileFormatError, match="nested more than 64 levels"):
        parse(path)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("data.csv", b"PAR1 not really PAR1", "its name says CSV but its bytes are PARQUET"),
        ("data.xlsx", b"id,name\n1,a\n", "its name says XLSX but its bytes are CSV"),
        ("data.json", b"id,name\n1,a\n", "its name says JSON but its bytes are CSV"),
        ("data.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old binary Excel"),
    ],
)
def test_extension_and_magic_bytes_must_agree(tmp_path, name, content, says):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(errors.FileFormatError, match=says):
        parse(path)


def test_ckan_and_arcgis_json_exports(tmp_path):
    ckan = tmp_path / "ckan.json"
    ckan.write_text(
        json.dumps(
            {
                "help": "...",
                "success": True,
                "result": {"records": [{"_id": 1, "type": "pothole"}, {"_id": 2, "type": "noise"}]},
            }
        )
    )
    sniffed, result, table = parse(ckan)
    assert (
        result.rows == 2 and table.column("type").to_pylist() == ["pothole", "noise"] and "CKAN" in sniffed.warnings[0]
    )
    esri = tmp_path / "arcgis.json"
    esri.write_text(json.dumps({
        "spatialReference": {"wkid": 4326},
        "features": [{"attributes": {"OBJECTID": 1, "TYPE": "graffiti"}, "geometry": {"x": -76.61, "y": 39.29}}],
    }))  # fmt: skip
    sniffed, result, table = parse(esri)
    assert result.rows == 1 and table.column("latitude").to_pylist() == [39.29] and "Esri" in sniffed.warnings[0]
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(errors.FileFormatError, match="not a list of records"):
        parse(other)
