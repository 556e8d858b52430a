"""The cells of a 2-D or 3-D complex, coloured by a per-region value."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import (
    cell_polygons,
    check_complex,
    planar_layout,
    region_hovers,
    region_maps,
    view_box,
)

if TYPE_CHECKING:
    from ..complex import Complex

__all__ = ["plot_complex", "colour_values"]

COLOURS = ("facets", "output", "slope", "pattern")
LABELS = {"facets": "facets", "output": "f at centre", "slope": "|grad f|", "pattern": "pattern"}


def colour_values(cx: Complex, color: str | Callable[..., float], out: np.ndarray) -> np.ndarray:
    """One float per region for ``color`` (see :func:`plot_complex`); ``out`` are the maps."""
    n = len(cx)
    if callable(color):
        return np.array([float(color(cx[i])) for i in range(n)])
    if color == "facets":
        return cx.face_counts().astype(float)
    d = cx.net.input_dim
    if color == "output":
        c = cx.centers
        return np.einsum("bd,bd->b", out[:, 0, :d], c) + out[:, 0, d]
    if color == "slope":
        return np.linalg.norm(out[:, 0, :d], axis=1)
    if color == "pattern":
        return np.random.default_rng(0).permutation(n).astype(float)
    raise ValueError(f"unknown color {color!r}; use {', '.join(map(repr, COLOURS))} or a callable")


def colour_range(vals: np.ndarray) -> tuple[float, float]:
    """``(vmin, vmax)`` of the finite values (``(0, 1)`` if none)."""
    finite = vals[np.isfinite(vals)]
    if not finite.size:
        return 0.0, 1.0
    return float(finite.min()), float(finite.max())


def colour_of(vals: np.ndarray, vmin: float, vmax: float, colorscale: str) -> list[str]:
    """Colours of ``vals`` on ``colorscale`` over ``[vmin, vmax]`` (non-finite: the low end)."""
    from plotly.colors import sample_colorscale

    span = vmax - vmin if vmax > vmin else 1.0
    t = np.clip(np.nan_to_num((vals - vmin) / span, nan=0.0, posinf=1.0, neginf=0.0), 0, 1)
    return list(sample_colorscale(colorscale, t.tolist())) if len(t) else []


def colourbar_trace(
    d: int, colorscale: str, vmin: float, vmax: float, label: str, **colorbar: Any
) -> Any:
    """An empty trace that only shows a colour bar (2-D ``Scatter`` or 3-D ``Scatter3d``)."""
    import plotly.graph_objects as go

    marker = {
        "colorscale": colorscale,
        "cmin": vmin,
        "cmax": vmax,
        "color": [vmin],
        "showscale": True,
        "colorbar": {"title": {"text": label}, **colorbar},
    }
    kw = {"mode": "markers", "showlegend": False, "hoverinfo": "skip", "marker": marker}
    if d == 3:
        return go.Scatter3d(x=[None], y=[None], z=[None], name="colour bar", **kw)
    return go.Scatter(x=[None], y=[None], name="colour bar", **kw)


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
        What colours each cell: its number of neuron facets, the network's
        (first) output at its Chebyshev centre, the norm of its slope, a colour
        per pattern, or ``callable(region) -> float``.
    view : float or (lo, hi), optional
        Clip box for unbounded cells (default: the domain's bounding box, or a
        box around the bulk of the bounded regions for all of R^d).
    colorscale : str
        A Plotly colour scale name.
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per cell meeting the view box, named ``"region i"`` (a filled
        ``Scatter`` polygon in 2-D, a ``Mesh3d`` convex hull in 3-D, its
        vertices exactly the clipped region's), then one empty trace holding
        the colour bar.  Hovering a cell shows its index, pattern, facets,
        inradius and affine map.

    Examples
    --------
    >>> import complexlib as cl
    >>> cx = cl.Complex(cl.mlp([2, 4, 1], seed=0), bound=1.0)
    >>> _ = cx.bfs(progress=False)
    >>> fig = plot_complex(cx, color="slope")
    >>> sum(t.name.startswith("region") for t in fig.data) == len(cx)
    True
    """
    import plotly.graph_objects as go

    check_complex(cx, (2, 3), "plot_complex")
    d = cx.net.input_dim
    polys = cell_polygons(cx, view)
    _, out, _, _ = region_maps(cx)
    vals = colour_values(cx, color, out)
    vmin, vmax = colour_range(vals)
    cols = colour_of(vals, vmin, vmax, colorscale)
    label = LABELS.get(color, "value") if isinstance(color, str) else "value"
    hovers = region_hovers(cx, out)
    fig = go.Figure()
    for i, V in enumerate(polys):
        if V is None:
            continue
        hover = hovers[i] if color == "facets" else f"{hovers[i]}<br>{label} {vals[i]:.4g}"
        if d == 2:
            fig.add_trace(
                go.Scatter(
                    x=np.r_[V[:, 0], V[0, 0]],
                    y=np.r_[V[:, 1], V[0, 1]],
                    fill="toself",
                    fillcolor=cols[i],
                    mode="lines",
                    line={"color": "black", "width": 0.5},
                    hoveron="fills",
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
                    color=cols[i],
                    hoverinfo="text",
                    text=hover,
                    name=f"region {i}",
                )
            )
    fig.add_trace(colourbar_trace(d, colorscale, vmin, vmax, label))
    fig.update_layout(
        title=title or f"{len(cx)} regions of a {list(cx.net.widths)} network",
        template="plotly_white",
        hoverlabel={"align": "left"},
    )
    if d == 2:
        lo, hi = view_box(cx, view)
        planar_layout(fig, lo, hi, legend=False)
    else:
        fig.update_layout(
            width=820,
            height=700,
            margin={"l": 10, "r": 10, "t": 60, "b": 10},
            scene={
                "aspectmode": "data",
                "camera": {"eye": {"x": 1.6, "y": 1.6, "z": 1.1}},
                "xaxis_title": "x1",
                "yaxis_title": "x2",
                "zaxis_title": "x3",
            },
        )
    return fig
