"""Batched forward passes: points -> pre-activations and activation patterns.

A pattern has one entry per hidden neuron, layer by layer in weight-row
order: ``+1`` when the neuron's pre-activation is ``> 0``, ``-1`` otherwise.
Patterns are stored as ``int8`` arrays and packed to bits (``np.packbits``)
for hashing and storage.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .network import ReLUNetwork, check_points

__all__ = ["preactivations", "patterns_of", "pack", "unpack", "resolve_device"]


def resolve_device(device: Any = None) -> Any:
    """A ``torch.device`` from ``None`` (CPU), a string or a device.

    Examples
    --------
    >>> resolve_device(None)
    device(type='cpu')
    """
    import torch

    if device is None:
        return torch.device("cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but CUDA is not available here")
    return dev


#: A pre-activation within this fraction of the magnitude of the terms summed into it is
#: taken as zero (pattern -1): rounding noise of a neuron that is identically zero on a
#: region must not decide its sign, and a point that close to a hyperplane is not generic.
ZERO_RTOL = 1e-12


def params_on(net: ReLUNetwork, device: Any) -> list[tuple[Any, Any]]:
    """The layers' ``(W, b)`` as float64 tensors on ``device`` (views of the arrays on a CPU).

    A caller that runs several batched steps on a GPU uploads them once with this and hands
    them to each step.
    """
    import torch

    dev = resolve_device(device)
    return [
        (torch.as_tensor(w, device=dev), torch.as_tensor(b, device=dev))
        for w, b in zip(net.weights, net.biases)
    ]


def _forward(
    net: ReLUNetwork, x: Any, device: Any = None, params: list[tuple[Any, Any]] | None = None
) -> tuple[Any, Any]:
    """Pre-activations and a bound on the magnitude of the terms summed into each."""
    import torch

    dev = resolve_device(device)
    pts = check_points(x, net.input_dim)
    if params is None:
        params = params_on(net, dev)
    h = torch.as_tensor(pts, dtype=torch.float64, device=dev)
    return _layers(torch, h, params, net.slopes)


def _forward_np(net: ReLUNetwork, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_forward` in numpy, for small batches on the CPU (a fraction of torch's
    fixed cost per operation)."""
    h = np.asarray(x, dtype=np.float64).reshape(-1, net.input_dim)
    return _layers(np, h, list(zip(net.weights, net.biases)), net.slopes)


def _layers(xp: Any, h: Any, params: list[tuple[Any, Any]], slopes: Any) -> tuple[Any, Any]:
    """The forward pass of :func:`_forward` in ``xp`` (numpy or torch) arrays."""
    zs, bounds = [], []
    for (w, b), slope in zip(params, slopes):
        z = h @ w.T + b
        zs.append(z)
        bounds.append(abs(h) @ abs(w).T + abs(b))
        h = xp.where(z > 0, z, slope * z)
    if not zs:
        empty = h[:, :0]
        return empty, empty
    return xp.concatenate(zs, 1), xp.concatenate(bounds, 1)


def preactivations(net: ReLUNetwork, x: Any, device: Any = None) -> np.ndarray:
    """Pre-activations of every hidden neuron at the points ``x``.

    Parameters
    ----------
    net : ReLUNetwork
    x : array_like, shape (n, d) or (d,)
    device : torch device, optional

    Returns
    -------
    ndarray, shape (n, n_neurons), float64

    Examples
    --------
    >>> import numpy as np
    >>> from complexlib.network import ReLUNetwork
    >>> net = ReLUNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> preactivations(net, [1.0, -2.0])
    array([[ 1., -2.]])
    """
    return _forward(net, x, device)[0].cpu().numpy()


def patterns_of(net: ReLUNetwork, x: Any, device: Any = None) -> np.ndarray:
    """Activation patterns (``int8``, +1/-1) of the points ``x``.

    A neuron is +1 where its pre-activation is positive beyond rounding (see
    ``ZERO_RTOL``), so a neuron that is identically zero on a region gets -1
    whatever the rounding noise of its pre-activation.

    Examples
    --------
    >>> import numpy as np
    >>> from complexlib.network import ReLUNetwork
    >>> net = ReLUNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> patterns_of(net, [[1.0, -2.0], [0.0, 3.0]])
    array([[ 1, -1],
           [-1,  1]], dtype=int8)
    """
    return _patterns_of_torch(*_forward(net, x, device)).cpu().numpy()


def _patterns_of_torch(z: Any, bound: Any) -> Any:
    """:func:`patterns_of` from :func:`_forward`'s tensors, as an int8 tensor on their device."""
    import torch

    one = torch.ones((), dtype=torch.int8, device=z.device)
    return torch.where(z > ZERO_RTOL * bound, one, -one)


def pack(patterns: np.ndarray) -> np.ndarray:
    """Pack ``(n, N)`` +1/-1 patterns into ``(n, ceil(N/8))`` uint8 bits.

    Examples
    --------
    >>> import numpy as np
    >>> pack(np.array([[1, -1, 1]], dtype=np.int8))
    array([[160]], dtype=uint8)
    """
    p = np.asarray(patterns)
    return np.packbits(p > 0, axis=-1)


def unpack(bits: np.ndarray, n_neurons: int) -> np.ndarray:
    """Inverse of :func:`pack`.

    Examples
    --------
    >>> import numpy as np
    >>> unpack(np.array([[160]], dtype=np.uint8), 3)
    array([[ 1, -1,  1]], dtype=int8)
    """
    b = np.unpackbits(np.asarray(bits, dtype=np.uint8), axis=-1, count=n_neurons)
    return (2 * b.astype(np.int8) - 1).astype(np.int8)
