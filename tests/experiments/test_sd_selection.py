"""Sec. 5.3's selection read-outs: each method's near-tied candidates and the per-predictor
attention effect behind the early-stage attention claim (Fig. 7b)."""
import numpy as np
import pytest

from autobuild.experiments import sd_selection
from autobuild.predictor.ensemble import EnsembleConfig
from autobuild.spaces.unet import SD14_UNET as S

FAST = EnsembleConfig.with_training(epochs=40, batch_size=32)


def labels(archs, stage):
    """Labels that reward attention in ``stage`` (down and up path, or the mid block) and nothing else."""
    def attn(c):
        return float(c.attn_down) + float(c.attn_up) + 2.0 * float(c.mid_attn)
    return np.array([attn(S.choices(a)[stage]) for a in archs])


@pytest.fixture(scope="module")
def late_attention():
    archs = S.sample(68, 11)
    y = labels(archs, 2) + np.random.default_rng(11).normal(0, 0.05, len(archs))
    return sd_selection.select(S, archs, y, seeds=1, k=2, config=FAST, progress=False)


def test_each_method_ranks_twice_k_candidates_and_picks_the_first_k(late_attention):
    sel = late_attention
    assert len(sel.autobuild_ranked) == len(sel.exhaustive_ranked) == sd_selection.NEAR_TIES * 2
    assert sel.autobuild == sel.autobuild_ranked[:2] and sel.exhaustive == sel.exhaustive_ranked[:2]
    assert sel.exhaustive_ranked_scores == sorted(sel.exhaustive_ranked_scores, reverse=True)
    assert sel.autobuild_ranked_scores == sorted(sel.autobuild_ranked_scores, reverse=True)
    assert sel.exhaustive_standard_error() > 0
    assert "ranks 1-4: AutoBuild's summed scores span" in sel.describe_near_ties()


def test_attention_rewarded_late_scores_below_early_for_every_predictor(late_attention):
    effects = sd_selection.member_attention_effects(late_attention)
    assert effects.columns.tolist() == ["member", "early", "later", "early - later"]
    assert len(effects) == len(late_attention.ab_members)
    np.testing.assert_allclose(effects["early - later"], effects.early - effects.later)
    assert (effects["early - later"] < 0).mean() >= 0.8
