"""Rank statistics on data whose answer is known."""
import numpy as np
import pytest

from autobuild import stats


def test_metrics_on_known_data():
    truth = np.arange(10.0)
    assert stats.spearman(truth, truth) == pytest.approx(1.0)
    assert stats.spearman(-truth, truth) == pytest.approx(-1.0)
    assert np.isnan(stats.spearman(np.ones(10), truth))
    assert stats.top_k_overlap(truth, truth, 3) == 3
    assert stats.top_k_overlap(-truth, truth, 3) == 0
    assert stats.top_k_overlap(np.r_[truth[:9], -1.0], truth, 3) == 2  # the best item is scored last
    assert stats.top1_regret(truth, truth) == 0.0
    assert stats.top1_regret(-truth, truth) == 9.0
    assert stats.top1_regret(np.r_[np.zeros(9), -1.0] + (np.arange(10) == 4), truth) == 5.0


def test_spearman_is_undefined_below_three_values():
    assert np.isnan(stats.spearman([1.0, 2.0], [1.0, 2.0]))
    assert stats.spearman([1.0, 2.0, 3.0], [1.0, 3.0, 2.0]) == pytest.approx(0.5)
