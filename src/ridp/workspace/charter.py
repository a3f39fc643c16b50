"""A project's charter (PROGRAM.md §3): every field, versioned, with sign-offs by team, champion and leadership.

A change makes a new :class:`~ridp.workspace.models.CharterVersion`; versions are
never edited, so what a sign-off signed stays readable. A sign-off holds only while
its version is the latest: :func:`signature_status` says whether the charter is
signed, which sign-offs a later change invalidated (and which fields changed), and
what is missing, in words a person reads.

Examples
--------
``v = edit(leader, "springfield", 7, {"success_metric": "median days to repair"}, note="metric")``
``sign(leader, "springfield", 7, "champion", name="Pat Lee", role="Director of Public Works", signed_on=date.today())``
``signature_status(project).signed`` -> True once team, champion and leadership signed the latest version.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone as django_timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ridp.errors import FieldError, NotFoundError
from ridp.workspace import audit
from ridp.workspace.access import require
from ridp.workspace.models import CharterVersion, Project, SignOff, User
from ridp.workspace.projects import get_project

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

__all__ = [
    "CHARTER_FIELDS",
    "FIELDS_BY_KEY",
    "SIGN_OFF_KINDS",
    "FieldChange",
    "FieldSpec",
    "InvalidatedSignOff",
    "Segment",
    "SignatureStatus",
    "changed_keys",
    "complete",
    "current",
    "diff",
    "edit",
    "get_version",
    "sign",
    "signature_status",
    "value_of",
    "version_by_number",
    "versions",
]


@dataclass(frozen=True)
class FieldSpec:
    """One field of the charter: ``kind`` is ``text`` (paragraphs), ``line`` (one line) or ``choice``."""

    key: str
    label: StrOrPromise
    kind: str = "text"
    choices: tuple[tuple[str, StrOrPromise], ...] = ()
    max_length: int = 5000
    help: StrOrPromise = ""

    def choice_label(self, value: str) -> str:
        """The label of a choice's value (the value itself if it is not one of the choices)."""
        for key, label in self.choices:
            if key == value:
                return str(label)
        return value


_TRADE_OFFS = (
    ("efficiency", gettext_lazy("efficiency")),
    ("effectiveness", gettext_lazy("effectiveness")),
    ("equity", gettext_lazy("equity")),
)
_ANALYSIS_TYPES = (
    ("descriptive", gettext_lazy("descriptive")),
    ("detection", gettext_lazy("detection")),
    ("prediction", gettext_lazy("prediction")),
    ("behaviour_change", gettext_lazy("behaviour change")),
)

#: Every field of PROGRAM.md §3 (DSSG scoping worksheet + DataSF charter), in the order a charter reads.
CHARTER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("title", gettext_lazy("Title"), "line", max_length=300),
    FieldSpec("department", gettext_lazy("Department"), "line", max_length=200),
    FieldSpec("problem_statement", gettext_lazy("Problem statement")),
    FieldSpec("affected", gettext_lazy("Who is affected, and how many")),
    FieldSpec("why_now", gettext_lazy("Why now")),
    FieldSpec("earlier_attempts", gettext_lazy("Earlier attempts and what happened")),
    FieldSpec("stakeholders_inside", gettext_lazy("Stakeholders inside the city government")),
    FieldSpec("stakeholders_outside", gettext_lazy("Stakeholders outside the city government")),
    FieldSpec("goals", gettext_lazy("Goals")),
    FieldSpec(
        "trade_off",
        gettext_lazy("The goal that comes first when goals conflict"),
        "choice",
        choices=_TRADE_OFFS,
        max_length=20,
        help=gettext_lazy("Efficiency, effectiveness or equity: which one wins a trade-off."),
    ),
    FieldSpec("trade_off_notes", gettext_lazy("The trade-off among efficiency, effectiveness and equity")),
    FieldSpec("constraint_budget", gettext_lazy("Constraints: budget")),
    FieldSpec("constraint_people", gettext_lazy("Constraints: people")),
    FieldSpec("constraint_time", gettext_lazy("Constraints: time")),
    FieldSpec("constraint_legal", gettext_lazy("Constraints: legal")),
    FieldSpec("existing_process", gettext_lazy("The existing process")),
    FieldSpec("actions_informed", gettext_lazy("The actions the work will inform")),
    FieldSpec("service_change", gettext_lazy("Service change")),
    FieldSpec("data_sources", gettext_lazy("Data sources")),
    FieldSpec("analysis_type", gettext_lazy("Type of analysis"), "choice", choices=_ANALYSIS_TYPES, max_length=20),
    FieldSpec("ethics_equity", gettext_lazy("Ethics and equity considerations")),
    FieldSpec("risks_dependencies", gettext_lazy("Risks and dependencies")),
    FieldSpec("success_metric", gettext_lazy("Success metric"), "line", max_length=500),
    FieldSpec("metric_baseline", gettext_lazy("Success metric: baseline"), "line", max_length=500),
    FieldSpec("metric_target", gettext_lazy("Success metric: target"), "line", max_length=500),
    FieldSpec("deliverable", gettext_lazy("Deliverable")),
    FieldSpec("maintainer", gettext_lazy("Who maintains the deliverable"), "line", max_length=300),
    FieldSpec("milestones", gettext_lazy("Milestones")),
)
FIELDS_BY_KEY: dict[str, FieldSpec] = {spec.key: spec for spec in CHARTER_FIELDS}

#: The three sign-offs a charter needs, in order, with how a missing one is named.
SIGN_OFF_KINDS: tuple[str, ...] = (SignOff.Kind.TEAM.value, SignOff.Kind.CHAMPION.value, SignOff.Kind.LEADERSHIP.value)


def _who(kind: str) -> str:
    names: dict[str, str] = {"team": _("the team"), "champion": _("the champion"), "leadership": _("leadership")}
    return names.get(kind, kind)


# ---- reading ----------------------------------------------------------------------------------------------------


def current(project: Project) -> CharterVersion | None:
    """The charter's latest version, or None before the first edit."""
    return CharterVersion.objects.filter(project=project).order_by("-number").first()


def versions(actor: User, city: str, project_id: int) -> list[CharterVersion]:
    """Every version of the project's charter, newest first."""
    project = get_project(actor, city, project_id)
    return list(CharterVersion.objects.filter(project=project).select_related("created_by").order_by("-number"))


def get_version(actor: User, city: str, project_id: int, version_id: int) -> CharterVersion:
    """One version of the project's charter by its id (another project's version is not found)."""
    project = get_project(actor, city, project_id)
    version = CharterVersion.objects.filter(project=project, pk=version_id).select_related("created_by").first()
    if version is None:
        raise NotFoundError(f"no charter version {version_id} in project {project.pk}")
    return version


def version_by_number(actor: User, city: str, project_id: int, number: int) -> CharterVersion:
    """One version of the project's charter by its number (1, 2, ...)."""
    project = get_project(actor, city, project_id)
    version = CharterVersion.objects.filter(project=project, number=number).select_related("created_by").first()
    if version is None:
        raise NotFoundError(f"the charter has no version {number}")
    return version


def value_of(version: CharterVersion | None, key: str) -> str:
    """A field's value in a version ("" when unset or when there is no version)."""
    if version is None:
        return ""
    value = (version.fields or {}).get(key, "")
    return value if isinstance(value, str) else str(value)


# ---- editing ----------------------------------------------------------------------------------------------------


def _clean(fields: dict[str, Any]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for key, raw in fields.items():
        spec = FIELDS_BY_KEY.get(key)
        if spec is None:
            raise FieldError(key, _("is not a field of the charter"))
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            raise FieldError(key, _("must be text"))
        text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()  # a browser's line ends are \r\n
        if "\x00" in text:
            raise FieldError(key, _("holds a NUL character"))
        if len(text) > spec.max_length:
            raise FieldError(key, _("is longer than %(n)d characters") % {"n": spec.max_length})
        if spec.kind == "line" and "\n" in text:
            raise FieldError(key, _("must be one line"))
        if spec.kind == "choice" and text and text not in {k for k, _label in spec.choices}:
            raise FieldError(
                key, _("must be one of %(choices)s") % {"choices": ", ".join(k for k, _label in spec.choices)}
            )
        cleaned[key] = text
    if "title" in cleaned and not cleaned["title"]:
        raise FieldError("title", _("a charter needs a title"))
    return cleaned


def _from_intake(project: Project) -> dict[str, str]:
    return {
        "title": project.title,
        "problem_statement": project.problem,
        "service_change": project.service_change,
    }


def complete(values: dict[str, Any]) -> dict[str, str]:
    """Every field of the charter, in order ("" where unset), e.g. ``complete(version.fields)``."""
    return {spec.key: str(values.get(spec.key, "") or "") for spec in CHARTER_FIELDS}


def edit(actor: User, city: str, project_id: int, fields: dict[str, Any], note: str = "") -> CharterVersion:
    """Change some of the charter's fields; a new version only when something changed (else the current one).

    The first version starts from the intake's title, problem and service change.
    """
    project = get_project(actor, city, project_id)
    require(actor, project.city, "project.edit", obj=project)
    cleaned = _clean(fields)
    note = (note or "").strip()
    if "\x00" in note or "\n" in note or "\r" in note:
        raise FieldError("note", _("must be one line of text"))
    if len(note) > 300:
        raise FieldError("note", _("is longer than %(n)d characters") % {"n": 300})
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()  # one editor at a time per project
        latest = current(project)
        before = complete(latest.fields if latest is not None else _from_intake(project))
        after = dict(before)
        after.update(cleaned)
        changed = [key for key in after if after[key] != before[key]]
        if latest is not None and not changed:
            return latest
        number = (CharterVersion.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
        version = CharterVersion.objects.create(
            project=project, number=number, fields=after, note=note, created_by=actor
        )
        audit.record(
            "charter.edited", actor=actor, city=project.city, obj=version, project=project.pk, number=number,
            fields=",".join(changed),
        )  # fmt: skip
    return version


# ---- what changed -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A run of text in a diff: ``op`` is ``same``, ``added`` or ``removed``."""

    op: str
    text: str


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two versions, with a word-level diff of its text."""

    key: str
    label: str
    before: str
    after: str
    segments: tuple[Segment, ...]


_TOKENS = re.compile(r"\w+\s*|[^\w\s]\s*|\s+")  # words with the spaces after them


def _segments(before: str, after: str) -> tuple[Segment, ...]:
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    out: list[Segment] = []

    def add(op: str, tokens: list[str]) -> None:
        if not tokens:
            return
        text = "".join(tokens)
        if out and out[-1].op == op:
            out[-1] = Segment(op, out[-1].text + text)
        else:
            out.append(Segment(op, text))

    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("same", old[i1:i2])
        else:
            add("removed", old[i1:i2])
            add("added", new[j1:j2])
    return tuple(out)


def diff(old: CharterVersion | None, new: CharterVersion) -> list[FieldChange]:
    """The fields that differ from ``old`` (None: an empty charter) to ``new``, in the charter's order."""
    changes: list[FieldChange] = []
    for spec in CHARTER_FIELDS:
        before, after = value_of(old, spec.key), value_of(new, spec.key)
        if before == after:
            continue
        if spec.kind == "choice":
            shown_before, shown_after = spec.choice_label(before), spec.choice_label(after)
            segments = tuple(s for s in (Segment("removed", shown_before), Segment("added", shown_after)) if s.text)
        else:
            segments = _segments(before, after)
        changes.append(FieldChange(spec.key, str(spec.label), before, after, segments))
    return changes


def changed_keys(old: CharterVersion | None, new: CharterVersion) -> list[str]:
    """The keys of the fields that differ between two versions, in the charter's order."""
    return [spec.key for spec in CHARTER_FIELDS if value_of(old, spec.key) != value_of(new, spec.key)]


# ---- sign-offs --------------------------------------------------------------------------------------------------


def sign(actor: User, city: str, project_id: int, kind: str, name: str, role: str, signed_on: date) -> SignOff:
    """Record a sign-off of the charter's CURRENT version by the team, the champion or leadership."""
    project = get_project(actor, city, project_id)
    require(actor, project.city, "charter.sign", obj=project)
    if kind not in SIGN_OFF_KINDS:
        raise FieldError("kind", _("must be one of %(kinds)s") % {"kinds": ", ".join(SIGN_OFF_KINDS)})
    values: dict[str, str] = {}
    for field, raw in (("name", name), ("role", role)):
        text = (raw or "").strip() if isinstance(raw, str) else ""
        if not text:
            raise FieldError(field, _("is required"))
        if "\x00" in text or "\n" in text or "\r" in text:
            raise FieldError(field, _("must be one line of text"))
        if len(text) > 200:
            raise FieldError(field, _("is longer than %(n)d characters") % {"n": 200})
        values[field] = text
    if not isinstance(signed_on, date):
        raise FieldError("signed_on", _("is not a date"))
    today = django_timezone.localdate()
    if signed_on > today:
        raise FieldError("signed_on", _("%(day)s is in the future") % {"day": signed_on.isoformat()})
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        version = current(project)
        if version is None:
            raise FieldError("version", _("there is no charter to sign yet: write it first"))
        sign_off = SignOff.objects.create(
            version=version, kind=kind, name=values["name"], role=values["role"], signed_on=signed_on,
            recorded_by=actor,
        )  # fmt: skip
        audit.record(
            "charter.signed", actor=actor, city=project.city, obj=sign_off, project=project.pk,
            number=version.number, kind=kind,
        )  # fmt: skip
    return sign_off


@dataclass(frozen=True)
class InvalidatedSignOff:
    """A sign-off of an earlier version: ``invalidated_by`` is the version after it, ``changed`` what that changed."""

    sign_off: SignOff
    signed_version: int
    invalidated_by: int
    changed: tuple[str, ...]  # field keys
    changed_labels: tuple[str, ...]


@dataclass(frozen=True)
class SignatureStatus:
    """Whether the charter's latest version is signed by team, champion and leadership, and what is missing."""

    signed: bool
    version: int | None  # the latest version's number (None: no charter yet)
    valid: tuple[SignOff, ...]
    invalidated: tuple[InvalidatedSignOff, ...]
    missing: list[str]


def signature_status(project: Project) -> SignatureStatus:
    """The sign-offs of the charter: those that hold (on the latest version), those a later change invalidated,
    and one line per missing sign-off ("the champion has not signed version 3")."""
    all_versions = list(CharterVersion.objects.filter(project=project).order_by("number"))
    if not all_versions:
        return SignatureStatus(
            signed=False, version=None, valid=(), invalidated=(), missing=[_("there is no charter yet")]
        )
    latest = all_versions[-1]
    following = {v.number: all_versions[i + 1] for i, v in enumerate(all_versions[:-1])}
    by_number = {v.number: v for v in all_versions}
    sign_offs = list(
        SignOff.objects.filter(version__project=project)
        .select_related("version", "recorded_by")
        .order_by("-signed_on", "-created_at", "-id")
    )
    valid = tuple(s for s in sign_offs if s.version.number == latest.number)
    invalidated: list[InvalidatedSignOff] = []
    for s in sign_offs:
        if s.version.number == latest.number:
            continue
        after = following[s.version.number]
        keys = tuple(changed_keys(by_number[s.version.number], after))
        invalidated.append(
            InvalidatedSignOff(
                sign_off=s,
                signed_version=s.version.number,
                invalidated_by=after.number,
                changed=keys,
                changed_labels=tuple(str(FIELDS_BY_KEY[k].label) for k in keys),
            )
        )
    signed_kinds = {s.kind for s in valid}
    missing = [
        _("%(who)s has not signed version %(number)d") % {"who": _who(kind), "number": latest.number}
        for kind in SIGN_OFF_KINDS
        if kind not in signed_kinds
    ]
    return SignatureStatus(
        signed=not missing, version=latest.number, valid=valid, invalidated=tuple(invalidated), missing=missing
    )
