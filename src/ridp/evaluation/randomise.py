"""Random assignment for a pilot, its balance table, and a record a second person reruns to confirm it.

``assign(units, unit="street", method="blocked", block="ward", seed=...)`` draws who is treated
(PROGRAM.md §7: units and level of randomisation, blocking, a recorded seed); ``balance`` compares the
arms on covariates; ``Assignment.record()`` holds everything needed to rerun the draw, and
``confirm(record, units)`` reruns it and says whether the same assignment comes out, and if not, why.

How a draw is made (algorithm version :data:`ALGORITHM_VERSION`; bump it if any step changes):

1. Canonical order. Units are sorted by their id as text (clusters by their id as text; blocks by
   theirs), so the order of the input rows never changes the result. An id's text is that of its
   JSON-safe value (``7`` → "7", a midnight timestamp → "2024-01-01"); ids must be unique as text.
2. The items drawn are the units, or the clusters for ``clustered`` (and ``staggered`` with a
   ``cluster``). With ``numpy.random.Generator(numpy.random.PCG64(seed))``, one uniform key is drawn
   per item in canonical order; inside each block (one block when there is none) items are ranked by key.
   The draws come in this order: the keys, then ``u`` (step 3, blocked designs) or the starting wave (step 4).
3. ``simple`` and unblocked ``clustered``: the first ``round(share_treated × n)`` items are treated
   (halves round up), so exactly that many. ``blocked`` and ``clustered`` with a block: each block
   treats ``floor(share × n_b)`` plus one more with probability equal to the fractional part, decided
   by one more uniform ``u`` (systematic sampling over the blocks in canonical order: block b gets the
   extra when an integer lies in ``(c_{b-1} + u, c_b + u]``, c the running sum of fractional parts).
   So a block whose ``share × n_b`` is whole treats exactly that many, every item has probability
   ``share_treated`` of treatment (no weights needed), and the total is ``share × n`` rounded down or
   up. A block of one item is a weighted coin flip (warned).
4. ``staggered``: items ordered block by block by key are dealt to waves 1..W in turn from a random
   starting wave (``integers(W)``), so wave sizes differ by at most one overall and within each block.
   Every unit is treated (``arm`` = "treatment"), in its wave; the schedule is what is random.

``fingerprint`` is the SHA-256 of the JSON list ``[[unit, arm, wave], ...]`` sorted by unit (ids as
text, compact separators, ASCII); ``units_fingerprint`` that of ``[[unit, block, cluster], ...]``.

Example
-------
>>> import pandas as pd
>>> streets = pd.DataFrame({"street": [f"S{i:02}" for i in range(20)], "ward": ["N", "S"] * 10})
>>> a = assign(streets, unit="street", method="blocked", block="ward", seed=2024)
>>> a.n_treated, confirm(a.record(), streets).matches
(10, True)

Part of the analytical core: never imports Django.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

import altair as alt
import numpy as np
import numpy.typing as npt
import pandas as pd

from ridp.analysis._values import plain
from ridp.errors import FieldError, InputError

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = [
    "ALGORITHM", "ALGORITHM_VERSION", "SMD_THRESHOLD", "ArmDifference", "Assignment", "Balance", "BalanceRow",
    "Confirmation", "Method", "assign", "balance", "confirm",
]  # fmt: skip

Method = Literal["simple", "blocked", "clustered", "staggered"]
METHODS: Final = get_args(Method)
#: The name and version of the drawing algorithm, kept in every record (bump the version if it changes).
ALGORITHM: Final = "ridp.randomise"
ALGORITHM_VERSION: Final = 1
#: |standardised mean difference| above which a covariate is flagged as imbalanced (a common rule of thumb).
SMD_THRESHOLD: Final = 0.1
_LISTED: Final = 20  # units named at most in a confirmation
_TOL: Final = 1e-9  # share × n this close to a whole number is that number (0.3 × 10 is 3, not 2.9999…)

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.floating[Any]]
IntArray = npt.NDArray[np.int64]


def _text(value: object) -> str:
    """An id as the text it is sorted and fingerprinted by (its JSON-safe value, so a round trip keeps it)."""
    return str(plain(value))


def _digest(rows: list[list[Any]]) -> str:
    return hashlib.sha256(json.dumps(rows, separators=(",", ":"), ensure_ascii=True).encode()).hexdigest()


def _load(data: ir.Table | pd.DataFrame, what: str, columns: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """The named columns of ``data`` as a DataFrame (pairs of argument name, column name), checked to exist."""
    present = [str(c) for c in data.columns]
    for argument, column in columns:
        if column not in present:
            listed = ", ".join(present[:30]) + (", …" if len(present) > 30 else "")
            raise FieldError(argument, f'no column "{column}" in {what}; the columns are: {listed}')
    wanted = list(dict.fromkeys(column for _, column in columns))
    if isinstance(data, pd.DataFrame):
        return data[wanted].reset_index(drop=True)
    frame: pd.DataFrame = data.select(*wanted).to_pandas()
    return frame.reset_index(drop=True)


def _labels(values: pd.Series, argument: str, column: str, *, unique: bool) -> list[str]:
    """Each row's value as text; a missing value is an error naming the row (1-based, in the order given)."""
    missing = np.flatnonzero(values.isna().to_numpy())
    if len(missing):
        raise FieldError(
            argument,
            f'row {missing[0] + 1} has no value in column "{column}" ({len(missing)} such row(s))',
            hint="every unit needs one; rows are counted from 1 in the order given",
        )
    texts = [_text(v) for v in values]
    if unique and len(set(texts)) < len(texts):
        seen: dict[str, list[int]] = {}
        for row, t in enumerate(texts, start=1):
            seen.setdefault(t, []).append(row)
        repeated = {t: rows for t, rows in seen.items() if len(rows) > 1}
        first, rows = next(iter(repeated.items()))
        raise FieldError(
            argument,
            f'unit "{first}" appears {len(rows)} times in column "{column}", rows {", ".join(map(str, rows[:10]))}'
            + (f" ({len(repeated) - 1} other id(s) repeated too)" if len(repeated) > 1 else ""),
            hint="each unit must be listed once",
        )
    return texts


def _check_options(method: str, block: str | None, cluster: str | None, share: float, waves: int | None) -> None:
    """Every option checked in one place, before any data is read."""
    if method not in METHODS:
        raise FieldError("method", f"{method!r} is not one of {', '.join(METHODS)}")
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < 1:
        raise FieldError("share_treated", f"{share!r} must be a number between 0 and 1 (both excluded)")
    if method == "blocked" and block is None:
        raise FieldError("block", "a blocked design needs the column that holds each unit's block")
    if method == "clustered" and cluster is None:
        raise FieldError("cluster", "a clustered design needs the column that holds each unit's cluster")
    if method == "simple" and (block is not None or cluster is not None):
        raise FieldError("method", 'a simple design has no block or cluster: use "blocked" or "clustered"')
    if method == "blocked" and cluster is not None:
        raise FieldError("cluster", 'to assign whole clusters within blocks use method="clustered" with block=')
    if method == "staggered":
        if isinstance(waves, bool) or not isinstance(waves, int) or waves < 2:
            raise FieldError("waves", f"a staggered roll-out needs 2 or more waves, not {waves!r}")
    elif waves is not None:
        raise FieldError("waves", f'waves apply to a staggered roll-out only, not to method="{method}"')


def _counts(sizes: IntArray, share: float, u: float | None) -> IntArray:
    """Items treated per block (see step 3 of the module docstring); ``u`` None: one block, halves up."""
    exact = share * sizes.astype(np.float64)
    near = np.round(exact)
    exact = np.where(np.abs(exact - near) < _TOL, near, exact)
    if u is None:
        return np.floor(exact + 0.5 + _TOL).astype(np.int64)
    floors = np.floor(exact)
    running = np.cumsum(exact - floors)
    before = np.concatenate([[0.0], running[:-1]])
    return (floors + np.floor(running + u) - np.floor(before + u)).astype(np.int64)


# -- the assignment -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Assignment:
    """Who is treated (or in which wave), with the seed and fingerprints that let anyone rerun and confirm it.

    ``arms`` has one row per unit in canonical order: ``unit`` (the id as given), ``arm`` ("treatment" or
    "control"), ``wave`` (1.. for a staggered roll-out, else missing), ``block`` and ``cluster`` (or None).
    """

    method: Method
    unit: str
    block: str | None
    cluster: str | None
    share_treated: float  # of units (or clusters) treated; 1.0 for a staggered roll-out (all, in turn)
    waves: int | None
    seed: int
    n_units: int
    n_treated: int
    n_clusters: int | None
    fingerprint: str
    arms: pd.DataFrame
    parameters: Mapping[str, Any]  # the arguments of assign() except the units and the seed
    units_fingerprint: str = ""
    seed_drawn: bool = False  # True when no seed was given and one was drawn (and recorded here)
    warnings: tuple[str, ...] = ()
    algorithm_version: int = ALGORITHM_VERSION
    numpy_version: str = np.__version__

    def tidy(self) -> pd.DataFrame:
        """The arms table (a copy)."""
        return self.arms.copy()

    def counts(self) -> pd.DataFrame:
        """Units per arm, and per block and wave where the design has them."""
        keys = [k for k, on in (("block", self.block), ("wave", self.waves)) if on is not None] + ["arm"]
        return self.arms.groupby(keys, sort=True, dropna=False).size().rename("units").reset_index()

    def summary(self) -> str:
        kind = {
            "simple": "simple (complete) randomisation of units",
            "blocked": f'complete randomisation within each block of "{self.block}"',
            "clustered": f'whole clusters of "{self.cluster}" assigned'
            + (f' within blocks of "{self.block}"' if self.block else ""),
            "staggered": f"staggered roll-out in {self.waves} waves"
            + (f' of whole clusters of "{self.cluster}"' if self.cluster else "")
            + (f' within blocks of "{self.block}"' if self.block else ""),
        }[self.method]
        seed = f"seed {self.seed}" + (" (drawn at random and recorded)" if self.seed_drawn else "")
        lines = [f"Random assignment: {kind}; {self.n_units} units", f"  {seed}"]
        arms = self.arms
        if self.n_clusters is not None and self.waves is None:
            treated = arms.loc[arms["arm"] == "treatment", "cluster"].map(_text).nunique()
            lines.append(f"  {treated} of {self.n_clusters} clusters treated (whole)")
        if self.waves is None:
            t = self.n_treated
            lines.append(f"  {t} treatment, {self.n_units - t} control")
        else:
            lines.append(f"  every unit treated, in its wave: {_per(arms, 'wave')}")
        if self.block is not None:
            lines.append("  per block:")
            for name, group in arms.groupby(arms["block"].map(_text), sort=True):
                lines.append(f"    {name}: {_per(group, 'wave' if self.waves else 'arm')}")
        lines.append(f"  fingerprint sha256:{self.fingerprint}")
        lines += [f"  Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def chart(self) -> alt.Chart:
        """Units per arm (per block, or per wave for a roll-out) as stacked bars."""
        frame = self.counts()
        x = "wave:O" if self.waves is not None else ("block:N" if self.block is not None else "arm:N")
        if self.block is not None:
            frame["block"] = frame["block"].map(_text)
        bars: alt.Chart = alt.Chart(frame, title="Units per arm").mark_bar()
        return bars.encode(x=alt.X(x), y=alt.Y("sum(units):Q", title="Units"), color=alt.Color("arm:N"))

    def record(self) -> dict[str, Any]:
        """Everything needed to rerun the draw and check it (JSON-safe; see :func:`confirm`)."""
        return {
            "algorithm": ALGORITHM, "algorithm_version": self.algorithm_version, "bit_generator": "PCG64",
            "numpy_version": self.numpy_version, "method": self.method,
            "parameters": {k: plain(v) for k, v in self.parameters.items()},
            "seed": self.seed, "seed_drawn": self.seed_drawn,
            "n_units": self.n_units, "n_treated": self.n_treated, "n_clusters": self.n_clusters,
            "units_fingerprint": self.units_fingerprint, "fingerprint": self.fingerprint,
            "arms": [{str(k): plain(v) for k, v in row.items()} for row in self.arms.to_dict("records")],
        }  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {**self.record(), "share_treated": self.share_treated, "warnings": list(self.warnings)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Assignment:
        """The assignment back from :meth:`to_dict` (or :meth:`record`); the arms must match the fingerprint."""
        p = d["parameters"]
        arms = pd.DataFrame(list(d["arms"]), columns=["unit", "arm", "wave", "block", "cluster"])
        arms["wave"] = arms["wave"].astype("Int64")
        for column in ("block", "cluster"):
            arms[column] = arms[column].astype(object).where(arms[column].notna(), None)
        if _arms_digest(arms) != d["fingerprint"]:
            raise InputError(
                "the arms listed do not match the fingerprint: the assignment was changed after it was made"
            )
        share = d.get("share_treated", 1.0 if p["method"] == "staggered" else p["share_treated"])
        return cls(
            method=p["method"], unit=p["unit"], block=p.get("block"), cluster=p.get("cluster"),
            share_treated=float(share), waves=p.get("waves"), seed=int(d["seed"]), n_units=int(d["n_units"]),
            n_treated=int(d["n_treated"]), n_clusters=d.get("n_clusters"), fingerprint=str(d["fingerprint"]),
            arms=arms, parameters=dict(p), units_fingerprint=str(d.get("units_fingerprint", "")),
            seed_drawn=bool(d.get("seed_drawn", False)), warnings=tuple(d.get("warnings", ())),
            algorithm_version=int(d.get("algorithm_version", ALGORITHM_VERSION)),
            numpy_version=str(d.get("numpy_version", np.__version__)),
        )  # fmt: skip


def _per(arms: pd.DataFrame, key: str) -> str:
    """Units per arm ("4 treatment / 5 control") or per wave ("wave 1: 3, wave 2: 3")."""
    if key == "arm":
        t = int((arms["arm"] == "treatment").sum())
        return f"{t} treatment / {len(arms) - t} control"
    counts = arms["wave"].value_counts().sort_index()
    return ", ".join(f"wave {w}: {n}" for w, n in zip(counts.index.tolist(), counts.tolist(), strict=True))


def _arms_digest(arms: pd.DataFrame) -> str:
    rows = [
        [_text(u), str(a), None if pd.isna(w) else int(w)]
        for u, a, w in zip(arms["unit"], arms["arm"], arms["wave"], strict=True)
    ]
    return _digest(sorted(rows, key=lambda r: str(r[0])))


def _items(
    ids: list[str], blocks: list[str] | None, clusters: list[str]
) -> tuple[list[str], IntArray, list[str] | None]:
    """The clusters (sorted), each unit's cluster, and each cluster's block (which must be one)."""
    items = sorted(set(clusters))
    position = {c: i for i, c in enumerate(items)}
    item_of_unit = np.array([position[c] for c in clusters], dtype=np.int64)
    if blocks is None:
        return items, item_of_unit, None
    found: dict[str, set[str]] = {}
    for c, b in zip(clusters, blocks, strict=True):
        found.setdefault(c, set()).add(b)
    for c, bs in found.items():
        if len(bs) > 1:
            listed = ", ".join(sorted(bs)[:5])
            message = f'cluster "{c}" has units in {len(bs)} blocks ({listed}); a cluster must lie in one block'
            raise FieldError("block", message)
    return items, item_of_unit, [next(iter(found[c])) for c in items]


def assign(
    units: ir.Table | pd.DataFrame, *, unit: str, method: Method = "simple", block: str | None = None,
    cluster: str | None = None, share_treated: float = 0.5, waves: int | None = None, seed: int | None = None,
) -> Assignment:  # fmt: skip
    """Randomly assign ``units`` to treatment and control (or to the waves of a roll-out).

    Parameters
    ----------
    units
        One row per unit: an Ibis table or a DataFrame.
    unit, block, cluster
        Columns: each unit's id (unique), its block (stratum) and its cluster (the level treated whole).
    method
        ``simple``, ``blocked`` (needs ``block``), ``clustered`` (needs ``cluster``; ``block`` optional,
        constant within each cluster) or ``staggered`` (needs ``waves``; ``cluster`` and ``block`` optional).
    share_treated
        The share of units (clusters, for a clustered design) treated; not used by a staggered roll-out.
    waves
        Number of waves of a staggered roll-out (2 to the number of units or clusters).
    seed
        The seed; ``None`` draws one with :mod:`secrets` and records it in the result.

    Examples
    --------
    >>> import pandas as pd
    >>> a = assign(pd.DataFrame({"id": range(6)}), unit="id", method="staggered", waves=3, seed=7)
    >>> sorted(a.arms["wave"].value_counts().tolist())
    [2, 2, 2]
    """
    _check_options(method, block, cluster, share_treated, waves)
    seed_drawn = seed is None
    if seed is None:
        seed = secrets.randbelow(2**63)
    elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise FieldError("seed", f"{seed!r} must be a whole number, 0 or more")
    seed = int(seed)
    named = [("unit", unit), ("block", block), ("cluster", cluster)]
    frame = _load(units, "units", [(argument, column) for argument, column in named if column is not None])
    ids = _labels(frame[unit], "unit", unit, unique=True)
    if len(ids) < 2:
        raise FieldError("units", f"{len(ids)} unit(s): randomisation needs at least 2")
    order = sorted(range(len(ids)), key=ids.__getitem__)
    frame = frame.iloc[order].reset_index(drop=True)
    ids = [ids[i] for i in order]
    blocks = _labels(frame[block], "block", block, unique=False) if block else None
    clusters = _labels(frame[cluster], "cluster", cluster, unique=False) if cluster else None

    # The items drawn: units, or clusters (each unit then follows its cluster).
    items, item_of_unit, item_block = _items(ids, blocks, clusters) if clusters else (ids, np.arange(len(ids)), blocks)
    noun, k = ("cluster" if clusters else "unit"), len(items)
    if k < 2:
        raise FieldError("cluster", f'{k} cluster in column "{cluster}": a clustered design needs at least 2')
    if waves is not None and waves > k:
        raise FieldError("waves", f"{waves} waves for {k} {noun}s: at most one wave per {noun}")
    # Both arms must get someone whatever the draw: the total treated is share × k rounded (unblocked), or
    # rounded down or up (blocked).
    x = share_treated * k
    low, high = (math.floor(x + 0.5 + _TOL),) * 2 if item_block is None else (math.floor(x + _TOL), math.ceil(x - _TOL))
    if method != "staggered" and (low < 1 or high > k - 1):
        message = f"{share_treated} of {k} {noun}s would leave an arm empty"
        raise FieldError("share_treated", message, hint=f"use more {noun}s")
    names = sorted(set(item_block)) if item_block is not None else ["all"]
    code = {b: i for i, b in enumerate(names)}
    strata = np.array([code[b] for b in item_block] if item_block is not None else [0] * k, dtype=np.int64)
    sizes = np.bincount(strata, minlength=len(names)).astype(np.int64)

    rng = np.random.Generator(np.random.PCG64(seed))
    ranked = np.lexsort((rng.random(k), strata))  # block by block (canonical order), each by its key
    warnings: list[str] = []
    wave_of_item: IntArray | None = None
    if method == "staggered":
        assert waves is not None  # checked by _check_options
        dealt = np.empty(k, dtype=np.int64)
        dealt[ranked] = np.arange(k)
        wave_of_item = (int(rng.integers(waves)) + dealt) % waves + 1
        treated_item = np.ones(k, dtype=np.bool_)
        small = [(b, n) for b, n in zip(names, sizes.tolist(), strict=True) if item_block is not None and n < waves]
        warnings += [f'block "{b}" has {n} {noun}(s) for {waves} waves: it is not in every wave' for b, n in small]
    else:
        rank = np.empty(k, dtype=np.int64)
        rank[ranked] = np.arange(k) - (np.cumsum(sizes) - sizes)[strata[ranked]]
        per_block = _counts(sizes, share_treated, None if item_block is None else float(rng.random()))
        treated_item = rank < per_block[strata]
        for b, n, m in zip(names, sizes.tolist(), per_block.tolist(), strict=True):
            if item_block is not None and n == 1:
                warnings.append(
                    f'block "{b}" has one {noun}: its arm was decided by a coin flip '
                    f"(treated with probability {share_treated})"
                )
            elif item_block is not None and m in (0, n):
                warnings.append(f'block "{b}": all {n} {noun}s are in one arm, so it adds nothing within the block')
    treated = treated_item[item_of_unit]
    arm_text = np.where(treated, "treatment", "control").tolist()
    wave_list = wave_of_item[item_of_unit].tolist() if wave_of_item is not None else [None] * len(ids)
    none = [None] * len(ids)
    arms = pd.DataFrame({
        "unit": frame[unit].tolist(), "arm": arm_text, "wave": pd.array(wave_list, dtype="Int64"),
        "block": frame[block].tolist() if block else none, "cluster": frame[cluster].tolist() if cluster else none,
    })  # fmt: skip
    assignment_rows = [list(row) for row in zip(ids, arm_text, wave_list, strict=True)]  # ids are sorted
    units_rows = [[u, blocks[i] if blocks else None, clusters[i] if clusters else None] for i, u in enumerate(ids)]
    return Assignment(
        method=method, unit=unit, block=block, cluster=cluster,
        share_treated=1.0 if method == "staggered" else float(share_treated), waves=waves, seed=seed,
        n_units=len(ids), n_treated=int(treated.sum()), n_clusters=k if clusters is not None else None,
        fingerprint=_digest(assignment_rows), arms=arms,
        parameters={"unit": unit, "method": method, "block": block, "cluster": cluster,
                    "share_treated": float(share_treated), "waves": waves},
        units_fingerprint=_digest(units_rows), seed_drawn=seed_drawn, warnings=tuple(warnings),
    )  # fmt: skip


@dataclass(frozen=True)
class ArmDifference:
    """A unit whose arm (or wave) on the rerun is not the one recorded."""

    unit: str
    expected_arm: str
    got_arm: str
    expected_wave: int | None = None
    got_wave: int | None = None


@dataclass(frozen=True)
class Confirmation:
    """The outcome of rerunning a recorded assignment: the same or not, and why not."""

    matches: bool
    expected: str  # the recorded fingerprint
    got: str  # the rerun's
    differences: tuple[ArmDifference, ...]  # units in another arm or wave (the first 20)
    n_differences: int
    units_match: bool
    expected_units: str
    got_units: str
    reason: str
    added: tuple[str, ...] = ()  # units given but not recorded (the first 20)
    removed: tuple[str, ...] = ()  # units recorded but not given (the first 20)
    n_added: int = 0
    n_removed: int = 0
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        lines = [("Confirmed: " if self.matches else "Not confirmed: ") + self.reason]
        lines.append(f"  expected sha256:{self.expected}\n  got      sha256:{self.got}")
        for d in self.differences:
            waves = f" (wave {d.expected_wave} → {d.got_wave})" if d.expected_wave != d.got_wave else ""
            lines.append(f"  {d.unit}: recorded {d.expected_arm}, rerun {d.got_arm}{waves}")
        if self.n_differences > len(self.differences):
            lines.append(f"  … and {self.n_differences - len(self.differences)} more")
        lines += [f"  Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def tidy(self) -> pd.DataFrame:
        """The units in another arm or wave (the first 20)."""
        return pd.DataFrame([asdict(d) for d in self.differences], columns=list(ArmDifference.__dataclass_fields__))

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Confirmation:
        values = dict(d)
        values["differences"] = tuple(ArmDifference(**x) for x in d["differences"])
        for k in ("added", "removed", "notes"):
            values[k] = tuple(d.get(k, ()))
        return cls(**values)


_RECORD_KEYS: Final = ("parameters", "seed", "fingerprint", "units_fingerprint", "algorithm_version")


def _listed(values: Sequence[str]) -> str:
    return ", ".join(values[:5]) + (f" and {len(values) - 5} more" if len(values) > 5 else "")


def confirm(record: Mapping[str, Any], units: ir.Table | pd.DataFrame) -> Confirmation:
    """Rerun the assignment ``record`` describes (from :meth:`Assignment.record`) on ``units`` and compare.

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({"id": range(10)})
    >>> record = assign(units, unit="id", seed=3).record()
    >>> confirm({**record, "seed": 4}, units).matches
    False
    """
    for key in _RECORD_KEYS:
        if key not in record:
            raise FieldError("record", f'has no "{key}": pass the dict Assignment.record() returned')
    p = record["parameters"]
    rerun = assign(
        units, unit=p["unit"], method=p["method"], block=p.get("block"), cluster=p.get("cluster"),
        share_treated=p["share_treated"], waves=p.get("waves"), seed=record["seed"],
    )  # fmt: skip
    notes: list[str] = []
    version = record["algorithm_version"]
    if version != ALGORITHM_VERSION or record.get("algorithm", ALGORITHM) != ALGORITHM:
        notes.append(
            f"recorded with {record.get('algorithm', ALGORITHM)} version {version}; this ridp draws with "
            f"{ALGORITHM} version {ALGORITHM_VERSION}: rerun with the ridp release that made it"
        )
    if record.get("numpy_version", np.__version__) != np.__version__:
        notes.append(f"recorded with numpy {record['numpy_version']}, rerun with numpy {np.__version__}")
    got_arms: dict[str, tuple[str, int | None]] = {}
    got_units: dict[str, tuple[str | None, str | None]] = {}
    for u, a, w, b, c in rerun.arms[["unit", "arm", "wave", "block", "cluster"]].itertuples(index=False):
        got_arms[_text(u)] = (str(a), None if pd.isna(w) else int(w))
        got_units[_text(u)] = (None if b is None else _text(b), None if c is None else _text(c))
    recorded = record.get("arms")
    arms_intact = True
    differences: list[ArmDifference] = []
    added: list[str] = []
    removed: list[str] = []
    moved: list[str] = []
    if recorded is not None:
        table = pd.DataFrame(list(recorded), columns=["unit", "arm", "wave", "block", "cluster"])
        arms_intact = _arms_digest(table) == record["fingerprint"]
        if not arms_intact:
            notes.append("the record's list of arms does not match its own fingerprint: it was changed after the draw")
        want = {_text(r["unit"]): r for r in recorded}
        added = sorted(set(got_arms) - set(want))
        removed = sorted(set(want) - set(got_arms))
        for u in sorted(set(want) & set(got_arms)):
            r = want[u]
            block, cluster = (None if r[k] is None else _text(r[k]) for k in ("block", "cluster"))
            if (block, cluster) != got_units[u]:
                moved.append(u)
            if (r["arm"], r["wave"]) != got_arms[u]:
                differences.append(ArmDifference(u, str(r["arm"]), got_arms[u][0], r["wave"], got_arms[u][1]))
    units_match = rerun.units_fingerprint == record["units_fingerprint"]
    same = rerun.fingerprint == record["fingerprint"]
    matches = units_match and same and arms_intact
    n = rerun.n_units
    if matches:
        reason = f"the rerun from seed {rerun.seed} on the same {n} units gives the recorded assignment"
    elif not units_match:
        parts = [f"{len(added)} added ({_listed(added)})"] if added else []
        parts += [f"{len(removed)} removed ({_listed(removed)})"] if removed else []
        parts += [f"{len(moved)} with another block or cluster ({_listed(moved)})"] if moved else []
        reason = (
            "the units differ from those recorded"
            + (f": {'; '.join(parts)}" if parts else " (the record lists no units to say which)")
            + ", so the rerun cannot reproduce the assignment: confirm on the units that were randomised"
        )
    elif not same:
        moved_arms = f"puts {len(differences)} of {n} units in another arm or wave" if recorded else "differs"
        reason = (
            f"the units are those recorded, but the rerun {moved_arms}: the seed, the parameters or the algorithm "
            "differ from those that made the assignment"
        )
    else:
        reason = "the rerun gives the recorded fingerprint, but the record's list of arms was changed after the draw"
    return Confirmation(
        matches=matches, expected=str(record["fingerprint"]), got=rerun.fingerprint,
        differences=tuple(differences[:_LISTED]), n_differences=len(differences), units_match=units_match,
        expected_units=str(record["units_fingerprint"]), got_units=rerun.units_fingerprint, reason=reason,
        added=tuple(added[:_LISTED]), removed=tuple(removed[:_LISTED]), n_added=len(added), n_removed=len(removed),
        notes=tuple(notes),
    )  # fmt: skip


# The balance table lives in its own module (it imports this one); these names stay importable from here.
from ridp.evaluation._balance import Balance, BalanceRow, balance  # noqa: E402
