"""The polygon split on unbounded domains (``split2d.split_domain``): a box proven to
hold every feature of the complex, against the search and closed forms."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from conftest import degenerate_nets, random_net
from test_split2d import RANDOM, assert_same_complex, integer_net, split_and_search

import complexlib as cl
import complexlib.split2d as split2d

UNBOUNDED = {
    "halfplane": cl.Polytope([[1.0, 0.5]], [0.3]),
    "wedge": cl.Polytope([[1.0, 0], [0, 1]], [1.0, 1.0]),
    "strip": cl.Polytope([[1.0, 0], [-1.0, 0]], [0.5, 0.7]),
    "orthant": cl.Polytope([[-1.0, 0], [0, -1.0]], [0.0, 0.0]),
}


@pytest.mark.parametrize(("widths", "seed"), [*RANDOM, ([2, 16, 16, 16, 16, 1], 1)])
def test_random_nets_in_the_plane_equal_search(widths, seed):
    a, b = split_and_search(random_net(widths, seed), None)
    assert_same_complex(a, b)
    assert a.complete and 0 < a.summary()["bounded"] < len(a)


@pytest.mark.parametrize("name", sorted(degenerate_nets()))
def test_degenerate_nets_in_the_plane_equal_search(name):
    a, b = split_and_search(degenerate_nets()[name], None)
    assert_same_complex(a, b)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("widths", [[2, 6, 6, 1], [2, 5, 5, 5, 1], [2, 2, 5, 1]])
def test_integer_weights_in_the_plane(widths, seed):
    """Lines through the origin and crossings of three or more lines."""
    a, b = split_and_search(integer_net(widths, seed, bias=seed % 2 == 1), None)
    assert_same_complex(a, b)


@pytest.mark.parametrize("domain", sorted(UNBOUNDED))
@pytest.mark.parametrize(("widths", "seed"), [([2, 8, 8, 1], 0), ([2, 6, 6, 6, 1], 3)])
def test_unbounded_polygons_equal_search(domain, widths, seed):
    a, b = split_and_search(random_net(widths, seed), UNBOUNDED[domain])
    assert_same_complex(a, b)


def test_parallel_lines_only_strips():
    """No two first-layer lines cross: every region is a strip, none bounded."""
    W = np.array([[1.0, 0.0], [2.0, 0.0], [-1.0, 0.0], [0.5, 0.0]])
    b = np.array([-3.0, 1.0, 40.0, 0.2])
    net = [(W, b), (np.ones((1, 4)), np.zeros(1))]
    a, b_ = split_and_search(net, None)
    assert_same_complex(a, b_)
    assert len(a) == 5 and a.summary()["bounded"] == 0


def test_one_layer_closed_form():
    """n lines in general position: 1 + n + C(n, 2) regions, C(n - 1, 2) of them bounded."""
    n = 12
    rng = np.random.default_rng(11)
    net = [(rng.standard_normal((n, 2)), rng.standard_normal(n)), (np.ones((1, n)), np.zeros(1))]
    cx = cl.Complex(net)
    cx.split()
    assert len(cx) == 1 + n + comb(n, 2)
    assert cx.summary()["bounded"] == comb(n - 1, 2)
    assert cx.face_counts().sum() == 2 * cx.summary()["edges"]


def test_regions_outside_the_box_are_searched(monkeypatch):
    """From a box far too small, every region is found (most of them outside it)."""
    monkeypatch.setattr(split2d, "_first_box", lambda *a: 1e-3)
    net = random_net([2, 12, 12, 1], 4)
    a, b = split_and_search(net, None)
    assert_same_complex(a, b)
    sub = split2d.split_domain(a.net, a._dom_A, a._dom_b)
    assert np.sum(sub.count == 0) > len(sub.count) // 2  # no vertices: outside the box


@pytest.mark.parametrize(("widths", "seed"), [([2, 16, 16, 1], 1), ([2, 16, 16, 16, 16, 1], 1)])
def test_deep_features_far_out(widths, seed):
    """Deeper layers' lines cross far beyond the first layer's crossings (these networks
    have regions wholly outside the first box): found by the search from the box."""
    net = cl.as_network(cl.mlp(widths, seed=seed))
    sub = split2d.split_domain(net, np.zeros((0, 2)), np.zeros(0))
    assert np.any(sub.count == 0)
    a, b = split_and_search(net, None)
    assert_same_complex(a, b)


def test_fine_polygons_get_the_kernels_facets(monkeypatch):
    """Integer weights put three lines through one point; in a large box rounding draws it
    as a 5e-12 edge, a facet the search does not have.  That polygon is fine, so the kernel
    decides its facets, and the split is the search's again."""
    from pathlib import Path

    f = np.load(Path(__file__).parent / "fixtures" / "integer_net_triple_points.npz")
    net = [(f[f"W{i}"], f[f"b{i}"]) for i in range(5)]
    a, box = split_and_search(net, 1e4)
    assert_same_complex(a, box)
    a, b = split_and_search(net, None)
    assert_same_complex(a, b)
    monkeypatch.setattr(split2d, "FINE_RTOL", 0.0)  # without the check: a facet too many
    a = cl.Complex(net, bound=1e4)
    a.split()
    assert len(a) == len(box)
    assert a.face_counts().sum() == box.face_counts().sum() + 2


def test_auto_searches_very_wide_layers(monkeypatch):
    """Above SPLIT_MAX_WIDTH neurons in a layer the split's marks cost more than the search."""
    from complexlib import complex as complex_module

    calls = []
    real = cl.Complex.split
    monkeypatch.setattr(cl.Complex, "split", lambda self, **k: calls.append(1) or real(self, **k))
    monkeypatch.setattr(complex_module, "SPLIT_MAX_WIDTH", 8)
    cl.Complex(cl.mlp([2, 9, 1], seed=0)).bfs(progress=False)
    assert calls == []
    cl.Complex(cl.mlp([2, 8, 8, 1], seed=0)).bfs(progress=False)
    assert calls == [1]
