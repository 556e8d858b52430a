"""Facets by rays and NNLS certificates (complexlib/certificates.py) against LPs and qhull."""

from __future__ import annotations

import numpy as np
import pytest

import complexlib as cl
import complexlib.certificates as cert
import complexlib.geometry as geometry
from complexlib.geometry import RTOL, _normalise, region_geometry


def _polyhedra(rng, B, m, d, lineality=0):
    """Polyhedra around the origin: bounded, unbounded (rows in a half-space of directions)
    and, optionally, with lines in them."""
    A = rng.standard_normal((B, m, d))
    if lineality:
        A[:, :, d - lineality :] = 0.0
    half = rng.random(B) < 0.4
    A[half, :, 0] = np.abs(A[half, :, 0])
    b = -rng.uniform(0.2, 2.0, (B, m))
    return A, b


def _check(A, b, x0):
    """Certified facets, points and boundedness equal the LPs' (when decided)."""
    live, An, bn, rep, _ = _normalise(A, b, x0)
    got = cert.certified_facets(An, bn, x0, rep, RTOL)
    if got is None:
        return False
    facets, q, margin, bounded = got
    g = region_geometry(A, b, method="lp", interior=x0)
    assert sorted(live[facets].tolist()) == sorted(int(r.min()) for r in g.facet_rows)
    assert bounded == g.bounded
    vals = q @ An[rep].T + bn[rep]  # on its own row, inside the others by its margin
    own = np.searchsorted(rep, facets)
    assert np.allclose(vals[np.arange(len(facets)), own], 0.0, atol=1e-9)
    vals[np.arange(len(facets)), own] = -np.inf
    assert np.all(margin > 0) and np.allclose(-vals.max(axis=1), margin)
    return True


@pytest.mark.parametrize("d", [7, 8, 10])
@pytest.mark.parametrize("lineality", [0, 2])
def test_random_polyhedra_match_lps(d, lineality):
    rng = np.random.default_rng(d + 10 * lineality)
    A, b = _polyhedra(rng, 12, 3 * d, d, lineality)
    decided = sum(_check(A[k], b[k], np.zeros(d)) for k in range(len(A)))
    assert decided >= 10  # ties are rare: nearly every region is decided here


def test_coincident_constant_and_far_rows():
    d = 7
    rng = np.random.default_rng(3)
    A = rng.standard_normal((20, d))
    b = -rng.uniform(0.5, 1.5, 20)
    A = np.vstack([A, 2.0 * A[:3], np.zeros((2, d)), A[3:5]])  # scaled copies, zero rows
    b = np.r_[b, 2.0 * b[:3], -1.0, -1.0, 100.0 * b[3:5]]  # and two far parallel rows
    assert _check(A, b, np.zeros(d))


def test_a_tie_is_left_to_qhull_and_lps():
    """The ray along the first axis meets two rows at once (a ridge): undecided here, and
    region_geometry still gives the exact facets."""
    d = 7
    A = np.vstack([np.eye(d), -np.eye(d)])
    A[0] = np.r_[1.0, 1.0, np.zeros(d - 2)] / np.sqrt(2)
    A = np.vstack([A, np.r_[1.0, -1.0, np.zeros(d - 2)] / np.sqrt(2)])
    b = -np.ones(len(A))
    live, An, bn, rep, _ = _normalise(A, b, np.zeros(d))
    assert cert.certified_facets(An, bn, np.zeros(d), rep, RTOL) is None
    g = region_geometry(A, b, interior=np.zeros(d))
    assert g.bounded and len(g.facets) == len(A)


def test_search_with_certificates_equals_search_with_qhull(monkeypatch):
    """Whole complexes in R^7 and in a box: the same store either way."""
    for widths, bound in (([7, 6, 6, 1], None), ([7, 9, 1], None), ([8, 8, 8, 1], 1.0)):
        a = cl.Complex(cl.mlp(widths, seed=1), bound=bound)
        a.bfs(progress=False, max_regions=1500)
        with monkeypatch.context() as m:
            m.setattr(geometry, "CERT_MIN_DIM", 99)
            b = cl.Complex(cl.mlp(widths, seed=1), bound=bound)
            b.bfs(progress=False, max_regions=1500)
        for key in ("bits", "depth", "bounded", "facet_ptr", "facet_neuron", "facet_neighbor"):
            assert np.array_equal(getattr(a.store, key).view(), getattr(b.store, key).view())


def test_lps_print_nothing(capfd):
    """A solver made in a new thread prints no HiGHS banner (highspy 1.16's Python wrapper
    prints one on construction, before output can be switched off)."""
    import threading

    from complexlib.lp import solve_lp

    res = []
    t = threading.Thread(
        target=lambda: res.append(
            geometry.chebyshev_ball(np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]]), -np.ones(4))
        )
    )
    t.start()
    t.join()
    assert res and res[0][1] == 1.0
    assert solve_lp(np.array([1.0]), np.array([[-1.0]]), np.array([-2.0])).x[0] == 2.0
    out, err = capfd.readouterr()
    assert "HiGHS" not in out + err
