"""Local search over facet crossings (breadth first), batch by batch.

The search keeps a FIFO frontier of discovered regions.  Region ids are
given at discovery, so processing in FIFO order processes them in id order:
after ``n`` regions are processed the complex is regions ``0..n-1`` and the
frontier is the rest.  A batch of frontier patterns goes through
:func:`process_batch`, a pure function of arrays (what parallel workers
run), which returns for each region its Chebyshev ball, boundedness, its
neuron facets and, for each facet, the pattern of the region across it,
read from the network at a point just across the facet and checked to lie
in a region whose closure holds the facet point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .exceptions import DegenerateGeometryError
from .geometry import (
    RTOL,
    _halfspaces_from_maps,
    affine_maps,
    analytic_centers,
    region_geometry,
)
from .network import ReLUNetwork
from .patterns import _forward, _forward_np, pack, patterns_of, resolve_device
from .planar import planar_facets
from .polar import POLAR_MAX_DIM, polar_facets
from .reductions import row_max

__all__ = ["BatchResult", "process_batch", "start_point", "crossing_check"]

#: How many times the step across a facet is shrunk before giving up.
MAX_SHRINK = 14
#: then the steps tried longer than the first (multiples of it: a quarter of the facet
#: point's margin), for facets too thin for a quarter-margin step to clear their own row
GROW_STEPS = (2.0, 2.5, 3.0, 3.6, 6.0, 16.0)
#: last, steps off the facet's Chebyshev centre, as fractions of its inscribed radius
CENTRE_STEPS = (0.25, 0.4, 0.5, 0.6, 0.75, 0.1)
#: Newton steps towards each region's analytic centre: the kernels need a point well
#: inside, not the centre itself (8 steps: 30-35% less search time in 3-D than 30, with
#: the same regions decided by the batched kernel); ``CENTRE_ITERS_LOW`` up to 3-D (4
#: steps: 7-13% less search time than 8 on seven 3-D networks, identical stores)
CENTRE_ITERS = 8
CENTRE_ITERS_LOW = 4
#: the analytic centres are taken over the rows nearest the start point only (at most this
#: many; :func:`complexlib.geometry.analytic_centers` checks the rest and redoes misses)
CENTRE_ROWS: int | None = 48


@dataclass
class BatchResult:
    """Per-batch results as flat arrays (no Python object per region)."""

    center: np.ndarray  # (B, d)
    inradius: np.ndarray  # (B,)
    bounded: np.ndarray  # (B,) bool
    n_domain_facets: np.ndarray  # (B,) int32
    facet_ptr: np.ndarray  # (B+1,) int64 into the facet arrays
    facet_neuron: np.ndarray  # (F,) int32, lowest neuron index of each facet
    neighbor_bits: np.ndarray  # (F, nbytes) uint8, packed pattern across each facet
    neighbor_point: np.ndarray  # (F, d) a point inside the neighbour


def _pull_in(A: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Points of the regions ``A x + b <= 0`` no farther out than their boundary requires.

    A point handed down across an unbounded facet lies far out along it, and the next one
    farther still: a chain of unbounded regions drifts their points to ``|x| ~ 1e5`` while
    their small facets lie near the origin, where from so far the polar kernel's relative
    tolerance cannot tell a 1e-4 facet from a redundant row (seen once in a million 3-D
    regions).  Each point moves towards the origin, to the first row it meets (``T``, in the
    region's closure; the origin itself if none), and then back out to
    ``1 + |T| / 2`` from ``T``: strictly inside by convexity, near the region's features.

    Examples
    --------
    >>> A = np.array([[[-1.0, 0.0, 0.0]]])                  # x >= 1
    >>> _pull_in(A, np.array([[1.0]]), np.array([[1e5, 0.0, 0.0]])).round(6).tolist()
    [[2.5, 0.0, 0.0]]
    """
    slack = -(np.einsum("bmd,bd->bm", A, x) + b)
    rate = np.einsum("bmd,bd->bm", A, -x)  # d/dt of the rows along x + t (0 - x)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -row_max(np.where(rate > 0, -slack / rate, -np.inf))
    t = np.clip(t, 0.0, 1.0)  # a point not strictly inside (t <= 0) stays where it is
    target = x * (1.0 - t)[:, None]
    gap = np.linalg.norm(x - target, axis=1)
    keep = 1.0 + 0.5 * np.linalg.norm(target, axis=1)
    s = np.where(gap > keep, keep / np.where(gap > 0, gap, 1.0), 1.0)
    out = target + (x - target) * s[:, None]
    # rounding must not put a point outside or onto a row: keep the old point there (rows
    # with no linear part are the same everywhere)
    live = np.any(A != 0, axis=2)
    moved = -(np.einsum("bmd,bd->bm", A, out) + b) > 0.5 * s[:, None] * slack
    ok = np.all(moved & (slack > 0) | ~live, axis=1)
    return np.where(ok[:, None], out, x)


def _scale(x: np.ndarray) -> np.ndarray:
    return 1.0 + np.linalg.norm(np.atleast_2d(x), axis=-1)


def _local_halfspaces(
    net: ReLUNetwork, x: np.ndarray, device: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Patterns read at ``x`` and their regions' rows scaled to unit norm.

    Returns ``(s, An, bn, live)``; rows constant on the region (``live`` False) are zero.
    """
    s = patterns_of(net, x, device)
    Z, _, bound = affine_maps(net, s, device)
    A, b = _halfspaces_from_maps(Z, bound, s)
    nrm = np.linalg.norm(A, axis=2)
    live = nrm > 0
    safe = np.where(live, nrm, 1.0)
    return s, A / safe[:, :, None], b / safe, live


def generic_margin(
    net: ReLUNetwork, x: np.ndarray, device: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Patterns of ``x`` and each point's distance to its nearest (local) hyperplane.

    Neurons that are constant on the point's region do not count.
    """
    s, An, bn, live = _local_halfspaces(net, x, device)
    dist = np.where(live, -(np.einsum("bnd,bd->bn", An, x) + bn), np.inf)
    return s, dist.min(axis=1) if dist.shape[1] else np.full(len(x), np.inf)


def start_point(
    net: ReLUNetwork,
    dom_A: np.ndarray,
    dom_b: np.ndarray,
    x: np.ndarray,
    seed: int = 0,
    device: Any = None,
) -> np.ndarray:
    """Move ``x`` off every hyperplane (and into the domain's interior) if needed."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=np.float64).reshape(1, -1)
    step = 1e-6 * float(_scale(x)[0])
    for _ in range(60):
        _, m = generic_margin(net, x, device)
        inside = dom_A.shape[0] == 0 or np.all(x @ dom_A.T + dom_b < -RTOL * _scale(x))
        if m[0] > 1e3 * RTOL * _scale(x)[0] and inside:
            return x[0]
        x = x + step * rng.standard_normal(x.shape)
        step *= 1.5
    raise DegenerateGeometryError(
        "could not find a start point off the network's hyperplanes inside the domain; "
        "pass start= explicitly"
    )


def crossing_check(
    net: ReLUNetwork,
    q: np.ndarray,
    x: np.ndarray,
    dom_A: np.ndarray,
    dom_b: np.ndarray,
    device: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Patterns read at ``x`` and whether each is the region across the facet at ``q``.

    ``ok[i]`` holds when ``x[i]`` is off every hyperplane of its region (by a
    relative margin), strictly inside the domain, and ``q[i]`` lies in the
    closure of that region: then the open segment ``(q, x]`` lies in it, so
    it is the unique region just across the facet at ``q``.
    """
    s, An, bn, live = _local_halfspaces(net, x, device)
    vx = np.einsum("bnd,bd->bn", An, x) + bn
    vq = np.einsum("bnd,bd->bn", An, q) + bn
    sx = _scale(x)[:, None]
    gen = np.all(~live | (vx < -10 * RTOL * sx), axis=1)
    clo = np.all(~live | (vq <= RTOL * sx), axis=1)
    ok = gen & clo
    if dom_A.shape[0]:
        ok &= np.all(x @ dom_A.T + dom_b < -RTOL * sx, axis=1)
    return s, ok


def process_batch(
    net: ReLUNetwork,
    patterns: np.ndarray,
    hints: np.ndarray,
    dom_A: np.ndarray,
    dom_b: np.ndarray,
    lp: str = "highs",
    device: Any = None,
    method: str = "auto",
) -> BatchResult:
    """Geometry and neighbours of a batch of regions.

    Parameters
    ----------
    net : ReLUNetwork
    patterns : (B, n_neurons) int8 patterns of the regions.
    hints : (B, d) a point inside each region (sets the problem's scale).
    dom_A, dom_b : the domain's constraints ``dom_A x + dom_b <= 0``.
    lp : LP backend.
    device : torch device for the batched steps.
    method : how facets are decided: ``"auto"`` (the vectorised 2-D kernel
        :mod:`complexlib.planar` for 2-D inputs and the batched polar kernel
        :mod:`complexlib.polar` for 3-D to ``POLAR_MAX_DIM``-D, which need no LP and
        leave the Chebyshev balls as NaN to be computed on demand; qhull in the polar
        per region up to 9-D; LPs above), ``"planar"``, ``"polar"``, ``"hull"`` or
        ``"lp"``.
    """
    B, N = patterns.shape
    d = net.input_dim
    Z, _, bound = affine_maps(net, patterns, device)
    A, b = _halfspaces_from_maps(Z, bound, patterns)
    if method == "planar" and d != 2:
        raise ValueError(f"the planar facet method needs 2-D inputs, this network takes {d}")
    Afull, bfull = _with_domain(A, b, dom_A, dom_b)
    if d == 2 and method in ("auto", "planar"):
        facets = _planar_facets(Afull, bfull, hints, N)
        return _finish(net, patterns, Afull, bfull, facets, dom_A, dom_b, device)
    center = np.full((B, d), np.nan)
    inradius = np.full(B, np.nan)
    bounded = np.empty(B, dtype=bool)
    inner = analytic_centers(
        Afull, bfull, _pull_in(Afull, bfull, hints), device=device,
        iters=CENTRE_ITERS_LOW if d <= 3 else CENTRE_ITERS,
        near=CENTRE_ROWS,
    )  # fmt: skip
    n_dom = np.zeros(B, dtype=np.int32)
    pf = None
    if method in ("auto", "polar") and 3 <= d <= POLAR_MAX_DIM:
        pf = polar_facets(Afull, bfull, inner, N, _scale(inner), RTOL)
        bounded[:] = pf.bounded
        dom_row = pf.has_domain_row
        owner = np.repeat(np.arange(B), np.diff(pf.ptr))
        n_dom[:] = np.bincount(owner[dom_row], minlength=B)
    dom_bounded = _bounded_domain(dom_A) if d > POLAR_MAX_DIM else None
    # the facets of the regions the polar kernel decided, all at once; the others one by one
    f_owner: list[np.ndarray] = []
    f_neuron: list[np.ndarray] = []
    f_q: list[np.ndarray] = []
    f_eps: list[np.ndarray] = []
    todo = np.arange(B)
    if pf is not None:
        sel = pf.decided[owner] & ~pf.has_domain_row
        f_owner.append(owner[sel])
        f_neuron.append(pf.row[sel])
        f_q.append(pf.point[sel])
        f_eps.append(0.25 * pf.margin[sel])
        todo = np.flatnonzero(~pf.decided)
    for i in todo:
        try:
            g = region_geometry(
                Afull[i],
                bfull[i],
                x0=hints[i],
                lp=lp,
                method="auto" if method == "polar" else method,
                interior=inner[i],
                bounded=dom_bounded,
            )
        except DegenerateGeometryError as exc:
            raise DegenerateGeometryError(
                f"region with pattern {patterns[i].tolist()} (reached at {hints[i].tolist()}): "
                f"{exc}"
            ) from exc
        center[i] = g.center
        inradius[i] = g.inradius
        bounded[i] = g.bounded
        ks = [k for k, rows in enumerate(g.facet_rows) if not np.any(rows >= N)]
        n_dom[i] += len(g.facet_rows) - len(ks)
        r = g.inradius if np.isfinite(g.inradius) else np.inf
        f_owner.append(np.full(len(ks), i, dtype=np.int64))
        f_neuron.append(np.array([int(g.facet_rows[k].min()) for k in ks], dtype=np.int64))
        f_q.append(np.asarray(g.facet_points, dtype=np.float64).reshape(-1, d)[ks])
        f_eps.append(0.25 * np.minimum(np.asarray(g.facet_margin, dtype=np.float64)[ks], r))
    fo = np.concatenate(f_owner) if f_owner else np.zeros(0, dtype=np.int64)
    order = np.argsort(fo, kind="stable")  # region by region, each in its facets' order
    ptr = np.zeros(B + 1, dtype=np.int64)
    np.cumsum(np.bincount(fo, minlength=B), out=ptr[1:])
    facets = (
        ptr,
        np.concatenate(f_neuron).astype(np.int64)[order] if f_neuron else fo,
        np.concatenate(f_q).reshape(-1, d)[order] if f_q else np.zeros((0, d)),
        np.concatenate(f_eps)[order] if f_eps else np.zeros(0),
        center,
        inradius,
        bounded,
        n_dom,
    )
    return _finish(net, patterns, Afull, bfull, facets, dom_A, dom_b, device)


def _with_domain(A, b, dom_A, dom_b):
    """Each region's rows ``(B, m, d)``, ``(B, m)``: its neurons', then the domain's sides."""
    if not dom_A.shape[0]:
        return A, b
    B = A.shape[0]
    return (
        np.concatenate([A, np.broadcast_to(dom_A, (B, *dom_A.shape))], axis=1),
        np.concatenate([b, np.broadcast_to(dom_b, (B, dom_b.shape[0]))], axis=1),
    )


def _bounded_domain(dom_A: np.ndarray) -> bool | None:
    """``True`` when the domain ``dom_A x + dom_b <= 0`` is bounded (so is every region),
    else ``None`` (each region's boundedness is then decided with it)."""
    from .certificates import positively_spanning

    A = dom_A[np.linalg.norm(dom_A, axis=1) > 0]
    if len(A) <= dom_A.shape[1]:
        return None
    return True if positively_spanning(A / np.linalg.norm(A, axis=1, keepdims=True)) else None


#: Largest B * K * m of one call of the planar facet kernel (memory bound).
PLANAR_CHUNK = 1 << 21


def _planar_facets(A, b, hints, N) -> tuple[Any, ...]:
    """Facets of a batch of 2-D regions (rows: ``N`` neurons', then the domain's)."""
    B, m, d = A.shape
    step = max(1, PLANAR_CHUNK // max(1, m * min(m, 24)))
    ptrs, rows, pts, margins, bounded, n_dom = [np.zeros(1, dtype=np.int64)], [], [], [], [], []
    for lo in range(0, B, step):
        hi = min(B, lo + step)
        pf = planar_facets(
            A[lo:hi], b[lo:hi], N, 1.0 + np.linalg.norm(hints[lo:hi], axis=1), RTOL, x0=hints[lo:hi]
        )
        keep = ~pf.has_domain_row
        owner = np.repeat(np.arange(hi - lo), np.diff(pf.ptr))
        n_dom.append(np.bincount(owner[~keep], minlength=hi - lo).astype(np.int32))
        counts = np.bincount(owner[keep], minlength=hi - lo)
        ptrs.append(ptrs[-1][-1] + np.cumsum(counts))
        rows.append(pf.row[keep])
        pts.append(pf.point[keep])
        margins.append(pf.margin[keep])
        bounded.append(pf.bounded)
    q = np.concatenate(pts) if pts else np.zeros((0, d))
    eps = 0.25 * (np.concatenate(margins) if margins else np.zeros(0))  # _finish caps it
    nan = np.full(B, np.nan)
    return (
        np.concatenate(ptrs),
        np.concatenate(rows) if rows else np.zeros(0, np.int64),
        q,
        eps,
        np.full((B, d), np.nan),
        nan,
        np.concatenate(bounded),
        np.concatenate(n_dom),
    )


#: relative size (against the magnitude of its terms) a pre-activation must have at the
#: point across a facet for the fast crossing to accept it
GENERIC_RTOL = 1e-9


def _generic_crossings(net, patterns, owner, f_neuron, q, eps, nvec, dom_A, dom_b, device):
    """Which facet crossings still need :func:`crossing_check` (True) after the fast test.

    The facet point ``q`` of facet ``j`` is strictly inside every other row of the region
    (its margin), and at ``q`` neuron ``j`` is zero, so every later pre-activation has the
    same value there under either sign of ``j``: the region across is the one whose
    pattern is the parent's with ``j`` flipped, and ``q`` lies in its closure.  The fast
    test reads the pattern at ``x = q + eps n`` with one forward pass and accepts the
    crossing when it is exactly that pattern, every pre-activation at ``x`` is clear of
    zero (``GENERIC_RTOL`` times its terms) and ``x`` is inside the domain: ``x`` is then
    a point of that region.  Anything else (coincident neurons flipping together, a
    neuron that is identically zero on one side, a step that went too far) goes to the
    full check, which needs the neighbour's affine maps.
    """
    F = len(f_neuron)
    if F == 0:
        return np.zeros(0, dtype=bool)
    x = q + eps[:, None] * nvec
    if resolve_device(device).type == "cpu":
        z, bound = _forward_np(net, x)
    else:
        z, bound = (t.cpu().numpy() for t in _forward(net, x, device))
    expected = patterns[owner]
    expected[np.arange(F), f_neuron] *= -1
    ok = np.all((z > 0) == (expected > 0), axis=1)
    ok &= np.all(np.abs(z) > GENERIC_RTOL * bound, axis=1)
    if dom_A.shape[0]:
        ok &= np.all(x @ dom_A.T + dom_b < -RTOL * _scale(x)[:, None], axis=1)
    return ~ok


def _cross_from_centre(net, pattern, Ak, bk, j, q, nb_pat, nb_pt, k, dom_A, dom_b, device) -> bool:
    """Cross facet ``j`` of ``{Ak x + bk <= 0}`` (a region's rows, then the domain's sides)
    from its Chebyshev centre.

    The facet's largest inscribed ball (one LP, :func:`complexlib.geometry.facet_center`)
    gives the point of the facet farthest from the other rows; steps of a fraction of that
    distance along the facet's normal are checked as every crossing is.  Where none passes
    (a region across thinner than a step window: its rows nearly parallel to the facet's),
    the Chebyshev centre of the region whose pattern is ``pattern`` with neuron ``j``
    flipped (one more LP) is checked the same way, against the facet's centre: it is the
    point of that region farthest from its rows, so it clears the genericity band whenever
    any point of it does.  Writes the pattern and point across into ``nb_pat[k]``,
    ``nb_pt[k]``; False when nothing passes.
    """
    from .geometry import chebyshev_ball, facet_center

    got = facet_center(Ak, bk, j, q)
    if got is None:
        return False
    qc, margin = got
    n = Ak[j] / np.linalg.norm(Ak[j])
    for frac in CENTRE_STEPS:
        x = qc + frac * margin * n
        s, ok = crossing_check(net, qc[None], x[None], dom_A, dom_b, device)
        if ok[0]:
            nb_pat[k], nb_pt[k] = s[0], x
            return True
    flip = pattern.copy()
    flip[j] *= -1
    Z, _, bound = affine_maps(net, flip[None], device)
    rows, offs = _with_domain(*_halfspaces_from_maps(Z, bound, flip[None]), dom_A, dom_b)
    x, radius = chebyshev_ball(rows[0], offs[0])
    if x is None or not radius > 0:
        return False
    s, ok = crossing_check(net, qc[None], x[None], dom_A, dom_b, device)
    if ok[0]:
        nb_pat[k], nb_pt[k] = s[0], x
    return bool(ok[0])


def _finish(net, patterns, A, b, facets, dom_A, dom_b, device) -> BatchResult:
    """Cross every neuron facet and read the neighbours' patterns (see :func:`crossing_check`).

    ``A``, ``b`` are each region's rows: its neurons', then the domain's sides.  ``facets``
    is ``(ptr, neuron, point, step, center, inradius, bounded, n_domain_facets)``.
    """
    ptr, f_neuron, q, eps, center, inradius, bounded, n_dom = facets
    B, N = patterns.shape
    d = net.input_dim
    F = len(f_neuron)
    owner = np.repeat(np.arange(B), np.diff(ptr))
    rowsA = A[owner, f_neuron] if F else np.zeros((0, d))
    nvec = rowsA / np.linalg.norm(rowsA, axis=1, keepdims=True) if F else rowsA
    eps = np.minimum(eps, 0.25 * (1.0 + np.linalg.norm(q, axis=1))) if F else eps
    nb_pat = np.zeros((F, N), dtype=np.int8)
    nb_pt = np.zeros((F, d))
    todo = _generic_crossings(net, patterns, owner, f_neuron, q, eps, nvec, dom_A, dom_b, device)
    nb_pat[~todo] = patterns[owner[~todo]]
    nb_pat[~todo, f_neuron[~todo]] *= -1
    nb_pt[~todo] = q[~todo] + eps[~todo, None] * nvec[~todo]
    todo = np.nonzero(todo)[0]
    eps0 = eps.copy()
    # shorter steps first (a step that went too far), then longer ones: a facet thinner than
    # the genericity margin (a quarter of its margin lands within 10 RTOL (1 + |x|) of its
    # own hyperplane) needs a step nearer its margin.  Any step the check accepts is sound.
    scales = [0.125**k for k in range(1, MAX_SHRINK)] + list(GROW_STEPS)
    for scale in [1.0, *scales]:
        if todo.size == 0:
            break
        eps[todo] = eps0[todo] * scale
        x = q[todo] + eps[todo, None] * nvec[todo]
        s, ok = crossing_check(net, q[todo], x, dom_A, dom_b, device)
        nb_pat[todo[ok]] = s[ok]
        nb_pt[todo[ok]] = x[ok]
        todo = todo[~ok]
    for k in todo.tolist():  # last, the facet's own centre (an LP) and steps off it
        i = owner[k]
        if _cross_from_centre(net, patterns[i], A[i], b[i], int(f_neuron[k]), q[k], nb_pat,
                              nb_pt, k, dom_A, dom_b, device):  # fmt: skip
            todo = todo[todo != k]
    if todo.size:
        k = int(todo[0])
        i = int(np.searchsorted(ptr, k, side="right") - 1)
        raise DegenerateGeometryError(
            f"could not step across facet (neuron {f_neuron[k]}) of the region with pattern "
            f"{patterns[i].tolist()} at {q[k].tolist()}: every step from "
            f"{eps0[k] * 0.125 ** (MAX_SHRINK - 1):.3g} to {eps0[k] * GROW_STEPS[-1]:.3g} "
            "landed on a hyperplane or outside the neighbouring region"
        )
    return BatchResult(
        center=center,
        inradius=inradius,
        bounded=bounded,
        n_domain_facets=n_dom,
        facet_ptr=ptr,
        facet_neuron=np.array(f_neuron, dtype=np.int32),
        neighbor_bits=pack(nb_pat),
        neighbor_point=nb_pt,
    )
