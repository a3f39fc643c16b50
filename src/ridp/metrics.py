"""Metric specs: a metric as frozen data (PROGRAM.md §6, the GovEx target-setting guide).

A :class:`MetricSpec` holds a metric's name, its formula over the canonical
service-request fields, unit, direction, baseline (value and period), target (value,
GovEx category, optional date), disaggregation, source dataset, refresh and owner.
It is written in YAML (:func:`load_metric`, :func:`dump_metric`); every result
computed from it records :meth:`MetricSpec.spec_hash`, so a number can be traced to
the exact definition behind it.

The formula language is small and never evaluated as Python: the text is parsed
with :mod:`ast` and every node is checked against a whitelist (no attribute
access, no call but the aggregates, no name but the canonical fields)::

    formula   := aggregate [ "where" condition ]
    aggregate := count() | mean(x) | median(x) | p90(x) | quantile(x, q) | share(condition)
    condition := field op literal | field in ("a", "b") | field is None | field is not None
               | condition and condition | condition or condition | not condition | ( condition )

``x`` is a numeric field: ``days_to_close`` (closed − opened, in days), ``latitude``
or ``longitude``. Text fields compare with ``==``, ``!=``, ``in`` and ``not in``;
numbers and times (``opened``, ``closed``, compared with ISO dates such as
``"2024-01-01"``) with ``<``, ``<=``, ``>``, ``>=`` too.

Part of the analytical core: it never imports Django.

Examples
--------
>>> spec = load_metric('''
... name: pothole_days
... formula: median(days_to_close) where type == "Pothole"
... unit: days
... direction: lower_is_better
... baseline: {value: 6.5, start: 2024-01-01, end: 2024-12-31}
... target: {value: 4, category: accuracy, by: 2026-12-31}
... disaggregation: [geography, ward]
... source: service_requests
... refresh: weekly
... owner: Director of Public Works
... ''')
>>> spec.target.value, spec.direction
(4.0, 'lower_is_better')
>>> spec.needs().fields
('type', 'opened', 'closed', 'latitude', 'longitude')
>>> load_metric(dump_metric(spec)) == spec
True
>>> len(spec.spec_hash())
64
>>> str(parse_formula("share(days_to_close<=4)  where agency=='DPW'"))
'share(days_to_close <= 4) where agency == "DPW"'
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import math
import re
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from os import PathLike
from pathlib import Path
from typing import Any, Final, Literal, get_args

import yaml

from ridp.errors import SpecError

__all__ = [
    "AGGREGATES",
    "CANONICAL_FIELDS",
    "DERIVED_FIELDS",
    "DIRECTIONS",
    "FIELD_KINDS",
    "REFRESHES",
    "TARGET_CATEGORIES",
    "Baseline",
    "BoolCondition",
    "Compare",
    "Condition",
    "Direction",
    "Formula",
    "MetricDocument",
    "MetricNeeds",
    "MetricSpec",
    "NotCondition",
    "Refresh",
    "Target",
    "TargetCategory",
    "dump_metric",
    "load_metric",
    "load_metrics",
    "metric_documents",
    "parse_formula",
]

# ---- vocabulary ---------------------------------------------------------------------------------------------------

Direction = Literal["lower_is_better", "higher_is_better"]
#: GovEx's five categories of performance targets: no baseline to set one without guessing (uncertainty);
#: unattainable on the evidence (overconfidence); far below proven capacity (mediocrity); set on the evidence
#: (accuracy); reached and held (stability).
TargetCategory = Literal["uncertainty", "overconfidence", "mediocrity", "accuracy", "stability"]
Refresh = Literal["daily", "weekly", "monthly", "quarterly", "yearly"]
Aggregate = Literal["count", "mean", "median", "p90", "quantile", "share"]
CompareOp = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "is not"]
FieldKind = Literal["text", "time", "number"]

DIRECTIONS: Final[tuple[Direction, ...]] = get_args(Direction)
TARGET_CATEGORIES: Final[tuple[TargetCategory, ...]] = get_args(TargetCategory)
REFRESHES: Final[tuple[Refresh, ...]] = get_args(Refresh)
AGGREGATES: Final[tuple[Aggregate, ...]] = get_args(Aggregate)

#: The canonical service-request fields (``ridp.ingest.mapping``), in their order.
CANONICAL_FIELDS: Final[tuple[str, ...]] = (
    "id", "type", "opened", "closed", "status", "agency", "channel", "latitude", "longitude", "address",
)  # fmt: skip
#: Fields computed from canonical ones, and what each reads.
DERIVED_FIELDS: Final[dict[str, tuple[str, ...]]] = {"days_to_close": ("opened", "closed")}
FIELD_KINDS: Final[dict[str, FieldKind]] = {
    "id": "text", "type": "text", "opened": "time", "closed": "time", "status": "text", "agency": "text",
    "channel": "text", "latitude": "number", "longitude": "number", "address": "text", "days_to_close": "number",
}  # fmt: skip
#: Disaggregations that are not area columns, and the canonical fields each reads (points are placed in areas).
DISAGGREGATIONS: Final[dict[str, tuple[str, ...]]] = {
    "geography": ("latitude", "longitude"),
    "demography": ("latitude", "longitude"),
}
_OPS: Final[dict[type[ast.cmpop], CompareOp]] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
}  # fmt: skip
_ORDERING: Final = frozenset({"<", "<=", ">", ">="})
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_AREA = re.compile(r"^[^\x00]{1,100}$")
MAX_FORMULA: Final = 1000
MAX_TEXT: Final = 200
MAX_YAML: Final = 64_000
MAX_IN_VALUES: Final = 200
SPEC_FORMAT: Final = 1  # in every spec's hash: a change of the format changes every hash

# ---- the formula --------------------------------------------------------------------------------------------------

Value = str | float | None | tuple[str | float, ...]


def _number(value: float) -> str:
    """A number as the formula writes it: ``4`` for 4.0, ``0.75`` otherwise."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _literal(value: Value) -> str:
    if value is None:
        return "None"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return _number(value)


@dataclass(frozen=True)
class Compare:
    """``field op value``: a field compared with a literal (a tuple for ``in``, None for ``is``)."""

    field: str
    op: CompareOp
    value: Value

    def __str__(self) -> str:
        return f"{self.field} {self.op} {_literal(self.value)}"

    def fields(self) -> frozenset[str]:
        return frozenset({self.field})


@dataclass(frozen=True)
class BoolCondition:
    """``a and b`` / ``a or b``."""

    op: Literal["and", "or"]
    parts: tuple[Condition, ...]

    def __str__(self) -> str:
        def part(c: Condition) -> str:
            return f"({c})" if isinstance(c, BoolCondition) else str(c)

        return f" {self.op} ".join(part(c) for c in self.parts)

    def fields(self) -> frozenset[str]:
        return frozenset().union(*(c.fields() for c in self.parts))


@dataclass(frozen=True)
class NotCondition:
    """``not a``."""

    part: Condition

    def __str__(self) -> str:
        return f"not ({self.part})" if isinstance(self.part, BoolCondition) else f"not {self.part}"

    def fields(self) -> frozenset[str]:
        return self.part.fields()


Condition = Compare | BoolCondition | NotCondition


@dataclass(frozen=True)
class Formula:
    """A parsed formula: one aggregate, optionally over the rows a ``where`` condition keeps.

    ``field`` is the numeric field of mean/median/p90/quantile; ``q`` the quantile;
    ``condition`` the condition of ``share``. ``str(formula)`` is its canonical text.

    Examples
    --------
    >>> f = parse_formula('quantile(days_to_close, 0.75) where status != "duplicate"')
    >>> (f.aggregate, f.field, f.q, str(f.where))
    ('quantile', 'days_to_close', 0.75, 'status != "duplicate"')
    >>> sorted(f.fields())
    ['days_to_close', 'status']
    """

    aggregate: Aggregate
    field: str | None = None
    q: float | None = None
    condition: Condition | None = None
    where: Condition | None = None

    def __str__(self) -> str:
        if self.aggregate == "count":
            inside = ""
        elif self.aggregate == "share":
            inside = str(self.condition)
        elif self.aggregate == "quantile":
            inside = f"{self.field}, {_number(self.q or 0.0)}"
        else:
            inside = str(self.field)
        text = f"{self.aggregate}({inside})"
        return f"{text} where {self.where}" if self.where is not None else text

    def fields(self) -> frozenset[str]:
        """Every field the formula names (derived ones as named, e.g. ``days_to_close``)."""
        found: set[str] = {self.field} if self.field else set()
        for c in (self.condition, self.where):
            if c is not None:
                found |= c.fields()
        return frozenset(found)

    def canonical_fields(self) -> tuple[str, ...]:
        """The canonical fields it reads (a derived field counts as the fields it is computed from)."""
        return _in_order(_expand(self.fields()))


def _expand(names: frozenset[str] | set[str]) -> set[str]:
    out: set[str] = set()
    for name in names:
        out.update(DERIVED_FIELDS.get(name, (name,)))
    return out


def _in_order(names: set[str]) -> tuple[str, ...]:
    return tuple(f for f in CANONICAL_FIELDS if f in names)


def _real(value: object) -> float | None:
    """A finite int or float literal as a float (never a bool); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


class _FormulaError(Exception):
    """A formula problem at a 1-based column of the formula."""

    def __init__(self, column: int, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def _where_at(text: str) -> int | None:
    """The index of the top-level ``where`` keyword (None if there is none)."""
    found: int | None = None
    depth = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.OP and tok.string in ("(", "[", "{"):
                depth += 1
            elif tok.type == tokenize.OP and tok.string in (")", "]", "}"):
                depth -= 1
            elif tok.type == tokenize.NAME and tok.string == "where" and depth == 0:
                if found is not None:
                    raise _FormulaError(tok.start[1] + 1, "a formula has at most one 'where'")
                found = tok.start[1]
    except (tokenize.TokenError, SyntaxError) as exc:
        raise _FormulaError(1, f"cannot be read: {exc.args[0]}") from None
    return found


def _parse_part(text: str, offset: int, what: str) -> tuple[ast.expr, int]:
    """Parse one part of the formula; the node, and the part's offset in the formula (for columns)."""
    stripped = text.lstrip()
    offset += len(text) - len(stripped)
    if not stripped.strip():
        raise _FormulaError(offset + 1, f"the {what} is missing")
    try:
        return ast.parse(stripped.rstrip(), mode="eval").body, offset
    except SyntaxError as exc:
        raise _FormulaError(offset + (exc.offset or 1), f"the {what} is not valid: {exc.msg}") from None


class _Checker:
    """Turns a whitelisted Python expression into a :class:`Formula`; anything else is an error."""

    def __init__(self, offset: int) -> None:
        self.offset = offset

    def fail(self, node: ast.AST, message: str) -> _FormulaError:
        return _FormulaError(self.offset + getattr(node, "col_offset", 0) + 1, message)

    def refuse(self, node: ast.AST) -> _FormulaError:
        if isinstance(node, ast.Attribute):
            return self.fail(node, "attribute access (a.b) is not allowed: name a field")
        if isinstance(node, ast.Call):
            return self.fail(node, "a function may only be the formula's aggregate, not inside it")
        if isinstance(node, ast.Subscript):
            return self.fail(node, "indexing (a[b]) is not allowed")
        if isinstance(node, ast.BinOp | ast.UnaryOp):
            return self.fail(node, "arithmetic is not allowed: compare a field with a value")
        return self.fail(node, f"{type(node).__name__.lower()} is not allowed here")

    def field_name(self, node: ast.expr, *, numeric: bool = False) -> str:
        if not isinstance(node, ast.Name):
            raise self.refuse(node)
        name = node.id
        if name not in FIELD_KINDS:
            known = ", ".join((*CANONICAL_FIELDS, *DERIVED_FIELDS))
            raise self.fail(node, f"unknown field {name!r}: one of {known}")
        if numeric and FIELD_KINDS[name] != "number":
            numbers = ", ".join(f for f, k in FIELD_KINDS.items() if k == "number")
            raise self.fail(node, f"{name!r} is not a number: one of {numbers}")
        return name

    def aggregate(self, node: ast.expr) -> Formula:
        if not isinstance(node, ast.Call):
            raise self.fail(node, f"a formula starts with an aggregate: one of {', '.join(AGGREGATES)}")
        if isinstance(node.func, ast.Attribute):
            raise self.fail(node.func, "attribute access (a.b) is not allowed: name a field")
        if not isinstance(node.func, ast.Name) or node.func.id not in AGGREGATES:
            name = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__.lower()
            raise self.fail(node.func, f"unknown function {name!r}: one of {', '.join(AGGREGATES)}")
        fn: Aggregate = node.func.id  # type: ignore[assignment]
        if node.keywords:
            raise self.fail(node, f"{fn}() takes no named arguments")
        args = node.args
        expected = {"count": 0, "mean": 1, "median": 1, "p90": 1, "quantile": 2, "share": 1}[fn]
        if any(isinstance(a, ast.Starred) for a in args) or len(args) != expected:
            usage = {"count": "count()", "share": "share(condition)", "quantile": "quantile(x, q)"}.get(fn, f"{fn}(x)")
            raise self.fail(node, f"{fn} takes {expected} argument{'s' if expected != 1 else ''}: {usage}")
        if fn == "count":
            return Formula("count")
        if fn == "share":
            return Formula("share", condition=self.condition(args[0]))
        name = self.field_name(args[0], numeric=True)
        if fn == "quantile":
            q = args[1]
            value = _real(q.value) if isinstance(q, ast.Constant) else None
            if value is None or not 0 < value < 1:
                raise self.fail(q, "the quantile q is a number between 0 and 1, e.g. 0.9")
            return Formula("quantile", field=name, q=value)
        return Formula(fn, field=name)

    def condition(self, node: ast.expr) -> Condition:
        if isinstance(node, ast.BoolOp):
            op: Literal["and", "or"] = "and" if isinstance(node.op, ast.And) else "or"
            return BoolCondition(op, tuple(self.condition(v) for v in node.values))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return NotCondition(self.condition(node.operand))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Name):
            raise self.fail(node, f'compare {node.id!r} with a value, e.g. {node.id} == "..."')
        raise self.refuse(node)

    def compare(self, node: ast.Compare) -> Compare:
        if len(node.ops) != 1:
            raise self.fail(node, "compare one field with one value at a time (join comparisons with 'and')")
        name = self.field_name(node.left)
        kind = FIELD_KINDS[name]
        op = _OPS[type(node.ops[0])]
        right = node.comparators[0]
        if op in ("is", "is not"):
            if not (isinstance(right, ast.Constant) and right.value is None):
                raise self.fail(right, f"'{op}' compares with None only ({name} {op} None)")
            return Compare(name, op, None)
        if op in ("in", "not in"):
            if not isinstance(right, ast.Tuple | ast.List) or not right.elts:
                raise self.fail(right, f'\'{op}\' takes a list of values, e.g. {name} {op} ("a", "b")')
            if len(right.elts) > MAX_IN_VALUES:
                raise self.fail(right, f"at most {MAX_IN_VALUES} values")
            values = tuple(self.value(e, name, kind) for e in right.elts)
            return Compare(name, op, values)
        if op in _ORDERING and kind == "text":
            raise self.fail(node, f"{name!r} is text: compare it with ==, !=, in or not in")
        if isinstance(right, ast.Constant) and right.value is None:
            raise self.fail(right, f"write {name} is None (or is not None) to test for a missing value")
        return Compare(name, op, self.value(right, name, kind))

    def value(self, node: ast.expr, name: str, kind: FieldKind) -> str | float:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            inner = _real(node.operand.value)
            if inner is not None and kind == "number":
                return -inner
        if isinstance(node, ast.Name):
            raise self.fail(node, f"compare {name!r} with a value (text in quotes, or a number), not with a name")
        if not isinstance(node, ast.Constant):
            raise self.refuse(node)
        if isinstance(node.value, bool) or node.value is None:
            raise self.fail(node, "a value is text in quotes or a number")
        value = node.value
        if kind == "number":
            number = _real(value)
            if number is None:
                raise self.fail(node, f"{name!r} is a number: compare it with a number")
            return number
        if not isinstance(value, str):
            raise self.fail(node, f"{name!r} is {'a time' if kind == 'time' else 'text'}: put the value in quotes")
        if kind == "time":
            try:
                datetime.fromisoformat(value)
            except ValueError:
                raise self.fail(node, f'{value!r} is not a date or time like "2024-01-01"') from None
        return value


def parse_formula(text: str) -> Formula:
    """Parse and check a formula; raise :class:`~ridp.errors.SpecError` (field ``formula``) naming the column.

    Examples
    --------
    >>> parse_formula("count() where closed is None").where
    Compare(field='closed', op='is', value=None)
    >>> parse_formula("median(days_to_close.real)")
    Traceback (most recent call last):
    ...
    ridp.errors.SpecError: field "formula": column 8: attribute access (a.b) is not allowed: name a field
    """
    if not isinstance(text, str):
        raise SpecError("formula", "is text, e.g. median(days_to_close)")
    source = text.strip()
    if not source:
        raise SpecError("formula", "is required, e.g. median(days_to_close)")
    if len(source) > MAX_FORMULA:
        raise SpecError("formula", f"is longer than {MAX_FORMULA} characters")
    if "\n" in source or "\r" in source or "\x00" in source:
        raise SpecError("formula", "is one line of text")
    try:
        at = _where_at(source)
        node, offset = _parse_part(source if at is None else source[:at], 0, "aggregate")
        formula = _Checker(offset).aggregate(node)
        if at is None:
            return formula
        start = at + len("where")
        node, offset = _parse_part(source[start:], start, "condition after 'where'")
        where = _Checker(offset).condition(node)  # columns count from the formula's first character
        return Formula(formula.aggregate, formula.field, formula.q, formula.condition, where)
    except _FormulaError as exc:
        raise SpecError("formula", f"column {exc.column}: {exc.message}") from None
    except RecursionError:
        raise SpecError("formula", "is nested too deeply") from None


# ---- the spec -----------------------------------------------------------------------------------------------------


def _text(value: object, name: str, *, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SpecError(name, "is required (text)")
    if len(value) > limit:
        raise SpecError(name, f"is longer than {limit} characters")
    if "\x00" in value:
        raise SpecError(name, "holds a NUL character")
    return value.strip()


def _float(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(name, "is a number")
    number = float(value)
    if not math.isfinite(number):
        raise SpecError(name, "is a finite number")
    return number


def _day(value: object, name: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise SpecError(name, "is not a date like 2024-01-01")


def _choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise SpecError(name, f"{value!r} is not one of {', '.join(choices)}")
    return str(value)


@dataclass(frozen=True)
class Baseline:
    """Where the metric stood: its value (None when not measured yet) over the period ``start``..``end``."""

    value: float | None
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.value is not None:
            object.__setattr__(self, "value", _float(self.value, "baseline.value"))
        object.__setattr__(self, "start", _day(self.start, "baseline.start"))
        object.__setattr__(self, "end", _day(self.end, "baseline.end"))
        if self.end < self.start:
            raise SpecError("baseline.end", f"{self.end} is before the start, {self.start}")


@dataclass(frozen=True)
class Target:
    """Where the metric should go, the GovEx category of the target, and optionally by when."""

    value: float
    category: TargetCategory
    by: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _float(self.value, "target.value"))
        _choice(self.category, "target.category", TARGET_CATEGORIES)
        if self.by is not None:
            object.__setattr__(self, "by", _day(self.by, "target.by"))


@dataclass(frozen=True)
class MetricNeeds:
    """What computing a metric reads: the source dataset, its canonical fields and area columns, and the
    period the baseline covers (requests *opened* in it, so ``opened`` is always read)."""

    dataset: str
    fields: tuple[str, ...]
    areas: tuple[str, ...]
    start: date
    end: date

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, e.g. to store beside a readiness run."""
        return {
            "dataset": self.dataset,
            "fields": list(self.fields),
            "areas": list(self.areas),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


@dataclass(frozen=True, kw_only=True)
class MetricSpec:
    """A metric, frozen: the definition every result computed from it records (by :meth:`spec_hash`).

    Construction checks every field (a :class:`~ridp.errors.SpecError` names the
    field) and writes the formula in its canonical form, so two spellings of one
    formula are one spec.

    Parameters
    ----------
    name
        Lower-case letters, digits and ``_``, starting with a letter (at most 64): ``pothole_days``.
    formula
        See the module's docstring, e.g. ``share(days_to_close <= 4) where type == "Street light"``.
    unit
        What the value counts: ``days``, ``share of requests``, ``requests``.
    direction
        ``lower_is_better`` or ``higher_is_better``.
    baseline, target
        :class:`Baseline` and :class:`Target`.
    disaggregation
        ``geography``, ``demography`` and/or names of the dataset's area columns (``ward``).
    source
        The name of the city's dataset the metric is computed from.
    refresh
        ``daily``, ``weekly``, ``monthly``, ``quarterly`` or ``yearly``.
    owner
        Who answers for the metric (a person or a post).
    """

    name: str
    formula: str
    unit: str
    direction: Direction
    baseline: Baseline
    target: Target
    disaggregation: tuple[str, ...] = ()
    source: str
    refresh: Refresh
    owner: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise SpecError(
                "name", "is lower-case letters, digits and _ (at most 64), starting with a letter: pothole_days"
            )
        object.__setattr__(self, "formula", str(parse_formula(self.formula)))
        object.__setattr__(self, "unit", _text(self.unit, "unit", limit=50))
        _choice(self.direction, "direction", DIRECTIONS)
        if not isinstance(self.baseline, Baseline):
            raise SpecError("baseline", "is a Baseline (value, start, end)")
        if not isinstance(self.target, Target):
            raise SpecError("target", "is a Target (value, category, by)")
        if not isinstance(self.disaggregation, tuple):
            raise SpecError("disaggregation", "is a list of geography, demography or area columns")
        seen: set[str] = set()
        for item in self.disaggregation:
            if not isinstance(item, str) or not _AREA.match(item) or not item.strip():
                raise SpecError("disaggregation", "each is geography, demography or an area column's name")
            if item in seen:
                raise SpecError("disaggregation", f"{item!r} is listed twice")
            seen.add(item)
        object.__setattr__(self, "source", _text(self.source, "source"))
        _choice(self.refresh, "refresh", REFRESHES)
        object.__setattr__(self, "owner", _text(self.owner, "owner"))

    @property
    def parsed(self) -> Formula:
        """The formula, parsed."""
        return parse_formula(self.formula)

    def needs(self) -> MetricNeeds:
        """The dataset, canonical fields, area columns and baseline period this metric reads.

        Examples
        --------
        >>> spec = MetricSpec(name="open_backlog", formula="count() where closed is None", unit="requests",
        ...     direction="lower_is_better", baseline=Baseline(None, date(2024, 1, 1), date(2024, 3, 31)),
        ...     target=Target(100, "uncertainty"), source="requests", refresh="daily", owner="ana")
        >>> needs = spec.needs()
        >>> needs.fields, needs.start.isoformat()
        (('opened', 'closed'), '2024-01-01')
        """
        names = _expand(self.parsed.fields()) | {"opened"}
        areas: list[str] = []
        for item in self.disaggregation:
            if item in DISAGGREGATIONS:
                names.update(DISAGGREGATIONS[item])
            else:
                areas.append(item)
        return MetricNeeds(self.source, _in_order(names), tuple(areas), self.baseline.start, self.baseline.end)

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready data (dates as ISO text); :meth:`from_dict` reads it back."""
        return {
            "name": self.name,
            "formula": self.formula,
            "unit": self.unit,
            "direction": self.direction,
            "baseline": {
                "value": self.baseline.value,
                "start": self.baseline.start.isoformat(),
                "end": self.baseline.end.isoformat(),
            },
            "target": {
                "value": self.target.value,
                "category": self.target.category,
                "by": self.target.by.isoformat() if self.target.by else None,
            },
            "disaggregation": list(self.disaggregation),
            "source": self.source,
            "refresh": self.refresh,
            "owner": self.owner,
        }

    def canonical_json(self) -> str:
        """The spec as canonical JSON (sorted keys, no spaces, the format's number): what :meth:`spec_hash` hashes."""
        data = {"ridp_metric": SPEC_FORMAT, **self.to_dict()}
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    def spec_hash(self) -> str:
        """SHA-256 of :meth:`canonical_json`, in hex."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: object) -> MetricSpec:
        """A spec from data as YAML or JSON give it; a :class:`~ridp.errors.SpecError` names the wrong field."""
        top = _mapping(data, "", _TOP_KEYS, _TOP_REQUIRED)
        baseline = _mapping(top["baseline"], "baseline", ("value", "start", "end"), ("value", "start", "end"))
        target = _mapping(top["target"], "target", ("value", "category", "by"), ("value", "category"))
        disaggregation = top.get("disaggregation") or []
        if not isinstance(disaggregation, list | tuple):
            raise SpecError("disaggregation", "is a list, e.g. [geography, ward]")
        value = baseline["value"]
        by = target.get("by")
        return cls(
            name=top["name"] if isinstance(top["name"], str) else str(top["name"]),
            formula=top["formula"],
            unit=top["unit"],
            direction=top["direction"],
            baseline=Baseline(
                None if value is None else _float(value, "baseline.value"),
                _day(baseline["start"], "baseline.start"),
                _day(baseline["end"], "baseline.end"),
            ),
            target=Target(
                _float(target["value"], "target.value"),
                _choice(target["category"], "target.category", TARGET_CATEGORIES),  # type: ignore[arg-type]
                None if by is None else _day(by, "target.by"),
            ),
            disaggregation=tuple(d if isinstance(d, str) else str(d) for d in disaggregation),
            source=top["source"],
            refresh=top["refresh"],
            owner=top["owner"],
        )


_TOP_KEYS: Final = (
    "name", "formula", "unit", "direction", "baseline", "target", "disaggregation", "source", "refresh", "owner",
)  # fmt: skip
_TOP_REQUIRED: Final = tuple(k for k in _TOP_KEYS if k != "disaggregation")


def _mapping(data: object, where: str, keys: tuple[str, ...], required: tuple[str, ...]) -> dict[str, Any]:
    prefix = f"{where}." if where else ""
    if not isinstance(data, Mapping):
        raise SpecError(where or "yaml", f"is a mapping of {', '.join(keys)}")
    for key in data:
        if key not in keys:
            raise SpecError(f"{prefix}{key}", f"is not a field of a metric{' ' + where if where else ''}: one of "
                            f"{', '.join(keys)}")  # fmt: skip
    for key in required:
        if key not in data:
            missing = "is missing (null when it is not measured yet)" if f"{prefix}{key}" == "baseline.value" else ""
            raise SpecError(f"{prefix}{key}", missing or "is missing")
    return dict(data)


# ---- YAML ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricDocument:
    """One spec read from YAML, with its own text and the line of the file it starts on."""

    spec: MetricSpec
    text: str
    line: int = 1
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)


def _lines(node: yaml.Node, path: str, lines: dict[str, int], seen: set[int]) -> None:
    """Record each field's line (1-based); refuse aliases and duplicate keys, which YAML would accept silently."""
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
            _lines(value_node, child, lines, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _lines(item, path, {}, seen)


def _line_of(lines: dict[str, int], name: str) -> int | None:
    """The line of ``name``, else of its nearest parent that is written, else of the document."""
    while True:
        if name in lines:
            return lines[name]
        if "." not in name:
            return lines.get("")
        name = name.rsplit(".", 1)[0]


def _read(source: str | PathLike[str]) -> tuple[str, Path | None]:
    if isinstance(source, PathLike):
        path = Path(source)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise SpecError("yaml", f"cannot read the file: {exc.strerror}", path=path) from None
        if len(raw) > MAX_YAML:
            raise SpecError("yaml", f"is larger than {MAX_YAML:,} bytes", path=path)
        try:
            return raw.decode("utf-8"), path
        except UnicodeDecodeError:
            raise SpecError("yaml", "is not UTF-8 text", path=path) from None
    if not isinstance(source, str):
        raise SpecError("yaml", "is YAML text or a path to a YAML file")
    if len(source.encode()) > MAX_YAML:
        raise SpecError("yaml", f"is larger than {MAX_YAML:,} bytes")
    return source, None


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, with a wrong date reported at its line (PyYAML raises a bare ValueError)."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> date | datetime:
        try:
            value: date | datetime = super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
            ) from None
        return value


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _yaml_error(exc: yaml.YAMLError, lines: dict[str, int], path: Path | None) -> SpecError:
    """A YAML error as a SpecError at its line, naming the deepest field written on that line."""
    mark = (exc.problem_mark or exc.context_mark) if isinstance(exc, yaml.MarkedYAMLError) else None
    if mark is None:
        return SpecError("yaml", f"is not valid YAML: {exc}", path=path)
    line = mark.line + 1
    on_line = [name for name, at in lines.items() if at == line and name]
    name = max(on_line, key=lambda n: n.count(".")) if on_line else "yaml"
    problem = exc.problem if isinstance(exc, yaml.MarkedYAMLError) and exc.problem else str(exc)
    context = exc.context if isinstance(exc, yaml.MarkedYAMLError) else None
    if context and exc.context_mark is not None and exc.context_mark.line + 1 != line:  # type: ignore[attr-defined]
        problem += f" ({context} that starts on line {exc.context_mark.line + 1})"  # type: ignore[attr-defined]
    return SpecError(name, problem if on_line else f"is not valid YAML: {problem}", line=line, path=path)


def metric_documents(source: str | PathLike[str]) -> tuple[MetricDocument, ...]:
    """Every spec of a YAML text (or file, given as a :class:`~pathlib.Path`): one per YAML document (``---``).

    Errors are :class:`~ridp.errors.SpecError` naming the file, the line and the field.
    """
    text, path = _read(source)
    try:
        loader = _Loader(text)  # the reader refuses control characters at once
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, {}, path) from None
    found: list[MetricDocument] = []
    try:
        while True:
            lines: dict[str, int] = {}
            try:
                node = loader.get_node() if loader.check_node() else None
                if node is None:
                    break
                _lines(node, "", lines, set())
                data = loader.construct_document(node)
            except yaml.YAMLError as exc:
                raise _yaml_error(exc, lines, path) from None
            except RecursionError:
                raise SpecError("yaml", "is not valid YAML: nested too deeply", path=path) from None
            except SpecError as exc:
                raise exc.at(path=path) from None
            try:
                spec = MetricSpec.from_dict(data)
            except SpecError as exc:
                raise exc.at(line=_line_of(lines, exc.field), path=path) from None
            first, last = node.start_mark.line, node.end_mark.line
            own = "\n".join(text.splitlines()[first : last + 1]) + "\n"
            found.append(MetricDocument(spec, own, first + 1, lines))
    finally:
        loader.dispose()
    if not found:
        raise SpecError("yaml", "holds no metric", line=1, path=path)
    names = [d.spec.name for d in found]
    for doc in found:
        if names.count(doc.spec.name) > 1:
            raise SpecError("name", f"{doc.spec.name!r} is defined twice", line=doc.lines.get("name"), path=path)
    if len(found) == 1:
        found[0] = MetricDocument(found[0].spec, text, 1, found[0].lines)  # one spec keeps the whole text
    return tuple(found)


def load_metric(source: str | PathLike[str]) -> MetricSpec:
    """One spec from YAML text (a ``str``) or a file (a :class:`~pathlib.Path`).

    Examples
    --------
    >>> load_metric("name: x\\nformula: count()\\nunit: requests\\n")
    Traceback (most recent call last):
    ...
    ridp.errors.SpecError: line 1, field "direction": is missing
    """
    docs = metric_documents(source)
    if len(docs) > 1:
        path = Path(source) if isinstance(source, PathLike) else None
        raise SpecError("yaml", f"holds {len(docs)} metrics; give one", line=docs[1].line, path=path)
    return docs[0].spec


def load_metrics(source: str | PathLike[str]) -> tuple[MetricSpec, ...]:
    """Every spec of a YAML text or file, one per YAML document (separated by ``---``)."""
    return tuple(d.spec for d in metric_documents(source))


def dump_metric(spec: MetricSpec) -> str:
    """The spec as YAML that :func:`load_metric` reads back to an equal spec.

    Examples
    --------
    >>> spec = MetricSpec(name="requests", formula="count()", unit="requests", direction="higher_is_better",
    ...     baseline=Baseline(1200, date(2024, 1, 1), date(2024, 12, 31)), target=Target(1500, "accuracy"),
    ...     source="service_requests", refresh="monthly", owner="ana")
    >>> print(dump_metric(spec), end="")
    name: requests
    formula: count()
    unit: requests
    direction: higher_is_better
    baseline:
      value: 1200.0
      start: 2024-01-01
      end: 2024-12-31
    target:
      value: 1500.0
      category: accuracy
    source: service_requests
    refresh: monthly
    owner: ana
    """
    data: dict[str, Any] = spec.to_dict()
    data["baseline"] = {"value": spec.baseline.value, "start": spec.baseline.start, "end": spec.baseline.end}
    target: dict[str, Any] = {"value": spec.target.value, "category": spec.target.category}
    if spec.target.by is not None:
        target["by"] = spec.target.by
    data["target"] = target
    if not spec.disaggregation:
        del data["disaggregation"]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=200)
