"""The authorisation matrix for the JSON API: every operation of the OpenAPI schema x persona x
own / other city / missing object. Expectations: tests/web/authz.py (by hand, from SECURITY.md)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from tests.web import authz
from tests.web.conftest import WORLD_PLAN, sign_in
from tests.web.test_authorisation import CSRF_SECRET, MISSING


def _operations() -> list[tuple[str, str, str]]:
    from ridp.web.api import api

    schema = api.get_openapi_schema()
    return sorted(
        (op["operationId"], method.upper(), path) for path, ops in schema["paths"].items() for method, op in ops.items()
    )


OPERATIONS = _operations()


def test_every_operation_is_in_the_matrix_and_nothing_else():
    ids = {op for op, _, _ in OPERATIONS}
    assert not ids - set(authz.API), (
        f"API operations without an entry in tests/web/authz.py: {sorted(ids - set(authz.API))}"
    )
    assert not set(authz.API) - ids, f"entries for operations that do not exist: {sorted(set(authz.API) - ids)}"


def _bodies(world: Any) -> dict[str, dict[str, Any]]:
    """A valid request for each writing operation, so the answer is the permission check's, not validation's."""
    today = date.today()
    return {
        "create_dataset": {"json": {"name": "matrix dataset"}},
        "update_dataset": {"json": {"description": "changed by the matrix"}},
        "update_mapping": {"json": {"accept": True}},
        "classify_columns": {"json": {"accept": True}},
        "create_agreement": {
            "json": {
                "title": "Matrix agreement",
                "parties": "A and B",
                "purpose": "testing",
                "datasets": {"requests": []},
                "starts_on": today.isoformat(),
                "expires_on": (today + timedelta(days=30)).isoformat(),
            }
        },
        "terminate_agreement": {"json": {"reason": "the matrix ends it"}},
        "create_invitation": {"json": {"email": "someone@springfield.gov", "role": "viewer"}},
        "create_token": {"json": {"name": "matrix token", "days": 30}},
        "create_project": {"json": {"title": "Matrix", "problem": "p", "why_it_matters": "w", "service_change": "s"}},
        "update_intake": {"json": {"title": "Matrix renamed"}},
        "rate_criterion": {"json": {"criterion": "appetite", "score": 1, "evidence": "matrix evidence"}},
        "set_value_complexity": {"json": {"value": "high", "complexity": "low"}},
        "decide_project": {"json": {"decision": "accept", "reason": "matrix"}},
        "update_charter": {"json": {"fields": {"goals": "matrix goals"}, "note": "matrix"}},
        "sign_charter": {"json": {"kind": "team", "name": "Pat", "role": "analyst", "signed_on": today.isoformat()}},
        "add_project_member": {"json": {"username": "expert", "role": "subject_matter_expert"}},
        "create_meeting": {"json": {"kind": "as_needed", "starts_at": f"{today + timedelta(days=3)}T10:00:00"}},
        "record_meeting": {"json": {"status": "held", "decisions": "Go on", "usefulness": 4}},
        "create_follow_up": {
            "json": {"text": "Send it", "owner": "analyst", "due_on": (today + timedelta(days=7)).isoformat()}
        },
        "update_follow_up": {"json": {"status": "done"}},
        "create_comment": {"json": {"target": "charter", "body": "Matrix comment"}},
        "override_gate": {"json": {"reason": "The matrix overrides this gate to test who may."}},
        "update_cohort_phase": {"json": {"cadence": "as_needed"}},
        "create_cohort": {"json": {"name": "Matrix cohort", "year": 2031}},
        # @@bodies
        # --- metric specs (issue 6) ---
        "save_metrics": {"json": {"yaml": MATRIX_METRIC.replace("matrix_metric", "matrix_saved")}},
        "set_success_metric": {"json": {"name": None}},
        # --- readiness (issue 6) ---
        "run_readiness": {"json": {}},
        "set_readiness_checks": {"json": {"yaml": "checks:\n  - not_null: request_id\n"}},
        # --- analysis (issue 7) ---
        "run_analysis": {"json": {"dataset": "requests", "kind": "service_levels", "by": ["type"]}},
        "set_targets": {"json": {"days": {"pothole": 3}}},
        "set_work_calendar": {"json": {"holidays": ["2025-01-01"]}},
        "create_briefing": {"json": {"title": "Matrix briefing"}},
        "add_finding": {"json": {"run_id": 1, "title": "Matrix finding", "text": "What it shows"}},
        "bless_briefing": {"json": {"note": "Go on"}},
        # --- places (issue 8) ---
        "assign_areas": {"json": {"boundaries": "requests"}},
        # --- pilots (issue 9) ---
        "create_pilot": {"json": {"name": "matrix-two", "title": "Matrix pilot two"}},
        "study_power": {"json": {"history": "requests", "outcome": "request_id", "effects": [1.0], "draws": 100}},
        "randomise_units": {"json": {"units": "requests", "unit": "request_id", "seed": 1}},
        "confirm_randomisation": {"json": {}},
        "save_plan": {"json": {"yaml": json.dumps(WORLD_PLAN)}},
        "freeze_plan": {"json": {}},
        "record_deviation": {"json": {"yaml": json.dumps({**WORLD_PLAN, "alpha": 0.1}), "reason": "the matrix"}},
        "link_outcomes": {"json": {"dataset": "requests"}},
        "evaluate_pilot": {"json": {}},
        "reanalyse_estimate": {"json": {}},
    }


def _multipart(op: str) -> dict[str, Any] | None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    if op == "start_upload":
        return {"file": SimpleUploadedFile("m.csv", b"a,b\n1,2\n", content_type="text/csv"), "name": "matrix upload"}
    if op == "sign_agreement":
        signatories = json.dumps([{"name": "Pat", "role": "mayor", "signed_on": date.today().isoformat()}])
        return {
            "document": SimpleUploadedFile("s.pdf", b"%PDF-1.4\n", content_type="application/pdf"),
            "signatories": signatories,
        }
    return None


# --- metric specs (issue 6) ---
MATRIX_METRIC = """name: matrix_metric
formula: count()
unit: requests
direction: higher_is_better
baseline: {value: null, start: 2025-01-01, end: 2025-03-31}
target: {value: 10, category: uncertainty}
source: requests
refresh: monthly
owner: the matrix
"""


def _metric_named(world: Any, key: str | None) -> str:
    """The name of a metric spec of the own (or other) city's project, made straight in the store once."""
    from ridp.metrics import load_metric
    from ridp.workspace.models import MetricSpecVersion

    spec = load_metric(MATRIX_METRIC)
    if key is not None:
        MetricSpecVersion.objects.get_or_create(
            project=world.projects[key], name=spec.name, number=1,
            defaults={"spec": spec.to_dict(), "yaml": MATRIX_METRIC, "spec_hash": spec.spec_hash(),
                      "created_by": world.users["admin"]},
        )  # fmt: skip
    return spec.name


def _url(world: Any, path: str, scope: str, persona: str) -> str:
    from ridp.workspace import tokens

    key = {"own": "a", "other": "b"}.get(scope)

    def value(name: str) -> str:
        if name == "city":
            return {"own": "springfield", "other": "shelbyville", "missing": "atlantis"}[scope]
        if name == "membership_id":
            return str(
                {"own": world.memberships["expert"].pk, "other": world.memberships["b_analyst"].pk}.get(scope, MISSING)
            )
        if name == "token_id":
            if scope == "missing" or persona == "anon":
                return str(MISSING)
            owner = world.users[persona] if scope == "own" else world.users["b_analyst"]
            return str(tokens.create(owner, "matrix")[0].pk)
        if name == "phase":
            return "scoping" if key else "no-such-phase"
        # --- metric specs (issue 6) ---
        if name == "metric_name":
            return _metric_named(world, key)
        # --- readiness (issue 6) ---
        if name == "run_id":
            return str(world.readiness_runs[key].pk) if key else str(MISSING)
        # --- analysis (issue 7) ---
        if name == "analysis_id":
            return str(world.analysis_runs[key].pk) if key else str(MISSING)
        if name == "briefing_id":
            return str(world.briefings[key].pk) if key else str(MISSING)
        # --- pilots (issue 9) ---
        if name == "pilot":
            return world.pilots[key].name if key else "no-such-pilot"
        if name == "randomisation_id":
            return str(world.randomisations[key].pk) if key else str(MISSING)
        if name == "estimate_id":
            return str(world.estimates[key].pk) if key else str(MISSING)
        objects = {"dataset_id": world.datasets, "upload_id": world.uploads, "agreement_id": world.agreements,
                   "invitation_id": world.invitations, "cohort_id": world.cohorts, "project_id": world.projects,
                   "version_id": world.charters, "sign_off_id": world.sign_offs, "member_id": world.project_members,
                   "meeting_id": world.meetings, "follow_up_id": world.follow_ups,
                   "comment_id": world.comments}[name]  # fmt: skip
        return str(objects[key].pk) if key else str(MISSING)

    return re.sub(r"\{(\w+)\}", lambda m: value(m.group(1)), path)


def _call(world: Any, persona: str, method: str, url: str, op: str) -> Any:
    client = Client(enforce_csrf_checks=True)
    if persona != "anon":
        sign_in(client, world.users[persona])
    client.cookies["csrftoken"] = CSRF_SECRET
    body = _bodies(world).get(op)
    files = _multipart(op)
    with transaction.atomic():
        if files is not None:
            response = client.post(url, files, HTTP_X_CSRFTOKEN=CSRF_SECRET)
        elif body is not None:
            response = client.generic(
                method, url, json.dumps(body["json"]), content_type="application/json", HTTP_X_CSRFTOKEN=CSRF_SECRET
            )
        else:
            response = client.generic(method, url, HTTP_X_CSRFTOKEN=CSRF_SECRET)
        transaction.set_rollback(True)
    return response


def _expected(op: str, persona: str, scope: str, path: str) -> str:
    who = authz.API[op]
    if persona == "anon":
        return "401"
    if scope == "missing":
        return "404"
    if who == authz.ANY:
        return "404" if scope == "other" else "ok"
    if ("{city}" in path or "{cohort_id}" in path) and scope == "other" and persona != "admin":
        return "404"
    if persona in who:  # type: ignore[operator]
        return "ok"
    return "404" if op in authz.API_DENY_AS_404 else "403"


@pytest.mark.parametrize(("op", "method", "path"), OPERATIONS, ids=[o for o, _, _ in OPERATIONS])
def test_operation_answers_each_persona_as_the_role_table_says(world, op, method, path):
    scopes = ("own", "other", "missing") if "{" in path else ("own",)
    wrong = []
    for persona in (*authz.CITY_PERSONAS, "anon"):
        for scope in scopes:
            if scope == "other" and "{city}" not in path and "{token_id}" not in path and "{cohort_id}" not in path:
                continue
            url = _url(world, path, scope, persona)
            response = _call(world, persona, method, url, op)
            expected = _expected(op, persona, scope, path)
            status = response.status_code
            ok = {
                "401": status == 401,
                "403": status == 403,
                "404": status == 404,
                # a 422 of the workspace's own rules ({"field", "msg"}) came after the permission check
                "ok": status < 500
                and status not in (401, 403, 404, 405)
                and (status != 422 or b'"field"' in response.content),
            }[expected]
            if not ok:
                wrong.append(
                    f"{method} {url} as {persona} ({scope}): {status}, expected {expected}: {response.content[:200]!r}"
                )
    assert not wrong, "\n".join(wrong)


def test_personal_tokens_obey_the_same_table(world):
    """The same answers with a token instead of a session (a sample of reading operations)."""
    checks = [
        ("viewer", "/api/cities/springfield/datasets", 200),
        ("viewer", f"/api/cities/springfield/datasets/{world.datasets['a'].pk}/preview", 403),
        ("analyst", f"/api/cities/springfield/datasets/{world.datasets['a'].pk}/preview", 200),
        ("analyst", f"/api/cities/shelbyville/datasets/{world.datasets['b'].pk}/preview", 404),
        ("analyst", "/api/audit", 404),
        ("admin", "/api/audit", 200),
        ("admin", f"/api/cities/shelbyville/datasets/{world.datasets['b'].pk}", 200),
    ]
    for persona, url, expected in checks:
        response = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {world.tokens[persona]}")
        assert response.status_code == expected, f"{url} as {persona}: {response.status_code}"
