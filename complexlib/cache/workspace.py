"""Scratch arrays kept between lookups, for the largest temporaries of a batch.

A lookup of a few thousand points makes a handful of arrays of a megabyte or so (the score
of every point against every recent region, the gathered header rows).  Allocated afresh
each call, such arrays come from ``mmap`` or a heap the allocator has just trimmed, and the
first write to every page faults: measured here, that was a quarter of a lookup right after
a forward pass (which frees its own large buffers).  A :class:`Workspace` keeps one array
per name and hands out views of it, growing it when a larger batch comes.
"""

from __future__ import annotations

from math import prod

import numpy as np

__all__ = ["Workspace", "MAX_BYTES"]

#: requests larger than this get a fresh array (a huge batch amortises its allocation)
MAX_BYTES = 64 << 20


class Workspace:
    """Named scratch arrays reused from call to call.

    A view handed out stays valid until the next :meth:`get` of the same name.

    Examples
    --------
    >>> ws = Workspace()
    >>> a = ws.get("score", (4, 3), np.float64)
    >>> b = ws.get("score", (2, 5), np.float64)  # the same memory, another shape
    >>> b.shape, np.shares_memory(a, b), ws.nbytes
    ((2, 5), True, 96)
    """

    def __init__(self) -> None:
        self._bufs: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        """An uninitialised array of ``shape`` and ``dtype``, on memory kept under ``name``."""
        dtype = np.dtype(dtype)
        n = prod(shape)
        if n * dtype.itemsize > MAX_BYTES:
            return np.empty(shape, dtype=dtype)
        buf = self._bufs.get(name)
        if buf is None or buf.dtype != dtype or buf.size < n:
            buf = self._bufs[name] = np.empty(max(n, 1), dtype=dtype)
        return buf[:n].reshape(shape)

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return sum(b.nbytes for b in self._bufs.values())
