import numpy as np
import pytest

from autobuild.search.pareto import crowding_distance, dominated_by, hypervolume, nadir_reference, nondominated_ranks, pareto_front, pareto_mask


def brute_mask(acc, lat):
    n = len(acc)
    out = np.ones(n, dtype=bool)
    for i in range(n):
        for j in range(n):
            if acc[j] >= acc[i] and lat[j] <= lat[i] and (acc[j] > acc[i] or lat[j] < lat[i]):
                out[i] = False
    return out


def grid_hypervolume(acc, lat, ref, n=400):
    # midpoint rule on an n x n grid over the reference box
    hi_a = max(acc.max(), ref[0]) if len(acc) else ref[0]
    lo_t = min(lat.min(), ref[1]) if len(lat) else ref[1]
    ga = np.linspace(ref[0], hi_a, n + 1)
    gt = np.linspace(lo_t, ref[1], n + 1)
    ca, ct = (ga[:-1] + ga[1:]) / 2, (gt[:-1] + gt[1:]) / 2
    A, T = np.meshgrid(ca, ct, indexing="ij")
    covered = np.zeros_like(A, dtype=bool)
    for a, t in zip(acc, lat):
        covered |= (A <= a) & (T >= t)
    return covered.mean() * (hi_a - ref[0]) * (ref[1] - lo_t)


def test_front_of_hand_example():
    acc = np.array([0.70, 0.75, 0.72, 0.80, 0.80, 0.60, 0.75])
    lat = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 0.5, 2.0])
    # 0.72@3 is dominated by 0.75@2; 0.80@5 by 0.80@4; the two 0.75@2 are duplicates (both kept)
    assert pareto_mask(acc, lat).tolist() == [True, True, False, True, False, True, True]
    assert pareto_front(acc, lat).tolist() == [5, 0, 1, 6, 3]


def test_equal_latency_keeps_only_the_most_accurate():
    assert pareto_mask([0.5, 0.6, 0.6], [1.0, 1.0, 1.0]).tolist() == [False, True, True]


@pytest.mark.parametrize("seed", range(5))
def test_mask_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    acc = rng.integers(0, 8, 60) / 8  # coarse values force ties
    lat = rng.integers(0, 8, 60).astype(float)
    assert pareto_mask(acc, lat).tolist() == brute_mask(acc, lat).tolist()


def test_hypervolume_by_hand():
    acc = np.array([0.5, 0.8, 0.9, 0.6])
    lat = np.array([2.0, 5.0, 9.0, 6.0])  # 0.6@6 is dominated by 0.8@5
    # staircase from ref (0, 10): (5-2)*0.5 + (9-5)*0.8 + (10-9)*0.9
    assert hypervolume(acc, lat, (0.0, 10.0)) == pytest.approx(5.6)
    # a tighter reference point clips each step: (5-2)*0.1 + (8-5)*0.4
    assert hypervolume(acc, lat, (0.4, 8.0)) == pytest.approx(1.5)


def test_points_outside_the_reference_box_add_nothing():
    assert hypervolume([0.9], [11.0], (0.0, 10.0)) == 0.0
    assert hypervolume([0.1], [1.0], (0.2, 10.0)) == 0.0
    assert hypervolume([], [], (0.0, 1.0)) == 0.0


@pytest.mark.parametrize("seed", range(3))
def test_hypervolume_matches_grid_integration(seed):
    rng = np.random.default_rng(seed)
    acc, lat = rng.uniform(0.6, 0.8, 25), rng.uniform(5, 30, 25)
    ref = (0.6, 30.0)
    assert hypervolume(acc, lat, ref) == pytest.approx(grid_hypervolume(acc, lat, ref), rel=0.02)


def test_hypervolume_never_decreases_when_points_are_added():
    rng = np.random.default_rng(1)
    acc, lat = rng.uniform(0, 1, 40), rng.uniform(0, 1, 40)
    hv = [hypervolume(acc[:i], lat[:i], (0, 1)) for i in range(1, 41)]
    assert np.all(np.diff(hv) >= 0)
    assert hv[-1] > hv[0]


def test_ranks_and_crowding():
    acc = np.array([0.9, 0.8, 0.7, 0.85, 0.6])
    lat = np.array([3.0, 2.0, 1.0, 3.5, 2.5])
    assert nondominated_ranks(acc, lat).tolist() == [0, 0, 0, 1, 1]
    d = crowding_distance(acc[:3], lat[:3])
    assert np.isinf(d[0]) and np.isinf(d[2])
    # middle point: (0.9-0.7)/0.2 + (3-1)/2
    assert d[1] == pytest.approx(2.0)


def test_dominated_by_reference_set():
    ref_acc, ref_lat = [0.7, 0.8], [1.0, 2.0]
    m = dominated_by([0.7, 0.75, 0.85, 0.65, 0.8], [1.0, 1.5, 2.5, 0.5, 1.9], ref_acc, ref_lat)
    # a tie counts as dominated; every other point beats the best reference at its latency
    assert m.tolist() == [True, False, False, False, False]


def test_nadir_reference_states_its_rule():
    ref = nadir_reference([0.7, 0.8], [2.0, 4.0], margin=0.5)
    assert (ref.perf, ref.cost) == pytest.approx((0.65, 5.0))
    assert "nadir" in ref.rule
    assert tuple(ref) == (ref.perf, ref.cost)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="same length"):
        pareto_mask([0.1, 0.2], [1.0])
    with pytest.raises(ValueError, match="finite"):
        hypervolume([0.1, np.nan], [1.0, 2.0], (0, 3))
    with pytest.raises(ValueError, match="reference"):
        hypervolume([0.1], [1.0], (0, np.inf))
