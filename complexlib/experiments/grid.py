"""The synthetic grid of the face-count and diameter study: one trained network per run.

A run is a configuration ``(d, width, depth, trial)``: the classifier
``[d] + [width] * depth + [3]`` trained on blobs (:func:`.training.train_blobs`), the
complete complex on all of ``R^d``, and statistics of it (:func:`run_config`).  The grid
(:func:`run_grid`) runs every configuration of a product of value lists in parallel over
runs (joblib, loky), one process per run, and writes each run's result as one JSON file
(``runs/d2_w4_h1_t0.json``) the moment it finishes, atomically; a run whose file exists is
skipped, so an interrupted grid resumes where it stopped.

Defaults (:data:`DIMS`, :data:`WIDTHS`, :data:`DEPTHS`, :data:`TRIALS`) are the full grid of
Gaines & Bi (ICLR 2026): 4 x 3 x 4 x 5 = 240 runs.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .diameter import EXACT_MAX_NODES, diameter_bounds

__all__ = [
    "DEPTHS",
    "DIMS",
    "TRIALS",
    "WIDTHS",
    "complex_stats",
    "configs",
    "run_config",
    "run_grid",
    "run_name",
    "write_json",
]

DIMS = (2, 3, 4, 5)
WIDTHS = (4, 8, 16)
DEPTHS = (1, 2, 3, 4)
TRIALS = (0, 1, 2, 3, 4)


def run_name(d: int, width: int, depth: int, trial: int) -> str:
    """File stem of a run.

    Examples
    --------
    >>> run_name(2, 4, 1, 0)
    'd2_w4_h1_t0'
    """
    return f"d{d}_w{width}_h{depth}_t{trial}"


def configs(
    dims: Iterable[int] = DIMS,
    widths: Iterable[int] = WIDTHS,
    depths: Iterable[int] = DEPTHS,
    trials: Iterable[int] = TRIALS,
    largest_first: bool = False,
) -> list[tuple[int, int, int, int]]:
    """Every ``(d, width, depth, trial)``, cheapest first (by ``width^depth``, then ``d``).

    Cheapest first lets a grid stopped early hold as many finished runs as possible;
    ``largest_first`` gives the order that finishes a whole grid soonest on several workers.

    Examples
    --------
    >>> configs([2, 3], [4, 8], [1, 2], [0])[:3]
    [(2, 4, 1, 0), (3, 4, 1, 0), (2, 8, 1, 0)]
    """
    out = []
    for v in itertools.product(dims, widths, depths, trials):
        d, w, h, t = (int(x) for x in v)
        if d < 1 or w < 1 or h < 1 or t < 0:
            raise ValueError(
                f"need d, width, depth >= 1 and trial >= 0; got d={d}, width={w}, depth={h}, "
                f"trial={t}"
            )
        out.append((d, w, h, t))
    out = sorted(set(out), key=lambda c: (c[1] ** c[2], c[0], c[1], c[3]), reverse=largest_first)
    return out


def complex_stats(
    cx: Any,
    exact_max_nodes: int = EXACT_MAX_NODES,
    max_bfs: int = 200,
    volumes: bool = True,
    max_volume: float = 1e4,
    volume_sample: int | None = 20_000,
) -> dict[str, Any]:
    """Statistics of a searched complex: counts, facets, degree, volumes and diameter.

    Parameters
    ----------
    cx : Complex
        A complete complex (its dual graph must be connected).
    exact_max_nodes, max_bfs : int
        See :func:`.diameter.diameter_bounds`.
    volumes : bool
        Compute the volumes of the bounded regions (:func:`.volumes.region_volumes`).
    max_volume : float
        Bounded regions above this volume are left out of ``mean_volume`` (and counted in
        ``n_volume_excluded``).
    volume_sample : int, optional
        With more bounded regions than this, the volumes of a uniform random sample of this
        many (seeded) are computed, and ``mean_volume`` is the sample's mean;
        ``n_volume_sampled`` is the number computed.  ``None``: all.

    Returns
    -------
    dict
        ``regions``, ``bounded``, ``fraction_bounded``, ``edges``, ``face_counts`` (list,
        region order), ``mean_facets``, ``std_facets``, ``min_facets``, ``max_facets``,
        ``mean_degree`` (``2 edges / regions``), the keys of
        :func:`.volumes.volume_stats`, of :func:`.diameter.diameter_bounds`, and the
        seconds of the last two (``volume_seconds``, ``diameter_seconds``).

    Examples
    --------
    >>> import complexlib as cl
    >>> cx = cl.Complex(cl.mlp([2, 4, 1], seed=0)); _ = cx.bfs(progress=False)
    >>> s = complex_stats(cx)
    >>> s["regions"], s["diameter"], s["mean_facets"] == s["mean_degree"]
    (11, 4, True)
    """
    from .volumes import region_volumes, volume_stats

    fc = cx.face_counts()
    n = len(cx)
    edges, _ = cx.edges()
    bounded = cx.bounded[:n]
    out: dict[str, Any] = {
        "regions": n,
        "bounded": int(bounded.sum()),
        "fraction_bounded": float(bounded.mean()) if n else float("nan"),
        "edges": len(edges),
        "face_counts": fc.tolist(),
        "mean_facets": float(fc.mean()) if n else float("nan"),
        "std_facets": float(fc.std()) if n else float("nan"),
        "min_facets": int(fc.min()) if n else 0,
        "max_facets": int(fc.max()) if n else 0,
        "mean_degree": 2 * len(edges) / n if n else float("nan"),
    }
    t = time.perf_counter()
    if volumes:
        pick = np.flatnonzero(bounded)
        if volume_sample is not None and pick.size > volume_sample:
            rng = np.random.default_rng(0)
            pick = np.sort(rng.choice(pick, size=volume_sample, replace=False))
        out["n_volume_sampled"] = int(pick.size)
        out.update(volume_stats(region_volumes(cx, pick), max_volume=max_volume))
    out["volume_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    out.update(diameter_bounds(edges, n, exact_max_nodes=exact_max_nodes, max_bfs=max_bfs))
    out["diameter_seconds"] = time.perf_counter() - t
    return out


def run_config(
    d: int,
    width: int,
    depth: int,
    trial: int,
    exact_max_nodes: int = EXACT_MAX_NODES,
    max_bfs: int = 200,
    volumes: bool = True,
    max_regions: int | None = None,
) -> dict[str, Any]:
    """One run of the grid: train, search the whole complex of ``R^d``, measure it.

    Parameters
    ----------
    d, width, depth, trial : the configuration (``depth`` = number of hidden layers).
    exact_max_nodes, max_bfs : int
        Diameters always exact up to this many regions; above, exact when the bounds meet
        within ``max_bfs`` searches (:func:`.diameter.diameter_bounds`).
    volumes : bool
        Compute volumes of bounded regions.
    max_regions : int, optional
        Stop the search there (the row then has ``complete = False``, and its statistics
        describe the regions found, not the complex).

    Returns
    -------
    dict
        ``d, width, depth, trial``, ``test_accuracy``, ``complete``, the keys of
        :func:`complex_stats` and the seconds of each stage: ``train_seconds``,
        ``search_seconds``, ``volume_seconds``, ``diameter_seconds``, ``total_seconds``.

    Examples
    --------
    >>> row = run_config(2, 4, 1, trial=0)
    >>> row["regions"], row["diameter"], row["complete"]  # 4 lines in general position
    (11, 4, True)
    """
    import torch

    import complexlib as cl

    t0 = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        from .training import train_blobs

        model, acc = train_blobs(d, width, depth, trial)
        t1 = time.perf_counter()
        cx = cl.Complex(model)
        cx.bfs(max_regions=max_regions, workers=1, progress=False)
        t2 = time.perf_counter()
        stats = complex_stats(cx, exact_max_nodes=exact_max_nodes, max_bfs=max_bfs, volumes=volumes)
    finally:
        torch.set_num_threads(threads)
    row: dict[str, Any] = {
        "d": d,
        "width": width,
        "depth": depth,
        "trial": trial,
        "test_accuracy": acc,
        "complete": bool(cx.complete),
        **stats,
        "train_seconds": t1 - t0,
        "search_seconds": t2 - t1,
    }
    row["total_seconds"] = time.perf_counter() - t0
    row["complexlib_version"] = cl.__version__
    return row


def write_json(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically (a temporary file, then ``os.replace``).

    A reader never sees a half-written file, and a run killed while writing leaves no file
    behind (so a resumed grid runs it again).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, separators=(",", ":"))
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a result file is for everyone
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _run_and_write(cfg: tuple[int, int, int, int], path: Path, kwargs: dict[str, Any]) -> Path:
    return write_json(run_config(*cfg, **kwargs), path)


def run_grid(
    dims: Sequence[int] = DIMS,
    widths: Sequence[int] = WIDTHS,
    depths: Sequence[int] = DEPTHS,
    trials: Sequence[int] = TRIALS,
    out_dir: str | os.PathLike = "experiments/results/grid",
    n_jobs: int = 1,
    progress: bool = True,
    largest_first: bool = False,
    **kwargs: Any,
) -> dict[str, list[Path]]:
    """Run every configuration of the grid that has no result file yet.

    Parameters
    ----------
    dims, widths, depths, trials : value lists; the grid is their product.
    out_dir : path
        Results go to ``out_dir/runs/<run_name>.json``, one file per run.
    n_jobs : int
        Runs in parallel (joblib, loky processes); each run uses one thread.
    progress : bool
        A tqdm bar over runs.
    largest_first : bool
        Order of the runs (see :func:`configs`).
    **kwargs
        Passed to :func:`run_config` (``exact_max_nodes``, ``max_bfs``, ``volumes``,
        ``max_regions``).

    Returns
    -------
    dict
        ``{"ran": [...], "skipped": [...]}``: the result files written now and those that
        were there already.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     first = run_grid([2], [4], [1], [0], out_dir=tmp, progress=False)
    ...     again = run_grid([2], [4], [1], [0], out_dir=tmp, progress=False)
    >>> [p.name for p in first["ran"]], len(again["ran"]), len(again["skipped"])
    (['d2_w4_h1_t0.json'], 0, 1)
    """
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be >= 1, got {n_jobs}")
    runs = Path(out_dir) / "runs"
    todo: list[tuple[tuple[int, int, int, int], Path]] = []
    skipped: list[tuple[tuple[int, int, int, int], Path]] = []
    for cfg in configs(dims, widths, depths, trials, largest_first=largest_first):
        path = runs / f"{run_name(*cfg)}.json"
        (skipped if path.exists() else todo).append((cfg, path))
    ran: list[Path] = []
    if todo:
        runs.mkdir(parents=True, exist_ok=True)
        from joblib import Parallel, delayed
        from tqdm.auto import tqdm

        jobs = (delayed(_run_and_write)(cfg, path, kwargs) for cfg, path in todo)
        results = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")(jobs)
        with tqdm(total=len(todo), unit=" runs", desc="grid", disable=not progress) as bar:
            for path in results:
                ran.append(path)
                bar.set_postfix_str(path.stem)
                bar.update()
    return {"ran": ran, "skipped": [p for _, p in skipped]}
