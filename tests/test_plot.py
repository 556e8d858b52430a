"""Figures drawn from the exact geometry."""

from __future__ import annotations

import numpy as np
import pytest

import complexlib as cl
from complexlib.plot import cell_polygons, plot_complex, save


def test_cell_polygons_are_region_vertices_and_tile_the_box():
    cx = cl.Complex(cl.mlp([2, 6, 6, 1], seed=1), bound=1.0)
    cx.bfs(progress=False)
    polys = cell_polygons(cx)
    area = 0.0
    for reg, V in zip(cx, polys):
        assert V is not None
        got = {tuple(np.round(v, 9)) for v in V}
        want = {tuple(np.round(v, 9)) for v in reg.vertices}
        assert got == want
        x, y = V[:, 0], V[:, 1]
        area += 0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))
    assert area == pytest.approx(4.0, rel=1e-9)  # counter-clockwise polygons tile the box


def test_plot_complex_one_trace_per_cell(tmp_path):
    cx = cl.Complex(cl.mlp([2, 5, 1], seed=0))
    cx.bfs(progress=False)
    for color in ("facets", "output", "slope", "pattern", lambda r: r.inradius):
        fig = plot_complex(cx, color=color, view=200.0)
        cells = [t for t in fig.data if t.name and t.name.startswith("region")]
        assert len(cells) == len(cx)
    save(fig, tmp_path / "f.html")
    assert (tmp_path / "f.html").stat().st_size > 1000
    with pytest.raises(ValueError, match="unknown color"):
        plot_complex(cx, color="nope")


def test_plot_3d_and_dimension_error():
    cx = cl.Complex(cl.mlp([3, 4, 1], seed=0), bound=1.0)
    cx.bfs(progress=False)
    fig = plot_complex(cx)
    assert sum(t.type == "mesh3d" for t in fig.data) == len(cx)
    c4 = cl.Complex(cl.mlp([4, 3, 1], seed=0), bound=1.0)
    c4.bfs(progress=False)
    with pytest.raises(ValueError, match="2-D and 3-D"):
        plot_complex(c4)
