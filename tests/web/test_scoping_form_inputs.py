"""Hypothesis against the scoping and charter forms: no input gives a server error; a refused form saves nothing."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.conftest import sign_in
from tests.web.test_authorisation import CSRF_SECRET

TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "a\r\nb", "<script>x</script>", "9" * 400, "2026-02-30", "2999-01-01", "-1",
                     "0", "1", "2", "3", "true", "low", "high", "accept", "off_ramp", "accept_with_risks", "team",
                     "champion", "appetite", "data_quality", "equity", "x" * 5001]),
)  # fmt: skip
FORMS: dict[str, tuple[str, ...]] = {
    "scoping/rate/": ("criterion", "score", "evidence", "rated_on"),
    "scoping/value/": ("value", "complexity"),
    "scoping/decide/": ("decision", "reason", "other_help"),
    "charter/edit/": ("title", "department", "goals", "trade_off", "analysis_type", "metric_target", "note"),
    "charter/sign/": ("kind", "name", "role", "signed_on"),
}


def _state() -> tuple[Any, ...]:
    from ridp.workspace.models import CharterVersion, CriterionRating, Project, SignOff

    return (
        CriterionRating.objects.count(),
        CharterVersion.objects.count(),
        SignOff.objects.count(),
        sorted(Project.objects.values_list("id", "value", "complexity", "decision", "decision_reason", "other_help")),
    )


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(name=st.sampled_from(sorted(FORMS)), values=st.lists(TEXT, min_size=7, max_size=7))
def test_no_input_breaks_the_server_or_half_saves(world, name, values):
    client = Client(enforce_csrf_checks=True)
    sign_in(client, world.users["admin"])
    client.cookies["csrftoken"] = CSRF_SECRET
    data = dict(zip(FORMS[name], values, strict=False))
    url = f"/c/springfield/projects/{world.projects['a'].pk}/{name}"
    with transaction.atomic():
        before = _state()
        response = client.post(url, data, HTTP_X_CSRFTOKEN=CSRF_SECRET)
        assert response.status_code < 500, f"{name} with {data!r}: {response.status_code}"
        if response.status_code != 302:
            assert response.status_code == 400
            assert _state() == before, f"{name} refused {data!r} but changed stored state"
        transaction.set_rollback(True)
