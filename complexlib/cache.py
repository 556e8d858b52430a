"""The region cache: exact answers from the affine maps of regions already seen.

Inside one activation region a ReLU network is exactly ``f(x) = W x + c``.  The cache keeps
the regions its queries fell in and answers a new query that lies in one of them with that
region's map, exactly (not an approximation); every other query gets a forward pass.

An entry is a region, stored as arrays (one row per region, no Python object per region):

* the point ``x0`` that created it and the ball around ``x0`` of radius ``r0``, the exact
  distance from ``x0`` to the region's boundary (:func:`complexlib.linearize_at_point`);
* its ``K`` hyperplanes nearest to ``x0`` as unit normals ``a_j`` and distances ``delta_j``
  (the region is ``{y : a_j . (y - x0) <= delta_j}``), and ``rho``, the distance from ``x0``
  to the nearest hyperplane *not* kept (``inf`` when every bounding neuron is kept);
* its affine map ``W, c`` and ``f(x0)``; its pattern (packed bits); its Chebyshev ball,
  computed when :meth:`HypersphereCache.regions` is asked for it.

**Membership is exact.**  A query ``y`` with ``|y - x0| < rho`` is on the same side as
``x0`` of every hyperplane not kept, so ``y`` lies in the region iff it satisfies the ``K``
kept rows; if ``|y - x0| < r0`` it does without testing them.  Every test keeps a margin for
rounding in the cache's dtype, so a point too close to a boundary to be decided is a miss
(and gets the forward pass), never a wrong answer.  When the network has at most ``K``
bounding neurons the kept rows are the whole polytope (``rho = inf``).

**Lookup** of a batch (tensor operations on the cache's device; no Python loop per point):

1. the recently hit regions (the last hit first): each point is tested against the one
   whose ``x0`` is nearest;
2. the ball index: the ``n_candidates`` anchors nearest to each remaining point
   (anchors are the ``x0`` of every region plus later points found in a cached region; the
   tree is rebuilt after ``rebuild_threshold`` new anchors, the newest are searched by brute
   force until then), each proposing its region for the exact test;
3. the misses: one batched forward pass in the cache's dtype gives their outputs and a hash
   of their activation patterns; missed points are grouped by pattern, and one point per
   new region is linearised (:func:`complexlib.linearize_at_point`, float64) and inserted,
   all of the batch's new regions together.

**Admission.**  Linearising a region pushes ``d + 1`` columns through every layer in float64
and costs tens of forward passes of one point.  Where hits are rare (a random walk through
the tiny regions of a deep wide network) linearising every miss would make the cache many
times slower than the forward pass it falls back to.  By default (``admit="all"``) every
new region of every batch is linearised and inserted (deterministic: a region missed once
is a hit next time).  With ``admit="auto"`` the cache spends on new regions at most what
its hits saved plus a quarter of the forward work it did, from a starting credit of half a
second: a workload that hits keeps admitting every new region, one that does not costs
little more than the forward pass.  An integer caps the new regions per call.  Regions with more missed points in the batch are admitted first.  Likewise,
while lookups of large batches find almost nothing (under 2% of the points looked up), only
every 8th point of a batch is looked up first; the rest go straight to the forward pass
unless that sample finds hits again.

**Weights.**  The network's parameters are compared with a snapshot on every call; if they
changed the cache warns, rebuilds its copy of the network and clears itself, so it never
answers with stale maps.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .cache_index import AnchorIndex, check_index_name, index_backend, make_index
from .linearize import linearize_at_point
from .network import ReLUNetwork, as_network
from .patterns import pack, resolve_device

__all__ = ["HypersphereCache", "CacheAnswer", "CachedRegions", "WeightsChangedWarning"]

#: Seconds of linearisation the ``"auto"`` admission may spend before any hit paid for it.
START_CREDIT_S = 0.5
#: Most credit the ``"auto"`` admission can bank.
MAX_CREDIT_S = 1.0
#: Share of its own forward work that ``"auto"`` admission may spend on new regions.
BUILD_FRACTION = 0.25
#: Batches up to this size are looked up with numpy on a CPU cache (less fixed cost per op).
SMALL_BATCH = 64
#: Batches of at least this size look up only every PROBE_STRIDE-th point while the share of
#: looked-up points that hit in the last such batch is below PROBE_BELOW_YIELD.
PROBE_MIN_BATCH = 256
PROBE_STRIDE = 8
PROBE_BELOW_YIELD = 0.02
#: Anchors newer than the index are searched by brute force; past this many the index is
#: rebuilt whatever ``rebuild_threshold`` says.
MAX_PENDING = 1024
#: Size of the recently-hit list tested first.
N_RECENT = 64
#: Extra anchors kept (a ring buffer; the creating point of every region is always kept).
EXTRA_ANCHORS = 8192
#: Multiple of the dtype's machine epsilon used as the rounding margin of every test.
MARGIN_ULPS = 4.0
_EPS64 = float(np.finfo(np.float64).eps)


class WeightsChangedWarning(UserWarning):
    """The network's weights changed after the cache was built; the cache was cleared."""


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


@dataclass
class CachedRegions:
    """The cached regions as arrays, one row per region (see :meth:`HypersphereCache.regions`).

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
        offsets`` (unit normals).
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
        ``K``, the hyperplanes kept per region (nearest first).  Default ``max(32, 4 d)``.
    n_candidates : int
        Anchors asked of the ball index per query.
    admit : "auto", "all" or int
        Which new regions of a batch are linearised and inserted (see the module notes).

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
        self.rebuild_threshold = rebuild_threshold
        self.max_regions = max_regions
        self.n_candidates = n_candidates
        self.admit = admit
        self._source = net
        self._module = isinstance(net, torch.nn.Module)
        default_dtype, default_device = torch.float64, torch.device("cpu")
        if self._module:
            p = next(iter(net.parameters()), None)
            if p is not None:
                if p.dtype in (torch.float32, torch.float64):
                    default_dtype = p.dtype
                default_device = p.device
        self.device = resolve_device(device) if device is not None else default_device
        self.dtype = _torch_dtype(dtype, default_dtype)
        self._rows_arg = rows_per_region
        if rows_per_region is not None and (
            not isinstance(rows_per_region, int) or rows_per_region < 1
        ):
            raise ValueError(f"rows_per_region must be a positive int, got {rows_per_region!r}")
        self._weight_changes = 0
        self._build(self._snapshot())

    # ------------------------------------------------------------------ configuration
    @property
    def admit(self) -> str | int:
        """The admission policy: ``"auto"``, ``"all"`` or the most new regions per call."""
        return self._admit

    @admit.setter
    def admit(self, value: str | int) -> None:
        ok = value in ("auto", "all") or (
            isinstance(value, int) and not isinstance(value, bool) and value >= 0
        )
        if not ok:
            raise ValueError(f"admit must be 'auto', 'all' or an int >= 0, got {value!r}")
        self._admit = value

    def _build(self, snapshot: list[Any]) -> None:
        """(Re)build the canonical network, its device copy and empty region arrays."""
        import torch

        self._snap = snapshot
        self.net: ReLUNetwork = as_network(self._source)
        net = self.net
        dev, dt = self.device, self.dtype
        self.d, self.n_out, self.n_neurons = net.input_dim, net.output_dim, net.n_neurons
        self.K = int(self._rows_arg or max(32, 4 * self.d))
        self.K = min(self.K, max(self.n_neurons, 1)) if self.n_neurons else 0
        self._eps = float(torch.finfo(dt).eps)
        self._layers = [
            (
                torch.as_tensor(w.T, dtype=dt, device=dev).contiguous(),
                torch.as_tensor(b, dtype=dt, device=dev),
            )
            for w, b in zip(net.weights, net.biases)
        ]
        # pattern hash: each layer's sign bytes read as int64 words, times random odd words
        rng = np.random.default_rng(12345)
        self._mult_cpu = [
            torch.as_tensor(rng.integers(-(2**62), 2**62, size=(w + 63) // 64 * 8) | 1)
            for w in net.hidden_widths
        ]
        self._mult = [m.to(dev) for m in self._mult_cpu]
        self._clear_regions()
        self._reset_stats()

    def _snapshot(self) -> list[Any]:
        if self._module:
            # the modules are listed once; their parameters and buffers are read every call
            self._mods = list(self._source.modules())
            ts = [t.detach().clone() for t in self._module_tensors()]
            modes = tuple(m.training for m in self._mods)
            return [ts, modes]
        return [np.array(a, copy=True) for a in self._source_arrays()]

    def _module_tensors(self) -> list[Any]:
        return [
            t
            for m in self._mods
            for t in (*m._parameters.values(), *m._buffers.values())
            if t is not None
        ]

    def _source_arrays(self) -> list[np.ndarray]:
        src = self._source
        if isinstance(src, ReLUNetwork):
            return [*src.weights, *src.biases, np.asarray(src.slopes)]
        return [np.asarray(a, dtype=np.float64) for pair in src for a in pair]

    def _weights_changed(self) -> bool:
        import torch

        if self._module:
            ts, modes = self._snap
            cur = self._module_tensors()
            if len(cur) != len(ts):
                return True
            if tuple(m.training for m in self._mods) != modes:
                return True
            for a, b in zip(cur, ts):
                if a.shape != b.shape or a.dtype != b.dtype or a.device != b.device:
                    return True
                if not torch.equal(a.detach(), b):
                    return True
            return False
        try:
            cur_np = self._source_arrays()
        except (TypeError, ValueError):
            return True
        if len(cur_np) != len(self._snap):
            return True
        return not all(
            a.shape == b.shape and np.array_equal(a, b) for a, b in zip(cur_np, self._snap)
        )

    def _check_weights(self) -> None:
        if self._weights_changed():
            n = self._size
            self._weight_changes += 1
            warnings.warn(
                f"the network's weights changed since the cache was built; cleared its {n} "
                "regions and rebuilt it from the new weights",
                WeightsChangedWarning,
                stacklevel=3,
            )
            changes = self._weight_changes
            self._build(self._snapshot())
            self._weight_changes = changes

    # ------------------------------------------------------------------ storage
    def _clear_regions(self) -> None:
        import torch

        dev, dt = self.device, self.dtype
        d, K, o = self.d, self.K, self.n_out
        cap = 0
        self._cap = cap
        self._ra = torch.zeros((cap, K, d), dtype=dt, device=dev)  # unit normals
        self._rd = torch.zeros((cap, K), dtype=dt, device=dev)  # distances from x0
        # one row per region: x0, r0, rho, f(x0), W (flattened), gathered at once
        self._hdr = torch.zeros((cap, d + 2 + o + o * d), dtype=dt, device=dev)
        self._c = torch.zeros((cap, o), dtype=dt, device=dev)
        self._refresh_views()
        nbytes = (self.n_neurons + 7) // 8
        self._bits = np.zeros((cap, nbytes), dtype=np.uint8)
        self._rows = np.zeros((cap, K), dtype=np.int32)
        self._x0np = np.zeros((cap, d))
        self._r0np = np.zeros(cap)
        self._rhonp = np.zeros(cap)
        self._cheb_c = np.zeros((cap, d))
        self._cheb_r = np.zeros(cap)
        self._id = np.zeros(cap, dtype=np.int64)
        self._gen = np.zeros(cap, dtype=np.int64)
        self._live = np.zeros(cap, dtype=bool)
        self._last = np.zeros(cap, dtype=np.int64)
        self._nhits = np.zeros(cap, dtype=np.int64)
        self._key = np.zeros(cap, dtype=np.int64)
        self._by_bits: dict[bytes, int] = {}
        self._by_key: dict[int, int] = {}
        self._free: list[int] = []
        self._high_water = 0
        self._size = 0
        self._next_id = 0
        self._recent: list[int] = []  # recently hit slots, most recent first
        # anchors: extra points (ring buffer) known to lie in a region
        self._ext_x = np.zeros((EXTRA_ANCHORS, d))
        self._ext_slot = np.full(EXTRA_ANCHORS, -1, dtype=np.int64)
        self._ext_gen = np.zeros(EXTRA_ANCHORS, dtype=np.int64)
        self._ext_n = 0  # anchors ever written (ring position = _ext_n % EXTRA_ANCHORS)
        self._tree: AnchorIndex | None = None
        self._tree_slot = np.zeros(0, dtype=np.int64)
        self._tree_gen = np.zeros(0, dtype=np.int64)
        self._pending_slots: list[int] = []  # regions inserted since the last rebuild
        self._pending_ext: list[int] = []  # ring positions written since the last rebuild
        self._pending = 0

    def _reset_stats(self) -> None:
        self._hits = 0
        self._misses = 0
        self._calls = 0
        self._inserted = 0
        self._evicted = 0
        self._skipped = 0
        self._credit = START_CREDIT_S
        self._yield = 1.0  # share of the points looked up in the last batch that hit
        self._t_fwd_pt: float | None = None
        self._t_lin: float | None = None

    def _grow(self, need: int) -> None:
        import torch

        if need <= self._cap:
            return
        new = max(need, 2 * self._cap, 16)
        if self.max_regions is not None:
            new = max(need, min(new, self.max_regions))
        extra = new - self._cap

        def grow_t(t: Any) -> Any:
            pad = torch.zeros((extra, *t.shape[1:]), dtype=t.dtype, device=t.device)
            return torch.cat([t, pad])

        def grow_n(a: np.ndarray) -> np.ndarray:
            return np.concatenate([a, np.zeros((extra, *a.shape[1:]), dtype=a.dtype)])

        for name in ("_ra", "_rd", "_hdr", "_c"):
            setattr(self, name, grow_t(getattr(self, name)))
        for name in (
            "_bits", "_rows", "_x0np", "_r0np", "_rhonp", "_cheb_c", "_cheb_r", "_id", "_gen",
            "_live", "_last", "_nhits", "_key",
        ):  # fmt: skip
            setattr(self, name, grow_n(getattr(self, name)))
        self._cap = new
        self._refresh_views()

    def _refresh_views(self) -> None:
        """Column views of the header rows; numpy views (shared memory) on the CPU."""
        d, o = self.d, self.n_out
        h = self._hdr
        self._x0, self._r0, self._rho = h[:, :d], h[:, d], h[:, d + 1]
        self._f0 = h[:, d + 2 : d + 2 + o]
        self._W = h[:, d + 2 + o :].unflatten(1, (o, d))
        names = ("_ra", "_rd", "_x0", "_rho", "_r0", "_W", "_c", "_f0", "_hdr")
        if self.device.type == "cpu":
            self._views: dict[str, np.ndarray] | None = {n: getattr(self, n).numpy() for n in names}
        else:
            self._views = None

    def _bytes_per_region(self) -> int:
        """Bytes stored per region (device arrays in the dtype, host bookkeeping)."""
        es = self.dtype.itemsize
        d, K, o = self.d, self.K, self.n_out
        on_device = es * (K * d + K + d + 2 + o * d + 2 * o)
        on_host = (self.n_neurons + 7) // 8 + 4 * K + 8 * (2 * d + 3) + 8 * 5 + 1
        return int(on_device + on_host)

    # ------------------------------------------------------------------ public API
    def __call__(self, x: Any, return_linearization: bool = False) -> Any:
        """``f(x)`` for one point ``(d,)`` or a batch ``(n, d)``.

        Returns a tensor if ``x`` is one (on ``x``'s device), else a numpy array, in the
        cache's dtype.  With ``return_linearization`` a :class:`CacheAnswer`
        ``(output, W, c, region, hit)`` is returned, one row per point (misses are
        linearised too, so every point gets its region's ``W, c``).
        """
        import torch

        self._check_weights()
        y, single, as_torch, out_dev = self._as_batch(x)
        self._calls += 1
        n = y.shape[0]
        if self._views is not None and n <= SMALL_BATCH and not return_linearization:
            # small batch on the CPU: the lookup in numpy, on the same memory
            yn = y.numpy()
            hit_np, slot_np = self._lookup_np(yn)
            out = torch.empty((n, self.n_out), dtype=self.dtype)
            hi = np.nonzero(hit_np)[0]
            if hi.size:
                sn = slot_np[hi]
                out.numpy()[hi] = self._eval_np(yn[hi], self._views["_hdr"][sn])
                self._touch_np(*np.unique(sn, return_counts=True))
            hit = torch.from_numpy(hit_np)
            slot = torch.from_numpy(slot_np)
            looked = 0
            hit_idx = torch.from_numpy(hi)
        else:
            out = torch.empty((n, self.n_out), dtype=self.dtype, device=self.device)
            slot = torch.full((n,), -1, dtype=torch.int64, device=self.device)
            if n and n >= PROBE_MIN_BATCH and self._yield < PROBE_BELOW_YIELD:
                # lookups have been finding almost nothing: look up a strided sample (which
                # keeps measuring the yield) and send the rest straight to the forward pass
                probe = torch.arange(0, n, PROBE_STRIDE, device=self.device)
                sub = torch.full((probe.numel(),), -1, dtype=torch.int64, device=self.device)
                hs = self._lookup(y.index_select(0, probe), sub)
                hit = torch.zeros(n, dtype=torch.bool, device=self.device)
                hit.index_copy_(0, probe, hs)
                slot.index_copy_(0, probe, sub)
                looked = probe.numel() if self._size else 0
                if looked and int(hs.sum()) >= PROBE_BELOW_YIELD * looked:
                    # hits are back: look up the rest of this batch too
                    rest = torch.ones(n, dtype=torch.bool, device=self.device)
                    rest[probe] = False
                    rest = rest.nonzero().squeeze(1)
                    sub = torch.full((rest.numel(),), -1, dtype=torch.int64, device=self.device)
                    hit.index_copy_(0, rest, self._lookup(y.index_select(0, rest), sub))
                    slot.index_copy_(0, rest, sub)
                    looked = n
            elif n:
                looked = n if self._size else 0  # an empty cache says nothing of the yield
                hit = self._lookup(y, slot)
            else:
                hit = torch.zeros(0, dtype=torch.bool, device=self.device)
                looked = 0
            hit_idx = hit.nonzero().squeeze(1)
            if hit_idx.numel():
                sh = slot[hit_idx]
                out[hit_idx] = self._eval(y.index_select(0, hit_idx), self._hdr.index_select(0, sh))
                cnt = torch.bincount(sh, minlength=self._cap)
                u = cnt.nonzero().squeeze(1)
                self._touch_np(u.cpu().numpy(), cnt.index_select(0, u).cpu().numpy())
        n_hit = int(hit_idx.numel())
        if looked:
            self._yield = n_hit / looked
        self._hits += n_hit
        self._misses += n - n_hit
        miss_idx = (~hit).nonzero().squeeze(1)
        W = c = region = None
        if miss_idx.numel():
            region_m = self._handle_misses(y, miss_idx, out, n_hit, n, return_linearization)
        else:
            region_m = None
            self._earn(n_hit, n)
        if return_linearization:
            W = torch.empty((n, self.n_out, self.d), dtype=self.dtype, device=self.device)
            c = torch.empty((n, self.n_out), dtype=self.dtype, device=self.device)
            region = torch.full((n,), -1, dtype=torch.int64)
            if hit_idx.numel():
                sh = slot[hit_idx]
                W[hit_idx], c[hit_idx] = self._W[sh], self._c[sh]
                region[hit_idx.cpu()] = torch.as_tensor(self._id[sh.cpu().numpy()])
            if region_m is not None:
                Wm, cm, rm = region_m
                W[miss_idx], c[miss_idx] = Wm, cm
                region[miss_idx.cpu()] = rm
        self._maybe_rebuild()
        return self._format(out, W, c, region, hit, single, as_torch, out_dev)

    def stats(self) -> dict[str, Any]:
        """Counters of the cache's life since it was built or last cleared.

        Keys: ``hits``, ``misses``, ``hit_rate``, ``size`` (regions), ``memory`` (bytes of
        the region arrays, anchors and index), ``bytes_per_region``, ``inserted``,
        ``evicted``, ``skipped`` (new regions, or missed points, left out by admission),
        ``calls``, ``anchors``,
        ``index`` (the backend in use), ``rows_per_region``, ``weight_changes``, ``device``
        and ``dtype``.

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
        n_anchor = self._size + min(self._ext_n, EXTRA_ANCHORS)
        per = self._bytes_per_region()
        mem = self._cap * per + n_anchor * 8 * (2 * self.d + 2) + EXTRA_ANCHORS * 8 * (self.d + 2)
        backend = index_backend(self.index_name)
        return {
            "hits": self._hits,
            "misses": self._misses,
            "hit_rate": self._hits / total if total else 0.0,
            "size": self._size,
            "memory": int(mem),
            "bytes_per_region": per,
            "inserted": self._inserted,
            "evicted": self._evicted,
            "skipped": self._skipped,
            "calls": self._calls,
            "anchors": n_anchor,
            "index": backend,
            "rows_per_region": self.K,
            "weight_changes": self._weight_changes,
            "device": str(self.device),
            "dtype": str(self.dtype).replace("torch.", ""),
        }

    def __len__(self) -> int:
        return self._size

    def clear(self) -> None:
        """Drop every cached region and reset the counters (the network is kept)."""
        self._clear_regions()
        self._reset_stats()

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
        from .patterns import unpack

        live = np.nonzero(self._live)[0]
        live = live[np.argsort(self._id[live])]
        if chebyshev:
            todo = live[np.isnan(self._cheb_r[live])]
            if todo.size:
                self._chebyshev(todo)
        import torch

        sl = torch.as_tensor(live, dtype=torch.int64, device=self.device)
        return CachedRegions(
            id=self._id[live].copy(),
            pattern=unpack(self._bits[live], self.n_neurons),
            center=self._x0np[live].copy(),
            radius=self._r0np[live].copy(),
            cheb_center=self._cheb_c[live].copy(),
            cheb_radius=self._cheb_r[live].copy(),
            rows=self._rows[live].astype(np.int64),
            normals=self._ra[sl].double().cpu().numpy(),
            offsets=self._rd[sl].double().cpu().numpy(),
            rho=self._rhonp[live].copy(),
            W=self._W[sl].double().cpu().numpy(),
            c=self._c[sl].double().cpu().numpy(),
            hits=self._nhits[live].copy(),
            last_used=self._last[live].copy(),
        )

    # ------------------------------------------------------------------ internals
    def _as_batch(self, x: Any) -> tuple[Any, bool, bool, Any]:
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
            if not np.isfinite(arr).all():
                raise ValueError("points contain NaN or inf")
            y = torch.from_numpy(arr.reshape(-1, d)).to(device=self.device, dtype=self.dtype)
            return y, single, as_torch, out_dev
        y = t.to(device=self.device, dtype=self.dtype).reshape(-1, d)
        if y.numel() and not bool(torch.isfinite(y).all()):
            raise ValueError("points contain NaN or inf")
        return y, single, as_torch, out_dev

    def _format(self, out, W, c, region, hit, single, as_torch, out_dev) -> Any:
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

    def _eval(self, y: Any, h: Any) -> Any:
        """``f(x0) + W (y - x0)`` from gathered header rows ``h``."""
        d, o = self.d, self.n_out
        diff = (y - h[:, :d]).unsqueeze(2)
        W = h[:, d + 2 + o :].unflatten(1, (o, d))
        return h[:, d + 2 : d + 2 + o] + (W @ diff).squeeze(2)

    def _eval_np(self, y: np.ndarray, h: np.ndarray) -> np.ndarray:
        d, o = self.d, self.n_out
        W = h[:, d + 2 + o :].reshape(-1, o, d)
        return h[:, d + 2 : d + 2 + o] + np.einsum("nod,nd->no", W, y - h[:, :d])

    def _touch_np(self, slots: np.ndarray, counts: np.ndarray) -> None:
        """Record hits on ``slots`` (unique) for LRU and the recently-hit list."""
        self._last[slots] = self._calls
        self._nhits[slots] += counts
        self._remember(slots[np.argsort(-counts, kind="stable")[:N_RECENT]])

    def _remember(self, slots: np.ndarray) -> None:
        if len(slots) == 1 and self._recent and self._recent[0] == slots[0]:
            return
        seen = set()
        merged = []
        for s in [*slots[:N_RECENT].tolist(), *self._recent]:
            if s not in seen and self._live[s]:
                seen.add(s)
                merged.append(s)
                if len(merged) == N_RECENT:
                    break
        self._recent = merged

    def _test(self, y: Any, cand: Any) -> Any:
        """Exact membership of ``y[i]`` in region ``cand[i]`` (``-1``: none), with margins."""
        import torch

        d = self.d
        valid = cand >= 0
        s = cand.clamp(min=0)
        h = self._hdr.index_select(0, s)
        diff = y - h[:, :d]
        dist = diff.norm(dim=1)
        # rounding: relative to |y - x0| and the offsets in the cache's dtype, plus the
        # float64 rounding of the offsets themselves (relative to |x0| ~ |y|)
        c = MARGIN_ULPS * (d + 3) * self._eps
        base = MARGIN_ULPS * _EPS64 * y.norm(dim=1)
        tol = c * dist + base
        inner = valid & (dist + tol < h[:, d])
        need = valid & ~inner & (dist + tol < h[:, d + 1])
        idx = need.nonzero().squeeze(1)
        if idx.numel():
            si = s.index_select(0, idx)
            v = torch.bmm(self._ra.index_select(0, si), diff.index_select(0, idx).unsqueeze(2))
            v = v.squeeze(2)
            rd = self._rd.index_select(0, si)
            t = c * (dist.index_select(0, idx).unsqueeze(1) + rd)
            t += base.index_select(0, idx).unsqueeze(1)
            inner.index_copy_(0, idx, (v + t < rd).all(dim=1))
        return inner

    def _lookup(self, y: Any, slot: Any) -> Any:
        """Fill ``slot`` for the points found in a cached region; return the hit mask."""
        import torch

        n = y.shape[0]
        hit = torch.zeros(n, dtype=torch.bool, device=self.device)
        if self._size == 0:
            return hit
        # tier 1: recently hit regions, the one with the nearest x0
        if self._recent:
            rs = torch.as_tensor(self._recent, dtype=torch.int64, device=self.device)
            if len(self._recent) == 1:
                cand = rs.expand(n)
            else:  # nearest x0: argmin of |x0|^2 - 2 y.x0, one matmul
                x0 = self._x0[rs]
                score = torch.addmm((x0 * x0).sum(dim=1), y, x0.T, alpha=-2.0)
                cand = rs.index_select(0, score.argmin(dim=1))
            ok = self._test(y, cand)
            slot[ok] = cand[ok]
            hit |= ok
        todo = (~hit).nonzero().squeeze(1)
        if not todo.numel():
            return hit
        # tier 2: the ball index, then the anchors added since it was built
        yt = y.index_select(0, todo)
        C = self._index_candidates(yt.double().cpu().numpy())
        if C is None:
            return hit
        # every (point, candidate) pair in one test; a point takes its first success
        m, k = C.shape
        C = torch.as_tensor(C, device=self.device)
        ok = self._test(yt.repeat_interleave(k, dim=0), C.reshape(-1)).reshape(m, k)
        won = ok.any(dim=1)
        first = ok.to(torch.int8).argmax(dim=1)
        wi = won.nonzero().squeeze(1)
        slot[todo[wi]] = C[wi, first[wi]]
        hit[todo[wi]] = True
        return hit

    def _index_candidates(self, q: np.ndarray) -> np.ndarray | None:
        """Candidate slots (m, k) from the ball index and the anchors newer than it."""
        cands = []
        if len(self._pending_slots) + len(self._pending_ext) > MAX_PENDING:
            self._maybe_rebuild(force=True)  # brute force over the newest anchors stays small
        if self._tree is not None and self._tree.n:
            ind = self._tree.query(q, self.n_candidates, self._tree_bound)
            ok_ind = ind >= 0
            safe = np.where(ok_ind, ind, 0)
            cs = self._tree_slot[safe]
            good = ok_ind & (self._tree_gen[safe] == self._gen[cs]) & self._live[cs]
            cands.append(np.where(good, cs, -1))
        recent = self._pending_anchor_slots()
        if recent is not None:
            pts, slots = recent
            score = (pts * pts).sum(axis=1)[None, :] - 2.0 * (q @ pts.T)  # |q - p|^2 - |q|^2
            cands.append(slots[score.argmin(axis=1)][:, None])
        return np.concatenate(cands, axis=1) if cands else None

    def _pending_anchor_slots(self) -> tuple[np.ndarray, np.ndarray] | None:
        if not self._pending_slots and not self._pending_ext:
            return None
        ps = np.array(self._pending_slots, dtype=np.int64)
        ps = ps[self._live[ps]] if ps.size else ps
        pe = np.array(self._pending_ext, dtype=np.int64)
        if pe.size:
            pe = pe[(self._ext_slot[pe] >= 0)]
            es = self._ext_slot[pe]
            pe = pe[(self._ext_gen[pe] == self._gen[es]) & self._live[es]]
        pts = np.concatenate([self._x0np[ps], self._ext_x[pe]])
        slots = np.concatenate([ps, self._ext_slot[pe]])
        if not slots.size:
            return None
        return pts, slots

    # numpy twins of _test and _lookup for small batches on the CPU, where the fixed cost of
    # a torch operation (microseconds) dominates; same arrays (shared memory), same tests
    def _test_np(self, y: np.ndarray, cand: np.ndarray) -> np.ndarray:
        v = self._views
        d = self.d
        valid = cand >= 0
        s = np.maximum(cand, 0)
        h = v["_hdr"][s]
        diff = y - h[:, :d]
        dist = np.sqrt((diff * diff).sum(axis=1))
        c = MARGIN_ULPS * (d + 3) * self._eps
        base = MARGIN_ULPS * _EPS64 * np.sqrt((y * y).sum(axis=1))
        tol = c * dist + base
        inner = valid & (dist + tol < h[:, d])
        need = valid & ~inner & (dist + tol < h[:, d + 1])
        idx = np.nonzero(need)[0]
        if idx.size:
            si = s[idx]
            vals = np.einsum("nkd,nd->nk", v["_ra"][si], diff[idx])
            rd = v["_rd"][si]
            t = c * (dist[idx, None] + rd) + base[idx, None]
            inner[idx] = (vals + t < rd).all(axis=1)
        return inner

    def _lookup_np(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = y.shape[0]
        hit = np.zeros(n, dtype=bool)
        slot = np.full(n, -1, dtype=np.int64)
        if self._size == 0:
            return hit, slot
        if self._recent:
            rs = np.asarray(self._recent, dtype=np.int64)
            x0 = self._views["_x0"][rs]
            cand = rs[((y[:, None, :] - x0[None]) ** 2).sum(axis=2).argmin(axis=1)]
            hit = self._test_np(y, cand)
            slot[hit] = cand[hit]
        todo = np.nonzero(~hit)[0]
        if not todo.size:
            return hit, slot
        C = self._index_candidates(y[todo].astype(np.float64))
        if C is None:
            return hit, slot
        left = np.arange(todo.size)
        for j in range(C.shape[1]):
            cj = C[left, j]
            ok = self._test_np(y[todo[left]], cj)
            won = todo[left[ok]]
            slot[won] = cj[ok]
            hit[won] = True
            left = left[~ok]
            if not left.size:
                break
        return hit, slot

    def _maybe_rebuild(self, force: bool = False) -> None:
        if self._pending < self.rebuild_threshold and not force:
            return
        live = np.nonzero(self._live)[0]
        k = min(self._ext_n, EXTRA_ANCHORS)
        ext = np.arange(k)
        es = self._ext_slot[ext]
        okx = (es >= 0) & (self._ext_gen[ext] == self._gen[np.maximum(es, 0)])
        okx &= self._live[np.maximum(es, 0)]
        ext = ext[okx]
        pts = np.concatenate([self._x0np[live], self._ext_x[ext]])
        self._tree_slot = np.concatenate([live, self._ext_slot[ext]])
        self._tree_gen = self._gen[self._tree_slot]
        self._tree = make_index(self.index_name, pts, self.device, self.dtype)
        # farthest a query can be from an anchor and still be certified in its region
        es = self._ext_slot[ext]
        reach = np.concatenate(
            [
                self._rhonp[live],
                self._rhonp[es] + np.linalg.norm(self._ext_x[ext] - self._x0np[es], axis=1),
            ]
        )
        self._tree_bound = float(reach.max() * (1 + 1e-9)) if reach.size else np.inf
        self._pending_slots, self._pending_ext, self._pending = [], [], 0

    def _forward(self, y: Any, keys: bool = True) -> tuple[Any, Any]:
        """Outputs and pattern hashes (int64; ``None`` if not asked for), in the cache's dtype."""
        import torch

        h = y
        key = torch.zeros(y.shape[0], dtype=torch.int64, device=self.device) if keys else None
        L = len(self._layers)
        for i, (w, b) in enumerate(self._layers):
            z = torch.addmm(b, h, w)
            if i == L - 1:
                h = z
                break
            pos = z > 0
            if key is not None:
                key = _hash_step(key, pos, self._mult[i])
            slope = self.net.slopes[i]
            h = z.clamp_min_(0.0) if slope == 0.0 else torch.where(pos, z, slope * z)
        return h, key

    def _pattern_keys(self, patterns: np.ndarray) -> np.ndarray:
        """The hash of :meth:`_forward` for canonical +1/-1 patterns."""
        import torch

        pos = torch.from_numpy(np.ascontiguousarray(patterns > 0))
        key = torch.zeros(pos.shape[0], dtype=torch.int64)
        start = 0
        for i, w in enumerate(self.net.hidden_widths):
            key = _hash_step(key, pos[:, start : start + w].contiguous(), self._mult_cpu[i])
            start += w
        return key.numpy()

    def _earn(self, n_hit: int, n: int) -> None:
        if self._t_fwd_pt is not None:
            earn = self._t_fwd_pt * (BUILD_FRACTION * n + n_hit)
            self._credit = min(MAX_CREDIT_S, self._credit + earn)

    def _handle_misses(
        self, y: Any, miss_idx: Any, out: Any, n_hit: int, n: int, want_lin: bool
    ) -> tuple[Any, Any, Any] | None:
        import torch

        ym = y.index_select(0, miss_idx)
        m = ym.shape[0]
        sync = self.device.type == "cuda"
        # with no admission credit left, new regions would not be linearised: skip grouping
        group = want_lin or self._n_admit(1, False) > 0
        t0 = time.perf_counter()
        fm, keys = self._forward(ym, keys=group)
        if sync:
            torch.cuda.synchronize(self.device)
        t_fwd = time.perf_counter() - t0
        out.index_copy_(0, miss_idx, fm)
        pt = t_fwd / m
        self._t_fwd_pt = pt if self._t_fwd_pt is None else 0.8 * self._t_fwd_pt + 0.2 * pt
        self._earn(n_hit, n)
        if keys is None:
            self._skipped += m
            return None
        # group the missed points by pattern hash
        ukeys, inv, counts = torch.unique(keys, return_inverse=True, return_counts=True)
        ng = ukeys.numel()
        first = torch.full((ng,), m, dtype=torch.int64, device=self.device)
        first.scatter_reduce_(0, inv, torch.arange(m, device=self.device), reduce="amin")
        ukn, firstn, cntn = ukeys.cpu().numpy(), first.cpu().numpy(), counts.cpu().numpy()
        known = np.array([self._by_key.get(int(k), -1) for k in ukn], dtype=np.int64)
        # points in a region already cached (missed by the index or near its edge): anchors
        kg = np.nonzero(known >= 0)[0]
        if kg.size:
            self._add_anchors(ym[torch.as_tensor(firstn[kg], device=self.device)], known[kg])
        new = np.nonzero(known < 0)[0]
        new = new[np.argsort(-cntn[new], kind="stable")]
        group_slot = known.copy()
        if new.size:
            inserted = self._admit_and_insert(ym, firstn[new], want_lin)
            group_slot[new] = inserted
        if not want_lin:
            return None
        # every missed point gets its region's map: verified group region, else its own
        gs = torch.as_tensor(group_slot, device=self.device)[inv]
        ok = self._test(ym, gs)
        Wm = torch.empty((m, self.n_out, self.d), dtype=self.dtype, device=self.device)
        cm = torch.empty((m, self.n_out), dtype=self.dtype, device=self.device)
        rm = torch.full((m,), -1, dtype=torch.int64)
        oki = ok.nonzero().squeeze(1)
        if oki.numel():
            s = gs[oki]
            Wm[oki], cm[oki] = self._W[s], self._c[s]
            rm[oki.cpu()] = torch.as_tensor(self._id[s.cpu().numpy()])
        rest = (~ok).nonzero().squeeze(1)
        if rest.numel():
            lin = linearize_at_point(self.net, ym[rest].double().cpu().numpy(), self.device,
                                     halfspaces=False)  # fmt: skip
            Wm[rest] = torch.as_tensor(lin.W, dtype=self.dtype, device=self.device)
            cm[rest] = torch.as_tensor(lin.c, dtype=self.dtype, device=self.device)
            bits = pack(lin.pattern)
            rm[rest.cpu()] = torch.as_tensor(
                [int(self._id[self._by_bits[b]]) if b in self._by_bits else -1
                 for b in map(bytes, bits)], dtype=torch.int64,
            )  # fmt: skip
        return Wm, cm, rm

    def _n_admit(self, n_new: int, want_lin: bool) -> int:
        if want_lin or self._admit == "all":
            return n_new
        if isinstance(self._admit, int):
            return min(n_new, self._admit)
        if self._credit <= 0:
            return 0
        if self._t_lin is None:
            return min(n_new, 8)
        return int(min(n_new, max(1, self._credit // self._t_lin)))

    def _admit_and_insert(self, ym: Any, reps: np.ndarray, want_lin: bool) -> np.ndarray:
        """Linearise the representatives of new groups (within the admission budget)."""
        import torch

        slots = np.full(reps.size, -1, dtype=np.int64)
        done = 0
        while done < reps.size:
            k = self._n_admit(reps.size - done, want_lin)
            if k <= 0:
                break
            chunk = np.arange(done, done + k)
            t0 = time.perf_counter()
            pts = ym[torch.as_tensor(reps[chunk], device=self.device)]
            lin = linearize_at_point(self.net, pts.double().cpu().numpy(), self.device,
                                     halfspaces=True)  # fmt: skip
            slots[chunk] = self._insert(lin)
            dt = time.perf_counter() - t0
            self._credit -= dt
            per = dt / k
            self._t_lin = per if self._t_lin is None else 0.7 * self._t_lin + 0.3 * per
            done += k
            if self._admit != "auto" or want_lin:
                break
        self._skipped += reps.size - done
        return slots

    def _add_anchors(self, pts: Any, slots: np.ndarray) -> None:
        p = pts.double().cpu().numpy()
        k = p.shape[0]
        if k > EXTRA_ANCHORS:
            p, slots, k = p[-EXTRA_ANCHORS:], slots[-EXTRA_ANCHORS:], EXTRA_ANCHORS
        pos = (self._ext_n + np.arange(k)) % EXTRA_ANCHORS
        self._ext_x[pos] = p
        self._ext_slot[pos] = slots
        self._ext_gen[pos] = self._gen[slots]
        self._ext_n += k
        self._pending_ext.extend(pos.tolist())
        self._pending += k

    def _insert(self, lin: Any) -> np.ndarray:
        """Insert the regions of linearised points; return each point's slot (-1: not kept)."""
        import torch

        n = len(lin)
        res = np.full(n, -1, dtype=np.int64)
        bits = pack(lin.pattern)
        keys = self._pattern_keys(lin.pattern)
        # one slot per new region: the first point of each; existing regions: anchors
        fresh: list[int] = []
        seen: dict[bytes, int] = {}
        anchor_pts, anchor_slots = [], []
        for i, b in enumerate(map(bytes, bits)):
            s = self._by_bits.get(b)
            if s is not None:
                res[i] = s
                anchor_pts.append(i)
                anchor_slots.append(s)
            elif b in seen:
                res[i] = -2 - seen[b]  # resolved below
            elif lin.radius[i] > 0:
                seen[b] = i
                fresh.append(i)
        if anchor_pts:
            self._add_anchors(
                torch.as_tensor(lin.x[anchor_pts], dtype=self.dtype), np.asarray(anchor_slots)
            )
        if self.max_regions is not None and len(fresh) > self.max_regions:
            fresh = fresh[: self.max_regions]
        if fresh:
            slots_new = self._take_slots(len(fresh))
            self._fill(slots_new, np.asarray(fresh), lin, bits, keys)
            res[fresh] = slots_new
        for i in np.nonzero(res <= -2)[0]:
            res[i] = res[-2 - res[i]]
        return res

    def _take_slots(self, k: int) -> np.ndarray:
        if self.max_regions is not None and self._size + k > self.max_regions:
            self._evict(self._size + k - self.max_regions)
        reuse = [self._free.pop() for _ in range(min(k, len(self._free)))]
        more = np.arange(self._high_water, self._high_water + k - len(reuse), dtype=np.int64)
        self._high_water += more.size
        self._grow(self._high_water)
        return np.concatenate([np.asarray(reuse, dtype=np.int64), more])

    def _evict(self, k: int) -> None:
        live = np.nonzero(self._live)[0]
        k = min(k, live.size)
        if k <= 0:
            return
        order = np.lexsort((self._nhits[live], self._last[live]))
        gone = live[order[:k]]
        for s in gone.tolist():
            self._by_bits.pop(bytes(self._bits[s]), None)
            if self._by_key.get(int(self._key[s])) == s:
                del self._by_key[int(self._key[s])]
        self._live[gone] = False
        self._gen[gone] += 1
        self._free.extend(gone.tolist())
        self._size -= k
        self._evicted += k
        self._pending += k
        gone_set = set(gone.tolist())
        self._recent = [s for s in self._recent if s not in gone_set]

    def _fill(
        self, slots: np.ndarray, idx: np.ndarray, lin: Any, bits: np.ndarray, keys: np.ndarray
    ) -> None:
        import torch

        dev, dt = self.device, self.dtype
        K, d = self.K, self.d
        # the region is described around x0 rounded to the cache's dtype, the point the
        # tests subtract; offsets are computed from it in float64 so that only the rounding
        # of y - x0 and of the stored rows is left to the margins
        x0 = torch.as_tensor(lin.x[idx], dtype=dt).double().numpy()
        A, b = lin.A[idx], lin.b[idx]
        nrm_all = np.linalg.norm(A, axis=2)
        live_all = nrm_all > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = -(np.einsum("knd,kd->kn", A, x0) + b) / np.where(live_all, nrm_all, 1.0)
        dist = np.where(live_all, gap, np.inf)  # may be < 0 if rounding left the region
        r0 = np.maximum(dist.min(axis=1), 0.0) if dist.shape[1] else np.full(len(idx), np.inf)
        f0 = np.einsum("kod,kd->ko", lin.W[idx], x0) + lin.c[idx]
        k = len(idx)
        N = self.n_neurons
        if K:
            part = (
                np.argpartition(dist, K - 1, axis=1)[:, :K]
                if N > K
                else np.tile(np.arange(N), (k, 1))
            )
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
            rows = np.where(live_row, rows, -1)
        else:
            a = np.zeros((k, 0, d))
            delta = np.zeros((k, 0))
            rows = np.zeros((k, 0), dtype=np.int64)
            rho = np.full(k, np.inf)
        st = torch.as_tensor(slots, device=dev)

        def put(name: str, val: np.ndarray) -> None:
            getattr(self, name)[st] = torch.as_tensor(val, dtype=dt, device=dev)

        put("_ra", a)
        put("_rd", delta)
        put("_x0", x0)
        put("_rho", rho)
        put("_r0", r0)
        put("_W", lin.W[idx])
        put("_c", lin.c[idx])
        put("_f0", f0)
        self._bits[slots] = bits[idx]
        self._rows[slots] = rows
        self._x0np[slots] = x0
        self._r0np[slots] = r0
        self._rhonp[slots] = rho
        self._cheb_c[slots] = np.nan
        self._cheb_r[slots] = np.nan
        self._id[slots] = np.arange(self._next_id, self._next_id + k)
        self._next_id += k
        self._live[slots] = True
        self._last[slots] = self._calls
        self._nhits[slots] = 0
        self._key[slots] = keys[idx]
        for s, i in zip(slots.tolist(), idx.tolist()):
            self._by_bits[bytes(bits[i])] = s
            self._by_key[int(keys[i])] = s
        self._size += k
        self._inserted += k
        self._pending_slots.extend(slots.tolist())
        self._pending += k
        self._remember(slots)

    def _chebyshev(self, slots: np.ndarray) -> None:
        from .geometry import chebyshev_ball, halfspaces
        from .patterns import unpack

        pats = unpack(self._bits[slots], self.n_neurons)
        A, b = halfspaces(self.net, pats, self.device)
        for i, s in enumerate(slots.tolist()):
            cen, r = chebyshev_ball(A[i], b[i])
            self._cheb_c[s] = cen if cen is not None else np.nan
            self._cheb_r[s] = r


def _hash_step(key: Any, pos: Any, mult: Any) -> Any:
    """Fold one layer's signs ``pos`` (bool, (m, n)) into the running int64 hash ``key``.

    The sign bytes are read as int64 words (padded to whole words) and summed with random
    odd weights, wrapping: a linear hash mod 2**64, the same on every device.
    """
    import torch

    m, n = pos.shape
    pad = (-n) % 64
    if pad:
        pos = torch.cat([pos, pos.new_zeros((m, pad))], dim=1)
    words = pos.contiguous().view(torch.uint8).view(torch.int64)
    return key * 1_000_003 + (words * mult).sum(dim=1)
