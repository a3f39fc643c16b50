"""Files people upload with a form or the API, staged under the workspace for the one call that reads them."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import get_valid_filename

from ridp.workspace.store import home

__all__ = ["safe_name", "staged"]


def safe_name(name: str | None, default: str = "document.pdf") -> str:
    """The uploaded file's own name, reduced to safe characters (never a path)."""
    try:
        return get_valid_filename(Path(name or "").name)[:200]
    except SuspiciousFileOperation:
        return default


@contextmanager
def staged(upload: UploadedFile, prefix: str) -> Iterator[Path]:
    """The upload streamed to a fresh folder under RIDP_HOME/uploads (keeping its safe name, which messages
    and downloads show); the folder is removed afterwards, whatever happens."""
    uploads = home() / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=uploads))
    try:
        target = folder / safe_name(upload.name)
        with target.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)
