"""The figures of the grid, drawn by :mod:`complexlib.plot` from the run results."""

from __future__ import annotations

import importlib.util
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["grid_figures", "write_figure"]


def write_figure(fig: Any, stem: str | os.PathLike, png: bool | None = None) -> list[Path]:
    """Save ``fig`` as ``stem.html`` and, when kaleido is installed, ``stem.png``.

    Parameters
    ----------
    fig : plotly Figure
    stem : path without suffix
    png : bool, optional
        ``None``: a PNG when kaleido is importable (a warning, not an error, when it then
        fails, e.g. without a Chrome for kaleido >= 1).  ``True``: a PNG or an error.
        ``False``: HTML only.

    Returns
    -------
    list of Path
        The files written.
    """
    from ..plot import save

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = [save(fig, stem.with_suffix(".html"))]
    if png is None:
        png = importlib.util.find_spec("kaleido") is not None
        strict = False
    else:
        strict = png
    if png:
        try:
            written.append(save(fig, stem.with_suffix(".png")))
        except RuntimeError as exc:
            if strict:
                raise
            warnings.warn(f"no PNG for {stem.name}: {exc}", stacklevel=2)
    return written


def grid_figures(
    runs: Sequence[dict[str, Any]], out_dir: str | os.PathLike, png: bool | None = None
) -> list[Path]:
    """The study's three figures from run results (JSON rows or results-table rows).

    * ``face_counts``: histograms of facets per region, rows ``d``, columns ``width``, colour
      ``depth`` (trials pooled), log y, each series' mean dashed, ``2d`` solid;
    * ``diameter_width_depth``: diameter against ``width^depth``, one line per ``d``;
    * ``diameter_log_regions``: diameter against ``log(regions) / log(width * depth)``;
    * ``diameter_neurons``: diameter against the number of hidden neurons ``width * depth``,
      one line per ``d`` (the variable the measured diameters follow).

    Incomplete runs (``complete`` false) are left out.

    Returns
    -------
    list of Path
        The files written (``.html``, and ``.png`` with kaleido) under ``out_dir``.
    """
    from ..plot import plot_diameters, plot_face_counts

    rows = [r for r in runs if r.get("complete", True)]
    if not rows:
        raise ValueError("no complete runs to draw")
    out = Path(out_dir)
    table = [
        {
            **{k: r[k] for k in ("d", "width", "depth", "regions", "diameter", "face_counts")},
            "hidden neurons": r["width"] * r["depth"],
        }
        for r in rows
    ]
    written = []
    fig = plot_face_counts(table)
    written += write_figure(fig, out / "face_counts", png=png)
    fig = plot_diameters(table, x="width^depth")
    written += write_figure(fig, out / "diameter_width_depth", png=png)
    fig = plot_diameters(table, x="log_regions")
    written += write_figure(fig, out / "diameter_log_regions", png=png)
    fig = plot_diameters(table, x="hidden neurons", mode="lines+markers")
    ticks = sorted({t["hidden neurons"] for t in table})
    fig.update_xaxes(type="log", tickvals=ticks, ticktext=[str(t) for t in ticks])
    written += write_figure(fig, out / "diameter_neurons", png=png)
    return written
