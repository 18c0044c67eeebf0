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
from autobuild.predictor import TrainConfig
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


def hop_table(values):
    index = pd.MultiIndex.from_tuples([("mbv3", "acc"), ("pn", "acc")], names=["space", "label"])
    return pd.DataFrame([list(v) + [0.9] for v in values], index=index, columns=HOPS + ["head"])


def test_hop_srcc_verdict_agrees_only_when_strong_and_positive():
    strong = embeddings.hop_srcc_verdict(hop_table([[0.8] * 5, [0.9] * 5]), "full", 200, 3000, "paper")
    assert strong.splitlines()[1].startswith("Agrees with the paper") and len(strong.splitlines()) == 2
    weak = embeddings.hop_srcc_verdict(hop_table([[0.2, 0.8, 0.8, 0.8, 0.8], [-0.1, 0.5, 0.9, 0.9, 0.9]]),
                                       "quick", 60, 1000, "embedded").splitlines()
    assert weak[0].startswith("70% of the") and "all positive: False" in weak[0] and "-0.10 at PN acc hop 0" in weak[0]
    assert weak[1] == "Partly agrees: SRCC >= 0.7 for every label only at hop 2, hop 3, hop 4."
    assert "60 epochs on 1000" in weak[2] and weak[3].startswith("Why ours may read higher")


def test_ablation_summary_counts_hop_levels_where_eq4_wins():
    index = pd.MultiIndex.from_tuples([("pn", "acc", "Eq. 4"), ("pn", "acc", "MSE only")],
                                      names=["space", "label", "loss"])
    ablation = pd.DataFrame([[0.5, 0.6, 0.7, 0.8, 0.9, 0.95], [0.6, 0.5, 0.5, 0.5, 0.5, 0.85]],
                            index=index, columns=HOPS + ["head"])
    text = embeddings.ablation_summary(ablation)
    assert text.startswith("Eq. 4 ranks better than MSE only at 4 of 5 hop levels (mean SRCC gain +0.18)")
    assert text.endswith("head SRCC Eq. 4 0.95 vs MSE only 0.85.")


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


def test_sequence_importance_verdict_reads_expand_kernel_layer_and_resolution():
    rows = [("expand", 3, 0.1), ("expand", 6, 0.5), ("kernel", 3, 0.4), ("kernel", 7, 0.2),
            ("layer", 0, 0.1), ("layer", 1, 0.1), ("layer", 2, 0.3), ("layer", 3, 0.3),
            ("resolution", 160, 0.1), ("resolution", 224, 0.3)]
    importance = pd.DataFrame(rows, columns=["feature", "value", "importance"]).assign(space="mbv3")
    lines = embeddings.sequence_importance_verdict(importance).splitlines()
    assert lines[0] == ("MBv3: e6 > e3 (0.50 vs 0.10), k7 <= k3 (0.20 vs 0.40) -> differs from the paper's reading")
    assert "outscore positions 0-1: deeper stages are worth more" in lines[1]
    assert lines[2] == "    resolution importance rises steadily from 160 to 224 px"
