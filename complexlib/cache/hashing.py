"""The forward pass of the region cache, with a 64-bit hash of each point's activation pattern.

Missed points are grouped by region with this hash (one ``torch.unique`` instead of packing
and comparing patterns); :class:`PatternHasher` computes the same hash for given patterns,
so a region linearised in float64 is found under the key its points hash to.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..network import ReLUNetwork

__all__ = ["PatternHasher", "hash_step"]


def hash_step(key: Any, pos: Any, mult: Any) -> Any:
    """Fold one layer's signs ``pos`` (bool, (m, n)) into the running int64 hash ``key``.

    The sign bytes are read as int64 words (padded to whole words) and summed with random
    odd weights, wrapping: a linear hash mod 2**64, the same on every device.

    Examples
    --------
    >>> import torch
    >>> key = torch.zeros(2, dtype=torch.int64)
    >>> pos = torch.tensor([[True, False], [False, True]])
    >>> mult = torch.tensor([3, 5, 7, 9, 11, 13, 15, 17] * 8, dtype=torch.int64)[:8]
    >>> k = hash_step(key, pos, mult)
    >>> bool(k[0] != k[1])
    True
    """
    import torch

    m, n = pos.shape
    pad = (-n) % 64
    if pad:
        pos = torch.cat([pos, pos.new_zeros((m, pad))], dim=1)
    words = pos.contiguous().view(torch.uint8).view(torch.int64)
    return key * 1_000_003 + (words * mult).sum(dim=1)


class PatternHasher:
    """The network's layers in the cache's dtype and device, and the pattern hash.

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
        rng = np.random.default_rng(12345)
        self.mult_cpu = [
            torch.as_tensor(rng.integers(-(2**62), 2**62, size=(w + 63) // 64 * 8) | 1)
            for w in net.hidden_widths
        ]
        self.mult = [m.to(device) for m in self.mult_cpu]

    def forward(self, y: Any, keys: bool = True) -> tuple[Any, Any]:
        """Outputs and pattern hashes (int64; ``None`` if not asked for)."""
        import torch

        h = y
        key = torch.zeros(y.shape[0], dtype=torch.int64, device=self.device) if keys else None
        last = len(self.layers) - 1
        for i, (w, b) in enumerate(self.layers):
            z = torch.addmm(b, h, w)
            if i == last:
                h = z
                break
            if key is not None:
                key = hash_step(key, z > 0, self.mult[i])
            slope = self.net.slopes[i]
            h = z.clamp_min_(0.0) if slope == 0.0 else torch.where(z > 0, z, slope * z)
        return h, key

    def keys_of(self, patterns: np.ndarray) -> np.ndarray:
        """The hash :meth:`forward` gives, for canonical +1/-1 patterns ``(n, n_neurons)``."""
        import torch

        pos = torch.from_numpy(np.ascontiguousarray(patterns > 0))
        key = torch.zeros(pos.shape[0], dtype=torch.int64)
        start = 0
        for i, w in enumerate(self.net.hidden_widths):
            key = hash_step(key, pos[:, start : start + w].contiguous(), self.mult_cpu[i])
            start += w
        return key.numpy()
