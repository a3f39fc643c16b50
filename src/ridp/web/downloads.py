"""Downloads: always attachments, never sniffed, and no open file held by a response nobody reads."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from django.http import FileResponse

__all__ = ["attachment"]


class _OpenedOnRead:
    """A stored file opened at its first read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self._file: BinaryIO | None = None

    def read(self, size: int = -1) -> bytes:
        if self._file is None:
            self._file = self.path.open("rb")
        return self._file.read(size)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def attachment(path: Path, filename: str, content_type: str) -> FileResponse:
    """``path`` as a download named ``filename`` (Content-Disposition: attachment, nosniff)."""
    body = _OpenedOnRead(path)
    response = FileResponse(body, as_attachment=True, filename=filename, content_type=content_type)
    response["Content-Length"] = str(body.size)
    response["X-Content-Type-Options"] = "nosniff"
    return response
