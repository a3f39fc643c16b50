"""The city's data catalog: datasets and their inventory records, uploads, previews, mappings and column classes.

Every page finds its dataset through :func:`ridp.workspace.datasets.get_dataset_by_id`
(another city's id is not found) and leaves the decisions to the workspace, which
checks the role (and the agreements) again on every call. Buttons a role lacks are
not shown; the server refuses them anyway.
"""

from __future__ import annotations

from typing import Any, BinaryIO, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from ridp.errors import AgreementRequiredError, FieldError, NotFoundError
from ridp.ingest.mapping import CANONICAL_FIELDS
from ridp.web.forms_catalog import (
    CLASS_CHOICES,
    ColumnClassForm,
    DatasetNewForm,
    InventoryForm,
    MappingForm,
    UploadForm,
)
from ridp.workspace import uploads
from ridp.workspace.access import actions_in, city_for, require
from ridp.workspace.classify import classify_dataset
from ridp.workspace.datasets import (
    INVENTORY_FIELDS,
    MASK,
    Preview,
    get_dataset_by_id,
    list_datasets,
    masked_columns,
    preview,
    record_inventory,
    versions,
)
from ridp.workspace.mapping import map_dataset, show_mapping
from ridp.workspace.models import City, Dataset, DatasetMapping, Upload, User

__all__ = ["urlpatterns"]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _can(user: User, city: City) -> dict[str, bool]:
    """Which of the catalog's buttons this person sees (the workspace still enforces each)."""
    can = actions_in(user, city)  # one read of the person's roles for all five
    return {
        "upload": "dataset.upload" in can,
        "inventory": "dataset.inventory" in can,
        "map": "dataset.map" in can,
        "classify": "dataset.classify" in can,
        "rows": "rows.read" in can,
    }


def _field_error(form: Form, exc: FieldError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.reason)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _page(request: HttpRequest, template: str, dataset: Dataset, status: int = 200, **context: Any) -> HttpResponse:
    """Render a page of one dataset, with what the person may do there."""
    context.update(dataset=dataset, city=dataset.city, can=_can(_user(request), dataset.city))
    return render(request, f"ridp/catalog/{template}", context, status=status)


@login_required
@require_GET
def datasets(request: HttpRequest, city: str) -> HttpResponse:
    user = _user(request)
    city_obj = city_for(user, city)
    context = {"city": city_obj, "datasets": list_datasets(user, city), "can": _can(user, city_obj)}
    return render(request, "ridp/catalog/datasets.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def dataset_new(request: HttpRequest, city: str) -> HttpResponse:
    user = _user(request)
    city_obj = city_for(user, city)
    require(user, city_obj, "dataset.inventory")
    existing = {d.name for d in list_datasets(user, city)} if request.method == "POST" else set()
    form = DatasetNewForm(request.POST or None, existing=existing)
    if request.method == "POST" and form.is_valid():
        try:
            recorded = record_inventory(user, city, form.cleaned_data["name"], **form.inventory())
        except FieldError as exc:
            _field_error(form, exc)
        else:
            messages.success(request, _("%(name)s is in the catalog.") % {"name": recorded.name})
            return redirect("dataset", city=city, dataset_id=recorded.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "ridp/catalog/dataset_new.html", {"city": city_obj, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, city: str) -> HttpResponse:
    user = _user(request)
    recent = uploads.recent(user, city)  # refuses those who may not upload
    form = UploadForm(request.POST or None, request.FILES or None, initial={"name": request.GET.get("dataset", "")})
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        try:
            started = uploads.start(
                user, city, name=form.cleaned_data["name"], source_name=str(file.name), stream=cast(BinaryIO, file)
            )
        except FieldError as exc:
            _field_error(form, exc)
        else:
            return redirect("upload_status", city=city, upload_id=started.pk)
    context = {"city": city_for(user, city), "form": form, "uploads": recent, "names": list_datasets(user, city)}
    return render(request, "ridp/catalog/upload.html", context, status=400 if request.method == "POST" else 200)


@login_required
@require_GET
def upload_status(request: HttpRequest, city: str, upload_id: int) -> HttpResponse:
    found = uploads.get(_user(request), city, upload_id)
    context = {
        "upload": found,
        "city": found.city,
        "percent": uploads.percent(found),
        "live": found.status in (Upload.Status.QUEUED, Upload.Status.RUNNING),
    }
    template = "_upload_progress.html" if _is_htmx(request) else "upload_status.html"
    return render(request, f"ridp/catalog/{template}", context)


def _inventory(found: Dataset) -> list[tuple[str, Any]]:
    """The inventory record as (label, value) pairs, labelled as the form labels them."""
    labels = InventoryForm.base_fields
    return [
        (str(labels[f].label), found.get_public_display() if f == "public" else getattr(found, f))
        for f in INVENTORY_FIELDS
    ]


@login_required
@require_GET
def dataset(request: HttpRequest, city: str, dataset_id: int) -> HttpResponse:
    found = get_dataset_by_id(_user(request), city, dataset_id)
    version = found.current_version
    context: dict[str, Any] = {
        "masked": masked_columns(_user(request), found),
        "inventory": _inventory(found),
        "version": version,
        "columns": list(version.columns.all()) if version else [],
        "agreements": list(found.agreements.order_by("id").distinct()),
    }
    return _page(request, "dataset.html", found, **context)


@login_required
@require_http_methods(["GET", "POST"])
def dataset_inventory(request: HttpRequest, city: str, dataset_id: int) -> HttpResponse:
    user = _user(request)
    found = get_dataset_by_id(user, city, dataset_id)
    require(user, found.city, "dataset.inventory", obj=found)
    initial = {f: getattr(found, f) for f in (*INVENTORY_FIELDS, "needs_agreement")}
    form = InventoryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            record_inventory(user, city, found.name, **form.inventory())
        except FieldError as exc:
            _field_error(form, exc)
        else:
            messages.success(request, _("The inventory record is saved."))
            return redirect("dataset", city=city, dataset_id=found.pk)
    return _page(request, "dataset_inventory.html", found, 400 if request.method == "POST" else 200, form=form)


@login_required
@require_GET
def dataset_versions(request: HttpRequest, city: str, dataset_id: int) -> HttpResponse:
    user = _user(request)
    found = get_dataset_by_id(user, city, dataset_id)
    return _page(request, "dataset_versions.html", found, versions=versions(user, city, found.name))


def _version_number(request: HttpRequest) -> int | None:
    raw = request.GET.get("version", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise FieldError("version", _("%(value)s is not a version number") % {"value": raw[:20]})
    return int(raw)


def _cells(shown: Preview) -> list[list[tuple[str | None, bool]]]:
    """Each row's values as stored (``None`` when empty), each with whether it is masked."""
    masked = [name in shown.masked for name in shown.columns]
    return [
        [(None if v is None else str(v), hide and v == MASK) for v, hide in zip(row, masked, strict=True)]
        for row in shown.rows
    ]


@login_required
@require_GET
def dataset_preview(request: HttpRequest, city: str, dataset_id: int) -> HttpResponse:
    user = _user(request)
    found = get_dataset_by_id(user, city, dataset_id)
    try:
        shown = preview(user, city, found.name, limit=20, version=_version_number(request))
    except AgreementRequiredError as exc:
        return _page(request, "dataset_preview.html", found, 409, refused=str(exc))
    except NotFoundError:
        if found.current_version is not None:
            raise
        return _page(request, "dataset_preview.html", found, no_data=True)
    return _page(request, "dataset_preview.html", found, preview=shown, cells=_cells(shown), mask=MASK)


def _mapping_rows(mapping: DatasetMapping, form: MappingForm) -> list[dict[str, Any]]:
    """One row per canonical field: its column, confidence and reasons, and its select."""
    return [{"field": f, "bf": form[f], **mapping.fields.get(f, {})} for f in CANONICAL_FIELDS]


def _mapping_change(request: HttpRequest, city: str, found: Dataset, form: MappingForm) -> HttpResponse | None:
    """Save the fields whose select changed; ``None`` (form errors added) when refused."""
    if not form.is_valid():
        return None
    try:
        if form.changes():
            map_dataset(_user(request), city, found.name, set_fields=form.changes())
    except FieldError as exc:
        _field_error(form, exc)
        return None
    if form.changes():
        messages.success(request, _("The mapping is saved; confirm it when it is right."))
    else:
        messages.info(request, _("Nothing changed."))
    return redirect("dataset_mapping", city=city, dataset_id=found.pk)


@login_required
@require_http_methods(["GET", "POST"])
def dataset_mapping(request: HttpRequest, city: str, dataset_id: int) -> HttpResponse:
    user = _user(request)
    found = get_dataset_by_id(user, city, dataset_id)
    if request.method == "POST":
        require(user, found.city, "dataset.map", obj=found)
    if found.current_version is None:
        return _page(request, "dataset_mapping.html", found, no_data=True)
    confirm = request.POST.get("action") == "confirm"
    try:
        mapping = map_dataset(user, city, found.name, accept=True) if confirm else show_mapping(user, city, found.name)
    except AgreementRequiredError as exc:
        return _page(request, "dataset_mapping.html", found, 409, refused=str(exc))
    if confirm:
        messages.success(request, _("The mapping is confirmed."))
        return redirect("dataset_mapping", city=city, dataset_id=found.pk)
    columns = [str(c["name"]) for c in found.current_version.schema]
    initial = {f: v.get("column", "") for f, v in mapping.fields.items()}
    form = MappingForm(request.POST or None, fields=CANONICAL_FIELDS, columns=columns, initial=initial)
    done = _mapping_change(request, city, found, form) if request.method == "POST" else None
    if done is not None:
        return done
    status = 400 if request.method == "POST" else 200
    rows = _mapping_rows(mapping, form)
    return _page(request, "dataset_mapping.html", found, status, mapping=mapping, rows=rows, form=form)


def _column_change(request: HttpRequest, city: str, found: Dataset) -> HttpResponse:
    """POST of one column's class: the row (htmx) or back to the page; a bad value beside its select."""
    form = ColumnClassForm(request.POST)
    error = ""
    if form.is_valid():
        name, value = form.cleaned_data["column"], form.cleaned_data["classification"]
        try:
            columns = classify_dataset(_user(request), city, found.name, set_columns={name: value})
        except FieldError as exc:
            error = exc.reason
        else:
            if _is_htmx(request):
                column = next(c for c in columns if c.name == name)
                return _page(request, "_column_row.html", found, column=column, class_choices=CLASS_CHOICES, saved=True)
            messages.success(request, _("%(column)s is now %(value)s.") % {"column": name, "value": value})
            return redirect("dataset_columns", city=city, dataset_id=found.pk)
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    columns = classify_dataset(_user(request), city, found.name)
    context = {"columns": columns, "class_choices": CLASS_CHOICES, "error_column": request.POST.get("column", "")}
    return _page(request, "dataset_columns.html", found, 400, error=error, **context)


@login_required
@require_http_methods(["GET", "POST"])
def dataset_columns(request: HttpRequest, city: str, dataset_id: int) -> HttpResponse:
    user = _user(request)
    found = get_dataset_by_id(user, city, dataset_id)
    if request.method == "POST":
        require(user, found.city, "dataset.classify", obj=found)  # before reading the form: refusals say so
    if found.current_version is None:
        return _page(request, "dataset_columns.html", found, no_data=True)
    if request.method == "POST" and request.POST.get("action") != "accept":
        return _column_change(request, city, found)
    try:
        columns = classify_dataset(user, city, found.name, accept=request.method == "POST")
    except AgreementRequiredError as exc:
        return _page(request, "dataset_columns.html", found, 409, refused=str(exc))
    if request.method == "POST":
        messages.success(request, _("Every column's class is confirmed."))
        return redirect("dataset_columns", city=city, dataset_id=found.pk)
    return _page(request, "dataset_columns.html", found, columns=columns, class_choices=CLASS_CHOICES)


urlpatterns: list[URLPattern] = [
    path("", datasets, name="datasets"),
    path("new/", dataset_new, name="dataset_new"),
    path("upload/", upload, name="upload"),
    path("uploads/<int:upload_id>/", upload_status, name="upload_status"),
    path("<int:dataset_id>/", dataset, name="dataset"),
    path("<int:dataset_id>/inventory/", dataset_inventory, name="dataset_inventory"),
    path("<int:dataset_id>/versions/", dataset_versions, name="dataset_versions"),
    path("<int:dataset_id>/preview/", dataset_preview, name="dataset_preview"),
    path("<int:dataset_id>/mapping/", dataset_mapping, name="dataset_mapping"),
    path("<int:dataset_id>/columns/", dataset_columns, name="dataset_columns"),
]
