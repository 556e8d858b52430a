"""The batched torch steps on the CPU against the same steps on a GPU, in one process.

Each row runs the same call with ``device="cpu"`` and ``device=DEVICE`` (default ``cuda``),
interleaved, checks that the results agree, and prints the medians and their ratio:

* ``halfspaces``: the halfspaces and affine maps of a batch of patterns (the search's torch
  step), for batches of 4,096 patterns of deep and wide networks;
* ``linearize``: :func:`complexlib.linearize_at_point` of 8,192 points;
* ``bfs``: a whole search (``Complex(net, device=...).bfs()``, one process), regions/s, region
  sets checked equal.  The facet decisions (qhull, the polar kernel, HiGHS) stay on the CPU
  whatever the device, so this row shows how much of a search the device can take.

Run: ``python benchmarks/bench_device.py [--device cuda] [--quick]``.  Without a GPU it
exits with a message.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import complexlib as cl
from complexlib.geometry import halfspaces
from complexlib.patterns import patterns_of


def median_time(f, dev: torch.device, reps: int) -> float:
    """Median wall time of ``f()`` over ``reps`` calls, the device synchronised around each."""
    ts = []
    for _ in range(reps):
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        t = time.perf_counter()
        f()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def row(label: str, cpu_s: float, dev_s: float, same: bool, unit: str = "ms") -> None:
    k = 1e3 if unit == "ms" else 1.0
    print(f"{label:<44}{cpu_s * k:>10.2f}{dev_s * k:>10.2f}{cpu_s / dev_s:>9.2f}x  {unit:<4}{same}")


def bench_halfspaces(dev: torch.device, reps: int) -> None:
    print(f"\n## halfspaces of 4,096 patterns          {'cpu':>10}{str(dev):>10}{'ratio':>10}")
    rng = np.random.default_rng(0)
    for widths in ([2] + [512] * 6 + [1], [8] + [256] * 4 + [4], [10, 64, 64, 64, 1]):
        net = cl.as_network(cl.mlp(widths, seed=0))
        X = rng.standard_normal((4096, widths[0]))
        pats = patterns_of(net, X)
        halfspaces(net, pats[:8], device=dev)  # warm-up (CUDA context, kernels)
        a = halfspaces(net, pats)
        b = halfspaces(net, pats, device=dev)
        same = all(np.allclose(u, v, rtol=1e-10, atol=1e-10) for u, v in zip(a, b))
        tc = median_time(lambda net=net, pats=pats: halfspaces(net, pats), dev, reps)
        tg = median_time(lambda net=net, pats=pats: halfspaces(net, pats, device=dev), dev, reps)
        row(f"{widths[0]}->{widths[1:-1]}->{widths[-1]}", tc, tg, same)


def bench_linearize(dev: torch.device, reps: int) -> None:
    print(f"\n## linearize_at_point, 8,192 points      {'cpu':>10}{str(dev):>10}{'ratio':>10}")
    rng = np.random.default_rng(1)
    for widths in ([2] + [512] * 6 + [1], [8] + [256] * 4 + [4]):
        net = cl.mlp(widths, seed=0).double()
        X = rng.standard_normal((8192, widths[0]))
        cl.linearize_at_point(net, X[:16], device=dev, halfspaces=False)
        a = cl.linearize_at_point(net, X, halfspaces=False)
        b = cl.linearize_at_point(net, X, device=dev, halfspaces=False)
        same = bool(np.array_equal(a.pattern, b.pattern) and np.allclose(a.W, b.W, atol=1e-10))
        f_cpu = lambda net=net, X=X: cl.linearize_at_point(net, X, halfspaces=False)  # noqa: E731
        f_dev = lambda net=net, X=X: cl.linearize_at_point(  # noqa: E731
            net, X, device=dev, halfspaces=False
        )
        row(
            f"{widths[0]}->{widths[1:-1]}->{widths[-1]}",
            median_time(f_cpu, dev, reps),
            median_time(f_dev, dev, reps),
            same,
        )


def bench_bfs(dev: torch.device, quick: bool) -> None:
    head = f"{'cpu':>10}{str(dev):>10}{'ratio':>10}  regions"
    print(f"\n## bfs, one process: seconds          {head}")
    cases = [([2, 64, 64, 1], None), ([3, 16, 16, 1], None), ([6, 10, 10, 10, 1], 1.0)]
    if not quick:
        cases += [([8, 16, 16, 1], 1.0), ([4, 32, 32, 32, 1], 1.0)]
    for widths, bound in cases:
        out = {}
        for name, d in (("cpu", None), ("dev", dev)):
            cx = cl.Complex(cl.mlp(widths, seed=0), bound=bound, device=d)
            if d is not None and d.type == "cuda":
                torch.cuda.synchronize(d)
            t = time.perf_counter()
            cx.bfs(progress=False, method="search")
            out[name] = (time.perf_counter() - t, cx.patterns)
        same = np.array_equal(out["cpu"][1], out["dev"][1])
        box = "R^d" if bound is None else f"[-{bound:g},{bound:g}]^d"
        n = len(out["cpu"][1])
        label = f"{widths} {box}"
        tc, tg = out["cpu"][0], out["dev"][0]
        print(
            f"{label:<44}{tc:>10.2f}{tg:>10.2f}{tc / tg:>9.2f}x  s   {same}  {n} "
            f"({n / tc:.0f} vs {n / tg:.0f} regions/s)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sections", default="halfspaces,linearize,bfs")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU side)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here: nothing to compare")
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else str(dev)
    print(
        f"# complexlib {cl.__version__}, torch {torch.__version__}, {name}, "
        f"CPU threads {torch.get_num_threads()}"
    )
    reps = 3 if args.quick else 7
    for s in args.sections.split(","):
        {"halfspaces": lambda: bench_halfspaces(dev, reps),
         "linearize": lambda: bench_linearize(dev, reps),
         "bfs": lambda: bench_bfs(dev, args.quick)}[s]()  # fmt: skip


if __name__ == "__main__":
    main()
