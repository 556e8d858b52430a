"""One worker against two on the same complex, in one command (region sets checked equal).

python benchmarks/bench_workers.py --widths 2,100,100,1 --batch-size 512
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import complexlib as cl
from complexlib.parallel import start_workers


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--widths", default="2,100,100,1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--backend", default="loky")
    p.add_argument(
        "--cold",
        action="store_true",
        help="time the first search with fresh workers (default: a short search first starts "
        "them; loky keeps them up for the next search of the same network)",
    )
    args = p.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    base = None
    for w in args.workers:
        net = cl.mlp(widths, seed=args.seed)
        if w > 1 and not args.cold:
            start_workers(cl.as_network(net), w)
        cx = cl.Complex(net)
        t = time.perf_counter()
        cx.bfs(  # the search: 2-D networks would otherwise be split, which has no workers
            workers=w,
            progress=False,
            batch_size=args.batch_size,
            backend=args.backend,
            method="search",
        )
        dt = time.perf_counter() - t
        if base is None:
            base, ref = dt, cx.patterns
        same = np.array_equal(cx.patterns, ref)
        print(
            f"{widths} workers={w} backend={args.backend} {'cold' if args.cold else 'warm'}: "
            f"{len(cx)} regions in {dt:.2f} s, "
            f"{len(cx) / dt:.0f} regions/s, speed-up {base / dt:.2f}x, same complex: {same}"
        )


if __name__ == "__main__":
    main()
