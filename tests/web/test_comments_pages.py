"""Comments in the browser: on a meeting and on the charter (the reusable block and its helper)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from tests.web.conftest import csrf_post


def _url(world: Any, name: str, **extra: Any) -> str:
    return reverse(name, kwargs={"city": "springfield", "project_id": world.projects["a"].pk, **extra})


def test_comment_on_a_meeting_and_see_it_there(world, as_persona):
    from ridp.workspace.models import Comment

    client = as_persona("expert")
    meeting = world.meetings["a"]
    response = csrf_post(client, _url(world, "comment_add"),
                         {"target": "meeting", "target_id": str(meeting.pk), "body": "The log has gaps"})  # fmt: skip
    assert response.status_code == 302 and response["Location"] == _url(world, "meeting", meeting_id=meeting.pk)
    comment = Comment.objects.get(body="The log has gaps")
    assert (comment.target, comment.target_id, comment.author) == ("meeting", meeting.pk, world.users["expert"])
    page = as_persona("viewer").get(_url(world, "meeting", meeting_id=meeting.pk)).content.decode()
    assert "The log has gaps" in page and "Your comment" not in page  # viewers read, do not comment
    # the charter's comment is not shown on the meeting
    assert "Looks right" not in page


def test_comment_on_the_charter_goes_back_to_the_charter(world, as_persona):
    from ridp.workspace.models import Comment

    response = csrf_post(as_persona("coach"), _url(world, "comment_add"), {"target": "charter", "body": "Sign it"})
    assert response.status_code == 302 and response["Location"] == _url(world, "charter")
    assert Comment.objects.filter(target="charter", body="Sign it", target_id=None).exists()


def test_bad_comments_are_refused_naming_the_field(world, as_persona):
    from ridp.workspace.models import Comment

    client = as_persona("expert")
    before = Comment.objects.count()
    empty = csrf_post(client, _url(world, "comment_add"),
                      {"target": "meeting", "target_id": str(world.meetings["a"].pk), "body": "  "})  # fmt: skip
    assert empty.status_code == 400 and 'id="id_comment_body_error"' in empty.content.decode()
    assert "Agree the problem" in empty.content.decode()  # the meeting page, re-rendered
    finding = csrf_post(client, _url(world, "comment_add"), {"target": "finding", "body": "x"})
    assert finding.status_code == 400 and "Your comment was not added" in finding.content.decode()
    on_charter_with_id = csrf_post(client, _url(world, "comment_add"),
                                   {"target": "charter", "target_id": "5", "body": "x"})  # fmt: skip
    assert on_charter_with_id.status_code == 400
    assert "a charter comment names no object" in on_charter_with_id.content.decode()
    other = csrf_post(client, _url(world, "comment_add"),
                      {"target": "meeting", "target_id": str(world.meetings["b"].pk), "body": "x"})  # fmt: skip
    assert other.status_code == 404  # another city's meeting does not exist here
    assert (
        csrf_post(as_persona("viewer"), _url(world, "comment_add"), {"target": "charter", "body": "x"}).status_code
        == 403
    )
    assert Comment.objects.count() == before


def test_comments_context_renders_the_block_for_the_charter(world):
    """The helper the charter page uses: the block lists the charter's comments, with a form for those who may."""
    from ridp.web.views.meetings import comments_context

    for persona, form in (("leader", True), ("viewer", False)):
        request = RequestFactory().get("/")
        request.user = world.users[persona]
        context = comments_context(world.users[persona], world.projects["a"], "charter", None)
        html = render_to_string("ridp/projects/_comments.html", context, request=request)
        assert "Looks right" in html
        assert ('name="body"' in html) is form
        assert ('name="target" value="charter"' in html) is form


def test_the_charter_page_shows_its_comments_and_takes_new_ones(world, as_persona):
    from tests.web.conftest import csrf_post

    project = world.projects["a"]
    url = f"/c/springfield/projects/{project.pk}/charter/"
    page = as_persona("viewer").get(url).content.decode()
    assert "Looks right" in page  # the world's comment on the charter
    client = as_persona("expert")
    response = csrf_post(
        client,
        f"/c/springfield/projects/{project.pk}/comments/",
        {"target": "charter", "target_id": "", "body": "Add the ward split."},
    )
    assert response.status_code == 302
    assert "Add the ward split." in client.get(url).content.decode()
