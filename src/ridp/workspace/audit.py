"""Writing the append-only audit log: one structured UTC entry per event.

Entries name who, what and which object; they never hold personal values or
secrets (a test greps the log for planted values).
"""

from __future__ import annotations

from typing import Any

from ridp.workspace.models import AuditEntry, City, User

__all__ = ["record"]


def record(
    action: str,
    *,
    actor: User | None,
    city: City | None = None,
    obj: Any = None,
    **detail: str | int | float | bool | None,
) -> AuditEntry:
    """Append one entry, e.g. ``record("dataset.version_added", actor=u, city=c, obj=v, rows=10)``."""
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=actor.username if actor is not None else "",
        action=action,
        city=city,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and getattr(obj, "pk", None) is not None else "",
        detail=detail,
    )
