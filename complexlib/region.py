"""A single activation region, built on demand (never in the search's hot path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from .geometry import _halfspaces_from_maps, affine_maps, region_geometry
from .network import ReLUNetwork, check_points

__all__ = ["Region", "build_region"]


@dataclass
class Region:
    """An activation region ``{x : A x + b <= 0}`` and the network on it, ``f = W x + c``.

    Attributes
    ----------
    pattern : (n_neurons,) int8, +1/-1
    A, b : halfspaces, one row per neuron then one per domain side
    facets : neuron indices of the neuron facets (lowest index of coincident neurons)
    domain_facets : number of facets on the domain's sides
    center, inradius : Chebyshev ball (``inradius = inf`` when arbitrarily large balls fit)
    W, c : the affine map of the network on the region
    bounded : whether the region (within the domain) is bounded
    index : position in the complex, or ``None``
    """

    pattern: np.ndarray
    A: np.ndarray
    b: np.ndarray
    facets: np.ndarray
    domain_facets: int
    center: np.ndarray
    inradius: float
    W: np.ndarray
    c: np.ndarray
    bounded: bool
    index: int | None = None
    _vertices: np.ndarray | None = field(default=None, repr=False)
    _rays: np.ndarray | None = field(default=None, repr=False)

    @property
    def dim(self) -> int:
        return self.A.shape[1]

    def contains(self, x: Any, tol: float = 1e-9) -> np.ndarray | bool:
        """Whether ``x`` (a point or a batch) lies in the closed region.

        ``tol`` is relative to ``1 + |x|`` and the rows' norms.
        """
        pts = check_points(x, self.dim)
        nrm = np.linalg.norm(self.A, axis=1)
        vals = pts @ self.A.T + self.b
        scale = (1.0 + np.linalg.norm(pts, axis=1))[:, None] * np.maximum(nrm, 1e-300)
        live = nrm > 0
        inside = np.all(~live | (vals <= tol * scale), axis=1) & bool(np.all(live | (self.b <= 0)))
        return bool(inside[0]) if np.ndim(x) == 1 else inside

    def __call__(self, x: Any) -> np.ndarray:
        """The network's affine map on the region, ``W x + c``."""
        pts = check_points(x, self.dim)
        return pts @ self.W.T + self.c

    def _geometry(self) -> None:
        g = region_geometry(self.A, self.b, x0=self.center, want_vertices=True)
        self._vertices = g.vertices if g.vertices is not None else np.zeros((0, self.dim))
        self._rays = g.rays if g.rays is not None else np.zeros((0, self.dim))

    @property
    def vertices(self) -> np.ndarray:
        """Vertices of the region (for unbounded regions the finite ones; none if it has lines).

        Computed with qhull in the polar, so for modest dimensions (``d <= 9``).
        """
        if self._vertices is None:
            self._geometry()
        assert self._vertices is not None
        return self._vertices

    @property
    def rays(self) -> np.ndarray:
        """Extreme rays of the recession cone of a pointed unbounded region (else empty)."""
        if self._rays is None:
            self._geometry()
        assert self._rays is not None
        return self._rays

    @cached_property
    def volume(self) -> float:
        """Volume of a bounded region (``inf`` if unbounded); qhull, so modest d only."""
        if not self.bounded:
            return np.inf
        from scipy.spatial import ConvexHull

        V = self.vertices
        if self.dim == 1:
            return float(V.max() - V.min())
        return float(ConvexHull(V).volume)


def build_region(
    net: ReLUNetwork,
    pattern: np.ndarray,
    dom_A: np.ndarray,
    dom_b: np.ndarray,
    index: int | None = None,
    lp: str = "highs",
    device: Any = None,
) -> Region:
    """Compute the :class:`Region` of one pattern."""
    pattern = np.asarray(pattern, dtype=np.int8).reshape(1, -1)
    Z, out, bound = affine_maps(net, pattern, device)
    A, b = _halfspaces_from_maps(Z, bound, pattern)
    N = net.n_neurons
    Ai = np.vstack([A[0], dom_A])
    bi = np.concatenate([b[0], dom_b])
    g = region_geometry(Ai, bi, lp=lp)
    neuron = [int(r.min()) for r in g.facet_rows if not np.any(r >= N)]
    dom = sum(1 for r in g.facet_rows if np.any(r >= N))
    d = net.input_dim
    return Region(
        pattern=pattern[0],
        A=Ai,
        b=bi,
        facets=np.array(sorted(neuron), dtype=np.int64),
        domain_facets=dom,
        center=g.center,
        inradius=g.inradius,
        W=out[0, :, :d],
        c=out[0, :, d],
        bounded=g.bounded,
        index=index,
    )
