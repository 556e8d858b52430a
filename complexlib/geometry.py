"""Geometry of activation regions: halfspaces, affine maps, Chebyshev balls, facets.

For a pattern ``s`` every pre-activation is affine in ``x``,
``z_j(x) = a_j . x + c_j``, and the region of ``s`` is the polyhedron

.. math:: P_s = \\{x : s_j (a_j \\cdot x + c_j) \\ge 0 \\; \\forall j\\}
          = \\{x : A x + b \\le 0\\},\\quad A_j = -s_j a_j,\\; b_j = -s_j c_j .

The maps of a whole batch of patterns are computed in one batched torch
computation (float64) by pushing ``[I | 0]`` through the masked layers.

Facets are found exactly from an interior point ``x0`` by polarity: with
``r_j = -(A_j x0 + b_j) > 0`` and ``p_j = A_j / r_j`` (rows of unit norm),
constraint ``j`` is irredundant iff ``p_j`` is a vertex of
``conv({0} ∪ {p_i})``.  That needs no bounding box, so unbounded regions far
from the origin are handled like any other.  The hull's facets through the
origin are the extreme rays of the recession cone (the region is bounded iff
there are none), the others are the region's vertices.  Above
``HULL_MAX_DIM`` dimensions facets are decided by one LP per candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .certificates import CERT_MIN_DIM, certified_facets
from .exceptions import DegenerateGeometryError
from .lp import LPStatus, solve_lp
from .network import ReLUNetwork
from .patterns import params_on, resolve_device

__all__ = [
    "affine_maps",
    "halfspaces",
    "chebyshev_ball",
    "RegionGeometry",
    "region_geometry",
    "HULL_MAX_DIM",
    "analytic_centers",
]

#: Largest dimension in which facets are found with qhull (above: LPs).
HULL_MAX_DIM = 9
#: Ways of deciding facets (``planar`` is the vectorised 2-D kernel of the search).
FACET_METHODS = ("auto", "hull", "lp", "planar", "polar")
#: Relative tolerance of facet and membership decisions (rows have unit norm).
RTOL = 1e-11
#: A row whose norm is below this fraction of its magnitude bound is constant on the region.
ZERO_ROW_RTOL = 1e-11


def affine_maps(
    net: ReLUNetwork, patterns: np.ndarray, device: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pre-activation and output affine maps of a batch of patterns.

    Parameters
    ----------
    net : ReLUNetwork
    patterns : ndarray, shape (B, n_neurons), +1/-1
    device : torch device, optional

    Returns
    -------
    Z : ndarray, shape (B, n_neurons, d + 1)
        Pre-activation ``z_j(x) = Z[:, j, :d] @ x + Z[:, j, d]`` of each neuron.
    out : ndarray, shape (B, n_out, d + 1)
        The network on the region: ``f(x) = out[:, :, :d] @ x + out[:, :, d]``.
    bound : ndarray, shape (B, n_neurons)
        A bound on the magnitude of the terms summed into each row's linear
        part (used to tell rows that cancel to zero from real ones).

    Examples
    --------
    >>> import numpy as np
    >>> from complexlib.network import ReLUNetwork
    >>> net = ReLUNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.ones(1)])
    >>> Z, out, _ = affine_maps(net, np.array([[1, -1]]))
    >>> out[0]
    array([[1., 0., 1.]])
    """
    if resolve_device(device).type == "cpu":
        return _affine_maps_np(net, _check_patterns(net, np.asarray(patterns)))
    Z, out, bound = _affine_maps_torch(net, _pattern_tensor(net, patterns, device))
    return Z.cpu().numpy(), out.cpu().numpy(), bound.cpu().numpy()


def _pattern_tensor(net: ReLUNetwork, patterns: Any, device: Any) -> Any:
    """Patterns ``(B, n_neurons)`` as a tensor on ``device``, their shape checked."""
    import torch

    s = torch.as_tensor(np.asarray(patterns), device=resolve_device(device))
    return _check_patterns(net, s)


def _check_patterns(net: ReLUNetwork, s: Any) -> Any:
    """``s`` if it has the shape ``(B, n_neurons)`` of a batch of patterns, else an error."""
    if s.ndim != 2 or s.shape[1] != net.n_neurons:
        raise ValueError(f"patterns must have shape (B, {net.n_neurons}), got {tuple(s.shape)}")
    return s


def _affine_maps_torch(
    net: ReLUNetwork, s: Any, params: list[tuple[Any, Any]] | None = None
) -> tuple[Any, Any, Any]:
    """:func:`affine_maps` of a pattern tensor ``s`` ``(B, n_neurons)``, as tensors on its
    device (``Z`` and ``out`` as ``(B, rows, d + 1)`` views of row-major ``(rows, B, d + 1)``
    blocks); ``params`` the layers on that device (:func:`~complexlib.patterns.params_on`)."""
    import torch

    if params is None:
        params = params_on(net, s.device)
    return _affine_maps_xp(torch, net, s, params)


def _affine_maps_np(net: ReLUNetwork, s: np.ndarray) -> tuple[np.ndarray, ...]:
    """:func:`_affine_maps_torch` in numpy, for the CPU (a fraction of torch's fixed cost per
    operation, which is what small batches pay)."""
    return _affine_maps_xp(np, net, s, list(zip(net.weights, net.biases)))


def _affine_maps_xp(
    xp: Any, net: ReLUNetwork, s: Any, params: list[tuple[Any, Any]]
) -> tuple[Any, Any, Any]:
    """The layer-by-layer composition behind :func:`affine_maps`, in ``xp`` (numpy or torch)."""
    B, d = s.shape[0], net.input_dim
    k = d + 1
    # layout (n, B, d+1) flattened to (n, B*(d+1)) so that every layer is one plain 2-D matmul
    # (a broadcast batched matmul is about 10x slower here)
    H0 = np.zeros((d, B, k))
    H0[:, :, :d] = np.eye(d)[:, None, :]
    H = H0 if xp is np else xp.as_tensor(H0, device=s.device)
    Habs = abs(H)
    Zs, bounds = [], []
    start = 0
    for i, slope in enumerate(net.slopes):
        w, bias = params[i]
        n = w.shape[0]
        Z = (w @ H.reshape(H.shape[0], -1)).reshape(n, B, k)
        Z[:, :, d] += bias[:, None]
        Zabs = (abs(w) @ Habs.reshape(H.shape[0], -1)).reshape(n, B, k)
        Zs.append(Z)
        bounds.append((Zabs[:, :, :d] ** 2).sum(2) ** 0.5)
        act = s[:, start : start + n].T > 0
        start += n
        if xp is np:
            m = np.where(act, 1.0, slope)
        else:  # float64 scalars: a python float would make a float32 mask (slope 0.1 rounded)
            one = xp.ones((), dtype=xp.float64, device=act.device)
            m = xp.where(act, one, xp.full((), slope, dtype=xp.float64, device=act.device))
        H = Z * m[:, :, None]
        Habs = Zabs * abs(m)[:, :, None]
    w, bias = params[-1]
    out = (w @ H.reshape(H.shape[0], -1)).reshape(w.shape[0], B, k)
    out[:, :, d] += bias[:, None]
    out = out.swapaxes(0, 1)
    if Zs:
        return xp.concatenate(Zs, 0).swapaxes(0, 1), out, xp.concatenate(bounds, 0).T
    zero = H[:0].reshape(0, B, k).swapaxes(0, 1)
    return zero, out, zero[:, :, 0]


def halfspaces(
    net: ReLUNetwork, patterns: np.ndarray, device: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Halfspaces ``A x + b <= 0`` of a batch of patterns (one row per neuron).

    Rows of neurons that are constant on the region (their linear part
    cancels) are returned with an exactly zero linear part.

    Examples
    --------
    >>> import numpy as np
    >>> from complexlib.network import ReLUNetwork
    >>> net = ReLUNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> A, b = halfspaces(net, np.array([[1, -1]]))
    >>> A[0] + 0.0
    array([[-1.,  0.],
           [ 0.,  1.]])
    """
    st = _pattern_tensor(net, patterns, device)
    Z, _, bound = _affine_maps_torch(net, st)
    A, b, _ = _halfspaces_torch(Z, bound, st)
    return A.cpu().numpy(), b.cpu().numpy()


def _halfspaces_torch(Z: Any, bound: Any, s: Any) -> tuple[Any, Any, Any]:
    """:func:`_halfspaces_from_maps` in torch on the maps' device: ``(A, b, row norms)``."""
    import torch

    d = Z.shape[2] - 1
    sign = s.to(torch.float64)
    A = -sign[:, :, None] * Z[:, :, :d]
    b = -sign * Z[:, :, d]
    nrm = torch.linalg.vector_norm(A, dim=2)
    zero = nrm <= ZERO_ROW_RTOL * bound
    return A.masked_fill(zero[:, :, None], 0.0), b, nrm.masked_fill(zero, 0.0)


def _halfspaces_from_maps(
    Z: np.ndarray, bound: np.ndarray, patterns: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    d = Z.shape[2] - 1
    s = patterns.astype(np.float64)
    A = -s[:, :, None] * Z[:, :, :d]
    b = -s * Z[:, :, d]
    zero = np.linalg.norm(A, axis=2) <= ZERO_ROW_RTOL * bound
    A[zero] = 0.0
    return A, b


def chebyshev_ball(
    A: np.ndarray, b: np.ndarray, cap: float = np.inf, lp: str = "highs"
) -> tuple[np.ndarray | None, float]:
    """Chebyshev centre and radius of ``{x : A x + b <= 0}``.

    Solves ``max r  s.t.  A_j x + r ||A_j|| <= -b_j,  0 <= r <= cap``.  An
    infinite radius (the polyhedron holds arbitrarily large balls) is
    reported as ``inf`` with a centre at distance ``cap`` (or 1) from the
    boundary.  Returns ``(None, -inf)`` for an empty polyhedron and a radius
    of 0 for one that is not full-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])
    >>> c, r = chebyshev_ball(A, -np.ones(4))
    >>> np.round(c, 12) + 0.0, r
    (array([0., 0.]), 1.0)
    >>> chebyshev_ball(A[:1], np.zeros(1))[1]
    inf
    """
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = A.shape[1]
    nrm = np.linalg.norm(A, axis=1)
    const = nrm == 0
    if np.any(b[const] > 0):
        return None, -np.inf
    A, b, nrm = A[~const], b[~const], nrm[~const]
    if A.shape[0] == 0:
        return np.zeros(d), np.inf
    # rows scaled to unit norm: better conditioned, and r is a distance
    An, bn = A / nrm[:, None], b / nrm
    c = np.zeros(d + 1)
    c[d] = -1.0
    lo = np.r_[np.full(d, -np.inf), 0.0]
    finite_cap = cap if np.isfinite(cap) else 1.0
    hi = np.r_[np.full(d, np.inf), finite_cap]
    res = solve_lp(c, np.hstack([An, np.ones((An.shape[0], 1))]), -bn, lb=lo, ub=hi, backend=lp)
    if res.status is LPStatus.INFEASIBLE:
        return None, -np.inf
    if res.status is not LPStatus.OPTIMAL or res.x is None:
        raise DegenerateGeometryError("the Chebyshev LP did not reach an optimum")
    x, r = res.x[:d], float(res.x[d])
    if r >= finite_cap * (1 - 1e-9):
        if _recession_has_interior(An, lp):
            return x, np.inf
        if not np.isfinite(cap):
            # the radius is finite but larger than the first cap: solve again uncapped
            res = solve_lp(
                c,
                np.hstack([An, np.ones((An.shape[0], 1))]),
                -bn,
                lb=lo,
                ub=np.r_[np.full(d, np.inf), np.inf],
                backend=lp,
            )
            if res.status is LPStatus.OPTIMAL and res.x is not None:
                x, r = res.x[:d], float(res.x[d])
    return x, max(r, 0.0)


def _recession_has_interior(An: np.ndarray, lp: str) -> bool:
    """Whether ``{y : An y <= 0}`` has interior: ``max t  s.t. An y + t <= 0, t <= 1``."""
    d = An.shape[1]
    c = np.zeros(d + 1)
    c[d] = -1.0
    res = solve_lp(
        c,
        np.hstack([An, np.ones((An.shape[0], 1))]),
        np.zeros(An.shape[0]),
        lb=np.r_[np.full(d, -1.0), 0.0],
        ub=np.r_[np.full(d, 1.0), 1.0],
        backend=lp,
    )
    return bool(res.status is LPStatus.OPTIMAL and res.x is not None and res.x[d] > 1e-9)


def analytic_centers(
    A: np.ndarray,
    b: np.ndarray,
    x0: np.ndarray,
    iters: int = 30,
    device: Any = None,
    near: int | None = None,
) -> np.ndarray:
    """Well-centred interior points of a batch of polyhedra ``A[k] x + b[k] <= 0``.

    Damped Newton steps on the log barrier of the rows and of a box of half-width
    10 around the start (which keeps unbounded regions' barriers bounded).  The damped
    step ``dx / (1 + lambda)`` of a self-concordant barrier never leaves the region, so
    every iterate is strictly inside; steps that would (by rounding) are refused.  The
    points only centre later computations, so convergence is not required.

    Parameters
    ----------
    A : (B, m, d), b : (B, m)
    x0 : (B, d) strictly interior start points.
    near : int, optional
        Centre on the ``near`` rows nearest to ``x0`` only (the far ones barely move the
        centre, and the work is linear in the rows); every row is then checked at the
        result, and the regions where a far row fails (or holds by less than a
        ``1e-9`` fraction of the distance moved) are centred again on all their rows.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[[1.0, 0], [-1, 0], [0, 1], [0, -1]]])
    >>> x = analytic_centers(A, -np.ones((1, 4)), np.array([[0.9, -0.99]]))
    >>> bool(np.abs(x).max() < 0.05)  # near the centre (the box pulls a little)
    True
    """
    import torch

    if near is not None and A.shape[1] > near:
        nrm0 = np.linalg.norm(A, axis=2)
        live0 = nrm0 > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.where(live0, -(np.einsum("bmd,bd->bm", A, x0) + b) / nrm0, np.inf)
        pick = np.argpartition(gap, near - 1, axis=1)[:, :near]
        xc = analytic_centers(
            np.take_along_axis(A, pick[:, :, None], axis=1),
            np.take_along_axis(b, pick, axis=1),
            x0,
            iters,
            device,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            slack = np.where(live0, -(np.einsum("bmd,bd->bm", A, xc) + b) / nrm0, np.inf)
        moved = np.linalg.norm(xc - x0, axis=1)
        thin = slack <= 1e-9 * (moved + np.abs(xc).max(axis=1))[:, None]
        bad = np.nonzero(thin.any(axis=1))[0]
        if bad.size:
            xc[bad] = analytic_centers(A[bad], b[bad], x0[bad], iters, device)
        return xc
    # the rows, unit normals, and a box of fixed size around the start (not one growing
    # with |x0|: search steps hand the points on, and a box growing with them would drift
    # the points outward from region to region)
    A = np.asarray(A, dtype=np.float64)
    B, m, d = A.shape
    nrm = np.sqrt((A * A).sum(axis=2))
    live = nrm > 0
    safe = np.where(live, nrm, 1.0)
    box = np.broadcast_to(np.eye(d), (B, d, d))
    An = np.concatenate([np.where(live[:, :, None], A / safe[:, :, None], 0.0), box, -box], 1)
    x = np.array(x0, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    bn = np.concatenate([np.where(live, b / safe, -1.0), -(x + 10.0), x - 10.0], axis=1)
    w = np.concatenate([live.astype(np.float64), np.ones((B, 2 * d))], axis=1)
    dev = resolve_device(device)
    xp: Any = np
    if dev.type != "cpu":  # numpy on the CPU: its loops over stacks of tiny matrices are faster
        xp = torch
        An, bn, w, x = (torch.as_tensor(v, device=dev) for v in (An, bn, w, x))
    # the Hessian's terms: the rows' outer products, one small matmul per Newton step
    outer = (An[:, :, :, None] * An[:, :, None, :]).reshape(B, -1, d * d)
    for _ in range(iters):
        r = -((An @ x[:, :, None])[:, :, 0] + bn)
        inv = w / r
        g = (inv[:, None, :] @ An)[:, 0, :]
        H = ((inv * inv)[:, None, :] @ outer).reshape(B, d, d)
        dx = -xp.linalg.solve(H, g[:, :, None])[:, :, 0]
        lam = (-(g * dx).sum(1)).clip(min=0.0) ** 0.5
        xn = x + dx / (1.0 + lam)[:, None]
        rn = -((An @ xn[:, :, None])[:, :, 0] + bn)
        ok = ((rn > 0) | (w == 0)).all(1)
        x = xp.where(ok[:, None], xn, x)
        if float(lam.max()) < 1e-3:  # well inside the Dikin ellipsoid of the centre
            break
    return x if xp is np else x.cpu().numpy()


@dataclass
class RegionGeometry:
    """Facets and related facts of one polyhedron ``{x : A x + b <= 0}``.

    Attributes
    ----------
    center, inradius : Chebyshev centre and radius (``inf`` when unbounded balls fit).
    facets : indices of irredundant rows, one per geometric facet (lowest index of
        coincident rows).
    facet_rows : for each facet, every row defining the same hyperplane.
    facet_points : one point in the relative interior of each facet.
    facet_margin : distance from each facet point to the other constraints.
    bounded : decided on the recession cone.
    vertices : finite vertices (pointed regions: ``d`` <= HULL_MAX_DIM, when asked for).
    rays : extreme rays of the recession cone (pointed unbounded regions).
    """

    center: np.ndarray
    inradius: float
    facets: np.ndarray
    facet_rows: list[np.ndarray]
    facet_points: np.ndarray
    facet_margin: np.ndarray
    bounded: bool
    vertices: np.ndarray | None = None
    rays: np.ndarray | None = field(default=None, repr=False)


def _normalise(A: np.ndarray, b: np.ndarray, x: np.ndarray):
    """Unit rows; constant rows dropped; groups of coincident rows.

    Returns ``live`` (indices of rows with a linear part), the unit rows ``An, bn``, ``rep``
    (for each group of coincident rows, its lowest index into ``live``) and ``group``
    (the group of each live row, numbered as ``rep``).
    """
    nrm = np.linalg.norm(A, axis=1)
    live = np.nonzero(nrm > 0)[0]
    An = A[live] / nrm[live, None]
    bn = b[live] / nrm[live]
    scale = 1.0 + np.linalg.norm(x)
    # group coincident (same oriented hyperplane) rows by rounding
    key = np.round(np.hstack([An, (bn / scale)[:, None]]) * 1e9).astype(np.int64)
    order = np.lexsort(key.T[::-1])
    ks = key[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = np.any(ks[1:] != ks[:-1], axis=1)
    gid_sorted = np.cumsum(new) - 1
    group = np.empty(len(order), dtype=np.int64)
    group[order] = gid_sorted
    first = np.full(int(gid_sorted[-1]) + 1 if len(order) else 0, len(order), dtype=np.int64)
    np.minimum.at(first, group, np.arange(len(order)))
    # number groups by their lowest row
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return live, An, bn, np.sort(first), rank[group]


def region_geometry(
    A: np.ndarray,
    b: np.ndarray,
    x0: np.ndarray | None = None,
    want_vertices: bool = False,
    lp: str = "highs",
    method: str = "auto",
    interior: np.ndarray | None = None,
    bounded: bool | None = None,
) -> RegionGeometry:
    """Chebyshev ball, facets, facet points and boundedness of ``{A x + b <= 0}``.

    Parameters
    ----------
    A, b : the halfspaces; rows with zero linear part are ignored if satisfied.
    x0 : a point of the region used to scale the problem (optional).
    want_vertices : compute vertices of bounded regions (qhull; any d).
    lp : LP backend name.
    method : ``"auto"`` (from ``CERT_MIN_DIM`` dimensions rays and NNLS certificates,
        :mod:`complexlib.certificates`; where they cannot decide, or below, qhull up to
        ``HULL_MAX_DIM`` dimensions, else LPs), ``"hull"``
        (qhull; LPs where qhull cannot decide) or ``"lp"`` (one LP per candidate row).
    interior : a well-centred point strictly inside (e.g. from :func:`analytic_centers`):
        then no Chebyshev LP is solved and ``center``/``inradius`` are NaN.
    bounded : ``True`` when the region is known to be bounded (its rows include a bounded
        domain's): the certificates kernel then does not prove it again.

    Raises
    ------
    DegenerateGeometryError
        If the polyhedron is empty or not full-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1], [1, 1]])
    >>> g = region_geometry(A, np.r_[-np.ones(4), -5.0], want_vertices=True)
    >>> g.facets.tolist(), g.bounded, g.inradius
    ([0, 1, 2, 3], True, 1.0)
    """
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = A.shape[1]
    x_hint = np.zeros(d) if x0 is None else np.asarray(x0, dtype=np.float64)
    point = None
    if interior is not None:
        point = np.asarray(interior, dtype=np.float64)
        nrm = np.linalg.norm(A, axis=1)
        slack = -(A @ point + b)[nrm > 0] / nrm[nrm > 0]
        if slack.size and slack.min() <= 1e3 * RTOL * (1.0 + np.linalg.norm(point)):
            point = None  # not well inside: fall back to the Chebyshev centre
    if point is None:
        center, radius = chebyshev_ball(A, b, cap=np.inf, lp=lp)
        if center is None:
            raise DegenerateGeometryError("the region is empty")
        scale = 1.0 + np.linalg.norm(center) + np.linalg.norm(x_hint)
        if radius <= RTOL * scale:
            raise DegenerateGeometryError(
                f"the region is not full-dimensional (inradius {radius:.3g})"
            )
        point = center
    else:
        center, radius = np.full(d, np.nan), np.nan
    live, An, bn, rep, group = _normalise(A, b, point)
    if method not in FACET_METHODS:
        raise ValueError(f"unknown facet method {method!r}; valid: {', '.join(FACET_METHODS)}")
    res = None
    if method in ("auto", "planar", "polar") and d >= CERT_MIN_DIM and not want_vertices:
        cert = certified_facets(An, bn, point, rep, RTOL, bounded=bounded or None)
        if cert is not None:
            res = (*cert, None, None)
    polar_ok = method == "hull" or (method in ("auto", "planar", "polar") and d <= HULL_MAX_DIM)
    if res is None and polar_ok:
        res = _facets_polar(An, bn, point, rep, want_vertices)
    if res is None:
        res = _facets_lp(An, bn, point, rep, radius, lp)
    fac_local, points, margin, bounded, verts, rays = res
    # map back to original row indices
    gpos = np.searchsorted(rep, fac_local)
    facets = live[np.asarray(fac_local, dtype=np.int64)]
    facet_rows = [live[group == g] for g in gpos]
    return RegionGeometry(
        center=center,
        inradius=radius,
        facets=facets,
        facet_rows=facet_rows,
        facet_points=points,
        facet_margin=margin,
        bounded=bounded,
        vertices=verts,
        rays=rays,
    )


def _facet_point_margins(An, bn, j, q, rep_mask):
    """Distance of q to the other (non-coincident) constraints, and its offset on row j."""
    vals = An @ q + bn
    others = rep_mask.copy()
    others[j] = False
    m = -vals[others].max() if others.any() else np.inf
    return m, vals[j]


def _facets_polar(An, bn, x0, rep, want_vertices):
    """Facets by the convex hull of the polar points; ``None`` when qhull cannot decide."""
    from scipy.spatial import ConvexHull, QhullError

    d = An.shape[1]
    sub = An[rep]
    r = -(sub @ x0 + bn[rep])
    if np.any(r <= 0):
        return None
    P = sub / r[:, None]
    # the polar points span the orthogonal complement of the lineality space
    if P.shape[0]:
        _, sv, vt = np.linalg.svd(P, full_matrices=False)
        rank = int(np.sum(sv > 1e-12 * sv[0]))
    else:
        rank = 0
    if rank == 0:
        U = np.zeros((d, 0))
    elif rank < d:
        U = vt[:rank].T  # (d, rank)
    else:
        U = np.eye(d)
    Q = P @ U  # polar points in the span coordinates
    scale = 1.0 + np.linalg.norm(x0)
    rep_mask = np.zeros(An.shape[0], dtype=bool)
    rep_mask[rep] = True
    verts = None
    rays = None
    if rank == 0:
        return (
            np.zeros(0, dtype=np.int64),
            np.zeros((0, d)),
            np.zeros(0),
            False,
            None,
            np.zeros((0, d)),
        )
    if rank == 1:
        q = Q[:, 0]
        fac = []
        if q.max() > 0:
            fac.append(int(np.argmax(q)))
        if q.min() < 0:
            fac.append(int(np.argmin(q)))
        bounded = False  # rank < d always leaves a lineality space when d > 1
        if d == 1:
            bounded = q.max() > 0 and q.min() < 0
        dirs = [U[:, 0] / Q[k, 0] for k in fac]  # x0 + dir hits facet k
        local = np.array(fac, dtype=np.int64)
        pts = np.array([x0 + v for v in dirs]).reshape(-1, d)
        if want_vertices and d == 1:  # in 1-D the facets are the (finite) vertices
            verts = pts.copy()
        facets = rep[local]
        margins = np.array(
            [_facet_point_margins(An, bn, facets[i], pts[i], rep_mask)[0] for i in range(len(fac))]
        )
        if np.any(margins <= RTOL * scale):
            return None
        return facets, pts, margins, bounded, verts, None
    pts_all = np.vstack([np.zeros((1, rank)), Q])
    try:
        hull = ConvexHull(pts_all)
    except QhullError:
        return None
    eq = hull.equations  # (F, rank+1): n . y + off <= 0 inside
    simp = hull.simplices
    normals, offs = eq[:, :-1], eq[:, -1]
    qscale = np.abs(pts_all).max()
    recession = offs > -1e-12 * qscale
    vert_ids = np.unique(simp)
    vert_ids = vert_ids[vert_ids != 0]
    local = vert_ids - 1
    # facet points: vertices of facet j are n_f / -off_f for bounded simplices f around p_j
    with np.errstate(divide="ignore", invalid="ignore"):
        vdir = normals / (-offs[:, None])
    facets = rep[local]
    n_pts = pts_all.shape[0]
    flat_v = simp.ravel()
    flat_f = np.repeat(np.arange(simp.shape[0]), simp.shape[1])
    keep = flat_v != 0
    fin = keep & ~recession[flat_f]
    rec = keep & recession[flat_f]
    cnt = np.bincount(flat_v[fin], minlength=n_pts)[vert_ids]
    if np.any(cnt == 0):
        return None
    y = (
        np.stack(
            [
                np.bincount(flat_v[fin], weights=vdir[flat_f[fin], k], minlength=n_pts)
                for k in range(rank)
            ],
            axis=1,
        )[vert_ids]
        / cnt[:, None]
    )
    ray = np.stack(
        [
            np.bincount(flat_v[rec], weights=normals[flat_f[rec], k], minlength=n_pts)
            for k in range(rank)
        ],
        axis=1,
    )[vert_ids]
    rn = np.linalg.norm(ray, axis=1)
    has_ray = rn > 0
    if has_ray.any():
        # an unbounded facet: go out along its recession directions as far as the
        # facet's vertices are from the origin, where its width has grown with them
        ray[has_ray] /= rn[has_ray, None]
        reach = 1.0 + np.linalg.norm(y, axis=1) + np.linalg.norm(x0 + y @ U.T, axis=1)
        y = y + ray * (reach * has_ray)[:, None]
    q = x0 + y @ U.T
    # project exactly onto each facet's hyperplane to remove rounding drift
    q = q - (np.einsum("vd,vd->v", An[facets], q) + bn[facets])[:, None] * An[facets]
    vals = q @ An[rep].T + bn[rep]  # (V, groups)
    vals[np.arange(len(local)), local] = -np.inf
    margins = -vals.max(axis=1) if vals.shape[1] > 1 else np.full(len(local), np.inf)
    pts = q
    if np.any(margins <= RTOL * scale):
        return None
    bounded = rank == d and not recession.any()
    if rank == d and want_vertices:
        V = x0 + (U @ vdir[~recession].T).T
        verts = _unique_rows(V, 1e-9 * scale)
    if not bounded and rank == d:
        rays = normals[recession] @ U.T
    return facets, pts, margins, bounded, verts, rays


def _unique_rows(V: np.ndarray, tol: float) -> np.ndarray:
    keep: list[np.ndarray] = []
    for v in V:
        if not any(np.linalg.norm(v - k) <= tol for k in keep):
            keep.append(v)
    return np.array(keep)


def _facets_lp(An, bn, x0, rep, radius, lp):
    """Facets by one LP per candidate row: the largest ball inside the facet.

    For row j: ``max t  s.t.  An_i x + t <= -bn_i (i not coincident with j),
    An_j x = -bn_j,  t <= cap``.  Row j is a facet iff ``t > 0``; the optimum
    is a point in the facet's relative interior.
    """
    d = An.shape[1]
    scale = 1.0 + np.linalg.norm(x0)
    cap = max(1.0, radius) if np.isfinite(radius) else 1.0
    rep_mask = np.zeros(An.shape[0], dtype=bool)
    rep_mask[rep] = True
    others_all = np.nonzero(rep_mask)[0]
    fac, pts, margins = [], [], []
    for j in rep:
        ball = _facet_ball(An, bn, j, others_all[others_all != j], cap, lp)
        if ball is not None and ball[1] > RTOL * scale:
            fac.append(j)
            pts.append(ball[0])
            margins.append(ball[1])
    bounded = _is_bounded_lp(An[rep], lp)
    return (
        np.array(fac, dtype=np.int64),
        np.array(pts).reshape(-1, d),
        np.array(margins),
        bounded,
        None,
        None,
    )


def facet_center(
    A: np.ndarray, b: np.ndarray, j: int, x_hint: np.ndarray, lp: str = "highs"
) -> tuple[np.ndarray, float] | None:
    """The centre and radius of the largest ball of facet ``j`` of ``{A x + b <= 0}``.

    The ball lies in row ``j``'s hyperplane and inside every row not coincident with it;
    its radius is capped at ``1 + |x_hint|`` (unbounded facets).  ``None`` when row ``j``
    is not a facet (radius not above ``RTOL (1 + |x_hint|)``) or the LP fails.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])
    >>> c, r = facet_center(A, -np.ones(4), 0, np.zeros(2))
    >>> np.round(c + 0.0, 6).tolist(), round(r, 6)  # the square's right side: centre, half-length
    ([1.0, 0.0], 1.0)
    """
    live, An, bn, rep, group = _normalise(A, b, x_hint)
    at = int(np.searchsorted(live, j))
    if at >= len(live) or live[at] != j:
        return None
    scale = 1.0 + float(np.linalg.norm(x_hint))
    ball = _facet_ball(An, bn, at, np.nonzero(group != group[at])[0], scale, lp)
    if ball is None or not ball[1] > RTOL * scale:
        return None
    return ball


def _facet_ball(
    An: np.ndarray, bn: np.ndarray, j: int, others: np.ndarray, cap: float, lp: str
) -> tuple[np.ndarray, float] | None:
    """``max t  s.t.  An_i x + t <= -bn_i (i in others),  An_j x = -bn_j,  0 <= t <= cap``
    (unit rows): the centre ``x`` and radius ``t`` of the largest ball of row ``j``'s
    facet, or ``None`` when the LP ends otherwise than optimal."""
    d = An.shape[1]
    c = np.zeros(d + 1)
    c[d] = -1.0
    res = solve_lp(
        c,
        np.hstack([An[others], np.ones((len(others), 1))]),
        -bn[others],
        A_eq=np.r_[An[j], 0.0][None, :],
        b_eq=np.array([-bn[j]]),
        lb=np.r_[np.full(d, -np.inf), 0.0],
        ub=np.r_[np.full(d, np.inf), cap],
        backend=lp,
    )
    if res.status is not LPStatus.OPTIMAL or res.x is None:
        return None
    return res.x[:d], float(res.x[d])


def _is_bounded_lp(An: np.ndarray, lp: str) -> bool:
    """Bounded iff the rows span R^d and ``An^T lam = 0`` has a solution ``lam >= 1``."""
    d = An.shape[1]
    if An.shape[0] <= d or np.linalg.matrix_rank(An) < d:
        return False
    m = An.shape[0]
    res = solve_lp(
        np.zeros(m),
        np.zeros((0, m)),
        np.zeros(0),
        A_eq=An.T,
        b_eq=np.zeros(d),
        lb=np.ones(m),
        ub=np.full(m, np.inf),
        backend=lp,
    )
    return res.status is LPStatus.OPTIMAL
