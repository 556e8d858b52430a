"""Workers and distributed backends give the serial complex (same ids, same edges)."""

from __future__ import annotations

import numpy as np
import pytest

import complexlib as cl


@pytest.fixture(scope="module")
def serial():
    cx = cl.Complex(cl.mlp([3, 8, 8, 1], seed=5))
    cx.bfs(progress=False, batch_size=32)
    return cx


def same(a, b):
    return (
        np.array_equal(a.patterns, b.patterns)
        and np.array_equal(a.edges()[0], b.edges()[0])
        and np.array_equal(a.face_counts(), b.face_counts())
    )


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_local_backends(serial, backend):
    cx = cl.Complex(cl.mlp([3, 8, 8, 1], seed=5))
    cx.bfs(progress=False, batch_size=32, workers=2, backend=backend)
    assert same(cx, serial)


def test_loky_pool_does_remote_work_and_is_kept(serial, monkeypatch):
    from complexlib import complex as complex_module
    from complexlib import parallel

    monkeypatch.setattr(complex_module, "MIN_SHARED_ROUND", 2)  # share even small rounds
    net = cl.as_network(cl.mlp([3, 8, 8, 1], seed=5))
    parallel.start_workers(net, 2)  # up before the search: rounds go to the pool
    pool = parallel._POOL["executor"]
    sent = []
    real = pool.submit
    monkeypatch.setattr(pool, "submit", lambda *a, **k: sent.append(1) or real(*a, **k))
    cx = cl.Complex(net)
    cx.bfs(progress=False, batch_size=8, workers=2)
    assert same(cx, serial)
    assert len(sent) > 5  # the pool computed shares of many rounds
    cx2 = cl.Complex(net)
    cx2.bfs(progress=False, batch_size=8, workers=2)
    assert parallel._POOL["executor"] is pool  # same network: the same workers
    assert same(cx2, serial)


def test_a_kept_pool_is_ready_at_once():
    """A search on a started pool does not wait for new warm-up tasks (its first rounds
    would otherwise run in the calling process alone)."""
    from complexlib import parallel

    net = cl.as_network(cl.mlp([3, 8, 8, 1], seed=5))
    parallel.start_workers(net, 2)
    with parallel.executor("loky", 2, net) as submit:
        assert submit.ready()
        assert submit(lambda n, x: x + 1, 1).result() == 2


def test_dask_local_cluster_on_loopback(serial):
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        cx = cl.Complex(cl.mlp([3, 8, 8, 1], seed=5))
        cx.bfs(
            progress=False,
            batch_size=32,
            workers=2,
            backend="dask",
            address=cluster.scheduler_address,
        )
        assert same(cx, serial)
        c2 = cl.Complex(cl.mlp([3, 8, 8, 1], seed=5))
        c2.bfs(progress=False, batch_size=32, workers=2, backend="dask", address=client)
        assert same(c2, serial)


def test_unknown_backend():
    with pytest.raises(
        cl.UnknownBackendError,
        match="unknown parallel backend 'mpi'; valid names: 'loky', 'threading', 'dask', 'ray'",
    ):
        cl.Complex(cl.mlp([2, 3, 1], seed=0)).bfs(workers=2, backend="mpi", progress=False)
