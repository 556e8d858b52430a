"""Facets of a batch of 2-D regions at once, with no LP and no per-region Python.

For a polygon ``{x : n_i . x + b_i <= 0}`` (unit normals) the facet on line ``j`` is the
interval of ``t`` for which ``p_j + t u_j`` (``p_j = -b_j n_j``, ``u_j`` the line's direction)
satisfies every other constraint:

.. math:: (n_i \\cdot u_j)\\, t \\le -(n_i \\cdot p_j + b_i) \\quad (i \\ne j).

Row ``j`` is a facet iff that interval has positive length (parallel rows either bound
nothing or empty it).  The interval also gives a point in the facet's relative interior,
the facet's end points (the vertices), and boundedness (a polygon is bounded iff it has
facets and every facet is a finite segment).

Only candidate lines are tested, as array operations over ``(B, K, K)``.  The candidates
start as the ``K`` rows nearest to a point inside the region (the nearest row always holds
a facet: the largest ball around the point touches it).  The facets of the candidate
polygon are then checked against every row: a row violated at one of its vertices, or
cutting one of its unbounded edges, joins the candidates, until no row cuts it, when the
candidate polygon is the region (:func:`_grow`).  Polygons whose facets are whole lines
(strips, half-planes), and the rare regions where a row passes through a facet point
without repeating the facet's row, are finished by testing every row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PlanarFacets", "planar_facets"]

#: rows whose normals' cross product is below this are parallel
PARALLEL_TOL = 1e-12
#: with more than twice this many rows, bounded candidate polygons near their point are
#: tested against the NEAR_ROWS rows nearest to it only (see ``_grow``)
NEAR_ROWS = 48


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


def _intervals(n, off, live, cand, tol, is_dom):
    """Interval, facet flag and facet point of the candidate lines ``cand`` (B, K)."""
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
    group_dom = np.any(same & is_dom[:, None, :], axis=2)
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
        "whole_line": whole_line,
        "p": p,
        "u": u,
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
    is_dom = np.broadcast_to(np.arange(m) >= n_neuron_rows, (B, m))
    parts: list[dict[str, np.ndarray]] = []
    if x0 is None or m <= 2 * k0:
        full = np.arange(B)
    else:
        dist = np.where(live, -(np.einsum("bmd,bd->bm", n, x0) + off), np.inf)
        cand = np.sort(np.argpartition(dist, k0, axis=1)[:, :k0], axis=1)
        near = None
        if m > 2 * NEAR_ROWS:
            # the NEAR_ROWS rows nearest x0, and the distance of the nearest other one
            pick = np.argpartition(dist, NEAR_ROWS, axis=1)
            near = (pick[:, :NEAR_ROWS], np.take_along_axis(dist, pick[:, NEAR_ROWS:], 1).min(1))
        part, full = _grow(n, off, live, is_dom, cand, tol, x0, near)
        parts.append(part)
    if full.size:
        parts.append(_all_rows(n[full], off[full], live[full], is_dom[full], tol[full]))
        parts[-1]["k"] = full[parts[-1]["k"]]
    cat = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.lexsort((cat["j"], cat["k"]))
    k = cat["k"][order]
    lo, hi = cat["lo"][order], cat["hi"][order]
    ptr = np.zeros(B + 1, dtype=np.int64)
    np.cumsum(np.bincount(k, minlength=B), out=ptr[1:])
    finite = np.isfinite(lo) & np.isfinite(hi)
    bounded = (np.bincount(k, weights=finite, minlength=B) == np.diff(ptr)) & (np.diff(ptr) > 0)
    return PlanarFacets(
        ptr=ptr,
        row=cat["j"][order].astype(np.int64),
        has_domain_row=cat["dom"][order].astype(bool),
        point=cat["q"][order].reshape(-1, 2),
        margin=cat["mg"][order],
        bounded=bounded,
        t_lo=lo,
        t_hi=hi,
    )


def _record(res, sel, k, j):
    """The facets ``sel`` (B, K) of an :func:`_intervals` result as flat columns."""
    rr, cc = np.nonzero(sel)
    out = {"k": k[rr], "j": j[rr, cc]}
    for key, name in (("lo", "lo"), ("hi", "hi"), ("q", "q"), ("mg", "margin"), ("dom", "dom")):
        out[key] = res[name][rr, cc]
    return out


def _all_rows(n, off, live, is_dom, tol):
    """Every row a candidate: the plain test (strips, half-planes, few rows)."""
    B, m, _ = n.shape
    cand = np.broadcast_to(np.arange(m), (B, m))
    res = _intervals(n, off, live, cand, tol, is_dom)
    return _record(res, res["facet"], np.arange(B), cand)


def _grow(n, off, live, is_dom, cand, tol, x0=None, near=None):
    """Facets from a few candidate rows, grown until every other row is proven redundant.

    The facets of the polygon of the candidate rows alone are computed; every row is
    then tested against that polygon's vertices and unbounded edges.  A row violated at
    a vertex (beyond ``tol``), or cutting an unbounded edge, cuts the polygon: the most
    violated row of each vertex and the first row each unbounded edge meets join the
    candidates.  When no row cuts it, the candidate polygon is the region.  Regions whose
    candidate polygon has a whole line as a facet, or where a row passes through a facet
    point without being coincident with the facet's row, are returned in ``full``.

    With ``near = (rows, beyond)`` (the rows nearest ``x0`` and the distance from ``x0`` of
    every other row), a bounded candidate polygon whose vertices all lie within ``beyond``
    of ``x0`` is tested against those rows only: a row farther from ``x0`` than a vertex
    holds there (``n . v + off = n . (v - x0) - dist <= |v - x0| - dist < 0``).
    """
    B, m, _ = n.shape
    parts: list[dict[str, np.ndarray]] = []
    full: list[np.ndarray] = []
    todo = np.arange(B)
    while todo.size:
        K = cand.shape[1]
        r = np.arange(len(todo))[:, None]
        tr = todo[:, None]
        ns, offs, lives = n[tr, cand], off[tr, cand], live[tr, cand]
        local = np.broadcast_to(np.arange(K), (len(todo), K))
        doms = is_dom[tr, cand]
        res = _intervals(ns, offs, lives, local, tol[todo], doms)
        facet = res["facet"]
        whole = res["whole_line"] | ~facet.any(axis=1)
        # witnesses: the finite end points of every facet and its unbounded directions
        p, u = res["p"], res["u"]
        lo, hi = res["lo"], res["hi"]
        fin_lo, fin_hi = np.isfinite(lo) & facet, np.isfinite(hi) & facet
        v = np.concatenate(
            [
                p + np.where(fin_lo, lo, 0.0)[..., None] * u,
                p + np.where(fin_hi, hi, 0.0)[..., None] * u,
            ],
            axis=1,
        )  # (b, 2K, 2)
        vmask = np.concatenate([fin_lo, fin_hi], axis=1)
        # unbounded edges: direction u from the lower end point, -u from the upper one
        ray = np.concatenate([u, -u], axis=1)
        rmask = np.concatenate([fin_lo & ~np.isfinite(hi), fin_hi & ~np.isfinite(lo)], axis=1)
        rays = rmask.any(axis=1)
        # the most violated row at every vertex: the near rows where they decide, else all
        worst = np.zeros(vmask.shape, dtype=np.int64)
        cut_v = np.zeros(vmask.shape, dtype=bool)
        sub = np.zeros(len(todo), dtype=bool)
        if near is not None and x0 is not None:
            far = np.where(vmask, np.linalg.norm(v - x0[todo][:, None, :], axis=2), 0.0)
            sub = ~rays & (far.max(axis=1) < near[1][todo])
        for grp in (np.nonzero(sub)[0], np.nonzero(~sub)[0]):
            if not grp.size:
                continue
            tg = todo[grp]
            rows = near[0][tg] if near is not None and sub[grp[0]] else None
            if rows is None:
                nt, ot, lt = n[tg], off[tg], live[tg]
            else:
                nt, ot, lt = n[tg[:, None], rows], off[tg[:, None], rows], live[tg[:, None], rows]
            vals = np.matmul(v[grp], nt.transpose(0, 2, 1)) + ot[:, None, :]
            vals = np.where(lt[:, None, :] & vmask[grp, :, None], vals, -np.inf)
            wg = np.argmax(vals, axis=2)
            cut_v[grp] = np.take_along_axis(vals, wg[..., None], axis=2)[..., 0] > tol[tg, None]
            worst[grp] = wg if rows is None else np.take_along_axis(rows, wg, axis=1)
        cut_r = np.zeros_like(rmask)
        first = np.zeros(rmask.shape, dtype=np.int64)
        rs = np.nonzero(rays)[0]
        if rs.size:  # only unbounded candidate polygons have rays (tested on every row)
            nt, ot, lt = n[todo[rs]], off[todo[rs]], live[todo[rs]]
            vr = np.matmul(v[rs], nt.transpose(0, 2, 1)) + ot[:, None, :]
            slope = np.matmul(ray[rs], nt.transpose(0, 2, 1))  # rays leave the ends v
            ahead = lt[:, None, :] & rmask[rs, :, None] & (slope > PARALLEL_TOL)
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(ahead, -vr / slope, np.inf)
            first[rs] = np.argmin(t, axis=2)
            cut_r[rs] = ahead.any(axis=2)
        new = np.zeros((len(todo), m), dtype=bool)
        rv, cv = np.nonzero(cut_v)
        new[rv, worst[rv, cv]] = True
        rr_, cr = np.nonzero(cut_r)
        new[rr_, first[rr_, cr]] = True
        inc = np.zeros((len(todo), m), dtype=bool)
        inc[r, cand] = True
        new &= ~inc
        cuts = cut_v.any(axis=1) | cut_r.any(axis=1)
        stuck = cuts & ~new.any(axis=1)
        done = ~cuts & ~whole
        if done.any():
            part = _finish_grown(res, done, cand, todo, n, off, live, is_dom, tol)
            parts.append(part[0])
            full.append(todo[done][part[1]])
        full.append(todo[(whole | stuck)])
        again = cuts & ~stuck & ~whole
        if not again.any():
            break
        need = inc[again] | new[again]
        width = int(need.sum(axis=1).max())
        nxt = np.empty((int(again.sum()), width), dtype=np.int64)
        for row, mask in enumerate(need):
            idx = np.nonzero(mask)[0]
            nxt[row, : len(idx)] = idx
            nxt[row, len(idx) :] = idx[0]
        cand = nxt
        todo = todo[again]
    empty = {key: np.zeros(0) for key in ("k", "j", "lo", "hi", "mg")}
    empty.update(q=np.zeros((0, 2)), dom=np.zeros(0, dtype=bool))
    cat = {key: np.concatenate([empty[key]] + [p[key] for p in parts]) for key in empty}
    cat["k"] = cat["k"].astype(np.int64)
    cat["j"] = cat["j"].astype(np.int64)
    return cat, np.sort(np.concatenate(full)) if full else np.zeros(0, np.int64)


def _finish_grown(res, done, cand, todo, n, off, live, is_dom, tol):
    """Facets of the finished regions with margins and coincident rows taken over all rows.

    Returns the flat columns and a mask (over ``todo[done]``) of regions to redo with
    every row: a row through a facet point that is not the facet's row repeated.
    """
    # (a padded candidate list repeats its lowest row at the end: the repeat is coincident
    # with an earlier column, so it is never a facet)
    sel = res["facet"] & done[:, None]
    rr, cc = np.nonzero(sel)
    k = todo[rr]
    j = cand[rr, cc]
    q = res["q"][rr, cc]
    # every row at every facet point, one matmul per region
    dn = np.nonzero(done)[0]
    allv = np.matmul(res["q"][dn], n[todo[dn]].transpose(0, 2, 1)) + off[todo[dn]][:, None, :]
    pos = np.full(len(todo), -1)
    pos[dn] = np.arange(len(dn))
    vals = allv[pos[rr], cc]  # (F, m)
    f = np.arange(len(k))
    tk = tol[k]
    on = live[k] & (np.abs(vals) <= tk[:, None])
    on[f, j] = False
    # rows through a facet point: the facet's row repeated, or a degenerate region
    fo, io = np.nonzero(on)
    rep_ok = (np.abs(n[k[fo], io] - n[k[fo], j[fo]]).max(axis=1) <= 1e-12) & (
        np.abs(off[k[fo], io] - off[k[fo], j[fo]]) <= tk[fo]
    )
    odd = np.zeros(len(todo), dtype=bool)
    odd[rr[fo[~rep_ok]]] = True
    vals = np.where(live[k], vals, -np.inf)
    vals[f, j] = -np.inf
    vals[fo, io] = -np.inf
    mg = -vals.max(axis=1)
    rep = j.copy()
    np.minimum.at(rep, fo[rep_ok], io[rep_ok])
    dom = is_dom[k, j].copy()
    dom[fo[rep_ok & is_dom[k[fo], io]]] = True
    keep = ~odd[rr]
    out = {
        "k": k[keep],
        "j": rep[keep],
        "lo": res["lo"][rr, cc][keep],
        "hi": res["hi"][rr, cc][keep],
        "q": q[keep],
        "mg": mg[keep],
        "dom": dom[keep],
    }
    return out, odd[done]
