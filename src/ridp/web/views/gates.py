"""A project's phase gate (PROGRAM.md §9): the gate out of its phase, moving on, overriding, the history.

Thin views over :mod:`ridp.workspace.gates`: the project is read through the
city-scoped ``get_project``; the permission is checked before a form is read, and
again by the workspace function that changes anything.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ridp.errors import FieldError
from ridp.web.forms_agreements import show_error
from ridp.web.forms_gates import OverrideForm
from ridp.web.views.projects import project_context
from ridp.workspace import cohorts, gates
from ridp.workspace.access import require
from ridp.workspace.models import Project, User
from ridp.workspace.projects import get_project

__all__ = ["panel", "urlpatterns"]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _page(
    request: HttpRequest, project: Project, *, form: OverrideForm | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    user = _user(request)
    context = project_context(user, project, "gates")
    calendar = cohorts.phases(project.cohort)
    names = {p.key: p.name for p in calendar}
    gate = gates.gate_of(project, calendar)
    history = gates.history(project)
    context |= {
        "gate": gate,
        "history": [(c, names.get(c.from_phase, c.from_phase), names.get(c.to_phase, c.to_phase)) for c in history],
        "error": error,
        "off_ramped": project.decision == Project.Decision.OFF_RAMP,
    }
    if context["can"].get("gate_override") and not gate.passed and not gate.last:
        context["form"] = form or OverrideForm()
    return render(request, "ridp/gates/gates.html", context, status=status)


@login_required
@require_GET
def gate_page(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    return _page(request, get_project(_user(request), city, project_id))


@login_required
@require_POST
def gate_advance(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "phase.advance", obj=project)
    try:
        change = gates.advance(user, city, project_id)
    except FieldError as exc:
        return _page(request, project, error=exc.reason, status=400)
    messages.success(
        request, _("The project moved on to %(phase)s.") % {"phase": _phase_name(project, change.to_phase)}
    )
    return redirect("gates", city=city, project_id=project_id)


@login_required
@require_POST
def gate_override(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "gate.override", obj=project)
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            change = gates.override(user, city, project_id, form.cleaned_data["reason"])
        except FieldError as exc:
            if exc.field == "reason":
                show_error(form, exc)
                return _page(request, project, form=form, status=400)
            return _page(request, project, form=form, error=exc.reason, status=400)
        messages.success(
            request,
            _("The gate is overridden: the project moved on to %(phase)s.")
            % {"phase": _phase_name(project, change.to_phase)},
        )
        return redirect("gates", city=city, project_id=project_id)
    return _page(request, project, form=form, status=400)


def _phase_name(project: Project, key: str) -> str:
    return cohorts.phase_of(project.cohort, key).name


def panel(user: User, project: Project) -> list[tuple[str, dict[str, Any]]]:
    """The overview's summary: the gate out of the current phase, passed or blocked, and how much is missing."""
    return [("ridp/gates/_panel.html", {"project": project, "gate": gates.gate_of(project)})]


urlpatterns: list[URLPattern] = [
    path("gate/", gate_page, name="gates"),
    path("gate/advance/", gate_advance, name="gate_advance"),
    path("gate/override/", gate_override, name="gate_override"),
]
