"""Logging in: password, second factor, throttling, rotation, limits, logout everywhere, removal."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from ridp.workspace.models import AuditEntry, LoginAttempt, Membership, TotpDevice
from tests.web.conftest import PASSWORD, code_for, csrf_post, sign_in


def login(client: Client, username: str, password: str = PASSWORD):
    return csrf_post(client, "/login/", {"username": username, "password": password})


def test_analyst_logs_in_with_password_then_code(world):
    client = Client(enforce_csrf_checks=True)
    first = login(client, "analyst")
    assert first.status_code == 302 and first["Location"] == "/login/two-factor/"
    # Before the second factor, nothing else opens.
    assert client.get("/c/springfield/").status_code == 302
    assert client.get("/api/me").status_code == 401
    done = csrf_post(client, "/login/two-factor/", {"code": code_for("analyst")})
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.get("/c/springfield/").status_code == 200
    actions = list(AuditEntry.objects.filter(actor=world.users["analyst"]).values_list("action", flat=True))
    assert "auth.login" in actions and "auth.two_factor_passed" in actions


def test_session_key_rotates_at_login(world):
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    client.session.save()
    before = client.session.session_key
    login(client, "viewer")
    assert client.session.session_key != before


def test_viewer_needs_no_second_factor(world):
    client = Client(enforce_csrf_checks=True)
    response = login(client, "viewer")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/c/springfield/").status_code == 200


def test_wrong_code_is_refused_and_a_code_works_once(world):
    client = Client(enforce_csrf_checks=True)
    login(client, "leader")
    wrong = csrf_post(client, "/login/two-factor/", {"code": "000000"})
    assert wrong.status_code == 200 and b"not right" in wrong.content
    code = code_for("leader")
    assert csrf_post(client, "/login/two-factor/", {"code": code}).status_code == 302
    other = Client(enforce_csrf_checks=True)
    login(other, "leader")
    assert csrf_post(other, "/login/two-factor/", {"code": code}).status_code == 200  # replayed code refused


def test_first_login_without_authenticator_sets_one_up(world):
    TotpDevice.objects.filter(user=world.users["expert"]).delete()
    client = Client(enforce_csrf_checks=True)
    assert login(client, "expert")["Location"] == "/account/two-factor/"
    page = client.get("/account/two-factor/")
    assert page.status_code == 200 and b"data:image/svg+xml;base64," in page.content
    import pyotp

    assert not TotpDevice.objects.filter(user=world.users["expert"]).exists()  # a GET stores nothing
    secret = client.session["ridp_totp_pending"]
    assert secret.encode() in page.content
    done = csrf_post(client, "/account/two-factor/", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302
    assert TotpDevice.objects.get(user=world.users["expert"]).confirmed_at is not None


def test_failed_logins_pause_login_for_that_person(world, settings):
    settings.RIDP_LOGIN_ATTEMPTS = 3
    client = Client(enforce_csrf_checks=True)
    for _ in range(3):
        assert b"do not match" in login(client, "analyst", "wrong password!").content
    paused = login(client, "analyst")  # even the right password waits
    assert b"Too many failed attempts" in paused.content
    assert "_auth_user_id" not in client.session
    assert LoginAttempt.objects.filter(username="analyst", succeeded=False).count() == 3
    assert AuditEntry.objects.filter(action="auth.login_failed").count() == 3
    # Someone else is not paused.
    assert login(Client(enforce_csrf_checks=True), "viewer").status_code == 302


def test_unknown_and_wrong_password_read_the_same(world):
    a = login(Client(enforce_csrf_checks=True), "nobody-here", "whatever password")
    b = login(Client(enforce_csrf_checks=True), "analyst", "whatever password")
    assert a.status_code == b.status_code == 200
    assert b"do not match" in a.content and b"do not match" in b.content


def test_idle_session_ends(world, settings):
    from ridp.web.middleware import SEEN_AT

    client = sign_in(Client(), world.users["analyst"])
    session = client.session
    session[SEEN_AT] = time.time() - settings.SESSION_COOKIE_AGE - 5
    session.save()
    response = client.get("/c/springfield/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/c/springfield/").status_code == 302


def test_activity_keeps_a_session_alive_with_at_most_one_write_a_minute(world, settings):
    from django.contrib.sessions.models import Session

    from ridp.web.middleware import SEEN_AT, SEEN_AT_STEP

    client = sign_in(Client(), world.users["analyst"])
    key = client.session.session_key

    def seen() -> float:
        return float(Session.objects.get(session_key=key).get_decoded()[SEEN_AT])

    first = seen()
    assert client.get("/c/springfield/").status_code == 200
    assert seen() == first  # a request within the step writes nothing
    session = client.session
    session[SEEN_AT] = time.time() - settings.SESSION_COOKIE_AGE + 30  # idle for almost the whole limit
    session.save()
    assert client.get("/c/springfield/").status_code == 200  # still within it: activity renews the stamp
    assert time.time() - seen() < SEEN_AT_STEP
    assert client.get("/c/springfield/").status_code == 200


def test_session_ends_at_its_absolute_limit_however_active(world, settings):
    from ridp.web.middleware import LOGIN_AT

    client = sign_in(Client(), world.users["analyst"])
    session = client.session
    session[LOGIN_AT] = time.time() - settings.RIDP_SESSION_MAX_SECONDS - 5
    session.save()
    assert client.get("/c/springfield/").status_code == 302


def test_logout_everywhere_ends_other_sessions(world):
    laptop = sign_in(Client(enforce_csrf_checks=True), world.users["analyst"])
    tablet = sign_in(Client(enforce_csrf_checks=True), world.users["analyst"])
    assert tablet.get("/c/springfield/").status_code == 200
    assert csrf_post(laptop, "/account/logout-everywhere/").status_code == 302
    assert tablet.get("/c/springfield/").status_code == 302
    assert laptop.get("/c/springfield/").status_code == 302


def test_removed_member_loses_the_city_on_the_next_request(world):
    client = sign_in(Client(), world.users["analyst"])
    assert client.get("/c/springfield/").status_code == 200
    Membership.objects.filter(user=world.users["analyst"], city=world.springfield).delete()
    assert client.get("/c/springfield/").status_code == 404


def test_disabled_person_is_logged_out_on_the_next_request(world):
    client = sign_in(Client(), world.users["analyst"])
    assert client.get("/c/springfield/").status_code == 200
    user = world.users["analyst"]
    user.is_active = False
    user.save()
    assert client.get("/c/springfield/").status_code == 302
    assert client.get("/api/me").status_code == 401


def test_logout_is_a_post(world):
    client = sign_in(Client(enforce_csrf_checks=True), world.users["viewer"])
    assert client.get("/logout/").status_code == 405
    assert csrf_post(client, "/logout/").status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_login_never_redirects_off_site(world, target):
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/login/", {"username": "viewer", "password": PASSWORD, "next": target}, HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 302 and response["Location"] == "/"
