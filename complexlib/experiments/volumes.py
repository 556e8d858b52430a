"""Volumes of the bounded regions of a complex, in batches.

A region is cut out by its facets alone, so the volume of region ``i`` is computed from the
rows of its facet neurons (a handful, not every neuron) and the domain's sides: a well-centred
interior point (batched Newton steps on the log barrier), the vertices by qhull's halfspace
intersection, and the volume of their convex hull.  qhull works in any dimension but its cost
grows quickly with it; the experiments stay at ``d <= 5``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..complex import Complex

__all__ = ["region_volumes", "volume_stats"]


def region_volumes(cx: Complex, regions: Any = None, batch: int = 1024) -> np.ndarray:
    """Volume of every region of ``cx``: ``inf`` for unbounded ones, ``nan`` where qhull failed.

    Parameters
    ----------
    cx : Complex
        A searched complex.
    regions : array_like of int, optional
        Only these regions (the result is then in their order); default all.
    batch : int
        Regions whose halfspaces are built at once.

    Examples
    --------
    >>> import complexlib as cl
    >>> cx = cl.Complex(cl.mlp([2, 4, 1], seed=0), bound=1.0); _ = cx.bfs(progress=False)
    >>> round(float(region_volumes(cx).sum()), 9)  # the regions tile the box [-1, 1]^2
    4.0
    """
    from scipy.spatial import ConvexHull, HalfspaceIntersection, QhullError

    from ..geometry import analytic_centers, halfspaces
    from ..patterns import unpack

    n, d = len(cx), cx.net.input_dim
    pick = np.arange(n) if regions is None else np.asarray(regions, dtype=np.int64).reshape(-1)
    if pick.size and (pick.min() < 0 or pick.max() >= n):
        raise ValueError(f"regions must be indices 0 .. {n - 1} of the complex")
    out = np.full(pick.size, np.inf)
    bounded = cx.bounded[pick]
    ptr = cx.store.facet_ptr.view()
    neuron = cx.store.facet_neuron.view()
    dom_A, dom_b = cx.domain.constraints(d)
    todo = np.nonzero(bounded)[0]  # positions in pick
    hints = cx.interior_points
    for lo in range(0, len(todo), batch):
        at = todo[lo : lo + batch]
        idx = pick[at]
        A, b = halfspaces(cx.net, unpack(cx.store.bits.view()[idx], cx.net.n_neurons))
        rows = [neuron[ptr[i] : ptr[i + 1]] for i in idx]
        m = max(len(r) for r in rows) + len(dom_b)
        # pad to a common row count with the trivial constraint 0 x - 1 <= 0
        As = np.zeros((len(idx), m, d))
        bs = np.full((len(idx), m), -1.0)
        for k, r in enumerate(rows):
            As[k, : len(r)] = A[k, r]
            bs[k, : len(r)] = b[k, r]
            As[k, len(r) : len(r) + len(dom_b)] = dom_A
            bs[k, len(r) : len(r) + len(dom_b)] = dom_b
        centers = analytic_centers(As, bs, hints[idx])
        for k, i in enumerate(at):
            live = np.linalg.norm(As[k], axis=1) > 0
            hs = np.c_[As[k][live], bs[k][live]]
            try:
                if d == 1:
                    t = -hs[:, 1] / hs[:, 0]
                    out[i] = float(t[hs[:, 0] > 0].min() - t[hs[:, 0] < 0].max())
                else:
                    verts = HalfspaceIntersection(hs, centers[k]).intersections
                    out[i] = float(ConvexHull(verts).volume)
            except (QhullError, ValueError):
                out[i] = np.nan
    return out


def volume_stats(volumes: np.ndarray, max_volume: float = 1e4) -> dict[str, float | int]:
    """Mean volume of the bounded regions whose volume is at most ``max_volume``.

    Returns
    -------
    dict
        ``mean_volume`` (nan when no region qualifies), ``n_volumes`` (regions averaged),
        ``n_volume_excluded`` (bounded regions above ``max_volume``) and
        ``n_volume_failed`` (bounded regions whose volume qhull could not compute).

    Examples
    --------
    >>> volume_stats(np.array([1.0, 3.0, np.inf, 2e4]))
    {'mean_volume': 2.0, 'n_volumes': 2, 'n_volume_excluded': 1, 'n_volume_failed': 0}
    """
    v = np.asarray(volumes, dtype=np.float64)
    finite = np.isfinite(v)
    keep = finite & (v <= max_volume)
    return {
        "mean_volume": float(v[keep].mean()) if keep.any() else float("nan"),
        "n_volumes": int(keep.sum()),
        "n_volume_excluded": int((finite & (v > max_volume)).sum()),
        "n_volume_failed": int(np.isnan(v).sum()),
    }
