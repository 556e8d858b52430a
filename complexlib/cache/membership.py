"""Exact membership of query points in cached regions, and the answer ``f(y)`` on a hit.

A region is stored around the point ``x0`` that created it (see
:mod:`complexlib.cache.store`): ``y`` lies in it if ``|y - x0| < r0`` (the ball around
``x0`` inside the region), else, if ``|y - x0| < rho``, iff it satisfies the ``K`` kept
rows ``a_j . (y - x0) <= delta_j`` (every hyperplane not kept is farther than ``rho``, so
``y`` is on ``x0``'s side of it).  Each comparison keeps a margin for rounding:

* ``MARGIN_ULPS * (d + 3) * eps`` relative to ``|y - x0|`` and ``delta_j`` for the
  arithmetic in the cache's dtype (``eps`` its machine epsilon);
* ``2**-24 |y - x0|`` for the float32 rounding of the stored unit normals
  (``|(a' - a) . v| <= 2**-24 |a| |v|``); the offsets are rounded down when stored;
* ``MARGIN_ULPS * eps64 * max |y|`` for the float64 rounding of the offsets themselves.

A point within the margins of a boundary is a miss and gets the forward pass: never a
wrong answer.  Functions come in torch (batched, any device) and numpy (small batches on
the CPU, where the fixed cost of a torch operation dominates) versions over the same arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .store import RegionStore

__all__ = ["contains", "contains_np", "evaluate", "evaluate_np", "MARGIN_ULPS"]

#: Multiple of the dtype's machine epsilon used as the rounding margin of every test.
MARGIN_ULPS = 4.0
_EPS64 = float(np.finfo(np.float64).eps)
#: Unit roundoff of float32: the relative error of a stored normal's entries.
_U32 = 2.0**-24


def contains(store: RegionStore, y: Any, cand: Any, eps: float) -> tuple[Any, Any, Any]:
    """Whether ``y[i]`` lies in region ``cand[i]`` (``-1``: no candidate), decided exactly.

    Returns ``(inside, h, diff)``: the mask, the candidates' header rows and ``y - x0``,
    from which :func:`evaluate` gives the answers without gathering again.
    """
    import torch

    d = store.d
    valid = cand >= 0
    s = cand.clamp(min=0)
    h = store.hdr.index_select(0, s)
    diff = y - h[:, :d]
    dist = torch.linalg.vector_norm(diff, dim=1)
    c = MARGIN_ULPS * (d + 3) * eps
    base = MARGIN_ULPS * _EPS64 * torch.linalg.vector_norm(y, dim=1).amax() if y.numel() else 0.0
    tol = c * dist + base
    inner = valid & (dist + tol < h[:, d])
    need = valid & ~inner & (dist + tol < h[:, d + 1])
    idx = need.nonzero().squeeze(1)
    if idx.numel():
        si = s.index_select(0, idx)
        a = store.ra.index_select(0, si).to(y.dtype)
        di = diff.index_select(0, idx)
        v = torch.bmm(a, di.unsqueeze(2)).squeeze(2)
        rd = store.rd.index_select(0, si).to(y.dtype)
        dd = dist.index_select(0, idx).unsqueeze(1)
        t = (c + _U32) * dd + c * rd + base
        inner.index_copy_(0, idx, (rd - t - v).amin(dim=1) > 0)
    return inner, h, diff


def evaluate(store: RegionStore, h: Any, diff: Any) -> Any:
    """``f(x0) + W (y - x0)`` from gathered header rows ``h`` and ``diff = y - x0``."""
    d, o = store.d, store.n_out
    W = h[:, d + 2 + o :].unflatten(1, (o, d))
    return h[:, d + 2 : d + 2 + o] + (W @ diff.unsqueeze(2)).squeeze(2)


def contains_np(
    store: RegionStore, y: np.ndarray, cand: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`contains` in numpy, for a CPU store (same arrays, same margins)."""
    hdr, ra, rd_all = store.np_hdr, store.np_ra, store.np_rd
    if hdr is None or ra is None or rd_all is None:
        raise RuntimeError("contains_np needs a store on the CPU")
    d = store.d
    valid = cand >= 0
    s = np.maximum(cand, 0)
    h = hdr[s]
    diff = y - h[:, :d]
    dist = np.sqrt((diff * diff).sum(axis=1))
    c = MARGIN_ULPS * (d + 3) * eps
    base = MARGIN_ULPS * _EPS64 * float(np.sqrt((y * y).sum(axis=1)).max()) if y.size else 0.0
    tol = c * dist + base
    inner = valid & (dist + tol < h[:, d])
    need = valid & ~inner & (dist + tol < h[:, d + 1])
    idx = np.nonzero(need)[0]
    if idx.size:
        si = s[idx]
        vals = np.einsum("nkd,nd->nk", ra[si].astype(y.dtype), diff[idx])
        rd = rd_all[si].astype(y.dtype)
        t = (c + _U32) * dist[idx, None] + c * rd + base
        inner[idx] = (rd - t - vals).min(axis=1) > 0
    return inner, h, diff


def evaluate_np(store: RegionStore, h: np.ndarray, diff: np.ndarray) -> np.ndarray:
    """:func:`evaluate` in numpy."""
    d, o = store.d, store.n_out
    W = h[:, d + 2 + o :].reshape(-1, o, d)
    return h[:, d + 2 : d + 2 + o] + np.einsum("nod,nd->no", W, diff)
