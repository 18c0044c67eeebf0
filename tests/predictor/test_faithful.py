"""The ``authors`` predictor variant: network, ranking term, training, checkpoints, selection by name."""
import json
import pickle

import numpy as np
import pytest
import torch

from autobuild.cli import main
from autobuild.graphs.table import GraphTable
from autobuild.predictor.checkpoint import load_predictor, read_checkpoint, save_predictor
from autobuild.predictor.faithful import FaithfulPredictor, ofa_resolution
from autobuild.predictor.model import AutoBuildPredictor
from autobuild.predictor.ranking import authors_ranking_loss, hop_ranking_loss
from autobuild.predictor.scoring import SubgraphScorer
from autobuild.predictor import TrainConfig, train_predictor
from autobuild.predictor.variants import build_model, make_model
from autobuild.spaces.ofa import MBV3


# The network against a hand-built expectation --------------------------------------------------

def _by_hand(model: FaithfulPredictor, x: torch.Tensor):
    """The faithful forward on one chain ``0 -> 1 -> ... -> L-1``, node by node, from the parameters."""
    vocab = list(model.feature_vocab.items())
    h0 = []
    for v in range(len(x)):
        row = []
        for f, (name, values) in enumerate(vocab):
            emb_or_lin, lin = model.fe_mlp.per_feature[f]
            if name == "resolution":  # continuous: (r - 192) / 32 through two affine maps
                rho = torch.tensor([(values[x[v, f]] - 192) / 32], dtype=torch.float32)
                s = lin(emb_or_lin(rho))
            else:
                s = lin.weight @ emb_or_lin.weight[x[v, f]] + lin.bias
            row.append(s.abs().squeeze())
        h0.append(torch.stack(row))
    hs = [torch.stack(h0)]
    for m, (conv, bn) in enumerate(zip(model.convs, model.norms)):
        h = hs[-1]
        wl, bl, wr, br = conv.lin_l.weight, conv.lin_l.bias, conv.lin_r.weight, conv.lin_r.bias
        att = conv.att.reshape(-1)
        out = []
        for i in range(len(h)):
            sources = [i] if i == 0 else [i, i - 1]  # self-loop, and the predecessor on a chain
            logits = torch.stack([att @ torch.nn.functional.leaky_relu(wl @ h[j] + bl + wr @ h[i] + br, 0.2)
                                  for j in sources])
            alpha = torch.softmax(logits, 0)
            out.append(sum(a * (wl @ h[j] + bl) for a, j in zip(alpha, sources)) + conv.bias)
        out = torch.stack(out)
        b = bn.module  # eval mode: running statistics
        out = (out - b.running_mean) / torch.sqrt(b.running_var + b.eps) * b.weight + b.bias
        out = torch.relu(out)
        hs.append(out + h if m > 0 else out)  # residual from the second layer on
    pooled = [h.mean(0) for h in hs]
    head = model.head
    z = torch.relu(head[1](head[0](pooled[-1])))
    z = torch.relu(head[4](head[3](z)))
    return head[6](z).squeeze(), hs, pooled


def test_faithful_forward_matches_a_hand_built_chain():
    torch.manual_seed(0)
    model = FaithfulPredictor(MBV3.feature_vocab, hidden=5, n_hops=3)
    for bn in model.norms:  # running statistics that are not the identity
        bn.module.running_mean.uniform_(-0.5, 0.5)
        bn.module.running_var.uniform_(0.5, 2.0)
        bn.module.weight.data.uniform_(0.5, 1.5)
        bn.module.bias.data.uniform_(-0.2, 0.2)
    model.eval()
    sg = tuple(MBV3.stage_subgraphs(2)[500])
    x = torch.as_tensor(MBV3.subgraph_features(2, sg, {"resolution": 176}))
    assert len(x) == 3
    table = GraphTable.from_arrays([x.numpy()])
    with torch.no_grad():
        pred, node_embs, graph_embs = model(*table.batch(torch.arange(1)))
        want_pred, want_nodes, want_pooled = _by_hand(model, x)
    assert len(node_embs) == 4 and node_embs[0].shape == (3, 6) and node_embs[1].shape == (3, 5)
    for got, want in zip(node_embs, want_nodes):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    for got, want in zip(graph_embs, want_pooled):
        torch.testing.assert_close(got[0], want, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pred[0], want_pred, atol=1e-5, rtol=1e-5)


def test_resolution_is_continuous_and_read_through_the_vocabulary():
    model = FaithfulPredictor(MBV3.feature_vocab)
    f = list(MBV3.feature_vocab).index("resolution")
    np.testing.assert_allclose(getattr(model.fe_mlp, f"values_{f}").numpy(), [-1, -0.5, 0, 0.5, 1])
    assert ofa_resolution(224) == 1.0
    scores = model.fe_mlp.value_scores()
    assert {k: len(v) for k, v in scores.items()} == {k: len(v) for k, v in MBV3.feature_vocab.items()}
    lin0, lin1 = model.fe_mlp.per_feature[f]
    with torch.no_grad():  # the two linear maps compose to one affine map of rho
        a, b = float(lin1.weight @ lin0.weight), float(lin1.weight @ lin0.bias + lin1.bias)
    np.testing.assert_allclose(scores["resolution"].numpy(), np.abs(a * np.array([-1, -0.5, 0, 0.5, 1]) + b), atol=1e-6)
    with pytest.raises(ValueError, match="read as a number"):
        FaithfulPredictor({"stage": (0, 1), "resolution": ("low", "high")})


# The authors' ranking term -------------------------------------------------------------------

def test_authors_ranking_term_is_one_minus_pearson_of_ranks_and_label_values():
    norms = torch.tensor([0.1, 0.5, 0.3, 0.9, 0.7])
    y = torch.tensor([0.0, 1.0, 2.0, 10.0, 3.0])
    ranks = np.array([1, 3, 2, 5, 4], dtype=float)  # soft ranks are exact ranks at a tiny strength
    want = 1 - np.corrcoef(ranks, y.numpy())[0, 1]
    got = authors_ranking_loss([norms[:, None]], y, strength=1e-3)
    assert float(got) == pytest.approx(want, abs=1e-5)
    # the mean over hops, and the norm is the L1 norm of each pooled embedding
    two = [torch.stack([norms, -norms], 1) / 2, torch.stack([y, y], 1)]
    perfect = 1 - np.corrcoef(np.argsort(np.argsort(y.numpy())) + 1, y.numpy())[0, 1]
    assert float(authors_ranking_loss(two, y, 1e-3)) == pytest.approx((want + perfect) / 2, abs=1e-5)
    # labels are not ranked: a perfect ordering still costs something, unlike in our Spearman term
    assert perfect > 0.05 and float(hop_ranking_loss([torch.stack([y, y], 1)], y, 1e-3)) == pytest.approx(0, abs=1e-6)
    # a constant batch gives correlation 0, not NaN
    assert float(authors_ranking_loss([torch.ones(4, 2)], torch.arange(4.0))) == pytest.approx(1.0)


# Training, checkpoints, selection by name -----------------------------------------------------

@pytest.fixture(scope="module")
def synthetic(synthetic_mbv3):
    return synthetic_mbv3


@pytest.fixture(scope="module")
def trained_both(synthetic):
    archs, y = synthetic
    return {kind: train_predictor(MBV3, archs, y, TrainConfig(epochs=12, lr=3e-3, batch_size=64, seed=0,
                                                                progress=False, model=kind))
            for kind in ("companion", "authors")}


def test_training_the_authors_model_learns_a_synthetic_label(trained_both, synthetic):
    tr = trained_both["authors"]
    assert isinstance(tr.model, FaithfulPredictor) and tr.config.model == "authors"
    assert tr.metrics["srcc"] > 0.8, tr.metrics
    assert tr.metrics["hop_srcc"][-1] > 0.8, tr.metrics
    assert tr.history[-1] < tr.history[0]
    assert isinstance(trained_both["companion"].model, AutoBuildPredictor)


def test_authors_training_clips_the_gradient_norm(monkeypatch, synthetic):
    archs, y = synthetic
    seen = []
    real = torch.nn.utils.clip_grad_norm_
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", lambda p, limit: seen.append(limit) or real(p, limit))
    cfg = TrainConfig(epochs=1, batch_size=50, progress=False, model="authors")
    train_predictor(MBV3, archs[:100], y[:100], cfg, path="pyg")
    assert seen == [5.0, 5.0]
    train_predictor(MBV3, archs[:100], y[:100], TrainConfig(epochs=1, batch_size=50, progress=False), path="pyg")
    assert seen == [5.0, 5.0]  # companion: no clipping


def test_the_dense_path_clips_each_stacked_model_as_torch_clips_it_alone():
    from autobuild.predictor.engines.dense import FlatParameters

    torch.manual_seed(0)
    models = [torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Linear(4, 7)) for _ in range(3)]
    flat = FlatParameters(models)
    scale = torch.tensor([10.0, 0.1, 3.0])   # one model far above the limit, one far below
    flat.flat.grad = torch.randn_like(flat.flat) * scale[flat.model_of]
    grads = [flat.unflatten(flat.flat.grad.clone(), i) for i in range(3)]
    flat.clip_grad_norm_(5.0)
    for i, model in enumerate(models):
        for name, p in model.named_parameters():
            p.grad = grads[i][name].clone()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        clipped = flat.unflatten(flat.flat.grad, i)
        for name, p in model.named_parameters():
            torch.testing.assert_close(clipped[name], p.grad)


@pytest.mark.parametrize("kind", ["companion", "authors"])
def test_checkpoint_round_trip_keeps_the_kind_and_the_predictions(kind, trained_both, synthetic, tmp_path):
    archs, y = synthetic
    tr = trained_both[kind]
    scorer = SubgraphScorer.from_data(tr, archs, y)
    path = save_predictor(tr, tmp_path / "p.pt", scorer_state=scorer.state)
    assert read_checkpoint(path)["model"]["kind"] == kind
    back, payload = load_predictor(path)
    assert type(back.model) is type(tr.model) and back.config.model == kind
    np.testing.assert_array_equal(back.predict(archs[:50]), tr.predict(archs[:50]))
    np.testing.assert_array_equal(back.hop_norms(archs[:50]), tr.hop_norms(archs[:50]))
    again = SubgraphScorer(back, payload["scorer_state"]).score_stage(1)
    np.testing.assert_array_equal(again.score.to_numpy(), scorer.score_stage(1).score.to_numpy())


def test_an_old_checkpoint_without_a_kind_loads_as_companion(trained_both, synthetic, tmp_path):
    path = save_predictor(trained_both["companion"], tmp_path / "new.pt")
    payload = torch.load(path, weights_only=True)
    del payload["model"]["kind"], payload["config"]["model"]
    torch.save(payload, tmp_path / "old.pt")
    back, _ = load_predictor(tmp_path / "old.pt")
    assert isinstance(back.model, AutoBuildPredictor) and back.config.model == "companion"
    archs, _ = synthetic
    np.testing.assert_array_equal(back.predict(archs[:20]), trained_both["companion"].predict(archs[:20]))


@pytest.mark.parametrize("edit, message", [
    (lambda p: p["model"].update(kind="gcn"), "'model.kind' is 'gcn'"),
    (lambda p: p["config"].update(model="companion"), "'model.kind' is 'authors' but its config says"),
])
def test_a_checkpoint_with_a_wrong_kind_is_refused(edit, message, trained_both, tmp_path):
    path = save_predictor(trained_both["authors"], tmp_path / "a.pt")
    payload = torch.load(path, weights_only=True)
    edit(payload)
    torch.save(payload, tmp_path / "edited.pt")
    with pytest.raises(ValueError, match=message):
        load_predictor(tmp_path / "edited.pt")


def test_an_unknown_model_name_is_refused(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"model='gcn' \(must be 'companion' or 'authors'\)"):
        TrainConfig(model="gcn")
    with pytest.raises(ValueError, match="model=None"):
        TrainConfig(model=None)
    with pytest.raises(ValueError, match="unknown predictor model 'Authors'"):
        make_model("Authors", MBV3.feature_vocab, hidden=8, n_hops=2)
    assert isinstance(build_model(TrainConfig(model="authors", hidden=8, n_hops=2), MBV3.feature_vocab),
                      FaithfulPredictor)
    rc = main(["train", "--space", "mbv3", "--target", "acc", "--model", "gcn", "--out", str(tmp_path / "o")])
    assert rc == 2 and "invalid choice: 'gcn'" in capsys.readouterr().err


def test_cli_trains_the_authors_model(tmp_path, capsys, synthetic_label):
    archs = MBV3.sample(60, seed=2)
    rows = [{"original config": MBV3.to_cache_config(a), "acc": 0.7 + 0.01 * synthetic_label(a)} for a in archs]
    data = tmp_path / "cache.pkl"
    data.write_bytes(pickle.dumps(rows))
    out = tmp_path / "run"
    rc = main(["train", "--space", "mbv3", "--target", "acc", "--data", str(data), "--epochs", "2",
               "--model", "authors", "--out", str(out)])
    assert rc == 0
    assert json.loads((out / "metrics.json").read_text())["config"]["model"] == "authors"
    back, _ = load_predictor(out / "predictor.pt")
    assert isinstance(back.model, FaithfulPredictor)
    assert main(["score", "--checkpoint", str(out / "predictor.pt"), "--top-k", "2"]) == 0
