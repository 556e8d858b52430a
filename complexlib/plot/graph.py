"""The dual graph of a complex, laid out at the regions' centres."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import (
    cell_polygons,
    check_complex,
    layer_colours,
    line_trace,
    planar_layout,
    polyline,
    region_hovers,
    region_maps,
    view_box,
)

if TYPE_CHECKING:
    from ..complex import Complex

__all__ = ["plot_dual_graph"]

LAYOUTS = ("centers", "spring")


def plot_dual_graph(
    cx: Complex,
    layout: str = "centers",
    cells: bool = True,
    view: Any = None,
    colorscale: str = "Viridis",
    seed: int = 0,
    title: str | None = None,
) -> Any:
    """The dual graph: a node per region, an edge per shared facet, coloured by layer.

    Parameters
    ----------
    cx : Complex
        An enumerated complex.
    layout : {"centers", "spring"}
        ``"centers"``: each node at its region's Chebyshev centre
        (``cx.centers``; 1-, 2- or 3-D complexes).  ``"spring"``: networkx's
        spring layout in the plane (any dimension).
    cells : bool
        Draw the cells' edges under a 2-D graph laid out at the centres.
    view : float or (lo, hi), optional
        The box the cells are clipped to and the axes show (see
        :func:`plot_complex`); nodes outside it are still drawn.
    colorscale : str
        Colour scale of the nodes (coloured by their number of facets).
    seed : int
        Seed of the spring layout.
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        ``"cells"`` first (2-D, if asked), then one line trace per hidden
        layer, ``"layer k edges"``, holding the edges whose shared facet lies
        on a neuron of layer ``k``, then ``"regions"``: a marker per node
        (colour: its number of facets), hovering shows the region.

    Examples
    --------
    >>> import complexlib as cl
    >>> cx = cl.Complex(cl.mlp([2, 4, 3, 1], seed=0), bound=1.0)
    >>> _ = cx.bfs(progress=False)
    >>> fig = plot_dual_graph(cx)
    >>> len(fig.data[-1].x) == len(cx)
    True
    """
    import plotly.graph_objects as go

    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; use one of {', '.join(map(repr, LAYOUTS))}")
    if layout == "centers":
        check_complex(cx, (1, 2, 3), "plot_dual_graph", hint="; use layout='spring'")
    else:
        check_complex(cx, None, "plot_dual_graph")
    d = cx.net.input_dim
    moved = np.zeros(len(cx), dtype=bool)
    polys = None
    if layout == "centers":
        pos = cx.centers
        if d in (2, 3):
            # a node whose centre lies outside the view goes where its cell meets the view
            lo, hi = view_box(cx, view)
            outside = np.any((pos < lo) | (pos > hi), axis=1)
            if outside.any() or (cells and d == 2):
                polys = cell_polygons(cx, view)
            for i in np.nonzero(outside)[0]:
                V = polys[i] if polys is not None else None
                if V is not None:
                    pos[i] = _centroid(V)
                    moved[i] = True
        if d == 1:
            pos = np.c_[pos, np.zeros(len(pos))]
    else:
        import networkx as nx

        G = cx.dual_graph()
        p = nx.spring_layout(G, seed=seed)
        pos = np.array([p[i] for i in range(len(cx))])
    dim = 3 if (layout == "centers" and d == 3) else 2
    e, neuron = cx.edges()
    layer = cx.net.layer_of_neuron[neuron] if len(neuron) else np.zeros(0, dtype=np.int64)
    colours = layer_colours(len(cx.net.hidden_widths))
    fig = go.Figure()
    if cells and layout == "centers" and d == 2 and polys is not None:
        fig.add_trace(
            line_trace(
                [V for V in polys if V is not None],
                closed=True,
                line={"color": "rgba(120, 120, 120, 0.5)", "width": 0.6},
                hoverinfo="skip",
                name="cells",
            )
        )
    for k in range(len(cx.net.hidden_widths)):
        pick = e[layer == k]
        seg = [pos[[a, b]] for a, b in pick]
        kw: dict[str, Any] = {
            "mode": "lines",
            "line": {"color": colours[k], "width": 1.5},
            "hoverinfo": "skip",
            "name": f"layer {k + 1} edges",
        }
        if dim == 3:
            xs, ys, zs = _polyline3(seg)
            fig.add_trace(go.Scatter3d(x=xs, y=ys, z=zs, **kw))
        else:
            xs, ys = polyline(seg)
            fig.add_trace(go.Scatter(x=xs, y=ys, **kw))
    fc = cx.face_counts()
    _, out, _, _ = region_maps(cx)
    text = region_hovers(cx, out)
    centres = cx.centers
    for i in np.nonzero(moved)[0]:
        c = ", ".join(f"{v:.3g}" for v in centres[i])
        text[i] += f"<br>(centre ({c}) is out of view: drawn in the visible part)"
    marker = {
        "size": 7 if dim == 2 else 4,
        "symbol": np.where(moved, "circle-open", "circle").tolist(),
        "color": fc,
        "colorscale": colorscale,
        "showscale": True,
        "colorbar": {"title": {"text": "facets"}},
        "line": {"width": 0.5, "color": "black"},
    }
    kw = {"mode": "markers", "marker": marker, "hoverinfo": "text", "text": text, "name": "regions"}
    if dim == 3:
        fig.add_trace(go.Scatter3d(x=pos[:, 0], y=pos[:, 1], z=pos[:, 2], **kw))
    else:
        fig.add_trace(go.Scatter(x=pos[:, 0], y=pos[:, 1], **kw))
    fig.update_layout(
        title=title
        or f"dual graph of a {list(cx.net.widths)} network: {len(cx)} regions, {len(e)} edges",
        template="plotly_white",
        hoverlabel={"align": "left"},
    )
    if layout == "centers" and d == 2:
        planar_layout(fig, *view_box(cx, view))
    elif layout == "centers" and d == 1:
        fig.update_xaxes(title_text="x1")
        fig.update_yaxes(visible=False)
        fig.update_layout(height=300)
    elif dim == 3:
        fig.update_layout(
            scene={
                "aspectmode": "data",
                "camera": {"eye": {"x": 1.6, "y": 1.6, "z": 1.1}},
                "xaxis_title": "x1",
                "yaxis_title": "x2",
                "zaxis_title": "x3",
            },
            legend={"x": 0, "y": 1},
            width=820,
            height=700,
            margin={"l": 10, "r": 10, "t": 60, "b": 10},
        )
    else:
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1)
    return fig


def _centroid(V: np.ndarray) -> np.ndarray:
    """Area centroid of a convex polygon (vertex mean in other dimensions)."""
    if V.shape[1] != 2:
        return V.mean(axis=0)
    x, y = V[:, 0], V[:, 1]
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    area = cross.sum() / 2
    if abs(area) <= 1e-300:
        return V.mean(axis=0)
    return np.array([((x + xn) * cross).sum(), ((y + yn) * cross).sum()]) / (6 * area)


def _polyline3(pieces: list[np.ndarray]) -> tuple[list, list, list]:
    xs: list = []
    ys: list = []
    zs: list = []
    for P in pieces:
        xs.extend(P[:, 0].tolist() + [None])
        ys.extend(P[:, 1].tolist() + [None])
        zs.extend(P[:, 2].tolist() + [None])
    return xs, ys, zs
