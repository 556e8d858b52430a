"""The recently hit regions, packed into small tables for the first tier of a large lookup.

A lookup of a large batch on the CPU first tests every point against the recently hit region
whose ``x0`` is nearest (:mod:`~complexlib.cache.lookup`).  Around a few operating points
this settles almost every query, so its cost is the cost of the cache.  A
:class:`RecentPack` holds what that tier reads, built once per set of recent regions and
kept while the set and the store's regions stay the same:

* ``rhs``: ``[-2 x0, |x0|^2]`` in float64, so that one product of ``[y, 1]`` by it ranks
  the regions by distance from ``y``;
* ``hdr``: the regions' header rows ``[x0, r0, rho, f(x0), W]`` (gathered per point in one
  ``take`` from a table that stays in the CPU's cache);
* ``A``: the kept unit normals decoded to the cache's dtype (no per-point decoding);
* ``rd_lo``: the kept offsets less their rounding margin, ``delta - c |delta|``, rounded
  down, so that a point's test is one product, one subtraction and one maximum per row;
  rows are kept nearest first, and only those up to the last one that some point of the
  batch could violate are read (around operating points of ``[8]+[256]*4+[4]``, 2 of 32).

The margins are those of :func:`~complexlib.cache.membership.contains_np`, so the pack
decides exactly as the store's own test does (up to the rounding of the margins, which
only ever moves a decision towards a miss).
"""

from __future__ import annotations

import numpy as np

from ..reductions import row_max
from .membership import MARGIN_ULPS, ROW_SLACK
from .store import RegionStore, round_down

__all__ = ["RecentPack", "recent_pack"]


class RecentPack:
    """The regions ``slots`` of a CPU store, gathered for :meth:`test` (see the module notes).

    Parameters
    ----------
    store : RegionStore
        A store on the CPU.
    slots : (R,) int64
        Live regions (the recently hit ones, sorted).
    eps : float
        Machine epsilon of the cache's dtype (the arithmetic of the tests).

    Examples
    --------
    >>> import numpy as np
    >>> import complexlib as cl
    >>> cache = cl.HypersphereCache(cl.mlp([2, 8, 1], seed=0).double())
    >>> _ = cache(np.array([[0.1, 0.2], [-0.5, 0.3], [2.0, -1.0]]))
    >>> st = cache._store
    >>> pack = RecentPack(st, np.sort(np.asarray(st.recent)), cache._eps)
    >>> j = np.arange(len(pack))                      # each region, at its own x0 ...
    >>> pack.test(j, np.zeros((len(j), 2)), 0.0).tolist()
    [True, True, True]
    >>> a, delta = pack.A[:, 0], pack.rd_lo[:, 0]     # ... and just across its nearest facet
    >>> pack.test(j, a * (1.001 * delta[:, None]), 0.0).tolist()
    [False, False, False]
    """

    def __init__(self, store: RegionStore, slots: np.ndarray, eps: float) -> None:
        hdr, ra, rd = store.np_hdr, store.np_ra, store.np_rd
        if hdr is None or ra is None or rd is None:
            raise RuntimeError("a RecentPack needs a store on the CPU")
        d = store.d
        self.slots = np.ascontiguousarray(slots, dtype=np.int64)
        self.hdr = hdr[self.slots]
        dtype = self.hdr.dtype
        x0 = self.hdr[:, :d].astype(np.float64)
        self.rhs = np.empty((d + 1, x0.shape[0]))
        np.multiply(x0.T, -2.0, out=self.rhs[:d])
        self.rhs[d] = np.einsum("rd,rd->r", x0, x0)
        A = ra[self.slots].astype(dtype)
        if store.normal_unit != 1.0:
            A *= dtype.type(store.normal_unit)
        self.A = A
        #: margins of the tests (see membership.contains_np): c relative, then the normals'
        self.c = MARGIN_ULPS * (d + 3) * eps
        self.normal_err = store.normal_err
        #: a row can be violated by a point at distance r only if its offset (less margin) is
        #: at most ``reach r + base``: |a' . diff| <= (1 + normal_err)(1 + c)^2 r, plus the
        #: test's margin (c + normal_err) r, with ROW_SLACK to spare
        self.reach = ROW_SLACK * (1.0 + 3.0 * (self.c + self.normal_err))
        delta = rd[self.slots].astype(np.float64)
        self.rd_lo = round_down(delta - self.c * np.abs(delta), dtype)

    def __len__(self) -> int:
        return int(self.slots.shape[0])

    def test(self, j: np.ndarray, diff: np.ndarray, base: float, h: np.ndarray | None = None
             ) -> np.ndarray:  # fmt: skip
        """Whether ``x0_j + diff[i]`` lies in region ``j[i]`` (a local index), exactly.

        ``h`` is ``self.hdr[j]`` if the caller gathered it already; ``base`` is
        :func:`~complexlib.cache.membership.offset_margin_np` of the batch.
        """
        d = diff.shape[1]
        if h is None:
            h = self.hdr[j]
        dist = np.sqrt(np.einsum("nd,nd->n", diff, diff))
        reach = dist * (1.0 + self.c)
        reach += base
        inner = reach < h[:, d]
        need = np.greater(reach < h[:, d + 1], inner)  # within rho and not decided by r0
        idx = need.nonzero()[0]
        if idx.size:
            ji = j[idx]
            dd = dist[idx]
            # rows are stored nearest first: only those up to the last one some point could
            # violate are read (|a_k . diff| is at most about |diff|, see the module notes)
            rd = self.rd_lo[ji]
            cols = (rd <= (dd * self.reach + base)[:, None]).any(axis=0).nonzero()[0]
            m = int(cols[-1]) + 1 if cols.size else 0
            if m:
                v = np.matmul(self.A[ji, :m], diff[idx][:, :, None])[:, :, 0]
                v -= rd[:, :m]
                # inside iff a_k . diff < delta_k - c |delta_k| - (c + normal_err) |diff| - base
                # for every kept row (padding rows: a = 0 and the largest float32 offset)
                lim = dd * -(self.c + self.normal_err)
                lim -= base
                inner[idx] = row_max(v) < lim
            else:
                inner[idx] = True
        return inner


def recent_pack(store: RegionStore, eps: float) -> RecentPack | None:
    """The store's :class:`RecentPack` of its recently hit regions (kept while they and the
    store's regions are unchanged), or None if there are none."""
    if not store.recent or store.np_hdr is None:
        return None
    rs = np.sort(np.asarray(store.recent, dtype=np.int64))
    key = (store.next_id, eps, rs.tobytes())
    memo = store.recent_memo
    if memo is not None and memo[0] == key:
        return memo[1]
    pack = RecentPack(store, rs, eps)
    store.recent_memo = (key, pack)
    return pack
