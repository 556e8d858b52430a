"""``HypersphereCache``: the facade that answers ``net(x)`` from cached regions.

Per call: check the weights (:mod:`~complexlib.cache.weights`), look the batch up
(:mod:`~complexlib.cache.lookup`), and for the misses run one batched forward pass in the
cache's dtype that also hashes each point's activation pattern
(:mod:`~complexlib.cache.hashing`); missed points are grouped by pattern, and one point per
new region is linearised (:func:`complexlib.linearize_at_point`, float64) and stored
(:mod:`~complexlib.cache.store`), all of the batch's new regions together, as the admission
policy allows (:mod:`~complexlib.cache.admission`).  While lookups of large batches find
almost nothing (under ``PROBE_BELOW_YIELD`` of the points looked up), only a sample of the
batch (every ``PROBE_STRIDE``-th point, at most about ``PROBE_POINTS``) is looked up first;
the rest go straight to the forward pass unless that sample finds hits again.  Where the
admission budget covers only a few of many new regions, the misses are not grouped by
pattern: an evenly spread sample of them is linearised.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any, NamedTuple

import numpy as np

from ..linearize import linearize_at_point
from ..network import ReLUNetwork, as_network
from ..patterns import pack, resolve_device
from .admission import Admission, check_admit
from .anchors import AnchorSet
from .hashing import PatternHasher
from .index import check_index_name, index_backend
from .lookup import lookup
from .membership import contains, offset_margin_np
from .store import CachedRegions, RegionStore, nearest_rows
from .weights import WeightsChangedWarning, WeightWatch

__all__ = ["HypersphereCache", "CacheAnswer"]

#: Batches up to this size are looked up with numpy on a CPU cache (less fixed cost per op).
SMALL_BATCH = 64
#: Batches of at least this size look up only every PROBE_STRIDE-th point while the share of
#: looked-up points that hit in the last such batch is below PROBE_BELOW_YIELD.
PROBE_MIN_BATCH = 256
PROBE_STRIDE = 8
#: ... and of larger batches about PROBE_POINTS points, evenly spread.
PROBE_POINTS = 64
PROBE_BELOW_YIELD = 0.02
#: Missed points are grouped by region (hashing their patterns) only where the admission
#: budget covers at least one region in SAMPLE_BELOW of them; else a sample is linearised.
SAMPLE_BELOW = 8


class CacheAnswer(NamedTuple):
    """What ``cache(x, return_linearization=True)`` returns (one row per point).

    ``output = W x + c``; ``region`` is the cached region's id (``-1`` if the point's region
    was not kept); ``hit`` tells whether the answer came from the cache.
    """

    output: Any
    W: Any
    c: Any
    region: Any
    hit: Any


def _torch_dtype(dtype: Any, default: Any) -> Any:
    import torch

    if dtype is None:
        return default
    table = {"float32": torch.float32, "float64": torch.float64, "double": torch.float64}
    if isinstance(dtype, str) and dtype in table:
        return table[dtype]
    if dtype in (torch.float32, torch.float64):
        return dtype
    if dtype in (np.float32, np.float64):
        return torch.float32 if dtype is np.float32 else torch.float64
    raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")


_BLAS: list[Any] | None = None


def _blas_libs() -> list[Any]:
    """threadpoolctl's controllers of the BLAS libraries loaded (found once, ~0.5 ms)."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _BLAS


def _padding_to_inf(offsets: np.ndarray) -> np.ndarray:
    """Stored offsets with the padding value (the largest float32) shown as ``inf``."""
    return np.where(offsets >= np.finfo(np.float32).max, np.inf, offsets)


class HypersphereCache:
    """Answer ``net(x)`` from cached activation regions, exactly; forward pass otherwise.

    Parameters
    ----------
    net : torch.nn.Sequential, ReLUNetwork or list of (W, b)
        Anything :func:`complexlib.as_network` accepts.  Its weights are watched: a change
        clears the cache with a :class:`WeightsChangedWarning`.
    device : torch device, optional
        Where the cache's arrays live and its batched work runs.  Default: the module's
        device (CPU for a list or a ReLUNetwork).
    rebuild_threshold : int
        Rebuild the ball index after this many new anchors; newer ones are searched by
        brute force meanwhile.
    max_regions : int, optional
        Keep at most this many regions, evicting the least recently used.
    index : {"balltree", "kdtree", "brute"}
        The ball index: ``"balltree"`` is scikit-learn's ``BallTree`` if scikit-learn is
        installed, else ``scipy.spatial.cKDTree`` (scikit-learn is not a dependency);
        ``"kdtree"`` is ``scipy.spatial.cKDTree``; ``"brute"`` is ``torch.cdist`` on the
        device.  ``stats()["index"]`` names the backend used.
    dtype : torch dtype or "float32"/"float64", optional
        Arithmetic of answers and tests.  Default: the module's parameter dtype (float64
        for a list or a ReLUNetwork).  Linearisation is always float64.
    rows_per_region : int, optional
        ``K``, the hyperplanes kept per region (nearest first).  Default ``max(16, 4 d)``: on
        smooth 2-D paths 16 rows hit as often as 32 (``benchmarks/README.md``) in 64% of the bytes.
    n_candidates : int
        Anchors asked of the ball index per query.
    admit : "auto", "all" or int
        Which new regions of a batch are linearised and inserted
        (:mod:`complexlib.cache.admission`).

    Examples
    --------
    >>> import torch
    >>> import complexlib as cl
    >>> net = cl.mlp([2, 8, 8, 1], seed=0).double()
    >>> cache = cl.HypersphereCache(net)
    >>> x = torch.tensor([[0.1, 0.2], [0.1001, 0.2001]], dtype=torch.float64)
    >>> y = cache(x)                # one batch: misses, inserted together
    >>> bool(torch.allclose(y, net(x), rtol=1e-12, atol=1e-12))
    True
    >>> y = cache(x)                # both points now lie in a cached region
    >>> s = cache.stats()
    >>> s["hits"], s["misses"], s["size"]
    (2, 2, 1)
    >>> out = cache(x[0], return_linearization=True)
    >>> bool(out.hit), out.W.shape
    (True, torch.Size([1, 2]))
    """

    def __init__(
        self,
        net: Any,
        device: Any = None,
        rebuild_threshold: int = 10,
        max_regions: int | None = None,
        index: str = "balltree",
        *,
        dtype: Any = None,
        rows_per_region: int | None = None,
        n_candidates: int = 4,
        admit: str | int = "all",
    ) -> None:
        import torch

        self.index_name = check_index_name(index)
        if isinstance(rebuild_threshold, bool) or not isinstance(rebuild_threshold, int):
            raise TypeError(f"rebuild_threshold must be an int, got {rebuild_threshold!r}")
        if rebuild_threshold < 1:
            raise ValueError(f"rebuild_threshold must be at least 1, got {rebuild_threshold}")
        if max_regions is not None and (
            isinstance(max_regions, bool) or not isinstance(max_regions, int) or max_regions < 1
        ):
            raise ValueError(f"max_regions must be None or a positive int, got {max_regions!r}")
        if not isinstance(n_candidates, int) or n_candidates < 1:
            raise ValueError(f"n_candidates must be a positive int, got {n_candidates!r}")
        if rows_per_region is not None and (
            not isinstance(rows_per_region, int) or rows_per_region < 1
        ):
            raise ValueError(f"rows_per_region must be a positive int, got {rows_per_region!r}")
        self.rebuild_threshold = rebuild_threshold
        self.max_regions = max_regions
        self.n_candidates = n_candidates
        self._admit = check_admit(admit)
        self._source = net
        default_dtype, default_device = torch.float64, torch.device("cpu")
        if isinstance(net, torch.nn.Module):
            p = next(iter(net.parameters()), None)
            if p is not None:
                if p.dtype in (torch.float32, torch.float64):
                    default_dtype = p.dtype
                default_device = p.device
        self.device = resolve_device(device) if device is not None else default_device
        self.dtype = _torch_dtype(dtype, default_dtype)
        self._rows_arg = rows_per_region
        self._weight_changes = 0
        self._watch = WeightWatch(net)
        self._build()

    # ------------------------------------------------------------------ configuration
    @property
    def admit(self) -> str | int:
        """The admission policy: ``"auto"``, ``"all"`` or the most new regions per call."""
        return self._admit

    @admit.setter
    def admit(self, value: str | int) -> None:
        self._admit = check_admit(value)
        self._admission.policy = self._admit

    def _build(self) -> None:
        """(Re)build the canonical network, its device copy and an empty store."""
        import torch

        self.net: ReLUNetwork = as_network(self._source)
        net = self.net
        self.d, self.n_out, self.n_neurons = net.input_dim, net.output_dim, net.n_neurons
        K = int(self._rows_arg or max(16, 4 * self.d))
        self.K = min(K, max(self.n_neurons, 1)) if self.n_neurons else 0
        self._eps = float(torch.finfo(self.dtype).eps)
        self._hasher = PatternHasher(net, self.device, self.dtype)
        self.clear()

    def _check_weights(self) -> None:
        if self._watch.changed():
            n = self._store.size
            self._weight_changes += 1
            warnings.warn(
                f"the network's weights changed since the cache was built; cleared its {n} "
                "regions and rebuilt it from the new weights",
                WeightsChangedWarning,
                stacklevel=3,
            )
            self._watch.snapshot()
            self._build()

    # ------------------------------------------------------------------ public API
    def __call__(self, x: Any, return_linearization: bool = False) -> Any:
        """``f(x)`` for one point ``(d,)`` or a batch ``(n, d)``.

        Returns a tensor if ``x`` is one (on ``x``'s device), else a numpy array, in the
        cache's dtype.  With ``return_linearization`` a :class:`CacheAnswer`
        ``(output, W, c, region, hit)`` is returned, one row per point (misses are
        linearised too, so every point gets its region's ``W, c``).
        """
        self._check_weights()
        batch = self._as_batch(x)
        if batch[0].shape[0] <= SMALL_BATCH:
            return self._answer(batch, return_linearization)
        # numpy's BLAS on one thread: a second BLAS thread contends with the threads of the
        # caller's torch work (spinning after a forward pass) and made a batch 2-3x slower.
        # Set and restored by direct calls (threadpoolctl's context costs ~50 us when cold).
        held = [(lib, lib.get_num_threads()) for lib in _blas_libs()]
        held = [(lib, k) for lib, k in held if isinstance(k, int) and k > 1]
        for lib, _ in held:
            lib.set_num_threads(1)
        try:
            return self._answer(batch, return_linearization)
        finally:
            for lib, k in held:
                lib.set_num_threads(k)

    def _answer(
        self, batch: tuple[Any, bool, bool, Any, float | None], return_linearization: bool
    ) -> Any:
        """The body of :meth:`__call__` for a checked batch (see :meth:`_as_batch`)."""
        import torch

        y, single, as_torch, out_dev, base = batch
        self._calls += 1
        n = y.shape[0]
        store = self._store
        out = torch.empty((n, self.n_out), dtype=self.dtype, device=self.device)
        slot = torch.full((n,), -1, dtype=torch.int64, device=self.device)
        if store.np_hdr is not None and n <= SMALL_BATCH and not return_linearization:
            # a small batch on the CPU: no probing and no yield update
            hit = self._lookup(y, slot, out, base)
            looked = 0
        else:
            hit, looked = self._lookup_batch(y, slot, out, base)
        if store.np_hdr is not None:  # the bookkeeping of a CPU store in numpy
            hi = hit.numpy().nonzero()[0]
            if hi.size * 8 >= store.cap:  # many hits: count by slot
                cnt = np.bincount(slot.numpy()[hi], minlength=store.cap)
                u = cnt.nonzero()[0]
                store.touch(u, cnt[u], self._calls)
            elif hi.size == 1:
                store.touch(slot.numpy()[hi], np.ones(1, dtype=np.int64), self._calls)
            elif hi.size:
                store.touch(*np.unique(slot.numpy()[hi], return_counts=True), self._calls)
            hit_idx = torch.from_numpy(hi)
        else:
            hit_idx = hit.nonzero().squeeze(1)
            if hit_idx.numel():
                cnt_t = torch.bincount(slot.index_select(0, hit_idx), minlength=store.cap)
                u_t = cnt_t.nonzero().squeeze(1)
                store.touch(
                    u_t.cpu().numpy(), cnt_t.index_select(0, u_t).cpu().numpy(), self._calls
                )
        n_hit = int(hit_idx.numel())
        if looked:
            self._yield = n_hit / looked
        self._hits += n_hit
        self._misses += n - n_hit
        W = c = region = region_m = None
        if n_hit < n:
            if store.np_hdr is not None:
                miss_idx = torch.from_numpy(np.flatnonzero(~hit.numpy()))
            else:
                miss_idx = (~hit).nonzero().squeeze(1)
            region_m = self._handle_misses(y, miss_idx, out, n_hit, n, return_linearization)
        else:
            self._admission.earn(n_hit, n)
        if return_linearization:
            W = torch.empty((n, self.n_out, self.d), dtype=self.dtype, device=self.device)
            c = torch.empty((n, self.n_out), dtype=self.dtype, device=self.device)
            region = torch.full((n,), -1, dtype=torch.int64)
            if hit_idx.numel():
                sh = slot[hit_idx]
                W[hit_idx], c[hit_idx] = store.maps(sh)
                region[hit_idx.cpu()] = torch.as_tensor(store.id[sh.cpu().numpy()])
            if region_m is not None:
                Wm, cm, rm = region_m
                W[miss_idx], c[miss_idx] = Wm, cm
                region[miss_idx.cpu()] = rm
        self._maybe_rebuild()
        return self._format(out, W, c, region, hit, single, as_torch, out_dev)

    def stats(self) -> dict[str, Any]:
        """Counters of the cache's life since it was built or last cleared.

        Keys: ``hits``, ``misses``, ``hit_rate``, ``size`` (regions), ``memory`` (bytes of
        the region arrays, anchors and index), ``bytes_per_region`` (total) and
        ``bytes_per_region_by_component``, ``inserted``, ``evicted``, ``skipped`` (new
        regions, or missed points, left out by admission), ``calls``, ``anchors``,
        ``index`` (the backend in use), ``rows_per_region``, ``weight_changes``, ``device``,
        ``dtype`` and ``workspace_bytes`` (scratch arrays kept for the next lookup, see
        :mod:`complexlib.cache.workspace`).

        Examples
        --------
        >>> import complexlib as cl
        >>> cache = cl.HypersphereCache(cl.mlp([2, 4, 1], seed=0), index="kdtree")
        >>> _ = cache([[0.0, 0.0], [0.0, 0.0]])
        >>> s = cache.stats()
        >>> s["hits"], s["misses"], s["hit_rate"], s["size"], s["index"]
        (0, 2, 0.0, 1, 'scipy.cKDTree')
        """
        total = self._hits + self._misses
        parts = self._store.bytes_per_region()
        per = int(sum(parts.values()))
        mem = self._store.cap * per + self._anchors.nbytes(self._store)
        return {
            "hits": self._hits,
            "misses": self._misses,
            "hit_rate": self._hits / total if total else 0.0,
            "size": self._store.size,
            "memory": int(mem),
            "workspace_bytes": self._store.work.nbytes,
            "bytes_per_region": per,
            "bytes_per_region_by_component": parts,
            "inserted": self._inserted,
            "evicted": self._evicted,
            "skipped": self._skipped,
            "calls": self._calls,
            "anchors": self._anchors.count(self._store),
            "index": index_backend(self.index_name),
            "rows_per_region": self.K,
            "weight_changes": self._weight_changes,
            "device": str(self.device),
            "dtype": str(self.dtype).replace("torch.", ""),
        }

    def __len__(self) -> int:
        return self._store.size

    def clear(self) -> None:
        """Drop every cached region and reset the counters (the network is kept)."""
        self._store = RegionStore(
            self.d, self.n_out, self.n_neurons, self.K, self.device, self.dtype, self.max_regions
        )
        self._anchors = AnchorSet(self.d, self.index_name)
        self._admission = Admission(self._admit)
        self._hits = self._misses = self._calls = 0
        self._inserted = self._evicted = self._skipped = 0
        self._yield = 1.0  # share of the points looked up in the last batch that hit

    def regions(self, chebyshev: bool = True) -> CachedRegions:
        """The cached regions as arrays (ordered by id).

        Parameters
        ----------
        chebyshev : bool
            Compute the Chebyshev balls still missing: one LP per region over all its
            halfspaces (about a millisecond each), kept for later calls.

        Examples
        --------
        >>> import numpy as np
        >>> import complexlib as cl
        >>> cache = cl.HypersphereCache([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
        >>> _ = cache([[1.0, 2.0]])
        >>> r = cache.regions()
        >>> r.pattern, r.radius, r.cheb_radius, r.rho
        (array([[1, 1]], dtype=int8), array([1.]), array([inf]), array([inf]))
        """
        import torch

        from ..patterns import unpack

        st = self._store
        live = np.nonzero(st.live)[0]
        live = live[np.argsort(st.id[live])]
        if chebyshev:
            todo = np.asarray([s for s in live.tolist() if s not in st.cheb], dtype=np.int64)
            if todo.size:
                self._chebyshev(todo)
        sl = torch.as_tensor(live, dtype=torch.int64, device=self.device)
        h = st.host(live)
        W, c = st.maps(sl)
        d = self.d
        pattern = unpack(st.bits[live], self.n_neurons)
        cheb_c = np.full((live.size, d), np.nan)
        cheb_r = np.full(live.size, np.nan)
        for i, s in enumerate(live.tolist()):
            if s in st.cheb:
                cheb_c[i], cheb_r[i] = st.cheb[s]
        # the kept neurons are not stored: the same selection again, from the pattern
        rows = np.zeros((live.size, self.K), dtype=np.int64)
        if live.size and self.K:
            from ..geometry import halfspaces

            A, b = halfspaces(self.net, pattern, self.device)
            rows = nearest_rows(A, b, h[:, :d], self.K)[2]
        return CachedRegions(
            id=st.id[live].copy(),
            pattern=pattern,
            center=h[:, :d],
            radius=h[:, d],
            cheb_center=cheb_c,
            cheb_radius=cheb_r,
            rows=rows,
            normals=st.ra[sl].double().cpu().numpy() * st.normal_unit,
            offsets=_padding_to_inf(st.rd[sl].double().cpu().numpy()),
            rho=h[:, d + 1],
            W=W.double().cpu().numpy(),
            c=c.double().cpu().numpy(),
            hits=st.nhits[live].copy(),
            last_used=st.last[live].copy(),
        )

    # ------------------------------------------------------------------ internals
    def _as_batch(self, x: Any) -> tuple[Any, bool, bool, Any, float | None]:
        """``(y, single, as_torch, out_dev, base)``: the points as an ``(n, d)`` tensor in the
        cache's dtype and device, and on the CPU their :func:`offset_margin_np` (computed
        with the finiteness check: a NaN or inf entry makes it non-finite)."""
        import torch

        d = self.d
        as_torch = torch.is_tensor(x)
        if as_torch:
            t, out_dev = x.detach(), x.device
            if t.is_complex():
                raise ValueError("points must be real, got a complex tensor")
        else:
            try:
                arr = np.asarray(x, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"expected points of shape (n, {d}) or ({d},) of real numbers: {exc}"
                ) from exc
            t, out_dev = arr, None
        shape = tuple(t.shape)
        if t.ndim not in (1, 2) or shape[-1] != d:
            raise ValueError(f"expected points of shape (n, {d}) or ({d},), got shape {shape}")
        single = t.ndim == 1
        if not as_torch:
            t = torch.from_numpy(arr)
        if t.dtype != self.dtype or t.device != self.device:
            t = t.to(device=self.device, dtype=self.dtype)
        y = t if t.ndim == 2 else t.reshape(-1, d)
        base = None
        if y.device.type == "cpu":
            # the margin's sum of squares is finite unless an entry is not (or it overflows)
            base = offset_margin_np(y.numpy())
            if not math.isfinite(base) and not np.isfinite(y.numpy()).all():
                raise ValueError("points contain NaN or inf")
        # a sum of finite numbers is finite unless it overflows: check each entry only then
        elif y.numel() and not bool(torch.isfinite(y.sum())) and not bool(torch.isfinite(y).all()):
            raise ValueError("points contain NaN or inf")
        return y, single, as_torch, out_dev, base

    def _format(
        self, out: Any, W: Any, c: Any, region: Any, hit: Any, single: bool, as_torch: bool,
        out_dev: Any,
    ) -> Any:  # fmt: skip
        def conv(t: Any) -> Any:
            if t is None:
                return None
            if as_torch:
                t = t.to(out_dev) if out_dev is not None and t.device != out_dev else t
                return t[0] if single else t
            a = t.cpu().numpy()
            return a[0] if single else a

        if W is None:
            return conv(out)
        return CacheAnswer(conv(out), conv(W), conv(c), conv(region), conv(hit))

    def _lookup(self, y: Any, slot: Any, out: Any, base: float | None) -> Any:
        if self._anchors.too_many_pending():
            self._maybe_rebuild(force=True)  # brute force over the newest anchors stays small
        return lookup(self._store, self._anchors, y, slot, out, self._eps, self.n_candidates, base)

    def _lookup_batch(self, y: Any, slot: Any, out: Any, base: float | None) -> tuple[Any, int]:
        """Look up a batch (a strided sample first while hits are rare): hit mask, #looked."""
        import torch

        n, dev = y.shape[0], self.device
        if not n:
            return torch.zeros(0, dtype=torch.bool, device=dev), 0
        looked = n if self._store.size else 0  # an empty cache says nothing of the yield
        if n < PROBE_MIN_BATCH or self._yield >= PROBE_BELOW_YIELD:
            return self._lookup(y, slot, out, base), looked
        # lookups have been finding almost nothing: look up a strided sample (which keeps
        # measuring the yield) and send the rest straight to the forward pass
        probe = torch.arange(0, n, max(PROBE_STRIDE, n // PROBE_POINTS), device=dev)
        hit = torch.zeros(n, dtype=torch.bool, device=dev)
        looked = probe.numel() if self._store.size else 0
        parts = [probe]
        hs = self._lookup_rows(y, probe, slot, out, hit, base)
        if looked and int(hs.sum()) >= PROBE_BELOW_YIELD * looked:
            # hits are back: look up the rest of this batch too
            rest = torch.ones(n, dtype=torch.bool, device=dev)
            rest[probe] = False
            parts.append(rest.nonzero().squeeze(1))
            self._lookup_rows(y, parts[1], slot, out, hit, base)
            looked = n
        return hit, looked

    def _lookup_rows(
        self, y: Any, rows: Any, slot: Any, out: Any, hit: Any, base: float | None
    ) -> Any:
        import torch

        m = rows.numel()
        sub_slot = torch.full((m,), -1, dtype=torch.int64, device=self.device)
        sub_out = torch.empty((m, self.n_out), dtype=self.dtype, device=self.device)
        hs = self._lookup(y.index_select(0, rows), sub_slot, sub_out, base)
        hit.index_copy_(0, rows, hs)
        slot.index_copy_(0, rows, sub_slot)
        out.index_copy_(0, rows, sub_out)
        return hs

    def _handle_misses(
        self, y: Any, miss_idx: Any, out: Any, n_hit: int, n: int, want_lin: bool
    ) -> tuple[Any, Any, Any] | None:
        import torch

        cpu = self.device.type == "cpu"
        if cpu:  # numpy indexing: a fraction of torch's fixed cost
            ym_host = y.numpy()[miss_idx.numpy()]
            ym = torch.from_numpy(ym_host)
        else:
            ym = y.index_select(0, miss_idx)
            ym_host = ym.cpu().numpy()
        m = ym.shape[0]
        adm = self._admission
        # the admission budget decides whether the misses are grouped by region: with no
        # credit nothing is linearised, and with credit for a few regions among many
        # misses (a walk through tiny regions) a spread-out sample of the missed points is
        # linearised instead (insertion finds the regions already cached by pattern)
        budget = m if want_lin else adm.n_admit(m, False)
        group = want_lin or budget * SAMPLE_BELOW >= m
        t0 = time.perf_counter()
        fm, keys = self._hasher.forward(ym, keys=group)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        adm.forward_timed(time.perf_counter() - t0, m)
        if cpu:
            out.numpy()[miss_idx.numpy()] = fm.numpy()
        else:
            out.index_copy_(0, miss_idx, fm)
        adm.earn(n_hit, n)
        if keys is None:
            if budget > 0:
                reps = np.unique(np.linspace(0, m - 1, budget).round().astype(np.int64))
                self._skipped += m - reps.size  # plus the samples admission leaves out
                self._admit_and_insert(ym_host, reps, False)
            else:
                self._skipped += m
            return None
        # group the missed points by pattern hash
        ukn, firstn, inv, cntn = np.unique(
            keys, return_index=True, return_inverse=True, return_counts=True
        )
        st = self._store
        known = st.find(ukn)
        # points in a region already cached (missed by the index or near its edge): anchors
        kg = np.nonzero(known >= 0)[0]
        if kg.size:
            self._anchors.add(ym_host[firstn[kg]].astype(np.float64), known[kg], st)
        new = np.nonzero(known < 0)[0]
        new = new[np.argsort(-cntn[new], kind="stable")]
        group_slot = known.copy()
        if new.size:
            group_slot[new] = self._admit_and_insert(ym_host, firstn[new], want_lin)
        if not want_lin:
            return None
        # every missed point gets its region's map: verified group region, else its own
        gs = torch.as_tensor(group_slot[inv.reshape(-1)], device=self.device)
        ok = contains(st, ym, gs, self._eps)[0]
        Wm = torch.empty((m, self.n_out, self.d), dtype=self.dtype, device=self.device)
        cm = torch.empty((m, self.n_out), dtype=self.dtype, device=self.device)
        rm = torch.full((m,), -1, dtype=torch.int64)
        oki = ok.nonzero().squeeze(1)
        if oki.numel():
            s = gs[oki]
            Wm[oki], cm[oki] = st.maps(s)
            rm[oki.cpu()] = torch.as_tensor(st.id[s.cpu().numpy()])
        rest = (~ok).nonzero().squeeze(1)
        if rest.numel():
            lin = linearize_at_point(self.net, ym[rest].double().cpu().numpy(), self.device,
                                     halfspaces=False)  # fmt: skip
            Wm[rest] = torch.as_tensor(lin.W, dtype=self.dtype, device=self.device)
            cm[rest] = torch.as_tensor(lin.c, dtype=self.dtype, device=self.device)
            bits = pack(lin.pattern)
            keys_r = self._hasher.keys_of(lin.pattern)
            found = st.find(keys_r, bits)
            rm[rest.cpu()] = torch.as_tensor(np.where(found >= 0, st.id[found], -1))
        return Wm, cm, rm

    def _admit_and_insert(self, ym: np.ndarray, reps: np.ndarray, want_lin: bool) -> np.ndarray:
        """Linearise the representatives ``ym[reps]`` of new groups (``ym``: the missed points
        on the host) within the admission budget."""
        slots = np.full(reps.size, -1, dtype=np.int64)
        adm = self._admission
        done = 0
        while done < reps.size:
            k = adm.n_admit(reps.size - done, want_lin)
            if k <= 0:
                break
            chunk = np.arange(done, done + k)
            t0 = time.perf_counter()
            pts = ym[reps[chunk]].astype(np.float64)
            lin = linearize_at_point(self.net, pts, self.device, halfspaces=True)
            slots[chunk] = self._insert(lin)
            adm.spent(time.perf_counter() - t0, k)
            done += k
            if self._admit != "auto" or want_lin:
                break
        self._skipped += reps.size - done
        return slots

    def _insert(self, lin: Any) -> np.ndarray:
        """Insert the regions of linearised points; return each point's slot (-1: not kept)."""
        import torch

        st = self._store
        n = len(lin)
        res = np.full(n, -1, dtype=np.int64)
        bits = pack(lin.pattern)
        keys = self._hasher.keys_of(lin.pattern)
        # one slot per new region: the first point of each; existing regions: anchors
        fresh: list[int] = []
        seen: dict[bytes, int] = {}
        anchor_pts, anchor_slots = [], []
        found = st.find(keys, bits)
        for i in range(n):
            s = int(found[i])
            b = bytes(bits[i])
            if s >= 0:
                res[i] = s
                anchor_pts.append(i)
                anchor_slots.append(s)
            elif b in seen:
                res[i] = -2 - seen[b]  # resolved below
            elif lin.radius[i] > 0:
                seen[b] = i
                fresh.append(i)
        if anchor_pts:
            x = torch.as_tensor(lin.x[anchor_pts], dtype=self.dtype).double().numpy()
            self._anchors.add(x, np.asarray(anchor_slots), st)
        if self.max_regions is not None and len(fresh) > self.max_regions:
            fresh = fresh[: self.max_regions]
        if fresh:
            idx = np.asarray(fresh)
            k = idx.size
            if self.max_regions is not None and st.size + k > self.max_regions:
                gone = st.evict_lru(st.size + k - self.max_regions)
                self._evicted += gone.size
                self._anchors.note_evicted(gone.size)
            slots_new = st.take_slots(k)
            # regions are described around x0 rounded to the cache's dtype
            x0 = torch.as_tensor(lin.x[idx], dtype=self.dtype).double().numpy()
            st.fill(slots_new, x0, lin.A[idx], lin.b[idx], lin.W[idx], lin.c[idx],
                    bits[idx], keys[idx], self._calls)  # fmt: skip
            self._inserted += k
            self._anchors.add_regions(slots_new)
            res[fresh] = slots_new
        for j in np.nonzero(res <= -2)[0]:
            res[j] = res[-2 - res[j]]
        return res

    def _maybe_rebuild(self, force: bool = False) -> None:
        if self._anchors.pending < self.rebuild_threshold and not force:
            return
        self._anchors.rebuild(self._store, self.device, self.dtype)

    def _chebyshev(self, slots: np.ndarray) -> None:
        from ..geometry import chebyshev_ball, halfspaces
        from ..patterns import unpack

        st = self._store
        pats = unpack(st.bits[slots], self.n_neurons)
        A, b = halfspaces(self.net, pats, self.device)
        for i, s in enumerate(slots.tolist()):
            cen, r = chebyshev_ball(A[i], b[i])
            st.cheb[s] = (cen if cen is not None else np.full(self.d, np.nan), float(r))
