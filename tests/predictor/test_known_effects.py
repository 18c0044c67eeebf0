"""Scores on a label whose best block is known at every position (the first layers of a stage count too)."""
import numpy as np
import pytest

from autobuild.predictor import SubgraphScorer, TrainConfig, train_predictor
from autobuild.spaces import MBV3


def monotone_label(arch) -> float:
    """Additive and monotone: every layer adds its expand and kernel index, so e6k7 is the best
    block at every position of every stage (and a deeper stage of e6k7 beats a shallower one)."""
    return sum(MBV3.EXPANDS.index(l.expand) + 0.7 * MBV3.KERNELS.index(l.kernel) for s in arch.stages for l in s)


@pytest.fixture(scope="module", params=["companion", "authors"])
def scorer(request):
    """The default scorer (pooled readout) of each predictor variant, trained on the monotone label."""
    archs = MBV3.sample(1500, seed=21)
    y = np.array([monotone_label(a) for a in archs]) + np.random.default_rng(0).normal(0, 0.3, len(archs))
    config = TrainConfig(epochs=40, lr=3e-3, seed=0, progress=False, model=request.param)
    return SubgraphScorer.from_data(train_predictor(MBV3, archs, y, config), archs, y)


def test_the_top1_subgraph_holds_the_best_block_at_every_position(scorer):
    best = scorer.top_k(1).candidates
    for u, (sg,) in enumerate(best):
        assert [(l.expand, l.kernel) for l in sg] == [(6, 7)] * len(sg), f"stage {u}: {MBV3.subgraph_label(sg)}"


def test_a_bigger_first_block_scores_higher_at_every_stage(scorer):
    """Within 4-layer subgraphs, the mean score falls as the first layer shrinks (the artefact was the reverse)."""
    df = scorer.score_all()
    four = df[df.n_layers == 4].assign(first=lambda d: d.subgraph.str.split(",").str[0])
    for u, part in four.groupby("stage"):
        mean = part.groupby("first").score.mean()
        assert mean["e6k7"] > mean["e4k5"] > mean["e3k3"], f"stage {u}: {mean.round(3).to_dict()}"
