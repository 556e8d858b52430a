"""Running search batches in joblib workers, locally or on a cluster.

Batches go to workers as arrays (patterns, interior points) and come back as
arrays (:class:`~complexlib.search.BatchResult`); no Python object per region
crosses a process boundary.  Backends:

``"loky"``
    local processes (joblib's default);
``"threading"``
    local threads (useful where the work releases the GIL, e.g. on a GPU);
``"dask"``
    a Dask distributed cluster: ``address`` is the scheduler's address
    (``"tcp://host:8786"``), or a ``dask.distributed.Client`` already made; with
    no address, the current default client is used (or a local cluster made);
``"ray"``
    a Ray cluster (``ray.init(address)`` with ``address``, default local).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .exceptions import UnknownBackendError

__all__ = ["BACKENDS", "parallel_pool"]

BACKENDS = ("loky", "threading", "dask", "ray")


@contextlib.contextmanager
def parallel_pool(backend: str, workers: int, address: Any = None) -> Iterator[Any]:
    """A ``joblib.Parallel`` for ``workers`` workers of ``backend`` (see module doc)."""
    from joblib import Parallel, parallel_config

    if backend not in BACKENDS:
        raise UnknownBackendError(
            f"unknown parallel backend {backend!r}; valid names: {', '.join(map(repr, BACKENDS))}"
        )
    if backend in ("loky", "threading"):
        yield Parallel(n_jobs=workers, backend=backend, return_as="list")
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
            with (
                client.as_current(),
                parallel_config(backend="dask", n_jobs=workers, wait_for_workers_timeout=60),
            ):
                yield Parallel(return_as="list")
        finally:
            if own is not None:
                own.close()
        return
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError as exc:
        raise ImportError('backend="ray" needs ray: pip install "complexlib[ray]"') from exc
    started = False
    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        started = True
    register_ray()
    try:
        with parallel_config(backend="ray", n_jobs=workers):
            yield Parallel(return_as="list")
    finally:
        if started:
            ray.shutdown()
