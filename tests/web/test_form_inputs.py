"""Hypothesis against the web forms: no input gives a server error, and a refused form saves nothing."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.conftest import sign_in
from tests.web.test_authorisation import CSRF_SECRET
from tests.web.test_csrf import _state

# Text that tends to break things: NULs, surrogates aside, huge, formula-like, HTML, SQL, path bits.
TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "=cmd|' /C calc'!A0", "<script>x</script>", "'; DROP TABLE x; --",
                     "../../etc/passwd", "9" * 400, "2026-02-30", "-1", "1e309", "true", "null", "a" * 5000]),
)  # fmt: skip
FORMS: dict[str, tuple[str, ...]] = {
    "dataset_new": ("name", "description", "public", "years_of_history", "needs_agreement", "sensitivity"),
    "dataset_inventory": ("description", "public", "years_of_history", "licence", "owner_department"),
    "dataset_mapping": ("action", "request_id", "created_at", "closed_at", "type", "ward"),
    "dataset_columns": ("action", "column", "classification"),
    "agreement_new": (
        "title",
        "parties",
        "purpose",
        "datasets",
        "personal_roles",
        "retention_days",
        "starts_on",
        "expires_on",
    ),
    "agreement_terminate": ("reason",),
    "agreement_sign": ("name_1", "role_1", "signed_on_1"),
    "team_invite": ("email", "role"),
    "token_create": ("name", "days"),
    "upload": ("name",),
    "login": ("username", "password"),
    "two_factor_verify": ("code",),
}


def _url(world: Any, name: str) -> str:
    kwargs: dict[str, Any] = {}
    pattern_kwargs = {
        "dataset_new": {"city": "springfield"},
        "dataset_inventory": {"city": "springfield", "dataset_id": world.datasets["a"].pk},
        "dataset_mapping": {"city": "springfield", "dataset_id": world.datasets["a"].pk},
        "dataset_columns": {"city": "springfield", "dataset_id": world.datasets["a"].pk},
        "agreement_new": {"city": "springfield"},
        # the draft: ending the active one would delete the covered bytes (retention), which no rollback undoes
        "agreement_terminate": {"city": "springfield", "agreement_id": world.drafts["a"].pk},
        "agreement_sign": {"city": "springfield", "agreement_id": world.drafts["a"].pk},
        "team_invite": {"city": "springfield"},
        "upload": {"city": "springfield"},
    }
    kwargs = pattern_kwargs.get(name, {})
    return reverse(name, kwargs=kwargs)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    name=st.sampled_from(sorted(FORMS)),
    values=st.lists(TEXT, min_size=12, max_size=12),
    with_file=st.booleans(),
    file_name=st.sampled_from(["a.csv", "a.pdf", "a.exe", "", "../x.csv", "a.xlsx"]),
    file_bytes=st.binary(max_size=300),
)
def test_no_form_input_breaks_the_server_or_half_saves(world, name, values, with_file, file_name, file_bytes):
    client = Client(enforce_csrf_checks=True)
    sign_in(client, world.users["admin"])
    client.cookies["csrftoken"] = CSRF_SECRET
    data: dict[str, Any] = dict(zip(FORMS[name], values, strict=False))
    if with_file and file_name:
        data["file" if name == "upload" else "document"] = SimpleUploadedFile(file_name, file_bytes)
    with transaction.atomic():
        before = _state()
        response = client.post(_url(world, name), data, HTTP_X_CSRFTOKEN=CSRF_SECRET)
        assert response.status_code < 500, f"{name} with {data!r}: {response.status_code}"
        if response.status_code != 302:  # refused (the page comes back with messages): nothing stored
            assert _state() == before, f"{name} refused {data!r} but changed stored state"
        transaction.set_rollback(True)
