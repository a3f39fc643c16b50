"""Testing and action beyond the randomised pilot (PROGRAM.md §7): quasi-experimental analysis of a catalogued
dataset, and the project's adoption decision.

Thin views over :mod:`ridp.workspace.quasi` and :mod:`ridp.workspace.adoption`.

* A dataset's "Quasi-experimental analysis" page: choose a method (difference-in-differences, two-way fixed
  effects, Callaway-Sant'Anna, Sun-Abraham, interrupted time series, synthetic control), then its fields. Every
  column is a select of the dataset's own columns (those the person sees masked are left out): no free SQL,
  nothing typed that becomes a query. The run is not stored (it is audited); the page shows the summary, the
  warnings, the method's own chart (SVG drawn on the server, offline: no script, nothing from a CDN) and the
  tables behind the number. Only people who may read rows open it; a pilot's outcome data wait for its frozen
  plan (the workspace refuses, and the reason comes back above the form).
* A project's "Adoption decision" page: everyone in the city reads the decisions, latest first; senior leaders
  (and programme admins) record one — scale, adapt or stop — with the reason and the recorded estimate it rests on.

The permission is checked before a form is read, and again by the workspace function.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final, get_args

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from ridp.analysis.charts import to_svg
from ridp.errors import FieldError, RidpError
from ridp.evaluation.did import DidSE, TwfeSE
from ridp.evaluation.quasi import DETAIL_KINDS, QuasiEstimate
from ridp.web.forms_agreements import show_error
from ridp.web.views.projects import project_context
from ridp.workspace import adoption, plans
from ridp.workspace.access import actions_in, require
from ridp.workspace.datasets import get_dataset_by_id, masked_columns
from ridp.workspace.models import Dataset, Pilot, PilotEstimate, Project, User
from ridp.workspace.projects import get_project
from ridp.workspace.quasi import run_method

__all__ = ["dataset_urlpatterns", "project_urlpatterns"]

#: Rows shown per table (the API returns them all).
SHOWN_ROWS: Final = 200
DEFAULT_METHOD: Final = "did"

METHOD_LABELS: Final[dict[str, Any]] = {
    "did": gettext_lazy("Difference-in-differences, 2×2 (treated group × after period)"),
    "twfe": gettext_lazy("Two-way fixed effects (a panel: units × periods)"),
    "callaway_santanna": gettext_lazy("Staggered roll-out: Callaway-Sant'Anna group-time effects"),
    "sun_abraham": gettext_lazy("Staggered roll-out: Sun-Abraham event study"),
    "its": gettext_lazy("Interrupted time series"),
    "synth": gettext_lazy("Synthetic control"),
}
TABLE_CAPTIONS: Final[dict[str, Any]] = {
    "att_gt": gettext_lazy("Group-time effects, ATT(g,t)"),
    "groups": gettext_lazy("Effects by group (the period first treated)"),
    "calendar": gettext_lazy("Effects by calendar period"),
    "weights": gettext_lazy("Donor weights of the synthetic control"),
    "predictors": gettext_lazy("Predictors: the treated unit, its synthetic control and the donors"),
    "placebos": gettext_lazy("Placebo units: each one's ratio of the gap after the start to before it (RMSPE)"),
    "rate_ratio": gettext_lazy("Rate ratio at the change"),
}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _svg(chart: Any) -> str:
    return mark_safe(to_svg(chart))  # noqa: S308  (vl-convert's SVG of our own spec)


# ---- the method forms -------------------------------------------------------------------------------------------


class ColumnField(forms.ChoiceField):
    """One column of the dataset: its choices are set by the form."""


class ColumnsField(forms.MultipleChoiceField):
    """Several columns of the dataset."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, widget=forms.SelectMultiple(attrs={"size": 5}), **kwargs)


def _choice(label: Any, values: Sequence[str], initial: str, help_text: Any = "") -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=[(v, v) for v in values], initial=initial, help_text=help_text)


def _whole(label: Any, initial: int | None, low: int, high: int, help_text: Any = "") -> forms.IntegerField:
    return forms.IntegerField(label=label, initial=initial, required=False, min_value=low, max_value=high,
                              help_text=help_text)  # fmt: skip


def _text(label: Any, help_text: Any = "", required: bool = True) -> forms.CharField:
    return forms.CharField(label=label, help_text=help_text, required=required, max_length=200)


def _typed(text: str, dtype: str) -> int | float | str:
    """A unit or a period typed in the form, as the column holds it: a whole number, a number, or text."""
    kind = dtype.lower()
    if kind.startswith(("int", "uint")):
        return int(text)
    if kind.startswith(("double", "float", "decimal")):
        return float(text)
    if kind.startswith(("string", "large_string", "utf8", "date", "timestamp", "bool")):
        return text
    for convert in (int, float):  # unknown type: as the command line reads it
        try:
            return convert(text)
        except ValueError:
            continue
    return text


class MethodForm(forms.Form):
    """A method's parameters; column fields offer the dataset's columns, the version its versions."""

    method: ClassVar[str] = ""
    #: The columns with a role of their own: no two of them may be the same column.
    roles: ClassVar[tuple[str, ...]] = ()
    #: Parameters sent only when another is set: {parameter: the one it depends on}.
    only_with: ClassVar[dict[str, str]] = {}
    #: FieldError fields of the estimator that are shown beside another field of the form.
    aliases: ClassVar[dict[str, str]] = {}

    version = forms.TypedChoiceField(label=gettext_lazy("Version"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, columns: Sequence[str], versions: Sequence[int],
                 dtypes: Mapping[str, str] | None = None, **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.dtypes = dict(dtypes or {})
        for field in self.fields.values():
            if isinstance(field, ColumnsField):
                field.choices = [(c, c) for c in columns]
            elif isinstance(field, ColumnField):
                empty = _("— choose a column —") if field.required else "—"
                field.choices = [("", empty), *((c, c) for c in columns)]
        version = self.fields["version"]
        assert isinstance(version, forms.ChoiceField)
        version.choices = [("", _("the current version")), *((str(n), str(n)) for n in versions)]
        self.order_fields([name for name in self.fields if name != "version"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        seen: dict[str, str] = {}
        for name in self.roles:
            column = data.get(name)
            if not column:
                continue
            if column in seen:
                self.add_error(name, _("%(column)s is the %(role)s column already: each role needs its own column.")
                               % {"column": column, "role": self.fields[seen[column]].label})  # fmt: skip
            else:
                seen[column] = name
        return data

    def convert(self, data: dict[str, Any]) -> dict[str, Any]:
        """The method's own conversions of the cleaned values (a period typed as text, a list of lines)."""
        return data

    def params(self) -> dict[str, Any]:
        """The estimator's parameters: the fields that are set, without the version."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "version" and v not in (None, "", [])}
        for name, needs in self.only_with.items():
            if needs not in data:
                data.pop(name, None)
        return self.convert(data)


class DidForm(MethodForm):
    method = "did"
    roles = ("outcome", "group", "post")
    outcome = ColumnField(label=gettext_lazy("Outcome"))
    group = ColumnField(label=gettext_lazy("Treated group"), help_text=gettext_lazy("1 for the treated group, 0 for the comparison group."))  # fmt: skip
    post = ColumnField(label=gettext_lazy("After period"), help_text=gettext_lazy("1 from the change on, 0 before."))
    covariates = ColumnsField(label=gettext_lazy("Covariates"))
    cluster = ColumnField(label=gettext_lazy("Cluster"), required=False,
                          help_text=gettext_lazy("When whole areas (or other groups) are treated: the column naming them."))  # fmt: skip
    se = _choice(gettext_lazy("Standard errors"), get_args(DidSE), "auto",
                 gettext_lazy("auto: HC2 without clusters, CR2 with them."))  # fmt: skip


class TwfeForm(MethodForm):
    method = "twfe"
    roles = ("outcome", "unit", "time", "treatment")
    outcome = ColumnField(label=gettext_lazy("Outcome"))
    unit = ColumnField(label=gettext_lazy("Unit"))
    time = ColumnField(label=gettext_lazy("Period"))
    treatment = ColumnField(label=gettext_lazy("Treated now"), help_text=gettext_lazy("1 in the periods a unit is treated, else 0."))  # fmt: skip
    covariates = ColumnsField(label=gettext_lazy("Covariates"))
    cluster = ColumnField(label=gettext_lazy("Cluster"), required=False, help_text=gettext_lazy("Empty: the unit."))
    se = _choice(gettext_lazy("Standard errors"), get_args(TwfeSE), "auto",
                 gettext_lazy("auto: CR1, or the wild cluster bootstrap with few clusters."))  # fmt: skip


class CallawaySantAnnaForm(MethodForm):
    method = "callaway_santanna"
    roles = ("outcome", "unit", "time", "first_treated")
    outcome = ColumnField(label=gettext_lazy("Outcome"))
    unit = ColumnField(label=gettext_lazy("Unit"))
    time = ColumnField(label=gettext_lazy("Period"))
    first_treated = ColumnField(label=gettext_lazy("First treated"), help_text=gettext_lazy("The period each unit was first treated; 0 or empty for never."))  # fmt: skip
    control = _choice(gettext_lazy("Comparison units"), ("never", "notyet"), "never",
                      gettext_lazy("never: never-treated units; notyet: also those not yet treated."))  # fmt: skip
    aggregation = _choice(gettext_lazy("Headline effect"), ("group", "simple", "dynamic", "calendar"), "group")
    reps = _whole(gettext_lazy("Bootstrap draws"), 999, 99, 99_999)
    seed = _whole(gettext_lazy("Seed"), 0, 0, 2**31 - 1)


class SunAbrahamForm(MethodForm):
    method = "sun_abraham"
    roles = ("outcome", "unit", "time", "first_treated")
    outcome = ColumnField(label=gettext_lazy("Outcome"))
    unit = ColumnField(label=gettext_lazy("Unit"))
    time = ColumnField(label=gettext_lazy("Period"))
    first_treated = ColumnField(label=gettext_lazy("First treated"), help_text=gettext_lazy("The period each unit was first treated; 0 or empty for never."))  # fmt: skip


class ItsForm(MethodForm):
    method = "its"
    roles = ("outcome", "time", "post", "season")
    only_with: ClassVar[dict[str, str]] = {"period": "season", "harmonics": "season"}
    outcome = ColumnField(label=gettext_lazy("Outcome"), help_text=gettext_lazy("A measure, or a count per period."))
    time = ColumnField(label=gettext_lazy("Period"), help_text=gettext_lazy("Evenly spaced: a number or a date."))
    post = ColumnField(label=gettext_lazy("After the change"), help_text=gettext_lazy("1 from the change on, 0 before."))  # fmt: skip
    family = _choice(gettext_lazy("Model"), ("gaussian", "poisson", "quasipoisson", "negbin"), "gaussian",
                     gettext_lazy("gaussian for a measure; poisson, quasipoisson or negbin for counts."))  # fmt: skip
    offset = ColumnField(label=gettext_lazy("Exposure"), required=False, help_text=gettext_lazy("Counts: the population or exposure column (its log is the offset)."))  # fmt: skip
    season = ColumnField(label=gettext_lazy("Season"), required=False, help_text=gettext_lazy("The position in the seasonal cycle (month 1-12, week 1-52)."))  # fmt: skip
    period = _whole(gettext_lazy("Length of the cycle"), 12, 2, 366)
    harmonics = _whole(gettext_lazy("Sine and cosine pairs"), 2, 1, 10)
    slope_change = forms.BooleanField(label=gettext_lazy("Also estimate a change of trend"), required=False, initial=True)  # fmt: skip
    se = _choice(gettext_lazy("Standard errors"), ("auto", "model", "HAC"), "auto",
                 gettext_lazy("HAC: Newey-West, robust to autocorrelation."))  # fmt: skip


class SynthForm(MethodForm):
    method = "synth"
    roles = ("outcome", "unit", "time")
    aliases: ClassVar[dict[str, str]] = {"predictor_period": "predictor_first"}
    outcome = ColumnField(label=gettext_lazy("Outcome"))
    unit = ColumnField(label=gettext_lazy("Unit"))
    time = ColumnField(label=gettext_lazy("Period"))
    treated_unit = _text(gettext_lazy("Treated unit"), gettext_lazy("A value of the unit column."))
    start = _text(gettext_lazy("First period of the intervention"), gettext_lazy("A value of the period column."))
    predictors = ColumnsField(label=gettext_lazy("Predictors"), help_text=gettext_lazy("Averaged over the pre-period. None: the outcome in every pre-period."))  # fmt: skip
    predictor_first = _text(gettext_lazy("Predictors from period"), required=False)
    predictor_last = _text(gettext_lazy("Predictors to period"), gettext_lazy("Both empty: the whole pre-period."), required=False)  # fmt: skip
    special = forms.CharField(
        label=gettext_lazy("Special predictors"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}),
        help_text=gettext_lazy("One per line: column:first:last, a predictor averaged over its own periods, e.g. sales:1975:1975."),
    )  # fmt: skip
    placebos = forms.BooleanField(label=gettext_lazy("Placebo-in-space inference"), required=False, initial=True)
    starts = _whole(gettext_lazy("Starting points of the search"), 3, 1, 50)

    def __init__(self, *args: Any, columns: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, columns=columns, **kwargs)
        self.columns = list(columns)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("predictor_first")) != bool(data.get("predictor_last")):
            self.add_error("predictor_first", _("Give both periods, or neither."))
        return data

    def clean_special(self) -> list[tuple[str, str, str]]:
        out = []
        for line in (self.cleaned_data.get("special") or "").splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(":")]
            if len(parts) != 3 or not all(parts):
                raise forms.ValidationError(_("%(line)s is column:first:last, e.g. sales:1975:1975.") % {"line": line})
            if parts[0] not in self.columns:
                raise forms.ValidationError(_("%(column)s is not a column of the dataset.") % {"column": parts[0]})
            out.append((parts[0], parts[1], parts[2]))
        return out

    def convert(self, data: dict[str, Any]) -> dict[str, Any]:
        unit, time = self.dtypes.get(data.get("unit", ""), ""), self.dtypes.get(data.get("time", ""), "")
        typed = {"treated_unit": unit, "start": time, "predictor_first": time, "predictor_last": time}
        for name, dtype in typed.items():
            if name in data:
                try:
                    data[name] = _typed(data[name], dtype)
                except ValueError:
                    raise FieldError(name, _("%(value)s is not a value of a column of %(type)s")
                                     % {"value": data[name], "type": dtype}) from None  # fmt: skip
        if "predictor_first" in data:
            data["predictor_period"] = (data.pop("predictor_first"), data.pop("predictor_last"))
        specials = []
        for column, first, last in data.pop("special", []):
            try:
                specials.append((column, _typed(first, time), _typed(last, time)))
            except ValueError:
                raise FieldError("special", _("%(first)s and %(last)s are periods: values of a column of %(type)s")
                                 % {"first": first, "last": last, "type": time}) from None  # fmt: skip
        if specials:
            data["special"] = specials
        return data


FORMS: Final[dict[str, type[MethodForm]]] = {
    form.method: form for form in (DidForm, TwfeForm, CallawaySantAnnaForm, SunAbrahamForm, ItsForm, SynthForm)
}


class ChooseForm(forms.Form):
    """The method, chosen first: the page then shows its fields."""

    method = forms.ChoiceField(label=gettext_lazy("Method"), choices=list(METHOD_LABELS.items()))


# ---- the result ---------------------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return f"{value:,.6g}" if abs(value) < 1e15 else f"{value:.6g}"
    return str(value)


def _table(key: str, caption: Any, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    shown = [[_cell(row.get(c)) for c in columns] for row in rows[:SHOWN_ROWS]]
    return {"key": key, "caption": caption, "columns": columns, "rows": shown, "more": max(0, len(rows) - SHOWN_ROWS)}


def result_context(result: QuasiEstimate) -> dict[str, Any]:
    """What the page shows of a run: the summary (warnings apart), the chart and every table behind the number."""
    lines = [line for line in result.summary().splitlines() if not line.startswith("Warning: ")]
    tables = []
    if result.detail:
        caption = str(DETAIL_KINDS.get(result.detail_kind, result.detail_kind or _("Detail")))
        tables.append(_table("detail", caption[:1].upper() + caption[1:], result.detail))
    for name, rows in result.tables.items():
        if rows:
            tables.append(_table(name, TABLE_CAPTIONS.get(name, name), rows))
    return {"result": result, "summary_lines": lines, "chart": _svg(result.chart()), "tables": tables}


# ---- the dataset's page --------------------------------------------------------------------------------------------


def _columns(user: User, found: Dataset) -> tuple[list[str], dict[str, str], list[str]]:
    """The current version's columns this person may use, their types, and those left out (seen masked)."""
    version = found.current_version
    schema = list(version.schema) if version is not None else []
    hidden = masked_columns(user, found)
    names = [str(c["name"]) for c in schema if str(c["name"]) not in hidden]
    return names, {str(c["name"]): str(c.get("dtype", "")) for c in schema}, sorted(hidden)


def _quasi_page(request: HttpRequest, found: Dataset, method: str, form: MethodForm | None, *, status: int = 200,
                **extra: Any) -> HttpResponse:  # fmt: skip
    can = actions_in(_user(request), found.city)
    context: dict[str, Any] = {
        "dataset": found, "city": found.city, "version": found.current_version, "method": method,
        "method_label": METHOD_LABELS.get(method, method), "form": form,
        "choose_form": ChooseForm(initial={"method": method}, auto_id="choose_%s"),
        "can": {"rows": "rows.read" in can, "inventory": "dataset.inventory" in can},
        "outcome_of": list(Pilot.objects.filter(outcome_dataset=found).select_related("project").order_by("name")),
    }  # fmt: skip
    context.update(extra)
    return render(request, "ridp/quasi/dataset.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def dataset_quasi(request: HttpRequest, city: str, dataset_id: int) -> HttpResponse:
    """GET: the method's form (``?method=``); POST: run it and show the result beside the form."""
    user = _user(request)
    found = get_dataset_by_id(user, city, dataset_id)
    require(user, found.city, "rows.read", obj=found)  # row-level data: refused before anything is read
    source = request.POST if request.method == "POST" else request.GET
    method = str(source.get("method") or DEFAULT_METHOD)
    columns, dtypes, hidden = _columns(user, found)
    versions = list(found.versions.order_by("-number").values_list("number", flat=True))
    chosen = FORMS.get(method)
    if chosen is None:
        form = FORMS[DEFAULT_METHOD](columns=columns, versions=versions, dtypes=dtypes)
        refused = _("%(method)s is not a method: choose one of the list.") % {"method": method[:40]}
        return _quasi_page(request, found, DEFAULT_METHOD, form, status=400, hidden=hidden, refused=refused)
    if request.method != "POST":
        form = chosen(columns=columns, versions=versions, dtypes=dtypes)
        return _quasi_page(request, found, method, form, hidden=hidden)
    form = chosen(request.POST, columns=columns, versions=versions, dtypes=dtypes)
    if form.is_valid():
        try:
            result = run_method(user, city, found.name, method, form.params(), version=form.cleaned_data["version"])
        except FieldError as exc:
            show_error(form, exc, form.aliases)
        except RidpError as exc:  # a pilot's outcome data before its plan is frozen, a version that does not exist
            form.add_error(None, str(exc))
        else:
            return _quasi_page(request, found, method, form, hidden=hidden, **result_context(result))
    return _quasi_page(request, found, method, form, status=400, hidden=hidden)


# ---- the project's adoption decision -------------------------------------------------------------------------------


def _estimates(project: Project) -> list[tuple[int, str]]:
    """The project's recorded estimates, newest first, each as the select shows it."""
    out = []
    items = PilotEstimate.objects.filter(pilot__project=project).select_related("pilot", "outcome_version__dataset")
    for item in items.order_by("-created_at", "-id"):
        primary = plans.estimate_of(item).primary
        first = primary.summary().splitlines()[0]
        out.append((item.pk, _("Estimate %(id)s of pilot %(pilot)s (%(when)s): %(line)s")
                    % {"id": item.pk, "pilot": item.pilot.name, "when": f"{item.created_at:%Y-%m-%d}", "line": first}))  # fmt: skip
    return out


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("", "—"), ("scale", gettext_lazy("Scale: the solution becomes how the service works")),
                 ("adapt", gettext_lazy("Adapt: change it, then test again")),
                 ("stop", gettext_lazy("Stop: the city does not go on with it"))],
    )  # fmt: skip
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=adoption.MAX_REASON, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Why: the decision is kept with its reason."),
    )  # fmt: skip
    estimate = forms.TypedChoiceField(label=gettext_lazy("The estimate it rests on"), coerce=int)

    def __init__(self, *args: Any, estimates: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["estimate"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(pk), label) for pk, label in estimates]


@login_required
@require_http_methods(["GET", "POST"])
def adoption_page(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    """The project's adoption decisions, latest first, and (POST, for those who decide) a new one."""
    user = _user(request)
    project = get_project(user, city, project_id)
    form: DecisionForm | None = None
    status = 200
    if request.method == "POST":
        require(user, project.city, "adoption.decide", obj=project)
        form = DecisionForm(request.POST, estimates=_estimates(project))
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                made = adoption.record_decision(user, city, project_id, decision=data["decision"],
                                                reason=data["reason"], estimate_id=data["estimate"])  # fmt: skip
            except RidpError as exc:
                if isinstance(exc, FieldError):
                    show_error(form, exc)
                else:
                    form.add_error("estimate", str(exc))
            else:
                messages.success(request, _("The decision is recorded: %(decision)s.") % {"decision": made.decision})
                url = reverse("adoption", kwargs={"city": project.city.slug, "project_id": project.pk})
                return redirect(f"{url}#h-decisions")
    context = project_context(user, project, "adoption")
    if context["can"].get("adoption_decide"):
        context["form"] = form or DecisionForm(estimates=_estimates(project))
    found = adoption.decisions(user, city, project_id)
    context |= {
        "decisions": [(item, adoption.describe_decision(item)) for item in found],
        "estimate_gaps": adoption.estimate_gaps(project),
    }
    return render(request, "ridp/quasi/adoption.html", context, status=status)


dataset_urlpatterns: list[URLPattern] = [path("", dataset_quasi, name="dataset_quasi")]
project_urlpatterns: list[URLPattern] = [path("", adoption_page, name="adoption")]
