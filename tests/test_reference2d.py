"""Self-tests of the independent 2-D reference splitter (tests/reference2d.py)."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest
from reference2d import reference_patterns_2d, split_box_2d


def forward_preacts(weights, x: np.ndarray, leaky: float = 0.0) -> np.ndarray:
    """Hidden pre-activations at points ``x`` (n,2): array (n, total hidden neurons)."""
    h, out = x, []
    for W, b in weights[:-1]:
        z = h @ W.T + b
        out.append(z)
        h = np.where(z > 0, z, leaky * z)
    return np.hstack(out)


def pattern_of(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, 1, -1).astype(np.int8)


def random_net(rng, widths, scale=1.0):
    return [
        (rng.standard_normal((o, i)), scale * rng.standard_normal(o))
        for i, o in itertools.pairwise(widths)
    ]


def box_area(lo, hi):
    lo, hi = np.broadcast_to(lo, (2,)), np.broadcast_to(hi, (2,))
    return float(np.prod(np.asarray(hi) - np.asarray(lo)))


def area(v):
    x, y = v[:, 0], v[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def interior_points(v, rng, n=5):
    """Points strictly inside convex polygon v: shrunk random convex combinations."""
    c = v.mean(axis=0)
    w = rng.dirichlet(np.ones(len(v)), size=n)
    return c + 0.5 * (w @ v - c)


def test_line_arrangement_count():
    rng = np.random.default_rng(0)
    m = 9
    while True:
        pts = rng.uniform(-1, 1, (m, 2))
        ang = rng.uniform(0, np.pi, m)
        nrm = np.stack([-np.sin(ang), np.cos(ang)], axis=1)
        ok = True
        for i, j in itertools.combinations(range(m), 2):
            A = np.stack([nrm[i], nrm[j]])
            if abs(np.linalg.det(A)) < 1e-3:
                ok = False
                break
            p = np.linalg.solve(A, [nrm[i] @ pts[i], nrm[j] @ pts[j]])
            ok &= bool(np.all(np.abs(p) < 99))
        if ok:
            break
    weights = [(nrm, -np.sum(nrm * pts, axis=1)), (np.ones((1, m)), np.zeros(1))]
    cells = split_box_2d(weights, -100.0, 100.0)
    assert len(cells) == 1 + m + comb(m, 2)
    assert len(reference_patterns_2d(weights, -100.0, 100.0)) == len(cells)


@pytest.mark.parametrize("leaky", [0.0, 0.1])
@pytest.mark.parametrize(
    ("widths", "lo", "hi"),
    [
        ([2, 6, 1], -2.0, 2.0),
        ([2, 5, 4, 1], -3.0, 3.0),
        ([2, 4, 4, 3, 2], np.array([-1.0, -2.0]), np.array([3.0, 0.5])),
    ],
)
def test_random_nets(widths, lo, hi, leaky):
    rng = np.random.default_rng(len(widths) * 10 + int(leaky * 10))
    weights = random_net(rng, widths)
    cells = split_box_2d(weights, lo, hi, leaky)
    pats = [tuple(p) for p, _ in cells]
    assert len(set(pats)) == len(pats), "patterns must be unique for generic nets"
    total = 0.0
    for p, v in cells:
        assert p.dtype == np.int8 and v.dtype == np.float64 and v.shape[1] == 2
        a = area(v)
        assert a > 0  # CCW
        total += a
        # convex: every turn is a left turn (up to rounding)
        e = np.roll(v, -1, axis=0) - v
        cross = e[:, 0] * np.roll(e[:, 1], -1) - e[:, 1] * np.roll(e[:, 0], -1)
        assert np.all(cross >= -1e-9 * box_area(lo, hi))
        x = interior_points(v, rng)
        z = forward_preacts(weights, x, leaky)
        assert np.all(pattern_of(z) == p)
    assert total == pytest.approx(box_area(lo, hi), rel=1e-9)
    # random points: forward pattern is among the returned patterns
    lo2, hi2 = np.broadcast_to(lo, (2,)), np.broadcast_to(hi, (2,))
    x = rng.uniform(lo2, hi2, (1000, 2))
    z = forward_preacts(weights, x, leaky)
    far = np.all(np.abs(z) > 1e-9, axis=1)
    assert far.sum() > 900
    got = {tuple(r) for r in pattern_of(z[far])}
    assert got <= set(pats)


def test_degenerate_rows():
    rng = np.random.default_rng(5)
    W = rng.standard_normal((3, 2))
    b = rng.standard_normal(3) * 0.5
    base = [(W, b), (np.ones((1, 3)), np.zeros(1))]
    # rows: 0,1,2, dup of 0, -2x row 1, zero row
    W2 = np.vstack([W, W[0], -2 * W[1], np.zeros(2)])
    b2 = np.concatenate([b, [b[0], -2 * b[1], 0.0]])
    deg = [(W2, b2), (np.ones((1, 6)), np.zeros(1))]
    base_pats = reference_patterns_2d(base, -3.0, 3.0)
    deg_pats = reference_patterns_2d(deg, -3.0, 3.0)
    assert len(deg_pats) == len(base_pats) == len(split_box_2d(deg, -3.0, 3.0))
    assert {p[:3] for p in deg_pats} == base_pats
    for p in deg_pats:
        assert p[3] == p[0] and p[4] == -p[1] and p[5] == -1


def test_dead_second_layer_exact():
    # layer 1: relu(x), relu(y); layer 2: h1 + h2 (identically 0 on x<0,y<0), h1 - 1
    weights = [
        (np.eye(2), np.zeros(2)),
        (np.array([[1.0, 1.0], [1.0, 0.0]]), np.array([0.0, -1.0])),
        (np.ones((1, 2)), np.zeros(1)),
    ]
    cells = split_box_2d(weights, -2.0, 2.0)
    got = {tuple(int(s) for s in p): area(v) for p, v in cells}
    expected = {
        (-1, -1, -1, -1): 4.0,
        (-1, 1, 1, -1): 4.0,
        (1, -1, 1, -1): 2.0,
        (1, 1, 1, -1): 2.0,
        (1, -1, 1, 1): 2.0,
        (1, 1, 1, 1): 2.0,
    }
    assert got.keys() == expected.keys()
    for k, a in expected.items():
        assert got[k] == pytest.approx(a)
    # a fully dead second-layer neuron (negative weights on nonnegative inputs) never splits
    dead = [
        (np.eye(2), np.zeros(2)),
        (np.array([[-1.0, -2.0]]), np.array([-0.5])),
        (np.ones((1, 1)), np.zeros(1)),
    ]
    assert reference_patterns_2d(dead, -2.0, 2.0) == {
        (-1, -1, -1),
        (1, -1, -1),
        (-1, 1, -1),
        (1, 1, -1),
    }


def test_leaky_revives_dead_neuron():
    weights = [
        (np.eye(2), np.zeros(2)),
        (np.array([[1.0, 1.0]]), np.zeros(1)),
        (np.ones((1, 1)), np.zeros(1)),
    ]
    # with leaky, on x<0<y the neuron 0.1x + y changes sign: 6 cells instead of 4
    assert len(reference_patterns_2d(weights, -2.0, 2.0)) == 4
    assert len(reference_patterns_2d(weights, -2.0, 2.0, leaky=0.1)) == 6


def test_no_hidden_layer():
    cells = split_box_2d([(np.ones((1, 2)), np.zeros(1))], 0.0, 1.0)
    assert len(cells) == 1 and cells[0][0].shape == (0,)
    assert area(cells[0][1]) == pytest.approx(1.0)


def test_concurrent_lines_and_box_boundary():
    # four lines through the origin, one on the box edge x=1, one through the corner (1,1)
    W1 = np.array([[1, 0], [0, 1], [1, 1], [1, -1], [1, 0], [1, 1.0]])
    b1 = np.array([0, 0, 0, 0, -1, -2.0])
    cells = split_box_2d([(W1, b1), (np.ones((1, 6)), np.zeros(1))], -1.0, 1.0)
    assert len(cells) == 8
    assert sum(area(v) for _, v in cells) == pytest.approx(4.0)
    assert all(p[4] == -1 and p[5] == -1 for p, _ in cells)
