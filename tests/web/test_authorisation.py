"""The authorisation matrix: every web route x every persona x own / other city / missing object x method.

Expectations come from tests/web/authz.py, written by hand from SECURITY.md's
role table. Every request runs in a savepoint that is rolled back, so one
persona's allowed POST does not change what the next one sees. A route that is
not in the table fails the suite.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.web import authz
from tests.web.conftest import sign_in

MISSING = 987_654


def _named_routes(patterns: list[Any] | None = None, prefix: str = "", route: str = "") -> dict[str, str]:
    """Every named route of the web app (the API is covered by its OpenAPI schema)."""
    found: dict[str, str] = {}
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "api":
                continue
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            found.update(_named_routes(entry.url_patterns, namespace, route + str(entry.pattern)))
        elif isinstance(entry, URLPattern) and entry.name:
            found[prefix + entry.name] = route + str(entry.pattern)
    return found


ROUTES = _named_routes()
WEB_ROUTES = sorted(name for name in ROUTES if not name.startswith(authz.ADMIN_PREFIX))
ADMIN_ROUTES = sorted(name for name in ROUTES if name.startswith(authz.ADMIN_PREFIX))


def test_every_route_is_in_the_matrix_and_nothing_else():
    missing = sorted(set(WEB_ROUTES) - set(authz.WEB))
    stale = sorted(set(authz.WEB) - set(WEB_ROUTES))
    assert not missing, f"routes without an entry in tests/web/authz.py: {missing}"
    assert not stale, f"entries in tests/web/authz.py for routes that do not exist: {stale}"


def _kwargs(world: Any, name: str, scope: str, persona: str) -> dict[str, Any] | None:
    """URL arguments naming an object of our city (own), the other city (other), or nothing (missing)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from ridp.workspace import tokens

    key = {"own": "a", "other": "b"}.get(scope)
    pattern = ROUTES[name]
    kwargs: dict[str, Any] = {}
    if "<slug:city>" in pattern:
        kwargs["city"] = {"own": "springfield", "other": "shelbyville", "missing": "atlantis"}[scope]

    def pick(objects: dict[str, Any]) -> int:
        return objects[key].pk if key else MISSING

    for arg, objects in (
        ("dataset_id", world.datasets),
        ("upload_id", world.uploads),
        ("agreement_id", world.agreements),
        ("invitation_id", world.invitations),
        ("cohort_id", world.cohorts),
        ("project_id", world.projects),
        ("version_id", world.charters),
        ("sign_off_id", world.sign_offs),
        ("member_id", world.project_members),
        ("meeting_id", world.meetings),
        ("follow_up_id", world.follow_ups),
        ("comment_id", world.comments),
        ("analysis_id", world.analysis_runs),  # --- analysis (issue 7) ---
        ("briefing_id", world.briefings),
        ("randomisation_id", world.randomisations),  # --- pilots (issue 9) ---
        ("estimate_id", world.estimates),
    ):
        if f"<int:{arg}>" in pattern:
            kwargs[arg] = pick(objects)
    if "<str:fmt>" in pattern:
        kwargs["fmt"] = "csv"
    if "<slug:pilot>" in pattern:  # --- pilots (issue 9) ---
        kwargs["pilot"] = world.pilots[key].name if key else "no-such-pilot"
    if "<slug:phase>" in pattern:
        kwargs["phase"] = "scoping" if key else "no-such-phase"
    if "<int:membership_id>" in pattern:
        kwargs["membership_id"] = {
            "own": world.memberships["expert"].pk,
            "other": world.memberships["b_analyst"].pk,
        }.get(scope, MISSING)
    if "<int:token_id>" in pattern:
        owner = world.users.get(persona) if scope == "own" else world.users["b_analyst"]
        if scope == "missing" or owner is None:
            kwargs["token_id"] = MISSING
        else:
            kwargs["token_id"] = tokens.create(owner, "matrix")[0].pk
    if "<str:token>" in pattern:
        kwargs["token"] = world.invitation_tokens[key] if key else "no-such-invitation"
    if "<uidb64>" in pattern:
        user = world.users["analyst"]
        kwargs["uidb64"] = urlsafe_base64_encode(force_bytes(user.pk)) if key else "bm9ib2R5"
        kwargs["token"] = default_token_generator.make_token(user) if key else "no-such-token"
    return kwargs


def _client(world: Any, persona: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    if persona != "anon":
        sign_in(client, world.users[persona])
    return client


CSRF_SECRET = "m" * 32  # a CSRF cookie as a page would have set it, and the matching header


def _request(client: Client, method: str, url: str) -> Any:
    client.cookies["csrftoken"] = CSRF_SECRET
    with transaction.atomic():
        response = client.generic(method, url, HTTP_X_CSRFTOKEN=CSRF_SECRET) if method != "GET" else client.get(url)
        transaction.set_rollback(True)
    return response


def _to_login(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/login/")


def _succeeded(response: Any) -> bool:
    """Not refused: a page, a redirect elsewhere than the login page, or a form sent back with a message."""
    return response.status_code < 500 and response.status_code not in (401, 403, 404, 405) and not _to_login(response)


def _expected(name: str, method: str, persona: str, scope: str, city_route: bool) -> str:
    who = authz.WEB[name][method]
    if who == authz.PUBLIC:
        return "any"
    if persona == "anon":
        return "login"
    if scope == "missing" and ("<" in ROUTES[name]):
        return "404"
    if who == authz.ANY:
        return "404" if scope == "other" else "ok"
    if (city_route or "<int:cohort_id>" in ROUTES[name]) and scope == "other" and persona != "admin":
        return "404"
    if persona in who:  # type: ignore[operator]
        return "ok"
    return "404" if name in authz.DENY_AS_404 else "403"


@pytest.mark.parametrize("name", WEB_ROUTES)
def test_route_answers_each_persona_as_the_role_table_says(world, name):
    if name not in authz.WEB:
        pytest.fail(f"{name} has no entry in tests/web/authz.py")
    city_route = "<slug:city>" in ROUTES[name]
    has_object = "<" in ROUTES[name]
    scopes = ("own", "other", "missing") if has_object else ("own",)
    wrong: list[str] = []
    for method in authz.WEB[name]:
        for persona in (*authz.CITY_PERSONAS, "anon"):
            for scope in scopes:
                if (
                    scope == "other"
                    and not city_route
                    and "<int:token_id>" not in ROUTES[name]
                    and "<str:token>" not in ROUTES[name]
                    and "<int:cohort_id>" not in ROUTES[name]
                ):
                    continue
                kwargs = _kwargs(world, name, scope, persona)
                url = reverse(name, kwargs=kwargs)
                response = _request(_client(world, persona), method, url)
                expected = _expected(name, method, persona, scope, city_route)
                ok = {
                    "any": response.status_code < 500,
                    "login": _to_login(response),
                    "ok": _succeeded(response) or (name in authz.ENDS_SESSION and _to_login(response)),
                    "403": response.status_code == 403,
                    "404": response.status_code == 404,
                }[expected]
                if not ok:
                    wrong.append(f"{method} {url} as {persona} ({scope}): {response.status_code}, expected {expected}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", WEB_ROUTES)
def test_methods_a_route_does_not_take_change_nothing(world, name):
    """A GET never runs a POST-only action (and vice versa): 405 for a logged-in person."""
    other = {"GET", "POST"} - set(authz.WEB.get(name, {}))
    if not other:
        return
    kwargs = _kwargs(world, name, "own", "admin")
    url = reverse(name, kwargs=kwargs)
    for method in other:
        response = _request(_client(world, "admin"), method, url)
        assert response.status_code == 405, f"{method} {url}: {response.status_code}"


def test_django_admin_is_for_the_programme_admin_only(world):
    from ridp.workspace.models import City

    wrong: list[str] = []
    for name in ADMIN_ROUTES:
        pattern = ROUTES[name]
        kwargs: dict[str, Any] = {}
        if "<path:object_id>" in pattern:
            kwargs["object_id"] = str(City.objects.order_by("pk").first().pk)  # type: ignore[union-attr]
        if "<id>" in pattern:
            kwargs["id"] = str(world.users["analyst"].pk)
        if "<app_label>" in pattern:
            kwargs["app_label"] = "workspace"
        if "<int:content_type_id>" in pattern or "<path:content_type_id>" in pattern:
            continue  # the 'view on site' shortcut: no model here has one
        try:
            url = reverse(name, kwargs=kwargs)
        except Exception as exc:  # a route whose arguments we do not know must be added here, not skipped
            wrong.append(f"{name}: cannot build its URL ({exc})")
            continue
        for persona in (*authz.CITY_PERSONAS, "anon"):
            response = _request(_client(world, persona), "GET", url)
            if persona == "admin":  # there (autocomplete refuses a request without its query: 403)
                ok = response.status_code not in (404, 500) and not _to_login(response)
            elif persona == "anon":
                ok = _to_login(response) or response.status_code == 302
            else:
                ok = response.status_code == 404
            if not ok:
                wrong.append(f"GET {url} as {persona}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_roles_are_read_once_per_request_and_a_change_in_it_counts_at_once(world):
    """Inside one request a person's roles are read once, whatever the number of checks; a membership
    removed during the request is seen by the very next check (and by every later request)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ridp.workspace.access import actions_in, allowed, one_reading
    from ridp.workspace.models import Membership

    leader, city = world.users["leader"], world.springfield
    with one_reading(), CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert "team.manage" in actions_in(leader, city)
    assert len(queries) == 2  # is the person a programme admin? their roles in the city?
    with one_reading():
        assert allowed(leader, city, "team.manage")
        Membership.objects.filter(user=leader, city=city).delete()
        assert not allowed(leader, city, "team.manage")
    assert not allowed(leader, city, "city.read")  # outside a request: read on every call
