"""Exact answers on a tiny hand-made complete table whose marginals, best, front and hypervolume
are worked out by hand: stages of 1 and 2 layers, ops {0, 1}, so 8 architectures (a | b c) with
y = 10a + 2b + c + 4bc and cost = a + b + c."""
import itertools

import numpy as np
import pandas as pd
import pytest

from autobuild.evaluators.exact_truth import (best_indices, check_complete, exact_front, hypervolume_floor,
                                              rank_percentile, stage_marginals, subgraph_marginals)

DEPTHS = (1, 2)
CODES = np.array(list(itertools.product((0, 1), repeat=3)))
Y = np.array([10 * a + 2 * b + c + 4 * b * c for a, b, c in CODES], dtype=float)   # 0 1 2 7 10 11 12 17
COST = CODES.sum(1).astype(float)


def _marginal(frame, stage, start, config):
    row = frame[(frame.stage == stage) & (frame.start == start) & (frame.config == config)]
    assert len(row) == 1
    return float(row.marginal.iloc[0])


def test_stage_marginals_are_the_hand_computed_means():
    m = stage_marginals(CODES, Y, DEPTHS, 2)
    expected = pd.DataFrame({"stage": [0, 0, 1, 1, 1, 1], "config": ["0", "1", "00", "01", "10", "11"],
                             "marginal": [2.5, 12.5, 5.0, 6.0, 7.0, 12.0]})
    pd.testing.assert_frame_equal(m, expected, check_dtype=False)


def test_smaller_subgraphs_marginals_single_layers_of_a_stage():
    m = subgraph_marginals(CODES, Y, DEPTHS, 2)
    assert _marginal(m, 1, 0, "0") == 5.5 and _marginal(m, 1, 0, "1") == 9.5    # layer b
    assert _marginal(m, 1, 1, "0") == 6.0 and _marginal(m, 1, 1, "1") == 9.0    # layer c
    assert set(m.n_archs) == {4, 2} and len(m) == 2 + 2 + 2 + 4


def test_the_best_percentiles_front_and_hypervolume_are_the_hand_computed_ones():
    assert best_indices(Y).tolist() == [7]
    assert best_indices([1, 3, 3, 2]).tolist() == [1, 2]                        # ties kept
    assert rank_percentile(Y, [17, 0, 7]).tolist() == [100.0, 12.5, 50.0]
    front, hv, ref = exact_front(Y, COST)
    assert front.tolist() == [0, 4, 6, 7] and ref == (0.0, 3.0)
    assert hv == pytest.approx(10 * 1 + 12 * 1)                                  # (10, 1) and (12, 2) inside the box
    assert exact_front(Y, COST, ref=(-1.0, 4.0))[1] == pytest.approx(1 + 11 + 13 + 18)
    assert exact_front(Y, COST, margin=0.5)[2] == (-8.5, 4.5)
    assert hypervolume_floor(Y, COST, (0.0, 3.0), noise=0.5) == pytest.approx(0.5 * (3 - 1))


def test_an_incomplete_or_repeated_table_is_refused():
    with pytest.raises(ValueError, match="not a complete table"):
        stage_marginals(CODES[:-1], Y[:-1], DEPTHS, 2)
    with pytest.raises(ValueError, match="not a complete table"):
        check_complete(np.vstack([CODES[:-1], CODES[:1]]), DEPTHS, 2)
    with pytest.raises(ValueError, match="op digits must lie in 0..1"):
        check_complete(CODES + 1, DEPTHS, 2)
    with pytest.raises(ValueError, match="need 8 finite values"):
        subgraph_marginals(CODES, Y[:5], DEPTHS, 2)
