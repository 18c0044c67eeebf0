import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from autobuild.predictor.checkpoint import load_predictor, read_checkpoint, save_predictor
from autobuild.graphs.table import GraphTable, chain_edges
from autobuild.predictor.scoring import SubgraphScorer, shift_score
from autobuild.spaces.ofa import MBV3, PN
from autobuild.predictor import TrainConfig, split_indices, train_predictor


@pytest.fixture()
def trained(tiny_trained):
    """The shared tiny predictor (tests/conftest.py)."""
    return tiny_trained


def test_training_learns_a_magnitude_ranked_space(trained):
    tr, archs, y = trained
    m = tr.metrics
    assert len(m["hop_srcc"]) == 5 and m["n_test"] == 60
    assert m["srcc"] > 0.9
    assert min(m["hop_srcc"]) > 0.6, m["hop_srcc"]
    assert tr.history[-1] < tr.history[0]
    np.testing.assert_allclose(tr.predict(archs[:5]), tr.predict(archs[:5]))


def test_hop_norms_are_what_the_test_srcc_is_measured_on(trained):
    tr, archs, y = trained
    test = [archs[i] for i in tr.test_idx]
    norms = tr.hop_norms(test)
    assert norms.shape == (len(test), 5) and (norms >= 0).all()
    for m, expected in enumerate(tr.metrics["hop_srcc"]):
        assert spearmanr(norms[:, m], y[tr.test_idx]).statistic == pytest.approx(expected, abs=1e-6)


def test_split_is_seeded_and_disjoint():
    a_train, a_test = split_indices(100, 0.1, seed=3)
    b_train, b_test = split_indices(100, 0.1, seed=3)
    assert np.array_equal(a_test, b_test) and len(a_test) == 10
    assert not set(a_train) & set(a_test) and len(a_train) + len(a_test) == 100


def test_eq5_shift_matches_hand_computation_root_readout(trained):
    tr, archs, y = trained
    scorer = SubgraphScorer.from_data(tr, archs, y, readout="root")
    df = scorer.score_stage(2)
    row = df.iloc[1234]
    sg = MBV3.stage_subgraphs(2)[1234]
    # by hand: the last node's norm at hop l-1, from a graph of the subgraph alone
    x = MBV3.subgraph_features(2, sg, scorer.context)
    norms = tr.node_norms_table(GraphTable.from_arrays([x]))
    l = len(sg)
    raw = norms[-1, l - 1]
    mu_h, sd_h = scorer.hop_moments[l - 1]
    all_nodes = tr.node_norms_table(GraphTable.from_architectures(MBV3, archs))[:, l - 1]
    assert (mu_h, sd_h) == pytest.approx((all_nodes.mean(), all_nodes.std()), rel=1e-5)
    depth = np.array([len(a.stages[2]) for a in archs])
    mu_y, sd_y = y[depth == l].mean(), y[depth == l].std()
    assert row.norm == pytest.approx(raw, rel=1e-5)
    assert row.score == pytest.approx((raw - mu_h) / sd_h * sd_y + mu_y, rel=1e-5)
    assert shift_score(2.0, 1.0, 0.5, 10.0, 3.0) == pytest.approx(16.0)


def test_eq5_shift_matches_hand_computation_pooled_readout(trained):
    tr, archs, y = trained
    scorer = SubgraphScorer.from_data(tr, archs, y)   # the default readout
    assert scorer.readout == "pooled"
    row = scorer.score_stage(3).iloc[4000]
    sg = MBV3.stage_subgraphs(3)[4000]
    l = len(sg)
    # by hand: the L1 norm of the mean of the subgraph's node embeddings at hop l-1
    x = torch.as_tensor(MBV3.subgraph_features(3, sg, scorer.context))
    with torch.no_grad():
        hs = tr.model.eval().node_embeddings(x, torch.as_tensor(chain_edges(l)))
    raw = float(hs[l - 1].mean(0).abs().sum())
    # hop moments: the same readout over the labelled architectures' own stage subgraphs of l layers
    own = [MBV3.subgraph_features(u, a.stages[u], {"resolution": a.resolution})
           for a in archs for u in range(5) if len(a.stages[u]) == l]
    pooled = tr.graph_norms_table(GraphTable.from_arrays(own))[:, l - 1]
    depth = np.array([len(a.stages[3]) for a in archs])
    mu_y, sd_y = y[depth == l].mean(), y[depth == l].std()
    assert row.norm == pytest.approx(raw, rel=1e-5)
    assert row.score == pytest.approx((raw - pooled.mean()) / pooled.std() * sd_y + mu_y, rel=1e-4)


def test_scores_recover_the_known_ground_truth(trained):
    tr, archs, y = trained
    scorer = SubgraphScorer.from_data(tr, archs, y)
    reduced = scorer.top_k(3)
    best = reduced.best()
    layers = [l for s in best.stages for l in s]
    assert np.mean([l.expand == 6 for l in layers]) > 0.6
    worst = scorer.bottom_k(1)
    worst_layers = [l for s in worst for l in s[0]]
    assert np.mean([l.expand == 6 for l in worst_layers]) < 0.3
    imp = scorer.feature_importance()
    e = imp[imp.feature == "expand"].set_index("value").importance
    assert e[6] > e[3]


def test_top_k_space_size_and_members(trained):
    tr, archs, y = trained
    scorer = SubgraphScorer.from_data(tr, archs, y)
    reduced = scorer.top_k(3)
    assert reduced.size == 3 ** 5 == len(list(reduced.architectures()))
    assert all(len(c) == 3 for c in reduced.candidates)
    assert scorer.top_k(1).size == 1
    with pytest.raises(ValueError, match="k >= 1"):
        scorer.top_k(0)
    df = scorer.score_all()
    assert len(df) == 5 * 7371
    top = df[df["rank"] == 1].sort_values("stage")
    assert list(top["index"]) == [MBV3.stage_subgraphs(u).index(c[0]) for u, c in enumerate(reduced.candidates)]


def test_pn_scores_its_last_two_stages_as_one_unit(synthetic_label):
    """As the authors do: PN's fifth stage (2-4 layers) and fixed one-layer sixth stage form one
    unit of 3-5 layers, for scores, top-K and the reduced space."""
    archs = PN.sample(80, seed=1)
    y = np.array([synthetic_label(a) for a in archs])
    tr = train_predictor(PN, archs, y, TrainConfig(epochs=2, batch_size=32, progress=False))
    scorer = SubgraphScorer.from_data(tr, archs, y)
    last = scorer.score_stage(4)
    assert len(last) == 9 ** 3 + 9 ** 4 + 9 ** 5 and set(last.n_layers) == {3, 4, 5}
    assert (last.hop == last.n_layers - 1).all()
    assert set(scorer.score_all().stage) == {0, 1, 2, 3, 4}
    reduced = scorer.top_k(4)
    assert len(reduced.candidates) == 5 and reduced.size == 4 ** 5
    best = reduced.best()
    assert len(best.stages) == 6 and len(best.stages[5]) == 1
    assert PN.arch_unit(best, 4) == reduced.candidates[4][0]


def test_checkpoint_round_trip(trained, tmp_path):
    tr, archs, y = trained
    scorer = SubgraphScorer.from_data(tr, archs, y)
    path = save_predictor(tr, tmp_path / "p.pt", equation="acc", scorer_state=scorer.state)
    loaded, payload = load_predictor(path)
    np.testing.assert_allclose(loaded.predict(archs[:20]), tr.predict(archs[:20]), rtol=1e-6)
    assert payload["equation"] == "acc" and loaded.metrics == tr.metrics
    again = SubgraphScorer(loaded, payload["scorer_state"])
    assert again.context == scorer.context
    np.testing.assert_allclose(again.score_stage(0).score, scorer.score_stage(0).score, rtol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == ["p.pt"]  # nothing half-written left behind


def test_wrong_or_corrupt_checkpoints_fail_clearly(trained, tmp_path):
    tr, _, _ = trained
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable AutoBuild checkpoint"):
        read_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not an AutoBuild predictor checkpoint"):
        read_checkpoint(tmp_path / "other.pt")
    path = save_predictor(tr, tmp_path / "p.pt")
    payload = torch.load(path, weights_only=True)
    payload["version"] = 99
    torch.save(payload, tmp_path / "future.pt")
    with pytest.raises(ValueError, match="version 99"):
        read_checkpoint(tmp_path / "future.pt")
    with pytest.raises(FileNotFoundError):
        read_checkpoint(tmp_path / "missing.pt")


@pytest.mark.parametrize("kwargs, name", [({"epochs": 0}, "epochs"), ({"batch_size": 1}, "batch_size"),
                                          ({"test_fraction": 1.0}, "test_fraction"), ({"device": "tpu"}, "tpu")])
def test_impossible_parameters_are_refused(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TrainConfig(**kwargs)


def test_bad_labels_are_refused():
    archs = MBV3.sample(10, 0)
    with pytest.raises(ValueError, match="NaN"):
        train_predictor(MBV3, archs, [1.0] * 9 + [float("nan")], TrainConfig(epochs=1, progress=False))
    with pytest.raises(ValueError, match="one label per graph"):
        train_predictor(MBV3, archs, [1.0] * 3, TrainConfig(epochs=1, progress=False))


_FAULTS = """
import resource, sys, torch
from autobuild.predictor.config import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
def touch_and_free():  # one training step's pattern: many activations alive at once, then all freed
    return [torch.empty(1 << 21).fill_(1.0) for _ in range(12)]
touch_and_free()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    touch_and_free()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_keep_freed_memory_stops_the_page_faults_of_reallocating_a_step():
    faults = {mode: int(subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True,
                                       check=True).stdout.split()[-1]) for mode in ("default", "keep")}
    assert faults["keep"] < 0.1 * faults["default"], faults
