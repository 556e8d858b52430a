"""Independent reference: activation regions of a ReLU MLP on a 2-D box.

Plain numpy, deliberately independent of ``complexlib``.  The box is split
neuron by neuron (layer by layer, row order) with Sutherland-Hodgman clipping
of convex polygons by the zero line of each neuron's pre-activation, which is
affine on each current polygon.  Used by the tests to check region sets exactly.

Tolerances (all relative):

* a vertex is *on* a neuron's line when ``|value| <= 1e-12 * scale``, where
  ``scale`` bounds the magnitude of the terms summed to get the value
  (``|coef_x|*L + |coef_y|*L + |const|``, coefficients propagated in absolute
  value through the layers, ``L`` the largest box coordinate), i.e. ~5000 ulps;
* pieces whose width (twice the area over the longest side) is ``<= 1e-9`` times the
  largest box coordinate are dropped as rounding slivers (an area threshold would
  drop small real cells in large boxes).
"""

from __future__ import annotations

import numpy as np

REL_TOL = 1e-12
WIDTH_TOL = 1e-9

Weights = list[tuple[np.ndarray, np.ndarray]]


def _area(v: np.ndarray) -> float:
    """Signed (shoelace) area of a polygon with vertices ``v`` of shape (k, 2)."""
    x, y = v[:, 0], v[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _width(v: np.ndarray) -> float:
    """A lower bound on a convex polygon's width: twice its area over its longest side.

    Rounding slivers along a line are thin however long they are, while real
    cells of a complex are not; an area threshold would drop small real
    cells in large boxes.
    """
    longest = float(np.max(np.linalg.norm(np.roll(v, -1, axis=0) - v, axis=1)))
    return 2.0 * abs(_area(v)) / longest if longest > 0 else 0.0


def _centroid(v: np.ndarray) -> np.ndarray:
    """Area centroid of a convex polygon (strictly inside when its area is positive)."""
    x, y = v[:, 0], v[:, 1]
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    a = cross.sum() / 2.0
    return np.array([((x + xn) * cross).sum(), ((y + yn) * cross).sum()]) / (6.0 * a)


def _clip(v: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Sutherland-Hodgman: part of convex polygon ``v`` where the affine values ``s`` >= 0.

    ``s`` holds the values at the vertices, already snapped to exactly 0 within tolerance.
    """
    out: list[np.ndarray] = []
    k = len(v)
    for i in range(k):
        j = (i + 1) % k
        if s[i] >= 0:
            out.append(v[i])
        if s[i] * s[j] < 0:
            t = s[i] / (s[i] - s[j])
            out.append(v[i] + t * (v[j] - v[i]))
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def split_box_2d(
    weights: Weights,
    lo: float | np.ndarray,
    hi: float | np.ndarray,
    leaky: float = 0.0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return [(pattern int8 array, polygon vertices (k,2) float64 CCW), ...] one per 2-D cell
    of the box [lo,hi]^2 (lo/hi scalars or length-2 arrays).

    Pattern: one entry per hidden neuron (layer by layer, row order), +1 where the
    pre-activation is > 0 on the cell's interior, -1 otherwise (including identically 0).
    The last pair of ``weights`` is the output layer and does not split.
    """
    lo_a = np.broadcast_to(np.asarray(lo, dtype=np.float64), (2,))
    hi_a = np.broadcast_to(np.asarray(hi, dtype=np.float64), (2,))
    if np.any(hi_a <= lo_a):
        raise ValueError("need lo < hi in both coordinates")
    box = np.array([[lo_a[0], lo_a[1]], [hi_a[0], lo_a[1]], [hi_a[0], hi_a[1]], [lo_a[0], hi_a[1]]])
    length = float(np.abs(box).max())
    big = np.array([*np.maximum(np.abs(lo_a), np.abs(hi_a)), 1.0])  # bounds |x|, |y|, 1
    ident = np.hstack([np.eye(2), np.zeros((2, 1))])
    # cell = (vertices, affine map of layer input (d,3), its |.| bound, signs, [(P, Pabs)])
    cells: list[tuple[np.ndarray, np.ndarray, np.ndarray, list[int], list[np.ndarray]]] = [
        (box, ident, np.abs(ident), [], [])
    ]
    for W, b in weights[:-1]:
        W = np.asarray(W, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64).reshape(-1)
        # per cell: pre-activation map P (out,3) and its rounding-scale bound
        work = []
        for v, M, Mabs, signs, pres in cells:
            P = W @ M
            P[:, 2] += b
            Pabs = np.abs(W) @ Mabs
            Pabs[:, 2] += np.abs(b)
            work.append((v, P, Pabs, signs, pres, []))
        for j in range(W.shape[0]):
            new = []
            for v, P, Pabs, signs, pres, layer_signs in work:
                tol = REL_TOL * float(Pabs[j] @ big)
                s = v @ P[j, :2] + P[j, 2]
                s[np.abs(s) <= tol] = 0.0
                if not np.any(s > 0):  # non-positive or identically zero: no split
                    new.append((v, P, Pabs, signs, pres, [*layer_signs, -1]))
                elif not np.any(s < 0):
                    new.append((v, P, Pabs, signs, pres, [*layer_signs, 1]))
                else:
                    for sgn in (1, -1):
                        piece = _clip(v, sgn * s)
                        if len(piece) >= 3 and _width(piece) > WIDTH_TOL * length:
                            new.append((piece, P, Pabs, signs, pres, [*layer_signs, sgn]))
            work = new
        cells = []
        for v, P, Pabs, signs, pres, layer_signs in work:
            mask = np.where(np.array(layer_signs) > 0, 1.0, leaky)
            cells.append(
                (
                    v,
                    mask[:, None] * P,
                    abs(mask)[:, None] * Pabs,
                    signs + layer_signs,
                    [*pres, (P, Pabs)],
                )
            )
    result = []
    for v, _M, _Mabs, signs, pres in cells:
        c = np.array([*_centroid(v), 1.0])
        vals = np.concatenate([P @ c for P, _ in pres]) if pres else np.zeros(0)
        scale = np.concatenate([Pabs @ big for _, Pabs in pres]) if pres else np.zeros(0)
        book = np.array(signs, dtype=np.int8)
        clear = np.abs(vals) > 1e-9 * np.maximum(scale, 1e-300)
        from_centroid = np.where(vals > 0, 1, -1).astype(np.int8)
        if np.any(clear & (from_centroid != book)):
            raise RuntimeError("clip bookkeeping disagrees with centroid evaluation")
        result.append((np.where(clear, from_centroid, book).astype(np.int8), v))
    return result


def reference_patterns_2d(
    weights: Weights,
    lo: float | np.ndarray,
    hi: float | np.ndarray,
    leaky: float = 0.0,
) -> set[tuple[int, ...]]:
    """Set of patterns of the cells with positive area."""
    return {tuple(int(s) for s in p) for p, _ in split_box_2d(weights, lo, hi, leaky)}
