"""Reading the audit log: the programme admin's page of entries, newest first, filtered and paginated.

Only programme admins read the log; for anyone else it does not exist
(:class:`~ridp.errors.NotFoundError`, a 404 page), so its address reveals nothing.
Filters arrive as the text a person typed; a value that cannot be used is a
:class:`~ridp.errors.FieldError` naming the filter, never a crash.

Examples
--------
``page = search(admin, action="agreement.", city="springfield", date_from="2025-01-01")``
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from ridp.errors import FieldError, NotFoundError
from ridp.workspace.access import is_programme_admin
from ridp.workspace.models import AuditEntry, City, User

__all__ = ["PER_PAGE", "search"]

#: Entries per page of the audit log.
PER_PAGE = 50


def _day(field: str, value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError(field, f"{value!r} is not a date; use YYYY-MM-DD") from None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _filtered(action: str, city: str, actor_name: str, date_from: str, date_to: str) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.select_related("city").order_by("-at", "-id")
    if action.strip():
        entries = entries.filter(action__startswith=action.strip())
    if city.strip():
        slug = city.strip().lower()
        if not City.objects.filter(slug=slug).exists():
            raise FieldError("city", f"there is no city {slug!r}")
        entries = entries.filter(city__slug=slug)
    if actor_name.strip():
        entries = entries.filter(actor_name__iexact=actor_name.strip())
    start, end = _day("date_from", date_from), _day("date_to", date_to)
    if start and end and end < start:
        raise FieldError("date_to", f"{end} is before the start {start}")
    if start:
        entries = entries.filter(at__gte=_midnight(start))
    if end:
        entries = entries.filter(at__lt=_midnight(end + timedelta(days=1)))
    return entries


def search(
    actor: User,
    *,
    action: str = "",
    city: str = "",
    actor_name: str = "",
    date_from: str = "",
    date_to: str = "",
    page: str | int | None = None,
    per_page: int = PER_PAGE,
) -> Page[AuditEntry]:
    """One page of audit entries, newest first (programme admins only; for anyone else: not found).

    ``action`` matches a prefix (``agreement.`` finds every agreement event);
    ``city`` is a slug; ``actor_name`` a username; ``date_from`` and ``date_to``
    (``YYYY-MM-DD``, UTC days) both include their day. A page number out of range
    gives the nearest page.
    """
    if not is_programme_admin(actor):
        raise NotFoundError("no such page")
    entries = _filtered(action, city, actor_name, date_from, date_to)
    return Paginator(entries, per_page).get_page(page)
