"""The forward pass of the region cache, with a 64-bit hash of each point's activation pattern.

Missed points are grouped by region with this hash (one ``np.unique`` instead of packing
and comparing patterns); :class:`PatternHasher` computes the same hash for given patterns,
so a region linearised in float64 is found under the key its points hash to.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..network import ReLUNetwork

__all__ = ["PatternHasher", "hash_step", "hash_step_np", "NUMPY_ROWS"]

#: Missed batches up to this many points run the CPU forward pass in numpy.
NUMPY_ROWS = 256


def hash_step(key: Any, pos: Any, mult: Any) -> Any:
    """Fold one layer's signs ``pos`` (bool, (m, n)) into the running int64 hash ``key``.

    The sign bytes are read as int64 words (padded to whole words) and summed with random
    odd weights, wrapping: a linear hash mod 2**64, the same on every device and in numpy
    (:func:`hash_step_np`).

    Examples
    --------
    >>> import torch
    >>> key = torch.zeros(2, dtype=torch.int64)
    >>> pos = torch.tensor([[True, False], [False, True]])
    >>> mult = torch.tensor([3, 5, 7, 9, 11, 13, 15, 17] * 8, dtype=torch.int64)[:8]
    >>> k = hash_step(key, pos, mult)
    >>> bool(k[0] != k[1])
    True
    >>> bool((hash_step_np(key.numpy(), pos.numpy(), mult.numpy()) == k.numpy()).all())
    True
    """
    import torch

    m, n = pos.shape
    pad = (-n) % 64
    if pad:
        pos = torch.cat([pos, pos.new_zeros((m, pad))], dim=1)
    words = pos.contiguous().view(torch.uint8).view(torch.int64)
    return key * 1_000_003 + (words * mult).sum(dim=1)


def hash_step_np(key: np.ndarray, pos: np.ndarray, mult: np.ndarray) -> np.ndarray:
    """:func:`hash_step` in numpy (int64 arithmetic wraps alike)."""
    m, n = pos.shape
    words = np.zeros((m, n + (-n) % 64), dtype=bool)
    words[:, :n] = pos
    w = words.view(np.uint8).view(np.int64)
    return key * 1_000_003 + (w * mult).sum(axis=1)


class PatternHasher:
    """The network's layers in the cache's dtype and device, and the pattern hash.

    On the CPU the forward pass of a few missed points runs in numpy (on views of the same
    layers): a handful of torch calls right after a user's forward pass cost more than the
    arithmetic.

    Examples
    --------
    >>> import numpy as np, torch
    >>> import complexlib as cl
    >>> net = cl.as_network(cl.mlp([2, 5, 1], seed=0))
    >>> h = PatternHasher(net, torch.device("cpu"), torch.float64)
    >>> x = torch.tensor([[0.3, -0.2]], dtype=torch.float64)
    >>> out, key = h.forward(x)
    >>> pat = cl.patterns.patterns_of(net, x.numpy())
    >>> bool(key[0] == h.keys_of(pat)[0])
    True
    """

    def __init__(self, net: ReLUNetwork, device: Any, dtype: Any) -> None:
        import torch

        self.net, self.device = net, device
        self.layers = [
            (
                torch.as_tensor(w.T, dtype=dtype, device=device).contiguous(),
                torch.as_tensor(b, dtype=dtype, device=device),
            )
            for w, b in zip(net.weights, net.biases)
        ]
        self.np_layers = (
            [(w.numpy(), b.numpy()) for w, b in self.layers] if device.type == "cpu" else None
        )
        rng = np.random.default_rng(12345)
        self.mult_np = [
            rng.integers(-(2**62), 2**62, size=(w + 63) // 64 * 8) | 1 for w in net.hidden_widths
        ]
        self.mult = [torch.as_tensor(m, device=device) for m in self.mult_np]

    def forward(self, y: Any, keys: bool = True) -> tuple[Any, np.ndarray | None]:
        """Outputs (a tensor like ``y``) and pattern hashes (int64 numpy; ``None`` if not
        asked for)."""
        import torch

        if self.np_layers is not None and y.shape[0] <= NUMPY_ROWS:
            out, key = self._forward_np(y.numpy(), keys)
            return torch.from_numpy(out), key
        h = y
        key_t = torch.zeros(y.shape[0], dtype=torch.int64, device=self.device) if keys else None
        last = len(self.layers) - 1
        for i, (w, b) in enumerate(self.layers):
            z = torch.addmm(b, h, w)
            if i == last:
                h = z
                break
            if key_t is not None:
                key_t = hash_step(key_t, z > 0, self.mult[i])
            slope = self.net.slopes[i]
            h = z.clamp_min_(0.0) if slope == 0.0 else torch.where(z > 0, z, slope * z)
        return h, (key_t.cpu().numpy() if key_t is not None else None)

    def _forward_np(self, y: np.ndarray, keys: bool) -> tuple[np.ndarray, np.ndarray | None]:
        layers = self.np_layers or []
        h = y
        key = np.zeros(y.shape[0], dtype=np.int64) if keys else None
        last = len(layers) - 1
        for i, (w, b) in enumerate(layers):
            z = h @ w
            z += b
            if i == last:
                return z, key
            if key is not None:
                key = hash_step_np(key, z > 0, self.mult_np[i])
            slope = self.net.slopes[i]
            h = np.maximum(z, 0.0, out=z) if slope == 0.0 else np.where(z > 0, z, slope * z)
        return h, key

    def keys_of(self, patterns: np.ndarray) -> np.ndarray:
        """The hash :meth:`forward` gives, for canonical +1/-1 patterns ``(n, n_neurons)``."""
        pos = patterns > 0
        key = np.zeros(pos.shape[0], dtype=np.int64)
        start = 0
        for i, w in enumerate(self.net.hidden_widths):
            key = hash_step_np(key, pos[:, start : start + w], self.mult_np[i])
            start += w
        return key
