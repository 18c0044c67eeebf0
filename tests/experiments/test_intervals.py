"""Bootstrap intervals of paired differences and the verdicts they give (autobuild.experiments.intervals)."""
import numpy as np
import pytest

from autobuild.experiments.intervals import bootstrap_mean_interval, t_mean_interval


def test_interval_holds_the_mean_and_narrows_with_more_seeds():
    rng = np.random.default_rng(3)
    few, many = rng.normal(0.01, 0.02, 8), rng.normal(0.01, 0.02, 200)
    a, b = bootstrap_mean_interval(few), bootstrap_mean_interval(many)
    assert a.low < a.mean < a.high and a.mean == pytest.approx(few.mean())
    assert (b.high - b.low) < (a.high - a.low) / 3  # width shrinks like 1/sqrt(n)
    assert bootstrap_mean_interval(few, seed=5) == bootstrap_mean_interval(few, seed=5)  # deterministic


def test_verdict_follows_where_the_interval_lies():
    noise = np.array([-0.01, 0.01, -0.005, 0.005, 0.0, 0.002, -0.002, 0.001])
    assert bootstrap_mean_interval(noise + 0.1).verdict == "better"
    assert bootstrap_mean_interval(noise - 0.1).verdict == "worse"
    assert bootstrap_mean_interval(noise).verdict == "tie"
    # one seed far out widens the interval across 0: the verdict becomes a tie
    assert bootstrap_mean_interval(np.r_[noise + 0.01, -0.3]).verdict == "tie"


def test_coverage_is_close_to_its_level():
    rng = np.random.default_rng(0)
    covered = [bootstrap_mean_interval(rng.normal(1.0, 1.0, 30), n_boot=1000, seed=i) for i in range(200)]
    share = np.mean([c.low <= 1.0 <= c.high for c in covered])
    assert 0.88 <= share <= 0.99


@pytest.mark.parametrize("values, kwargs, message", [
    ([1.0], {}, "at least 2"), ([1.0, np.nan], {}, "NaN"), ([1.0, 2.0], {"level": 1.5}, "level"),
    ([1.0, 2.0], {"n_boot": 5}, "n_boot"),
])
def test_bad_input_is_refused(values, kwargs, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_mean_interval(values, **kwargs)


def test_t_interval_keeps_its_coverage_at_three_seeds_where_the_bootstrap_does_not():
    rng = np.random.default_rng(1)
    samples = rng.normal(0.0, 1.0, size=(2000, 3))
    t_share = np.mean([t_mean_interval(s).low <= 0.0 <= t_mean_interval(s).high for s in samples])
    boot = [bootstrap_mean_interval(s, n_boot=200, seed=i) for i, s in enumerate(samples[:400])]
    boot_share = np.mean([b.low <= 0.0 <= b.high for b in boot])
    assert 0.93 <= t_share <= 0.97
    assert boot_share < 0.85  # the percentile bootstrap of 3 values is [min, max] or narrower


def test_too_few_seeds_give_no_verdict():
    assert t_mean_interval([1.0, 1.1, 1.2, 1.3]).verdict == "too few seeds"
    assert t_mean_interval([1.0, 1.1, 1.2, 1.3, 1.4]).verdict == "better"
    with pytest.raises(ValueError, match="at least 2"):
        t_mean_interval([1.0])
