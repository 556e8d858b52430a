"""linearize_at_point: affine maps, patterns, pre-activations and exact validity radii."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import degenerate_nets

import complexlib as cl
import complexlib.linearize as lz


@pytest.fixture(scope="module")
def net():
    return cl.as_network(cl.mlp([3, 12, 10, 2], seed=3))


def test_map_and_pattern_match_the_network(net):
    x = np.random.default_rng(0).standard_normal((200, 3)) * 2
    lin = cl.linearize_at_point(net, x)
    assert lin.W.shape == (200, 2, 3) and lin.c.shape == (200, 2) and len(lin) == 200
    np.testing.assert_allclose(lin.output, net.forward(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        np.einsum("nod,nd->no", lin.W, x) + lin.c, net.forward(x), rtol=1e-12, atol=1e-12
    )
    assert np.array_equal(lin.pattern, cl.patterns.patterns_of(net, x))
    np.testing.assert_allclose(
        lin.preactivations, cl.patterns.preactivations(net, x), rtol=1e-10, atol=1e-12
    )
    # the affine map is the Jacobian: central differences agree
    h = 1e-7
    J = np.stack(
        [(net.forward(x + h * e) - net.forward(x - h * e)) / (2 * h) for e in np.eye(3)], axis=2
    )
    near = lin.radius > 1e-5  # away from kinks
    np.testing.assert_allclose(J[near], lin.W[near], rtol=1e-5, atol=1e-6)


def test_radius_is_the_exact_distance_to_the_boundary(net):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 3))
    lin = cl.linearize_at_point(net, x)
    assert np.allclose(lin.radius, lin.layer_radii.min(axis=1))
    assert np.allclose(lin.radius, lin.distances.min(axis=1))
    for i in range(len(x)):
        r = lin.radius[i]
        # inside the ball: same pattern, same affine map
        u = rng.standard_normal((30, 3))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        y = x[i] + 0.999 * r * u * rng.random((30, 1))
        assert (cl.patterns.patterns_of(net, y) == lin.pattern[i]).all()
        np.testing.assert_allclose(net.forward(y), y @ lin.W[i].T + lin.c[i], atol=1e-12)
        # just past the nearest hyperplane, along its normal: the nearest neuron flips
        j = int(np.argmin(lin.distances[i]))
        a = lin.A[i, j] / np.linalg.norm(lin.A[i, j])
        z = x[i] + 1.001 * r * a
        assert cl.patterns.patterns_of(net, z)[0, j] != lin.pattern[i, j]


def test_region_matches_the_complex():
    cx = cl.Complex(cl.mlp([2, 6, 6, 1], seed=0), bound=1.0)
    cx.bfs(progress=False)
    x = np.array([0.2, -0.3])
    reg = cx.point2region(x)
    lin = cl.linearize_at_point(cx.net, x)
    np.testing.assert_allclose(lin.W[0], reg.W, atol=1e-12)
    np.testing.assert_allclose(lin.c[0], reg.c, atol=1e-12)
    assert np.array_equal(lin.pattern[0], reg.pattern)
    # the radius never exceeds the distance to any of the region's facets
    A, b = reg.A[: cx.net.n_neurons], reg.b[: cx.net.n_neurons]
    nrm = np.linalg.norm(A, axis=1)
    live = nrm > 0
    assert lin.radius[0] == pytest.approx(np.min(-(A[live] @ x + b[live]) / nrm[live]))


def test_constant_neurons_do_not_count():
    net = degenerate_nets()["zero_rows"]
    lin = cl.linearize_at_point(net, np.random.default_rng(2).standard_normal((50, 2)))
    rn = cl.as_network(net)
    assert np.isinf(lin.distances[:, 1]).all() and np.isinf(lin.distances[:, 3]).all()
    assert np.isfinite(lin.radius).all()
    np.testing.assert_allclose(lin.output, rn.forward(lin.x), atol=1e-12)
    assert lin.layer_radii.shape == (50, 2)


def test_single_point_torch_input_and_no_hidden_layer():
    net = cl.mlp([2, 5, 1], seed=0)
    lin = cl.linearize_at_point(net, torch.tensor([0.3, 0.4]))
    assert lin.W.shape == (1, 1, 2) and lin.pattern.shape == (1, 5)
    affine = [(np.array([[1.0, 2.0]]), np.array([0.5]))]
    lin = cl.linearize_at_point(affine, [[1.0, 1.0], [0.0, 0.0]])
    assert np.isinf(lin.radius).all() and lin.layer_radii.shape == (2, 0)
    np.testing.assert_allclose(lin.output[:, 0], [3.5, 0.5])


def test_halfspaces_optional_and_chunking_is_invisible(net, monkeypatch):
    x = np.random.default_rng(3).standard_normal((25, 3))
    full = cl.linearize_at_point(net, x)
    monkeypatch.setattr(lz, "CHUNK_FLOATS", 1)
    chunked = cl.linearize_at_point(net, x, halfspaces=False)
    assert chunked.A is None and chunked.b is None
    for name in ("W", "c", "pattern", "distances", "radius", "layer_radii", "output"):
        np.testing.assert_allclose(getattr(chunked, name), getattr(full, name), atol=1e-14)


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.zeros((2, 4)), r"expected points of shape \(n, 3\) or \(3,\), got shape \(2, 4\)"),
        (np.zeros((2, 3, 1)), r"got shape \(2, 3, 1\)"),
        ([[0.0, np.nan, 1.0]], "NaN or inf"),
    ],
)
def test_bad_points(net, x, match):
    with pytest.raises(ValueError, match=match):
        cl.linearize_at_point(net, x)


def test_bad_network():
    with pytest.raises(TypeError, match="cannot build a ReLU network from str"):
        cl.linearize_at_point("net", [0.0, 0.0])


def test_leaky_slope_is_not_rounded_to_float32():
    """Regression: affine_maps built the mask as float32, rounding a LeakyReLU slope of 0.1."""
    net = cl.as_network(cl.mlp([3, 20, 20, 1], seed=6, leaky=0.1))
    x = 40 * np.random.default_rng(0).standard_normal((50, 3))
    lin = cl.linearize_at_point(net, x)
    np.testing.assert_allclose(lin.output, net.forward(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(degenerate_nets()))
def test_torch_rows_equal_the_numpy_reference(name):
    """The torch halfspaces (linearize, ``halfspaces``) equal the search's numpy rows."""
    from complexlib.geometry import _halfspaces_from_maps, affine_maps, halfspaces

    net = cl.as_network(degenerate_nets()[name])
    x = np.random.default_rng(4).standard_normal((60, net.input_dim))
    lin = cl.linearize_at_point(net, x)
    Z, _, bound = affine_maps(net, lin.pattern)
    A, b = _halfspaces_from_maps(Z, bound, lin.pattern)
    At, bt = halfspaces(net, lin.pattern)
    for got_A, got_b in ((lin.A, lin.b), (At, bt)):
        assert np.array_equal(got_A == 0, A == 0)  # the same rows are zero
        np.testing.assert_allclose(got_A, A, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(got_b, b, rtol=1e-13, atol=1e-15)
    nrm = np.linalg.norm(A, axis=2)
    gap = np.where(nrm > 0, -(np.einsum("bnd,bd->bn", A, x) + b) / np.where(nrm > 0, nrm, 1), 0)
    np.testing.assert_allclose(lin.distances, np.where(nrm > 0, np.maximum(gap, 0), np.inf))


@pytest.mark.parametrize("name", sorted(degenerate_nets()))
def test_numpy_maps_equal_the_torch_maps(name):
    """The search's numpy composition of the layers equals the torch one (every network kind:
    dead layers, duplicate and zero rows, leaky slopes)."""
    import torch

    from complexlib.geometry import _affine_maps_np, _affine_maps_torch
    from complexlib.patterns import patterns_of

    net = cl.as_network(degenerate_nets()[name])
    pats = patterns_of(net, np.random.default_rng(5).standard_normal((40, net.input_dim)))
    got = _affine_maps_np(net, pats)
    want = [t.numpy() for t in _affine_maps_torch(net, torch.as_tensor(pats))]
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)


def test_numpy_maps_of_a_network_without_hidden_layers():
    from complexlib.geometry import affine_maps

    net = cl.ReLUNetwork([np.array([[2.0, -1.0]])], [np.array([0.5])])
    Z, out, bound = affine_maps(net, np.zeros((3, 0), dtype=np.int8))
    assert Z.shape == (3, 0, 3) and bound.shape == (3, 0)
    np.testing.assert_array_equal(out, np.broadcast_to([[2.0, -1.0, 0.5]], (3, 1, 3)))
