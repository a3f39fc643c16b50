"""Scoping and the charter of a project, in the browser.

Scoping: the five criteria with their current rating, evidence, rater, date and
history; a rating form per criterion; value x complexity; the decision. The
charter: its current version and sign-off status (valid and invalidated
sign-offs), editing (a new version per change), every version and what changed
between two, and recording sign-offs. Thin views: the rules live in
``ridp.workspace.scoping`` and ``ridp.workspace.charter``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ridp.errors import FieldError
from ridp.web.forms_agreements import show_error
from ridp.web.forms_scoping import CharterForm, DecisionForm, RatingForm, SignOffForm, ValueForm
from ridp.web.views.projects import project_context
from ridp.workspace import charter, scoping
from ridp.workspace.access import require
from ridp.workspace.cohorts import criteria
from ridp.workspace.models import CharterVersion, Project, User
from ridp.workspace.projects import get_project

__all__ = ["panel", "urlpatterns"]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# ---- scoping ----------------------------------------------------------------------------------------------------


_BADGES: dict[str, str] = {"accept": "badge-ok", "accept_with_risks": "badge-warn", "off_ramp": "badge-bad"}


def _decision_badge(project: Project) -> str:
    return _BADGES.get(project.decision, "badge-info")


def _scoping_page(
    request: HttpRequest,
    city: str,
    project_id: int,
    *,
    rating_form: RatingForm | None = None,
    value_form: ValueForm | None = None,
    decision_form: DecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    context = project_context(user, project, "scoping")
    statuses = scoping.current_ratings(project)
    rows = []
    placed = False
    for item in statuses:
        form = rating_form if rating_form is not None and rating_form["criterion"].value() == item.key else None
        placed = placed or form is not None
        rows.append({"status": item, "form": form or RatingForm(criterion=item.key)})
    # a rating for no criterion of the page (a tampered form): its errors go above everything
    stray = [str(e) for errors in rating_form.errors.values() for e in errors] if rating_form and not placed else []
    context.update(
        {
            "rows": rows,
            "stray_errors": stray,
            "unrated": [s.name for s in statuses if s.rating is None],
            "total": sum(s.rating.score for s in statuses if s.rating is not None),
            "value_form": value_form or ValueForm(initial={"value": project.value, "complexity": project.complexity}),
            "decision_form": decision_form
            or DecisionForm(
                initial={
                    "decision": project.decision,
                    "reason": project.decision_reason,
                    "other_help": project.other_help,
                }
            ),
            "decision_badge": _decision_badge(project),
        }
    )
    return render(request, "ridp/scoping/scoping.html", context, status=status)


@login_required
@require_GET
def project_scoping(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    return _scoping_page(request, city, project_id)


@login_required
@require_POST
def scoping_rate(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "scoping.rate", obj=project)
    criterion = request.POST.get("criterion", "")
    form = RatingForm(request.POST, criterion=criterion if criterion in {c.key for c in criteria()} else "")
    if form.is_valid():
        data = form.cleaned_data
        try:
            scoping.rate(user, city, project_id, data["criterion"], data["score"], data["evidence"], data["rated_on"])
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("The rating is saved."))
            return redirect("project_scoping", city=city, project_id=project_id)
    return _scoping_page(request, city, project_id, rating_form=form, status=400)


@login_required
@require_POST
def scoping_value(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "scoping.rate", obj=project)
    form = ValueForm(request.POST)
    if form.is_valid():
        try:
            scoping.set_value_complexity(
                user, city, project_id, form.cleaned_data["value"], form.cleaned_data["complexity"]
            )
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("Value and complexity are saved."))
            return redirect("project_scoping", city=city, project_id=project_id)
    return _scoping_page(request, city, project_id, value_form=form, status=400)


@login_required
@require_POST
def scoping_decide(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "scoping.decide", obj=project)
    form = DecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            scoping.decide(user, city, project_id, data["decision"], data["reason"], data["other_help"])
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("The decision is recorded."))
            return redirect("project_scoping", city=city, project_id=project_id)
    return _scoping_page(request, city, project_id, decision_form=form, status=400)


# ---- the charter ------------------------------------------------------------------------------------------------


def _shown_fields(version: CharterVersion | None) -> list[dict[str, Any]]:
    """The charter's fields with their values as a person reads them (a choice's label, not its key)."""
    out = []
    for spec in charter.CHARTER_FIELDS:
        value = charter.value_of(version, spec.key)
        out.append(
            {
                "key": spec.key,
                "label": spec.label,
                "value": spec.choice_label(value) if spec.kind == "choice" else value,
            }
        )
    return out


def _charter_page(
    request: HttpRequest, city: str, project_id: int, *, form: SignOffForm | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    context = project_context(user, project, "charter")
    version = charter.current(project)
    context.update(
        {
            "version": version,
            "fields": _shown_fields(version),
            "signature": charter.signature_status(project),
            "sign_form": form or SignOffForm(),
        }
    )
    from ridp.web.views.meetings import comments_context

    context |= comments_context(user, project, "charter", None)
    return render(request, "ridp/scoping/charter.html", context, status=status)


@login_required
@require_GET
def charter_page(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    return _charter_page(request, city, project_id)


@login_required
@require_http_methods(["GET", "POST"])
def charter_edit(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "project.edit", obj=project)
    version = charter.current(project)
    if version is not None:
        initial = {spec.key: charter.value_of(version, spec.key) for spec in charter.CHARTER_FIELDS}
    else:  # the first version starts from the intake
        initial = {
            "title": project.title,
            "problem_statement": project.problem,
            "service_change": project.service_change,
        }
    form = CharterForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = charter.edit(user, city, project_id, form.charter_values(), note=form.cleaned_data["note"])
        except FieldError as exc:
            show_error(form, exc)
        else:
            if version is not None and saved.pk == version.pk:
                messages.info(request, _("Nothing changed: the charter stays at version %(n)d.") % {"n": saved.number})
            else:
                messages.success(request, _("The charter is saved as version %(n)d.") % {"n": saved.number})
            return redirect("charter", city=city, project_id=project_id)
    context = project_context(user, project, "charter") | {"form": form, "version": version}
    return render(request, "ridp/scoping/charter_edit.html", context, status=400 if request.method == "POST" else 200)


def _number(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    return int(raw) if raw.isdigit() and len(raw) < 10 else -1


@login_required
@require_GET
def charter_history(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    context = project_context(user, project, "charter")
    all_versions = charter.versions(user, city, project_id)
    context["versions"] = all_versions
    context["numbers"] = [v.number for v in all_versions]
    wanted_from, wanted_to = _number(request.GET.get("from")), _number(request.GET.get("to"))
    status = 200
    if wanted_from is not None or wanted_to is not None:
        known = {v.number: v for v in all_versions}
        if wanted_from not in known or wanted_to not in known:
            context["diff_error"] = _("Choose two versions of this charter, from 1 to %(n)d.") % {
                "n": max(known, default=0)
            }
            status = 400
        else:
            assert wanted_from is not None and wanted_to is not None
            context.update(
                {
                    "old": known[wanted_from],
                    "new": known[wanted_to],
                    "changes": charter.diff(known[wanted_from], known[wanted_to]),
                }
            )
    context["selected_from"] = wanted_from
    context["selected_to"] = wanted_to
    return render(request, "ridp/scoping/charter_history.html", context, status=status)


@login_required
@require_GET
def charter_version(request: HttpRequest, city: str, project_id: int, version_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    version = charter.get_version(user, city, project_id, version_id)
    context = project_context(user, project, "charter")
    latest = charter.current(project)
    context.update(
        {
            "version": version,
            "fields": _shown_fields(version),
            "is_latest": latest is not None and latest.pk == version.pk,
            "sign_offs": list(version.sign_offs.order_by("signed_on", "id")),
        }
    )
    return render(request, "ridp/scoping/charter_version.html", context)


@login_required
@require_POST
def charter_sign(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "charter.sign", obj=project)
    form = SignOffForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            sign_off = charter.sign(user, city, project_id, data["kind"], data["name"], data["role"], data["signed_on"])
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("The sign-off of version %(n)d is recorded.") % {"n": sign_off.version.number})
            return redirect("charter", city=city, project_id=project_id)
    return _charter_page(request, city, project_id, form=form, status=400)


# ---- the overview's panel ---------------------------------------------------------------------------------------


def panel(user: User, project: Project) -> list[tuple[str, dict[str, Any]]]:
    """The overview's summaries: the criteria and the decision; the charter's signature status."""
    statuses = scoping.current_ratings(project)
    scoping_panel = {
        "statuses": statuses,
        "rated": sum(1 for s in statuses if s.rating is not None),
        "total": sum(s.rating.score for s in statuses if s.rating is not None),
        "project": project,
        "decision_badge": _decision_badge(project),
    }
    version = charter.current(project)
    charter_panel = {"project": project, "version": version, "signature": charter.signature_status(project)}
    return [
        ("ridp/scoping/_panel_scoping.html", scoping_panel),
        ("ridp/scoping/_panel_charter.html", charter_panel),
    ]


urlpatterns: list[URLPattern] = [
    path("scoping/", project_scoping, name="project_scoping"),
    path("scoping/rate/", scoping_rate, name="scoping_rate"),
    path("scoping/value/", scoping_value, name="scoping_value"),
    path("scoping/decide/", scoping_decide, name="scoping_decide"),
    path("charter/", charter_page, name="charter"),
    path("charter/edit/", charter_edit, name="charter_edit"),
    path("charter/history/", charter_history, name="charter_history"),
    path("charter/versions/<int:version_id>/", charter_version, name="charter_version"),
    path("charter/sign/", charter_sign, name="charter_sign"),
]
