"""Figures of the face-count and diameter study, from plain arrays or tables.

Both functions take a *table*: a pandas ``DataFrame``, a dict of equal-length
columns, a list of row dicts, or a numpy structured array.  They do not run
experiments; they draw what they are given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._common import layer_colours

__all__ = ["plot_face_counts", "plot_diameters", "as_columns"]


def as_columns(data: Any, required: Sequence[str] = ()) -> dict[str, list]:
    """A table as a dict of equal-length column lists.

    Parameters
    ----------
    data : DataFrame, mapping of columns, sequence of row mappings, or structured array
    required : column names that must be present

    Examples
    --------
    >>> as_columns([{"d": 2, "width": 4}, {"d": 3, "width": 4}], required=["d"])
    {'d': [2, 3], 'width': [4, 4]}
    """
    if hasattr(data, "columns") and hasattr(data, "to_dict"):  # pandas / polars-like
        cols = {str(k): list(data[k]) for k in data.columns}
    elif isinstance(data, Mapping):
        cols = {str(k): list(v) for k, v in data.items()}
    elif isinstance(data, np.ndarray) and data.dtype.names:
        cols = {k: list(data[k]) for k in data.dtype.names}
    elif isinstance(data, Sequence) and data and all(isinstance(r, Mapping) for r in data):
        keys: list[str] = []
        for r in data:
            keys.extend(str(k) for k in r if str(k) not in keys)
        missing = [k for k in keys if any(k not in r for r in data)]
        if missing:
            raise ValueError(f"every row needs the same columns; some rows lack {missing}")
        cols = {k: [r[k] for r in data] for k in keys}
    else:
        raise TypeError(
            "expected a table: a DataFrame, a dict of columns, a list of row dicts or a "
            f"structured array; got {type(data).__name__}"
        )
    lengths = {k: len(v) for k, v in cols.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"columns have different lengths: {lengths}")
    missing = [k for k in required if k not in cols]
    if missing:
        raise ValueError(f"the table lacks column(s) {missing}; it has {sorted(cols)}")
    return cols


def _counts_array(v: Any, where: str) -> np.ndarray:
    a = np.asarray(v).reshape(-1)
    if a.size and (not np.issubdtype(a.dtype, np.number) or np.any(a < 0) or np.any(a % 1)):
        raise ValueError(f"{where}: face counts must be non-negative integers")
    return a.astype(np.int64)


def plot_face_counts(
    data: Any,
    d: int | None = None,
    counts: str = "face_counts",
    row: str = "d",
    col: str = "width",
    color: str = "depth",
    log_y: bool = True,
    normalize: bool = True,
    title: str | None = None,
) -> Any:
    """Histograms of the number of facets (dual-graph neighbours) per region.

    Parameters
    ----------
    data : array_like of int, or table
        Either the face counts of one complex (``cx.face_counts()``), drawn as
        one histogram, or a table with one row per run whose ``counts`` column
        holds each run's array of face counts, drawn as a grid: one panel per
        (``row``, ``col``) value, one bar series per ``color`` value, runs
        sharing all three (trials) pooled.
    d : int, optional
        Input dimension of a single array, to draw the ``2d`` bound.  For a
        table the bound of a panel is drawn at ``2 * d`` when its runs share one
        value of the column ``"d"``.
    counts, row, col, color : str
        Column names in a table.
    log_y : bool
        Logarithmic y axis.
    normalize : bool
        Show the fraction of regions (else the number of regions).
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Bar`` trace per (panel, ``color`` value), named after the
        ``color`` value (``"depth 2"``); the bound ``2d`` (solid black) and each
        series' mean (dotted, in its colour) are vertical lines in
        ``fig.layout.shapes``.

    Notes
    -----
    The mean number of facets per region of a ReLU network's complex is at
    most ``2d`` (Gaines & Bi, ICLR 2026); the histogram is typically
    unimodal, right-skewed and peaks just below ``2d``.

    Examples
    --------
    >>> fig = plot_face_counts([3, 4, 4, 5, 2, 4], d=2)
    >>> fig.data[0].x.tolist(), fig.data[0].y.tolist()
    ([2, 3, 4, 5], [0.16666666666666666, 0.16666666666666666, 0.5, 0.16666666666666666])
    >>> table = {"d": [2, 2], "width": [4, 8], "depth": [1, 1], "face_counts": [[3, 4], [4, 4]]}
    >>> [t.name for t in plot_face_counts(table).data]
    ['depth 1', 'depth 1']
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    arr = _maybe_array(data)
    if arr is not None:
        c = _counts_array(arr, "data")
        rows_v, cols_v, col_v = [None], [None], [None]
        groups = {(None, None, None): c}
        dims = {(None, None): d}
    else:
        t = as_columns(data, required=[counts, row, col, color])
        rows_v = sorted(set(t[row]))
        cols_v = sorted(set(t[col]))
        col_v = sorted(set(t[color]))
        groups = {}
        for k in range(len(t[counts])):
            key = (t[row][k], t[col][k], t[color][k])
            c = _counts_array(t[counts][k], f"row {k}")
            groups[key] = np.concatenate([groups[key], c]) if key in groups else c
        dims = {}
        for r in rows_v:
            for cv in cols_v:
                src = t["d"] if "d" in t else []
                ds = {src[k] for k in range(len(src)) if t[row][k] == r and t[col][k] == cv}
                dims[(r, cv)] = int(next(iter(ds))) if len(ds) == 1 else None
    nr, nc = len(rows_v), len(cols_v)
    titles = [f"{row} = {r}, {col} = {cv}" for r in rows_v for cv in cols_v]
    fig = make_subplots(
        rows=nr,
        cols=nc,
        subplot_titles=titles if arr is None else None,
        shared_xaxes=True,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        vertical_spacing=0.08 if nr > 1 else 0.1,
    )
    colours = layer_colours(max(len(col_v), 1))
    shown: set = set()
    for ri, r in enumerate(rows_v):
        for ci, cv in enumerate(cols_v):
            for hi, h in enumerate(col_v):
                got = groups.get((r, cv, h))
                if got is None or not got.size:
                    continue
                c = got
                hist = np.bincount(c)
                x = np.nonzero(hist)[0]
                y = hist[x] / (c.size if normalize else 1)
                name = f"{color} {h}" if h is not None else "regions"
                fig.add_trace(
                    go.Bar(
                        x=x,
                        y=y,
                        name=name,
                        legendgroup=name,
                        showlegend=arr is None and name not in shown,
                        marker={"color": colours[hi]},
                        opacity=0.75,
                        hovertemplate=f"{name}<br>%{{x}} facets: %{{y:.4g}}<br>"
                        f"mean {c.mean():.3f} over {c.size} regions<extra></extra>",
                    ),
                    row=ri + 1,
                    col=ci + 1,
                )
                shown.add(name)
                fig.add_vline(
                    x=float(c.mean()),
                    line={"color": colours[hi], "dash": "dash", "width": 2},
                    layer="above",
                    row=ri + 1,
                    col=ci + 1,
                )
            dd = dims[(r, cv)]
            if dd is not None:
                fig.add_vline(
                    x=2 * dd,
                    line={"color": "black", "width": 1.5},
                    layer="above",
                    annotation_text="2d",
                    annotation_position="top right",
                    row=ri + 1,
                    col=ci + 1,
                )
    ylab = "fraction of regions" if normalize else "regions"
    for ri in range(nr):
        fig.update_yaxes(title_text=ylab, row=ri + 1, col=1)
    for ci in range(nc):
        fig.update_xaxes(title_text="facets per region", row=nr, col=ci + 1)
    if log_y:
        fig.update_yaxes(type="log", dtick=1, exponentformat="power")
    if title is None:
        title = "facets per region (dashed: mean; solid: the bound 2d)"
        if arr is not None and arr.size:
            title = f"facets per region of {arr.size} regions: mean {arr.mean():.3g} (dashed)"
            if d is not None:
                title += f", bound 2d = {2 * d} (solid)"
    fig.update_layout(
        title=title,
        template="plotly_white",
        barmode="group",
        bargap=0.15,
        height=max(400, 260 * nr),
    )
    return fig


def _maybe_array(data: Any) -> np.ndarray | None:
    """``data`` as a 1-D numeric array, or ``None`` if it is a table."""
    if isinstance(data, Mapping) or hasattr(data, "columns"):
        return None
    if isinstance(data, np.ndarray) and data.dtype.names:
        return None
    if isinstance(data, Sequence) and data and all(isinstance(r, Mapping) for r in data):
        return None
    try:
        a = np.asarray(data)
    except (TypeError, ValueError):
        return None
    if a.ndim != 1 or not np.issubdtype(a.dtype, np.number):
        raise TypeError(
            "plot_face_counts takes a 1-D array of face counts or a table (DataFrame, dict of "
            f"columns, list of row dicts); got {type(data).__name__} of shape {a.shape}"
        )
    return a


XS = ("width^depth", "log_regions")


def plot_diameters(
    data: Any,
    x: str = "width^depth",
    y: str = "diameter",
    by: str = "d",
    log: bool = True,
    mode: str | None = None,
    title: str | None = None,
) -> Any:
    """Dual-graph diameter against ``width^depth`` (or another quantity), a line per ``by``.

    Parameters
    ----------
    data : table
        One row per run (see :func:`as_columns`), with the column ``y`` and
        ``by``; ``x="width^depth"`` needs ``width`` and ``depth``,
        ``x="log_regions"`` needs ``regions``, ``width`` and ``depth`` and
        plots ``log(regions) / log(width * depth)``; any other ``x`` names a
        column.  Runs sharing (``by``, ``x``) (trials) are averaged; the error
        bars are their standard deviation.
    x : str
        ``"width^depth"``, ``"log_regions"`` or a column name.
    y : str
        The diameter column.
    by : str
        One line per value of this column.
    log : bool
        Logarithmic axes (both for ``"width^depth"``, the y axis otherwise).
    mode : str, optional
        Plotly scatter mode; default ``"lines+markers"`` for ``"width^depth"`` (runs share
        its values) and ``"markers"`` otherwise (lines between scattered runs mislead).
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Scatter`` (error bars: the spread over trials) per value of ``by``,
        named ``"d = 2"`` and so on, sorted by ``x``.

    Notes
    -----
    The diameter of the dual graph is ``O(width^depth)`` whatever the input
    dimension (Gaines & Bi, ICLR 2026).

    Examples
    --------
    >>> table = {"d": [2, 2, 2, 3], "width": [4, 4, 8, 4], "depth": [1, 1, 1, 1],
    ...          "diameter": [4, 6, 8, 4]}
    >>> fig = plot_diameters(table)
    >>> fig.data[0].name, fig.data[0].x.tolist(), fig.data[0].y.tolist()
    ('d = 2', [4.0, 8.0], [5.0, 8.0])
    """
    import plotly.graph_objects as go

    need = [y, by]
    if x in XS:
        need += ["width", "depth"] + (["regions"] if x == "log_regions" else [])
    else:
        need.append(x)
    t = as_columns(data, required=need)
    yv = np.asarray(t[y], dtype=np.float64)
    if x == "width^depth":
        xv = np.asarray(t["width"], dtype=np.float64) ** np.asarray(t["depth"], dtype=np.float64)
        xlab = "width<sup>depth</sup>"
    elif x == "log_regions":
        wd = np.asarray(t["width"], dtype=np.float64) * np.asarray(t["depth"], dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            xv = np.log(np.asarray(t["regions"], dtype=np.float64)) / np.log(wd)
        xlab = "log(regions) / log(width · depth)"
    else:
        xv = np.asarray(t[x], dtype=np.float64)
        xlab = x
    if mode is None:
        mode = "lines+markers" if x == "width^depth" else "markers"
    groups = sorted(set(t[by]))
    colours = layer_colours(len(groups))
    fig = go.Figure()
    bv = t[by]
    for gi, g in enumerate(groups):
        pick = np.array([v == g for v in bv])
        ok = pick & np.isfinite(xv) & np.isfinite(yv)
        ux = np.unique(xv[ok])
        mean = np.array([yv[ok & (xv == u)].mean() for u in ux])
        std = np.array([yv[ok & (xv == u)].std() for u in ux])
        runs = np.array([int((ok & (xv == u)).sum()) for u in ux])
        fig.add_trace(
            go.Scatter(
                x=ux,
                y=mean,
                error_y={"type": "data", "array": std, "visible": bool(np.any(std > 0))},
                mode=mode,
                marker={"color": colours[gi], "size": 8},
                line={"color": colours[gi]},
                customdata=np.c_[std, runs],
                hovertemplate=f"{by} = {g}<br>{xlab} = %{{x:.4g}}<br>{y} = %{{y:.4g}}"
                " ± %{customdata[0]:.3g} (%{customdata[1]} runs)<extra></extra>",
                name=f"{by} = {g}",
            )
        )
    fig.update_layout(
        title=title or f"dual-graph {y} against {xlab}",
        template="plotly_white",
        xaxis_title=xlab,
        yaxis_title=y,
    )
    if log:
        finite = yv[np.isfinite(yv) & (yv > 0)]
        ticks_y = _log_ticks(float(finite.min()), float(finite.max())) if finite.size else []
        fig.update_yaxes(type="log", tickvals=ticks_y or None)
        if x == "width^depth":
            fig.update_xaxes(type="log")
    ticks = np.unique(xv[np.isfinite(xv)])
    if x == "width^depth" and 0 < len(ticks) <= 12:
        fig.update_xaxes(tickvals=ticks.tolist(), ticktext=[f"{v:g}" for v in ticks])
    return fig


def _log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 tick values covering ``[lo, hi]`` (plotly labels short log ranges with bare digits)."""
    out: list[float] = []
    for k in range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 1):
        for m in (1, 2, 5):
            v = m * 10.0**k
            if lo / 1.5 <= v <= hi * 1.5:
                out.append(v)
    return out
