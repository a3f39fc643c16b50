"""The coach's cohort view and the cohorts' calendars (PROGRAM.md §1, §8, §9).

Thin views over :mod:`ridp.workspace.cohort_view` and :mod:`ridp.workspace.cohorts`.
The cohort view is for coaches, programme analysts (their assigned cities) and
programme admins (every city); a cohort's calendar is for anyone with a city in it;
editing a calendar and adding a cohort are the programme admin's.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from ridp.errors import FieldError
from ridp.web.forms_agreements import show_error
from ridp.web.forms_gates import CohortForm, CohortViewForm, PhaseForm
from ridp.workspace import cohort_view, cohorts, gates
from ridp.workspace.access import is_programme_admin, visible_cities
from ridp.workspace.models import Cadence, CohortPhase, User

__all__ = ["CADENCE_LABELS", "COLUMNS", "urlpatterns"]

#: The cohort view's columns: (sort key, header).
COLUMNS: tuple[tuple[str, Any], ...] = (
    ("title", gettext_lazy("Project")),
    ("city", gettext_lazy("City")),
    ("cohort", gettext_lazy("Cohort")),
    ("phase", gettext_lazy("Phase")),
    ("days", gettext_lazy("Days in phase")),
    ("calendar", gettext_lazy("Calendar today")),
    ("gate", gettext_lazy("Gate")),
    ("next_meeting", gettext_lazy("Next meeting (UTC)")),
    ("cadence", gettext_lazy("Cadence")),
    ("follow_ups", gettext_lazy("Overdue follow-ups")),
    ("agreements", gettext_lazy("Agreements expiring in 30 days")),
    ("risk", gettext_lazy("Risk flags")),
)


#: The meeting cadences, as people read them.
CADENCE_LABELS: dict[str, Any] = {
    Cadence.AS_NEEDED: gettext_lazy("kickoff + as needed"),
    Cadence.WEEKLY: gettext_lazy("weekly"),
    Cadence.MONTHLY: gettext_lazy("monthly"),
    Cadence.NONE: gettext_lazy("no meetings"),
}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _headers(query: QueryDict, current: str) -> list[dict[str, Any]]:
    """Each column header: its label, the link that sorts by it (or reverses it) and its aria-sort."""
    headers = []
    for key, label in COLUMNS:
        params = query.copy()
        params.pop("page", None)
        aria = "ascending" if current == key else "descending" if current == f"-{key}" else ""
        params["sort"] = f"-{key}" if current == key else key
        headers.append({"key": key, "label": label, "url": "?" + params.urlencode(), "aria": aria})
    return headers


@login_required
@require_GET
def cohort_view_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    cities = cohort_view.require_view(user)
    seen = {c.cohort.pk: c.cohort for c in cities if c.cohort is not None}
    phase_names: dict[str, str] = {}
    for phase in CohortPhase.objects.filter(cohort_id__in=seen).order_by("position", "cohort_id"):
        phase_names.setdefault(phase.key, phase.name)
    form = CohortViewForm(
        request.GET or None,
        cities=[(c.slug, c.name) for c in cities],
        cohorts=[(pk, cohort.name) for pk, cohort in sorted(seen.items(), key=lambda kv: kv[1].name)],
        phases=list(phase_names.items()),
    )
    rows: list[cohort_view.CohortRow] = []
    status = 200
    sort = cohort_view.DEFAULT_SORT
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        values = form.cleaned_data if form.is_bound else {}
        sort = values.get("sort") or cohort_view.DEFAULT_SORT
        try:
            rows = cohort_view.cohort_rows(
                user, city=values.get("city") or "", cohort=values.get("cohort"), phase=values.get("phase") or "",
                at_risk=bool(values.get("at_risk")), sort=sort,
            )  # fmt: skip
        except FieldError as exc:
            show_error(form, exc)
            status = 400
    context = {
        "form": form,
        "rows": [(row, CADENCE_LABELS.get(row.cadence, row.cadence)) for row in rows],
        "headers": _headers(request.GET, sort),
        "sort": sort,
        "cohorts": cohorts.list_cohorts(user),
        "is_admin": is_programme_admin(user),
        "at_risk_count": sum(1 for r in rows if r.at_risk),
    }
    return render(request, "ridp/cohorts/view.html", context, status=status)


@login_required
@require_GET
def cohort_calendar(request: HttpRequest, cohort_id: int) -> HttpResponse:
    user = _user(request)
    cohort = cohorts.get_cohort(user, cohort_id)
    context = {
        "cohort": cohort,
        "phases": [
            (phase, [str(gates.REGISTRY[n].label) for n in cohorts.gate_conditions(phase.key) if n in gates.REGISTRY])
            for phase in cohorts.phases(cohort)
        ],
        "cities": [c for c in visible_cities(user) if c.cohort_id == cohort.pk],
        "can_edit": is_programme_admin(user),
    }
    return render(request, "ridp/cohorts/calendar.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def cohort_phase_edit(request: HttpRequest, cohort_id: int, phase: str) -> HttpResponse:
    user = _user(request)
    cohort = cohorts.get_cohort(user, cohort_id)
    cohorts.require_programme_admin(user, "cohort.edit", obj=cohort)
    current = cohorts.phase_of(cohort, phase)
    initial = {
        "name": current.name,
        "starts_on": current.starts_on,
        "ends_on": current.ends_on,
        "cadence": current.cadence,
    }
    form = PhaseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            cohorts.edit_phase(user, cohort.pk, phase, **form.cleaned_data)
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("The calendar is saved."))
            return redirect("cohort_calendar", cohort_id=cohort.pk)
    context = {"cohort": cohort, "phase": current, "form": form, "cadences": Cadence.choices}
    return render(request, "ridp/cohorts/phase_edit.html", context, status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def cohort_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    cohorts.require_programme_admin(user, "cohort.add")
    form = CohortForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cohort = cohorts.create_cohort(user, form.cleaned_data["name"], year=form.cleaned_data["year"])
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("The cohort is added with the default calendar. Adjust its dates here."))
            return redirect("cohort_calendar", cohort_id=cohort.pk)
    context = {"form": form, "template": cohorts.defaults().phases}
    return render(request, "ridp/cohorts/new.html", context, status=400 if request.method == "POST" else 200)


urlpatterns: list[URLPattern] = [
    path("cohort/", cohort_view_page, name="cohort_view"),
    path("cohorts/new/", cohort_new, name="cohort_new"),
    path("cohorts/<int:cohort_id>/", cohort_calendar, name="cohort_calendar"),
    path("cohorts/<int:cohort_id>/phases/<slug:phase>/", cohort_phase_edit, name="cohort_phase_edit"),
]
