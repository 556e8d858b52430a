"""Regions far from the origin: the unbounded search must not rely on a finite box."""

from __future__ import annotations

import numpy as np
from conftest import pattern_set
from reference2d import reference_patterns_2d

import complexlib as cl


def far_net():
    # z1 = y, z2 = y - 1e-5 x + 0.1 and z3 = x: z1 and z2 cross only at x = 1e4
    W1 = np.array([[0.0, 1.0], [-1e-5, 1.0], [1.0, 0.0]])
    b1 = np.array([0.0, 0.1, 0.0])
    return [(W1, b1), (np.ones((1, 3)), np.zeros(1))]


def test_far_crossing_one_layer():
    cx = cl.Complex(far_net())
    cx.bfs(progress=False)
    assert len(cx) == 7  # 1 + 3 + 3 for three lines in general position
    assert int(cx.bounded.sum()) == 1
    # one region lies entirely beyond x = 1e4
    assert any(reg.center[0] > 1e4 and np.all(reg.vertices[:, 0] >= 1e4 - 1e-6) for reg in cx)
    # no sampling of [-100, 100]^2 sees all of them
    assert len(reference_patterns_2d(far_net(), -100.0, 100.0)) == 6


def test_far_regions_two_layers_against_reference():
    W1, b1 = far_net()[0]
    rng = np.random.default_rng(3)
    W2, b2 = rng.standard_normal((4, 3)), rng.standard_normal(4)
    net = [(W1, b1), (W2, b2), (np.ones((1, 4)), np.zeros(1))]
    cx = cl.Complex(net)
    cx.bfs(progress=False)
    r = 10.0
    for reg in cx:
        if len(reg.vertices):
            r = max(r, 2.0 * float(np.abs(reg.vertices).max()))
    assert r > 1e4
    assert pattern_set(cx.patterns) == reference_patterns_2d(net, -r, r)
