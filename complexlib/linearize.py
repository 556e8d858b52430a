"""The network at a point: its region's affine map and how far that map stays valid.

For a point ``x`` with activation pattern ``s`` every pre-activation is affine on the
region of ``s``, ``z_j(y) = a_j . y + c_j``, and so is the network, ``f(y) = W y + c``
(:func:`complexlib.geometry.affine_maps`).  The region is
``{y : s_j (a_j . y + c_j) >= 0 for every j}``, so the largest ball around ``x`` inside it
has radius

.. math:: r(x) = \\min_{j : a_j \\ne 0} \\frac{|a_j \\cdot x + c_j|}{\\lVert a_j \\rVert},

the exact distance from ``x`` to the region's boundary (a ball lies in an intersection of
halfspaces iff it lies in each).  Neurons whose linear part cancels on the region are
constant there and bound nothing; they do not count.  The same minimum taken over the
neurons of one layer is that layer's validity radius.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .geometry import _affine_maps_torch, _halfspaces_torch
from .network import ReLUNetwork, as_network, check_points
from .patterns import _forward, _patterns_of_torch, params_on, resolve_device

__all__ = ["Linearization", "linearize_at_point"]

#: Points linearised per chunk of ``affine_maps`` (its arrays hold ``n * n_neurons * (d+1)``
#: floats; chunks keep them near this many).
CHUNK_FLOATS = 4_000_000


@dataclass(frozen=True)
class Linearization:
    """The network linearised at a batch of ``n`` points (arrays, one row per point).

    Attributes
    ----------
    x : (n, d) the points.
    output : (n, n_out) the network at the points, ``W x + c``.
    W : (n, n_out, d) and c : (n, n_out)
        The affine map of each point's region: ``f(y) = W y + c`` on it.
    pattern : (n, n_neurons) int8, +1/-1.
    preactivations : (n, n_neurons) every hidden neuron's pre-activation at ``x``.
    distances : (n, n_neurons)
        Distance from ``x`` to each neuron's hyperplane on the region (``inf`` for neurons
        that are constant on the region).
    layer_radii : (n, n_hidden_layers) smallest distance per hidden layer.
    radius : (n,) exact distance from ``x`` to its region's boundary (``inf`` when no
        neuron bounds the region).
    A, b : (n, n_neurons, d), (n, n_neurons)
        The region's halfspaces ``A y + b <= 0`` (rows of constant neurons are zero);
        ``None`` when not asked for.
    """

    x: np.ndarray
    output: np.ndarray
    W: np.ndarray
    c: np.ndarray
    pattern: np.ndarray
    preactivations: np.ndarray
    distances: np.ndarray
    layer_radii: np.ndarray
    radius: np.ndarray
    A: np.ndarray | None = None
    b: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])


def linearize_at_point(
    net: Any, x: Any, device: Any = None, halfspaces: bool = True
) -> Linearization:
    """Affine map, pattern, pre-activations and validity radii of the network at ``x``.

    Parameters
    ----------
    net : torch.nn.Sequential, ReLUNetwork or list of (W, b)
        Anything :func:`complexlib.as_network` accepts.
    x : array_like or torch.Tensor, shape (n, d) or (d,)
        One point or a batch.
    device : torch device, optional
        Where the batched computation runs (default CPU); results are numpy float64.
    halfspaces : bool
        Also return the regions' halfspaces ``A, b`` (``n * n_neurons * d`` floats).

    Returns
    -------
    Linearization
        Batched arrays, one row per point (also for a single point).

    Raises
    ------
    ValueError
        For points of the wrong shape or with NaN/inf entries.

    Notes
    -----
    Cost: one forward pass for the patterns and one push of the ``d + 1`` columns of
    ``[I | 0]`` through the masked layers (:func:`complexlib.geometry.affine_maps`), in
    float64, chunked so that its arrays stay near ``CHUNK_FLOATS`` floats.  The radius is
    the exact distance to the region's boundary: the minimum over the region's hyperplanes,
    redundant ones included (they are never nearer than the nearest facet).

    Examples
    --------
    >>> import numpy as np
    >>> import complexlib as cl
    >>> net = [(np.eye(2), np.array([0.0, -1.0])), (np.ones((1, 2)), np.zeros(1))]
    >>> lin = cl.linearize_at_point(net, [0.5, 3.0])
    >>> lin.pattern, lin.W[0], lin.c[0]
    (array([[1, 1]], dtype=int8), array([[1., 1.]]), array([-1.]))
    >>> lin.distances[0], float(lin.radius[0]), lin.layer_radii
    (array([0.5, 2. ]), 0.5, array([[0.5]]))
    >>> bool(np.allclose(lin.output, cl.as_network(net).forward([[0.5, 3.0]])))
    True
    """
    rnet = as_network(net)
    pts = check_points(x, rnet.input_dim)
    n, d, N = pts.shape[0], rnet.input_dim, rnet.n_neurons
    step = max(1, CHUNK_FLOATS // max(1, N * (d + 1)))
    chunks = [pts[i : i + step] for i in range(0, n, step)] or [pts]
    dev = resolve_device(device)
    params = params_on(rnet, dev)  # uploaded once for all chunks
    parts = [_linearize_chunk(rnet, params, p, dev, halfspaces) for p in chunks]

    def cat(k: int) -> np.ndarray | None:
        if parts[0][k] is None:
            return None
        return np.concatenate([p[k] for p in parts], axis=0)

    W, c, s, z, dist, A, b = (cat(k) for k in range(7))
    output = np.einsum("nod,nd->no", W, pts) + c
    L = len(rnet.hidden_widths)
    layer_radii = np.full((n, L), np.inf)
    ends = np.cumsum(rnet.hidden_widths)
    for i in range(L):  # a layer's neurons are one block of columns
        if rnet.hidden_widths[i]:
            layer_radii[:, i] = dist[:, ends[i] - rnet.hidden_widths[i] : ends[i]].min(axis=1)
    radius = layer_radii.min(axis=1) if L else np.full(n, np.inf)
    return Linearization(
        x=pts,
        output=output,
        W=W,
        c=c,
        pattern=s,
        preactivations=z,
        distances=dist,
        layer_radii=layer_radii,
        radius=radius,
        A=A,
        b=b,
    )


def _linearize_chunk(
    net: ReLUNetwork, params: list[tuple[Any, Any]], pts: np.ndarray, dev: Any,
    want_halfspaces: bool,
) -> tuple[np.ndarray | None, ...]:  # fmt: skip
    """One chunk on ``dev``: everything per (point, neuron) is computed there in torch and
    only the results come back (``A, b`` only when asked for)."""
    import torch

    d = net.input_dim
    st = _patterns_of_torch(*_forward(net, pts, dev, params))
    s = st.cpu().numpy()
    x = torch.as_tensor(pts, dtype=torch.float64, device=dev)
    Z, out, bound = _affine_maps_torch(net, st, params)
    A, b, nrm = _halfspaces_torch(Z, bound, st)  # rows constant on the region are zero
    z = (Z[:, :, :d] @ x[:, :, None])[:, :, 0] + Z[:, :, d]
    live = nrm > 0
    gap = -((A @ x[:, :, None])[:, :, 0] + b) / torch.where(live, nrm, 1.0)
    dist = torch.where(live, gap.clamp(min=0.0), torch.inf)

    def host(t: Any) -> np.ndarray:
        return t.cpu().numpy()

    ab = (host(A), host(b)) if want_halfspaces else (None, None)
    return host(out[:, :, :d]), host(out[:, :, d]), s, host(z), host(dist), *ab
