"""Checks declared in YAML, one list per dataset, and the default set made from the mapping.

A check file looks like this::

    checks:
      - not_null: service_request_id
      - unique: service_request_id
      - in_set: {column: status, values: [Open, Closed, In Progress]}
      - range: {column: latitude, min: 42.1, max: 42.5}
      - pattern: {column: service_request_id, regex: '^SR-[0-9]{8}$'}
      - date_order: {first: requested_datetime, then: closed_datetime}
      - referential: {column: area_id, dataset: neighbourhoods, key: area_id}
      - freshness: {column: requested_datetime, max_age_days: 7}
      - expression: {name: positive lat, rule: "latitude > 0 or latitude is None"}

Every entry may also carry ``name``, ``severity`` (``error`` or ``warning``) and
``description``. Column names must be the dataset's own (the error lists them);
an expression may use only columns, numbers, strings, comparisons, ``and``/``or``/
``not``, ``is None``, ``+ - * /`` and ``col("a name with spaces")`` — it is parsed,
never evaluated as Python. Every mistake names the line of the file.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import yaml

from ridp.errors import InputError
from ridp.readiness._canonical import CanonicalMapping

__all__ = ["KINDS", "Check", "CheckSpecError", "CheckSuite", "default_checks", "load_checks"]

KINDS = ("not_null", "unique", "in_set", "range", "pattern", "date_order", "referential", "freshness", "expression")
_SEVERITIES = ("error", "warning")
MAX_CHECKS_BYTES = 200_000


class CheckSpecError(InputError):
    """A check file is wrong; the message names the file, its line and the field.

    Examples
    --------
    >>> str(CheckSpecError("unknown column 'x'", source="checks.yaml", line=4, field="not_null"))
    "checks.yaml, line 4, not_null: unknown column 'x'"
    """

    def __init__(self, message: str, *, source: str = "checks", line: int | None = None, field: str | None = None,
                 hint: str | None = None) -> None:  # fmt: skip
        self.source, self.line, self.field, self.reason = source, line, field, message
        where = [source] + ([f"line {line}"] if line else []) + ([field] if field else [])
        super().__init__(f"{', '.join(where)}: {message}", hint=hint)


@dataclass(frozen=True)
class Check:
    """One declared check."""

    kind: str
    columns: tuple[str, ...]
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    severity: str = "error"
    description: str = ""
    line: int | None = None

    def to_yaml_entry(self) -> dict[str, Any]:
        body: dict[str, Any]
        if (
            self.kind in ("not_null", "unique")
            and not self.params
            and self.name == _default_name(self.kind, self.columns)
        ):
            body = {self.kind: self.columns[0]}
        else:
            inner: dict[str, Any] = {}
            if self.kind == "date_order":
                inner = {"first": self.columns[0], "then": self.columns[1]}
            elif self.kind != "expression":
                inner = {"column": self.columns[0]}
            inner.update(self.params)
            if self.name != _default_name(self.kind, self.columns):
                inner["name"] = self.name
            body = {self.kind: inner}
        if self.severity != "error":
            body.setdefault(self.kind, {})
            if isinstance(body[self.kind], dict):
                body[self.kind]["severity"] = self.severity
        return body


@dataclass(frozen=True)
class CheckSuite:
    """The checks of one dataset, with the YAML they were read from."""

    checks: tuple[Check, ...]
    source: str = "checks"

    def to_yaml(self) -> str:
        return yaml.safe_dump({"checks": [c.to_yaml_entry() for c in self.checks]}, sort_keys=False, allow_unicode=True)

    def spec_hash(self) -> str:
        return hashlib.sha256(self.to_yaml().encode()).hexdigest()

    def __len__(self) -> int:
        return len(self.checks)


def _default_name(kind: str, columns: Sequence[str]) -> str:
    if kind == "date_order":
        return f"{columns[1]} not before {columns[0]}"
    return f"{kind.replace('_', ' ')}: {', '.join(columns)}" if columns else kind


# -- reading YAML with lines -------------------------------------------------
def _plain(node: yaml.Node) -> Any:
    return yaml.safe_load(yaml.serialize(node))


def load_checks(text_or_path: str | Path, *, columns: Sequence[str], source: str | None = None) -> CheckSuite:
    """Read a check file and check it against the dataset's ``columns``.

    Examples
    --------
    >>> suite = load_checks("checks:\\n  - not_null: id\\n", columns=["id", "x"])
    >>> suite.checks[0].kind, suite.checks[0].columns
    ('not_null', ('id',))
    >>> load_checks("checks:\\n  - not_null: idd\\n", columns=["id", "x"])
    Traceback (most recent call last):
    ...
    ridp.readiness.checks.CheckSpecError: checks, line 2, not_null.column: unknown column 'idd'; the columns are: id, x
    """
    if isinstance(text_or_path, Path):
        source = source or text_or_path.name
        try:
            text = text_or_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckSpecError(f"cannot read it: {exc}", source=source) from exc
    else:
        text = text_or_path
    source = source or "checks"
    if len(text) > MAX_CHECKS_BYTES:
        raise CheckSpecError(
            f"the file is over {MAX_CHECKS_BYTES // 1000:,} kB; a check file is a short list", source=source
        )
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CheckSpecError(
            f"not valid YAML ({getattr(exc, 'problem', None) or exc})",
            source=source, line=mark.line + 1 if mark else None,
        ) from exc  # fmt: skip
    except RecursionError as exc:
        raise CheckSpecError("not valid YAML (nested too deeply)", source=source) from exc
    if root is None:
        return CheckSuite((), source)
    items: yaml.Node | None = root
    if isinstance(root, yaml.MappingNode):
        keys = {k.value: v for k, v in root.value}
        unknown = sorted(set(keys) - {"checks"})
        if unknown:
            raise CheckSpecError(
                f"unknown key {unknown[0]!r}; a check file has one key, 'checks'", source=source,
                line=root.start_mark.line + 1,
            )  # fmt: skip
        items = keys.get("checks")
    if items is None or (isinstance(items, yaml.ScalarNode) and items.value in ("", "~", "null")):
        return CheckSuite((), source)
    if not isinstance(items, yaml.SequenceNode):
        raise CheckSpecError("'checks' must be a list of checks", source=source, line=items.start_mark.line + 1)
    known = list(columns)
    checks = tuple(_one(node, known, source) for node in items.value)
    seen: set[str] = set()
    for c in checks:
        if c.name in seen:
            raise CheckSpecError(f"two checks are named {c.name!r}; give one a 'name'", source=source, line=c.line)
        seen.add(c.name)
    return CheckSuite(checks, source)


def _one(node: yaml.Node, columns: list[str], source: str) -> Check:
    line = node.start_mark.line + 1

    def fail(message: str, fld: str | None = None) -> CheckSpecError:
        return CheckSpecError(message, source=source, line=line, field=fld)

    if not isinstance(node, yaml.MappingNode) or len(node.value) != 1:
        raise fail(f"each check is one 'kind: ...' entry; the kinds are: {', '.join(KINDS)}")
    key_node, value_node = node.value[0]
    kind = str(key_node.value)
    if kind not in KINDS:
        raise fail(f"unknown check kind {kind!r}; the kinds are: {', '.join(KINDS)}", kind)
    line = value_node.start_mark.line + 1
    try:
        value = _plain(value_node)
    except (yaml.YAMLError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        # e.g. a tag such as !!python/object or !!timestamp 'nope': refused, never built
        raise fail(f"cannot read this value ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})", kind) from exc

    def column(name: Any, fld: str) -> str:
        if not isinstance(name, str) or name not in columns:
            raise fail(
                f"unknown column {name!r}; the columns are: {', '.join(columns)}", f"{kind}.{fld}" if fld else kind
            )
        return name

    if kind in ("not_null", "unique") and isinstance(value, str):
        value = {"column": value}
    if not isinstance(value, dict):
        raise fail("expected a mapping of settings (column: ..., ...)", kind)
    value = dict(value)
    name = value.pop("name", None)
    severity = value.pop("severity", "error")
    description = str(value.pop("description", "") or "")
    if severity not in _SEVERITIES:
        raise fail(f"severity must be one of {', '.join(_SEVERITIES)}", f"{kind}.severity")
    allowed: dict[str, tuple[str, ...]] = {
        "not_null": ("column",), "unique": ("column",), "in_set": ("column", "values"),
        "range": ("column", "min", "max"), "pattern": ("column", "regex"), "date_order": ("first", "then"),
        "referential": ("column", "dataset", "key"), "freshness": ("column", "max_age_days"),
        "expression": ("rule",),
    }  # fmt: skip
    extra = sorted(set(value) - set(allowed[kind]))
    if extra:
        raise fail(f"unknown setting {extra[0]!r}; {kind} takes: {', '.join(allowed[kind])}", f"{kind}.{extra[0]}")
    params: dict[str, Any] = {}
    cols: tuple[str, ...]
    if kind == "date_order":
        for fld in ("first", "then"):
            if fld not in value:
                raise fail(f"needs '{fld}'", f"{kind}.{fld}")
        cols = (column(value["first"], "first"), column(value["then"], "then"))
    elif kind == "expression":
        rule = value.get("rule")
        if not isinstance(rule, str) or not rule.strip():
            raise fail("needs a 'rule', e.g. \"latitude > 0\"", f"{kind}.rule")
        try:
            cols = tuple(_rule_columns(rule, columns))
        except ValueError as exc:
            raise fail(str(exc), f"{kind}.rule") from exc
        params["rule"] = rule
        if not name:
            raise fail("an expression needs a 'name'", f"{kind}.name")
    else:
        if "column" not in value:
            raise fail("needs 'column'", f"{kind}.column")
        cols = (column(value["column"], "column"),)
        if kind == "in_set":
            values = value.get("values")
            if not isinstance(values, list) or not values:
                raise fail("'values' must be a non-empty list", f"{kind}.values")
            params["values"] = values
        elif kind == "range":
            for fld in ("min", "max"):
                if (fld in value and not isinstance(value[fld], (int, float, str))) or isinstance(value.get(fld), bool):
                    raise fail(f"'{fld}' must be a number or a date", f"{kind}.{fld}")
                if fld in value:
                    params[fld] = value[fld]
            if not params:
                raise fail("give 'min', 'max' or both", kind)
        elif kind == "pattern":
            regex = value.get("regex")
            try:
                re.compile(str(regex))
            except re.error as exc:
                raise fail(f"not a valid regular expression ({exc})", f"{kind}.regex") from exc
            if not isinstance(regex, str):
                raise fail("'regex' must be text", f"{kind}.regex")
            params["regex"] = regex
        elif kind == "referential":
            for fld in ("dataset", "key"):
                if not isinstance(value.get(fld), str):
                    raise fail(f"needs '{fld}' (text)", f"{kind}.{fld}")
                params[fld] = value[fld]
        elif kind == "freshness":
            age = value.get("max_age_days")
            if not isinstance(age, (int, float)) or isinstance(age, bool) or age <= 0:
                raise fail("'max_age_days' must be a positive number", f"{kind}.max_age_days")
            params["max_age_days"] = age
    return Check(kind, cols, str(name) if name else _default_name(kind, cols), params, severity, description, line)


# -- expressions ---------------------------------------------------------------
_OPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
}  # fmt: skip
_ARITH: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}  # fmt: skip


def _parse_rule(rule: str) -> ast.expr:
    try:
        return ast.parse(rule.replace("\n", " "), mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"cannot read the rule ({exc.msg})") from exc


def _rule_columns(rule: str, columns: Sequence[str]) -> list[str]:
    found: list[str] = []
    _walk(_parse_rule(rule), columns, found, None)
    return list(dict.fromkeys(found))


def _walk(node: ast.expr, columns: Sequence[str], found: list[str], table: ir.Table | None) -> Any:
    """Check (and, given a table, build) an expression; anything not listed is refused."""

    def again(n: ast.expr) -> Any:
        return _walk(n, columns, found, table)

    def col(name: str) -> Any:
        if name not in columns:
            raise ValueError(f"unknown column {name!r}; the columns are: {', '.join(columns)}")
        found.append(name)
        return table[name] if table is not None else None

    if isinstance(node, ast.BoolOp):
        values = [again(v) for v in node.values]
        if table is None:
            return None
        out = values[0]
        for v in values[1:]:
            out = (out & v) if isinstance(node.op, ast.And) else (out | v)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        inner = again(node.operand)
        return None if table is None else (~inner if isinstance(node.op, ast.Not) else -inner)
    if isinstance(node, ast.Compare):
        left = again(node.left)
        out = None
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.Is, ast.IsNot)):
                if not (isinstance(right_node, ast.Constant) and right_node.value is None):
                    raise ValueError("'is' and 'is not' compare only with None")
                part = None if table is None else (left.isnull() if isinstance(op, ast.Is) else left.notnull())
                right = None
            elif type(op) in _OPS:
                right = again(right_node)
                part = None if table is None else _OPS[type(op)](left, right)
            else:
                raise ValueError(f"the operator {type(op).__name__} is not allowed")
            out = part if out is None else (None if table is None else out & part)
            left = right
        return out
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        a, b = again(node.left), again(node.right)
        return None if table is None else _ARITH[type(node.op)](a, b)
    if isinstance(node, ast.Name):
        return col(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "col":
        if len(node.args) != 1 or node.keywords or not isinstance(node.args[0], ast.Constant):
            raise ValueError('col() takes one column name in quotes, e.g. col("Created Date")')
        return col(str(node.args[0].value))
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float, str))
        and not isinstance(node.value, bool)
    ):
        return None if table is None else ibis.literal(node.value)
    raise ValueError(f"{ast.unparse(node)!r} is not allowed here (only columns, numbers, text and comparisons)")


def rule_expr(rule: str, table: ir.Table) -> ir.BooleanValue:
    """The boolean Ibis expression of an already-checked rule."""
    return _walk(_parse_rule(rule), table.columns, [], table)


# -- defaults --------------------------------------------------------------------
CLOSED_WORDS = ("closed", "close", "completed", "complete", "resolved", "done")


def default_checks(mapping: CanonicalMapping | None, columns: Sequence[str]) -> CheckSuite:
    """A sensible first set of checks from the canonical mapping.

    Examples
    --------
    >>> m = CanonicalMapping({"id": "sr", "opened": "o", "closed": "c"})
    >>> [c.name for c in default_checks(m, ["sr", "o", "c"]).checks]
    ['not null: sr', 'unique: sr', 'not null: o', 'c not before o']
    """
    if mapping is None:
        return CheckSuite((), "default checks")
    present = {f: c for f, c in mapping.fields.items() if c in columns}
    out: list[Check] = []

    def add(kind: str, cols: tuple[str, ...], params: Mapping[str, Any] | None = None, severity: str = "error",
            description: str = "", name: str | None = None) -> None:  # fmt: skip
        out.append(Check(kind, cols, name or _default_name(kind, cols), dict(params or {}), severity, description))

    if "id" in present:
        add("not_null", (present["id"],), description="every request has an id")
        add("unique", (present["id"],), description="no two requests share an id")
    if "opened" in present:
        add("not_null", (present["opened"],), description="every request has the time it was made")
    if "type" in present:
        add("not_null", (present["type"],), severity="warning", description="every request has a type")
    if "opened" in present and "closed" in present:
        add(
            "date_order",
            (present["opened"], present["closed"]),
            description="a request is not closed before it was opened",
        )
    if "latitude" in present:
        add("range", (present["latitude"],), {"min": -90, "max": 90}, description="latitudes are on Earth")
    if "longitude" in present:
        add("range", (present["longitude"],), {"min": -180, "max": 180}, description="longitudes are on Earth")
    return CheckSuite(tuple(out), "default checks")
