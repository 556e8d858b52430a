"""Activation regions of a 2-D network in a bounded polygon, by splitting polygons.

The domain polygon is cut by the zero set of every hidden neuron in turn, layer by layer
and in weight-row order within a layer.  When neuron ``j`` of layer ``l`` comes, every
current polygon carries one activation pattern of the layers before ``l``, so ``z_j`` is
affine on it and its zero set is a line: a polygon with vertices on both sides of that
line is cut in two along it, the others take the sign of ``z_j`` on their vertices (``-1``
where ``z_j`` is identically zero).  After the last neuron the polygons are the activation
regions intersected with the domain.

Everything is carried by the vertices.  Each vertex of the pool holds its coordinates and
the pre-activations ``z`` of the current layer there (for a layer with fewer inputs than
neurons, the first one always, its inputs ``h``, and ``z_j = W_j h + b_j`` is computed
when neuron ``j`` comes: the first layer then costs two numbers per vertex, not its
width).  A cut vertex on the edge ``(a, b)`` is the point where ``z_j`` vanishes along the
edge, and since every pre-activation is affine on the edge (it lies in the closure of a
polygon) its values are interpolated:

.. math:: t = \\frac{z_j(a)}{z_j(a) - z_j(b)}, \\qquad
          v = a + t (b - a), \\qquad z(v) = z(a) + t\\,(z(b) - z(a)),\\; z_j(v) = 0 .

The next layer's pre-activations at every vertex are one product,
``W_{l+1} act(z_l) + b_{l+1}``: a vertex of a polygon lies in its closure, where the
neurons of the polygon's pattern have the sign the polygon gives them (or are zero), so
the vertex's own activation is the polygon's.

Vertices are shared: the two pieces of a cut share the two cut vertices, and a cut vertex
is made once per edge (keyed by the edge's two vertex ids), so the two polygons on either
side of an edge always hold it with the same two vertices.  The subdivision stays
conforming, every neuron edge is listed by exactly two polygons, and the dual graph is read
off by pairing edges, with no point location.

Exactness: a value ``|z_j(v)| <= SNAP_RTOL * S_j`` is taken as zero, ``S_j`` bounding the
magnitudes of the terms summed into ``z_j`` anywhere in the domain (absolute weights
propagated from the domain's largest coordinates).  A cut that leaves a piece narrower
than ``WIDTH_RTOL`` times the domain's largest coordinate (width: twice the area over
the longest side; only pieces whose values are small enough for all their vertices to
lie that close to the line are measured) is a rounding sliver: the vertices on its side
are moved onto the line and the cut is made again.  This is the rule of the independent
reference splitter of the tests; the search (:mod:`complexlib.search`) keeps such a
region when its facets are longer than its own tolerance, so the two can differ on
networks with a line within ``1e-9`` of a crossing, and nowhere else.  The patterns kept
are checked against a forward pass at a point inside each polygon, and a subdivision that
is not conforming raises :class:`~complexlib.DegenerateGeometryError` instead of giving a
wrong dual graph.

Cost: one round of array operations per neuron, over the polygons it may cut (those it
cut when its layer started, or when the polygons last grew ``REFRESH_GROWTH``-fold), with
no Python loop over polygons.  Regions are numbered breadth first from the start region,
neighbours in the order of their facets' neurons: the numbering of
:meth:`Complex.bfs <complexlib.Complex.bfs>`, whose store this gives exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .domain import domain_polygon
from .exceptions import DegenerateGeometryError
from .graph import bfs_order, csr_take
from .network import ReLUNetwork
from .patterns import pack, patterns_of

__all__ = ["PlanarSubdivision", "split_polygons"]

Arr = np.ndarray

#: a pre-activation within this fraction of its terms' magnitude bound is zero
SNAP_RTOL = 1e-12
#: pieces narrower than this fraction of the domain's largest coordinate are slivers
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


class _Mesh:
    """Convex polygons over a shared pool of vertices, with their patterns.

    Pool row 0 is a dummy vertex (all zeros) that pads the polygons' vertex rows, so
    sign tests over a padded row need no mask.  The pool holds, per vertex, the current
    layer's pre-activations, or (``lazy``: layers with fewer inputs than neurons, the
    first one always) the layer's inputs, from which a neuron's values are computed
    when it comes; ``zeroed`` then keeps the vertices moved onto a neuron's line.
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
        self.lazy = False
        self.W = self.b = self.tol = np.zeros(0)
        self.zeroed: dict[int, list[np.ndarray]] = {}

    # -- values ----------------------------------------------------------
    def values(self, idx: np.ndarray, k0: int, k1: int) -> np.ndarray:
        """Pre-activations of neurons ``k0..k1-1`` of the layer at the vertices ``idx``."""
        if not self.lazy:
            return self.z[idx, k0:k1]
        out = _matmul(self.z[idx], self.W[k0:k1].T) + self.b[k0:k1]
        _snap(out, self.tol[k0:k1])
        out[idx == 0] = 0.0  # the padding vertex
        for k, ids in self.zeroed.items():
            if k0 <= k < k1:
                out[..., k - k0][np.isin(idx, np.concatenate(ids))] = 0.0
        return out

    def set_zero(self, ids: np.ndarray, k: int) -> None:
        """Put the vertices ``ids`` on the line of neuron ``k``."""
        if self.lazy:
            self.zeroed.setdefault(k, []).append(ids)
        else:
            self.z[ids, k] = 0.0

    # -- storage ---------------------------------------------------------
    def add_vertices(self, xy: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Append vertices (columns of ``xy`` (2, n), rows of ``z`` (n, w)); returns their ids."""
        n = xy.shape[1]
        if self.nv + n > self.xy.shape[1]:
            cap = max(2 * self.xy.shape[1], self.nv + n)
            self.xy = _grown(self.xy, cap, axis=1)
            self.z = _grown(self.z, cap, axis=0)
        ids = np.arange(self.nv, self.nv + n)
        self.xy[:, ids] = xy
        self.z[ids] = z
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
    def next_layer(
        self, W: np.ndarray, b: np.ndarray, slope: float | None, tol: np.ndarray
    ) -> None:
        """Pre-activations of the next layer at every vertex, snapped to zero within ``tol``.

        ``slope`` is the activation's negative slope after the current layer (``None``
        before the first layer: the inputs are the coordinates).
        """
        nv = self.nv
        if slope is None:
            h = self.xy[:, :nv].T
        else:
            zc = self.values(np.arange(nv), 0, len(self.b))
            h = np.where(zc > 0, zc, slope * zc) if slope else np.maximum(zc, 0.0)
        self.lazy = h.shape[1] < W.shape[0]
        self.W, self.b, self.tol, self.zeroed = W, b, tol, {}
        z = np.zeros((self.xy.shape[1], h.shape[1] if self.lazy else W.shape[0]))
        if self.lazy:
            z[:nv] = h
        else:
            z[:nv] = _matmul(h, W.T) + b
            _snap(z[:nv], tol)
        z[0] = 0.0
        self.z = z
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
    """Set values within ``tol`` (per column) of zero to exactly zero, in place."""
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
        S = m.values(m.poly[lo:hi], k0, width)  # (rows, K, w)
        pos = (S > 0).any(axis=1)
        neg = (S < 0).any(axis=1)
        m.may[lo:hi, k0:width] = pos & neg
        m.pat[lo:hi, first + k0 : first + width] = np.where(pos, 1, -1)


def _cut_vertices(m: _Mesh, a: Arr, b: Arr, k: int, tol: Arr) -> Arr:
    """Cut vertices on the edges ``(a, b)`` (made once per edge); their ids, like ``a``.

    Their pre-activations are interpolated along the edge and snapped within ``tol``;
    neuron ``k``'s is exactly zero.
    """
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = lo * m.nv + hi
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    ua, ub = lo[first], hi[first]
    sa, sb = m.values(ua, k, k + 1)[:, 0], m.values(ub, k, k + 1)[:, 0]
    t = sa / (sa - sb)
    xy = m.xy[:, ua] + t * (m.xy[:, ub] - m.xy[:, ua])
    za, zb = m.z[ua], m.z[ub]
    z = za + t[:, None] * (zb - za)
    if not m.lazy:
        _snap(z, tol)
        z[:, k] = 0.0
    return m.add_vertices(xy, z)[inv.reshape(-1)]


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


def _slivers(m: _Mesh, S: Arr, pid: Arr, count: Arr, reach: float, min_width: float) -> Arr | None:
    """Which pieces (``+`` then ``-``) are slivers, or ``None`` when none can be.

    A piece can only be a sliver when its vertices' values are at most ``reach`` (the
    neuron's gradient bound times ``min_width``): they are all within ``min_width`` of
    the line.  Those pieces are slivers when their width is at most ``min_width``.
    """
    near = np.concatenate([S.max(axis=1), -S.min(axis=1)]) <= reach
    if not near.any():
        return None
    thin = np.zeros(len(near), dtype=bool)
    idx = np.nonzero(near)[0]
    thin[idx] = _widths(m.xy, pid[idx], count[idx])[1] <= min_width
    return thin if thin.any() else None


def _split_neuron(m: _Mesh, j: int, k: int, tol: Arr, reach: float, min_width: float) -> None:
    """Cut every polygon that neuron ``j`` (row ``k`` of its layer) cuts.

    ``tol`` holds the layer's zero tolerances; pieces narrower than ``min_width`` within
    ``reach`` of the line are slivers (see :func:`_slivers`, :func:`_snap_slivers`).
    """
    rows = np.nonzero(m.may[: m.P, k])[0]
    while rows.size:
        S = m.values(m.poly[rows], k, k + 1)[..., 0]
        pos, neg = (S > 0).any(axis=1), (S < 0).any(axis=1)
        m.pat[rows, j] = np.where(pos, 1, -1)
        cutting = pos & neg
        r, S = rows[cutting], S[cutting]
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
        cutid[cut] = _cut_vertices(m, ids[cut], ids[ri, nxt][cut], k, tol)
        pid, plab, count = _pieces(S, Sn, ids, lab, cnt, cutid, cut, j)
        thin = _slivers(m, S, pid, count, reach, min_width)
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


def _check_patterns(
    net: ReLUNetwork, bits: np.ndarray, points: np.ndarray, bounds: list[np.ndarray]
) -> None:
    """Raise if a forward pass at the inner points clearly disagrees with the patterns.

    ``bits`` are the packed patterns.  "Clearly": the pre-activation is more than
    ``CHECK_RTOL`` times its terms' bound ``bounds`` (per layer) away from zero.  Two
    regions with one pattern raise too.
    """
    from .store import keys_of

    bound = np.concatenate(bounds) if bounds else np.zeros(0)
    layers = list(zip(net.weights, net.biases, net.slopes))
    for lo in range(0, len(points) if layers else 0, CHECK_CHUNK):
        h, zs, pos = points[lo : lo + CHECK_CHUNK], [], []
        for i, (W, b, slope) in enumerate(layers):
            zs.append(_matmul(h, W.T) + b)
            pos.append(zs[-1] > 0)
            if i + 1 < len(layers):
                h = np.where(pos[-1], zs[-1], slope * zs[-1])
        signs = np.packbits(np.concatenate(pos, axis=1) if len(pos) > 1 else pos[0], axis=1)
        rows = np.nonzero(np.any(signs != bits[lo : lo + CHECK_CHUNK], axis=1))[0]
        if rows.size == 0:
            continue
        zr = np.concatenate([z[rows] for z in zs], axis=1)
        p = np.unpackbits(bits[lo + rows], axis=1, count=zr.shape[1]).astype(bool)
        bad = ((zr > 0) != p) & (np.abs(zr) > CHECK_RTOL * bound)
        if bad.any():
            i, j = (int(v[0]) for v in np.nonzero(bad))
            raise DegenerateGeometryError(
                f"the polygon split gave neuron {j} the sign {1 if p[i, j] else -1} on the "
                f"region around {points[lo + rows[i]].tolist()}, where its pre-activation is "
                f"{zr[i, j]:.3g}"
            )
    if len(set(keys_of(bits))) != len(bits):
        raise DegenerateGeometryError("the polygon split gave two polygons the same pattern")


def _split_all(net: ReLUNetwork, v: np.ndarray, rows: np.ndarray) -> _Mesh:
    """The domain polygon ``v`` cut by every neuron, layer by layer."""
    m = _Mesh(v, rows, net.n_neurons)
    bounds = _term_bounds(net, np.abs(v).max(axis=0))
    slopes = _term_bounds(net, np.ones(2), bias=False)  # bounds on |grad z_j|
    min_width = WIDTH_RTOL * float(np.abs(v).max())
    first = 0
    for layer, (W, b) in enumerate(zip(net.weights[:-1], net.biases[:-1])):
        tol = SNAP_RTOL * bounds[layer]
        m.next_layer(W, b, None if layer == 0 else net.slopes[layer - 1], tol)
        _decide(m, first, 0, W.shape[0])
        decided_at = m.P
        reach = slopes[layer] * min_width
        for k in range(W.shape[0]):
            if m.P > REFRESH_GROWTH * decided_at:  # the pieces' marks are stale
                _decide(m, first, k, W.shape[0])
                decided_at = m.P
            _split_neuron(m, first + k, k, tol, float(reach[k]), min_width)
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
    m = _split_all(net, v, rows)
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
    _check_patterns(net, bits, pts, _term_bounds(net, np.abs(v).max(axis=0)))
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
