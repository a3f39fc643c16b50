"""A project's analysis (PROGRAM.md §6, §8): start a service-levels or trends run, read its result ranked
worst first with its chart, download it as CSV or XLSX, and gather findings into the week's briefing that
the coach blesses.

Thin views over :mod:`ridp.workspace.analysis`. Charts are rendered to SVG on the server (vl-convert,
offline): no script, nothing from a CDN, nothing the page's Content-Security-Policy must allow.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ridp.analysis import PERIODS, DiscoveryRate, ServiceLevels, Trends
from ridp.analysis.charts import to_svg, to_vega
from ridp.analysis.export import to_csv, to_xlsx
from ridp.errors import FieldError, RidpError
from ridp.web.forms_agreements import show_error
from ridp.web.views.projects import project_context
from ridp.workspace import analysis, places
from ridp.workspace.access import require
from ridp.workspace.models import AnalysisRun, Dataset, Project, User
from ridp.workspace.projects import get_project

__all__ = ["urlpatterns"]

SHOWN = ("requests", "still_open", "median_days", "median_days_low", "median_days_high", "p90_days",
         "share_within_target", "resident_days_waiting")  # fmt: skip
TOP = 25


class RunForm(forms.Form):
    """What to analyse: a dataset of the city, and the breakdown."""

    dataset = forms.ChoiceField(label=gettext_lazy("Dataset"))
    kind = forms.ChoiceField(
        label=gettext_lazy("Analysis"),
        choices=[("service_levels", gettext_lazy("Service levels")), ("trends", gettext_lazy("Trends")),
                 ("discovery_rate", gettext_lazy("Discovery rate of inspections")),
                 ("hot_spots", gettext_lazy("Hot spots (Getis-Ord Gi*)")),
                 ("service_gaps", gettext_lazy("Service gaps between areas or groups")),
                 ("resource_scores", gettext_lazy("Where resources go (equity scores)"))],
    )  # fmt: skip
    by = forms.CharField(
        label=gettext_lazy("Break down by"), required=False, initial="type", max_length=300,
        help_text=gettext_lazy("Comma-separated: type, agency, channel, status, area or a column (service levels)."),
    )  # fmt: skip
    period = forms.ChoiceField(
        label=gettext_lazy("Per period"), required=False, choices=[("", "—"), *((p, p) for p in PERIODS)]
    )
    unit = forms.ChoiceField(
        label=gettext_lazy("Days"),
        choices=[("calendar", gettext_lazy("calendar days")), ("business", gettext_lazy("business days"))],
    )
    freq = forms.ChoiceField(
        label=gettext_lazy("Trend per"), choices=[("week", gettext_lazy("week")), ("month", gettext_lazy("month"))]
    )
    measure = forms.ChoiceField(
        label=gettext_lazy("Trend of"), required=False,
        choices=[("requests", gettext_lazy("requests (volume)")), ("median_days", gettext_lazy("median days to close")),
                 ("backlog", gettext_lazy("open backlog and its age"))],
    )  # fmt: skip

    acknowledged = forms.CharField(
        label=gettext_lazy("Acknowledged column"), required=False, max_length=500,
        help_text=gettext_lazy("Where the data has the time each request was acknowledged (service levels)."),
    )  # fmt: skip
    population = forms.ChoiceField(label=gettext_lazy("People per area, from"), required=False)
    population_key = forms.CharField(label=gettext_lazy("Its area column"), required=False, max_length=500)
    population_value = forms.CharField(label=gettext_lazy("Its people column"), required=False, max_length=500)
    found_column = forms.CharField(
        label=gettext_lazy("Violation column"), required=False, max_length=500,
        help_text=gettext_lazy("Discovery rate: the column that says whether an inspection found a violation."),
    )  # fmt: skip
    found_values = forms.CharField(
        label=gettext_lazy("Values meaning a violation was found"), required=False, max_length=2000,
        help_text=gettext_lazy("Comma-separated; empty: any value that is not empty."),
    )  # fmt: skip
    not_held = forms.CharField(
        label=gettext_lazy("Values meaning no inspection took place"), required=False, max_length=2000,
        help_text=gettext_lazy("Comma-separated, e.g. Out of Business, No Entry."),
    )  # fmt: skip

    # places: hot spots, service gaps, where resources go
    boundaries = forms.ChoiceField(
        label=gettext_lazy("Areas from the boundaries"), required=False,
        help_text=gettext_lazy("Places: the points are assigned to these areas once, and the assignment is kept."),
    )  # fmt: skip
    area_column = forms.CharField(
        label=gettext_lazy("Or an area column of the data"), required=False, max_length=500,
        help_text=gettext_lazy("Places: use this column's area ids instead of assigning points."),
    )  # fmt: skip
    reference = forms.CharField(
        label=gettext_lazy("Reference group"), required=False, max_length=200,
        help_text=gettext_lazy("Service gaps: ratios are to this group (empty: the group with the most requests)."),
    )  # fmt: skip
    correction = forms.ChoiceField(
        label=gettext_lazy("Multiple-testing correction"), required=False,
        choices=[("fdr", gettext_lazy("false-discovery rate (Benjamini-Hochberg)")),
                 ("bonferroni", gettext_lazy("Bonferroni")), ("none", gettext_lazy("none"))],
    )  # fmt: skip
    census = forms.ChoiceField(label=gettext_lazy("Census table"), required=False)
    census_key = forms.CharField(label=gettext_lazy("Its area column"), required=False, max_length=500)
    census_baseline = forms.CharField(
        label=gettext_lazy("Its population column"), required=False, max_length=500,
        help_text=gettext_lazy("Where resources go: the baseline population (its margin of error is paired)."),
    )  # fmt: skip
    census_variables = forms.CharField(
        label=gettext_lazy("Its demographic columns"), required=False, max_length=2000,
        help_text=gettext_lazy("Comma-separated. Service gaps: the first groups the areas into fifths."),
    )  # fmt: skip

    def __init__(self, *args: Any, datasets: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["dataset"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(d, d) for d in datasets]
        for name in ("population", "boundaries", "census"):
            choice = self.fields[name]
            assert isinstance(choice, forms.ChoiceField)
            choice.choices = [("", "—"), *((d, d) for d in datasets)]

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data

        def listed(name: str) -> list[str]:
            return [v.strip() for v in (data.get(name) or "").split(",") if v.strip()]

        by = listed("by")
        if data["kind"] in ("hot_spots", "service_gaps", "resource_scores"):
            return self._places(data, by, listed("census_variables"))
        if data["kind"] == "trends":
            return {"freq": data["freq"], "measure": data.get("measure") or "requests"}
        if data["kind"] == "discovery_rate":
            return {"found_column": data.get("found_column") or "", "found_values": listed("found_values"),
                    "not_held": listed("not_held"), "by": by, "period": data.get("period") or None}  # fmt: skip
        params: dict[str, Any] = {"by": by or ["type"], "period": data.get("period") or None, "unit": data["unit"],
                                  "acknowledged": data.get("acknowledged") or None}  # fmt: skip
        if data.get("population"):
            params["population"] = _people(data)
        return params

    def _places(self, data: dict[str, Any], by: list[str], variables: list[str]) -> dict[str, Any]:
        kind = data["kind"]
        params: dict[str, Any] = {"boundaries": data.get("boundaries") or None,
                                  "area_column": data.get("area_column") or None}  # fmt: skip
        if data.get("population"):
            params["population"] = _people(data)
        census = {"dataset": data.get("census") or "", "key": data.get("census_key") or ""}
        if kind == "hot_spots":
            params["correction"] = data.get("correction") or "fdr"
        elif kind == "service_gaps":
            areas = params["boundaries"] or params["area_column"]
            params.update(by=None if areas or not by else by[0], reference=data.get("reference") or None,
                          unit=data["unit"])  # fmt: skip
            if data.get("census"):
                params["groups"] = {**census, "variable": variables[0] if variables else ""}
        else:
            params["census"] = {**census, "baseline": data.get("census_baseline") or "", "demographics": variables}
        return {k: v for k, v in params.items() if v is not None}


def _people(data: dict[str, Any]) -> dict[str, str]:
    """The population dataset and its area and people columns, as the form gave them."""
    return {"dataset": data["population"], "key": data.get("population_key") or "",
            "value": data.get("population_value") or ""}  # fmt: skip


class TargetsForm(forms.Form):
    """The dataset's targets, one ``TYPE = DAYS`` per line."""

    dataset = forms.ChoiceField(label=gettext_lazy("Dataset"))
    unit = forms.ChoiceField(
        label=gettext_lazy("The targets count"),
        choices=[("calendar", gettext_lazy("calendar days")), ("business", gettext_lazy("business days"))],
    )
    lines = forms.CharField(
        label=gettext_lazy("Targets"), required=False, max_length=100_000,
        help_text=gettext_lazy("One request type per line: Pothole = 3. Empty: no targets."),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "mono"}),
    )  # fmt: skip

    def __init__(self, *args: Any, datasets: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["dataset"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(d, d) for d in datasets]

    def clean_lines(self) -> dict[str, float]:
        days: dict[str, float] = {}
        for number, line in enumerate(str(self.cleaned_data.get("lines") or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, value = line.rpartition("=")
            try:
                days[name.strip()] = float(value) if sep and name.strip() else float("nan")
            except ValueError:
                days[name.strip()] = float("nan")
            if days[name.strip()] != days[name.strip()] or days[name.strip()] <= 0:
                raise forms.ValidationError(_("Line %(n)d is not TYPE = DAYS (a positive number).") % {"n": number})
        return days


class CalendarForm(forms.Form):
    weekdays = forms.MultipleChoiceField(
        label=gettext_lazy("Working days"), widget=forms.CheckboxSelectMultiple,
        choices=[(d, d) for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")],
    )  # fmt: skip
    holidays = forms.CharField(
        label=gettext_lazy("Holidays"), required=False, max_length=30_000,
        help_text=gettext_lazy("One date per line, YYYY-MM-DD."),
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
    )  # fmt: skip

    def clean_holidays(self) -> list[Any]:
        from datetime import date

        out = []
        for number, line in enumerate(str(self.cleaned_data.get("holidays") or "").splitlines(), start=1):
            if line.strip():
                try:
                    out.append(date.fromisoformat(line.strip()))
                except ValueError:
                    raise forms.ValidationError(
                        _("Line %(n)d is not a date like 2024-07-04.") % {"n": number}
                    ) from None
        return out


class BriefingForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title of the week's briefing"), max_length=200)


class FindingForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Finding"), max_length=200)
    text = forms.CharField(
        label=gettext_lazy("What it shows"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    briefing = forms.TypedChoiceField(label=gettext_lazy("Briefing"), coerce=int)

    def __init__(self, *args: Any, briefings: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["briefing"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = briefings


class BlessForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("The coach's words"), max_length=4000, required=False)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _datasets(project: Project) -> list[str]:
    return list(Dataset.objects.filter(city=project.city).order_by("name").values_list("name", flat=True))


def _open_briefings(project: Project) -> list[tuple[int, str]]:
    return [(b.pk, b.title) for b in project.briefings.filter(blessed_at__isnull=True).order_by("-week", "-id")]


def _calendar_initial(project: Project) -> dict[str, Any]:
    cal = analysis.calendar_for(project.city)
    return {"weekdays": list(cal.weekdays), "holidays": "\n".join(h.isoformat() for h in cal.holidays)}


def _page(
    request: HttpRequest, project: Project, *, form: RunForm | None = None, briefing_form: BriefingForm | None = None,
    targets_form: TargetsForm | None = None, calendar_form: CalendarForm | None = None, status: int = 200,
) -> HttpResponse:  # fmt: skip
    user = _user(request)
    context = project_context(user, project, "analysis")
    context |= {
        "runs": analysis.list_runs(user, project.city.slug, project.pk)[:30],
        "briefings": analysis.list_briefings(user, project.city.slug, project.pk),
        "form": form or RunForm(datasets=_datasets(project)),
        "briefing_form": briefing_form or BriefingForm(),
        "bless_form": BlessForm(),
        "targets_form": targets_form or TargetsForm(datasets=_datasets(project)),
        "calendar_form": calendar_form or CalendarForm(initial=_calendar_initial(project)),
    }
    return render(request, "ridp/analysis/analysis.html", context, status=status)


@login_required
@require_GET
def analysis_page(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    return _page(request, get_project(_user(request), city, project_id))


@login_required
@require_POST
def analysis_start(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "rows.read", obj=project)
    form = RunForm(request.POST, datasets=_datasets(project))
    if form.is_valid():
        try:
            item = analysis.request(user, city, project_id, form.cleaned_data["dataset"], form.cleaned_data["kind"],
                                    form.params())  # fmt: skip
        except FieldError as exc:
            show_error(form, exc, aliases={"mapping": "dataset", "targets": "dataset", "start": "dataset",
                                           "found_values": "found_column", "where": "by", "id_field": "boundaries",
                                           "latitude": "dataset", "longitude": "dataset", "groups": "census",
                                           "weights": "correction"})  # fmt: skip
        except RidpError as exc:
            form.add_error("dataset", str(exc))
        else:
            return redirect("analysis_result", city=city, project_id=project_id, analysis_id=item.pk)
    return _page(request, project, form=form, status=400)


def _table(result: Any) -> tuple[list[str], list[list[Any]]]:
    ranked = places.worst_first(result)  # places: hot spots, service gaps, where resources go
    if ranked is not None:
        frame = ranked.head(TOP)
        columns = list(frame.columns)
    elif isinstance(result, DiscoveryRate):
        frame = result.to_pandas().head(TOP)
        columns = list(frame.columns)
    elif isinstance(result, ServiceLevels):
        frame = result.ranked("median_days" if "median_days" in result.columns else "requests", top=TOP)
        columns = [*result.by, *(["period"] if result.period else []), *[c for c in SHOWN if c in frame.columns]]
    else:
        frame = result.to_pandas().tail(TOP)
        columns = [
            c for c in ("period", "value", "requests", "mean_age_days", "trend", "seasonal") if c in frame.columns
        ]
    rows = [[_cell(v) for v in row] for row in frame[columns].itertuples(index=False)]
    return columns, rows


def _cell(value: Any) -> Any:
    if value is None or value != value:
        return "—"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@login_required
@require_GET
def analysis_result(request: HttpRequest, city: str, project_id: int, analysis_id: int) -> HttpResponse:
    user = _user(request)
    item = analysis.get_run(user, city, project_id, analysis_id)
    project = item.project
    context = project_context(user, project, "analysis") | {"run": item}
    if item.status == AnalysisRun.Status.DONE:
        result = analysis.result_of(item)
        context["columns"], context["rows"] = _table(result)
        context["summary"] = result.summary()
        chart = None
        if item.kind in places.PLACES_KINDS:
            chart = places.chart_for(item, result)
            context["assignment"] = places.assignment_of(item)
        elif isinstance(result, Trends):
            chart = result.chart()
        elif isinstance(result, ServiceLevels):
            chart = result.chart("median_days" if "median_days" in result.columns else "requests")
        if chart is not None:
            context["chart"] = mark_safe(to_svg(chart))  # noqa: S308  (vl-convert's SVG of our own spec)
            context["vega_spec"] = to_vega(chart)  # the same chart, live in the browser where script runs
        context["finding_form"] = FindingForm(briefings=_open_briefings(project))
    template = "ridp/analysis/_progress.html" if request.headers.get("HX-Request") else "ridp/analysis/result.html"
    return render(request, template, context)


@login_required
@require_GET
def analysis_export(request: HttpRequest, city: str, project_id: int, analysis_id: int, fmt: str) -> HttpResponse:
    item = analysis.get_run(_user(request), city, project_id, analysis_id)
    if fmt not in ("csv", "xlsx"):
        return HttpResponse(_("Export as csv or xlsx."), status=404, content_type="text/plain; charset=utf-8")
    if item.status != AnalysisRun.Status.DONE:
        return HttpResponse(_("The analysis has not finished."), status=409, content_type="text/plain; charset=utf-8")
    frame = analysis.result_of(item).to_pandas()
    name = f"{item.dataset_version.dataset.name}-{item.kind}-run{item.pk}.{fmt}".replace(" ", "_")
    if fmt == "csv":
        response = HttpResponse(to_csv(frame), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            to_xlsx(frame, sheet=item.kind),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def briefing_add(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "project.edit", obj=project)
    form = BriefingForm(request.POST)
    if form.is_valid():
        try:
            item = analysis.create_briefing(user, city, project_id, form.cleaned_data["title"])
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("Briefing “%(title)s” started.") % {"title": item.title})
            return redirect("analysis", city=city, project_id=project_id)
    return _page(request, project, briefing_form=form, status=400)


@login_required
@require_POST
def briefing_finding(request: HttpRequest, city: str, project_id: int, analysis_id: int) -> HttpResponse:
    user = _user(request)
    item = analysis.get_run(user, city, project_id, analysis_id)
    require(user, item.project.city, "project.edit", obj=item.project)
    form = FindingForm(request.POST, briefings=_open_briefings(item.project))
    if form.is_valid():
        try:
            analysis.add_finding(user, city, project_id, form.cleaned_data["briefing"], item.pk,
                                 title=form.cleaned_data["title"], text=form.cleaned_data["text"],
                                 column="value" if item.kind in ("trends", "discovery_rate") else "median_days")  # fmt: skip
        except FieldError as exc:
            show_error(form, exc, aliases={"run": "briefing", "column": "title"})
        else:
            messages.success(request, _("The finding is in the briefing."))
            return redirect("analysis", city=city, project_id=project_id)
    messages.error(request, "; ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("analysis_result", city=city, project_id=project_id, analysis_id=item.pk)


@login_required
@require_POST
def briefing_bless(request: HttpRequest, city: str, project_id: int, briefing_id: int) -> HttpResponse:
    user = _user(request)
    briefing = analysis.get_briefing(user, city, project_id, briefing_id)
    require(user, briefing.project.city, "meeting.bless", obj=briefing.project)
    form = BlessForm(request.POST)
    if form.is_valid():
        try:
            analysis.bless_briefing(user, city, project_id, briefing_id, form.cleaned_data["note"])
        except FieldError as exc:
            messages.error(request, exc.reason)
        else:
            messages.success(request, _("The briefing is blessed."))
    return redirect("analysis", city=city, project_id=project_id)


@login_required
@require_POST
def analysis_targets(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    from ridp.analysis import TargetTable

    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "dataset.map", obj=project)
    form = TargetsForm(request.POST, datasets=_datasets(project))
    if form.is_valid():
        days = form.cleaned_data["lines"]
        try:
            analysis.set_targets(user, city, form.cleaned_data["dataset"],
                                 TargetTable(days, form.cleaned_data["unit"]) if days else None)  # fmt: skip
        except FieldError as exc:
            show_error(form, exc, aliases={"targets": "lines"})
        else:
            messages.success(request, _("Targets saved: %(n)d request types.") % {"n": len(days)})
            return redirect("analysis", city=city, project_id=project_id)
    return _page(request, project, targets_form=form, status=400)


@login_required
@require_POST
def analysis_calendar(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    require(user, project.city, "dataset.inventory", obj=project)
    form = CalendarForm(request.POST)
    if form.is_valid():
        try:
            analysis.set_calendar(user, city, weekdays=form.cleaned_data["weekdays"],
                                  holidays=form.cleaned_data["holidays"])  # fmt: skip
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("The city's working calendar is saved."))
            return redirect("analysis", city=city, project_id=project_id)
    return _page(request, project, calendar_form=form, status=400)


@login_required
@require_GET
def analysis_composite(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    user = _user(request)
    project = get_project(user, city, project_id)
    context = project_context(user, project, "analysis")
    try:
        context["composite"] = analysis.composite_for(user, city, project_id)
    except FieldError as exc:
        context["problem"] = exc.reason
    return render(request, "ridp/analysis/composite.html", context)


urlpatterns: list[URLPattern] = [
    path("", analysis_page, name="analysis"),
    path("run/", analysis_start, name="analysis_start"),
    path("<int:analysis_id>/", analysis_result, name="analysis_result"),
    path("<int:analysis_id>/export/<str:fmt>/", analysis_export, name="analysis_export"),
    path("<int:analysis_id>/finding/", briefing_finding, name="briefing_finding"),
    path("briefings/", briefing_add, name="briefing_add"),
    path("briefings/<int:briefing_id>/bless/", briefing_bless, name="briefing_bless"),
    path("targets/", analysis_targets, name="analysis_targets"),
    path("calendar/", analysis_calendar, name="analysis_calendar"),
    path("composite/", analysis_composite, name="analysis_composite"),
]
