"""Scale run: regions/s, peak memory and bytes per region of one large enumeration.

    python benchmarks/bench_scale.py --widths 2,300,300,1 --max-regions 200000

Peak memory is the process's peak resident set size (``resource.getrusage``), measured
against the same process before the search (imports and the network), so the figure is
what the search itself added.  Bytes per region are the store's own arrays plus its
pattern index, counted exactly.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from math import comb

import complexlib as cl
from complexlib.parallel import start_workers


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_peak_mib() -> float:
    """The largest peak of any finished child process (loky workers report at exit)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def store_bytes(cx: cl.Complex) -> int:
    st = cx.store
    arrays = sum(a.nbytes for a in st.arrays().values())
    index = sys.getsizeof(st.index) + sum(sys.getsizeof(k) for k in st.index)
    return arrays + index


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--widths", default="2,300,300,1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bound", type=float, default=None)
    p.add_argument("--max-regions", type=int, default=None)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--every", type=int, default=50_000, help="print a line every N regions")
    p.add_argument("--progress", action="store_true", help="show the search's progress bar")
    args = p.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    net = cl.as_network(cl.mlp(widths, seed=args.seed))
    if args.workers > 1:
        start_workers(net, args.workers)
    cx = cl.Complex(net, bound=args.bound)
    base = peak_mib()
    t0 = time.perf_counter()
    target = args.max_regions
    step = args.every
    done = 0
    print(f"# {widths} seed={args.seed} bound={args.bound} workers={args.workers}")
    print(f"{'regions':>10} {'seconds':>9} {'regions/s':>10} {'peak MiB':>9} {'B/region':>9}")
    while True:
        goal = done + step if target is None else min(target, done + step)
        cx.bfs(
            max_regions=goal,
            workers=args.workers,
            batch_size=args.batch_size,
            progress=args.progress,
        )
        done = len(cx)
        dt = time.perf_counter() - t0
        print(
            f"{done:>10} {dt:>9.1f} {done / dt:>10.0f} {peak_mib() - base:>9.0f} "
            f"{store_bytes(cx) / max(done, 1):>9.0f}",
            flush=True,
        )
        if cx.complete or (target is not None and done >= target):
            break
    print(f"# complete={cx.complete} frontier={cx.summary()['frontier']}")
    if args.workers > 1:
        from complexlib.parallel import _shutdown_pool

        _shutdown_pool()
        print(f"# peak RSS of one worker process: {worker_peak_mib():.0f} MiB (whole process)")
    if cx.complete and len(widths) == 3:
        # one hidden layer in general position: Zaslavsky's count of an arrangement
        d, m = widths[0], widths[1]
        expected = sum(comb(m, k) for k in range(d + 1))
        print(
            f"# closed form for one hidden layer: {expected} regions; found {len(cx)}: "
            f"{'equal' if expected == len(cx) else 'DIFFERENT'}"
        )


if __name__ == "__main__":
    main()
