"""Columnar storage of cached regions: one row per region, slots reused after eviction.

An entry (a region) holds, on the cache's device:

* a header row ``[x0, r0, rho, f(x0), W]`` in the cache's dtype: the point that created
  the region, the radius of the ball around it inside the region, the distance within
  which the kept rows decide membership, and the region's affine map written around
  ``x0`` (``f(y) = f(x0) + W (y - x0)``; ``c = f(x0) - W x0`` is derived when asked for);
* its ``K`` hyperplanes nearest to ``x0``, nearest first, as 16-bit unit normals (see
  :func:`normal_codec`) and float32 distances from ``x0`` rounded *down* (the region is
  ``{y : a_j . (y - x0) <= delta_j}``): a quarter of the bytes of float64 rows, and the
  membership test adds a margin for the rounding of the normals (``normal_err |y - x0|``),
  so a point the rounding could misplace is a miss, never a wrong answer;

and on the host: the packed activation pattern, the bookkeeping (id, pattern hash,
generation, last use, hit count, liveness) and a :class:`~complexlib.cache.keys.KeyIndex`
from pattern hashes to slots.  The kept neurons' indices are not stored (they are
recomputed from the pattern when :meth:`HypersphereCache.regions` is asked), nor are
Chebyshev balls until one is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .keys import KeyIndex
from .workspace import Workspace

__all__ = ["CachedRegions", "RegionStore", "N_RECENT", "nearest_rows", "normal_codec"]

#: Size of the recently-hit list tested first.
N_RECENT = 64


@dataclass
class CachedRegions:
    """The cached regions as arrays, one row per region (see ``HypersphereCache.regions``).

    Attributes
    ----------
    id : (R,) int64, stable region ids (as returned with ``return_linearization``).
    pattern : (R, n_neurons) int8.
    center, radius : the point that created the region and the largest ball around it inside
        the region (``inf`` for a region no neuron bounds).
    cheb_center, cheb_radius : Chebyshev ball (largest ball inside the region; ``inf`` radius
        when arbitrarily large balls fit); NaN when not computed.
    rows : (R, K) int64, neurons of the kept hyperplanes, nearest to ``center`` first (-1 pads).
    normals, offsets : (R, K, d), (R, K): the kept halfspaces ``normals . (y - center) <=
        offsets`` (unit normals as stored, 16 bits a component, see :func:`normal_codec`;
        offsets in float32, rounded down).
    rho : (R,) kept rows decide membership within this distance of ``center``.
    W, c : (R, n_out, d), (R, n_out): the network on the region, ``f(y) = W y + c``.
    hits, last_used : (R,) per-region hit counts and the call that last used the region.
    """

    id: np.ndarray
    pattern: np.ndarray
    center: np.ndarray
    radius: np.ndarray
    cheb_center: np.ndarray
    cheb_radius: np.ndarray
    rows: np.ndarray
    normals: np.ndarray
    offsets: np.ndarray
    rho: np.ndarray
    W: np.ndarray
    c: np.ndarray
    hits: np.ndarray
    last_used: np.ndarray

    def __len__(self) -> int:
        return int(self.id.shape[0])


def round_down(a: np.ndarray, dtype: Any = np.float32) -> np.ndarray:
    """``a`` (float64) in ``dtype``, each value rounded toward ``-inf`` (never above ``a``).

    Examples
    --------
    >>> v = round_down(np.array([0.1, 1.0, np.inf]))
    >>> bool(np.all(v.astype(np.float64) <= [0.1, 1.0, np.inf])), v.dtype
    (True, dtype('float32'))
    """
    dtype = np.dtype(dtype)
    r = a.astype(dtype)
    up = r.astype(np.float64) > a
    r[up] = np.nextafter(r[up], dtype.type(-np.inf))
    return r


#: Components of the kept unit normals are stored as ``round(a * NORMAL_STEPS)`` in int16.
NORMAL_STEPS = 32767


def normal_codec(d: int) -> tuple[str, float, float]:
    """How the kept unit normals of a ``d``-dimensional cache are stored: ``(dtype, unit,
    err)``, a stored component ``q`` meaning ``q * unit`` and ``err`` bounding the distance
    ``|a' - a|`` between a stored normal and the true one.

    16-bit fixed point (``q = round(a * 32767)``, each component within ``0.5 / 32767``, so
    ``err = sqrt(d) / 65534``) while that is below float16's relative rounding of ``2^-11``
    (``d`` up to 1,027), float16 above.  Fixed point is 11 times finer at ``d = 8``: points
    within the margin of a facet (which get the forward pass) are that much rarer.

    Examples
    --------
    >>> normal_codec(8)[:2], normal_codec(4096)[:2]
    (('int16', 3.051850947599719e-05), ('float16', 1.0))
    >>> normal_codec(8)[2] < 2.0**-11 / 10
    True
    """
    fixed = np.sqrt(d) * (0.5 / NORMAL_STEPS) * (1 + 2.0**-20)
    f16 = 2.0**-11 + np.sqrt(d) * 2.0**-25  # relative per entry, plus the subnormal range
    if fixed < f16:
        return "int16", 1.0 / NORMAL_STEPS, float(fixed)
    return "float16", 1.0, float(f16)


def encode_normals(a: np.ndarray, dtype: str) -> np.ndarray:
    """Unit normals ``a`` in the storage ``dtype`` of :func:`normal_codec`.

    Examples
    --------
    >>> encode_normals(np.array([[0.6, -0.8]]), "int16").tolist()
    [[19660, -26214]]
    """
    if dtype == "int16":
        q = np.rint(np.clip(a, -1.0, 1.0) * NORMAL_STEPS)
        return q.astype(np.int16)
    return a.astype(np.float16)


def nearest_rows(
    A: np.ndarray, b: np.ndarray, x0: np.ndarray, K: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ``K`` hyperplanes of each region nearest to its point ``x0``, nearest first.

    Parameters
    ----------
    A, b : (k, N, d), (k, N)
        The regions' halfspaces ``A y + b <= 0`` (zero rows are never kept).
    x0 : (k, d)
        A point of each region.
    K : int
        Rows to keep.

    Returns
    -------
    r0, rho : (k,)
        Distance from ``x0`` to the nearest hyperplane, and to the nearest one not kept
        (``inf`` if none); negative distances (``x0`` rounded out of the region) read 0.
    rows : (k, K) int64
        The kept neurons (``-1`` pads).
    normals, delta : (k, K, d), (k, K)
        Unit normals and distances of the kept rows (``0`` and ``inf`` for pads).

    Examples
    --------
    >>> A, b = np.array([[[1.0, 0.0], [0.0, 2.0], [-1.0, 0.0]]]), np.array([[-1.0, -4.0, -3.0]])
    >>> r0, rho, rows, a, delta = nearest_rows(A, b, np.zeros((1, 2)), 2)
    >>> r0.tolist(), rho.tolist(), rows.tolist(), delta.tolist()
    ([1.0], [3.0], [[0, 1]], [[1.0, 2.0]])
    """
    k, N, d = A.shape
    nrm_all = np.linalg.norm(A, axis=2)
    live_all = nrm_all > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = -(np.einsum("knd,kd->kn", A, x0) + b) / np.where(live_all, nrm_all, 1.0)
    dist = np.where(live_all, gap, np.inf)  # may be < 0 if rounding left the region
    r0 = np.maximum(dist.min(axis=1), 0.0) if N else np.full(k, np.inf)
    if not K:
        return (
            r0,
            np.full(k, np.inf),
            np.zeros((k, 0), np.int64),
            np.zeros((k, 0, d)),
            (np.zeros((k, 0))),
        )
    part = np.argpartition(dist, K - 1, axis=1)[:, :K] if N > K else np.tile(np.arange(N), (k, 1))
    dsel = np.take_along_axis(dist, part, axis=1)
    order = np.argsort(dsel, axis=1, kind="stable")
    rows = np.take_along_axis(part, order, axis=1)
    dsel = np.take_along_axis(dsel, order, axis=1)
    if N > K:
        rest = dist.copy()
        np.put_along_axis(rest, rows, np.inf, axis=1)
        rho = np.maximum(rest.min(axis=1), 0.0)
    else:
        rho = np.full(k, np.inf)
    a = np.take_along_axis(A, rows[:, :, None], axis=1)
    nrm = np.take_along_axis(nrm_all, rows, axis=1)
    live_row = np.isfinite(dsel)
    a = np.where(live_row[:, :, None], a / np.where(live_row, nrm, 1.0)[:, :, None], 0.0)
    delta = np.where(live_row, dsel, np.inf)
    return r0, rho, np.where(live_row, rows, -1), a, delta


class RegionStore:
    """Growable columnar arrays of regions (see the module notes for what an entry holds).

    Parameters
    ----------
    d, n_out, n_neurons, K : dimensions: input, output, hidden neurons, rows kept.
    device, dtype : where and in which precision the header rows live.
    max_regions : capacity cap (eviction is the caller's decision, :meth:`evict_lru`).

    Examples
    --------
    >>> import torch
    >>> s = RegionStore(2, 1, 4, 4, torch.device("cpu"), torch.float64)
    >>> len(s), s.take_slots(3).tolist(), s.cap >= 3
    (0, [0, 1, 2], True)
    """

    def __init__(
        self,
        d: int,
        n_out: int,
        n_neurons: int,
        K: int,
        device: Any,
        dtype: Any,
        max_regions: int | None = None,
    ) -> None:
        import torch

        self.d, self.n_out, self.n_neurons, self.K = d, n_out, n_neurons, K
        self.device, self.dtype, self.max_regions = device, dtype, max_regions
        self.width = d + 2 + n_out + n_out * d
        self.cap = 0
        self.hdr = torch.zeros((0, self.width), dtype=dtype, device=device)
        #: kept normals: a stored component q means q * normal_unit, and |a' - a| is at
        #: most normal_err for a stored normal a' of the unit normal a
        self.normal_dtype, self.normal_unit, self.normal_err = normal_codec(d)
        self.ra = torch.zeros((0, K, d), dtype=getattr(torch, self.normal_dtype), device=device)
        self.rd = torch.zeros((0, K), dtype=torch.float32, device=device)
        self.bits = np.zeros((0, (n_neurons + 7) // 8), dtype=np.uint8)
        self.id = np.zeros(0, dtype=np.int64)
        self.key = np.zeros(0, dtype=np.int64)
        self.last = np.zeros(0, dtype=np.int32)
        self.nhits = np.zeros(0, dtype=np.int32)
        self.gen = np.zeros(0, dtype=np.int32)
        self.live = np.zeros(0, dtype=bool)
        self.index = KeyIndex()
        #: Chebyshev balls computed so far: slot -> (centre, radius)
        self.cheb: dict[int, tuple[np.ndarray, float]] = {}
        self.free: list[int] = []
        self.high_water = 0
        self.size = 0
        self.next_id = 0
        self.recent: list[int] = []  # recently hit slots, most recent first
        #: ``(key, RecentPack)`` of the recently hit regions (see :mod:`.recent`)
        self.recent_memo: tuple[Any, Any] | None = None
        #: scratch arrays of the lookups on the CPU (see :mod:`.workspace`)
        self.work = Workspace()
        self._refresh_views()

    def __len__(self) -> int:
        return self.size

    # ------------------------------------------------------------------ capacity
    _HOST = ("bits", "id", "key", "last", "nhits", "gen", "live")

    def _grow(self, need: int) -> None:
        import torch

        if need <= self.cap:
            return
        new = max(need, 2 * self.cap, 16)
        if self.max_regions is not None:
            new = max(need, min(new, self.max_regions))
        extra = new - self.cap
        for name in ("hdr", "ra", "rd"):
            t = getattr(self, name)
            pad = torch.zeros((extra, *t.shape[1:]), dtype=t.dtype, device=t.device)
            setattr(self, name, torch.cat([t, pad]))
        for name in self._HOST:
            a = getattr(self, name)
            setattr(self, name, np.concatenate([a, np.zeros((extra, *a.shape[1:]), a.dtype)]))
        self.cap = new
        self._refresh_views()

    def _refresh_views(self) -> None:
        """Column views of the header; numpy views (shared memory) when on the CPU."""
        d, o = self.d, self.n_out
        h = self.hdr
        self.x0, self.r0, self.rho = h[:, :d], h[:, d], h[:, d + 1]
        self.f0 = h[:, d + 2 : d + 2 + o]
        self.W = h[:, d + 2 + o :].unflatten(1, (o, d))
        self.np_hdr: np.ndarray | None = None
        self.np_ra: np.ndarray | None = None
        self.np_rd: np.ndarray | None = None
        if self.device.type == "cpu":
            self.np_hdr, self.np_ra, self.np_rd = h.numpy(), self.ra.numpy(), self.rd.numpy()

    def take_slots(self, k: int) -> np.ndarray:
        """``k`` free slots (reused ones first); the caller evicts before if it must."""
        reuse = [self.free.pop() for _ in range(min(k, len(self.free)))]
        more = np.arange(self.high_water, self.high_water + k - len(reuse), dtype=np.int64)
        self.high_water += more.size
        self._grow(self.high_water)
        return np.concatenate([np.asarray(reuse, dtype=np.int64), more])

    def evict_lru(self, k: int) -> np.ndarray:
        """Free the ``k`` least recently used regions (fewest hits first among ties)."""
        live = np.nonzero(self.live)[0]
        k = min(k, live.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        order = np.lexsort((self.nhits[live], self.last[live]))
        gone = live[order[:k]]
        self.index.discard(self.key[gone], gone)
        for s in gone.tolist():
            self.cheb.pop(s, None)
        self.live[gone] = False
        self.gen[gone] += 1
        self.free.extend(gone.tolist())
        self.size -= k
        gone_set = set(gone.tolist())
        self.recent = [s for s in self.recent if s not in gone_set]
        return gone

    # ------------------------------------------------------------------ lookups by pattern
    def find(self, keys: np.ndarray, bits: np.ndarray | None = None) -> np.ndarray:
        """Slots of the regions with pattern hashes ``keys`` (and, if given, packed patterns
        ``bits``, which rules out 64-bit hash collisions), ``-1`` where none is cached."""
        slots = self.index.get(keys)
        has = slots >= 0
        if bits is not None and has.any():
            same = np.all(self.bits[np.where(has, slots, 0)] == bits, axis=1)
            slots = np.where(has & same, slots, -1)
        return slots

    # ------------------------------------------------------------------ writing
    def fill(
        self,
        slots: np.ndarray,
        x0: np.ndarray,
        A: np.ndarray,
        b: np.ndarray,
        W: np.ndarray,
        c: np.ndarray,
        bits: np.ndarray,
        keys: np.ndarray,
        calls: int,
    ) -> None:
        """Write regions into ``slots`` from their halfspaces ``A y + b <= 0`` and maps.

        ``x0`` must already be rounded to the cache's dtype (the point the tests subtract);
        distances are computed from it in float64, so only the rounding of ``y - x0`` and of
        the stored rows is left to the membership test's margins.
        """
        import torch

        k = len(slots)
        r0, rho, _, a, delta = nearest_rows(A, b, x0, self.K)
        f0 = np.einsum("kod,kd->ko", W, x0) + c
        st = torch.as_tensor(slots, device=self.device)
        hdr = np.concatenate([x0, r0[:, None], rho[:, None], f0, W.reshape(k, -1)], axis=1)
        self.hdr[st] = torch.as_tensor(hdr, dtype=self.dtype, device=self.device)
        self.ra[st] = torch.as_tensor(encode_normals(a, self.normal_dtype), device=self.device)
        # padding rows (a = 0): the largest float32, which every test passes without inf - inf
        rd = np.minimum(round_down(delta), np.finfo(np.float32).max)
        self.rd[st] = torch.as_tensor(rd, device=self.device)
        self.bits[slots] = bits
        for s in slots.tolist():
            self.cheb.pop(s, None)
        self.id[slots] = np.arange(self.next_id, self.next_id + k)
        self.next_id += k
        self.live[slots] = True
        self.last[slots] = calls
        self.nhits[slots] = 0
        self.key[slots] = keys
        self.index.set(keys, slots)
        self.size += k
        self.remember(slots)

    # ------------------------------------------------------------------ use
    def touch(self, slots: np.ndarray, counts: np.ndarray, calls: int) -> None:
        """Record hits on ``slots`` (unique) for LRU and the recently-hit list."""
        self.last[slots] = calls
        self.nhits[slots] += counts
        if len(slots) > 1:
            slots = slots[(-counts).argsort(kind="stable")[:N_RECENT]]
        self.remember(slots)

    def remember(self, slots: np.ndarray) -> None:
        """Put ``slots`` (live) at the front of the recently-hit list.

        The list holds live slots only: :meth:`evict_lru` drops the slots it frees.
        """
        if len(slots) == 1 and self.recent and self.recent[0] == slots[0]:
            return
        # at most 2 * N_RECENT small integers: an ordered dict's keys beat array calls here
        merged = dict.fromkeys((*np.asarray(slots[:N_RECENT]).tolist(), *self.recent))
        self.recent = list(merged)[:N_RECENT]

    # ------------------------------------------------------------------ reading
    def host(self, slots: np.ndarray) -> np.ndarray:
        """Header rows of ``slots`` in float64 numpy: ``[:, :d]`` is ``x0``, ``[:, d + 1]`` rho."""
        if self.np_hdr is not None:
            return self.np_hdr[slots].astype(np.float64)
        import torch

        st = torch.as_tensor(slots, dtype=torch.int64, device=self.device)
        return self.hdr.index_select(0, st).double().cpu().numpy()

    def maps(self, slots: Any) -> tuple[Any, Any]:
        """``W`` and ``c`` of ``slots`` (a tensor on the device), ``f(y) = W y + c``."""
        h = self.hdr.index_select(0, slots)
        d, o = self.d, self.n_out
        W = h[:, d + 2 + o :].unflatten(1, (o, d))
        c = h[:, d + 2 : d + 2 + o] - (W @ h[:, :d].unsqueeze(2)).squeeze(2)
        return W, c

    def bytes_per_region(self) -> dict[str, int]:
        """Bytes one region holds, by component (index and Chebyshev balls as measured).

        Examples
        --------
        >>> import torch
        >>> s = RegionStore(4, 1, 128, 32, torch.device("cpu"), torch.float64)
        >>> b = s.bytes_per_region()
        >>> b["affine map W, f(x0)"], b["kept rows (16-bit normals, float32 offsets)"]
        (40, 384)
        """
        import sys

        es = self.dtype.itemsize
        d, K, o = self.d, self.K, self.n_out
        n = max(self.size, 1)
        cheb = 0.0
        if self.cheb:
            some = next(iter(self.cheb.values()))
            one = sys.getsizeof(some) + sys.getsizeof(some[1]) + some[0].nbytes + 100
            cheb = (sys.getsizeof(self.cheb) + len(self.cheb) * one) / n
        return {
            "point ball x0, r0": es * (d + 1),
            "affine map W, f(x0)": es * (o * d + o),
            "kept rows (16-bit normals, float32 offsets)": (2 * d + 4) * K,
            "rho": es,
            "pattern bits": self.bits.shape[1],
            "bookkeeping (id, hash, last use, hits, generation, live)": 8 + 8 + 4 + 4 + 4 + 1,
            "pattern-hash index": int(round(self.index.nbytes / n)) if len(self.index) else 12,
            "Chebyshev balls computed so far": int(round(cheb)),
        }
