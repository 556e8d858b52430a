"""Columnar region store and its file format.

Regions are rows of a few arrays, never one Python object each.  Ids are
given at discovery; the first ``n_done`` ids are the processed regions (the
complex), the rest are the search frontier.

File format (``.npz``, read with ``allow_pickle=False``), version 1:

==================  =====================  =========================================
key                 dtype, shape           meaning
==================  =====================  =========================================
``format``          str                    ``"complexlib.complex"``
``version``         int64                  ``1``
``meta``            str (JSON)             widths, slopes, domain, lp, n_neurons,
                                           n_done, fingerprint, library version
``W0``, ``b0``...   float64                the canonical network
``bits``            uint8 (n, ceil(N/8))   packed patterns (``np.packbits``, +1 -> 1)
``hint``            float64 (n, d)         a point inside each discovered region
``depth``           int32 (n,)             BFS depth from the start region
``center``          float64 (n_done, d)    Chebyshev centres
``inradius``        float64 (n_done,)      Chebyshev radii (``inf``: unbounded balls)
``bounded``         bool (n_done,)         decided on the recession cone
``n_domain_facets`` int32 (n_done,)        facets on the domain's sides
``facet_ptr``       int64 (n_done + 1,)    CSR offsets into the two facet arrays
``facet_neuron``    int32 (F,)             lowest neuron index of each neuron facet
``facet_neighbor``  int64 (F,)             id of the region across each facet
==================  =====================  =========================================
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, cast

import numpy as np

__all__ = ["RegionStore", "FORMAT", "VERSION"]

FORMAT = "complexlib.complex"
VERSION = 1


class _Column:
    """An append-only array that grows by doubling."""

    def __init__(self, shape_tail: tuple[int, ...], dtype: Any) -> None:
        self.data = np.empty((16, *shape_tail), dtype=dtype)
        self.n = 0

    def extend(self, rows: np.ndarray) -> None:
        k = len(rows)
        if self.n + k > len(self.data):
            cap = max(2 * len(self.data), self.n + k)
            new = np.empty((cap, *self.data.shape[1:]), dtype=self.data.dtype)
            new[: self.n] = self.data[: self.n]
            self.data = new
        self.data[self.n : self.n + k] = rows
        self.n += k

    def view(self) -> np.ndarray:
        return self.data[: self.n]


def keys_of(bits: np.ndarray) -> list[bytes]:
    """Each row of packed patterns as ``bytes`` (the store's index keys), in one C loop.

    Examples
    --------
    >>> keys_of(np.array([[160, 1], [0, 2]], dtype=np.uint8))
    [b'\\xa0\\x01', b'\\x00\\x02']
    """
    b = np.ascontiguousarray(np.atleast_2d(bits), dtype=np.uint8)
    if b.shape[1] == 0:
        return [b""] * len(b)
    return cast("list[bytes]", b.view(np.dtype((np.void, b.shape[1]))).ravel().tolist())


class RegionStore:
    """Columnar storage of discovered and processed regions.

    Examples
    --------
    >>> import numpy as np
    >>> st = RegionStore(n_neurons=3, d=2)
    >>> st.discover(np.array([[160]], dtype=np.uint8), np.zeros((1, 2)), np.zeros(1, np.int32))
    array([0])
    >>> st.n_discovered, st.n_done
    (1, 0)
    """

    def __init__(self, n_neurons: int, d: int) -> None:
        self.n_neurons = n_neurons
        self.d = d
        nbytes = (n_neurons + 7) // 8
        self.bits = _Column((nbytes,), np.uint8)
        self.hint = _Column((d,), np.float64)
        self.depth = _Column((), np.int32)
        self.center = _Column((d,), np.float64)
        self.inradius = _Column((), np.float64)
        self.bounded = _Column((), np.bool_)
        self.n_domain_facets = _Column((), np.int32)
        self.facet_ptr = _Column((), np.int64)
        self.facet_ptr.extend(np.zeros(1, dtype=np.int64))
        self.facet_neuron = _Column((), np.int32)
        self.facet_neighbor = _Column((), np.int64)
        self.index: dict[bytes, int] = {}

    # -- discovery -------------------------------------------------------
    @property
    def n_discovered(self) -> int:
        return self.bits.n

    @property
    def n_done(self) -> int:
        return self.center.n

    def lookup(self, bits: np.ndarray) -> np.ndarray:
        """Ids of packed patterns (``-1`` for unknown ones)."""
        get = self.index.get
        return np.fromiter((get(k, -1) for k in keys_of(bits)), dtype=np.int64)

    def discover(self, bits: np.ndarray, hints: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Add new patterns (they must be unknown); returns their ids."""
        ids = np.arange(self.n_discovered, self.n_discovered + len(bits))
        self.index.update(zip(keys_of(bits), ids.tolist()))
        self.bits.extend(bits)
        self.hint.extend(hints)
        self.depth.extend(depth)
        return ids

    def complete(
        self,
        center: np.ndarray,
        inradius: np.ndarray,
        bounded: np.ndarray,
        n_domain_facets: np.ndarray,
        facet_ptr: np.ndarray,
        facet_neuron: np.ndarray,
        facet_neighbor: np.ndarray,
    ) -> None:
        """Record the geometry of the next ``len(center)`` regions in id order."""
        base = self.facet_ptr.view()[-1]
        self.center.extend(center)
        self.inradius.extend(inradius)
        self.bounded.extend(bounded)
        self.n_domain_facets.extend(n_domain_facets)
        self.facet_ptr.extend(base + facet_ptr[1:])
        self.facet_neuron.extend(facet_neuron)
        self.facet_neighbor.extend(facet_neighbor)

    # -- IO --------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """The store's arrays by file key."""
        return {
            "bits": self.bits.view(),
            "hint": self.hint.view(),
            "depth": self.depth.view(),
            "center": self.center.view(),
            "inradius": self.inradius.view(),
            "bounded": self.bounded.view(),
            "n_domain_facets": self.n_domain_facets.view(),
            "facet_ptr": self.facet_ptr.view(),
            "facet_neuron": self.facet_neuron.view(),
            "facet_neighbor": self.facet_neighbor.view(),
        }

    @classmethod
    def from_arrays(cls, n_neurons: int, d: int, arrs: dict[str, np.ndarray]) -> RegionStore:
        st = cls(n_neurons, d)
        st.bits.extend(arrs["bits"])
        st.hint.extend(arrs["hint"])
        st.depth.extend(arrs["depth"])
        st.center.extend(arrs["center"])
        st.inradius.extend(arrs["inradius"])
        st.bounded.extend(arrs["bounded"])
        st.n_domain_facets.extend(arrs["n_domain_facets"])
        st.facet_ptr = _Column((), np.int64)
        st.facet_ptr.extend(arrs["facet_ptr"])
        st.facet_neuron.extend(arrs["facet_neuron"])
        st.facet_neighbor.extend(arrs["facet_neighbor"])
        st.index = {row.tobytes(): i for i, row in enumerate(st.bits.view())}
        return st


def write_npz(path: str | os.PathLike, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` and JSON ``meta`` atomically (temporary file, then rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    payload = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION, dtype=np.int64),
        "meta": np.array(json.dumps(meta)),
        **arrays,
    }
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, **payload)  # type: ignore[arg-type]
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_npz(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a file written by :func:`write_npz`; checks format and version."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError) as exc:
        raise ValueError(f"{path} is not a complexlib file (npz): {exc}") from exc
    if "format" not in arrays or str(arrays["format"]) != FORMAT:
        raise ValueError(f"{path} is not a complexlib complex file (no format key {FORMAT!r})")
    version = int(arrays["version"])
    if version > VERSION:
        raise ValueError(
            f"{path} has format version {version}; this complexlib reads up to {VERSION}, "
            "upgrade complexlib"
        )
    meta = json.loads(str(arrays.pop("meta")))
    arrays.pop("format")
    arrays.pop("version")
    return meta, arrays
