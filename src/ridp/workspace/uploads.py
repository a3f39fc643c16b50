"""Uploads from the web app and the API: staged under an internal id, ingested by a background task.

:func:`start` checks the role, writes the bytes under ``cities/<slug>/uploads/``
(never under the name the person gave) and queues :func:`run`, which ingests
with :func:`ridp.workspace.datasets.add_file` and records its progress and
outcome on the :class:`~ridp.workspace.models.Upload` row. A bad file ends as a
*failed* upload whose error names the file, row and column; nothing half-written
stays behind (the ingest is atomic) and the staged bytes are removed either way.

Examples
--------
``upload = start(ana, "springfield", name="requests", source_name="311.csv", stream=fh)``
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from django.db import transaction
from django.utils import timezone as django_timezone

from ridp.config import Config
from ridp.errors import FieldError, NotFoundError, RidpError
from ridp.workspace import audit
from ridp.workspace.access import city_for, require
from ridp.workspace.models import Upload, User
from ridp.workspace.store import city_dir, home

__all__ = ["ALLOWED_SUFFIXES", "get", "recent", "run", "start"]

log = logging.getLogger("ridp.uploads")
#: What the catalog accepts (the ingest checks that the bytes agree with the name).
ALLOWED_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx", ".json", ".geojson", ".zip")
_CHUNK = 4 * 1024 * 1024
_PROGRESS_EVERY = 0.5  # seconds between progress writes


def _suffix(source_name: str) -> str:
    suffix = Path(source_name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise FieldError(
            "file", f"{Path(source_name).name or 'the file'}: ridp reads " + ", ".join(ALLOWED_SUFFIXES) + " files"
        )
    return suffix


def start(
    actor: User,
    city: str,
    *,
    name: str,
    source_name: str,
    stream: BinaryIO,
    enqueue: Callable[[int], str] | None = None,
) -> Upload:
    """Stage an uploaded file and queue its ingest. ``enqueue(upload_id) -> task id`` defaults to the task queue."""
    city_obj = city_for(actor, city)
    require(actor, city_obj, "dataset.upload")
    name = name.strip()
    if not name or len(name) > 200:
        raise FieldError("name", "name the dataset (1 to 200 characters)")
    source_name = Path(source_name.replace("\\", "/")).name[:300]
    suffix = _suffix(source_name)
    limit = Config.from_env().upload_max_bytes
    folder = city_dir(city_obj) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f"{uuid.uuid4().hex}{suffix}"
    size = 0
    try:
        with staged.open("xb") as out:
            while block := stream.read(_CHUNK):
                size += len(block)
                if size > limit:
                    raise FieldError("file", f"{source_name} is larger than the {limit:,}-byte upload limit")
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise FieldError("file", f"{source_name} is empty")
        with transaction.atomic():
            upload = Upload.objects.create(
                city=city_obj,
                dataset_name=name,
                source_name=source_name,
                staged=staged.relative_to(home()).as_posix(),
                source_bytes=size,
                created_by=actor,
            )
            audit.record("dataset.upload_started", actor=actor, city=city_obj, obj=upload, bytes=size)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    task_id = (enqueue or _enqueue)(upload.pk)
    Upload.objects.filter(pk=upload.pk).update(task_id=task_id[:64])
    upload.refresh_from_db()
    return upload


def _enqueue(upload_id: int) -> str:
    from ridp.web.tasks import ingest_upload

    return str(ingest_upload.enqueue(upload_id).id)


def run(upload_id: int) -> Upload:
    """Ingest a queued upload (the background task's body); records progress, outcome and a clear error."""
    upload = Upload.objects.select_related("city", "created_by").get(pk=upload_id)
    if upload.status not in (Upload.Status.QUEUED, Upload.Status.RUNNING):
        return upload
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.RUNNING, stage="checksum", fraction=0.0)
    staged = home() / upload.staged
    last = [0.0]

    def progress(fraction: float, stage: str) -> None:
        now = time.monotonic()
        if now - last[0] >= _PROGRESS_EVERY or fraction >= 1.0:
            last[0] = now
            Upload.objects.filter(pk=upload.pk).update(fraction=min(max(fraction, 0.0), 1.0), stage=stage[:40])

    from ridp.workspace.datasets import add_file

    try:
        outcome = add_file(
            upload.created_by,
            staged,
            city=upload.city.slug,
            name=upload.dataset_name,
            source_label=upload.source_name,
            progress=progress,
        )
    except RidpError as exc:
        message = str(exc).replace(staged.name, upload.source_name)  # name the file as the person knows it
        Upload.objects.filter(pk=upload.pk).update(
            status=Upload.Status.FAILED,
            error=message,
            error_field=getattr(exc, "field", "") or "file",
            finished_at=django_timezone.now(),
        )
        audit.record("dataset.upload_failed", actor=upload.created_by, city=upload.city, obj=upload)
    except Exception:
        log.exception("upload %s failed unexpectedly", upload.pk)
        Upload.objects.filter(pk=upload.pk).update(
            status=Upload.Status.FAILED,
            error="ridp could not read this file because of an internal error; it was recorded. Nothing was stored.",
            error_field="file",
            finished_at=django_timezone.now(),
        )
    else:
        Upload.objects.filter(pk=upload.pk).update(
            status=Upload.Status.DONE,
            fraction=1.0,
            stage="unchanged" if not outcome.created else "done",
            version=outcome.version,
            finished_at=django_timezone.now(),
        )
    finally:
        staged.unlink(missing_ok=True)
    upload.refresh_from_db()
    return upload


def get(actor: User, city: str, upload_id: int) -> Upload:
    """An upload of this city, for those who may upload there; else not found / denied."""
    city_obj = city_for(actor, city)
    upload = Upload.objects.filter(pk=upload_id, city=city_obj).select_related("version", "created_by").first()
    if upload is None:
        raise NotFoundError(f"no upload {upload_id}")
    require(actor, city_obj, "dataset.upload", obj=upload)
    return upload


def recent(actor: User, city: str, limit: int = 20) -> list[Upload]:
    city_obj = city_for(actor, city)
    require(actor, city_obj, "dataset.upload")
    return list(Upload.objects.filter(city=city_obj).select_related("version").order_by("-created_at")[:limit])


def percent(upload: Upload) -> int:
    return round(100 * upload.fraction)
