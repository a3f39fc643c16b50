"""Data readiness of a dataset version: the latest result, running it (a progress bar), its checks and its report.

Thin views over :mod:`ridp.workspace.readiness`: everyone in the city reads the
saved results (personal columns are masked in them whoever ran them), those
allowed row-level data (``rows.read``) start a run, those who map the dataset
(``dataset.map``) declare its checks. A run is a background task; the page polls
a small partial of its progress with htmx, as the upload page does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ridp.errors import FieldError, NotFoundError
from ridp.readiness import CheckResult, CheckSpecError, Readiness
from ridp.workspace import readiness
from ridp.workspace.access import actions_in, require
from ridp.workspace.datasets import get_dataset_by_id, versions
from ridp.workspace.models import Dataset, DatasetVersion, ReadinessRun, User

__all__ = ["REPORT_POLICY", "urlpatterns"]

#: The report is ridp's own self-contained HTML: its inline styles and inline SVG charts, nothing else.
REPORT_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
MAX_CHECKS_YAML = 50_000
SAMPLE_ROWS = 10
LIVE = (ReadinessRun.Status.QUEUED, ReadinessRun.Status.RUNNING)
EXAMPLE = """checks:
  - not_null: request_id
  - unique: request_id
  - in_set: {column: status, values: [Open, Closed]}
  - date_order: {first: created_at, then: closed_at, severity: warning}"""


class ChecksForm(forms.Form):
    """The dataset's checks in YAML; empty goes back to the defaults made from its mapping."""

    yaml = forms.CharField(
        label=gettext_lazy("Checks (YAML)"),
        help_text=gettext_lazy(
            "A list under 'checks:' of not_null, unique, in_set, range, pattern, date_order, referential, freshness "
            "and expression, each with an optional name, severity (error or warning) and description. "
            "Leave it empty to use the default checks made from the mapping."
        ),
        required=False,
        max_length=MAX_CHECKS_YAML,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "mono"}),
    )


@dataclass(frozen=True)
class _Sample:
    """A failing check's first rows, as the saved result holds them (personal columns masked)."""

    check: CheckResult
    columns: list[tuple[str, bool]]  # name, masked
    rows: list[list[tuple[Any, bool]]]  # value, masked


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _number(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise FieldError(name, _("%(value)s is not a number") % {"value": raw[:20]})
    return int(raw)


def _chosen(request: HttpRequest, user: User, found: Dataset) -> tuple[DatasetVersion | None, ReadinessRun | None]:
    """The version the page is about and the run asked for (``?run=``), if any; ``?version=`` picks another."""
    run_id = _number(request, "run")
    if run_id is not None:
        asked = readiness.get_run(user, found.city.slug, found.name, run_id)
        return asked.dataset_version, asked
    number = _number(request, "version")
    if number is None:
        return found.current_version, None
    version = found.versions.filter(number=number).first()
    if version is None:
        raise NotFoundError(f"{found.name} has no version {number}")
    return version, None


def _runs(version: DatasetVersion) -> tuple[ReadinessRun | None, ReadinessRun | None]:
    """The version's newest run (whatever its status) and its newest finished one."""
    runs = version.readiness_runs.select_related("created_by").order_by("-created_at", "-id")
    return runs.first(), runs.filter(status=ReadinessRun.Status.DONE).first()


def _samples(result: Readiness) -> list[_Sample]:
    masked = {c.name for c in result.columns if c.masked}
    out = []
    for c in result.checks:
        if c.sample.empty:
            continue
        head = c.sample.head(SAMPLE_ROWS)
        head = head.astype(object).where(head.notna(), None)
        hidden = [str(col) in masked for col in head.columns]
        rows = [list(zip(row, hidden, strict=True)) for row in head.itertuples(index=False)]
        out.append(_Sample(c, list(zip([str(col) for col in head.columns], hidden, strict=True)), rows))
    return out


def _url(name: str, found: Dataset, **query: Any) -> str:
    base = reverse(name, kwargs={"city": found.city.slug, "dataset_id": found.pk})
    shown = {k: v for k, v in query.items() if v is not None}
    return f"{base}?{urlencode(shown)}" if shown else base


def _page(request: HttpRequest, found: Dataset, *, form: ChecksForm | None = None, status: int = 200) -> HttpResponse:
    user = _user(request)
    can_do = actions_in(user, found.city)
    can = {"rows": "rows.read" in can_do, "map": "dataset.map" in can_do}
    version, asked = _chosen(request, user, found)
    context: dict[str, Any] = {"dataset": found, "city": found.city, "can": can, "version": version}
    if version is not None:
        newest, done = _runs(version)
        shown_run = asked if asked is not None and asked.status == ReadinessRun.Status.DONE else done
        latest = asked or newest
        result = readiness.result_of(shown_run) if shown_run is not None else None
        context |= {
            "versions": versions(user, found.city.slug, found.name),
            "current": version.pk == found.current_version_id,
            "run": latest,
            "live": latest is not None and latest.status in LIVE,
            "percent": round(100 * latest.fraction) if latest is not None else 0,
            "shown_run": shown_run,
            "result": result,
            "samples": _samples(result) if result is not None else [],
            "checks": [(c, f"{c.share:.1%}") for c in result.checks] if result is not None else [],
            "profile": [(c, f"{c.missing_share:.1%}") for c in result.columns] if result is not None else [],
            "report_url": _url("readiness_report", found, run=shown_run.pk) if shown_run is not None else "",
            "progress_url": _url("readiness_progress", found, run=latest.pk) if latest is not None else "",
            "declared": readiness.checks_for(found),
            "example": EXAMPLE,
        }
        if can["map"]:
            context["form"] = form or ChecksForm(initial={"yaml": context["declared"]})
    return render(request, "ridp/readiness/readiness.html", context, status=status)


@login_required
@require_GET
def readiness_page(request: HttpRequest, city: str, dataset_id: int) -> HttpResponse:
    return _page(request, get_dataset_by_id(_user(request), city, dataset_id))


@login_required
@require_POST
def readiness_run(request: HttpRequest, city: str, dataset_id: int) -> HttpResponse:
    user = _user(request)
    found = get_dataset_by_id(user, city, dataset_id)
    require(user, found.city, "rows.read", obj=found)  # before reading the form: refusals say so
    raw = request.POST.get("version", "").strip()
    if raw and (not raw.isdigit() or len(raw) > 9):
        raise FieldError("version", _("%(value)s is not a version number") % {"value": raw[:20]})
    number = int(raw) if raw else None
    started = readiness.request(user, city, found.name, version=number)
    started.refresh_from_db()  # a task backend that runs at once has finished it already
    if started.status in LIVE:
        messages.info(request, _("Readiness is being computed; this page shows its progress."))
    return redirect(_url("readiness", found, run=started.pk))


@login_required
@require_GET
def readiness_progress(request: HttpRequest, city: str, dataset_id: int) -> HttpResponse:
    """The progress of a run (``?run=``, default the current version's newest), for htmx to poll."""
    user = _user(request)
    found = get_dataset_by_id(user, city, dataset_id)
    version, asked = _chosen(request, user, found)
    run = asked if asked is not None else (_runs(version)[0] if version is not None else None)
    if not getattr(request, "htmx", False):
        return redirect(_url("readiness", found, run=run.pk if run is not None else None))
    live = run is not None and run.status in LIVE
    context = {
        "dataset": found,
        "city": found.city,
        "run": run,
        "live": live,
        "percent": round(100 * run.fraction) if run is not None else 0,
        "progress_url": _url("readiness_progress", found, run=run.pk) if run is not None else "",
        "page_url": _url("readiness", found, run=run.pk) if run is not None else "",
    }
    response = render(request, "ridp/readiness/_progress.html", context)
    if run is not None and not live and request.headers.get("HX-Trigger") == "readiness-progress":
        response.headers["HX-Refresh"] = "true"  # finished while the page waited: show the result
    return response


@login_required
@require_GET
def readiness_report(request: HttpRequest, city: str, dataset_id: int) -> HttpResponse:
    """The full report of a finished run (``?run=``, default the version's latest), one self-contained page."""
    user = _user(request)
    found = get_dataset_by_id(user, city, dataset_id)
    version, asked = _chosen(request, user, found)
    run = asked if asked is not None else (_runs(version)[1] if version is not None else None)
    if run is None or run.status != ReadinessRun.Status.DONE or version is None:
        raise NotFoundError(f"no finished readiness run of {found.name}")
    title = _("Data readiness of %(name)s, version %(n)d") % {"name": found.name, "n": version.number}
    response = HttpResponse(readiness.result_of(run).to_html(title=title), content_type="text/html; charset=utf-8")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = (
        f'{disposition}; filename="readiness-{found.pk}-v{version.number}-run{run.pk}.html"'
    )
    response["Content-Security-Policy"] = REPORT_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def readiness_checks(request: HttpRequest, city: str, dataset_id: int) -> HttpResponse:
    user = _user(request)
    found = get_dataset_by_id(user, city, dataset_id)
    require(user, found.city, "dataset.map", obj=found)
    form = ChecksForm(request.POST)
    if form.is_valid():
        try:
            saved = readiness.set_checks(user, city, found.name, form.cleaned_data["yaml"])
        except CheckSpecError as exc:
            form.add_error("yaml", str(exc))  # the line and the check's field, beside the text
        except NotFoundError as exc:
            form.add_error(None, str(exc))
        else:
            if saved.yaml:
                messages.success(request, _("The checks are saved; run readiness again to apply them."))
            else:
                messages.success(request, _("The dataset uses the default checks again."))
            return redirect("readiness", city=city, dataset_id=found.pk)
    return _page(request, found, form=form, status=400)


urlpatterns: list[URLPattern] = [
    path("", readiness_page, name="readiness"),
    path("run/", readiness_run, name="readiness_run"),
    path("progress/", readiness_progress, name="readiness_progress"),
    path("report/", readiness_report, name="readiness_report"),
    path("checks/", readiness_checks, name="readiness_checks"),
]
