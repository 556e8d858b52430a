"""Diameter of a dual graph: exact when small, else a lower and an upper bound.

The graphs are given as an edge array (``cx.edges()[0]``) and a node count, and held as
scipy sparse matrices: breadth-first searches then run in compiled code, which on graphs of
10^5 - 10^6 nodes is one to two orders of magnitude faster than networkx's pure-Python ones.

What is reported (:func:`diameter_bounds`):

``diameter_lower``
    The best 2-sweep bound over ``n_seeds`` random start nodes: from a random node ``s``
    take a farthest node ``a``; the eccentricity of ``a`` is at most the diameter.  This is
    the algorithm of ``networkx.approximation.diameter`` (one call per seed).
``diameter_upper``
    The least diameter of the BFS trees rooted at the ``n_roots`` highest-degree nodes.  A
    BFS tree is a spanning tree, so distances in it are at least those in the graph and its
    (tree) diameter bounds the graph's; it is at most twice the root's eccentricity.
``diameter_exact``
    Whether the diameter is known exactly: the graph has at most ``exact_max_nodes``
    nodes (then every node's eccentricity is computed, and both bounds equal it), or the
    two bounds met.
``diameter``
    The exact diameter when known, else the lower bound (an eccentricity that is attained,
    so a true distance in the graph).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["EXACT_MAX_NODES", "adjacency", "diameter_bounds", "two_sweep", "tree_diameter"]

#: Graphs up to this many nodes get the exact diameter (one BFS per node, compiled).
#: At 5,000 nodes and mean degree 10 that is about 1 s.
EXACT_MAX_NODES = 5_000


def adjacency(edges: Any, n: int) -> Any:
    """The symmetric ``(n, n)`` CSR adjacency matrix of an undirected edge list ``(E, 2)``.

    Examples
    --------
    >>> adjacency(np.array([[0, 1], [1, 2]]), 3).toarray()
    array([[0, 1, 0],
           [1, 0, 1],
           [0, 1, 0]], dtype=int8)
    """
    from scipy.sparse import csr_matrix

    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if n < 0 or (e.size and (e.min() < 0 or e.max() >= n)):
        raise ValueError(
            f"edges must index nodes 0 .. {n - 1}; got the range "
            f"{e.min() if e.size else None} .. {e.max() if e.size else None}"
        )
    rows = np.concatenate([e[:, 0], e[:, 1]])
    cols = np.concatenate([e[:, 1], e[:, 0]])
    M = csr_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, n))
    M.data[:] = 1  # parallel edges count once
    return M


def _bfs(M: Any, source: int | np.ndarray) -> np.ndarray:
    """Hop distances from ``source`` (a node or an array of nodes: one row each)."""
    from scipy.sparse.csgraph import shortest_path

    dist = shortest_path(M, method="D", directed=False, unweighted=True, indices=source)
    if np.isinf(dist).any():
        raise ValueError("the graph is not connected: its diameter is infinite")
    return dist.astype(np.int64)


def two_sweep(M: Any, source: int) -> int:
    """Eccentricity of a farthest node from ``source``: a lower bound on the diameter.

    Examples
    --------
    >>> two_sweep(adjacency(np.array([[0, 1], [1, 2], [2, 3]]), 4), source=1)  # a path
    3
    """
    far = int(np.argmax(_bfs(M, source)))
    return int(_bfs(M, far).max())


def tree_diameter(M: Any, root: int) -> int:
    """Diameter of the BFS tree of ``M`` rooted at ``root``: an upper bound on the diameter.

    Examples
    --------
    >>> cycle = adjacency(np.array([[i, (i + 1) % 6] for i in range(6)]), 6)
    >>> tree_diameter(cycle, 0)  # the tree is a path of 6 nodes; the cycle's diameter is 3
    5
    """
    from scipy.sparse.csgraph import breadth_first_tree

    depth = _bfs(M, root)
    tree = breadth_first_tree(M, root, directed=False)
    far = int(np.argmax(depth))  # a deepest node is an end of a longest path in the tree
    return int(_bfs(tree, far).max())


def diameter_bounds(
    edges: Any,
    n: int,
    exact_max_nodes: int = EXACT_MAX_NODES,
    n_seeds: int = 50,
    n_roots: int = 50,
    seed: int = 0,
    chunk: int = 256,
) -> dict[str, Any]:
    """Diameter of a connected undirected graph, exact or bounded (see the module notes).

    Parameters
    ----------
    edges : (E, 2) array of int
        Undirected edges between nodes ``0 .. n - 1``.
    n : int
        Number of nodes.
    exact_max_nodes : int
        Up to this many nodes every eccentricity is computed (``n`` BFS).
    n_seeds : int
        Random start nodes of the 2-sweep lower bound (``2 n_seeds`` BFS).
    n_roots : int
        Highest-degree roots of the BFS-tree upper bound (``3 n_roots`` BFS).
    seed : int
        Seed of the start nodes.
    chunk : int
        Sources per all-pairs BFS call in the exact case (memory ``chunk * n``).

    Returns
    -------
    dict
        ``diameter``, ``diameter_lower``, ``diameter_upper`` (int) and
        ``diameter_exact`` (bool).

    Raises
    ------
    ValueError
        If the graph is not connected.

    Examples
    --------
    >>> path = np.array([[i, i + 1] for i in range(9)])
    >>> diameter_bounds(path, 10)
    {'diameter': 9, 'diameter_lower': 9, 'diameter_upper': 9, 'diameter_exact': True}
    >>> diameter_bounds(path, 10, exact_max_nodes=0, n_seeds=1, n_roots=1)["diameter_lower"]
    9
    """
    if n <= 1:
        return {"diameter": 0, "diameter_lower": 0, "diameter_upper": 0, "diameter_exact": True}
    M = adjacency(edges, n)
    if n <= exact_max_nodes:
        diam = 0
        for lo in range(0, n, chunk):
            diam = max(diam, int(_bfs(M, np.arange(lo, min(n, lo + chunk))).max()))
        return {
            "diameter": diam,
            "diameter_lower": diam,
            "diameter_upper": diam,
            "diameter_exact": True,
        }
    if n_seeds < 1 or n_roots < 1:
        raise ValueError(f"n_seeds and n_roots must be >= 1, got {n_seeds} and {n_roots}")
    rng = np.random.default_rng(seed)
    lower = max(two_sweep(M, int(s)) for s in rng.integers(0, n, size=n_seeds))
    degree = np.diff(M.indptr)
    roots = np.argsort(-degree, kind="stable")[:n_roots]
    upper = lower
    best = None
    for r in roots:
        t = tree_diameter(M, int(r))
        best = t if best is None else min(best, t)
        if best == lower:
            break
    upper = int(best) if best is not None else upper
    return {
        "diameter": lower,
        "diameter_lower": lower,
        "diameter_upper": upper,
        "diameter_exact": lower == upper,
    }
