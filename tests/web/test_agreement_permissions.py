"""Who may manage agreements: a data analyst may not; another city's agreements do not exist."""

from __future__ import annotations

from ridp.workspace.models import AuditEntry
from tests.web.conftest import csrf_post


def test_analyst_cannot_manage_agreements(world, as_persona):
    analyst = as_persona("analyst")
    draft = world.drafts["a"]
    base = f"/c/springfield/agreements/{draft.pk}/"
    listing = analyst.get("/c/springfield/agreements/")
    assert listing.status_code == 200 and b"Draft an agreement" not in listing.content
    assert b"Send to legal review" not in analyst.get(base).content
    assert analyst.get("/c/springfield/agreements/new/").status_code == 403
    assert csrf_post(analyst, "/c/springfield/agreements/new/", {"title": "x"}).status_code == 403
    assert csrf_post(analyst, base + "review/").status_code == 403
    assert analyst.get(base + "sign/").status_code == 403
    assert csrf_post(analyst, base + "activate/").status_code == 403
    assert csrf_post(analyst, base + "terminate/", {"reason": "no"}).status_code == 403
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert AuditEntry.objects.filter(action="permission.denied", actor=world.users["analyst"]).count() >= 6


def test_another_citys_agreement_is_not_found_at_every_address(world, as_persona):
    leader = as_persona("leader")
    other = world.agreements["b"].pk
    for method, suffix in [
        ("get", ""),
        ("get", "sign/"),
        ("get", "document/"),
        ("post", "review/"),
        ("post", "sign/"),
        ("post", "activate/"),
        ("post", "terminate/"),
    ]:
        # Under our city's address and under the other city's: not found either way.
        for url in (f"/c/springfield/agreements/{other}/{suffix}", f"/c/shelbyville/agreements/{other}/{suffix}"):
            response = leader.get(url) if method == "get" else csrf_post(leader, url, {"reason": "x"})
            assert response.status_code == 404, url
            assert b"CANARY" not in response.content
    world.agreements["b"].refresh_from_db()
    assert world.agreements["b"].status == "active"
