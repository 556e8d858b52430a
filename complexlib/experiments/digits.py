"""Real data: the complex of a digits classifier over its 5-D embedding (issue 6, item 3).

The study of Gaines & Bi trains a ``[784, 5, 8, 8, 8, 10]`` network on MNIST and looks at the
complex of the sub-network ``5 -> 8 -> 8 -> 8 -> 10`` over the embedding after the first ReLU.
MNIST cannot be fetched offline, so this runs the same pipeline on scikit-learn's bundled
``load_digits`` (1,797 8x8 images, 64 features scaled to ``[0, 1]`` by ``/16``):

1. train ``[64, 5, 8, 8, 8, 10]`` with plain SGD (as the paper did for MNIST): cross-entropy,
   lr 0.1, batch 64, 200 epochs, seeded (:func:`complexlib.experiments.training.train_classifier`,
   one epoch per call with the epoch's own shuffle seed, so snapshots never change the run);
2. split the network after the first ReLU: ``z = ReLU(W_1 x + b_1)`` is the embedding and the
   later layers are the sub-network whose complex is taken;
3. the domain is the non-negative orthant ``{z >= 0}`` (a :class:`~complexlib.Polytope`), where
   every embedding lives: regions that only exist at negative coordinates are never reached by
   data and are left out; the orthant's sides are domain facets, not neighbours;
4. a BFS capped at ``max_regions`` (default 1,000,000), started at the mean embedding, so a
   capped complex is the ball of regions around the data;
5. every training point is mapped to its region in bulk (patterns of all embeddings, packed,
   looked up in the complex's pattern index); points whose region the capped search did not
   reach are counted, not dropped silently;
6. facet counts, volumes (bounded regions) and inradii of the data regions against all regions.

The training-progress run repeats 4-6 at snapshots taken during training.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..complex import Complex
from ..domain import Polytope
from ..network import ReLUNetwork, as_network
from ..patterns import pack, patterns_of, preactivations

__all__ = [
    "DIGITS_WIDTHS",
    "digits_data",
    "train_digits",
    "split_embedding",
    "embed",
    "orthant",
    "digits_complex",
    "data_regions",
    "region_stats",
    "run_digits",
    "run_digits_progress",
]

#: The paper's MNIST architecture with the 8x8 digits' 64 inputs.
DIGITS_WIDTHS = (64, 5, 8, 8, 8, 10)
#: Domains of the embedding's complex (see :func:`digits_complex`).
DOMAINS = ("orthant", "all")
#: Default SGD schedule (plain SGD, no momentum), chosen for ~90 % test accuracy.
DIGITS_EPOCHS, DIGITS_LR, DIGITS_BATCH = 200, 0.1, 64


def digits_data(
    test_size: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``load_digits`` scaled to ``[0, 1]`` (``/16``), split stratified with a fixed seed.

    Returns
    -------
    X_train, X_test, y_train, y_test

    Examples
    --------
    >>> X_train, X_test, y_train, y_test = digits_data()
    >>> X_train.shape, X_test.shape, float(X_train.max())
    ((1437, 64), (360, 64), 1.0)
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the digits data need scikit-learn: pip install 'complexlib[experiments]'"
        ) from exc
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=test_size, random_state=seed, stratify=y
    )
    return X_train, X_test, y_train, y_test


def train_digits(
    epochs: int = DIGITS_EPOCHS,
    lr: float = DIGITS_LR,
    batch_size: int = DIGITS_BATCH,
    seed: int = 0,
    snapshots: Sequence[int] = (),
    data: tuple[np.ndarray, ...] | None = None,
    widths: Sequence[int] = DIGITS_WIDTHS,
) -> tuple[Any, list[dict[str, float]], dict[int, ReLUNetwork]]:
    """Train the digits classifier with seeded SGD, keeping snapshots.

    Parameters
    ----------
    epochs, lr, batch_size : the SGD schedule.
    seed : int
        Seed of the initialisation; epoch ``e`` shuffles with ``config_seed(seed, e)``.
    snapshots : sequence of int
        Epochs after which the network is kept (``0``: the initial network).
    data : (X_train, X_test, y_train, y_test), optional
        Defaults to :func:`digits_data`.
    widths : sequence of int
        The architecture (the first hidden layer is the embedding).

    Returns
    -------
    model : torch.nn.Sequential
        The trained network (eval mode).
    history : list of dict
        Per epoch: ``epoch``, ``loss`` (mean training loss), ``train_accuracy``,
        ``test_accuracy``.
    nets : dict
        ``epoch -> ReLUNetwork`` for each snapshot epoch.

    Examples
    --------
    >>> model, hist, nets = train_digits(epochs=2, snapshots=[0, 2])
    >>> len(hist), sorted(nets), nets[2].widths
    (2, [0, 2], (64, 5, 8, 8, 8, 10))
    """
    from .training import accuracy, config_seed, mlp_module, train_classifier

    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    bad = [e for e in snapshots if not 0 <= int(e) <= epochs]
    if bad:
        raise ValueError(f"snapshot epochs must lie in 0..{epochs}, got {bad}")
    import torch

    X_train, X_test, y_train, y_test = data if data is not None else digits_data()
    model = mlp_module(widths, seed=seed)
    want = {int(e) for e in snapshots}
    nets: dict[int, ReLUNetwork] = {}
    if 0 in want:
        nets[0] = as_network(model.eval())
    history = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small batches: one thread is fastest and bit-reproducible
    try:
        for e in range(1, epochs + 1):
            (loss,) = train_classifier(
                model,
                X_train,
                y_train,
                epochs=1,
                lr=lr,
                batch_size=batch_size,
                seed=config_seed(seed, e),
            )
            history.append(
                {
                    "epoch": e,
                    "loss": loss,
                    "train_accuracy": accuracy(model, X_train, y_train),
                    "test_accuracy": accuracy(model, X_test, y_test),
                }
            )
            if e in want:
                nets[e] = as_network(model)
    finally:
        torch.set_num_threads(threads)
    return model, history, nets


def split_embedding(net: Any) -> tuple[ReLUNetwork, ReLUNetwork]:
    """Split a network after its first ReLU: ``(first layer, the rest)``.

    ``net(x) == rest(ReLU(first(x)))``; ``first`` is a one-layer network
    (``first.forward`` is the pre-activation, see :func:`embed`).

    Examples
    --------
    >>> import complexlib as cl
    >>> first, rest = split_embedding(cl.mlp([6, 5, 8, 3], seed=0))
    >>> first.widths, rest.widths
    ((6, 5), (5, 8, 3))
    """
    full = as_network(net)
    if len(full.weights) < 3:
        raise ValueError(
            f"the network {list(full.widths)} needs at least two hidden layers: one to embed "
            "and one for the sub-network's complex"
        )
    if full.slopes[0] != 0.0:
        raise ValueError("the embedding must follow a plain ReLU (its values then lie in z >= 0)")
    first = ReLUNetwork([full.weights[0]], [full.biases[0]], [])
    rest = ReLUNetwork(full.weights[1:], full.biases[1:], full.slopes[1:])
    return first, rest


def embed(first: ReLUNetwork, X: Any) -> np.ndarray:
    """The embedding ``ReLU(W_1 x + b_1)`` of the points ``X`` (float64).

    Examples
    --------
    >>> import numpy as np
    >>> first = ReLUNetwork([np.array([[1.0, -1.0]])], [np.zeros(1)], [])
    >>> embed(first, [[2.0, 1.0], [1.0, 2.0]])
    array([[1.],
           [0.]])
    """
    return np.maximum(first.forward(np.asarray(X, dtype=np.float64)), 0.0)


def orthant(d: int) -> Polytope:
    """The non-negative orthant ``{z in R^d : z >= 0}`` as a domain.

    Examples
    --------
    >>> orthant(2).contains(np.array([[0.0, 1.0], [-1.0, 1.0]]))
    array([ True, False])
    """
    return Polytope(-np.eye(d), np.zeros(d))


def digits_complex(
    rest: ReLUNetwork,
    Z: np.ndarray,
    max_regions: int | None = 1_000_000,
    progress: bool = False,
    workers: int = 1,
    domain: str = "orthant",
) -> Complex:
    """The complex of the sub-network over the embedding space, searched from the mean embedding.

    Parameters
    ----------
    rest : ReLUNetwork
        The sub-network after the embedding.
    Z : ndarray, shape (n, k)
        The embeddings (their mean, nudged to ``>= 1e-3`` of its scale, is the start).
    max_regions : int or None
        Cap of the breadth-first search (``None``: the whole complex).
    domain : {"orthant", "all"}
        ``"orthant"``: ``{z >= 0}``, where the embeddings live (the faithful choice);
        ``"all"``: all of R^k, as if the embedding could be negative (a larger complex).
    """
    k = rest.input_dim
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; valid: {', '.join(map(repr, DOMAINS))}")
    cx = Complex(rest, bound=orthant(k) if domain == "orthant" else None)
    start = Z.mean(axis=0)
    start = np.maximum(start, 1e-3 * max(1.0, float(start.max())))
    cx.bfs(max_regions=max_regions, start=start, progress=progress, workers=workers)
    return cx


def data_regions(cx: Complex, Z: np.ndarray, tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """Region of each point of ``Z`` in ``cx``, in bulk.

    Returns
    -------
    ids : ndarray of int64, shape (n,)
        Index into ``cx`` of each point's region, ``-1`` when the (capped) complex
        does not hold it.
    on_boundary : ndarray of bool, shape (n,)
        Points within ``tol`` (relative) of a neuron's hyperplane: their region is
        the one of their pattern, but they also touch a neighbour's closure.

    Examples
    --------
    >>> import complexlib as cl
    >>> cx = cl.Complex(cl.mlp([2, 4, 1], seed=0)); _ = cx.bfs(progress=False)
    >>> ids, edge = data_regions(cx, cx.interior_points[:3])
    >>> ids.tolist(), edge.tolist()
    ([0, 1, 2], [False, False, False])
    """
    S = patterns_of(cx.net, Z, cx.device)
    found = cx.store.lookup(pack(S)).astype(np.int64)
    ids = np.where((found >= 0) & (found < len(cx)), found, -1)
    z = preactivations(cx.net, Z, cx.device)
    scale = 1.0 + np.linalg.norm(Z, axis=1)
    on_boundary = np.any(np.abs(z) <= tol * scale[:, None], axis=1)
    return ids, on_boundary


def _describe(values: np.ndarray) -> dict[str, Any]:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0, "mean": None, "median": None, "min": None, "max": None}
    return {
        "n": int(v.size),
        "mean": float(v.mean()),
        "median": float(np.median(v)),
        "min": float(v.min()),
        "max": float(v.max()),
    }


def _log_histogram(values: np.ndarray, edges: np.ndarray) -> list[int]:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    return np.histogram(np.log10(v), bins=edges)[0].tolist()


def region_stats(
    cx: Complex,
    ids: np.ndarray,
    volumes: np.ndarray | None = None,
    inradii: np.ndarray | None = None,
    bins: int = 30,
    max_volume: float = 1e4,
) -> dict[str, Any]:
    """Facet counts, volumes and inradii of the data regions against all regions.

    Parameters
    ----------
    cx : Complex
        A searched complex (possibly capped).
    ids : ndarray of int
        Region of each data point (``-1``: not in ``cx``), from :func:`data_regions`.
    volumes, inradii : ndarray, optional
        Per region (``inf`` for unbounded regions); computed when not given.
    bins : int
        Bins of the log10 histograms of volumes and inradii.
    max_volume : float
        Volumes above this are left out of the volume statistics (as in the grid: far
        bounded regions can be huge, and qhull's volumes of such regions are unreliable);
        ``volume_excluded`` counts them, ``volume_failed`` the regions qhull could not do.

    Returns
    -------
    dict
        ``regions``, ``data_regions``, ``points``, ``points_outside``; for the groups
        ``all``, ``data`` and ``empty`` (regions holding no point): facet statistics
        with a histogram (``facets_hist[k]`` regions with ``k`` facets), and
        statistics and log10 histograms of the volumes and inradii of bounded regions.

    Examples
    --------
    >>> import complexlib as cl
    >>> cx = cl.Complex(cl.mlp([2, 4, 1], seed=0), bound=3.0); _ = cx.bfs(progress=False)
    >>> st = region_stats(cx, np.array([0, 0, 2, -1]))
    >>> st["data_regions"], st["points_outside"], st["data"]["facets"]["n"]
    (2, 1, 2)
    """
    n = len(cx)
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size and (ids.max() >= n or ids.min() < -1):
        raise ValueError(f"ids must be region indices below {n} or -1")
    if volumes is None:
        from .volumes import region_volumes

        volumes = region_volumes(cx)
    if inradii is None:
        inradii = cx.inradii
    bounded = cx.bounded[:n]
    vol = np.where(bounded, volumes, np.inf)
    too_big = bounded & (vol > max_volume)
    failed = bounded & np.isnan(vol)
    vol = np.where(too_big, np.inf, vol)
    rad = np.where(bounded, inradii, np.inf)
    counts = np.bincount(ids[ids >= 0], minlength=n)
    fc = cx.face_counts()
    groups = {"all": np.ones(n, bool), "data": counts > 0, "empty": counts == 0}
    finite_v = vol[np.isfinite(vol) & (vol > 0)]
    finite_r = rad[np.isfinite(rad) & (rad > 0)]
    v_edges = np.linspace(*_log_range(finite_v), bins + 1)
    r_edges = np.linspace(*_log_range(finite_r), bins + 1)
    out: dict[str, Any] = {
        "regions": n,
        "complete": cx.complete,
        "bounded": int(bounded.sum()),
        "data_regions": int((counts > 0).sum()),
        "points": int(ids.size),
        "points_outside": int((ids < 0).sum()),
        "max_points_per_region": int(counts.max()) if n else 0,
        "max_volume": max_volume,
        "volume_excluded": int(too_big.sum()),
        "volume_failed": int(failed.sum()),
        "volume_log10_edges": v_edges.tolist(),
        "inradius_log10_edges": r_edges.tolist(),
    }
    top = int(fc.max()) + 1 if n else 1
    for name, mask in groups.items():
        out[name] = {
            "facets": _describe(fc[mask]),
            "facets_hist": np.bincount(fc[mask], minlength=top).tolist(),
            "bounded": int((mask & bounded).sum()),
            "volume": _describe(vol[mask]),
            "volume_hist": _log_histogram(vol[mask], v_edges),
            "inradius": _describe(rad[mask]),
            "inradius_hist": _log_histogram(rad[mask], r_edges),
        }
    return out


def _log_range(v: np.ndarray) -> tuple[float, float]:
    if v.size == 0:
        return 0.0, 1.0
    lo, hi = np.log10(v.min()), np.log10(v.max())
    return (float(lo), float(hi)) if hi > lo else (float(lo) - 0.5, float(hi) + 0.5)


def _analyse(
    net: ReLUNetwork,
    X_train: np.ndarray,
    max_regions: int | None,
    progress: bool,
    workers: int,
    domain: str,
) -> tuple[Complex, dict[str, Any], np.ndarray, np.ndarray]:
    """Complex, statistics, per-point regions and per-region volumes of one trained network."""
    first, rest = split_embedding(net)
    Z = embed(first, X_train)
    t0 = time.perf_counter()
    cx = digits_complex(rest, Z, max_regions, progress=progress, workers=workers, domain=domain)
    search_s = time.perf_counter() - t0
    ids, edge = data_regions(cx, Z)
    t0 = time.perf_counter()
    from .volumes import region_volumes

    volumes = region_volumes(cx)
    inradii = cx.inradii
    stats = region_stats(cx, ids, volumes=volumes, inradii=inradii)
    stats["points_on_boundary"] = int(edge.sum())
    stats["embedding_zero_coordinates"] = np.bincount(
        (Z <= 0).sum(axis=1), minlength=Z.shape[1] + 1
    ).tolist()
    stats["search_seconds"] = search_s
    stats["regions_per_second"] = len(cx) / search_s if search_s > 0 else float("nan")
    stats["stats_seconds"] = time.perf_counter() - t0
    return cx, stats, ids, volumes


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_digits(
    max_regions: int | None = 1_000_000,
    out: str | Path | None = None,
    epochs: int = DIGITS_EPOCHS,
    lr: float = DIGITS_LR,
    batch_size: int = DIGITS_BATCH,
    seed: int = 0,
    workers: int = 1,
    progress: bool = False,
    save_complex: bool = False,
    domain: str = "orthant",
) -> dict[str, Any]:
    """Train, take the capped complex over the embedding, map the data, compare the regions.

    Writes to ``out`` (when given): ``digits.json`` (everything returned),
    ``digits_regions.csv`` (one row per region: facets, domain facets, bounded, volume,
    inradius, training points), ``digits_points.csv`` (one row per training point:
    label, region, embedding) and, with ``save_complex``, ``digits_complex.npz``.

    Returns
    -------
    dict
        ``widths``, training settings, ``test_accuracy``, ``train_accuracy``, the
        :func:`region_stats` of the complex, timings and peak memory.

    Examples
    --------
    >>> res = run_digits(max_regions=50, epochs=1)
    >>> res["stats"]["regions"], res["stats"]["points"]
    (50, 1437)
    """
    if max_regions is not None and max_regions < 1:
        raise ValueError(f"max_regions must be >= 1 or None, got {max_regions}")
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        data = digits_data(seed=0)
        t0 = time.perf_counter()
        model, history, _ = train_digits(epochs, lr, batch_size, seed=seed, data=data)
        train_s = time.perf_counter() - t0
        net = as_network(model)
        cx, stats, ids, volumes = _analyse(net, data[0], max_regions, progress, workers, domain)
    finally:
        torch.set_num_threads(threads)
    result = {
        "widths": list(net.widths),
        "domain": domain,
        "optimizer": "SGD (no momentum), cross-entropy",
        "epochs": epochs,
        "lr": lr,
        "batch_size": batch_size,
        "seed": seed,
        "max_regions": max_regions,
        "train_accuracy": history[-1]["train_accuracy"],
        "test_accuracy": history[-1]["test_accuracy"],
        "train_seconds": train_s,
        "peak_rss_mb": _peak_rss_mb(),
        "stats": stats,
    }
    if out is not None:
        _write_run(Path(out), result, cx, ids, volumes, data, net, save_complex)
    return result


def _write_run(
    out: Path,
    result: dict[str, Any],
    cx: Complex,
    ids: np.ndarray,
    vol: np.ndarray,
    data: tuple[np.ndarray, ...],
    net: ReLUNetwork,
    save_complex: bool,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "digits.json").write_text(json.dumps(result, indent=1))
    n = len(cx)
    rad = cx.inradii
    counts = np.bincount(ids[ids >= 0], minlength=n)
    fc, dfc, bnd = cx.face_counts(), cx.domain_face_counts(), cx.bounded[:n]
    with open(out / "digits_regions.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["region", "facets", "domain_facets", "bounded", "volume", "inradius", "points"])
        for i in range(n):
            w.writerow([i, fc[i], dfc[i], int(bnd[i]), vol[i], rad[i], counts[i]])
    first, _ = split_embedding(net)
    Z = embed(first, data[0])
    with open(out / "digits_points.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["point", "label", "region"] + [f"z{j}" for j in range(Z.shape[1])])
        for i in range(len(ids)):
            w.writerow([i, int(data[2][i]), int(ids[i]), *Z[i].tolist()])
    if save_complex:
        cx.save(out / "digits_complex.npz")


#: Columns of the training-progress table.
PROGRESS_COLUMNS = (
    "epoch",
    "loss",
    "train_accuracy",
    "test_accuracy",
    "regions",
    "complete",
    "bounded",
    "data_regions",
    "points_outside",
    "facets_mean_all",
    "facets_mean_data",
    "facets_mean_empty",
    "volume_median_all",
    "volume_median_data",
    "inradius_median_all",
    "inradius_median_data",
    "search_seconds",
)


def run_digits_progress(
    checkpoints: Sequence[int] = (0, 1, 2, 5, 10, 20, 50, 100, 200),
    max_regions: int | None = 20_000,
    out: str | Path | None = None,
    lr: float = DIGITS_LR,
    batch_size: int = DIGITS_BATCH,
    seed: int = 0,
    workers: int = 1,
    progress: bool = False,
    domain: str = "orthant",
) -> list[dict[str, Any]]:
    """The training-progress run: the capped complex and its statistics at snapshots.

    Trains for ``max(checkpoints)`` epochs (the run of :func:`run_digits` with that
    many epochs, epoch for epoch) and analyses the network after each checkpoint
    epoch.  Writes ``digits_progress.csv`` (one row per checkpoint, columns
    :data:`PROGRESS_COLUMNS`) and ``digits_progress.json`` (full statistics) to ``out``.

    Examples
    --------
    >>> rows = run_digits_progress(checkpoints=[0, 1], max_regions=30)
    >>> [r["epoch"] for r in rows], rows[0]["regions"]
    ([0, 1], 30)
    """
    cps = sorted({int(c) for c in checkpoints})
    if not cps or cps[0] < 0:
        raise ValueError(f"checkpoints must be non-negative epochs, got {list(checkpoints)}")
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows, full = [], []
    try:
        data = digits_data(seed=0)
        epochs = max(cps[-1], 1)
        _, history, nets = train_digits(epochs, lr, batch_size, seed=seed, snapshots=cps, data=data)
        for e in cps:
            _, stats, _, _ = _analyse(nets[e], data[0], max_regions, progress, workers, domain)
            h = history[e - 1] if e > 0 else _initial_scores(nets[0], data)
            rows.append(
                {
                    "epoch": e,
                    "loss": h.get("loss", float("nan")),
                    "train_accuracy": h["train_accuracy"],
                    "test_accuracy": h["test_accuracy"],
                    "regions": stats["regions"],
                    "complete": stats["complete"],
                    "bounded": stats["bounded"],
                    "data_regions": stats["data_regions"],
                    "points_outside": stats["points_outside"],
                    "facets_mean_all": stats["all"]["facets"]["mean"],
                    "facets_mean_data": stats["data"]["facets"]["mean"],
                    "facets_mean_empty": stats["empty"]["facets"]["mean"],
                    "volume_median_all": stats["all"]["volume"]["median"],
                    "volume_median_data": stats["data"]["volume"]["median"],
                    "inradius_median_all": stats["all"]["inradius"]["median"],
                    "inradius_median_data": stats["data"]["inradius"]["median"],
                    "search_seconds": stats["search_seconds"],
                }
            )
            full.append({"epoch": e, **stats})
    finally:
        torch.set_num_threads(threads)
    if out is not None:
        path = Path(out)
        path.mkdir(parents=True, exist_ok=True)
        with open(path / "digits_progress.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=PROGRESS_COLUMNS)
            w.writeheader()
            w.writerows(rows)
        (path / "digits_progress.json").write_text(json.dumps(full, indent=1))
    return rows


def _initial_scores(net: ReLUNetwork, data: tuple[np.ndarray, ...]) -> dict[str, float]:
    X_train, X_test, y_train, y_test = data
    return {
        "train_accuracy": float((net.forward(X_train).argmax(1) == y_train).mean()),
        "test_accuracy": float((net.forward(X_test).argmax(1) == y_test).mean()),
    }
