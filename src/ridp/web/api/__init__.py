"""The JSON API (django-ninja): one OpenAPI schema at ``/api/openapi.json``.

Authentication: the session cookie (CSRF enforced, second factor required where
the person's roles need one) or a personal token (``Authorization: Bearer ridp_...``).
ridp errors become JSON: 404 not found (another city's objects too), 403
denied, 422 a field's bad value, 400 other bad input.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError, RidpError
from ridp.web.middleware import VERIFIED
from ridp.workspace import tokens as workspace_tokens
from ridp.workspace.models import User

__all__ = ["api"]


class SessionAuth(APIKeyCookie):
    """The browser's session; ninja checks the CSRF token for cookie auth."""

    param_name = "sessionid"

    def __init__(self) -> None:
        from django.conf import settings

        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a session cookie there is no session to protect: the answer is 401, not a CSRF 403.
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if isinstance(user, User) and user.is_authenticated and user.is_active and request.session.get(VERIFIED):
            return user
        return None


class TokenAuth(HttpBearer):
    """A personal token for scripts."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = workspace_tokens.authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="ridp",
    version="1",
    description="The Resident Impact Data Project API. Every resource of the web app, for scripts and other tools.",
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
    docs_url=None,  # the interactive docs load script from a CDN; the schema is at /api/openapi.json
)


def _error(request: HttpRequest, status: int, detail: object) -> HttpResponse:
    return api.create_response(request, {"detail": detail}, status=status)


@api.exception_handler(NotFoundError)
def _not_found(request: HttpRequest, exc: NotFoundError) -> HttpResponse:
    return _error(request, 404, "not found")


@api.exception_handler(PermissionDeniedError)
def _denied(request: HttpRequest, exc: PermissionDeniedError) -> HttpResponse:
    return _error(request, 403, str(exc))


@api.exception_handler(FieldError)
def _field(request: HttpRequest, exc: FieldError) -> HttpResponse:
    return _error(request, 422, [{"field": exc.field, "msg": exc.reason}])


@api.exception_handler(RidpError)
def _ridp(request: HttpRequest, exc: RidpError) -> HttpResponse:
    return _error(request, 400 if isinstance(exc, ValueError) else 409, str(exc))


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, 422, exc.errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "log in, or send a personal token: Authorization: Bearer ridp_...")


def _register() -> None:
    from ridp.web.api import analysis, metrics, pilots, places, quasi, readiness, routes

    routes.register(api)
    api.add_router("/", metrics.router)
    api.add_router("/", readiness.router)
    api.add_router("/", analysis.router)
    api.add_router("/", places.router)
    api.add_router("/", pilots.router)
    api.add_router("/", quasi.router)


_register()
