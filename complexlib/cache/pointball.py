"""The earlier "hypersphere caching" design, kept as the baseline of the region cache.

One entry per missed query point ``x``: the ball of radius ``min_j |z_j(x)| / ||a_j||``
(the exact distance to the nearest hyperplane, from :func:`complexlib.linearize_at_point`)
and the affine map at ``x``.  Lookup: the last ball hit, the balls added since the index was
built (linear scan), the index (``k`` nearest centres, radius checked), else a miss:
linearise the point and add its ball; the index is rebuilt every ``rebuild_threshold``
insertions.  ``benchmarks/bench_cache.py`` measures the region cache against it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..linearize import linearize_at_point
from ..network import as_network
from .index import AnchorIndex, make_index

__all__ = ["PointBallCache"]


class PointBallCache:
    """Balls around query points, each with its point's affine map (float64, numpy).

    Examples
    --------
    >>> import numpy as np
    >>> net = [(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))]
    >>> balls = PointBallCache(net)
    >>> balls([1.0, 2.0]), balls([1.1, 2.0])
    (array([3.]), array([3.1]))
    >>> balls.hits, balls.misses, len(balls)
    (1, 1, 1)
    """

    def __init__(
        self, net: Any, rebuild_threshold: int = 10, k: int = 4, index: str = "balltree"
    ) -> None:
        self.net = as_network(net)
        d, o = self.net.input_dim, self.net.output_dim
        self.centers = np.zeros((0, d))
        self.radii = np.zeros(0)
        self.W = np.zeros((0, o, d))
        self.c = np.zeros((0, o))
        self.k, self.index, self.rebuild_threshold = k, index, rebuild_threshold
        self.tree: AnchorIndex | None = None
        self.tree_n = 0
        self.last = -1
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return int(self.radii.shape[0])

    def _inside(self, x: np.ndarray, i: Any) -> Any:
        return np.linalg.norm(self.centers[i] - x, axis=-1) < self.radii[i]

    def find(self, x: np.ndarray) -> int:
        """Index of a ball containing ``x`` (last hit, newest balls, index), else -1."""
        if self.last >= 0 and self._inside(x, self.last):
            return self.last
        n = len(self)
        if n > self.tree_n:
            recent = np.arange(self.tree_n, n)
            ok = recent[self._inside(x, recent)]
            if ok.size:
                return int(ok[0])
        if self.tree is not None:
            ind = self.tree.query(x[None], self.k)[0]
            ind = ind[ind >= 0]
            ok = ind[self._inside(x, ind)]
            if ok.size:
                return int(ok[0])
        return -1

    def __call__(self, x: Any) -> np.ndarray:
        """``f(x)`` for one point: from a ball, else linearise ``x`` and add its ball."""
        x = np.asarray(x, dtype=np.float64)
        i = self.find(x)
        if i >= 0:
            self.hits += 1
            self.last = i
            return self.W[i] @ x + self.c[i]
        self.misses += 1
        lin = linearize_at_point(self.net, x, halfspaces=False)
        self._append(x[None], lin)
        self.last = len(self) - 1
        if len(self) - self.tree_n >= self.rebuild_threshold:
            self.rebuild()
        return lin.output[0]

    def _append(self, X: np.ndarray, lin: Any) -> None:
        self.centers = np.vstack([self.centers, X])
        self.radii = np.r_[self.radii, lin.radius]
        self.W = np.concatenate([self.W, lin.W])
        self.c = np.concatenate([self.c, lin.c])

    def add(self, X: np.ndarray) -> None:
        """Insert the balls of the points ``X`` (to fill the cache for timing)."""
        self._append(X, linearize_at_point(self.net, X, halfspaces=False))
        self.rebuild()

    def rebuild(self) -> None:
        self.tree = make_index(self.index, self.centers)
        self.tree_n = len(self)

    def batch(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised lookup of a batch (hits only; misses are not inserted): out, hit."""
        if self.tree is None or self.tree_n != len(self):
            self.rebuild()
        tree = self.tree if self.tree is not None else make_index(self.index, self.centers)
        ind = tree.query(X, self.k)
        safe = np.maximum(ind, 0)
        dist = np.linalg.norm(self.centers[safe] - X[:, None], axis=2)
        ok = (ind >= 0) & (dist < self.radii[safe])
        first = np.where(ok.any(1), safe[np.arange(len(X)), ok.argmax(1)], -1)
        f = np.maximum(first, 0)
        return np.einsum("nod,nd->no", self.W[f], X) + self.c[f], first >= 0

    def bytes_per_entry(self) -> dict[str, int]:
        """Bytes one ball holds, by component (counted as the region cache counts its own).

        Examples
        --------
        >>> import numpy as np
        >>> PointBallCache([(np.ones((1, 4)), np.zeros(1))]).bytes_per_entry()
        {'point ball x0, r0': 40, 'affine map W, c': 40}
        """
        d, o = self.net.input_dim, self.net.output_dim
        return {"point ball x0, r0": 8 * (d + 1), "affine map W, c": 8 * (o * d + o)}
