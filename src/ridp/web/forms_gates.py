"""Forms of the phase gates and the cohorts: an override's reason, the cohort view's filters, a cohort's calendar."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ridp.workspace.gates import MAX_REASON, MIN_REASON
from ridp.workspace.models import Cadence

__all__ = ["CohortForm", "CohortViewForm", "OverrideForm", "PhaseForm"]

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OverrideForm(forms.Form):
    """A coach's written reason for moving a project on although its gate is blocked."""

    reason = forms.CharField(
        label=_("Why move on although the gate is blocked?"),
        help_text=_("At least %(n)d characters. Kept with the phase change; the audit log records that it was given.")
        % {"n": MIN_REASON},
        min_length=MIN_REASON,
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CohortViewForm(forms.Form):
    """The cohort view's filters and sort order (a GET form: bookmarkable)."""

    city = forms.ChoiceField(label=_("City"), required=False)
    cohort = forms.TypedChoiceField(label=_("Cohort"), required=False, coerce=int, empty_value=None)
    phase = forms.ChoiceField(label=_("Phase"), required=False)
    at_risk = forms.BooleanField(label=_("At risk only"), required=False)
    sort = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(
        self,
        data: Any,
        *,
        cities: list[tuple[str, str]],
        cohorts: list[tuple[int, str]],
        phases: list[tuple[str, str]],
    ) -> None:
        super().__init__(data)
        every = [("", _("All"))]
        self.fields["city"].choices = every + cities  # type: ignore[attr-defined]
        self.fields["cohort"].choices = every + [(str(pk), name) for pk, name in cohorts]  # type: ignore[attr-defined]
        self.fields["phase"].choices = every + phases  # type: ignore[attr-defined]


class PhaseForm(forms.Form):
    """One phase of a cohort's calendar: its name, dates and meeting cadence."""

    name = forms.CharField(label=_("Name"), max_length=100)
    starts_on = forms.DateField(label=_("Starts on"), widget=DATE)
    ends_on = forms.DateField(label=_("Ends on"), widget=DATE)
    cadence = forms.ChoiceField(label=_("Meeting cadence"), choices=Cadence.choices)


class CohortForm(forms.Form):
    """A new cohort: its name and year; its calendar is the programme's default template in that year."""

    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("For example: Cohort 2027."))
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
