"""The programme admin reads the audit log: newest first, filtered, paginated; for anyone else it does not exist."""

from __future__ import annotations

from datetime import date, timedelta

from ridp.workspace import audit
from ridp.workspace.models import AuditEntry


def test_admin_sees_entries_newest_first(world, as_persona):
    audit.record("test.latest", actor=world.users["leader"], city=world.springfield, rows=3)
    page = as_persona("admin").get("/audit/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("test.latest") < html.index("workspace.initialised")
    assert "rows=3" in html and '<th scope="col">' in html
    assert '<label for="id_action">' in html and '<label for="id_date_from">' in html


def test_filters_narrow_the_entries(world, as_persona):
    admin = as_persona("admin")
    by_action = admin.get("/audit/", {"action": "agreement."}).content.decode()
    assert "agreement.status_changed" in by_action and "workspace.initialised" not in by_action
    by_city = admin.get("/audit/", {"city": "shelbyville", "action": "agreement."}).content.decode()
    expected = AuditEntry.objects.filter(city=world.shelbyville, action__startswith="agreement.").count()
    assert f"{expected} entries" in by_city
    by_actor = admin.get("/audit/", {"actor": "b_leader"}).content.decode()
    assert "b_leader" in by_actor and ">leader<" not in by_actor
    today = date.today()
    in_range = admin.get("/audit/", {"date_from": today.isoformat(), "date_to": today.isoformat()})
    assert in_range.status_code == 200 and "workspace.initialised" in in_range.content.decode()
    future = admin.get("/audit/", {"date_from": (today + timedelta(days=1)).isoformat()})
    assert b"No entries match" in future.content


def test_bad_filter_values_are_explained_not_a_crash(world, as_persona):
    admin = as_persona("admin")
    bad_date = admin.get("/audit/", {"date_from": "yesterday"})
    assert bad_date.status_code == 400 and b'id="id_date_from_error"' in bad_date.content
    assert b"is not a date" in bad_date.content
    backwards = admin.get("/audit/", {"date_from": "2025-02-01", "date_to": "2025-01-01"})
    assert backwards.status_code == 400 and b'id="id_date_to_error"' in backwards.content
    unknown = admin.get("/audit/", {"city": "atlantis"})
    assert unknown.status_code == 400 and b"no city" in unknown.content
    assert admin.get("/audit/", {"page": "many"}).status_code == 200


def test_audit_log_pages_by_fifty(world, as_persona):
    for n in range(60):
        audit.record("test.bulk", actor=world.users["admin"], n=n)
    admin = as_persona("admin")
    first = admin.get("/audit/", {"action": "test.bulk"}).content.decode()
    assert first.count("<code>test.bulk</code>") == 50 and "n=59" in first and "page 1 of 2" in first
    assert "action=test.bulk&amp;page=2" in first
    second = admin.get("/audit/", {"action": "test.bulk", "page": "2"}).content.decode()
    assert second.count("<code>test.bulk</code>") == 10 and "n=0<" in second


def test_the_audit_log_does_not_exist_for_anyone_else(world, as_persona):
    for persona in ("analyst", "leader", "coach"):
        client = as_persona(persona)
        assert client.get("/audit/").status_code == 404
        assert client.get("/audit/", {"date_from": "nonsense"}).status_code == 404
        assert b"/audit/" not in client.get("/").content


def test_an_attempt_on_another_city_is_audited_and_answered_as_missing(world, as_persona):
    from ridp.workspace.models import AuditEntry

    response = as_persona("analyst").get(f"/c/shelbyville/data/{world.datasets['b'].pk}/")
    assert response.status_code == 404
    entry = AuditEntry.objects.filter(action="permission.denied", actor=world.users["analyst"]).last()
    assert entry is not None and entry.city == world.shelbyville and entry.detail["action_tried"] == "city.read"
