from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from autobuild.search.objectives import PredictorObjectives
from autobuild.experiments.construction import construct, evaluate_reduced_spaces, front_extension, subgraph_traits, tradeoff_equations
from autobuild.data.equations import LabelEquation
from autobuild.spaces.ofa import OFASpace
from autobuild.predictor import TrainConfig


class ShallowSpace(OFASpace):
    """MBv3-like, but 1-2 layers per stage: 90 subgraphs per stage keep scoring fast in tests."""

    DEPTHS = (1, 2)


SHALLOW = ShallowSpace("shallow_mbv3", "mbconv3", resolutions=(224,), fixed_stages=0, ofa_net="none")


@dataclass
class TinySet:
    """Test-only labelled set: bigger, wider layers are more accurate and slower."""

    space: object
    archs: list
    labels: pd.DataFrame
    source: str = "tiny test set"

    def target(self, equation):
        eq = LabelEquation(equation, allowed_names=self.labels.columns)
        return eq.evaluate({c: self.labels[c].to_numpy() for c in self.labels.columns})


def tiny_labels(archs):
    acc, lat = [], []
    for a in archs:
        layers = [l for s in a.stages for l in s]
        acc.append(0.70 + 0.004 * sum(l.expand for l in layers) / 4 + 0.002 * sum(l.kernel == 7 for l in layers))
        lat.append(2.0 + 0.4 * len(layers) + 0.05 * sum(l.expand for l in layers))
    return pd.DataFrame({"acc": acc, "latency_gpu": lat})


def test_tradeoff_equations_span_the_front_and_state_their_scales():
    labels = pd.DataFrame({"acc": [0.70, 0.72, 0.74], "latency_gpu": [5.0, 7.0, 9.0]})
    eqs = tradeoff_equations(labels, weights=(0.5, 2))
    assert eqs[0] == "100**acc" and eqs[-1] == "acc/latency_gpu"
    assert eqs[1] == "acc/0.02 - 0.5*latency_gpu/2"
    # the weighted equations really weigh: w=2 prefers the fast, w=0.5 the accurate architecture
    vals = {eq: LabelEquation(eq).evaluate({c: labels[c].to_numpy() for c in labels}) for eq in eqs}
    assert np.argmax(vals[eqs[1]]) == 2 and np.argmax(vals[eqs[2]]) == 0
    with pytest.raises(ValueError, match="lack"):
        tradeoff_equations(labels, cost="latency_npu")
    with pytest.raises(ValueError, match="vary"):
        tradeoff_equations(pd.DataFrame({"acc": [0.7, 0.7], "latency_gpu": [1.0, 2.0]}))


def test_front_extension_counts_points_beyond_the_front():
    data_perf, data_cost = np.array([0.70, 0.75, 0.80]), np.array([1.0, 2.0, 3.0])
    clusters = pd.DataFrame({
        "equation": ["a", "a", "b", "b"],
        "perf": [0.76, 0.60, 0.75, 0.79],  # a: 0.76@2 beats 0.75@2; b: both dominated
        "cost": [2.0, 0.5, 2.5, 3.0],
    })
    table, summary = front_extension(data_perf, data_cost, clusters, ref=(0.6, 4.0))
    # 0.60@0.5 is non-dominated but no better than the reference accuracy: not counted
    assert table.set_index("equation")["n_beyond_front"].to_dict() == {"a": 1, "b": 0}
    assert summary["clusters_beyond"] == 1 and summary["n_clusters"] == 2
    # data staircase from ref (0.6, 4): 1*0.1 + 1*0.15 + 1*0.2; the union adds 0.76@2 -> +0.01
    assert summary["hv_data"] == pytest.approx(0.45)
    assert summary["hv_union"] == pytest.approx(0.46)
    assert summary["hv_gain"] == pytest.approx(0.46 / 0.45 - 1)


def test_construct_builds_top_k_spaces_whose_best_subgraphs_lead():
    archs = SHALLOW.sample(300, seed=0)
    data = TinySet(SHALLOW, archs, tiny_labels(archs))
    config = TrainConfig(epochs=3, batch_size=64, seed=0, progress=False)
    built = construct(data, ["100**acc", "acc/latency_gpu"], k=2, config=config, progress=False)
    assert [c.equation for c in built] == ["100**acc", "acc/latency_gpu"]
    for c in built:
        assert c.reduced.size == 2 ** 5
        bw = c.best_and_worst()
        assert len(bw) == 10
        for u in range(5):
            best = bw[(bw.stage == u) & (bw.which == "best")].iloc[0]
            worst = bw[(bw.stage == u) & (bw.which == "worst")].iloc[0]
            assert best.score >= worst.score
            assert best.subgraph == c.reduced.candidates[u][0]
    evaluated = evaluate_reduced_spaces(built, lambda a: (tiny_labels(a)["acc"], tiny_labels(a)["latency_gpu"]))
    assert evaluated.groupby("equation").size().tolist() == [32, 32]
    assert all(c.reduced.candidates[u].count(a.stages[u]) == 1
               for c in built for a in evaluated[evaluated.equation == c.equation]["arch"] for u in range(5))
    traits = subgraph_traits(built, k=3).set_index(["equation", "which"])
    assert traits.index.tolist() == [(e, w) for e in ("100**acc", "acc/latency_gpu") for w in ("top-3", "bottom-3")]
    shares = traits.drop(columns="mean_layers")
    assert ((shares >= 0) & (shares <= 1)).all().all() and traits.mean_layers.between(1, 2).all()
    heads = PredictorObjectives(data, "acc", "latency_gpu", config)
    perf, cost = heads(archs[:7])
    assert perf.shape == cost.shape == (7,)
    assert set(heads.backends) == {"acc", "latency_gpu"} and all("test SRCC" in t for t in heads.backends.values())
