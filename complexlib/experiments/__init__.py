"""Reproducible experiments of the face-count and diameter study (Gaines & Bi, ICLR 2026).

Modules (imported on use; nothing heavy happens at import):

``training``   blobs data, an MLP builder and a seeded SGD loop (:func:`train_classifier`)
``grid``       the synthetic grid: one run per (d, width, depth, trial), resumable, parallel
``diameter``   dual-graph diameters: exact when small, else a lower and an upper bound
``volumes``    volumes of bounded regions
``tables``     results and summary tables (CSV, Markdown)
``figures``    the study's figures through :mod:`complexlib.plot`
``digits``     the real-data run: load_digits, the complex over the 5-D embedding, data regions

The command line: ``complexlib experiment grid|report|digits|segment ...``.
Local region counts (segments, boxes, balls) live in :mod:`complexlib.local`.
"""

from __future__ import annotations

from .grid import run_config, run_grid
from .training import mlp_module, train_classifier

__all__ = [
    "mlp_module",
    "run_config",
    "run_grid",
    "train_classifier",
]
