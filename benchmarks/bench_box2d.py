"""2-D networks in a box: the polygon split (``Complex.split``) against the local search.

Both run on the same networks in the same command, one after the other, each timed in CPU
seconds (``time.process_time``: every thread of the process) as the median of
``--repeats`` runs after one untimed warm-up run.  ``equal`` checks that the two
complexes are the same: patterns in the same order, depths, facets, neighbours and domain
facets.  With ``--edge-subdivision`` a float32 torch edge-subdivision baseline
(:func:`edge_subdivision_cells`, after Berzins, ICML 2023) is timed as well; it counts
cells by Euler's formula and is not exact.

Usage::

    python benchmarks/bench_box2d.py
    python benchmarks/bench_box2d.py --repeats 9 --only "[2,64"
    python benchmarks/bench_box2d.py --edge-subdivision
    python benchmarks/bench_box2d.py --repeats 3 --widths "2,160,160,1;2,400,1"
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

import complexlib as cl

CASES = [
    ([2, 16, 16, 1], 0),
    ([2, 16, 16, 1], 1),
    ([2, 32, 32, 1], 0),
    ([2, 32, 32, 1], 1),
    ([2, 64, 64, 1], 0),
    ([2, 64, 64, 1], 1),
    ([2, 32, 32, 32, 1], 0),
    ([2, 32, 32, 32, 1], 1),
]

STORE_KEYS = ("bits", "depth", "n_domain_facets", "facet_ptr", "facet_neuron", "facet_neighbor")


def cpu_median(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median CPU seconds of ``run()`` over ``repeats`` timed calls after a warm-up call."""
    out = run()
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        out = run()
        times.append(time.process_time() - t0)
    return statistics.median(times), out


def complex_by(net: cl.ReLUNetwork, r: float, method: str) -> cl.Complex:
    """The complex of ``net`` in ``[-r, r]^2`` by ``bfs(method=method)``."""
    cx = cl.Complex(net, bound=r)
    cx.bfs(progress=False, method=method)
    return cx


def same_complex(a: cl.Complex, b: cl.Complex) -> bool:
    """Whether two complexes hold the same store (regions in the same order)."""
    return len(a) == len(b) and all(
        np.array_equal(getattr(a.store, k).view(), getattr(b.store, k).view()) for k in STORE_KEYS
    )


def edge_subdivision_cells(weights: list[tuple[np.ndarray, np.ndarray]], r: float) -> int:
    """Cells of a 2-D network in ``[-r, r]^2`` by edge subdivision in float32 torch.

    The complex is kept as vertices (position, sign vector) and edges (vertex pairs).  For
    each neuron in turn its pre-activation is read at every vertex by a forward pass; every
    edge whose ends have opposite signs is split at the interpolated zero, and the new
    vertices are joined in pairs inside the cells they bound: a new vertex on an edge lies
    on the cells whose sign vectors are the edge's with its zero neuron set to either sign
    (one cell for an edge on the box).  Cells are counted by Euler's formula ``E - V + 1``.
    Generic position is assumed (no vertex exactly on a line), as in the method.
    """
    import torch

    Ws = [torch.as_tensor(w, dtype=torch.float32) for w, _ in weights[:-1]]
    bs = [torch.as_tensor(b, dtype=torch.float32) for _, b in weights[:-1]]
    n = sum(len(b) for b in bs)
    pos = torch.tensor([[-r, -r], [r, -r], [r, r], [-r, r]], dtype=torch.float32)
    sign = torch.zeros((4, n), dtype=torch.int8)  # filled neuron by neuron
    edges = torch.tensor([[0, 1], [1, 2], [2, 3], [3, 0]])
    first = 0
    for layer, b in enumerate(bs):
        for k in range(len(b)):
            z = _preactivation(Ws, bs, pos, layer, k)
            j = first + k
            sign[:, j] = torch.where(z > 0, 1, -1).to(torch.int8)
            u, v = edges[:, 0], edges[:, 1]
            cut = z[u] * z[v] < 0
            cu, cv = u[cut], v[cut]
            t = (z[cu] / (z[cu] - z[cv]))[:, None]
            new = torch.arange(len(pos), len(pos) + len(cu))
            pos = torch.cat([pos, pos[cu] + t * (pos[cv] - pos[cu])])
            # an edge's sign vector: its ends' (an end on a line takes the other end's sign)
            esign = torch.where(sign[cu] == 0, sign[cv], sign[cu])
            esign[:, j] = 0
            sign = torch.cat([sign, esign])
            edges = torch.cat([edges[~cut], torch.stack([cu, new], 1), torch.stack([new, cv], 1)])
            edges = torch.cat([edges, _join_in_cells(esign[:, :j], new)])
        first += len(b)
    return int(len(edges) - len(pos) + 1)


def _preactivation(Ws, bs, pos, layer: int, k: int):
    """Neuron ``k`` of ``layer`` at the points ``pos`` (float32 forward pass)."""
    import torch

    h = pos
    for W, b in zip(Ws[:layer], bs[:layer]):
        h = torch.relu(h @ W.T + b)
    return h @ Ws[layer][k] + bs[layer][k]


def _join_in_cells(esign, new):
    """New edges between the new vertices that bound the same cell (pairs of them).

    ``esign`` holds the sign vectors (over the neurons before the current one) of the
    edges the new vertices split: the cells beside such an edge have its zero neuron set
    to +1 or -1 (an edge on the box has no zero neuron and one cell).
    """
    import torch

    s = esign.to(torch.int64)
    zero = (s == 0).to(torch.int64)
    on_box = zero.sum(1) == 0
    faces = torch.cat([s + zero, (s - zero)[~on_box]])
    own = torch.cat([new, new[~on_box]])
    if faces.shape[1] == 0:  # the first neuron: one cell, the box
        faces = torch.zeros((len(own), 1), dtype=torch.int64)
    _, inv = torch.unique(faces, dim=0, return_inverse=True)
    order = torch.argsort(inv, stable=True)
    inv, own = inv[order], own[order]
    pair = torch.nonzero(inv[1:] == inv[:-1])[:, 0]
    return torch.stack([own[pair], own[pair + 1]], 1)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--repeats", type=int, default=5, help="timed runs per method (median)")
    p.add_argument("--bound", type=float, default=1.0, help="the box [-r, r]^2")
    p.add_argument("--only", default=None, help="cases whose widths contain this, e.g. '[2,64'")
    p.add_argument(
        "--widths", default=None, help="other networks, e.g. '2,160,160,1;2,400,1' (seed 0)"
    )
    p.add_argument(
        "--edge-subdivision", action="store_true", help="time the float32 baseline as well"
    )
    args = p.parse_args()
    import torch

    torch.set_num_threads(1)
    r = args.bound
    print(f"# complexlib {cl.__version__}, box [-{r:g},{r:g}]^2, CPU s = median of {args.repeats}")
    head = (
        f"{'network':<18} {'cells':>6} {'split s':>8} {'search s':>9} {'split c/s':>10} "
        f"{'search c/s':>11} {'ratio':>6}  equal"
    )
    if args.edge_subdivision:
        head += f"  {'ES cells':>8} {'ES s':>7} {'ES c/s':>8}"
    print(head)
    print("-" * len(head))
    cases = CASES
    if args.widths:
        cases = [([int(w) for w in ws.split(",")], 0) for ws in args.widths.split(";")]
    for widths, seed in cases:
        name = f"{widths}s{seed}".replace(" ", "")
        if args.only and args.only not in name:
            continue
        net = cl.as_network(cl.mlp(widths, seed=seed))
        t_split, a = cpu_median(partial(complex_by, net, r, "split"), args.repeats)
        t_search, b = cpu_median(partial(complex_by, net, r, "search"), args.repeats)
        line = (
            f"{name:<18} {len(a):>6} {t_split:>8.3f} {t_search:>9.3f} {len(a) / t_split:>10.0f} "
            f"{len(b) / t_search:>11.0f} {t_search / t_split:>5.1f}x  {same_complex(a, b)}"
        )
        if args.edge_subdivision:
            es = partial(edge_subdivision_cells, net.to_list(), r)
            t_es, cells = cpu_median(es, args.repeats)
            line += f"  {cells:>8} {t_es:>7.3f} {cells / t_es:>8.0f}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
