"""The :class:`Complex`: the small facade users touch."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np

from .domain import Domain, as_domain
from .exceptions import ComplexlibError, DegenerateGeometryError, GeometryWarning
from .lp import get_backend
from .network import ReLUNetwork, as_network, check_points
from .parallel import check_backend, executor, inline
from .patterns import pack, patterns_of, resolve_device, unpack
from .region import Region, build_region
from .search import BatchResult, generic_margin, process_batch, start_point
from .split2d import split_domain
from .store import RegionStore, keys_of, read_npz, write_npz

__all__ = ["Complex"]

#: with workers, a round of fewer than this many regions per worker runs in this process
#: (the first rounds of a search and its tail are not worth the round trip)
MIN_SHARED_ROUND = 32
#: rounds in flight when the calling process computes a chunk of each round (local loky
#: workers).  With two, the next round starts from the regions its own chunk discovered
#: while the workers finish theirs; the rounds then alternate large and small, and small
#: ones pay the fixed cost of a batch for few regions: on [3,16,16,1] (5,000 regions, 2
#: workers) one round was 15% faster, on [4,12,12,1] and [3,24,24,1] the same within 2%.
ROUNDS_IN_FLIGHT_SHARED = 1
#: rounds in flight on a cluster (Dask, Ray), whose workers would otherwise wait while
#: this process absorbs a round and sends the next
ROUNDS_IN_FLIGHT_REMOTE = 2
#: ``bfs(method="auto")`` splits 2-D networks whose layers are at most this wide
SPLIT_MAX_WIDTH = 800
#: how :meth:`Complex.bfs` may enumerate: ``"split"`` cuts polygons (2-D, bounded domain)
BFS_METHODS = ("auto", "search", "split")


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Set torch's intra-op thread count, and numpy's BLAS threads, for a block.

    The search's array work is on small matrices in both libraries; an unlimited BLAS in
    the calling process would also compete with the workers for the cores.
    """
    if n is None:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


class Complex:
    """The polyhedral complex of a ReLU network over a domain.

    Parameters
    ----------
    net : torch.nn.Sequential, list of (W, b) or ReLUNetwork
        The network (see :func:`complexlib.as_network`).
    bound : None, float, Box or Polytope
        ``None``: all of R^d; a float ``r``: the box ``[-r, r]^d``; or a domain.
    lp : str
        LP backend (``"highs"``, ``"scipy"``, ``"cvxpy"``).
    device : torch device, optional
        Where the batched torch steps run.
    facets : {"auto", "planar", "polar", "hull", "lp"}
        How facets are decided: ``"auto"`` picks the vectorised 2-D kernel for
        2-D inputs, the batched polar kernel (:mod:`complexlib.polar`) for 3-D to
        ``POLAR_MAX_DIM``-D, qhull per region up to 9-D and one LP per candidate
        above; regions a batched kernel cannot decide go to qhull, then LPs.

    Examples
    --------
    >>> import complexlib as cl
    >>> cx = cl.Complex(cl.mlp([2, 4, 1], seed=0))
    >>> summary = cx.bfs(progress=False)
    >>> len(cx)  # 4 lines in general position: 1 + 4 + 6 regions
    11
    >>> bool(cx.face_counts().mean() == 2 * cx.dual_graph().number_of_edges() / len(cx))
    True
    """

    def __init__(
        self,
        net: Any,
        bound: Any = None,
        lp: str = "highs",
        device: Any = None,
        facets: str = "auto",
    ) -> None:
        self.net: ReLUNetwork = as_network(net)
        self.domain: Domain = as_domain(bound)
        get_backend(lp)
        self.lp = lp
        from .geometry import FACET_METHODS

        if facets not in FACET_METHODS:
            raise ValueError(
                f"unknown facets method {facets!r}; valid: {', '.join(map(repr, FACET_METHODS))}"
            )
        if facets == "planar" and self.net.input_dim != 2:
            raise ValueError(
                f"facets='planar' needs a 2-D input; this network takes {self.net.input_dim}"
            )
        from .polar import POLAR_MAX_DIM

        if facets == "polar" and not 3 <= self.net.input_dim <= POLAR_MAX_DIM:
            raise ValueError(
                f"facets='polar' needs a 3-D to {POLAR_MAX_DIM}-D input; this network takes "
                f"{self.net.input_dim}"
            )
        self.facet_method = facets
        self.device = resolve_device(device)
        d = self.net.input_dim
        self._dom_A, self._dom_b = self.domain.constraints(d)
        if self._dom_A.shape[0]:
            self.domain.interior_point(d)  # raises for an empty domain
        self.store = RegionStore(self.net.n_neurons, d)
        self.seconds = 0.0
        self._complete = False

    # -- search ----------------------------------------------------------
    def bfs(
        self,
        max_regions: int | None = None,
        max_depth: int | None = None,
        start: Any = None,
        workers: int = 1,
        progress: bool = True,
        batch_size: int = 256,
        backend: str = "loky",
        address: Any = None,
        checkpoint: Any = None,
        checkpoint_every: int = 100_000,
        torch_threads: int | None = 1,
        method: str = "auto",
    ) -> dict[str, Any]:
        """Enumerate the regions whose interior meets the domain's, breadth first.

        Parameters
        ----------
        max_regions : int, optional
            Stop after this many regions are processed.
        max_depth : int, optional
            Do not process regions more than this many facet crossings from the start.
        start : array_like, optional
            A point of the start region (default: the domain's centre, moved
            off any hyperplane it lies on).
        workers : int
            Number of joblib workers processing batches of the frontier.
        progress : bool
            Show a progress bar.
        batch_size : int, optional
            Regions per batch (per worker).  Default: 512 for inputs of up to 3
            dimensions, 256 up to 6, 128 above (a batch's work about even: a region costs
            more as the dimension grows, and smaller rounds balance the workers better).
        backend : {"loky", "threading", "dask", "ray"}
            Where batches run when ``workers > 1`` (or always, for dask and ray):
            see :mod:`complexlib.parallel`.
        address : str or dask.distributed.Client, optional
            The Dask scheduler (``"tcp://host:8786"``) or Ray cluster address.
        checkpoint : path, optional
            A file (``.npz``, the format of :meth:`save`) the search state is
            written to, atomically, every ``checkpoint_every`` processed regions
            and at the end.  If it exists when ``bfs`` starts, the search resumes
            from it (it must hold the same network and domain).
        checkpoint_every : int
            Processed regions between checkpoints.
        torch_threads : int or None
            torch's intra-op threads, and numpy's BLAS threads, in this process during
            the search (restored afterwards); ``None`` leaves them as they are.  The
            batched steps are many small matmuls: one thread is faster, and several
            threads on a busy machine were measured up to 25x slower (spinning threads
            waiting for each other; with workers, also against the workers).
        method : {"auto", "search", "split"}
            ``"search"``: the local search over facet crossings.  ``"split"``: cut the
            domain polygon neuron by neuron (:meth:`split`; 2-D networks, any polygonal
            domain).  ``"auto"`` splits when it can give the same complex: a 2-D network
            with layers at most ``SPLIT_MAX_WIDTH`` wide, ``facets="auto"``, a fresh
            complex and none of ``max_regions``, ``max_depth``, ``start`` or
            ``checkpoint``; else it searches.

        Returns
        -------
        dict
            :meth:`summary` of the complex.

        Notes
        -----
        Calling ``bfs`` again continues from the frontier of an earlier call
        that stopped at ``max_regions`` / ``max_depth``.  Region ids are given in
        discovery order and batches are absorbed in order, so the result (ids,
        order, edges) is the same for any number of workers or backend.
        """
        if method not in BFS_METHODS:
            raise ValueError(
                f"unknown bfs method {method!r}; valid: {', '.join(map(repr, BFS_METHODS))}"
            )
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if batch_size is None:
            d = self.net.input_dim
            batch_size = 512 if d <= 3 else 256 if d <= 6 else 128
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
        check_backend(backend)
        plain = max_regions is None and max_depth is None and start is None
        plain = plain and checkpoint is None
        if method == "split" or (method == "auto" and plain and self._can_split()):
            if not plain:
                raise ValueError(
                    "bfs(method='split') finds every region at once: max_regions, max_depth, "
                    "start and checkpoint do not apply (use method='search', or save())"
                )
            if method == "split":
                return self.split(torch_threads=torch_threads)
            try:
                return self.split(torch_threads=torch_threads)
            except DegenerateGeometryError as exc:
                import warnings

                warnings.warn(
                    f"the polygon split could not settle this complex in float64 ({exc}); "
                    "searching instead",
                    GeometryWarning,
                    stacklevel=2,
                )
                self.store = RegionStore(self.net.n_neurons, self.net.input_dim)
        t0 = time.perf_counter()
        if checkpoint is not None and self.store.n_discovered == 0:
            self._resume(checkpoint)
        st = self.store
        d = self.net.input_dim
        if st.n_discovered == 0:
            x = self.domain.interior_point(d) if start is None else check_points(start, d)[0]
            if start is not None and not self.domain.contains(x[None])[0]:
                raise ValueError(f"start point {x.tolist()} is outside the domain {self.domain}")
            x = start_point(self.net, self._dom_A, self._dom_b, x, device=self.device)
            s = patterns_of(self.net, x[None], self.device)
            st.discover(pack(s), x[None], np.zeros(1, dtype=np.int32))
        remote = workers > 1 or backend in ("dask", "ray")
        last_checkpoint = st.n_done
        # chunks in flight, in region order: (lo, hi, future, last chunk of its round). With
        # local workers the calling process computes the first chunk of a round itself and
        # absorbs it at once; on a cluster two rounds stay in flight (absorbing strictly in
        # region order keeps ids independent of round and chunk bounds)
        inflight: deque[tuple[int, int, Any, bool]] = deque()
        n_rounds = 0
        with contextlib.ExitStack() as stack:
            stack.enter_context(_torch_threads(torch_threads))
            bar = None
            if progress:
                from tqdm.auto import tqdm

                bar = tqdm(total=None, unit=" regions", desc="complexlib bfs", initial=st.n_done)
                stack.callback(bar.close)
            local = inline(self.net)
            submit = (
                stack.enter_context(executor(backend, workers, self.net, address))
                if remote
                else local
            )
            ready = getattr(submit, "ready", lambda: True)
            share = local if getattr(submit, "shares_work", False) else None
            depth_limit = 1
            if remote and share is not None:
                depth_limit = ROUNDS_IN_FLIGHT_SHARED
            elif remote:
                depth_limit = ROUNDS_IN_FLIGHT_REMOTE
            next_lo = st.n_done
            while True:
                while n_rounds < depth_limit:
                    hi = self._round_end(next_lo, batch_size * workers, max_regions, max_depth)
                    if hi <= next_lo:
                        break
                    if remote and (not ready() or hi - next_lo < MIN_SHARED_ROUND * workers):
                        # workers still starting, or a frontier too small to be worth the
                        # round trip (the first and last rounds of a search): work here
                        hi = self._round_end(next_lo, batch_size, max_regions, max_depth)
                        chunks = self._submit(local, next_lo, hi, 1, False)
                    else:
                        chunks = self._submit(submit, next_lo, hi, workers, remote, share)
                    for i, (a, z, fut) in enumerate(chunks):
                        inflight.append((a, z, fut, i == len(chunks) - 1))
                    n_rounds += 1
                    next_lo = hi
                if not inflight:
                    break
                lo, hi, fut, last = inflight.popleft()
                self._absorb(lo, [fut.result()])
                n_rounds -= last
                if bar is not None:
                    bar.update(hi - lo)
                    bar.set_postfix(frontier=st.n_discovered - st.n_done)
                if checkpoint is not None and st.n_done - last_checkpoint >= checkpoint_every:
                    self._complete = False
                    self.seconds += time.perf_counter() - t0
                    t0 = time.perf_counter()
                    self.save(checkpoint)
                    last_checkpoint = st.n_done
        self._complete = st.n_done == st.n_discovered
        if self._complete and max_depth is None:
            self._check_facets_both_sides()
        self.seconds += time.perf_counter() - t0
        if checkpoint is not None:
            self.save(checkpoint)
        return self.summary()

    def _can_split(self) -> bool:
        """Whether :meth:`split` applies: 2-D, default facets, nothing found yet, and no
        layer wider than ``SPLIT_MAX_WIDTH`` (the split keeps a mark per polygon and neuron
        of a layer: [2,1400,1], 980,701 regions, took 373 s and 4.9 GiB split, against
        ~350 s and 1.5 GiB searched)."""
        fresh = not self.store.n_discovered
        narrow = max((W.shape[0] for W in self.net.weights[:-1]), default=0) <= SPLIT_MAX_WIDTH
        return self.net.input_dim == 2 and self.facet_method == "auto" and fresh and narrow

    def split(self, torch_threads: int | None = 1) -> dict[str, Any]:
        """Enumerate the regions of a 2-D network by cutting polygons.

        The domain polygon is cut by every neuron's line in turn (batched over the
        polygons, see :mod:`complexlib.split2d`): the same complex as :meth:`bfs`'s search
        (regions, ids, depths, facets, neighbours) in a fraction of the time.  An
        unbounded domain (all of R^2 by default) is cut inside a box, and the few regions
        wholly outside it are searched (:func:`~complexlib.split2d.split_domain`).  The
        interior points are the means of the regions' vertices in the box (for a region
        outside it, a point found by the search).  Whatever an earlier search found is
        replaced.

        Parameters
        ----------
        torch_threads : int or None
            torch's intra-op threads during the split (see :meth:`bfs`).

        Returns
        -------
        dict
            :meth:`summary` of the complex.

        Raises
        ------
        ValueError
            If the network does not take 2 inputs, or the domain is empty.
        DegenerateGeometryError
            If float64 cannot settle the subdivision (use ``bfs(method="search")``).

        Examples
        --------
        >>> import complexlib as cl
        >>> cx = cl.Complex(cl.mlp([2, 8, 8, 1], seed=0), bound=1.0)
        >>> summary = cx.split()
        >>> len(cx), summary["complete"]
        (22, True)
        >>> cx = cl.Complex(cl.mlp([2, 8, 8, 1], seed=0))  # all of R^2
        >>> summary = cx.split()
        >>> len(cx), summary["bounded"] < len(cx)
        (156, True)
        """
        t0 = time.perf_counter()
        d = self.net.input_dim
        if d != 2:
            raise ValueError(
                f"split() cuts polygons: it needs a network with 2 inputs, this one takes {d} "
                "(use bfs())"
            )
        with _torch_threads(torch_threads):
            try:  # the search's start region, so that ids and depths are the search's
                x = start_point(self.net, self._dom_A, self._dom_b, self.domain.interior_point(d))
            except DegenerateGeometryError:  # a domain too small for its steps: any region
                x = None
            sub = split_domain(self.net, self._dom_A, self._dom_b, start=x)
        P = len(sub.patterns)
        st = RegionStore(self.net.n_neurons, d)
        st.discover(sub.bits, sub.points, sub.depth.astype(np.int32))
        st.complete(
            np.full((P, d), np.nan),
            np.full(P, np.nan),
            np.ones(P, dtype=bool) if sub.bounded is None else sub.bounded,
            sub.n_domain_facets,
            sub.facet_ptr,
            sub.facet_neuron,
            sub.facet_neighbor,
        )
        self.store = st
        self._complete = True  # (split_domain checked every facet from both sides)
        self.seconds = time.perf_counter() - t0
        return self.summary()

    def _resume(self, path: Any) -> None:
        """Take the search state from a checkpoint file, if there is one."""
        from pathlib import Path

        if not Path(path).exists():
            return
        other = Complex.load(path)
        if other.net.fingerprint() != self.net.fingerprint():
            raise ValueError(
                f"checkpoint {path} holds another network; remove it or pass another path"
            )
        if other.domain.to_dict() != self.domain.to_dict():
            raise ValueError(
                f"checkpoint {path} holds the domain {other.domain}, not {self.domain}"
            )
        self.store = other.store
        self.seconds = other.seconds

    def _round_end(self, lo: int, size: int, max_regions: int | None, max_depth: int | None) -> int:
        """End of the next round of regions to process, from ``lo`` (``lo`` if none)."""
        st = self.store
        hi = min(st.n_discovered, lo + size)
        if max_regions is not None:
            hi = min(hi, max_regions)
        if max_depth is not None and hi > lo:
            over = np.nonzero(st.depth.view()[lo:hi] > max_depth)[0]
            if over.size:
                hi = lo + int(over[0])
        return max(hi, lo)

    def _submit(
        self, submit: Any, lo: int, hi: int, workers: int, remote: bool, share: Any = None
    ) -> list[tuple[int, int, Any]]:
        """Send regions ``lo..hi-1`` to the workers as arrays, one chunk per worker.

        Returns ``(lo, hi, future)`` per chunk, in region order.  With ``share`` (an inline
        submit) the first chunk is computed here, after the others are on their way.
        """
        st = self.store
        pats = unpack(st.bits.view()[lo:hi], self.net.n_neurons)
        hints = st.hint.view()[lo:hi].copy()
        args = (self._dom_A, self._dom_b, self.lp)
        kw = {"method": self.facet_method, "device": None if remote else self.device}
        chunks = np.array_split(np.arange(hi - lo), max(1, min(workers, hi - lo)))
        bounds = [(lo + int(c[0]), lo + int(c[-1]) + 1) for c in chunks]
        if share is None or len(chunks) == 1:
            futures = [submit(process_batch, pats[c], hints[c], *args, **kw) for c in chunks]
        else:
            rest = [submit(process_batch, pats[c], hints[c], *args, **kw) for c in chunks[1:]]
            c = chunks[0]
            kw_here = {**kw, "device": self.device}
            futures = [share(process_batch, pats[c], hints[c], *args, **kw_here), *rest]
        return [(a, z, f) for (a, z), f in zip(bounds, futures)]

    def _absorb(self, lo: int, results: list[BatchResult]) -> None:
        st = self.store
        region = lo
        for res in results:
            B = len(res.center)
            counts = np.diff(res.facet_ptr)
            owner = np.repeat(np.arange(region, region + B), counts)
            # neighbours: look up, then discover the new patterns in facet order (several
            # facets of a batch may reach the same new pattern: first one wins)
            nb_ids = st.lookup(res.neighbor_bits)
            new = np.nonzero(nb_ids < 0)[0]
            if new.size:
                keys = keys_of(res.neighbor_bits[new])
                first: dict[bytes, int] = {}
                for k, key in zip(new, keys):
                    first.setdefault(key, int(k))
                fk = np.fromiter(first.values(), dtype=np.int64, count=len(first))
                ids = st.discover(
                    res.neighbor_bits[fk],
                    res.neighbor_point[fk],
                    (st.depth.view()[owner[fk]] + 1).astype(np.int32),
                )
                got = dict(zip(first, ids.tolist()))
                nb_ids[new] = [got[key] for key in keys]
            # two facets of one region never reach the same neighbour in exact
            # arithmetic; if rounding split one facet in two, merge them
            pair = owner * (st.n_discovered + 1) + nb_ids
            _, idx = np.unique(pair, return_index=True)
            keep = np.zeros(len(nb_ids), dtype=bool)
            keep[idx] = True
            ptr = np.zeros(B + 1, dtype=np.int64)
            np.cumsum(np.bincount(owner[keep] - region, minlength=B), out=ptr[1:])
            if np.any(nb_ids[keep] == owner[keep]):
                raise ComplexlibError("a facet crossing returned to its own region")
            st.complete(
                res.center,
                res.inradius,
                res.bounded,
                res.n_domain_facets,
                ptr,
                res.facet_neuron[keep],
                nb_ids[keep],
            )
            region += B

    # -- access ----------------------------------------------------------
    def __len__(self) -> int:
        return self.store.n_done

    def __iter__(self) -> Iterator[Region]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, i: int) -> Region:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"region index {i} out of range for a complex of {n} regions")
        i = i % n
        pat = unpack(self.store.bits.view()[i : i + 1], self.net.n_neurons)[0]
        return build_region(
            self.net, pat, self._dom_A, self._dom_b, index=i, lp=self.lp, device=self.device
        )

    def __repr__(self) -> str:
        return (
            f"Complex(widths={list(self.net.widths)}, domain={self.domain}, regions={len(self)}"
            f"{'' if self._complete else ', incomplete'})"
        )

    @property
    def complete(self) -> bool:
        """Whether the last search ran to the end (no region left in the frontier)."""
        return self._complete

    @property
    def patterns(self) -> np.ndarray:
        """``(n_regions, n_neurons)`` int8 array of +1/-1 patterns, in region order."""
        return unpack(self.store.bits.view()[: len(self)], self.net.n_neurons)

    def _ensure_balls(self) -> None:
        """Compute the Chebyshev balls the search left out (the 2-D path needs none)."""
        from .geometry import _halfspaces_from_maps, affine_maps, chebyshev_ball

        st = self.store
        todo = np.nonzero(np.isnan(st.inradius.view()))[0]
        for lo in range(0, len(todo), 1024):
            idx = todo[lo : lo + 1024]
            pats = unpack(st.bits.view()[idx], self.net.n_neurons)
            Z, _, bound = affine_maps(self.net, pats, self.device)
            A, b = _halfspaces_from_maps(Z, bound, pats)
            for k, i in enumerate(idx):
                Ai = np.vstack([A[k], self._dom_A])
                bi = np.concatenate([b[k], self._dom_b])
                c, r = chebyshev_ball(Ai, bi, lp=self.lp)
                st.center.data[i] = c
                st.inradius.data[i] = r

    @property
    def centers(self) -> np.ndarray:
        """Chebyshev centres, ``(n_regions, d)`` (computed on first use if the search did not)."""
        self._ensure_balls()
        return self.store.center.view().copy()

    @property
    def inradii(self) -> np.ndarray:
        """Chebyshev radii (``inf`` where arbitrarily large balls fit)."""
        self._ensure_balls()
        return self.store.inradius.view().copy()

    @property
    def interior_points(self) -> np.ndarray:
        """A point inside each region (where the search first reached it), ``(n_regions, d)``."""
        return self.store.hint.view()[: len(self)].copy()

    @property
    def bounded(self) -> np.ndarray:
        """Whether each region (within the domain) is bounded."""
        return self.store.bounded.view().copy()

    @property
    def depths(self) -> np.ndarray:
        """Facet crossings from the start region to each region (BFS depth)."""
        return self.store.depth.view()[: len(self)].copy()

    def face_counts(self) -> np.ndarray:
        """Number of neuron facets of each region (domain sides not counted)."""
        return np.diff(self.store.facet_ptr.view()).astype(np.int64)

    def domain_face_counts(self) -> np.ndarray:
        """Number of facets of each region on the domain's sides."""
        return self.store.n_domain_facets.view().astype(np.int64)

    def one_sided_facets(self) -> np.ndarray:
        """Facets ``(k, 2)`` listed by a region whose neighbour does not list it back.

        In exact arithmetic every facet is seen from both sides, so a complete complex
        has none; the search warns (:class:`~complexlib.GeometryWarning`) when it finds
        some, which means a facet too small for float64 was decided differently from
        its two sides.
        """
        n = len(self)
        owner, nb, _ = self._facet_table()
        inside = nb < n
        a, b = owner[inside], nb[inside]
        del owner
        # each facet as its unordered pair, sorted in place: a pair seen once is one-sided
        # (one int64 key per facet; the earlier isin over both directions needed several
        # such arrays at once, ~5 GB of temporaries for ten million regions)
        key = np.minimum(a, b) * n + np.maximum(a, b)
        key.sort()
        single = np.ones(key.size, dtype=bool)
        same = key[1:] == key[:-1]
        single[1:] &= ~same
        single[:-1] &= ~same
        lone = key[single]
        del key, same, single
        if not lone.size:
            return np.zeros((0, 2), dtype=a.dtype)
        one = np.isin(np.minimum(a, b) * n + np.maximum(a, b), lone)
        return np.stack([a[one], b[one]], axis=1)

    def _check_facets_both_sides(self) -> None:
        pairs = self.one_sided_facets()
        if len(pairs):
            import warnings

            warnings.warn(
                f"{len(pairs)} facet(s) are listed by one of their two regions only (first: "
                f"region {pairs[0, 0]} -> {pairs[0, 1]}): a facet too thin for float64 was "
                "decided differently from its two sides; the dual graph and face counts are "
                "off by these facets",
                GeometryWarning,
                stacklevel=3,
            )

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Dual-graph edges ``(E, 2)`` with ``i < j`` and the neuron of each shared facet."""
        owner, nb, neuron = self._facet_table()
        keep = (nb > owner) & (nb < len(self))
        e = np.stack([owner[keep], nb[keep]], axis=1)
        return e, neuron[keep].astype(np.int64)

    def _facet_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every neuron facet of the processed regions: its region, neighbour and neuron."""
        st = self.store
        owner = np.repeat(np.arange(len(self)), np.diff(st.facet_ptr.view()))
        return owner, st.facet_neighbor.view(), st.facet_neuron.view()

    def dual_graph(self) -> Any:
        """The dual graph as a :class:`networkx.Graph`.

        One node per region (its index; attributes ``point``, ``bounded``,
        ``facets``), one edge per shared facet with the facet's ``neuron`` as
        attribute.
        """
        from .graph import dual_graph

        return dual_graph(self)

    def point2region(self, x: Any) -> Region:
        """The region holding the point ``x`` (its ``index`` is set if it is in the complex).

        Raises
        ------
        ValueError
            If ``x`` lies outside the domain or on a region boundary.
        """
        d = self.net.input_dim
        pts = check_points(x, d)
        if pts.shape[0] != 1:
            raise ValueError(f"point2region takes one point, got {pts.shape[0]}")
        if not self.domain.contains(pts, tol=1e-12)[0]:
            raise ValueError(f"point {pts[0].tolist()} is outside the domain {self.domain}")
        s, margin = generic_margin(self.net, pts, self.device)
        if margin[0] <= 1e-12 * (1 + np.linalg.norm(pts)):
            raise ValueError(
                f"point {pts[0].tolist()} lies on a region boundary (distance {margin[0]:.3g} to "
                "a neuron's hyperplane); it belongs to several regions"
            )
        idx = int(self.store.lookup(pack(s))[0])
        index = idx if 0 <= idx < len(self) else None
        return build_region(
            self.net, s[0], self._dom_A, self._dom_b, index=index, lp=self.lp, device=self.device
        )

    def summary(self) -> dict[str, Any]:
        """Counts and facet statistics of the complex."""
        fc = self.face_counts()
        b = self.store.bounded.view()
        return {
            "regions": len(self),
            "bounded": int(b.sum()),
            "unbounded": int((~b).sum()),
            "facets_mean": float(fc.mean()) if len(fc) else float("nan"),
            "facets_min": int(fc.min()) if len(fc) else 0,
            "facets_max": int(fc.max()) if len(fc) else 0,
            "edges": int(len(self.edges()[0])),
            "frontier": self.store.n_discovered - self.store.n_done,
            "complete": self._complete,
            "seconds": round(self.seconds, 4),
            "widths": list(self.net.widths),
            "domain": str(self.domain),
        }

    # -- IO --------------------------------------------------------------
    def save(self, path: Any) -> None:
        """Save to ``path`` (``.npz``, see :mod:`complexlib.store` for the format)."""
        from . import __version__

        meta = {
            "widths": list(self.net.widths),
            "slopes": self.net.slopes,
            "n_neurons": self.net.n_neurons,
            "domain": self.domain.to_dict(),
            "lp": self.lp,
            "facets": self.facet_method,
            "complete": self._complete,
            "seconds": self.seconds,
            "fingerprint": self.net.fingerprint(),
            "library_version": __version__,
        }
        net_arrays = {}
        for i, (w, b) in enumerate(self.net.to_list()):
            net_arrays[f"W{i}"] = w
            net_arrays[f"b{i}"] = b
        write_npz(path, meta, {**net_arrays, **self.store.arrays()})

    @classmethod
    def load(cls, path: Any, device: Any = None) -> Complex:
        """Load a complex written by :meth:`save`."""
        meta, arrs = read_npz(path)
        n_layers = len(meta["widths"]) - 1
        net = ReLUNetwork(
            [arrs.pop(f"W{i}") for i in range(n_layers)],
            [arrs.pop(f"b{i}") for i in range(n_layers)],
            meta["slopes"],
        )
        if net.fingerprint() != meta["fingerprint"]:
            raise ValueError(f"{path}: the stored network does not match its fingerprint")
        cx = cls(
            net,
            Domain.from_dict(meta["domain"]),
            lp=meta["lp"],
            device=device,
            facets=meta.get("facets", "auto"),
        )
        cx.store = RegionStore.from_arrays(net.n_neurons, net.input_dim, arrs)
        cx.seconds = float(meta["seconds"])
        cx._complete = bool(meta["complete"])
        return cx
