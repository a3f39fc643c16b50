"""Forms of the scoping and charter pages. Labels and messages are marked for translation.

The forms only parse what a person typed; the workspace functions (``ridp.workspace.scoping``
and ``ridp.workspace.charter``) decide what is allowed and raise
:class:`~ridp.errors.FieldError`, which :func:`~ridp.web.forms_agreements.show_error`
puts beside the field it names.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _

from ridp.workspace.charter import CHARTER_FIELDS
from ridp.workspace.cohorts import criteria

__all__ = ["CharterForm", "DecisionForm", "RatingForm", "SignOffForm", "ValueForm"]

SCORE_CHOICES = [("", _("Choose a score")), ("0", _("0 — not met")), ("1", _("1 — partly met")), ("2", _("2 — met"))]
LEVEL_CHOICES = [("", _("Choose")), ("low", _("low")), ("high", _("high"))]
DECISION_CHOICES = [
    ("", _("Choose a decision")),
    ("accept", _("Accept")),
    ("accept_with_risks", _("Accept with risks")),
    ("off_ramp", _("Off-ramp: offer another kind of help")),
]
KIND_CHOICES = [
    ("", _("Who signs")),
    ("team", _("The team")),
    ("champion", _("The champion")),
    ("leadership", _("Leadership")),
]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RatingForm(forms.Form):
    """Rate one criterion: 0/1/2, the evidence, and the day (today unless said)."""

    criterion = forms.ChoiceField(widget=forms.HiddenInput)
    score = forms.TypedChoiceField(label=_("Score"), choices=SCORE_CHOICES, coerce=int)
    evidence = forms.CharField(
        label=_("Evidence"),
        help_text=_("What shows it: who said what, which numbers, which document."),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    rated_on = forms.DateField(
        label=_("Rated on"), required=False, widget=_date_input(), help_text=_("Leave empty for today.")
    )

    def __init__(self, *args: Any, criterion: str = "", **kwargs: Any) -> None:
        if criterion:
            kwargs.setdefault("auto_id", f"id_{criterion}_%s")
            kwargs.setdefault("initial", {"criterion": criterion})
        super().__init__(*args, **kwargs)
        field = self.fields["criterion"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(c.key, c.name) for c in criteria()]


class ValueForm(forms.Form):
    """Value (low/high) x complexity (low/high)."""

    value = forms.ChoiceField(label=_("Value to residents"), choices=LEVEL_CHOICES)
    complexity = forms.ChoiceField(label=_("Complexity"), choices=LEVEL_CHOICES)


class DecisionForm(forms.Form):
    """Accept, accept with risks (the risks), or off-ramp (why, and the other help offered)."""

    decision = forms.ChoiceField(label=_("Decision"), choices=DECISION_CHOICES)
    reason = forms.CharField(
        label=_("Reason or risks"),
        help_text=_("Required for accepting with risks (name the risks) and for an off-ramp (say why)."),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    other_help = forms.CharField(
        label=_("The other kind of help offered"),
        help_text=_("Required for an off-ramp: e.g. a data clinic, a training, another programme."),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CharterForm(forms.Form):
    """Every field of the charter (PROGRAM.md §3), and a note on what changed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for spec in CHARTER_FIELDS:
            field: forms.Field
            if spec.kind == "choice":
                field = forms.ChoiceField(
                    label=spec.label, choices=[("", _("Not chosen yet")), *spec.choices], required=False
                )
            elif spec.kind == "line":
                field = forms.CharField(label=spec.label, max_length=spec.max_length, required=spec.key == "title")
            else:
                field = forms.CharField(
                    label=spec.label,
                    max_length=spec.max_length,
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 3}),
                )
            if spec.help:
                field.help_text = spec.help
            self.fields[spec.key] = field
        self.fields["note"] = forms.CharField(
            label=_("What changed, in a few words"),
            help_text=_("Kept with the new version, e.g. 'target agreed with Public Works'."),
            max_length=300,
            required=False,
        )

    def charter_values(self) -> dict[str, str]:
        return {spec.key: self.cleaned_data.get(spec.key, "") or "" for spec in CHARTER_FIELDS}


class SignOffForm(forms.Form):
    """A sign-off of the current version: by whom (team, champion, leadership), their name and role, the day."""

    kind = forms.ChoiceField(label=_("Signed by"), choices=KIND_CHOICES)
    name = forms.CharField(label=_("Name"), max_length=200)
    role = forms.CharField(label=_("Role or title"), max_length=200)
    signed_on = forms.DateField(label=_("Signed on"), widget=_date_input())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"signed_on": django_timezone.localdate()})
        super().__init__(*args, **kwargs)
