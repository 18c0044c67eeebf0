"""The compiled CPU kernels of the dense chain path: the Python passes' functions, and their refusals."""
import warnings

import pytest
import torch
from torch.func import stack_module_state

from autobuild.graphs import GraphTable
from autobuild.predictor import chain_kernels
from autobuild.predictor.engines.dense import ChainBatch, FlatParameters, stacked_forward
from autobuild.predictor.variants import get_variant, make_model
from autobuild.spaces import MBV3


@pytest.fixture(scope="module")
def kernels():
    built = chain_kernels.cpu_kernels(torch.zeros(1))
    assert built is not None, "the fused CPU kernels did not build"
    return built


def _step(kind, fused: str, monkeypatch):
    """Every output and every gradient of one training forward of two stacked predictors, with a
    loss that reads the head, every hop's graph embeddings and every node embedding."""
    monkeypatch.setenv(chain_kernels.FUSED_ENV, fused)
    table = GraphTable.from_architectures(MBV3, MBV3.sample(60, seed=2))
    models = []
    for seed in (4, 5):
        torch.manual_seed(seed)
        models.append(make_model(kind, MBV3.feature_vocab, hidden=16, n_hops=3, fe_stop_gradient=False))
    params = FlatParameters(models, get_variant(kind).chain_groups(models[0]))
    _, buffers = stack_module_state(models)
    buffers = {k: v.clone() for k, v in buffers.items()}
    chains = ChainBatch.from_table(table).pack(torch.stack([torch.arange(0, 30), torch.arange(30, 60)]))
    pred, nodes, graphs = stacked_forward(params.views(), buffers, models[0], chains, training=True)
    gen = torch.Generator().manual_seed(0)
    loss = (pred * torch.randn(pred.shape, generator=gen)).sum()
    for t in [*graphs, *nodes]:
        loss = loss + (t.tanh() * torch.randn(t.shape, generator=gen)).sum()
    loss.backward()
    valid = chains.mask
    return [pred, *graphs, *(h[valid] for h in nodes), *buffers.values(), params.flat.grad]


@pytest.mark.parametrize("kind", ["companion", "authors"])
def test_the_kernels_compute_what_the_python_passes_compute(kind, kernels, monkeypatch):
    fused, python = _step(kind, "1", monkeypatch), _step(kind, "0", monkeypatch)
    for a, b in zip(fused, python):   # to float rounding, relative to each tensor's scale
        torch.testing.assert_close(a, b, atol=1e-5 * max(1.0, b.abs().max().item()), rtol=1e-4)


def test_the_kernels_refuse_what_they_cannot_read(kernels):
    n, P, d = 2, 6, 4
    xlr, b_lr, att = torch.randn(n, P, 2 * d), torch.zeros(n, 2 * d), torch.randn(n, d)
    gamma, beta, count = torch.ones(n, d), torch.zeros(n, d), torch.tensor([[6.0], [5.0]])
    starts = torch.tensor([0, 3, 6, 9])   # flat rows m * P + r
    kernels.authors_hop_forward(xlr.clone(), b_lr, att, gamma, beta, starts, count, None, 1e-5)   # accepted
    with pytest.raises(RuntimeError, match="float32"):
        kernels.authors_hop_forward(xlr.double(), b_lr, att, gamma, beta, starts, count, None, 1e-5)
    with pytest.raises(RuntimeError, match="does not start a chain"):
        kernels.authors_hop_forward(xlr.clone(), b_lr, att, gamma, beta, torch.tensor([0, 3, 9]), count, None, 1e-5)
    with pytest.raises(RuntimeError, match="outside the 12 packed rows"):
        kernels.authors_hop_forward(xlr.clone(), b_lr, att, gamma, beta, torch.tensor([0, 12]), count, None, 1e-5)
    with pytest.raises(RuntimeError, match="has 7 nodes in 6 rows"):
        kernels.authors_hop_forward(xlr.clone(), b_lr, att, gamma, beta, starts, count + 1, None, 1e-5)
    wh, out = torch.randn(n, P, d), torch.randn(n, P, d)
    graph, inv_len = torch.tensor([0, 0, 0, 1, 1, 1, 3, 3, 3, 4, 4, 5]), torch.full((n, 2, 1), 1 / 3)
    with pytest.raises(RuntimeError, match="each row's graph"):
        kernels.companion_hop_forward(wh, b_lr[:, :d], b_lr[:, :d], out, None, starts, graph.int(), inv_len, 0.01)
    with pytest.raises(RuntimeError, match="the conv's shape"):
        kernels.companion_hop_forward(wh, b_lr[:, :d], b_lr[:, :d], out[:, :3].clone(), None, starts, graph, inv_len,
                                      0.01)
    with pytest.raises(RuntimeError, match="identity skip needs h"):
        kernels.companion_hop_forward(wh, b_lr[:, :d], b_lr[:, :d], out, out[:, :3].clone(), starts, graph, inv_len,
                                      0.01)


def test_the_setting_switches_them_off_and_a_failed_build_falls_back(kernels, monkeypatch):
    monkeypatch.setenv(chain_kernels.FUSED_ENV, "0")
    assert chain_kernels.cpu_kernels(torch.zeros(1)) is None
    monkeypatch.setenv(chain_kernels.FUSED_ENV, "yes")
    with pytest.raises(ValueError, match="must be 0 or 1"):
        chain_kernels.cpu_kernels(torch.zeros(1))
    monkeypatch.setenv(chain_kernels.FUSED_ENV, "1")
    assert chain_kernels.cpu_kernels(torch.zeros(1, dtype=torch.float64)) is None   # float32 only
    from torch.utils import cpp_extension as cpp

    def no_compiler(*args, **kwargs):
        raise RuntimeError("Error building extension: c++: command not found")

    monkeypatch.setattr(cpp, "load", no_compiler)
    chain_kernels._build.cache_clear()
    try:
        with pytest.warns(UserWarning, match="did not build .*command not found.*Python passes"):
            assert chain_kernels.cpu_kernels(torch.zeros(1)) is None
        with warnings.catch_warnings():
            warnings.simplefilter("error")   # once per process, not once per hop
            assert chain_kernels.cpu_kernels(torch.zeros(1)) is None
    finally:
        chain_kernels._build.cache_clear()
    monkeypatch.undo()
    assert chain_kernels.cpu_kernels(torch.zeros(1)) is not None
