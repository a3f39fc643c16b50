"""Background tasks (django-tasks; the database worker runs them, started by ``ridp serve``)."""

from __future__ import annotations

from django_tasks import task


@task()
def ingest_upload(upload_id: int) -> str:
    """Ingest one staged upload; its row records progress and the outcome."""
    from ridp.workspace import uploads

    return str(uploads.run(upload_id).status)
