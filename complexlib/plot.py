"""Plotly figures of complexes, drawn from the exact region geometry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .exceptions import DegenerateGeometryError
from .geometry import _halfspaces_from_maps, affine_maps, region_geometry

if TYPE_CHECKING:
    from .complex import Complex

__all__ = ["cell_polygons", "plot_complex", "save"]


def _view_box(cx: Complex, view: Any) -> tuple[np.ndarray, np.ndarray]:
    d = cx.net.input_dim
    if view is not None:
        v = np.asarray(view, dtype=np.float64)
        if v.ndim == 0:
            return -np.full(d, float(v)), np.full(d, float(v))
        return v[0] * np.ones(d), v[1] * np.ones(d)
    A = cx._dom_A
    if A.shape[0]:
        from .lp import LPStatus, solve_lp

        lo, hi = np.empty(d), np.empty(d)
        for k in range(d):
            e = np.zeros(d)
            e[k] = 1.0
            top = solve_lp(-e, A, -cx._dom_b, backend=cx.lp)
            bot = solve_lp(e, A, -cx._dom_b, backend=cx.lp)
            ok = top.status is LPStatus.OPTIMAL and bot.status is LPStatus.OPTIMAL
            hi[k] = -top.fun if ok else np.nan
            lo[k] = bot.fun if ok else np.nan
        if np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)):
            return lo, hi
    # all of R^d: a box around the bulk of the bounded regions (a few lie far out)
    pts = cx.centers[cx.bounded] if cx.bounded.any() else cx.centers
    r = 1.5 * float(np.quantile(np.abs(pts).max(axis=1), 0.95)) if len(pts) else 1.0
    r = max(r, 1.0)
    return -np.full(d, r), np.full(d, r)


def cell_polygons(cx: Complex, view: Any = None) -> list[np.ndarray | None]:
    """Vertices of each region clipped to a view box (2-D: counter-clockwise polygons).

    Parameters
    ----------
    cx : Complex
    view : float or (lo, hi), optional
        The view box; default the domain's bounding box, or a box around the
        bounded regions for all of R^d.

    Returns
    -------
    list
        One ``(k, d)`` vertex array per region, ``None`` where the region
        does not meet the view box's interior.
    """
    lo, hi = _view_box(cx, view)
    d = cx.net.input_dim
    Z, _, bound = affine_maps(cx.net, cx.patterns, cx.device)
    A, b = _halfspaces_from_maps(Z, bound, cx.patterns)
    boxA = np.vstack([np.eye(d), -np.eye(d)])
    boxb = np.concatenate([-hi, lo])
    out: list[np.ndarray | None] = []
    for i in range(len(cx)):
        Ai = np.vstack([A[i], cx._dom_A, boxA])
        bi = np.concatenate([b[i], cx._dom_b, boxb])
        try:
            g = region_geometry(Ai, bi, want_vertices=True, lp=cx.lp)
        except DegenerateGeometryError:
            out.append(None)
            continue
        V = g.vertices
        if V is None or len(V) < d + 1:
            out.append(None)
            continue
        if d == 2:
            c = V.mean(axis=0)
            V = V[np.argsort(np.arctan2(V[:, 1] - c[1], V[:, 0] - c[0]))]
        out.append(V)
    return out


def _colour_values(cx: Complex, color: str | Callable[..., float]) -> np.ndarray:
    n = len(cx)
    if callable(color):
        return np.array([float(color(cx[i])) for i in range(n)])
    if color == "facets":
        return cx.face_counts().astype(float)
    if color in ("output", "slope"):
        _, out, _ = affine_maps(cx.net, cx.patterns, cx.device)
        d = cx.net.input_dim
        if color == "output":
            c = cx.centers
            return np.einsum("bd,bd->b", out[:, 0, :d], c) + out[:, 0, d]
        return np.linalg.norm(out[:, 0, :d], axis=1)
    if color == "pattern":
        return np.random.default_rng(0).permutation(n).astype(float)
    raise ValueError(
        f"unknown color {color!r}; use 'facets', 'output', 'slope', 'pattern' or a callable"
    )


def plot_complex(
    cx: Complex,
    color: str | Callable[..., float] = "facets",
    view: Any = None,
    colorscale: str = "Viridis",
    title: str | None = None,
) -> Any:
    """Plotly figure of a 2-D complex (filled polygons) or 3-D complex (translucent meshes).

    Parameters
    ----------
    cx : Complex
        An enumerated complex with a 2-D or 3-D input.
    color : {"facets", "output", "slope", "pattern"} or callable
        What colours each cell: its number of facets, the network's (first)
        output at its centre, the norm of its slope, a colour per pattern, or
        ``callable(region) -> float``.
    view : float or (lo, hi), optional
        Clip box for unbounded cells.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per cell meeting the view box, then one (empty) trace holding the colour bar.
    """
    import plotly.graph_objects as go
    from plotly.colors import sample_colorscale

    d = cx.net.input_dim
    if d not in (2, 3):
        raise ValueError(f"plot_complex draws 2-D and 3-D complexes; this one is {d}-D")
    polys = cell_polygons(cx, view)
    vals = _colour_values(cx, color)
    finite = vals[np.isfinite(vals)]
    vmin, vmax = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    span = vmax - vmin if vmax > vmin else 1.0
    fc = cx.face_counts()
    radii = cx.inradii
    fig = go.Figure()
    for i, V in enumerate(polys):
        if V is None:
            continue
        t = (vals[i] - vmin) / span
        col = sample_colorscale(colorscale, [float(np.clip(np.nan_to_num(t, nan=0.0), 0, 1))])[0]
        hover = (
            f"region {i}<br>facets {fc[i]}<br>inradius {radii[i]:.4g}"
            f"<br>{'bounded' if cx.bounded[i] else 'unbounded'}<br>value {vals[i]:.4g}"
        )
        if d == 2:
            fig.add_trace(
                go.Scatter(
                    x=np.r_[V[:, 0], V[0, 0]],
                    y=np.r_[V[:, 1], V[0, 1]],
                    fill="toself",
                    fillcolor=col,
                    mode="lines",
                    line={"color": "black", "width": 0.5},
                    hoverinfo="text",
                    text=hover,
                    showlegend=False,
                    name=f"region {i}",
                )
            )
        else:
            fig.add_trace(
                go.Mesh3d(
                    x=V[:, 0],
                    y=V[:, 1],
                    z=V[:, 2],
                    alphahull=0,
                    opacity=0.3,
                    color=col,
                    hoverinfo="text",
                    text=hover,
                    name=f"region {i}",
                )
            )
    label = color if isinstance(color, str) else "value"
    fig.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            showlegend=False,
            hoverinfo="skip",
            marker={
                "colorscale": colorscale,
                "cmin": vmin,
                "cmax": vmax,
                "color": [vmin],
                "showscale": True,
                "colorbar": {"title": label},
            },
        )
        if d == 2
        else go.Scatter3d(
            x=[None],
            y=[None],
            z=[None],
            mode="markers",
            showlegend=False,
            hoverinfo="skip",
            marker={
                "colorscale": colorscale,
                "cmin": vmin,
                "cmax": vmax,
                "color": [vmin],
                "showscale": True,
                "colorbar": {"title": label},
            },
        )
    )
    fig.update_layout(
        title=title or f"{len(cx)} regions of a {list(cx.net.widths)} network",
        template="plotly_white",
    )
    if d == 2:
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def save(fig: Any, path: Any) -> None:
    """Write a figure: ``.html`` (self-contained, works offline) or an image via kaleido."""
    path = str(path)
    if path.endswith(".html"):
        fig.write_html(path, include_plotlyjs=True, full_html=True)
        return
    try:
        fig.write_image(path)
    except (ValueError, ImportError, RuntimeError) as exc:
        raise RuntimeError(
            f"cannot write {path}: static image export needs kaleido (pip install kaleido) "
            f"and a browser; write .html instead ({exc})"
        ) from exc
