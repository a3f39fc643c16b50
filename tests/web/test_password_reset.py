"""Password reset by mail, and where mail goes: files under the workspace by default, SMTP by setting."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from django.core import mail
from django.test import Client

from tests.web.conftest import csrf_post


def test_a_person_resets_their_password_through_the_mailed_link(world):
    client = Client(enforce_csrf_checks=True)
    assert csrf_post(client, "/password-reset/", {"email": "viewer@springfield.gov"}).status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["viewer@springfield.gov"]
    link = re.search(r"https?://[^/]+(/password-reset/[^\s]+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and b"Choose a new password" in form_page.content
    new = "a brand new long passphrase 42"
    done = csrf_post(client, form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302 and done["Location"] == "/password-reset/done/"
    fresh = Client(enforce_csrf_checks=True)
    assert csrf_post(fresh, "/login/", {"username": "viewer", "password": new})["Location"] == "/"
    # The link works once.
    assert b"does not work any more" in Client().get(link, follow=True).content


def test_an_unknown_address_reads_the_same_and_sends_nothing(world):
    response = csrf_post(Client(enforce_csrf_checks=True), "/password-reset/", {"email": "nobody@nowhere.org"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert mail.outbox == []


def _mail_settings(tmp_path, **extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIDP_")}
    env.update({"RIDP_HOME": str(tmp_path), **extra})
    code = "import ridp.settings as s; print(s.EMAIL_BACKEND, getattr(s, 'EMAIL_FILE_PATH', ''), getattr(s, 'EMAIL_HOST', ''), getattr(s, 'EMAIL_PORT', ''), getattr(s, 'EMAIL_USE_SSL', ''))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def test_mail_is_written_to_files_by_default_and_sent_by_smtp_when_set(tmp_path):
    assert _mail_settings(tmp_path).split()[:2] == [
        "django.core.mail.backends.filebased.EmailBackend",
        str(tmp_path / "mail"),
    ]
    smtp = _mail_settings(tmp_path, RIDP_SMTP_URL="smtps://ridp:secret@mail.city.gov:465").split()
    assert smtp == ["django.core.mail.backends.smtp.EmailBackend", "mail.city.gov", "465", "True"]
