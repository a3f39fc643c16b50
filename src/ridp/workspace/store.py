"""The workspace on disk: creating it, recovering after a crash, and checking its integrity.

Layout under ``RIDP_HOME``::

    workspace.sqlite3              the ORM store (unless DATABASE_URL names PostgreSQL)
    cities/<slug>/versions/*.parquet   one immutable file per dataset version
    cities/<slug>/staging/         work in progress: <id>.lock held while an ingest runs
    engine/ridp.duckdb             the default analytics engine's file

An ingest holds an exclusive ``flock`` on ``staging/<id>.lock`` from before it
writes anything until after its transaction commits. The kernel drops that
lock when the process dies (even by ``kill -9``), so :func:`recover` can tell
an abandoned ingest from a running one and remove exactly its leftovers.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from ridp.config import Config
from ridp.errors import FieldError, WorkspaceError
from ridp.workspace import audit
from ridp.workspace.models import City, Dataset, DatasetVersion, Membership, Programme, Role, User

__all__ = [
    "check_integrity",
    "city_dir",
    "ensure_ready",
    "ensure_secret_key",
    "home",
    "init_workspace",
    "is_initialised",
    "recover",
    "sha256_file",
    "staging_lock",
]


def home() -> Path:
    return Config.from_env().home


def city_dir(city: City) -> Path:
    return home() / "cities" / city.slug


def sha256_file(path: Path, chunk: int = 4 * 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def is_initialised() -> bool:
    """Whether the store exists and has a programme."""
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        in_memory = name == ":memory:" or name.startswith("file:")
        if not in_memory and not Path(name).exists():
            return False  # asking SQLite would create an empty file
    if "workspace_programme" not in connection.introspection.table_names():
        return False
    return Programme.objects.exists()


def _pending_migrations() -> bool:
    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def init_workspace(admin_username: str, *, email: str = "", programme: str = "Resident Impact Data Programme") -> User:
    """Create the workspace and its first programme admin (idempotent: returns the existing admin)."""
    if not admin_username.strip():
        raise FieldError("admin", "a username is needed for the first programme admin")
    config = Config.from_env()
    config.home.mkdir(parents=True, exist_ok=True)
    ensure_secret_key()
    call_command("migrate", interactive=False, verbosity=0)
    with transaction.atomic():
        existing = Programme.objects.order_by("id").first()
        if existing is not None:
            admin = User.objects.filter(memberships__role=Role.PROGRAMME_ADMIN).order_by("id").first()
            if admin is None:
                raise WorkspaceError("the workspace has a programme but no programme admin")
            return admin
        prog = Programme.objects.create(name=programme)
        admin = User.objects.create(username=admin_username.strip(), email=email, is_staff=True, is_superuser=True)
        admin.set_unusable_password()
        admin.save()
        Membership.objects.create(user=admin, programme=prog, role=Role.PROGRAMME_ADMIN)
        audit.record("workspace.initialised", actor=admin, obj=prog)
    return admin


def ensure_secret_key() -> Path:
    """Write the workspace's own random secret key (``RIDP_HOME/secret.key``, mode 600) if it has none."""
    (home() / "uploads").mkdir(parents=True, exist_ok=True)
    path = home() / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(64) + "\n")
    return path


def ensure_ready() -> None:
    """Check the workspace exists, apply pending migrations, and recover from crashes."""
    if not is_initialised():
        raise WorkspaceError(f"no ridp workspace at {home()}", hint="run `ridp init` (RIDP_HOME chooses the folder)")
    if _pending_migrations():
        call_command("migrate", interactive=False, verbosity=0)
    ensure_secret_key()
    recover()
    from ridp.workspace.agreements import enforce

    enforce()


@contextmanager
def staging_lock(staging: Path, ingest_id: str) -> Iterator[Path]:
    """Hold ``staging/<ingest_id>.lock`` exclusively while an ingest runs."""
    staging.mkdir(parents=True, exist_ok=True)
    lock_path = staging / f"{ingest_id}.lock"
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_ino != lock_path.stat().st_ino:
            raise WorkspaceError("a staging lock was removed under a running ingest; try again")
        yield lock_path
    finally:
        try:
            lock_path.unlink(missing_ok=True)
        finally:
            os.close(fd)


def _lock_is_free(lock_path: Path) -> bool:
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    return True


def recover() -> list[Path]:
    """Remove what crashed ingests left behind; returns the paths removed.

    Staging files of ingests whose lock is free (their process is gone) are
    removed, and so are version files that no committed version names (a
    crash between moving the file into place and committing). Files of
    ingests still running are left alone.
    """
    removed: list[Path] = []
    root = home() / "cities"
    if not root.exists():
        return removed
    referenced = {
        home() / f for f in DatasetVersion.objects.filter(tombstone__isnull=True).values_list("file", flat=True)
    }
    # A retention deletion that crashed after its commit left the file: finish it.
    for rel in DatasetVersion.objects.filter(tombstone__isnull=False).values_list("file", flat=True):
        leftover = home() / rel
        if leftover.exists():
            leftover.unlink()
            removed.append(leftover)
    for cdir in sorted(p for p in root.iterdir() if p.is_dir()):
        staging = cdir / "staging"
        live: set[str] = set()
        if staging.exists():
            for lock in staging.glob("*.lock"):
                if not _lock_is_free(lock):
                    live.add(lock.stem)
            for entry in sorted(staging.iterdir()):
                ingest_id = entry.name.split(".", 1)[0]
                if ingest_id in live:
                    continue
                if entry.suffix == ".lock":
                    # Take the lock before unlinking so a starting ingest sees the inode change.
                    entry.unlink(missing_ok=True)
                else:
                    _remove(entry)
                removed.append(entry)
        versions = cdir / "versions"
        if versions.exists():
            for entry in sorted(versions.iterdir()):
                if entry in referenced or entry.name.split(".", 1)[0] in live:
                    continue
                # Re-read: a version committed since we listed is not an orphan.
                rel = entry.relative_to(home()).as_posix()
                if DatasetVersion.objects.filter(file=rel).exists():
                    continue
                _remove(entry)
                removed.append(entry)
    return removed


def _remove(path: Path) -> None:
    if path.is_dir():
        for child in path.iterdir():
            _remove(child)
        path.rmdir()
    else:
        path.unlink(missing_ok=True)


def check_integrity(*, checksums: bool = True) -> list[str]:
    """Every problem found in the store; an empty list means it is whole.

    Checks the ORM database's own integrity (SQLite), that every version's file
    exists with its recorded size, row count and SHA-256, that every dataset's
    current version is one of its own, and that no orphan or staging file is
    left (run :func:`recover` first after a crash).
    """
    import pyarrow.parquet as pq

    problems: list[str] = []
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA integrity_check")
            verdict = [r[0] for r in cur.fetchall()]
        if verdict != ["ok"]:
            problems.append(f"SQLite integrity_check: {verdict[:3]}")
    for version in DatasetVersion.objects.select_related("dataset", "tombstone").order_by("id"):
        path = home() / version.file
        label = f"{version.dataset} v{version.number}"
        if getattr(version, "tombstone", None) is not None:
            if path.exists():
                problems.append(f"{label}: deleted under retention but its file is still there")
            continue
        if not path.exists():
            problems.append(f"{label}: file {version.file} is missing")
            continue
        if path.stat().st_size != version.file_bytes:
            problems.append(f"{label}: file size {path.stat().st_size} != recorded {version.file_bytes}")
        try:
            rows = pq.ParquetFile(path).metadata.num_rows
        except Exception as exc:  # any unreadable file is a finding, not a crash
            problems.append(f"{label}: Parquet unreadable: {exc}")
            continue
        if rows != version.rows:
            problems.append(f"{label}: {rows} rows in file != recorded {version.rows}")
        if checksums and sha256_file(path) != version.file_sha256:
            problems.append(f"{label}: SHA-256 of the file does not match")
        if version.columns.count() != len(version.schema):
            problems.append(f"{label}: {version.columns.count()} column records != {len(version.schema)} in schema")
    for dataset in Dataset.objects.select_related("current_version").order_by("id"):
        current = dataset.current_version
        if current is None:
            # An inventory record with no data is fine; versions without a current one are not.
            if dataset.versions.exists():
                problems.append(f"{dataset}: has versions but no current version")
        elif current.dataset_id != dataset.id:
            problems.append(f"{dataset}: current version belongs to another dataset")
    root = home() / "cities"
    referenced = {
        home() / f for f in DatasetVersion.objects.filter(tombstone__isnull=True).values_list("file", flat=True)
    }
    if root.exists():
        for cdir in root.iterdir():
            staging = cdir / "staging"
            if staging.exists():
                for entry in staging.iterdir():
                    if _lock_is_free(staging / (entry.name.split(".", 1)[0] + ".lock")):
                        problems.append(f"leftover staging file {entry.relative_to(home())}")
            versions = cdir / "versions"
            if versions.exists():
                for entry in versions.iterdir():
                    if entry not in referenced:
                        problems.append(f"orphan version file {entry.relative_to(home())}")
    return problems
