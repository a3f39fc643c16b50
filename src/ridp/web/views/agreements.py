"""A city's data-sharing agreements: the list, drafting one, its lifecycle, and the signed document.

Every page goes through :mod:`ridp.workspace.agreements`, whose functions look the
city up with :func:`ridp.workspace.access.city_for` (another city's agreement is
not found) and check ``agreement.manage`` for every change (denials are audited).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import prefetch_related_objects
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ridp.errors import FieldError
from ridp.web.downloads import attachment
from ridp.web.forms_agreements import AgreementForm, SignForm, TerminateForm, show_error
from ridp.web.uploaded import staged
from ridp.web.views.home import EXPIRY_WARNING_DAYS, expiring
from ridp.workspace import agreements
from ridp.workspace.access import allowed, city_for, require
from ridp.workspace.datasets import list_datasets
from ridp.workspace.models import Agreement, Role, User

S = Agreement.Status
#: Statuses an agreement can be terminated from.
TERMINABLE = (S.DRAFT, S.LEGAL_REVIEW, S.SIGNED, S.ACTIVE)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _managed(user: User, city: str, agreement_id: int) -> Agreement:
    """The agreement (another city's: not found), if ``user`` manages agreements there (else denied, audited)."""
    agreement = agreements.get_agreement(user, city, agreement_id)
    require(user, agreement.city, "agreement.manage", obj=agreement)
    return agreement


@login_required
@require_GET
def agreement_list(request: HttpRequest, city: str) -> HttpResponse:
    user = _user(request)
    city_obj = city_for(user, city)
    items = agreements.list_agreements(user, city)
    prefetch_related_objects(items, "coverage__dataset")
    context = {
        "city": city_obj,
        "agreements": items,
        "expiring": expiring(items),
        "warning_days": EXPIRY_WARNING_DAYS,
        "can_manage": allowed(user, city_obj, "agreement.manage"),
    }
    return render(request, "ridp/agreements/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def agreement_new(request: HttpRequest, city: str) -> HttpResponse:
    user = _user(request)
    city_obj = city_for(user, city)
    require(user, city_obj, "agreement.manage")
    form = AgreementForm(list_datasets(user, city), request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = agreements.add_agreement(user, city, **form.terms())
        except FieldError as exc:
            form.show_error(exc)
        else:
            messages.success(request, _("The agreement is drafted. Send it to legal review when it is ready."))
            return redirect("agreement", city=city, agreement_id=agreement.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "ridp/agreements/new.html", {"city": city_obj, "form": form}, status=status)


def _detail(
    request: HttpRequest,
    city: str,
    agreement_id: int,
    *,
    terminate_form: TerminateForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    agreement = agreements.get_agreement(user, city, agreement_id)
    context = {
        "city": agreement.city,
        "agreement": agreement,
        "coverage": agreement.coverage.select_related("dataset").order_by("dataset__name"),
        "history": agreement.history.select_related("by"),
        "personal_roles": [Role(r).label for r in agreement.personal_roles if r in Role.values],
        "can_manage": allowed(user, agreement.city, "agreement.manage"),
        "can_download": bool(agreement.document) and allowed(user, agreement.city, "rows.read"),
        "terminable": agreement.status in TERMINABLE,
        "ending_soon": bool(expiring([agreement])),
        "warning_days": EXPIRY_WARNING_DAYS,
        "terminate_form": terminate_form or TerminateForm(),
        "error": error,
    }
    return render(request, "ridp/agreements/detail.html", context, status=status)


@login_required
@require_GET
def agreement_detail(request: HttpRequest, city: str, agreement_id: int) -> HttpResponse:
    return _detail(request, city, agreement_id)


@login_required
@require_POST
def agreement_review(request: HttpRequest, city: str, agreement_id: int) -> HttpResponse:
    try:
        agreements.submit_for_review(_user(request), city, agreement_id)
    except FieldError as exc:
        return _detail(request, city, agreement_id, error=exc.reason, status=400)
    messages.success(request, _("The agreement is in legal review. Record the signatures once it is signed."))
    return redirect("agreement", city=city, agreement_id=agreement_id)


@login_required
@require_POST
def agreement_activate(request: HttpRequest, city: str, agreement_id: int) -> HttpResponse:
    try:
        agreements.activate(_user(request), city, agreement_id)
    except FieldError as exc:
        return _detail(request, city, agreement_id, error=exc.reason, status=400)
    messages.success(request, _("The agreement is active: the data it covers can be used as it permits."))
    return redirect("agreement", city=city, agreement_id=agreement_id)


@login_required
@require_POST
def agreement_terminate(request: HttpRequest, city: str, agreement_id: int) -> HttpResponse:
    user = _user(request)
    _managed(user, city, agreement_id)
    form = TerminateForm(request.POST)
    if form.is_valid():
        try:
            agreements.terminate(user, city, agreement_id, reason=form.cleaned_data["reason"])
        except FieldError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("The agreement is terminated: use of the data it covered stops now."))
            return redirect("agreement", city=city, agreement_id=agreement_id)
    return _detail(request, city, agreement_id, terminate_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def agreement_sign(request: HttpRequest, city: str, agreement_id: int) -> HttpResponse:
    user = _user(request)
    agreement = _managed(user, city, agreement_id)
    form = SignForm(request.POST, request.FILES) if request.method == "POST" else SignForm()
    if request.method == "POST" and form.is_valid():
        try:
            with staged(form.cleaned_data["document"], "agreement-") as pdf:
                agreements.sign(user, city, agreement_id, signatories=form.signatories(), document=pdf)
        except FieldError as exc:
            show_error(form, exc, {"signatories": "name_1"})
        else:
            messages.success(request, _("The signatures and the signed document are recorded."))
            return redirect("agreement", city=city, agreement_id=agreement_id)
    context = {"city": agreement.city, "agreement": agreement, "form": form}
    return render(request, "ridp/agreements/sign.html", context, status=400 if request.method == "POST" else 200)


@login_required
@require_GET
def agreement_document(request: HttpRequest, city: str, agreement_id: int) -> FileResponse:
    stored, name = agreements.signed_document(_user(request), city, agreement_id)
    return attachment(stored, name, "application/pdf")


urlpatterns: list[URLPattern] = [
    path("", agreement_list, name="agreements"),
    path("new/", agreement_new, name="agreement_new"),
    path("<int:agreement_id>/", agreement_detail, name="agreement"),
    path("<int:agreement_id>/review/", agreement_review, name="agreement_review"),
    path("<int:agreement_id>/sign/", agreement_sign, name="agreement_sign"),
    path("<int:agreement_id>/activate/", agreement_activate, name="agreement_activate"),
    path("<int:agreement_id>/terminate/", agreement_terminate, name="agreement_terminate"),
    path("<int:agreement_id>/document/", agreement_document, name="agreement_document"),
]
