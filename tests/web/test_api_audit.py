"""The audit log through the API: the programme admin's alone, filtered and paginated."""

from __future__ import annotations

from django.test import Client


def test_admin_reads_the_audit_log_filtered(world):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens['admin']}")
    everything = client.get("/api/audit")
    assert everything.status_code == 200
    data = everything.json()
    assert data["page"] == 1 and data["total"] >= len(data["entries"]) > 0
    agreements = client.get("/api/audit?action=agreement.&city=springfield").json()
    assert agreements["entries"] and all(
        e["action"].startswith("agreement.") and e["city"] == "springfield" for e in agreements["entries"]
    )
    by_leader = client.get("/api/audit?actor=leader").json()["entries"]
    assert by_leader and {e["actor"] for e in by_leader} == {"leader"}
    assert client.get("/api/audit?city=atlantis").status_code == 422
    assert client.get("/api/audit?date_from=2026-13-40").status_code == 422
    assert client.get("/api/audit?page=0").status_code == 422
    assert client.get("/api/audit?page=999").json()["page"] == data["pages"]  # the nearest page


def test_the_audit_log_does_not_exist_for_anyone_else(world):
    for name in ("analyst", "viewer", "b_analyst"):
        response = Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens[name]}").get("/api/audit")
        assert response.status_code == 404 and response.json() == {"detail": "not found"}
