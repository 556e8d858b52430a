"""The dual graph of a complex and statistics on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .complex import Complex

__all__ = ["dual_graph", "diameter", "face_count_stats", "bfs_order", "csr_take"]


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


def csr_take(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entries of the CSR rows ``rows`` in that order: their indices and the new offsets.

    Examples
    --------
    >>> idx, ptr = csr_take(np.array([0, 2, 3, 6]), np.array([2, 0]))
    >>> idx.tolist(), ptr.tolist()
    ([3, 4, 5, 0, 1], [0, 3, 5])
    """
    counts = ptr[rows + 1] - ptr[rows]
    new = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=new[1:])
    idx = np.repeat(ptr[rows] - new[:-1], counts) + np.arange(new[-1])
    return idx, new


def bfs_order(ptr: np.ndarray, nbr: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Breadth-first order of a graph in CSR form from ``start``, and each node's depth.

    Nodes are numbered as a FIFO search numbers them when it visits each node's
    neighbours in CSR order (the order :meth:`Complex.bfs` gives regions), one level of
    the search per round of array operations.  Nodes that cannot be reached are left
    out.

    Examples
    --------
    >>> ptr, nbr = np.array([0, 2, 3, 5, 6]), np.array([2, 1, 0, 0, 3, 2])
    >>> perm, depth = bfs_order(ptr, nbr, 0)
    >>> perm.tolist(), depth.tolist()
    ([0, 2, 1, 3], [0, 1, 1, 2])
    """
    n = len(ptr) - 1
    depth = np.full(n, -1, dtype=np.int64)
    depth[start] = 0
    levels = [np.array([start], dtype=np.int64)]
    while True:
        idx, _ = csr_take(ptr, levels[-1])
        cand = nbr[idx]
        cand = cand[depth[cand] < 0]
        if cand.size == 0:
            break
        _, first = np.unique(cand, return_index=True)
        front = cand[np.sort(first)]
        depth[front] = len(levels)
        levels.append(front)
    perm = np.concatenate(levels)
    return perm, depth[perm]
