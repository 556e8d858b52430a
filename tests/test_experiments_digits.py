"""The digits experiment (issue 6, item 3): a small capped run, checked for consistency."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

pytest.importorskip("sklearn")

from complexlib.experiments.digits import (  # noqa: E402
    DIGITS_WIDTHS,
    data_regions,
    digits_complex,
    digits_data,
    embed,
    orthant,
    region_stats,
    run_digits,
    run_digits_progress,
    split_embedding,
    train_digits,
)
from complexlib.patterns import patterns_of  # noqa: E402

CAP = 500  # the epoch-20 complex has 1,728 regions in the orthant: this search is capped


@pytest.fixture(scope="module")
def trained():
    data = digits_data()
    model, history, nets = train_digits(epochs=20, snapshots=[0, 20], data=data)
    return data, model, history, nets


@pytest.fixture(scope="module")
def capped(trained):
    data, _, _, nets = trained
    first, rest = split_embedding(nets[20])
    Z = embed(first, data[0])
    cx = digits_complex(rest, Z, max_regions=CAP)
    ids, edge = data_regions(cx, Z)
    return cx, Z, ids, edge, first, rest


def test_data_is_scaled_and_split_reproducibly():
    X_train, X_test, y_train, y_test = digits_data()
    assert X_train.shape == (1437, 64) and X_test.shape == (360, 64)
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    np.testing.assert_array_equal(digits_data()[0], X_train)
    assert sorted(set(y_test.tolist())) == list(range(10))


def test_training_is_deterministic_and_learns(trained):
    data, model, history, nets = trained
    assert nets[20].widths == DIGITS_WIDTHS
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[-1]["test_accuracy"] > 0.25  # ten classes: chance is 0.1
    _, history2, nets2 = train_digits(epochs=20, snapshots=[20], data=data)
    for w1, w2 in zip(nets[20].weights, nets2[20].weights):
        np.testing.assert_array_equal(w1, w2)
    assert history2[-1] == history[-1]


def test_snapshots_do_not_change_the_run(trained):
    """Epoch e shuffles with its own seed: keeping snapshots leaves the trajectory alone."""
    data, _, _, nets = trained
    _, _, few = train_digits(epochs=20, snapshots=[20], data=data)
    _, _, many = train_digits(epochs=20, snapshots=[5, 10, 20], data=data)
    np.testing.assert_array_equal(few[20].weights[0], many[20].weights[0])


def test_sub_network_is_the_later_layers(trained, capped):
    data, _, _, nets = trained
    _, Z, _, _, first, rest = capped
    assert first.widths == (64, 5) and rest.widths == (5, 8, 8, 8, 10)
    np.testing.assert_allclose(rest.forward(Z), nets[20].forward(data[0]), rtol=0, atol=1e-10)
    assert np.all(Z >= 0)


def test_capped_complex_stays_in_the_orthant(capped):
    cx, _, ids, _, _, _ = capped
    assert len(cx) == CAP and not cx.complete
    assert (ids < 0).any() and (ids >= 0).any()  # the cap leaves some training points out
    assert np.all(orthant(5).contains(cx.interior_points))
    # the orthant's sides are domain facets: some regions touch them, none counts them
    assert cx.domain_face_counts().max() > 0


def test_every_point_lies_in_its_region(capped):
    cx, Z, ids, edge, _, rest = capped
    inside = ids >= 0
    assert inside.any()
    np.testing.assert_array_equal(cx.patterns[ids[inside]], patterns_of(rest, Z[inside]))
    for i in np.unique(ids[inside])[:40]:  # exact closed-region membership of a sample
        members = Z[ids == i]
        assert np.all(cx[int(i)].contains(members, tol=1e-9))
    # points outside the capped complex really have patterns it never processed
    processed = {p.tobytes() for p in cx.patterns}
    for p in patterns_of(rest, Z[~inside]):
        assert p.tobytes() not in processed


def test_data_region_statistics_are_a_subset_of_all(capped):
    cx, _, ids, _, _, _ = capped
    st = region_stats(cx, ids)
    assert st["regions"] == len(cx)
    assert st["points"] == len(ids)
    assert st["points_outside"] == int((ids < 0).sum())
    n_data = len(np.unique(ids[ids >= 0]))
    assert st["data_regions"] == n_data == st["data"]["facets"]["n"]
    assert st["data"]["facets"]["n"] + st["empty"]["facets"]["n"] == st["all"]["facets"]["n"]
    for key in ("facets_hist", "volume_hist", "inradius_hist"):
        data, every = np.array(st["data"][key]), np.array(st["all"][key])
        assert np.all(data <= every[: len(data)])
        np.testing.assert_array_equal(data + np.array(st["empty"][key]), every)
    assert st["data"]["facets"]["min"] >= st["all"]["facets"]["min"]
    assert st["data"]["facets"]["max"] <= st["all"]["facets"]["max"]
    assert sum(st["all"]["facets_hist"]) == len(cx)
    fc = cx.face_counts()
    assert st["all"]["facets"]["mean"] == pytest.approx(fc.mean())
    assert st["data"]["facets"]["mean"] == pytest.approx(fc[np.unique(ids[ids >= 0])].mean())


def test_region_stats_rejects_foreign_ids(capped):
    cx = capped[0]
    with pytest.raises(ValueError, match="region indices"):
        region_stats(cx, np.array([len(cx)]), volumes=np.ones(len(cx)), inradii=np.ones(len(cx)))


def test_run_writes_json_and_csv(tmp_path):
    res = run_digits(max_regions=300, epochs=3, out=tmp_path)
    saved = json.loads((tmp_path / "digits.json").read_text())
    assert saved["stats"]["regions"] == res["stats"]["regions"] == 300
    with open(tmp_path / "digits_regions.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 300
    assert sum(int(r["points"]) for r in rows) == 1437 - res["stats"]["points_outside"]
    with open(tmp_path / "digits_points.csv") as fh:
        points = list(csv.DictReader(fh))
    assert len(points) == 1437
    assert not list(tmp_path.glob("*.pkl"))


def test_progress_table(tmp_path):
    rows = run_digits_progress(checkpoints=[0, 2], max_regions=200, out=tmp_path)
    assert [r["epoch"] for r in rows] == [0, 2]
    with open(tmp_path / "digits_progress.csv") as fh:
        table = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in table] == [0, 2]
    assert all(int(r["regions"]) <= 200 for r in table)
    full = json.loads((tmp_path / "digits_progress.json").read_text())
    assert [f["epoch"] for f in full] == [0, 2]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: run_digits(max_regions=0), "max_regions"),
        (lambda: train_digits(epochs=2, snapshots=[3]), "snapshot epochs"),
        (lambda: run_digits_progress(checkpoints=[]), "checkpoints"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_unknown_domain(capped):
    _, Z, _, _, _, rest = capped
    with pytest.raises(ValueError, match="unknown domain"):
        digits_complex(rest, Z, max_regions=10, domain="ball")


def test_cli_digits(tmp_path, capsys):
    from complexlib.cli import main

    args = ["experiment", "digits", "--out", str(tmp_path), "--max-regions", "100"]
    args += ["--epochs", "2", "--progress-checkpoints", "0,2", "--progress-max-regions", "50"]
    assert main(args + ["--no-progress"]) == 0
    assert "100 regions (capped)" in capsys.readouterr().out
    assert json.loads((tmp_path / "digits.json").read_text())["epochs"] == 2
    with open(tmp_path / "digits_progress.csv") as fh:
        assert [int(r["regions"]) for r in csv.DictReader(fh)] == [50, 50]
