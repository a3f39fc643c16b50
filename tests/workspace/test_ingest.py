"""Atomic, versioned ingest through the library (the CLI and web call the same function)."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ridp.errors import EmptyFileError, NotFoundError, PermissionDeniedError, RaggedRowError


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


HEADER = ["id", "type", "opened", "lat"]


def requests(n: int, offset: int = 0) -> list[list[str]]:
    return [HEADER] + [[str(i + offset), "pothole", f"2024-01-{1 + i % 28:02d} 10:00:00", "42.1"] for i in range(n)]


def test_analyst_ingest_makes_version_one_current(people, tmp_path):
    from ridp.workspace.datasets import add_file
    from ridp.workspace.models import AuditEntry
    from ridp.workspace.store import check_integrity, home

    src = write_csv(tmp_path / "requests.csv", requests(50))
    outcome = add_file(people.ana, src, city="springfield")
    v = outcome.version
    assert outcome.created and v.number == 1 and v.rows == 50
    assert v.dataset.name == "requests" and v.dataset.current_version_id == v.id
    assert [c["name"] for c in v.schema] == HEADER
    assert [c.dtype for c in v.columns.all()] == ["int64", "string", "timestamp[us]", "double"]
    assert pq.read_table(home() / v.file).num_rows == 50
    assert AuditEntry.objects.filter(action="dataset.version_added", object_id=str(v.pk)).count() == 1
    assert check_integrity() == []


def test_same_bytes_twice_make_no_second_version(people, tmp_path):
    from ridp.workspace.datasets import add_file, versions

    src = write_csv(tmp_path / "requests.csv", requests(10))
    first = add_file(people.ana, src, city="springfield")
    again = add_file(people.ana, src, city="springfield")
    assert not again.created and again.version.pk == first.version.pk
    assert len(versions(people.ana, "springfield", "requests")) == 1


def test_new_bytes_make_version_two_and_keep_version_one(people, tmp_path):
    from ridp.workspace.datasets import add_file, get_dataset, versions
    from ridp.workspace.store import check_integrity

    add_file(people.ana, write_csv(tmp_path / "requests.csv", requests(10)), city="springfield")
    add_file(people.ana, write_csv(tmp_path / "requests.csv", requests(12)), city="springfield")
    vs = versions(people.ana, "springfield", "requests")
    assert [(v.number, v.rows) for v in vs] == [(1, 10), (2, 12)]
    assert get_dataset(people.ana, "springfield", "requests").current_version.number == 2
    assert check_integrity() == []


def test_analyst_cannot_see_other_city(people, tmp_path):
    from ridp.workspace.datasets import add_file, get_dataset, list_datasets

    add_file(people.ana, write_csv(tmp_path / "requests.csv", requests(5)), city="springfield")
    with pytest.raises(NotFoundError):
        list_datasets(people.otto, "springfield")
    with pytest.raises(NotFoundError):
        get_dataset(people.otto, "springfield", "requests")
    with pytest.raises(NotFoundError):
        add_file(people.otto, tmp_path / "requests.csv", city="springfield")


def test_viewer_cannot_upload_or_see_rows_and_denials_are_audited(people, tmp_path):
    from ridp.workspace.datasets import add_file, preview
    from ridp.workspace.models import AuditEntry

    src = write_csv(tmp_path / "requests.csv", requests(5))
    with pytest.raises(PermissionDeniedError):
        add_file(people.vera, src, city="springfield")
    add_file(people.ana, src, city="springfield")
    with pytest.raises(PermissionDeniedError):
        preview(people.vera, "springfield", "requests")
    assert AuditEntry.objects.filter(action="permission.denied", actor=people.vera).count() == 2


def test_senior_leader_reads_but_cannot_upload(people, tmp_path):
    from ridp.workspace.datasets import add_file, preview

    src = write_csv(tmp_path / "requests.csv", requests(5))
    with pytest.raises(PermissionDeniedError):
        add_file(people.sam, src, city="springfield")
    add_file(people.ana, src, city="springfield")
    assert len(preview(people.sam, "springfield", "requests", limit=3).rows) == 3


def test_bad_file_creates_no_dataset_and_leaves_nothing(people, tmp_path):
    from ridp.workspace.datasets import add_file
    from ridp.workspace.models import Dataset, DatasetVersion
    from ridp.workspace.store import check_integrity, home

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(RaggedRowError) as info:
        add_file(people.ana, bad, city="springfield")
    assert info.value.row == 3 and "bad.csv" in str(info.value)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(EmptyFileError):
        add_file(people.ana, empty, city="springfield")
    assert not Dataset.objects.exists() and not DatasetVersion.objects.exists()
    assert check_integrity() == []
    leftovers = [p for p in (home() / "cities").rglob("*") if p.is_file()]
    assert leftovers == []


def test_failure_inside_the_transaction_keeps_the_old_version_whole(people, tmp_path):
    from ridp.workspace.datasets import add_file, get_dataset, versions
    from ridp.workspace.store import check_integrity

    add_file(people.ana, write_csv(tmp_path / "requests.csv", requests(10)), city="springfield")

    def crash() -> None:
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        add_file(
            people.ana, write_csv(tmp_path / "requests.csv", requests(20)), city="springfield", _before_commit=crash
        )
    assert get_dataset(people.ana, "springfield", "requests").current_version.rows == 10
    assert len(versions(people.ana, "springfield", "requests")) == 1
    assert check_integrity() == []


def test_preview_masks_personal_columns(people, tmp_path):
    from ridp.workspace.datasets import add_file, preview
    from ridp.workspace.models import Column

    v = add_file(people.ana, write_csv(tmp_path / "requests.csv", requests(3)), city="springfield").version
    Column.objects.filter(version=v, name="lat").update(classification=Column.Classification.PERSONAL)
    p = preview(people.ana, "springfield", "requests")
    assert p.masked == ("lat",)
    assert {row[3] for row in p.rows} == {"•••"}
    assert {row[1] for row in p.rows} == {"pothole"}


def test_audit_log_is_append_only_in_python_and_in_the_database(people):
    from django.db import DatabaseError, connection, transaction

    from ridp.workspace.models import AuditEntry

    entry = AuditEntry.objects.first()
    assert entry is not None
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.all().update(action="x")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE workspace_auditentry SET action = 'forged'")


def test_recover_removes_abandoned_staging_and_orphans_but_not_live_ingests(people, tmp_path):
    from ridp.workspace.datasets import add_file
    from ridp.workspace.models import City
    from ridp.workspace.store import check_integrity, city_dir, recover, staging_lock

    add_file(people.ana, write_csv(tmp_path / "requests.csv", requests(3)), city="springfield")
    cdir = city_dir(City.objects.get(slug="springfield"))
    (cdir / "staging" / "dead1.parquet").write_bytes(b"half")
    (cdir / "staging" / "dead1.lock").write_bytes(b"")
    (cdir / "versions" / "dead2.parquet").write_bytes(b"orphan")
    with staging_lock(cdir / "staging", "alive"):
        (cdir / "staging" / "alive.parquet").write_bytes(b"in progress")
        removed = {p.name for p in recover()}
        assert removed == {"dead1.parquet", "dead1.lock", "dead2.parquet"}
        assert (cdir / "staging" / "alive.parquet").exists()
        (cdir / "staging" / "alive.parquet").unlink()
    assert check_integrity() == []


@pytest.mark.parametrize("engine", ["duckdb-file", "postgres"])
def test_a_version_opens_as_a_table_on_the_engines(people, tmp_path, engine, request):
    from ridp.workspace.datasets import add_file, open_table

    add_file(people.ana, write_csv(tmp_path / "requests.csv", requests(40)), city="springfield")
    add_file(people.ana, write_csv(tmp_path / "requests.csv", requests(45)), city="springfield")
    url = None if engine == "duckdb-file" else request.getfixturevalue("pg_url")
    t = open_table(people.ana, "springfield", "requests", engine_url=url)
    assert t.count().execute() == 45
    old = open_table(people.ana, "springfield", "requests", version=1, engine_url=url)
    assert old.count().execute() == 40
    assert old.type.value_counts().to_pandas().set_index("type")["type_count"].to_dict() == {"pothole": 40}
    with pytest.raises(PermissionDeniedError):
        open_table(people.vera, "springfield", "requests")
    with pytest.raises(NotFoundError):
        open_table(people.otto, "springfield", "requests")
    t.get_backend().disconnect()
    old.get_backend().disconnect()
