"""Which new regions the cache linearises and inserts: the admission policy.

Linearising a region pushes ``d + 1`` columns through every layer in float64 and costs tens
of forward passes of one point.  Where hits are rare (a random walk through the tiny regions
of a deep wide network) linearising every miss would make the cache many times slower than
the forward pass it falls back to.  ``"all"`` admits every new region (deterministic: a
region missed once is a hit next time).  ``"auto"`` spends on new regions at most what the
hits saved plus ``BUILD_FRACTION`` of the forward work done, from a starting credit of
``START_CREDIT_S``: a workload that hits keeps admitting every new region, one that does not
costs little more than the forward pass.  An integer caps the new regions per call.
"""

from __future__ import annotations

__all__ = ["Admission", "check_admit"]

#: Seconds of linearisation the ``"auto"`` admission may spend before any hit paid for it.
START_CREDIT_S = 0.5
#: Most credit the ``"auto"`` admission can bank.
MAX_CREDIT_S = 1.0
#: Share of its own forward work that ``"auto"`` admission may spend on new regions: with no
#: hits a call costs at most about ``1 + BUILD_FRACTION`` forward passes plus its lookup
#: (a quarter had left random walks on two cores at 0.75-0.86x the forward pass).
BUILD_FRACTION = 0.1


def check_admit(value: object) -> str | int:
    """``value`` if it is a valid admission policy, else a ``ValueError``.

    Examples
    --------
    >>> check_admit("auto"), check_admit(3)
    ('auto', 3)
    """
    if value in ("auto", "all"):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError(f"admit must be 'auto', 'all' or an int >= 0, got {value!r}")


class Admission:
    """The credit account of the ``"auto"`` policy and the per-call decision.

    Examples
    --------
    >>> a = Admission("auto")
    >>> a.n_admit(100, want_lin=False)      # no linearisation timed yet: a first few
    8
    >>> a.spent(0.5, 8)                     # the starting credit is gone
    >>> a.n_admit(100, want_lin=False)
    0
    >>> Admission(2).n_admit(100, want_lin=False), Admission("all").n_admit(100, False)
    (2, 100)
    """

    def __init__(self, policy: str | int) -> None:
        self.policy = check_admit(policy)
        self.credit = START_CREDIT_S
        self.t_fwd_pt: float | None = None  # seconds of forward pass per point (smoothed)
        self.t_lin: float | None = None  # seconds of linearisation per region (smoothed)

    def n_admit(self, n_new: int, want_lin: bool) -> int:
        """How many of ``n_new`` new regions to linearise now."""
        if want_lin or self.policy == "all":
            return n_new
        if isinstance(self.policy, int):
            return min(n_new, self.policy)
        if self.credit <= 0:
            return 0
        if self.t_lin is None:
            return min(n_new, 8)
        return int(min(n_new, max(1, self.credit // self.t_lin)))

    def forward_timed(self, seconds: float, points: int) -> None:
        pt = seconds / points
        self.t_fwd_pt = pt if self.t_fwd_pt is None else 0.8 * self.t_fwd_pt + 0.2 * pt

    def earn(self, n_hit: int, n: int) -> None:
        """Credit for ``n_hit`` hits among ``n`` points answered."""
        if self.t_fwd_pt is not None:
            earn = self.t_fwd_pt * (BUILD_FRACTION * n + n_hit)
            self.credit = min(MAX_CREDIT_S, self.credit + earn)

    def spent(self, seconds: float, regions: int) -> None:
        """``seconds`` went into linearising ``regions`` new regions."""
        self.credit -= seconds
        per = seconds / max(regions, 1)
        self.t_lin = per if self.t_lin is None else 0.7 * self.t_lin + 0.3 * per
