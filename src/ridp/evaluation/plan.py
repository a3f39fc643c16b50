"""Analysis plans: what a pilot will estimate, written down and frozen before anyone sees the outcomes.

A plan states the questions, the hypotheses, the primary outcome (the one the adoption decision rests on) and the
secondary ones, the treatment column, the estimator and its standard errors, the covariates, alpha and the
correction for several outcomes, the exclusions and what was already looked at. :func:`freeze` stamps it with the
SHA-256 of its canonical JSON and the UTC time; anything changed later is a deviation, listed by :func:`changes`
field by field. The canonical bytes depend only on the plan's content (not on key order, YAML layout or an omitted
default), so the same plan hashes the same on every machine and run.

Plans are usually written in YAML: ``EXAMPLE_PLAN`` (``ridp plan example`` prints it) is a commented example.

Required: ``title``, ``questions``, ``hypotheses``, ``primary`` (with ``column`` and ``label``), ``treatment``,
``estimator`` and ``alpha``; the rest has the defaults of :class:`AnalysisPlan`. A wrong field is a
:class:`~ridp.errors.SpecError` naming it (``primary.column``, ``secondary[0].better``) and its line. Besides each
field's own values, a plan must be coherent: outcomes distinct and none of them the treatment; covariates for
``lin`` and only for it; ``CR2``, ``wild`` and ``CR1`` only with a cluster, ``HC2`` only without; no ``se`` to
choose for ``randomisation``; ``0 < alpha < 0.5``.

Examples
--------
>>> plan = AnalysisPlan.from_yaml(EXAMPLE_PLAN)
>>> plan.primary.column, plan.se, len(plan.sha256)
('days_to_close', 'CR2', 64)
>>> frozen = freeze(plan)
>>> frozen.verify()
True
>>> later = AnalysisPlan.from_dict({**plan.to_dict(), "alpha": 0.1})
>>> changes(plan, later)
(Change(field='alpha', before=0.05, after=0.1),)
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, get_args

import yaml

from ridp.errors import FieldError, SpecError
from ridp.evaluation._design import QUASI, QUASI_SE, check_design, design_columns

# The YAML reader of metric specs: a wrong date at its line, a YAML error as a SpecError naming the field on its
# line, a field's line found from its dotted name. Plans read the same way.
from ridp.metrics import MAX_YAML, _line_of, _Loader, _yaml_error

__all__ = [
    "CORRECTIONS",
    "ESTIMATORS",
    "EXAMPLE_PLAN",
    "PLAN_FORMAT",
    "SE_TYPES",
    "AnalysisPlan",
    "Better",
    "Change",
    "Correction",
    "FrozenPlan",
    "Outcome",
    "changes",
    "freeze",
]

Better = Literal["lower", "higher"]
Estimator = Literal["difference_in_means", "lin", "randomisation", "did", "twfe", "callaway_santanna", "sun_abraham",
                    "its", "synth"]  # fmt: skip
SEType = Literal["auto", "HC2", "CR2", "wild", "CR1", "iid", "HC1", "model", "HAC"]
Correction = Literal["holm", "bonferroni", "none"]
BETTER: Final = get_args(Better)
ESTIMATORS: Final = get_args(Estimator)
SE_TYPES: Final = get_args(SEType)
CORRECTIONS: Final = get_args(Correction)
CLUSTERED_SE: Final = ("CR2", "wild", "CR1")

#: Bumped when the meaning of a plan's fields changes, so an old hash is never matched by a new reading.
PLAN_FORMAT: Final = 1
MAX_TEXT: Final = 4000
MAX_ITEMS: Final = 200

#: A commented example plan: a pilot of triage crews for pothole requests.
EXAMPLE_PLAN: Final = """\
title: Triage crews for pothole requests
questions:
  - Do triage crews shorten the wait for a pothole repair?
hypotheses:
  - Requests in triage neighbourhoods close sooner than in the others.
primary:
  column: days_to_close          # a column of the pilot's data
  label: Days from request to close
  better: lower                  # lower | higher
  measure: days of waiting       # residents' terms: "2.1 fewer days of waiting per request"
  per: request
  volume: 8700                   # requests per year, to state resident-days saved per year
  volume_label: requests per year
secondary:
  - column: reopened
    label: Share of requests reopened within 30 days
    better: lower
treatment: triage                # two values; 1/True is treated, or say which with `treated:`
unit: request_id
cluster: neighbourhood           # neighbourhoods were randomised, so errors are clustered
estimator: lin                   # difference_in_means | lin | randomisation
se: CR2                          # auto | HC2 | CR2 | wild | CR1
covariates: [days_to_close_2024]
alpha: 0.05
correction: holm                 # holm | bonferroni | none
exclusions:
  - Requests closed as duplicates
already_looked_at:
  - Request counts by neighbourhood in 2024 (no outcomes)
"""


# ---- checks: one place, each naming its field ----------------------------------------------------------------------


def _text(value: object, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SpecError(name, "is required (text)" if value is None else "is text that is not empty")
    if len(value) > MAX_TEXT:
        raise SpecError(name, f"is longer than {MAX_TEXT} characters")
    if "\x00" in value:
        raise SpecError(name, "holds a NUL character")
    # One spelling of each character, so an editor's choice of Unicode form does not change the hash.
    return unicodedata.normalize("NFC", value)


def _column(value: object, name: str, *, optional: bool = False) -> str | None:
    text = _text(value, name, optional=optional)
    if text is not None and text != text.strip():
        raise SpecError(name, f"{text!r} has spaces at its ends: name the column exactly")
    return text


def _texts(value: object, name: str, *, columns: bool = False) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise SpecError(name, "is a list, e.g. [first, second]")
    items = list(value)
    if len(items) > MAX_ITEMS:
        raise SpecError(name, f"has more than {MAX_ITEMS} items")
    check = _column if columns else _text
    out = tuple(str(check(item, f"{name}[{i}]")) for i, item in enumerate(items))
    for i, item in enumerate(out):
        if item in out[:i]:
            raise SpecError(f"{name}[{i}]", f"{item!r} is listed twice")
    return out


def _choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise SpecError(name, f"{value!r} is not one of {', '.join(choices)}")
    return value


def _number(value: object, name: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(name, "is a number")
    number = float(value)
    if not math.isfinite(number):
        raise SpecError(name, "is a finite number")
    return number


def _mapping(data: object, where: str, keys: tuple[str, ...], required: tuple[str, ...]) -> Mapping[str, Any]:
    what = "an outcome" if where else "an analysis plan"
    if not isinstance(data, Mapping):
        raise SpecError(where or "yaml", f"is a mapping of {', '.join(keys)}")
    prefix = f"{where}." if where else ""
    for key in data:
        if key not in keys:
            raise SpecError(f"{prefix}{key}", f"is not a field of {what}: one of {', '.join(keys)}")
    for key in required:
        if key not in data:
            raise SpecError(f"{prefix}{key}", "is missing")
    return data


# ---- the plan -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """An outcome the pilot measures, and how to say an effect on it in residents' terms.

    Parameters
    ----------
    column, label
        The data's column and its name in words.
    better
        ``"lower"`` when less is an improvement (days of waiting), ``"higher"`` otherwise.
    measure, per, volume, volume_label
        Residents' terms: an effect of -2.1 on ``days_to_close`` is "2.1 fewer *days of waiting* per *request*",
        times ``volume`` (8,700 *requests per year*) resident-days saved per year.
    """

    column: str
    label: str
    better: Better = "lower"
    measure: str | None = None
    per: str | None = None
    volume: float | None = None
    volume_label: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "column", _column(self.column, "column"))
        object.__setattr__(self, "label", _text(self.label, "label"))
        _choice(self.better, "better", BETTER)
        for name in ("measure", "per", "volume_label"):
            object.__setattr__(self, name, _text(getattr(self, name), name, optional=True))
        volume = _number(self.volume, "volume", optional=True)
        if volume is not None and volume <= 0:
            raise SpecError("volume", f"is how many {self.per or 'units'} there are in a year: more than 0")
        object.__setattr__(self, "volume", volume)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: object, *, where: str = "") -> Outcome:
        """An outcome from a mapping; errors name the field under ``where`` (``secondary[1].column``)."""
        keys = tuple(f.name for f in fields(cls))
        given = _mapping(data, where, keys, ("column", "label"))
        try:
            return cls(**given)
        except SpecError as exc:
            raise SpecError(f"{where}.{exc.field}" if where else exc.field, exc.problem) from None


_PLAN_REQUIRED: Final = ("title", "questions", "hypotheses", "primary", "treatment", "estimator", "alpha")


@dataclass(frozen=True, kw_only=True)
class AnalysisPlan:
    """What a pilot will estimate and how, fixed before its outcomes are seen (see the module's docstring).

    ``treatment`` names a column with two values (1/True is treated, or give ``treated``); ``unit``, ``cluster``
    and ``block`` name the unit of observation, the unit of randomisation when groups were randomised, and the
    blocks assignment was made within. ``se="auto"`` leaves the standard errors to the estimator's rule (HC2, or a
    clustered method when there is a cluster). Construction checks every field: a :class:`~ridp.errors.SpecError`
    names the one that is wrong.
    """

    title: str
    questions: tuple[str, ...]
    hypotheses: tuple[str, ...]
    primary: Outcome
    secondary: tuple[Outcome, ...] = ()
    treatment: str
    treated: Any | None = None
    unit: str | None = None
    cluster: str | None = None
    block: str | None = None
    estimator: Estimator = "difference_in_means"
    se: SEType = "auto"
    covariates: tuple[str, ...] = ()
    alpha: float = 0.05
    correction: Correction = "holm"
    exclusions: tuple[str, ...] = ()
    already_looked_at: tuple[str, ...] = ()
    design: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "title", _text(self.title, "title"))
        for name in ("questions", "hypotheses"):
            put(self, name, _texts(getattr(self, name), name))
            if not getattr(self, name):
                raise SpecError(name, "lists at least one (the plan says what it asks and expects)")
        for name in ("exclusions", "already_looked_at"):
            put(self, name, _texts(getattr(self, name), name))
        if not isinstance(self.primary, Outcome):
            raise SpecError("primary", "is an Outcome (column, label, better, ...)")
        if isinstance(self.secondary, Outcome | str) or not isinstance(self.secondary, Iterable):
            raise SpecError("secondary", "is a list of outcomes")
        put(self, "secondary", tuple(self.secondary))
        for i, outcome in enumerate(self.secondary):
            if not isinstance(outcome, Outcome):
                raise SpecError(f"secondary[{i}]", "is an Outcome (column, label, better, ...)")
        put(self, "treatment", _column(self.treatment, "treatment"))
        treated = self.treated
        if treated is not None and (
            not isinstance(treated, str | int | float) or (isinstance(treated, float) and not math.isfinite(treated))
        ):
            raise SpecError("treated", "is the treated value of the treatment column: text, a number or true/false")
        for name in ("unit", "cluster", "block"):
            put(self, name, _column(getattr(self, name), name, optional=True))
        _choice(self.estimator, "estimator", ESTIMATORS)
        _choice(self.se, "se", SE_TYPES)
        put(self, "covariates", _texts(self.covariates, "covariates", columns=True))
        alpha = _number(self.alpha, "alpha")
        if alpha is None or not 0 < alpha < 0.5:
            raise SpecError("alpha", f"{alpha} is not between 0 and 0.5 (0.05 is usual)")
        put(self, "alpha", alpha)
        _choice(self.correction, "correction", CORRECTIONS)
        put(self, "design", check_design(self.estimator, self.design, unit=self.unit, treated=self.treated,
                                         covariates=self.covariates, cluster=self.cluster))  # fmt: skip
        self._check_consistent()

    def _check_consistent(self) -> None:
        outcomes = [self.primary, *self.secondary]
        names = ["primary", *(f"secondary[{i}]" for i in range(len(self.secondary)))]
        for i, (outcome, name) in enumerate(zip(outcomes, names, strict=True)):
            if outcome.column == self.treatment:
                raise SpecError(f"{name}.column", f"{outcome.column!r} is the treatment column, not an outcome")
            if outcome.column in [o.column for o in outcomes[:i]]:
                raise SpecError(f"{name}.column", f"{outcome.column!r} is already an outcome of this plan")
        for i, covariate in enumerate(self.covariates):
            if covariate == self.treatment or covariate in [o.column for o in outcomes]:
                raise SpecError(f"covariates[{i}]", f"{covariate!r} is the treatment or an outcome, not a covariate")
        if self.cluster is not None and self.cluster == self.treatment:
            raise SpecError("cluster", f"{self.cluster!r} is the treatment column")
        if self.estimator in QUASI:
            if self.se not in QUASI_SE[self.estimator]:
                raise SpecError("se", f"{self.se} is not for estimator {self.estimator}: use "
                                f"{', '.join(QUASI_SE[self.estimator])}")  # fmt: skip
            if self.se in CLUSTERED_SE and self.cluster is None and self.estimator == "did":
                raise SpecError("se", f"{self.se} is for clustered designs: name the cluster column (cluster:)")
            return
        if self.se in ("iid", "HC1", "model", "HAC"):
            raise SpecError("se", f"{self.se} is for quasi-experimental estimators; use auto, HC2, CR2, wild or CR1")
        if self.estimator == "lin" and not self.covariates:
            raise SpecError("covariates", "are needed by estimator lin (covariates measured before assignment)")
        if self.covariates and self.estimator != "lin":
            raise SpecError("covariates", f"are not used by estimator {self.estimator}: choose lin, or remove them")
        if self.se in CLUSTERED_SE and self.cluster is None:
            raise SpecError("se", f"{self.se} is for clustered designs: name the cluster column (cluster:)")
        if self.se == "HC2" and self.cluster is not None:
            raise SpecError("se", f"HC2 ignores the clusters in {self.cluster!r}: use CR2, wild, CR1 or auto")
        if self.estimator == "randomisation" and self.se != "auto":
            raise SpecError("se", "randomisation inference has no standard error to choose: leave se as auto")

    # ---- reading and writing -------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain JSON-safe data (lists, not tuples); :meth:`from_dict` reads it back."""
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Outcome):
                value = value.to_dict()
            elif f.name == "secondary":
                value = [o.to_dict() for o in value]
            elif isinstance(value, tuple):
                value = list(value)
            elif f.name == "design":
                if not value:
                    continue  # omitted when empty, so plans written before it hash as they did
                value = dict(value)
            data[f.name] = value
        return data

    @classmethod
    def from_dict(cls, data: object) -> AnalysisPlan:
        """A plan from data as YAML or JSON give it; a :class:`~ridp.errors.SpecError` names the wrong field."""
        keys = tuple(f.name for f in fields(cls))
        given = dict(_mapping(data, "", keys, _PLAN_REQUIRED))
        given["primary"] = Outcome.from_dict(given["primary"], where="primary")
        secondary = given.get("secondary")
        if secondary is not None:
            if not isinstance(secondary, list | tuple):
                raise SpecError("secondary", "is a list of outcomes (column, label, better, ...)")
            given["secondary"] = tuple(
                Outcome.from_dict(item, where=f"secondary[{i}]") for i, item in enumerate(secondary)
            )
        else:
            given.pop("secondary", None)
        for name in ("questions", "hypotheses", "covariates", "exclusions", "already_looked_at"):
            if name in given and given[name] is not None and not isinstance(given[name], list | tuple):
                raise SpecError(name, "is a list, e.g. [first, second]")
        return cls(**given)

    @classmethod
    def from_yaml(cls, text: str, *, source: str | Path | None = None) -> AnalysisPlan:
        """A plan from YAML text; ``source`` (a file's name) is only used to say where an error is.

        Errors are :class:`~ridp.errors.SpecError` naming the file, the line and the field.
        """
        if not isinstance(text, str):
            raise SpecError("yaml", "is YAML text", path=source)
        if len(text.encode()) > MAX_YAML:
            raise SpecError("yaml", f"is larger than {MAX_YAML:,} bytes", path=source)
        path = Path(source) if source is not None else None
        lines: dict[str, int] = {}
        try:
            loader = _Loader(text)
        except yaml.YAMLError as exc:
            raise _yaml_error(exc, lines, path) from None
        try:
            node = loader.get_single_node()
            if node is None:
                raise SpecError("yaml", "holds no analysis plan", line=1, path=path)
            _record_lines(node, "", lines, set())
            data = loader.construct_document(node)
        except yaml.YAMLError as exc:
            raise _yaml_error(exc, lines, path) from None
        except RecursionError:
            raise SpecError("yaml", "is not valid YAML: nested too deeply", path=path) from None
        except SpecError as exc:
            raise exc.at(path=path) from None
        finally:
            loader.dispose()
        try:
            return cls.from_dict(data)
        except SpecError as exc:
            raise exc.at(line=_line_of(lines, exc.field), path=path) from None

    def to_yaml(self) -> str:
        """The plan as YAML that :meth:`from_yaml` reads back to an equal plan."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, default_flow_style=False, width=120)

    def canonical(self) -> bytes:
        """The plan as canonical JSON bytes: sorted keys, UTF-8, no spaces, floats as Python's shortest repr.

        What :attr:`sha256` hashes. Key order, YAML layout, ``8700`` versus ``8700.0`` and omitted defaults do not
        change it; a change of any value does.
        """
        data = {"ridp_plan": PLAN_FORMAT, **self.to_dict()}
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")

    @property
    def sha256(self) -> str:
        """SHA-256 of :meth:`canonical`, in hex."""
        return hashlib.sha256(self.canonical()).hexdigest()

    # ---- the data it reads -----------------------------------------------------------------------------------------

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        """The primary outcome, then the secondary ones."""
        return (self.primary, *self.secondary)

    def _columns_by_field(self) -> list[tuple[str, str]]:
        named = [("treatment", self.treatment), ("primary.column", self.primary.column)]
        named += [(f"secondary[{i}].column", o.column) for i, o in enumerate(self.secondary)]
        named += [(f"covariates[{i}]", c) for i, c in enumerate(self.covariates)]
        named += [(name, getattr(self, name)) for name in ("cluster", "block", "unit") if getattr(self, name)]
        named += design_columns(self.design)
        return named

    def columns(self) -> set[str]:
        """Every column the plan reads."""
        return {column for _, column in self._columns_by_field()}

    def check_columns(self, columns: Iterable[str]) -> None:
        """Raise :class:`~ridp.errors.FieldError` naming the plan's field whose column is not in ``columns``."""
        there = list(columns)
        for name, column in self._columns_by_field():
            if column not in there:
                raise FieldError(
                    name, f"column {column!r} is not in the data; the columns are: {', '.join(map(str, there))}"
                )

    def summary(self) -> str:
        """The plan in a few lines of plain text."""
        se = self.se if self.se != "auto" else ("auto (HC2)" if self.cluster is None else "auto (clustered)")
        lines = [
            f"Analysis plan: {self.title}",
            f"  primary outcome: {self.primary.label} ({self.primary.column}, {self.primary.better} is better)",
        ]
        lines += [f"  secondary outcome: {o.label} ({o.column}, {o.better} is better)" for o in self.secondary]
        lines.append(
            f"  treatment: {self.treatment}" + (f" (treated = {self.treated!r})" if self.treated is not None else "")
        )
        if self.cluster:
            lines.append(f"  clustered by: {self.cluster}")
        lines.append(f"  estimator: {self.estimator}, standard errors: {se}, alpha {self.alpha:g}")
        if self.covariates:
            lines.append(f"  covariates: {', '.join(self.covariates)}")
        if self.secondary:
            lines.append(f"  correction across outcomes: {self.correction}")
        lines.append(f"  SHA-256: {self.sha256}")
        return "\n".join(lines)


def _record_lines(node: yaml.Node, path: str, lines: dict[str, int], seen: set[int]) -> None:
    """Record each field's 1-based line, list items as ``name[i]``; refuse aliases and keys given twice."""
    if id(node) in seen:
        raise SpecError(path or "yaml", "YAML anchors and aliases are not allowed", line=node.start_mark.line + 1)
    seen.add(id(node))
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f"{path}.{key}" if path else key
            if key in keys:
                raise SpecError(child, "is given twice", line=key_node.start_mark.line + 1)
            if id(value_node) in seen:  # an alias: say where it is used, not where its anchor is
                raise SpecError(child, "YAML anchors and aliases are not allowed", line=key_node.start_mark.line + 1)
            keys.add(key)
            lines[child] = key_node.start_mark.line + 1
            _record_lines(value_node, child, lines, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            if id(item) in seen:
                raise SpecError(f"{path}[{i}]", "YAML anchors and aliases are not allowed", line=lines.get(path))
            _record_lines(item, f"{path}[{i}]", lines, seen)


# ---- freezing and deviations --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrozenPlan:
    """A plan with the SHA-256 and UTC time it was frozen at; :meth:`verify` says whether it is unchanged."""

    plan: AnalysisPlan
    sha256: str
    frozen_at: datetime

    def verify(self) -> bool:
        """True when the plan still hashes to the SHA-256 recorded when it was frozen."""
        return self.plan.sha256 == self.sha256

    def summary(self) -> str:
        state = "unchanged" if self.verify() else "CHANGED since it was frozen: its hash no longer matches"
        return f"{self.plan.summary()}\n  frozen at {self.frozen_at.isoformat()} ({state})"

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan.to_dict(), "sha256": self.sha256, "frozen_at": self.frozen_at.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FrozenPlan:
        """Read back :meth:`to_dict`; the recorded hash is kept as it was, so :meth:`verify` can catch edits."""
        at = datetime.fromisoformat(str(data["frozen_at"]))
        return cls(AnalysisPlan.from_dict(data["plan"]), str(data["sha256"]), _utc(at, "frozen_at"))


def _utc(at: datetime, name: str) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise FieldError(name, "is a time with its time zone (e.g. datetime.now(UTC))")
    return at.astimezone(UTC)


def freeze(plan: AnalysisPlan, *, at: datetime | None = None) -> FrozenPlan:
    """Freeze ``plan``: its SHA-256 and the UTC time (now, unless ``at`` says when; ``at`` must carry its zone)."""
    if not isinstance(plan, AnalysisPlan):
        raise FieldError("plan", "is an AnalysisPlan")
    return FrozenPlan(plan, plan.sha256, _utc(at if at is not None else datetime.now(UTC), "at"))


@dataclass(frozen=True)
class Change:
    """One field that differs between two plans (``primary.column``, ``secondary.reopened.label``)."""

    field: str
    before: Any
    after: Any

    def __str__(self) -> str:
        return f"{self.field}: {self.before!r} -> {self.after!r}"

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        return cls(str(data["field"]), data["before"], data["after"])


def changes(old: AnalysisPlan, new: AnalysisPlan) -> tuple[Change, ...]:
    """Every field that differs between ``old`` and ``new``, in the plan's field order.

    Nested fields are dotted (``primary.volume``); secondary outcomes are matched by their column
    (``secondary.reopened.label``), so one added or removed is one change. Empty exactly when the two hash alike.
    """
    a, b = old.to_dict(), new.to_dict()
    found: list[Change] = []
    for name in a:
        if name == "primary":
            found += _outcome_changes("primary", a[name], b[name])
        elif name == "secondary":
            found += _secondary_changes(a[name], b[name])
        elif _canon(a[name]) != _canon(b[name]):
            found.append(Change(name, a[name], b[name]))
    return tuple(found)


def _canon(value: Any) -> str:
    # Compare as the hash does, so 1 and True (or 1 and 1.0) differ exactly when the canonical bytes do.
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _outcome_changes(where: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> list[Change]:
    return [Change(f"{where}.{k}", a[k], b[k]) for k in a if _canon(a[k]) != _canon(b[k])]


def _secondary_changes(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[Change]:
    before = {o["column"]: o for o in a}
    after = {o["column"]: o for o in b}
    found: list[Change] = []
    for column, outcome in before.items():
        if column not in after:
            found.append(Change(f"secondary.{column}", outcome, None))
        else:
            found += _outcome_changes(f"secondary.{column}", outcome, after[column])
    found += [Change(f"secondary.{c}", None, o) for c, o in after.items() if c not in before]
    common_a = [c for c in before if c in after]
    common_b = [c for c in after if c in before]
    if common_a != common_b:  # the same outcomes, listed in another order: the hash changes, so say so
        found.append(Change("secondary.order", common_a, common_b))
    return found
