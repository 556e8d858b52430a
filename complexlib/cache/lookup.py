"""The lookup tiers of the region cache, for a whole batch at once.

1. The recently hit regions (at most ``N_RECENT``, the last hit first): each point is tested
   against the one whose ``x0`` is nearest (one matmul and an argmin for the batch), and the
   points that fail against the ``NEXT_RECENT`` next nearest in one test (a point near an
   operating point but in a region beside the operating point's): around a few operating
   points almost every query is settled here.
2. The ball index (:mod:`complexlib.cache.anchors`): the regions of the ``n_candidates``
   anchors nearest to each remaining point, each tested exactly; a point takes its first
   success.

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


def lookup(
    store: RegionStore, anchors: AnchorSet, y: Any, slot: Any, out: Any, eps: float, k: int
) -> Any:
    """The hit mask of ``y``; ``slot`` and ``out`` hold the region and answer where it is True.

    Rows where the mask is False hold arbitrary values (the caller answers them otherwise).
    """
    import torch

    n = y.shape[0]
    hit = torch.zeros(n, dtype=torch.bool, device=y.device)
    if store.size == 0:
        return hit
    on_cpu = store.np_hdr is not None
    y_np: np.ndarray = y.numpy() if on_cpu else np.zeros((0, y.shape[1]))  # numpy view on CPU
    base = offset_margin_np(y_np) if on_cpu else offset_margin(y)

    def test(rows: Any, cand: Any) -> Any:
        """Test ``y[rows]`` (all of ``y`` if None) against ``cand``: mask, answers."""
        if on_cpu:  # numpy: a fraction of torch's fixed cost per operation
            yr = y_np if rows is None else y_np[rows.numpy()]
            # the first test (the whole batch) on the store's scratch arrays: its answers
            # are read before any other test runs
            ok, hn, dn = contains_np(store, yr, cand.numpy(), eps, float(base), rows is None)

            def answer_np(sel: Any) -> Any:
                if sel is None:
                    return torch.from_numpy(evaluate_np(store, hn, dn))
                s = sel.numpy()
                return torch.from_numpy(evaluate_np(store, hn[s], dn[s]))

            return torch.from_numpy(ok), answer_np
        yr = y if rows is None else y.index_select(0, rows)
        ok, h, diff = contains(store, yr, cand, eps, base)

        def answer(sel: Any) -> Any:  # the answers of the pairs ``sel`` (None: all)
            if sel is None:
                return evaluate(store, h, diff)
            return evaluate(store, h.index_select(0, sel), diff.index_select(0, sel))

        return ok, answer

    def settle(rows: Any, C: Any) -> None:
        """Test ``y[rows[i]]`` against candidates ``C[i]`` (-1: none); the first success wins."""
        m, kk = C.shape
        if on_cpu:  # numpy, writing through views of the (CPU) output tensors
            rn, flat_np = rows.numpy(), C.numpy().reshape(-1)
            yr = y_np[np.repeat(rn, kk)]
            ok_np, hn, dn = contains_np(store, yr, flat_np, eps, float(base))
            ok_np = ok_np.reshape(m, kk)
            won_np = np.flatnonzero(ok_np.any(axis=1))
            if won_np.size:
                pick_np = won_np * kk + ok_np[won_np].argmax(axis=1)
                r_np = rn[won_np]
                slot.numpy()[r_np] = flat_np[pick_np]
                out.numpy()[r_np] = evaluate_np(store, hn[pick_np], dn[pick_np])
                hit.numpy()[r_np] = True
            return
        flat = C.reshape(-1)
        ok, answer = test(rows.repeat_interleave(kk), flat)
        ok = ok.reshape(m, kk)
        won = ok.any(dim=1).nonzero().squeeze(1)
        if won.numel():
            pick = won * kk + ok.index_select(0, won).to(torch.int8).argmax(dim=1)
            r = rows.index_select(0, won)
            slot.index_copy_(0, r, flat.index_select(0, pick))
            out.index_copy_(0, r, answer(pick))
            hit.index_fill_(0, r, True)

    if store.recent:
        rs = torch.as_tensor(store.recent, dtype=torch.int64, device=y.device)
        if len(store.recent) == 1:
            settle(torch.arange(n, device=y.device), rs.expand(n)[:, None])
        else:  # nearest x0: argmin of |x0|^2 - 2 y.x0, one matmul
            score, best = _nearest(store, rs, y, y_np, on_cpu)
            cand = rs.index_select(0, best)
            ok, answer = test(None, cand)
            # rows of points that miss here are overwritten by a later tier or the forward
            # pass (and their slots are never read), so no masking is needed
            slot.copy_(cand)
            out.copy_(answer(None))
            hit |= ok
            # the points that failed (mostly in a region beside an operating point's): the
            # next nearest recent regions, all in one test
            fail = (~ok).nonzero().squeeze(1)
            if fail.numel():
                t = min(NEXT_RECENT, len(store.recent) - 1)
                if on_cpu:
                    f = fail.numpy()
                    sc = score[f]
                    sc[np.arange(f.size), best.numpy()[f]] = np.inf
                    nxt = torch.from_numpy(np.argsort(sc, axis=1, kind="stable")[:, :t])
                else:
                    sc = score.index_select(0, fail)
                    sc.scatter_(1, best.index_select(0, fail).unsqueeze(1), float("inf"))
                    nxt = sc.topk(t, dim=1, largest=False).indices
                settle(fail, rs[nxt])
    todo = (~hit).nonzero().squeeze(1)
    if not todo.numel():
        return hit
    yt = y_np[todo.numpy()] if on_cpu else y.index_select(0, todo).double().cpu().numpy()
    C = anchors.candidates(store, yt.astype(np.float64, copy=False), k)
    if C is None:
        return hit
    settle(todo, torch.as_tensor(C, device=y.device))  # every (point, candidate) pair at once
    return hit


def _nearest(store: RegionStore, rs: Any, y: Any, y_np: np.ndarray, on_cpu: bool) -> Any:
    """``(score, best)``: ``|x0|^2 - 2 y.x0`` of the regions ``rs`` and each point's argmin
    (on the CPU in float64 numpy, whose argmin along short rows is 3x faster than float32's)."""
    import torch

    if on_cpu and store.np_hdr is not None:
        x0 = store.np_hdr[rs.numpy(), : store.d].astype(np.float64)
        n, ws = y_np.shape[0], store.work
        y64 = ws.get("y64", y_np.shape, np.float64)
        np.copyto(y64, y_np)
        score = np.matmul(y64, -2.0 * x0.T, out=ws.get("score", (n, len(x0)), np.float64))
        score += np.einsum("rd,rd->r", x0, x0)
        return score, torch.from_numpy(score.argmin(axis=1))
    x0 = store.x0.index_select(0, rs)
    score = torch.addmm((x0 * x0).sum(dim=1), y, x0.T, alpha=-2.0)
    return score, score.argmin(dim=1)


def lookup_np(
    store: RegionStore, anchors: AnchorSet, y: np.ndarray, out: np.ndarray, eps: float, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`lookup` in numpy for small batches on the CPU: ``(hit, slot)``, ``out`` filled."""
    n = y.shape[0]
    hit = np.zeros(n, dtype=bool)
    slot = np.full(n, -1, dtype=np.int64)
    if store.size == 0 or store.np_hdr is None:
        return hit, slot
    if store.recent:
        rs = np.asarray(store.recent, dtype=np.int64)
        x0 = store.np_hdr[rs, : store.d]
        cand = rs[((y[:, None, :] - x0[None]) ** 2).sum(axis=2).argmin(axis=1)]
        ok, h, diff = contains_np(store, y, cand, eps)
        if ok.any():
            hit, slot[ok] = ok, cand[ok]
            out[ok] = evaluate_np(store, h[ok], diff[ok])
    todo = np.nonzero(~hit)[0]
    if not todo.size:
        return hit, slot
    C = anchors.candidates(store, y[todo].astype(np.float64), k)
    if C is None:
        return hit, slot
    left = np.arange(todo.size)
    for j in range(C.shape[1]):
        cj = C[left, j]
        ok, h, diff = contains_np(store, y[todo[left]], cj, eps)
        won = todo[left[ok]]
        slot[won] = cj[ok]
        hit[won] = True
        out[won] = evaluate_np(store, h[ok], diff[ok])
        left = left[~ok]
        if not left.size:
            break
    return hit, slot
