"""Anchor points of the region cache and the ball index over them.

An anchor is a point known to lie in a cached region: the point that created each region,
and later points found in one (a ring buffer of ``EXTRA_ANCHORS``).  The index proposes,
for a query, the regions of its nearest anchors; the exact membership test decides.  The
index is rebuilt after ``rebuild_threshold`` new anchors; anchors newer than it are searched
by brute force until then (and past ``MAX_PENDING`` of them the index is rebuilt anyway).
Stale anchors (their region was evicted) are recognised by the slot's generation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .index import AnchorIndex, make_index
from .store import RegionStore

__all__ = ["AnchorSet", "EXTRA_ANCHORS", "MAX_PENDING"]

#: Extra anchors kept (a ring buffer; the creating point of every region is always kept).
EXTRA_ANCHORS = 8192
#: Up to this many (query, anchor) pairs the k nearest anchors are found by brute force in
#: numpy (the same anchors the index returns) where the index says brute force is cheaper
#: (``AnchorIndex.brute_pairs``): scikit-learn's ``BallTree.query`` spends ~40 us checking
#: its input, while one query against 16,384 anchors in 4-D takes ~56 us by brute force
#: (|p|^2 kept from the rebuild); scipy's ``cKDTree`` answers one query in ~10 us.
BRUTE_PAIRS = 1 << 14
#: Anchors newer than the index are searched by brute force; past this many the index is
#: rebuilt whatever ``rebuild_threshold`` says.
MAX_PENDING = 1024


class AnchorSet:
    """Anchors of a :class:`~complexlib.cache.store.RegionStore` and their index.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from complexlib.cache.store import RegionStore
    >>> store = RegionStore(2, 1, 2, 2, torch.device("cpu"), torch.float64)
    >>> anchors = AnchorSet(2, "kdtree")
    >>> anchors.count(store)
    0
    """

    def __init__(self, d: int, index_name: str) -> None:
        self.d, self.index_name = d, index_name
        self.ext_x = np.zeros((EXTRA_ANCHORS, d))
        self.ext_slot = np.full(EXTRA_ANCHORS, -1, dtype=np.int64)
        self.ext_gen = np.zeros(EXTRA_ANCHORS, dtype=np.int32)
        self.ext_n = 0  # anchors ever written (ring position = ext_n % EXTRA_ANCHORS)
        self.tree: AnchorIndex | None = None
        self.tree_pts = np.zeros((0, d))
        self.tree_sq = np.zeros(0)  # |p|^2 of each anchor of the index
        self.tree_slot = np.zeros(0, dtype=np.int64)
        self.tree_gen = np.zeros(0, dtype=np.int32)
        self.tree_bound = np.inf
        self.pending_slots: list[int] = []  # regions inserted since the last rebuild
        self.pending_ext: list[int] = []  # ring positions written since the last rebuild
        self.pending = 0

    def count(self, store: RegionStore) -> int:
        """Anchors held: one per region plus the extra ones."""
        return store.size + min(self.ext_n, EXTRA_ANCHORS)

    def nbytes(self, store: RegionStore) -> int:
        """Bytes of the ring buffer and (about) the index over the anchors."""
        ring = EXTRA_ANCHORS * (8 * self.d + 8 + 4)
        return int(ring + self.count(store) * (8 * self.d + 8 + 4))

    def add_regions(self, slots: np.ndarray) -> None:
        """New regions: their creating points become anchors at the next rebuild."""
        self.pending_slots.extend(slots.tolist())
        self.pending += len(slots)

    def note_evicted(self, k: int) -> None:
        self.pending += k

    def add(self, pts: np.ndarray, slots: np.ndarray, store: RegionStore) -> None:
        """Points ``pts`` (float64, ``(k, d)``) found in the regions ``slots``."""
        k = pts.shape[0]
        if k > EXTRA_ANCHORS:
            pts, slots, k = pts[-EXTRA_ANCHORS:], slots[-EXTRA_ANCHORS:], EXTRA_ANCHORS
        pos = (self.ext_n + np.arange(k)) % EXTRA_ANCHORS
        self.ext_x[pos] = pts
        self.ext_slot[pos] = slots
        self.ext_gen[pos] = store.gen[slots]
        self.ext_n += k
        self.pending_ext.extend(pos.tolist())
        self.pending += k

    def _valid_ext(self, pos: np.ndarray, store: RegionStore) -> np.ndarray:
        es = self.ext_slot[pos]
        ok = es >= 0
        safe = np.maximum(es, 0)
        ok &= (self.ext_gen[pos] == store.gen[safe]) & store.live[safe]
        return pos[ok]

    def rebuild(self, store: RegionStore, device: Any, dtype: Any) -> None:
        """Rebuild the index over every live anchor."""
        live = np.nonzero(store.live)[0]
        ext = self._valid_ext(np.arange(min(self.ext_n, EXTRA_ANCHORS)), store)
        es = self.ext_slot[ext]
        hl, he = store.host(live), store.host(es)
        d = self.d
        pts = np.concatenate([hl[:, :d], self.ext_x[ext]])
        self.tree_slot = np.concatenate([live, es])
        self.tree_gen = store.gen[self.tree_slot]
        self.tree = make_index(self.index_name, pts, device, dtype)
        self.tree_pts = pts
        self.tree_sq = np.einsum("nd,nd->n", pts, pts)
        # farthest a query can be from an anchor and still be certified in its region
        reach = np.concatenate(
            [hl[:, d + 1], he[:, d + 1] + np.linalg.norm(self.ext_x[ext] - he[:, :d], axis=1)]
        )
        self.tree_bound = float(reach.max() * (1 + 1e-9)) if reach.size else np.inf
        self.pending_slots, self.pending_ext, self.pending = [], [], 0

    def candidates(self, store: RegionStore, q: np.ndarray, k: int) -> np.ndarray | None:
        """Candidate slots ``(m, k')`` (``-1``: none) from the index and the newest anchors."""
        cands = []
        if self.tree is not None and self.tree.n:
            n = self.tree.n
            if q.shape[0] * n <= min(BRUTE_PAIRS, self.tree.brute_pairs):
                ind = _nearest(q, self.tree_pts, k, self.tree_bound, self.tree_sq)
            else:
                ind = self.tree.query(q, k, self.tree_bound)
            ok_ind = ind >= 0
            safe = np.where(ok_ind, ind, 0)
            cs = self.tree_slot[safe]
            good = ok_ind & (self.tree_gen[safe] == store.gen[cs]) & store.live[cs]
            cands.append(np.where(good, cs, -1))
        newest = self._pending_points(store)
        if newest is not None:
            pts, slots = newest
            score = (pts * pts).sum(axis=1)[None, :] - 2.0 * (q @ pts.T)  # |q - p|^2 - |q|^2
            cands.append(slots[score.argmin(axis=1)][:, None])
        return np.concatenate(cands, axis=1) if cands else None

    def _pending_points(self, store: RegionStore) -> tuple[np.ndarray, np.ndarray] | None:
        if not self.pending_slots and not self.pending_ext:
            return None
        ps = np.array(self.pending_slots, dtype=np.int64)
        ps = ps[store.live[ps]] if ps.size else ps
        pe = self._valid_ext(np.array(self.pending_ext, dtype=np.int64), store)
        pts = np.concatenate([store.host(ps)[:, : self.d], self.ext_x[pe]])
        slots = np.concatenate([ps, self.ext_slot[pe]])
        if not slots.size:
            return None
        return pts, slots

    def too_many_pending(self) -> bool:
        return len(self.pending_slots) + len(self.pending_ext) > MAX_PENDING


def _nearest(
    q: np.ndarray, pts: np.ndarray, k: int, bound: float, sq: np.ndarray | None = None
) -> np.ndarray:
    """Positions of the ``k`` rows of ``pts`` nearest to each row of ``q`` (``-1`` beyond
    ``bound`` or past the number of points), like :meth:`AnchorIndex.query`; ``sq`` is
    ``|pts|^2`` if known.

    Examples
    --------
    >>> _nearest(np.array([[0.9, 0.1]]), np.array([[0.0, 0.0], [1.0, 0.0]]), 3, np.inf)
    array([[ 1,  0, -1]])
    """
    m, n = q.shape[0], pts.shape[0]
    kk = min(k, n)
    if sq is None:
        sq = np.einsum("nd,nd->n", pts, pts)
    d2 = q @ pts.T
    d2 *= -2.0
    d2 += sq
    d2 += np.einsum("nd,nd->n", q, q)[:, None]
    if kk < n:
        part = d2.argpartition(kk - 1, axis=1)[:, :kk]
        dp = np.take_along_axis(d2, part, axis=1)
    else:
        part = np.broadcast_to(np.arange(n), (m, n))
        dp = d2
    order = dp.argsort(axis=1, kind="stable")
    ind = np.take_along_axis(part, order, axis=1)
    far = np.take_along_axis(dp, order, axis=1) > bound * bound
    out = np.full((m, k), -1, dtype=np.int64)
    out[:, :kk] = np.where(far, -1, ind)
    return out
