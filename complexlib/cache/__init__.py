"""The region cache: exact answers from the affine maps of regions already seen.

Inside one activation region a ReLU network is exactly ``f(x) = W x + c``.  The cache keeps
the regions its queries fell in and answers a new query that lies in one of them with that
region's map, exactly (not an approximation); every other query gets a forward pass.

========================= ================================================================
module                    what it does
========================= ================================================================
``hypersphere``           :class:`HypersphereCache`, the facade: a call, misses, insertion
``store``                 columnar region entries (point ball, rows, map, pattern), slots
``keys``                  the sorted-array index from pattern hashes to slots
``workspace``             scratch arrays kept between lookups on the CPU
``membership``            the exact membership test with rounding margins; ``f(y)`` on a hit
``lookup``                the lookup tiers over a batch (numpy on the CPU, torch elsewhere)
``recent``                the recently hit regions packed for the first tier of a batch
``anchors``               anchor points and the ball index over them, rebuilt lazily
``index``                 nearest-anchor index backends (BallTree, cKDTree, brute force)
``hashing``               forward pass with a 64-bit hash of each activation pattern
``admission``             which new regions get linearised and inserted
``weights``               the weight snapshot that clears the cache when weights change
``pointball``             :class:`PointBallCache`, the earlier point-ball design (baseline)
========================= ================================================================
"""

from __future__ import annotations

from .hypersphere import CacheAnswer, HypersphereCache
from .pointball import PointBallCache
from .store import CachedRegions
from .weights import WeightsChangedWarning

__all__ = [
    "HypersphereCache",
    "CacheAnswer",
    "CachedRegions",
    "WeightsChangedWarning",
    "PointBallCache",
]
