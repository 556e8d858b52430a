"""Bent hyperplanes and decision boundaries of a 2-D complex, as exact segments per region."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import (
    ON_LINE_RTOL,
    cell_polygons,
    check_complex,
    clip_halfplane,
    layer_colours,
    line_segment,
    line_trace,
    planar_layout,
    polyline,
    region_maps,
    view_box,
)

if TYPE_CHECKING:
    from ..complex import Complex

__all__ = ["plot_boundaries", "plot_decision_boundary", "neuron_segments", "decision_segments"]


def _domain_outline(cx: Complex, view: Any) -> np.ndarray:
    """The view box cut by the domain's sides: the outline of what the figures cover."""
    lo, hi = view_box(cx, view)
    P = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
    for a, c in zip(cx._dom_A, cx._dom_b):
        P = clip_halfplane(P, -a, -c)
    return P


def _check_layers(cx: Complex, layers: Any) -> list[int]:
    n_layers = len(cx.net.hidden_widths)
    if layers is None:
        return list(range(1, n_layers + 1))
    if isinstance(layers, (int, np.integer)):
        layers = [layers]
    out = []
    for k in layers:
        if not isinstance(k, (int, np.integer)) or not 1 <= k <= n_layers:
            raise ValueError(
                f"layers are numbered 1 (the first hidden layer) to {n_layers}; got {k!r}"
            )
        out.append(int(k))
    return sorted(set(out))


def neuron_segments(
    cx: Complex, view: Any = None, polys: list[np.ndarray | None] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every neuron's bent hyperplane as straight segments, one per region edge it holds.

    Within a region every neuron keeps its sign, so a neuron's zero set meets
    the closed region only on its boundary: it is the region's edges on which
    the neuron's (affine, on the region) pre-activation vanishes at both ends.
    An edge shared by two regions is reported once.

    Parameters
    ----------
    cx : Complex
        An enumerated complex with a 2-D input.
    view : float or (lo, hi), optional
        The clip box (see :func:`cell_polygons`).
    polys : list, optional
        ``cell_polygons(cx, view)``, if already computed.

    Returns
    -------
    segments : ndarray, shape (S, 2, 2)
        The two end points of each segment.
    neuron : ndarray, shape (S,)
        The neuron whose hyperplane holds it (coincident neurons each get a copy).
    region : ndarray, shape (S,)
        A region having the segment as (part of) an edge.

    Examples
    --------
    >>> import complexlib as cl
    >>> net = [(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))]
    >>> cx = cl.Complex(net, bound=1.0); _ = cx.bfs(progress=False)
    >>> seg, neuron, _ = neuron_segments(cx)
    >>> sorted(neuron.tolist())  # each axis is cut by the other into two segments
    [0, 0, 1, 1]
    """
    check_complex(cx, (2,), "neuron_segments")
    if polys is None:
        polys = cell_polygons(cx, view)
    Z, _, _, _ = region_maps(cx)
    lo, hi = view_box(cx, view)
    grid = 1e-6 * float(np.max(hi - lo))
    seen: set[tuple] = set()
    segs, neurons, regions = [], [], []
    for i, V in enumerate(polys):
        if V is None:
            continue
        a, c = Z[i, :, :2], Z[i, :, 2]
        nrm = np.linalg.norm(a, axis=1)
        vals = V @ a.T + c  # (k, N)
        tol = ON_LINE_RTOL * (nrm * (1.0 + np.abs(V).max()) + np.abs(c))
        on = (np.abs(vals) <= tol) & (nrm > 0)
        nxt = np.roll(np.arange(len(V)), -1)
        edge_on = on & on[nxt]  # (k, N): edge k -> k+1 lies on neuron j's line
        for k, j in zip(*np.nonzero(edge_on)):
            p, q = V[k], V[nxt[k]]
            key_p = tuple(np.round(p / grid).astype(np.int64))
            key_q = tuple(np.round(q / grid).astype(np.int64))
            key = (int(j), min(key_p, key_q), max(key_p, key_q))
            if key in seen:
                continue
            seen.add(key)
            segs.append(np.stack([p, q]))
            neurons.append(int(j))
            regions.append(i)
    return (
        np.array(segs).reshape(-1, 2, 2),
        np.array(neurons, dtype=np.int64),
        np.array(regions, dtype=np.int64),
    )


def plot_boundaries(
    cx: Complex,
    layers: int | Sequence[int] | None = None,
    view: Any = None,
    width: float = 2.0,
    title: str | None = None,
) -> Any:
    """Each neuron's bent hyperplane, drawn exactly and coloured by its layer.

    A neuron of layer 1 cuts the plane along a line; a neuron of a deeper layer
    along a *bent* hyperplane, a polyline that bends where it crosses the
    boundaries of earlier layers.  Each one is drawn region by region from the
    exact geometry (see :func:`neuron_segments`).

    Parameters
    ----------
    cx : Complex
        An enumerated complex with a 2-D input.
    layers : int or sequence of int, optional
        Hidden layers to draw, numbered from 1 (the first hidden layer) as in
        the legend; default all.
    view : float or (lo, hi), optional
        The clip box (see :func:`plot_complex`).
    width : float
        Line width.
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0, ``"domain"``: the outline of the drawn area (the view box
        within the domain); then one ``Scatter`` trace per drawn layer, named
        ``"layer k"``, holding all its neurons' segments separated by gaps.
        Hovering a segment (its ends or middle) names the neuron.

    Examples
    --------
    >>> import complexlib as cl
    >>> cx = cl.Complex(cl.mlp([2, 4, 3, 1], seed=0), bound=1.0)
    >>> _ = cx.bfs(progress=False)
    >>> [t.name for t in plot_boundaries(cx).data]
    ['domain', 'layer 1', 'layer 2']
    >>> [t.name for t in plot_boundaries(cx, layers=2).data]
    ['domain', 'layer 2']
    """
    import plotly.graph_objects as go

    check_complex(cx, (2,), "plot_boundaries")
    chosen = _check_layers(cx, layers)
    seg, neuron, region = neuron_segments(cx, view)
    layer_of = cx.net.layer_of_neuron
    widths = cx.net.hidden_widths
    first = np.concatenate([[0], np.cumsum(widths)])
    colours = layer_colours(len(widths))
    fig = go.Figure()
    P = _domain_outline(cx, view)
    fig.add_trace(
        line_trace(
            [P],
            closed=True,
            line={"color": "#888", "width": 1},
            hoverinfo="skip",
            name="domain",
            showlegend=False,
        )
    )
    for k in chosen:
        pick = np.nonzero(layer_of[neuron] == k - 1)[0]
        pieces = [np.stack([s[0], s.mean(axis=0), s[1]]) for s in seg[pick]]
        xs, ys = polyline(pieces)
        text: list = []
        for j, r in zip(neuron[pick], region[pick]):
            t = f"neuron {j} (layer {k}, unit {j - first[k - 1]})<br>edge of region {r}"
            text.extend([t, t, t, None])
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": colours[k - 1], "width": width},
                hoverinfo="text",
                text=text,
                name=f"layer {k}",
            )
        )
    fig.update_layout(
        title=title or f"bent hyperplanes of a {list(cx.net.widths)} network, by layer",
        template="plotly_white",
        hoverlabel={"align": "left"},
    )
    planar_layout(fig, *view_box(cx, view))
    return fig


def _check_output(cx: Complex, output: int | None) -> int | None:
    n_out = cx.net.output_dim
    if output is None:
        return 0 if n_out == 1 else None
    if not isinstance(output, (int, np.integer)) or not 0 <= output < n_out:
        raise ValueError(
            f"output must be None (argmax of the {n_out} outputs) or an int in [0, {n_out}), "
            f"got {output!r}"
        )
    return int(output)


def decision_segments(
    cx: Complex,
    output: int | None = None,
    level: float = 0.0,
    view: Any = None,
    polys: list[np.ndarray | None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The decision boundary as exact segments, one or more per region it crosses.

    For a scalar output (``output`` an int, or the only output) the boundary
    is the level set ``f = level``: in each region ``f = w . x + c`` is affine
    and its level set is the line ``w . x + c = level`` cut to the region's
    polygon.  For several outputs (``output=None``) it is where the two largest
    outputs tie: in each region, for each pair ``(a, b)``, the line
    ``f_a = f_b`` cut to the part of the polygon where ``f_a >= f_m`` for
    every other ``m``.

    Returns
    -------
    segments : ndarray, shape (S, 2, 2)
        The two end points of each segment.
    classes : ndarray, shape (S, 2)
        For the argmax, the two outputs that tie along the segment; for a level
        set, ``(output, output)``.
    region : ndarray, shape (S,)
        The region holding each segment.

    Examples
    --------
    >>> import complexlib as cl
    >>> cx = cl.Complex(cl.mlp([2, 6, 1], seed=0), bound=1.0)
    >>> _ = cx.bfs(progress=False)
    >>> seg, _, _ = decision_segments(cx)
    >>> f = cx.net.forward(seg.reshape(-1, 2))
    >>> bool(np.abs(f).max() < 1e-9)
    True
    """
    check_complex(cx, (2,), "decision_segments")
    out_k = _check_output(cx, output)
    if polys is None:
        polys = cell_polygons(cx, view)
    _, out, _, _ = region_maps(cx)
    segs, classes, regions = [], [], []
    for i, V in enumerate(polys):
        if V is None:
            continue
        F = out[i]  # (n_out, 3): f_o = F[o, :2] . x + F[o, 2]
        if out_k is not None:
            s = line_segment(V, F[out_k, :2], F[out_k, 2] - level)
            if s is not None:
                segs.append(s)
                classes.append((out_k, out_k))
                regions.append(i)
            continue
        n_out = F.shape[0]
        for a in range(n_out):
            for b in range(a + 1, n_out):
                P = V
                for m in range(n_out):
                    if m not in (a, b):
                        P = clip_halfplane(P, F[a, :2] - F[m, :2], F[a, 2] - F[m, 2])
                if len(P) < 2:
                    continue
                s = line_segment(P, F[a, :2] - F[b, :2], F[a, 2] - F[b, 2])
                if s is not None:
                    segs.append(s)
                    classes.append((a, b))
                    regions.append(i)
    return (
        np.array(segs).reshape(-1, 2, 2),
        np.array(classes, dtype=np.int64).reshape(-1, 2),
        np.array(regions, dtype=np.int64),
    )


def _class_areas(
    polys: list[np.ndarray | None], out: np.ndarray, out_k: int | None, level: float
) -> list[list[np.ndarray]]:
    """Per class (argmax) or per side of the level set: the exact sub-polygons."""
    if out_k is not None:
        areas: list[list[np.ndarray]] = [[], []]  # f < level, f > level
        for i, V in enumerate(polys):
            if V is None:
                continue
            w, c = out[i, out_k, :2], out[i, out_k, 2] - level
            for side, sign in ((0, -1.0), (1, 1.0)):
                P = clip_halfplane(V, sign * w, sign * c)
                if len(P) >= 3:
                    areas[side].append(P)
        return areas
    n_out = out.shape[1]
    areas = [[] for _ in range(n_out)]
    for i, V in enumerate(polys):
        if V is None:
            continue
        F = out[i]
        for a in range(n_out):
            P = V
            for m in range(n_out):
                if m != a:
                    P = clip_halfplane(P, F[a, :2] - F[m, :2], F[a, 2] - F[m, 2])
            if len(P) >= 3:
                areas[a].append(P)
    return areas


def plot_decision_boundary(
    cx: Complex,
    output: int | None = None,
    level: float = 0.0,
    view: Any = None,
    cells: bool = True,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Any:
    """The exact decision boundary of a 2-D complex, overlaid on its cells.

    Parameters
    ----------
    cx : Complex
        An enumerated complex with a 2-D input.
    output : int, optional
        Draw the level set ``f_output = level`` of one output.  Default: the
        level set of the only output, or for several outputs the argmax
        boundaries (where the two largest outputs tie).
    level : float
        The level of a scalar output's boundary.
    view : float or (lo, hi), optional
        The clip box (see :func:`plot_complex`).
    cells : bool
        Draw the cells' edges under the boundary.
    class_names : sequence of str, optional
        Names of the outputs in the legend (argmax only).
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        First the exact areas, one filled ``Scatter`` trace per side of the
        level set (``"f < level"``, ``"f > level"``) or per class (the part of
        each cell where that output is largest), then ``"cells"`` (the cell
        edges, if asked), then ``"decision boundary"``: the segments of
        :func:`decision_segments`, separated by gaps.  Hovering a segment (its
        ends or middle) names its region and the outputs that tie.

    Examples
    --------
    >>> import complexlib as cl
    >>> cx = cl.Complex(cl.mlp([2, 6, 3], seed=0), bound=1.0)
    >>> _ = cx.bfs(progress=False)
    >>> fig = plot_decision_boundary(cx)
    >>> [t.name for t in fig.data]
    ['class 0', 'class 1', 'class 2', 'cells', 'decision boundary']
    """
    import plotly.graph_objects as go
    from plotly.colors import qualitative

    check_complex(cx, (2,), "plot_decision_boundary")
    out_k = _check_output(cx, output)
    n_out = cx.net.output_dim
    if class_names is not None and len(class_names) != n_out:
        raise ValueError(f"class_names needs {n_out} names, got {len(class_names)}")
    polys = cell_polygons(cx, view)
    _, out, _, _ = region_maps(cx)
    seg, classes, region = decision_segments(cx, output, level, view, polys=polys)
    fig = go.Figure()
    areas = _class_areas(polys, out, out_k, level)
    fname = "f" if n_out == 1 else f"f{out_k}"
    if out_k is not None:
        names = [f"{fname} < {level:g}", f"{fname} > {level:g}"]
        fills = ["rgba(31, 119, 180, 0.25)", "rgba(214, 39, 40, 0.25)"]
    else:
        names = [f"class {a}" for a in range(n_out)]
        if class_names is not None:
            names = [str(c) for c in class_names]
        pal = qualitative.Pastel1 if n_out <= len(qualitative.Pastel1) else qualitative.Light24
        fills = [pal[a % len(pal)] for a in range(n_out)]
    for name, fill, pieces in zip(names, fills, areas):
        xs, ys = polyline(pieces, closed=True)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                fill="toself",
                fillcolor=fill,
                mode="lines",
                line={"width": 0, "color": fill},
                hoveron="fills",
                hoverinfo="name",
                name=name,
            )
        )
    if cells:
        fig.add_trace(
            line_trace(
                [V for V in polys if V is not None],
                closed=True,
                line={"color": "rgba(90, 90, 90, 0.6)", "width": 0.6},
                hoverinfo="skip",
                name="cells",
            )
        )
    pieces = [np.stack([s[0], s.mean(axis=0), s[1]]) for s in seg]
    xs, ys = polyline(pieces)
    text: list = []
    for (a, b), r in zip(classes, region):
        t = f"region {r}<br>" + (
            f"{fname} = {level:g}" if out_k is not None else f"{names[a]} = {names[b]} (tie)"
        )
        text.extend([t, t, t, None])
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line={"color": "black", "width": 2.5},
            hoverinfo="text",
            text=text,
            name="decision boundary",
        )
    )
    what = f"{fname} = {level:g}" if out_k is not None else "argmax"
    if title is None:
        title = f"decision boundary ({what}) of a {list(cx.net.widths)} network"
        if not len(seg):
            title += ": none in view"
    fig.update_layout(title=title, template="plotly_white", hoverlabel={"align": "left"})
    planar_layout(fig, *view_box(cx, view))
    return fig
