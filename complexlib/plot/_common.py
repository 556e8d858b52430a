"""Geometry shared by the figures: view boxes, clipped cells, exact clipping, hover text.

Everything here works on the exact region geometry (halfspaces, affine maps,
vertices); nothing samples a grid.  Convex polygons are ``(k, 2)`` arrays of
vertices in counter-clockwise order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import DegenerateGeometryError
from ..geometry import _halfspaces_from_maps, affine_maps, region_geometry

if TYPE_CHECKING:
    from ..complex import Complex

#: Relative tolerance for "this vertex lies on that line" in the figures.
ON_LINE_RTOL = 1e-7


def layer_colours(n: int) -> list[str]:
    """``n`` distinguishable colours, one per hidden layer (Plotly's qualitative palette)."""
    from plotly.colors import qualitative

    pal = qualitative.D3
    return [pal[k % len(pal)] for k in range(n)]


def view_box(cx: Complex, view: Any) -> tuple[np.ndarray, np.ndarray]:
    """The box ``(lo, hi)`` figures are clipped to.

    ``view`` is a float ``r`` (the box ``[-r, r]^d``), a pair ``(lo, hi)`` of
    scalars or length-``d`` sequences, or ``None``: the domain's bounding box,
    or for all of R^d a box around the bulk of the bounded regions.
    """
    d = cx.net.input_dim
    if view is not None:
        try:
            v = np.asarray(view, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"view must be a number or a pair (lo, hi), got {view!r}") from exc
        if v.ndim == 0:
            r = float(v)
            if not np.isfinite(r) or r <= 0:
                raise ValueError(f"view must be a positive finite number, got {r}")
            return -np.full(d, r), np.full(d, r)
        if v.shape[0] != 2 or v.ndim > 2 or (v.ndim == 2 and v.shape[1] != d):
            raise ValueError(
                f"view must be a number, a pair (lo, hi) of numbers or of length-{d} sequences; "
                f"got shape {v.shape}"
            )
        lo, hi = v[0] * np.ones(d), v[1] * np.ones(d)
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo < hi)):
            raise ValueError(f"view needs finite lo < hi in every coordinate, got {view!r}")
        return lo, hi
    A = cx._dom_A
    if A.shape[0]:
        from ..lp import LPStatus, solve_lp

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
    # all of R^d: a box around the bulk of the bounded regions (a few lie far out and
    # would shrink the rest to a dot)
    pts = cx.centers[cx.bounded] if cx.bounded.any() else cx.centers
    r = 1.25 * float(np.quantile(np.abs(pts).max(axis=1), 0.9)) if len(pts) else 1.0
    r = max(r, 1.0)
    return -np.full(d, r), np.full(d, r)


def planar_layout(fig: Any, lo: np.ndarray, hi: np.ndarray, legend: bool = True) -> None:
    """Equal axis scales over the view box ``[lo, hi]``, a near-square figure, axis titles."""
    pad = 0.01 * (hi - lo)
    fig.update_xaxes(title_text="x1", range=[lo[0] - pad[0], hi[0] + pad[0]], constrain="domain")
    fig.update_yaxes(
        title_text="x2",
        range=[lo[1] - pad[1], hi[1] + pad[1]],
        scaleanchor="x",
        scaleratio=1,
        constrain="domain",
    )
    ratio = float((hi[1] - lo[1]) / (hi[0] - lo[0]))
    width = 760
    height = int(np.clip(120 + 560 * ratio, 320, 900))
    top = 100 if legend else 70
    fig.update_layout(
        width=width, height=height + top - 70, margin={"l": 60, "r": 20, "t": top, "b": 50}
    )
    if legend:
        fig.update_layout(
            legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "xanchor": "left"}
        )


def region_maps(cx: Complex) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per region: pre-activation maps ``Z (n, N, d+1)``, output maps ``(n, n_out, d+1)``,
    and halfspaces ``A (n, N, d)``, ``b (n, N)`` (``A x + b <= 0``)."""
    pats = cx.patterns
    Z, out, bound = affine_maps(cx.net, pats, cx.device)
    A, b = _halfspaces_from_maps(Z, bound, pats)
    return Z, out, A, b


def cell_polygons(cx: Complex, view: Any = None) -> list[np.ndarray | None]:
    """Vertices of each region clipped to a view box (2-D: counter-clockwise polygons).

    Parameters
    ----------
    cx : Complex
        An enumerated complex.
    view : float or (lo, hi), optional
        The view box; default the domain's bounding box, or a box around the
        bounded regions for all of R^d.

    Returns
    -------
    list
        One ``(k, d)`` vertex array per region, ``None`` where the region
        does not meet the view box's interior.  The vertices are those of the
        region intersected with the view box, computed exactly from its
        halfspaces (in 1-D, the two ends of the interval).

    Examples
    --------
    >>> import complexlib as cl
    >>> cx = cl.Complex([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))], bound=1.0)
    >>> _ = cx.bfs(progress=False)
    >>> polys = cell_polygons(cx)
    >>> len(polys), polys[0].shape  # four quadrants of the box, each a square
    (4, (4, 2))
    """
    lo, hi = view_box(cx, view)
    _, _, A, b = region_maps(cx)
    return clipped_polygons(A, b, lo, hi, cx._dom_A, cx._dom_b, lp=cx.lp)


def clipped_polygons(
    A: np.ndarray,
    b: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    dom_A: np.ndarray | None = None,
    dom_b: np.ndarray | None = None,
    lp: str = "highs",
) -> list[np.ndarray | None]:
    """Vertices of each polyhedron ``A[k] x + b[k] <= 0`` (and the domain) within ``[lo, hi]``.

    ``None`` where it does not meet the box's interior; 2-D polygons counter-clockwise.
    """
    d = A.shape[2]
    boxA = np.vstack([np.eye(d), -np.eye(d)])
    boxb = np.concatenate([-hi, lo])
    if dom_A is not None and dom_b is not None:
        boxA, boxb = np.vstack([dom_A, boxA]), np.concatenate([dom_b, boxb])
    out: list[np.ndarray | None] = []
    for i in range(A.shape[0]):
        try:
            g = region_geometry(
                np.vstack([A[i], boxA]), np.concatenate([b[i], boxb]), want_vertices=True, lp=lp
            )
        except DegenerateGeometryError:
            out.append(None)
            continue
        V = g.vertices
        if V is None or len(V) < d + 1:
            out.append(None)
            continue
        out.append(ccw(V) if d == 2 else V)
    return out


def ccw(V: np.ndarray) -> np.ndarray:
    """The vertices of a convex polygon sorted counter-clockwise around their mean."""
    c = V.mean(axis=0)
    return V[np.argsort(np.arctan2(V[:, 1] - c[1], V[:, 0] - c[0]))]


def _scale(V: np.ndarray, a: np.ndarray, c: float) -> float:
    return float(np.linalg.norm(a) * (1.0 + np.abs(V).max()) + abs(c))


def clip_halfplane(V: np.ndarray, a: np.ndarray, c: float) -> np.ndarray:
    """The part ``{x : a . x + c >= 0}`` of the convex polygon ``V`` (Sutherland-Hodgman).

    Returns a ``(k, 2)`` array, counter-clockwise; ``k < 3`` means nothing of positive area.

    Examples
    --------
    >>> sq = np.array([[0.0, 0], [1, 0], [1, 1], [0, 1]])
    >>> clip_halfplane(sq, np.array([-1.0, 0]), 0.5)  # x <= 0.5
    array([[0. , 0. ],
           [0.5, 0. ],
           [0.5, 1. ],
           [0. , 1. ]])
    """
    if len(V) < 3:
        return V[:0]
    s = V @ a + c
    tol = ON_LINE_RTOL * 1e-3 * _scale(V, a, c)
    if np.all(s >= -tol):
        return V
    if np.all(s <= tol):
        return V[:0]
    out: list[np.ndarray] = []
    n = len(V)
    for k in range(n):
        p, q = V[k], V[(k + 1) % n]
        sp, sq = s[k], s[(k + 1) % n]
        if sp >= 0:
            out.append(p)
        if (sp > 0 and sq < 0) or (sp < 0 and sq > 0):
            out.append(p + (sp / (sp - sq)) * (q - p))
    W = np.array(out)
    keep = np.ones(len(W), dtype=bool)
    keep[1:] = np.linalg.norm(np.diff(W, axis=0), axis=1) > tol
    W = W[keep]
    if len(W) > 1 and np.linalg.norm(W[0] - W[-1]) <= tol:
        W = W[:-1]
    return W


def line_segment(V: np.ndarray, a: np.ndarray, c: float) -> np.ndarray | None:
    """The segment ``{x in V : a . x + c = 0}`` of a convex polygon, or ``None``.

    Vertices on the line (within a relative ``ON_LINE_RTOL``) count as on it; on
    an edge with a strict sign change the crossing is interpolated, so the value
    of ``a . x + c`` at the ends is zero up to rounding.  A line that only
    touches the polygon at one vertex gives ``None``.

    Examples
    --------
    >>> sq = np.array([[0.0, 0], [1, 0], [1, 1], [0, 1]])
    >>> line_segment(sq, np.array([1.0, -1.0]), 0.0)  # the diagonal x = y
    array([[0., 0.],
           [1., 1.]])
    """
    if len(V) < 2 or not np.any(a):
        return None
    s = V @ a + c
    tol = ON_LINE_RTOL * _scale(V, a, c)
    on = np.abs(s) <= tol
    pts = [V[on]]
    n = len(V)
    nxt = np.roll(np.arange(n), -1)
    cross = ~on & ~on[nxt] & (np.sign(s) != np.sign(s[nxt]))
    for k in np.nonzero(cross)[0]:
        p, q = V[k], V[nxt[k]]
        pts.append((p + (s[k] / (s[k] - s[nxt[k]])) * (q - p))[None])
    P = np.vstack(pts)
    if len(P) < 2:
        return None
    direction = np.array([-a[1], a[0]])
    t = P @ direction
    seg = P[[int(np.argmin(t)), int(np.argmax(t))]]
    if np.linalg.norm(seg[1] - seg[0]) <= tol / max(float(np.linalg.norm(a)), 1e-300):
        return None
    return seg


def polyline(pieces: Sequence[np.ndarray], closed: bool = False) -> tuple[list, list]:
    """``x`` and ``y`` lists drawing each piece, separated by ``None`` (one Plotly trace)."""
    xs: list = []
    ys: list = []
    for P in pieces:
        Q = np.vstack([P, P[:1]]) if closed else P
        xs.extend(Q[:, 0].tolist() + [None])
        ys.extend(Q[:, 1].tolist() + [None])
    return xs, ys


def line_trace(pieces: Sequence[np.ndarray], closed: bool = False, **scatter: Any) -> Any:
    """One Plotly line trace drawing every piece (see :func:`polyline`)."""
    import plotly.graph_objects as go

    xs, ys = polyline(pieces, closed=closed)
    return go.Scatter(x=xs, y=ys, mode="lines", **scatter)


def pattern_summary(cx: Complex, pattern: np.ndarray, max_chars: int = 48) -> str:
    """A short text of a pattern: ``+``/``-`` per neuron by layer, or counts when long."""
    widths = cx.net.hidden_widths
    parts, start = [], 0
    for k, w in enumerate(widths):
        s = pattern[start : start + w]
        start += w
        if len(pattern) <= max_chars:
            parts.append(f"L{k + 1} " + "".join("+" if v > 0 else "-" for v in s))
        else:
            parts.append(f"L{k + 1} {int((s > 0).sum())}/{w} on")
    return "<br>".join(parts)


def affine_text(W: np.ndarray, c: np.ndarray, max_outputs: int = 4) -> str:
    """``f = 0.12 x1 - 0.5 x2 + 0.3`` per output (``f0``, ``f1``, ... when several)."""
    lines = []
    n_out = W.shape[0]
    for o in range(min(n_out, max_outputs)):
        name = "f" if n_out == 1 else f"f{o}"
        terms = []
        for k, w in enumerate(W[o]):
            sign = "-" if w < 0 else "+"
            terms.append(f"{sign} {abs(w):.4g} x{k + 1}")
        sign = "-" if c[o] < 0 else "+"
        txt = " ".join(terms) + f" {sign} {abs(c[o]):.4g}"
        txt = txt[2:] if txt.startswith("+ ") else "-" + txt[2:]
        lines.append(f"{name} = {txt}")
    if n_out > max_outputs:
        lines.append(f"... ({n_out} outputs)")
    return "<br>".join(lines)


def facet_neurons(cx: Complex) -> list[np.ndarray]:
    """The neurons of each region's neuron facets (from the search's store)."""
    ptr = cx.store.facet_ptr.view()
    neu = cx.store.facet_neuron.view()
    return [neu[ptr[i] : ptr[i + 1]] for i in range(len(cx))]


def region_hovers(cx: Complex, out: np.ndarray) -> list[str]:
    """Hover text of every region: index, pattern, facets, inradius, affine map.

    ``out`` holds the regions' output maps, ``(n, n_out, d + 1)``.
    """
    fac = facet_neurons(cx)
    radii, bounded, pats = cx.inradii, cx.bounded, cx.patterns
    d = cx.net.input_dim
    texts = []
    for i in range(len(cx)):
        f = fac[i]
        fac_txt = ", ".join(str(int(j)) for j in f[:12]) + (", ..." if len(f) > 12 else "")
        texts.append(
            f"<b>region {i}</b> ({'bounded' if bounded[i] else 'unbounded'})"
            f"<br>{pattern_summary(cx, pats[i])}"
            f"<br>facets {len(f)}: neurons {fac_txt}"
            f"<br>inradius {radii[i]:.4g}<br>{affine_text(out[i, :, :d], out[i, :, d])}"
        )
    return texts


def check_complex(cx: Any, dims: Sequence[int] | None, what: str, hint: str = "") -> None:
    """Raise a clear error unless ``cx`` is an enumerated complex (of a dimension in ``dims``)."""
    from ..complex import Complex

    if not isinstance(cx, Complex):
        raise TypeError(f"{what} takes a complexlib.Complex, got {type(cx).__name__}")
    d = cx.net.input_dim
    if dims is not None and d not in dims:
        each = [f"{k}-D" for k in dims]
        names = ", ".join(each[:-1]) + " and " + each[-1] if len(each) > 1 else each[0]
        hint = "; plot_1d draws f: R -> R" if d == 1 else hint
        raise ValueError(f"{what} draws {names} complexes; this one is {d}-D{hint}")
    if len(cx) == 0:
        raise ValueError(f"{what}: the complex has no regions yet; call cx.bfs() first")
