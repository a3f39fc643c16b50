"""Forms of the team, meeting, follow-up and comment pages. Labels and messages are marked for translation.

The forms only parse what a person typed; the workspace functions
(``ridp.workspace.project_team``, ``meetings``, ``comments``) decide what is
allowed and raise :class:`~ridp.errors.FieldError`, which
:func:`~ridp.web.forms_agreements.show_error` puts beside the field it names.
Times are typed as the city's wall-clock time; the workspace stores them in UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ridp.workspace.meetings import MAX_FOLLOW_UP, MAX_MINUTES, TEXT_FIELDS
from ridp.workspace.models import Comment, FollowUp, Meeting, Role
from ridp.workspace.project_team import TEAM_ROLES

__all__ = [
    "CommentForm",
    "FollowUpForm",
    "FollowUpStatusForm",
    "MeetingForm",
    "RecordForm",
    "TeamAddForm",
    "WallClockField",
    "parse_guests",
]

KIND_CHOICES = [
    ("kickoff", _("Kickoff")),
    ("weekly_analysis", _("Weekly analysis")),
    ("monthly_action", _("Monthly action")),
    ("as_needed", _("As needed")),
]
STATUS_CHOICES = [("planned", _("Planned")), ("held", _("Held")), ("cancelled", _("Cancelled"))]
USEFULNESS_CHOICES = [
    ("", _("Not rated")),
    ("1", _("1 — not useful")),
    ("2", _("2")),
    ("3", _("3")),
    ("4", _("4")),
    ("5", _("5 — very useful")),
]
FOLLOW_UP_STATUS_CHOICES = [("open", _("Open")), ("done", _("Done")), ("dropped", _("Dropped"))]
ROLE_LABELS: dict[str, Any] = {
    Role.SENIOR_LEADER.value: _("senior leader"),
    Role.DATA_ANALYST.value: _("data analyst"),
    Role.SUBJECT_MATTER_EXPERT.value: _("subject-matter expert"),
    Role.COACH.value: _("coach"),
    Role.PROGRAMME_ANALYST.value: _("programme analyst"),
}
WALL_CLOCK_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
MAX_GUESTS = 30

assert {k for k, _label in KIND_CHOICES} == set(Meeting.Kind.values)
assert {k for k, _label in STATUS_CHOICES} == set(Meeting.Status.values)
assert {k for k, _label in FOLLOW_UP_STATUS_CHOICES} == set(FollowUp.Status.values)


class WallClockField(forms.Field):
    """A date and time as typed (``datetime-local``), without a zone: the city's wall-clock time."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.DateTimeInput(attrs={"type": "datetime-local"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        text = str(value or "").strip()
        if not text:
            return None
        if len(text) > 40:
            raise ValidationError(_("Enter a date and time, e.g. 2026-05-20 10:00."), code="invalid")
        for fmt in WALL_CLOCK_FORMATS:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        raise ValidationError(_("Enter a date and time, e.g. 2026-05-20 10:00."), code="invalid")


def _text(label: Any, limit: int, *, rows: int = 3, required: bool = False, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=limit,
        required=required,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class TeamAddForm(forms.Form):
    """Put someone of the city on the team, in one of their roles there."""

    username = forms.ChoiceField(label=_("Person"))
    role = forms.ChoiceField(label=_("Role on the team"))

    def __init__(self, *args: Any, people: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        role = self.fields["role"]
        assert isinstance(username, forms.ChoiceField) and isinstance(role, forms.ChoiceField)
        username.choices = [("", _("Choose a person")), *(people or [])]
        role.choices = [("", _("Choose a role")), *((r, ROLE_LABELS[r]) for r in TEAM_ROLES)]


class MeetingForm(forms.Form):
    """An extra meeting."""

    kind = forms.ChoiceField(label=_("Kind"), choices=KIND_CHOICES, initial="as_needed")
    starts_at = WallClockField(label=_("Starts at"), help_text=_("In the city's time zone."))
    minutes = forms.IntegerField(label=_("Length in minutes"), min_value=1, max_value=MAX_MINUTES, initial=60)
    goal = _text(_("Goal"), TEXT_FIELDS["goal"])


def parse_guests(text: str) -> list[tuple[str, str]]:
    """Guests typed one per line as ``name, role``."""
    guests = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, comma, role = line.partition(",")
        if not comma or not name.strip() or not role.strip():
            raise ValidationError(
                _("Line %(number)d: write a guest as 'name, role'."), code="invalid", params={"number": number}
            )
        guests.append((name.strip(), role.strip()))
    if len(guests) > MAX_GUESTS:
        raise ValidationError(_("At most %(count)d guests."), code="invalid", params={"count": MAX_GUESTS})
    return guests


class RecordForm(forms.Form):
    """Everything PROGRAM.md §8 records of a meeting."""

    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES)
    starts_at = WallClockField(label=_("Starts at"), help_text=_("In the city's time zone."))
    minutes = forms.IntegerField(label=_("Length in minutes"), min_value=1, max_value=MAX_MINUTES)
    attendees = forms.MultipleChoiceField(
        label=_("Team members who attended"), required=False, widget=forms.CheckboxSelectMultiple
    )
    guests = forms.CharField(
        label=_("Guests"),
        required=False,
        max_length=5000,
        help_text=_("One per line: name, role."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    goal = _text(_("Goal"), TEXT_FIELDS["goal"])
    pre_read = _text(_("Pre-read"), TEXT_FIELDS["pre_read"])
    presented = _text(_("What was presented"), TEXT_FIELDS["presented"], rows=4)
    decisions = _text(_("Decisions"), TEXT_FIELDS["decisions"], rows=4)
    data_requested = _text(_("Data requested for next time"), TEXT_FIELDS["data_requested"])
    risks = _text(_("Risks raised"), TEXT_FIELDS["risks"])
    usefulness = forms.TypedChoiceField(
        label=_("How useful was it?"), choices=USEFULNESS_CHOICES, coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, team: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        attendees = self.fields["attendees"]
        assert isinstance(attendees, forms.MultipleChoiceField)
        attendees.choices = team or []

    def clean_guests(self) -> list[tuple[str, str]]:
        return parse_guests(self.cleaned_data.get("guests") or "")


class FollowUpForm(forms.Form):
    """A follow-up item: what, who owns it, by when."""

    text = _text(_("Follow-up"), MAX_FOLLOW_UP, rows=2, required=True)
    owner = forms.ChoiceField(label=_("Owner"))
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args: Any, people: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_follow_up_%s")
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ChoiceField)
        owner.choices = [("", _("Choose the owner")), *(people or [])]


class FollowUpStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=FOLLOW_UP_STATUS_CHOICES)


class CommentForm(forms.Form):
    """A comment on the charter or a meeting."""

    target = forms.ChoiceField(
        choices=[(Comment.Target.CHARTER, Comment.Target.CHARTER), (Comment.Target.MEETING, Comment.Target.MEETING)],
        widget=forms.HiddenInput,
    )
    target_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    body = forms.CharField(label=_("Your comment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_comment_%s")
        super().__init__(*args, **kwargs)
