"""Comments on a project's charter and meetings; findings wait for the analysis issue."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone as django_timezone

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError
from tests.workspace.test_project_team import Team, make_team


@pytest.fixture
def team(people: Any) -> Team:
    return make_team(people)


def _meeting(t: Team) -> Any:
    from ridp.workspace.models import Meeting

    return Meeting.objects.create(project=t.project, kind="kickoff", phase="scoping", starts_at=django_timezone.now())


def test_comment_on_the_charter_and_a_meeting(team: Team) -> None:
    from ridp.workspace.comments import add_comment, comments_for
    from ridp.workspace.models import AuditEntry

    m = _meeting(team)
    add_comment(team.users["ana"], "springfield", team.project.pk, "charter", None, "  Looks right  ")
    add_comment(team.users["cora"], "springfield", team.project.pk, "meeting", m.pk, "Good meeting")
    charter = comments_for(team.users["vera"], "springfield", team.project.pk, "charter", None)
    assert [(c.author.username, c.body) for c in charter] == [("ana", "Looks right")]
    on_meeting = comments_for(team.users["vera"], "springfield", team.project.pk, "meeting", m.pk)
    assert [c.body for c in on_meeting] == ["Good meeting"]
    entries = list(AuditEntry.objects.filter(action="comment.added"))
    assert len(entries) == 2 and all("Looks right" not in str(e.detail) for e in entries)


@pytest.mark.parametrize(
    ("target", "target_id", "body", "field"),
    [
        ("finding", 1, "x", "target"),
        ("charter", 5, "x", "target_id"),
        ("meeting", None, "x", "target_id"),
        ("budget", None, "x", "target"),
        ("charter", None, "   ", "body"),
        ("charter", None, "a\x00b", "body"),
        ("charter", None, "x" * 5001, "body"),
    ],
)
def test_bad_comments_are_refused(team: Team, target: str, target_id: int | None, body: str, field: str) -> None:
    from ridp.workspace.comments import add_comment
    from ridp.workspace.models import Comment

    with pytest.raises(FieldError) as caught:
        add_comment(team.users["ana"], "springfield", team.project.pk, target, target_id, body)
    assert caught.value.field == field
    if target == "finding":
        assert "findings arrive with the analysis issue" in str(caught.value)
    assert not Comment.objects.exists()


def test_a_meeting_of_another_project_is_not_found(team: Team) -> None:
    from ridp.workspace.comments import add_comment, comments_for
    from ridp.workspace.projects import start_project

    m = _meeting(team)
    other = start_project(team.users["sam"], "springfield", title="Other", problem="p", why_it_matters="w",
                          service_change="s")  # fmt: skip
    with pytest.raises(NotFoundError):
        add_comment(team.users["ana"], "springfield", other.pk, "meeting", m.pk, "x")
    with pytest.raises(NotFoundError):
        comments_for(team.users["ana"], "springfield", other.pk, "meeting", m.pk)
    with pytest.raises(NotFoundError):
        add_comment(team.users["otto"], "springfield", team.project.pk, "charter", None, "x")


def test_viewers_read_but_do_not_comment(team: Team) -> None:
    from ridp.workspace.comments import add_comment
    from ridp.workspace.models import AuditEntry

    with pytest.raises(PermissionDeniedError):
        add_comment(team.users["vera"], "springfield", team.project.pk, "charter", None, "x")
    assert AuditEntry.objects.filter(action="permission.denied", actor=team.users["vera"]).exists()
