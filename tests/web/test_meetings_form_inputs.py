"""Hypothesis against the team, meeting, follow-up and comment forms: no input gives a server error, and a
refused form saves nothing."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.conftest import sign_in
from tests.web.test_authorisation import CSRF_SECRET
from tests.web.test_csrf import _state
from tests.web.test_form_inputs import TEXT

# Values the forms accept mixed with hostile text, so that both the forms' and the workspace's checks are reached.
PLAUSIBLE = st.sampled_from([
    "analyst", "expert", "leader", "viewer", "b_leader", "data_analyst", "subject_matter_expert", "coach",
    "held", "planned", "cancelled", "done", "dropped", "open", "charter", "meeting", "finding", "kickoff",
    "as_needed", "2026-05-20", "2026-05-20T10:00", "2099-01-01T10:00", "1999-12-31T23:59", "1", "5", "6", "60",
    "0", "Pat Lee, crew chief", "no comma here",
])  # fmt: skip
VALUE = st.one_of(TEXT, PLAUSIBLE)
FORMS: dict[str, tuple[str, ...]] = {
    "project_team_add": ("username", "role"),
    "meeting_new": ("kind", "starts_at", "minutes", "goal"),
    "meeting_record": ("status", "starts_at", "minutes", "attendees", "guests", "usefulness", "decisions", "risks"),
    "follow_up_add": ("text", "owner", "due_on"),
    "follow_up_status": ("status",),
    "comment_add": ("target", "target_id", "body"),
}


def _url(world: Any, name: str) -> str:
    kwargs: dict[str, Any] = {"city": "springfield", "project_id": world.projects["a"].pk}
    if name in ("meeting_record", "follow_up_add"):
        kwargs["meeting_id"] = world.meetings["a"].pk
    if name == "follow_up_status":
        kwargs["follow_up_id"] = world.follow_ups["a"].pk
    return reverse(name, kwargs=kwargs)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(name=st.sampled_from(sorted(FORMS)), values=st.lists(VALUE, min_size=8, max_size=8))
def test_no_meeting_form_input_breaks_the_server_or_half_saves(world, name, values):
    client = Client(enforce_csrf_checks=True)
    sign_in(client, world.users["admin"])
    client.cookies["csrftoken"] = CSRF_SECRET
    data: dict[str, Any] = dict(zip(FORMS[name], values, strict=False))
    with transaction.atomic():
        before = _state()
        response = client.post(_url(world, name), data, HTTP_X_CSRFTOKEN=CSRF_SECRET)
        assert response.status_code < 500, f"{name} with {data!r}: {response.status_code}"
        if response.status_code != 302:  # refused (the page comes back with messages): nothing stored
            assert response.status_code in (400, 404), f"{name} with {data!r}: {response.status_code}"
            assert _state() == before, f"{name} refused {data!r} but changed stored state"
        transaction.set_rollback(True)
