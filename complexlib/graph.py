"""The dual graph of a complex and statistics on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .complex import Complex

__all__ = ["dual_graph", "diameter", "face_count_stats"]


def dual_graph(cx: Complex) -> Any:
    """A :class:`networkx.Graph` with a node per region and an edge per shared facet.

    Node attributes: ``point`` (a point inside the region), ``bounded``, ``facets``
    (neuron facet count).  Edge attribute: ``neuron``, the (lowest) neuron whose
    hyperplane holds the shared facet.

    Examples
    --------
    >>> import complexlib as cl
    >>> cx = cl.Complex(cl.mlp([2, 3, 1], seed=0)); _ = cx.bfs(progress=False)
    >>> G = cx.dual_graph()
    >>> G.number_of_nodes(), diameter(G)
    (7, 3)
    """
    import networkx as nx

    G = nx.Graph()
    fc = cx.face_counts()
    points = cx.interior_points
    bounded = cx.store.bounded.view()
    G.add_nodes_from(
        (i, {"point": points[i], "bounded": bool(bounded[i]), "facets": int(fc[i])})
        for i in range(len(cx))
    )
    e, neuron = cx.edges()
    G.add_edges_from((int(a), int(b), {"neuron": int(n)}) for (a, b), n in zip(e, neuron))
    return G


def diameter(G: Any) -> int:
    """Exact diameter of a connected graph (networkx; quadratic time)."""
    import networkx as nx

    if G.number_of_nodes() == 0:
        return 0
    return int(nx.diameter(G))


def face_count_stats(counts: np.ndarray) -> dict[str, float]:
    """Mean, std, min, max and histogram of facet counts.

    Examples
    --------
    >>> face_count_stats(np.array([2, 3, 3]))["mean"]
    2.6666666666666665
    """
    counts = np.asarray(counts)
    return {
        "mean": float(counts.mean()),
        "std": float(counts.std()),
        "min": int(counts.min()),
        "max": int(counts.max()),
        "histogram": np.bincount(counts).tolist(),
    }
