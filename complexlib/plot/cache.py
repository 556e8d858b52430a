"""The region cache of a 2-D network: its regions, their balls, hits and misses along a path."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..geometry import _halfspaces_from_maps, affine_maps
from ._common import clipped_polygons, planar_layout, polyline, view_box

if TYPE_CHECKING:
    from ..cache import HypersphereCache
    from ..complex import Complex

__all__ = ["plot_cache", "cache_polygons", "cache_path"]


def _check_cache(cache: Any) -> None:
    from ..cache import HypersphereCache

    if not isinstance(cache, HypersphereCache):
        raise TypeError(f"plot_cache takes a complexlib.HypersphereCache, got {type(cache)}")
    d = cache.net.input_dim
    if d != 2:
        raise ValueError(
            f"plot_cache draws caches of networks with a 2-D input; this network's input is {d}-D"
        )


def cache_path(cache: HypersphereCache, path: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Query ``cache`` at the points of ``path`` one at a time, in order (mutates the cache).

    Returns the path as an ``(n, 2)`` float64 array, the hit flag and the cached region id
    of every point (``-1`` where the point's region was not kept).
    """
    P = np.asarray(path, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] != 2:
        raise ValueError(f"path must be an (n, 2) array of points, got shape {P.shape}")
    if not np.all(np.isfinite(P)):
        raise ValueError("path must hold finite points")
    hit = np.zeros(len(P), dtype=bool)
    region = np.full(len(P), -1, dtype=np.int64)
    for k, x in enumerate(P):
        ans = cache(x[None], return_linearization=True)
        hit[k] = bool(np.asarray(ans.hit).reshape(-1)[0])
        region[k] = int(np.asarray(ans.region).reshape(-1)[0])
    return P, hit, region


def _default_view(cache: HypersphereCache, pts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    P = np.vstack([p for p in pts if len(p)]) if any(len(p) for p in pts) else np.zeros((0, 2))
    if not len(P):
        return -np.ones(2), np.ones(2)
    lo, hi = P.min(axis=0), P.max(axis=0)
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    half = np.full(2, max(float(half.max()) * 1.25, 0.5))
    return mid - half, mid + half


def cache_polygons(
    cache: HypersphereCache, lo: np.ndarray, hi: np.ndarray
) -> list[np.ndarray | None]:
    """Vertices of each cached region (in :meth:`~HypersphereCache.regions` order), clipped
    to the box ``[lo, hi]``: counter-clockwise ``(k, 2)`` polygons, ``None`` where a region
    does not meet the box's interior.

    Built from the region's whole activation pattern (every neuron's halfspace, not only the
    ``K`` rows the cache keeps), so the polygon is the exact region.
    """
    _check_cache(cache)
    reg = cache.regions(chebyshev=False)
    if not len(reg):
        return []
    Z, _, bound = affine_maps(cache.net, reg.pattern)
    A, b = _halfspaces_from_maps(Z, bound, reg.pattern)
    return clipped_polygons(A, b, lo, hi)


def _circles(centres: np.ndarray, radii: np.ndarray, n: int = 72) -> list[np.ndarray]:
    t = np.linspace(0, 2 * np.pi, n + 1)
    ring = np.stack([np.cos(t), np.sin(t)], axis=1)
    return [c + r * ring for c, r in zip(centres, radii) if np.isfinite(r) and r > 0]


def plot_cache(
    cache: HypersphereCache, path: Any = None, view: Any = None, title: str | None = None
) -> Any:
    """Plotly figure of a region cache of a network with a 2-D input.

    Parameters
    ----------
    cache : HypersphereCache
        The cache; its network must take 2-D inputs.
    path : (n, 2) array, optional
        Points to query first, one at a time and in order, with
        ``return_linearization=True``.  **This mutates the cache**: its misses are inserted
        as it goes (with the default ``admit="all"`` a region missed once is a hit next
        time) and its counters grow, so ``cache.stats()`` afterwards counts these queries.
    view : float or (lo, hi), optional
        The box the regions are clipped to; default a box around the path and the cached
        regions' centres.
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        One filled polygon per cached region meeting the view, named ``"region <id>"``
        (its vertices exactly the region's, clipped to the view); a trace ``"balls"`` with
        the ball around each region's creating point inside which membership needs no test;
        a dashed trace ``"Chebyshev balls"``; and with a path, the traces ``"path"``,
        ``"hits"`` and ``"misses"`` (one marker per queried point).

    Raises
    ------
    TypeError, ValueError
        For something other than a cache, a network whose input is not 2-D, or a path that
        is not an ``(n, 2)`` array.

    Examples
    --------
    >>> import numpy as np
    >>> import complexlib as cl
    >>> cache = cl.HypersphereCache(cl.mlp([2, 6, 1], seed=0))
    >>> t = np.linspace(0, 1, 40)
    >>> fig = plot_cache(cache, path=np.c_[np.cos(3 * t), np.sin(3 * t)])
    >>> s = cache.stats()
    >>> hits = next(t for t in fig.data if t.name == "hits")
    >>> len(hits.x) == s["hits"] and s["hits"] + s["misses"] == 40
    True
    """
    import plotly.graph_objects as go

    _check_cache(cache)
    P = hit = region = None
    if path is not None:
        P, hit, region = cache_path(cache, path)
    reg = cache.regions(chebyshev=True)
    if view is not None:
        # view_box reads only ``.net`` of its first argument: parses a number or (lo, hi)
        lo, hi = view_box(cast("Complex", SimpleNamespace(net=cache.net)), view)
    else:
        lo, hi = _default_view(cache, [reg.center, P if P is not None else np.zeros((0, 2))])
    polys = cache_polygons(cache, lo, hi)
    from plotly.colors import qualitative

    pal = qualitative.Light24
    cols = [pal[i % len(pal)] for i in range(len(reg))]
    fig = go.Figure()
    for i, V in enumerate(polys):
        if V is None:
            continue
        rid = int(reg.id[i])
        fig.add_trace(
            go.Scatter(
                x=np.r_[V[:, 0], V[0, 0]],
                y=np.r_[V[:, 1], V[0, 1]],
                fill="toself",
                fillcolor=cols[i],
                opacity=0.35,
                mode="lines",
                line={"color": "black", "width": 0.8},
                hoveron="fills",
                hoverinfo="text",
                text=f"<b>region {rid}</b><br>hits {int(reg.hits[i])}"
                f"<br>ball radius {reg.radius[i]:.4g}",
                showlegend=False,
                name=f"region {rid}",
            )
        )
    xs, ys = polyline(_circles(reg.center, reg.radius))
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line={"color": "#1f3b73", "width": 1.2},
            name="balls",
            hoverinfo="skip",
        )
    )
    cheb = np.isfinite(reg.cheb_radius)
    xs, ys = polyline(_circles(reg.cheb_center[cheb], reg.cheb_radius[cheb]))
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line={"color": "#555555", "width": 1, "dash": "dot"},
            name="Chebyshev balls",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=reg.center[:, 0],
            y=reg.center[:, 1],
            mode="markers",
            marker={"color": "#1f3b73", "size": 5},
            name="ball centres",
            text=[f"region {int(r)}" for r in reg.id],
            hoverinfo="text",
        )
    )
    if P is not None and hit is not None and region is not None:
        fig.add_trace(
            go.Scatter(
                x=P[:, 0],
                y=P[:, 1],
                mode="lines",
                line={"color": "black", "width": 1},
                name="path",
                hoverinfo="skip",
            )
        )
        for name, mask, marker in (
            ("hits", hit, {"color": "#2ca02c", "size": 5, "symbol": "circle"}),
            ("misses", ~hit, {"color": "#d62728", "size": 9, "symbol": "x"}),
        ):
            idx = np.nonzero(mask)[0]
            fig.add_trace(
                go.Scatter(
                    x=P[idx, 0],
                    y=P[idx, 1],
                    mode="markers",
                    marker=marker,
                    name=name,
                    text=[f"point {k}, region {region[k]}" for k in idx],
                    hoverinfo="text",
                )
            )
    s = cache.stats()
    fig.update_layout(
        title=title
        or f"Region cache: {s['size']} regions, {s['hits']} hits, {s['misses']} misses "
        f"(hit rate {s['hit_rate']:.0%})",
        template="plotly_white",
        hoverlabel={"align": "left"},
    )
    planar_layout(fig, lo, hi, legend=True)
    return fig
