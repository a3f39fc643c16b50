"""CR2 cluster-robust variance with Bell-McCaffrey degrees of freedom, for one coefficient of an OLS fit.

Bell and McCaffrey (2002); Imbens and Kolesár (2016); Pustejovsky and Tipton (2018). With ``H = X (X'X)⁻¹ X'``
and ``M = (X'X)⁻¹``, cluster ``g``'s residuals are rescaled by ``A_g = (I - H_gg)^(-1/2)`` before the sandwich:

    V = Σ_g (c' M X_g' A_g e_g)²

which is unbiased when errors are independent and homoskedastic, where the plain (CR0/CR1) sandwich is biased
downwards when clusters are few. ``H_gg`` has rank at most k (the number of columns), so ``A_g`` is computed
from the thin SVD of the cluster's rows of Q (``X = QR``): ``A_g = I + U diag((1 - s²)^(-1/2) - 1) U'``, no
n_g × n_g matrix is formed. Where ``1 - s²`` is 0 (a cluster whose fitted values are its own outcomes) the
Moore-Penrose pseudo-inverse square root is used, as in clubSandwich, and the caller is told.

Degrees of freedom (Bell-McCaffrey): under the working model ε ~ N(0, σ² I), ``V = ε' Q Q' ε`` with
``q_g = (I - H)_{·,g} w_g`` and ``w_g = A_g X_g M c``; the Satterthwaite approximation gives
``df = tr(P)² / tr(P²)`` with the G × G matrix ``P = Q'Q = diag(w_g'w_g) - B' M B``, ``B = [X_g' w_g]``.

>>> import numpy as np
>>> X = np.column_stack([np.ones(8), [0, 0, 0, 0, 1, 1, 1, 1]])
>>> variance, df, singular = cr2(X, np.arange(8.0) % 3, np.repeat(np.arange(4), 2), 1)
>>> round(df, 3), singular
(2.0, False)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["cr2"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Below this, 1 - s² counts as zero (an eigenvalue of H_gg equal to 1).
_SINGULAR = 1e-10


def cr2(X: FloatArray, resid: FloatArray, groups: IntArray, column: int) -> tuple[float, float, bool]:
    """CR2 variance of coefficient ``column``, its Bell-McCaffrey degrees of freedom, and whether a pseudo-inverse
    was needed.

    ``groups`` holds cluster codes 0..G-1 for each row of ``X``. Clusters of equal size are adjusted together
    (one stacked SVD per size), and the G × G matrix P is never formed: its two traces come from k × k products,
    so many small clusters (or one unit per cluster, where CR2 is HC2) stay cheap.
    """
    k = X.shape[1]
    q, r = np.linalg.qr(X)
    r_inv = np.linalg.inv(r)
    m = r_inv @ r_inv.T  # (X'X)⁻¹ without forming X'X
    mc = m[:, column]
    z = X @ mc  # each row's weight in the coefficient: c'M x_i
    sizes = np.bincount(groups)
    n_groups = len(sizes)
    order = np.argsort(groups, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    scores = np.empty(n_groups)
    ww = np.empty(n_groups)
    b = np.empty((n_groups, k))
    singular = False
    for size in np.unique(sizes):
        which = np.flatnonzero(sizes == size)
        rows = order[starts[which][:, None] + np.arange(size)]  # (clusters, size) row numbers
        u, s, _ = np.linalg.svd(q[rows], full_matrices=False)  # stacked: (clusters, size, ≤k)
        one_minus = 1.0 - s**2
        tiny = one_minus < _SINGULAR
        singular = singular or bool(tiny.any())
        # (I - H_gg)^(-1/2) on the span of U; the pseudo-inverse drops the directions with eigenvalue 0.
        factor = np.where(tiny, -1.0, 1.0 / np.sqrt(np.where(tiny, 1.0, one_minus)) - 1.0)
        zg = z[rows]
        w = zg + np.einsum("csj,cj->cs", u, factor * np.einsum("csj,cs->cj", u, zg))
        scores[which] = np.einsum("cs,cs->c", w, resid[rows])
        ww[which] = np.einsum("cs,cs->c", w, w)
        b[which] = np.einsum("csk,cs->ck", X[rows], w)
    variance = float(scores @ scores)
    # P = diag(ww) - C with C = B M B' (rank ≤ k): tr P and tr P² without the G × G matrix.
    bm = b @ m
    c_diag = np.einsum("gk,gk->g", bm, b)
    mbb = m @ (b.T @ b)
    trace = float(ww.sum() - np.trace(mbb))
    trace_sq = float(ww @ ww - 2 * ww @ c_diag + np.sum(mbb * mbb.T))
    df = trace**2 / trace_sq if trace_sq > 0 else float("nan")
    return variance, df, singular
