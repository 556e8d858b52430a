"""Local region counts (complexlib.local, complexlib.restrict) against closed forms and sampling."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import complexlib as cl
from complexlib.local import (
    _distance_to_polyhedron,
    ball_regions,
    ball_volume,
    box_regions,
    path_regions,
    segment_regions,
)
from complexlib.network import ReLUNetwork
from complexlib.patterns import patterns_of
from complexlib.restrict import restrict, restrict_to_line


def one_layer(d: int, m: int, seed: int) -> ReLUNetwork:
    rng = np.random.default_rng(seed)
    return ReLUNetwork(
        [rng.normal(size=(m, d)), rng.normal(size=(1, m))], [rng.normal(size=m), [0.0]]
    )


def sampled_pieces(net: ReLUNetwork, a: np.ndarray, b: np.ndarray, n: int = 200_001):
    """Patterns at ``n`` evenly spaced points of [a, b], and where they change (in t)."""
    t = np.linspace(0.0, 1.0, n)
    P = patterns_of(net, a + t[:, None] * (b - a))
    change = np.nonzero(np.any(P[1:] != P[:-1], axis=1))[0]
    return P, change, t


# -- restriction ------------------------------------------------------------------------------


def test_restriction_is_the_network_on_the_slice():
    net = cl.as_network(cl.mlp([5, 7, 6, 2], seed=3))
    rng = np.random.default_rng(0)
    o, V = rng.normal(size=5), rng.normal(size=(5, 2))
    sub = restrict(net, o, V)
    assert sub.widths == (2, 7, 6, 2)
    t = rng.normal(size=(50, 2))
    x = o + t @ V.T
    np.testing.assert_allclose(sub.forward(t), net.forward(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(patterns_of(sub, t), patterns_of(net, x))


@pytest.mark.parametrize(
    "args, match",
    [
        (([0.0, 0.0], [[1.0, 2.0], [2.0, 4.0]]), "linearly dependent"),
        (([0.0], [[1.0], [0.0]]), "origin must have shape"),
        (([0.0, 0.0], [[1.0, 0.0, 0.0]]), "directions must have shape"),
        (([np.nan, 0.0], [[1.0], [0.0]]), "finite"),
    ],
)
def test_restriction_rejects_bad_slices(args, match):
    with pytest.raises(ValueError, match=match):
        restrict(one_layer(2, 3, 0), *args)


def test_segment_needs_two_distinct_ends():
    with pytest.raises(ValueError, match="coincide"):
        restrict_to_line(one_layer(2, 3, 0), [1.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        segment_regions(one_layer(2, 3, 0), [1.0, 1.0, 0.0], [1.0, 1.0])


# -- segments ---------------------------------------------------------------------------------


@pytest.mark.parametrize("d, m, seed", [(1, 6, 0), (2, 8, 1), (3, 10, 2), (5, 12, 3)])
def test_one_layer_segment_crosses_each_hyperplane_once(d, m, seed):
    """One hidden layer: a generic segment has 1 + (hyperplanes separating its ends) pieces."""
    net = one_layer(d, m, seed)
    rng = np.random.default_rng(100 + seed)
    for _ in range(3):
        a, b = rng.normal(size=d) * 3, rng.normal(size=d) * 3
        W, c = net.weights[0], net.biases[0]
        crossed = np.sign(W @ a + c) != np.sign(W @ b + c)
        s = segment_regions(net, a, b)
        assert s.pieces == 1 + int(crossed.sum())
        assert s.regions == s.pieces
        # the breakpoints are the hyperplane crossings, in order
        tj = -(W @ a + c)[crossed] / (W @ (b - a))[crossed]
        np.testing.assert_allclose(s.breakpoints, np.sort(tj) * s.length, rtol=1e-9, atol=1e-12)
        assert s.density == pytest.approx(s.pieces / np.linalg.norm(b - a))


def test_line_through_the_plane_crosses_all_m_lines():
    m = 9
    net = one_layer(2, m, 7)
    W, c = net.weights[0], net.biases[0]
    # every line meets the segment between two far points on a generic direction
    direction = np.array([np.cos(0.3), np.sin(0.3)])
    R = 1e3 * (1 + np.abs(c).max() / np.abs(W @ direction).min())
    s = segment_regions(net, -R * direction, R * direction)
    assert s.pieces == m + 1


@pytest.mark.parametrize("widths, seed", [([2, 16, 16, 1], 0), ([4, 12, 12, 12, 2], 1)])
def test_deep_segment_matches_dense_sampling(widths, seed):
    net = cl.as_network(cl.mlp(widths, seed=seed))
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=widths[0]) * 2, rng.normal(size=widths[0]) * 2
    s = segment_regions(net, a, b)
    P, change, t = sampled_pieces(net, a, b)
    assert s.pieces == 1 + len(change)
    np.testing.assert_array_equal(s.patterns, P[np.r_[0, change + 1]])
    dt = t[1] - t[0]
    np.testing.assert_allclose(s.breakpoints / s.length, t[change] + dt / 2, atol=dt)


def test_path_there_and_back_reenters_regions():
    net = cl.as_network(cl.mlp([2, 10, 10, 1], seed=4))
    a, b = np.array([-2.0, -1.0]), np.array([2.0, 1.5])
    one = segment_regions(net, a, b)
    p = path_regions(net, [a, b, a])
    assert p.length == pytest.approx(2 * one.length)
    assert p.regions == one.regions
    assert p.pieces == 2 * one.pieces - 1  # the last piece goes on across the turn
    np.testing.assert_array_equal(p.patterns[: one.pieces], one.patterns)
    np.testing.assert_array_equal(p.patterns[one.pieces - 1 :], one.patterns[::-1])


def test_path_joint_between_pieces_is_a_breakpoint():
    """A joint where the pattern changes (the path turns on a boundary) starts a new piece."""
    net = ReLUNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    p = path_regions(net, [[-1.0, 1.0], [0.0, 1.0], [0.0, 2.0], [1.0, 2.0]])
    assert p.pieces == 2  # (-,+) up to x1 = 0; the leg along x1 = 0 has pattern (-,+) too
    assert p.length == pytest.approx(3.0)
    np.testing.assert_allclose(p.breakpoints, [2.0])


# -- boxes and balls --------------------------------------------------------------------------


def arrangement_count_in_convex_set(net, meets, inside):
    """1 + lines meeting the set + intersection points inside it (lines in general position)."""
    W, c = net.weights[0], net.biases[0]
    lines = sum(meets(W[j], c[j]) for j in range(len(c)))
    points = 0
    for i, j in itertools.combinations(range(len(c)), 2):
        x = np.linalg.solve(W[[i, j]], -c[[i, j]])
        points += inside(x)
    return 1 + lines + points


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_layer_box_and_ball_counts_match_the_arrangement_formula(seed):
    net = one_layer(2, 10, seed)
    centre, r = np.array([0.2, -0.1]), 1.3

    def meets_disk(w, c):
        return abs(w @ centre + c) / np.linalg.norm(w) < r

    def in_disk(x):
        return np.linalg.norm(x - centre) < r

    def meets_box(w, c):
        corners = centre + r * np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]])
        v = corners @ w + c
        return v.min() < 0 < v.max()

    def in_box(x):
        return bool(np.all(np.abs(x - centre) < r))

    ball = ball_regions(net, centre, r)
    box = box_regions(net, centre, r)
    assert ball.count == arrangement_count_in_convex_set(net, meets_disk, in_disk)
    assert box.count == arrangement_count_in_convex_set(net, meets_box, in_box)
    assert ball.count <= box.count
    assert ball.measure == pytest.approx(np.pi * r**2)
    assert box.measure == pytest.approx((2 * r) ** 2)
    assert box.density == pytest.approx(box.count / (2 * r) ** 2)


def test_box_count_is_the_box_complex():
    net = cl.mlp([3, 8, 8, 1], seed=5)
    lo, hi = np.array([-0.5, -0.2, 0.1]), np.array([0.7, 0.4, 0.9])
    loc = box_regions(net, (lo + hi) / 2, (hi - lo) / 2)
    cx = cl.Complex(net, bound=cl.Box(lo, hi))
    cx.bfs(progress=False)
    assert loc.count == len(cx)
    assert {p.tobytes() for p in loc.complex.patterns} == {p.tobytes() for p in cx.patterns}


def test_deep_ball_in_2d_matches_polygons_and_sampling():
    net = cl.as_network(cl.mlp([2, 12, 12, 1], seed=6))
    centre, r = np.array([0.1, 0.3]), 0.8
    ball = ball_regions(net, centre, r)
    box = ball.complex
    assert ball.count < len(box)
    # independent distance: the exact polygon of every region in the box, its nearest point
    for i in range(len(box)):
        V = box[i].vertices
        V = V[np.argsort(np.arctan2(*(V - V.mean(0)).T[::-1]))]
        edges = np.stack([V, np.roll(V, -1, axis=0)], axis=1)
        seg = edges[:, 1] - edges[:, 0]
        t = np.clip(np.einsum("ij,ij->i", centre - edges[:, 0], seg) / (seg**2).sum(1), 0, 1)
        nearest = np.linalg.norm(edges[:, 0] + t[:, None] * seg - centre, axis=1).min()
        inside = box[i].contains(centre)
        dist = 0.0 if inside else nearest
        assert (dist < r) == (i in set(ball.indices.tolist())), (i, dist)
    # sampling: every pattern seen in the disk is a counted region, and most are seen
    rng = np.random.default_rng(0)
    u = rng.normal(size=(200_000, 2))
    pts = (
        centre + r * np.sqrt(rng.uniform(size=(len(u), 1))) * u / np.linalg.norm(u, axis=1)[:, None]
    )
    seen = {p.tobytes() for p in patterns_of(net, pts)}
    counted = {p.tobytes() for p in box.patterns[ball.indices]}
    assert seen <= counted
    assert len(seen) >= 0.9 * len(counted)


def test_distance_to_polyhedron_against_projection_onto_a_box():
    rng = np.random.default_rng(1)
    for d in (2, 3, 6):
        lo, hi = -rng.uniform(0.5, 1, d), rng.uniform(0.5, 1, d)
        A, b = np.vstack([np.eye(d), -np.eye(d)]), np.r_[-hi, lo]
        for _ in range(5):
            c = rng.normal(size=d) * 2
            want = np.linalg.norm(c - np.clip(c, lo, hi))
            assert _distance_to_polyhedron(A, b, c) == pytest.approx(want, abs=1e-12)


def test_ball_volume_closed_forms():
    assert ball_volume(1, 2.0) == pytest.approx(4.0)
    assert ball_volume(3, 1.0) == pytest.approx(4 / 3 * np.pi)


@pytest.mark.parametrize("radius", [0.0, -1.0, np.inf])
def test_ball_rejects_bad_radius(radius):
    with pytest.raises(ValueError, match="radius"):
        ball_regions(one_layer(2, 3, 0), [0.0, 0.0], radius)


def test_cli_segment(capsys):
    import json

    from complexlib.cli import main

    assert main(["experiment", "segment", "--widths", "2,16,16,1", "--a=-1,0", "--b=1,0.5"]) == 0
    assert "pieces" in capsys.readouterr().out
    main(["experiment", "segment", "--widths", "2,16,16,1", "--a=-1,0", "--b=1,0.5", "--json"])
    got = json.loads(capsys.readouterr().out)
    want = segment_regions(cl.mlp([2, 16, 16, 1], seed=0), [-1.0, 0.0], [1.0, 0.5])
    assert got["pieces"] == want.pieces == len(got["breakpoints"]) + 1
    with pytest.raises(SystemExit, match="shape"):
        main(["experiment", "segment", "--widths", "2,4,1", "--a=0,0", "--b=1,1,1"])
