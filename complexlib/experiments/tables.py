"""Tables of grid results: one row per run, and mean ± std per configuration.

Plain ``csv`` and numpy, no pandas needed.  The per-region facet counts stay in the run's
JSON file; the results table holds them in a compact, lossless form for histograms, the
column ``facet_histogram``: ``"k:n"`` pairs (``n`` regions with ``k`` facets) separated by
spaces (:func:`encode_histogram`, :func:`decode_histogram`).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "RESULT_COLUMNS",
    "SUMMARY_STATS",
    "decode_histogram",
    "encode_histogram",
    "load_runs",
    "read_results",
    "summary_rows",
    "summary_markdown",
    "write_csv",
]

#: Columns of the results table, in order.
RESULT_COLUMNS = (
    "d",
    "width",
    "depth",
    "trial",
    "regions",
    "bounded",
    "fraction_bounded",
    "edges",
    "mean_facets",
    "std_facets",
    "min_facets",
    "max_facets",
    "mean_degree",
    "mean_volume",
    "n_volume_sampled",
    "n_volumes",
    "n_volume_excluded",
    "n_volume_failed",
    "diameter",
    "diameter_lower",
    "diameter_upper",
    "diameter_exact",
    "diameter_bfs",
    "test_accuracy",
    "complete",
    "train_seconds",
    "search_seconds",
    "volume_seconds",
    "diameter_seconds",
    "total_seconds",
    "facet_histogram",
)

#: Columns averaged in the summary (mean ± std over trials), as in the paper's tables.
SUMMARY_STATS = (
    "regions",
    "mean_facets",
    "diameter",
    "fraction_bounded",
    "mean_volume",
    "test_accuracy",
    "search_seconds",
    "total_seconds",
)


def encode_histogram(counts: Sequence[int]) -> str:
    """Facet counts as ``"k:n"`` pairs (``n`` regions with ``k`` facets).

    Examples
    --------
    >>> encode_histogram([3, 4, 4, 2])
    '2:1 3:1 4:2'
    """
    h = np.bincount(np.asarray(counts, dtype=np.int64)) if len(counts) else np.zeros(0, int)
    return " ".join(f"{k}:{h[k]}" for k in np.nonzero(h)[0])


def decode_histogram(text: str) -> np.ndarray:
    """The facet counts (sorted) back from :func:`encode_histogram`.

    Examples
    --------
    >>> decode_histogram("2:1 3:1 4:2").tolist()
    [2, 3, 4, 4]
    """
    try:
        pairs = [tuple(int(v) for v in p.split(":")) for p in text.split()]
    except ValueError:
        raise ValueError(f"a facet histogram is 'k:n k:n ...', got {text[:40]!r}") from None
    if any(len(p) != 2 or min(p) < 0 for p in pairs):
        raise ValueError(f"a facet histogram is 'k:n k:n ...', got {text[:40]!r}")
    if not pairs:
        return np.zeros(0, dtype=np.int64)
    k, n = np.array(pairs, dtype=np.int64).T
    return np.repeat(k, n)


def load_runs(out_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Every run result under ``out_dir/runs/*.json``, sorted by (d, width, depth, trial)."""
    files = sorted((Path(out_dir) / "runs").glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no run results in {Path(out_dir) / 'runs'}; run the grid first")
    rows = [json.loads(p.read_text()) for p in files]
    rows.sort(key=lambda r: (r["d"], r["width"], r["depth"], r["trial"]))
    return rows


def result_rows(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs as results-table rows: :data:`RESULT_COLUMNS`, the facet counts as a histogram."""
    out = []
    for r in runs:
        row = {k: r.get(k) for k in RESULT_COLUMNS if k != "facet_histogram"}
        row["facet_histogram"] = encode_histogram(r["face_counts"])
        out.append(row)
    return out


def write_csv(rows: Sequence[dict[str, Any]], path: str | os.PathLike) -> Path:
    """Write rows (dicts sharing keys) as CSV, floats with 6 significant digits."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not rows:
        raise ValueError(f"no rows to write to {path}")
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in r.items()})
    return path


def read_results(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Rows of a results CSV, numbers parsed and ``face_counts`` rebuilt from the histogram."""
    rows = []
    with Path(path).open(newline="") as f:
        for raw in csv.DictReader(f):
            row: dict[str, Any] = {}
            for k, v in raw.items():
                if k == "facet_histogram":
                    row["face_counts"] = decode_histogram(v)
                elif v in ("True", "False"):
                    row[k] = v == "True"
                else:
                    try:
                        row[k] = int(v)
                    except ValueError:
                        row[k] = float(v) if v not in ("", "None") else float("nan")
            rows.append(row)
    return rows


def summary_rows(
    runs: Sequence[dict[str, Any]], stats: Sequence[str] = SUMMARY_STATS
) -> list[dict[str, Any]]:
    """Mean and std over trials of each statistic, one row per (d, depth, width).

    Incomplete runs (a search stopped at ``max_regions``) are left out; ``runs`` counts
    the runs averaged.

    Examples
    --------
    >>> runs = [{"d": 2, "width": 4, "depth": 1, "regions": r, "complete": True} for r in (10, 12)]
    >>> summary_rows(runs, stats=["regions"])
    [{'d': 2, 'depth': 1, 'width': 4, 'runs': 2, 'regions_mean': 11.0, 'regions_std': 1.0}]
    """
    groups: dict[tuple[int, int, int], list[dict[str, Any]]] = {}
    for r in runs:
        if r.get("complete", True):
            groups.setdefault((r["d"], r["depth"], r["width"]), []).append(r)
    out = []
    for (d, depth, width), rs in sorted(groups.items()):
        row: dict[str, Any] = {"d": d, "depth": depth, "width": width, "runs": len(rs)}
        for s in stats:
            v = np.array([float(r.get(s, np.nan)) for r in rs])
            v = v[np.isfinite(v)]
            row[f"{s}_mean"] = float(v.mean()) if v.size else float("nan")
            row[f"{s}_std"] = float(v.std()) if v.size else float("nan")
        out.append(row)
    return out


def summary_markdown(summary: Sequence[dict[str, Any]], stats: Sequence[str] | None = None) -> str:
    """A Markdown table of :func:`summary_rows`: ``mean ± std`` per statistic.

    Examples
    --------
    >>> print(summary_markdown([{"d": 2, "depth": 1, "width": 4, "runs": 2,
    ...                          "regions_mean": 11.0, "regions_std": 1.0}]))
    | d | depth | width | runs | regions |
    |---|---|---|---|---|
    | 2 | 1 | 4 | 2 | 11 ± 1 |
    """
    if not summary:
        return ""
    if stats is None:
        stats = [k[: -len("_mean")] for k in summary[0] if k.endswith("_mean")]
    head = ["d", "depth", "width", "runs", *stats]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in summary:
        cells = [str(r[k]) for k in head[:4]]
        cells += [_pm(r[f"{s}_mean"], r[f"{s}_std"]) for s in stats]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _pm(mean: float, std: float) -> str:
    """``mean ± std`` with digits that suit the size: ``40,912 ± 1,302``, ``7.676 ± 0.027``."""
    if not np.isfinite(mean):
        return "–"
    if abs(mean) >= 1000:
        return f"{mean:,.0f} ± {std:,.0f}"
    return f"{mean:.4g} ± {std:.2g}"
