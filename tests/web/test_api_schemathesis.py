"""The API against its own OpenAPI schema (schemathesis, in process): no server error, only declared status codes.

For each role, through that person's personal token, every operation gets
generated requests, valid and invalid, half of them aimed at the world's real
objects (Springfield, its dataset, agreements, members...). Each request runs in
a savepoint that is rolled back, so every one meets the same world.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from ridp.workspace import tokens
from ridp.workspace.models import ApiToken, Upload

CHECKS = [not_a_server_error, status_code_conformance]
EXAMPLES = 10  # per operation and role: 72 operations x 4 roles, on SQLite and again on PostgreSQL


@pytest.fixture
def wsgi_app(settings: Any) -> Iterator[Any]:
    """Django's WSGI app, sharing this test's database connection (and its transaction)."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    # As Django's test client does: a request must not close the connection the test's transaction lives in.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield closing(get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def closing(app: Any) -> Any:
    """The app, its answer read whole and then closed, as a WSGI server does (schemathesis reads but never closes
    it; Django closes the request's uploaded files on close)."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        answer = app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            answer.close()

    return wsgi


def known_ids(world: Any, role: str) -> list[dict[str, Any]]:
    """Path parameters naming the world's real objects: the draft agreement, then the active one."""
    upload = Upload.objects.create(
        city=world.springfield,
        dataset_name="requests",
        source_name="a.csv",
        staged="x",
        created_by=world.users["analyst"],
    )
    ids = {
        "city": "springfield",
        "dataset_id": world.datasets["a"].pk,
        "agreement_id": world.drafts["a"].pk,
        "membership_id": world.memberships["expert"].pk,
        "invitation_id": world.invitations["a"].pk,
        "upload_id": upload.pk,
        "token_id": ApiToken.objects.filter(user=world.users[role]).values_list("pk", flat=True).first(),
        # the programme
        "project_id": world.projects["a"].pk,
        "version_id": world.charters["a"].pk,
        "sign_off_id": world.sign_offs["a"].pk,
        "member_id": world.project_members["a"].pk,
        "meeting_id": world.meetings["a"].pk,
        "follow_up_id": world.follow_ups["a"].pk,
        "comment_id": world.comments["a"].pk,
        "cohort_id": world.cohorts["a"].pk,
        "phase": "analysis",
        "run_id": world.readiness_runs["a"].pk,  # --- readiness (issue 6) ---
        # --- pilots (issue 9) ---
        "pilot": world.pilots["a"].name,
        "randomisation_id": world.randomisations["a"].pk,
        "estimate_id": world.estimates["a"].pk,
    }
    return [ids, {**ids, "agreement_id": world.agreements["a"].pk}]


def raw_token(world: Any, role: str) -> str:
    return world.tokens.get(role) or tokens.create(world.users[role], f"{role} schemathesis")[1]


@pytest.mark.slow
@pytest.mark.parametrize("role", ["admin", "leader", "analyst", "viewer"])
def test_every_operation_answers_as_declared(world, wsgi_app, role, home):
    # The database is rolled back after each request; the store's files are not. Terminating an agreement with no
    # retention period left deletes the bytes of the versions it covered (agreements.enforce) and tombstones them;
    # the rollback brings the version back without its tombstone, so its bytes are put back as they were, and
    # every request meets the same world. (Outside a rollback a tombstoned version is a clear 404.)
    files = {path: path.read_bytes() for path in home.rglob("*") if path.is_file() and path.suffix == ".parquet"}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app)
    headers = {"Authorization": f"Bearer {raw_token(world, role)}"}
    variants = known_ids(world, role)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:
        strategies = [operation.as_strategy(mode) for mode in GenerationMode]
        for ids in variants:
            fixed = {name: value for name, value in ids.items() if "{" + name + "}" in operation.path}
            strategies += (
                [operation.as_strategy(mode, path_parameters=fixed) for mode in GenerationMode] if fixed else []
            )
        strategy = st.one_of(strategies)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def call(case: schemathesis.Case) -> None:
            try:
                with transaction.atomic():
                    case.call_and_validate(headers=headers, checks=CHECKS)
                    transaction.set_rollback(True)
            finally:
                for path, data in files.items():
                    if not path.exists():
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_bytes(data)

        call()
