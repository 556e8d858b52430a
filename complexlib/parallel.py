"""Running search batches in workers, locally or on a cluster.

Batches go to workers as arrays (patterns, interior points) and come back as
arrays (:class:`~complexlib.search.BatchResult`); no Python object per region
crosses a process boundary, and the network is sent once per worker (an
initializer for local processes, whose workers stay up for the next search of the
same network; ``scatter(broadcast=True)`` on Dask, ``ray.put`` on Ray).  Each
backend gives a small executor with ``submit`` and futures with ``result()``, so
the search keeps the next round computing while it absorbs the last one.  Backends:

``"loky"``
    local processes (joblib's loky executor): ``workers - 1`` of them, the calling
    process computing one share of every round itself;
``"threading"``
    local threads (useful where the work releases the GIL, e.g. on a GPU);
``"dask"``
    a Dask distributed cluster: ``address`` is the scheduler's address
    (``"tcp://host:8786"``) or a ``dask.distributed.Client``; with no address,
    the current default client is used (or a local cluster is made);
``"ray"``
    a Ray cluster (``ray.init(address)``; local without an address).
"""

from __future__ import annotations

import atexit
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from .exceptions import UnknownBackendError

__all__ = ["BACKENDS", "check_backend", "executor", "start_workers"]

BACKENDS = ("loky", "threading", "dask", "ray")

_WORKER_NET: dict[str, Any] = {}


class _KeyedNet:
    """A network and a digest of its weights (see :func:`_loky_pool`).

    The pool is kept while searches ask for the same digest, so a second search of the
    same network (a benchmark, a notebook, a sweep over domains) skips the seconds that
    spawning workers and importing torch take.
    """

    def __init__(self, net: Any) -> None:
        import hashlib

        import numpy as np

        self.net = net
        h = hashlib.sha1()
        for a in (*net.weights, *net.biases, np.asarray(net.slopes, dtype=np.float64)):
            a = np.ascontiguousarray(a, dtype=np.float64)
            h.update(str(a.shape).encode())
            h.update(a.tobytes())
        self.key = h.hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _KeyedNet) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


#: the loky pool of the last search: (workers, network digest) and the executor
_POOL: dict[str, Any] = {"key": None, "executor": None, "warm": None}
#: seconds an idle pool worker waits for the next search before it exits
IDLE_TIMEOUT = 300


def _loky_pool(workers: int, net: Any) -> Any:
    """A loky process pool holding ``net`` in every worker, kept for the next search.

    The pool is this module's own (not loky's global reusable executor, which joblib's
    ``Parallel`` also takes over); a different network or worker count replaces it.
    """
    from joblib.externals.loky import ProcessPoolExecutor

    keyed = _KeyedNet(net)
    key = (workers, keyed.key)
    ex = _POOL["executor"]
    broken = ex is not None and getattr(getattr(ex, "_flags", None), "broken", None)
    if ex is None or broken or _POOL["key"] != key:
        if ex is not None:
            ex.shutdown(wait=False)
        one = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
        ex = ProcessPoolExecutor(
            max_workers=workers,
            initializer=_install_net,
            initargs=(keyed,),
            env=one,
            timeout=IDLE_TIMEOUT,
        )
        if _POOL["executor"] is None and _POOL["key"] is None:
            atexit.register(_shutdown_pool)
        _POOL.update(key=key, executor=ex)
    return ex


def _shutdown_pool() -> None:
    """Stop the kept pool (at exit, before the interpreter tears loky's modules down)."""
    ex = _POOL["executor"]
    if ex is not None:
        ex.shutdown(wait=True)
    _POOL.update(executor=None, warm=None)


def start_workers(net: Any, workers: int) -> None:
    """Start the loky pool of ``bfs(workers=workers)`` for ``net`` and wait until it is up.

    A later search of the same network with as many workers finds them ready (spawning
    processes and importing torch take seconds); useful before timing a search.

    Examples
    --------
    >>> import complexlib as cl
    >>> from complexlib.parallel import start_workers
    >>> net = cl.as_network(cl.mlp([2, 4, 1], seed=0))
    >>> start_workers(net, 2)
    >>> cx = cl.Complex(net)
    >>> _ = cx.bfs(workers=2, progress=False)
    """
    from .network import as_network

    net = as_network(net)
    futures = _start_pool(workers, net)[1]
    warm_up(net)  # and this process, which computes a share of every round
    for f in futures:
        f.result()


def _start_pool(workers: int, net: Any) -> tuple[Any, list[Any]]:
    """The kept pool for ``workers`` streams of work, and a first task on each process.

    The calling process computes one share of every round itself, so the pool holds
    ``workers - 1`` processes (a pool of ``workers`` beside a busy parent would
    oversubscribe the cores).
    """
    pool = max(1, workers - 1)
    ex = _loky_pool(pool, net)
    kept = _POOL["warm"]
    if kept is not None and kept[0] is ex:
        # a kept pool: its first tasks (done or not) tell when it is ready; new ones would
        # queue behind nothing and still keep the search working alone for a few ms
        return ex, kept[1]
    warm = [ex.submit(_warm) for _ in range(pool)]
    # and a second round trip: the first task after the warm-up otherwise waits ~80 ms
    # (measured with loky 3.x on 2 cores; the first search round then runs here alone)
    warm += [ex.submit(_warm) for _ in range(pool)]
    _POOL["warm"] = (ex, warm)
    return ex, warm


def _install_net(keyed: _KeyedNet) -> None:
    """Loky initializer: keep the network in the worker process, one thread per worker."""
    _WORKER_NET["net"] = keyed.net
    _single_thread()


def _single_thread() -> None:
    """Limit torch to one thread (workers already fill the cores; BLAS is limited by env)."""
    import torch

    torch.set_num_threads(1)


def _warm() -> bool:
    """A first task: makes a worker import and run once what the search needs."""
    net = _WORKER_NET.get("net")
    if net is not None:
        warm_up(net)
    return True


def warm_up(net: Any) -> None:
    """Process one region of ``net`` (imports the facet kernels, qhull, warms torch).

    The first batch of a process otherwise pays for them inside the search (tenths of a
    second: as long as the whole search of a small complex).  Failures are ignored: this
    only prepares the process.
    """
    import numpy as np

    from .patterns import patterns_of
    from .search import process_batch

    d = net.input_dim
    x = np.random.default_rng(0).standard_normal((1, d)) * 0.1
    empty_A, empty_b = np.zeros((0, d)), np.zeros(0)
    try:
        process_batch(net, patterns_of(net, x), x, empty_A, empty_b)
    except Exception:  # noqa: BLE001 - a degenerate start point only skips the warm-up
        pass


def _run_with_worker_net(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    return fn(_WORKER_NET["net"], *args, **kw)


class _Done:
    """A finished 'future' (for inline execution)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value


class _RayFuture:
    def __init__(self, ref: Any) -> None:
        self.ref = ref

    def result(self) -> Any:
        import ray

        return ray.get(self.ref)


def check_backend(backend: str) -> None:
    """Raise :class:`~complexlib.UnknownBackendError` unless ``backend`` is one of
    :data:`BACKENDS`.

    Examples
    --------
    >>> check_backend("loky")
    """
    if backend not in BACKENDS:
        raise UnknownBackendError(
            f"unknown parallel backend {backend!r}; valid names: {', '.join(map(repr, BACKENDS))}"
        )


@contextlib.contextmanager
def executor(backend: str, workers: int, net: Any, address: Any = None) -> Iterator[Any]:
    """A ``submit(fn, *args, **kw)`` that runs ``fn(net, *args, **kw)`` on ``backend``.

    Yields a callable returning a future (``.result()``).  ``workers`` is the number of
    local workers (loky, threading; and a local Dask cluster made here); on an existing
    cluster every worker of it is used.
    """
    check_backend(backend)
    if backend == "loky":
        # start every worker now (spawning and importing torch take seconds); the search
        # works inline until they are up (see ``submit.ready``)
        ex, warm = _start_pool(workers, net)

        def submit_loky(fn: Callable[..., Any], *a: Any, **k: Any) -> Any:
            return ex.submit(_run_with_worker_net, fn, *a, **k)

        submit_loky.ready = lambda: all(f.done() for f in warm)  # type: ignore[attr-defined]
        submit_loky.shares_work = workers > 1  # type: ignore[attr-defined]
        yield submit_loky
        return
    if backend == "threading":
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as tex:
            yield lambda fn, *a, **k: tex.submit(fn, net, *a, **k)
        return
    if backend == "dask":
        try:
            from dask.distributed import Client, default_client
        except ImportError as exc:
            raise ImportError(
                'backend="dask" needs dask.distributed: pip install "complexlib[dask]"'
            ) from exc
        own = None
        if address is None:
            try:
                client = default_client()
            except ValueError:
                own = client = Client(n_workers=workers, threads_per_worker=1)
        elif isinstance(address, Client):
            client = address
        else:
            own = client = Client(address)
        try:
            remote_net = client.scatter(net, broadcast=True)
            yield lambda fn, *a, **k: client.submit(fn, remote_net, *a, pure=False, **k)
        finally:
            if own is not None:
                own.close()
        return
    try:
        import ray
    except ImportError as exc:
        raise ImportError('backend="ray" needs ray: pip install "complexlib[ray]"') from exc
    started = False
    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        started = True
    try:
        ref = ray.put(net)
        remote = ray.remote(lambda fn, n, *a, **k: fn(n, *a, **k))
        yield lambda fn, *a, **k: _RayFuture(remote.remote(fn, ref, *a, **k))
    finally:
        if started:
            ray.shutdown()


def inline(net: Any) -> Callable[..., _Done]:
    """Run ``fn(net, *args)`` at once in this process (the serial search)."""
    return lambda fn, *a, **k: _Done(fn(net, *a, **k))
