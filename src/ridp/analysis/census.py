"""Census tables with margins of error: ACS exports read, MOE arithmetic, census keys matched to areas.

``read_acs(path)`` reads an American Community Survey export in which each estimate has a
paired margin-of-error column (American FactFinder's ``*_with_ann.csv``, data.census.gov's
``..._E`` / ``..._M`` or ``Estimate!!...`` / ``Margin of Error!!...`` columns, or a plain table
with pairs named by the caller) into a frozen :class:`CensusTable`. The Census Bureau's symbols
are read as it documents them: ``*****`` (a controlled estimate) is a margin of 0; ``**``,
``***``, ``-``, ``N`` and ``(X)`` are missing; every such cell is counted in the table's notes.

The MOE formulas are those of the Census Bureau's ACS handbook (*Understanding and Using
American Community Survey Data*, chapter 8), at the ACS's 90 % level: :func:`moe_sum`,
:func:`moe_proportion`, :func:`moe_ratio`, :func:`moe_product` and :func:`se_from_moe`.

:func:`match_keys` pairs census keys with the area ids of a dataset (tract GEOIDs against
tract codes, names against names) and says what did not match; :func:`groups_from_census`
bins areas by a census value (income, share of renters) for disparities by area attributes.

Part of the analytical core: census tables are small side tables, handled in pandas and numpy.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ridp.analysis.service import LeftOut
from ridp.errors import FieldError, FileFormatError

__all__ = [
    "Z90",
    "CensusTable",
    "KeyMatch",
    "groups_from_census",
    "match_keys",
    "moe_product",
    "moe_proportion",
    "moe_proportion_formula",
    "moe_ratio",
    "moe_sum",
    "normalise_key",
    "read_acs",
    "se_from_moe",
]

FloatArray = npt.NDArray[np.float64]

#: The ACS publishes margins of error at the 90 % level: MOE = 1.645 × SE.
Z90: Final = 1.645
EXAMPLES: Final = 5

# -- MOE arithmetic (ACS handbook, chapter 8) -----------------------------------------------------


def se_from_moe(moe: float) -> float:
    """The standard error behind a 90 % ACS margin of error: ``moe / 1.645``.

    Examples
    --------
    >>> round(se_from_moe(1645.0), 6)
    1000.0
    """
    return float(moe) / Z90


def moe_sum(moes: Iterable[float], estimates: Iterable[float] | None = None) -> float:
    """MOE of a sum (or difference) of estimates: ``√ΣMOE²``.

    With ``estimates``, the Census Bureau's advice for several zero estimates is followed: only
    the largest of their margins is counted, since adding each one would overstate the error.
    A missing margin (NaN) makes the result missing.

    Examples
    --------
    >>> moe_sum([3.0, 4.0])
    5.0
    >>> moe_sum([3.0, 4.0, 12.0, 12.0], estimates=[10, 20, 0, 0])
    13.0
    """
    m = np.asarray(list(moes), dtype=float)
    if estimates is not None:
        e = np.asarray(list(estimates), dtype=float)
        if e.shape != m.shape:
            raise FieldError("estimates", f"{e.size} estimates for {m.size} margins of error")
        m = _zero_rule(m, e)
    return float(math.sqrt(float(np.sum(m * m)))) if m.size else 0.0


def _zero_rule(moes: FloatArray, estimates: FloatArray) -> FloatArray:
    """The margins to add up: those of non-zero estimates, and the largest of the zero estimates'."""
    zero = estimates == 0
    if zero.sum() <= 1:
        return moes
    keep = moes[~zero]
    largest = np.max(moes[zero])  # NaN if one of them is missing: the sum is then unknown too
    return np.concatenate([keep, [largest]])


def moe_proportion(x: float, y: float, moe_x: float, moe_y: float) -> float:
    """MOE of the proportion ``p = x / y`` where ``x`` is a part of ``y``.

    ``√(MOE_x² − p²·MOE_y²) / y``; when the radicand is negative the Census Bureau's advice is
    the ratio formula ``√(MOE_x² + p²·MOE_y²) / y`` (:func:`moe_proportion_formula` says which
    one applies; :meth:`CensusTable.proportion` notes the areas where the ratio one was used).

    Examples
    --------
    >>> round(moe_proportion(30.0, 100.0, 4.0, 5.0), 10)  # √(16 − 0.09·25) / 100
    0.0370809924
    >>> round(moe_proportion(30.0, 100.0, 1.0, 10.0), 10)  # 1 − 0.09·100 < 0: √(1 + 9) / 100
    0.0316227766
    """
    value, _ = _proportion_moe(
        np.array([x], float), np.array([y], float), np.array([moe_x], float), np.array([moe_y], float)
    )
    return float(value[0])


def moe_proportion_formula(x: float, y: float, moe_x: float, moe_y: float) -> Literal["proportion", "ratio"]:
    """Which formula :func:`moe_proportion` uses here: ``proportion``, or ``ratio`` when its radicand is negative.

    Examples
    --------
    >>> moe_proportion_formula(30.0, 100.0, 1.0, 10.0)
    'ratio'
    """
    _, ratio = _proportion_moe(
        np.array([x], float), np.array([y], float), np.array([moe_x], float), np.array([moe_y], float)
    )
    return "ratio" if bool(ratio[0]) else "proportion"


def _proportion_moe(
    x: FloatArray, y: FloatArray, mx: FloatArray, my: FloatArray
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Vectorised :func:`moe_proportion`: the margins, and where the ratio formula was used."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(y != 0, x / y, np.nan)
        radicand = mx * mx - p * p * my * my
        ratio = radicand < 0
        radicand = np.where(ratio, mx * mx + p * p * my * my, radicand)
        moe = np.where(y != 0, np.sqrt(radicand) / np.abs(y), np.nan)
    return moe.astype(float), np.asarray(ratio, dtype=bool)


def moe_ratio(x: float, y: float, moe_x: float, moe_y: float) -> float:
    """MOE of the ratio ``R = x / y`` where ``x`` is not a part of ``y``: ``√(MOE_x² + R²·MOE_y²) / y``.

    Examples
    --------
    >>> moe_ratio(50.0, 100.0, 6.0, 16.0)  # √(36 + 0.25·256) / 100 = √100 / 100
    0.1
    """
    if y == 0:
        return math.nan
    r = x / y
    return math.sqrt(moe_x * moe_x + r * r * moe_y * moe_y) / abs(y)


def moe_product(a: float, b: float, moe_a: float, moe_b: float) -> float:
    """MOE of the product ``a·b``: ``√(a²·MOE_b² + b²·MOE_a²)``.

    Examples
    --------
    >>> moe_product(3.0, 4.0, 1.0, 1.0)  # √(9 + 16)
    5.0
    """
    return math.sqrt(a * a * moe_b * moe_b + b * b * moe_a * moe_a)


# -- the table -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CensusTable:
    """Census estimates and their 90 % margins of error, one row per area.

    ``estimates[v]`` holds variable ``v``'s estimate per key (NaN where the census gives none);
    ``moes[v]`` its margins (NaN where missing, 0 for a controlled estimate), or None when the
    table has no margin for ``v`` at all. ``labels`` says what each variable is; ``notes`` what
    reading and deriving found (symbols read as missing, margins not found, formulas used).

    Examples
    --------
    >>> t = CensusTable("tract", ("A", "B"), {"pop": (100.0, 300.0), "renters": (30.0, 60.0)},
    ...                 {"pop": (10.0, 20.0), "renters": (4.0, 8.0)})
    >>> p = t.proportion("renters", "pop", "renter_share")
    >>> [round(v, 3) for v in p.estimate("renter_share")]
    [0.3, 0.2]
    >>> g = t.aggregate({"A": "all", "B": "all"})
    >>> float(g.estimate("pop")["all"]), round(float(g.moe("pop")["all"]), 4)
    (400.0, 22.3607)
    """

    key: str
    keys: tuple[str, ...]
    estimates: Mapping[str, tuple[float, ...]]
    moes: Mapping[str, tuple[float, ...] | None]
    labels: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    source: str | None = None

    def __post_init__(self) -> None:
        keys = tuple(str(k) for k in self.keys)
        if len(set(keys)) != len(keys):
            twice = [k for k, n in pd.Series(keys).value_counts().items() if n > 1]
            raise FieldError(self.key, f"keys must be unique; {', '.join(map(repr, twice[:EXAMPLES]))} appear twice")
        n = len(keys)
        estimates: dict[str, tuple[float, ...]] = {}
        moes: dict[str, tuple[float, ...] | None] = {}
        for name, values in self.estimates.items():
            values = tuple(_float(v) for v in values)
            if len(values) != n:
                raise FieldError(name, f"{len(values)} estimates for {n} keys")
            estimates[str(name)] = values
            margin = self.moes.get(name)
            if margin is not None:
                margin = tuple(_float(v) for v in margin)
                if len(margin) != n:
                    raise FieldError(name, f"{len(margin)} margins of error for {n} keys")
            moes[str(name)] = margin
        extra = [m for m in self.moes if m not in estimates]
        if extra:
            raise FieldError("moes", f"margins of error without estimates: {', '.join(extra[:EXAMPLES])}")
        labels = {name: str(self.labels.get(name) or name) for name in estimates}
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "estimates", MappingProxyType(estimates))
        object.__setattr__(self, "moes", MappingProxyType(moes))
        object.__setattr__(self, "labels", MappingProxyType(labels))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(self.estimates)

    def __len__(self) -> int:
        return len(self.keys)

    def label(self, variable: str) -> str:
        """What ``variable`` is, in the table's own words."""
        return self.labels[self.resolve(variable)]

    def resolve(self, variable: str, field: str = "variable") -> str:
        """The variable named ``variable``, or the one whose label it is (case-insensitive, if only one)."""
        if variable in self.estimates:
            return variable
        wanted = _fold(variable)
        found = [name for name, label in self.labels.items() if _fold(label) == wanted or _fold(name) == wanted]
        if len(found) == 1:
            return found[0]
        shown = ", ".join(f"{n} ({self.labels[n]})" if self.labels[n] != n else n for n in self.variables[:10])
        more = f" and {len(self.variables) - 10} more" if len(self.variables) > 10 else ""
        if found:
            raise FieldError(
                field, f"{variable!r} is the label of {len(found)} variables: name one of {', '.join(found)}"
            )
        raise FieldError(field, f"{variable!r} is not a variable of this census table; it has {shown}{more}")

    def has_moe(self, variable: str) -> bool:
        return self.moes[self.resolve(variable)] is not None

    def estimate(self, variable: str) -> pd.Series:
        """``variable``'s estimates, indexed by key."""
        name = self.resolve(variable)
        return pd.Series(self.estimates[name], index=pd.Index(self.keys, name=self.key), name=name, dtype=float)

    def moe(self, variable: str) -> pd.Series | None:
        """``variable``'s margins of error, indexed by key (None: the table has none for it)."""
        name = self.resolve(variable)
        margin = self.moes[name]
        if margin is None:
            return None
        return pd.Series(margin, index=pd.Index(self.keys, name=self.key), name=f"{name}_moe", dtype=float)

    def to_pandas(self) -> pd.DataFrame:
        """The key column, then each variable and its ``<variable>_moe`` (absent when unknown)."""
        data: dict[str, Any] = {self.key: list(self.keys)}
        for name in self.variables:
            data[name] = np.asarray(self.estimates[name], dtype=float)
            margin = self.moes[name]
            if margin is not None:
                data[f"{name}_moe"] = np.asarray(margin, dtype=float)
        return pd.DataFrame(data)

    def summary(self) -> str:
        lines = [
            f"Census table{f' from {self.source}' if self.source else ''}: {len(self.keys):,} areas keyed by "
            f"{self.key}, {len(self.variables)} variable(s)."
        ]
        for name in self.variables:
            values = np.asarray(self.estimates[name], dtype=float)
            missing = int(np.isnan(values).sum())
            moe = "with margins of error" if self.moes[name] is not None else "no margin of error"
            label = f" ({self.labels[name]})" if self.labels[name] != name else ""
            lines.append(f"  {name}{label}: {moe}" + (f", {missing} missing" if missing else ""))
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)

    # -- derived tables --------------------------------------------------------------------------

    def _with(
        self, name: str, values: FloatArray, moes: FloatArray | None, label: str, notes: Sequence[str]
    ) -> CensusTable:
        if name in self.estimates:
            raise FieldError("name", f"{name!r} is already a variable of this table")
        estimates = {**self.estimates, name: tuple(values.tolist())}
        margins = {**self.moes, name: None if moes is None else tuple(moes.tolist())}
        return CensusTable(
            self.key, self.keys, estimates, margins, {**self.labels, name: label}, (*self.notes, *notes), self.source
        )

    def proportion(self, numerator: str, denominator: str, name: str, *, label: str | None = None) -> CensusTable:
        """A new table with ``name`` = ``numerator / denominator`` per area, and its MOE.

        The numerator must be a part of the denominator (renters of households). The MOE is the
        Census Bureau's proportion formula; where its radicand is negative the ratio formula is
        used and the notes say in how many areas. A zero denominator gives a missing value.
        """
        num, den = self.resolve(numerator, "numerator"), self.resolve(denominator, "denominator")
        x = np.asarray(self.estimates[num], dtype=float)
        y = np.asarray(self.estimates[den], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(y != 0, x / y, np.nan)
        notes: list[str] = []
        zero = np.flatnonzero(y == 0)
        if zero.size:
            notes.append(f"{name}: {zero.size} area(s) with {den} = 0 have no proportion ({self._examples(zero)})")
        over = np.flatnonzero(x > y)
        if over.size:
            notes.append(
                f"{name}: {num} exceeds {den} in {over.size} area(s) ({self._examples(over)}): is it really a part of it?"
            )
        mx, my = self.moes[num], self.moes[den]
        moes: FloatArray | None = None
        if mx is None or my is None:
            missing = num if mx is None else den
            notes.append(f"{name}: no margin of error, since {missing} has none")
        else:
            moes, ratio = _proportion_moe(x, y, np.asarray(mx, float), np.asarray(my, float))
            used = np.flatnonzero(ratio & (y != 0))
            if used.size:
                notes.append(
                    f"{name}: the proportion formula's radicand was negative in {used.size} area(s) "
                    f"({self._examples(used)}); the ratio formula was used there, as the Census Bureau advises"
                )
        return self._with(name, p, moes, label or f"{self.labels[num]} / {self.labels[den]}", notes)

    def aggregate(
        self, groups: Mapping[str, str], *, key: str = "group", variables: Sequence[str] | None = None
    ) -> CensusTable:
        """Areas added up into groups (tracts into neighbourhoods): sums of estimates, MOE ``√ΣMOE²``.

        ``groups`` maps census keys to group names (keys are compared after :func:`normalise_key`).
        Areas ``groups`` does not name are left out and noted. Only counts can be added up: by
        default variables whose label says median, mean, per capita, percent, rate, ratio or index
        are left out (noted); name them in ``variables`` to add them up all the same. A group with
        a missing member estimate has no sum; several zero estimates count the largest MOE once.
        """
        by_norm = {normalise_key(k): i for i, k in enumerate(self.keys)}
        members: dict[str, list[int]] = {}
        unknown: list[str] = []
        for census_key, group in groups.items():
            index = by_norm.get(normalise_key(census_key))
            if index is None:
                unknown.append(str(census_key))
                continue
            members.setdefault(str(group), []).append(index)
        if not members:
            raise FieldError("groups", f"none of the {len(groups)} keys is a key of this census table")
        notes: list[str] = []
        if unknown:
            notes.append(
                f"{len(unknown)} key(s) of the groups are not in the census table (e.g. {', '.join(unknown[:EXAMPLES])})"
            )
        grouped = {i for idx in members.values() for i in idx}
        outside = [i for i in range(len(self.keys)) if i not in grouped]
        if outside:
            notes.append(f"{len(outside)} census area(s) are in no group and were left out ({self._examples(outside)})")
        if variables is None:
            chosen = [v for v in self.variables if not _not_a_count(v, self.labels[v])]
            skipped = [v for v in self.variables if v not in chosen]
            if skipped:
                notes.append(
                    f"not added up, being medians, means, rates or shares rather than counts: {', '.join(skipped)}"
                )
        else:
            chosen = [self.resolve(v, "variables") for v in variables]
            for v in chosen:
                if _not_a_count(v, self.labels[v]):
                    notes.append(f"{v} was added up as asked, although its label suggests it is not a count")
        names = list(members)
        estimates: dict[str, tuple[float, ...]] = {}
        moes: dict[str, tuple[float, ...] | None] = {}
        for v in chosen:
            values = np.asarray(self.estimates[v], dtype=float)
            margin = self.moes[v]
            sums, errs, gaps = [], [], 0
            for g in names:
                idx = np.asarray(members[g])
                member = values[idx]
                gaps += int(np.isnan(member).any())
                sums.append(float(member.sum()))
                if margin is not None:
                    errs.append(moe_sum(np.asarray(margin, float)[idx], member))
            estimates[v] = tuple(sums)
            moes[v] = tuple(errs) if margin is not None else None
            if gaps:
                notes.append(f"{v}: {gaps} group(s) have a member without an estimate, so no sum")
        labels = {v: self.labels[v] for v in chosen}
        return CensusTable(key, tuple(names), estimates, moes, labels, (*self.notes, *notes), self.source)

    def merge(self, other: CensusTable) -> CensusTable:
        """This table with ``other``'s variables added, rows matched on keys (after :func:`normalise_key`).

        Areas of ``other`` that are not in this table are left out, and noted; areas of this table
        missing from ``other`` get missing values for its variables.
        """
        clash = [v for v in other.variables if v in self.estimates]
        if clash:
            raise FieldError("variables", f"both tables have {', '.join(clash[:EXAMPLES])}: rename one first")
        theirs = {normalise_key(k): i for i, k in enumerate(other.keys)}
        index = [theirs.get(normalise_key(k), -1) for k in self.keys]
        found = np.asarray(index)
        estimates = dict(self.estimates)
        moes = dict(self.moes)
        for v in other.variables:
            values = np.asarray(other.estimates[v], dtype=float)
            estimates[v] = tuple(np.where(found >= 0, values[found], np.nan).tolist())
            margin = other.moes[v]
            if margin is not None:
                m = np.asarray(margin, dtype=float)
                moes[v] = tuple(np.where(found >= 0, m[found], np.nan).tolist())
            else:
                moes[v] = None
        notes = [*self.notes, *other.notes]
        absent = int((found < 0).sum())
        if absent:
            notes.append(f"{absent} area(s) of this table are not in {other.source or 'the other table'}")
        used = set(index)
        extra = [k for i, k in enumerate(other.keys) if i not in used]
        if extra:
            notes.append(
                f"{len(extra)} area(s) of {other.source or 'the other table'} are not in this table and were left out "
                f"(e.g. {', '.join(extra[:EXAMPLES])})"
            )
        labels = {**self.labels, **other.labels}
        source = ", ".join(s for s in (self.source, other.source) if s) or None
        return CensusTable(self.key, self.keys, estimates, moes, labels, tuple(notes), source)

    def _examples(self, index: Iterable[int]) -> str:
        keys = [self.keys[int(i)] for i in index]
        return ", ".join(keys[:EXAMPLES]) + (", …" if len(keys) > EXAMPLES else "")

    # -- JSON ------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "census_table",
            "key": self.key,
            "keys": list(self.keys),
            "variables": [
                {
                    "name": name,
                    "label": self.labels[name],
                    "estimates": [_json_float(v) for v in self.estimates[name]],
                    "moes": None if self.moes[name] is None else [_json_float(v) for v in self.moes[name] or ()],
                }
                for name in self.variables
            ],
            "notes": list(self.notes),
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CensusTable:
        variables = list(data["variables"])
        return cls(
            key=data["key"],
            keys=tuple(data["keys"]),
            estimates={v["name"]: tuple(_float(x) for x in v["estimates"]) for v in variables},
            moes={v["name"]: None if v["moes"] is None else tuple(_float(x) for x in v["moes"]) for v in variables},
            labels={v["name"]: v["label"] for v in variables},
            notes=tuple(data.get("notes", ())),
            source=data.get("source"),
        )


def _float(value: object) -> float:
    if value is None:
        return math.nan
    return float(value)  # type: ignore[arg-type]


def _json_float(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


_NOT_A_COUNT = re.compile(r"\b(median|mean|average|per capita|percent|pct|rate|ratio|index|share|aggregate)\b", re.I)


def _not_a_count(name: str, label: str) -> bool:
    return bool(_NOT_A_COUNT.search(label.replace("_", " ")) or _NOT_A_COUNT.search(name.replace("_", " ")))


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


# -- reading ACS exports ---------------------------------------------------------------------------

# What the Census Bureau's symbols mean in an estimate cell and in a margin-of-error cell
# ("Code Lists, Definitions, and Accuracy": explanation of symbols), and the value read for each.
_ESTIMATE_SYMBOLS: Final[dict[str, str]] = {
    "-": "no or too few sample observations to compute an estimate",
    "N": "too few sample cases to display",
    "(X)": "not applicable or not available",
    "**": "no or too few sample observations",
    "***": "no or too few sample observations",
    "*****": "no or too few sample observations",
}
_MOE_SYMBOLS: Final[dict[str, tuple[float, str]]] = {
    "*****": (0.0, "a controlled estimate, without sampling error: read as 0"),
    "***": (
        math.nan,
        "the median falls in an open-ended interval, no statistical test is appropriate: read as missing",
    ),
    "**": (math.nan, "too few sample observations to compute a margin of error: read as missing"),
    "(X)": (math.nan, "not applicable or not available: read as missing"),
    "N": (math.nan, "too few sample cases to display: read as missing"),
    "-": (math.nan, "no margin of error given: read as missing"),
}
# data.census.gov's API and downloads put these numbers where the symbols were.
_JAM_ESTIMATE: Final[dict[float, str]] = {
    -666666666.0: "no or too few sample observations to compute an estimate (-666666666)",
    -999999999.0: "no or too few sample observations (-999999999)",
    -888888888.0: "not applicable or not available (-888888888)",
}
_JAM_MOE: Final[dict[float, tuple[float, str]]] = {
    -555555555.0: (0.0, "a controlled estimate, without sampling error (-555555555): read as 0"),
    -222222222.0: (math.nan, "too few sample observations to compute a margin of error (-222222222): read as missing"),
    -333333333.0: (math.nan, "the median falls in an open-ended interval (-333333333): read as missing"),
    -999999999.0: (math.nan, "no or too few sample observations (-999999999): read as missing"),
    -888888888.0: (math.nan, "not applicable or not available (-888888888): read as missing"),
}
_EMPTY: Final = frozenset({"", "na", "n/a", "nan", "null", "none"})
_OPEN_ENDED = re.compile(r"^(\d+(?:\.\d+)?)\s*([+-])$")
_KEY_NAMES: Final = ("geo.id2", "geoid", "geo_id", "geoid10", "geoid20", "geo.id", "area_id", "fips")
_GEO_COLUMNS: Final = frozenset({"geo.id", "geo.id2", "geo.display-label", "geo_id", "name", "geoid", "geography"})
# "Estimate; Total" / "Margin of Error; Total"; "Estimate!!Total" / "Margin of Error!!Total"
_LABEL = re.compile(r"^\s*(estimate|percent|margin of error|percent margin of error)\s*(;|!!|:|-)\s*(.*)$", re.I | re.S)
_FACTFINDER = re.compile(r"^(H[DC])(\d\d)_(\w+)$")
_CENSUS_E = re.compile(r"^(.+?)(_?)E$")
_MOE_SUFFIX = re.compile(r"^(.+?)(?:[ _.]moe|[ _.]margin[ _.]of[ _.]error|[ _.]margin)$", re.I)
_TABLE_ID = re.compile(r"(?:^|_)([BC]\d{5}[A-Z]?(?:PR)?|S\d{4}|DP\d\d)(?:_|$)", re.I)


@dataclass
class _Source:
    """Where cells come from, to name them in errors and notes."""

    name: str
    first_line: int  # the row number of the first data row: a file's header is row 1, a frame's first row is row 1
    is_file: bool

    def row(self, position: int) -> int:
        return self.first_line + position

    def where(self, position: int) -> str:
        return f"{self.name}, row {self.row(position)}"


def read_acs(
    source: str | Path | pd.DataFrame,
    *,
    key: str | None = None,
    pairs: Mapping[str, tuple[str, str | None]] | None = None,
) -> CensusTable:
    """Read an ACS-style table, each estimate with its margin of error, into a :class:`CensusTable`.

    Parameters
    ----------
    source
        A CSV file, or a pandas frame. Recognised layouts: American FactFinder's ``*_with_ann.csv``
        (codes like ``HD01_VD01`` / ``HD02_VD01`` in the header, labels ``Estimate; Total`` /
        ``Margin of Error; Total`` in the second row); data.census.gov (``B01003_001E`` /
        ``B01003_001M``, or ``Estimate!!Total`` / ``Margin of Error!!Total``); a plain table whose
        margins are named ``<estimate>_moe``. A FactFinder ``HD01_VDnn`` becomes ``<table>_0nn``
        (``B01003_001``) when the file name holds the table id, as data.census.gov names it.
    key
        The column holding area ids. Default: ``GEO.id2``, ``GEOID``, ``GEO_ID`` or ``area_id``
        if there is one, else the first column of unique text values.
    pairs
        Variables to read, as ``{name: (estimate column, margin column or None)}``; only these are
        read. Without it the pairs are found from the layout, and numeric columns without a margin
        are kept with their margin unknown (the notes say which).

    Raises
    ------
    FieldError
        A cell that is not a number nor a Census Bureau symbol (naming file, row and column), a
        missing column, or a key that appears twice.

    Examples
    --------
    >>> import pandas as pd
    >>> t = read_acs(pd.DataFrame({"area_id": ["N01", "N02"], "population": ["1200", "800"],
    ...                            "population_moe": ["110", "*****"]}))
    >>> t.variables, list(t.moe("population"))
    (('population',), [110.0, 0.0])
    """
    frame, where = _load(source)
    columns = [str(c) for c in frame.columns]
    frame.columns = pd.Index(columns)
    labels: dict[str, str] = {}
    if len(frame) and _is_label_row(frame.iloc[0], columns):
        labels = {str(c): str(v).strip() for c, v in frame.iloc[0].items()}
        frame = frame.iloc[1:].reset_index(drop=True)
        where.first_line += 1
    if frame.empty:
        raise FieldError("source", f"{where.name} has no rows of data")
    key_column = _key_column(frame, columns, key)
    notes: list[str] = []
    if key is None:
        notes.append(f"areas keyed by the column {key_column} (give key= to choose another)")
    table_id = None
    if where.is_file:
        found = _TABLE_ID.search(Path(where.name).stem)
        table_id = found.group(1).upper() if found else None

    if pairs is not None:
        chosen = {name: (est, moe, _label_text(labels.get(est)) or est) for name, (est, moe) in pairs.items()}
        for name, (est, moe, _) in chosen.items():
            for column in (est, moe):
                if column is not None and column not in columns:
                    raise FieldError("pairs", f"{name}: {where.name} has no column {column!r}")
            if moe is None:
                notes.append(f"{name}: no margin of error column given; its margin is unknown")
    else:
        chosen = _find_pairs(frame, columns, labels, key_column, table_id, notes)
    keys_raw = frame[key_column].astype(str).str.strip()
    blank = np.flatnonzero((keys_raw == "").to_numpy())
    if blank.size:
        rows = [str(where.row(int(i))) for i in blank[:EXAMPLES]]
        notes.append(f"{blank.size} row(s) without a {key_column} were left out (rows {', '.join(rows)})")
    keep = (keys_raw != "").to_numpy()
    positions = np.flatnonzero(keep)
    keys = keys_raw[keep].tolist()
    seen: dict[str, int] = {}
    for pos, k in zip(positions, keys, strict=True):
        if k in seen:
            raise FieldError(
                key_column,
                f"{where.where(int(pos))}: {k!r} appears twice (first at row {where.row(seen[k])})",
            )
        seen[k] = int(pos)

    estimates: dict[str, tuple[float, ...]] = {}
    moes: dict[str, tuple[float, ...] | None] = {}
    var_labels: dict[str, str] = {}
    for name, (est, moe, label) in chosen.items():
        values = _parse_column(frame[est], est, name, "estimate", where, notes)
        estimates[name] = tuple(values[keep].tolist())
        if moe is not None:
            margin = _parse_column(frame[moe], moe, name, "moe", where, notes)
            moes[name] = tuple(margin[keep].tolist())
        else:
            moes[name] = None
        var_labels[name] = label
    if not estimates:
        raise FieldError("source", f"{where.name} has no numeric columns besides {key_column}")
    return CensusTable(key_column, tuple(keys), estimates, moes, var_labels, tuple(notes), where.name)


def _load(source: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, _Source]:
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        for column in frame.columns:
            frame[column] = [
                "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in frame[column]
            ]
        return frame.reset_index(drop=True), _Source("the table", 1, is_file=False)
    path = Path(source)
    if not path.is_file():
        raise FieldError("source", f"{path} is not a file")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_filter=False, encoding=encoding, skipinitialspace=False
            )
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, csv.Error) as exc:
            raise FileFormatError(f"not a CSV table: {exc}", path=path) from exc
        except pd.errors.EmptyDataError as exc:
            raise FileFormatError("the file is empty", path=path) from exc
        return frame, _Source(path.name, 2, is_file=True)
    raise FileFormatError("the file is not text", path=path)  # pragma: no cover - latin-1 reads any bytes


def _is_label_row(row: pd.Series, columns: Sequence[str]) -> bool:
    """FactFinder and data.census.gov put the labels in a second header row."""
    cells = [str(v).strip() for v in row.tolist()]
    if any(_LABEL.match(c) for c in cells):
        return True
    lowered = {c.casefold(): v.casefold() for c, v in zip(columns, cells, strict=True)}
    return lowered.get("geo.id") == "id" or lowered.get("geo_id") in ("id", "geography")


def _key_column(frame: pd.DataFrame, columns: Sequence[str], key: str | None) -> str:
    if key is not None:
        if key in columns:
            return key
        folded = [c for c in columns if c.casefold() == key.casefold()]
        if len(folded) == 1:
            return folded[0]
        raise FieldError("key", f"no column {key!r}; the columns are {', '.join(columns[:20])}")
    by_fold = {c.casefold(): c for c in columns}
    for name in _KEY_NAMES:
        if name in by_fold:
            return by_fold[name]
    for column in columns:
        values = frame[column].astype(str).str.strip()
        if values.ne("").all() and values.is_unique and pd.to_numeric(values, errors="coerce").isna().all():
            return column
    return columns[0]


def _find_pairs(
    frame: pd.DataFrame,
    columns: Sequence[str],
    labels: Mapping[str, str],
    key_column: str,
    table_id: str | None,
    notes: list[str],
) -> dict[str, tuple[str, str | None, str]]:
    """Variable name -> (estimate column, margin column or None, label), found from the layout."""
    out: dict[str, tuple[str, str | None, str]] = {}
    used: set[str] = {key_column}

    def add(name: str, est: str, moe: str | None, label: str) -> None:
        if name in out:
            name = est
        out[name] = (est, moe, label)
        used.update(c for c in (est, moe) if c is not None)

    # 1. labels: "Estimate; X" pairs with "Margin of Error; X", "Percent; X" with "Percent Margin of Error; X"
    texts = {c: labels.get(c) or c for c in columns}
    moe_by_rest: dict[tuple[str, str], list[str]] = {}
    for column, text in texts.items():
        m = _LABEL.match(text)
        if m and "margin" in m.group(1).lower():
            kind = "percent" if m.group(1).lower().startswith("percent") else "estimate"
            moe_by_rest.setdefault((kind, _fold(m.group(3))), []).append(column)
    for column, text in texts.items():
        m = _LABEL.match(text)
        if column in used or not m or "margin" in m.group(1).lower():
            continue
        kind, rest = m.group(1).lower(), m.group(3).strip()
        partners = moe_by_rest.get((kind, _fold(rest)), [])
        if partners:
            moe = partners.pop(0)
            add(_variable_name(column, labels, rest, table_id), column, moe, rest.replace("!!", " - ") or column)
    # 2. codes: HD01_X / HD02_X, B01003_001E / B01003_001M, X_E / X_M, X / X_moe
    for column in columns:
        if column in used:
            continue
        partner = _code_partner(column, columns)
        if partner is not None and partner not in used:
            add(
                _variable_name(column, labels, None, table_id),
                column,
                partner,
                _label_text(labels.get(column)) or column,
            )
    # margin columns left without an estimate, and annotation columns of data.census.gov
    for column in columns:
        if column in used:
            continue
        text = texts[column]
        m = _LABEL.match(text)
        if (
            (m and "margin" in m.group(1).lower())
            or _MOE_SUFFIX.match(column)
            or re.fullmatch(r"HD02_\w+|.+_\d+M", column)
        ):
            notes.append(f"{column} looks like a margin of error but has no estimate column: not read")
            used.add(column)
        elif re.fullmatch(r".+_\d+[EM]A", column):
            used.add(column)  # an annotation of B01003_001E: the symbols are read from the cells themselves
    # 3. other numeric columns: estimates whose margin is unknown
    unpaired: list[str] = []
    skipped: list[str] = []
    for column in columns:
        if column in used:
            continue
        if column.casefold() not in _GEO_COLUMNS and _mostly_numeric(frame[column]):
            add(_variable_name(column, labels, None, table_id), column, None, _label_text(labels.get(column)) or column)
            unpaired.append(column)
        else:
            skipped.append(column)
    if unpaired:
        notes.append(
            f"no margin of error column for {', '.join(unpaired)}: their margins are unknown, "
            "so scores using them carry no significance"
        )
    if skipped:
        notes.append(f"text columns not read as variables: {', '.join(skipped)}")
    return out


def _code_partner(column: str, columns: Sequence[str]) -> str | None:
    m = _FACTFINDER.match(column)
    if m and int(m.group(2)) % 2 == 1:
        partner = f"{m.group(1)}{int(m.group(2)) + 1:02d}_{m.group(3)}"
        return partner if partner in columns else None
    m = _CENSUS_E.match(column)
    if m:
        partner = f"{m.group(1)}{m.group(2)}M"
        if partner in columns:
            return partner
    for suffix in ("_moe", "_MOE", " MOE", " moe", ".moe", "_Moe"):
        if column + suffix in columns:
            return column + suffix
    return None


def _variable_name(column: str, labels: Mapping[str, str], rest: str | None, table_id: str | None) -> str:
    m = _FACTFINDER.match(column)
    if m and table_id and m.group(1) == "HD" and re.fullmatch(r"VD\d+", m.group(3)):
        return f"{table_id}_{int(m.group(3)[2:]):03d}"
    m = _CENSUS_E.match(column)
    if m and re.search(r"_\d{3}$", m.group(1)):
        return m.group(1)
    if m and m.group(2) == "_":
        return m.group(1)
    if rest is not None and column == (labels.get(column) or column):
        return rest.replace("!!", " - ") or column  # the header itself is the label
    return column


def _label_text(label: str | None) -> str | None:
    if not label:
        return None
    m = _LABEL.match(label)
    return (m.group(3) if m else label).replace("!!", " - ").strip() or None


def _mostly_numeric(values: pd.Series) -> bool:
    text = values.astype(str).str.strip()
    text = text[~text.str.casefold().isin(_EMPTY) & ~text.isin(list(_ESTIMATE_SYMBOLS))]
    if text.empty:
        return False
    parsed = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
    return bool(parsed.notna().mean() > 0.5)


def _parse_column(
    values: pd.Series, column: str, name: str, kind: Literal["estimate", "moe"], where: _Source, notes: list[str]
) -> FloatArray:
    """A column's cells as numbers; symbols read as the Census Bureau documents them, and noted."""
    raw = values.astype(str).str.strip()
    cleaned = raw.str.replace(",", "", regex=False)
    if kind == "moe":
        cleaned = cleaned.str.replace(r"^(\+/-|±)\s*", "", regex=True)
    number = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    out = number.copy()
    found: dict[str, list[int]] = {}
    what = "margin of error" if kind == "moe" else "estimate"
    for position in np.flatnonzero(np.isnan(number) | np.isinf(number)):
        i = int(position)
        cell = str(raw.iloc[i])
        reason: str
        if cell.casefold() in _EMPTY:
            out[i], reason = math.nan, "empty or NA: read as missing"
        elif kind == "moe" and cell in _MOE_SYMBOLS:
            out[i], reason = _MOE_SYMBOLS[cell][0], f"{cell!r}: {_MOE_SYMBOLS[cell][1]}"
        elif kind == "estimate" and cell in _ESTIMATE_SYMBOLS:
            out[i], reason = math.nan, f"{cell!r}: {_ESTIMATE_SYMBOLS[cell]}; read as missing"
        elif kind == "estimate" and (m := _OPEN_ENDED.match(cleaned.iloc[i])):
            out[i] = float(m.group(1))
            reason = (
                f"a median in an open-ended interval ({'upper' if m.group(2) == '+' else 'lowest'}): read as its bound"
            )
        else:
            raise FieldError(
                column,
                f"{where.where(i)}: {cell!r} is not a number ({what} of {name}); a cell holds a number or a "
                "Census Bureau symbol such as ***** or (X)",
            )
        found.setdefault(reason, []).append(i)
    jams = _JAM_MOE if kind == "moe" else {k: (math.nan, v + "; read as missing") for k, v in _JAM_ESTIMATE.items()}
    for code, (value, reason) in jams.items():
        hit = np.flatnonzero(number == code)
        if hit.size:
            out[hit] = value
            found.setdefault(reason, []).extend(int(i) for i in hit)
    negative = np.flatnonzero(out < 0) if kind == "moe" else np.array([], dtype=int)
    if negative.size:
        i = int(negative[0])
        raise FieldError(column, f"{where.where(i)}: {raw.iloc[i]!r} is negative; a margin of error never is")
    for reason, positions in found.items():
        rows = [str(where.row(i)) for i in sorted(positions)[:EXAMPLES]]
        notes.append(f"{column} ({what} of {name}): {len(positions)} cell(s) {reason} (rows {', '.join(rows)})")
    return out


# -- keys ------------------------------------------------------------------------------------------

_GEO_ID_PREFIX = re.compile(r"^\d{3,7}us(\d+)$")
_FLOAT_ZERO = re.compile(r"^(\d+)\.0+$")


def normalise_key(value: object) -> str:
    """An area id as compared: text folded to lower case with runs of punctuation and spaces as one
    space; numeric ids without leading zeros (``06075012800`` and ``6075012800`` are one tract), and
    data.census.gov's ``1400000US06075012800`` as its GEOID.

    Examples
    --------
    >>> normalise_key(" 06075012800"), normalise_key("1400000US06075012800"), normalise_key(6075012800.0)
    ('6075012800', '6075012800', '6075012800')
    >>> normalise_key("Allendale/Irvington/S. Hilton")
    'allendale irvington s hilton'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    if m := _GEO_ID_PREFIX.match(text):
        text = m.group(1)
    if m := _FLOAT_ZERO.match(text):
        text = m.group(1)
    if text.isdigit():
        return text.lstrip("0") or "0"
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


@dataclass(frozen=True)
class KeyMatch:
    """How the area ids of a dataset pair with the keys of a census table.

    ``pairs`` maps each matched area id to its census key; ``areas_only`` counts the area ids with
    no census row, ``census_only`` the census keys no area id names (each with up to 5 examples);
    ``blank`` how many of the ids given were empty (None or blank). ``rule`` says how they were compared.
    """

    matched: int
    pairs: Mapping[str, str]
    areas_only: LeftOut
    census_only: LeftOut
    blank: int
    rule: str

    def summary(self) -> str:
        lines = [f"{self.matched:,} area id(s) matched a census key ({self.rule})."]
        for item in (self.areas_only, self.census_only):
            if item.count:
                lines.append(
                    f"{item.count:,} {item.reason}" + (f" (e.g. {', '.join(item.examples)})" if item.examples else "")
                )
        if self.blank:
            lines.append(f"{self.blank:,} area id(s) were empty")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "matched": self.matched,
            "pairs": dict(self.pairs),
            "areas_only": self.areas_only.to_dict(),
            "census_only": self.census_only.to_dict(),
            "blank": self.blank,
            "rule": self.rule,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KeyMatch:
        def left(x: Mapping[str, Any]) -> LeftOut:
            return LeftOut(x["reason"], int(x["count"]), tuple(x["examples"]))

        return cls(
            int(data["matched"]),
            dict(data["pairs"]),
            left(data["areas_only"]),
            left(data["census_only"]),
            int(data["blank"]),
            str(data["rule"]),
        )


def match_keys(table: CensusTable, area_ids: Sequence[object]) -> KeyMatch:
    """Pair ``area_ids`` (as a dataset writes them) with ``table``'s keys.

    Both sides are compared after :func:`normalise_key`. Where area ids are short numbers and the
    census keys 11-digit tract GEOIDs of one county, the ids are read as 6-digit tract codes
    (``12800`` is tract ``012800`` of ``06075012800``); the rule says when this was done.

    Examples
    --------
    >>> t = CensusTable("GEOID", ("06075012800", "06075020100"), {"pop": (10.0, 20.0)}, {"pop": None})
    >>> m = match_keys(t, ["6075012800", "12345678901", None])
    >>> m.matched, m.pairs["6075012800"], m.areas_only.count, m.census_only.examples, m.blank
    (1, '06075012800', 1, ('06075020100',), 1)
    """
    census: dict[str, str] = {}
    for k in table.keys:
        norm = normalise_key(k)
        if norm in census:
            raise FieldError(table.key, f"{census[norm]!r} and {k!r} are the same key once normalised ({norm!r})")
        census[norm] = k
    ids: list[str] = []
    blank = 0
    for value in area_ids:
        text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
        if not text.strip():
            blank += 1
        else:
            ids.append(text)
    ids = list(dict.fromkeys(ids))
    pairs: dict[str, str] = {}
    rules = ["normalised ids (case, spaces and punctuation, leading zeros)"]
    for area_id in ids:
        found = census.get(normalise_key(area_id))
        if found is not None:
            pairs[area_id] = found
    left = [a for a in ids if a not in pairs]
    tracts = _tract_codes(table.keys)
    if left and tracts:
        by_code = 0
        for area_id in left:
            norm = normalise_key(area_id)
            if norm.isdigit() and len(norm) <= 6 and (found := tracts.get(norm.zfill(6))) is not None:
                pairs[area_id] = found
                by_code += 1
        if by_code:
            rules.append(f"{by_code} short numeric id(s) read as 6-digit tract codes of the census GEOIDs")
    unmatched = [a for a in ids if a not in pairs]
    named = set(pairs.values())
    census_only = [k for k in table.keys if k not in named]
    return KeyMatch(
        matched=len(pairs),
        pairs=MappingProxyType(pairs),
        areas_only=LeftOut("area id(s) with no census row", len(unmatched), tuple(unmatched[:EXAMPLES])),
        census_only=LeftOut("census area(s) that no area id names", len(census_only), tuple(census_only[:EXAMPLES])),
        blank=blank,
        rule="; ".join(rules),
    )


def _tract_codes(keys: Sequence[str]) -> dict[str, str]:
    """Census keys by their 6-digit tract code, when the keys are tract GEOIDs and the codes are unique."""
    out: dict[str, str] = {}
    for k in keys:
        digits = normalise_key(k)
        if not digits.isdigit() or len(digits) > 11 or len(digits) < 10:
            return {}
        code = digits.zfill(11)[-6:]
        if code in out:
            return {}
        out[code] = k
    return out


# -- groups for disparities ------------------------------------------------------------------------

Unit = Literal["auto", "money", "percent", "number"]


def groups_from_census(
    table: CensusTable,
    variable: str,
    *,
    bins: int = 5,
    name: str | None = None,
    unit: Unit = "auto",
    areas: Sequence[str] | None = None,
) -> dict[str, str]:
    """Areas binned by a census value into quantile groups, each labelled with its range.

    ``{"06075010100": "per capita income $48,000–$67,000", ...}``: ``bins`` groups of about equal
    numbers of areas (fewer where values tie). Areas without an estimate get the label
    ``"<name>: no estimate"``. With ``areas`` (a dataset's area ids), the result is keyed by those
    ids through :func:`match_keys`, and ids with no census row are left out.

    Examples
    --------
    >>> t = CensusTable("k", ("a", "b", "c", "d"), {"inc": (20_000.0, 30_000.0, 50_000.0, 90_000.0)},
    ...                 {"inc": None}, {"inc": "Median income"})
    >>> groups_from_census(t, "inc", bins=2)["a"]
    'median income $20,000–$40,000'
    """
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 2:
        raise FieldError("bins", f"{bins!r} is not a number of groups of 2 or more")
    var = table.resolve(variable)
    label = table.label(var)
    shown = name if name is not None else _short_label(label)
    kind = unit if unit != "auto" else _unit_of(f"{var} {label}")
    values = table.estimate(var)
    known = values.dropna()
    if known.empty:
        raise FieldError("variable", f"{var} has no estimates")
    _, cuts = pd.qcut(known.to_numpy(), bins, retbins=True, duplicates="drop")
    edges: FloatArray = np.asarray(cuts, dtype=np.float64)
    if edges.size < 2:
        edges = np.array([known.min(), known.max()], dtype=np.float64)
    codes = np.clip(np.searchsorted(edges, known.to_numpy(), side="left") - 1, 0, edges.size - 2)
    texts = _edge_texts(edges, kind)
    names = [f"{shown} {texts[i]}–{texts[i + 1]}" for i in range(edges.size - 1)]
    out = {k: f"{shown}: no estimate" for k in table.keys}
    for k, code in zip(known.index, codes, strict=True):
        out[str(k)] = names[int(code)]
    if areas is None:
        return out
    matched = match_keys(table, areas)
    return {area_id: out[census_key] for area_id, census_key in matched.pairs.items()}


def _short_label(label: str) -> str:
    text = re.sub(r"\s*\([^)]*\)", "", label).strip() or label
    return text[0].lower() + text[1:] if len(text) > 1 and text[1:2].islower() else text


def _unit_of(text: str) -> Literal["money", "percent", "number"]:
    lowered = text.casefold()
    if any(w in lowered for w in ("income", "dollar", "$", "earnings", "rent", "value", "wage", "salary")):
        return "money"
    if any(w in lowered for w in ("percent", "pct", "%", "share")):
        return "percent"
    return "number"


def _edge_texts(edges: FloatArray, kind: Literal["money", "percent", "number"]) -> list[str]:
    """Edges rounded to as few significant digits as keep them distinct (2 at least)."""
    for digits in range(2, 10):
        rounded = [_round_sig(float(e), digits) for e in edges]
        if len(set(rounded)) == len(rounded):
            break
    return [_format(v, kind) for v in rounded]


def _round_sig(value: float, digits: int) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def _format(value: float, kind: Literal["money", "percent", "number"]) -> str:
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.6g}" if abs(value) < 1000 else f"{value:,.0f}"
    if kind == "money":
        return f"${text}" if value >= 0 else f"−${text[1:]}"
    if kind == "percent":
        return f"{text}%"
    return text
