"""Network import: supported layers, folding, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import complexlib as cl


def test_mlp_is_seeded_default_init():
    a, b = cl.mlp([3, 5, 2], seed=4), cl.mlp([3, 5, 2], seed=4)
    torch.manual_seed(4)
    ref = nn.Linear(3, 5)
    assert torch.equal(a[0].weight, b[0].weight) and torch.equal(a[0].weight, ref.weight)
    assert [type(m) for m in a] == [nn.Linear, nn.ReLU, nn.Linear]


def test_nested_sequential_with_folded_layers():
    torch.manual_seed(0)
    bn = nn.BatchNorm1d(6)
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.3, 0.3)
    net = nn.Sequential(
        nn.Flatten(),
        nn.Sequential(nn.Linear(3, 6), bn, nn.Identity()),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Sequential(nn.Linear(6, 4), nn.LeakyReLU(0.05)),
        nn.Linear(4, 5),
        nn.Linear(5, 2),
    ).eval()
    canon = cl.as_network(net)
    assert canon.widths == (3, 6, 4, 2)
    assert canon.slopes == [0.0, 0.05]
    x = np.random.default_rng(0).standard_normal((50, 3))
    with torch.no_grad():
        ref = net(torch.as_tensor(x, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(canon.forward(x), ref, rtol=1e-4, atol=1e-5)


def test_batchnorm_before_linear_is_folded_after_relu():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.BatchNorm1d(3), nn.Linear(3, 1)).eval()
    canon = cl.as_network(net)
    assert canon.widths == (2, 3, 1)


def test_list_of_pairs_and_float64_module():
    pairs = [(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))]
    assert cl.as_network(pairs).widths == (2, 2, 1)
    net = cl.mlp([2, 3, 1], seed=0).double()
    assert cl.as_network(net).n_neurons == 3


def test_trailing_relu_gives_hidden_neurons():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    canon = cl.as_network(net)
    assert canon.widths == (2, 3, 3) and canon.n_neurons == 3


@pytest.mark.parametrize(
    ("layer", "name"),
    [(nn.Tanh(), "Tanh"), (nn.Conv1d(1, 1, 1), "Conv1d"), (nn.Sigmoid(), "Sigmoid")],
)
def test_unsupported_layer_is_named(layer, name):
    net = nn.Sequential(nn.Linear(2, 2), layer, nn.Linear(2, 1))
    with pytest.raises(
        cl.UnsupportedLayerError,
        match=rf"layer 1 \({name}\) is not supported.*"
        r"supported layers: Linear, ReLU",
    ):
        cl.as_network(net)


def test_training_mode_batchnorm_is_refused():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 1))
    with pytest.raises(cl.UnsupportedLayerError, match="training mode.*eval"):
        cl.as_network(net)


def test_non_sequential_module_is_refused():
    class Net(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(cl.UnsupportedLayerError, match="not a torch.nn.Sequential"):
        cl.as_network(Net())
    with pytest.raises(TypeError, match="cannot build a ReLU network from str"):
        cl.as_network("net")


def test_nan_and_inf_weights_are_refused():
    net = cl.mlp([2, 3, 1], seed=0)
    with torch.no_grad():
        net[0].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN or inf"):
        cl.as_network(net)
    with pytest.raises(ValueError, match="layer 1: weights or biases contain NaN or inf"):
        cl.as_network([(np.eye(2), np.zeros(2)), (np.array([[np.inf, 0.0]]), np.zeros(1))])


def test_shapes_that_do_not_chain():
    with pytest.raises(ValueError, match="layer 1: weight takes 3 inputs but layer 0 gives 2"):
        cl.as_network([(np.eye(2), np.zeros(2)), (np.ones((1, 3)), np.zeros(1))])
    with pytest.raises(ValueError, match="bias shape"):
        cl.as_network([(np.eye(2), np.zeros(3))])


def test_wrong_input_dimension_is_named():
    cx = cl.Complex(cl.mlp([2, 3, 1], seed=0))
    cx.bfs(progress=False)
    with pytest.raises(
        ValueError, match=r"expected points of shape \(n, 2\) or \(2,\), got shape \(3,\)"
    ):
        cx.point2region(np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        cl.as_network(cl.mlp([2, 3, 1])).forward(np.zeros((4, 5)))


def test_module_that_does_more_than_its_layers():
    class Doubler(nn.Sequential):
        def forward(self, x):
            return 2 * super().forward(x)

    net = Doubler(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    with pytest.raises(cl.UnsupportedLayerError, match="disagrees with the module's forward"):
        cl.as_network(net)
