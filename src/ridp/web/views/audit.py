"""The programme admin's audit log page: entries newest first, filtered, 50 a page.

For anyone else the page does not exist (404): :func:`ridp.workspace.audit_log.search`
decides. Entries name who, what and which object; they never hold personal values.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from ridp.errors import FieldError
from ridp.web.forms_agreements import AuditFilterForm, show_error
from ridp.workspace import audit_log
from ridp.workspace.models import User

FILTERS = ("action", "city", "actor", "date_from", "date_to")


@login_required
@require_GET
def audit_log_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    form = AuditFilterForm(request.GET)
    f = {name: request.GET.get(name, "")[:200] for name in FILTERS}
    try:
        page = audit_log.search(
            user, action=f["action"], city=f["city"], actor_name=f["actor"], date_from=f["date_from"],
            date_to=f["date_to"], page=request.GET.get("page"),
        )  # fmt: skip
    except FieldError as exc:
        show_error(form, exc, {"actor_name": "actor"})
        page = None
    context = {"form": form, "page": page, "filtered": any(f.values())}
    return render(request, "ridp/audit/log.html", context, status=400 if form.errors else 200)


urlpatterns: list[URLPattern] = [
    path("", audit_log_page, name="audit_log"),
]
