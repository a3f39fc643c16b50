"""Hardening: deploy checks, the secret key, security headers, error pages without internals."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import path

from ridp.web.security import CONTENT_SECURITY_POLICY
from tests.web.conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIDP_") and k != "DATABASE_URL"}
    env.update({"RIDP_HOME": str(tmp_path), "DJANGO_SETTINGS_MODULE": "ridp.settings", **extra})
    return env


def test_production_settings_pass_check_deploy(tmp_path):
    env = _env(
        tmp_path, RIDP_SECURE="1", RIDP_SECRET_KEY=secrets.token_urlsafe(64), RIDP_ALLOWED_HOSTS="ridp.example.org"
    )
    cmd = [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_would_fail_without_secure_mode(tmp_path):
    """The check above can fail: without RIDP_SECURE the deploy warnings appear."""
    env = _env(tmp_path, RIDP_SECRET_KEY=secrets.token_urlsafe(64))
    cmd = [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0 and "SECURE_HSTS_SECONDS" in result.stdout + result.stderr


@pytest.mark.parametrize("key", ["changeme", "django-insecure-" + "a1" * 30, "short-key", "x" * 80])
def test_a_weak_or_default_secret_key_stops_the_app(tmp_path, key):
    code = "import ridp.settings"
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path, RIDP_SECRET_KEY=key), capture_output=True, text=True
    )
    assert result.returncode != 0 and "RIDP_SECRET_KEY" in result.stderr
    assert key not in result.stderr  # the key itself is never printed


def test_the_web_app_refuses_to_start_without_a_key(tmp_path):
    code = "import ridp.web.wsgi"
    result = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True)
    assert result.returncode != 0 and "RIDP_SECRET_KEY" in result.stderr and "empty" in result.stderr


def test_the_workspace_key_lets_it_start(tmp_path):
    init = subprocess.run(
        [sys.executable, "-m", "ridp.cli", "init", "--admin", "admin"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert init.returncode == 0, init.stderr
    key = tmp_path / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_text().strip()) >= 50
    result = subprocess.run(
        [sys.executable, "-c", "import ridp.web.wsgi"], env=_env(tmp_path), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_security_headers_on_every_page(world):
    for client, url in ((Client(), "/login/"), (sign_in(Client(), world.users["analyst"]), "/c/springfield/")):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "'unsafe-eval'" not in CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cache-Control"] == "no-store"


def test_hsts_and_https_redirect_in_secure_mode(world):
    with override_settings(
        SECURE_HSTS_SECONDS=31_536_000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True, SECURE_SSL_REDIRECT=True
    ):
        plain = Client().get("/login/")
        assert plain.status_code == 301 and plain["Location"].startswith("https://")
        secure = Client().get("/login/", secure=True)
        assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_pages_carry_no_inline_script_or_style(world):
    client = sign_in(Client(), world.users["analyst"])
    for url in ("/", "/c/springfield/", "/account/", "/login/"):
        html = client.get(url).content.decode()
        assert "<script>" not in html and "<script >" not in html
        assert " style=" not in html and " onclick=" not in html


def _explode(request):
    raise RuntimeError("SELECT secret_column FROM workspace_user WHERE password = 'x' /work/main/src")


urlpatterns = [path("explode/", _explode)]


def test_a_server_error_page_shows_no_traceback_sql_or_path(world, settings):
    from ridp.web import urls as app_urls

    settings.ROOT_URLCONF = __name__
    globals()["handler500"] = app_urls.handler500
    response = Client(raise_request_exception=False).get("/explode/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in body
    for leak in ("SELECT", "Traceback", "/work/", "secret_column", "RuntimeError"):
        assert leak not in body


def test_not_found_page_is_plain(world):
    response = sign_in(Client(), world.users["analyst"]).get("/no/such/page/")
    assert response.status_code == 404 and b"We could not find that page" in response.content


def test_htmx_runs_without_eval(world):
    html = sign_in(Client(), world.users["analyst"]).get("/").content.decode()
    assert '"allowEval": false' in html and '"includeIndicatorStyles": false' in html
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert "https://" not in html.split("<body")[0]  # nothing from a CDN in the head
