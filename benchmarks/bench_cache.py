"""The region cache against its baselines, each measured in the same process.

Sections (``--sections`` picks some):

* ``paths``: hit rate on smooth 2-D paths, point by point: complexlib's region cache against
  the point-ball strategy (``complexlib.cache.PointBallCache``), at the same queries.
* ``throughput``: batches of 4,096 queries on deep nets, cached inference against a plain
  torch forward pass of the same batch: queries around a few dozen operating points, and a
  random walk.
* ``allcores``: the operating points on the whole machine: one cache per core, each in its
  own process on its own stream of batches, against the forward pass on all cores (torch's
  threads), batches per second in all.  The cache runs on one thread, so this is how a
  server would use it.
* ``memory``: bytes per entry, component by component, region cache against point balls.
* ``lookup``: time per query of hits against the number of cached regions (10 to 100,000),
  single queries and batches, with bytes per entry, against the point-ball cache.
* ``hapt``: the HAPT activity stream (``complexlib[iot]``): accuracy, hit rate, speed.

Run: ``python benchmarks/bench_cache.py [--threads N] [--quick] [--sections a,b] [--device D]``.
``--device cuda`` runs the throughput section with the network, the queries and the cache on
the GPU (both sides synchronised before each clock is read).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import complexlib as cl
from complexlib.cache import PointBallCache

#: Where the throughput section runs (``--device``).
DEVICE = torch.device("cpu")


def sync() -> None:
    """Wait for the GPU's queued work, so that a clock read after it counts all of it."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize(DEVICE)


def timed(f, reps: int, clock=time.perf_counter):
    """Median over ``reps`` calls of ``f`` on ``clock`` (``time.thread_time``: this thread's
    CPU time, less hit by other jobs on a shared machine; with one torch thread it is all the
    work done)."""
    ts = []
    for _ in range(reps):
        t = clock()
        f()
        ts.append(clock() - t)
    return statistics.median(ts)


def cache_against_forward(cache, net, batches):
    """Each batch through the cache, then through ``net`` (interleaved): the hit rate and the
    speed-ups of the medians, wall time and CPU time."""
    runs, hits = {"cw": [], "cc": [], "fw": [], "fc": []}, 0
    for X in batches:
        h0 = cache.stats()["hits"]
        for key, f in (("c", lambda X=X: cache(X)), ("f", lambda X=X: net(X))):
            sync()
            t, c = time.perf_counter(), time.thread_time()
            with torch.no_grad():
                f()
            sync()
            runs[key + "w"].append(time.perf_counter() - t)
            runs[key + "c"].append(time.thread_time() - c)
        hits += cache.stats()["hits"] - h0
    med = {k: statistics.median(v) for k, v in runs.items()}
    n = sum(len(X) for X in batches)
    return hits / n, med["fw"], med["cw"], med["fw"] / med["cw"], med["fc"] / med["cc"]


def cache_against_forward_streamed(cache, net, batches, rounds):
    """Each in runs of consecutive batches, as a serving loop calls it: ``rounds`` times,
    the cache answers its next ``len(batches) // rounds`` batches one after the other, then
    the forward pass answers the same ones.  The same figures as :func:`cache_against_forward`.

    Interleaved, every cache call follows a forward pass that evicts the CPU's caches, the
    cache's code included (a numpy call then costs 5-30 us instead of 1-4 us); streamed, each
    runs warm, as it would when the cache stands in for the forward pass."""
    runs, hits = {"cw": [], "cc": [], "fw": [], "fc": []}, 0
    per = len(batches) // rounds
    for r in range(rounds):
        part = batches[r * per : (r + 1) * per]
        h0 = cache.stats()["hits"]
        for key, f in (("c", cache), ("f", net)):
            for X in part:
                sync()
                t, c = time.perf_counter(), time.thread_time()
                with torch.no_grad():
                    f(X)
                sync()
                runs[key + "w"].append(time.perf_counter() - t)
                runs[key + "c"].append(time.thread_time() - c)
        hits += cache.stats()["hits"] - h0
    med = {k: statistics.median(v) for k, v in runs.items()}
    n = sum(len(X) for X in batches[: rounds * per])
    return hits / n, med["fw"], med["cw"], med["fw"] / med["cw"], med["fc"] / med["cc"]


def lissajous(n: int, scale: float) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return scale * np.stack([np.sin(t), np.sin(2 * t + 0.3)], axis=1)


# ----------------------------------------------------------------------------- sections
def bench_paths(quick: bool) -> None:
    print("\n## hit rate on smooth 2-D paths (single queries, in order)")
    print(
        f"{'net':<22}{'points':>7}  {'strategy':<14}{'hits':>6}{'hit rate':>10}{'entries':>9}"
        f"{'bytes/entry':>13}{'bytes':>9}"
    )
    for widths, seed, n, scale in (([2, 3, 3, 3, 1], 0, 88, 2.0), ([2, 32, 32, 1], 0, 1000, 2.0)):
        net = cl.mlp(widths, seed=seed).double()
        path = lissajous(n, scale)
        cache = cl.HypersphereCache(net, admit="all")
        for x in path:
            cache(x)
        s = cache.stats()
        base = PointBallCache(net)
        for x in path:
            base(x)
        name = f"[{','.join(map(str, widths))}]s{seed}"
        for label, hits, entries, per in (
            ("regions", s["hits"], s["size"], s["bytes_per_region"]),
            ("point-balls", base.hits, len(base.radii), sum(base.bytes_per_entry().values())),
        ):
            print(
                f"{name:<22}{n:>7}  {label:<14}{hits:>6}{hits / n:>10.1%}{entries:>9}"
                f"{per:>13}{per * entries:>9}"
            )


def operating_points(net, d, rng, n_ops=32, rel=0.2):
    ops = rng.standard_normal((n_ops, d))
    r = cl.linearize_at_point(net, ops, halfspaces=False).radius
    sigma = rel * float(np.median(r)) / np.sqrt(d)
    return ops, sigma


def _ratio(cpu: float, digits: int) -> str:
    """The CPU-time column: shown only when torch runs on one thread (the clock is this
    thread's CPU time, which misses the forward pass's other threads)."""
    if torch.get_num_threads() != 1:
        return f"{'-':>10}"
    return f"{cpu:>9.{digits}f}x"


def bench_throughput(quick: bool) -> None:
    print(
        f"\n## throughput, batches of 4,096 (cache vs plain torch forward, same batch), on {DEVICE}"
    )
    print(
        "# interleaved: cache and forward pass alternate batch by batch (each call cold);"
        " streamed: each answers runs of consecutive batches (warm, as a serving loop)"
    )
    nt = torch.get_num_threads()
    print(
        f"# the forward pass on {nt} torch thread(s); the cache's lookups run on one thread"
        + ("" if nt == 1 else " (CPU-time ratios need one thread on each side: not shown)")
    )
    print(
        f"{'net':<22}{'workload':<18}{'protocol':<13}{'hit rate':>9}{'forward ms':>12}"
        f"{'cache ms':>10}{'speed-up':>10}{'regions':>9}{'CPU-time speed-up':>19}"
    )
    reps = 3 if quick else 7
    rounds = 3
    rng = np.random.default_rng(0)
    for widths in ([2] + [512] * 6 + [1], [8] + [256] * 4 + [4]):
        net = cl.mlp(widths, seed=0).eval().to(DEVICE)
        d = widths[0]
        name = f"[{d}]+[{widths[1]}]*{len(widths) - 2}+[{widths[-1]}]"
        # operating points: sensor readings at rest / a loop near its set points
        ops, sigma = operating_points(net, d, rng)
        cache = cl.HypersphereCache(net)

        def ops_batch(ops=ops, sigma=sigma, d=d):
            i = rng.integers(0, len(ops), 4096)
            return torch.as_tensor(
                ops[i] + sigma * rng.standard_normal((4096, d)), dtype=torch.float32, device=DEVICE
            )

        for _ in range(3):
            cache(ops_batch())
        for protocol in ("interleaved", "streamed"):
            if protocol == "interleaved":
                res = cache_against_forward(cache, net, [ops_batch() for _ in range(reps)])
            else:
                batches = [ops_batch() for _ in range(rounds * reps)]
                res = cache_against_forward_streamed(cache, net, batches, rounds)
            hr, f, c, wall, cpu = res
            print(
                f"{name:<22}{'32 op. points':<18}{protocol:<13}{hr:>9.1%}{f * 1e3:>12.1f}"
                f"{c * 1e3:>10.2f}{wall:>9.1f}x{cache.stats()['size']:>9}{_ratio(cpu, 1)}"
            )
        # random walk: fill with a first walk, then time its continuation segment by segment
        n_seg = reps + rounds * reps
        walk = np.cumsum(0.002 * rng.standard_normal(((n_seg + 1) * 4096, d)), axis=0)
        W = torch.as_tensor(walk, dtype=torch.float32, device=DEVICE)
        cache = cl.HypersphereCache(net, admit="all")
        cache(W[:4096])
        first = cache.stats()["size"]
        cache.admit = "auto"
        segments = [W[k * 4096 : (k + 1) * 4096] for k in range(1, n_seg + 1)]
        for protocol in ("interleaved", "streamed"):
            if protocol == "interleaved":
                res = cache_against_forward(cache, net, segments[:reps])
            else:
                res = cache_against_forward_streamed(cache, net, segments[reps:], rounds)
            hr, f, c, wall, cpu = res
            print(
                f"{name:<22}{'random walk':<18}{protocol:<13}{hr:>9.1%}{f * 1e3:>12.1f}"
                f"{c * 1e3:>10.2f}{wall:>9.2f}x{cache.stats()['size']:>9}{_ratio(cpu, 2)}"
                + (
                    f"   (first walk: {first} regions; sigma ops {sigma:.1e})"
                    if protocol == "streamed"
                    else ""
                )
            )


def _ops_stream(widths, worker: int, n: int):
    """The network, its operating points (the same for every worker) and ``n`` batches of
    4,096 queries around them (a stream of the worker's own)."""
    net = cl.mlp(widths, seed=0).eval()
    d = widths[0]
    ops, sigma = operating_points(net, d, np.random.default_rng(0))
    rng = np.random.default_rng(100 + worker)
    batches = []
    for _ in range(n):
        i = rng.integers(0, len(ops), 4096)
        x = ops[i] + sigma * rng.standard_normal((4096, d))
        batches.append(torch.as_tensor(x, dtype=torch.float32))
    return net, batches


def _cache_worker(widths, worker, n, barrier, results) -> None:
    """One core's cache (a spawned process): warm it on 3 batches, wait for the others,
    then time ``n`` batches back to back."""
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(limits=1, user_api="blas")
    net, batches = _ops_stream(widths, worker, n + 3)
    cache = cl.HypersphereCache(net)
    with torch.no_grad():
        for X in batches[:3]:
            cache(X)
        h0 = cache.stats()["hits"]
        barrier.wait()
        t = time.perf_counter()
        for X in batches[3:]:
            cache(X)
        elapsed = time.perf_counter() - t
    results.put((worker, elapsed, (cache.stats()["hits"] - h0) / (4096 * n)))


def bench_allcores(quick: bool) -> None:
    import multiprocessing as mp
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    n = 20 if quick else 60
    print(f"\n## operating points on all {cores} cores: one cache per core (processes) against "
          f"the forward pass on {cores} torch threads, batches of 4,096")  # fmt: skip
    print(
        f"{'net':<22}{'forward batch/s':>16}{'caches batch/s':>16}{'speed-up':>10}"
        f"{'hit rate':>10}"
    )
    ctx = mp.get_context("spawn")
    for widths in ([2] + [512] * 6 + [1], [8] + [256] * 4 + [4]):
        name = f"[{widths[0]}]+[{widths[1]}]*{len(widths) - 2}+[{widths[-1]}]"
        barrier, results = ctx.Barrier(cores), ctx.Queue()
        procs = [
            ctx.Process(target=_cache_worker, args=(widths, w, n, barrier, results))
            for w in range(cores)
        ]
        for p in procs:
            p.start()
        try:  # a worker that dies never reports: give up rather than wait forever
            got = [results.get(timeout=600) for _ in procs]
        finally:
            for p in procs:
                p.join(timeout=5)
                if p.is_alive():
                    p.terminate()
        cache_rate = cores * n / max(e for _, e, _ in got)
        hit = min(h for _, _, h in got)
        # the forward pass alone on the machine, all of torch's threads, the same batches
        before = torch.get_num_threads()
        torch.set_num_threads(cores)
        net, batches = _ops_stream(widths, 0, n)
        with torch.no_grad():
            net(batches[0])
            t = time.perf_counter()
            for X in batches:
                net(X)
            fwd_rate = n / (time.perf_counter() - t)
        torch.set_num_threads(before)
        print(
            f"{name:<22}{fwd_rate:>16.1f}{cache_rate:>16.1f}{cache_rate / fwd_rate:>9.1f}x"
            f"{hit:>10.1%}"
        )


def bench_memory(quick: bool) -> None:
    print("\n## bytes per entry by component (float64 caches, 1,000 regions / balls)")
    for widths in ([2, 32, 32, 1], [4, 64, 64, 1], [8] + [256] * 4 + [4]):
        net = cl.mlp(widths, seed=0).double()
        d = widths[0]
        cache = cl.HypersphereCache(net)
        X = np.random.default_rng(2).standard_normal((1000, d))
        cache(X)
        s = cache.stats()
        base = cl.cache.PointBallCache(net)
        base.add(X)
        parts, bparts = s["bytes_per_region_by_component"], base.bytes_per_entry()
        name = f"[{','.join(map(str, widths))}]" if len(widths) < 5 else "[8]+[256]*4+[4]"
        print(f"{name}: region entry {s['bytes_per_region']} B (K = {s['rows_per_region']} rows)"
              f" against point ball {sum(bparts.values())} B")  # fmt: skip
        for k, v in parts.items():
            print(f"    region  {k:<58}{v:>7}")
        for k, v in bparts.items():
            print(f"    ball    {k:<58}{v:>7}")


def bench_lookup(quick: bool) -> None:
    print("\n## lookup time of hits against cache size ([4,64,64,1], float64; thread CPU time)")
    print(
        f"{'regions':>8}{'cache 1 q (us)':>16}{'balls 1 q (us)':>16}{'cache batch (us/q)':>20}"
        f"{'balls batch (us/q)':>20}{'hit':>6}{'bytes/region':>14}{'bytes/ball':>12}"
    )
    net = cl.mlp([4, 64, 64, 1], seed=0).double()
    rng = np.random.default_rng(1)
    sizes = (10, 100, 1000, 10_000) if quick else (10, 100, 1000, 10_000, 100_000)
    cache = cl.HypersphereCache(net, admit="all")
    base = PointBallCache(net)
    scale = 1.0
    for size in sizes:
        for _ in range(200):  # bounded: the sampling box grows while new regions get rare
            have = cache.stats()["size"]
            if have >= size:
                break
            need = size - have
            X = rng.uniform(-scale, scale, (min(need, 8192), 4))
            cache(X)
            if cache.stats()["size"] - have < 0.2 * len(X):
                scale *= 1.5
        cache._maybe_rebuild(force=True)
        reg = cache.regions(chebyshev=False)
        # the point-ball cache holds a ball at each region's creating point (same radius)
        base.centers, base.radii, base.W, base.c = reg.center, reg.radius, reg.W, reg.c
        base.rebuild()
        pick = rng.integers(0, len(reg), 4096)
        u = rng.standard_normal((4096, 4))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        Q = reg.center[pick] + 0.5 * reg.radius[pick, None] * u * rng.random((4096, 1))
        nq = 300 if quick else 1000
        cache(Q)  # one untimed batch: the fill left the cache in its few-hits (probing) mode
        h0 = cache.stats()["hits"]
        t1 = timed(lambda Q=Q, nq=nq: [cache(q) for q in Q[:nq]], 1, time.thread_time) / nq
        t1b = timed(lambda Q=Q, nq=nq: [base.find(q) for q in Q[:nq]], 1, time.thread_time) / nq
        tb = timed(lambda Q=Q: cache(Q), 3, time.thread_time) / len(Q)
        tbb = timed(lambda Q=Q: base.batch(Q), 3, time.thread_time) / len(Q)
        hit = (cache.stats()["hits"] - h0) / (nq + 3 * len(Q))
        print(
            f"{len(reg):>8}{t1 * 1e6:>16.0f}{t1b * 1e6:>16.0f}{tb * 1e6:>20.2f}{tbb * 1e6:>20.2f}"
            f"{hit:>6.0%}{cache.stats()['bytes_per_region']:>14}{sum(base.bytes_per_entry().values()):>12}"
        )


def bench_hapt(quick: bool) -> None:
    print("\n## HAPT stream (held-out people, windows in time order)")
    try:
        from complexlib.datasets import har

        recs = har.load_recordings()
    except ImportError as exc:
        print(f"skipped: {exc}")
        return
    w = har.windows(recs)
    test = np.isin(w.user, har.TEST_USERS)
    t = time.perf_counter()
    model = har.train_classifier(w.select(~test), epochs=20 if quick else 60)
    t_train = time.perf_counter() - t
    wt = w.select(test)
    acc = har.accuracy(model, wt)
    order = np.lexsort((wt.start, wt.session, wt.user))
    X = torch.as_tensor(wt.X[order], dtype=torch.float32)
    print(
        f"train people {len(np.unique(w.user[~test]))}, windows {int((~test).sum())}; "
        f"test people {len(har.TEST_USERS)}, windows {len(wt)}; test accuracy {acc:.1%} "
        f"(train {t_train:.0f} s)"
    )
    for admit in ("auto", "all"):
        cache = cl.HypersphereCache(model, admit=admit)
        t = time.perf_counter()
        out = torch.stack([cache(x) for x in X])
        tc = (time.perf_counter() - t) / len(X)
        with torch.no_grad():
            tf = timed(lambda: [model(x) for x in X], 1) / len(X)
            exact = bool(torch.allclose(out, model(X), rtol=1e-5, atol=1e-5))
        s = cache.stats()
        print(
            f"admit={admit:<5} one window per call: hit rate {s['hit_rate']:.1%}, regions "
            f"{s['size']}, cache {tc * 1e6:.0f} us vs forward {tf * 1e6:.0f} us per window "
            f"(speed-up {tf / tc:.2f}x), answers equal the model's: {exact}"
        )
    # the same stream in chunks of 64 consecutive windows (a buffer of 64 x 2.56 s)
    cache64 = cl.HypersphereCache(model)
    chunks = torch.split(X, 64)
    t = time.perf_counter()
    for ch in chunks:
        cache64(ch)
    tc64 = (time.perf_counter() - t) / len(X)
    with torch.no_grad():
        tf64 = timed(lambda: [model(ch) for ch in chunks], 3) / len(X)
    print(
        f"chunks of 64 windows: hit rate {cache64.stats()['hit_rate']:.1%}, cache "
        f"{tc64 * 1e6:.1f} us vs forward {tf64 * 1e6:.1f} us per window ({tf64 / tc64:.2f}x)"
    )
    # a second pass over the same stream (the cache now holds its regions)
    h0 = cache.stats()["hits"]
    t = time.perf_counter()
    for x in X:
        cache(x)
    tc = (time.perf_counter() - t) / len(X)
    print(
        f"second pass (admit=all cache): hit rate {(cache.stats()['hits'] - h0) / len(X):.1%}, "
        f"cache {tc * 1e6:.0f} us vs forward {tf * 1e6:.0f} us per window ({tf / tc:.2f}x)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=None, help="torch and BLAS threads")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions and sizes")
    ap.add_argument("--sections", default="paths,throughput,allcores,memory,lookup,hapt")
    ap.add_argument("--device", default="cpu", help="where the throughput section runs")
    args = ap.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    if DEVICE.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here")
    if args.threads:  # torch's threads and numpy's BLAS (the cache's CPU lookups use numpy)
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        threadpool_limits(limits=args.threads, user_api="blas")
    index = cl.HypersphereCache(cl.mlp([2, 2, 1])).stats()["index"]
    print(
        f"# complexlib {cl.__version__}, torch {torch.__version__}, "
        f"threads {torch.get_num_threads()}, index {index}"
    )
    sections = {"paths": bench_paths, "throughput": bench_throughput, "allcores": bench_allcores,
                "memory": bench_memory, "lookup": bench_lookup, "hapt": bench_hapt}  # fmt: skip
    for name in args.sections.split(","):
        sections[name](args.quick)


if __name__ == "__main__":
    main()
