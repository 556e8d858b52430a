"""Small classifiers for the experiments: data, an MLP builder and a reproducible SGD loop.

Everything here is seeded: the same arguments give the same trained weights, bit for bit, on
the same machine and torch version (one torch thread; see :func:`train_classifier`).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "accuracy",
    "blobs_data",
    "config_seed",
    "mlp_module",
    "train_blobs",
    "train_classifier",
]


def config_seed(*parts: Any) -> int:
    """A stable 31-bit seed from the parts of a configuration (CRC-32 of their ``repr``).

    Unlike ``hash``, it does not change between Python processes.

    Examples
    --------
    >>> config_seed(2, 4, 1, 0) == config_seed(2, 4, 1, 0) != config_seed(2, 4, 1, 1)
    True
    """
    return zlib.crc32(repr(tuple(parts)).encode()) & 0x7FFFFFFF


def mlp_module(widths: Sequence[int], seed: int | None = None) -> Any:
    """A ``torch.nn.Sequential`` of ``Linear`` layers with a ``ReLU`` between consecutive ones.

    Parameters
    ----------
    widths : sequence of int
        ``[d, n_1, ..., n_k, out]``: input size, hidden widths, output size.
    seed : int, optional
        Seed of PyTorch's default initialisation.  The global torch random state is
        left as it was (the seeding happens inside ``torch.random.fork_rng``).

    Examples
    --------
    >>> net = mlp_module([2, 4, 4, 3], seed=0)
    >>> [type(m).__name__ for m in net]
    ['Linear', 'ReLU', 'Linear', 'ReLU', 'Linear']
    >>> bool((net[0].weight == mlp_module([2, 4, 4, 3], seed=0)[0].weight).all())
    True
    """
    import torch

    from ..network import mlp

    with torch.random.fork_rng(devices=[]):  # cl.mlp seeds the global generator
        return mlp(widths, seed=seed)


def train_classifier(
    model: Any,
    X_train: Any,
    y_train: Any,
    epochs: int = 20,
    lr: float = 0.01,
    batch_size: int = 64,
    seed: int = 0,
) -> list[float]:
    """Train ``model`` in place with plain SGD on the cross-entropy loss.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(n, d)`` float32 inputs to ``(n, classes)`` logits.
    X_train : array_like, shape (n, d)
    y_train : array_like of int, shape (n,)
        Class labels ``0 .. classes - 1``.
    epochs, lr, batch_size : the SGD schedule (no momentum, no weight decay).
    seed : int
        Seed of the per-epoch shuffles (a private ``torch.Generator``; the global
        random state is not touched).

    Returns
    -------
    list of float
        The mean training loss of each epoch.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.r_[np.zeros((20, 2)) - 1, np.zeros((20, 2)) + 1]
    >>> y = np.r_[np.zeros(20, int), np.ones(20, int)]
    >>> net = mlp_module([2, 8, 2], seed=0)
    >>> losses = train_classifier(net, X, y, epochs=30, lr=0.1, batch_size=8)
    >>> losses[-1] < losses[0], accuracy(net, X, y)
    (True, 1.0)
    """
    import torch

    if epochs < 1 or batch_size < 1 or not lr > 0:
        raise ValueError(
            f"need epochs >= 1, batch_size >= 1 and lr > 0; got {epochs}, {batch_size}, {lr}"
        )
    X = torch.as_tensor(np.asarray(X_train), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y_train), dtype=torch.long)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(
            f"X_train must be (n, d) and y_train (n,); got {tuple(X.shape)} and {tuple(y.shape)}"
        )
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = X.shape[0]
    losses = []
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for lo in range(0, n, batch_size):
            idx = perm[lo : lo + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / n)
    model.eval()
    return losses


def accuracy(model: Any, X: Any, y: Any) -> float:
    """Fraction of the points ``X`` whose arg-max logit is the label ``y``."""
    import torch

    with torch.no_grad():
        logits = model(torch.as_tensor(np.asarray(X), dtype=torch.float32))
    return float((logits.argmax(dim=1).numpy() == np.asarray(y)).mean())


def blobs_data(
    d: int,
    trial: int,
    n_samples: int = 300,
    centers: int = 3,
    cluster_std: float = 0.5,
    test_size: float = 0.2,
    split_seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``make_blobs(n_samples, centers, cluster_std, n_features=d, random_state=trial)``, split.

    Returns
    -------
    X_train, X_test, y_train, y_test
        An 80/20 split (``test_size``) by ``train_test_split(random_state=split_seed)``.

    Examples
    --------
    >>> X_train, X_test, y_train, y_test = blobs_data(3, trial=0)
    >>> X_train.shape, X_test.shape, sorted(set(y_train.tolist()))
    ((240, 3), (60, 3), [0, 1, 2])
    """
    try:
        from sklearn.datasets import make_blobs
        from sklearn.model_selection import train_test_split
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the blobs data need scikit-learn: pip install 'complexlib[experiments]'"
        ) from exc
    if d < 1:
        raise ValueError(f"d must be >= 1, got {d}")
    X, y = make_blobs(
        n_samples=n_samples,
        centers=centers,
        cluster_std=cluster_std,
        n_features=d,
        random_state=trial,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=split_seed
    )
    return X_train, X_test, y_train, y_test


def train_blobs(
    d: int,
    width: int,
    hidden: int,
    trial: int,
    epochs: int = 20,
    lr: float = 0.01,
    batch_size: int = 64,
) -> tuple[Any, float]:
    """The synthetic-grid classifier: ``[d] + [width] * hidden + [3]`` trained on blobs.

    The initialisation and the shuffles are seeded by :func:`config_seed` of
    ``(d, width, hidden, trial)``; the data by ``trial``.

    Returns
    -------
    model : torch.nn.Sequential
        Trained, in eval mode.
    test_accuracy : float

    Examples
    --------
    >>> model, acc = train_blobs(2, 4, 1, trial=0)
    >>> model2, acc2 = train_blobs(2, 4, 1, trial=0)
    >>> bool((model[0].weight == model2[0].weight).all()), acc == acc2
    (True, True)
    """
    if width < 1 or hidden < 1:
        raise ValueError(f"width and hidden must be >= 1, got {width} and {hidden}")
    X_train, X_test, y_train, y_test = blobs_data(d, trial)
    seed = config_seed(d, width, hidden, trial)
    model = mlp_module([d] + [width] * hidden + [3], seed=seed)
    train_classifier(
        model, X_train, y_train, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed
    )
    return model, accuracy(model, X_test, y_test)
