"""The agreements list: status, dates, datasets covered, and a warning for agreements ending soon."""

from __future__ import annotations


def test_list_shows_status_coverage_and_expiry_warning(world, as_persona):
    page = as_persona("viewer").get("/c/springfield/agreements/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Requests sharing" in html and "Requests sharing (renewal)" in html
    assert 'badge badge-ok">active' in html and '<span class="badge">draft' in html
    assert "requests" in html
    assert "ends on" in html  # the active one ends within 30 days
    assert "CANARY" not in html
    assert "Draft an agreement" not in html
