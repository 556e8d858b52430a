"""The lookup tiers of the region cache, for a whole batch at once.

1. The recently hit regions (at most ``N_RECENT``, the last hit first): each point is tested
   against the one whose ``x0`` is nearest (one matmul and an argmin for the batch), and, in
   batches of more than ``SMALL_NEAREST`` points, the points that fail against the
   ``NEXT_RECENT`` next nearest in one test (a point near an operating point but in a region
   beside the operating point's): around a few operating points almost every query is
   settled here.  Those batches read the regions from a
   :class:`~complexlib.cache.recent.RecentPack`, kept while the set of recent regions holds.
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
from .recent import recent_pack
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
    where it is True (arbitrary elsewhere).

    Batches of more than ``SMALL_NEAREST`` points are tested against the recent regions
    packed into small tables (:class:`~complexlib.cache.recent.RecentPack`), smaller ones
    against the store's rows directly (a pack is rebuilt whenever the recent set changes,
    which a stream of single queries all over the cache does on almost every call).
    """
    n = y.shape[0]
    hit = np.zeros(n, dtype=bool)
    if store.size == 0 or store.np_hdr is None:
        return hit
    if base is None:
        base = offset_margin_np(y)

    def store_test(rows: np.ndarray, flat: np.ndarray) -> tuple[Any, Any, Any, Any]:
        ok, h, diff = contains_np(store, y[rows], flat, eps, base)
        return ok, h, diff, flat

    if store.recent:
        if n > SMALL_NEAREST:
            _recent_tier(store, y, slot, out, hit, eps, base)
        else:
            rs = np.asarray(store.recent, dtype=np.int64)
            if rs.size == 1:
                cand = np.broadcast_to(rs, (n,))
            else:  # nearest x0 by differences
                score = np.square(y[:, None, :] - store.np_hdr[rs, : store.d][None]).sum(axis=2)
                cand = rs[score.argmin(axis=1)]
            # rows of points that miss here are overwritten by a later tier or the forward pass
            ok, h, diff = contains_np(store, y, cand, eps, base, scratch=True)
            slot[:] = cand
            evaluate_np(store, h, diff, out=out)
            hit |= ok
    todo = (~hit).nonzero()[0]
    if not todo.size:
        return hit
    C = anchors.candidates(store, y[todo].astype(np.float64, copy=False), k)
    if C is not None:
        # each point's nearest anchor first (most points lie in its region), then every
        # other (point, candidate) pair of the points left at once
        _settle(store, todo, C[:, :1], store_test, slot, out, hit)
        left = (~hit[todo]).nonzero()[0]
        if left.size and C.shape[1] > 1:
            _settle(store, todo[left], C[left, 1:], store_test, slot, out, hit)
    return hit


def _settle(
    store: RegionStore,
    rows: np.ndarray,
    C: np.ndarray,
    test: Any,
    slot: np.ndarray,
    out: np.ndarray,
    hit: np.ndarray,
) -> None:
    """Test point ``rows[i]`` against candidates ``C[i]`` (``-1``: none), every pair at
    once; a point takes its first success.  ``test(point_rows, flat_candidates)`` returns
    ``(inside, header rows, y - x0, slots)`` of the pairs."""
    m, kk = C.shape
    ok, h, diff, slots = test(rows.repeat(kk), C.reshape(-1))
    ok = ok.reshape(m, kk)
    won = ok.any(axis=1).nonzero()[0]
    if won.size:
        pick = won * kk + ok[won].argmax(axis=1)
        r = rows[won]
        slot[r] = slots[pick]
        out[r] = evaluate_np(store, h[pick], diff[pick])
        hit[r] = True


def _recent_tier(
    store: RegionStore,
    y: np.ndarray,
    slot: np.ndarray,
    out: np.ndarray,
    hit: np.ndarray,
    eps: float,
    base: float,
) -> None:
    """The first tier of a large batch: each point against the recent region whose ``x0`` is
    nearest, then the points that fail against the ``NEXT_RECENT`` next nearest.

    The nearest region comes from ``|x0|^2 - 2 y.x0`` in float64 (neighbouring regions'
    scores around an operating point differ by ~1e-7 of ``|x0|^2``, below float32's
    rounding), one product of ``[y, 1]`` by the pack's ``[-2 x0, |x0|^2]`` on the store's
    scratch memory.  Rows of points that miss are overwritten by a later tier or the
    forward pass.
    """
    pack = recent_pack(store, eps)
    if pack is None:
        return
    n, d = y.shape
    ws = store.work
    R = len(pack)
    y1 = ws.get("y1", (n, d + 1), np.float64)
    y1[:, :d] = y
    y1[:, d] = 1.0
    score = np.matmul(y1, pack.rhs, out=ws.get("score", (n, R), np.float64))
    j = score.argmin(axis=1)
    hdr = pack.hdr
    h = hdr.take(j, axis=0, out=ws.get("hdr", (n, hdr.shape[1]), hdr.dtype))
    diff = np.subtract(y, h[:, :d], out=ws.get("diff", (n, d), np.result_type(y, h)))
    ok = pack.test(j, diff, base, h)
    pack.slots.take(j, out=slot)
    evaluate_np(store, h, diff, out=out)
    hit |= ok
    fail = (~ok).nonzero()[0]
    if fail.size and R > 1:  # mostly points in a region beside an operating point's
        t = min(NEXT_RECENT, R - 1)
        sc = score[fail]
        sc[np.arange(fail.size), j[fail]] = np.inf
        C = sc.argsort(axis=1, kind="stable")[:, :t]

        def pack_test(rows: np.ndarray, flat: np.ndarray) -> tuple[Any, Any, Any, Any]:
            hp = hdr[flat]
            dp = y[rows] - hp[:, :d]
            return pack.test(flat, dp, base, hp), hp, dp, pack.slots[flat]

        _settle(store, fail, C, pack_test, slot, out, hit)
