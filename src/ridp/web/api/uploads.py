"""Uploads: a file becomes a new version of a dataset, ingested in the background.

``POST`` stages the file (under an internal id, never its own name) and answers
202 with the upload; ``GET`` reports its progress and outcome. Only those who
may upload in the city see its uploads.
"""

from __future__ import annotations

from typing import BinaryIO, cast

from django.http import HttpRequest
from ninja import File, Router, Status
from ninja.files import UploadedFile
from ninja.params import FormEx, P

from ridp.web.api.people import acting
from ridp.web.api.schemas import NO_NUL, READ, WRITE, CityPath, IdPath, UploadOut, answers
from ridp.workspace import uploads
from ridp.workspace.models import Upload

router = Router(tags=["uploads"])

DatasetName = FormEx[str, P(min_length=1, max_length=200, pattern=NO_NUL, description="The dataset's name")]


def upload_out(upload: Upload) -> UploadOut:
    return UploadOut(
        id=upload.pk,
        dataset=upload.dataset_name,
        source_name=upload.source_name,
        source_bytes=upload.source_bytes,
        status=upload.status,
        fraction=upload.fraction,
        stage=upload.stage,
        error=upload.error,
        error_field=upload.error_field,
        version=upload.version.number if upload.version else None,
        created_at=upload.created_at,
        finished_at=upload.finished_at,
    )


def _file_name(file: UploadedFile) -> str:
    """The name the person gave the file, without control characters (it is shown, never used as a path)."""
    return "".join(ch for ch in str(file.name or "") if ch.isprintable())[:300]


@router.post(
    "/cities/{city}/uploads",
    response=answers({202: UploadOut}, *WRITE),
    operation_id="start_upload",
    summary="Upload a file (CSV, TSV, Parquet, XLSX, JSON, GeoJSON or ZIP) as a new version of a dataset",
)
def upload_start(
    request: HttpRequest, city: CityPath, file: File[UploadedFile], name: DatasetName
) -> Status[UploadOut]:
    started = uploads.start(acting(request), city, name=name, source_name=_file_name(file), stream=cast(BinaryIO, file))
    return Status(202, upload_out(started))


@router.get(
    "/cities/{city}/uploads/{upload_id}",
    response=answers({200: UploadOut}, 403, *READ),
    operation_id="get_upload",
    summary="An upload's progress and outcome",
)
def upload_get(request: HttpRequest, city: CityPath, upload_id: IdPath) -> UploadOut:
    return upload_out(uploads.get(acting(request), city, upload_id))
