"""The audit log, for the programme admin: entries newest first, filtered and paginated.

For anyone else the log does not exist (404), so its address reveals nothing.
"""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Router
from ninja.params import P, QueryEx

from ridp.web.api.people import acting
from ridp.web.api.schemas import NO_NUL, READ, AuditEntryOut, AuditPage, answers
from ridp.workspace import audit_log
from ridp.workspace.models import AuditEntry

router = Router(tags=["audit"])


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.pk,
        at=entry.at,
        actor=entry.actor_name,
        action=entry.action,
        city=entry.city.slug if entry.city else None,
        object_type=entry.object_type,
        object_id=entry.object_id,
        detail=entry.detail if isinstance(entry.detail, dict) else {},
    )


@router.get(
    "/audit",
    response=answers({200: AuditPage}, 400, *READ),
    operation_id="list_audit_entries",
    summary="The audit log, newest first (programme admins only)",
)
def audit_entries(
    request: HttpRequest,
    action: QueryEx[str, P(max_length=64, pattern=NO_NUL, description="An action or its prefix: agreement.")] = "",
    city: QueryEx[str, P(max_length=100, pattern=NO_NUL, description="A city's slug")] = "",
    actor: QueryEx[str, P(max_length=150, pattern=NO_NUL, description="A username")] = "",
    date_from: QueryEx[date | None, P(description="From this UTC day (YYYY-MM-DD)")] = None,
    date_to: QueryEx[date | None, P(description="To this UTC day, included")] = None,
    page: QueryEx[int, P(ge=1, le=1_000_000)] = 1,
) -> AuditPage:
    found = audit_log.search(
        acting(request),
        action=action,
        city=city,
        actor_name=actor,
        date_from=date_from.isoformat() if date_from else "",
        date_to=date_to.isoformat() if date_to else "",
        page=page,
    )
    return AuditPage(
        page=found.number,
        pages=found.paginator.num_pages,
        total=found.paginator.count,
        entries=[entry_out(e) for e in found],
    )
