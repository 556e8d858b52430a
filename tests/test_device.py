"""CUDA paths run for real where a GPU is present and are skipped cleanly otherwise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import complexlib as cl

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


def test_missing_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available")
    with pytest.raises(ValueError, match="CUDA is not available"):
        cl.Complex(cl.mlp([2, 4, 1], seed=0), device="cuda")


@cuda
@pytest.mark.parametrize("widths", [[2, 16, 16, 1], [3, 8, 8, 1]])
def test_cuda_equals_cpu(widths):
    a = cl.Complex(cl.mlp(widths, seed=0))
    a.bfs(progress=False)
    b = cl.Complex(cl.mlp(widths, seed=0), device="cuda")
    b.bfs(progress=False)
    assert np.array_equal(a.patterns, b.patterns)
    assert np.array_equal(a.edges()[0], b.edges()[0])


@cuda
def test_cuda_box_and_planar_paths_equal_cpu():
    for widths, bound, facets in (([4, 8, 8, 1], 1.0, "auto"), ([2, 12, 12, 1], 2.0, "planar")):
        a = cl.Complex(cl.mlp(widths, seed=3), bound=bound, facets=facets)
        a.bfs(progress=False)
        b = cl.Complex(cl.mlp(widths, seed=3), bound=bound, facets=facets, device="cuda")
        b.bfs(progress=False)
        assert len(a) > 10
        assert np.array_equal(a.patterns, b.patterns)
        assert np.array_equal(a.edges()[0], b.edges()[0])


@cuda
def test_cuda_batched_maps_and_centres_equal_cpu():
    from complexlib.geometry import affine_maps, analytic_centers, halfspaces
    from complexlib.patterns import patterns_of, preactivations

    net = cl.as_network(cl.mlp([5, 32, 32, 3], seed=1))
    X = np.random.default_rng(0).standard_normal((300, 5))
    pats = patterns_of(net, X)
    assert np.array_equal(pats, patterns_of(net, X, device="cuda"))
    np.testing.assert_allclose(
        preactivations(net, X), preactivations(net, X, device="cuda"), rtol=1e-12, atol=1e-12
    )
    for u, v in zip(affine_maps(net, pats), affine_maps(net, pats, device="cuda")):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-12)
    A, b = halfspaces(net, pats)
    Ac, bc = halfspaces(net, pats, device="cuda")
    np.testing.assert_allclose(A, Ac, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b, bc, rtol=1e-12, atol=1e-12)
    xc = analytic_centers(A, b, X, device="cuda")
    assert np.all(np.einsum("bmd,bd->bm", A, xc) + b < 0)  # strictly inside, as on the CPU


@cuda
def test_cuda_linearize_equals_cpu():
    net = cl.mlp([3, 16, 16, 2], seed=2).double()
    X = np.random.default_rng(1).standard_normal((500, 3))
    a = cl.linearize_at_point(net, X)
    b = cl.linearize_at_point(net, X, device="cuda")
    assert np.array_equal(a.pattern, b.pattern)
    for name in ("W", "c", "output", "radius", "A", "b", "distances"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-10, atol=1e-12)
    affine = [(np.array([[1.0, 2.0]]), np.array([0.5]))]  # no hidden layer
    lin = cl.linearize_at_point(affine, [[1.0, 1.0], [0.0, 0.0]], device="cuda")
    assert np.isinf(lin.radius).all() and lin.layer_radii.shape == (2, 0)
    np.testing.assert_allclose(lin.output[:, 0], [3.5, 0.5])


@cuda
@pytest.mark.parametrize(
    ("dtype", "tol", "index"),
    [(torch.float64, 1e-9, "balltree"), (torch.float32, 1e-5, "brute")],
)
def test_cuda_cache_is_exact_on_ten_thousand_queries(dtype, tol, index):
    """The cache on the GPU: answers on the GPU, equal to the forward pass, hits and misses."""
    net = cl.mlp([3, 16, 16, 2], seed=1).to(device="cuda", dtype=dtype)
    cache = cl.HypersphereCache(net, index=index)
    assert cache.stats()["device"].startswith("cuda")
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((25, 3))
    sets = [
        rng.standard_normal((1200, 3)),
        20 * rng.standard_normal((1200, 3)),
        centers[rng.integers(0, 25, 1200)] + 1e-3 * rng.standard_normal((1200, 3)),
        np.repeat(rng.standard_normal((30, 3)), 40, axis=0),
        np.cumsum(0.01 * rng.standard_normal((1200, 3)), axis=0),
    ]
    worst = 0.0
    for _ in range(2):  # the second pass hits
        for X in sets:
            for part in torch.tensor_split(torch.as_tensor(X, dtype=dtype, device="cuda"), 7):
                y = cache(part)
                assert y.device.type == "cuda"
                with torch.no_grad():
                    ref = net(part)
                worst = max(worst, float(((y - ref).abs() / (1 + ref.abs())).max()))
    s = cache.stats()
    assert s["hits"] + s["misses"] == 12_000
    assert s["hits"] > 2000 and s["misses"] > 2000
    assert worst < tol
    X = torch.as_tensor(sets[2][:300], dtype=dtype, device="cuda")
    out, W, c, region, hit = cache(X, return_linearization=True)
    assert W.device.type == "cuda" and hit.device.type == "cuda" and bool(hit.any())
    ref = torch.einsum("nod,nd->no", W, X) + c
    assert float(((out - ref).abs() / (1 + ref.abs())).max()) < tol
