"""A sorted-array index from 64-bit pattern hashes to store slots.

A Python ``dict`` of ints costs about 100 bytes an entry; two aligned numpy arrays (sorted
keys, int32 slots) cost 12, and look up a whole batch of keys with one ``searchsorted``.
Inserting is a merge (``O(n)`` copies per batch of new regions), which regions are
inserted in.
"""

from __future__ import annotations

import numpy as np

__all__ = ["KeyIndex"]


class KeyIndex:
    """Map int64 keys to int slots; a key set again points to its newest slot.

    Examples
    --------
    >>> ix = KeyIndex()
    >>> ix.set(np.array([7, -3, 7]), np.array([0, 1, 2]))
    >>> ix.get(np.array([7, -3, 5])).tolist()
    [2, 1, -1]
    >>> ix.discard(np.array([7]), np.array([0]))     # slot 0 no longer holds key 7
    >>> len(ix), ix.get(np.array([7])).tolist()
    (2, [2])
    >>> ix.discard(np.array([7]), np.array([2]))
    >>> len(ix), ix.get(np.array([7])).tolist()
    (1, [-1])
    """

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)
        self.slots = np.zeros(0, dtype=np.int32)

    def __len__(self) -> int:
        return int(self.keys.size)

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.slots.nbytes)

    def _where(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.searchsorted(self.keys, keys)
        safe = np.minimum(pos, max(self.keys.size - 1, 0))
        found = (
            (pos < self.keys.size) & (self.keys[safe] == keys)
            if self.keys.size
            else (np.zeros(keys.shape, dtype=bool))
        )
        return pos, found

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The slot of each key, ``-1`` where absent."""
        keys = np.asarray(keys, dtype=np.int64)
        pos, found = self._where(keys)
        out = np.full(keys.shape, -1, dtype=np.int64)
        out[found] = self.slots[pos[found]]
        return out

    def set(self, keys: np.ndarray, slots: np.ndarray) -> None:
        """Point ``keys`` to ``slots`` (the last of repeated keys wins)."""
        keys = np.asarray(keys, dtype=np.int64)
        slots = np.asarray(slots, dtype=np.int64)
        if not keys.size:
            return
        # the last occurrence of each key in this batch
        rev_k, rev_i = np.unique(keys[::-1], return_index=True)
        last = keys.size - 1 - rev_i
        keys, slots = rev_k, slots[last]
        pos, found = self._where(keys)
        self.slots[pos[found]] = slots[found]
        new = ~found
        if new.any():
            self.keys = np.insert(self.keys, pos[new], keys[new])
            self.slots = np.insert(self.slots, pos[new], slots[new].astype(np.int32))

    def discard(self, keys: np.ndarray, slots: np.ndarray) -> None:
        """Remove each key that still points to the given slot."""
        keys = np.asarray(keys, dtype=np.int64)
        if not keys.size or not self.keys.size:
            return
        pos, found = self._where(keys)
        hit = found & (self.slots[np.minimum(pos, self.keys.size - 1)] == np.asarray(slots))
        if hit.any():
            drop = np.unique(pos[hit])
            self.keys = np.delete(self.keys, drop)
            self.slots = np.delete(self.slots, drop)
