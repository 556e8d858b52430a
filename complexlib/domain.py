"""Input domains: all of R^d, boxes and polytopes.

A domain is a polyhedron ``{x : A x + b <= 0}`` (no rows for all of R^d).
A region belongs to the complex of a domain when its interior meets the
domain's interior; the domain's sides are kept apart from neuron facets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Domain", "RealSpace", "Box", "Polytope", "as_domain", "domain_polygon"]


class Domain:
    """Base class: a full-dimensional polyhedron ``{x : A x + b <= 0}`` in R^d."""

    kind = "domain"

    def constraints(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``(A, b)`` of the domain in ``A x + b <= 0`` form."""
        raise NotImplementedError

    def contains(self, x: np.ndarray, tol: float = 0.0) -> np.ndarray:
        """Whether each point of ``x`` (shape (n, d)) lies in the domain."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        A, b = self.constraints(x.shape[1])
        if A.shape[0] == 0:
            return np.ones(x.shape[0], dtype=bool)
        return np.all(x @ A.T + b <= tol, axis=1)

    def interior_point(self, d: int) -> np.ndarray:
        """A point well inside the domain (its Chebyshev centre)."""
        from .geometry import chebyshev_ball

        A, b = self.constraints(d)
        c, r = chebyshev_ball(A, b)
        if c is None or r <= 0:
            raise ValueError(f"the domain {self!r} is empty or not full-dimensional")
        return c

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly description (arrays as lists)."""
        raise NotImplementedError

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Domain:
        """Inverse of :meth:`to_dict`."""
        kind = data["kind"]
        if kind == "R^d":
            return RealSpace()
        if kind == "box":
            return Box(data["lo"], data["hi"])
        if kind == "polytope":
            return Polytope(data["A"], data["b"])
        raise ValueError(f"unknown domain kind {kind!r}")


class RealSpace(Domain):
    """All of R^d (no constraints).

    Examples
    --------
    >>> RealSpace().constraints(2)[0].shape
    (0, 2)
    """

    kind = "R^d"

    def constraints(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((0, d)), np.zeros(0)

    def interior_point(self, d: int) -> np.ndarray:
        return np.zeros(d)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "R^d"}

    def __repr__(self) -> str:
        return "RealSpace()"


class Box(Domain):
    """The box ``{x : lo <= x <= hi}``.

    Parameters
    ----------
    lo, hi : float or array_like
        Corners; scalars are broadcast to every coordinate.

    Examples
    --------
    >>> Box(-1, 1).contains(np.array([[0.5, 0.5], [2.0, 0.0]]))
    array([ True, False])
    """

    kind = "box"

    def __init__(self, lo: Any, hi: Any) -> None:
        self.lo = np.asarray(lo, dtype=np.float64)
        self.hi = np.asarray(hi, dtype=np.float64)
        if not (np.isfinite(self.lo).all() and np.isfinite(self.hi).all()):
            raise ValueError("box corners must be finite")
        if np.any(self.lo >= self.hi):
            raise ValueError(f"box needs lo < hi in every coordinate, got lo={lo}, hi={hi}")

    def _corners(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        lo = np.broadcast_to(self.lo.reshape(-1), (d,)) if self.lo.size == 1 else self.lo
        hi = np.broadcast_to(self.hi.reshape(-1), (d,)) if self.hi.size == 1 else self.hi
        if lo.shape != (d,) or hi.shape != (d,):
            raise ValueError(
                f"box corners have shapes {self.lo.shape} and {self.hi.shape}; the network "
                f"takes {d} inputs"
            )
        return lo, hi

    def constraints(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self._corners(d)
        eye = np.eye(d)
        return np.vstack([eye, -eye]), np.concatenate([-hi, lo])

    def interior_point(self, d: int) -> np.ndarray:
        lo, hi = self._corners(d)
        return (lo + hi) / 2

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "box", "lo": self.lo.tolist(), "hi": self.hi.tolist()}

    def __repr__(self) -> str:
        return f"Box({self.lo.tolist()}, {self.hi.tolist()})"


class Polytope(Domain):
    """The polyhedron ``{x : A x <= b}`` (note: the user-facing sign convention).

    Examples
    --------
    >>> P = Polytope([[1.0, 1.0], [-1, 0], [0, -1]], [1.0, 0, 0])
    >>> P.contains(np.array([[0.2, 0.2]]))
    array([ True])
    """

    kind = "polytope"

    def __init__(self, A: Any, b: Any) -> None:
        self.A = np.atleast_2d(np.asarray(A, dtype=np.float64))
        self.b = np.asarray(b, dtype=np.float64).reshape(-1)
        if self.A.shape[0] != self.b.shape[0]:
            raise ValueError(
                f"Polytope(A, b): A has {self.A.shape[0]} rows but b has {self.b.shape[0]}"
            )
        if not (np.isfinite(self.A).all() and np.isfinite(self.b).all()):
            raise ValueError("Polytope(A, b): A and b must be finite")

    def constraints(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        if self.A.shape[1] != d:
            raise ValueError(
                f"Polytope A has {self.A.shape[1]} columns; the network takes {d} inputs"
            )
        return self.A.copy(), -self.b

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "polytope", "A": self.A.tolist(), "b": self.b.tolist()}

    def __repr__(self) -> str:
        return f"Polytope(A with {self.A.shape[0]} rows)"


def as_domain(bound: Any) -> Domain:
    """Normalise the ``bound`` argument of :class:`~complexlib.Complex`.

    ``None`` is all of R^d, a positive number ``r`` the box ``[-r, r]^d``, a
    :class:`Domain` itself.

    Examples
    --------
    >>> as_domain(2.0)
    Box([-2.0], [2.0])
    """
    if bound is None:
        return RealSpace()
    if isinstance(bound, Domain):
        return bound
    if isinstance(bound, (int, float, np.floating, np.integer)) and not isinstance(bound, bool):
        r = float(bound)
        if not np.isfinite(r) or r <= 0:
            raise ValueError(f"bound must be a positive finite number, got {bound}")
        return Box(np.array([-r]), np.array([r]))
    raise TypeError(
        f"bound must be None, a positive number, cl.Box or cl.Polytope; got {type(bound).__name__}"
    )


def domain_polygon(dom_A: np.ndarray, dom_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (counter-clockwise) of ``{x : dom_A x + dom_b <= 0}`` and each edge's row.

    Edge ``k`` runs from vertex ``k`` to vertex ``k + 1`` on the line of row ``rows[k]``
    (the lowest of coincident rows).  The vertices are the feasible crossings of two rows'
    lines; the polygon is bounded when the rows' normals leave no angular gap of ``pi``.

    Raises
    ------
    ValueError
        If the domain has no rows or is unbounded, empty or not full-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> v, rows = domain_polygon(np.vstack([np.eye(2), -np.eye(2)]), -np.ones(4))
    >>> v.tolist(), rows.tolist()
    ([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]], [3, 0, 1, 2])
    """
    nrm = np.linalg.norm(dom_A, axis=1)
    live = nrm > 0
    if np.any(~live & (dom_b > 0)):
        raise ValueError("the domain is empty (a constant row is violated)")
    if not _normals_close(dom_A[live]):
        raise ValueError(
            "splitting polygons needs a bounded domain; this one is unbounded (give "
            "bound=r, cl.Box or a bounded cl.Polytope, or use the search: "
            "bfs(method='search'))"
        )
    An, bn = dom_A[live] / nrm[live, None], dom_b[live] / nrm[live]
    i, k = np.triu_indices(len(An), 1)
    det = An[i, 0] * An[k, 1] - An[i, 1] * An[k, 0]
    i, k, det = i[np.abs(det) > 1e-12], k[np.abs(det) > 1e-12], det[np.abs(det) > 1e-12]
    p = np.stack(
        [
            (-bn[i] * An[k, 1] + bn[k] * An[i, 1]) / det,
            (-bn[k] * An[i, 0] + bn[i] * An[k, 0]) / det,
        ],
        axis=1,
    )
    scale = float(np.abs(p).max()) if p.size else 1.0  # the polygon's own size
    p = p[np.all(p @ An.T + bn <= 1e-9 * scale, axis=1)]
    if len(p) < 3:
        raise ValueError("the domain is empty or not full-dimensional")
    c = p.mean(axis=0)
    p = p[np.argsort(np.arctan2(p[:, 1] - c[1], p[:, 0] - c[0]), kind="stable")]
    gap = np.linalg.norm(p - np.roll(p, 1, axis=0), axis=1)
    v = p[gap > 1e-9 * scale]  # crossings of three or more lines, once
    longest = np.linalg.norm(v - np.roll(v, 1, axis=0), axis=1).max() if len(v) else 0.0
    if len(v) < 3 or abs(_area2(v)) <= 1e-9 * scale * longest:  # width <= 1e-9 scale
        raise ValueError("the domain is empty or not full-dimensional")
    start = np.lexsort((v[:, 0], v[:, 1]))[0]  # lowest, then leftmost vertex first
    v = np.roll(v, -start, axis=0)
    mid = 0.5 * (v + np.roll(v, -1, axis=0))
    safe = np.where(live, nrm, 1.0)
    on = (np.abs(mid @ dom_A.T + dom_b) / safe <= 1e-9 * scale) & live
    return v, np.argmax(on, axis=1).astype(np.int64)


def domain_is_bounded(dom_A: np.ndarray) -> bool:
    """Whether the 2-D domain with rows ``dom_A`` is bounded (when it is not empty).

    Examples
    --------
    >>> domain_is_bounded(np.vstack([np.eye(2), -np.eye(2)])), domain_is_bounded(np.eye(2))
    (True, False)
    """
    A = np.asarray(dom_A, dtype=np.float64).reshape(-1, 2)
    return _normals_close(A[np.linalg.norm(A, axis=1) > 0])


def _normals_close(A: np.ndarray) -> bool:
    """Whether ``{x : A x <= 0}`` is the origin alone: no angular gap of ``pi`` in the normals.

    Examples
    --------
    >>> _normals_close(np.array([[1.0, 0], [0, 1], [-1, -1]])), _normals_close(np.eye(2))
    (True, False)
    """
    if len(A) < 3:
        return False
    ang = np.sort(np.arctan2(A[:, 1], A[:, 0]))
    gaps = np.diff(np.append(ang, ang[0] + 2 * np.pi))
    return bool(gaps.max() < np.pi - 1e-12)


def _area2(v: np.ndarray) -> float:
    """Twice the signed area of a polygon ``(k, 2)``."""
    x, y = v[:, 0], v[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))
