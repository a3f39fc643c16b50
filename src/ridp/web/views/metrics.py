"""A project's metric specs (PROGRAM.md §6): the list with each spec's versions, adding one in YAML, and
choosing the success metric.

Thin views over :mod:`ridp.workspace.metric_specs`; the views check ``metric.edit``
before reading a form, so a refused request is refused whatever it sends. A bad
spec comes back beside the YAML with its line and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ridp.errors import FieldError, SpecError
from ridp.metrics import MAX_YAML, MetricNeeds, MetricSpec
from ridp.web.forms_agreements import show_error
from ridp.web.views.projects import project_context
from ridp.workspace import metric_specs
from ridp.workspace.access import require
from ridp.workspace.models import MetricSpecVersion, Project, User
from ridp.workspace.projects import get_project

__all__ = ["urlpatterns"]

EXAMPLE = """name: pothole_days
formula: median(days_to_close) where type == "Pothole"
unit: days
direction: lower_is_better
baseline: {value: 6.5, start: 2024-01-01, end: 2024-12-31}
target: {value: 4, category: accuracy, by: 2026-12-31}
disaggregation: [geography]
source: service_requests
refresh: weekly
owner: Director of Public Works"""


class MetricSpecForm(forms.Form):
    """One spec in YAML (or several, separated by ``---``)."""

    yaml = forms.CharField(
        label=gettext_lazy("Metric spec (YAML)"),
        help_text=gettext_lazy(
            "Name, formula, unit, direction, baseline, target, disaggregation, source dataset, refresh and owner. "
            "A spec with the name of an existing one replaces it as a new version."
        ),
        max_length=MAX_YAML,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "mono"}),
    )


class SuccessMetricForm(forms.Form):
    """The project's success metric: one of its specs, or none."""

    name = forms.ChoiceField(label=gettext_lazy("Success metric"), required=False)

    def __init__(self, *args: Any, names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["name"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("none chosen")), *((n, n) for n in names)]


@dataclass(frozen=True)
class _Row:
    version: MetricSpecVersion
    spec: MetricSpec
    needs: MetricNeeds
    history: list[MetricSpecVersion]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _page(
    request: HttpRequest,
    project: Project,
    *,
    form: MetricSpecForm | None = None,
    success_form: SuccessMetricForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    context = project_context(user, project, "metrics")
    latest = metric_specs.list_specs(user, project.city.slug, project.pk)
    every = MetricSpecVersion.objects.filter(project=project).select_related("created_by").order_by("-number")
    history: dict[str, list[MetricSpecVersion]] = {}
    for v in every:
        history.setdefault(v.name, []).append(v)
    rows = []
    for v in latest:
        spec = metric_specs.spec_of(v)
        rows.append(_Row(v, spec, spec.needs(), history.get(v.name, [])))
    if context["can"].get("metric_edit"):
        names = [v.name for v in latest]
        context["form"] = form or MetricSpecForm()
        context["success_form"] = success_form or SuccessMetricForm(
            names=names, initial={"name": project.success_metric_name}
        )
    context |= {"rows": rows, "success": project.success_metric_name, "example": EXAMPLE}
    return render(request, "ridp/metrics/metrics.html", context, status=status)


@login_required
@require_GET
def metrics_page(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    return _page(request, get_project(_user(request), city, project_id))


@login_required
@require_POST
def metric_add(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "metric.edit", obj=project)
    form = MetricSpecForm(request.POST)
    if form.is_valid():
        try:
            saved = metric_specs.save_specs(user, city, project_id, form.cleaned_data["yaml"])
        except SpecError as exc:
            form.add_error("yaml", str(exc))  # the line and the spec's field, beside the text
        except FieldError as exc:
            show_error(form, exc, aliases={"name": "yaml", "source": "yaml"})
        else:
            for s in saved:
                if s.created:
                    messages.success(
                        request,
                        _("%(name)s: version %(number)d saved.") % {"name": s.version.name, "number": s.version.number},
                    )
                else:
                    messages.info(request, _("%(name)s: unchanged.") % {"name": s.version.name})
            return redirect("metrics", city=city, project_id=project_id)
    return _page(request, project, form=form, status=400)


@login_required
@require_POST
def metric_success(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "metric.edit", obj=project)
    names = [v.name for v in metric_specs.list_specs(user, city, project_id)]
    form = SuccessMetricForm(request.POST, names=names)
    if form.is_valid():
        try:
            project = metric_specs.set_success_metric(user, city, project_id, form.cleaned_data["name"])
        except FieldError as exc:
            show_error(form, exc)
        else:
            if project.success_metric_name:
                messages.success(
                    request, _("%(name)s is the project's success metric.") % {"name": project.success_metric_name}
                )
            else:
                messages.success(request, _("The project has no success metric now."))
            return redirect("metrics", city=city, project_id=project_id)
    return _page(request, project, success_form=form, status=400)


@login_required
@require_POST
def metric_baseline(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    """Compute a spec's baseline from its source dataset (a new version); the gate asks for this."""
    from ridp.errors import RidpError
    from ridp.workspace.analysis import compute_baseline

    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "metric.edit", obj=project)
    name = str(request.POST.get("name", ""))[:64]
    try:
        saved = compute_baseline(user, city, project_id, name)
    except (FieldError, RidpError) as exc:
        messages.error(request, str(exc))
        return _page(request, project, status=400)
    messages.success(
        request,
        _("%(name)s: baseline %(value)s from %(dataset)s version %(version)s (%(n)s requests).")
        % {"name": name, "value": f"{saved.spec['baseline']['value']:g}", "dataset": saved.spec["source"],
           "version": saved.baseline_from.number if saved.baseline_from else "?", "n": f"{saved.baseline_requests:,}"},
    )  # fmt: skip
    return redirect("metrics", city=city, project_id=project_id)


urlpatterns: list[URLPattern] = [
    path("", metrics_page, name="metrics"),
    path("baseline/", metric_baseline, name="metric_baseline"),
    path("add/", metric_add, name="metric_add"),
    path("success/", metric_success, name="metric_success"),
]
