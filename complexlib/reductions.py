"""Reductions along the last axis of numpy arrays, faster than numpy's own on short rows.

The search's facet kernels and the region cache reduce many short rows (tens of entries)
at a time; there numpy's ``argmax`` is several times faster than its ``max``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["row_max"]


def row_max(v: np.ndarray) -> np.ndarray:
    """``v.max(axis=-1, initial=-inf)``, by an argmax and a gather: numpy's argmax along
    short rows is several times faster than its max (the same value, NaN included).

    Examples
    --------
    >>> row_max(np.array([[1.0, 3.0, 2.0], [-1.0, -5.0, -2.0]])).tolist()
    [3.0, -1.0]
    >>> row_max(np.zeros((2, 0))).tolist()
    [-inf, -inf]
    """
    m = v.shape[-1]
    if m == 0:
        return np.full(v.shape[:-1], -np.inf)
    flat = v.reshape(-1, m)
    return flat[np.arange(flat.shape[0]), flat.argmax(axis=1)].reshape(v.shape[:-1])
