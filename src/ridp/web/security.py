"""The web app's security policy: the secret key it needs and the headers it sends."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ridp.config import secret_key_problem
from ridp.errors import SettingError

__all__ = ["CONTENT_SECURITY_POLICY", "PERMISSIONS_POLICY", "require_secret_key"]

#: No inline script, no eval, nothing from another origin. htmx runs with allowEval=false
#: and its indicator styles off (see base.html); QR codes are data: images.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def require_secret_key() -> None:
    """Refuse to serve with an empty, default or weak secret key."""
    try:
        key = str(settings.SECRET_KEY or "")
    except ImproperlyConfigured:  # Django refuses to hand out an empty key
        key = ""
    problem = secret_key_problem(key)
    if problem:
        raise SettingError(
            "RIDP_SECRET_KEY",
            "(hidden)",
            f"a strong random key before the web app serves: {problem}; `ridp init` writes one to RIDP_HOME/secret.key",
        )
