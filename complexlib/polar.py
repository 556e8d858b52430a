"""Facets of a batch of polyhedra at once, through their polar bodies (3-D to 6-D inputs).

For a polyhedron ``P = {x : n_i . x + b_i <= 0}`` (unit normals) and a point ``x0``
strictly inside it, with slacks ``r_i = -(n_i . x0 + b_i) > 0``, the *polar points*
``p_i = n_i / r_i`` describe ``P`` exactly:

* a ray ``x0 + t u`` first leaves ``P`` through the row maximising ``p_i . u`` (at
  ``t = 1 / max_i p_i . u``), so that row is a facet when the maximum is positive and
  unique (up to coincident rows): *ray shooting proves facets*;
* row ``i`` is a facet iff ``p_i`` is a vertex of ``Q = conv({0} U {p_i})``; ``P`` is
  bounded iff ``0`` lies in the interior of ``Q``; a facet of ``Q`` not through ``0``
  with outer normal ``u`` and offset ``c`` is the vertex ``x0 + u / c`` of ``P``, and
  one through ``0`` is an extreme ray ``u`` of ``P``'s recession cone.

The kernel shoots a fixed set of directions from every region's centre at once, builds
the hull of the proven vertices (and ``0``) by testing every ``d``-subset as a
supporting hyperplane (array operations over the whole batch, regions grouped by their
number of proven vertices), and checks every other polar point against that hull.  A
point outside a hull facet is found by shooting along that facet's normal, which proves
a new vertex; when nothing is outside, the hull is ``Q`` and the proven vertices are
exactly the facets.  Every decision has a relative margin; a region where a decision
falls inside the tolerance (ties, coplanar proven points, a facet point too near
another row, too many subsets) is left *undecided* for the careful per-region path
(qhull, then LPs) of :func:`complexlib.geometry.region_geometry`.

Regions whose polar points do not span R^d (a lineality space) are solved in the span.
The subsets grow as ``C(K, d)``, so from rank 4 on the hull of ``Q`` comes from one
qhull call per region instead, everything around it still batched (search regions per
CPU-second against the per-region path: 4-D 5.1k against 1.6k, 5-D 4.0k against 1.6k,
6-D 1.8k against 1.2k; against the subsets in 4-D 5.1k against 2.8k, in 3-D about
equal; from 7-D the padded hull arrays cost more than they save).  qhull is called
through scipy's ``_Qhull`` without the ``ConvexHull`` wrapper, which took a fifth of a
5-D region's hull time and, with the per-region padding it replaced, made batches of
4-D regions 1.6x slower.  In 3-D the subset hulls of regions with similar vertex counts
are built in one call (``K_CLASSES``): the call count, not the arithmetic, is what a
batch of a few hundred regions pays for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from math import comb

import numpy as np

from .reductions import row_max

__all__ = ["PolarFacets", "polar_facets", "POLAR_MAX_DIM"]

#: the largest input dimension the kernel is used for
POLAR_MAX_DIM = 6
#: up to this rank the hull is found by testing subsets; above, by qhull per region
SUBSET_MAX_DIM = 3
#: relative tolerance of decisions in the polar (against the largest polar point)
HULL_RTOL = 1e-10
#: most ``d``-subsets tested for one region's hull; regions with more are undecided
MAX_SUBSETS = 12_000
#: bound on ``regions x subsets x points`` of one array operation (memory)
CHUNK = 1 << 22
#: upper ends of the classes of proven-vertex counts whose hulls are built in one call
#: (a region's points padded with copies of 0 up to the largest count of its class):
#: fewer array calls per batch against a little padding
K_CLASSES = (5, 8, 11, 15, 20, 27, 36, 48, 64, 1 << 30)
#: classes with fewer regions than this join the next class (see ``K_CLASSES``)
MIN_CLASS = 16
#: rounds of "find the points outside, shoot along the facet normals"
MAX_ROUNDS = 12
#: rounding allowance (times the region's scale) in the test that picks the rows compared
#: with a facet's row for coincidence
SAME_SLACK = 1e-9


@dataclass
class PolarFacets:
    """Facets of a batch of polyhedra, flattened (CSR by region, rows increasing).

    Regions with ``decided[k]`` False have no facets listed and must be handled otherwise.
    """

    ptr: np.ndarray  # (B+1,)
    row: np.ndarray  # (F,) representative row (lowest index of coincident rows)
    has_domain_row: np.ndarray  # (F,) bool, a row >= n_neuron_rows defines the facet
    point: np.ndarray  # (F, d) a point in the facet's relative interior
    margin: np.ndarray  # (F,) distance from the point to every other row
    bounded: np.ndarray  # (B,) bool
    decided: np.ndarray  # (B,) bool


@lru_cache(maxsize=16)
def _directions(d: int) -> np.ndarray:
    """Fixed, well spread unit directions: the axes both ways and seeded random ones."""
    rng = np.random.default_rng(12345 + d)
    U = rng.standard_normal((max(8 * d, 24), d))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    return np.vstack([np.eye(d), -np.eye(d), U])


def _shoot(P, live, U, tol):
    """The proven facet hit along each direction ``U[b, k]`` (or -1) and its value.

    Returns ``(row, ambiguous)``: ``row[b, k]`` is the unique maximiser of ``p . u``
    (coincident polar points count as one) when the maximum exceeds ``tol`` and beats the
    next point by more than ``tol``; ``ambiguous[b, k]`` marks a positive maximum that is
    not unique.
    """
    val = np.matmul(U, P.transpose(0, 2, 1))
    val = np.where(live[:, None, :], val, -np.inf)
    m = val.shape[2]
    if m == 1:
        best = np.zeros(val.shape[:2], dtype=np.int64)
        vmax = val[:, :, 0]
        second = np.full_like(vmax, -np.inf)
    else:  # the largest two: argmax, then the max without it (3x faster than a partition)
        best = np.argmax(val, axis=2)
        flat = val.reshape(-1, m)  # a view: ``val`` is a fresh array
        at = np.arange(flat.shape[0]), best.ravel()
        vmax = flat[at].reshape(best.shape)
        flat[at] = -np.inf
        second = row_max(val)
        flat[at] = vmax.ravel()
    tolk = tol[:, None]
    proper = vmax > tolk
    close = proper & (vmax - second <= tolk)
    ambiguous = np.zeros_like(proper)
    if close.any():  # ties: fine only when every tied point is the same polar point
        bb, kk = np.nonzero(close)
        pb = P[bb, best[bb, kk]]  # (T, d)
        tied = val[bb, kk] >= vmax[bb, kk, None] - tolk[bb]
        same = np.linalg.norm(P[bb] - pb[:, None, :], axis=2) <= tol[bb, None]
        ambiguous[bb, kk] = np.any(tied & ~same, axis=1)
    row = np.where(proper & ~ambiguous, best, -1)
    return row, ambiguous


def _hull(S, tol, n_real=None):
    """Supporting hyperplanes through ``d``-subsets of the points ``S`` (Bk, K, d).

    With ``n_real`` (Bk,), only ``S[k, :n_real[k]]`` are a region's points and the rest
    copies of ``S[k, 0]`` (padding): subsets holding one are not counted.  Returns
    ``(normal, offset, valid, flat, flat_normal)``: unit outer normals and offsets
    (``normal . y <= offset`` on every point) of each subset, whether it supports the
    set, and for each region whether every point lies on one hyperplane (no full hull
    yet), with that hyperplane's normal.
    """
    Bk, K, d = S.shape
    idx = _subsets(K, d)  # (C, d)
    Y = S[:, idx]  # (Bk, C, d, d)
    M = Y[:, :, 1:] - Y[:, :, :1]  # (Bk, C, d-1, d)
    if d == 3:  # the cross product, written out (np.cross costs more on small stacks)
        a, c = M[:, :, 0], M[:, :, 1]
        normal = np.stack(
            [
                a[..., 1] * c[..., 2] - a[..., 2] * c[..., 1],
                a[..., 2] * c[..., 0] - a[..., 0] * c[..., 2],
                a[..., 0] * c[..., 1] - a[..., 1] * c[..., 0],
            ],
            axis=2,
        )
    elif d == 2:
        normal = np.stack([M[:, :, 0, 1], -M[:, :, 0, 0]], axis=2)
    else:  # higher ranks go to qhull (SUBSET_MAX_DIM)
        raise ValueError(f"subset hulls are for ranks 2 and 3, not {d}")
    size = np.sqrt(np.einsum("bck,bck->bc", normal, normal))
    hadamard = np.sqrt(np.einsum("bcjk,bcjk->bcj", M, M)).prod(axis=2)
    independent = size > 1e-9 * hadamard
    if n_real is not None:
        independent &= idx[:, -1][None, :] < n_real[:, None]
    normal /= np.where(independent, size, 1.0)[:, :, None]
    offset = np.einsum("bck,bck->bc", normal, Y[:, :, 0])
    # points along axis 1: the reductions then run over contiguous rows of subsets
    side = np.matmul(S, normal.transpose(0, 2, 1)) - offset[:, None, :]  # (Bk, K, C)
    tolk = tol[:, None]
    below = side.max(axis=1) <= tolk
    above = side.min(axis=1) >= -tolk
    on = independent & below & above
    flat = on.any(axis=1)
    flat_normal = normal[np.arange(Bk), np.argmax(on, axis=1)]
    sign = np.where(above & ~below, -1.0, 1.0)
    normal *= sign[:, :, None]
    offset *= sign
    valid = independent & (below | above)
    return normal, offset, valid, flat, flat_normal


@lru_cache(maxsize=128)
def _subsets(K: int, d: int) -> np.ndarray:
    """Every ``d``-subset of ``range(K)``, in lexicographic order: ``(C(K, d), d)``."""
    idx = np.array(list(combinations(range(K), d)), dtype=np.int64).reshape(-1, d)
    idx.flags.writeable = False
    return idx


@lru_cache(maxsize=16)
def _max_count(r: int) -> int:
    """The most proven points whose ``C(K + 1, r)`` subsets stay within ``MAX_SUBSETS``."""
    K = r
    while comb(K + 2, r) <= MAX_SUBSETS:
        K += 1
    return K


def _compress(g, normal, offset, valid):
    """The supporting hyperplanes of each region packed to the left: (g, n, c, mask)."""
    order = np.argsort(~valid, axis=1, kind="stable")
    h = int(valid.sum(axis=1).max())
    order = order[:, :h]
    r = np.arange(len(g))[:, None]
    return g, normal[r, order], offset[r, order], valid[r, order]


def _grow(P, live, tol, found, decided, g, U):
    """Shoot the directions ``U`` (len(g), k, r) from regions ``g``; mark new vertices.

    Regions that gain no vertex are marked undecided; returns those that gained one.
    """
    nrm = np.linalg.norm(U, axis=2, keepdims=True)
    U = U / np.where(nrm > 1e-6, nrm, np.inf)  # directions inside the span shoot nothing
    row, _ = _shoot(P[g], live[g], U, tol[g])
    rr, cc = np.nonzero(row >= 0)
    before = found[g].sum(axis=1)
    found[g[rr], row[rr, cc]] = True
    grew = found[g].sum(axis=1) > before
    decided[g[~grew]] = False
    return g[grew]


def _vertices(P, live, tol, decided):
    """Vertices of ``Q`` (proven by shooting) and its supporting hyperplanes.

    ``P`` (B, m, r) are polar points spanning R^r (``r >= 2``).  Returns ``found``
    (B, m), padded hyperplanes ``Hn`` (B, H, r), ``Hc`` (B, H), ``Hv`` (B, H) and
    ``decided`` with the regions left undecided cleared.
    """
    B, m, r = P.shape
    decided = decided.copy()
    U0 = _directions(r)
    found = np.zeros((B, m), dtype=bool)
    row, _ = _shoot(P, live, np.broadcast_to(U0, (B,) + U0.shape), tol)
    bi = np.repeat(np.arange(B), row.shape[1])
    hit = row.ravel() >= 0
    found[bi[hit], row.ravel()[hit]] = True
    hulls: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    todo = np.nonzero(decided)[0]
    for _ in range(MAX_ROUNDS):
        if todo.size == 0:
            break
        counts = found[todo].sum(axis=1)
        next_todo: list[np.ndarray] = []
        over = counts > _max_count(r)
        decided[todo[over]] = False
        few = counts < r
        for K in np.unique(counts[few & ~over]):  # too few to span: shoot across their span
            grp = todo[few & (counts == K)]
            verts = np.nonzero(found[grp])[1].reshape(len(grp), int(K))
            U = np.broadcast_to(U0, (len(grp),) + U0.shape)
            if K:
                Qb = np.linalg.qr(P[grp[:, None], verts].transpose(0, 2, 1))[0]
                U = U - np.matmul(np.matmul(U, Qb), Qb.transpose(0, 2, 1))
            next_todo.append(_grow(P, live, tol, found, decided, grp, U))
        cls = _merge_small_classes(np.searchsorted(K_CLASSES, counts), ~few & ~over)
        for c in np.unique(cls[~few & ~over]):
            sel = ~few & ~over & (cls == c)
            grp, kg = todo[sel], counts[sel]
            K = int(kg.max())
            step = max(1, CHUNK // (comb(K + 1, r) * (K + 1)))
            for lo in range(0, len(grp), step):
                g, kk = grp[lo : lo + step], kg[lo : lo + step]
                # the proven points first, then copies of 0 up to K
                verts = np.argsort(~found[g], axis=1, kind="stable")[:, :K]
                real = np.arange(K)[None, :] < kk[:, None]
                pts = np.where(real[..., None], P[g[:, None], verts], 0.0)
                S = np.concatenate([np.zeros((len(g), 1, r)), pts], axis=1)
                normal, offset, valid, flat, fn = _hull(S, tol[g], kk + 1)
                if flat.any():  # all on one hyperplane through 0: shoot off it both ways
                    U = np.stack([fn[flat], -fn[flat]], axis=1)
                    next_todo.append(_grow(P, live, tol, found, decided, g[flat], U))
                decided[g[~flat & ~valid.any(axis=1)]] = False
                valid &= ~flat[:, None]
                # every polar point against every supporting hyperplane (packed to the left:
                # a few of the C(K+1, r) subsets support the set)
                _, normal, offset, valid = _compress(g, normal, offset, valid)
                viol = np.matmul(normal, P[g].transpose(0, 2, 1)) - offset[:, :, None]
                out = valid[:, :, None] & live[g][:, None, :] & (viol > tol[g, None, None])
                redo = out.any(axis=(1, 2)) & decided[g]
                done = ~redo & decided[g] & ~flat
                if done.any():
                    hulls.append((g[done], normal[done], offset[done], valid[done]))
                if not redo.any():
                    continue
                # shoot along the normals of the hyperplanes that leave points outside
                rr, cc = np.nonzero(out.any(axis=2) & redo[:, None])
                width = int(np.bincount(rr).max())
                Ud = np.zeros((len(g), width, r))
                slot = np.arange(len(rr)) - np.searchsorted(rr, rr)
                Ud[rr, slot] = normal[rr, cc]
                used = np.zeros((len(g), width), dtype=bool)
                used[rr, slot] = True
                new, amb = _shoot(P[g], live[g], Ud, tol[g])
                bad = np.any(used & (amb | (new < 0)), axis=1)
                decided[g[bad]] = False
                r2, c2 = np.nonzero(used & ~bad[:, None])
                found[g[r2], new[r2, c2]] = True
                next_todo.append(g[redo & ~bad])
        todo = np.sort(np.concatenate(next_todo)) if next_todo else np.zeros(0, np.int64)
    decided[todo] = False
    return (found & decided[:, None], *_pad_hulls(hulls, B, r), decided)


def _merge_small_classes(cls: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``cls`` with each class of fewer than ``MIN_CLASS`` regions (among ``mask``) moved up
    into the next class present: a call per class costs more than padding a few regions."""
    cls = cls.copy()
    u, n = np.unique(cls[mask], return_counts=True)
    for i in range(len(u) - 1):
        if n[i] < MIN_CLASS:
            cls[mask & (cls == u[i])] = u[i + 1]
            n[i + 1] += n[i]
    return cls


def _pad_hulls(hulls, B, r):
    """``(regions, normals, offsets, mask)`` pieces as arrays ``(B, H, r), (B, H), (B, H)``."""
    H = max((h[1].shape[1] for h in hulls), default=0)
    Hn = np.zeros((B, H, r))
    Hc = np.ones((B, H))
    Hv = np.zeros((B, H), dtype=bool)
    for g, nn, cc, vv in hulls:
        Hn[g, : nn.shape[1]], Hc[g, : nn.shape[1]], Hv[g, : nn.shape[1]] = nn, cc, vv
    return Hn, Hc, Hv


def _vertices_qhull(P, live, tol, decided):
    """As :func:`_vertices`, with qhull computing each region's hull (rank 4 and up).

    The subsets of :func:`_vertices` grow as ``C(K, r)``; qhull's cost grows gently, so
    from rank 4 on one qhull call per region (and everything around it batched) is faster.
    """
    from scipy.spatial import QhullError

    B, m, r = P.shape
    decided = decided.copy()
    found = np.zeros((B, m), dtype=bool)
    hull = _qhull_hull()
    ks: list[int] = []
    eqs: list[np.ndarray] = []
    S = np.zeros((m + 1, r))
    for k in np.flatnonzero(decided):
        rows = np.flatnonzero(live[k])
        S[1 : len(rows) + 1] = P[k, rows]
        try:
            simplices, e = hull(S[: len(rows) + 1])
        except QhullError:
            decided[k] = False
            continue
        on = np.zeros(len(rows) + 1, dtype=bool)
        on[simplices.ravel()] = True
        found[k, rows[on[1:]]] = True
        ks.append(int(k))
        eqs.append(e)  # n . y + off <= 0 inside
    H = max((len(e) for e in eqs), default=0)
    Hn, Hc, Hv = np.zeros((B, H, r)), np.ones((B, H)), np.zeros((B, H), dtype=bool)
    if eqs:
        cnt = np.array([len(e) for e in eqs])
        E = np.concatenate(eqs)
        kk = np.repeat(ks, cnt)
        slot = np.arange(len(E)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        Hn[kk, slot], Hc[kk, slot], Hv[kk, slot] = E[:, :-1], -E[:, -1], True
    return (found & decided[:, None], Hn, Hc, Hv, decided)


@lru_cache(maxsize=1)
def _qhull_hull():
    """``hull(S) -> (simplices, equations)``: qhull's convex hull of the points ``S``.

    The options are :class:`scipy.spatial.ConvexHull`'s defaults (``Qt``, and ``Qx`` from
    5-D on); the call goes to scipy's ``_Qhull`` directly, without the wrapper's vertex
    and neighbour bookkeeping (~20 us of ~100 us a 5-D region).  Where that private class
    is missing or has changed, the public class is used.
    """
    from scipy.spatial import ConvexHull

    def public(S):
        h = ConvexHull(S)
        return h.simplices, h.equations

    try:
        from scipy.spatial import _qhull

        def direct(S):
            q = _qhull._Qhull(b"i", S, b"Qx" if S.shape[1] >= 5 else b"", required_options=b"Qt")
            try:
                simplices, _, equations, _, _ = q.get_simplex_facet_array()
            finally:
                q.close()
            return simplices, equations

        probe = np.vstack([np.zeros((1, 4)), np.eye(4)])
        got, want = direct(probe), public(probe)
        if sorted(map(sorted, got[0].tolist())) == sorted(map(sorted, want[0].tolist())):
            return direct
    except Exception:  # noqa: BLE001 - any change of the private API: the public class
        pass
    return public


def _offsets(found, Hn, Hc, Hv, P, tol):
    """For each vertex ``p_j`` of ``Q``: a point of facet ``j`` relative to ``x0``.

    The mean of the facet's vertices (the hyperplanes of ``Q`` through ``p_j`` and not
    through ``0``) plus the unit sum of its rays (those through ``0``).  Returns
    ``(order, vmask, y, ray, lacking)`` padded by region: ``order`` (B, K) the rows,
    ``lacking`` (B,) regions where some facet showed no vertex.
    """
    B = found.shape[0]
    K = int(found.sum(axis=1).max(initial=0))
    order = np.argsort(~found, axis=1, kind="stable")[:, :K]
    r = np.arange(B)[:, None]
    vmask = found[r, order]
    pk = P[r, order]
    inc = np.abs(np.matmul(pk, Hn.transpose(0, 2, 1)) - Hc[:, None, :]) <= tol[:, None, None]
    inc &= Hv[:, None, :] & vmask[:, :, None]
    fin = Hv & (Hc > tol[:, None])
    incf = inc & fin[:, None, :]
    cnt = incf.sum(axis=2)
    lacking = np.any(vmask & (cnt == 0), axis=1)
    vert = Hn / np.where(fin, Hc, 1.0)[:, :, None]  # vertices of P relative to x0
    y = np.matmul(incf.astype(np.float64), vert) / np.maximum(cnt, 1)[..., None]
    ray = np.matmul((inc & ~fin[:, None, :]).astype(np.float64), Hn)
    rn = np.linalg.norm(ray, axis=2)
    ray = ray / np.where(rn > 0, rn, 1.0)[..., None]
    return order, vmask, y, ray, lacking


def _line(P, live, tol):
    """Rank one: the polar points on a line; facets are the extreme positive/negative ones."""
    B, m, _ = P.shape
    v = np.where(live, P[:, :, 0], np.nan)
    out = []
    for sign in (1.0, -1.0):
        w = np.where(live, sign * P[:, :, 0], -np.inf)
        best = np.argmax(w, axis=1)
        top = w[np.arange(B), best]
        same = np.abs(v - v[np.arange(B), best][:, None]) <= tol[:, None]
        tied = np.any((w >= top[:, None] - tol[:, None]) & ~same, axis=1)
        out.append((best, top > tol[:, None][:, 0], tied))
    (hi, has_hi, tie_hi), (lo, has_lo, tie_lo) = out
    ok = ~((has_hi & tie_hi) | (has_lo & tie_lo))
    order = np.stack([hi, lo], axis=1)
    vmask = np.stack([has_hi, has_lo], axis=1) & ok[:, None]
    with np.errstate(divide="ignore"):
        y = (1.0 / np.where(vmask, P[np.arange(B)[:, None], order, 0], 1.0))[..., None]
    return order, vmask, y, np.zeros_like(y), ~ok


def polar_facets(
    A: np.ndarray,
    b: np.ndarray,
    x0: np.ndarray,
    n_neuron_rows: int,
    scale: np.ndarray,
    rtol: float,
) -> PolarFacets:
    """Facets of the polyhedra ``A[k] x + b[k] <= 0`` of a batch, given interior points.

    Parameters
    ----------
    A : (B, m, d) rows; rows with zero norm are constant and ignored (they must hold).
    b : (B, m)
    x0 : (B, d) points strictly inside, well centred (e.g. analytic centres).
    n_neuron_rows : rows at or above this index are domain sides.
    scale : (B,) length scale of each region (``1 + |x|`` of a point in it).
    rtol : relative distance below which a facet point is too near another row.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1],
    ...                [0, 0, -1], [1, 1, 1]]])
    >>> f = polar_facets(A, np.array([[-1.0] * 6 + [-5.0]]), np.zeros((1, 3)), 7,
    ...                  np.ones(1), 1e-11)
    >>> f.row.tolist(), f.bounded.tolist(), f.decided.tolist()
    ([0, 1, 2, 3, 4, 5], [True], [True])
    """
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    B, m, d = A.shape
    nrm = np.linalg.norm(A, axis=2)
    live = nrm > 0
    safe = np.where(live, nrm, 1.0)
    n = A / safe[:, :, None]
    off = b / safe
    slack = -(np.einsum("bmd,bd->bm", n, x0) + off)
    decided = np.all(~live | (slack > rtol * scale[:, None]), axis=1)
    use = (live & decided[:, None])[:, :, None]
    P = np.where(use, n / np.where(live, slack, 1.0)[..., None], 0.0)
    tol = HULL_RTOL * np.linalg.norm(P, axis=2).max(axis=1, initial=0.0)
    # the polar points span the orthogonal complement of the region's lineality space
    sv = np.linalg.svd(P, compute_uv=False) if m else np.zeros((B, 0))
    rank = np.sum(sv > 1e-12 * sv[:, :1], axis=1) if m else np.zeros(B, dtype=np.int64)
    bounded = np.zeros(B, dtype=bool)
    parts = []
    for r in np.unique(rank[decided]):
        g = np.nonzero(decided & (rank == r))[0]
        if r == 0:  # no row bounds the region
            continue
        if r < d:
            basis = np.linalg.svd(P[g], full_matrices=False)[2][:, :r]  # (g, r, d)
            Pr = np.matmul(P[g], basis.transpose(0, 2, 1))
        else:
            basis, Pr = None, P[g]
        if r == 1:
            order, vmask, y, ray, bad = _line(Pr, live[g], tol[g])
        else:
            vertices = _vertices if r <= SUBSET_MAX_DIM else _vertices_qhull
            found, Hn, Hc, Hv, ok = vertices(Pr, live[g], tol[g], np.ones(len(g), dtype=bool))
            order, vmask, y, ray, lacking = _offsets(found, Hn, Hc, Hv, Pr, tol[g])
            bad = lacking | ~ok
            if r == d:
                bounded[g] = ok & np.all(~Hv | (Hc > tol[g, None]), axis=1)
        if basis is not None:
            y, ray = np.matmul(y, basis), np.matmul(ray, basis)
        decided[g[bad]] = False
        bounded[g[bad]] = False
        keep = ~bad
        parts.append((g[keep], order[keep], vmask[keep], y[keep], ray[keep]))
    k_all, j_all, q_all, m_all, d_all = _facet_points(
        parts, P, n, off, live, x0, tol, scale, rtol, n_neuron_rows, decided, bounded
    )
    ptr = np.zeros(B + 1, dtype=np.int64)
    np.cumsum(np.bincount(k_all, minlength=B), out=ptr[1:])
    return PolarFacets(
        ptr=ptr,
        row=j_all.astype(np.int64),
        has_domain_row=d_all,
        point=q_all.reshape(-1, d),
        margin=m_all,
        bounded=bounded,
        decided=decided,
    )


def _facet_points(parts, P, n, off, live, x0, tol, scale, rtol, n_rows, decided, bounded):
    """Facets of the decided regions, each with a point inside it (flattened, sorted).

    A facet's point is ``x0 + y`` pushed out along its rays as far as it is from the
    origin, projected onto its hyperplane; regions where a point lies within
    ``rtol * scale`` of another row are marked undecided (in place).
    """
    B, m, d = P.shape
    cols = ("k", "j", "q", "margin", "dom")
    acc: dict[str, list[np.ndarray]] = {c: [] for c in cols}
    for ks, order, vmask, y, ray in parts:
        if len(ks) == 0:
            continue
        xk = x0[ks][:, None, :]
        has = np.linalg.norm(ray, axis=2) > 0
        reach = 1.0 + np.linalg.norm(y, axis=2) + np.linalg.norm(xk + y, axis=2)
        q = xk + y + ray * (reach * has)[..., None]
        r = ks[:, None]
        nk, ok_ = n[r, order], off[r, order]
        q = q - ((nk * q).sum(axis=2) + ok_)[..., None] * nk
        pk = P[r, order]
        vals = np.matmul(q, n[ks].transpose(0, 2, 1)) + off[ks][:, None, :]
        # rows coincident with a facet's row (polar points within tol) nearly hold on its
        # hyperplane: with slacks s_j, s_k, |P_j - P_k| <= tol gives |s_j - s_k| <= tol s_j
        # s_k and |n_j - n_k| <= 2 tol s_j, so at the facet point q the row's value is at
        # most tol s_k (2 |q - x0| + s_k) (doubled here, plus rounding); only those rows
        # are compared in the polar
        lk = live[ks][:, None, :]
        pn = np.linalg.norm(pk, axis=2)
        sk = np.where(vmask & (pn > 0), 1.0 / np.where(pn > 0, pn, 1.0), 0.0)  # pads: none
        reach_q = 2.0 * tol[ks][:, None] * sk * (2.0 * np.linalg.norm(q - xk, axis=2) + sk)
        thr = reach_q + SAME_SLACK * scale[ks][:, None]
        maybe = lk & (np.abs(vals) <= thr[:, :, None])
        same = np.zeros(vals.shape, dtype=bool)
        bi, vi, mi = np.nonzero(maybe)
        if bi.size:
            gap = np.linalg.norm(P[ks[bi], mi] - pk[bi, vi], axis=1)
            same[bi, vi, mi] = gap <= tol[ks[bi]]
        vals = np.where(same | ~lk, -np.inf, vals)
        margin = -row_max(vals)
        near = np.any(vmask & (margin <= rtol * scale[ks][:, None]), axis=1)
        decided[ks[near]] = False
        bounded[ks[near]] = False
        rr, cc = np.nonzero(vmask & ~near[:, None])
        acc["k"].append(ks[rr])
        acc["j"].append(np.argmax(same, axis=2)[rr, cc])  # lowest coincident row
        acc["q"].append(q[rr, cc])
        acc["margin"].append(margin[rr, cc])
        acc["dom"].append(np.any(same[:, :, n_rows:], axis=2)[rr, cc])
    if not acc["k"]:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros((0, d)), np.zeros(0), np.zeros(0, dtype=bool)
    k_all, rep = np.concatenate(acc["k"]), np.concatenate(acc["j"])
    order = np.lexsort((rep, k_all))
    k_all, rep = k_all[order], rep[order]
    first = np.ones(len(k_all), dtype=bool)  # coincident rows found twice appear once
    first[1:] = (k_all[1:] != k_all[:-1]) | (rep[1:] != rep[:-1])
    pick = order[first]
    return (
        k_all[first],
        rep[first],
        np.concatenate(acc["q"])[pick],
        np.concatenate(acc["margin"])[pick],
        np.concatenate(acc["dom"])[pick],
    )
