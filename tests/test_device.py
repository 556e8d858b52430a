"""CUDA paths run for real where a GPU is present and are skipped cleanly otherwise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import complexlib as cl

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


def test_missing_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available")
    with pytest.raises(ValueError, match="CUDA is not available"):
        cl.Complex(cl.mlp([2, 4, 1], seed=0), device="cuda")


@cuda
@pytest.mark.parametrize("widths", [[2, 16, 16, 1], [3, 8, 8, 1]])
def test_cuda_equals_cpu(widths):
    a = cl.Complex(cl.mlp(widths, seed=0))
    a.bfs(progress=False)
    b = cl.Complex(cl.mlp(widths, seed=0), device="cuda")
    b.bfs(progress=False)
    assert np.array_equal(a.patterns, b.patterns)
    assert np.array_equal(a.edges()[0], b.edges()[0])
