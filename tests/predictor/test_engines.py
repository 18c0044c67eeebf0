"""The two training engines: the dense chain engine against PyG, and train_many against one by one."""
import numpy as np
import pytest
import torch
from torch.func import stack_module_state

from autobuild.graphs import GraphTable
from autobuild.predictor import TrainConfig, chain_kernels, train_many, train_predictor, train_predictor_on_table
from autobuild.predictor.engines.dense import ChainBatch, FlatParameters, is_chain_table, stacked_forward
from autobuild.predictor.variants import get_variant, make_model
from autobuild.spaces import MBV3, PN

#: every engine test that compares the dense path with PyG or with itself runs on each device present
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU"))]
#: ... and those that check the hops' hand-written gradients run on the CPU both through the compiled
#: kernels (the default there) and through the Python passes (a GPU's path; ``cpu-python``)
HOP_PATHS = ["cpu", "cpu-python", *DEVICES[1:]]


def _hop_path(path: str, monkeypatch) -> str:
    """The torch device of ``path`` (:data:`HOP_PATHS`), its hops' path set: on ``cpu`` the compiled
    kernels must have built, on ``cpu-python`` they are switched off."""
    if path == "cpu":
        assert chain_kernels.cpu_kernels(torch.zeros(1)) is not None, "the fused CPU kernels did not build"
    monkeypatch.setenv(chain_kernels.FUSED_ENV, "0" if path == "cpu-python" else "1")
    return path.split("-")[0]


@pytest.mark.parametrize("path", HOP_PATHS)
@pytest.mark.parametrize("kind", ["companion", "authors"])
@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("space", [MBV3, PN], ids=["mbv3", "pn"])
def test_dense_forward_equals_pyg_on_chains(space, training, kind, path, monkeypatch):
    device = _hop_path(path, monkeypatch)
    archs = space.sample(96, seed=5)
    table = GraphTable.from_architectures(space, archs).to(device)
    assert len(set(table.n_nodes.tolist())) > 3  # graphs of many lengths
    models = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        models.append(make_model(kind, space.feature_vocab, hidden=16, n_hops=3).to(device))
    params = FlatParameters(models, get_variant(kind).chain_groups(models[0]))
    _, buffers = stack_module_state(models)
    buffers = {k: v.clone() for k, v in buffers.items()}
    idx = torch.stack([torch.arange(0, 48), torch.arange(48, 96)]).to(device)
    chains = ChainBatch.from_table(table).pack(idx)
    assert chains.mask.sum(1).tolist() == [table.n_nodes[i].sum().item() for i in idx]  # packed: no gaps
    assert not chains.mask.all()   # the two batches differ in nodes: the shorter row ends in padding
    mask = chains.mask
    pred, nodes, graphs = stacked_forward(params.views(), buffers, models[0], chains, training=training)
    for i, model in enumerate(models):
        model.train(training)   # batch norm (authors): batch statistics over valid nodes only, then running ones
        ref_pred, ref_nodes, ref_graphs = model(*table.batch(idx[i]))
        torch.testing.assert_close(pred[i], ref_pred, atol=1e-5, rtol=1e-5)
        for dense, ref in zip(graphs, ref_graphs):
            torch.testing.assert_close(dense[i], ref, atol=1e-5, rtol=1e-5)
        for dense, ref in zip(nodes, ref_nodes):  # node embeddings at every valid position
            torch.testing.assert_close(dense[i][mask[i]], ref, atol=1e-5, rtol=1e-5)
        for name, buf in model.named_buffers():  # running statistics updated as torch updates them
            torch.testing.assert_close(buffers[name][i], buf, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("path", HOP_PATHS)
@pytest.mark.parametrize("kind,stop_gradient", [("companion", True), ("companion", False), ("authors", False)])
def test_dense_gradients_equal_pyg_on_chains(kind, stop_gradient, path, monkeypatch):
    """The dense path's hand-written backward (chain_ops, and on a CPU the compiled kernels) gives
    every parameter PyG's gradient."""
    device = _hop_path(path, monkeypatch)
    archs = MBV3.sample(96, seed=5)
    table = GraphTable.from_architectures(MBV3, archs).to(device)
    models = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        models.append(make_model(kind, MBV3.feature_vocab, hidden=16, n_hops=3,
                                 fe_stop_gradient=stop_gradient).to(device))
    params = FlatParameters(models, get_variant(kind).chain_groups(models[0]))
    _, buffers = stack_module_state(models)
    buffers = {k: v.clone() for k, v in buffers.items()}
    idx = torch.stack([torch.arange(0, 48), torch.arange(48, 96)]).to(device)
    chains = ChainBatch.from_table(table).pack(idx)
    gen = torch.Generator().manual_seed(0)
    w_pred, w_hops = torch.randn(2, 48, generator=gen), [torch.randn(2, 48, generator=gen) for _ in range(4)]
    w_pred, w_hops = w_pred.to(device), [w.to(device) for w in w_hops]

    def loss(pred, graphs, i=slice(None)):  # touches the head and every hop's graph-embedding norm
        return (pred * w_pred[i]).sum() + sum((g.abs().sum(-1) * w[i]).sum() for g, w in zip(graphs, w_hops))

    pred, _, graphs = stacked_forward(params.views(), buffers, models[0], chains, training=True)
    loss(pred, graphs).backward()
    tol = 1e-4 if kind == "companion" else 1e-3  # batch norm's backward amplifies float rounding
    for i, model in enumerate(models):
        model.train()
        ref_pred, _, ref_graphs = model(*table.batch(idx[i]))
        loss(ref_pred, ref_graphs, i).backward()
        grads = params.unflatten(params.flat.grad, i)
        for name, p in model.named_parameters():
            ref = torch.zeros_like(p) if p.grad is None else p.grad
            ours = grads[name]
            torch.testing.assert_close(ours, ref, atol=tol, rtol=tol, msg=lambda m: f"{name}: {m}")


def test_only_chain_tables_take_the_dense_path():
    xs = [np.zeros((3, 2), dtype=np.int64), np.zeros((2, 2), dtype=np.int64)]
    assert is_chain_table(GraphTable.from_arrays(xs))
    branching = [np.array([[0, 0], [1, 2]]), np.array([[0], [1]])]  # node 0 -> 1 and 0 -> 2
    reversed_ = [np.array([[1, 2], [0, 1]]), np.array([[1], [0]])]
    for edges in (branching, reversed_):
        table = GraphTable.from_arrays(xs, edges)
        assert not is_chain_table(table)
        with pytest.raises(ValueError, match="chain graphs"):
            ChainBatch.from_table(table)


@pytest.fixture(scope="module")
def labelled():
    """A smooth synthetic label on 900 MBv3 architectures: depth and expand ratios plus noise."""
    archs = MBV3.sample(900, seed=11)
    rng = np.random.default_rng(0)
    y = np.array([sum(l.expand for s in a.stages for l in s) / 10 + a.resolution / 224 for a in archs])
    return archs, y + rng.normal(0, 0.05, len(y)), GraphTable.from_architectures(MBV3, archs)


def _config(seed, model="companion", device="cpu"):
    return TrainConfig(epochs=20, lr=1e-3, batch_size=64, test_fraction=0.35, seed=seed, progress=False, model=model,
                       device=device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", ["companion", "authors"])
def test_many_at_once_matches_one_by_one(labelled, kind, device):
    """Same test SRCC as one by one, to within what float rounding moves it. Training is chaotic at
    float level (Adam turns the ~1e-8 gradient noise of constant features into full-size steps):
    in the PyG path itself, labels perturbed by 1e-6 move a hop's test SRCC here by up to 0.009,
    and the authors predictor of label -y trained with these neighbours lands anywhere in a range
    0.012 wide over five such perturbations. So head and hops get 0.02."""
    archs, y, table = labelled
    configs = [_config(s, kind, device) for s in (0, 1, 2)]
    labels = [y, -y, y ** 2]   # predictors may differ in label as well as seed
    many = train_many(table, MBV3.feature_vocab, labels, configs, space=MBV3)
    for c, label, b in zip(configs, labels, many):
        a = train_predictor(MBV3, archs, label, c, path="pyg")   # the reference path (on the same device)
        assert np.array_equal(a.test_idx, b.test_idx) and a.y_mean == b.y_mean
        assert abs(a.metrics["srcc"] - b.metrics["srcc"]) <= 0.02
        assert np.allclose(a.metrics["hop_srcc"], b.metrics["hop_srcc"], atol=0.02)
        assert b.space is MBV3 and len(b.history) == c.epochs


@pytest.mark.parametrize("device", DEVICES)
def test_many_at_once_is_deterministic_and_independent_of_its_company(labelled, device):
    """Bit for bit on a CPU. On a GPU, scatter-adds (the FE-MLP lookup's backward, per-model clipping)
    sum floats atomically in no fixed order, and
    training is chaotic at float level (see above): there, two runs agree in test SRCC."""
    _, y, table = labelled
    configs = [_config(s, device=device) for s in (3, 4)]
    twice = [train_many(table, MBV3.feature_vocab, [y, y], configs) for _ in range(2)]
    alone = train_many(table, MBV3.feature_vocab, [y], configs[1:])[0]
    for a, b in zip(*twice):
        if device == "cpu":
            for k, v in a.model.state_dict().items():
                assert torch.equal(v, b.model.state_dict()[k])
        assert abs(a.metrics["srcc"] - b.metrics["srcc"]) <= 0.01
    together = twice[0][1]   # the same predictor trained with or without a neighbour
    assert np.array_equal(alone.test_idx, together.test_idx)
    assert abs(alone.metrics["srcc"] - together.metrics["srcc"]) <= 0.01


def test_splits_of_different_sizes_and_bad_requests(labelled):
    _, y, table = labelled
    n = len(y)
    splits = [(np.arange(0, 600), np.arange(600, n)), (np.arange(0, 601), np.arange(601, n))]
    out = train_many(table, MBV3.feature_vocab, [y, y], [_config(0), _config(1)], splits=splits)
    assert [len(t.train_idx) for t in out] == [600, 601] and all(np.isfinite(t.metrics["srcc"]) for t in out)
    with pytest.raises(ValueError, match="share every setting but the seed"):
        train_many(table, MBV3.feature_vocab, [y, y], [_config(0), TrainConfig(epochs=3, seed=1)])
    with pytest.raises(ValueError, match="2 label vectors for 1 configs"):
        train_many(table, MBV3.feature_vocab, [y, y], [_config(0)])
    with pytest.raises(ValueError, match="NaN"):
        train_many(table, MBV3.feature_vocab, [np.where(np.arange(n) == 3, np.nan, y)], [_config(0)])


def test_train_predictor_takes_the_dense_path_for_chains_only(labelled, monkeypatch):
    archs, y, table = labelled
    calls = []
    from autobuild.predictor.engines import dense

    real = dense.fit
    monkeypatch.setattr(dense, "fit", lambda *a, **k: calls.append(1) or real(*a, **k))
    c = TrainConfig(epochs=1, progress=False)
    train_predictor(MBV3, archs[:100], y[:100], c)
    assert calls == [1]
    branching = GraphTable.from_arrays([np.zeros((3, 6), dtype=np.int64)] * 40, [np.array([[0, 0], [1, 2]])] * 40)
    train_predictor_on_table(branching, MBV3.feature_vocab, np.arange(40.0), c)   # IR-like graphs: PyG
    assert calls == [1]
    with pytest.raises(ValueError, match="chain graphs"):
        train_predictor_on_table(branching, MBV3.feature_vocab, np.arange(40.0), c, path="dense")


def test_compiled_training_equals_eager_up_to_float_rounding(labelled):
    """TrainConfig(compile=True) fuses the stacked forward with torch.compile: the same test SRCCs."""
    from dataclasses import replace

    _, y, table = labelled
    configs = [replace(_config(s, "authors"), epochs=3) for s in (0, 1)]
    eager = train_many(table, MBV3.feature_vocab, [y, -y], configs)
    fused = train_many(table, MBV3.feature_vocab, [y, -y], [replace(c, compile=True) for c in configs])
    for a, b in zip(eager, fused):  # parameters are chaotic at float level (see above); their rankings are not
        assert abs(a.metrics["srcc"] - b.metrics["srcc"]) <= 0.01
        assert np.allclose(a.metrics["hop_srcc"], b.metrics["hop_srcc"], atol=0.02)
    with pytest.raises(ValueError, match="compile"):
        TrainConfig(compile="yes")


@pytest.mark.parametrize("kind", ["companion", "authors"])
def test_an_epoch_packed_at_once_gives_each_step_what_packing_it_alone_gives(kind):
    """fit packs an epoch's batches in one call (one P for all): every step's forward is unchanged."""
    archs = MBV3.sample(120, seed=3)
    table = GraphTable.from_architectures(MBV3, archs)
    models = [make_model(kind, MBV3.feature_vocab, hidden=8, n_hops=2) for _ in range(2)]
    params = FlatParameters(models, get_variant(kind).chain_groups(models[0]))
    _, buffers = stack_module_state(models)
    chains = ChainBatch.from_table(table)
    gen = torch.Generator().manual_seed(1)
    batches = [torch.stack([torch.randperm(120, generator=gen)[:16] for _ in range(2)]) for _ in range(5)]
    together = chains.pack(torch.cat(batches), n=2).steps()
    assert len({c.x.shape[1] for c in together}) == 1    # one P for the epoch: more padding than alone
    for batch, packed in zip(batches, together):
        alone = chains.pack(batch)
        a = stacked_forward(params.views(), buffers, models[0], alone)
        b = stacked_forward(params.views(), buffers, models[0], packed)
        torch.testing.assert_close(a[0], b[0])
        for x, y in zip(a[2], b[2]):
            torch.testing.assert_close(x, y)
        for x, y in zip(a[1], b[1]):
            torch.testing.assert_close(x[alone.mask], y[packed.mask])


def test_flat_parameters_keep_every_model_and_refuse_a_ragged_group():
    models = [torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 4)) for _ in range(3)]
    flat = FlatParameters(models, {"w": ["0.weight", "1.weight"]})
    views = flat.views()
    assert views["w"].shape == (3, 8, 4) and views["0.bias"].shape == (3, 4)
    for i, m in enumerate(models):
        back = flat.unflatten(flat.flat.detach(), i)
        for name, p in m.named_parameters():
            assert torch.equal(back[name], p.detach())
        assert torch.equal(views["w"][i, 4:], m[1].weight.detach())   # the group: members side by side
    with pytest.raises(ValueError, match="all but the first dimension"):
        FlatParameters(models, {"w": ["0.weight", "0.bias"]})
