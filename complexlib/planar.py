"""Facets of a batch of 2-D regions at once, with no LP and no per-region Python.

For a polygon ``{x : n_i . x + b_i <= 0}`` (unit normals) the facet on line ``j`` is the
interval of ``t`` for which ``p_j + t u_j`` (``p_j = -b_j n_j``, ``u_j`` the line's direction)
satisfies every other constraint:

.. math:: (n_i \\cdot u_j)\\, t \\le -(n_i \\cdot p_j + b_i) \\quad (i \\ne j).

Row ``j`` is a facet iff that interval has positive length (parallel rows either bound
nothing or empty it).  The interval also gives a point in the facet's relative interior,
the facet's end points (the vertices), and boundedness (a polygon is bounded iff it has
facets and every facet is a finite segment).

Only candidate lines are tested, each against every row, as array operations over
``(B, K, m)``.  The candidates start as the ``K`` rows nearest to a point inside the
region (the nearest row always holds a facet: the largest ball around the point touches
it) and grow by the rows that meet a found facet at one of its end points, until no new
row appears.  The boundary of a polygon is connected through its vertices, so this finds
every facet; polygons whose facets are whole lines (strips, half-planes) are not
connected that way and are finished by testing every row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PlanarFacets", "planar_facets"]

#: rows whose normals' cross product is below this are parallel
PARALLEL_TOL = 1e-12
#: relative closeness of interval end points that makes rows meet at one vertex
TIE_RTOL = 1e-7


@dataclass
class PlanarFacets:
    """Facets of a batch of polygons, flattened (CSR by region, rows in increasing order)."""

    ptr: np.ndarray  # (B+1,) offsets into the facet arrays
    row: np.ndarray  # (F,) representative row (lowest index of coincident rows)
    has_domain_row: np.ndarray  # (F,) bool, the facet's line holds a row >= n_neuron_rows
    point: np.ndarray  # (F, 2) a point in the facet's relative interior
    margin: np.ndarray  # (F,) distance from the point to every other line
    bounded: np.ndarray  # (B,) bool
    t_lo: np.ndarray  # (F,) facet interval on its line (may be -inf)
    t_hi: np.ndarray  # (F,) (may be +inf)


def _intervals(n, off, live, cand, tol, scale, n_neuron_rows):
    """Interval, facet flag and neighbours of the candidate lines ``cand`` (B, K)."""
    B, m, _ = n.shape
    bi = np.arange(B)[:, None]
    nc, oc = n[bi, cand], off[bi, cand]  # (B, K, 2), (B, K)
    tolk = tol[:, None, None]
    # coincident rows (same unit normal and offset) of each candidate
    same = (np.abs(nc[:, :, None, :] - n[:, None, :, :]).max(axis=3) <= 1e-12) & (
        np.abs(oc[:, :, None] - off[:, None, :]) <= tolk
    )
    same &= live[:, None, :]
    rep = np.argmax(same, axis=2)  # lowest coincident row (the candidate itself if none lower)
    group_dom = np.any(same & (np.arange(m) >= n_neuron_rows)[None, None, :], axis=2)
    p = -oc[:, :, None] * nc
    u = np.stack([-nc[:, :, 1], nc[:, :, 0]], axis=2)
    alpha = np.einsum("bid,bjd->bji", n, u)  # (B, K, m): n_i . u_j
    beta = np.einsum("bid,bjd->bji", n, p) + off[:, None, :]
    other = live[:, None, :] & ~same
    par = np.abs(alpha) <= PARALLEL_TOL
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -beta / alpha
    up = other & ~par & (alpha > 0)
    down = other & ~par & (alpha < 0)
    hi = np.where(up, t, np.inf).min(axis=2)
    lo = np.where(down, t, -np.inf).max(axis=2)
    blocked = np.any(other & par & (beta > tolk), axis=2)
    facet = (rep == cand) & live[bi, cand] & ~blocked & (hi - lo > tol[:, None])
    fin_lo, fin_hi = np.isfinite(lo), np.isfinite(hi)
    # rows meeting each facet at its end points (ties included), and the representative
    with np.errstate(invalid="ignore"):
        tie = TIE_RTOL * (scale[:, None] + np.abs(np.where(fin_hi, hi, 0)))
        at_hi = up & (t <= hi[:, :, None] + tie[:, :, None]) & fin_hi[:, :, None]
        tie = TIE_RTOL * (scale[:, None] + np.abs(np.where(fin_lo, lo, 0)))
        at_lo = down & (t >= lo[:, :, None] - tie[:, :, None]) & fin_lo[:, :, None]
    touch = np.any((at_hi | at_lo) & facet[:, :, None], axis=1)  # (B, m)
    touch[bi, rep] = True
    whole_line = np.any(facet & ~fin_lo & ~fin_hi, axis=1)
    # a point in each facet's relative interior; rays: go out as far again as the vertex is
    # from the origin, where the facet has grown wide
    # (intrinsic: from the line's own position, never from the point handed down, which
    # would drift outward from region to region)
    reach = 1.0 + np.abs(oc)
    with np.errstate(invalid="ignore"):
        tq = np.where(
            fin_lo & fin_hi,
            0.5 * (lo + hi),
            np.where(
                fin_lo, lo + reach + np.abs(lo), np.where(fin_hi, hi - reach - np.abs(hi), 0.0)
            ),
        )
    q = p + tq[:, :, None] * u
    vals = np.einsum("bid,bjd->bji", n, q) + off[:, None, :]
    margin = np.where(other, -vals, np.inf).min(axis=2)
    return {
        "facet": facet,
        "lo": lo,
        "hi": hi,
        "q": q,
        "margin": margin,
        "dom": group_dom,
        "touch": touch,
        "whole_line": whole_line,
    }


def planar_facets(
    A: np.ndarray,
    b: np.ndarray,
    n_neuron_rows: int,
    scale: np.ndarray,
    rtol: float,
    x0: np.ndarray | None = None,
    k0: int = 6,
) -> PlanarFacets:
    """Facets of the polygons ``A[k] x + b[k] <= 0`` for every ``k`` of a batch.

    Parameters
    ----------
    A : (B, m, 2) rows; rows with zero norm are constant and ignored (they must hold).
    b : (B, m)
    n_neuron_rows : rows at or above this index are domain sides.
    scale : (B,) length scale of each region (``1 + |x|`` of a point in it).
    rtol : relative tolerance of lengths and coincidence.
    x0 : (B, 2) a point inside each region: candidates start from the rows nearest to
        it.  Without it every row is tested.
    k0 : number of starting candidates.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[[1.0, 0], [-1, 0], [0, 1], [0, -1], [1, 1]]])
    >>> f = planar_facets(A, np.array([[-1.0, -1, -1, -1, -5]]), 5, np.ones(1), 1e-11)
    >>> f.row.tolist(), f.bounded.tolist()
    ([0, 1, 2, 3], [True])
    """
    B, m, _ = A.shape
    if m == 0:  # no constraint at all: the whole plane
        z = np.zeros(0)
        return PlanarFacets(
            np.zeros(B + 1, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=bool),
            np.zeros((0, 2)),
            z,
            np.zeros(B, dtype=bool),
            z,
            z,
        )
    nrm = np.linalg.norm(A, axis=2)
    live = nrm > 0
    safe = np.where(live, nrm, 1.0)
    n = A / safe[:, :, None]
    off = b / safe
    tol = rtol * scale
    if x0 is None or m <= 2 * k0:
        cand = np.broadcast_to(np.arange(m), (B, m))
    else:
        dist = np.where(live, -(np.einsum("bmd,bd->bm", n, x0) + off), np.inf)
        cand = np.argpartition(dist, k0, axis=1)[:, :k0]
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("k", "j", "lo", "hi", "q", "mg", "dom")}
    todo = np.arange(B)
    while todo.size:
        res = _intervals(
            n[todo], off[todo], live[todo], cand, tol[todo], scale[todo], n_neuron_rows
        )
        inc = np.zeros((len(todo), m), dtype=bool)
        inc[np.arange(len(todo))[:, None], cand] = True
        missing = res["touch"] & ~inc
        again = missing.any(axis=1) | (res["whole_line"] & (inc.sum(axis=1) < live[todo].sum(1)))
        done = ~again
        # record the finished regions (each candidate column counted once)
        first = np.ones_like(res["facet"])
        srt = np.sort(cand, axis=1)
        dup_sorted = np.zeros_like(srt, dtype=bool)
        dup_sorted[:, 1:] = srt[:, 1:] == srt[:, :-1]
        if dup_sorted.any():  # padded candidate lists repeat an index: keep its first column
            for r in np.nonzero(dup_sorted.any(axis=1))[0]:
                _, idx = np.unique(cand[r], return_index=True)
                first[r] = False
                first[r, idx] = True
        sel = res["facet"] & first & done[:, None]
        rr, cc = np.nonzero(sel)
        out["k"].append(todo[rr])
        out["j"].append(cand[rr, cc])
        for key, name in (("lo", "lo"), ("hi", "hi"), ("q", "q"), ("mg", "margin"), ("dom", "dom")):
            out[key].append(res[name][rr, cc])
        # the rest go round again with the rows they are missing (all rows for whole lines)
        if again.any():
            sub = np.nonzero(again)[0]
            whole = res["whole_line"][sub]
            need = inc[sub] | missing[sub]
            need[whole] = live[todo[sub[whole]]]
            width: int = int(need.sum(axis=1).max())
            new = np.empty((len(sub), width), dtype=np.int64)
            for row in range(len(sub)):
                idx = np.nonzero(need[row])[0]
                new[row, : len(idx)] = idx
                new[row, len(idx) :] = idx[0]
            cand = new
        todo = todo[again]
    k = np.concatenate(out["k"])
    j = np.concatenate(out["j"])
    order = np.lexsort((j, k))
    k, j = k[order], j[order]
    lo = np.concatenate(out["lo"])[order]
    hi = np.concatenate(out["hi"])[order]
    ptr = np.zeros(B + 1, dtype=np.int64)
    np.cumsum(np.bincount(k, minlength=B), out=ptr[1:])
    finite = np.isfinite(lo) & np.isfinite(hi)
    bounded = (np.bincount(k, weights=finite, minlength=B) == np.diff(ptr)) & (np.diff(ptr) > 0)
    return PlanarFacets(
        ptr=ptr,
        row=j.astype(np.int64),
        has_domain_row=np.concatenate(out["dom"])[order],
        point=np.concatenate(out["q"])[order].reshape(-1, 2),
        margin=np.concatenate(out["mg"])[order],
        bounded=bounded,
        t_lo=lo,
        t_hi=hi,
    )
