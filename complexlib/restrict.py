"""Restriction of a network to an affine subspace of its input.

The network ``f`` restricted to the affine subspace ``x = o + V t`` (``t`` in
R^k, ``V`` of shape ``(d, k)``) is the network ``t -> f(o + V t)``.  Only the
first layer changes: ``W_1 (o + V t) + b_1 = (W_1 V) t + (W_1 o + b_1)``, so the
restriction is again a ReLU network, with the same hidden neurons in the same
order, hence the same activation patterns.  Its regions are the non-empty
intersections of the regions of ``f`` with the subspace, and every exact tool
of complexlib (the search, facets, volumes) applies to it unchanged.

A segment ``[a, b]`` is the case ``k = 1``, ``o = a``, ``V = b - a`` with
``t`` in ``[0, 1]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .network import ReLUNetwork, as_network

__all__ = ["restrict", "restrict_to_line"]


def restrict(net: Any, origin: Any, directions: Any) -> ReLUNetwork:
    """The network ``t -> net(origin + directions @ t)``.

    Parameters
    ----------
    net : torch.nn.Sequential, list of (W, b) or ReLUNetwork
        The network (see :func:`complexlib.as_network`).
    origin : array_like, shape (d,)
        The point ``t = 0`` is mapped to.
    directions : array_like, shape (d, k)
        The columns span the subspace; ``k <= d`` and the columns must be
        linearly independent (else the slice is not ``k``-dimensional).

    Returns
    -------
    ReLUNetwork
        A network with ``k`` inputs and the same hidden neurons, in the same
        order, as ``net``.

    Examples
    --------
    >>> import numpy as np
    >>> from complexlib.network import ReLUNetwork
    >>> net = ReLUNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> line = restrict(net, [1.0, -1.0], [[1.0], [1.0]])
    >>> line.widths
    (1, 2, 1)
    >>> line.forward(np.array([[0.5]])), net.forward(np.array([[1.5, -0.5]]))
    (array([[1.5]]), array([[1.5]]))
    """
    base = as_network(net)
    d = base.input_dim
    o = np.asarray(origin, dtype=np.float64)
    V = np.asarray(directions, dtype=np.float64)
    if V.ndim == 1:
        V = V[:, None]
    if o.shape != (d,):
        raise ValueError(
            f"origin must have shape ({d},) for a network with {d} inputs, got {o.shape}"
        )
    if V.ndim != 2 or V.shape[0] != d or V.shape[1] < 1:
        raise ValueError(
            f"directions must have shape ({d}, k) with k >= 1 (one column per direction), "
            f"got {V.shape}"
        )
    if not (np.isfinite(o).all() and np.isfinite(V).all()):
        raise ValueError("origin and directions must be finite")
    if np.linalg.matrix_rank(V) < V.shape[1]:
        raise ValueError(
            f"the {V.shape[1]} directions are linearly dependent: the slice would not be "
            f"{V.shape[1]}-dimensional"
        )
    W1, b1 = base.weights[0], base.biases[0]
    return ReLUNetwork(
        [W1 @ V, *base.weights[1:]], [W1 @ o + b1, *base.biases[1:]], list(base.slopes)
    )


def restrict_to_line(net: Any, a: Any, b: Any) -> ReLUNetwork:
    """The 1-D network ``t -> net(a + t (b - a))`` (the segment ``[a, b]`` is ``t in [0, 1]``).

    Examples
    --------
    >>> import numpy as np
    >>> from complexlib.network import ReLUNetwork
    >>> net = ReLUNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> restrict_to_line(net, [0.0, 0.0], [2.0, 1.0]).weights[0]
    array([[2.],
           [1.]])
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"the segment's ends have shapes {a.shape} and {b.shape}")
    if a.ndim == 1 and np.array_equal(a, b):
        raise ValueError("the segment's ends coincide: a segment needs a != b")
    return restrict(net, a, (b - a)[:, None] if b.ndim == 1 else b - a)
