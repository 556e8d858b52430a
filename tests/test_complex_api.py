"""The public API: regions, point2region, stopping rules, save/load, workers, errors."""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest
from conftest import pattern_set

import complexlib as cl


@pytest.fixture(scope="module")
def cx():
    c = cl.Complex(cl.mlp([2, 8, 8, 1], seed=0))
    c.bfs(progress=False)
    return c


def test_region_fields_match_the_network(cx):
    rng = np.random.default_rng(0)
    net = cl.as_network(cl.mlp([2, 8, 8, 1], seed=0))
    for i in rng.choice(len(cx), 15, replace=False):
        reg = cx[int(i)]
        assert reg.index == i
        assert np.array_equal(reg.pattern, cx.patterns[i])
        assert reg.contains(reg.center)
        # points inside the Chebyshev ball follow the region's affine map
        r = min(reg.inradius, 1.0)
        u = rng.standard_normal((20, 2))
        x = reg.center + 0.99 * r * u / np.linalg.norm(u, axis=1, keepdims=True) * rng.random(
            (20, 1)
        )
        np.testing.assert_allclose(reg(x), net.forward(x), rtol=1e-10, atol=1e-10)
        assert np.all(reg.contains(x))
        assert np.all(reg.A @ reg.center + reg.b <= 0)
        assert len(reg.facets) == cx.face_counts()[i]


def test_point2region(cx):
    x = np.array([0.3, -0.2])
    reg = cx.point2region(x)
    assert reg.contains(x) and reg.index is not None
    assert np.array_equal(cx.patterns[reg.index], reg.pattern)
    np.testing.assert_allclose(reg(x), cx.net.forward(x))
    with pytest.raises(ValueError, match="takes one point"):
        cx.point2region(np.zeros((2, 2)))


def test_point_on_a_boundary_is_refused():
    cx = cl.Complex([(np.array([[1.0, 0.0]]), np.zeros(1)), (np.ones((1, 1)), np.zeros(1))])
    cx.bfs(progress=False)
    assert len(cx) == 2
    with pytest.raises(ValueError, match="lies on a region boundary"):
        cx.point2region([0.0, 5.0])


def test_boundedness_and_inradius_of_unbounded_regions(cx):
    ub = ~cx.bounded
    assert ub.any() and cx.bounded.any()
    # an infinite inradius implies an unbounded region, never the other way round by fiat
    assert np.all(~cx.bounded[np.isinf(cx.inradii)])
    for i in np.nonzero(ub)[0][:5]:
        reg = cx[int(i)]
        assert len(reg.rays) >= 1 and np.isinf(reg.volume)
        # a recession direction stays in the region
        far = reg.center + 1e6 * reg.rays[0]
        assert reg.contains(far)


def test_dual_graph_attributes(cx):
    G = cx.dual_graph()
    assert nx.is_connected(G) and G.number_of_nodes() == len(cx)
    for a, b, data in list(G.edges(data=True))[:30]:
        diff = np.nonzero(cx.patterns[a] != cx.patterns[b])[0]
        assert data["neuron"] in diff


def test_max_regions_and_resume_equal_one_run(cx):
    part = cl.Complex(cl.mlp([2, 8, 8, 1], seed=0))
    s = part.bfs(max_regions=20, progress=False, batch_size=7)
    assert s["regions"] == 20 and not s["complete"] and s["frontier"] > 0
    part.bfs(progress=False, batch_size=7)
    assert part.complete
    assert pattern_set(part.patterns) == pattern_set(cx.patterns)
    assert sorted(map(sorted, part.edges()[0].tolist())) != []
    assert part.dual_graph().number_of_edges() == cx.dual_graph().number_of_edges()


def test_max_depth(cx):
    c = cl.Complex(cl.mlp([2, 8, 8, 1], seed=0))
    c.bfs(max_depth=2, progress=False)
    assert c.depths.max() == 2
    assert len(c) == int((cx.depths <= 2).sum())


def test_start_point_changes_order_not_set(cx):
    c = cl.Complex(cl.mlp([2, 8, 8, 1], seed=0))
    c.bfs(start=[3.0, -4.0], progress=False)
    assert pattern_set(c.patterns) == pattern_set(cx.patterns)
    with pytest.raises(ValueError, match="outside the domain"):
        cl.Complex(cl.mlp([2, 8, 8, 1], seed=0), bound=1.0).bfs(start=[3.0, 0.0], progress=False)


def test_save_load_round_trip(cx, tmp_path):
    path = tmp_path / "c.npz"
    cx.save(path)
    back = cl.Complex.load(path)
    assert len(back) == len(cx) and back.complete
    assert np.array_equal(back.patterns, cx.patterns)
    assert np.array_equal(back.face_counts(), cx.face_counts())
    np.testing.assert_array_equal(back.centers, cx.centers)
    np.testing.assert_array_equal(back.inradii, cx.inradii)
    assert np.array_equal(back.edges()[0], cx.edges()[0])
    assert back.summary()["facets_mean"] == cx.summary()["facets_mean"]
    assert np.array_equal(back[5].pattern, cx[5].pattern)
    with np.load(path, allow_pickle=False) as z:  # no pickle anywhere in the file
        assert str(z["format"]) == "complexlib.complex" and int(z["version"]) == 1


def test_save_load_box_and_resume(tmp_path):
    c = cl.Complex(cl.mlp([3, 6, 6, 1], seed=1), bound=cl.Box([-1, -2, -1], [1, 1, 2]))
    c.bfs(max_regions=10, progress=False)
    c.save(tmp_path / "p.npz")
    back = cl.Complex.load(tmp_path / "p.npz")
    assert not back.complete and isinstance(back.domain, cl.Box)
    back.bfs(progress=False)
    full = cl.Complex(cl.mlp([3, 6, 6, 1], seed=1), bound=cl.Box([-1, -2, -1], [1, 1, 2]))
    full.bfs(progress=False)
    assert pattern_set(back.patterns) == pattern_set(full.patterns)


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        cl.Complex.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a complexlib complex file"):
        cl.Complex.load(tmp_path / "other.npz")


def test_workers_equal_serial(cx):
    par = cl.Complex(cl.mlp([2, 8, 8, 1], seed=0))
    par.bfs(workers=2, progress=False, batch_size=16, method="search")  # cx: the split
    assert np.array_equal(par.patterns, cx.patterns)  # same ids, same order
    assert np.array_equal(par.edges()[0], cx.edges()[0])


def test_lp_backends_agree():
    a = cl.Complex(cl.mlp([3, 6, 5, 1], seed=2), lp="highs")
    b = cl.Complex(cl.mlp([3, 6, 5, 1], seed=2), lp="scipy")
    a.bfs(progress=False)
    b.bfs(progress=False)
    assert pattern_set(a.patterns) == pattern_set(b.patterns)


def test_high_dimensional_lp_path_matches_hull_path(monkeypatch):
    net = cl.mlp([4, 6, 5, 1], seed=3)
    a = cl.Complex(net, bound=1.0)
    a.bfs(progress=False)
    import complexlib.geometry as geo

    monkeypatch.setattr(geo, "HULL_MAX_DIM", 1)
    b = cl.Complex(net, bound=1.0)
    b.bfs(progress=False)
    assert pattern_set(a.patterns) == pattern_set(b.patterns)
    assert np.array_equal(np.sort(a.face_counts()), np.sort(b.face_counts()))
    assert a.bounded.sum() == b.bounded.sum()


def test_bad_arguments():
    net = cl.mlp([2, 3, 1], seed=0)
    with pytest.raises(
        cl.UnknownBackendError,
        match="unknown LP backend 'gurobi'; valid names: 'highs', 'scipy', 'cvxpy'",
    ):
        cl.Complex(net, lp="gurobi")
    with pytest.raises(ValueError, match="bound must be a positive finite number"):
        cl.Complex(net, bound=-1.0)
    with pytest.raises(TypeError, match="bound must be None, a positive number"):
        cl.Complex(net, bound="big")
    with pytest.raises(ValueError, match="lo < hi"):
        cl.Box([0, 0], [1, 0])
    with pytest.raises(ValueError, match="network takes 2 inputs"):
        cl.Complex(net, bound=cl.Box([0, 0, 0], [1, 1, 1]))
    with pytest.raises(ValueError, match="A has 2 rows but b has 1"):
        cl.Polytope(np.eye(2), [1.0])
    with pytest.raises(ValueError, match="empty or not full-dimensional"):
        cl.Complex(net, bound=cl.Polytope([[1.0, 0], [-1.0, 0]], [0.0, -1.0]))
    c = cl.Complex(net)
    with pytest.raises(ValueError, match="workers must be >= 1"):
        c.bfs(workers=0)
    with pytest.raises(IndexError, match="out of range"):
        c[3]


def test_repr_and_summary(cx):
    s = cx.summary()
    assert s["regions"] == len(cx) == s["bounded"] + s["unbounded"]
    assert s["facets_min"] <= s["facets_mean"] <= s["facets_max"]
    assert "regions=" in repr(cx)


def test_cvxpy_backend_agrees():
    pytest.importorskip("cvxpy")
    net = cl.mlp([3, 4, 3, 1], seed=1)
    a = cl.Complex(net, bound=1.0, lp="cvxpy", facets="lp")
    a.bfs(progress=False)
    b = cl.Complex(net, bound=1.0, facets="lp")
    b.bfs(progress=False)
    assert pattern_set(a.patterns) == pattern_set(b.patterns)
    np.testing.assert_allclose(a.inradii, b.inradii, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    ("net", "pattern"),
    [
        ([(np.ones((1, 2)), np.zeros(1))], []),  # no hidden layer
        ([(np.zeros((3, 2)), np.zeros(3)), (np.ones((1, 3)), np.zeros(1))], [-1, -1, -1]),
        (
            [
                (np.zeros((3, 2)), -np.ones(3)),
                (np.ones((2, 3)), np.ones(2)),
                (np.ones((1, 2)), np.zeros(1)),
            ],
            [-1, -1, -1, 1, 1],
        ),  # dead first layer
        ([(np.ones((1, 3)), np.zeros(1))], []),
    ],
)
@pytest.mark.parametrize("bound", [None, 1.0])
def test_networks_with_one_region(net, pattern, bound):
    cx = cl.Complex(net, bound=bound)
    s = cx.bfs(progress=False)
    assert len(cx) == 1 and cx.patterns.tolist() == [pattern]
    assert s["facets_max"] == 0 and cx.dual_graph().number_of_edges() == 0
    d = net[0][0].shape[1]
    if bound is None:
        assert not cx.bounded[0] and np.isinf(cx.inradii[0])
    else:
        assert cx.bounded[0] and cx[0].volume == pytest.approx(2.0**d)
        assert cx.domain_face_counts()[0] == 2 * d


def test_parallel_hyperplanes():
    # x = 0, 1, 2 (twice: 2x - 4) and 5: a stack of strips, in 2-D and in 3-D
    for d in (2, 3):
        W = np.zeros((5, d))
        W[:, 0] = [1, 1, 2, -1, 1]
        net = [(W, np.array([0.0, -1, -4, 5, -2])), (np.ones((1, 5)), np.zeros(1))]
        cx = cl.Complex(net)
        cx.bfs(progress=False)
        assert len(cx) == 5 and not cx.bounded.any()
        assert sorted(cx.face_counts()) == [1, 1, 2, 2, 2]
        assert np.array_equal(cx.patterns[:, 2], cx.patterns[:, 4])


def test_vertices_of_unbounded_1d_regions():
    cx = cl.Complex(
        [(np.array([[1.0], [2.0]]), np.array([0.0, -1.5])), (np.ones((1, 2)), np.zeros(1))]
    )
    cx.bfs(progress=False)
    got = sorted(tuple(np.sort(np.round(r.vertices.ravel(), 12))) for r in cx)
    assert got == [(0.0,), (0.0, 0.75), (0.75,)]


def test_facets_seen_from_one_side_are_reported():
    cx = cl.Complex(cl.mlp([2, 6, 6, 1], seed=3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", cl.GeometryWarning)
        cx.bfs(progress=False)  # a correct complex: no warning
    assert cx.one_sided_facets().shape == (0, 2)
    # drop one facet of region 0 (as if it had been missed there)
    st = cx.store
    nb = st.facet_neighbor.view()
    lost = int(nb[st.facet_ptr.view()[0]])
    st.facet_neighbor.data[st.facet_ptr.view()[0]] = len(cx) + 5  # points nowhere
    pairs = cx.one_sided_facets()
    assert pairs.tolist() == [[lost, 0]]
    with pytest.warns(cl.GeometryWarning, match="1 facet"):
        cx._check_facets_both_sides()
