"""Local region counts: along a segment or a path, in a box or a ball around a point.

These are the "local complexity" measures researchers ask for: how many
activation regions a segment crosses, how many regions meet a small box or
ball around a data point, and the density of regions per unit length or
volume.  Every count is exact (no sampling):

* **segment** ``[a, b]``: the network restricted to the line ``a + t (b - a)``
  is a 1-D ReLU network (:func:`complexlib.restrict.restrict_to_line`); its
  complex over ``t in [0, 1]`` is enumerated by the ordinary search.  Regions
  are convex, so a segment meets each region in one interval: the number of
  pieces equals the number of distinct regions crossed.
* **path** (a polyline): the segments joined; a path can enter a region again,
  so it reports both ``pieces`` (intervals along the path, a piece continuing
  across a joint counted once) and ``regions`` (distinct patterns).
* **box**: the complex with a :class:`~complexlib.Box` domain.
* **ball** of radius ``r``: the complex of the box ``[c - r, c + r]`` holding
  the ball, then a region is kept iff its distance to the centre is ``< r``
  (one small least-distance problem per region whose search point lies outside the
  ball).
  That is the same convention as every domain: a region counts when its
  interior meets the ball's interior.

Densities are counts per unit length (segment, path) or per unit volume
(box, ball).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .complex import Complex
from .domain import Box
from .exceptions import ComplexlibError, DegenerateGeometryError
from .network import ReLUNetwork, as_network
from .restrict import restrict_to_line

__all__ = [
    "SegmentRegions",
    "LocalRegions",
    "segment_regions",
    "path_regions",
    "box_regions",
    "ball_regions",
    "ball_volume",
]

#: Relative gap allowed between consecutive pieces of a segment before the walk is called broken.
_GAP_RTOL = 1e-9


@dataclass(frozen=True)
class SegmentRegions:
    """The pieces of a segment or path, in order along it.

    Attributes
    ----------
    breakpoints : ndarray, shape (pieces - 1,)
        Arc-length positions (from the start, in input units) where the pattern changes.
    patterns : ndarray, shape (pieces, n_neurons), int8
        The activation pattern of each piece (the region of ``net`` it lies in).
    length : float
        Length of the segment or path.
    """

    breakpoints: np.ndarray
    patterns: np.ndarray
    length: float

    @property
    def pieces(self) -> int:
        """Number of maximal intervals of constant pattern."""
        return int(self.patterns.shape[0])

    @property
    def regions(self) -> int:
        """Number of distinct regions met (equal to ``pieces`` for a single segment)."""
        return int(np.unique(self.patterns, axis=0).shape[0])

    @property
    def density(self) -> float:
        """Pieces per unit length."""
        return self.pieces / self.length


@dataclass(frozen=True)
class LocalRegions:
    """Regions meeting a box or a ball.

    Attributes
    ----------
    count : int
        Regions whose interior meets the set's interior.
    measure : float
        Volume of the box or ball.
    indices : ndarray of int
        Indices into ``complex`` of the regions counted.
    complex : Complex
        The complex of the box (for a ball: of the box holding it).
    tangent : int
        Regions at distance ``r`` from the ball's centre within ``1e-9`` relative,
        counted as not meeting the ball; 0 for a box.
    """

    count: int
    measure: float
    indices: np.ndarray
    complex: Complex
    tangent: int = 0

    @property
    def density(self) -> float:
        """Regions per unit volume."""
        return self.count / self.measure


def _point(x: Any, name: str, d: int | None = None) -> np.ndarray:
    p = np.asarray(x, dtype=np.float64)
    if p.ndim != 1 or (d is not None and p.shape[0] != d):
        want = f"({d},)" if d is not None else "(d,)"
        raise ValueError(f"{name} must have shape {want}, got {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError(f"{name} must be finite")
    return p


def _intervals(cx: Complex) -> tuple[np.ndarray, np.ndarray]:
    """End points ``lo, hi`` in ``t`` of each region of a 1-D complex over ``[0, 1]``."""
    from .geometry import halfspaces

    A, b = halfspaces(cx.net, cx.patterns, cx.device)
    a, c = A[:, :, 0], b  # a t + c <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        root = -c / a
    lo = np.max(np.where(a < 0, root, -np.inf), axis=1, initial=-np.inf)
    hi = np.min(np.where(a > 0, root, np.inf), axis=1, initial=np.inf)
    return np.maximum(lo, 0.0), np.minimum(hi, 1.0)


def segment_regions(net: Any, a: Any, b: Any, lp: str = "highs") -> SegmentRegions:
    """Exact pieces of the segment ``[a, b]``: where it crosses region boundaries.

    Parameters
    ----------
    net : torch.nn.Sequential, list of (W, b) or ReLUNetwork
    a, b : array_like, shape (d,)
        The segment's ends (``a != b``).
    lp : str
        LP backend of the 1-D search.

    Returns
    -------
    SegmentRegions
        ``breakpoints`` in arc length from ``a``, the pattern of every piece, and counts.

    Raises
    ------
    ComplexlibError
        If the pieces found do not tile the segment (never seen; a guard against a
        silently wrong count).

    Notes
    -----
    The network on the line is ``t -> net(a + t (b - a))`` (see
    :func:`complexlib.restrict.restrict_to_line`), whose complex over ``[0, 1]`` is
    enumerated exactly; each piece ``[lo, hi]`` comes from its pattern's
    halfspaces.  A segment that runs inside a neuron's hyperplane has that
    neuron constant (zero) along it; its pattern there is ``-1`` (see
    :func:`complexlib.patterns.patterns_of`).  Cost: one search step per piece.

    Examples
    --------
    >>> import numpy as np
    >>> from complexlib.network import ReLUNetwork
    >>> net = ReLUNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> s = segment_regions(net, [-1.0, -2.0], [1.0, 2.0])  # crosses both axes at the origin
    >>> s.pieces, s.breakpoints.round(6)
    (2, array([2.236068]))
    >>> s = segment_regions(net, [-1.0, -0.5], [1.0, 1.5])  # crosses x2 = 0, then x1 = 0
    >>> s.pieces, s.regions, float(s.density)
    (3, 3, 1.0606601717798212)
    """
    base = as_network(net)
    pa = _point(a, "a", base.input_dim)
    pb = _point(b, "b", base.input_dim)
    line = restrict_to_line(base, pa, pb)
    cx = Complex(line, bound=Box(0.0, 1.0), lp=lp)
    cx.bfs(progress=False)
    lo, hi = _intervals(cx)
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    gaps = np.abs(np.r_[lo[0], hi[-1] - 1.0, lo[1:] - hi[:-1]])
    if gaps.max() > _GAP_RTOL:
        raise ComplexlibError(
            f"the {len(lo)} pieces found on the segment leave a gap of {gaps.max():.3g} (in t); "
            "the count would be wrong"
        )
    length = float(np.linalg.norm(pb - pa))
    return SegmentRegions(
        breakpoints=(lo[1:] + hi[:-1]) / 2 * length,
        patterns=cx.patterns[order],
        length=length,
    )


def path_regions(net: Any, points: Any, lp: str = "highs") -> SegmentRegions:
    """Pieces of the polyline through ``points`` (shape ``(m, d)``, ``m >= 2``).

    A piece that continues across a joint (same pattern on both sides) is
    counted once; a path can re-enter a region, so ``regions`` (distinct
    patterns) can be smaller than ``pieces``.

    Examples
    --------
    >>> import numpy as np
    >>> from complexlib.network import ReLUNetwork
    >>> net = ReLUNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> p = path_regions(net, [[1.0, 1.0], [-1.0, 1.0], [1.0, 1.0]])  # there and back
    >>> p.pieces, p.regions, p.length
    (3, 2, 4.0)
    """
    base = as_network(net)
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] < 2 or pts.shape[1] != base.input_dim:
        raise ValueError(
            f"points must have shape (m, {base.input_dim}) with m >= 2, got {pts.shape}"
        )
    pats: list[np.ndarray] = []
    cuts: list[np.ndarray] = []
    offset = 0.0
    for p, q in zip(pts[:-1], pts[1:]):
        if np.array_equal(p, q):
            continue
        seg = segment_regions(base, p, q, lp=lp)
        if pats and np.array_equal(pats[-1], seg.patterns[0]):
            pats.extend(seg.patterns[1:])  # the piece goes on across the joint
        else:
            if pats:
                cuts.append(np.array([offset]))
            pats.extend(seg.patterns)
        cuts.append(seg.breakpoints + offset)
        offset += seg.length
    if not pats:
        raise ValueError("the path has no length: all its points coincide")
    return SegmentRegions(
        breakpoints=np.concatenate(cuts) if cuts else np.zeros(0),
        patterns=np.array(pats, dtype=np.int8),
        length=offset,
    )


def box_regions(
    net: Any, center: Any, half_width: Any, lp: str = "highs", workers: int = 1
) -> LocalRegions:
    """Regions meeting the box ``center ± half_width`` (exact, a bounded search).

    ``half_width`` is a positive number or one per coordinate.

    Examples
    --------
    >>> import complexlib as cl
    >>> loc = box_regions(cl.mlp([2, 4, 1], seed=0), [0.0, 0.0], 100.0)
    >>> loc.count, loc.measure  # the 4 lines meet in the box: all 11 regions
    (11, 40000.0)
    """
    base = as_network(net)
    c = _point(center, "center", base.input_dim)
    h = np.broadcast_to(np.asarray(half_width, dtype=np.float64), c.shape)
    if not (np.isfinite(h).all() and np.all(h > 0)):
        raise ValueError(f"half_width must be positive and finite, got {half_width}")
    cx = Complex(base, bound=Box(c - h, c + h), lp=lp)
    cx.bfs(progress=False, start=c, workers=workers)
    n = len(cx)
    return LocalRegions(n, float(np.prod(2 * h)), np.arange(n), cx)


def ball_volume(d: int, r: float) -> float:
    """Volume of a ball of radius ``r`` in R^d.

    Examples
    --------
    >>> round(ball_volume(2, 1.0), 12) == round(math.pi, 12)
    True
    """
    return math.pi ** (d / 2) * r**d / math.gamma(d / 2 + 1)


def ball_regions(
    net: Any, center: Any, radius: float, lp: str = "highs", workers: int = 1
) -> LocalRegions:
    """Regions whose interior meets the open ball ``|x - center| < radius`` (exact).

    Notes
    -----
    The box ``center ± radius`` holds the ball; its complex is enumerated and a
    region ``P`` is kept iff ``dist(center, P) < radius``.  The region's search
    point decides most regions at once (inside the ball: kept); for the others
    the distance ``min |x - center|  s.t.  A x + b <= 0`` is solved exactly as
    a least-distance problem (one NNLS, :func:`scipy.optimize.nnls`).
    For a full-dimensional ``P`` the distance to ``P`` and to its interior
    agree, so the rule is "interior meets interior", the convention of every
    domain.  Regions at distance ``radius`` within ``1e-9`` relative are
    reported in ``tangent`` and not counted.

    Examples
    --------
    >>> import complexlib as cl
    >>> net = cl.mlp([2, 4, 1], seed=0)
    >>> ball = ball_regions(net, [0.0, 0.0], 0.5)
    >>> box = box_regions(net, [0.0, 0.0], 0.5)
    >>> ball.count <= box.count
    True
    """
    base = as_network(net)
    c = _point(center, "center", base.input_dim)
    r = float(radius)
    if not (np.isfinite(r) and r > 0):
        raise ValueError(f"radius must be positive and finite, got {radius}")
    box = box_regions(base, c, r, lp=lp, workers=workers)
    cx = box.complex
    dist = np.linalg.norm(cx.interior_points - c, axis=1)
    inside = dist < r
    unsure = np.nonzero(~inside)[0]
    if unsure.size:
        dist[unsure] = _distances(base, cx, unsure, c)
    tol = 1e-9 * max(r, 1.0)
    keep = dist < r - tol
    tangent = int(np.sum(np.abs(dist - r) <= tol))
    return LocalRegions(
        int(keep.sum()), ball_volume(base.input_dim, r), np.nonzero(keep)[0], cx, tangent
    )


def _distances(net: ReLUNetwork, cx: Complex, idx: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Euclidean distance from ``c`` to each region ``idx`` of ``cx`` (within its domain)."""
    from .geometry import halfspaces

    out = np.empty(len(idx))
    for lo in range(0, len(idx), 1024):
        chunk = idx[lo : lo + 1024]
        A, b = halfspaces(net, cx.patterns[chunk], cx.device)
        for k in range(len(chunk)):
            Ak = np.vstack([A[k], cx._dom_A])
            bk = np.concatenate([b[k], cx._dom_b])
            out[lo + k] = _distance_to_polyhedron(Ak, bk, c)
    return out


def _distance_to_polyhedron(A: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """``min |x - c|`` over ``{x : A x + b <= 0}`` (a non-empty polyhedron), exactly.

    With ``y = x - c`` this is least-distance programming, ``min |y|  s.t.  G y >= h``
    with ``G = -A``, ``h = A c + b``, solved through one non-negative least-squares
    problem (Lawson & Hanson, *Solving Least Squares Problems*, ch. 23):
    ``u = argmin_{u >= 0} |E u - f|`` with ``E = [G^T; h^T]``, ``f = (0, ..., 0, 1)``;
    the residual ``r = E u - f`` gives ``y = -r[:d] / r[d]``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[-1.0, 0.0]])  # x1 >= 2
    >>> round(_distance_to_polyhedron(A, np.array([2.0]), np.zeros(2)), 12)
    2.0
    """
    from scipy.optimize import nnls

    keep = np.linalg.norm(A, axis=1) > 0
    nrm = np.linalg.norm(A[keep], axis=1)
    An, bn = A[keep] / nrm[:, None], b[keep] / nrm
    h = An @ c + bn
    if np.all(h <= 0):
        return 0.0
    d = A.shape[1]
    E = np.vstack([-An.T, h[None, :]])
    f = np.zeros(d + 1)
    f[d] = 1.0
    u, _ = nnls(E, f, maxiter=50 * E.shape[1])
    r = E @ u - f
    if abs(r[d]) < 1e-14:
        raise DegenerateGeometryError("the distance problem found the region empty")
    y = -r[:d] / r[d]
    return float(np.linalg.norm(y))
