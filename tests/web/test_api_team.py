"""The team through the API: members, removing a role, invitations (the link shown once, mailed)."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.test import Client

from ridp.workspace import tokens
from ridp.workspace.invitations import token_hash
from ridp.workspace.models import Invitation, Membership


def bearer(world: Any, name: str) -> Client:
    raw = world.tokens.get(name) or tokens.create(world.users[name], f"{name} test")[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_everyone_in_the_city_sees_its_members(world):
    listed = bearer(world, "viewer").get("/api/cities/springfield/members")
    assert listed.status_code == 200
    names = {m["username"] for m in listed.json()}
    assert {"leader", "analyst", "viewer", "coach"} <= names and "b_leader" not in names


def test_leader_invites_and_the_link_is_returned_once_and_mailed(world):
    client = bearer(world, "leader")
    created = client.post(
        "/api/cities/springfield/invitations",
        {"email": "New.Analyst@Springfield.gov", "role": "data_analyst"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["email"] == "new.analyst@springfield.gov" and data["mailed"] is True
    token = data["link"].rstrip("/").rsplit("/", 1)[-1]
    assert Invitation.objects.get(pk=data["id"]).token_sha256 == token_hash(token)
    assert len(mail.outbox) == 1 and data["link"] in mail.outbox[0].body
    listed = client.get("/api/cities/springfield/invitations")
    assert listed.status_code == 200 and token not in listed.content.decode() and "link" not in listed.json()[0]
    assert {i["id"] for i in listed.json()} == {data["id"], world.invitations["a"].pk}
    assert client.delete(f"/api/cities/springfield/invitations/{data['id']}").status_code == 204
    assert Invitation.objects.get(pk=data["id"]).revoked_at is not None
    bad = client.post(
        "/api/cities/springfield/invitations", {"email": "nobody", "role": "viewer"}, content_type="application/json"
    )
    assert bad.status_code == 422
    king = client.post(
        "/api/cities/springfield/invitations", {"email": "a@b.gov", "role": "king"}, content_type="application/json"
    )
    assert king.status_code == 422


def test_leader_removes_a_member(world):
    membership = world.memberships["expert"]
    response = bearer(world, "leader").delete(f"/api/cities/springfield/members/{membership.pk}")
    assert response.status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_others_may_not_manage_the_team(world):
    client = bearer(world, "analyst")
    assert client.get("/api/cities/springfield/invitations").status_code == 403
    body = {"email": "x@y.gov", "role": "viewer"}
    assert client.post("/api/cities/springfield/invitations", body, content_type="application/json").status_code == 403
    url = f"/api/cities/springfield/members/{world.memberships['viewer'].pk}"
    assert client.delete(url).status_code == 403
    assert client.delete(f"/api/cities/springfield/invitations/{world.invitations['a'].pk}").status_code == 403
    assert Membership.objects.filter(pk=world.memberships["viewer"].pk).exists()
    assert len(mail.outbox) == 0


def test_another_citys_team_is_not_found_on_every_operation(world):
    client = bearer(world, "leader")
    b_member = world.memberships["b_analyst"].pk
    b_invite = world.invitations["b"].pk
    assert client.delete(f"/api/cities/springfield/members/{b_member}").status_code == 404
    assert client.delete(f"/api/cities/springfield/invitations/{b_invite}").status_code == 404
    assert client.get("/api/cities/shelbyville/members").status_code == 404
    assert client.get("/api/cities/shelbyville/invitations").status_code == 404
    body = {"email": "x@y.gov", "role": "viewer"}
    assert client.post("/api/cities/shelbyville/invitations", body, content_type="application/json").status_code == 404
    assert client.delete(f"/api/cities/shelbyville/members/{b_member}").status_code == 404
    assert client.delete("/api/cities/springfield/members/777777").status_code == 404
    assert client.delete("/api/cities/springfield/invitations/777777").status_code == 404
    assert Membership.objects.filter(pk=b_member).exists()
    assert Invitation.objects.get(pk=b_invite).revoked_at is None
