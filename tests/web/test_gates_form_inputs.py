"""Hypothesis against the gate and cohort forms and the cohort view's filters: no input gives a server
error; a refused form saves nothing."""

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
    st.sampled_from(["", " ", "\x00", "a\r\nb", "<script>x</script>", "9" * 400, "2026-02-30", "2026-05-20",
                     "2999-01-01", "-1", "0", "1", "2000", "2100", "weekly", "monthly", "none", "as_needed",
                     "springfield", "shelbyville", "scoping", "analysis", "-risk", "title", "-days", "nonsense",
                     "on", "true", "x" * 5001, "A reason that is long enough to be written down."]),
)  # fmt: skip


def _state() -> tuple[Any, ...]:
    from ridp.workspace.models import Cohort, CohortPhase, PhaseChange, Project

    return (
        PhaseChange.objects.count(),
        Cohort.objects.count(),
        sorted(CohortPhase.objects.values_list("id", "name", "starts_on", "ends_on", "cadence")),
        sorted(Project.objects.values_list("id", "phase", "phase_since")),
    )


def _client(world: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    sign_in(client, world.users["admin"])
    client.cookies["csrftoken"] = CSRF_SECRET
    return client


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@SETTINGS
@given(form=st.sampled_from(["override", "phase", "cohort"]), values=st.lists(TEXT, min_size=4, max_size=4))
def test_no_input_breaks_the_server_or_half_saves(world, form, values):
    project, cohort = world.projects["a"], world.cohorts["a"]
    url, names = {
        "override": (f"/c/springfield/projects/{project.pk}/gate/override/", ("reason",)),
        "phase": (f"/cohorts/{cohort.pk}/phases/analysis/", ("name", "starts_on", "ends_on", "cadence")),
        "cohort": ("/cohorts/new/", ("name", "year")),
    }[form]
    data = dict(zip(names, values, strict=False))
    client = _client(world)
    with transaction.atomic():
        before = _state()
        response = client.post(url, data, HTTP_X_CSRFTOKEN=CSRF_SECRET)
        assert response.status_code < 500, f"{form} with {data!r}: {response.status_code}"
        if response.status_code != 302:
            assert response.status_code == 400, f"{form} with {data!r}: {response.status_code}"
            assert _state() == before, f"{form} refused {data!r} but changed stored state"
        transaction.set_rollback(True)


@SETTINGS
@given(params=st.dictionaries(st.sampled_from(["city", "cohort", "phase", "at_risk", "sort", "other"]), TEXT))
def test_no_filter_or_sort_breaks_the_cohort_view(world, params):
    client = _client(world)
    for url in ("/cohort/", "/api/cohort-view"):
        response = client.get(url, params)
        assert response.status_code in (200, 400, 422), f"{url} with {params!r}: {response.status_code}"
