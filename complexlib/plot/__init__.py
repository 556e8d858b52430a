"""Plotly figures of complexes, drawn from the exact region geometry (never a grid).

=============================  ==================================================
:func:`plot_complex`           2-D cells as polygons, 3-D cells as meshes
:func:`plot_surface`           the graph of f over a 2-D complex, a plane per region
:func:`plot_boundaries`        each neuron's bent hyperplane, coloured by layer
:func:`plot_decision_boundary` the exact zero set (or argmax boundaries) of f
:func:`plot_dual_graph`        the dual graph at the regions' centres
:func:`plot_cache`             a region cache's regions and balls, hits and misses on a path
:func:`plot_1d`                f: R -> R, its breakpoints and its derivative
:func:`plot_face_counts`       histograms of facets per region, with the 2d bound
:func:`plot_diameters`         dual-graph diameter against width^depth
:func:`save`                   self-contained HTML, or PNG/SVG/PDF through kaleido
=============================  ==================================================

Every figure function returns a :class:`plotly.graph_objects.Figure`.  The
helpers :func:`cell_polygons`, :func:`neuron_segments`,
:func:`decision_segments` and :func:`pieces_1d` give the exact geometry the
figures draw.
"""

from __future__ import annotations

from ._common import cell_polygons
from .boundaries import decision_segments, neuron_segments, plot_boundaries, plot_decision_boundary
from .cache import plot_cache
from .cells import plot_complex
from .graph import plot_dual_graph
from .io import save
from .line import pieces_1d, plot_1d
from .stats import plot_diameters, plot_face_counts
from .surface import plot_surface

__all__ = [
    "cell_polygons",
    "decision_segments",
    "neuron_segments",
    "pieces_1d",
    "plot_1d",
    "plot_boundaries",
    "plot_cache",
    "plot_complex",
    "plot_decision_boundary",
    "plot_diameters",
    "plot_dual_graph",
    "plot_face_counts",
    "plot_surface",
    "save",
]
