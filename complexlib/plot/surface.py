"""The graph of f over a 2-D complex: exact planar pieces in 3-D (the "origami" picture)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import cell_polygons, check_complex, region_hovers, region_maps, view_box
from .cells import LABELS, colour_range, colour_values, colourbar_trace

if TYPE_CHECKING:
    from ..complex import Complex

__all__ = ["plot_surface"]


def plot_surface(
    cx: Complex,
    output: int = 0,
    boundaries: bool = True,
    color: str | Callable[..., float] = "output",
    view: Any = None,
    colorscale: str = "Viridis",
    opacity: float = 1.0,
    title: str | None = None,
) -> Any:
    """The graph ``z = f(x)`` of one output over a 2-D complex, one flat piece per region.

    On each region ``f`` is affine, ``f = W x + c``, so its graph over the
    region's clipped polygon is a planar polygon with corners
    ``(v, W v + c)`` at the polygon's vertices ``v``.  The pieces meet along
    the region boundaries (``f`` is continuous): the surface is folded along
    the bent hyperplanes.

    Parameters
    ----------
    cx : Complex
        An enumerated complex with a 2-D input.
    output : int
        Which output of the network to draw.
    boundaries : bool
        Also draw the region boundaries on the surface (the pieces' edges).
    color : {"output", "facets", "slope", "pattern"} or callable
        ``"output"`` colours the surface by its height; the others give each
        piece one colour, as in :func:`plot_complex`.
    view : float or (lo, hi), optional
        The box over which the surface is drawn (see :func:`plot_complex`).
    colorscale : str
        A Plotly colour scale name.
    opacity : float
        Opacity of the surface.
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0, ``"surface"``: one ``Mesh3d`` holding every piece, each
        polygon fanned into triangles over its own copies of its vertices (so
        ``z`` equals ``f`` at every mesh vertex); hovering shows the region.
        Then, if ``boundaries``, ``"boundaries"``: a ``Scatter3d`` of the
        pieces' edges, and last an empty trace holding the colour bar.

    Examples
    --------
    >>> import complexlib as cl
    >>> net = cl.mlp([2, 5, 1], seed=0)
    >>> cx = cl.Complex(net, bound=1.0)
    >>> _ = cx.bfs(progress=False)
    >>> fig = plot_surface(cx)
    >>> mesh = fig.data[0]
    >>> xy = np.c_[mesh.x, mesh.y]
    >>> bool(np.allclose(mesh.z, cx.net.forward(xy)[:, 0]))
    True
    """
    import plotly.graph_objects as go

    check_complex(cx, (2,), "plot_surface")
    n_out = cx.net.output_dim
    if not isinstance(output, (int, np.integer)) or not 0 <= output < n_out:
        raise ValueError(f"output must be an int in [0, {n_out}), got {output!r}")
    polys = cell_polygons(cx, view)
    _, out, _, _ = region_maps(cx)
    per_region = color != "output"
    vals = colour_values(cx, color, out[:, output : output + 1]) if per_region else None
    hovers = region_hovers(cx, out)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    zs: list[np.ndarray] = []
    texts: list[str] = []
    I: list[int] = []
    J: list[int] = []
    K: list[int] = []
    face_vals: list[float] = []
    ex: list = []
    ey: list = []
    ez: list = []
    start = 0
    for i, V in enumerate(polys):
        if V is None:
            continue
        z = V @ out[i, output, :2] + out[i, output, 2]
        k = len(V)
        xs.append(V[:, 0])
        ys.append(V[:, 1])
        zs.append(z)
        texts.extend([hovers[i]] * k)
        I.extend([start] * (k - 2))
        J.extend(range(start + 1, start + k - 1))
        K.extend(range(start + 2, start + k))
        if vals is not None:
            face_vals.extend([vals[i]] * (k - 2))
        start += k
        if boundaries:
            ex.extend(np.r_[V[:, 0], V[0, 0]].tolist() + [None])
            ey.extend(np.r_[V[:, 1], V[0, 1]].tolist() + [None])
            ez.extend(np.r_[z, z[0]].tolist() + [None])
    X, Y, Zs = np.concatenate(xs), np.concatenate(ys), np.concatenate(zs)
    if vals is None:
        intensity, mode = Zs, "vertex"
        vmin, vmax = colour_range(Zs)
        label = "f" if n_out == 1 else f"f{output}"
    else:
        intensity, mode = np.asarray(face_vals), "cell"
        vmin, vmax = colour_range(intensity)
        label = LABELS.get(color, "value") if isinstance(color, str) else "value"
    fig = go.Figure()
    fig.add_trace(
        go.Mesh3d(
            x=X,
            y=Y,
            z=Zs,
            i=I,
            j=J,
            k=K,
            intensity=intensity,
            intensitymode=mode,
            cmin=vmin,
            cmax=vmax,
            colorscale=colorscale,
            showscale=False,
            flatshading=True,
            opacity=opacity,
            hoverinfo="text",
            hovertext=texts,
            name="surface",
        )
    )
    if boundaries:
        fig.add_trace(
            go.Scatter3d(
                x=ex,
                y=ey,
                z=ez,
                mode="lines",
                line={"color": "black", "width": 2},
                hoverinfo="skip",
                showlegend=False,
                name="boundaries",
            )
        )
    fig.add_trace(colourbar_trace(3, colorscale, vmin, vmax, label))
    lo, hi = view_box(cx, view)
    span = hi - lo
    zname = "f(x)" if n_out == 1 else f"f{output}(x)"
    fig.update_layout(
        title=title or f"{zname} of a {list(cx.net.widths)} network: {len(cx)} planar pieces",
        template="plotly_white",
        hoverlabel={"align": "left"},
        width=820,
        height=700,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        scene={
            "xaxis_title": "x1",
            "yaxis_title": "x2",
            "zaxis_title": zname,
            "aspectmode": "manual",
            "aspectratio": {"x": 1, "y": float(span[1] / span[0]), "z": 0.7},
        },
    )
    return fig
