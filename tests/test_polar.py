"""The batched polar facet kernel (3-D to 6-D) against per-region LPs."""

from __future__ import annotations

import numpy as np
import pytest

import complexlib as cl
from complexlib.geometry import RTOL, analytic_centers, region_geometry
from complexlib.polar import POLAR_MAX_DIM, polar_facets


def _random_polyhedra(rng, B, m, d, lineality=0):
    """Polyhedra around the origin: bounded, unbounded, and (optionally) with lineality."""
    A = rng.standard_normal((B, m, d))
    if lineality:
        A[:, :, d - lineality :] = 0.0  # the last coordinates are free
    # some regions unbounded: rows only in a half-space of directions
    half = rng.random(B) < 0.4
    A[half, :, 0] = np.abs(A[half, :, 0])
    b = -rng.uniform(0.2, 2.0, (B, m))
    return A, b


def _compare(A, b, x0, n_rows):
    pf = polar_facets(A, b, x0, n_rows, 1.0 + np.linalg.norm(x0, axis=1), RTOL)
    for k in range(len(A)):
        g = region_geometry(A[k], b[k], method="lp", interior=x0[k])
        ref = sorted(int(r.min()) for r in g.facet_rows)
        if not pf.decided[k]:
            continue
        got = pf.row[pf.ptr[k] : pf.ptr[k + 1]].tolist()
        assert got == ref, k
        assert bool(pf.bounded[k]) == bool(g.bounded), k
        # each facet point lies on its row and strictly inside every other row
        q = pf.point[pf.ptr[k] : pf.ptr[k + 1]]
        nrm = np.linalg.norm(A[k], axis=1)
        vals = (q @ A[k].T + b[k]) / np.where(nrm > 0, nrm, 1.0)
        on = vals[np.arange(len(got)), got]
        assert np.all(np.abs(on) <= 1e-9 * (1 + np.linalg.norm(q, axis=1)))
        unit = np.hstack([A[k], b[k][:, None]]) / np.where(nrm > 0, nrm, 1.0)[:, None]
        same = np.abs(unit[None, :, :] - unit[got][:, None, :]).max(axis=2) < 1e-9
        assert np.all(np.where(same, -np.inf, vals).max(axis=1) < 0)
    return pf


@pytest.mark.parametrize("d", [3, 4, 5, 6])
@pytest.mark.parametrize("lineality", [0, 1])
def test_random_polyhedra_match_lp(d, lineality):
    if lineality and d == 3:
        lineality = 2  # rank one: the polar points on a line
    rng = np.random.default_rng(d + 10 * lineality)
    A, b = _random_polyhedra(rng, 60, 14, d, lineality)
    x0 = analytic_centers(A, b, np.zeros((60, d)))
    pf = _compare(A, b, x0, 14)
    assert pf.decided.mean() > 0.9  # the kernel itself decides (not only the fallback)


def test_coincident_rows_and_constant_rows():
    rng = np.random.default_rng(5)
    A, b = _random_polyhedra(rng, 30, 10, 3)
    A = np.concatenate([A, A[:, :3], 2.0 * A[:, 3:4], np.zeros((30, 1, 3))], axis=1)
    b = np.concatenate([b, b[:, :3], 2.0 * b[:, 3:4], -np.ones((30, 1))], axis=1)
    x0 = analytic_centers(A, b, np.zeros((30, 3)))
    pf = _compare(A, b, x0, A.shape[1])
    assert pf.decided.mean() > 0.9
    assert np.all(pf.row < 10)  # coincident rows reported by their lowest index


def test_domain_rows_flagged():
    A = np.array([[[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]]])
    b = -np.ones((1, 6))
    pf = polar_facets(A, b, np.zeros((1, 3)), 4, np.ones(1), RTOL)
    assert pf.decided.all() and pf.bounded.all()
    assert pf.has_domain_row.tolist() == [False] * 4 + [True] * 2


def _same_complex(a, b):
    pa = {tuple(p) for p in a.patterns.tolist()}
    assert pa == {tuple(p) for p in b.patterns.tolist()}
    fa = dict(zip(map(tuple, a.patterns.tolist()), a.face_counts()))
    fb = dict(zip(map(tuple, b.patterns.tolist()), b.face_counts()))
    assert fa == fb
    ba = dict(zip(map(tuple, a.patterns.tolist()), a.bounded))
    assert ba == dict(zip(map(tuple, b.patterns.tolist()), b.bounded))
    assert a.dual_graph().number_of_edges() == b.dual_graph().number_of_edges()


@pytest.mark.parametrize(
    ("widths", "bound", "seed"),
    [
        ([3, 8, 8, 1], None, 0),
        ([3, 6, 6, 6, 1], 1.0, 1),
        ([4, 6, 6, 1], None, 2),
        ([5, 6, 6, 1], None, 3),
        ([6, 5, 5, 1], 1.0, 4),
    ],
)
def test_polar_search_equals_hull_search(widths, bound, seed):
    net = cl.mlp(widths, seed=seed)
    a = cl.Complex(net, bound=bound, facets="polar")
    a.bfs(progress=False)
    b = cl.Complex(net, bound=bound, facets="hull")
    b.bfs(progress=False)
    _same_complex(a, b)


def _net(layers):
    return [(np.asarray(W, dtype=float), np.asarray(c, dtype=float)) for W, c in layers]


def test_degenerate_networks_polar_equals_lp():
    rng = np.random.default_rng(0)
    W1 = rng.standard_normal((5, 3))
    b1 = rng.standard_normal(5)
    nets = {
        # two first-layer neurons in 3-D: every region has a lineality direction
        "rank two": _net([(W1[:2], b1[:2]), (rng.standard_normal((3, 2)), rng.standard_normal(3))]),
        "duplicate neurons": _net(
            [(np.vstack([W1, W1[:2]]), np.r_[b1, b1[:2]]), (rng.standard_normal((1, 7)), [0.1])]
        ),
        "zero row": _net([(np.vstack([W1, np.zeros(3)]), np.r_[b1, 0.5]), (np.ones((1, 6)), [0])]),
        "parallel planes": _net(
            [(np.vstack([W1[:1], W1[:1]]), [0.0, 1.0]), (np.ones((1, 2)), [0])]
        ),
    }
    for name, net in nets.items():
        a = cl.Complex(net, facets="polar")
        a.bfs(progress=False)
        b = cl.Complex(net, facets="lp")
        b.bfs(progress=False)
        _same_complex(a, b)
        assert len(a) > 1, name


def test_polar_needs_3d_to_6d():
    with pytest.raises(ValueError, match="3-D to"):
        cl.Complex(cl.mlp([2, 4, 1]), facets="polar")
    with pytest.raises(ValueError, match="3-D to"):
        cl.Complex(cl.mlp([POLAR_MAX_DIM + 1, 4, 1]), facets="polar")


def test_centres_on_the_nearest_rows_only():
    """``analytic_centers(near=k)``: a far row that the near rows' centre violates (the near
    rows leave the region open towards it) sends that region back to a centre on every row;
    the points are strictly inside either way, and a wide 3-D search is unchanged."""
    from complexlib import search
    from complexlib.geometry import analytic_centers

    # the unit cube without its +x side, closed by a far row x <= 5: the three nearest rows
    # alone leave x free, so their centre drifts to the box wall at x = 10
    A = np.array([[[-1.0, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1], [1, 0, 0]]])
    b = np.array([[-1.0, -1, -1, -1, -1, -5]])
    x = analytic_centers(A, b, np.zeros((1, 3)), iters=30, near=5)
    assert np.all(A[0] @ x[0] + b[0] < 0)
    full = analytic_centers(A, b, np.zeros((1, 3)), iters=30)
    np.testing.assert_allclose(x, full)
    rng = np.random.default_rng(0)
    A = rng.standard_normal((20, 80, 3))
    b = -rng.random((20, 80)) - 0.05  # the origin is inside every one
    x = analytic_centers(A, b, np.zeros((20, 3)), iters=8, near=12)
    assert np.all(np.einsum("bmd,bd->bm", A, x) + b < 0)
    net = cl.mlp([3, 60, 1], seed=3)
    got = cl.Complex(net, bound=0.5)
    got.bfs(progress=False)
    old = search.CENTRE_ROWS
    try:
        search.CENTRE_ROWS = None
        ref = cl.Complex(net, bound=0.5)
        ref.bfs(progress=False)
    finally:
        search.CENTRE_ROWS = old
    assert len(got) == len(ref) > 1000
    assert {p.tobytes() for p in got.patterns} == {p.tobytes() for p in ref.patterns}
    assert got.face_counts().sum() == ref.face_counts().sum()


def test_a_point_handed_down_far_out_is_pulled_in():
    """Regression (a 1,004,914-region search of ``cl.mlp([3, 182, 1], seed=0)``): an
    unbounded region reached along a chain of unbounded ones had its point at |x| ~ 9e4,
    while its facet on neuron 151 (shared with a thin region, inradius 1e-4) lies near
    |x| ~ 90; from there the polar kernel took that facet for a redundant row, and the
    facet was listed by one of its two regions only.  The point is now pulled in first
    (to ~2,500 here: the first row met on the way to the origin lies ~5,000 out)."""
    from pathlib import Path

    from complexlib.geometry import halfspaces, region_geometry
    from complexlib.search import _pull_in, process_batch

    data = np.load(Path(__file__).parent / "fixtures" / "far_hint_3d.npz")
    pats, hints = data["patterns"], data["hints"]
    net = cl.as_network(cl.mlp([3, 182, 1], seed=0))
    A, b = halfspaces(net, pats)
    assert np.linalg.norm(hints[1]) > 5e4
    pulled = _pull_in(A, b, hints)
    assert np.all(np.einsum("bmd,bd->bm", A, pulled) + b < 0)
    assert np.linalg.norm(pulled[1]) < np.linalg.norm(hints[1]) / 20
    res = process_batch(net, pats, hints, np.zeros((0, 3)), np.zeros(0))
    for k in range(2):
        want = set(region_geometry(A[k], b[k], method="lp").facets.tolist())
        got = set(res.facet_neuron[res.facet_ptr[k] : res.facet_ptr[k + 1]].tolist())
        assert got == want and 151 in got


def _cross_thin_fixture(suffix, neuron):
    """Process the fixture region ``pattern<suffix>`` of ``thin_facet_5d.npz`` (the network
    of grid run d5_w16_h4_t1) and check its crossing of the facet on ``neuron`` (of the last
    hidden layer: nothing else bends there, so the region across is the pattern with that
    neuron flipped).  Returns the batch result, the pattern across and the facet's index."""
    from pathlib import Path

    from complexlib.search import process_batch

    f = np.load(Path(__file__).parent / "fixtures" / "thin_facet_5d.npz")
    net = cl.as_network([(f[f"W{i}"], f[f"b{i}"]) for i in range(5)])
    pat = f[f"pattern{suffix}"].astype(np.int8)
    r = process_batch(net, pat[None], f[f"center{suffix}"][None], np.zeros((0, 5)), np.zeros(0))
    assert neuron in r.facet_neuron.tolist()
    k = r.facet_neuron.tolist().index(neuron)
    across = pat.copy()
    across[neuron] = -across[neuron]
    assert np.array_equal(r.neighbor_bits[k], cl.patterns.pack(across[None])[0])
    return net, r, across, k


def test_a_facet_thinner_than_the_step_margin_is_crossed():
    """Found by the grid (d5_w16_h4_t1): a 5-D region whose facet on its last hidden layer's
    neuron 54 has a Chebyshev margin of 1.1e-8 at |x| ~ 35.  A quarter of the facet point's
    margin (1.8e-9) lands within 10 RTOL (1 + |x|) of the facet's own row, and shorter steps
    only come closer: the search used to stop there.  Longer steps clear it."""
    _, r, _, _ = _cross_thin_fixture("", 54)
    assert r.facet_neuron.tolist() == [8, 13, 22, 26, 39, 54, 55]


def test_a_thin_facet_with_a_narrow_step_window_is_crossed_from_its_centre():
    """The same grid run, next region: its facet on neuron 39 (margin 1.5e-8) can be crossed
    from the kernel's facet point only with steps near 4e-9 (the genericity band is 3.6e-9,
    another row of the region across is 3.9e-9 away); from the facet's Chebyshev centre (an
    LP) steps of 4e-9 to 1e-8 all work."""
    _cross_thin_fixture("2", 39)


def test_a_region_across_thinner_than_any_step_window_is_reached_at_its_centre():
    """The same grid run, an hour later (|x| ~ 41): the facet on neuron 60 has an inscribed
    radius of 6.2e-9 and the region across one of 5.9e-9, with two of its rows nearly
    parallel to the facet's (cosines 0.97).  The genericity band there is 4.2e-9, and every
    step off the kernel's facet point and off the facet's centre landed in it; the region
    across's own Chebyshev centre (an LP) clears it."""
    net, r, across, k = _cross_thin_fixture("3", 60)
    assert r.facet_neuron.tolist() == [17, 47, 49, 51, 53, 57, 60]
    # the point handed to the region across lies in it, clear of its hyperplanes
    assert np.array_equal(cl.patterns.patterns_of(net, r.neighbor_point[k][None])[0], across)


def test_padded_subset_hulls_equal_unpadded():
    """The 3-D hull of a count class: points padded with copies of 0 give the hyperplanes of
    the unpadded points, and no others."""
    from complexlib.polar import _hull

    rng = np.random.default_rng(3)
    for K in (3, 5, 8):
        S = np.concatenate([np.zeros((20, 1, 3)), rng.standard_normal((20, K, 3))], axis=1)
        tol = np.full(20, 1e-12)
        ref = _hull(S, tol)
        pad = np.concatenate([S, np.zeros((20, 4, 3))], axis=1)
        got = _hull(pad, tol, np.full(20, K + 1))
        for k in range(20):
            want = {tuple(np.round(n, 9)) for n, v in zip(ref[0][k], ref[2][k]) if v}
            have = [tuple(np.round(n, 9)) for n, v in zip(got[0][k], got[2][k]) if v]
            assert len(have) == len(set(have)) == len(want) and set(have) == want
        assert np.array_equal(ref[3], got[3])


def test_uneven_vertex_counts_in_one_batch_match_lp():
    """Regions with few and many facets in one batch (several count classes, padding)."""
    rng = np.random.default_rng(11)
    parts = []
    for m in (4, 6, 9, 14, 24):
        A, b = _random_polyhedra(rng, 12, m, 3)
        A = np.concatenate([A, np.zeros((12, 24 - m, 3))], axis=1)  # zero rows: ignored
        b = np.concatenate([b, -np.ones((12, 24 - m))], axis=1)
        parts.append((A, b))
    A = np.concatenate([p[0] for p in parts])
    b = np.concatenate([p[1] for p in parts])
    x0 = analytic_centers(A, b, np.zeros((len(A), 3)))
    pf = _compare(A, b, x0, 24)
    assert pf.decided.mean() > 0.9
    assert len(set(np.diff(pf.ptr).tolist())) >= 4  # the batch held several facet counts


def test_qhull_without_the_private_class_gives_the_same_facets(monkeypatch):
    """`_qhull_hull` falls back to scipy's public ConvexHull; both give the same facets."""
    from scipy.spatial import _qhull

    import complexlib.polar as polar

    rng = np.random.default_rng(4)
    A, b = _random_polyhedra(rng, 30, 16, 5)
    x0 = analytic_centers(A, b, np.zeros((30, 5)))
    args = (A, b, x0, 16, 1.0 + np.linalg.norm(x0, axis=1), RTOL)
    polar._qhull_hull.cache_clear()
    fast = polar.polar_facets(*args)
    assert polar._qhull_hull().__name__ == "direct"

    def broken(*a, **k):
        raise TypeError("changed signature")

    monkeypatch.setattr(_qhull, "_Qhull", broken)
    polar._qhull_hull.cache_clear()
    try:
        assert polar._qhull_hull().__name__ == "public"
        slow = polar.polar_facets(*args)
    finally:
        polar._qhull_hull.cache_clear()
    for f in ("ptr", "row", "bounded", "decided"):
        assert np.array_equal(getattr(fast, f), getattr(slow, f)), f
    assert np.allclose(fast.point, slow.point, rtol=0, atol=1e-12)
