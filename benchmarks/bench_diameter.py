"""Dual-graph diameter (issue 6): scipy's compiled BFS against the numpy BFS it replaced.

Both run in the same process on the same graph: ``new`` is :class:`Graph` as shipped (scipy's
``breadth_first_order``, levels read off the visiting order, tree diameters bottom-up), ``numpy``
forces the fallback (the level-synchronous numpy BFS, and a tree diameter by a second BFS
over a rebuilt tree graph), which is what the grid ran until 2026-11-23.  Times are wall
seconds, the minimum of ``--repeats``.  ``equal`` checks identical BFS distances and, for the
whole ``diameter_bounds``, identical lower bounds (tree upper bounds may differ: the two
searches may pick different BFS trees, both valid).

Graphs:

* ``--lattice SIDE,DIM`` (default ``24,5``: 7.96 million nodes) a DIM-dimensional grid with 5 %
  of its edges dropped at random: about the size, degree (~9) and diameter (~100-200) of the
  largest dual graphs of the synthetic grid (d = 5, width 16, depth 4: 7-13 million regions,
  mean degree 9.8);
* ``--network 4,16,16,16,1`` the dual graph of ``cl.mlp(widths, seed=0)`` over R^d (searched
  first, not timed).

Usage::

    python benchmarks/bench_diameter.py
    python benchmarks/bench_diameter.py --lattice 16,5 --bounds 5,5
    python benchmarks/bench_diameter.py --network 4,16,16,16,1 --bounds 50,50
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from complexlib.experiments import diameter as dm


def lattice(side: int, dim: int, keep: float = 0.95, seed: int = 0) -> tuple[np.ndarray, int]:
    """Edges of a ``side**dim`` grid graph with a fraction ``1 - keep`` dropped (kept connected
    in practice at ``keep`` = 0.95; the BFS raises if not)."""
    idx = np.arange(side**dim).reshape((side,) * dim)
    parts = [
        np.stack(
            [
                np.take(idx, range(side - 1), axis=a).ravel(),
                np.take(idx, range(1, side), axis=a).ravel(),
            ],
            axis=1,
        )
        for a in range(dim)
    ]
    e = np.concatenate(parts)
    return e[np.random.default_rng(seed).random(len(e)) < keep], side**dim


def best(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


class _Numpy:
    """Within this context :class:`Graph` runs its numpy fallback."""

    def __enter__(self) -> None:
        self._saved = dm.Graph._levels
        dm.Graph._levels = lambda self, source: None  # type: ignore[method-assign]

    def __exit__(self, *exc: object) -> None:
        dm.Graph._levels = self._saved  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lattice", default="24,5", help="SIDE,DIM of the grid graph")
    p.add_argument("--network", default=None, help="widths of cl.mlp(widths, seed=0) instead")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--bounds",
        default="",
        help="N_SEEDS,N_ROOTS: also time diameter_bounds with these (the grid uses 50,50)",
    )
    a = p.parse_args(argv)
    if a.network:
        import complexlib as cl

        widths = [int(w) for w in a.network.split(",")]
        cx = cl.Complex(cl.mlp(widths, seed=0))
        cx.bfs(workers=1, progress=False)
        edges, n = cx.edges()[0], len(cx)
        name = f"dual graph of {widths}"
    else:
        side, dim = (int(v) for v in a.lattice.split(","))
        edges, n = lattice(side, dim)
        name = f"lattice {side}^{dim}"
    t = time.perf_counter()
    g = dm.Graph(edges, n)
    print(
        f"{name}: {n:,} nodes, {len(edges):,} edges (CSR built in {time.perf_counter() - t:.2f} s)"
    )
    rows = []
    src = int(np.argmax(g.degree))
    t_new, d_new = best(lambda: g.bfs(src), a.repeats)
    with _Numpy():
        t_old, d_old = best(lambda: g.bfs(src), a.repeats)
    rows.append(("one BFS", t_new, t_old, bool(np.array_equal(d_new, d_old))))
    t_new, tr_new = best(lambda: g.tree_diameter(src), a.repeats)
    with _Numpy():
        t_old, tr_old = best(lambda: g.tree_diameter(src), a.repeats)
    ecc = int(d_new.max())
    rows.append(("one BFS-tree diameter", t_new, t_old, ecc <= min(tr_new, tr_old)))
    if a.bounds:
        s, r = (int(v) for v in a.bounds.split(","))
        kw = {"n_seeds": s, "n_roots": r, "exact_max_nodes": 0, "tighten_max_nodes": 0}
        t_new, b_new = best(lambda: dm.diameter_bounds(edges, n, **kw), 1)
        with _Numpy():
            t_old, b_old = best(lambda: dm.diameter_bounds(edges, n, **kw), 1)
        same = b_new["diameter_lower"] == b_old["diameter_lower"]
        rows.append((f"diameter_bounds({s} seeds, {r} roots)", t_new, t_old, same))
        print(f"bounds: new {b_new}\n        numpy {b_old}")
    print(f"{'':38s} {'new s':>8s} {'numpy s':>8s} {'speed-up':>9s}  equal")
    for label, tn, to, eq in rows:
        print(f"{label:38s} {tn:8.2f} {to:8.2f} {to / tn:8.2f}x  {eq}")


if __name__ == "__main__":
    main()
