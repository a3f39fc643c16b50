"""Datasets and their versions: atomic ingest, listing, and previews.

An ingest (:func:`add_file`) never leaves a half-written version:

1. the source's SHA-256 is taken; the same bytes already stored make no new version;
2. under a held staging lock, a child process with memory and CPU limits
   parses the file into ``staging/<id>.parquet``;
3. the staged file is verified (row count from its own metadata, SHA-256) and
   ``fsync``-ed, then renamed into ``versions/`` (atomic on one file system);
4. one database transaction creates the version and its columns and makes it
   current; the audit entry is part of that transaction.

A crash before step 4 commits leaves the previous version current and whole;
what it left on disk is removed by :func:`ridp.workspace.store.recover` on
the next start.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow.parquet as pq
from django.db import IntegrityError as DjangoIntegrityError
from django.db import transaction
from django.db.models import Max

from ridp.config import Config
from ridp.errors import FieldError, IntegrityError, NotFoundError
from ridp.ingest import parse_file
from ridp.workspace import audit
from ridp.workspace.access import require
from ridp.workspace.models import AreaAssignment, Column, Dataset, DatasetVersion, User
from ridp.workspace.people import require_city
from ridp.workspace.store import city_dir, home, sha256_file, staging_lock

__all__ = [
    "IngestOutcome",
    "Preview",
    "add_file",
    "add_url",
    "describe",
    "describe_version",
    "get_dataset",
    "get_dataset_by_id",
    "list_datasets",
    "open_table",
    "preview",
    "record_inventory",
    "versions",
]

Progress = Callable[[float, str], None]
MASK = "•••"


@dataclass(frozen=True)
class IngestOutcome:
    """The version an ingest made current, and whether it is new."""

    version: DatasetVersion
    created: bool


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def add_file(
    actor: User,
    path: Path,
    *,
    city: str,
    name: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    source_label: str | None = None,
    progress: Progress | None = None,
    _before_commit: Callable[[], None] | None = None,
) -> IngestOutcome:
    """Ingest a CSV/TSV or Parquet file as a new version of a city's dataset.

    Parameters
    ----------
    name
        The dataset's name; default the file's name without its extension.
    encoding, delimiter
        State them when sniffing gets them wrong.
    """
    report = progress or (lambda fraction, stage: None)
    source = Path(path)
    city_obj = require_city(actor, city)
    require(actor, city_obj, "dataset.upload")
    dataset_name = (name or source.stem).strip()
    if not dataset_name:
        raise FieldError("name", "a dataset needs a name")
    if not source.is_file():
        raise FieldError("file", f"{source} is not a file")
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise FieldError(
            "delimiter", f"{delimiter!r} cannot separate fields; give one character such as , ; | or a tab"
        )
    config = Config.from_env()

    # The source's SHA-256 is taken in a thread while the child parses: the
    # hash (about 1.7 s per GB) overlaps the parse, and when it shows these
    # bytes are stored already the parse is stopped at once.
    report(0.0, "checksum")
    digest: dict[str, str | BaseException] = {}

    def hash_source() -> None:
        try:
            digest["sha"] = sha256_file(source)
        except BaseException as exc:  # re-raised in the caller
            digest["error"] = exc

    hasher = threading.Thread(target=hash_source, name="ridp-sha256", daemon=True)
    hasher.start()
    known: list[DatasetVersion] = []

    def duplicate() -> bool:
        if not known and "sha" in digest:
            found = DatasetVersion.objects.filter(
                dataset__city=city_obj, dataset__name=dataset_name, source_sha256=digest["sha"]
            ).first()
            if found is not None:
                known.append(found)
        return bool(known)

    cdir = city_dir(city_obj)
    staging, versions_dir = cdir / "staging", cdir / "versions"
    versions_dir.mkdir(parents=True, exist_ok=True)
    ingest_id = uuid.uuid4().hex
    with staging_lock(staging, ingest_id):
        staged = staging / f"{ingest_id}.parquet"
        report(0.02, "parse")
        try:
            parsed = parse_file(
                source,
                staged,
                encoding=encoding,
                delimiter=delimiter,
                max_columns=config.max_columns,
                max_line_bytes=config.max_line_bytes,
                memory_bytes=config.parse_memory,
                cpu_seconds=config.parse_cpu_seconds,
                engine_memory=config.engine_memory,
                progress=lambda f: report(0.02 + 0.88 * f, "parse"),
                should_stop=duplicate,
                sheet=sheet,
            )
        finally:
            hasher.join()
        if "error" in digest:
            staged.unlink(missing_ok=True)
            raise digest["error"]  # type: ignore[misc]
        if duplicate() or parsed is None:
            staged.unlink(missing_ok=True)
            report(1.0, "unchanged")
            return IngestOutcome(known[0], created=False)
        sniffed, result = parsed
        source_sha = str(digest["sha"])
        report(0.9, "verify")
        _verify(staged, result.rows)
        with staged.open("rb") as fh:
            os.fsync(fh.fileno())
        file_sha = sha256_file(staged)
        final = versions_dir / f"{ingest_id}.parquet"
        staged.replace(final)
        _fsync_dir(versions_dir)
        report(0.95, "commit")
        notes: list[str] = list(sniffed.warnings)
        if result.demoted:
            notes.append("read as text because a value did not fit the sniffed type: " + ", ".join(result.demoted))
        try:
            with transaction.atomic():
                dataset = Dataset.objects.select_for_update().filter(city=city_obj, name=dataset_name).first()
                if dataset is None:
                    dataset = Dataset.objects.create(city=city_obj, name=dataset_name, created_by=actor)
                number = (dataset.versions.aggregate(n=Max("number"))["n"] or 0) + 1
                version = DatasetVersion.objects.create(
                    dataset=dataset,
                    number=number,
                    source_sha256=source_sha,
                    source_name=source_label or source.name,
                    source_format=sniffed.kind,
                    source_bytes=sniffed.size,
                    encoding=result.encoding,
                    delimiter=result.delimiter,
                    file=final.relative_to(home()).as_posix(),
                    file_sha256=file_sha,
                    file_bytes=final.stat().st_size,
                    rows=result.rows,
                    schema=[{"name": c.name, "position": c.position, "dtype": c.dtype} for c in result.columns],
                    notes=notes,
                    created_by=actor,
                )
                Column.objects.bulk_create(
                    Column(version=version, position=c.position, name=c.name, dtype=c.dtype) for c in result.columns
                )
                previous = dataset.current_version
                dataset.current_version = version
                dataset.save(update_fields=["current_version"])
                _inherit_classes(previous, version)
                audit.record(
                    "dataset.version_added",
                    actor=actor,
                    city=city_obj,
                    obj=version,
                    dataset=dataset.name,
                    number=number,
                    rows=result.rows,
                    source_sha256=source_sha,
                )
                if _before_commit is not None:
                    _before_commit()
        except DjangoIntegrityError:
            # Another ingest stored the same bytes first: that version stands.
            final.unlink(missing_ok=True)
            same = DatasetVersion.objects.get(
                dataset__city=city_obj, dataset__name=dataset_name, source_sha256=source_sha
            )
            return IngestOutcome(same, created=False)
        except BaseException:
            final.unlink(missing_ok=True)
            raise
    report(1.0, "done")
    return IngestOutcome(version, created=True)


def _require_bytes(version: DatasetVersion) -> None:
    tombstone = getattr(version, "tombstone", None)
    if tombstone is not None:
        raise NotFoundError(
            f"{version.dataset} v{version.number}: its data was deleted on {tombstone.deleted_at:%Y-%m-%d} ({tombstone.reason})"
        )


def add_url(
    actor: User,
    url: str,
    *,
    city: str,
    name: str | None = None,
    progress: Progress | None = None,
) -> IngestOutcome:
    """Pull a dataset from an open-data portal (https only) and ingest it as a version.

    A Socrata pull that is interrupted resumes from its last whole page when run again.
    """
    import hashlib

    from ridp.ingest.remote import pull

    city_obj = require_city(actor, city)
    require(actor, city_obj, "dataset.upload")
    report = progress or (lambda fraction, stage: None)
    folder = city_dir(city_obj) / "downloads" / hashlib.sha256(url.encode()).hexdigest()[:16]
    report(0.0, "download")
    pulled = pull(url, folder)
    outcome = add_file(
        actor, pulled.path, city=city, name=name or pulled.path.stem, source_label=url, progress=progress
    )
    pulled.path.unlink(missing_ok=True)
    return outcome


def _inherit_classes(previous: DatasetVersion | None, version: DatasetVersion) -> None:
    """Carry confirmed column classes to a new version's columns of the same name."""
    if previous is None:
        return
    known = {c.name: c for c in previous.columns.exclude(classification="")}
    updates = []
    for column in version.columns.all():
        old = known.get(column.name)
        if old is not None:
            column.classification = old.classification
            column.classified_by_id = old.classified_by_id
            column.classified_at = old.classified_at
            updates.append(column)
    Column.objects.bulk_update(updates, ["classification", "classified_by", "classified_at"])


SAMPLE_ROWS = 5000


def sample_rows(actor: User, dataset: Dataset, use: str, rows: int = SAMPLE_ROWS) -> pd.DataFrame:
    """The first ``rows`` rows of the current version as stored (typed), for the
    workspace's own look at values (mapping, classification). Gated like any read."""
    from ridp.workspace.agreements import require_use

    require_use(actor, dataset, use)
    version = dataset.current_version
    if version is None:
        raise NotFoundError(f"{dataset} has no data yet")
    _require_bytes(version)
    batch = next(pq.ParquetFile(home() / version.file).iter_batches(batch_size=rows), None)
    if batch is None:
        return pd.DataFrame({c["name"]: [] for c in version.schema})
    frame: pd.DataFrame = batch.to_pandas()
    return frame


def _verify(staged: Path, rows: int) -> None:
    written = pq.ParquetFile(staged).metadata.num_rows
    if written != rows:
        raise IntegrityError([f"staged file has {written} rows, the parser wrote {rows}"])


def list_datasets(actor: User, city: str) -> list[Dataset]:
    city_obj = require_city(actor, city)
    return list(Dataset.objects.filter(city=city_obj).select_related("current_version", "city").order_by("name"))


def get_dataset(actor: User, city: str, name: str) -> Dataset:
    city_obj = require_city(actor, city)
    dataset = Dataset.objects.filter(city=city_obj, name=name).select_related("current_version", "city").first()
    if dataset is None:
        raise NotFoundError(f"no dataset {name!r} in {city_obj.slug}", hint="`ridp data list --city` shows them")
    return dataset


def get_dataset_by_id(actor: User, city: str, dataset_id: int) -> Dataset:
    """A dataset of a city the actor can see, by its id; another city's id is not found."""
    city_obj = require_city(actor, city)
    dataset = Dataset.objects.filter(city=city_obj, pk=dataset_id).select_related("current_version", "city").first()
    if dataset is None:
        raise NotFoundError(f"no dataset {dataset_id} in {city_obj.slug}")
    return dataset


INVENTORY_FIELDS = (
    "description",
    "owner_department",
    "steward",
    "source_system",
    "update_frequency",
    "licence",
    "public",
    "sensitivity",
    "sensitivity_reason",
    "years_of_history",
    "known_quality_issues",
)


_PUBLIC = {"yes", "no", "partial"}


def record_inventory(actor: User, city: str, name: str, **fields: Any) -> Dataset:
    """Create or update a dataset's inventory record (GovEx guide), data or no data.

    A city lists every dataset, sensitive ones included, even when it shares
    none of it: the record stands alone until (and unless) data is uploaded.
    Fields: the names in :data:`INVENTORY_FIELDS` and ``needs_agreement``.

    Examples
    --------
    ``record_inventory(sam, "springfield", "child welfare cases", sensitivity="high",
    sensitivity_reason="minors", public="no", needs_agreement=True)``
    """
    city_obj = require_city(actor, city)
    require(actor, city_obj, "dataset.inventory")
    unknown = set(fields) - set(INVENTORY_FIELDS) - {"needs_agreement"}
    if unknown:
        raise FieldError(sorted(unknown)[0], "is not an inventory field", hint="one of " + ", ".join(INVENTORY_FIELDS))
    if "public" in fields and fields["public"] not in _PUBLIC:
        raise FieldError("public", f"{fields['public']!r} is not yes, no or partial")
    if fields.get("years_of_history") is not None:
        try:
            years = float(fields["years_of_history"])
        except (TypeError, ValueError):
            raise FieldError("years_of_history", f"{fields['years_of_history']!r} is not a number of years") from None
        if years < 0:
            raise FieldError("years_of_history", "cannot be negative")
        fields["years_of_history"] = years
    if not name.strip():
        raise FieldError("name", "a dataset needs a name")
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().filter(city=city_obj, name=name.strip()).first()
        created = dataset is None
        if dataset is None:
            dataset = Dataset(city=city_obj, name=name.strip(), created_by=actor)
        for key, value in fields.items():
            setattr(dataset, key, value)
        dataset.save()
        audit.record(
            "dataset.inventory_recorded" if created else "dataset.inventory_changed",
            actor=actor,
            city=city_obj,
            obj=dataset,
            fields=",".join(sorted(fields)),
        )
    return dataset


def describe(dataset: Dataset) -> dict[str, Any]:
    """A dataset, its inventory record and current version as plain JSON-able data."""
    v = dataset.current_version
    return {
        "city": dataset.city.slug,
        "name": dataset.name,
        "inventory": {field: getattr(dataset, field) for field in INVENTORY_FIELDS},
        "needs_agreement": dataset.needs_agreement,
        "current_version": None if v is None else describe_version(v),
    }


def describe_version(v: DatasetVersion) -> dict[str, Any]:
    return {
        "number": v.number,
        "rows": v.rows,
        "columns": [
            {"name": c.name, "position": c.position, "dtype": c.dtype, "classification": c.classification}
            for c in v.columns.all()
        ],
        "source": {
            "name": v.source_name,
            "format": v.source_format,
            "bytes": v.source_bytes,
            "sha256": v.source_sha256,
            "encoding": v.encoding,
            "delimiter": v.delimiter,
        },
        "file_sha256": v.file_sha256,
        "notes": v.notes,
        "created_at": v.created_at.isoformat(),
        "created_by": v.created_by.username,
    }


def versions(actor: User, city: str, name: str) -> list[DatasetVersion]:
    dataset = get_dataset(actor, city, name)
    return list(dataset.versions.select_related("created_by").order_by("number"))


def _readable(
    actor: User, city: str, name: str, version: int | None, *, use: str
) -> tuple[Dataset, DatasetVersion, list[str]]:
    """Everything a read of rows must pass, in one place: the role, the version, an
    active agreement where one is needed, bytes not deleted under retention. Returns
    the dataset, the version and the personal columns hidden from this person."""
    from ridp.workspace.agreements import require_use, visible_personal_columns

    dataset = get_dataset(actor, city, name)
    require(actor, dataset.city, "rows.read", obj=dataset)
    chosen = dataset.current_version if version is None else dataset.versions.filter(number=version).first()
    if chosen is None:
        raise NotFoundError(f"{dataset} has no data yet" if version is None else f"{dataset} has no version {version}")
    require_use(actor, dataset, use)
    _require_bytes(chosen)
    personal = list(
        chosen.columns.filter(
            classification__in=[Column.Classification.PERSONAL, Column.Classification.SENSITIVE]
        ).values_list("name", flat=True)
    )
    visible = visible_personal_columns(actor, dataset)
    hidden = [column for column in personal if visible is not None and column not in visible]
    if len(hidden) < len(personal):
        audit.record(
            "personal_data.accessed", actor=actor, city=dataset.city, obj=chosen, how=use,
            columns=len(personal) - len(hidden),
        )  # fmt: skip
    return dataset, chosen, hidden


def masked_columns(actor: User, dataset: Dataset) -> set[str]:
    """The current version's personal and sensitive columns whose values ``actor`` would see masked.

    Everyone who cannot read rows (viewers) sees all of them masked; others see
    those their role or name is not given by an active covering agreement.
    """
    from ridp.workspace.access import allowed
    from ridp.workspace.agreements import visible_personal_columns

    version = dataset.current_version
    if version is None:
        return set()
    personal = set(
        version.columns.filter(
            classification__in=[Column.Classification.PERSONAL, Column.Classification.SENSITIVE]
        ).values_list("name", flat=True)
    )
    if not personal or not allowed(actor, dataset.city, "rows.read"):
        return personal
    visible = visible_personal_columns(actor, dataset)
    return set() if visible is None else personal - visible


def open_table(
    actor: User,
    city: str,
    name: str,
    *,
    version: int | None = None,
    engine_url: str | None = None,
    mask: bool = True,
    areas: AreaAssignment | None = None,
) -> ibis.Table:
    """A dataset version as an Ibis table on an engine (default: the workspace's DuckDB).

    The DuckDB connection may read only this city's own store. On PostgreSQL
    and Spark the version is loaded when asked. Personal columns this person may
    not see hold no values; ``mask=False`` keeps them for computations whose output
    never shows a personal value (data readiness counts them and masks every sample),
    and the caller answers for that. ``areas`` reads the version's rows with their
    stored area ids (:mod:`ridp.workspace.places`) instead; the same rules apply.

    Examples
    --------
    ``open_table(ana, "springfield", "requests").count().execute()``
    """
    import ridp.engine

    dataset, chosen, hidden = _readable(actor, city, name, version, use="analysis")
    cdir = city_dir(dataset.city)
    # The embedded default is one DuckDB file per city, inside that city's own store.
    url = engine_url or Config.from_env().engine_url or f"duckdb://{cdir / 'engine' / 'ridp.duckdb'}"
    con = ridp.engine.connect(url, allowed_directories=[cdir])
    table_name = f"{dataset.city.slug.replace('-', '_')}__d{dataset.pk}_v{chosen.number}"
    source = home() / chosen.file
    if areas is not None:
        if areas.dataset_version_id != chosen.pk:
            raise NotFoundError(f"that area assignment is of another version than {dataset} v{chosen.number}")
        source = home() / areas.file
        table_name += f"_a{areas.pk}"
    table = ridp.engine.load_parquet(con, source, table_name)
    if hidden and mask:
        # Masked for this person: the column stays (same name and type) but holds no values.
        table = table.mutate(**{name: ibis.null().cast(table[name].type()) for name in hidden})
    return table


@dataclass(frozen=True)
class Preview:
    """The first rows of a version, with personal columns masked."""

    version: DatasetVersion
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    masked: tuple[str, ...]


def preview(actor: User, city: str, name: str, *, limit: int = 20, version: int | None = None) -> Preview:
    """The first ``limit`` rows of the current (or a given) version."""

    if not 1 <= limit <= 1000:
        raise FieldError("limit", "show between 1 and 1,000 rows")
    dataset, chosen, hidden = _readable(actor, city, name, version, use="preview")
    masked = tuple(hidden)
    parquet = pq.ParquetFile(home() / chosen.file)
    batch = next(parquet.iter_batches(batch_size=limit), None)
    names = tuple(parquet.schema_arrow.names)
    rows: list[tuple[Any, ...]] = []
    if batch is not None:
        data = batch.to_pydict()
        for i in range(batch.num_rows):
            rows.append(tuple(MASK if n in masked and data[n][i] is not None else data[n][i] for n in names))
    if masked:
        audit.record("personal_data.masked_preview", actor=actor, city=dataset.city, obj=chosen, columns=len(masked))
    return Preview(chosen, names, tuple(rows), masked)
