"""Request middleware: security headers, session limits, the two-factor gate, and ridp errors as pages."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError, RidpError
from ridp.web.security import CONTENT_SECURITY_POLICY, PERMISSIONS_POLICY

__all__ = ["ridp_errors", "security_headers", "session_limits", "two_factor_gate"]

Handler = Callable[[HttpRequest], HttpResponse]
log = logging.getLogger("ridp.web")

LOGIN_AT = "ridp_login_at"
SEEN_AT = "ridp_seen_at"
#: Seconds between two writes of the last-seen stamp: the idle limit holds to within this.
SEEN_AT_STEP = 60
EPOCH = "ridp_epoch"
VERIFIED = "ridp_two_factor"

# Pages a logged-in person reaches before their second factor (and nothing else).
_BEFORE_TWO_FACTOR = ("two_factor_verify", "two_factor_setup", "logout")


def security_headers(get_response: Handler) -> Handler:
    """CSP without inline script or eval, a permissions policy, and no caching of private pages."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if not request.path.startswith(settings.STATIC_URL):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return middleware


def _end_session(request: HttpRequest, why: str) -> HttpResponse:
    logout(request)
    if request.path.startswith("/api/"):
        return HttpResponse(status=401)
    messages.info(request, why)
    target = reverse("login")
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response.headers["HX-Redirect"] = target
        return response
    return HttpResponseRedirect(f"{target}?next={request.path}")


def roles_read_once(get_response: Handler) -> Handler:
    """Each person's roles are read once per request, however many checks the request makes."""
    from ridp.workspace.access import one_reading

    def middleware(request: HttpRequest) -> HttpResponse:
        with one_reading():
            return get_response(request)

    return middleware


def session_limits(get_response: Handler) -> Handler:
    """End a session that idled too long, outlived its absolute limit, or predates 'log out everywhere'."""

    def middleware(request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = time.time()
            session = request.session
            login_at = float(session.get(LOGIN_AT, 0))
            seen_at = float(session.get(SEEN_AT, login_at))
            if not login_at or now - login_at > settings.RIDP_SESSION_MAX_SECONDS:
                return _end_session(request, _("Your session reached its time limit. Please log in again."))
            if now - seen_at > settings.SESSION_COOKIE_AGE:
                return _end_session(request, _("You were logged out after a period without activity."))
            if session.get(EPOCH) != user.session_epoch:
                return _end_session(request, _("You were logged out on every device. Please log in again."))
            if now - seen_at >= SEEN_AT_STEP:
                session[SEEN_AT] = now  # the session is written at most once a minute, not on every request
        return get_response(request)

    return middleware


def two_factor_gate(get_response: Handler) -> Handler:
    """People whose roles reach personal values pass their second factor before anything else."""
    from ridp.web.accounts import two_factor_state

    def middleware(request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.session.get(VERIFIED)
            and not request.path.startswith((settings.STATIC_URL, "/api/"))
        ):
            match = request.resolver_match if hasattr(request, "resolver_match") else None
            name = match.url_name if match else _url_name(request)
            state = two_factor_state(user)
            if state != "not_needed" and name not in _BEFORE_TWO_FACTOR:
                target = "two_factor_verify" if state == "enrolled" else "two_factor_setup"
                return HttpResponseRedirect(reverse(target))
        return get_response(request)

    return middleware


def _url_name(request: HttpRequest) -> str | None:
    from django.urls import Resolver404, resolve

    try:
        return resolve(request.path_info).url_name
    except Resolver404:
        return None


def ridp_errors(get_response: Handler) -> Handler:
    """Turn ridp errors raised by a view into pages: not found 404, denied 403, bad input 400."""

    def middleware(request: HttpRequest) -> HttpResponse:
        return get_response(request)

    def process_exception(request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, RidpError):
            return None
        if isinstance(exc, NotFoundError):
            return render(request, "404.html", {"message": _("We could not find that page.")}, status=404)
        if isinstance(exc, PermissionDeniedError):
            return render(request, "403.html", {"message": str(exc)}, status=403)
        status = 400 if isinstance(exc, (FieldError, ValueError)) else 409
        return render(request, "400.html", {"message": str(exc)}, status=status)

    middleware.process_exception = process_exception  # type: ignore[attr-defined]
    return middleware
