"""Linear programs behind one small interface.

Every LP complexlib solves has the form::

    minimize    c @ x
    subject to  A_ub @ x <= b_ub
                A_eq @ x == b_eq
                lb <= x <= ub

Backends are chosen by name: ``"highs"`` (HiGHS through ``highspy``, the
default, one reusable solver per process), ``"scipy"`` (HiGHS through
``scipy.optimize.linprog``) and ``"cvxpy"`` (an optional extra, for users who
want another solver; ``pip install complexlib[cvxpy]``).
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .exceptions import LPError, UnknownBackendError

__all__ = ["LPStatus", "LPResult", "solve_lp", "backends", "get_backend"]


class LPStatus(enum.Enum):
    """Outcome of a linear program."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"


@dataclass(frozen=True)
class LPResult:
    """Solution of a linear program: ``status``, minimiser ``x`` and value ``fun``."""

    status: LPStatus
    x: np.ndarray | None
    fun: float


Backend = Callable[..., LPResult]


#: HiGHS settings tried in turn when the default (dual simplex) ends undecided.
_HIGHS_RETRIES: tuple[tuple[str, object], ...] = (
    ("simplex_strategy", 4),  # primal simplex
    ("solver", "ipm"),
)


def _solve_highspy(c, A_ub, b_ub, A_eq, b_eq, lb, ub) -> LPResult:
    res = _solve_highspy_once(c, A_ub, b_ub, A_eq, b_eq, lb, ub)
    if res.status is not LPStatus.ERROR:
        return res
    h = _highs_instance()
    for key, value in _HIGHS_RETRIES:
        h.setOptionValue(key, value)
        try:
            res = _solve_highspy_once(c, A_ub, b_ub, A_eq, b_eq, lb, ub)
        finally:
            h.resetOptions()
            h.setOptionValue("output_flag", False)
        if res.status is not LPStatus.ERROR:
            return res
    return res


def _solve_highspy_once(c, A_ub, b_ub, A_eq, b_eq, lb, ub) -> LPResult:
    import highspy

    h = _highs_instance()
    inf = highspy.kHighsInf
    n = c.shape[0]
    rows = [A_ub] + ([A_eq] if A_eq is not None else [])
    A = np.vstack(rows) if rows else np.zeros((0, n))
    rlo = np.concatenate([np.full(A_ub.shape[0], -inf)] + ([b_eq] if A_eq is not None else []))
    rhi = np.concatenate([b_ub] + ([b_eq] if A_eq is not None else []))
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = A.shape[0]
    lp.col_cost_ = c
    lp.col_lower_ = np.where(np.isfinite(lb), lb, -inf)
    lp.col_upper_ = np.where(np.isfinite(ub), ub, inf)
    lp.row_lower_ = rlo
    lp.row_upper_ = rhi
    nz = A != 0
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(nz.sum(axis=1))]).astype(np.int32)
    lp.a_matrix_.index_ = np.nonzero(nz)[1].astype(np.int32)
    lp.a_matrix_.value_ = A[nz]
    h.passModel(lp)
    h.run()
    st = h.getModelStatus()
    M = highspy.HighsModelStatus
    if st == M.kOptimal:
        x = np.array(h.getSolution().col_value)
        return LPResult(LPStatus.OPTIMAL, x, float(c @ x))
    if st == M.kInfeasible:
        return LPResult(LPStatus.INFEASIBLE, None, np.inf)
    if st in (M.kUnbounded, M.kUnboundedOrInfeasible):
        if st == M.kUnboundedOrInfeasible:
            # decide with a feasibility problem (zero objective)
            res = _solve_highspy_once(np.zeros_like(c), A_ub, b_ub, A_eq, b_eq, lb, ub)
            if res.status is LPStatus.INFEASIBLE:
                return res
        return LPResult(LPStatus.UNBOUNDED, None, -np.inf)
    return LPResult(LPStatus.ERROR, None, np.nan)


_LOCAL = threading.local()


def _highs_instance():
    """One reusable HiGHS solver per thread (a solver must not be shared between threads)."""
    h = getattr(_LOCAL, "highs", None)
    if h is None:
        import highspy

        # the solver core without highspy's Python wrapper, whose constructor enables
        # callbacks and so prints HiGHS's banner before output can be switched off
        # (highspy 1.16); older highspy has no wrapper and no _Highs
        core = getattr(highspy, "_Highs", None) or highspy.Highs
        h = core()
        h.setOptionValue("output_flag", False)
        _LOCAL.highs = h
    return h


def _solve_scipy(c, A_ub, b_ub, A_eq, b_eq, lb, ub) -> LPResult:
    from scipy.optimize import linprog

    bounds = [
        (None if not np.isfinite(lo) else lo, None if not np.isfinite(hi) else hi)
        for lo, hi in zip(lb, ub)
    ]
    r = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if r.status == 0:
        return LPResult(LPStatus.OPTIMAL, np.asarray(r.x), float(r.fun))
    if r.status == 2:
        return LPResult(LPStatus.INFEASIBLE, None, np.inf)
    if r.status == 3:
        return LPResult(LPStatus.UNBOUNDED, None, -np.inf)
    return LPResult(LPStatus.ERROR, None, np.nan)


def _solve_cvxpy(c, A_ub, b_ub, A_eq, b_eq, lb, ub) -> LPResult:
    try:
        import cvxpy as cp
    except ImportError as exc:
        raise ImportError(
            'the "cvxpy" LP backend needs cvxpy: pip install "complexlib[cvxpy]"'
        ) from exc
    x = cp.Variable(c.shape[0])
    cons = []
    if A_ub.shape[0]:
        cons.append(A_ub @ x <= b_ub)
    if A_eq is not None and A_eq.shape[0]:
        cons.append(A_eq @ x == b_eq)
    fl, fu = np.isfinite(lb), np.isfinite(ub)
    if fl.any():
        cons.append(x[np.nonzero(fl)[0]] >= lb[fl])
    if fu.any():
        cons.append(x[np.nonzero(fu)[0]] <= ub[fu])
    prob = cp.Problem(cp.Minimize(c @ x), cons)
    prob.solve()
    if prob.status == cp.OPTIMAL:
        return LPResult(LPStatus.OPTIMAL, np.asarray(x.value), float(prob.value))
    if prob.status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
        return LPResult(LPStatus.INFEASIBLE, None, np.inf)
    if prob.status in (cp.UNBOUNDED, cp.UNBOUNDED_INACCURATE):
        return LPResult(LPStatus.UNBOUNDED, None, -np.inf)
    return LPResult(LPStatus.ERROR, None, np.nan)


_BACKENDS: dict[str, Backend] = {
    "highs": _solve_highspy,
    "scipy": _solve_scipy,
    "cvxpy": _solve_cvxpy,
}


def backends() -> list[str]:
    """Names of the LP backends.

    Examples
    --------
    >>> backends()
    ['highs', 'scipy', 'cvxpy']
    """
    return list(_BACKENDS)


def get_backend(name: str) -> Backend:
    """Return the LP backend called ``name``; an unknown name lists the valid ones."""
    try:
        return _BACKENDS[name]
    except (KeyError, TypeError):
        raise UnknownBackendError(
            f"unknown LP backend {name!r}; valid names: {', '.join(map(repr, _BACKENDS))}"
        ) from None


def solve_lp(
    c: np.ndarray,
    A_ub: np.ndarray,
    b_ub: np.ndarray,
    A_eq: np.ndarray | None = None,
    b_eq: np.ndarray | None = None,
    lb: np.ndarray | None = None,
    ub: np.ndarray | None = None,
    backend: str = "highs",
) -> LPResult:
    """Solve ``min c@x  s.t.  A_ub@x <= b_ub, A_eq@x == b_eq, lb <= x <= ub``.

    Missing ``lb`` / ``ub`` mean free variables.  Raises :class:`LPError` when
    the solver fails (not for infeasible or unbounded problems, which are
    reported in the status).

    Examples
    --------
    >>> import numpy as np
    >>> r = solve_lp(np.array([-1.0]), np.array([[1.0]]), np.array([2.0]))
    >>> r.status, float(r.x[0])
    (<LPStatus.OPTIMAL: 'optimal'>, 2.0)
    """
    solver = get_backend(backend)
    c = np.asarray(c, dtype=np.float64)
    n = c.shape[0]
    A_ub = np.asarray(A_ub, dtype=np.float64).reshape(-1, n)
    b_ub = np.asarray(b_ub, dtype=np.float64).reshape(-1)
    if A_eq is not None:
        A_eq = np.asarray(A_eq, dtype=np.float64).reshape(-1, n)
        b_eq = np.asarray(b_eq, dtype=np.float64).reshape(-1)
    lb = np.full(n, -np.inf) if lb is None else np.asarray(lb, dtype=np.float64)
    ub = np.full(n, np.inf) if ub is None else np.asarray(ub, dtype=np.float64)
    res = solver(c, A_ub, b_ub, A_eq, b_eq, lb, ub)
    if res.status is LPStatus.ERROR:
        raise LPError(
            f"the {backend!r} LP backend failed on a problem with {n} variables and "
            f"{A_ub.shape[0]} inequalities"
        )
    return res
