"""Exact membership of query points in cached regions, and the answer ``f(y)`` on a hit.

A region is stored around the point ``x0`` that created it (see
:mod:`complexlib.cache.store`): ``y`` lies in it if ``|y - x0| < r0`` (the ball around
``x0`` inside the region), else, if ``|y - x0| < rho``, iff it satisfies the ``K`` kept
rows ``a_j . (y - x0) <= delta_j`` (every hyperplane not kept is farther than ``rho``, so
``y`` is on ``x0``'s side of it).  Each comparison keeps a margin for rounding:

* ``MARGIN_ULPS * (d + 3) * eps`` relative to ``|y - x0|`` and ``delta_j`` for the
  arithmetic in the cache's dtype (``eps`` its machine epsilon);
* ``normal_err |y - x0|`` for the 16-bit rounding of the stored unit normals
  (``|(a' - a) . v| <= |a' - a| |v|``, see :func:`~complexlib.cache.store.normal_codec`);
  the offsets are rounded down when stored;
* ``MARGIN_ULPS * eps64 * max |y|`` for the float64 rounding of the offsets themselves.

A point within the margins of a boundary is a miss and gets the forward pass: never a
wrong answer.  Functions come in torch (batched, any device) and numpy (small batches on
the CPU, where the fixed cost of a torch operation dominates) versions over the same arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..reductions import row_max
from .store import RegionStore

__all__ = [
    "contains",
    "contains_np",
    "evaluate",
    "evaluate_np",
    "offset_margin",
    "offset_margin_np",
    "MARGIN_ULPS",
]

#: Multiple of the dtype's machine epsilon used as the rounding margin of every test.
MARGIN_ULPS = 4.0
_EPS64 = float(np.finfo(np.float64).eps)
#: Rows with ``delta_j > ROW_SLACK |y - x0|`` plus the margins cannot be violated by ``y``.
ROW_SLACK = 1.01


def offset_margin(y: Any) -> Any:
    """The margin for the float64 rounding of stored offsets: ``MARGIN_ULPS eps64 sqrt(d)
    max |y_k|``, at least ``MARGIN_ULPS eps64 max |y|`` (non-finite if an entry is).

    A lookup computes it once for its whole batch and hands it to every :func:`contains`
    (the largest entry of the batch bounds that of any subset).  The largest entry, not the
    largest norm: two reductions over the batch instead of one along each of its short rows.
    """
    if not y.numel():
        return 0.0
    return MARGIN_ULPS * _EPS64 * y.shape[1] ** 0.5 * y.abs().amax()


def offset_margin_np(y: np.ndarray) -> float:
    """:func:`offset_margin` of a numpy batch (a float; NaN or inf if an entry is).

    Examples
    --------
    >>> offset_margin_np(np.array([[3.0, -4.0]])) >= MARGIN_ULPS * _EPS64 * 5.0
    True
    >>> offset_margin_np(np.array([[1.0, np.nan]]))
    nan
    """
    if not y.size:
        return 0.0
    top = max(float(y.max()), -float(y.min()))
    return MARGIN_ULPS * _EPS64 * y.shape[1] ** 0.5 * top


def contains(
    store: RegionStore, y: Any, cand: Any, eps: float, base: Any = None
) -> tuple[Any, Any, Any]:
    """Whether ``y[i]`` lies in region ``cand[i]`` (``-1``: no candidate), decided exactly.

    Returns ``(inside, h, diff)``: the mask, the candidates' header rows and ``y - x0``,
    from which :func:`evaluate` gives the answers without gathering again.  ``base`` is
    :func:`offset_margin` of ``y`` or of a batch ``y`` was taken from (computed if omitted).

    Rows are stored nearest first, so a point at distance ``r`` from ``x0`` is tested only
    against the leading rows whose offsets could be violated within ``r``: every later row
    has ``delta_j`` above ``ROW_SLACK r`` plus the margins, and ``|a_j . (y - x0)|`` is at
    most ``(1 + normal_err) r`` (a stored unit normal) plus rounding, far below that.
    """
    import torch

    d = store.d
    if base is None:
        base = offset_margin(y)
    valid = cand >= 0
    s = cand.clamp(min=0)
    h = store.hdr.index_select(0, s)
    diff = y - h[:, :d]
    dist = torch.linalg.vector_norm(diff, dim=1)
    c = MARGIN_ULPS * (d + 3) * eps
    tol = c * dist + base
    reach = dist + tol
    inner = valid & (reach < h[:, d])
    need = valid & ~inner & (reach < h[:, d + 1])
    idx = need.nonzero().squeeze(1)
    if idx.numel():
        si = s.index_select(0, idx)
        rd = store.rd.index_select(0, si).to(y.dtype)
        dd = dist.index_select(0, idx).unsqueeze(1)
        t = (c + store.normal_err) * dd + c * rd + base
        # rows that no point of this set can violate are left out (see above): up to the last
        # row any point could violate
        cols = (rd <= t + ROW_SLACK * dd).any(dim=0).nonzero()
        m = int(cols[-1]) + 1 if cols.numel() else 0
        if m:
            rd, t = rd[:, :m], t[:, :m]
            di = diff.index_select(0, idx)
            if store.np_ra is not None:  # CPU: numpy's batched matmul of small blocks is faster
                dn = di.numpy()
                a = store.np_ra[si.numpy(), :m].astype(dn.dtype)
                v = torch.from_numpy(np.matmul(a, dn[:, :, None])[:, :, 0])
            else:
                at = store.ra[:, :m].index_select(0, si).to(y.dtype)
                v = torch.bmm(at, di.unsqueeze(2)).squeeze(2)
            if store.normal_unit != 1.0:  # stored components are multiples of the unit
                v = v * store.normal_unit
            inner.index_copy_(0, idx, (rd - t - v).amin(dim=1) > 0)
        else:
            inner.index_fill_(0, idx, True)
    return inner, h, diff


def evaluate(store: RegionStore, h: Any, diff: Any) -> Any:
    """``f(x0) + W (y - x0)`` from gathered header rows ``h`` and ``diff = y - x0``."""
    d, o = store.d, store.n_out
    W = h[:, d + 2 + o :].unflatten(1, (o, d))
    return h[:, d + 2 : d + 2 + o] + (W @ diff.unsqueeze(2)).squeeze(2)


def contains_np(
    store: RegionStore,
    y: np.ndarray,
    cand: np.ndarray,
    eps: float,
    base: float | None = None,
    scratch: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`contains` in numpy, for a CPU store (same arrays, same margins, same rows).

    With ``scratch`` every ``cand`` must be a region (no ``-1``), and the gathered rows and
    ``y - x0`` are written into the store's :class:`~complexlib.cache.workspace.Workspace`
    (valid until the next such call).
    """
    hdr, ra, rd_all = store.np_hdr, store.np_ra, store.np_rd
    if hdr is None or ra is None or rd_all is None:
        raise RuntimeError("contains_np needs a store on the CPU")
    d = store.d
    if base is None:
        base = offset_margin_np(y)
    if scratch:  # the first tier: every point has a candidate
        s = cand
        ws, n = store.work, len(s)
        h = np.take(hdr, s, axis=0, out=ws.get("hdr", (n, hdr.shape[1]), hdr.dtype))
        dt = np.result_type(y, h)
        diff = np.subtract(y, h[:, :d], out=ws.get("diff", (n, d), dt))
    else:
        valid = cand >= 0
        s = np.maximum(cand, 0)
        h = hdr[s]
        diff = y - h[:, :d]
    dist = np.sqrt(np.einsum("nd,nd->n", diff, diff))
    c = MARGIN_ULPS * (d + 3) * eps
    reach = c * dist
    reach += base
    reach += dist
    inner = reach < h[:, d]
    need = np.greater(reach < h[:, d + 1], inner)  # within rho and not decided by r0
    if not scratch:
        inner &= valid
        need &= valid
    idx = np.flatnonzero(need)
    if idx.size:
        si = s[idx]
        rd = rd_all[si].astype(y.dtype)
        dd = dist[idx, None]
        t = (c + store.normal_err) * dd + c * rd + base
        # the rows up to the last one any point could violate (a column test: numpy reduces
        # along the batch axis far faster than along short rows)
        cols = np.flatnonzero((rd <= t + ROW_SLACK * dd).any(axis=0))
        m = int(cols[-1]) + 1 if cols.size else 0
        if m:
            a = ra[si, :m].astype(y.dtype)
            vals = np.matmul(a, diff[idx][:, :, None])[:, :, 0]
            if store.normal_unit != 1.0:  # stored components are multiples of the unit
                vals *= store.normal_unit
            # min(rd - t - v) > 0 as max(v - (rd - t)) < 0 (the same numbers negated), by an
            # argmax along the rows (see reductions.row_max)
            inner[idx] = row_max(vals - (rd[:, :m] - t[:, :m])) < 0
        else:
            inner[idx] = True
    return inner, h, diff


def evaluate_np(
    store: RegionStore, h: np.ndarray, diff: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """:func:`evaluate` in numpy (into ``out``, shape ``(n, n_out)``, if given)."""
    d, o = store.d, store.n_out
    W = h[:, d + 2 + o :].reshape(-1, o, d)
    if out is None:
        out = np.empty((W.shape[0], o), dtype=np.result_type(h, diff))
    if W.shape[0] > 64:  # numpy's matmul pays per small matrix; einsum does not
        np.einsum("nod,nd->no", W, diff, out=out)
    else:
        np.matmul(W, diff[:, :, None], out=out[:, :, None])
    out += h[:, d + 2 : d + 2 + o]
    return out
