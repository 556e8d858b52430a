"""complexlib: exact polyhedral complexes of ReLU networks.

Examples
--------
>>> import complexlib as cl
>>> cx = cl.Complex(cl.mlp([2, 8, 1], seed=0), bound=1.0)
>>> _ = cx.bfs(progress=False)
>>> len(cx) > 1
True
"""

from __future__ import annotations

__version__ = "0.1.0"

from .cache import HypersphereCache
from .complex import Complex
from .domain import Box, Polytope, RealSpace
from .exceptions import (
    ComplexlibError,
    DegenerateGeometryError,
    GeometryWarning,
    LPError,
    UnknownBackendError,
    UnsupportedLayerError,
)
from .linearize import linearize_at_point
from .lp import LPStatus
from .network import ReLUNetwork, as_network, mlp
from .plot import (
    plot_1d,
    plot_boundaries,
    plot_cache,
    plot_complex,
    plot_decision_boundary,
    plot_diameters,
    plot_dual_graph,
    plot_face_counts,
    plot_surface,
    save,
)
from .region import Region

__all__ = [
    "Box",
    "Complex",
    "ComplexlibError",
    "DegenerateGeometryError",
    "HypersphereCache",
    "LPError",
    "LPStatus",
    "Polytope",
    "RealSpace",
    "ReLUNetwork",
    "Region",
    "UnknownBackendError",
    "GeometryWarning",
    "UnsupportedLayerError",
    "as_network",
    "linearize_at_point",
    "mlp",
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
