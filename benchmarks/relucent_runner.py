"""Run the peer tool ``relucent`` on an MLP and dump its activation patterns.

This script exists only for benchmarks and cross-checks of complexlib. It is
NOT part of the complexlib package and complexlib never imports it.

relucent (https://pypi.org/project/relucent/, version 1.0.0) is licensed under
the AGPL. complexlib does not import, vendor or copy any of its code: this
script is *run*, as a separate process, with the python of a separate virtual
environment that has relucent installed (see ``setup_relucent_venv.sh``), e.g.::

    bash benchmarks/setup_relucent_venv.sh /work/relucent-venv
    /work/relucent-venv/bin/python benchmarks/relucent_runner.py \\
        --weights net.npz --bound none --workers 2 --out relucent_net.npz

Input (``--weights``): an ``.npz`` with float64 arrays ``W0, b0, W1, b1, ...``;
``W_i`` has shape ``(out, in)``, ``b_i`` shape ``(out,)``; the last pair is the
output layer (no ReLU after it). Other keys in the file are ignored.

Output (``--out``, written with ``np.savez``, no pickled objects):

* ``patterns``  int8, ``(n_regions, n_neurons)``: one row per full-dimensional
  region, one column per hidden neuron (layer by layer, weight-row order,
  output layer excluded), ``+1`` where the pre-activation is > 0 on the
  region's interior and ``-1`` where it is < 0. Rows sorted lexicographically.
  (This is also relucent's own sign-sequence convention and order; the script
  checks it on each region's interior point.)
* ``seconds``   float64 scalar: wall time of relucent's search call only
  (``Complex.bfs``, which includes relucent's worker pool and its end-of-search
  certification unless ``--no-verify``); excludes imports, model building and I/O.
* ``n_regions`` int64 scalar.
* ``complete``  bool scalar: relucent's own claim that the frontier was exhausted.

``--bound none`` explores all of R^d (relucent's ``cube_mode="unrestricted"``);
``--bound R`` uses ``cube_mode="intersect", cube_radius=R``: regions meeting the
box [-R, R]^d (whole regions, not clipped).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def load_layers(path: str) -> list[tuple[np.ndarray, np.ndarray]]:
    data = np.load(path, allow_pickle=False)
    layers = []
    i = 0
    while f"W{i}" in data.files:
        W = np.asarray(data[f"W{i}"], dtype=np.float64)
        b = np.asarray(data[f"b{i}"], dtype=np.float64).reshape(-1)
        if W.ndim != 2 or b.shape != (W.shape[0],):
            raise ValueError(f"bad shapes for layer {i}: W{W.shape} b{b.shape}")
        if layers and W.shape[1] != layers[-1][0].shape[0]:
            raise ValueError(
                f"layer {i} input size {W.shape[1]} != previous output {layers[-1][0].shape[0]}"
            )
        layers.append((W, b))
        i += 1
    if len(layers) < 2:
        raise ValueError("need at least one hidden layer and an output layer (W0,b0,W1,b1)")
    return layers


def build_sequential(layers):
    """torch nn.Sequential(Linear, ReLU, ..., Linear) in float64.

    relucent converts every nn.Linear to float64 NumPy arrays internally
    (``np.asarray(weight, dtype=np.float64)``), so a float64 model hands it the
    weights bit-for-bit; no float32 rounding is involved anywhere.
    """
    import torch
    from torch import nn

    mods = []
    for k, (W, b) in enumerate(layers):
        lin = nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        mods.append(lin)
        if k < len(layers) - 1:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def preactivation_signs(layers, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Our convention: signs of hidden pre-activations (and their values) at points X."""
    signs, vals = [], []
    h = X
    for W, b in layers[:-1]:
        z = h @ W.T + b
        signs.append(np.sign(z))
        vals.append(z)
        h = np.maximum(z, 0.0)
    return np.hstack(signs).astype(np.int8), np.hstack(vals)


def sort_rows(P: np.ndarray) -> np.ndarray:
    if len(P) == 0:
        return P
    order = np.lexsort(P.T[::-1])  # first column is the primary key
    return np.ascontiguousarray(P[order])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", required=True)
    ap.add_argument("--bound", default="none", help="'none' (all of R^d) or a cube radius R")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--max-regions", type=int, default=None)
    ap.add_argument("--out", required=True)
    ap.add_argument(
        "--no-verify", action="store_true", help="skip relucent's end-of-search certification"
    )
    ap.add_argument("--verbose", type=int, default=0)
    args = ap.parse_args(argv)

    layers = load_layers(args.weights)
    model = build_sequential(layers)
    n_neurons = sum(W.shape[0] for W, _ in layers[:-1])
    d = layers[0][0].shape[1]

    import relucent

    cx = relucent.Complex(model)
    assert cx.n == n_neurons and cx.dim == d, (cx.n, n_neurons, cx.dim, d)

    kw = {}
    if args.bound.lower() != "none":
        kw = dict(cube_mode="intersect", cube_radius=float(args.bound))
    if args.max_regions is not None:
        kw["max_polys"] = args.max_regions

    # relucent starts at the origin by default and refuses a start on a
    # hyperplane; fall back to a random generic point in that (rare) case.
    start = None
    s0, z0 = preactivation_signs(layers, np.zeros((1, d)))
    if np.any(s0 == 0):
        rng = np.random.default_rng(0)
        for _ in range(100):
            x = rng.normal(size=(1, d)) * 1e-3
            if np.all(preactivation_signs(layers, x)[0] != 0):
                start = x.reshape(-1)
                break

    t0 = time.perf_counter()
    res = cx.bfs(
        start, nworkers=args.workers, verify=not args.no_verify, verbose=args.verbose, **kw
    )
    seconds = time.perf_counter() - t0

    polys = list(cx)
    P = np.array(
        [np.asarray(p.ss_np, dtype=np.int8).reshape(-1) for p in polys], dtype=np.int8
    ).reshape(len(polys), n_neurons)
    n_lowdim = int(np.any(P == 0, axis=1).sum())
    if n_lowdim:
        print(
            f"warning: dropping {n_lowdim} cells with zero entries (not full-dimensional)",
            file=sys.stderr,
        )
        P = P[np.all(P != 0, axis=1)]
    if len(np.unique(P, axis=0)) != len(P):
        raise RuntimeError("relucent returned duplicate sign sequences")

    # Check relucent's convention against ours on each region's interior point.
    mismatches = 0
    for p in polys:
        ip = p.interior_point
        if ip is None:
            continue
        s, _ = preactivation_signs(layers, np.asarray(ip, dtype=np.float64).reshape(1, d))
        if not np.array_equal(s[0], np.asarray(p.ss_np).reshape(-1)):
            mismatches += 1
    if mismatches:
        print(
            f"warning: {mismatches} regions whose interior point has a different sign pattern",
            file=sys.stderr,
        )

    P = sort_rows(P)
    np.savez(
        args.out,
        patterns=P,
        seconds=np.float64(seconds),
        n_regions=np.int64(len(P)),
        complete=np.bool_(bool(res.complete)),
    )
    print(
        f"relucent {relucent.__version__}: {len(P)} regions, d={d}, neurons={n_neurons}, "
        f"bound={args.bound}, workers={args.workers}, {seconds:.2f}s "
        f"({len(P) / max(seconds, 1e-12):.1f} regions/s), complete={res.complete}, "
        f"verified={res.verified}, "
        f"bad_shi={len(res.bad_shi_computations)}, interior-point mismatches={mismatches}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
