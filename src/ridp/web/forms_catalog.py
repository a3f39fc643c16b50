"""Forms of the data catalog: inventory records, uploads, mappings and column classes.

Choices that name a dataset's columns are built from that dataset's own columns
(an allowlist): any other value is refused beside its field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ridp.ingest.pii import CLASSES
from ridp.workspace.uploads import ALLOWED_SUFFIXES

_CLASS_LABELS = {
    "public": _("public"),
    "internal": _("internal"),
    "personal": _("personal"),
    "sensitive": _("sensitive"),
}
#: The column classes a person may choose, in order of care.
CLASS_CHOICES = [(c, _CLASS_LABELS[c]) for c in CLASSES]
PUBLIC_CHOICES = [("no", _("no")), ("partial", _("partial")), ("yes", _("yes"))]


class InventoryForm(forms.Form):
    """A dataset's inventory record (GovEx data inventory guide): every field but the name."""

    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    owner_department = forms.CharField(label=_("Owner department"), max_length=200, required=False)
    steward = forms.CharField(label=_("Data steward"), max_length=200, required=False)
    source_system = forms.CharField(label=_("Source system"), max_length=200, required=False)
    update_frequency = forms.CharField(
        label=_("Update frequency"), max_length=100, required=False, help_text=_("For example: daily, monthly.")
    )
    licence = forms.CharField(label=_("Licence"), max_length=200, required=False)
    public = forms.ChoiceField(label=_("Published openly"), choices=PUBLIC_CHOICES, initial="no")
    sensitivity = forms.CharField(
        label=_("Sensitivity"), max_length=100, required=False, help_text=_("For example: low, moderate, high.")
    )
    sensitivity_reason = forms.CharField(
        label=_("Why it is sensitive"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    years_of_history = forms.FloatField(label=_("Years of history"), required=False, min_value=0)
    known_quality_issues = forms.CharField(
        label=_("Known quality issues"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    needs_agreement = forms.BooleanField(
        label=_("Needs a data-sharing agreement before any use"),
        required=False,
        help_text=_("No preview, analysis or export until an active agreement covers it."),
    )

    def inventory(self) -> dict[str, Any]:
        """The cleaned inventory fields, as ``record_inventory`` takes them."""
        return {k: v for k, v in self.cleaned_data.items() if k != "name"}


class DatasetNewForm(InventoryForm):
    """Record a dataset that has no data yet; its name must be new in the city."""

    name = forms.CharField(label=_("Dataset name"), max_length=200)

    def __init__(self, *args: Any, existing: set[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(["name"])
        self.existing = existing or set()

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if name in self.existing:
            raise forms.ValidationError(
                _("The catalog already lists %(name)s; edit its inventory record instead."), params={"name": name}
            )
        return name


class UploadForm(forms.Form):
    """A file to add as a new version of a dataset (an existing one, or a new name)."""

    name = forms.CharField(
        label=_("Dataset"),
        max_length=200,
        required=False,
        help_text=_("Choose a dataset of the catalog or type a new name; empty: the file's name."),
        widget=forms.TextInput(attrs={"list": "dataset-names", "autocomplete": "off"}),
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV, TSV, Parquet, Excel, JSON or GeoJSON."),
        error_messages={"required": _("Choose a file to upload.")},
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_SUFFIXES)}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None and not str(data.get("name") or "").strip():
            data["name"] = Path(str(upload.name)).stem
        return data


class MappingForm(forms.Form):
    """One select per canonical field; the choices are the dataset's own columns."""

    def __init__(self, *args: Any, fields: tuple[str, ...], columns: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("— not mapped —")), *((c, c) for c in columns)]
        for name in fields:
            self.fields[name] = forms.ChoiceField(
                label=name,
                choices=choices,
                required=False,
                error_messages={"invalid_choice": _("%(value)s is not a column of this dataset.")},
            )

    def changes(self) -> dict[str, str]:
        """The fields whose column differs from the one shown."""
        return {k: v for k, v in self.cleaned_data.items() if v != (self.initial.get(k) or "")}


class ColumnClassForm(forms.Form):
    """The class of one column."""

    column = forms.CharField(max_length=500, widget=forms.HiddenInput)
    classification = forms.ChoiceField(
        label=_("Class"),
        choices=CLASS_CHOICES,
        error_messages={"invalid_choice": _("%(value)s is not a class: public, internal, personal or sensitive.")},
    )
