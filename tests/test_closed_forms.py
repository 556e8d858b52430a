"""Closed forms for one hidden layer in general position (Zaslavsky / Buck)."""

from __future__ import annotations

from math import comb

import networkx as nx
import numpy as np
import pytest

import complexlib as cl


def n_regions(m: int, d: int) -> int:
    return sum(comb(m, i) for i in range(d + 1))


@pytest.mark.parametrize(
    ("d", "m", "seed"),
    [(1, 5, 0), (2, 4, 0), (2, 9, 3), (3, 6, 1), (4, 7, 2), (5, 8, 0)],
)
def test_one_hidden_layer(d, m, seed):
    cx = cl.Complex(cl.mlp([d, m, 1], seed=seed))
    cx.bfs(progress=False)
    assert len(cx) == n_regions(m, d)
    G = cx.dual_graph()
    assert nx.is_connected(G)
    assert nx.diameter(G) == m
    mean_degree = 2 * G.number_of_edges() / G.number_of_nodes()
    expected = 2 * m * n_regions(m - 1, d - 1) / n_regions(m, d)
    assert mean_degree == pytest.approx(expected, rel=1e-12)
    assert cx.face_counts().mean() == pytest.approx(mean_degree, rel=1e-12)
    # bounded regions of an arrangement in general position: C(m - 1, d)
    assert int(cx.bounded.sum()) == comb(m - 1, d)
    assert np.isinf(cx.inradii[~cx.bounded]).sum() >= 1


def test_known_counts():
    assert n_regions(4, 2) == 11 and n_regions(8, 5) == 219
