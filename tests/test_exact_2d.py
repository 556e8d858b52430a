"""Region sets against the independent polygon-splitting method (tests/reference2d.py)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import degenerate_nets, pattern_set, random_net
from reference2d import reference_patterns_2d, split_box_2d

import complexlib as cl

RANDOM = [
    ([2, 8, 8, 1], 0),
    ([2, 10, 10, 1], 1),
    ([2, 12, 6, 1], 2),
    ([2, 6, 6, 6, 1], 3),
    ([2, 16, 16, 1], 4),
    ([2, 5, 9, 1], 5),
]


def check_mean_degree(cx):
    G = cx.dual_graph()
    assert cx.face_counts().mean() == pytest.approx(2 * G.number_of_edges() / len(cx), rel=1e-12)


def box_holding_every_vertex(cx) -> float:
    """Half-width of a box around every finite vertex of the complex (at least 10)."""
    r = 10.0
    for reg in cx:
        if len(reg.vertices):
            r = max(r, 2.0 * float(np.abs(reg.vertices).max()))
    return r


@pytest.mark.parametrize(("widths", "seed"), RANDOM)
@pytest.mark.parametrize("bound", [1.0, 2.5])
def test_box_equals_reference(widths, seed, bound):
    net = random_net(widths, seed)
    cx = cl.Complex(net, bound=bound)
    cx.bfs(progress=False)
    assert pattern_set(cx.patterns) == reference_patterns_2d(net, -bound, bound)
    assert len(pattern_set(cx.patterns)) == len(cx)
    check_mean_degree(cx)


@pytest.mark.parametrize(("widths", "seed"), RANDOM[:5])
def test_unbounded_equals_reference_in_large_box(widths, seed):
    net = random_net(widths, seed)
    cx = cl.Complex(net)
    cx.bfs(progress=False)
    r = box_holding_every_vertex(cx)
    assert pattern_set(cx.patterns) == reference_patterns_2d(net, -r, r)
    check_mean_degree(cx)


def test_asymmetric_box_and_polytope_domain():
    net = random_net([2, 8, 8, 1], 11)
    cx = cl.Complex(net, bound=cl.Box([-0.5, -2.0], [1.5, 0.3]))
    cx.bfs(progress=False)
    assert pattern_set(cx.patterns) == reference_patterns_2d(
        net, np.array([-0.5, -2.0]), np.array([1.5, 0.3])
    )
    # the same box written as a polytope {x : A x <= b}
    A = np.vstack([np.eye(2), -np.eye(2)])
    b = np.array([1.5, 0.3, 0.5, 2.0])
    cp = cl.Complex(net, bound=cl.Polytope(A, b))
    cp.bfs(progress=False)
    assert pattern_set(cp.patterns) == pattern_set(cx.patterns)


def test_volumes_tile_the_box():
    net = random_net([2, 8, 8, 1], 3)
    cx = cl.Complex(net, bound=1.0)
    cx.bfs(progress=False)
    vols = np.array([reg.volume for reg in cx])
    assert vols.sum() == pytest.approx(4.0, rel=1e-9)
    ref = {tuple(p): abs(_area(v)) for p, v in split_box_2d(net, -1.0, 1.0)}
    for reg, vol in zip(cx, vols):
        assert vol == pytest.approx(ref[tuple(reg.pattern.tolist())], rel=1e-7, abs=1e-12)


def _area(v):
    x, y = v[:, 0], v[:, 1]
    return 0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


@pytest.mark.parametrize("name", sorted(degenerate_nets()))
@pytest.mark.parametrize("bound", [1.0, None])
def test_degenerate_networks(name, bound):
    net = degenerate_nets()[name]
    cx = cl.Complex(net, bound=bound)
    cx.bfs(progress=False)
    r = bound if bound is not None else box_holding_every_vertex(cx)
    assert pattern_set(cx.patterns) == reference_patterns_2d(net, -r, r)
    check_mean_degree(cx)


def test_degenerate_columns_follow_their_twins(degenerate):
    cx = cl.Complex(degenerate["duplicate_row"])
    cx.bfs(progress=False)
    assert np.array_equal(cx.patterns[:, 5], cx.patterns[:, 2])
    cx = cl.Complex(degenerate["multiple_rows"])
    cx.bfs(progress=False)
    assert np.array_equal(cx.patterns[:, 4], -cx.patterns[:, 1])
    assert np.array_equal(cx.patterns[:, 3], cx.patterns[:, 0])
    cx = cl.Complex(degenerate["zero_rows"])
    cx.bfs(progress=False)
    assert np.all(cx.patterns[:, 1] == -1) and np.all(cx.patterns[:, 3] == 1)


def test_leaky_relu_against_reference():
    import torch

    net = cl.mlp([2, 7, 7, 1], seed=4, leaky=0.1)
    cx = cl.Complex(net, bound=2.0)
    cx.bfs(progress=False)
    with torch.no_grad():
        pairs = cl.as_network(net).to_list()
    assert pattern_set(cx.patterns) == reference_patterns_2d(pairs, -2.0, 2.0, leaky=0.1)


def test_permuting_hidden_units_permutes_patterns():
    net = random_net([2, 9, 7, 1], 6)
    rng = np.random.default_rng(0)
    p1, p2 = rng.permutation(9), rng.permutation(7)
    (W1, b1), (W2, b2), (W3, b3) = net
    perm = [(W1[p1], b1[p1]), (W2[p2][:, p1], b2[p2]), (W3[:, p2], b3)]
    a, b = cl.Complex(net), cl.Complex(perm)
    a.bfs(progress=False)
    b.bfs(progress=False)
    order = np.r_[p1, 9 + p2]
    assert pattern_set(a.patterns[:, order]) == pattern_set(b.patterns)
    assert sorted(a.face_counts()) == sorted(b.face_counts())


def test_positive_row_scaling_keeps_region_set():
    net = random_net([2, 9, 7, 1], 8)
    (W1, b1), (W2, b2), (W3, b3) = net
    c1 = np.exp(np.random.default_rng(1).uniform(-3, 3, 9))
    c2 = np.exp(np.random.default_rng(2).uniform(-3, 3, 7))
    # scale rows and compensate in the next layer: same function, same regions
    scaled = [(W1 * c1[:, None], b1 * c1), (W2 / c1 * c2[:, None], b2 * c2), (W3 / c2, b3)]
    # the last hidden layer scaled without compensation: same patterns anyway
    raw = [(W1, b1), (W2 * c2[:, None], b2 * c2), (W3, b3)]
    ref = cl.Complex(net)
    ref.bfs(progress=False)
    for other in (scaled, raw):
        cx = cl.Complex(other)
        cx.bfs(progress=False)
        assert pattern_set(cx.patterns) == pattern_set(ref.patterns)


def edge_set(cx):
    pats = [tuple(p) for p in cx.patterns.tolist()]
    e, neuron = cx.edges()
    return {(frozenset((pats[a], pats[b])), int(n)) for (a, b), n in zip(e, neuron)}


@pytest.mark.parametrize(
    "net",
    [random_net([2, 10, 10, 1], 1), random_net([2, 6, 6, 6, 1], 3), *degenerate_nets().values()],
)
@pytest.mark.parametrize("bound", [None, 1.5])
def test_planar_kernel_equals_hull_and_lp(net, bound):
    ref = None
    for method in ("planar", "hull", "lp"):
        cx = cl.Complex(net, bound=bound, facets=method)
        cx.bfs(progress=False)
        got = (
            pattern_set(cx.patterns),
            edge_set(cx),
            sorted(cx.face_counts()),
            sorted(cx.domain_face_counts()),
            int(cx.bounded.sum()),
        )
        if ref is None:
            ref = got
        assert got == ref, method


def test_regression_zero_neuron_with_rounding_noise():
    """A layer-2 neuron identically zero on a region, whose float pre-activation is +-1e-17
    depending on the batch it is computed in, was given both signs: the region was counted
    twice (48 regions instead of 47)."""
    W1 = np.array([[1, 1], [-1, -1], [1, -1], [0, 0], [-2, 2], [-1, -1], [2, 2]], float)
    b1 = np.array([2, 0, 0, 1, -1, 2, 1], float)
    W2 = np.array(
        [
            [-2, -2, -2, 2, -1, 0, -2],
            [-2, 0, 0, -1, 1, 2, -2],
            [-1, 2, 0, -1, 1, 0, 1],
            [-1, 2, 0, -2, -1, 0, -1],
            [1, 0, 1, 0, 1, 2, 0],
            [-1, 1, -2, 1, 1, -1, 1],
            [2, 2, 2, -1, -2, 0, -1],
            [1, 2, 0, 0, 2, 0, 0],
        ],
        float,
    )
    b2 = np.array([2, -2, 2, 1, 1, -2, 0, -1], float)
    W3 = np.array([[-1, -2, 1, 1, 1, 2, -2, 1], [-1, 0, -1, 1, -2, 2, -2, -1]], float)
    net = [(W1, b1), (W2, b2), (W3, np.array([2.0, -1])), (np.array([[-1.0, 2]]), np.ones(1))]
    for method in ("planar", "hull"):
        cx = cl.Complex(net, facets=method)
        cx.bfs(progress=False)
        assert pattern_set(cx.patterns) == reference_patterns_2d(net, -13.0, 13.0)
        assert len(cx) == 47


@pytest.mark.parametrize(
    ("widths", "seed", "bound"), [([2, 110, 1], 0, None), ([2, 60, 50, 1], 1, 1.0)]
)
def test_wide_nets_take_the_near_rows_path(widths, seed, bound, monkeypatch):
    """More than 2 x NEAR_ROWS rows: bounded candidate polygons are tested against the rows
    nearest their point only (``planar._grow``); the region set and facets equal those of
    the all-rows test, the closed form of one hidden layer, and the reference in a box.
    (Unbounded, the vertices of 110 random lines spread over |x| ~ 5e4, where the
    reference's sliver width drops real thin cells: the closed form decides there.)"""
    from complexlib import planar

    assert sum(widths[1:-1]) + 4 > 2 * planar.NEAR_ROWS
    net = random_net(widths, seed)
    cx = cl.Complex(net, bound=bound)
    cx.bfs(progress=False)
    check_mean_degree(cx)
    monkeypatch.setattr(planar, "NEAR_ROWS", 10**6)
    full = cl.Complex(net, bound=bound)
    full.bfs(progress=False)
    assert pattern_set(cx.patterns) == pattern_set(full.patterns)
    assert cx.face_counts().sum() == full.face_counts().sum()
    if bound is None:
        n = widths[1]
        assert len(cx) == 1 + n + n * (n - 1) // 2  # lines in general position
    else:
        assert pattern_set(cx.patterns) == reference_patterns_2d(net, -bound, bound)
