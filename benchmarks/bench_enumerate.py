"""complexlib against relucent: regions/s on the same networks, region sets checked equal.

relucent (AGPL) is never imported: it runs in its own virtual environment through
``benchmarks/relucent_runner.py`` (set it up with ``bash benchmarks/setup_relucent_venv.sh``).
Both sides are timed on the search call only, in the same command, so their ratio is
meaningful on a noisy machine.

Usage::

    python benchmarks/bench_enumerate.py                       # the fixture networks
    python benchmarks/bench_enumerate.py --suite issue3 --workers 2
    python benchmarks/bench_enumerate.py --relucent-python /path/to/venv/bin/python
    python benchmarks/bench_enumerate.py --no-relucent         # complexlib alone
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import complexlib as cl
from complexlib.parallel import start_workers

HERE = Path(__file__).resolve().parent

SUITES = {
    # the networks of tests/fixtures/relucent, unbounded unless a bound is given
    "fixtures": [
        ([2, 8, 8, 1], 0, None),
        ([2, 16, 16, 1], 0, None),
        ([2, 16, 16, 1], 1, None),
        ([2, 16, 16, 1], 0, 1.0),
        ([2, 12, 12, 12, 1], 2, None),
        ([3, 8, 8, 1], 0, None),
        ([3, 12, 12, 1], 1, None),
        ([3, 16, 16, 1], 0, None),
        ([4, 8, 8, 1], 0, None),
    ],
    # the table of issue 3 (seed 1 of each as well with --seeds 0,1)
    "issue3": [
        ([2, 16, 16, 1], 0, None),
        ([2, 32, 32, 1], 0, None),
        ([2, 64, 64, 1], 0, None),
        ([3, 16, 16, 1], 0, None),
        ([4, 12, 12, 1], 0, None),
        ([6, 10, 10, 10, 1], 0, 1.0),
        ([8, 16, 16, 1], 0, 1.0),
        ([10, 16, 16, 1], 0, 1.0),
    ],
    "high_d": [
        ([6, 10, 10, 10, 1], 0, 1.0),
        ([8, 16, 16, 1], 0, 1.0),
        ([10, 16, 16, 1], 0, 1.0),
    ],
}


def run_relucent(python: str, net, bound, workers, max_regions, timeout):
    with tempfile.TemporaryDirectory() as tmp:
        wpath, opath = Path(tmp) / "w.npz", Path(tmp) / "out.npz"
        np.savez(wpath, **{f"{k}{i}": a for i, pair in enumerate(net) for k, a in zip("Wb", pair)})
        cmd = [
            python,
            str(HERE / "relucent_runner.py"),
            "--weights",
            str(wpath),
            "--bound",
            "none" if bound is None else str(bound),
            "--workers",
            str(workers),
            "--out",
            str(opath),
        ]
        if max_regions:
            cmd += ["--max-regions", str(max_regions)]
        try:
            subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        except subprocess.CalledProcessError as exc:
            print(exc.stderr[-2000:], file=sys.stderr)
            return None
        with np.load(opath, allow_pickle=False) as z:
            return z["patterns"], float(z["seconds"])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--suite", choices=sorted(SUITES), default="fixtures")
    p.add_argument("--workers", type=int, default=2, help="workers on both sides (default 2)")
    p.add_argument(
        "--relucent-python",
        default=os.environ.get(
            "RELUCENT_PYTHON", str(HERE.parent / ".venv-relucent" / "bin" / "python")
        ),
    )
    p.add_argument("--no-relucent", action="store_true")
    p.add_argument(
        "--max-regions", type=int, default=None, help="compare both on this prefix of the search"
    )
    p.add_argument("--timeout", type=float, default=1800, help="relucent time limit per case")
    p.add_argument(
        "--only", default=None, help="run only cases whose network contains this, e.g. '[2,64'"
    )
    p.add_argument("--seeds", default=None, help="seeds to run each network with, e.g. 0,1")
    p.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="complexlib searches per case, its rate taken from the median time (default 5: "
        "one search of a few thousand regions takes a fraction of a second, relucent's a "
        "minute, so one of ours would see a momentary slowdown of the machine in full)",
    )
    p.add_argument(
        "--cold",
        action="store_true",
        help="include starting complexlib's workers in its time (default: a short search "
        "first starts them; they stay up for the timed search of the same network)",
    )
    args = p.parse_args()

    use_relucent = not args.no_relucent and Path(args.relucent_python).exists()
    if not args.no_relucent and not use_relucent:
        print(
            f"relucent venv not found at {args.relucent_python}; run "
            "benchmarks/setup_relucent_venv.sh or pass --relucent-python",
            file=sys.stderr,
        )
    warm = args.workers > 1 and not args.cold
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    print(
        f"# complexlib {cl.__version__}, workers={args.workers}, suite={args.suite}"
        + (", complexlib workers started before its timed search" if warm else "")
        + f", complexlib r/s from the median of {args.repeats} searches (range in brackets)"
    )
    head = (
        f"{'network':<22} {'domain':<8} {'regions':>8} {'relucent r/s':>13} "
        f"{'complexlib r/s':>15} {'ratio':>7}  equal  {'(complexlib range)':>20}"
    )
    print(head)
    print("-" * len(head))
    cases = SUITES[args.suite]
    if args.seeds is not None:
        seeds = [int(s) for s in args.seeds.split(",")]
        cases = [(w, s, b) for w, _, b in cases for s in seeds]
    for widths, seed, bound in cases:
        if args.only and args.only not in str(widths).replace(" ", ""):
            continue
        net = cl.as_network(cl.mlp(widths, seed=seed)).to_list()
        if warm:
            start_workers(net, args.workers)
        times = []
        for _ in range(args.repeats):
            cx = cl.Complex(net, bound=bound)
            t0 = time.perf_counter()
            cx.bfs(workers=args.workers, progress=False, max_regions=args.max_regions)
            times.append(time.perf_counter() - t0)
        ours_rate = len(cx) / float(np.median(times))
        spread = f"({len(cx) / max(times):.0f}-{len(cx) / min(times):.0f})"
        rel = (
            run_relucent(
                args.relucent_python, net, bound, args.workers, args.max_regions, args.timeout
            )
            if use_relucent
            else None
        )
        name = f"{widths} s{seed}".replace(" ", "")
        dom = "R^d" if bound is None else f"[-{bound:g},{bound:g}]^d"
        if rel is None:
            print(
                f"{name:<22} {dom:<8} {len(cx):>8} {'-':>13} {ours_rate:>15.0f} {'-':>7}  -"
                f"      {spread:>20}"
            )
            continue
        pats, secs = rel
        rate = len(pats) / secs
        same = {r.tobytes() for r in pats.astype(np.int8)} == {r.tobytes() for r in cx.patterns}
        if args.max_regions:
            same = "prefix"
        print(
            f"{name:<22} {dom:<8} {len(cx):>8} {rate:>13.0f} {ours_rate:>15.0f} "
            f"{ours_rate / rate:>6.1f}x  {str(same):<5}  {spread:>20}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
