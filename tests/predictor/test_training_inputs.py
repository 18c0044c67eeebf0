"""The one input check of training, and the scorer's: mismatched spaces, bad splits, float indices."""
import numpy as np
import pytest

from autobuild.graphs.table import GraphTable
from autobuild.predictor import SubgraphScorer, TrainConfig, train_many, train_predictor
from autobuild.spaces import MBV3, PN

CONFIG = TrainConfig(epochs=1, progress=False)


@pytest.fixture(scope="module")
def mbv3():
    archs = MBV3.sample(40, seed=1)
    return archs, np.arange(40.0), GraphTable.from_architectures(MBV3, archs)


@pytest.mark.parametrize("train, test, problem", [
    (np.arange(30), np.arange(25, 40), "5 graph\\(s\\) are in both the train and the test"),
    (np.arange(30) + 0.5, np.arange(30, 40), "train indices must be integers; got dtype float64"),
    (np.arange(30).astype(float), np.arange(30, 40), "train indices must be integers"),
    (np.arange(30), np.arange(35, 45), "test indices must lie in \\[0, 40\\); got 35..44"),
    (np.r_[np.arange(30), 3], np.arange(30, 40), "train indices repeat a graph"),
])
def test_a_bad_split_is_refused_before_training(mbv3, train, test, problem):
    archs, y, table = mbv3
    with pytest.raises(ValueError, match=problem):
        train_many(table, MBV3.feature_vocab, [y], [CONFIG], [(train, test)])


def test_another_spaces_graphs_or_architectures_are_refused(mbv3):
    archs, y, table = mbv3
    with pytest.raises(ValueError, match="graphs and space do not match"):
        train_many(GraphTable.from_architectures(MBV3, archs), {"stage": (0, 1)}, [y], [CONFIG])
    with pytest.raises(ValueError, match="not space 'mbv3''s: graphs and space do not match"):
        train_many(table, {**MBV3.feature_vocab, "kernel": (3, 5, 7, 9)}, [y], [CONFIG], space=MBV3)
    pn_archs = PN.sample(40, seed=1)
    trained = train_predictor(MBV3, archs, y, CONFIG)
    with pytest.raises(ValueError, match="40 architecture\\(s\\) of space 'pn' given to a predictor of space 'mbv3'"):
        SubgraphScorer.from_data(trained, pn_archs, y)
