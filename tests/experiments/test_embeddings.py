"""Section 2's experiments: training sets, hop-SRCC runs, their tables and verdicts, FE-MLP readouts."""
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from autobuild.data.labelled import LabelledSet
from autobuild.experiments import embeddings
from autobuild.experiments.embeddings import HOPS
from autobuild.graphs.ir import ir_feature_vocab
from autobuild.predictor import TrainConfig, train_predictor
from autobuild.stats import spearman
from autobuild.spaces.ofa import MBV3, PN


def labelled(space, n, seed, columns):
    archs = space.sample(n, seed=seed)
    rng = np.random.default_rng(seed)
    labels = pd.DataFrame({c: rng.normal(size=n) for c in columns})
    return LabelledSet(space, archs, labels, {c: f"{c} of {space.name}" for c in columns}, f"/x/{space.name}.parquet")


@pytest.fixture(scope="module")
def data():
    datasets = {"mbv3": labelled(MBV3, 30, 0, ["acc", "latency_gpu"]), "pn": labelled(PN, 12, 1, ["acc"])}
    return embeddings.training_sets(datasets, 20, ["latency_gpu", "acc", "flops"])


def test_training_sets_draw_seeded_sorted_subsets_and_keep_shared_labels(data):
    assert data.labels == ["acc"]  # latency_gpu only in MBv3, flops in neither
    assert len(data.subsets["mbv3"]) == 20 and len(data.subsets["pn"]) == 12
    assert (np.diff(data.subsets["mbv3"]) > 0).all()
    np.testing.assert_array_equal(data.subsets["mbv3"],
                                  np.sort(np.random.default_rng(0).choice(30, 20, replace=False)))
    overview = data.overview()
    assert overview.loc["mbv3", "architectures"] == 30 and overview.loc["pn", "used for training and testing"] == 12
    assert overview.loc["pn", "source"] == "pn.parquet"
    assert data.provenance().splitlines() == ["MBv3 acc: acc of mbv3", "PN acc: acc of pn"]


@pytest.fixture(scope="module")
def runs(data):
    config = TrainConfig(epochs=1, batch_size=8, lr=1e-3, seed=7, ranking_loss=False, progress=False)
    return embeddings.train_hop_predictors(data, config, ablation_labels=["acc"], seeds=2), config


def test_every_space_label_loss_and_seed_is_trained_once(runs, data):
    runs, config = runs
    keys = list(runs.results[["space", "label", "loss", "seed"]].itertuples(index=False, name=None))
    assert keys == [(s, "acc", loss, seed) for s in ("mbv3", "pn") for loss in ("Eq. 4", "MSE only") for seed in (0, 1)]
    assert set(runs.predictors) == {("mbv3", "acc"), ("pn", "acc")}
    trained, archs, y = runs.predictors["pn", "acc"]
    assert trained.config.seed == 0 and trained.config.ranking_loss  # replaced per run
    assert trained.config.epochs == config.epochs and trained.config.batch_size == 8  # the rest is the caller's
    assert len(archs) == len(y) == 12


def test_hop_tables_average_over_seeds(runs):
    runs, _ = runs
    table = runs.hop_srcc()
    eq4 = runs.results[(runs.results.loss == "Eq. 4") & (runs.results.space == "mbv3")]
    assert table.loc[("mbv3", "acc"), "hop 2"] == pytest.approx(eq4["hop 2"].mean(), nan_ok=True)
    assert runs.hop_srcc_std().loc[("mbv3", "acc"), "head"] == pytest.approx(eq4["head"].std(), nan_ok=True)
    ablation = runs.ablation(["acc"])
    assert list(ablation.index) == [(s, "acc", loss) for s in ("mbv3", "pn") for loss in ("Eq. 4", "MSE only")]
    importance = runs.sequence_feature_importance("acc")
    assert list(dict.fromkeys(importance.space)) == ["mbv3", "pn"]
    assert set(importance.feature) == set(MBV3.feature_names)


def flat(text: str) -> str:
    """``text`` with its wrapping undone (every run of whitespace one space)."""
    return " ".join(text.split())


def test_hop_cells_and_margins_keep_every_seed(runs):
    runs, _ = runs
    cells = runs.hop_cells()
    assert len(cells) == 2 * 2 * len(HOPS)  # space x seed x hop, Eq. 4 only
    row = cells[(cells.space == "pn") & (cells.seed == 1) & (cells.hop == "hop 3")].srcc.item()
    eq4 = runs.results[(runs.results.loss == "Eq. 4") & (runs.results.space == "pn") & (runs.results.seed == 1)]
    assert row == pytest.approx(eq4["hop 3"].item(), nan_ok=True)
    assert sorted(runs.by_seed) == [(s, "acc", seed) for s in ("mbv3", "pn") for seed in (0, 1)]
    assert runs.n_test() == min(t.metrics["n_test"] for t in runs.by_seed.values())
    margins = runs.feature_margins("acc")
    assert list(margins[["seed", "space"]].itertuples(index=False, name=None)) == [
        (0, "mbv3"), (1, "mbv3"), (0, "pn"), (1, "pn")]
    t = runs.by_seed["pn", "acc", 1]
    scores = t.model.fe_mlp.value_scores()
    expected = float(scores["kernel"][2] - scores["kernel"][0])  # kernel vocab (3, 5, 7)
    got = margins[(margins.space == "pn") & (margins.seed == 1)]["k7 - k3"].item()
    assert got == pytest.approx(expected)
    assert runs.feature_margins("latency_gpu").empty


def test_hop_srcc_summary_states_facts_and_caveats_without_a_verdict():
    cells = pd.DataFrame({"space": ["mbv3", "mbv3", "pn", "pn"], "label": "acc", "seed": [0, 1, 0, 1],
                          "hop": ["hop 0", "hop 0", "hop 1", "hop 1"], "srcc": [0.9, 0.75, -0.1, 0.8]})
    text = embeddings.hop_srcc_summary(cells, 0.7, "quick", 60, 1000, "embedded")
    assert all(len(line) <= embeddings.WIDTH for line in text.splitlines())
    assert flat(text).startswith("75% of the 4 (space, label, hop, seed) test SRCCs reach 0.7; all positive: False; "
                                 "the weakest is -0.10 (PN acc hop 1, seed 0). Hops where every predictor reaches "
                                 "0.7: hop 0. The quick profile trains 60 epochs on 1000 architectures")
    assert "Why ours may read higher" in text
    full = embeddings.hop_srcc_summary(cells, 0.7, "full", 200, 3000, "paper")
    assert flat(full).endswith("reaches 0.7: hop 0.") and "agree" not in full.lower()


def test_ablation_summary_counts_hop_levels_where_eq4_wins():
    index = pd.MultiIndex.from_tuples([("pn", "acc", "Eq. 4"), ("pn", "acc", "MSE only")],
                                      names=["space", "label", "loss"])
    ablation = pd.DataFrame([[0.5, 0.6, 0.7, 0.8, 0.9, 0.95], [0.6, 0.5, 0.5, 0.5, 0.5, 0.85]],
                            index=index, columns=HOPS + ["head"])
    text = embeddings.ablation_summary(ablation)
    assert flat(text).startswith("Eq. 4 ranks better than MSE only at 4 of 5 hop levels (mean SRCC gain +0.18)")
    assert flat(text).endswith("head SRCC Eq. 4 0.95 vs MSE only 0.85.")


def ir_graph(ops):
    x = np.zeros((len(ops), len(ir_feature_vocab)), dtype=np.int64)
    x[:, list(ir_feature_vocab).index("op")] = [ir_feature_vocab["op"].index(o) for o in ops]
    return x


def test_op_importance_sorts_ops_and_says_where_they_occur():
    scores = torch.arange(len(ir_feature_vocab["op"]), dtype=torch.float32).flip(0)  # earlier ops score higher
    trained = SimpleNamespace(model=SimpleNamespace(fe_mlp=SimpleNamespace(value_scores=lambda: {"op": scores})))
    xs = [ir_graph(["Conv", "Div", "Add"]), ir_graph(["Conv", "ReLU6"]), ir_graph(["Conv", "HardSwish"])]
    table = embeddings.op_importance(trained, xs, ["mbv3", "pn", "mbv3"], ["mbv3", "pn"])
    assert list(table.op) == ["Div", "Add", "HardSwish", "ReLU6", "Conv"]  # ascending importance
    assert dict(zip(table.op, table["found in"])) == {"Conv": "both", "Div": "MBv3 only", "Add": "MBv3 only",
                                                      "HardSwish": "MBv3 only", "ReLU6": "PN only"}


def test_ir_versus_paper_ranks_add_div_and_relu():
    ops = pd.DataFrame({"op": ["Conv", "ReLU", "Add", "Div"], "importance": [0.1, 0.2, 0.3, 0.4],
                        "found in": ["both", "MBv3 only", "both", "MBv3 only"]})
    trained = SimpleNamespace(metrics={"hop_srcc": [0.812, 0.9], "srcc": 0.9})
    ir = embeddings.IRPredictor(None, [], ["mbv3", "pn"], trained, ops, {"mbv3": 0.78, "pn": 0.76})
    lines = ir.versus_paper().splitlines()
    assert lines[0] == "0-hop test SRCC: 0.81 (paper: 0.79)"
    assert lines[1] == "mean accuracy: MBv3 78.00%, PN 76.00% -> MBv3 higher, as in the paper"
    assert lines[2] == "highest-scoring op: Div (paper: Add); Add ranks 2 of 4"
    assert lines[3] == "mean importance by where the op occurs: MBv3 only 0.30, both 0.20"
    assert lines[4].startswith("Div: rank 1 of 4, found in MBv3 only") and lines[5].startswith("ReLU: rank 3 of 4")
    assert list(ir.ranked_ops().op) == ["Div", "Add", "ReLU", "Conv"]


def test_sequence_importance_summary_reads_expand_kernel_layer_and_resolution():
    rows = [("expand", 3, 0.1), ("expand", 6, 0.5), ("kernel", 3, 0.4), ("kernel", 7, 0.2),
            ("layer", 0, 0.1), ("layer", 1, 0.1), ("layer", 2, 0.3), ("layer", 3, 0.3),
            ("resolution", 160, 0.1), ("resolution", 224, 0.3)]
    importance = pd.DataFrame(rows, columns=["feature", "value", "importance"]).assign(space="mbv3")
    text = embeddings.sequence_importance_summary(importance)
    lines = text.splitlines()
    assert lines[0] == "MBv3: e6 > e3 (0.50 vs 0.10), k7 <= k3 (0.20 vs 0.40): unlike the paper's reading"
    assert "outscore positions 0-1: deeper stages are worth more" in flat(text)
    assert lines[-1] == "    resolution importance rises steadily from 160 to 224 px"


def test_label_moment_steps_are_the_depth_means_of_each_unit(data):
    steps = embeddings.label_moment_steps(data)
    assert set(steps.label) == {"acc"} and set(steps.space) == {"mbv3", "pn"}
    ds, idx = data.datasets["mbv3"], data.subsets["mbv3"]
    depth = np.array([len(MBV3.arch_unit(ds.archs[i], 2)) for i in idx])
    y = ds.target("acc")[idx]
    for row in steps[(steps.space == "mbv3") & (steps.unit == 2)].itertuples():
        lo, hi = (int(v) for v in row.layers.split(" -> "))
        a, b = y[depth == lo], y[depth == hi]
        assert (row.n_low, row.n_high) == (len(a), len(b))
        assert row.step == pytest.approx(b.mean() - a.mean())
        assert row.se == pytest.approx(np.hypot(a.std(ddof=1) / np.sqrt(len(a)), b.std(ddof=1) / np.sqrt(len(b))))
        assert hi > lo and not ((lo < depth) & (depth < hi)).any()  # consecutive depths present


def test_soft_rank_fidelity_compares_each_variant_term_with_the_exact_spearman():
    archs = MBV3.sample(120, seed=3)
    y = np.array([sum(layer.expand for layer in a.stages[0]) for a in archs], dtype=float)
    y = y + np.random.default_rng(0).normal(scale=0.1, size=len(y))
    trained = [train_predictor(MBV3, archs, y, TrainConfig(epochs=2, batch_size=32, lr=1e-3, progress=False, model=m))
               for m in ("companion", "authors")]
    out = embeddings.soft_rank_fidelity(trained, archs, y, n_batches=3, seed=1)
    assert len(out) == 2 * 3 * (trained[0].model.n_hops + 1)
    assert set(out.model) == {"companion", "authors"}
    np.testing.assert_allclose(out.gap, (out.soft - out.exact).abs())
    assert out.soft.between(-1, 1).all() and out.exact.between(-1, 1).all()
    # the exact column is Spearman's rho of the norms on a batch of training architectures
    t = trained[0]
    norms = t.hop_norms(archs)
    idx = np.random.default_rng(1).choice(t.train_idx, size=32, replace=False)
    first = out[(out.model == "companion") & (out.batch == 0) & (out.hop == 2)].exact.item()
    assert first == pytest.approx(spearman(norms[idx, 2], y[idx]))
    with pytest.raises(ValueError, match="architectures and labels the predictor was trained on"):
        embeddings.soft_rank_fidelity(trained, archs[:50], y[:50])


def test_label_moment_summary_counts_growing_steps_and_the_weakest():
    steps = pd.DataFrame({"space": ["mbv3"] * 3 + ["pn"], "label": "acc", "unit": [0, 1, 2, 0],
                          "layers": "2 -> 3", "step": [0.2, -0.1, 0.3, 0.1], "se": [0.1, 0.1, 0.1, 0.05]})
    summary = embeddings.label_moment_summary(steps)
    assert summary.loc[("mbv3", "acc")].tolist() == [3, 2, -1.0]
    assert summary.loc[("pn", "acc")].tolist() == [1, 1, 2.0]
