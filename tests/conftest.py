"""Shared test helpers: a catalogue of networks, including degenerate ones."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import complexlib as cl  # noqa: E402


def pattern_set(patterns: np.ndarray) -> set[tuple[int, ...]]:
    return {tuple(int(v) for v in row) for row in np.asarray(patterns)}


def random_net(widths, seed) -> list[tuple[np.ndarray, np.ndarray]]:
    return cl.as_network(cl.mlp(widths, seed=seed)).to_list()


def degenerate_nets() -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """2-D networks with coincident hyperplanes, zero rows and dead parts."""
    rng = np.random.default_rng(7)
    nets = {}
    W1, b1 = rng.standard_normal((6, 2)), rng.standard_normal(6) * 0.5
    W2, b2 = rng.standard_normal((5, 6)), rng.standard_normal(5) * 0.5
    W3, b3 = rng.standard_normal((1, 5)), np.zeros(1)

    w, b = W1.copy(), b1.copy()
    w[5], b[5] = w[2], b[2]  # duplicated neuron
    nets["duplicate_row"] = [(w, b), (W2, b2), (W3, b3)]

    w, b = W1.copy(), b1.copy()
    w[4], b[4] = -2 * w[1], -2 * b[1]  # same line, opposite orientation
    w[3], b[3] = 3 * w[0], 3 * b[0]  # same line, same orientation
    nets["multiple_rows"] = [(w, b), (W2, b2), (W3, b3)]

    w, b = W1.copy(), b1.copy()
    w[1], b[1] = 0.0, 0.0  # identically zero neuron
    w[3], b[3] = 0.0, 0.7  # constant positive neuron
    w2 = W2.copy()
    w2[2] = 0.0  # zero row in layer 2 (pre-activation = its bias)
    nets["zero_rows"] = [(w, b), (w2, b2), (W3, b3)]

    w2, b2d = -np.abs(W2), np.abs(b2) + 0.3  # layer 2 dead where the layer-1 output is large
    nets["dead_layer_part"] = [(W1, b1), (w2, b2d), (W3, b3)]

    # a second-layer neuron whose bent hyperplane is a straight line shared with layer 1:
    # z = relu(x) - relu(-x) = x, and neurons that copy or negate a layer-1 neuron
    w1 = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -2.0]])
    bb1 = np.array([0.0, 0.0, 0.3, -0.5, 0.2])
    w2 = np.array(
        [[1.0, -1.0, 0, 0, 0], [0, 0, 1.0, 0, 0], [0, 0, -1.0, 0, 0], [0.5, 0.2, -0.7, 1.0, 0.4]]
    )
    bb2 = np.array([0.0, 0.0, 0.0, -0.1])
    nets["coincident_layers"] = [(w1, bb1), (w2, bb2), (np.ones((1, 4)), np.zeros(1))]

    w, b = rng.standard_normal((5, 2)), np.zeros(5)  # every line through the origin
    nets["concurrent_lines"] = [
        (w, b),
        (rng.standard_normal((4, 5)), np.zeros(4)),
        (np.ones((1, 4)), np.zeros(1)),
    ]
    return nets


@pytest.fixture(scope="session")
def degenerate():
    return degenerate_nets()
