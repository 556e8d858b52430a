"""Activation regions of a 2-D network in a bounded polygon, by splitting polygons.

The domain polygon is cut by the zero set of every hidden neuron in turn, layer by layer
and in weight-row order within a layer.  When neuron ``j`` of layer ``l`` comes, every
current polygon carries one activation pattern of the layers before ``l``, so ``z_j`` is
affine on it and its zero set is a line: a polygon with vertices on both sides of that
line is cut in two along it, the others take the sign of ``z_j`` on their vertices (``-1``
where ``z_j`` is identically zero).  After the last neuron the polygons are the activation
regions intersected with the domain.

Everything is carried by the vertices.  Each vertex of the pool holds its coordinates and
the pre-activations ``z`` of the current layer there (for the first layer, and any layer
with fewer inputs than neurons, its inputs ``h``, and ``z_j = W_j h + b_j`` is computed
when neuron ``j`` comes: the first layer then costs two numbers per vertex, not its
width).  A cut vertex on the edge ``(a, b)`` is the point where ``z_j`` vanishes along the
edge, and since every pre-activation is affine on the edge (it lies in the closure of a
polygon) its values are interpolated:

.. math:: t = \\frac{z_j(a)}{z_j(a) - z_j(b)}, \\qquad
          v = a + t (b - a), \\qquad z(v) = z(a) + t\\,(z(b) - z(a)),\\; z_j(v) = 0 .

In the first layer the edge and the zero set are whole lines (a neuron's or a side of the
domain), and the cut vertex is computed where they cross instead (Cramer's rule), so its
rounding is that of its own coordinates, not that of the edge's ends, which may be far
(in a large box, crossings near the origin interpolated between ends 1e6 away would carry
errors of 1e-10).

The next layer's pre-activations at every vertex are one product,
``W_{l+1} act(z_l) + b_{l+1}``: a vertex of a polygon lies in its closure, where the
neurons of the polygon's pattern have the sign the polygon gives them (or are zero), so
the vertex's own activation is the polygon's.

Vertices are shared: the two pieces of a cut share the two cut vertices, and a cut vertex
is made once per edge (keyed by the edge's two vertex ids), so the two polygons on either
side of an edge always hold it with the same two vertices.  The subdivision stays
conforming, every neuron edge is listed by exactly two polygons, and the dual graph is read
off by pairing edges, with no point location.

Exactness: each vertex carries, with its values, a bound ``B_j(v)`` on the magnitudes of
the terms summed into ``z_j(v)`` (``|W_j| . |h(v)| + |b_j|`` where ``h(v)`` was computed,
interpolated like the values along an edge, Cramer's terms for a first-layer crossing),
and ``|z_j(v)| <= SNAP_RTOL * B_j(v)`` is zero: the rule of the search's patterns
(:data:`complexlib.patterns.ZERO_RTOL`), at the vertices. A cut that leaves a piece within
``WIDTH_RTOL`` of the line relative to its own scale (all its values at most ``WIDTH_RTOL
* max B``) and that narrow (width, twice the area over the longest side, at most
``WIDTH_RTOL * max B / G_j``, ``G_j`` a bound on ``|grad z_j|``) is a rounding sliver: the
vertices on its side are moved onto the line and the cut is made again. Widths are
measured against each piece's own scale, not the domain's (the reference splitter of the
tests uses one width for the whole box, which drops real regions smaller than 1e-9 of it;
the search keeps regions whose facets are longer than ``1e-11 (1 + |x|)``): on every
network tested the complex is the search's, boxes up to [-1e6, 1e6]^2 included, but
features near 1e-11 may be resolved differently. The patterns kept are checked against a
forward pass at a point inside each polygon, and a subdivision that is not conforming
raises :class:`~complexlib.DegenerateGeometryError` instead of giving a wrong dual graph.

Cost: one round of array operations per neuron, over the polygons it may cut (those it
cut when its layer started, or when the polygons last grew ``REFRESH_GROWTH``-fold), with
no Python loop over polygons.  Regions are numbered breadth first from the start region,
neighbours in the order of their facets' neurons: the numbering of
:meth:`Complex.bfs <complexlib.Complex.bfs>`, whose store this gives exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .domain import domain_polygon
from .exceptions import DegenerateGeometryError
from .graph import bfs_order, csr_take
from .network import ReLUNetwork
from .patterns import ZERO_RTOL, pack, patterns_of, unpack

__all__ = ["PlanarSubdivision", "split_domain", "split_polygons"]

Arr = np.ndarray

#: a pre-activation within this fraction of its terms' magnitude bound is zero (the
#: search's rule for patterns)
SNAP_RTOL = ZERO_RTOL
#: pieces within this fraction of their scale of the line, and that narrow, are slivers
WIDTH_RTOL = 1e-9
#: values gathered at once when a layer starts (memory bound)
LAYER_CHUNK = 1 << 18
#: products with more multiplications than this go to torch (see :func:`_matmul`)
MATMUL_TORCH = 1 << 16
#: inner points checked at once (memory bound)
CHECK_CHUNK = 4096
#: the marks of the neurons still to come are renewed when the polygons grow this much
#: (a piece inherits its parent's marks, which grow stale as lines cut it smaller)
REFRESH_GROWTH = 4.0
#: a pre-activation at a region's inner point this far from zero (relative to its terms)
#: must have the sign the split gave the region
CHECK_RTOL = 1e-9
#: first-layer rows whose pairwise crossings are formed at once (memory bound)
CROSS_CHUNK = 512
#: a polygon with a neuron edge or a width below this times ``1 + |x|`` has its facets
#: decided by the search's kernel (see :func:`split_domain`)
FINE_RTOL = 1e-7
#: regions per call of the search's kernel (memory bound)
KERNEL_CHUNK = 2048


@dataclass
class PlanarSubdivision:
    """The activation regions of a 2-D network in a polygon, as flat arrays.

    Region ``i`` is the convex polygon with vertices ``vertices[poly[i, :count[i]]]``
    (counter-clockwise); edge ``k`` of it runs from its ``k``-th vertex to the next and
    lies on the line of ``edge_label[i, k]`` (a neuron, or ``n_neurons + r`` for row ``r``
    of the domain).  Facets are CSR by region, sorted by neuron.
    """

    patterns: np.ndarray  # (P, N) int8
    bits: np.ndarray  # (P, ceil(N / 8)) uint8, the patterns packed
    points: np.ndarray  # (P, 2) a point inside each region (its vertices' mean)
    depth: np.ndarray  # (P,) facet crossings from the start region
    n_domain_facets: np.ndarray  # (P,) int32
    facet_ptr: np.ndarray  # (P+1,) int64
    facet_neuron: np.ndarray  # (F,) int32, lowest neuron whose line holds the facet
    facet_neighbor: np.ndarray  # (F,) int64, the region across
    vertices: np.ndarray  # (V, 2) (row 0 pads ``poly``)
    poly: np.ndarray  # (P, K) int64 vertex ids (padding 0)
    count: np.ndarray  # (P,) vertices of each region
    edge_label: np.ndarray  # (P, K) int64
    bounded: np.ndarray | None = None  # (P,) bool; None: every region (a bounded domain)


class _Mesh:
    """Convex polygons over a shared pool of vertices, with their patterns.

    Pool row 0 is a dummy vertex (all zeros) that pads the polygons' vertex rows, so
    sign tests over a padded row need no mask.  Per vertex the pool holds in ``z`` the
    current layer's pre-activations and in ``bz`` their terms' bounds, or (``lazy``: the
    first layer, and layers with fewer inputs than neurons) the layer's inputs and their
    magnitudes, from which a neuron's values and bounds are computed when it comes;
    ``zeroed`` then keeps the vertices moved onto a neuron's line.
    """

    def __init__(self, v: np.ndarray, rows: np.ndarray, n_neurons: int) -> None:
        k = len(v)
        self.xy = np.zeros((2, max(64, 4 * k)))
        self.xy[:, 1 : k + 1] = v.T
        self.z = np.zeros((self.xy.shape[1], 0))
        self.nv = k + 1
        cap = 64
        self.poly = np.zeros((cap, k), dtype=np.int64)
        self.lab = np.zeros((cap, k), dtype=np.int64)
        self.cnt = np.zeros(cap, dtype=np.int64)
        self.pat = np.zeros((cap, n_neurons), dtype=np.int8)
        self.poly[0] = np.arange(1, k + 1)
        self.lab[0] = rows + n_neurons
        self.cnt[0] = k
        self.P = 1
        self.may = np.zeros((cap, 0), dtype=bool)
        self.bz = np.zeros((self.xy.shape[1], 0))
        self.lazy = False
        self.lines: np.ndarray | None = None  # first layer: (W | b) by edge label
        self.first_layer = 0  # index of the current layer's first neuron
        self.W = self.b = self.absW = self.absb = np.zeros(0)
        self.zeroed: dict[int, list[np.ndarray]] = {}

    # -- values ----------------------------------------------------------
    def values(self, idx: np.ndarray, k0: int, k1: int) -> tuple[np.ndarray, np.ndarray]:
        """Pre-activations of neurons ``k0..k1-1`` at the vertices ``idx``, and their bounds.

        A bound is the magnitude of the terms summed into the value at that vertex,
        ``|W_j| . |h(v)| + |b_j|``; values within ``SNAP_RTOL`` of it are zero.
        """
        if not self.lazy:
            return self.z[idx, k0:k1], self.bz[idx, k0:k1]
        out = _matmul(self.z[idx], self.W[k0:k1].T) + self.b[k0:k1]
        bound = _matmul(self.bz[idx], self.absW[k0:k1].T) + self.absb[k0:k1]
        _snap(out, SNAP_RTOL * bound)
        out[idx == 0] = 0.0  # the padding vertex
        for k, ids in self.zeroed.items():
            if k0 <= k < k1:
                out[..., k - k0][np.isin(idx, np.concatenate(ids))] = 0.0
        return out, bound

    def set_zero(self, ids: np.ndarray, k: int) -> None:
        """Put the vertices ``ids`` on the line of neuron ``k``."""
        if self.lazy:
            self.zeroed.setdefault(k, []).append(ids)
        else:
            self.z[ids, k] = 0.0

    # -- storage ---------------------------------------------------------
    def add_vertices(self, xy: np.ndarray, z: np.ndarray, bz: np.ndarray) -> np.ndarray:
        """Append vertices (columns of ``xy``, rows of ``z`` and ``bz``); returns their ids."""
        n = xy.shape[1]
        if self.nv + n > self.xy.shape[1]:
            cap = max(2 * self.xy.shape[1], self.nv + n)
            self.xy = _grown(self.xy, cap, axis=1)
            self.z = _grown(self.z, cap, axis=0)
            self.bz = _grown(self.bz, cap, axis=0)
        ids = np.arange(self.nv, self.nv + n)
        self.xy[:, ids] = xy
        self.z[ids] = z
        self.bz[ids] = bz
        self.nv += n
        return ids

    def add_rows(self, n: int, width: int) -> None:
        """Room for ``n`` more polygons of up to ``width`` vertices."""
        if width > self.poly.shape[1]:
            extra = width - self.poly.shape[1]
            self.poly = np.pad(self.poly, ((0, 0), (0, extra)))
            self.lab = np.pad(self.lab, ((0, 0), (0, extra)))
        if self.P + n > len(self.poly):
            cap = max(2 * len(self.poly), self.P + n)
            for name in ("poly", "lab", "cnt", "pat", "may"):
                setattr(self, name, _grown(getattr(self, name), cap, axis=0))

    # -- layers ----------------------------------------------------------
    def next_layer(self, W: np.ndarray, b: np.ndarray, slope: float | None) -> None:
        """Pre-activations of the next layer at every vertex (or its inputs, when lazy).

        ``slope`` is the activation's negative slope after the current layer (``None``
        before the first layer: the inputs are the coordinates).
        """
        nv, cap = self.nv, self.xy.shape[1]
        if slope is None:
            h = self.xy[:, :nv].T
        else:
            zc = self.values(np.arange(nv), 0, len(self.b))[0]
            h = np.where(zc > 0, zc, slope * zc) if slope else np.maximum(zc, 0.0)
        self.lazy = slope is None or h.shape[1] < W.shape[0]  # (the first layer always)
        self.W, self.b, self.absW, self.absb = W, b, np.abs(W), np.abs(b)
        self.zeroed = {}
        width = h.shape[1] if self.lazy else W.shape[0]
        self.z, self.bz = np.zeros((cap, width)), np.zeros((cap, width))
        if self.lazy:
            self.z[:nv] = h
            self.bz[:nv] = np.abs(h)
        else:
            self.z[:nv] = _matmul(h, W.T) + b
            self.bz[:nv] = _matmul(np.abs(h), self.absW.T) + self.absb
            _snap(self.z[:nv], SNAP_RTOL * self.bz[:nv])
        self.z[0] = 0.0
        self.bz[0] = 0.0
        self.may = np.zeros((len(self.poly), W.shape[0]), dtype=bool)


def _grown(a: np.ndarray, cap: int, axis: int) -> np.ndarray:
    """``a`` with room for ``cap`` entries along ``axis`` (zeros after the old ones)."""
    shape = list(a.shape)
    shape[axis] = cap
    out = np.zeros(shape, dtype=a.dtype)
    out[tuple(slice(0, n) for n in a.shape)] = a
    return out


def _matmul(h: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``h @ W`` for ``h`` of any shape ``(..., n)``; large products in torch.

    numpy's BLAS starts a thread per core for a large product, which on a busy machine
    costs more CPU time than it saves; torch keeps to its thread setting (one thread
    during :meth:`Complex.split`).  Small products stay in numpy (less overhead).
    """
    if h.size * W.shape[1] < MATMUL_TORCH:
        return h @ W
    import torch

    flat = np.ascontiguousarray(h.reshape(-1, h.shape[-1]))
    out = (torch.from_numpy(flat) @ torch.from_numpy(np.ascontiguousarray(W))).numpy()
    return out.reshape(*h.shape[:-1], W.shape[1])


def _snap(z: np.ndarray, tol: np.ndarray) -> None:
    """Set values within ``tol`` (same shape, or per column) of zero to zero, in place."""
    z[np.abs(z) <= tol] = 0.0


def _term_bounds(net: ReLUNetwork, xmax: np.ndarray, bias: bool = True) -> list[np.ndarray]:
    """Per layer, a bound on the magnitudes of the terms summed into each pre-activation.

    With ``xmax`` the largest absolute coordinates of the domain; with ``bias=False`` and
    ``xmax`` all ones, a bound on the norm of each pre-activation's gradient.

    Examples
    --------
    >>> net = ReLUNetwork([np.array([[1.0, -2.0]]), np.ones((1, 1))], [np.ones(1), np.zeros(1)])
    >>> _term_bounds(net, np.array([1.0, 1.0]))
    [array([4.])]
    """
    out = []
    h = np.asarray(xmax, dtype=np.float64)
    for W, b, slope in zip(net.weights, net.biases, net.slopes):
        s = np.abs(W) @ h + (np.abs(b) if bias else 0.0)
        out.append(s)
        h = max(1.0, abs(slope)) * s
    return out


def _decide(m: _Mesh, first: int, k0: int, width: int) -> None:
    """Decide the neurons ``k0..width-1`` of a layer that cut no polygon; mark the others.

    A polygon not cut by ``z_j`` keeps its sign for every piece it will be cut into
    (``z_j`` is affine on it and not identically zero, or zero on all of it), so only the
    polygons marked in ``m.may`` are looked at when neuron ``j`` comes.  ``first`` is the
    layer's first neuron.
    """
    step = max(1, LAYER_CHUNK // ((width - k0) * m.poly.shape[1]))
    for lo in range(0, m.P, step):
        hi = min(m.P, lo + step)
        S = m.values(m.poly[lo:hi], k0, width)[0]  # (rows, K, w)
        pos = (S > 0).any(axis=1)
        neg = (S < 0).any(axis=1)
        m.may[lo:hi, k0:width] = pos & neg
        m.pat[lo:hi, first + k0 : first + width] = np.where(pos, 1, -1)


def _cut_vertices(m: _Mesh, a: Arr, b: Arr, sa: Arr, sb: Arr, lab: Arr, k: int) -> Arr:
    """Cut vertices on the edges ``(a, b)`` (made once per edge); their ids, like ``a``.

    ``sa``, ``sb`` are neuron ``k``'s values at the ends.
    Their pre-activations and bounds are interpolated along the edge (the terms'
    magnitudes are convex along it, so the bounds stay bounds) and the values snapped;
    neuron ``k``'s is exactly zero.  In the first layer every edge (label ``lab``) and
    the neuron's zero set are whole lines, and the vertex is where they cross
    (:func:`_crossings`): its error is then that of its own coordinates, not of the
    edge's ends, which may be far.
    """
    swap = a > b
    lo, hi = np.where(swap, b, a), np.where(swap, a, b)
    _, first, inv = np.unique(lo * m.nv + hi, return_index=True, return_inverse=True)
    ua, ub = lo[first], hi[first]
    s_lo, s_hi = np.where(swap, sb, sa)[first], np.where(swap, sa, sb)[first]
    t = s_lo / (s_lo - s_hi)
    xy = m.xy[:, ua] + t * (m.xy[:, ub] - m.xy[:, ua])
    z = m.z[ua] + t[:, None] * (m.z[ub] - m.z[ua])
    bz = m.bz[ua] + t[:, None] * (m.bz[ub] - m.bz[ua])
    if m.lines is not None:
        p, mag, ok = _crossings(m.lines[lab[first]], m.lines[m.first_layer + k], m.xy, ua, ub)
        xy[:, ok], z[ok], bz[ok] = p[ok].T, p[ok], mag[ok]
    if not m.lazy:
        _snap(z, SNAP_RTOL * bz)
        z[:, k] = 0.0
    return m.add_vertices(xy, z, bz)[inv.reshape(-1)]


def _crossings(L1: Arr, L2: Arr, xy: Arr, ua: Arr, ub: Arr) -> tuple[Arr, Arr, Arr]:
    """Where the lines ``L1[i] . (x, y, 1) = 0`` and ``L2`` cross (Cramer's rule).

    Returns the points ``(n, 2)``, the magnitudes of the terms summed into each
    coordinate (its rounding scale) and whether the point lies on the segment from
    vertex ``ua`` to ``ub`` (within rounding; else the interpolated point is kept).

    Examples
    --------
    >>> L1, L2 = np.array([[1.0, 0, -1]]), np.array([[1.0, 1, -3]])
    >>> xy = np.array([[0.0, 1, 1], [0, -5, 5]])
    >>> p, mag, ok = _crossings(L1, L2, xy, np.array([1]), np.array([2]))
    >>> p.tolist(), ok.tolist()
    ([[1.0, 2.0]], [True])
    """
    a1, a2, a3 = L1.T
    c1, c2, c3 = L2.T
    det = a1 * c2 - a2 * c1
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.stack([(a2 * c3 - a3 * c2) / det, (a3 * c1 - a1 * c3) / det], axis=1)
        lead = (np.abs(a1 * c2) + np.abs(a2 * c1)) / np.abs(det)
        mag = np.stack(
            [
                (np.abs(a2 * c3) + np.abs(a3 * c2)) / np.abs(det) + np.abs(p[:, 0]) * lead,
                (np.abs(a3 * c1) + np.abs(a1 * c3)) / np.abs(det) + np.abs(p[:, 1]) * lead,
            ],
            axis=1,
        )
    ends = np.stack([xy[:, ua].T, xy[:, ub].T])  # (2, n, 2)
    slack = 1e-9 * (np.abs(ends).max(axis=(0, 2)) + mag.max(axis=1))
    ok = np.isfinite(p).all(axis=1) & np.all(
        (p >= ends.min(axis=0) - slack[:, None]) & (p <= ends.max(axis=0) + slack[:, None]), 1
    )
    return p, np.abs(p) + mag, ok


def _pieces(
    S: Arr, Sn: Arr, ids: Arr, lab: Arr, cnt: Arr, cutid: Arr, cut: Arr, j: int
) -> tuple[Arr, Arr, Arr]:
    """Both pieces of each cut polygon, as padded rows (the ``+`` pieces, then the ``-``).

    A piece walks the polygon's boundary, keeping the vertices on its side (or on the
    line) and the cut vertices.  The edge leaving a kept vertex or cut vertex lies on the
    polygon's edge when the boundary goes on along it (the next vertex is on the piece's
    side, or a cut vertex follows), else it is the new edge on the line of neuron ``j``.
    """
    nc, K = S.shape
    valid = np.arange(K) < cnt[:, None]
    sig = np.concatenate([S, -S])
    sig_n = np.concatenate([Sn, -Sn])
    cut2 = np.concatenate([cut, cut])
    lab2 = np.concatenate([lab, lab])
    keep = np.empty((2 * nc, K, 2), dtype=bool)
    keep[:, :, 0] = np.concatenate([valid, valid]) & (sig >= 0)
    keep[:, :, 1] = cut2
    el_id = np.empty((2 * nc, K, 2), dtype=np.int64)
    el_id[:, :, 0] = np.concatenate([ids, ids])
    el_id[:, :, 1] = np.concatenate([cutid, cutid])
    el_lab = np.empty((2 * nc, K, 2), dtype=np.int64)
    el_lab[:, :, 0] = np.where(cut2 | (sig_n >= 0), lab2, j)
    el_lab[:, :, 1] = np.where(sig_n > 0, lab2, j)
    keep = keep.reshape(2 * nc, 2 * K)
    rr, cc = np.nonzero(keep)
    slot = np.cumsum(keep, axis=1)[rr, cc] - 1
    count = keep.sum(axis=1)
    pid = np.zeros((2 * nc, int(count.max())), dtype=np.int64)
    plab = np.zeros_like(pid)
    pid[rr, slot] = el_id.reshape(2 * nc, -1)[rr, cc]
    plab[rr, slot] = el_lab.reshape(2 * nc, -1)[rr, cc]
    return pid, plab, count


def _widths(xy: Arr, pid: Arr, count: Arr) -> tuple[Arr, Arr]:
    """Twice the area and the width (twice the area over the longest side) of polygons.

    Examples
    --------
    >>> xy = np.array([[0.0, 0, 2, 2], [0, 0, 0, 1]])
    >>> _widths(xy, np.array([[1, 2, 3, 0]]), np.array([3]))
    (array([2.]), array([0.89442719]))
    """
    inside = np.arange(pid.shape[1]) < count[:, None]
    g = np.where(inside, pid, pid[:, :1])  # pad with the first vertex: closes the ring
    x, y = xy[0][g], xy[1][g]
    xn, yn = np.roll(x, -1, axis=1), np.roll(y, -1, axis=1)
    area2 = (x * yn - xn * y).sum(axis=1)
    longest = np.hypot(xn - x, yn - y).max(axis=1)
    return area2, np.abs(area2) / np.where(longest > 0, longest, 1.0)


def _slivers(m: _Mesh, S: Arr, B: Arr, pid: Arr, count: Arr, grad: float) -> Arr | None:
    """Which pieces (``+`` then ``-``) are slivers, or ``None`` when none can be.

    ``S`` and ``B`` are the cut polygons' values and bounds at their vertices, ``grad`` a
    bound on the neuron's gradient.  A piece's own scale is ``rho = max B / grad`` over its
    side's vertices (a length: the terms' magnitude there in units of the gradient).  A
    piece can only be a sliver when its values are at most ``WIDTH_RTOL`` times that
    ``max B``: its vertices may then all lie within ``WIDTH_RTOL * rho`` of the line.
    Those pieces are slivers when their width is at most ``WIDTH_RTOL * rho``.
    """
    side = np.concatenate([S >= 0, S <= 0]) & (np.concatenate([B, B]) > 0)
    reach = WIDTH_RTOL * np.where(side, np.concatenate([B, B]), 0.0).max(axis=1)
    near = np.concatenate([S.max(axis=1), -S.min(axis=1)]) <= reach
    if not near.any():
        return None
    thin = np.zeros(len(near), dtype=bool)
    idx = np.nonzero(near)[0]
    thin[idx] = _widths(m.xy, pid[idx], count[idx])[1] <= reach[idx] / grad
    return thin if thin.any() else None


def _split_neuron(m: _Mesh, j: int, k: int, grad: float) -> None:
    """Cut every polygon that neuron ``j`` (row ``k`` of its layer) cuts.

    ``grad`` bounds the neuron's gradient (for :func:`_slivers`, :func:`_snap_slivers`).
    """
    rows = np.nonzero(m.may[: m.P, k])[0]
    while rows.size:
        S, B = (a[..., 0] for a in m.values(m.poly[rows], k, k + 1))
        pos, neg = (S > 0).any(axis=1), (S < 0).any(axis=1)
        m.pat[rows, j] = np.where(pos, 1, -1)
        cutting = pos & neg
        r, S, B = rows[cutting], S[cutting], B[cutting]
        if r.size == 0:
            return
        ids, lab, cnt = m.poly[r], m.lab[r], m.cnt[r]
        K = ids.shape[1]
        ri = np.arange(len(r))[:, None]
        nxt = np.where(np.arange(K) + 1 < cnt[:, None], np.arange(K) + 1, 0)
        Sn = S[ri, nxt]
        cut = S * Sn < 0
        nv0 = m.nv
        cutid = np.zeros_like(ids)
        cutid[cut] = _cut_vertices(m, ids[cut], ids[ri, nxt][cut], S[cut], Sn[cut], lab[cut], k)
        pid, plab, count = _pieces(S, Sn, ids, lab, cnt, cutid, cut, j)
        thin = _slivers(m, S, B, pid, count, grad)
        if thin is None:
            _commit(m, r, pid, plab, count, j)
            return
        m.nv = nv0  # drop the cut vertices, move the slivers onto the line, cut again
        _snap_slivers(m, k, S, ids, pid, count, thin)
        rows = r


def _snap_slivers(m: _Mesh, k: int, S: Arr, ids: Arr, pid: Arr, count: Arr, thin: Arr) -> None:
    """Put the vertices of each sliver piece (the smaller one if both are) on the line."""
    nc = len(S)
    area = np.abs(_widths(m.xy, pid, count)[0])
    t_plus, t_minus = thin[:nc], thin[nc:]
    plus = t_plus & ~(t_minus & (area[nc:] < area[:nc]))
    minus = t_minus & ~plus
    on = (plus[:, None] & (S > 0)) | (minus[:, None] & (S < 0))
    m.set_zero(ids[on], k)


def _commit(m: _Mesh, r: Arr, pid: Arr, plab: Arr, count: Arr, j: int) -> None:
    """Replace the cut polygons by their ``+`` pieces and append the ``-`` pieces."""
    nc = len(r)
    m.add_rows(nc, pid.shape[1])
    width = pid.shape[1]
    new = np.arange(m.P, m.P + nc)
    m.poly[r] = 0
    m.lab[r] = 0
    m.poly[r, :width], m.poly[new, :width] = pid[:nc], pid[nc:]
    m.lab[r, :width], m.lab[new, :width] = plab[:nc], plab[nc:]
    m.cnt[r], m.cnt[new] = count[:nc], count[nc:]
    m.pat[new] = m.pat[r]
    m.pat[r, j], m.pat[new, j] = 1, -1
    m.may[new] = m.may[r]
    m.P += nc


def _edges(m: _Mesh) -> tuple[Arr, Arr, Arr, Arr]:
    """Every edge of every polygon: owner, end vertices and label (flat)."""
    P, K = m.P, m.poly.shape[1]
    poly, lab, cnt = m.poly[:P], m.lab[:P], m.cnt[:P]
    step = np.arange(K) + 1
    nxt = np.where(step < cnt[:, None], step, 0)
    valid = np.arange(K) < cnt[:, None]
    if np.any(valid & (lab == np.take_along_axis(lab, nxt, axis=1))):
        raise DegenerateGeometryError(
            "a region has two consecutive edges on the same neuron's line (the subdivision "
            "is not conforming in float64); use the search: bfs(method='search')"
        )
    owner, slot = np.nonzero(valid)
    a = poly[owner, slot]
    b = np.take_along_axis(poly, nxt, axis=1)[owner, slot]
    return owner, a, b, lab[owner, slot]


def _pair_facets(owner: Arr, a: Arr, b: Arr, label: Arr, nv: int) -> Arr:
    """The region across each neuron edge: the other polygon holding the same two vertices.

    Raises
    ------
    DegenerateGeometryError
        If an edge is not held by exactly two polygons, with the same label.
    """
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = lo * nv + hi
    order = np.argsort(key, kind="stable")
    ks = key[order]
    first, second = order[0::2], order[1::2]
    ok = len(ks) % 2 == 0
    if ok:
        ok = bool(
            np.all(ks[0::2] == ks[1::2])
            and np.all(ks[1:-1:2] != ks[2::2])
            and np.all(label[first] == label[second])
            and np.all(owner[first] != owner[second])
        )
    if not ok:
        raise DegenerateGeometryError(
            "an edge of the polygon subdivision is not shared by exactly two regions (the "
            "subdivision is not conforming in float64); use the search: bfs(method='search')"
        )
    nb = np.empty(len(key), dtype=np.int64)
    nb[first], nb[second] = owner[second], owner[first]
    return nb


def _check_patterns(net: ReLUNetwork, bits: np.ndarray, points: np.ndarray) -> None:
    """Raise if a forward pass at the inner points clearly disagrees with the patterns.

    ``bits`` are the packed patterns.  "Clearly": the pre-activation is more than
    ``CHECK_RTOL`` times the magnitude of the terms summed into it away from zero.  Two
    regions with one pattern raise too.
    """
    from .store import keys_of

    layers = list(zip(net.weights, net.biases, net.slopes))
    for lo in range(0, len(points) if layers else 0, CHECK_CHUNK):
        h, hs, zs, pos = points[lo : lo + CHECK_CHUNK], [], [], []
        for i, (W, b, slope) in enumerate(layers):
            hs.append(h)
            zs.append(_matmul(h, W.T) + b)
            pos.append(zs[-1] > 0)
            if i + 1 < len(layers):
                h = np.where(pos[-1], zs[-1], slope * zs[-1])
        signs = np.packbits(np.concatenate(pos, axis=1) if len(pos) > 1 else pos[0], axis=1)
        rows = np.nonzero(np.any(signs != bits[lo : lo + CHECK_CHUNK], axis=1))[0]
        if rows.size:
            _check_rows(layers, hs, zs, bits[lo + rows], rows, points[lo + rows])
    if len(set(keys_of(bits))) != len(bits):
        raise DegenerateGeometryError("the polygon split gave two polygons the same pattern")


def _check_rows(
    layers: list, hs: list[Arr], zs: list[Arr], bits: Arr, rows: Arr, points: Arr
) -> None:
    """The close look of :func:`_check_patterns` at the points whose signs differ."""
    zr = np.concatenate([z[rows] for z in zs], axis=1)
    bound = np.concatenate(
        [np.abs(h[rows]) @ np.abs(W).T + np.abs(b) for h, (W, b, _) in zip(hs, layers)], axis=1
    )
    p = np.unpackbits(bits, axis=1, count=zr.shape[1]).astype(bool)
    bad = ((zr > 0) != p) & (np.abs(zr) > CHECK_RTOL * bound)
    if bad.any():
        i, j = (int(v[0]) for v in np.nonzero(bad))
        raise DegenerateGeometryError(
            f"the polygon split gave neuron {j} the sign {1 if p[i, j] else -1} on the region "
            f"around {points[i].tolist()}, where its pre-activation is {zr[i, j]:.3g}"
        )


def _split_all(net: ReLUNetwork, v: Arr, rows: Arr, dom_A: Arr, dom_b: Arr) -> _Mesh:
    """The domain polygon ``v`` (edges on the rows ``rows``) cut by every neuron in turn."""
    m = _Mesh(v, rows, net.n_neurons)
    grads = _term_bounds(net, np.ones(2), bias=False)  # bounds on |grad z_j|
    N = net.n_neurons
    first = 0
    for layer, (W, b) in enumerate(zip(net.weights[:-1], net.biases[:-1])):
        m.next_layer(W, b, None if layer == 0 else net.slopes[layer - 1])
        m.first_layer = first
        m.lines = None
        if layer == 0:  # the lines of the first layer's neurons and the domain's sides
            m.lines = np.zeros((N + len(dom_b), 3))
            m.lines[: len(b)] = np.c_[W, b]
            m.lines[N:] = np.c_[dom_A, dom_b]
        _decide(m, first, 0, W.shape[0])
        decided_at = m.P
        for k in range(W.shape[0]):
            if m.P > REFRESH_GROWTH * decided_at:  # the pieces' marks are stale
                _decide(m, first, k, W.shape[0])
                decided_at = m.P
            _split_neuron(m, first + k, k, float(grads[layer][k]))
        first += W.shape[0]
    return m


def _start_region(
    net: ReLUNetwork, bits: Arr, points: Arr, v: Arr, start: np.ndarray | None
) -> int:
    """The region holding ``start``, or (``None``) the one whose inner point is nearest the
    domain polygon ``v``'s vertex mean."""
    if start is None:
        return int(np.argmin(np.linalg.norm(points - v.mean(axis=0), axis=1)))
    s0 = pack(patterns_of(net, np.asarray(start, dtype=np.float64)[None]))
    hit = np.nonzero(np.all(bits == s0, axis=1))[0]
    if hit.size != 1:
        raise DegenerateGeometryError(f"the start point {start} is in no region of the split")
    return int(hit[0])


def split_polygons(
    net: ReLUNetwork, dom_A: np.ndarray, dom_b: np.ndarray, start: np.ndarray | None = None
) -> PlanarSubdivision:
    """The activation regions of a 2-D network in the polygon ``dom_A x + dom_b <= 0``.

    Parameters
    ----------
    net : ReLUNetwork with 2 inputs.
    dom_A, dom_b : a bounded domain's rows.
    start : a point inside a region (off every line): regions are numbered breadth first
        from its region, neighbours in the order of their facets' neurons.  Without it,
        from the region whose inner point is nearest the domain's centre.

    Raises
    ------
    ValueError
        For a network that does not take 2 inputs, or an unbounded or empty domain.
    DegenerateGeometryError
        When float64 cannot settle the subdivision (see the module's notes).

    Examples
    --------
    >>> import complexlib as cl
    >>> net = cl.as_network(cl.mlp([2, 4, 1], seed=0))
    >>> A, b = cl.Box(-1.0, 1.0).constraints(2)
    >>> sub = split_polygons(net, A, b, start=np.array([0.01, 0.02]))
    >>> len(sub.patterns), sub.depth.tolist()
    (10, [0, 1, 1, 1, 2, 2, 2, 3, 3, 4])
    >>> np.diff(sub.facet_ptr).tolist()  # neuron facets of each region
    [3, 4, 2, 2, 3, 3, 3, 3, 3, 2]
    """
    if net.input_dim != 2:
        raise ValueError(
            f"splitting polygons needs a network with 2 inputs; this one takes {net.input_dim}"
        )
    v, rows = domain_polygon(dom_A, dom_b)
    N = net.n_neurons
    m = _split_all(net, v, rows, dom_A, dom_b)
    P = m.P
    owner, a, b, label = _edges(m)
    is_n = label < N
    nb = _pair_facets(owner[is_n], a[is_n], b[is_n], label[is_n], m.nv)
    f_owner, f_label = owner[is_n], label[is_n]
    order = np.lexsort((f_label, f_owner))
    ptr = np.zeros(P + 1, dtype=np.int64)
    np.cumsum(np.bincount(f_owner, minlength=P), out=ptr[1:])
    f_label, nb = f_label[order], nb[order]
    cnt = m.cnt[:P]
    inside = np.arange(m.poly.shape[1]) < cnt[:, None]
    pts = np.stack([np.where(inside, c[m.poly[:P]], 0.0).sum(axis=1) for c in m.xy], axis=1)
    pts /= cnt[:, None]
    pat = m.pat[:P]
    bits = pack(pat)
    _check_patterns(net, bits, pts)
    perm, depth = bfs_order(ptr, nb, _start_region(net, bits, pts, v, start))
    if len(perm) != P:
        raise DegenerateGeometryError(
            f"the dual graph of the polygon subdivision is not connected ({len(perm)} of {P} "
            "regions reached from the start region)"
        )
    inv = np.empty(P, dtype=np.int64)
    inv[perm] = np.arange(P)
    idx, new_ptr = csr_take(ptr, perm)
    n_dom = np.bincount(owner[~is_n], minlength=P).astype(np.int32)
    return PlanarSubdivision(
        patterns=pat[perm],
        bits=bits[perm],
        points=pts[perm],
        depth=depth,
        n_domain_facets=n_dom[perm],
        facet_ptr=new_ptr,
        facet_neuron=f_label[idx].astype(np.int32),
        facet_neighbor=inv[nb[idx]],
        vertices=m.xy[:, : m.nv].T.copy(),
        poly=m.poly[:P][perm],
        count=cnt[perm],
        edge_label=m.lab[:P][perm],
    )


def _first_box(net: ReLUNetwork, dom_A: Arr, dom_b: Arr, start: Arr | None) -> float:
    """Half-width of a box about the origin holding the first layer's and the domain's
    line crossings, the start point and the lines' nearest points to the origin, twice
    over (the first box :func:`split_domain` tries on an unbounded domain)."""
    L = np.concatenate([np.c_[net.weights[0], net.biases[0]], np.c_[dom_A, dom_b]])
    n = np.linalg.norm(L[:, :2], axis=1)
    L, n = L[n > 0], n[n > 0]
    r = float(np.max(np.abs(L[:, 2]) / n, initial=1.0))
    if start is not None:
        r = max(r, float(np.max(np.abs(start))))
    for lo in range(0, len(L), CROSS_CHUNK):
        a = L[lo : lo + CROSS_CHUNK]
        det = a[:, None, 0] * L[None, :, 1] - L[None, :, 0] * a[:, None, 1]
        ok = np.abs(det) > 1e-12 * n[lo : lo + CROSS_CHUNK, None] * n[None, :]
        det = np.where(ok, det, 1.0)
        x = (a[:, None, 1] * L[None, :, 2] - L[None, :, 1] * a[:, None, 2]) / det
        y = (a[:, None, 2] * L[None, :, 0] - L[None, :, 2] * a[:, None, 0]) / det
        r = max(r, float(np.max(np.where(ok, np.maximum(np.abs(x), np.abs(y)), 0.0))))
    return 2.0 * r + 1.0


def _ids_of(bits: Arr, keys: Arr) -> Arr:
    """Row of ``bits`` equal to each row of ``keys`` (-1 where none)."""
    view = np.dtype((np.void, bits.shape[1]))
    b = np.ascontiguousarray(bits).view(view).ravel()
    k = np.ascontiguousarray(keys).view(view).ravel()
    order = np.argsort(b)
    pos = np.minimum(np.searchsorted(b[order], k), len(b) - 1)
    hit = b[order][pos] == k
    return np.where(hit, order[pos], -1)


def _fine(sub: PlanarSubdivision, n_neurons: int) -> Arr:
    """Polygons with a neuron edge shorter, or a width narrower, than ``FINE_RTOL`` times
    ``1 +`` their distance from the origin (the search kernel's scale; or the domain's
    extent, if smaller): features float64 may have drawn wrongly (a crossing of three
    lines split into two by rounding), to be decided again by the kernel."""
    V = sub.vertices[sub.poly]  # (P, K, 2), padded with vertex 0
    K = V.shape[1]
    k = np.arange(K)
    inside = k < sub.count[:, None]
    nxt = np.where(k + 1 < sub.count[:, None], k + 1, 0)
    E = np.take_along_axis(V, nxt[..., None], axis=1) - V
    length = np.where(inside, np.linalg.norm(E, axis=2), np.inf)
    extent = float(np.max(np.ptp(sub.vertices[1:], axis=0), initial=0.0))
    scale = np.minimum(1.0 + np.linalg.norm(sub.points, axis=1), extent)  # the kernel's
    short = np.any((length < FINE_RTOL * scale[:, None]) & (sub.edge_label < n_neurons), axis=1)
    cross = V[..., 0] * E[..., 1] - V[..., 1] * E[..., 0]
    area2 = np.abs(np.sum(np.where(inside, cross, 0.0), axis=1))
    longest = np.max(np.where(inside, length, 0.0), axis=1)
    return short | (area2 < FINE_RTOL * scale * np.maximum(longest, 1e-300))


def _kernel(net: ReLUNetwork, patterns: Arr, points: Arr, dom_A: Arr, dom_b: Arr) -> Any:
    """The search's facets of the regions ``patterns`` (inner ``points``), in chunks."""
    from .search import BatchResult, process_batch

    if len(patterns) == 0:
        nb = (net.n_neurons + 7) // 8
        e = np.zeros(0)
        return BatchResult(
            e.reshape(0, 2), e, e.astype(bool), e.astype(np.int32), np.zeros(1, np.int64),
            e.astype(np.int32), np.zeros((0, nb), np.uint8), e.reshape(0, 2),
        )  # fmt: skip
    step = KERNEL_CHUNK
    parts = [
        process_batch(net, patterns[lo : lo + step], points[lo : lo + step], dom_A, dom_b)
        for lo in range(0, len(patterns), step)
    ]
    if len(parts) == 1:
        return parts[0]
    ptr = [np.zeros(1, dtype=np.int64)]
    for r in parts:
        ptr.append(ptr[-1][-1] + r.facet_ptr[1:])
    fields = BatchResult.__dataclass_fields__
    cat = {f: np.concatenate([getattr(r, f) for r in parts]) for f in fields}
    cat["facet_ptr"] = np.concatenate(ptr)
    return BatchResult(**cat)


def split_domain(
    net: ReLUNetwork, dom_A: Arr, dom_b: Arr, start: np.ndarray | None = None
) -> PlanarSubdivision:
    """The activation regions of a 2-D network on a polygonal domain, bounded or not (all
    of R^2 included), with the search's facets: :func:`split_polygons`, checked.

    An unbounded domain is cut by a box ``[-s, s]^2`` first (``s`` holds the first
    layer's line crossings twice over).  A polygon off the box's sides is a whole region,
    and its facets are the split's unless it is fine (an edge or a width below
    ``FINE_RTOL (1 + |x|)``, where rounding may have drawn a crossing of three lines as a
    short edge).  The facets of every polygon on a side of the box, and of every fine one,
    are found by the search's own kernel (:func:`complexlib.search.process_batch`, from
    the polygon's inner point).  A region across such a facet that is none of the
    polygons lies wholly outside the box (deeper layers' lines may cross far out): the
    search goes on from there, over facet crossings, until every region across is known.
    The regions found are then closed under crossing facets, and since the dual graph of
    the complex is connected they are all its regions, each once (a region meets the
    convex box in one convex piece).  Every facet must come out listed by both its
    regions.

    Parameters
    ----------
    net : ReLUNetwork with 2 inputs.
    dom_A, dom_b : the domain's rows (none for R^2).
    start : a point inside a region: regions are numbered breadth first from its region,
        neighbours in the order of their facets' neurons (the search's numbering).

    Returns
    -------
    PlanarSubdivision
        On an unbounded domain ``vertices`` holds the vertices of the split and ``poly``,
        ``count`` and ``edge_label`` describe the regions cut by the box (labels from
        ``n_neurons + len(dom_b)`` on are its sides; a region wholly outside it has no
        vertices, ``count`` 0); ``bounded`` tells the regions bounded in the domain.

    Raises
    ------
    DegenerateGeometryError
        When float64 cannot settle the subdivision.

    Examples
    --------
    >>> import complexlib as cl
    >>> net = cl.as_network(cl.mlp([2, 4, 1], seed=0))
    >>> sub = split_domain(net, np.zeros((0, 2)), np.zeros(0), start=np.array([0.01, 0.02]))
    >>> len(sub.patterns), int(sub.bounded.sum())  # 1 + 4 + C(4, 2) regions, 3 bounded
    (11, 3)
    """
    from .domain import domain_is_bounded

    if net.input_dim != 2:
        raise ValueError(
            f"splitting polygons needs a network with 2 inputs; this one takes {net.input_dim}"
        )
    dom_A = np.asarray(dom_A, dtype=np.float64).reshape(-1, 2)
    dom_b = np.asarray(dom_b, dtype=np.float64).reshape(-1)
    N, nd = net.n_neurons, len(dom_b)
    if len(dom_b) and domain_is_bounded(dom_A):
        sub = split_polygons(net, dom_A, dom_b, start=start)
        return _settled(net, sub, np.zeros(len(sub.bits), bool), dom_A, dom_b, start)
    s = _first_box(net, dom_A, dom_b, start)
    box_A, box_b = np.vstack([np.eye(2), -np.eye(2)]), -np.full(4, s)
    try:
        sub = split_polygons(net, np.vstack([dom_A, box_A]), np.r_[dom_b, box_b], start=start)
    except ValueError as exc:  # (the box holds the start point, inside the domain)
        msg = f"the domain cut by the box [-{s:.3g}, {s:.3g}]^2: {exc}"
        raise DegenerateGeometryError(msg) from exc
    inside = np.arange(sub.edge_label.shape[1]) < sub.count[:, None]
    cut = np.any(inside & (sub.edge_label >= N + nd), axis=1)
    return _settled(net, sub, cut, dom_A, dom_b, start)


def _settled(
    net: ReLUNetwork, sub: PlanarSubdivision, cut: Arr, dom_A: Arr, dom_b: Arr, start: Arr | None
) -> PlanarSubdivision:
    """``sub`` with the kernel's facets for the polygons ``cut`` by a box and the fine ones
    (the split's for the fine ones where the kernel's are not listed from both sides, or
    lead to none of the polygons), and the regions outside the box searched."""
    fine = _fine(sub, net.n_neurons) & ~cut
    for use_fine in (True, False) if np.any(fine) else (False,):
        redo = np.nonzero(cut | fine)[0] if use_fine else np.nonzero(cut)[0]
        res = _kernel(net, sub.patterns[redo], sub.points[redo], dom_A, dom_b)
        across = _ids_of(sub.bits, res.neighbor_bits)
        owner = redo[np.repeat(np.arange(len(redo)), np.diff(res.facet_ptr))]
        if np.any((across < 0) & ~cut[owner]):
            if use_fine:
                continue  # a fine polygon's facet leads nowhere: keep the split's facets
            raise DegenerateGeometryError(
                "a region across a facet of the split is none of its polygons"
            )
        out = _outside(net, sub.bits, res, across, dom_A, dom_b)
        try:
            return _closed(sub, redo, res, across, out, start, net, cut)
        except OneSidedError:
            if not use_fine:
                raise
    raise DegenerateGeometryError("the split's polygons are not closed under crossing facets")


@dataclass
class _Outside:
    """Regions wholly outside the box, found by the search (ids from ``P`` on)."""

    bits: Arr  # (E, nbytes)
    points: Arr  # (E, 2)
    results: list  # BatchResult per round
    across: list  # ids of the regions across each round's facets


def _outside(
    net: ReLUNetwork, bits: Arr, res: Any, across: Arr, dom_A: Arr, dom_b: Arr
) -> _Outside:
    """Search, over facet crossings, the regions across ``res``'s facets that are none of
    the polygons ``bits`` (``across < 0``; filled in with their ids), and beyond."""
    P = len(bits)
    found: dict[bytes, int] = {}
    new_bits: list[Arr] = []
    new_pts: list[Arr] = []
    out = _Outside(np.zeros((0, bits.shape[1]), np.uint8), np.zeros((0, 2)), [], [])

    def name(r: Any, ids: Arr) -> Arr:
        """Give ids to the unknown regions across ``r``'s facets (in ``ids``); return the
        ids of the regions new among them, to process next."""
        todo = []
        for k in np.nonzero(ids < 0)[0]:
            key = r.neighbor_bits[k].tobytes()
            if key not in found:
                found[key] = P + len(found)
                new_bits.append(r.neighbor_bits[k])
                new_pts.append(r.neighbor_point[k])
                todo.append(found[key])
            ids[k] = found[key]
        return np.array(todo, dtype=np.int64)

    todo = name(res, across)
    while todo.size:
        tb = np.array([new_bits[i - P] for i in todo])
        r = _kernel(
            net, unpack(tb, net.n_neurons), np.array([new_pts[i - P] for i in todo]), dom_A, dom_b
        )
        ids = _ids_of(bits, r.neighbor_bits)
        out.results.append(r)
        out.across.append(ids)
        todo = name(r, ids)
    if new_bits:
        out.bits, out.points = np.array(new_bits), np.array(new_pts)
    return out


class OneSidedError(DegenerateGeometryError):
    """A facet listed by one of its two regions only."""


def _closed(
    sub: PlanarSubdivision,
    redo: Arr,
    res: Any,
    across: Arr,
    out: _Outside,
    start: Arr | None,
    net: ReLUNetwork,
    cut: Arr,
) -> PlanarSubdivision:
    """``sub`` with the facets of the polygons ``redo`` replaced by the kernel's (``res``,
    neighbours ``across``) and the regions ``out`` added, checked from both sides,
    renumbered breadth first; the polygons ``cut`` by a box and the regions outside are
    bounded when the kernel says so, the other polygons are."""
    P0 = len(sub.patterns)
    P = P0 + len(out.bits)
    keys = np.sort(
        np.ascontiguousarray(sub.bits).view(np.dtype((np.void, sub.bits.shape[1]))).ravel()
    )
    if np.any(keys[1:] == keys[:-1]):
        raise DegenerateGeometryError("two polygons of the split carry the same pattern")
    # per region: where its facets come from (the split, or a kernel result and its rows)
    blocks = [(redo, res, across)]
    lo = P0
    for r, ids in zip(out.results, out.across):
        blocks.append((np.arange(lo, lo + len(r.bounded)), r, ids))
        lo += len(r.bounded)
    new_cnt = np.zeros(P, dtype=np.int64)
    new_cnt[:P0] = np.diff(sub.facet_ptr)
    n_dom = np.zeros(P, dtype=np.int32)
    n_dom[:P0] = sub.n_domain_facets
    bounded = np.ones(P, dtype=bool)
    bounded[:P0] = ~cut
    is_redo = np.zeros(P, dtype=bool)
    for ids, r, _ in blocks:
        is_redo[ids] = True
        new_cnt[ids] = np.diff(r.facet_ptr)
        n_dom[ids] = r.n_domain_facets
        bounded[ids] = r.bounded | ~np.r_[cut, np.ones(P - P0, bool)][ids]
    ptr = np.zeros(P + 1, dtype=np.int64)
    np.cumsum(new_cnt, out=ptr[1:])
    neuron = np.empty(ptr[-1], dtype=np.int32)
    nb = np.empty(ptr[-1], dtype=np.int64)
    cnt = np.diff(sub.facet_ptr)
    own = np.repeat(np.arange(P0), cnt)
    keep = ~is_redo[own]
    at = ptr[own] + np.arange(len(own)) - sub.facet_ptr[own]
    neuron[at[keep]], nb[at[keep]] = sub.facet_neuron[keep], sub.facet_neighbor[keep]
    for ids, r, acr in blocks:
        rown = np.repeat(np.arange(len(ids)), np.diff(r.facet_ptr))
        at = ptr[ids[rown]] + np.arange(len(rown)) - r.facet_ptr[rown]
        neuron[at], nb[at] = r.facet_neuron, acr
    owner = np.repeat(np.arange(P), new_cnt)
    # facets by neuron within each region, as the split and the search list them
    order = np.lexsort((neuron, owner))
    neuron, nb = neuron[order], nb[order]
    there = np.sort(owner * P + nb)
    back = nb * P + owner
    pos = np.minimum(np.searchsorted(there, back), max(len(there) - 1, 0))
    bits = np.concatenate([sub.bits, out.bits]) if len(out.bits) else sub.bits
    if len(back) and not np.all(there[pos] == back):
        k = int(np.argmax(there[pos] != back))
        raise OneSidedError(
            f"the facet (neuron {neuron[k]}) between the regions of packed patterns "
            f"{bits[owner[k]].tolist()} and {bits[nb[k]].tolist()} is listed by one of "
            "them only"
        )
    s0 = 0 if start is None else _start_region(net, sub.bits, sub.points, sub.vertices, start)
    perm, depth = bfs_order(ptr, nb, s0)
    if len(perm) != P:
        raise DegenerateGeometryError(
            f"the dual graph of the split is not connected ({len(perm)} of {P} regions)"
        )
    inv = np.empty(P, dtype=np.int64)
    inv[perm] = np.arange(P)
    idx, new_ptr = csr_take(ptr, perm)
    E = P - P0
    pad = np.zeros((E, sub.poly.shape[1]), dtype=np.int64)
    return PlanarSubdivision(
        patterns=np.concatenate([sub.patterns, _unpack_or_empty(out.bits, sub.patterns)])[perm],
        bits=bits[perm],
        points=np.concatenate([sub.points, out.points])[perm],
        depth=depth,
        n_domain_facets=n_dom[perm],
        facet_ptr=new_ptr,
        facet_neuron=neuron[idx],
        facet_neighbor=inv[nb[idx]],
        vertices=sub.vertices,
        poly=np.concatenate([sub.poly, pad])[perm],
        count=np.r_[sub.count, np.zeros(E, dtype=sub.count.dtype)][perm],
        edge_label=np.concatenate([sub.edge_label, pad])[perm],
        bounded=bounded[perm],
    )


def _unpack_or_empty(bits: Arr, like: Arr) -> Arr:
    """``bits`` unpacked to patterns of ``like``'s width (none: an empty array)."""
    if len(bits) == 0:
        return np.zeros((0, like.shape[1]), dtype=like.dtype)
    return unpack(bits, like.shape[1])
