"""Watching a network's weights: a snapshot compared on every call of the cache.

The cache answers from maps computed with the weights it saw; if they change (an optimizer
step, ``.data`` edits, ``load_state_dict``, a switch between train and eval mode, or an
edited list of arrays) its answers would be stale, so it must notice and clear itself.
Parameters are compared by value, bit for bit (not by version counters, which edits
through ``.data`` do not bump); on the CPU as integer views in numpy, about three times
faster than ``torch.equal`` (a float comparison).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..network import ReLUNetwork

__all__ = ["WeightWatch", "WeightsChangedWarning"]


_INT_OF_SIZE = {1: np.uint8, 2: np.int16, 4: np.int32, 8: np.int64}


def _int_view(t: Any) -> np.ndarray | None:
    """The bits of a contiguous CPU tensor as a flat numpy integer array (else None)."""
    import torch

    if t.device.type != "cpu" or not t.is_contiguous() or t.is_complex():
        return None
    kind = _INT_OF_SIZE.get(t.element_size())
    if kind is None or t.dtype == torch.bfloat16:
        return None
    flat = t.numpy().reshape(-1)
    if flat.nbytes % 8 == 0 and flat.ctypes.data % 8 == 0:
        return flat.view(np.int64)  # the fewest elements to compare: the same bits
    return flat.view(kind)


def _same(a: Any, b: Any) -> bool:
    """Whether tensors ``a`` and ``b`` (same shape, dtype, device) hold the same bits.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([1.0, float("nan")])
    >>> _same(a, a.clone()), _same(a, torch.tensor([1.0, 2.0]))
    (True, False)
    """
    import torch

    av, bv = _int_view(a), _int_view(b)
    if av is not None and bv is not None:
        return bool(np.array_equal(av, bv))
    return bool(torch.equal(a, b))


class WeightsChangedWarning(UserWarning):
    """The network's weights changed after the cache was built; the cache was cleared."""


class WeightWatch:
    """A snapshot of a network's weights and a test of whether they changed since.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.eye(2)
    >>> watch = WeightWatch([(W, np.zeros(2))])
    >>> watch.changed()
    False
    >>> W[0, 1] = 1.0
    >>> watch.changed()
    True
    """

    def __init__(self, source: Any) -> None:
        import torch

        self.source = source
        self.module = isinstance(source, torch.nn.Module)
        self.snapshot()

    def snapshot(self) -> None:
        """Remember the current weights."""
        if self.module:
            # the modules are listed once; their parameters and buffers are read every call
            self.mods = list(self.source.modules())
            self.tensors = [t.detach().clone() for t in self._module_tensors()]
            self.views = [_int_view(t) for t in self.tensors]
            # numpy views of the live tensors, by data pointer: a view keeps its tensor's
            # memory alive, so a pointer seen again is the same memory, read afresh
            self.live_views: dict[tuple[int, tuple[int, ...]], np.ndarray | None] = {}
            #: per tensor, after a check that found it equal: the tensor, its (data pointer,
            #: shape, strides, dtype, device) and the integer view of its memory (the next
            #: call's fast path)
            self.seen: list[tuple[Any, Any, np.ndarray] | None] = [None] * len(self.views)
            self.modes = tuple(m.training for m in self.mods)
        else:
            self.arrays = [np.array(a, copy=True) for a in self._source_arrays()]

    def _module_tensors(self) -> list[Any]:
        return [
            t
            for m in self.mods
            for t in (*m._parameters.values(), *m._buffers.values())
            if t is not None
        ]

    def _source_arrays(self) -> list[np.ndarray]:
        src = self.source
        if isinstance(src, ReLUNetwork):
            return [*src.weights, *src.biases, np.asarray(src.slopes)]
        return [np.asarray(a, dtype=np.float64) for pair in src for a in pair]

    def changed(self) -> bool:
        """Whether any weight, buffer, shape or train/eval mode differs from the snapshot."""

        if self.module:
            cur = self._module_tensors()
            if len(cur) != len(self.tensors):
                return True
            if tuple(m.training for m in self.mods) != self.modes:
                return True
            seen = self.seen
            for i, (a, b, bv) in enumerate(zip(cur, self.tensors, self.views)):
                s = seen[i]
                # the same tensor object on the same memory, with the same shape, strides,
                # dtype and device as last time: only its values can have changed
                here = (a.data_ptr(), a.shape, a.stride(), a.dtype, a.device)
                if s is not None and bv is not None and s[0] is a and s[1] == here:
                    if not np.array_equal(s[2], bv):
                        return True
                    continue
                seen[i] = None
                if a.shape != b.shape or a.dtype != b.dtype or a.device != b.device:
                    return True
                av = None
                if bv is not None:
                    key = (a.data_ptr(), a.stride())
                    av = self.live_views.get(key)
                    if av is None or av.size != bv.size:
                        if len(self.live_views) > 4 * len(self.views):
                            self.live_views.clear()  # tensors replaced by equal copies
                        av = self.live_views[key] = _int_view(a.detach())
                if av is not None and bv is not None:
                    if not np.array_equal(av, bv):
                        return True
                    seen[i] = (a, here, av)
                elif not _same(a.detach(), b):
                    return True
            return False
        try:
            cur_np = self._source_arrays()
        except (TypeError, ValueError):
            return True
        if len(cur_np) != len(self.arrays):
            return True
        return not all(
            a.shape == b.shape and np.array_equal(a, b) for a, b in zip(cur_np, self.arrays)
        )
