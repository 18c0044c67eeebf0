"""Table 1's seed-noise intervals: the pooled-residual bootstrap of set averages and bests, a
near-tied pick's expectation over its choices, the interval of a difference and the verdict it
gives."""
import itertools

import numpy as np
import pandas as pd
import pytest

from autobuild.experiments.sd_results import Difference, Pick, SeedBootstrap, seed_runs


def runs(fds: dict) -> pd.DataFrame:
    """One row per (arch, seed) from ``{arch: [fd of seed 0, seed 1, ...]}``."""
    return pd.DataFrame([{"arch": a, "seed": s, "fd": f} for a, v in fds.items() for s, f in enumerate(v)])


NOISE = {"n1": [1.0, 1.1, 0.9], "n2": [2.0, 2.2, 1.8]}  # seed residuals +-0.1 and +-0.2


def test_pooled_residuals_are_unbiased_for_the_seed_variance():
    boot = SeedBootstrap(runs({**NOISE, "single": [5.0]}))
    scale = np.sqrt(3 / 2)
    np.testing.assert_allclose(np.sort(boot.residuals), np.sort([-0.2, 0.2, -0.1, 0.1, 0, 0]) * scale)
    assert boot.sigma == pytest.approx(np.sqrt((0.1 ** 2 + 0.2 ** 2) / 2))  # root mean of the sample variances
    assert boot.n_seeds["single"] == 1 and boot.means["n2"] == pytest.approx(2.0)


def test_an_evaluation_copied_into_two_groups_counts_once():
    frame = pd.concat([runs(NOISE).assign(group="a"), runs({"n1": [1.0]}).assign(group="b")])
    assert len(seed_runs(frame)) == 6
    assert SeedBootstrap(frame).n_seeds["n1"] == 3


def test_more_seeds_narrow_the_interval_as_one_over_root_n():
    boot = SeedBootstrap(runs({**NOISE, "once": [3.0], "five": [3.0] * 5}), n_boot=20_000)
    one, five = boot.interval(["once"], "best"), boot.interval(["five"], "best")
    assert one[0] == five[0] == pytest.approx(3.0)
    assert one[1] < 3.0 < one[2]
    ratio = (one[2] - one[1]) / (five[2] - five[1])
    assert ratio == pytest.approx(np.sqrt(5), rel=0.25)


def test_best_is_the_lowest_seed_mean_with_its_identity_fixed():
    boot = SeedBootstrap(runs({**NOISE, "a": [0.5, 0.9], "b": [0.6]}))
    value, reps = boot.statistic(["a", "b"], "best")
    assert value == pytest.approx(0.6)  # b: its one seed; a's mean is 0.7
    np.testing.assert_array_equal(reps, boot.replicates("b"))
    assert boot.statistic(["a", "b"], "average")[0] == pytest.approx(0.65)


@pytest.mark.parametrize("shift, outcome, verdict", [(-1.0, "better", "agrees"), (0.0, "tie", "inconclusive"),
                                                     (1.0, "worse", "differs")])
def test_the_verdict_flips_when_the_interval_leaves_zero(shift, outcome, verdict):
    boot = SeedBootstrap(runs({**NOISE, "a": [3.0 + shift] * 3, "b": [3.0] * 3}))
    for kind in ("average", "best"):
        d = boot.difference(["a"], ["b"], kind)
        assert d.value == pytest.approx(shift) and d.low <= d.value <= d.high
        assert (d.outcome, d.verdict) == (outcome, verdict)


def test_outcome_reads_the_interval_not_the_value():
    assert Difference(-0.5, -0.9, -0.01, 0.95).outcome == "better"
    assert Difference(-0.5, -0.9, 0.01, 0.95).verdict == "inconclusive"
    assert Difference(0.5, 0.01, 0.9, 0.95).verdict == "differs"


def test_a_set_against_itself_ties_exactly():
    boot = SeedBootstrap(runs({**NOISE, "a": [1.0], "b": [2.0, 2.5]}))
    d = boot.difference(["a", "b"], ["b", "a"], "average")
    assert (d.value, d.low, d.high, d.outcome) == (0.0, 0.0, 0.0, "tie")


def test_95_percent_intervals_cover_the_true_difference():
    """Simulated seed noise (sigma 0.1): 4 architectures against 20, averages."""
    rng, hits, trials = np.random.default_rng(0), 0, 150
    true = {f"x{i}": m for i, m in enumerate(rng.uniform(0, 1, 24))}
    for t in range(trials):
        fds = {f"noise{j}": list(rng.normal(0, 0.1, 3)) for j in range(6)}
        fds.update({a: list(m + rng.normal(0, 0.1, 3 if i < 4 else 1)) for i, (a, m) in enumerate(true.items())})
        d = SeedBootstrap(runs(fds), n_boot=1000, seed=t).difference(list(true)[:4], list(true)[4:], "average")
        truth = np.mean(list(true.values())[:4]) - np.mean(list(true.values())[4:])
        hits += d.low <= truth <= d.high
    assert 0.85 <= hits / trials <= 0.995


def test_a_pick_of_all_candidates_is_the_set_itself():
    boot = SeedBootstrap(runs({**NOISE, "a": [1.0, 1.2], "b": [3.0], "c": [2.0]}))
    for kind in ("average", "best"):
        v, reps = boot.statistic(Pick(("a", "b", "c"), 3), kind)
        w, plain = boot.statistic(["a", "b", "c"], kind)
        assert v == w and np.array_equal(reps, plain)


def test_a_pick_is_the_expectation_over_every_choice():
    fds = {**NOISE, "a": [1.0], "b": [2.0], "c": [4.0], "d": [3.0]}
    boot = SeedBootstrap(runs(fds), n_boot=500)
    pick = Pick(("a", "b", "c", "d"), 2)
    choices = list(itertools.combinations(pick.archs, 2))
    assert boot.statistic(pick, "average")[0] == pytest.approx(2.5)
    # best of each of the 6 pairs, averaged: a in 3 pairs, b in 2 (with c, d), d in 1 (with c)
    assert boot.statistic(pick, "best")[0] == pytest.approx((3 * 1.0 + 2 * 2.0 + 1 * 3.0) / 6)
    replicates = np.mean([boot.statistic(list(c), "best")[1] for c in choices], axis=0)
    np.testing.assert_allclose(boot.statistic(pick, "best")[1], replicates)


def test_choice_outcomes_share_the_pairs_of_choices():
    far = {**NOISE, "a": [1.0] * 5, "b": [1.0] * 5, "x": [9.0] * 5, "y": [9.0] * 5, "z": [1.0] * 5}
    boot = SeedBootstrap(runs(far), n_boot=500)
    assert boot.choice_outcomes(Pick(("a", "b"), 1), ["x"], "average") == {"better": 1.0, "tie": 0.0, "worse": 0.0}
    # B picks one of x, y, z: against z (as good as a) the pair ties, against x or y A is better
    shares = boot.choice_outcomes(["a"], Pick(("x", "y", "z"), 1), "average")
    assert shares == pytest.approx({"better": 2 / 3, "tie": 1 / 3, "worse": 0.0})
    # statistics may differ between the two sides: A's average against B's best
    assert boot.choice_outcomes(["x", "y"], ["a", "z"], "average", kind_b="best")["worse"] == 1.0


def test_a_mixed_difference_reads_each_side_with_its_statistic():
    boot = SeedBootstrap(runs({**NOISE, "a": [1.0], "b": [3.0], "c": [2.0], "d": [5.0]}))
    d = boot.difference(["a", "b"], ["c", "d"], "average", kind_b="best")
    assert d.value == pytest.approx(2.0 - 2.0)


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="no SD-mini evaluations"):
        SeedBootstrap(pd.DataFrame(columns=["arch", "seed", "fd"]))
    with pytest.raises(ValueError, match="no architecture has more than one seed"):
        SeedBootstrap(runs({"a": [1.0], "b": [2.0]}))
    with pytest.raises(ValueError, match="NaN"):
        SeedBootstrap(runs({**NOISE, "a": [np.nan]}))
    with pytest.raises(ValueError, match="n_boot"):
        SeedBootstrap(runs(NOISE), n_boot=10)
    boot = SeedBootstrap(runs(NOISE))
    with pytest.raises(ValueError, match="no evaluation, e.g. 'zz'"):
        boot.interval(["n1", "zz"], "average")
    with pytest.raises(ValueError, match="empty set"):
        boot.difference([], ["n1"], "best")
    with pytest.raises(ValueError, match="unknown statistic 'median'"):
        boot.interval(["n1"], "median")
    with pytest.raises(ValueError, match="level"):
        boot.difference(["n1"], ["n2"], "average", level=95)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 2\]"):
        Pick(("n1", "n2"), 3)
    with pytest.raises(ValueError, match="distinct"):
        Pick(("n1", "n1"), 1)
    with pytest.raises(ValueError, match="at most"):
        boot.choice_outcomes(Pick(tuple(f"a{i}" for i in range(30)), 15), ["n1"], "average")
