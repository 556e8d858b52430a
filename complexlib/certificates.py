"""Facets of a polyhedron by ray shooting and NNLS redundancy certificates (no hull, no LP).

Above six dimensions one convex hull per region grows with the region's vertices (qhull
takes ~5 ms in 8-D and ~60 ms in 10-D) and one LP per row costs ~1 ms each.  This kernel
decides every row with certificates that cost a few tens of microseconds each.

In the polar of ``P = {x : A x + b <= 0}`` about an interior point ``x0`` (unit rows,
slacks ``s_j = -(A_j x0 + b_j) > 0``), row ``j`` is the point ``p_j = A_j / s_j`` and is a
facet iff ``p_j`` is a vertex of ``Q = conv({0} ∪ {p_i})``.

* **A facet, proven by a ray.**  The ray ``x0 + t u`` meets row ``j`` at ``t = 1 / (u .
  p_j)``, so it leaves ``P`` through the row maximising ``u . p_j``.  The first rays are
  the axes both ways, seeded random directions and every row's normal.  When that maximum is
  positive and beats every other row by more than the tolerance, the row is a facet and
  the point where the ray meets it lies on the facet, strictly inside every other row
  (its margin, the least distance to them, is reported).
* **A redundant row, proven by a certificate.**  When ``p_i = sum_f lam_f p_f`` with
  ``lam >= 0`` and ``sum lam <= 1`` over rows ``f`` proven facets, ``A_i x + b_i <= 0``
  follows from theirs on ``P`` (Farkas).  ``lam`` is a non-negative least-squares
  solution (``scipy.optimize.nnls`` on the points with a row for the sum) whose residual
  is within the tolerance.
* **Neither, yet.**  Otherwise the residual ``r = p_i - q`` (``q`` the nearest point of
  the hull of ``0`` and the proven facets' points) separates ``p_i`` from that hull:
  ``r . p_i > r . q >= r . h`` for every point ``h`` of it.  The ray along ``r`` therefore
  leaves ``P`` through a row not yet proven (``i`` itself or another): each round proves
  at least one new facet, and the certificates are tried again.
* **Bounded** iff the proven facets' points positively span R^d: the ``d + 1`` vertices of
  a simplex around the origin each lie in their cone (NNLS residuals within the
  tolerance).  A residual beyond it is a recession direction (``r . p_f <= 0`` for every
  facet), so the region is unbounded.

A shot whose best two rows are within the tolerance (a facet too thin, rows meeting at
the point), a certificate neither clearly inside nor clearly out, or too many rounds
return ``None``: the caller then decides the region by qhull or LPs.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["certified_facets", "positively_spanning", "CERT_MIN_DIM"]

#: from this input dimension on, :func:`complexlib.geometry.region_geometry` tries this
#: kernel before qhull or LPs
CERT_MIN_DIM = 7
#: relative tolerance of the decisions (against the largest polar point)
CERT_RTOL = 1e-10
#: rounds of "certify, then shoot along the residuals" before giving up
MAX_ROUNDS = 12
#: rays shot first: the axes both ways and this many seeded random directions per dimension
RANDOM_PER_DIM = 24
#: an NNLS residual above this times the tolerance is "clearly outside" (between: undecided)
CLEAR = 10.0


@lru_cache(maxsize=16)
def _directions(d: int) -> np.ndarray:
    """The axes both ways and seeded random unit directions."""
    rng = np.random.default_rng(4242 + d)
    U = rng.standard_normal((RANDOM_PER_DIM * d, d))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    return np.vstack([np.eye(d), -np.eye(d), U])


@lru_cache(maxsize=1)
def _nnls_solver() -> Any:
    """scipy's compiled NNLS without the public wrapper's argument checks (a third of the
    cost of these tiny solves), or the public function where that is not there."""
    try:
        from scipy.optimize._slsqplib import nnls as raw

        raw(np.eye(2), np.ones(2), 6)
        return raw
    except (ImportError, TypeError, ValueError):  # another scipy: the public wrapper
        from scipy.optimize import nnls

        def public(M: np.ndarray, y: np.ndarray, maxiter: int) -> tuple[Any, float, int]:
            try:
                lam, res = nnls(M, y, maxiter=maxiter)
            except RuntimeError:
                return np.zeros(M.shape[1]), np.inf, 3
            return lam, res, 1

        return public


def _nnls_residual(M: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """``min |M lam - y|`` over ``lam >= 0``: ``(lam, residual)``, residual inf when the
    solver stops on its iteration limit (``M``, ``y`` float64, C-ordered, finite)."""
    lam, res, info = _nnls_solver()(M, y, 3 * M.shape[1])
    if info != 1:
        return np.zeros(M.shape[1]), np.inf
    return lam, float(res)


def certified_facets(
    An: np.ndarray,
    bn: np.ndarray,
    x0: np.ndarray,
    rep: np.ndarray,
    rtol: float,
    bounded: bool | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool] | None:
    """Facets of ``{x : An x + bn <= 0}`` (unit rows) by rays and certificates.

    Parameters
    ----------
    An, bn : unit rows and offsets.
    x0 : a point strictly inside.
    rep : the rows to decide (one per group of coincident rows).
    rtol : a facet point's least distance to the other rows must exceed
        ``rtol (1 + |x0|)``.
    bounded : whether the region is known to be bounded (its rows include a bounded
        domain's), or ``None`` to decide it here.

    Returns
    -------
    (facets, points, margins, bounded) or None
        The facet rows (increasing), a point on each facet with its least distance to
        every other row of ``rep``, and whether the region is bounded; ``None`` when
        something is too close to call (see the module's notes).

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1], [0.6, 0.8]])  # a square, a far row
    >>> f, q, margin, bounded = certified_facets(A, np.r_[-np.ones(4), -5.0], np.zeros(2),
    ...                                          np.arange(5), 1e-11)
    >>> f.tolist(), bounded
    ([0, 1, 2, 3], True)
    """
    nnls = _nnls_solver()
    d = An.shape[1]
    A = An[rep]
    s = -(A @ x0 + bn[rep])
    if len(rep) == 0 or np.any(s <= 0):
        return None
    P = A / s[:, None]
    m = len(rep)
    tol = CERT_RTOL * float(np.abs(P).max())
    scale = 1.0 + float(np.linalg.norm(x0))
    found = np.zeros(m, dtype=bool)
    redundant = np.zeros(m, dtype=bool)
    best_pt = np.zeros((m, d))
    best_margin = np.full(m, -np.inf)

    def prove(U: np.ndarray) -> bool:
        """Shoot ``U``; record facets and their best points.  False on a tie.

        Ray ``u`` leaves through the row ``j`` maximising ``u . p_j`` (value ``v``), at
        ``x0 + u / v``, where row ``k`` has slack ``s_k (1 - u . p_k / v)``.
        """
        val = U @ P.T  # (k, m)
        r = np.arange(len(U))
        j = np.argmax(val, axis=1)
        vmax = val[r, j]
        val[r, j] = -np.inf  # (so row j's own slack below is +inf)
        second = val.max(axis=1) if m > 1 else np.full(len(U), -np.inf)
        proper = vmax > tol
        if np.any(proper & (vmax - second <= tol)):
            return False
        hit = np.nonzero(proper)[0]
        if hit.size == 0:
            return True
        j, vmax = j[hit], vmax[hit]
        margin = (s * (1.0 - val[hit] / vmax[:, None])).min(axis=1)
        order = np.lexsort((margin, j))  # by row, then margin: each row's best is last
        last = order[np.r_[j[order][1:] != j[order][:-1], True]]
        better = last[margin[last] > best_margin[j[last]]]
        best_margin[j[better]] = margin[better]
        best_pt[j[better]] = x0 + U[hit[better]] / vmax[better, None]
        found[j] = True
        return True

    # the fixed directions, and each row's own normal (a facet's ray usually leaves by it)
    if not prove(np.vstack([_directions(d), A])):
        return None
    for _ in range(MAX_ROUNDS):
        todo = np.nonzero(~found & ~redundant)[0]
        if todo.size == 0:
            break
        F = np.nonzero(found)[0]
        pscale = float(np.abs(P).max())
        # [p_f | 0 ; 1 | 1] [lam ; mu] = [p_i ; 1]: p_i in conv({0} ∪ {p_f})
        M = np.zeros((d + 1, len(F) + 1))
        M[:d, : len(F)] = P[F].T
        M[d] = pscale
        dirs = []
        Y = np.empty((len(todo), d + 1))
        Y[:, :d] = P[todo]
        Y[:, d] = pscale
        maxiter = 3 * M.shape[1]
        for i, y in zip(todo.tolist(), Y):  # (the solver inlined: tens of calls a region)
            lam, res, info = nnls(M, y, maxiter)
            if info != 1:
                return None
            if res <= tol:
                redundant[i] = True
            elif res > CLEAR * tol:
                dirs.append(P[i] - P[F].T @ lam[: len(F)])
            else:
                return None
        if dirs and not prove(np.array(dirs)):
            return None
    if np.any(~found & ~redundant):
        return None
    F = np.nonzero(found)[0]
    if np.any(best_margin[F] <= rtol * scale):
        return None
    if bounded is None:
        bounded = positively_spanning(P[F], tol / float(np.abs(P).max()))
    if bounded is None:
        return None
    return rep[F], best_pt[F], best_margin[F], bounded


def positively_spanning(PF: np.ndarray, tol: float = CERT_RTOL) -> bool | None:
    """Whether the cone of the rows of ``PF`` is all of R^d (``None``: too close to call).

    ``{x : PF x <= c}`` is bounded (when not empty) iff this holds.

    Examples
    --------
    >>> import numpy as np
    >>> positively_spanning(np.vstack([np.eye(3), -np.eye(3)])), positively_spanning(np.eye(3))
    (True, False)
    """
    m, d = PF.shape
    if m <= d:
        return False
    V = np.vstack([np.eye(d), -np.ones((1, d)) / np.sqrt(d)])
    Pn = PF / np.linalg.norm(PF, axis=1, keepdims=True)
    for v in V:
        _, res = _nnls_residual(Pn.T, v)
        if res > CLEAR * tol:
            return False
        if res > tol:
            return None
    return True
