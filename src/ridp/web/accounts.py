"""Logging in: passwords, the second factor (TOTP), throttling, session start and 'log out everywhere'.

Throttling counts failures per person and per address in a sliding 15-minute
window (stored, so every server process sees the same count). Messages never
say whether a username exists.
"""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from typing import Literal

import pyotp
import segno
from django.conf import settings
from django.contrib.auth import authenticate, login
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone as django_timezone

from ridp.web.middleware import EPOCH, LOGIN_AT, SEEN_AT, VERIFIED
from ridp.workspace import audit
from ridp.workspace.access import needs_two_factor
from ridp.workspace.models import LoginAttempt, TotpDevice, User

__all__ = [
    "check_password",
    "client_ip",
    "confirm_device",
    "logout_everywhere",
    "paused_for",
    "pending_secret",
    "qr_data_uri",
    "start_session",
    "two_factor_state",
    "verify_code",
]

ISSUER = "ridp"
# The address limit is looser: a city hall's staff often share one address.
ADDRESS_FACTOR = 4


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


def paused_for(username: str, ip: str) -> int:
    """Seconds until ``username`` (or this address) may try again; 0 when they may now."""
    window = timedelta(seconds=settings.RIDP_LOGIN_WINDOW_SECONDS)
    since = django_timezone.now() - window
    limit = settings.RIDP_LOGIN_ATTEMPTS
    failures = LoginAttempt.objects.filter(at__gte=since, succeeded=False)
    by_person = failures.filter(username=username.lower()).order_by("-at")
    by_address = failures.filter(ip=ip).order_by("-at") if ip else failures.none()
    for qs, most in ((by_person, limit), (by_address, limit * ADDRESS_FACTOR)):
        recent = list(qs.values_list("at", flat=True)[:most])
        if len(recent) >= most:
            oldest = recent[-1]
            return max(1, int((oldest + window - django_timezone.now()).total_seconds()))
    return 0


def _attempt(username: str, ip: str, kind: str, ok: bool) -> None:
    LoginAttempt.objects.create(username=username.lower()[:150], ip=ip, kind=kind, succeeded=ok)


def check_password(request: HttpRequest, username: str, password: str) -> User | None:
    """The person if the password is right (and they are active and not paused); every outcome is logged."""
    ip = client_ip(request)
    user = authenticate(request, username=username, password=password)
    ok = isinstance(user, User)
    _attempt(username, ip, "password", ok)
    if not ok:
        known = User.objects.filter(username=username).first()
        audit.record("auth.login_failed", actor=known, ip=ip, reason="password")
        return None
    assert isinstance(user, User)
    return user


def two_factor_state(user: User) -> Literal["not_needed", "enrolled", "setup_required"]:
    """Whether ``user`` must pass a second factor, and whether they have one set up."""
    device = TotpDevice.objects.filter(user=user).first()
    if device is not None and device.confirmed_at is not None:
        return "enrolled"
    return "setup_required" if needs_two_factor(user) else "not_needed"


def start_session(request: HttpRequest, user: User) -> None:
    """Log in (Django rotates the session key) and stamp the session's limits and epoch."""
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    now = time.time()
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now
    request.session[EPOCH] = user.session_epoch
    state = two_factor_state(user)
    request.session[VERIFIED] = state == "not_needed"
    audit.record("auth.login", actor=user, ip=client_ip(request), two_factor=state)


def verify_code(request: HttpRequest, user: User, code: str) -> bool:
    """Check a 6-digit code of a confirmed device; a code is good once, within ±30 s."""
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    ok = device is not None and _matches(device, code)
    _attempt(user.username, client_ip(request), "totp", ok)
    if ok:
        request.session.cycle_key()
        request.session[VERIFIED] = True
        audit.record("auth.two_factor_passed", actor=user, ip=client_ip(request))
    else:
        audit.record("auth.login_failed", actor=user, ip=client_ip(request), reason="two_factor")
    return ok


def _matches(device: TotpDevice, code: str) -> bool:
    """A code of this device, never one already used (a replayed code fails even within its 30 s)."""
    step = _code_matches(device.secret, code)
    if step is None or step <= device.last_used_step:
        return False
    updated = TotpDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(last_used_step=step)
    return updated == 1


PENDING_SECRET = "ridp_totp_pending"  # noqa: S105 (a session key's name)


def pending_secret(request: HttpRequest) -> str:
    """The secret being set up, kept in the session (not stored until a first code matches: a GET writes nothing)."""
    secret = request.session.get(PENDING_SECRET)
    if not secret:
        secret = pyotp.random_base32()
        request.session[PENDING_SECRET] = secret
    return str(secret)


def _code_matches(secret: str, code: str) -> int | None:
    """The time step at which ``code`` is valid for ``secret`` (±30 s), or None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time())
    for offset in (-1, 0, 1):
        step = now // totp.interval + offset
        if pyotp.utils.strings_equal(totp.at(step * totp.interval), code):
            return step
    return None


def confirm_device(request: HttpRequest, user: User, code: str) -> bool:
    """Store the authenticator once its first code matches; the session is then verified."""
    secret = str(request.session.get(PENDING_SECRET, ""))
    step = _code_matches(secret, code) if secret else None
    ok = step is not None
    _attempt(user.username, client_ip(request), "totp", ok)
    if step is None:
        audit.record("auth.login_failed", actor=user, ip=client_ip(request), reason="two_factor_setup")
        return False
    with transaction.atomic():
        TotpDevice.objects.filter(user=user, confirmed_at=None).delete()
        TotpDevice.objects.create(user=user, secret=secret, confirmed_at=django_timezone.now(), last_used_step=step)
    request.session.pop(PENDING_SECRET, None)
    request.session.cycle_key()
    request.session[VERIFIED] = True
    audit.record("auth.two_factor_enrolled", actor=user, ip=client_ip(request))
    return True


def provisioning_uri(username: str, secret: str) -> str:
    return pyotp.TOTP(secret, issuer=ISSUER).provisioning_uri(name=username)


def qr_data_uri(username: str, secret: str) -> str:
    """The otpauth:// link as an SVG QR code in a data: URI (allowed by the CSP; nothing fetched)."""
    svg = segno.make(provisioning_uri(username, secret), error="m").svg_inline(scale=5, dark="#1b2733", light="#ffffff")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def logout_everywhere(user: User) -> None:
    """End every session of ``user`` on every device, this one included."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    audit.record("auth.logout_everywhere", actor=user)
