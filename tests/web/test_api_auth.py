"""API authentication and the schema: personal tokens, the session (CSRF and second factor), /api/openapi.json."""

from __future__ import annotations

import json

from django.test import Client

from tests.web.conftest import csrf_post

OPERATIONS = {
    "me", "list_cities", "get_city",
    "list_datasets", "create_dataset", "get_dataset", "update_dataset", "list_versions", "preview_dataset",
    "get_mapping", "update_mapping", "list_columns", "classify_columns",
    "start_upload", "get_upload",
    "list_agreements", "create_agreement", "get_agreement", "review_agreement", "sign_agreement",
    "activate_agreement", "terminate_agreement", "get_agreement_document",
    "list_members", "remove_member", "list_invitations", "create_invitation", "revoke_invitation",
    "list_tokens", "create_token", "revoke_token",
    "list_audit_entries",
    # the programme (issue 5)
    "list_projects", "create_project", "get_project", "update_intake",
    "get_scoping", "rate_criterion", "set_value_complexity", "decide_project",
    "get_charter", "update_charter", "list_charter_versions", "get_charter_version", "diff_charter", "sign_charter",
    "list_project_members", "add_project_member", "remove_project_member", "get_team_status",
    "list_meetings", "plan_meetings", "create_meeting", "get_meeting", "record_meeting", "bless_meeting",
    "list_follow_ups", "create_follow_up", "update_follow_up", "list_comments", "create_comment",
    "get_project_calendar",
    "get_gate", "advance_phase", "override_gate", "list_phase_changes",
    "get_cohort_view", "list_cohorts", "get_cohort", "update_cohort_phase", "create_cohort",
    # metric specs and data readiness (issue 6)
    "list_metrics", "save_metrics", "get_metric", "set_success_metric",
    "run_readiness", "get_readiness", "get_readiness_run", "get_readiness_checks", "set_readiness_checks",
    # resident-impact analysis (issue 7)
    "run_analysis", "list_analyses", "get_analysis", "get_targets", "set_targets", "get_work_calendar",
    "set_work_calendar", "compute_baseline", "list_briefings", "create_briefing", "get_briefing", "add_finding",
    "bless_briefing", "get_composite",
    # places and equity (issue 8)
    "assign_areas", "list_area_assignments", "check_boundaries", "get_analysis_map",
    # pilots: design, power, randomisation, plans, experimental estimates, reanalysis (issue 9)
    "list_pilots", "create_pilot", "get_pilot", "study_power", "randomise_units", "get_randomisation",
    "confirm_randomisation", "get_plan", "save_plan", "freeze_plan", "record_deviation", "link_outcomes",
    "evaluate_pilot", "get_estimate", "reanalyse_estimate",
    # quasi-experimental methods and the adoption decision (issue 10)
    "run_did", "run_twfe", "run_callaway_santanna", "run_sun_abraham", "run_its", "run_synth",
    "list_decisions", "record_decision",
}  # fmt: skip


def test_a_personal_token_authenticates(world):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens['analyst']}")
    me = client.get("/api/me")
    assert me.status_code == 200 and me.json()["username"] == "analyst"
    assert [c["slug"] for c in me.json()["cities"]] == ["springfield"]
    assert client.get("/api/cities/springfield").json()["name"] == "Springfield"
    assert client.get("/api/cities/shelbyville").status_code == 404  # another city: not found
    assert client.get("/api/cities/atlantis").status_code == 404
    assert client.get("/api/cities/no%20such").status_code == 422
    assert Client(HTTP_AUTHORIZATION="Bearer ridp_wrong").get("/api/me").status_code == 401
    assert Client().get("/api/cities").status_code == 401


def test_without_any_credentials_a_post_is_401_not_a_csrf_error(world):
    response = Client().post("/api/cities/springfield/datasets", {"name": "x"}, content_type="application/json")
    assert response.status_code == 401
    wrong = Client(HTTP_AUTHORIZATION="Bearer ridp_expired").post(
        "/api/tokens", {"name": "x"}, content_type="application/json"
    )
    assert wrong.status_code == 401


def test_session_post_needs_the_csrf_token(world, as_persona):
    client = as_persona("analyst")
    assert client.get("/api/me").status_code == 200
    body = {"name": "from the browser"}
    refused = client.post("/api/cities/springfield/datasets", body, content_type="application/json")
    assert refused.status_code == 403
    done = csrf_post(client, "/api/cities/springfield/datasets", body, content_type="application/json")
    assert done.status_code == 201, done.content


def test_session_without_the_second_factor_is_401(world, as_persona):
    client = as_persona("analyst", verified=False)
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/cities/springfield/datasets").status_code == 401


def test_openapi_schema_is_valid_and_lists_every_operation(world):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    found = {
        op["operationId"]: (method, path, op) for path, ops in schema["paths"].items() for method, op in ops.items()
    }
    assert set(found) == OPERATIONS
    for operation_id, (method, path, op) in found.items():
        codes = set(op["responses"])
        assert "401" in codes and any(c.startswith("2") for c in codes), operation_id
        if "{" in path:
            assert {"404", "422"} <= codes, operation_id
        if method in ("post", "put", "patch", "delete"):
            assert {"403", "422"} <= codes, operation_id
    from schemathesis.openapi import from_dict

    loaded = from_dict(schema)
    assert len(list(loaded.get_all_operations())) == len(OPERATIONS)
