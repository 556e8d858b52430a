"""Canonical float64 affine-ReLU stacks.

Every network that complexlib works on is first normalised into a
:class:`ReLUNetwork`: a list of affine layers ``h -> W h + b`` with a
(leaky) ReLU between consecutive layers and none after the last.  Layers
without a nonlinearity between them (``Linear``, ``BatchNorm1d`` in eval
mode, ``Identity``, ``Dropout``, ``Flatten``) are folded into one affine map.

The canonical copy is float64 and its forward pass is checked against the
source module on random inputs when it is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .exceptions import UnsupportedLayerError

__all__ = ["ReLUNetwork", "as_network", "mlp"]

_SUPPORTED = (
    "Linear, ReLU, LeakyReLU, Identity, Dropout (eval), Flatten, BatchNorm1d (eval), "
    "nested Sequential"
)


@dataclass(frozen=True)
class ReLUNetwork:
    """A float64 stack ``L_k o act o ... o act o L_1`` of affine maps.

    Parameters
    ----------
    weights : list of ndarray
        ``weights[i]`` has shape ``(n_{i+1}, n_i)``.
    biases : list of ndarray
        ``biases[i]`` has shape ``(n_{i+1},)``.
    slopes : list of float
        Negative slope of the activation after each hidden layer (0 for ReLU).

    Examples
    --------
    >>> import numpy as np
    >>> net = ReLUNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)], [0.0])
    >>> net.widths
    (2, 2, 1)
    >>> net.forward(np.array([[1.0, -2.0]]))
    array([[1.]])
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    slopes: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.biases) or not self.weights:
            raise ValueError(
                f"need as many weight matrices as bias vectors (got {len(self.weights)} and "
                f"{len(self.biases)}), at least one"
            )
        ws = [np.ascontiguousarray(np.asarray(w, dtype=np.float64)) for w in self.weights]
        bs = [
            np.ascontiguousarray(np.asarray(b, dtype=np.float64).reshape(-1)) for b in self.biases
        ]
        for i, (w, b) in enumerate(zip(ws, bs)):
            if w.ndim != 2:
                raise ValueError(f"layer {i}: weight must be 2-D (out, in), got shape {w.shape}")
            if b.shape != (w.shape[0],):
                raise ValueError(
                    f"layer {i}: bias shape {b.shape} does not match weight shape {w.shape}"
                )
            if i and w.shape[1] != ws[i - 1].shape[0]:
                raise ValueError(
                    f"layer {i}: weight takes {w.shape[1]} inputs but layer {i - 1} gives "
                    f"{ws[i - 1].shape[0]}"
                )
            if not (np.isfinite(w).all() and np.isfinite(b).all()):
                raise ValueError(f"layer {i}: weights or biases contain NaN or inf")
        slopes = list(self.slopes) if self.slopes else [0.0] * (len(ws) - 1)
        if len(slopes) != len(ws) - 1:
            raise ValueError(f"need {len(ws) - 1} activation slopes, got {len(slopes)}")
        object.__setattr__(self, "weights", ws)
        object.__setattr__(self, "biases", bs)
        object.__setattr__(self, "slopes", [float(s) for s in slopes])

    @property
    def widths(self) -> tuple[int, ...]:
        """Layer widths ``(d, n_1, ..., n_out)``."""
        return (self.weights[0].shape[1],) + tuple(w.shape[0] for w in self.weights)

    @property
    def input_dim(self) -> int:
        """Input dimension ``d``."""
        return self.weights[0].shape[1]

    @property
    def output_dim(self) -> int:
        """Output dimension."""
        return self.weights[-1].shape[0]

    @property
    def hidden_widths(self) -> tuple[int, ...]:
        """Widths of the hidden (activated) layers."""
        return self.widths[1:-1]

    @property
    def n_neurons(self) -> int:
        """Number of hidden neurons (the length of an activation pattern)."""
        return int(sum(self.hidden_widths))

    @property
    def layer_of_neuron(self) -> np.ndarray:
        """Hidden layer index (0-based) of each neuron, in pattern order."""
        return np.repeat(np.arange(len(self.hidden_widths)), self.hidden_widths)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Evaluate the network on a batch ``x`` of shape ``(n, d)`` in float64."""
        h = check_points(x, self.input_dim)
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ w.T + b
            if i < len(self.slopes):
                h = np.where(h > 0, h, self.slopes[i] * h)
        return h

    def to_list(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The layers as a list of ``(W, b)`` pairs."""
        return list(zip(self.weights, self.biases))

    def fingerprint(self) -> str:
        """A short hash of the weights, to tie saved complexes to their network."""
        import hashlib

        h = hashlib.sha256()
        for a in [*self.weights, *self.biases, np.asarray(self.slopes)]:
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()[:16]


def check_points(x: Any, d: int) -> np.ndarray:
    """Return ``x`` as a float64 array of shape ``(n, d)``; a single point becomes ``(1, d)``."""
    arr = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)
    shape = arr.shape
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != d:
        raise ValueError(f"expected points of shape (n, {d}) or ({d},), got shape {shape}")
    if not np.isfinite(arr).all():
        raise ValueError("points contain NaN or inf")
    return arr


def mlp(widths: Sequence[int], seed: int | None = 0, leaky: float | None = None) -> Any:
    """A ``torch.nn.Sequential`` of ``Linear`` and ``ReLU`` layers with PyTorch's default init.

    Parameters
    ----------
    widths : sequence of int
        ``[d, n_1, ..., n_k, out]``.
    seed : int or None
        ``torch.manual_seed(seed)`` is called first (skipped for ``None``).
    leaky : float, optional
        Use ``LeakyReLU(leaky)`` instead of ``ReLU``.

    Examples
    --------
    >>> net = mlp([2, 4, 1], seed=0)
    >>> [type(m).__name__ for m in net]
    ['Linear', 'ReLU', 'Linear']
    """
    import torch
    from torch import nn

    widths = [int(w) for w in widths]
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"widths must list at least two positive sizes, got {widths}")
    if seed is not None:
        torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(nn.ReLU() if leaky is None else nn.LeakyReLU(leaky))
    return nn.Sequential(*layers)


def _flatten_modules(module: Any) -> Iterable[Any]:
    from torch import nn

    if isinstance(module, nn.Sequential):
        for m in module:
            yield from _flatten_modules(m)
    else:
        yield module


def _module_ops(module: Any) -> list[tuple[str, Any]]:
    """Translate a torch module into a list of ('affine', (W, b) | None) / ('act', slope) ops."""
    from torch import nn

    ops: list[tuple[str, Any]] = []
    width: int | None = None
    for i, m in enumerate(_flatten_modules(module)):
        name = type(m).__name__
        if isinstance(m, nn.Linear):
            w = m.weight.detach().cpu().double().numpy()
            b = (
                m.bias.detach().cpu().double().numpy()
                if m.bias is not None
                else np.zeros(w.shape[0])
            )
            ops.append(("affine", (w, b)))
            width = w.shape[0]
        elif isinstance(m, nn.BatchNorm1d):
            if m.running_mean is None or m.running_var is None:
                raise UnsupportedLayerError(
                    f"layer {i} ({name}) has no running statistics (track_running_stats=False); "
                    "only BatchNorm1d with running statistics can be folded"
                )
            if m.training:
                raise UnsupportedLayerError(
                    f"layer {i} ({name}) is in training mode; call net.eval() first so that "
                    "BatchNorm1d uses its running statistics"
                )
            scale = 1.0 / np.sqrt(m.running_var.detach().cpu().double().numpy() + m.eps)
            mean = m.running_mean.detach().cpu().double().numpy()
            if m.affine:
                scale = scale * m.weight.detach().cpu().double().numpy()
                shift = m.bias.detach().cpu().double().numpy() - mean * scale
            else:
                shift = -mean * scale
            ops.append(("affine", (np.diag(scale), shift)))
            width = scale.shape[0]
        elif isinstance(m, (nn.Identity, nn.Dropout, nn.Flatten)):
            if isinstance(m, nn.Dropout) and m.training and m.p > 0:
                raise UnsupportedLayerError(
                    f"layer {i} ({name}) is in training mode; call net.eval() first"
                )
            continue
        elif isinstance(m, nn.ReLU):
            ops.append(("act", 0.0))
        elif isinstance(m, nn.LeakyReLU):
            ops.append(("act", float(m.negative_slope)))
        else:
            raise UnsupportedLayerError(
                f"layer {i} ({name}) is not supported; supported layers: {_SUPPORTED}"
            )
    del width
    return ops


def _fold(ops: list[tuple[str, Any]], d: int | None) -> ReLUNetwork:
    """Fold consecutive affine ops into one and build the canonical stack."""
    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    slopes: list[float] = []
    cur: tuple[np.ndarray, np.ndarray] | None = None
    for kind, val in ops:
        if kind == "affine":
            w, b = val
            if cur is None:
                cur = (w, b)
            else:
                cw, cb = cur
                if w.shape[1] != cw.shape[0]:
                    raise ValueError(
                        f"layer shapes do not chain: {cw.shape[0]} outputs into a layer taking "
                        f"{w.shape[1]} inputs"
                    )
                cur = (w @ cw, w @ cb + b)
        else:
            if cur is None:
                # an activation with no affine map before it: identity map
                n = weights[-1].shape[0] if weights else d
                if n is None:
                    raise UnsupportedLayerError(
                        "the network starts with an activation; its input width is unknown "
                        "(start with a Linear layer)"
                    )
                cur = (np.eye(n), np.zeros(n))
            weights.append(cur[0])
            biases.append(cur[1])
            slopes.append(val)
            cur = None
    if cur is None:
        if not weights:
            raise UnsupportedLayerError("the network has no Linear layer")
        n = weights[-1].shape[0]
        cur = (np.eye(n), np.zeros(n))
    weights.append(cur[0])
    biases.append(cur[1])
    return ReLUNetwork(weights, biases, slopes)


def as_network(net: Any, check: bool = True, seed: int = 0) -> ReLUNetwork:
    """Normalise a network into a canonical float64 :class:`ReLUNetwork`.

    Parameters
    ----------
    net : torch.nn.Module, ReLUNetwork or list of (W, b)
        A ``torch.nn.Sequential`` (nested allowed) of supported layers, an
        existing :class:`ReLUNetwork`, or a list of ``(W, b)`` pairs (ReLU
        between consecutive pairs, none after the last).
    check : bool
        Compare the canonical forward pass with the module's on random inputs.
    seed : int
        Seed of the random check inputs.

    Raises
    ------
    UnsupportedLayerError
        For a layer that cannot be expressed as affine maps and (leaky) ReLUs.
    ValueError
        For NaN/inf weights or shapes that do not chain.

    Examples
    --------
    >>> import complexlib as cl
    >>> net = cl.as_network(cl.mlp([3, 5, 2], seed=1))
    >>> net.widths, net.n_neurons
    ((3, 5, 2), 5)
    """
    if isinstance(net, ReLUNetwork):
        return net
    if isinstance(net, (list, tuple)):
        try:
            pairs = [
                (np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)) for w, b in net
            ]
        except (TypeError, ValueError) as exc:
            raise ValueError(
                "a network given as a list must be a list of (W, b) pairs of arrays"
            ) from exc
        return ReLUNetwork([w for w, _ in pairs], [b for _, b in pairs])
    try:
        from torch import nn
    except ImportError as exc:  # pragma: no cover - torch is a dependency
        raise ImportError("torch is required to import torch modules") from exc
    if not isinstance(net, nn.Module):
        raise TypeError(
            f"cannot build a ReLU network from {type(net).__name__}; give a torch.nn.Sequential, "
            "a list of (W, b) pairs or a ReLUNetwork"
        )
    if isinstance(net, (nn.Linear,)):
        net = nn.Sequential(net)
    if not isinstance(net, nn.Sequential):
        raise UnsupportedLayerError(
            f"{type(net).__name__} is not a torch.nn.Sequential; wrap the layers in one "
            f"(supported: {_SUPPORTED})"
        )
    if any(not np.isfinite(p.detach().cpu().double().numpy()).all() for p in net.parameters()):
        raise ValueError("the network's parameters contain NaN or inf")
    ops = _module_ops(net)
    canon = _fold(ops, None)
    if check:
        _check_forward(net, canon, seed)
    return canon


def _check_forward(module: Any, canon: ReLUNetwork, seed: int) -> None:
    import torch

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, canon.input_dim)) * np.repeat([0.1, 1.0, 10.0, 100.0], 16)[:, None]
    try:
        param = next(module.parameters())
        dtype, device = param.dtype, param.device
    except StopIteration:
        dtype, device = torch.float32, torch.device("cpu")
    with torch.no_grad():
        ref = module(torch.as_tensor(x, dtype=dtype, device=device)).double().cpu().numpy()
    ours = canon.forward(x)
    if ref.shape != ours.shape:
        raise UnsupportedLayerError(
            f"the module maps (64, {canon.input_dim}) inputs to {tuple(ref.shape)}, but its layers "
            f"were read as a map to {ours.shape}; only flat (n, d) inputs are supported"
        )
    rtol = 1e-4 if dtype != torch.float64 else 1e-9
    scale = np.abs(ref).max() + 1.0
    if not np.allclose(ours, ref, rtol=rtol, atol=rtol * scale):
        err = np.abs(ours - ref).max()
        raise UnsupportedLayerError(
            f"the canonical float64 copy disagrees with the module's forward pass (max error "
            f"{err:.3g}); the module may do more than its listed layers (supported: {_SUPPORTED})"
        )
