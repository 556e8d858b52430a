"""HypersphereCache: exact answers on hits and misses, stats, LRU, weight changes, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import complexlib as cl
from complexlib.cache import CacheAnswer, WeightsChangedWarning


def query_sets(d: int, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Several query distributions: spread out, clustered, repeated, a walk, far away."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((25, d))
    return {
        "normal": rng.standard_normal((n, d)),
        "wide": 20 * rng.standard_normal((n, d)),
        "clusters": centers[rng.integers(0, 25, n)] + 1e-3 * rng.standard_normal((n, d)),
        "repeats": np.repeat(rng.standard_normal((n // 40, d)), 40, axis=0),
        "walk": np.cumsum(0.01 * rng.standard_normal((n, d)), axis=0),
    }


def run_stream(cache, net, X, chunks, dtype):
    """Feed X to the cache in chunks (twice, so the second pass hits); return the worst error."""
    worst = 0.0
    Xt = torch.as_tensor(X, dtype=dtype)
    for _ in range(2):
        for part in torch.tensor_split(Xt, chunks):
            y = cache(part)
            with torch.no_grad():
                ref = net(part)
            worst = max(worst, float(((y - ref).abs() / (1 + ref.abs())).max()))
    return worst


@pytest.mark.parametrize("admit", ["all", "auto"])
def test_exact_float64_on_ten_thousand_queries(admit):
    net = cl.mlp([3, 16, 16, 2], seed=1).double()
    cache = cl.HypersphereCache(net, admit=admit)
    worst = 0.0
    for X in query_sets(3, 1200).values():  # 5 sets x 1200 points x 2 passes = 12,000 queries
        worst = max(worst, run_stream(cache, net, X, 7, torch.float64))
    s = cache.stats()
    assert s["hits"] + s["misses"] == 12_000
    assert s["hits"] > 2000 and s["misses"] > 2000  # both paths exercised
    assert worst < 1e-9


def test_exact_float32_on_ten_thousand_queries():
    net = cl.mlp([4, 24, 24, 3], seed=2)
    cache = cl.HypersphereCache(net, admit="all")
    assert cache.dtype == torch.float32
    worst = 0.0
    for X in query_sets(4, 1200, seed=1).values():
        worst = max(worst, run_stream(cache, net, X, 5, torch.float32))
    s = cache.stats()
    assert s["hits"] > 2000 and s["misses"] > 2000 and s["dtype"] == "float32"
    assert worst < 1e-5


def test_far_points_follow_the_float64_truth_in_float32():
    net = cl.mlp([3, 16, 16, 1], seed=4)
    truth = cl.as_network(net)
    cache = cl.HypersphereCache(net, admit="all")
    X = 1e4 * np.random.default_rng(5).standard_normal((300, 3))
    for _ in range(2):
        y = cache(X.astype(np.float32)).astype(np.float64)
    ref = truth.forward(X.astype(np.float32))
    bound = np.abs(X).sum(axis=1, keepdims=True) * 10  # float32 rounding of the forward pass
    assert np.all(np.abs(y - ref) <= 1e-5 * bound)
    assert cache.stats()["hits"] > 0


def test_single_points_and_return_types():
    net = cl.mlp([2, 8, 8, 1], seed=0).double()
    cache = cl.HypersphereCache(net)
    rng = np.random.default_rng(0)
    for x in rng.standard_normal((200, 2)) * 0.3:
        y = cache(x)
        assert isinstance(y, np.ndarray) and y.shape == (1,)
        np.testing.assert_allclose(y, net(torch.as_tensor(x)).detach().numpy(), atol=1e-12)
    assert cache.stats()["hits"] > 100
    t = cache(torch.tensor([0.1, 0.2], dtype=torch.float64))
    assert torch.is_tensor(t) and t.shape == (1,)
    assert cache(np.zeros((0, 2))).shape == (0, 1)
    assert cache([[0.1, 0.2], [0.3, 0.4]]).shape == (2, 1)


def test_return_linearization_matches_linearize_at_point():
    net = cl.mlp([3, 10, 10, 2], seed=3).double()
    cache = cl.HypersphereCache(net, admit="auto")
    X = np.concatenate([query_sets(3, 400, seed=2)["clusters"]] * 2)
    ans = cache(X, return_linearization=True)
    assert isinstance(ans, CacheAnswer)
    out, W, c, region, hit = ans
    lin = cl.linearize_at_point(net, X)
    np.testing.assert_allclose(out, lin.output, atol=1e-12)
    # W and c are those of the point's region (points on a boundary may take either side)
    np.testing.assert_allclose(np.einsum("nod,nd->no", W, X) + c, lin.output, atol=1e-12)
    inside = lin.radius > 1e-9
    np.testing.assert_allclose(W[inside], lin.W[inside], atol=1e-12)
    np.testing.assert_allclose(c[inside], lin.c[inside], atol=1e-12)
    assert region.dtype == np.int64 and hit.dtype == bool and not hit[:400].all()
    ans2 = cache(X, return_linearization=True)
    assert ans2.hit.mean() > 0.9
    regs = cache.regions(chebyshev=False)
    pat = dict(zip(regs.id.tolist(), regs.pattern))
    for i in np.nonzero(ans2.region >= 0)[0][:50]:
        assert np.array_equal(pat[int(ans2.region[i])], lin.pattern[i])
    one = cache(X[0], return_linearization=True)
    assert one.W.shape == (2, 3) and one.c.shape == (2,) and one.region.shape == ()


def test_stats_and_clear():
    net = cl.mlp([2, 6, 1], seed=0).double()
    cache = cl.HypersphereCache(net, index="kdtree")
    x = np.array([[0.2, 0.1], [0.2001, 0.1], [5.0, 5.0]])
    cache(x)
    s = cache.stats()
    assert (s["hits"], s["misses"], s["hit_rate"], s["calls"]) == (0, 3, 0.0, 1)
    assert s["size"] == len(cache) >= 2 and s["inserted"] == s["size"]
    assert s["memory"] > 0 and s["bytes_per_region"] > 0 and s["index"] == "scipy.cKDTree"
    cache(x)
    s = cache.stats()
    assert (s["hits"], s["misses"]) == (3, 3) and s["hit_rate"] == 0.5
    cache.clear()
    s = cache.stats()
    assert (s["hits"], s["misses"], s["size"], len(cache)) == (0, 0, 0, 0)
    np.testing.assert_allclose(cache(x), net(torch.as_tensor(x)).detach().numpy())


def test_lru_eviction():
    net = [(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))]  # four quadrants
    cache = cl.HypersphereCache(net, max_regions=3)
    q = {"pp": [1.0, 1.0], "mp": [-1.0, 1.0], "mm": [-1.0, -1.0], "pm": [1.0, -1.0]}
    for k in ("pp", "mp", "mm"):
        cache(q[k])
    cache(q["pp"])  # pp used again: mp is now the least recently used
    cache(q["pm"])  # a fourth region evicts mp
    s = cache.stats()
    assert (s["size"], s["evicted"], s["inserted"]) == (3, 1, 4)
    kept = {tuple(p) for p in cache.regions().pattern.tolist()}
    assert kept == {(1, 1), (-1, -1), (1, -1)}
    before = cache.stats()["hits"]
    cache(q["mp"])
    assert cache.stats()["hits"] == before  # evicted: a miss, answered exactly
    np.testing.assert_allclose(cache(np.array(list(q.values()))), [[2.0], [1.0], [0.0], [1.0]])


def test_weight_change_in_place_clears_with_a_warning():
    net = cl.mlp([2, 8, 1], seed=0).double()
    cache = cl.HypersphereCache(net)
    x = torch.tensor([[0.3, -0.2], [0.1, 0.1]], dtype=torch.float64)
    cache(x)
    cache(x)
    with torch.no_grad():
        net[0].weight.mul_(1.5)  # what an optimizer step does
    with pytest.warns(WeightsChangedWarning, match="weights changed since the cache was built"):
        y = cache(x)
    torch.testing.assert_close(y, net(x).detach(), rtol=1e-12, atol=1e-12)
    s = cache.stats()
    assert s["weight_changes"] == 1 and s["hits"] == 0 and s["misses"] == 2
    # through .data (no version counter bump) and load_state_dict
    net[2].bias.data += 1.0
    with pytest.warns(WeightsChangedWarning):
        torch.testing.assert_close(cache(x), net(x).detach(), rtol=1e-12, atol=1e-12)
    other = cl.mlp([2, 8, 1], seed=5).double()
    net.load_state_dict(other.state_dict())
    with pytest.warns(WeightsChangedWarning):
        torch.testing.assert_close(cache(x), other(x).detach(), rtol=1e-12, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cache(x)  # unchanged: no warning


def test_weight_change_of_a_list_network():
    W1 = np.array([[1.0, 0.0], [0.0, 1.0]])
    net = [(W1, np.zeros(2)), (np.ones((1, 2)), np.zeros(1))]
    cache = cl.HypersphereCache(net)
    assert cache([1.0, 2.0])[0] == pytest.approx(3.0)
    W1[1, 1] = 2.0
    with pytest.warns(WeightsChangedWarning, match="cleared its 1 regions"):
        assert cache([1.0, 2.0])[0] == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("x", "exc", "match"),
    [
        (np.zeros((3, 3)), ValueError, r"expected points of shape \(n, 2\) or \(2,\), got shape"),
        (np.zeros((2, 2, 2)), ValueError, r"got shape \(2, 2, 2\)"),
        ([[0.0, np.inf]], ValueError, "NaN or inf"),
        (torch.tensor([[np.nan, 0.0]]), ValueError, "NaN or inf"),
        ([["a", "b"]], ValueError, "of real numbers"),
    ],
)
def test_bad_points(x, exc, match):
    cache = cl.HypersphereCache(cl.mlp([2, 4, 1], seed=0))
    with pytest.raises(exc, match=match):
        cache(x)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"index": "octree"}, ValueError, "unknown index 'octree'; valid: balltree, kdtree, brute"),
        ({"rebuild_threshold": 0}, ValueError, "rebuild_threshold must be at least 1"),
        ({"rebuild_threshold": 2.5}, TypeError, "rebuild_threshold must be an int"),
        ({"max_regions": 0}, ValueError, "max_regions must be None or a positive int"),
        ({"admit": "some"}, ValueError, "admit must be 'auto', 'all' or an int"),
        ({"dtype": "float16"}, ValueError, "dtype must be float32 or float64"),
        ({"n_candidates": 0}, ValueError, "n_candidates must be a positive int"),
        ({"rows_per_region": -1}, ValueError, "rows_per_region must be a positive int"),
    ],
)
def test_bad_settings(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        cl.HypersphereCache(cl.mlp([2, 4, 1], seed=0), **kwargs)


def test_unknown_index_is_a_complexlib_error():
    with pytest.raises(cl.UnknownBackendError):
        cl.HypersphereCache(cl.mlp([2, 4, 1], seed=0), index="ball")


@pytest.mark.parametrize("index", ["balltree", "kdtree", "brute"])
def test_indexes_agree(index):
    net = cl.mlp([2, 16, 16, 1], seed=1).double()
    cache = cl.HypersphereCache(net, index=index, rebuild_threshold=3, rows_per_region=8)
    X = query_sets(2, 600, seed=3)["clusters"]
    worst = run_stream(cache, net, X, 30, torch.float64)  # single-ish batches: many rebuilds
    assert worst < 1e-9 and cache.stats()["hit_rate"] > 0.4


def test_admission_limits():
    net = cl.mlp([2, 16, 1], seed=0).double()
    X = torch.as_tensor(query_sets(2, 500)["normal"])
    none = cl.HypersphereCache(net, admit=0)
    torch.testing.assert_close(none(X), net(X).detach(), rtol=1e-12, atol=1e-12)
    assert none.stats()["size"] == 0 and none.stats()["skipped"] > 0
    two = cl.HypersphereCache(net, admit=2)
    two(X)
    assert two.stats()["size"] == 2
    two.admit = "all"
    two(X)
    assert two.stats()["size"] > 2


def test_regions_and_chebyshev_balls():
    net = cl.mlp([2, 8, 8, 1], seed=0).double()
    cache = cl.HypersphereCache(net)
    X = np.random.default_rng(4).standard_normal((60, 2))
    cache(X)
    r = cache.regions()
    n = len(r)
    assert n == cache.stats()["size"] and r.pattern.shape == (n, 16)
    assert np.all(r.cheb_radius >= r.radius - 1e-9)
    rn = cl.as_network(net)
    finite = np.isfinite(r.cheb_radius)
    pats = cl.patterns.patterns_of(rn, r.cheb_center[finite])
    assert np.array_equal(pats, r.pattern[finite])
    np.testing.assert_allclose(
        np.einsum("nod,nd->no", r.W, r.center) + r.c, rn.forward(r.center), atol=1e-12
    )
    # kept rows are the nearest hyperplanes; rho is the next one
    assert np.all(np.diff(r.offsets, axis=1) >= -1e-12) and np.all(r.rho >= r.offsets.max(1))


def test_small_rows_per_region_still_exact_and_leaky_relu():
    # slope 0.125: exact in float32 (see test_leaky_slope_is_not_rounded_to_float32)
    net = cl.mlp([3, 20, 20, 1], seed=6, leaky=0.125).double()
    cache = cl.HypersphereCache(net, rows_per_region=2, admit="all")
    assert cache.stats()["rows_per_region"] == 2
    X = np.concatenate(list(query_sets(3, 300, seed=6).values()))
    assert run_stream(cache, net, X, 4, torch.float64) < 1e-9
    assert cache.stats()["hits"] > 0


def test_network_without_hidden_layers():
    cache = cl.HypersphereCache([(np.array([[1.0, -1.0]]), np.array([2.0]))])
    cache([[1.0, 1.0]])
    np.testing.assert_allclose(cache([[3.0, 1.0], [0.0, 0.0]]), [[4.0], [2.0]])
    assert cache.stats()["size"] == 1 and cache.stats()["hits"] == 2


def test_probing_mode_recovers_within_one_batch():
    net = cl.mlp([4, 64, 64, 1], seed=2).double()
    cache = cl.HypersphereCache(net, admit="all")
    rng = np.random.default_rng(7)
    A = rng.standard_normal((512, 4))
    cache(A)
    cache(100 + 30 * rng.standard_normal((512, 4)))  # far away: hits under 2%, probing on
    assert cache._yield < 0.02
    h0 = cache.stats()["hits"]
    y = cache(torch.as_tensor(A))  # the sample finds hits, so the whole batch is looked up
    assert cache.stats()["hits"] - h0 > 450
    torch.testing.assert_close(y, net(torch.as_tensor(A)).detach(), rtol=1e-12, atol=1e-12)


def test_many_pending_anchors_force_a_rebuild():
    # regression: with a huge rebuild_threshold every anchor stayed "newer than the index"
    # and the brute-force pass over them took (batch x anchors x d) memory (OOM at 100k)
    net = cl.mlp([4, 32, 32, 1], seed=0).double()
    cache = cl.HypersphereCache(net, admit="all", rebuild_threshold=10**9)
    X = np.random.default_rng(8).standard_normal((3000, 4)) * 3
    cache(X)
    assert cache.stats()["size"] > 1024
    cache(X[:200] + 1e-9)
    assert cache._anchors.tree is not None and cache._anchors.tree.n > 1024
    assert cache.stats()["hits"] >= 190


def test_key_index_matches_a_dict():
    from complexlib.cache.keys import KeyIndex

    rng = np.random.default_rng(0)
    ix, ref = KeyIndex(), {}
    for step in range(200):
        keys = rng.integers(-50, 50, size=rng.integers(0, 12))
        slots = rng.integers(0, 1000, size=keys.size)
        if step % 3 == 2:
            have = np.array([ref.get(int(k), -5) for k in keys])
            drop = np.where(rng.random(keys.size) < 0.5, have, slots)  # some stale slots
            ix.discard(keys, drop)
            for k, s in zip(keys.tolist(), drop.tolist()):
                if ref.get(k) == s:
                    del ref[k]
        else:
            ix.set(keys, slots)
            ref.update(zip(keys.tolist(), slots.tolist()))
        probe = np.arange(-55, 55)
        assert ix.get(probe).tolist() == [ref.get(int(k), -1) for k in probe]
        assert len(ix) == len(ref)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_points_just_across_a_facet_get_their_own_region(dtype):
    """Points a hair inside and outside the nearest hyperplane of a cached region: a hit must
    carry the point's own region's map (the float16 rows and their margins never misplace)."""
    net = cl.mlp([3, 16, 16, 2], seed=5).to(dtype)
    rn = cl.as_network(net)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3))
    lin = cl.linearize_at_point(rn, X)
    pts = []
    for i in range(len(X)):
        n_i = lin.A[i] / np.linalg.norm(lin.A[i], axis=1, keepdims=True)
        gap = -(lin.A[i] @ X[i] + lin.b[i]) / np.linalg.norm(lin.A[i], axis=1)
        j = int(np.argmin(gap))
        for t in (1 - 1e-3, 1 - 1e-6, 1 + 1e-6, 1 + 1e-3):
            pts.append(X[i] + t * gap[j] * n_i[j])
    P = np.asarray(pts)
    cache = cl.HypersphereCache(net, admit="all")
    cache(X)  # the regions of X are cached
    ans = cache(P, return_linearization=True)
    truth = cl.linearize_at_point(rn, np.asarray(torch.as_tensor(P, dtype=dtype).double()))
    clear = truth.radius > 1e-6 * (1 + np.linalg.norm(P, axis=1))
    assert ans.hit.any() and (~ans.hit).any()
    hit = np.asarray(ans.hit) & clear
    tol = 1e-9 if dtype == torch.float64 else 1e-4
    np.testing.assert_allclose(np.asarray(ans.W)[hit], truth.W[hit], atol=tol, rtol=tol)


def test_weight_changes_that_keep_the_memory_are_seen():
    """The weight check reuses views of the live tensors' memory: a transposed square weight
    (same memory, other strides), an in-place edit through .data and an equal copy."""
    net = cl.mlp([3, 3, 3, 1], seed=0).double()
    cache = cl.HypersphereCache(net)
    x = torch.randn(5, 3, dtype=torch.float64)
    cache(x)
    lin = net[2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lin.weight.data = lin.weight.data.clone()  # equal values in new memory: no change
        cache(x)
    with pytest.warns(WeightsChangedWarning):
        lin.weight.data = lin.weight.data.t()  # same memory, transposed
        y = cache(x)
    np.testing.assert_allclose(y, net(x).detach(), atol=1e-12)
    with pytest.warns(WeightsChangedWarning):
        lin.weight.data[0, 0] += 1.0
        y = cache(x)
    np.testing.assert_allclose(y, net(x).detach(), atol=1e-12)


def test_scratch_arrays_reused_across_batch_sizes_give_exact_answers():
    """The lookup's scratch arrays (kept between calls) never leak one batch into the next:
    batches of changing sizes around a few operating points, every answer equal to the net's."""
    net = cl.mlp([3, 24, 24, 2], seed=3).double().eval()
    rng = np.random.default_rng(7)
    ops = rng.standard_normal((6, 3))
    cache = cl.HypersphereCache(net)
    for n in (4096, 100, 5000, 65, 3000, 4096):
        x = ops[rng.integers(0, 6, n)] + 1e-4 * rng.standard_normal((n, 3))
        got = cache(x)
        want = net(torch.as_tensor(x)).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    s = cache.stats()
    assert s["hits"] > 0.9 * (s["hits"] + s["misses"] - 4096)  # the first batch fills it
    assert 0 < s["workspace_bytes"] < 4096 * 1024


@pytest.mark.parametrize("slope", [0.0, 0.1])
def test_numpy_and_torch_forward_hash_agree(slope, monkeypatch):
    """The CPU forward pass of a few missed points (numpy) gives the torch pass's outputs and
    the same pattern hashes, which equal those of the patterns themselves (``keys_of``)."""
    from complexlib.cache import hashing
    from complexlib.patterns import patterns_of

    net = cl.as_network(cl.mlp([3, 70, 5, 130, 2], seed=4))
    net = cl.ReLUNetwork(net.weights, net.biases, slopes=[slope] * 3)
    h = hashing.PatternHasher(net, torch.device("cpu"), torch.float64)
    y = torch.as_tensor(np.random.default_rng(0).standard_normal((40, 3)))
    out_np, key_np = h.forward(y)
    monkeypatch.setattr(hashing, "NUMPY_ROWS", 0)
    out_t, key_t = h.forward(y)
    np.testing.assert_allclose(out_np.numpy(), out_t.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(key_np, key_t)
    np.testing.assert_array_equal(key_np, h.keys_of(patterns_of(net, y.numpy())))
    assert len(set(key_np.tolist())) == len({p.tobytes() for p in patterns_of(net, y.numpy())})
    np.testing.assert_allclose(out_np.numpy(), net.forward(y.numpy()), rtol=1e-12, atol=1e-12)


def test_device_lookup_path_on_the_cpu(monkeypatch):
    """The torch lookup (used on GPUs) run on the CPU, by hiding the store's numpy views:
    every answer exact, the same hits as the numpy lookup on the same queries."""
    from complexlib.cache.store import RegionStore

    net = cl.mlp([4, 24, 24, 2], seed=5).double().eval()
    rng = np.random.default_rng(3)
    ops = rng.standard_normal((8, 4))
    batches = [ops[rng.integers(0, 8, 700)] + 1e-3 * rng.standard_normal((700, 4))]
    batches += [rng.standard_normal((300, 4)), batches[0][:50]]
    hits = {}
    for torch_only in (False, True):
        if torch_only:
            refresh = RegionStore._refresh_views

            def no_views(self, _refresh=refresh):
                _refresh(self)
                self.np_hdr = self.np_ra = self.np_rd = None

            monkeypatch.setattr(RegionStore, "_refresh_views", no_views)
        cache = cl.HypersphereCache(net)
        got = []
        for x in batches * 2:
            ans = cache(x, return_linearization=True)
            want = net(torch.as_tensor(x)).detach().numpy()
            np.testing.assert_allclose(ans.output, want, rtol=1e-9, atol=1e-9)
            got.append(ans.hit)
        assert (cache._store.np_hdr is None) == torch_only
        hits[torch_only] = np.concatenate(got)
    assert hits[True].mean() > 0.5
    np.testing.assert_array_equal(hits[False], hits[True])


@pytest.mark.parametrize("d", [2, 8, 1100])
def test_stored_normals_lie_within_their_error_bound(d):
    """The kept unit normals as stored (16-bit fixed point up to d = 1,027, float16 above)
    differ from the float64 normals of the region's halfspaces by at most ``normal_err``."""
    from complexlib.cache.store import normal_codec

    net = cl.mlp([d, 6, 6, 1], seed=d).double()
    cache = cl.HypersphereCache(net, rows_per_region=12)
    X = np.random.default_rng(d).standard_normal((30, d))
    cache(X)
    st = cache._store
    assert st.normal_dtype == ("int16" if d <= 1027 else "float16")
    assert (st.normal_dtype, st.normal_unit, st.normal_err) == normal_codec(d)
    reg = cache.regions(chebyshev=False)
    from complexlib.geometry import halfspaces

    A, _ = halfspaces(cl.as_network(net), reg.pattern)
    kept = reg.rows >= 0
    r, k = np.nonzero(kept)
    a = A[r, reg.rows[r, k]]
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    err = np.linalg.norm(reg.normals[r, k] - a, axis=1)
    assert err.max() <= st.normal_err
    assert err.max() > st.normal_err / 100  # the bound is not loose by orders of magnitude


def test_recent_pack_decides_as_the_store_test_and_never_wrongly():
    """The first tier's packed tables (RecentPack) give the store test's decisions on points
    at every distance from the regions' x0 (inside the ball, within rho, beyond), and every
    point either says is inside has the region's activation pattern."""
    from complexlib.cache.membership import contains_np, offset_margin_np
    from complexlib.cache.recent import RecentPack
    from complexlib.patterns import patterns_of

    net = cl.mlp([3, 12, 12, 2], seed=8).double()
    rn = cl.as_network(net)
    rng = np.random.default_rng(2)
    cache = cl.HypersphereCache(net)
    cache(rng.standard_normal((40, 3)))
    st = cache._store
    slots = np.sort(np.asarray(st.recent))
    pack = RecentPack(st, slots, cache._eps)
    j = rng.integers(0, len(pack), 6000)
    x0, r0 = st.np_hdr[slots[j], :3], st.np_hdr[slots[j], 3]
    u = rng.standard_normal((6000, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    y = x0 + u * (r0 * rng.uniform(0.0, 6.0, 6000))[:, None]
    # and points just inside and just across each region's first six kept hyperplanes
    jk = np.repeat(np.arange(len(pack)), 12)
    k = np.tile(np.repeat(np.arange(6), 2), len(pack))
    t = np.tile([1 - 1e-3, 1 + 1e-3], 6 * len(pack))
    a, delta = pack.A[jk, k], pack.rd_lo[jk, k].astype(np.float64)
    keep = np.isfinite(delta) & (delta < 1e30)
    j = np.concatenate([j, jk[keep]])
    x0 = np.concatenate([x0, st.np_hdr[slots[jk[keep]], :3]])
    y = np.concatenate([y, x0[-keep.sum() :] + (t * delta)[keep, None] * a[keep]])
    base = offset_margin_np(y)
    got = pack.test(j, y - x0, base)
    want = contains_np(st, y, slots[j], cache._eps, base)[0]
    np.testing.assert_array_equal(got, want)
    assert 0.2 < got[:6000].mean() < 0.9
    across = np.arange(6000, len(y))[(t[keep] > 1)]
    assert not got[across].any() and got[across - 1].mean() > 0.5
    np.testing.assert_array_equal(patterns_of(rn, y[got]), patterns_of(rn, x0[got]))
    # one point at a time: the rows read depend on the batch's farthest point
    for i in range(6000, len(y)):
        one = pack.test(j[i : i + 1], y[i : i + 1] - x0[i : i + 1], base)
        assert one[0] == got[i], i


@pytest.mark.parametrize("index", ["balltree", "kdtree", "brute"])
def test_brute_force_anchor_search_returns_the_index_answers(index):
    """The numpy brute-force search used in place of an index for few (query, anchor) pairs
    returns the same k nearest anchors, in the same order, with the same distance bound."""
    from complexlib.cache.anchors import _nearest
    from complexlib.cache.index import make_index

    rng = np.random.default_rng(4)
    for n, d in ((1, 3), (5, 2), (700, 4), (3000, 6)):
        pts = rng.standard_normal((n, d))
        q = rng.standard_normal((9, d))
        tree = make_index(index, pts)
        for bound in (np.inf, 1.0):
            got = _nearest(q, pts, 4, bound)
            np.testing.assert_array_equal(got, tree.query(q, 4, bound))
            np.testing.assert_array_equal(got, _nearest(q, pts, 4, bound, (pts * pts).sum(1)))


def test_large_calls_hold_numpy_blas_to_one_thread_and_restore_it(monkeypatch):
    """A call of more than 64 points runs with numpy's BLAS on one thread (a second thread
    contends with a torch forward pass's spinning threads) and restores the caller's
    setting afterwards, also when the call raises."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from complexlib.cache import hypersphere

    def all_blas():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    cache = cl.HypersphereCache(cl.mlp([3, 16, 2], seed=0).double())
    held = hypersphere._blas_libs()  # the libraries found at the first large call
    assert held  # numpy's BLAS at least
    seen = []
    answer = hypersphere.HypersphereCache._answer

    def spy(self, batch, *args):
        seen.append([lib.get_num_threads() for lib in held])
        if batch[0].shape[0] == 300:
            raise RuntimeError("interrupted")
        return answer(self, batch, *args)

    monkeypatch.setattr(hypersphere.HypersphereCache, "_answer", spy)
    with threadpool_limits(limits=2, user_api="blas"):
        before = all_blas()
        assert [lib.get_num_threads() for lib in held] == [2] * len(held)
        cache(np.zeros((200, 3)))
        cache(np.zeros((10, 3)))
        assert all_blas() == before
        with pytest.raises(RuntimeError):
            cache(np.zeros((300, 3)))
        assert all_blas() == before
    assert seen == [[1] * len(held), [2] * len(held), [1] * len(held)]
