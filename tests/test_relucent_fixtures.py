"""Region sets equal the ones the peer tool relucent computed (tests/fixtures/relucent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import pattern_set

import complexlib as cl

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "relucent").glob("*.npz"))


def load(path):
    with np.load(path, allow_pickle=False) as z:
        n_layers = sum(1 for k in z.files if k.startswith("W"))
        net = [(z[f"W{i}"], z[f"b{i}"]) for i in range(n_layers)]
        return net, z["patterns"], z


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_equals_relucent(path):
    net, patterns, _ = load(path)
    bound = 1.0 if path.stem.endswith("_box1") else None
    cx = cl.Complex(net, bound=bound)
    cx.bfs(progress=False)
    assert pattern_set(cx.patterns) == pattern_set(patterns)
    if bound is None:
        G = cx.dual_graph()
        assert cx.face_counts().mean() == pytest.approx(2 * G.number_of_edges() / len(cx))


def test_there_are_fixtures():
    assert len([p for p in FIXTURES if not p.stem.endswith("box1")]) >= 4
