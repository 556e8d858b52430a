"""The synthetic grid of the face-count and diameter study (issue 6, items 1, 2 and 5).

Closed forms for one hidden layer of m neurons in general position in R^d (Zaslavsky):
sum_{k<=d} C(m, k) regions, C(m - 1, d) of them bounded, mean degree
2 m sum_{k<d} C(m - 1, k) / sum_{k<=d} C(m, k), and dual-graph diameter m (the graph is
that of a zonotope-like arrangement: crossing every hyperplane once is a shortest path
between opposite unbounded regions).
"""

from __future__ import annotations

import json
import time
from math import comb

import networkx as nx
import numpy as np
import pytest

import complexlib as cl
from complexlib.cli import main
from complexlib.experiments import diameter as _diameter_mod
from complexlib.experiments.diameter import Graph, diameter_bounds
from complexlib.experiments.grid import complex_stats, configs, run_config, run_grid, write_json
from complexlib.experiments.tables import (
    decode_histogram,
    encode_histogram,
    load_runs,
    read_results,
    result_rows,
    summary_rows,
    write_csv,
)
from complexlib.experiments.training import blobs_data, mlp_module, train_blobs, train_classifier
from complexlib.experiments.volumes import region_volumes, volume_stats

pytest.importorskip("sklearn")


def n_regions(m: int, d: int) -> int:
    return sum(comb(m, k) for k in range(d + 1))


def mean_degree(m: int, d: int) -> float:
    return 2 * m * n_regions(m - 1, d - 1) / n_regions(m, d)


def check_closed_forms(s: dict, d: int, m: int) -> None:
    assert s["regions"] == n_regions(m, d)
    assert s["bounded"] == comb(m - 1, d)
    assert s["mean_degree"] == pytest.approx(mean_degree(m, d), rel=1e-12)
    assert s["mean_facets"] == pytest.approx(s["mean_degree"], rel=1e-12)
    assert s["diameter"] == m and s["diameter_exact"]


def check_run(row: dict) -> None:
    """What must hold on every run of the grid."""
    d = row["d"]
    assert row["complete"]
    assert len(row["face_counts"]) == row["regions"]
    assert np.mean(row["face_counts"]) == pytest.approx(row["mean_facets"], rel=1e-12)
    # every facet of a region of R^d is shared with exactly one other region
    assert row["mean_facets"] == pytest.approx(row["mean_degree"], rel=1e-12)
    assert row["mean_facets"] < 2 * d
    assert row["diameter_lower"] <= row["diameter"] <= row["diameter_upper"]
    assert 0 <= row["fraction_bounded"] <= 1
    assert 0 <= row["test_accuracy"] <= 1
    if row["depth"] == 1:
        check_closed_forms(row, d, row["width"])


# -- statistics against closed forms ------------------------------------------------------


@pytest.mark.parametrize(("d", "m", "seed"), [(2, 6, 0), (3, 7, 1), (4, 6, 2), (5, 7, 3)])
def test_one_hidden_layer_random(d, m, seed):
    cx = cl.Complex(cl.mlp([d, m, 3], seed=seed))
    cx.bfs(progress=False)
    s = complex_stats(cx)
    check_closed_forms(s, d, m)
    # the bounds alone (no exact search) bracket the diameter
    b = diameter_bounds(cx.edges()[0], len(cx), exact_max_nodes=0, max_bfs=0, n_seeds=2, n_roots=2)
    assert b["diameter_lower"] <= m <= b["diameter_upper"]


@pytest.mark.parametrize(("d", "width", "trial"), [(2, 8, 0), (3, 8, 1), (4, 4, 2)])
def test_one_hidden_layer_trained(d, width, trial):
    row = run_config(d, width, 1, trial)
    check_run(row)  # includes the closed forms for depth 1
    assert row["n_volume_sampled"] == row["bounded"]  # fewer than the sample size
    assert row["n_volumes"] + row["n_volume_excluded"] + row["n_volume_failed"] == row["bounded"]


def test_deeper_trained_run():
    row = run_config(3, 8, 2, 0)
    check_run(row)
    # an independent count of the edges: networkx on the complex's dual graph
    m = cl.as_network(train_blobs(3, 8, 2, 0)[0])
    cx = cl.Complex(m)
    cx.bfs(progress=False)
    G = cx.dual_graph()
    assert G.number_of_nodes() == row["regions"] and G.number_of_edges() == row["edges"]
    assert nx.diameter(G) == row["diameter"]


# -- diameter --------------------------------------------------------------------------


def _graphs():
    yield "path", nx.path_graph(30)
    yield "cycle", nx.cycle_graph(31)
    yield "grid", nx.grid_2d_graph(7, 11)
    yield "tree", nx.balanced_tree(3, 4)
    yield "random", nx.connected_watts_strogatz_graph(300, 4, 0.05, seed=2)
    yield "lollipop", nx.lollipop_graph(10, 25)


@pytest.mark.parametrize(("name", "G"), list(_graphs()))
def test_diameter_against_networkx(name, G):
    G = nx.convert_node_labels_to_integers(G)
    e = np.array(list(G.edges()))
    n = G.number_of_nodes()
    exact = nx.diameter(G)
    r = diameter_bounds(e, n)
    assert r["diameter"] == exact and r["diameter_exact"], name
    loose = diameter_bounds(e, n, exact_max_nodes=0, n_seeds=1, n_roots=1, max_bfs=0, seed=3)
    assert loose["diameter_lower"] <= exact <= loose["diameter_upper"], name
    g = Graph(e, n)
    for v in (0, n // 2):
        dist, parent = g.bfs(v, parents=True)
        ref = nx.single_source_shortest_path_length(G, v)
        assert dist.tolist() == [ref[k] for k in range(n)]
        others = np.arange(n) != v
        assert np.all(dist[parent[others]] == dist[others] - 1)
        assert all(G.has_edge(int(k), int(parent[k])) for k in np.flatnonzero(others))
    assert g.tree_diameter(0) >= exact


@pytest.mark.parametrize("seed", range(4))
def test_bfs_and_tree_diameter_against_numpy_and_networkx(seed, monkeypatch):
    # scipy's compiled BFS (levels read off its visiting order) against the numpy BFS, and
    # the bottom-up tree diameter against networkx on the very BFS tree it measures
    rng = np.random.default_rng(seed)
    G = nx.connected_watts_strogatz_graph(400, 4 + 2 * (seed % 2), 0.1 * seed, seed=seed)
    G = nx.relabel_nodes(G, dict(enumerate(rng.permutation(400))))
    e = np.array(list(G.edges()))
    g = Graph(e, 400)
    assert np.array_equal(np.sort(g.degree), np.sort([d for _, d in G.degree()]))
    for v in rng.integers(0, 400, size=3):
        dist, parent = g.bfs(int(v), parents=True)
        ref = _diameter_mod._bfs_numpy(g.indptr, g.indices, 400, int(v), False)
        assert np.array_equal(dist, ref)
        child = np.flatnonzero(parent >= 0)
        assert child.size == 399 and np.all(dist[parent[child]] == dist[child] - 1)
        T = nx.Graph(list(zip(child.tolist(), parent[child].tolist())))
        assert all(G.has_edge(a, b) for a, b in T.edges())
        assert g.tree_diameter(int(v)) == nx.diameter(T)
    # the fallback (scipy's order not level-contiguous) gives the same answers
    exact, dist7, tree7 = diameter_bounds(e, 400), g.bfs(7), g.tree_diameter(7)
    monkeypatch.setattr(Graph, "_levels", lambda self, source: None)
    assert diameter_bounds(e, 400) == exact
    assert np.array_equal(g.bfs(7), dist7)
    assert dist7.max() <= g.tree_diameter(7) <= 2 * dist7.max()
    assert dist7.max() <= tree7 <= 2 * dist7.max()


def test_diameter_errors():
    with pytest.raises(ValueError, match="not connected"):
        diameter_bounds(np.array([[0, 1], [2, 3]]), 4)
    with pytest.raises(ValueError, match="index nodes"):
        diameter_bounds(np.array([[0, 5]]), 3)
    assert diameter_bounds(np.zeros((0, 2), int), 1)["diameter"] == 0


# -- volumes ---------------------------------------------------------------------------


@pytest.mark.parametrize(("widths", "bound"), [([2, 6, 5, 1], 2.0), ([3, 5, 4, 1], 1.0)])
def test_volumes_tile_the_box(widths, bound):
    cx = cl.Complex(cl.mlp(widths, seed=4), bound=bound)
    cx.bfs(progress=False)
    v = region_volumes(cx)
    assert np.all(np.isfinite(v)) and np.all(v > 0)
    assert v.sum() == pytest.approx((2 * bound) ** widths[0], rel=1e-9)
    # against the Region object's own (vertex enumeration) volume
    for i in (0, len(cx) // 2, len(cx) - 1):
        assert v[i] == pytest.approx(cx[i].volume, rel=1e-9)


def test_volumes_of_some_regions_and_a_sample():
    cx = cl.Complex(cl.mlp([3, 6, 5, 1], seed=1))
    cx.bfs(progress=False)
    every = region_volumes(cx)
    some = np.array([len(cx) - 1, 0, 7, 3])
    assert np.allclose(region_volumes(cx, some), every[some], rtol=1e-9)  # batches differ
    with pytest.raises(ValueError, match="indices"):
        region_volumes(cx, [len(cx)])
    s = complex_stats(cx, volume_sample=10)
    assert s["n_volume_sampled"] == 10 < s["bounded"]
    finite = every[np.isfinite(every) & (every <= 1e4)]
    assert finite.min() <= s["mean_volume"] <= finite.max()
    assert complex_stats(cx, volume_sample=None)["mean_volume"] == pytest.approx(finite.mean())


def test_volume_stats_and_unbounded_regions():
    cx = cl.Complex(cl.mlp([2, 5, 1], seed=0))
    cx.bfs(progress=False)
    v = region_volumes(cx)
    assert np.array_equal(np.isinf(v), ~cx.bounded)
    s = volume_stats(v, max_volume=float(np.sort(v[np.isfinite(v)])[-1]) / 2)
    assert s["n_volume_excluded"] >= 1
    assert s["n_volumes"] + s["n_volume_excluded"] == int(cx.bounded.sum())


# -- training --------------------------------------------------------------------------


def test_training_is_reproducible_and_seeded():
    a, acc_a = train_blobs(3, 8, 2, trial=1)
    b, acc_b = train_blobs(3, 8, 2, trial=1)
    c, _ = train_blobs(3, 8, 2, trial=2)
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
    assert acc_a == acc_b
    assert not np.array_equal(a[0].weight.detach().numpy(), c[0].weight.detach().numpy())
    assert [m.out_features for m in a if hasattr(m, "out_features")] == [8, 8, 3]


def test_training_learns_blobs():
    X_train, X_test, y_train, y_test = blobs_data(2, trial=0)
    assert X_train.shape == (240, 2) and X_test.shape == (60, 2)
    net = mlp_module([2, 16, 3], seed=0)
    losses = train_classifier(net, X_train, y_train, epochs=50, lr=0.05)
    assert losses[-1] < 0.5 * losses[0]


def test_training_errors():
    net = mlp_module([2, 4, 3], seed=0)
    with pytest.raises(ValueError, match="epochs"):
        train_classifier(net, np.zeros((4, 2)), np.zeros(4, int), epochs=0)
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        train_classifier(net, np.zeros((4, 2)), np.zeros(3, int))
    with pytest.raises(ValueError, match="widths"):
        mlp_module([2])


# -- tables ----------------------------------------------------------------------------


def test_histogram_round_trip():
    rng = np.random.default_rng(0)
    counts = rng.integers(2, 15, size=500)
    assert np.array_equal(decode_histogram(encode_histogram(counts)), np.sort(counts))
    with pytest.raises(ValueError, match="facet histogram"):
        decode_histogram("3:x")


def test_summary_mean_std():
    runs = [
        {"d": 2, "width": 4, "depth": 1, "trial": t, "regions": r, "mean_facets": f}
        for t, (r, f) in enumerate([(10, 3.0), (14, 3.5), (12, 2.5)])
    ]
    runs.append({**runs[0], "trial": 9, "regions": 999, "complete": False})  # left out
    [s] = summary_rows(runs, stats=["regions", "mean_facets"])
    assert s["runs"] == 3
    assert s["regions_mean"] == 12.0 and s["regions_std"] == pytest.approx(np.std([10, 14, 12]))
    assert s["mean_facets_mean"] == pytest.approx(3.0)


def test_write_json_is_atomic(tmp_path):
    p = write_json({"a": [1, 2]}, tmp_path / "x.json")
    assert json.loads(p.read_text()) == {"a": [1, 2]}
    with pytest.raises(TypeError):
        write_json({"a": object()}, tmp_path / "y.json")
    assert sorted(f.name for f in tmp_path.iterdir()) == ["x.json"]  # no half file, no temp


def test_configs_order_and_validation():
    c = configs([2, 3], [4, 8], [1, 2], [0, 1])
    assert len(c) == 16 and len(set(c)) == 16
    cost = [w**h for _, w, h, _ in c]
    assert cost == sorted(cost)
    assert configs([2], [4, 8], [2], [0], largest_first=True)[0] == (2, 8, 2, 0)
    with pytest.raises(ValueError, match="width"):
        configs([2], [0], [1], [0])


# -- the command line, resumability ----------------------------------------------------


def test_cli_tiny_grid_resume_and_report(tmp_path, capsys):
    out = tmp_path / "grid"
    args = ["experiment", "grid", "--dims", "2", "--widths", "4", "--depths", "1"]
    args += ["--trials", "0,1", "--out", str(out), "--no-progress"]
    assert main(args) == 0
    files = sorted((out / "runs").glob("*.json"))
    assert [f.name for f in files] == ["d2_w4_h1_t0.json", "d2_w4_h1_t1.json"]
    for f in files:
        check_run(json.loads(f.read_text()))
    stamps = {f: f.stat().st_mtime_ns for f in files}
    capsys.readouterr()
    assert main(args) == 0  # everything is there: skipped, files untouched
    assert "0 runs done, 2 skipped" in capsys.readouterr().out
    assert {f: f.stat().st_mtime_ns for f in files} == stamps
    # a lost run is redone, the others are kept
    files[0].unlink()
    assert main(args) == 0
    assert "1 runs done, 1 skipped" in capsys.readouterr().out
    assert files[1].stat().st_mtime_ns == stamps[files[1]]

    assert main(["experiment", "report", "--out", str(out), "--no-png"]) == 0
    rows = read_results(out / "results.csv")
    runs = load_runs(out)
    assert [r["trial"] for r in rows] == [0, 1]
    for r, run in zip(rows, runs):
        assert np.array_equal(r["face_counts"], np.sort(run["face_counts"]))
        assert r["regions"] == run["regions"] == 11
    summary = (out / "summary.csv").read_text().splitlines()
    assert len(summary) == 2 and summary[1].startswith("2,1,4,2,11")
    assert "| 2 | 1 | 4 | 2 | 11 ± 0 |" in (out / "summary.md").read_text()
    names = sorted(p.name for p in (out / "figures").iterdir())
    assert names == [
        "diameter_log_regions.html",
        "diameter_neurons.html",
        "diameter_width_depth.html",
        "face_counts.html",
    ]


def test_cli_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["experiment", "grid", "--dims", "two", "--out", str(tmp_path)])
    assert main(["experiment", "report", "--out", str(tmp_path / "none")]) == 2
    assert "no run results" in capsys.readouterr().err


def test_grid_parallel_equals_serial(tmp_path):
    grid = dict(dims=[2], widths=[4], depths=[2], trials=[0, 1], progress=False)
    run_grid(**grid, out_dir=tmp_path / "serial", n_jobs=1)
    run_grid(**grid, out_dir=tmp_path / "parallel", n_jobs=2)
    drop = {
        k
        for k in json.loads(next((tmp_path / "serial" / "runs").iterdir()).read_text())
        if k.endswith("_seconds")
    }
    for f in (tmp_path / "serial" / "runs").iterdir():
        a = json.loads(f.read_text())
        b = json.loads((tmp_path / "parallel" / "runs" / f.name).read_text())
        assert {k: v for k, v in a.items() if k not in drop} == {
            k: v for k, v in b.items() if k not in drop
        }


# -- the small grid of the issue -------------------------------------------------------


def test_small_grid_of_the_issue(tmp_path):
    """``--dims 2,3 --widths 4,8 --depths 1,2 --trials 0,1``: 16 runs."""
    out = tmp_path / "small"
    t = time.perf_counter()
    res = run_grid([2, 3], [4, 8], [1, 2], [0, 1], out_dir=out, n_jobs=2, progress=False)
    seconds = time.perf_counter() - t
    assert len(res["ran"]) == 16
    runs = load_runs(out)
    assert len(runs) == 16
    for row in runs:
        check_run(row)
    write_csv(result_rows(runs), out / "results.csv")
    assert len(read_results(out / "results.csv")) == 16
    print(f"small grid: 16 runs in {seconds:.1f} s")


def test_large_graphs_skip_the_tightening_bfs():
    """Above tighten_max_nodes only the 2-sweep and BFS-tree bounds are run."""
    rng = np.random.default_rng(0)
    n = 400
    edges = np.array([[i, i + 1] for i in range(n - 1)] + [[0, n // 2]])
    extra = rng.integers(0, n, size=(40, 2))
    edges = np.vstack([edges, extra[extra[:, 0] != extra[:, 1]]])
    full = diameter_bounds(edges, n, exact_max_nodes=0, n_seeds=2, n_roots=2, max_bfs=50)
    cut = diameter_bounds(
        edges, n, exact_max_nodes=0, n_seeds=2, n_roots=2, max_bfs=50, tighten_max_nodes=n - 1
    )
    assert cut["diameter_bfs"] <= 2 * 2 + 2 * 2 < full["diameter_bfs"]
    assert cut["diameter_lower"] <= full["diameter_lower"] <= full["diameter_upper"]
    assert full["diameter_upper"] <= cut["diameter_upper"]
