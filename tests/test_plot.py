"""Figures drawn from the exact geometry, checked against that geometry and the network."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

import complexlib as cl
from complexlib.patterns import preactivations
from complexlib.plot import (
    cell_polygons,
    decision_segments,
    neuron_segments,
    pieces_1d,
    plot_1d,
    plot_boundaries,
    plot_complex,
    plot_decision_boundary,
    plot_diameters,
    plot_dual_graph,
    plot_face_counts,
    plot_surface,
    save,
)
from complexlib.plot._common import clip_halfplane, line_segment


def centred(widths, seed):
    """``cl.mlp`` with output biases shifted so that every output is ~0 at the origin
    (so the decision boundary passes through the picture)."""
    net = cl.mlp(widths, seed=seed)
    with torch.no_grad():
        f0 = net(torch.zeros(1, widths[0], dtype=net[0].weight.dtype))[0]
        net[-1].bias -= f0 + 0.01 * torch.arange(len(f0), dtype=f0.dtype)
    return net


@pytest.fixture(scope="module")
def cx2():
    """A 2-D complex in the box [-1, 1]^2, two hidden layers, a boundary through it."""
    cx = cl.Complex(centred([2, 6, 5, 1], seed=3), bound=1.0)
    cx.bfs(progress=False)
    return cx


@pytest.fixture(scope="module")
def cx_argmax():
    cx = cl.Complex(centred([2, 6, 6, 3], seed=2), bound=1.5)
    cx.bfs(progress=False)
    return cx


def trace(fig, name):
    found = [t for t in fig.data if t.name == name]
    assert len(found) == 1, [t.name for t in fig.data]
    return found[0]


def pieces(xs, ys):
    """Split a ``None``-separated polyline back into arrays of points."""
    out, cur = [], []
    for x, y in zip(xs, ys):
        if x is None:
            if cur:
                out.append(np.array(cur))
            cur = []
        else:
            cur.append((x, y))
    if cur:
        out.append(np.array(cur))
    return out


def polygon_area(P):
    x, y = P[:, 0], P[:, 1]
    return 0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


# -- cells ------------------------------------------------------------------


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
        area += polygon_area(V)
    assert area == pytest.approx(4.0, rel=1e-9)  # counter-clockwise polygons tile the box


def test_plot_complex_polygons_are_the_region_vertices(cx2):
    fig = plot_complex(cx2)
    cells = [t for t in fig.data if t.name.startswith("region")]
    assert len(cells) == len(cx2)
    assert fig.data[-1].name == "colour bar"
    for t in cells:
        i = int(t.name.split()[1])
        V = np.c_[t.x, t.y]
        assert np.allclose(V[0], V[-1])  # closed
        got = {tuple(np.round(v, 9)) for v in V[:-1]}
        assert got == {tuple(np.round(v, 9)) for v in cx2[i].vertices}
        assert t.text.startswith(f"<b>region {i}</b>")
        assert "f = " in t.text and "facets" in t.text and "inradius" in t.text


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
    with pytest.raises(ValueError, match="2-D"):
        plot_surface(cx)


def test_bad_inputs_get_clear_errors(cx2):
    with pytest.raises(ValueError, match="bfs"):
        plot_complex(cl.Complex(cl.mlp([2, 3, 1], seed=0)))
    with pytest.raises(TypeError, match="Complex"):
        plot_boundaries("not a complex")
    with pytest.raises(ValueError, match="view"):
        plot_complex(cx2, view=(1.0, -1.0))
    with pytest.raises(ValueError, match="view"):
        plot_complex(cx2, view=-2.0)
    with pytest.raises(ValueError, match="output"):
        plot_surface(cx2, output=1)


# -- surface ----------------------------------------------------------------


def test_surface_pieces_z_equal_f_at_their_vertices(cx2):
    fig = plot_surface(cx2)
    mesh = trace(fig, "surface")
    xy = np.c_[mesh.x, mesh.y]
    assert np.allclose(mesh.z, cx2.net.forward(xy)[:, 0], atol=1e-12, rtol=1e-12)
    polys = cell_polygons(cx2)
    assert len(mesh.x) == sum(len(V) for V in polys)  # each piece has its own vertices
    assert len(mesh.i) == sum(len(V) - 2 for V in polys)  # fanned into triangles
    # every triangle lies in one piece: its corners are one region's vertices, and f is
    # affine on it, so f at the triangle's centroid is the mean of the corners' z
    tri = np.c_[mesh.i, mesh.j, mesh.k]
    cen = xy[tri].mean(axis=1)
    assert np.allclose(cx2.net.forward(cen)[:, 0], np.asarray(mesh.z)[tri].mean(axis=1))
    edges = trace(fig, "boundaries")
    for P in pieces(edges.x, edges.y):
        assert len(P) >= 4
    by_piece = plot_surface(cx2, color="pattern", boundaries=False)
    assert [t.name for t in by_piece.data] == ["surface", "colour bar"]
    assert len(by_piece.data[0].intensity) == len(mesh.i)


# -- bent hyperplanes ---------------------------------------------------------


def test_neuron_segments_lie_on_their_neurons_zero_sets(cx2):
    seg, neuron, region = neuron_segments(cx2)
    pts = np.concatenate([seg[:, 0], seg[:, 1], seg.mean(axis=1)])
    z = preactivations(cx2.net, pts)
    j = np.tile(neuron, 3)
    assert np.abs(z[np.arange(len(pts)), j]).max() < 1e-9
    # every facet of every region is covered: the neurons drawn are the facets' neurons
    assert set(neuron.tolist()) == {int(n) for n in cx2.edges()[1]}


def test_one_hidden_layer_lines_are_drawn_whole():
    """A first-layer neuron's bent hyperplane is its line: the segments add up to the chord."""
    net = cl.mlp([2, 5, 1], seed=4)
    cx = cl.Complex(net, bound=1.0)
    cx.bfs(progress=False)
    W, b = cx.net.weights[0], cx.net.biases[0]
    seg, neuron, _ = neuron_segments(cx)
    box = np.array([[-1.0, -1], [1, -1], [1, 1], [-1, 1]])
    for j in range(5):
        chord = line_segment(box, W[j], b[j])
        want = 0.0 if chord is None else np.linalg.norm(chord[1] - chord[0])
        got = np.linalg.norm(seg[neuron == j, 1] - seg[neuron == j, 0], axis=1).sum()
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_plot_boundaries_one_trace_per_layer(cx2):
    fig = plot_boundaries(cx2)
    assert [t.name for t in fig.data] == ["domain", "layer 1", "layer 2"]
    seg, neuron, _ = neuron_segments(cx2)
    layer = cx2.net.layer_of_neuron[neuron]
    for k in (1, 2):
        drawn = pieces(fig.data[k].x, fig.data[k].y)
        assert len(drawn) == int((layer == k - 1).sum())
        assert all(len(P) == 3 for P in drawn)  # two ends and the midpoint (for hovering)
    assert fig.data[1].line.color != fig.data[2].line.color
    assert [t.name for t in plot_boundaries(cx2, layers=[2]).data] == ["domain", "layer 2"]
    for bad in (0, 3, [1, 5]):
        with pytest.raises(ValueError, match="numbered 1"):
            plot_boundaries(cx2, layers=bad)


# -- decision boundaries -------------------------------------------------------


def test_decision_boundary_segments_lie_on_f_zero(cx2):
    fig = plot_decision_boundary(cx2)
    assert [t.name for t in fig.data] == ["f < 0", "f > 0", "cells", "decision boundary"]
    drawn = pieces(trace(fig, "decision boundary").x, trace(fig, "decision boundary").y)
    assert len(drawn) > 3
    pts = np.concatenate(drawn)
    assert np.abs(cx2.net.forward(pts)).max() < 1e-9
    # a real crossing: f changes sign across each segment's middle
    for P in drawn:
        t = P[2] - P[0]
        nrm = np.array([-t[1], t[0]]) / np.linalg.norm(t) * 1e-6
        f = cx2.net.forward(np.stack([P[1] + nrm, P[1] - nrm]))[:, 0]
        assert f[0] * f[1] < 0
    # the two sides are exact pieces of the cells: they tile the box, with f's sign right
    area = 0.0
    for name, sign in (("f < 0", -1), ("f > 0", 1)):
        for P in pieces(trace(fig, name).x, trace(fig, name).y):
            area += polygon_area(P[:-1])
            assert sign * cx2.net.forward(P[:-1].mean(axis=0))[0, 0] > 0
    assert area == pytest.approx(4.0, rel=1e-9)


def test_level_sets_and_output_choice(cx2):
    seg, cls, region = decision_segments(cx2, level=0.05)
    assert len(seg) and np.allclose(cx2.net.forward(seg.reshape(-1, 2)), 0.05, atol=1e-9)
    assert np.all(cls == 0)
    assert "none in view" in plot_decision_boundary(cx2, level=1e6).layout.title.text


def test_argmax_boundaries_are_ties_of_the_top_two(cx_argmax):
    fig = plot_decision_boundary(cx_argmax, class_names=["a", "b", "c"])
    assert [t.name for t in fig.data] == ["a", "b", "c", "cells", "decision boundary"]
    seg, cls, _ = decision_segments(cx_argmax)
    assert len(seg) > 3
    for pts, (a, b) in zip(seg, cls):
        pts = np.vstack([pts, pts.mean(axis=0)])
        f = cx_argmax.net.forward(pts)
        assert np.allclose(f[:, a], f[:, b], atol=1e-9)
        assert np.all(f[:, a] >= f.max(axis=1) - 1e-9)
    drawn = pieces(trace(fig, "decision boundary").x, trace(fig, "decision boundary").y)
    assert len(drawn) == len(seg)
    # class areas tile the box and each is where its output is largest
    area = 0.0
    for k, name in enumerate("abc"):
        for P in pieces(trace(fig, name).x, trace(fig, name).y):
            area += polygon_area(P[:-1])
            assert np.argmax(cx_argmax.net.forward(P[:-1].mean(axis=0))[0]) == k
    assert area == pytest.approx(9.0, rel=1e-9)
    single = decision_segments(cx_argmax, output=1)[0]
    assert np.abs(cx_argmax.net.forward(single.reshape(-1, 2))[:, 1]).max() < 1e-9
    with pytest.raises(ValueError, match="output"):
        plot_decision_boundary(cx_argmax, output=3)


def test_polygon_clipping_helpers():
    sq = np.array([[0.0, 0], [1, 0], [1, 1], [0, 1]])
    half = clip_halfplane(sq, np.array([1.0, 1.0]), -1.0)  # x + y >= 1
    assert polygon_area(half) == pytest.approx(0.5)
    assert len(clip_halfplane(sq, np.array([1.0, 0.0]), -2.0)) == 0
    assert clip_halfplane(sq, np.array([1.0, 0.0]), 1.0) is sq
    edge = line_segment(sq, np.array([1.0, 0.0]), -1.0)  # x = 1, an edge
    assert np.allclose(sorted(edge[:, 1]), [0, 1])
    assert line_segment(sq, np.array([1.0, 1.0]), -2.0) is None  # touches a corner only


# -- dual graph -------------------------------------------------------------


def test_dual_graph_nodes_at_centres_edges_by_layer(cx2):
    fig = plot_dual_graph(cx2)
    assert [t.name for t in fig.data] == ["cells", "layer 1 edges", "layer 2 edges", "regions"]
    nodes = trace(fig, "regions")
    assert np.allclose(np.c_[nodes.x, nodes.y], cx2.centers)  # the box holds every centre
    assert list(nodes.marker.color) == cx2.face_counts().tolist()
    e, neuron = cx2.edges()
    layer = cx2.net.layer_of_neuron[neuron]
    for k in (1, 2):
        t = trace(fig, f"layer {k} edges")
        drawn = pieces(t.x, t.y)
        assert len(drawn) == int((layer == k - 1).sum())
        want = {tuple(sorted(map(tuple, np.round(cx2.centers[p], 9)))) for p in e[layer == k - 1]}
        assert {tuple(sorted(map(tuple, np.round(P, 9)))) for P in drawn} == want


def test_dual_graph_out_of_view_nodes_and_other_layouts():
    cx = cl.Complex(cl.mlp([2, 5, 1], seed=0))
    cx.bfs(progress=False)
    nodes = trace(plot_dual_graph(cx, view=0.5), "regions")
    inside = np.all(np.abs(cx.centers) <= 0.5, axis=1)
    assert np.allclose(np.c_[nodes.x, nodes.y][inside], cx.centers[inside])
    polys = cell_polygons(cx, 0.5)
    for i in np.nonzero(~inside)[0]:
        if polys[i] is not None:  # drawn inside the part of its cell in view
            assert nodes.marker.symbol[i] == "circle-open"
            assert np.all(np.abs([nodes.x[i], nodes.y[i]]) <= 0.5)
    spring = plot_dual_graph(cx, layout="spring")
    assert len(trace(spring, "regions").x) == len(cx)
    c3 = cl.Complex(cl.mlp([3, 4, 1], seed=0), bound=1.0)
    c3.bfs(progress=False)
    fig3 = plot_dual_graph(c3)
    assert trace(fig3, "regions").type == "scatter3d"
    with pytest.raises(ValueError, match="layout"):
        plot_dual_graph(cx, layout="circle")


# -- 1-D ----------------------------------------------------------------------


def test_1d_breakpoints_are_minus_b_over_w():
    net = cl.mlp([1, 7, 1], seed=5)
    cx = cl.Complex(net)
    cx.bfs(progress=False)
    W, b = cx.net.weights[0][:, 0], cx.net.biases[0]
    want = np.sort(-b / W)
    p = pieces_1d(cx)
    assert np.allclose(p["breakpoints"], want, rtol=1e-12, atol=1e-12)
    assert len(cx) == 8 and np.all(p["lo"][1:] == p["hi"][:-1])
    fig = plot_1d(cx, patterns=True)
    assert np.allclose(trace(fig, "breakpoints").x, want, rtol=1e-12)
    # f through its breakpoints, exactly the network
    f = trace(fig, "f")
    assert np.allclose(f.y, cx.net.forward(np.asarray(f.x)[:, None])[:, 0], atol=1e-12)
    # f' constant on each piece: the derivative of sum_i v_i relu(w_i x + b_i)
    v = cx.net.weights[1][0]
    for P in pieces(trace(fig, "f'").x, trace(fig, "f'").y):
        x = P[1, 0]
        assert np.all(P[:, 1] == P[0, 1])
        assert P[0, 1] == pytest.approx(float(np.sum(v * W * (W * x + b > 0))), abs=1e-12)
    assert trace(fig, "pattern").type == "heatmap"


def test_1d_on_a_bounded_domain_and_errors(cx2):
    cx = cl.Complex(cl.mlp([1, 8, 8, 1], seed=1), bound=3.0)
    cx.bfs(progress=False)
    p = pieces_1d(cx)
    assert p["lo"][0] == -3.0 and p["hi"][-1] == 3.0
    assert np.all(np.diff(p["breakpoints"]) > 0)
    # every breakpoint is a kink or a place where a neuron of the network switches
    z = preactivations(cx.net, p["breakpoints"][:, None])
    assert np.all(np.abs(z).min(axis=1) < 1e-9)
    fig = plot_1d(cx, view=(-1, 1))
    assert np.all(np.abs(trace(fig, "breakpoints").x) < 1)
    with pytest.raises(ValueError, match="1-D"):
        plot_1d(cx2)


# -- statistics figures ---------------------------------------------------------


def test_face_count_histogram_of_one_complex(cx2):
    fc = cx2.face_counts()
    fig = plot_face_counts(fc, d=2)
    bars = fig.data[0]
    hist = np.bincount(fc)
    assert bars.x.tolist() == np.nonzero(hist)[0].tolist()
    assert np.allclose(bars.y, hist[hist > 0] / len(fc))
    xs = sorted(s.x0 for s in fig.layout.shapes)
    assert xs == sorted([fc.mean(), 4.0])
    assert fig.layout.yaxis.type == "log"
    counts = plot_face_counts(fc, normalize=False, log_y=False)
    assert counts.data[0].y.tolist() == hist[hist > 0].tolist()
    assert len(counts.layout.shapes) == 1  # no d: no bound drawn


def _grid_rows():
    rng = np.random.default_rng(0)
    rows = []
    for d in (2, 3):
        for width in (4, 8):
            for depth in (1, 2):
                for trial in (0, 1):
                    rows.append(
                        {
                            "d": d,
                            "width": width,
                            "depth": depth,
                            "trial": trial,
                            "face_counts": rng.poisson(2 * d - 1, size=50) + 1,
                            "regions": 10 * width**depth + trial,
                            "diameter": float(width**depth + d + 2 * trial),
                        }
                    )
    return rows


def test_face_count_grid_from_any_table():
    rows = _grid_rows()
    fig = plot_face_counts(rows)
    assert len(fig.data) == 2 * 2 * 2  # panels (d, width) x depth series
    assert {t.name for t in fig.data} == {"depth 1", "depth 2"}
    assert sum(t.showlegend for t in fig.data) == 2
    # trials pooled: the d=3, width=8, depth=2 bars count both trials' regions
    pooled = np.concatenate(
        [r["face_counts"] for r in rows if (r["d"], r["width"]) == (3, 8) and r["depth"] == 2]
    )
    last = fig.data[-1]
    assert np.allclose(last.y, np.bincount(pooled)[last.x] / len(pooled))
    bounds = [s.x0 for s in fig.layout.shapes if s.line.color == "black"]
    assert sorted(bounds) == [4, 4, 6, 6]
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    assert plot_face_counts(columns).to_dict()["data"] == fig.to_dict()["data"]
    if importlib.util.find_spec("pandas"):
        import pandas as pd

        assert plot_face_counts(pd.DataFrame(rows)).to_dict()["data"] == fig.to_dict()["data"]
    with pytest.raises(ValueError, match="face_counts"):
        plot_face_counts([{"d": 2, "width": 4, "depth": 1}])
    with pytest.raises(ValueError, match="non-negative integers"):
        plot_face_counts([1, -2, 3])
    with pytest.raises(TypeError, match="table"):
        plot_face_counts(np.zeros((3, 3)))


def test_diameters_against_width_to_the_depth():
    rows = _grid_rows()
    fig = plot_diameters(rows)
    assert [t.name for t in fig.data] == ["d = 2", "d = 3"]
    t = fig.data[0]
    assert t.x.tolist() == [4.0, 8.0, 16.0, 64.0]
    assert np.allclose(t.y, np.array([4, 8, 16, 64]) + 2 + 1)  # mean over the two trials
    assert np.allclose(t.error_y.array, 1.0)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    lr = plot_diameters(rows, x="log_regions", log=False)
    want = sorted(
        {np.log(r["regions"]) / np.log(r["width"] * r["depth"]) for r in rows if r["d"] == 2}
    )
    assert np.allclose(lr.data[0].x, want)
    by_col = plot_diameters(rows, x="regions", by="width")
    assert [t.name for t in by_col.data] == ["width = 4", "width = 8"]
    with pytest.raises(ValueError, match="diameter"):
        plot_diameters([{"d": 2, "width": 4, "depth": 1}])


# -- saving -------------------------------------------------------------------------


def test_save_html_is_self_contained_and_images_need_kaleido(tmp_path, cx2):
    fig = plot_boundaries(cx2)
    p = save(fig, tmp_path / "b.html")
    html = p.read_text()
    assert "<script src=" not in html and "plotly" in html and len(html) > 1_000_000
    with pytest.raises(ValueError, match=r"\.html"):
        save(fig, tmp_path / "b.txt")
    if importlib.util.find_spec("kaleido") is None:
        with pytest.raises(RuntimeError, match="pip install kaleido"):
            save(fig, tmp_path / "b.png")


def test_top_level_names():
    for name in (
        "plot_complex",
        "plot_surface",
        "plot_boundaries",
        "plot_decision_boundary",
        "plot_dual_graph",
        "plot_1d",
        "plot_face_counts",
        "plot_diameters",
        "save",
    ):
        assert getattr(cl, name) is getattr(cl.plot, name)


# -- the region cache -----------------------------------------------------------------


def test_plot_cache_polygons_are_the_regions_and_markers_the_stats():
    net = cl.mlp([2, 6, 5, 1], seed=3).double()
    cache = cl.HypersphereCache(net)
    t = np.linspace(0, 2 * np.pi, 120)
    path = np.c_[0.9 * np.cos(t), 0.6 * np.sin(2 * t)]
    fig = cl.plot_cache(cache, path=path, view=1.0)
    s = cache.stats()
    assert s["hits"] + s["misses"] == len(path)  # the path was queried, once per point
    hits = next(tr for tr in fig.data if tr.name == "hits")
    misses = next(tr for tr in fig.data if tr.name == "misses")
    assert len(hits.x) == s["hits"] and len(misses.x) == s["misses"]
    assert s["hits"] > s["misses"] > 0
    # every polygon equals the complex's cell of the same pattern, clipped to the same box
    cx = cl.Complex(net, bound=1.0)
    cx.bfs(progress=False)
    ref = {tuple(p): V for p, V in zip(cx.patterns.tolist(), cell_polygons(cx))}
    reg = cache.regions()
    polys = {tr.name: tr for tr in fig.data if tr.name.startswith("region")}
    assert len(polys) == len(reg) == s["size"]
    for rid, pat in zip(reg.id, reg.pattern):
        tr = polys[f"region {rid}"]
        got = np.c_[tr.x[:-1], tr.y[:-1]]
        want = ref[tuple(pat.tolist())]
        assert got.shape == want.shape
        d = np.linalg.norm(got[:, None] - want[None], axis=2)
        assert d.min(axis=1).max() < 1e-9 and d.min(axis=0).max() < 1e-9


def test_plot_cache_needs_a_2d_network():
    cache = cl.HypersphereCache(cl.mlp([3, 4, 1], seed=0))
    with pytest.raises(ValueError, match="2-D input"):
        cl.plot_cache(cache)
    with pytest.raises(TypeError, match="HypersphereCache"):
        cl.plot_cache(cl.mlp([2, 4, 1], seed=0))
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        cl.plot_cache(cl.HypersphereCache(cl.mlp([2, 4, 1], seed=0)), path=np.zeros((4, 3)))


def test_plot_cache_top_level():
    assert cl.plot_cache is cl.plot.plot_cache
    fig = cl.plot_cache(cl.HypersphereCache(cl.mlp([2, 4, 1], seed=0)))  # empty cache
    assert not any(tr.name.startswith("region") for tr in fig.data)
