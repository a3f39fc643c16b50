"""A senior leader invites someone by e-mail; the link in the mail lets them join in that role."""

from __future__ import annotations

import logging
import re

from django.core import mail
from django.test import Client

from ridp.workspace.models import Invitation, Membership, User
from tests.web.conftest import PASSWORD, csrf_post

LINK = re.compile(r"http://testserver/invitations/([^/\s]+)/")


def test_leader_invites_a_data_analyst_who_joins_by_the_link(world, as_persona, caplog):
    caplog.set_level(logging.DEBUG)
    leader = as_persona("leader")
    page = leader.get("/c/springfield/team/")
    assert page.status_code == 200 and b"Invite someone" in page.content
    assert b'<th scope="row">new-a@springfield.gov</th>' in page.content
    sent = csrf_post(leader, "/c/springfield/team/invite/", {"email": "Dana@Springfield.gov", "role": "data_analyst"})
    assert sent.status_code == 302 and sent["Location"] == "/c/springfield/team/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dana@springfield.gov"] and "Springfield" in message.subject
    match = LINK.search(message.body)
    assert match, message.body
    token = match.group(1)
    after = leader.get("/c/springfield/team/")
    assert b"Invitation sent to dana@springfield.gov" in after.content
    assert token.encode() not in after.content and token not in caplog.text

    newcomer = Client(enforce_csrf_checks=True)
    assert newcomer.get(f"/invitations/{token}/").status_code == 200
    joined = csrf_post(
        newcomer, f"/invitations/{token}/", {"username": "dana", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert joined.status_code == 302
    dana = User.objects.get(username="dana")
    assert dana.email == "dana@springfield.gov"
    assert Membership.objects.filter(user=dana, city=world.springfield, role="data_analyst").exists()
    assert Invitation.objects.get(email="dana@springfield.gov").accepted_by == dana


def test_leader_offers_city_roles_only_and_admin_also_programme_roles(world, as_persona):
    leader_page = as_persona("leader").get("/c/springfield/team/").content
    assert b'value="viewer"' in leader_page and b'value="coach"' not in leader_page
    admin_page = as_persona("admin").get("/c/springfield/team/").content
    assert b'value="coach"' in admin_page and b'value="programme_analyst"' in admin_page
    refused = csrf_post(as_persona("leader"), "/c/springfield/team/invite/", {"email": "c@x.org", "role": "coach"})
    assert refused.status_code == 400 and not Invitation.objects.filter(email="c@x.org").exists()


def test_a_bad_email_is_explained_beside_the_field(world, as_persona):
    response = csrf_post(
        as_persona("leader"), "/c/springfield/team/invite/", {"email": "not-an-address", "role": "viewer"}
    )
    assert response.status_code == 400 and b'id="id_email_error"' in response.content
    assert len(mail.outbox) == 0


def test_analyst_sees_the_team_but_cannot_invite(world, as_persona):
    analyst = as_persona("analyst")
    page = analyst.get("/c/springfield/team/")
    assert page.status_code == 200 and b"leader" in page.content and b"Invite someone" not in page.content
    assert b"new-a@springfield.gov" not in page.content  # open invitations are for team managers
    response = csrf_post(analyst, "/c/springfield/team/invite/", {"email": "x@springfield.gov", "role": "viewer"})
    assert response.status_code == 403 and len(mail.outbox) == 0


def test_leader_withdraws_an_invitation(world, as_persona):
    invitation = world.invitations["a"]
    leader = as_persona("leader")
    assert leader.post(f"/c/springfield/team/invitations/{invitation.pk}/revoke/").status_code == 403  # no CSRF token
    other = world.invitations["b"]
    assert csrf_post(leader, f"/c/springfield/team/invitations/{other.pk}/revoke/").status_code == 404
    assert csrf_post(leader, f"/c/springfield/team/invitations/{invitation.pk}/revoke/").status_code == 302
    invitation.refresh_from_db()
    other.refresh_from_db()
    assert invitation.revoked_at is not None and other.revoked_at is None
    after = leader.get("/c/springfield/team/").content.decode()
    assert "The invitation to new-a@springfield.gov is withdrawn" in after
    assert '<th scope="row">new-a@springfield.gov</th>' not in after
