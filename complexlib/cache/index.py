"""Nearest-anchor indexes for the region cache: a name -> implementation registry.

The cache keeps anchor points (the point that created each cached region, and later
points found to lie in it) and asks an index for the ``k`` anchors nearest to each query;
their regions are the candidates whose halfspaces are then tested exactly.  The index only
proposes candidates, so which one is used changes speed, never answers.

========== =====================================================================
name       implementation
========== =====================================================================
balltree   ``sklearn.neighbors.BallTree`` when scikit-learn is installed, else
           ``scipy.spatial.cKDTree`` (scikit-learn is not a dependency; the backend
           actually used is reported as ``HypersphereCache.stats()["index"]``)
kdtree     ``scipy.spatial.cKDTree``
brute      exact distances to every anchor with ``torch.cdist`` on the cache's device
           (no tree; good on a GPU or for small caches)
========== =====================================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..exceptions import UnknownBackendError

__all__ = ["INDEXES", "AnchorIndex", "make_index", "check_index_name", "index_backend"]

#: Valid ``index=`` names of :class:`complexlib.HypersphereCache`.
INDEXES = ("balltree", "kdtree", "brute")


def check_index_name(name: Any) -> str:
    """Return ``name`` if it is a known index, else raise with the valid names.

    Examples
    --------
    >>> check_index_name("kdtree")
    'kdtree'
    >>> try:
    ...     check_index_name("octree")
    ... except ValueError as exc:
    ...     print(exc)
    unknown index 'octree'; valid: balltree, kdtree, brute
    """
    if not isinstance(name, str) or name not in INDEXES:
        raise UnknownBackendError(f"unknown index {name!r}; valid: {', '.join(INDEXES)}")
    return name


def index_backend(name: str) -> str:
    """The implementation ``make_index(name, ...)`` uses here (scikit-learn installed or not).

    Examples
    --------
    >>> index_backend("kdtree")
    'scipy.cKDTree'
    """
    name = check_index_name(name)
    if name == "brute":
        return _Brute.backend
    if name == "balltree":
        try:
            import sklearn.neighbors  # noqa: F401
        except ImportError:
            return _CKDTree.backend
        return "sklearn.BallTree"
    return _CKDTree.backend


class AnchorIndex:
    """A static set of anchor points answering ``k``-nearest queries.

    ``query(y, k, bound)`` returns an ``(m, k)`` int64 array of the positions of the ``k``
    anchors nearest to each row of ``y``, ``-1`` where there are fewer than ``k`` anchors
    within distance ``bound`` (a bound lets the trees prune).
    """

    backend: str = ""
    #: the most (query, anchor) pairs for which a brute-force search is cheaper than a query
    brute_pairs: int = 0

    def __init__(self, points: np.ndarray) -> None:
        self.n = int(points.shape[0])

    def query(self, y: Any, k: int, bound: float = np.inf) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class _CKDTree(AnchorIndex):
    backend = "scipy.cKDTree"

    def __init__(self, points: np.ndarray) -> None:
        from scipy.spatial import cKDTree

        super().__init__(points)
        self.tree = cKDTree(points) if self.n else None

    def query(self, y: Any, k: int, bound: float = np.inf) -> np.ndarray:
        q = np.asarray(y, dtype=np.float64)
        if self.tree is None or q.shape[0] == 0:
            return np.full((q.shape[0], k), -1, dtype=np.int64)
        _, ind = self.tree.query(q, k=k, distance_upper_bound=bound)
        ind = np.asarray(ind, dtype=np.int64).reshape(q.shape[0], k)
        ind[ind >= self.n] = -1
        return ind


class _SklearnTree(AnchorIndex):
    brute_pairs = 1 << 14  # its query checks its input first (~40 us a call)

    def __init__(self, points: np.ndarray, cls: Any, backend: str) -> None:
        super().__init__(points)
        self.backend = backend
        self.tree = cls(points) if self.n else None

    def query(self, y: Any, k: int, bound: float = np.inf) -> np.ndarray:
        q = np.asarray(y, dtype=np.float64)
        out = np.full((q.shape[0], k), -1, dtype=np.int64)
        if self.tree is None or q.shape[0] == 0:
            return out
        kk = min(k, self.n)
        dist, ind = self.tree.query(q, k=kk)
        out[:, :kk] = np.where(dist <= bound, ind, -1)
        return out


class _Brute(AnchorIndex):
    backend = "torch.cdist"
    brute_pairs = 1 << 14  # the same search in numpy, without torch's cost per operation

    def __init__(self, points: np.ndarray, device: Any, dtype: Any) -> None:
        import torch

        super().__init__(points)
        self.points = torch.as_tensor(points, dtype=dtype, device=device)

    def query(self, y: Any, k: int, bound: float = np.inf) -> np.ndarray:
        import torch

        q = torch.as_tensor(y, dtype=self.points.dtype, device=self.points.device)
        out = np.full((q.shape[0], k), -1, dtype=np.int64)
        if self.n == 0 or q.shape[0] == 0:
            return out
        kk = min(k, self.n)
        top = torch.cdist(q, self.points).topk(kk, dim=1, largest=False)
        ind = torch.where(top.values <= bound, top.indices, -1)
        out[:, :kk] = ind.cpu().numpy()
        return out


def make_index(name: str, points: np.ndarray, device: Any = None, dtype: Any = None) -> AnchorIndex:
    """Build the index ``name`` (see :data:`INDEXES`) over ``points`` of shape ``(n, d)``.

    Examples
    --------
    >>> import numpy as np
    >>> idx = make_index("kdtree", np.array([[0.0, 0.0], [1.0, 0.0]]))
    >>> idx.query(np.array([[0.9, 0.1]]), 3)
    array([[ 1,  0, -1]])
    >>> idx.query(np.array([[0.9, 0.1]]), 3, bound=0.5)
    array([[ 1, -1, -1]])
    """
    name = check_index_name(name)
    points = np.ascontiguousarray(points, dtype=np.float64)
    if name == "brute":
        return _Brute(points, device, dtype)
    if name == "balltree":
        try:
            from sklearn.neighbors import BallTree
        except ImportError:
            return _CKDTree(points)
        return _SklearnTree(points, BallTree, "sklearn.BallTree")
    return _CKDTree(points)
