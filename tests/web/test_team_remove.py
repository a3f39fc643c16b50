"""A senior leader removes a member: the role stops working on that person's next request."""

from __future__ import annotations

from ridp.workspace.models import AuditEntry, Membership
from tests.web.conftest import csrf_post


def test_leader_removes_a_member_who_loses_the_city_at_once(world, as_persona):
    analyst = as_persona("analyst")
    assert analyst.get("/c/springfield/").status_code == 200
    leader = as_persona("leader")
    membership = world.memberships["analyst"]
    page = leader.get("/c/springfield/team/").content.decode()
    assert f"/c/springfield/team/members/{membership.pk}/remove/" in page and "data-confirm=" in page
    response = csrf_post(leader, f"/c/springfield/team/members/{membership.pk}/remove/")
    assert response.status_code == 302 and response["Location"] == "/c/springfield/team/"
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert analyst.get("/c/springfield/").status_code == 404
    assert analyst.get("/c/springfield/agreements/").status_code == 404
    assert AuditEntry.objects.filter(action="permission.revoked", object_id=str(membership.pk)).exists()


def test_leader_cannot_remove_the_coach_but_an_admin_can(world, as_persona):
    coach = world.memberships["coach"]
    leader = as_persona("leader")
    assert f"/members/{coach.pk}/remove/" not in leader.get("/c/springfield/team/").content.decode()
    assert csrf_post(leader, f"/c/springfield/team/members/{coach.pk}/remove/").status_code == 403
    assert Membership.objects.filter(pk=coach.pk).exists()
    assert csrf_post(as_persona("admin"), f"/c/springfield/team/members/{coach.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=coach.pk).exists()


def test_analyst_cannot_remove_anyone_nor_another_citys_member(world, as_persona):
    viewer = world.memberships["viewer"]
    assert csrf_post(as_persona("analyst"), f"/c/springfield/team/members/{viewer.pk}/remove/").status_code == 403
    b_analyst = world.memberships["b_analyst"]
    assert csrf_post(as_persona("leader"), f"/c/springfield/team/members/{b_analyst.pk}/remove/").status_code == 404
    assert Membership.objects.filter(pk__in=[viewer.pk, b_analyst.pk]).count() == 2


def test_removing_without_a_csrf_token_is_refused(world, as_persona):
    viewer = world.memberships["viewer"]
    assert as_persona("leader").post(f"/c/springfield/team/members/{viewer.pk}/remove/").status_code == 403
    assert Membership.objects.filter(pk=viewer.pk).exists()


def test_the_only_senior_leader_cannot_step_down(world, as_persona):
    own = world.memberships["leader"]
    response = csrf_post(as_persona("leader"), f"/c/springfield/team/members/{own.pk}/remove/")
    assert response.status_code == 400 and b"only senior leader" in response.content
    assert Membership.objects.filter(pk=own.pk).exists()
