"""The 1-D view of f: R -> R: pieces, breakpoints and the piecewise-constant derivative."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import check_complex, layer_colours, pattern_summary, region_maps

if TYPE_CHECKING:
    from ..complex import Complex

__all__ = ["pieces_1d", "plot_1d"]


def pieces_1d(cx: Complex, output: int = 0) -> dict[str, np.ndarray]:
    """The linear pieces of a network with one input, read off its exact regions.

    Each region of a 1-D complex is an interval ``[lo, hi]`` (its halfspaces
    ``a x + b <= 0`` give ``x <= -b/a`` where ``a > 0`` and ``x >= -b/a`` where
    ``a < 0``), and on it ``f(x) = slope * x + intercept``.

    Parameters
    ----------
    cx : Complex
        An enumerated complex of a network with one input.
    output : int
        Which output.

    Returns
    -------
    dict
        ``lo``, ``hi`` (interval ends, ``-inf`` / ``inf`` for unbounded ones),
        ``slope``, ``intercept`` and ``region`` (the region index), one entry
        per region sorted from left to right, and ``breakpoints``: the ends
        shared by consecutive pieces (where ``f`` may bend).

    Examples
    --------
    >>> import complexlib as cl
    >>> W1, b1 = np.array([[1.0], [2.0]]), np.array([-1.0, 1.0])
    >>> cx = cl.Complex([(W1, b1), (np.ones((1, 2)), np.zeros(1))])
    >>> _ = cx.bfs(progress=False)
    >>> p = pieces_1d(cx)
    >>> p["breakpoints"].tolist(), p["slope"].tolist()  # breakpoints at -b_i / w_i
    ([-0.5, 1.0], [0.0, 2.0, 3.0])
    """
    check_complex(cx, (1,), "pieces_1d")
    n_out = cx.net.output_dim
    if not isinstance(output, (int, np.integer)) or not 0 <= output < n_out:
        raise ValueError(f"output must be an int in [0, {n_out}), got {output!r}")
    _, out, A, b = region_maps(cx)
    n = len(cx)
    A = np.concatenate([A[:, :, 0], np.broadcast_to(cx._dom_A[:, 0], (n, len(cx._dom_b)))], 1)
    b = np.concatenate([b, np.broadcast_to(cx._dom_b, (n, len(cx._dom_b)))], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -b / A
    lo = np.where(A < 0, t, -np.inf).max(axis=1)
    hi = np.where(A > 0, t, np.inf).min(axis=1)
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    res = {
        "lo": lo,
        "hi": hi,
        "slope": out[order, output, 0],
        "intercept": out[order, output, 1],
        "region": order.astype(np.int64),
        "breakpoints": hi[:-1].copy(),
    }
    return res


def plot_1d(
    cx: Complex,
    output: int = 0,
    view: Any = None,
    patterns: bool = False,
    title: str | None = None,
) -> Any:
    """``f`` and ``f'`` of a network with one input, drawn exactly from its regions.

    The top panel shows the piecewise-linear ``f`` with its breakpoints
    marked; the bottom one its derivative, constant on each region and
    jumping at the breakpoints.  Optionally a third panel shows the
    activation pattern of each piece (one row per neuron).

    Parameters
    ----------
    cx : Complex
        An enumerated complex of a network with one input.
    output : int
        Which output.
    view : (lo, hi) or float, optional
        The x range; default the domain, or for all of R the breakpoints with
        a margin on each side.
    patterns : bool
        Add a panel with the activation pattern of each piece.
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces ``"f"`` (through the breakpoints and the view's ends),
        ``"breakpoints"`` (a marker at each breakpoint inside the view, at
        ``(x, f(x))``), ``"f'"`` (one horizontal segment per piece, with gaps
        between pieces), and with ``patterns`` a ``Heatmap`` ``"pattern"``.
        Hovering a piece shows its region, interval, slope and pattern.

    Examples
    --------
    >>> import complexlib as cl
    >>> cx = cl.Complex(cl.mlp([1, 4, 1], seed=0))
    >>> _ = cx.bfs(progress=False)
    >>> fig = plot_1d(cx)
    >>> bp = next(t for t in fig.data if t.name == "breakpoints")
    >>> bool(np.allclose(bp.x, pieces_1d(cx)["breakpoints"]))
    True
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    p = pieces_1d(cx, output)
    bps = p["breakpoints"]
    if view is None:
        ends = np.r_[p["lo"][:1], p["hi"][-1:]]
        if np.all(np.isfinite(ends)):
            x0, x1 = float(ends[0]), float(ends[1])
        else:
            inner = bps if len(bps) else np.zeros(1)
            span = max(float(inner.max() - inner.min()), 1.0)
            x0 = float(ends[0]) if np.isfinite(ends[0]) else float(inner.min()) - 0.15 * span
            x1 = float(ends[1]) if np.isfinite(ends[1]) else float(inner.max()) + 0.15 * span
    else:
        v = np.asarray(view, dtype=np.float64).reshape(-1)
        if v.size == 1 and np.isfinite(v[0]) and v[0] > 0:
            x0, x1 = -float(v[0]), float(v[0])
        elif v.size == 2 and np.all(np.isfinite(v)) and v[0] < v[1]:
            x0, x1 = float(v[0]), float(v[1])
        else:
            raise ValueError(f"view must be r > 0 or a pair lo < hi, got {view!r}")
    lo = np.clip(p["lo"], x0, x1)
    hi = np.clip(p["hi"], x0, x1)
    keep = hi > lo
    a, c, reg = p["slope"][keep], p["intercept"][keep], p["region"][keep]
    lo, hi = lo[keep], hi[keep]
    pats = cx.patterns
    n_out = cx.net.output_dim
    fname = "f" if n_out == 1 else f"f{output}"
    text = [
        f"<b>region {r}</b><br>x in [{p_lo:.4g}, {p_hi:.4g}]<br>{fname}' = {s:.4g}"
        f"<br>{fname} = {s:.4g} x {'-' if q < 0 else '+'} {abs(q):.4g}"
        f"<br>{pattern_summary(cx, pats[r])}"
        for r, s, q, p_lo, p_hi in zip(reg, a, c, lo, hi)
    ]
    rows = 3 if patterns else 2
    heights = [0.5, 0.3, 0.2] if patterns else [0.6, 0.4]
    fig = make_subplots(
        rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.05, row_heights=heights
    )
    # f: continuous, so the values at the ends of consecutive pieces agree
    xs = np.r_[lo, hi[-1:]]
    ys = np.r_[a * lo + c, a[-1:] * hi[-1:] + c[-1:]]
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line={"color": "#1f77b4", "width": 2},
            hoverinfo="skip",
            name=fname,
        ),
        row=1,
        col=1,
    )
    inside = (bps > x0) & (bps < x1)
    k_in = np.nonzero(inside)[0]
    # breakpoint k is the right end of sorted piece k
    fig.add_trace(
        go.Scatter(
            x=bps[inside],
            y=p["slope"][k_in] * bps[inside] + p["intercept"][k_in],
            mode="markers",
            marker={"color": "#d62728", "size": 7, "symbol": "circle"},
            hovertemplate="breakpoint x = %{x:.6g}<br>f = %{y:.4g}<extra></extra>",
            name="breakpoints",
        ),
        row=1,
        col=1,
    )
    dx, dy, dtext = [], [], []
    for k in range(len(a)):
        mid = 0.5 * (lo[k] + hi[k])
        dx.extend([lo[k], mid, hi[k], None])
        dy.extend([a[k], a[k], a[k], None])
        dtext.extend([text[k]] * 3 + [None])
    fig.add_trace(
        go.Scatter(
            x=dx,
            y=dy,
            mode="lines",
            line={"color": "#2ca02c", "width": 3},
            hoverinfo="text",
            text=dtext,
            name=f"{fname}'",
        ),
        row=2,
        col=1,
    )
    # invisible hover carriers on f, one per piece, at the piece's middle
    fig.add_trace(
        go.Scatter(
            x=0.5 * (lo + hi),
            y=a * 0.5 * (lo + hi) + c,
            mode="markers",
            marker={"size": 10, "opacity": 0},
            hoverinfo="text",
            text=text,
            showlegend=False,
            name="pieces",
        ),
        row=1,
        col=1,
    )
    for x in bps[inside]:
        for row in range(1, rows + 1):
            fig.add_vline(
                x=float(x), line={"color": "#bbb", "width": 1, "dash": "dot"}, row=row, col=1
            )
    if patterns:
        N = cx.net.n_neurons
        P = pats[reg].T.astype(float)  # (N, pieces)
        layer = cx.net.layer_of_neuron
        fig.add_trace(
            go.Heatmap(
                x=np.r_[lo, hi[-1:]],
                y=np.arange(N),
                z=P,
                zmin=-1,
                zmax=1,
                colorscale=[[0, "#f2f2f2"], [1, "#444"]],
                showscale=False,
                ygap=1,
                hovertemplate="neuron %{y}: %{z:+.0f}<extra></extra>",
                name="pattern",
            ),
            row=3,
            col=1,
        )
        cols = layer_colours(len(cx.net.hidden_widths))
        starts = [int(np.nonzero(layer == k)[0][0]) for k in range(len(cx.net.hidden_widths))]
        fig.update_yaxes(
            title_text="on (dark)",
            autorange="reversed",
            tickvals=starts,
            ticktext=[f"L{k + 1}" for k in range(len(starts))],
            row=3,
            col=1,
        )
        for k in range(1, len(cx.net.hidden_widths)):
            first = int(np.nonzero(layer == k)[0][0])
            fig.add_hline(y=first - 0.5, line={"color": cols[k], "width": 2}, row=3, col=1)
    fig.update_yaxes(title_text=f"{fname}(x)", row=1, col=1)
    fig.update_yaxes(title_text=f"{fname}'(x)", row=2, col=1)
    fig.update_xaxes(title_text="x", row=rows, col=1, range=[x0, x1])
    fig.update_layout(
        height=650 if patterns else 520,
        title=title
        or f"{fname}: R -> R of a {list(cx.net.widths)} network: {len(a)} pieces, "
        f"{int(inside.sum())} breakpoints",
        template="plotly_white",
        hoverlabel={"align": "left"},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    return fig
