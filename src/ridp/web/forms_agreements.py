"""Forms of the agreements, team and audit pages. Labels and messages are marked for translation.

The forms only parse what a person typed; the workspace functions decide what is
allowed and raise :class:`~ridp.errors.FieldError`, which :meth:`show_error` puts
beside the field it names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.forms.boundfield import BoundField, BoundWidget
from django.utils.translation import gettext_lazy as _

from ridp.errors import FieldError
from ridp.workspace.agreements import Signatory
from ridp.workspace.models import Dataset, Role

__all__ = ["AgreementForm", "AuditFilterForm", "InviteForm", "SignForm", "TerminateForm", "show_error"]

SIGNATORY_ROWS = 3
#: Roles an agreement can name to see personal values (programme admins see everything anyway).
PERSONAL_ROLE_CHOICES = [(r.value, r.label) for r in Role if r != Role.PROGRAMME_ADMIN]
CITY_ROLE_CHOICES = [
    (r.value, r.label) for r in (Role.SENIOR_LEADER, Role.DATA_ANALYST, Role.SUBJECT_MATTER_EXPERT, Role.VIEWER)
]
PROGRAMME_ROLE_CHOICES = [(r.value, r.label) for r in (Role.COACH, Role.PROGRAMME_ANALYST)]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def show_error(form: forms.Form, exc: FieldError, aliases: dict[str, str] | None = None) -> None:
    """Put a workspace FieldError's reason beside the field it names (or above the form)."""
    field = (aliases or {}).get(exc.field, exc.field)
    form.add_error(field if field in form.fields else None, exc.reason)


class AgreementForm(forms.Form):
    """Draft an agreement: its terms, the city's datasets it covers (and which columns), who sees personal values."""

    title = forms.CharField(label=_("Title"), max_length=300)
    parties = forms.CharField(
        label=_("Parties"),
        help_text=_("Who signs: the city and each partner."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    purpose = forms.CharField(label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 4}))
    permitted_uses = forms.CharField(
        label=_("Permitted uses"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    datasets = forms.MultipleChoiceField(
        label=_("Datasets covered"), required=False, widget=forms.CheckboxSelectMultiple
    )
    personal_roles = forms.MultipleChoiceField(
        label=_("Roles that may see personal values"),
        required=False,
        choices=PERSONAL_ROLE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    retention_days = forms.IntegerField(
        label=_("Retention after the end (days)"),
        min_value=0,
        max_value=36_500,
        initial=0,
        help_text=_("How long the data is kept after the agreement ends, before its files are deleted."),
    )
    starts_on = forms.DateField(label=_("Starts on"), widget=_date_input())
    expires_on = forms.DateField(label=_("Expires on"), widget=_date_input())

    def __init__(self, datasets: Sequence[Dataset], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.city_datasets = list(datasets)
        field = self.fields["datasets"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(d.name, d.name) for d in self.city_datasets]
        for dataset in self.city_datasets:
            known = [c["name"] for c in dataset.current_version.schema] if dataset.current_version else []
            self.fields[self._columns_key(dataset)] = forms.CharField(
                label=_("Columns of %(name)s covered") % {"name": dataset.name},
                required=False,
                max_length=10_000,
                help_text=_("Optional, separated by commas; leave empty to cover every column. Its columns: %(cols)s")
                % {"cols": ", ".join(known) or "—"},
            )

    def terms(self) -> dict[str, Any]:
        """The keyword arguments of ridp.workspace.agreements.add_agreement; call after is_valid()."""
        data = self.cleaned_data
        keys = ("title", "parties", "purpose", "permitted_uses", "retention_days", "starts_on", "expires_on")
        return {k: data[k] for k in keys} | {"datasets": self.covered(), "personal_roles": data["personal_roles"]}

    @staticmethod
    def _columns_key(dataset: Dataset) -> str:
        return f"columns_{dataset.pk}"

    def dataset_rows(self) -> list[tuple[BoundWidget, BoundField]]:
        """Each dataset's checkbox with its columns field, for the template."""
        options = list(self["datasets"])
        return [(option, self[self._columns_key(d)]) for option, d in zip(options, self.city_datasets, strict=True)]

    def covered(self) -> dict[str, list[str]]:
        """The ticked datasets → their listed columns (empty: all); call after is_valid()."""
        chosen = set(self.cleaned_data.get("datasets") or [])
        return {
            d.name: [c.strip() for c in self.cleaned_data.get(self._columns_key(d), "").split(",") if c.strip()]
            for d in self.city_datasets
            if d.name in chosen
        }

    def show_error(self, exc: FieldError) -> None:
        """A workspace error beside its field; a column error beside the columns of the dataset it names."""
        if exc.field == "columns":
            for dataset in self.city_datasets:
                if exc.reason.startswith(f"{dataset.name} has no column"):
                    self.add_error(self._columns_key(dataset), exc.reason)
                    return
            self.add_error("datasets", exc.reason)
            return
        show_error(self, exc)


class SignForm(forms.Form):
    """Sign an agreement: up to three signatories and the signed PDF."""

    document = forms.FileField(
        label=_("Signed document (PDF)"),
        help_text=_("The agreement as signed, as a PDF of at most 50 MB."),
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, SIGNATORY_ROWS + 1):
            self.fields[f"name_{n}"] = forms.CharField(label=_("Name"), max_length=200, required=False)
            self.fields[f"role_{n}"] = forms.CharField(
                label=_("Role or title"), max_length=200, required=False, help_text=_("For example: mayor")
            )
            self.fields[f"signed_on_{n}"] = forms.DateField(label=_("Signed on"), required=False, widget=_date_input())

    def rows(self) -> list[tuple[int, list[BoundField]]]:
        """Each signatory row's fields, for the template."""
        return [
            (n, [self[f"name_{n}"], self[f"role_{n}"], self[f"signed_on_{n}"]]) for n in range(1, SIGNATORY_ROWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        complete = 0
        for n in range(1, SIGNATORY_ROWS + 1):
            keys = (f"name_{n}", f"role_{n}", f"signed_on_{n}")
            if any(k in self.errors for k in keys):
                continue
            filled = [bool(data.get(k)) for k in keys]
            if all(filled):
                complete += 1
            elif any(filled):
                for key, ok in zip(keys, filled, strict=True):
                    if not ok:
                        self.add_error(key, _("Fill in the whole row: name, role and date."))
        row_errors = [k for k in self.errors if k.startswith(("name_", "role_", "signed_on_"))]
        if not complete and not row_errors:
            self.add_error("name_1", _("Name at least one person who signed."))
        return data

    def signatories(self) -> list[Signatory]:
        """The complete rows; call after is_valid()."""
        data = self.cleaned_data
        return [
            Signatory(name=data[f"name_{n}"].strip(), role=data[f"role_{n}"].strip(), signed_on=data[f"signed_on_{n}"])
            for n in range(1, SIGNATORY_ROWS + 1)
            if data.get(f"name_{n}") and data.get(f"role_{n}") and data.get(f"signed_on_{n}")
        ]


class TerminateForm(forms.Form):
    reason = forms.CharField(
        label=_("Why does the agreement end?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the agreement ends.")},
    )


class InviteForm(forms.Form):
    """Invite someone by e-mail to a role in the city."""

    email = forms.EmailField(
        label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(label=_("Role"), choices=CITY_ROLE_CHOICES)

    def __init__(self, *args: Any, programme_admin: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if programme_admin:
            field = self.fields["role"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = CITY_ROLE_CHOICES + PROGRAMME_ROLE_CHOICES


class AuditFilterForm(forms.Form):
    """The audit log's filters. Values are checked by the workspace (ridp.workspace.audit_log.search)."""

    action = forms.CharField(
        label=_("Action starts with"), required=False, max_length=64, help_text=_("For example: agreement.")
    )
    city = forms.CharField(label=_("City (slug)"), required=False, max_length=100)
    actor = forms.CharField(label=_("Username"), required=False, max_length=150)
    date_from = forms.CharField(label=_("From (UTC day)"), required=False, widget=_date_input())
    date_to = forms.CharField(label=_("To (UTC day)"), required=False, widget=_date_input())
