"""Facets of a batch of 2-D regions at once, with no LP and no per-region Python.

For a polygon ``{x : n_i . x + b_i <= 0}`` (unit normals) the facet on line ``j`` is the
interval of ``t`` for which ``p_j + t u_j`` (``p_j = -b_j n_j``, ``u_j`` the line's direction)
satisfies every other constraint:

.. math:: (n_i \\cdot u_j)\\, t \\le -(n_i \\cdot p_j + b_i) \\quad (i \\ne j).

Row ``j`` is a facet iff that interval has positive length (parallel rows either bound
nothing or empty it).  Everything is an array operation over ``(B, m, m)``: all regions of a
batch and all pairs of rows at once.  The interval also gives a point in the facet's relative
interior, the facet's end points (the vertices), and boundedness (a polygon is bounded iff
it has facets and every facet is a finite segment).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PlanarFacets", "planar_facets"]

#: rows whose normals' cross product is below this are parallel
PARALLEL_TOL = 1e-12


@dataclass
class PlanarFacets:
    """Facets of a batch of polygons, flattened (CSR by region)."""

    ptr: np.ndarray  # (B+1,) offsets into the facet arrays
    row: np.ndarray  # (F,) representative row (lowest index of coincident rows)
    has_domain_row: np.ndarray  # (F,) bool, the facet's line holds a row >= n_neuron_rows
    point: np.ndarray  # (F, 2) a point in the facet's relative interior
    margin: np.ndarray  # (F,) distance from the point to every other line
    bounded: np.ndarray  # (B,) bool
    t_lo: np.ndarray  # (F,) facet interval on its line (may be -inf)
    t_hi: np.ndarray  # (F,) (may be +inf)


def planar_facets(
    A: np.ndarray, b: np.ndarray, n_neuron_rows: int, scale: np.ndarray, rtol: float
) -> PlanarFacets:
    """Facets of the polygons ``A[k] x + b[k] <= 0`` for every ``k`` of a batch.

    Parameters
    ----------
    A : (B, m, 2) rows; rows with zero norm are constant and ignored (they must hold).
    b : (B, m)
    n_neuron_rows : rows at or above this index are domain sides.
    scale : (B,) length scale of each region (``1 + |x|`` of a point in it).
    rtol : relative tolerance of lengths and coincidence.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[[1.0, 0], [-1, 0], [0, 1], [0, -1], [1, 1]]])
    >>> f = planar_facets(A, np.array([[-1.0, -1, -1, -1, -5]]), 5, np.ones(1), 1e-11)
    >>> f.row.tolist(), f.bounded.tolist()
    ([0, 1, 2, 3], [True])
    """
    B, m, _ = A.shape
    nrm = np.linalg.norm(A, axis=2)
    live = nrm > 0
    safe = np.where(live, nrm, 1.0)
    n = A / safe[:, :, None]
    off = b / safe
    tol = rtol * scale[:, None, None]
    # coincident rows: same unit normal and offset; each row's representative is the lowest
    same = (np.abs(n[:, :, None, :] - n[:, None, :, :]).max(axis=3) <= 1e-12) & (
        np.abs(off[:, :, None] - off[:, None, :]) <= tol
    )
    same &= live[:, :, None] & live[:, None, :]
    rep = np.argmax(same, axis=2)  # first True along j for each i
    is_rep = (rep == np.arange(m)[None, :]) & live
    dom_row = np.arange(m) >= n_neuron_rows
    group_dom = np.einsum("bij,j->bi", same.astype(np.int8), dom_row.astype(np.int8)) > 0
    # facet interval of line j against rows i
    p = -off[:, :, None] * n  # (B, m, 2) closest point of each line to the origin
    u = np.stack([-n[:, :, 1], n[:, :, 0]], axis=2)  # (B, m, 2) direction of each line
    alpha = np.einsum("bid,bjd->bji", n, u)  # (B, j, i): n_i . u_j
    beta = np.einsum("bid,bjd->bji", n, p) + off[:, None, :]  # n_i . p_j + b_i
    other = live[:, None, :] & ~same  # rows i that count for line j
    par = np.abs(alpha) <= PARALLEL_TOL
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -beta / alpha
    hi = np.where(other & ~par & (alpha > 0), t, np.inf).min(axis=2)
    lo = np.where(other & ~par & (alpha < 0), t, -np.inf).max(axis=2)
    blocked = np.any(other & par & (beta > tol), axis=2)  # a parallel row cuts the line off
    length = hi - lo
    facet = is_rep & ~blocked & (length > tol[:, :, 0])
    # a point in each facet's relative interior
    fin_lo, fin_hi = np.isfinite(lo), np.isfinite(hi)
    reach = 1.0 + scale[:, None]
    with np.errstate(invalid="ignore"):
        # rays: go out as far again as the vertex is from the origin, where the facet is wide
        tq = np.where(
            fin_lo & fin_hi,
            0.5 * (lo + hi),
            np.where(
                fin_lo, lo + reach + np.abs(lo), np.where(fin_hi, hi - reach - np.abs(hi), 0.0)
            ),
        )
    q = p + tq[:, :, None] * u
    bounded = np.all(~facet | (fin_lo & fin_hi), axis=1) & facet.any(axis=1)
    # distance from each facet point to the other lines
    vals = np.einsum("bid,bjd->bji", n, q) + off[:, None, :]  # (B, j, i)
    margin = np.where(other, -vals, np.inf).min(axis=2)
    kk, jj = np.nonzero(facet)
    ptr = np.zeros(B + 1, dtype=np.int64)
    np.cumsum(np.bincount(kk, minlength=B), out=ptr[1:])
    return PlanarFacets(
        ptr=ptr,
        row=jj.astype(np.int64),
        has_domain_row=group_dom[kk, jj],
        point=q[kk, jj],
        margin=margin[kk, jj],
        bounded=bounded,
        t_lo=lo[kk, jj],
        t_hi=hi[kk, jj],
    )
