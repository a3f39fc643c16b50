"""Randomisation inference for the difference in means: the assignments, the p-value and its interval.

The units of randomisation (clusters, or single units) are reassigned as the design did: complete
randomisation within each block with the observed number treated there. When the number of possible
assignments is at most ``reps`` every one is enumerated (the observed one among them) and the p-value is
exact; otherwise ``reps`` assignments are drawn and the observed one is counted once more,
``p = (1 + #{|T*| ≥ |T|}) / (1 + reps)``.

Only cluster totals enter the statistic: for assignment ``w`` (one 0/1 per randomisation unit),
``T(w) = w·Y / w·n - (ΣY - w·Y) / (N - w·n)``. Under a constant additive effect τ the untreated outcomes
are ``y - τ·d``, whose difference in means under ``w`` is ``A_w - τ·B_w`` (``B_w`` the same statistic of
``d``), so the p-value of every τ comes from the same two vectors and the interval is found by test
inversion.

>>> import numpy as np
>>> assignments, exact = assignments_for(np.zeros(4, dtype=np.int64), np.array([1, 1, 0, 0]), reps=100, seed=0)
>>> assignments.shape, exact
((6, 4), True)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ridp.evaluation._wild import invert_test

__all__ = ["RIResult", "assignments_for", "count_assignments", "randomisation_test"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Draw random assignments in chunks of about this many cells, to bound memory.
_CHUNK_CELLS = 2_000_000


@dataclass(frozen=True)
class RIResult:
    effect: float
    p_value: float
    ci_low: float
    ci_high: float
    exact: bool
    assignments: int  # enumerated, or drawn (the observed one not included)


def count_assignments(blocks: IntArray, treated: IntArray) -> int:
    """How many assignments complete randomisation within blocks allows (an exact Python integer)."""
    total = 1
    for b in np.unique(blocks):
        in_block = blocks == b
        total *= math.comb(int(in_block.sum()), int(treated[in_block].sum()))
    return total


def _block_members(blocks: IntArray) -> list[IntArray]:
    return [np.flatnonzero(blocks == b) for b in np.unique(blocks)]


def assignments_for(blocks: IntArray, treated: IntArray, *, reps: int, seed: int) -> tuple[BoolArray, bool]:
    """Every assignment (when there are at most ``reps``; ``True``) or ``reps`` random ones (``False``).

    Rows are assignments, columns the units of randomisation. Use :func:`_random_chunks` for large designs.
    """
    if count_assignments(blocks, treated) <= reps:
        return _enumerate(blocks, treated), True
    return np.concatenate(list(_random_chunks(blocks, treated, reps=reps, seed=seed))), False


def _enumerate(blocks: IntArray, treated: IntArray) -> BoolArray:
    members = _block_members(blocks)
    per_block = []
    for rows in members:
        k = int(treated[rows].sum())
        combos = np.array(list(itertools.combinations(range(len(rows)), k)), dtype=np.int64).reshape(-1, k)
        indicator = np.zeros((len(combos), len(rows)), dtype=bool)
        np.put_along_axis(indicator, combos, True, axis=1)
        per_block.append(indicator)
    # The Cartesian product of the blocks' choices, one row per assignment.
    grids = np.meshgrid(*[np.arange(len(c)) for c in per_block], indexing="ij")
    out = np.zeros((grids[0].size, len(blocks)), dtype=bool)
    for rows, choice, grid in zip(members, per_block, grids, strict=True):
        out[:, rows] = choice[grid.ravel()]
    return out


def _random_chunks(blocks: IntArray, treated: IntArray, *, reps: int, seed: int) -> Iterator[BoolArray]:
    rng = np.random.default_rng(seed)
    members = _block_members(blocks)
    size = max(1, _CHUNK_CELLS // max(len(blocks), 1))
    done = 0
    while done < reps:
        rows_now = min(size, reps - done)
        out = np.zeros((rows_now, len(blocks)), dtype=bool)
        for rows in members:
            k = int(treated[rows].sum())
            # A uniformly random permutation per draw: the first k positions are treated.
            picks = np.argsort(rng.random((rows_now, len(rows))), axis=1)[:, :k]
            block_out = np.zeros((rows_now, len(rows)), dtype=bool)
            np.put_along_axis(block_out, picks, True, axis=1)
            out[:, rows] = block_out
        done += rows_now
        yield out


def _dim(w: BoolArray, totals: FloatArray, sizes: FloatArray) -> FloatArray:
    wf = w.astype(np.float64)
    treated_total, treated_n = wf @ totals, wf @ sizes
    result: FloatArray = treated_total / treated_n - (totals.sum() - treated_total) / (sizes.sum() - treated_n)
    return result


def randomisation_test(
    totals: FloatArray, sizes: FloatArray, treated: IntArray, blocks: IntArray, *, reps: int, seed: int, alpha: float
) -> RIResult:
    """Difference in means, its randomisation p-value (sharp null of no effect, two-sided) and interval.

    One entry per unit of randomisation: outcome ``totals``, ``sizes`` (units in it), ``treated`` (0/1) and
    ``blocks`` codes.
    """
    d = treated.astype(bool)
    observed = _dim(d[None, :], totals, sizes)[0]
    exact = count_assignments(blocks, treated) <= reps
    chunks = [_enumerate(blocks, treated)] if exact else _random_chunks(blocks, treated, reps=reps, seed=seed)
    a_parts, b_parts = [], []
    treated_totals = sizes * treated
    for w in chunks:
        a_parts.append(_dim(w, totals, sizes))
        b_parts.append(_dim(w, treated_totals, sizes))
    a, b = np.concatenate(a_parts), np.concatenate(b_parts)
    extra = 0 if exact else 1  # a drawn set does not hold the observed assignment: count it once

    def p_at(tau: float) -> float:
        statistic = abs(observed - tau)
        # Relative tolerance: the observed assignment (and mirror images) must tie with itself across BLAS paths.
        hits = np.count_nonzero(np.abs(a - tau * b) >= statistic * (1 - 1e-9))
        return float((hits + extra) / (len(a) + extra))

    low, high = invert_test(p_at, observed, float(np.std(a)), alpha)
    return RIResult(
        effect=float(observed), p_value=p_at(0.0), ci_low=low, ci_high=high, exact=exact, assignments=len(a)
    )
