"""Comments on a project's charter and meetings (findings arrive with the analysis issue).

Anyone who may ``comment`` (the team, the coach and the programme analyst; not
viewers) adds one; everyone who sees the project reads them. A meeting comment
names a meeting of *this* project; a charter comment names nothing (the project
has one charter).

Examples
--------
``add_comment(ana, "springfield", 7, "meeting", 31, "The 2024 log has gaps in March")``
"""

from __future__ import annotations

from typing import Final

from django.db import transaction

from ridp.errors import FieldError, NotFoundError
from ridp.workspace import audit
from ridp.workspace.access import require
from ridp.workspace.models import Comment, Meeting, Project, User
from ridp.workspace.projects import get_project

__all__ = ["MAX_BODY", "add_comment", "comments_for"]

MAX_BODY: Final = 5000


def _target(project: Project, target: str, target_id: int | None) -> int | None:
    """The checked target id: None for the charter, a meeting of this project for a meeting."""
    if target == Comment.Target.FINDING:
        raise FieldError("target", "findings arrive with the analysis issue")
    if target == Comment.Target.CHARTER:
        if target_id is not None:
            raise FieldError("target_id", "a charter comment names no object")
        return None
    if target == Comment.Target.MEETING:
        if target_id is None:
            raise FieldError("target_id", "name the meeting")
        if not Meeting.objects.filter(project=project, pk=target_id).exists():
            raise NotFoundError(f"no meeting {target_id} in project {project.pk}")
        return target_id
    raise FieldError("target", f"{target!r} is not one of charter, meeting")


def add_comment(actor: User, city: str, project_id: int, target: str, target_id: int | None, body: str) -> Comment:
    """Comment on the project's charter or one of its meetings (``comment``)."""
    project = get_project(actor, city, project_id)
    checked = _target(project, target, target_id)
    require(actor, project.city, "comment", obj=project)
    text = (body or "").strip()
    if not text:
        raise FieldError("body", "write the comment")
    if "\x00" in text:
        raise FieldError("body", "holds a NUL character")
    if len(text) > MAX_BODY:
        raise FieldError("body", f"is longer than {MAX_BODY} characters")
    with transaction.atomic():
        comment = Comment.objects.create(project=project, target=target, target_id=checked, author=actor, body=text)
        audit.record(
            "comment.added", actor=actor, city=project.city, obj=comment, project=project.pk, target=target,
            target_id=checked,
        )  # fmt: skip
    return comment


def comments_for(actor: User, city: str, project_id: int, target: str, target_id: int | None) -> list[Comment]:
    """The comments on the charter or a meeting, oldest first (anyone who sees the project)."""
    project = get_project(actor, city, project_id)
    checked = _target(project, target, target_id)
    return list(
        Comment.objects.filter(project=project, target=target, target_id=checked)
        .select_related("author")
        .order_by("created_at", "id")
    )
