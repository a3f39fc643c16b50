"""A project's pilots (PROGRAM.md §7): power before it starts, the randomisation and a second person's
confirmation, the analysis plan frozen before the outcomes, the estimate in residents' terms and its reanalysis.

Thin views over :mod:`ridp.workspace.pilots` and :mod:`ridp.workspace.plans`: one page per pilot, its sections
in the order of the work, and one POST route per action. The permission is checked before a form is read, and
again by the workspace function that changes anything; what the workspace refuses (a wrong column, an estimate
before the plan is frozen, a confirmation by the person who randomised) comes back beside the form's field.
Charts are SVG drawn on the server (vl-convert, offline): no script, nothing from a CDN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ridp.analysis.charts import to_svg
from ridp.errors import FieldError, RidpError, SpecError
from ridp.evaluation.plan import EXAMPLE_PLAN, AnalysisPlan
from ridp.evaluation.reanalysis import Reanalysis
from ridp.web.forms_agreements import show_error
from ridp.web.views.projects import project_context
from ridp.workspace import pilots, plans
from ridp.workspace.access import Action, require
from ridp.workspace.models import Dataset, Pilot, Project, User
from ridp.workspace.projects import get_project
from ridp.workspace.store import home

__all__ = ["urlpatterns"]

#: Units shown per arm in the assignment table (the rest: the API or the CLI).
SHOWN_UNITS = 500


def _numbers(text: str, kind: Callable[[str], float], limit: int) -> list[Any]:
    values = [v.strip() for v in text.split(",") if v.strip()]
    if len(values) > limit:
        raise forms.ValidationError(_("At most %(n)d values.") % {"n": limit})
    out = []
    for value in values:
        try:
            number = kind(value)
        except ValueError:
            raise forms.ValidationError(_("%(v)s is not a number.") % {"v": value}) from None
        if not math.isfinite(number):
            raise forms.ValidationError(_("%(v)s is not a finite number.") % {"v": value})
        out.append(number)
    return out


def _listed(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


class _DatasetsForm(forms.Form):
    """A form whose first field chooses one of the city's datasets."""

    choose = "dataset"

    def __init__(self, *args: Any, datasets: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields[self.choose]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(d, d) for d in datasets]


class PilotForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Short name"), max_length=64,
        help_text=gettext_lazy("Lower-case letters, digits and dashes, e.g. second-crew: the pilot's handle."),
    )  # fmt: skip
    title = forms.CharField(label=gettext_lazy("What the pilot tests"), max_length=200)


class PowerForm(_DatasetsForm):
    """The planned design, studied on the city's own history by formula and by simulation."""

    choose = "history"
    history = forms.ChoiceField(label=gettext_lazy("History dataset"))
    outcome = forms.CharField(
        label=gettext_lazy("Outcome"), initial="days_to_close", max_length=500,
        help_text=gettext_lazy("A numeric column of the history, or days_to_close for service requests with "
                               "their opened and closed dates mapped."),
    )  # fmt: skip
    cluster = forms.CharField(
        label=gettext_lazy("Cluster column"), required=False, max_length=500,
        help_text=gettext_lazy("When whole areas are randomised: the column naming them. Empty: units one by one."),
    )  # fmt: skip
    types = forms.CharField(
        label=gettext_lazy("Request types"), required=False, max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("For days_to_close: one request type per line. Empty: every type."),
    )  # fmt: skip
    effects = forms.CharField(
        label=gettext_lazy("Effects to study"), required=False, max_length=2000,
        help_text=gettext_lazy("Comma-separated, in the outcome's units, e.g. -0.5, -1, -2."),
    )  # fmt: skip
    sizes = forms.CharField(
        label=gettext_lazy("Sizes to study"), required=False, max_length=2000,
        help_text=gettext_lazy("Comma-separated: units, or clusters with a cluster column. Empty: a default range."),
    )  # fmt: skip
    planned_effect = forms.FloatField(
        label=gettext_lazy("Planned effect"), required=False,
        help_text=gettext_lazy("The smallest effect worth finding: the study says whether the design has the power."),
    )  # fmt: skip
    share_treated = forms.FloatField(label=gettext_lazy("Share treated"), initial=0.5, min_value=0.01, max_value=0.99)
    draws = forms.IntegerField(label=gettext_lazy("Simulated draws"), initial=10_000, min_value=100, max_value=100_000)
    seed = forms.IntegerField(label=gettext_lazy("Seed"), initial=0, min_value=0, max_value=2**63 - 1)

    def clean_effects(self) -> list[float]:
        return _numbers(self.cleaned_data.get("effects") or "", float, 50)

    def clean_sizes(self) -> list[int]:
        sizes = _numbers(self.cleaned_data.get("sizes") or "", int, 20)
        if any(s < 2 for s in sizes):
            raise forms.ValidationError(_("A size is a whole number, 2 or more."))
        return sizes

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("effects") and data.get("planned_effect") is None and "effects" not in self.errors:
            self.add_error("effects", _("Give the effects to study, or the planned effect."))
        return data

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        cluster = data.get("cluster") or None
        sizes = data["sizes"]
        return {
            "history": data["history"], "outcome": data["outcome"], "cluster": cluster,
            "types": [t.strip() for t in (data.get("types") or "").splitlines() if t.strip()],
            "effects": data["effects"] or [data["planned_effect"]], "planned_effect": data.get("planned_effect"),
            "n_units": [] if cluster else sizes, "n_clusters": sizes if cluster else [],
            "share_treated": data["share_treated"], "draws": data["draws"], "seed": data["seed"],
        }  # fmt: skip


class RandomiseForm(_DatasetsForm):
    """Who gets the pilot: the units, how they are drawn, the seed, and the covariates to check balance on."""

    choose = "units"
    units = forms.ChoiceField(
        label=gettext_lazy("Units dataset"), help_text=gettext_lazy("One row per unit to assign.")
    )
    unit = forms.CharField(label=gettext_lazy("Unit column"), max_length=500)
    method = forms.ChoiceField(
        label=gettext_lazy("Method"),
        choices=[("simple", gettext_lazy("simple: units one by one")),
                 ("blocked", gettext_lazy("blocked: within each block")),
                 ("clustered", gettext_lazy("clustered: whole clusters")),
                 ("staggered", gettext_lazy("staggered roll-out: every unit, in waves"))],
    )  # fmt: skip
    block = forms.CharField(label=gettext_lazy("Block column"), required=False, max_length=500)
    cluster = forms.CharField(label=gettext_lazy("Cluster column"), required=False, max_length=500)
    share_treated = forms.FloatField(label=gettext_lazy("Share treated"), initial=0.5, min_value=0.01, max_value=0.99)
    waves = forms.IntegerField(label=gettext_lazy("Waves"), required=False, min_value=2, max_value=1000)
    seed = forms.IntegerField(
        label=gettext_lazy("Seed"), required=False, min_value=0, max_value=2**63 - 1,
        help_text=gettext_lazy("Empty: one is drawn at random and recorded."),
    )  # fmt: skip
    covariates = forms.CharField(
        label=gettext_lazy("Covariates"), required=False, max_length=5000,
        help_text=gettext_lazy("Comma-separated columns whose balance between the arms is checked."),
    )  # fmt: skip

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "units": data["units"], "unit": data["unit"], "method": data["method"], "block": data.get("block") or None,
            "cluster": data.get("cluster") or None, "share_treated": data["share_treated"], "waves": data.get("waves"),
            "seed": data.get("seed"), "covariates": _listed(data.get("covariates") or ""),
        }  # fmt: skip


def _yaml_field(label: Any, help_text: Any) -> forms.CharField:
    return forms.CharField(
        label=label, help_text=help_text, max_length=100_000, strip=False,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "mono"}),
    )  # fmt: skip


class PlanForm(forms.Form):
    """The draft plan; the same form freezes it (saving the text first)."""

    yaml = _yaml_field(
        gettext_lazy("Analysis plan (YAML)"),
        gettext_lazy("Questions, hypotheses, primary and secondary outcomes, treatment, unit, cluster, estimator, "
                     "standard errors, covariates, alpha, correction, exclusions and what was already looked at."),
    )  # fmt: skip
    late_reason = forms.CharField(
        label=gettext_lazy("Why it is frozen after the outcome data arrived"), required=False, max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Only once the outcome data have arrived: the reason is kept and the gate shows it."),
    )  # fmt: skip


class DeviationForm(forms.Form):
    yaml = _yaml_field(
        gettext_lazy("The plan as it becomes (YAML)"),
        gettext_lazy("The fields that differ from the plan as it stands are recorded, with the reason."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for the change"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )


class OutcomesForm(_DatasetsForm):
    dataset = forms.ChoiceField(
        label=gettext_lazy("Outcome dataset"),
        help_text=gettext_lazy("The catalogued dataset the pilot's outcomes arrive in; they arrive with its first "
                               "version, and the plan must be frozen before then."),
    )  # fmt: skip


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _datasets(project: Project) -> list[str]:
    return list(Dataset.objects.filter(city=project.city).order_by("name").values_list("name", flat=True))


def _n(value: Any, digits: int = 4) -> str:
    """A number for a table: a dash for none, ∞ for an unbounded interval end, thousands separated."""
    if value is None:
        return "—"
    x = float(value)
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:,.0f}" if abs(x) >= 10**digits else f"{x:.{digits}g}"


def _cell(value: Any) -> Any:
    return "—" if value is None or (not isinstance(value, str) and bool(pd.isna(value))) else value


def _words(exc: RidpError) -> str:
    return exc.reason if isinstance(exc, FieldError) else str(exc)


def _p(value: Any) -> str:
    return "—" if value is None else ("< 0.001" if float(value) < 0.001 else f"{float(value):.3f}")


def _svg(chart: Any) -> str:
    return mark_safe(to_svg(chart))  # noqa: S308  (vl-convert's SVG of our own spec)


def _power(pilot: Pilot) -> dict[str, Any]:
    item = pilot.power_studies.select_related("history_version__dataset", "created_by").first()
    if item is None:
        return {}
    study = pilots.power_of(item)
    return {"power_item": item, "study": study, "study_summary": study.summary(), "power_chart": _svg(study.chart())}


def _randomisation(pilot: Pilot, user: User, can: dict[str, bool]) -> dict[str, Any]:
    item = pilots.latest_randomisation(pilot)
    if item is None:
        return {}
    assignment = pilots.assignment_of(item)
    counts = assignment.counts()
    checked = pilots.balance_of(item)
    out: dict[str, Any] = {
        "randomisation": item, "assignment": assignment, "made_by_me": item.created_by_id == user.pk,
        "counts": (list(counts.columns), [[_n(v) if k == "units" else _cell(v) for k, v in row.items()]
                                          for row in counts.to_dict("records")]),
        "balance": checked,
        "balance_rows": [] if checked is None else [
            {"label": r.label, "compared": r.compared, "control": _n(r.control_mean), "treated": _n(r.treated_mean),
             "smd": _n(r.smd, 3), "p": _p(r.p_value), "test": r.test, "flagged": r.flagged} for r in checked.rows
        ],
    }  # fmt: skip
    if item.confirmation is not None:
        out["confirmation"] = item.confirmation
    if can.get("rows_read"):  # which unit is in which arm: row-level, like the API
        columns = ["unit", "arm"] + [
            c
            for c, on in (("wave", assignment.waves), ("block", assignment.block), ("cluster", assignment.cluster))
            if on is not None
        ]
        arms = assignment.arms.head(SHOWN_UNITS)[columns]
        out["arms_columns"] = columns
        out["arms"] = [[_cell(v) for v in row] for row in arms.itertuples(index=False)]
        out["arms_more"] = max(0, len(assignment.arms) - SHOWN_UNITS)
    return out


def _plan(pilot: Pilot) -> dict[str, Any]:
    record = plans.plan_of(pilot)
    if record is None:
        return {}
    frozen = AnalysisPlan.from_dict(record.spec)
    now, sha = plans.current_plan(record)
    deviations = list(record.deviations.select_related("created_by").order_by("created_at", "id"))
    return {"plan_record": record, "plan_yaml": frozen.to_yaml(), "plan_now_yaml": now.to_yaml(), "plan_now_sha": sha,
            "deviations": deviations}  # fmt: skip


def _estimate(pilot: Pilot, can: dict[str, bool]) -> dict[str, Any]:
    item = pilot.estimates.select_related("outcome_version__dataset", "created_by").first()
    if item is None:
        return {}
    result = plans.estimate_of(item)
    rows = []
    for position, (e, terms) in enumerate(zip(result.estimates, result.residents, strict=True)):
        level = f"{(1 - e.alpha) * 100:g}%"
        rows.append({
            "outcome": e.outcome, "role": _("primary") if position == 0 else _("secondary"), "effect": _n(e.effect),
            "ci": f"{_n(e.ci_low)} to {_n(e.ci_high)}", "level": level, "p": _p(e.p_value),
            "p_adjusted": _p(e.p_adjusted), "correction": e.correction or "", "method": e.label, "n": _n(e.n),
            "n_clusters": _n(e.n_clusters), "control": _n(e.control_mean), "treated": _n(e.treated_mean),
            "warnings": e.warnings, "notes": e.notes, "sentence": None if terms is None else terms.sentence,
        })  # fmt: skip
    out: dict[str, Any] = {"estimate": item, "evaluation": result, "estimate_rows": rows,
                           "effect_chart": _svg(result.chart())}  # fmt: skip
    if item.reanalysis is not None:
        done = Reanalysis.from_dict(item.reanalysis)
        script = Path(done.command[2]) if len(done.command) > 2 else None
        try:
            shown = str(script.relative_to(home())) if script else ""
        except ValueError:
            shown = script.name if script else ""
        out["reanalysis"] = {
            "matches": done.matches, "summary": done.summary(), "script_path": shown, "method": done.method,
            "differences": done.differences, "not_checked": done.not_checked, "warnings": done.warnings,
            "rows": [{"name": r.get("name"), "ridp": _n(r.get("expected"), 8), "recomputed": _n(r.get("recomputed"), 8),
                      "difference": _n(r.get("difference"), 3), "tolerance": _n(r.get("tolerance"), 3),
                      "matches": bool(r.get("matches"))} for r in done.comparison],
            "script": done.script if can.get("rows_read") else "",
        }  # fmt: skip
    return out


def _page(request: HttpRequest, pilot: Pilot, *, status: int = 200, **bound: forms.Form) -> HttpResponse:
    """The pilot's page; ``bound`` holds a form sent back with its errors (its key is its name in the page)."""
    user = _user(request)
    project = pilot.project
    context = project_context(user, project, "pilots")
    can: dict[str, bool] = context["can"]
    context |= {"pilot": pilot, "status": plans.status_of(pilot), "arrived": plans.outcomes_arrived(pilot),
                "example_plan": EXAMPLE_PLAN}  # fmt: skip
    context |= _power(pilot) | _randomisation(pilot, user, can) | _plan(pilot) | _estimate(pilot, can)
    datasets = _datasets(project)
    record = context.get("plan_record")
    frozen = record is not None and record.frozen_at is not None
    shown: dict[str, Callable[[], forms.Form]] = {}
    if can.get("pilot_design"):
        shown["power_form"] = lambda: PowerForm(datasets=datasets)
        shown["randomise_form"] = lambda: RandomiseForm(datasets=datasets)
    randomisation = context.get("randomisation")
    context["can_confirm"] = bool(can.get("rows_read") and randomisation is not None and not context["made_by_me"])
    if context["can_confirm"] and randomisation is not None and randomisation.confirmed_at is None:
        shown["confirm_form"] = forms.Form
    if can.get("plan_freeze"):
        if frozen:
            shown["deviation_form"] = lambda: DeviationForm(initial={"yaml": context["plan_now_yaml"]})
        else:
            shown["plan_form"] = lambda: PlanForm(initial={"yaml": context.get("plan_yaml", "")})
    if can.get("pilot_evaluate"):
        shown["outcomes_form"] = lambda: OutcomesForm(
            datasets=datasets, initial={"dataset": pilot.outcome_dataset.name if pilot.outcome_dataset else None}
        )
        shown["evaluate_form"] = forms.Form
    if can.get("rows_read") and "estimate" in context:
        shown["reanalyse_form"] = forms.Form
    for name, make in shown.items():
        context[name] = bound.get(name) or make()
    for name, form in bound.items():  # a refused form is shown even where the page would not offer it now
        context.setdefault(name, form)
    return render(request, "ridp/pilots/pilot.html", context, status=status)


def _back(pilot: Pilot, section: str) -> HttpResponse:
    url = reverse(
        "pilot", kwargs={"city": pilot.project.city.slug, "project_id": pilot.project_id, "pilot": pilot.name}
    )
    return redirect(f"{url}#{section}")


def _refused(form: forms.Form, exc: RidpError, field: str | None = None, aliases: dict[str, str] | None = None) -> None:
    """A workspace refusal beside its field (a FieldError names it), else beside ``field`` or above the form."""
    if isinstance(exc, SpecError):
        form.add_error("yaml", str(exc))  # the line and the plan's field, beside the text
    elif isinstance(exc, FieldError) and (aliases or {}).get(exc.field, exc.field) in form.fields:
        show_error(form, exc, aliases)
    else:
        form.add_error(field if field in form.fields else None, str(exc))


# ---- the list --------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def pilots_page(request: HttpRequest, city: str, project_id: int) -> HttpResponse:
    """The project's pilots, where each stands, and (POST) a new one."""
    user = _user(request)
    project = get_project(user, city, project_id)
    items = pilots.list_pilots(user, city, project_id)
    form = PilotForm()
    status = 200
    if request.method == "POST":
        require(user, project.city, "pilot.design", obj=project)
        form = PilotForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                pilot = pilots.create_pilot(
                    user, city, project_id, form.cleaned_data["name"], form.cleaned_data["title"]
                )
            except FieldError as exc:
                show_error(form, exc)
            else:
                messages.success(request, _("Pilot “%(title)s” started.") % {"title": pilot.title})
                return _back(pilot, "h-power")
    context = project_context(user, project, "pilots")
    context |= {"pilots": [(p, plans.status_of(p)) for p in items], "form": form}
    return render(request, "ridp/pilots/list.html", context, status=status)


# ---- one pilot ----------------------------------------------------------------------------------------------------


@login_required
@require_GET
def pilot_page(request: HttpRequest, city: str, project_id: int, pilot: str) -> HttpResponse:
    return _page(request, pilots.get_pilot(_user(request), city, project_id, pilot))


def _acting(request: HttpRequest, city: str, project_id: int, name: str, action: Action) -> tuple[User, Pilot]:
    """The person and the pilot, once the person may do ``action`` (404 for another city's, 403 if not)."""
    user = _user(request)
    pilot = pilots.get_pilot(user, city, project_id, name)
    require(user, pilot.project.city, action, obj=pilot.project)
    return user, pilot


@login_required
@require_POST
def pilot_power(request: HttpRequest, city: str, project_id: int, pilot: str) -> HttpResponse:
    user, item = _acting(request, city, project_id, pilot, "pilot.design")
    form = PowerForm(request.POST, datasets=_datasets(item.project))
    if form.is_valid():
        try:
            study = pilots.study_power(user, city, project_id, item.name, **form.params())
        except RidpError as exc:
            _refused(form, exc, "history", {"n_units": "sizes", "n_clusters": "sizes", "version": "history"})
        else:
            if study.adequate:
                messages.success(request, _("Power studied: the design has enough power."))
            else:
                messages.warning(request, _("Power studied: the design has too little power."))
            return _back(item, "h-power")
    return _page(request, item, power_form=form, status=400)


@login_required
@require_POST
def pilot_randomise(request: HttpRequest, city: str, project_id: int, pilot: str) -> HttpResponse:
    user, item = _acting(request, city, project_id, pilot, "pilot.design")
    form = RandomiseForm(request.POST, datasets=_datasets(item.project))
    if form.is_valid():
        try:
            done = pilots.randomise(user, city, project_id, item.name, **form.params())
        except RidpError as exc:
            _refused(form, exc, "units", {"share": "share_treated", "version": "units"})
        else:
            messages.success(request, _("Units assigned with seed %(seed)s: a second person now confirms it.")
                             % {"seed": done.record.get("seed")})  # fmt: skip
            return _back(item, "h-randomisation")
    return _page(request, item, randomise_form=form, status=400)


@login_required
@require_POST
def pilot_confirm(request: HttpRequest, city: str, project_id: int, pilot: str, randomisation_id: int) -> HttpResponse:
    user, item = _acting(request, city, project_id, pilot, "rows.read")

    def rerun() -> bool:
        done = pilots.confirm_randomisation(user, city, project_id, item.name, randomisation_id)
        return bool((done.confirmation or {}).get("matches"))

    return _rerun(request, item, rerun, form="confirm_form", anchor="h-randomisation",
                  same=_("Rerun: the same assignment. The randomisation is confirmed."),
                  differs=_("Rerun: NOT the same assignment. The difference is recorded."))  # fmt: skip


def _rerun(request: HttpRequest, item: Pilot, run: Callable[[], bool], *, form: str, anchor: str, same: str,
           differs: str) -> HttpResponse:  # fmt: skip
    """A check that reruns something recorded (a randomisation, a reanalysis): its verdict as a message."""
    bound = forms.Form(request.POST)
    try:
        matches = run()
    except RidpError as exc:
        bound.add_error(None, _words(exc))
        return _page(request, item, status=400, **{form: bound})
    (messages.success if matches else messages.error)(request, same if matches else differs)
    return _back(item, anchor)


@login_required
@require_POST
def plan_save(request: HttpRequest, city: str, project_id: int, pilot: str) -> HttpResponse:
    user, item = _acting(request, city, project_id, pilot, "plan.freeze")
    form = PlanForm(request.POST)
    if form.is_valid():
        try:
            plans.save_plan(user, city, project_id, item.name, form.cleaned_data["yaml"])
        except RidpError as exc:
            _refused(form, exc, "yaml", {"plan": "yaml"})
        else:
            messages.success(request, _("The draft plan is saved; it is not frozen yet."))
            return _back(item, "h-plan")
    return _page(request, item, plan_form=form, status=400)


@login_required
@require_POST
def plan_freeze(request: HttpRequest, city: str, project_id: int, pilot: str) -> HttpResponse:
    """Save the text in the form as the draft and freeze it, both or neither."""
    user, item = _acting(request, city, project_id, pilot, "plan.freeze")
    form = PlanForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                plans.save_plan(user, city, project_id, item.name, form.cleaned_data["yaml"])
                record = plans.freeze_plan(user, city, project_id, item.name,
                                           late_reason=form.cleaned_data.get("late_reason") or "")  # fmt: skip
        except RidpError as exc:
            _refused(form, exc, "yaml", {"plan": "yaml"})
        else:
            messages.success(request, _("The plan is frozen: SHA-256 %(sha)s.") % {"sha": record.sha256})
            return _back(item, "h-plan")
    return _page(request, item, plan_form=form, status=400)


@login_required
@require_POST
def plan_deviate(request: HttpRequest, city: str, project_id: int, pilot: str) -> HttpResponse:
    user, item = _acting(request, city, project_id, pilot, "plan.freeze")
    form = DeviationForm(request.POST)
    if form.is_valid():
        try:
            done = plans.deviate(user, city, project_id, item.name, form.cleaned_data["yaml"],
                                 form.cleaned_data["reason"])  # fmt: skip
        except RidpError as exc:
            _refused(form, exc, "yaml", {"plan": "yaml"})
        else:
            fields = ", ".join(c["field"] for c in done.changes)
            messages.success(request, _("The deviation is recorded: %(fields)s.") % {"fields": fields})
            return _back(item, "h-plan")
    return _page(request, item, deviation_form=form, status=400)


@login_required
@require_POST
def pilot_outcomes(request: HttpRequest, city: str, project_id: int, pilot: str) -> HttpResponse:
    user, item = _acting(request, city, project_id, pilot, "pilot.evaluate")
    form = OutcomesForm(request.POST, datasets=_datasets(item.project))
    if form.is_valid():
        try:
            plans.link_outcomes(user, city, project_id, item.name, form.cleaned_data["dataset"])
        except RidpError as exc:
            _refused(form, exc, "dataset")
        else:
            messages.success(request, _("The outcome data are linked."))
            return _back(item, "h-outcomes")
    return _page(request, item, outcomes_form=form, status=400)


@login_required
@require_POST
def pilot_evaluate(request: HttpRequest, city: str, project_id: int, pilot: str) -> HttpResponse:
    user, item = _acting(request, city, project_id, pilot, "pilot.evaluate")
    form = forms.Form(request.POST)
    try:
        plans.evaluate_pilot(user, city, project_id, item.name)
    except RidpError as exc:  # refused until the plan is frozen; no outcome data; a column the plan names is missing
        form.add_error(None, _words(exc))
    else:
        messages.success(request, _("Estimated under the plan."))
        return _back(item, "h-estimate")
    return _page(request, item, evaluate_form=form, status=400)


@login_required
@require_POST
def pilot_reanalyse(request: HttpRequest, city: str, project_id: int, pilot: str, estimate_id: int) -> HttpResponse:
    user, item = _acting(request, city, project_id, pilot, "rows.read")

    def rerun() -> bool:
        done = plans.reanalyse_estimate(user, city, project_id, item.name, estimate_id)
        return bool((done.reanalysis or {}).get("matches"))

    return _rerun(request, item, rerun, form="reanalyse_form", anchor="h-reanalysis",
                  same=_("Reanalysed by the standalone script: the numbers match."),
                  differs=_("Reanalysed by the standalone script: the numbers do NOT match."))  # fmt: skip


urlpatterns: list[URLPattern] = [
    path("", pilots_page, name="pilots"),
    path("<slug:pilot>/", pilot_page, name="pilot"),
    path("<slug:pilot>/power/", pilot_power, name="pilot_power"),
    path("<slug:pilot>/randomise/", pilot_randomise, name="pilot_randomise"),
    path("<slug:pilot>/randomisations/<int:randomisation_id>/confirm/", pilot_confirm, name="pilot_confirm"),
    path("<slug:pilot>/plan/", plan_save, name="plan_save"),
    path("<slug:pilot>/plan/freeze/", plan_freeze, name="plan_freeze"),
    path("<slug:pilot>/plan/deviations/", plan_deviate, name="plan_deviate"),
    path("<slug:pilot>/outcomes/", pilot_outcomes, name="pilot_outcomes"),
    path("<slug:pilot>/estimate/", pilot_evaluate, name="pilot_evaluate"),
    path("<slug:pilot>/estimates/<int:estimate_id>/reanalyse/", pilot_reanalyse, name="pilot_reanalyse"),
]
