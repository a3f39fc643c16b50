"""A city's projects: the list, the intake (start a project, edit its answers) and a project's overview.

Every project page shares :func:`project_context`: the project (read through the
city-scoped :func:`~ridp.workspace.projects.get_project`), its city and the tabs
of its sections.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from ridp.errors import FieldError
from ridp.web.forms_agreements import show_error
from ridp.workspace import projects
from ridp.workspace.access import actions_in, city_for, require
from ridp.workspace.models import Project, User

#: The project's sections: (key, label, route name). A route that does not exist yet is left out.
SECTIONS: tuple[tuple[str, Any, str], ...] = (
    ("overview", gettext_lazy("Overview"), "project"),
    ("scoping", gettext_lazy("Scoping"), "project_scoping"),
    ("charter", gettext_lazy("Charter"), "charter"),
    ("team", gettext_lazy("Team"), "project_team"),
    ("meetings", gettext_lazy("Meetings"), "meetings"),
    ("metrics", gettext_lazy("Metrics"), "metrics"),
    ("analysis", gettext_lazy("Analysis"), "analysis"),
    ("gates", gettext_lazy("Phase gates"), "gates"),
)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def project_context(user: User, project: Project, section: str) -> dict[str, Any]:
    """What every project page needs: the project, its city, the tabs and what the person may do there."""
    tabs = []
    for key, label, name in SECTIONS:
        try:
            url = reverse(name, kwargs={"city": project.city.slug, "project_id": project.pk})
        except NoReverseMatch:
            continue
        tabs.append((key, label, url))
    can = {action.replace(".", "_"): True for action in actions_in(user, project.city)}
    return {"project": project, "city": project.city, "section": section, "project_sections": tabs, "can": can}


class IntakeForm(forms.Form):
    """DataSF's three short answers, and a title."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=300)
    problem = forms.CharField(
        label=gettext_lazy("The problem"),
        help_text=gettext_lazy("What goes wrong for residents today, in a few sentences."),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    why_it_matters = forms.CharField(
        label=gettext_lazy("Why it matters"),
        help_text=gettext_lazy("Who is affected, how many, and why now."),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    service_change = forms.CharField(
        label=gettext_lazy("What service would change"),
        help_text=gettext_lazy("The existing process the work would inform, and how it would change."),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


@login_required
@require_GET
def project_list(request: HttpRequest, city: str) -> HttpResponse:
    user = _user(request)
    city_obj = city_for(user, city)
    context = {
        "city": city_obj,
        "projects": projects.list_projects(user, city),
        "can_start": "project.start" in actions_in(user, city_obj),
    }
    return render(request, "ridp/projects/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest, city: str) -> HttpResponse:
    user = _user(request)
    city_obj = city_for(user, city)
    require(user, city_obj, "project.start")
    form = IntakeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = projects.start_project(user, city, **form.cleaned_data)
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("The project is started. Next: rate it against the five criteria."))
            return redirect("project", city=city, project_id=project.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "ridp/projects/new.html", {"city": city_obj, "form": form}, status=status)


@login_required
@require_GET
def project_overview(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = projects.get_project(user, city, project_id)
    context = project_context(user, project, "overview")
    context["panels"] = overview_panels(user, project)
    return render(request, "ridp/projects/overview.html", context)


def overview_panels(user: User, project: Project) -> list[tuple[str, dict[str, Any]]]:
    """Each section's summary on the overview: (template, context) pairs from the sections' own ``panel``."""
    from ridp.web.views import gates, meetings, scoping

    return [*scoping.panel(user, project), *meetings.panel(user, project), *gates.panel(user, project)]


@login_required
@require_http_methods(["GET", "POST"])
def project_intake(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = projects.get_project(user, city, project_id)
    require(user, project.city, "project.edit", obj=project)
    initial = {name: getattr(project, name) for name in projects.INTAKE_FIELDS}
    form = IntakeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            projects.update_intake(user, city, project_id, **form.cleaned_data)
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("The intake is saved."))
            return redirect("project", city=city, project_id=project_id)
    context = project_context(user, project, "overview") | {"form": form}
    return render(request, "ridp/projects/intake.html", context, status=400 if request.method == "POST" else 200)


urlpatterns: list[URLPattern] = [
    path("", project_list, name="projects"),
    path("new/", project_new, name="project_new"),
    path("<int:project_id>/", project_overview, name="project"),
    path("<int:project_id>/intake/", project_intake, name="project_intake"),
]
