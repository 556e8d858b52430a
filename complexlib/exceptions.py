"""Exception family of complexlib, named after what went wrong."""

from __future__ import annotations

__all__ = [
    "ComplexlibError",
    "UnsupportedLayerError",
    "DegenerateGeometryError",
    "LPError",
    "UnknownBackendError",
    "GeometryWarning",
]


class ComplexlibError(Exception):
    """Base class of complexlib's own errors."""


class UnsupportedLayerError(ComplexlibError, TypeError):
    """A network layer cannot be written as affine maps and (leaky) ReLUs."""


class DegenerateGeometryError(ComplexlibError, ArithmeticError):
    """A geometric decision cannot be made reliably in float64 (the answer would be a guess)."""


class LPError(ComplexlibError, RuntimeError):
    """A linear program failed for a reason other than infeasibility or unboundedness."""


class UnknownBackendError(ComplexlibError, ValueError):
    """An LP backend or parallel backend name is not known."""


class GeometryWarning(UserWarning):
    """A search finished, but a check of its result found something float64 could not settle."""
