"""The ``complexlib`` command.

::

    complexlib demo                                   # default network, summary + complex.html
    complexlib enumerate --widths 2,16,16,1 --seed 0 [--bound 1] --out c.npz
    complexlib enumerate --model net.pt --out c.npz  # a saved torch model
    complexlib info c.npz
    complexlib experiment grid --dims 2,3 --widths 4,8 --depths 1,2 --trials 0,1 --out DIR
    complexlib experiment report --out DIR
    complexlib experiment digits --max-regions 1000000 --out DIR [--progress-checkpoints 0,5,200]
    complexlib experiment segment --widths 2,16,16,1 --a=-1,0 --b=1,0.5   # exact pieces
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]

DEMO_WIDTHS = [2, 16, 16, 1]
DEMO_SEED = 0


def _widths(text: str) -> list[int]:
    try:
        w = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--widths takes comma-separated integers like 2,16,16,1, got {text!r}"
        ) from None
    if len(w) < 2 or min(w) < 1:
        raise argparse.ArgumentTypeError(
            f"--widths needs at least two positive sizes, got {text!r}"
        )
    return w


def _print_summary(summary: dict[str, Any]) -> None:
    for k, v in summary.items():
        if isinstance(v, float):
            v = f"{v:.4g}"
        print(f"  {k:>12}: {v}")


def _demo(args: argparse.Namespace) -> int:
    import complexlib as cl

    print(f"complexlib demo: the complex of cl.mlp({DEMO_WIDTHS}, seed={DEMO_SEED}) on all of R^2")
    cx = cl.Complex(cl.mlp(DEMO_WIDTHS, seed=DEMO_SEED))
    summary = cx.bfs(progress=not args.no_progress, workers=args.workers)
    _print_summary(summary)
    from .plot import plot_complex, save

    fig = plot_complex(cx, color=args.color)
    save(fig, args.html)
    print(f"wrote {args.html} ({len(cx)} cells; open it in a browser)")
    if args.out:
        cx.save(args.out)
        print(f"wrote {args.out}")
    return 0


def _load_model(path: str) -> Any:
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types here
        raise SystemExit(f"error: cannot load a torch model from {path}: {exc}") from exc
    if isinstance(obj, dict):
        raise SystemExit(
            f"error: {path} holds a state dict; save the whole module (torch.save(model, path)) "
            "or use --widths with the architecture"
        )
    return obj


def _enumerate(args: argparse.Namespace) -> int:
    import complexlib as cl

    if (args.model is None) == (args.widths is None):
        raise SystemExit("error: give exactly one of --model FILE or --widths 2,16,16,1")
    net = _load_model(args.model) if args.model else cl.mlp(args.widths, seed=args.seed)
    cx = cl.Complex(net, bound=args.bound, lp=args.lp)
    summary = cx.bfs(
        max_regions=args.max_regions, workers=args.workers, progress=not args.no_progress
    )
    _print_summary(summary)
    if args.out:
        cx.save(args.out)
        print(f"wrote {args.out}")
    return 0


def _info(args: argparse.Namespace) -> int:
    import complexlib as cl

    cx = cl.Complex.load(args.file)
    summary = cx.summary()
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{args.file}:")
        _print_summary(summary)
    return 0


def _numbers(text: str, cast: Any, what: str, example: str) -> list[Any]:
    """Comma-separated values of one type (an argparse type); at least one."""
    try:
        v = [cast(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated {what}s like {example}, got {text!r}"
        ) from None
    if not v:
        raise argparse.ArgumentTypeError(f"expected at least one {what}, got {text!r}")
    return v


def _ints(text: str) -> list[int]:
    return _numbers(text, int, "integer", "2,3,4")


def _floats(text: str) -> list[float]:
    return _numbers(text, float, "number", "-1,0.5")


def _experiment_grid(args: argparse.Namespace) -> int:
    from .experiments.grid import run_grid

    res = run_grid(
        args.dims,
        args.widths,
        args.depths,
        args.trials,
        out_dir=args.out,
        n_jobs=args.jobs,
        progress=not args.no_progress,
        largest_first=args.largest_first,
        exact_max_nodes=args.exact_max_nodes,
        max_bfs=args.max_bfs,
        volumes=not args.no_volumes,
        max_regions=args.max_regions,
    )
    done, skipped = len(res["ran"]), len(res["skipped"])
    print(f"{done} runs done, {skipped} skipped (their results were already in {args.out})")
    return 0


def _experiment_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .experiments.figures import grid_figures
    from .experiments.tables import (
        load_runs,
        result_rows,
        summary_markdown,
        summary_rows,
        write_csv,
    )

    out = Path(args.out)
    runs = load_runs(out)
    paths = [write_csv(result_rows(runs), out / "results.csv")]
    summary = summary_rows(runs)
    paths.append(write_csv(summary, out / "summary.csv"))
    (out / "summary.md").write_text(summary_markdown(summary) + "\n")
    paths.append(out / "summary.md")
    if not args.no_figures:
        paths += grid_figures(runs, out / "figures", png=False if args.no_png else None)
    print(f"{len(runs)} runs; wrote " + ", ".join(str(p) for p in paths))
    return 0


def _experiment_digits(args: argparse.Namespace) -> int:
    from .experiments.digits import run_digits, run_digits_progress

    max_regions = args.max_regions if args.max_regions > 0 else None
    res = run_digits(
        max_regions=max_regions,
        out=args.out,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        seed=args.seed,
        workers=args.workers,
        progress=not args.no_progress,
        save_complex=args.save_complex,
        domain=args.domain,
    )
    st = res["stats"]
    print(
        f"test accuracy {res['test_accuracy']:.3f}; {st['regions']} regions "
        f"({'complete' if st['complete'] else 'capped'}) in {st['search_seconds']:.1f} s; "
        f"{st['data_regions']} hold training points ({st['points_outside']} points outside)"
    )
    print(
        f"mean facets: all {st['all']['facets']['mean']:.3f}, "
        f"data regions {st['data']['facets']['mean']:.3f}; wrote {args.out}/digits.json"
    )
    if args.progress_checkpoints:
        rows = run_digits_progress(
            checkpoints=args.progress_checkpoints,
            max_regions=args.progress_max_regions if args.progress_max_regions > 0 else None,
            out=args.out,
            lr=args.lr,
            batch_size=args.batch_size,
            seed=args.seed,
            workers=args.workers,
            domain=args.domain,
        )
        print(f"{len(rows)} checkpoints; wrote {args.out}/digits_progress.csv")
    return 0


def _experiment_segment(args: argparse.Namespace) -> int:
    import complexlib as cl

    from .local import segment_regions

    if (args.model is None) == (args.widths is None):
        raise SystemExit("error: give exactly one of --model FILE or --widths 2,16,16,1")
    net = _load_model(args.model) if args.model else cl.mlp(args.widths, seed=args.seed)
    try:
        seg = segment_regions(net, args.a, args.b)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from exc
    out = {
        "pieces": seg.pieces,
        "regions": seg.regions,
        "length": seg.length,
        "density": seg.density,
        "breakpoints": seg.breakpoints.tolist(),
    }
    if args.json:
        print(json.dumps(out))
    else:
        _print_summary({k: v for k, v in out.items() if k != "breakpoints"})
    return 0


def add_experiment_parsers(sub: Any) -> Any:
    """The ``experiment`` command group; returns its subparsers (add more experiments there)."""
    from .experiments.diameter import EXACT_MAX_NODES
    from .experiments.grid import DEPTHS, DIMS, TRIALS, WIDTHS

    x = sub.add_parser(
        "experiment",
        help="the face-count and diameter study (grid, report)",
        description="Reproducible experiments of the face-count and diameter study.",
    )
    xsub = x.add_subparsers(dest="experiment", required=True)

    def csv_ints(v: Sequence[int]) -> str:
        return ",".join(map(str, v))

    g = xsub.add_parser(
        "grid",
        help="train and enumerate every (d, width, depth, trial) of a grid",
        description="Train [d] + [width] * depth + [3] on blobs and enumerate its whole complex, "
        "for every configuration; one JSON file per run under OUT/runs, written as each run "
        "finishes. Runs whose file exists are skipped (an interrupted grid resumes).",
    )
    g.add_argument("--dims", type=_ints, default=list(DIMS), help=f"default {csv_ints(DIMS)}")
    g.add_argument("--widths", type=_ints, default=list(WIDTHS), help=f"default {csv_ints(WIDTHS)}")
    g.add_argument(
        "--depths",
        type=_ints,
        default=list(DEPTHS),
        help=f"hidden layers, default {csv_ints(DEPTHS)}",
    )
    g.add_argument("--trials", type=_ints, default=list(TRIALS), help=f"default {csv_ints(TRIALS)}")
    g.add_argument("--out", required=True, help="results folder")
    g.add_argument("--jobs", type=int, default=1, help="runs in parallel (default 1)")
    g.add_argument(
        "--largest-first",
        action="store_true",
        help="start the largest runs first (default: smallest)",
    )
    g.add_argument(
        "--exact-max-nodes",
        type=int,
        default=EXACT_MAX_NODES,
        help="diameters always exact up to this many regions; above, exact when the bounds "
        f"meet within --max-bfs searches (default {EXACT_MAX_NODES})",
    )
    g.add_argument(
        "--max-bfs",
        type=int,
        default=200,
        help="BFS budget for tightening diameter bounds on larger graphs (default 200)",
    )
    g.add_argument("--no-volumes", action="store_true", help="skip the bounded regions' volumes")
    g.add_argument(
        "--max-regions", type=int, default=None, help="cap each search (runs become incomplete)"
    )
    g.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    g.set_defaults(func=_experiment_grid)

    r = xsub.add_parser(
        "report",
        help="tables and figures of a grid's results",
        description="Write OUT/results.csv (one row per run), OUT/summary.csv and OUT/summary.md "
        "(mean ± std per d, depth, width) and the figures under OUT/figures.",
    )
    r.add_argument("--out", required=True, help="results folder of 'complexlib experiment grid'")
    r.add_argument("--no-figures", action="store_true", help="tables only")
    r.add_argument("--no-png", action="store_true", help="HTML figures only (PNG needs kaleido)")
    r.set_defaults(func=_experiment_report)

    dg = xsub.add_parser(
        "digits",
        help="the real-data run: load_digits, the complex over the 5-D embedding",
        description="Train [64,5,8,8,8,10] on scikit-learn's load_digits with seeded SGD, take "
        "the complex of the sub-network 5->8->8->8->10 over the first-layer embedding (a BFS "
        "capped at --max-regions), map the training points to their regions and compare data "
        "regions with all regions. Writes OUT/digits.json, digits_regions.csv, digits_points.csv "
        "and, with --progress-checkpoints, digits_progress.csv / .json.",
    )
    dg.add_argument("--out", required=True, help="results folder")
    dg.add_argument(
        "--max-regions", type=int, default=1_000_000, help="cap of the search (0: none)"
    )
    dg.add_argument("--epochs", type=int, default=200, help="SGD epochs (default 200)")
    dg.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (default 0.1)")
    dg.add_argument("--batch-size", type=int, default=64, help="default 64")
    dg.add_argument("--seed", type=int, default=0, help="initialisation and shuffle seed")
    dg.add_argument(
        "--domain",
        choices=("orthant", "all"),
        default="orthant",
        help="the embedding's domain: z >= 0 (default, where embeddings live) or all of R^5",
    )
    dg.add_argument("--workers", type=int, default=1, help="search workers (default 1)")
    dg.add_argument(
        "--progress-checkpoints",
        type=_ints,
        default=None,
        help="also the training-progress run at these epochs, e.g. 0,1,2,5,10,20,50,100,200",
    )
    dg.add_argument(
        "--progress-max-regions",
        type=int,
        default=20_000,
        help="cap of each checkpoint's search (default 20000; 0: none)",
    )
    dg.add_argument("--save-complex", action="store_true", help="also OUT/digits_complex.npz")
    dg.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    dg.set_defaults(func=_experiment_digits)

    sg = xsub.add_parser(
        "segment",
        help="exact region count along a segment [a, b]",
        description="Exact pieces of the segment [a, b] (the network restricted to the line): "
        "pieces, distinct regions, length, pieces per unit length, breakpoints.",
    )
    sg.add_argument("--widths", type=_widths, default=None, help="cl.mlp architecture")
    sg.add_argument("--seed", type=int, default=0)
    sg.add_argument("--model", default=None, help="a saved torch module instead of --widths")
    sg.add_argument(
        "--a",
        type=_floats,
        required=True,
        help="start, e.g. --a=-1,0 (with = when it starts with -)",
    )
    sg.add_argument("--b", type=_floats, required=True, help="end, e.g. 1,0.5")
    sg.add_argument("--json", action="store_true", help="print JSON (with the breakpoints)")
    sg.set_defaults(func=_experiment_segment)
    return xsub


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``complexlib`` command."""
    p = argparse.ArgumentParser(
        prog="complexlib",
        description="Exact polyhedral complexes of ReLU networks.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser(
        "demo",
        help="enumerate the complex of the embedded default network and draw it",
        description=f"Enumerate the whole R^2 complex of cl.mlp({DEMO_WIDTHS}, seed={DEMO_SEED}), "
        "print a summary and write a Plotly figure of its cells.",
    )
    d.add_argument("--html", default="complex.html", help="figure file (default complex.html)")
    d.add_argument("--out", default=None, help="also save the complex (.npz)")
    d.add_argument("--color", default="facets", help="facets, output, slope or pattern")
    d.add_argument("--workers", type=int, default=1, help="joblib workers (default 1)")
    d.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    d.set_defaults(func=_demo)

    e = sub.add_parser(
        "enumerate",
        help="enumerate a network's complex and save it",
        description="Enumerate every region of a network's complex (all of R^d by default).",
    )
    e.add_argument("--model", default=None, help="a torch model saved with torch.save(model)")
    e.add_argument("--widths", type=_widths, default=None, help="cl.mlp widths, e.g. 2,16,16,1")
    e.add_argument("--seed", type=int, default=0, help="seed of cl.mlp (default 0)")
    e.add_argument("--bound", type=float, default=None, help="box [-r, r]^d (default: all of R^d)")
    e.add_argument("--max-regions", type=int, default=None, help="stop after this many regions")
    e.add_argument("--workers", type=int, default=1, help="joblib workers (default 1)")
    e.add_argument("--lp", default="highs", help="LP backend: highs, scipy or cvxpy")
    e.add_argument("--out", default=None, help="output file (.npz)")
    e.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    e.set_defaults(func=_enumerate)

    i = sub.add_parser(
        "info",
        help="summarise a saved complex",
        description="Summarise a saved "
        "complex (.npz written by complexlib enumerate or Complex.save).",
    )
    i.add_argument("file", help="a .npz complex file")
    i.add_argument("--json", action="store_true", help="print the summary as JSON")
    i.set_defaults(func=_info)

    add_experiment_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``complexlib`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, FileNotFoundError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
