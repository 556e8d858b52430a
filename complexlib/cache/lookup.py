"""The lookup tiers of the region cache, for a whole batch at once.

1. The recently hit regions (at most ``N_RECENT``, the last hit first): each point is tested
   against the one whose ``x0`` is nearest (one matmul and an argmin for the batch), and, in
   batches of more than ``SMALL_NEAREST`` points, the points that fail against the
   ``NEXT_RECENT`` next nearest in one test (a point near an operating point but in a region
   beside the operating point's): around a few operating points almost every query is
   settled here.
2. The ball index (:mod:`complexlib.cache.anchors`): the regions of the ``n_candidates``
   anchors nearest to each remaining point, each tested exactly (the nearest first, then
   the others of the points left, all at once); a point takes its first success.

Hits get their answer ``f(x0) + W (y - x0)`` from the rows the test already gathered.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .anchors import AnchorSet
from .membership import (
    contains,
    contains_np,
    evaluate,
    evaluate_np,
    offset_margin,
    offset_margin_np,
)
from .store import RegionStore

__all__ = ["lookup", "lookup_np"]


#: Points that miss their nearest recent region are tested against this many next nearest.
NEXT_RECENT = 3
#: Batches up to this size find their nearest recent regions by differences and skip the
#: next nearest (the index settles their few failures; a stream of single queries to
#: regions all over the cache would pay for that tier on almost every call).
SMALL_NEAREST = 64


def lookup(
    store: RegionStore,
    anchors: AnchorSet,
    y: Any,
    slot: Any,
    out: Any,
    eps: float,
    k: int,
    base: Any = None,
) -> Any:
    """The hit mask of ``y``; ``slot`` and ``out`` hold the region and answer where it is True.

    Rows where the mask is False hold arbitrary values (the caller answers them otherwise).
    ``base`` is :func:`~complexlib.cache.membership.offset_margin` of ``y`` or of a batch it
    was taken from (computed if omitted).
    A store on the CPU is looked up by :func:`lookup_np` on numpy views of the same memory
    (numpy's fixed cost per operation is a fraction of torch's at these sizes).
    """
    import torch

    if store.np_hdr is not None:
        hit_np = lookup_np(store, anchors, y.numpy(), slot.numpy(), out.numpy(), eps, k, base)
        return torch.from_numpy(hit_np)
    n = y.shape[0]
    hit = torch.zeros(n, dtype=torch.bool, device=y.device)
    if store.size == 0:
        return hit
    if base is None:
        base = offset_margin(y)

    def settle(rows: Any, C: Any) -> None:
        """Test ``y[rows[i]]`` against candidates ``C[i]`` (-1: none); the first success wins."""
        m, kk = C.shape
        flat = C.reshape(-1)
        yr = y.index_select(0, rows.repeat_interleave(kk))
        ok, h, diff = contains(store, yr, flat, eps, base)
        ok = ok.reshape(m, kk)
        won = ok.any(dim=1).nonzero().squeeze(1)
        if won.numel():
            pick = won * kk + ok.index_select(0, won).to(torch.int8).argmax(dim=1)
            r = rows.index_select(0, won)
            slot.index_copy_(0, r, flat.index_select(0, pick))
            ans = evaluate(store, h.index_select(0, pick), diff.index_select(0, pick))
            out.index_copy_(0, r, ans)
            hit.index_fill_(0, r, True)

    if store.recent:
        rs = torch.as_tensor(store.recent, dtype=torch.int64, device=y.device)
        if len(store.recent) == 1:
            settle(torch.arange(n, device=y.device), rs.expand(n)[:, None])
        else:  # nearest x0: argmin of |x0|^2 - 2 y.x0, one matmul
            x0 = store.x0.index_select(0, rs)
            score = torch.addmm((x0 * x0).sum(dim=1), y, x0.T, alpha=-2.0)
            best = score.argmin(dim=1)
            cand = rs.index_select(0, best)
            ok, h, diff = contains(store, y, cand, eps, base)
            # rows of points that miss here are overwritten by a later tier or the forward
            # pass (and their slots are never read), so no masking is needed
            slot.copy_(cand)
            out.copy_(evaluate(store, h, diff))
            hit |= ok
            # the points that failed (mostly in a region beside an operating point's): the
            # next nearest recent regions, all in one test
            fail = (~ok).nonzero().squeeze(1)
            if fail.numel():
                t = min(NEXT_RECENT, len(store.recent) - 1)
                sc = score.index_select(0, fail)
                sc.scatter_(1, best.index_select(0, fail).unsqueeze(1), float("inf"))
                settle(fail, rs[sc.topk(t, dim=1, largest=False).indices])
    todo = (~hit).nonzero().squeeze(1)
    if not todo.numel():
        return hit
    yt = y.index_select(0, todo).double().cpu().numpy()
    C = anchors.candidates(store, yt, k)
    if C is None:
        return hit
    settle(todo, torch.as_tensor(C, device=y.device))  # every (point, candidate) pair at once
    return hit


def lookup_np(
    store: RegionStore,
    anchors: AnchorSet,
    y: np.ndarray,
    slot: np.ndarray,
    out: np.ndarray,
    eps: float,
    k: int,
    base: float | None = None,
) -> np.ndarray:
    """:func:`lookup` of a CPU store in numpy: the hit mask; ``slot`` and ``out`` filled
    where it is True (arbitrary elsewhere)."""
    n = y.shape[0]
    hit = np.zeros(n, dtype=bool)
    if store.size == 0 or store.np_hdr is None:
        return hit
    if base is None:
        base = offset_margin_np(y)

    def settle(rows: np.ndarray, C: np.ndarray) -> None:
        """Test ``y[rows[i]]`` against candidates ``C[i]`` (-1: none); the first success wins."""
        m, kk = C.shape
        flat = C.reshape(-1)
        ok, h, diff = contains_np(store, y[np.repeat(rows, kk)], flat, eps, base)
        ok = ok.reshape(m, kk)
        won = np.flatnonzero(ok.any(axis=1))
        if won.size:
            pick = won * kk + ok[won].argmax(axis=1)
            r = rows[won]
            slot[r] = flat[pick]
            out[r] = evaluate_np(store, h[pick], diff[pick])
            hit[r] = True

    if store.recent:
        rs = np.asarray(store.recent, dtype=np.int64)
        if rs.size == 1:
            settle(np.arange(n), np.broadcast_to(rs, (n, 1)))
        else:
            score, best, rs = _nearest_np(store, rs, y)
            cand = rs[best]
            # the whole batch on the store's scratch arrays; rows of points that miss here
            # are overwritten by a later tier or the forward pass
            ok, h, diff = contains_np(store, y, cand, eps, base, scratch=True)
            slot[:] = cand
            evaluate_np(store, h, diff, out=out)
            hit |= ok
            fail = np.flatnonzero(~ok)
            if fail.size and n > SMALL_NEAREST:  # the next nearest recent regions, one test
                t = min(NEXT_RECENT, rs.size - 1)
                sc = score[fail]
                sc[np.arange(fail.size), best[fail]] = np.inf
                settle(fail, rs[np.argsort(sc, axis=1, kind="stable")[:, :t]])
    todo = np.flatnonzero(~hit)
    if not todo.size:
        return hit
    C = anchors.candidates(store, y[todo].astype(np.float64, copy=False), k)
    if C is not None:
        # each point's nearest anchor first (most points lie in its region), then every
        # other (point, candidate) pair of the points left at once
        settle(todo, C[:, :1])
        left = np.flatnonzero(~hit[todo])
        if left.size and C.shape[1] > 1:
            settle(todo[left], C[left, 1:])
    return hit


def _nearest_np(
    store: RegionStore, rs: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(score, best, cols)``: a score of each point against each region ``cols[j]`` (the
    regions ``rs`` in some order) that orders them by distance, and each point's argmin.

    Small batches: squared distances.  Larger ones: ``|x0|^2 - 2 y.x0`` in float64 (numpy's
    argmin along short rows is 3x faster than float32's) by one matmul of ``[y, 1]`` by
    ``[-2 x0, |x0|^2]`` on the store's scratch memory (adding ``|x0|^2`` to every row
    separately, a broadcast along short rows, cost as much as the product); its right side
    is kept while the set of recent regions and the store's regions stay the same.
    """
    d, hdr = store.d, store.np_hdr
    if hdr is None:
        raise RuntimeError("_nearest_np needs a store on the CPU")
    n = y.shape[0]
    if n <= SMALL_NEAREST:
        x0 = hdr[rs, :d]
        score = np.square(y[:, None, :] - x0[None]).sum(axis=2)
        return score, score.argmin(axis=1), rs
    rs = np.sort(rs)  # the set of recent regions changes far less often than its order
    key = (store.next_id, rs.tobytes())
    memo = store.nearest_memo
    if memo is not None and memo[0] == key:
        rhs = memo[1]
    else:
        x0 = hdr[rs, :d].astype(np.float64)
        rhs = np.empty((d + 1, x0.shape[0]))
        np.multiply(x0.T, -2.0, out=rhs[:d])
        rhs[d] = np.einsum("rd,rd->r", x0, x0)
        store.nearest_memo = (key, rhs)
    ws = store.work
    y1 = ws.get("y1", (n, d + 1), np.float64)
    y1[:, :d] = y
    y1[:, d] = 1.0
    score = np.matmul(y1, rhs, out=ws.get("score", (n, rs.size), np.float64))
    return score, score.argmin(axis=1), rs
