"""The polygon split (complexlib/split2d.py) against the search, the reference and closed forms."""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np
import pytest
from conftest import degenerate_nets, pattern_set, random_net
from reference2d import reference_patterns_2d

import complexlib as cl
from complexlib.domain import domain_polygon
from complexlib.graph import bfs_order

STORE_KEYS = (
    "bits",
    "depth",
    "bounded",
    "n_domain_facets",
    "facet_ptr",
    "facet_neuron",
    "facet_neighbor",
)

RANDOM = [
    ([2, 8, 8, 1], 0),
    ([2, 16, 16, 1], 1),
    ([2, 12, 6, 1], 2),
    ([2, 6, 6, 6, 1], 3),
    ([2, 5, 9, 1], 5),
    ([2, 24, 1], 6),
    ([2, 10, 10, 10, 10, 1], 7),
]


def split_and_search(net, bound):
    """The same complex twice: by the polygon split and by the local search."""
    a = cl.Complex(net, bound=bound)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a split never lists a facet from one side only
        a.split()
    b = cl.Complex(net, bound=bound)
    b.bfs(progress=False, method="search")
    return a, b


def edge_set(cx):
    """Dual-graph edges as pairs of patterns, with the facet's neuron."""
    pats = [tuple(p) for p in cx.patterns.tolist()]
    e, neuron = cx.edges()
    return {(frozenset((pats[i], pats[j])), int(n)) for (i, j), n in zip(e, neuron)}


def assert_same_complex(a, b):
    """Same regions in the same order, depths, facets, neighbours and domain facets."""
    assert len(a) == len(b)
    for key in STORE_KEYS:
        assert np.array_equal(getattr(a.store, key).view(), getattr(b.store, key).view()), key
    assert edge_set(a) == edge_set(b)  # (implied by the above; independent of the ids)
    assert sorted(a.face_counts()) == sorted(b.face_counts())
    assert a.complete and b.complete
    assert len(a.one_sided_facets()) == 0


def integer_net(widths, seed, bias=False):
    """Small integer weights (zero biases unless asked): many lines through common points."""
    rng = np.random.default_rng(seed)
    pairs = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        b = rng.integers(-2, 3, n_out) if bias else np.zeros(n_out)
        pairs.append((rng.integers(-2, 3, (n_out, n_in)).astype(float), b.astype(float)))
    return pairs


@pytest.mark.parametrize(("widths", "seed"), RANDOM)
@pytest.mark.parametrize("bound", [1.0, 2.5])
def test_random_nets_equal_search(widths, seed, bound):
    net = random_net(widths, seed)
    a, b = split_and_search(net, bound)
    assert_same_complex(a, b)
    assert pattern_set(a.patterns) == reference_patterns_2d(net, -bound, bound)


@pytest.mark.parametrize("name", sorted(degenerate_nets()))
@pytest.mark.parametrize("bound", [1.0, 2.5, 10.0])
def test_degenerate_nets_equal_search_and_reference(name, bound):
    net = degenerate_nets()[name]
    a, b = split_and_search(net, bound)
    assert_same_complex(a, b)
    assert pattern_set(a.patterns) == reference_patterns_2d(net, -bound, bound)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("widths", [[2, 6, 6, 1], [2, 5, 5, 5, 1], [2, 2, 5, 1], [2, 1, 3, 1]])
def test_integer_weights_zero_biases(widths, seed):
    """Every first-layer line through the origin, many crossings of three or more lines
    (first layers of 1 and 2 neurons too: fewer neurons than inputs)."""
    net = integer_net(widths, seed, bias=seed % 2 == 1)
    a, b = split_and_search(net, 1.0)
    assert_same_complex(a, b)
    assert pattern_set(a.patterns) == reference_patterns_2d(net, -1.0, 1.0)


@pytest.mark.parametrize(("widths", "seed"), [([2, 16, 16, 1], 0), ([2, 32, 32, 1], 1)])
@pytest.mark.parametrize("bound", [1e4, 1e6])
def test_huge_boxes_equal_search(widths, seed, bound):
    """Every region of R^2 in a corner of the box: tolerances are each vertex's own, and
    first-layer crossings are not interpolated between ends 1e6 away."""
    a, b = split_and_search(random_net(widths, seed), bound)
    assert_same_complex(a, b)


def test_lines_along_the_sides_and_through_the_corners():
    W1 = np.array([[1.0, 0], [0, 1], [1, 1], [1, -1], [1, 0], [0, 0], [0, 1]])
    b1 = np.array([-1.0, 1, 0, 0, 1, 0, 0])  # x = 1 and y = -1, x = -1: sides; diagonals
    W2 = np.random.default_rng(0).standard_normal((4, 7))
    net = [(W1, b1), (W2, np.zeros(4)), (np.ones((1, 4)), np.zeros(1))]
    a, b = split_and_search(net, 1.0)
    assert_same_complex(a, b)
    assert pattern_set(a.patterns) == reference_patterns_2d(net, -1.0, 1.0)
    assert np.all(a.patterns[:, 5] == -1)  # the zero row: identically zero, -1


def test_leaky_relu():
    net = cl.mlp([2, 7, 7, 1], seed=4, leaky=0.1)
    a, b = split_and_search(net, 2.0)
    assert_same_complex(a, b)
    pairs = cl.as_network(net).to_list()
    assert pattern_set(a.patterns) == reference_patterns_2d(pairs, -2.0, 2.0, leaky=0.1)


def test_one_layer_in_general_position_closed_form():
    """n lines, every crossing inside the box: 1 + n + C(n, 2) regions."""
    rng = np.random.default_rng(3)
    n = 9
    W, b = rng.standard_normal((n, 2)), rng.standard_normal(n)
    crossings = [np.linalg.solve(W[[i, k]], -b[[i, k]]) for i, k in combinations(range(n), 2)]
    r = 2.0 * float(np.abs(crossings).max())
    cx = cl.Complex([(W, b), (np.ones((1, n)), np.zeros(1))], bound=r)
    cx.split()
    assert len(cx) == 1 + n + n * (n - 1) // 2
    assert cx.face_counts().sum() == 2 * cx.summary()["edges"]


@pytest.mark.parametrize(
    "domain",
    [
        cl.Box([-0.5, -2.0], [1.5, 0.3]),
        cl.Box([2.0, 3.0], [2.5, 7.0]),
        cl.Polytope([[1.0, 1], [-1, 0.2], [0.3, -1]], [1.0, 1, 1]),  # a triangle
        cl.Polytope(  # a hexagon with a repeated row
            np.vstack([np.c_[np.cos(t := np.arange(6) + 0.1), np.sin(t)], [[2 * np.cos(0.1), 0]]]),
            np.r_[np.full(6, 1.5), 3.0],
        ),
    ],
    ids=["box", "far_box", "triangle", "hexagon"],
)
@pytest.mark.parametrize("name", ["random", "concurrent_lines", "multiple_rows"])
def test_box_and_polytope_domains(domain, name):
    net = random_net([2, 10, 10, 1], 1) if name == "random" else degenerate_nets()[name]
    a, b = split_and_search(net, domain)
    assert_same_complex(a, b)


@pytest.mark.parametrize("half", [1e-7, 1e-12, 1e5])
def test_tiny_and_huge_boxes_around_concurrent_lines(half):
    """Boxes the search cannot start in (its first step leaves them): any start region."""
    net = degenerate_nets()["concurrent_lines"]
    cx = cl.Complex(net, bound=half)
    cx.split()
    assert pattern_set(cx.patterns) == reference_patterns_2d(net, -half, half)
    assert len(cx.one_sided_facets()) == 0
    assert cx.face_counts().sum() == 2 * cx.summary()["edges"]


def sliver_net(c: float, eps: float):
    """Lines x = c and y = c, and x + y = 2c + eps: a triangle of legs eps at (c, c)."""
    W1 = np.array([[1.0, 0], [0, 1], [1, 1], [1, -1]])
    W2 = np.array([[1.0, 2, -1, 1], [-1, 1, 1, 1]])
    b1 = np.array([-c, -c, -2 * c - eps, 0.5])
    return [(W1, b1), (W2, np.array([0.1, -0.2])), (np.ones((1, 2)), np.zeros(1))]


@pytest.mark.parametrize("eps", [1e-12, 1e-11, 1e-9])
def test_rounding_sliver_dropped_like_the_reference(eps):
    """At (0.5, 0.5) the terms are ~1: a 1e-12 triangle is snapped, 1e-11 and 1e-9 ones
    are slivers (within 1e-9 of the line, and that narrow)."""
    net = sliver_net(0.5, eps)
    cx = cl.Complex(net, bound=1.0)
    cx.split()
    assert pattern_set(cx.patterns) == reference_patterns_2d(net, -1.0, 1.0)
    assert len(cx) == 12 and len(cx.one_sided_facets()) == 0


def test_small_real_triangle_kept():
    """x = 0, y = 0 and x + y = eps bound a triangle of legs eps at the origin, where the
    terms of x + y - eps are ~eps: it is real (the reference, with one width threshold for
    the whole box, drops the 1e-11 one).  With eps = 1e-8 the complex is the search's; with
    1e-11 the regions are, and the split lists the triangle's three facets, 1e-11 long,
    which the search's length tolerance (1e-11) does not all keep."""
    a, b = split_and_search(sliver_net(0.0, 1e-8), 1.0)
    assert_same_complex(a, b)
    assert len(a) == 14
    a, b = split_and_search(sliver_net(0.0, 1e-11), 1.0)
    assert pattern_set(a.patterns) == pattern_set(b.patterns) and len(a) == 14
    (tri,) = np.nonzero(np.all(a.patterns[:, :4] == [1, 1, -1, 1], axis=1))[0]
    assert a.face_counts()[tri] == 3
    assert len(a.one_sided_facets()) == 0


def test_auto_splits_2d_bounded_and_searches_otherwise(monkeypatch):
    calls = []
    real = cl.Complex.split

    def spy(self, *args, **kwargs):
        calls.append(self.net.input_dim)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cl.Complex, "split", spy)
    net = cl.mlp([2, 6, 1], seed=0)
    cl.Complex(net, bound=1.0).bfs(progress=False)
    assert calls == [2]
    cl.Complex(net).bfs(progress=False)  # all of R^2: split in a box
    open_wedge = cl.Polytope([[1.0, 0], [0, 1]], [1.0, 1.0])
    cl.Complex(net, bound=open_wedge).bfs(progress=False)
    assert calls == [2, 2, 2]
    cl.Complex(net, bound=1.0).bfs(progress=False, max_depth=1)
    cl.Complex(net, bound=1.0, facets="hull").bfs(progress=False)
    cl.Complex(cl.mlp([3, 4, 1], seed=0), bound=1.0).bfs(progress=False)
    cl.Complex(net).bfs(progress=False, method="search")
    assert calls == [2, 2, 2]


def test_auto_falls_back_to_the_search_when_the_split_cannot_settle(monkeypatch):
    import complexlib.split2d as split2d

    def fail(*args, **kwargs):
        raise cl.DegenerateGeometryError("not conforming")

    monkeypatch.setattr(split2d, "split_polygons", fail)
    net = cl.mlp([2, 6, 6, 1], seed=0)
    cx = cl.Complex(net, bound=1.0)
    with pytest.warns(cl.GeometryWarning, match="searching instead"):
        cx.bfs(progress=False)
    ref = cl.Complex(net, bound=1.0)
    ref.bfs(progress=False, method="search")
    assert_same_complex(cx, ref)
    with pytest.raises(cl.DegenerateGeometryError):
        cl.Complex(net, bound=1.0).bfs(progress=False, method="split")


def test_complex_api_after_split(tmp_path):
    net = cl.mlp([2, 12, 12, 1], seed=2)
    a, b = split_and_search(net, 1.5)
    sa, sb = a.summary(), b.summary()
    sa.pop("seconds"), sb.pop("seconds")
    assert sa == sb
    assert np.array_equal(a.edges()[0], b.edges()[0])
    assert np.array_equal(a.edges()[1], b.edges()[1])
    Ga, Gb = a.dual_graph(), b.dual_graph()
    assert sorted(Ga.edges) == sorted(Gb.edges)
    # interior points: strictly inside their regions
    pts = a.interior_points
    for i in (0, len(a) // 2, len(a) - 1):
        reg = a.point2region(pts[i])
        assert reg.index == i
        assert sorted(reg.facets.tolist()) == sorted(
            a.store.facet_neuron.view()[
                a.store.facet_ptr.view()[i] : a.store.facet_ptr.view()[i + 1]
            ].tolist()
        )
    assert np.isfinite(a.inradii).all()  # computed on demand, as after the 2-D search
    path = tmp_path / "split.npz"
    a.save(path)
    back = cl.Complex.load(path)
    assert len(back) == len(a) and back.complete
    for key in STORE_KEYS:
        assert np.array_equal(getattr(back.store, key).view(), getattr(a.store, key).view())


def test_positive_row_scaling_and_permutation_keep_the_regions():
    net = random_net([2, 9, 7, 1], 8)
    (W1, b1), (W2, b2), (W3, b3) = net
    c1 = np.exp(np.random.default_rng(1).uniform(-3, 3, 9))
    p1 = np.random.default_rng(2).permutation(9)
    scaled = [(W1 * c1[:, None], b1 * c1), (W2 / c1, b2), (W3, b3)]
    perm = [(W1[p1], b1[p1]), (W2[:, p1], b2), (W3, b3)]
    ref = cl.Complex(net, bound=1.0)
    ref.split()
    for other, order in ((scaled, np.arange(16)), (perm, np.r_[p1, 9 + np.arange(7)])):
        cx = cl.Complex(other, bound=1.0)
        cx.split()
        assert pattern_set(ref.patterns[:, order]) == pattern_set(cx.patterns)


def test_clear_errors():
    with pytest.raises(ValueError, match="2 inputs"):
        cl.Complex(cl.mlp([3, 4, 1], seed=0), bound=1.0).split()
    cx = cl.Complex(cl.mlp([2, 4, 1], seed=0), bound=1.0)
    with pytest.raises(ValueError, match="max_regions"):
        cx.bfs(method="split", max_regions=3, progress=False)
    with pytest.raises(ValueError, match="checkpoint"):
        cx.bfs(method="split", checkpoint="run.npz", progress=False)
    with pytest.raises(ValueError, match="unknown bfs method"):
        cx.bfs(method="sweep", progress=False)


def test_domain_polygon_rows_and_errors():
    v, rows = domain_polygon(
        *cl.Polytope([[1.0, 1], [-1, 0], [0, -1], [2, 2]], [1, 0, 0, 2]).constraints(2)
    )
    assert np.allclose(v, [[0, 0], [1, 0], [0, 1]]) and rows.tolist() == [2, 0, 1]
    with pytest.raises(ValueError, match="empty"):
        domain_polygon(
            *cl.Polytope([[1.0, 0], [-1, 0], [0, 1], [0, -1]], [1, -2, 1, 1]).constraints(2)
        )


def test_pattern_check_catches_a_wrong_sign_and_a_repeated_pattern():
    from complexlib.patterns import pack, patterns_of
    from complexlib.split2d import _check_patterns

    net = cl.as_network(cl.mlp([2, 5, 3, 1], seed=0))
    cx = cl.Complex(net, bound=1.0)
    cx.split()
    pts = cx.interior_points[:3]
    pat = patterns_of(net, pts)
    _check_patterns(net, pack(pat), pts)
    wrong = pat.copy()
    wrong[1, 6] *= -1
    with pytest.raises(cl.DegenerateGeometryError, match="neuron 6"):
        _check_patterns(net, pack(wrong), pts)
    with pytest.raises(cl.DegenerateGeometryError, match="same pattern"):
        _check_patterns(net, pack(pat[[0, 0]]), pts[[0, 0]])


def test_bfs_order_matches_a_fifo_search():
    rng = np.random.default_rng(0)
    n = 30
    adj = [sorted(set(rng.choice(n, 3).tolist()) - {i}) for i in range(n)]
    adj = [
        sorted(set(a) | {k for k in range(n) if i in adj[k]} | {(i + 1) % n})
        for i, a in enumerate(adj)
    ]
    ptr = np.r_[0, np.cumsum([len(a) for a in adj])]
    nbr = np.concatenate([np.array(a, dtype=np.int64) for a in adj])
    perm, depth = bfs_order(ptr, nbr, 4)
    order, seen, dist = [4], {4: 0}, [0]
    for node in order:
        for k in adj[node]:
            if k not in seen:
                seen[k] = seen[node] + 1
                order.append(k)
                dist.append(seen[k])
    assert perm.tolist() == order and depth.tolist() == dist
