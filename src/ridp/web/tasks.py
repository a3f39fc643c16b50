"""Background tasks (django-tasks; the database worker runs them, started by ``ridp serve``)."""

from __future__ import annotations

from django_tasks import task


@task()
def ingest_upload(upload_id: int) -> str:
    """Ingest one staged upload; its row records progress and the outcome."""
    from ridp.workspace import uploads

    return str(uploads.run(upload_id).status)


@task()
def send_due_reminders() -> str:
    """E-mail reminders of follow-ups coming due and meetings coming up (each at most once a day).

    ``ridp serve`` enqueues it when it starts and every hour after; ``ridp meeting remind`` runs the same now.
    """
    from ridp.workspace.meetings import send_reminders

    return str(send_reminders())


@task()
def readiness_run(run_id: int) -> str:
    """Compute one queued data-readiness run; its row records progress, the result or the error."""
    from ridp.workspace import readiness

    return str(readiness.run(run_id).status)


@task()
def analysis_run(run_id: int) -> str:
    """Compute one queued analysis run (service levels, trends, discovery rate); its row records the outcome."""
    from ridp.workspace import analysis

    return str(analysis.run(run_id).status)
