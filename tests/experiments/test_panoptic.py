"""Section 4's experiments: the panoptic target (or its stand-in), the Fig. 6 construction and its verdict."""
import dataclasses

import numpy as np
import pandas as pd
import pytest

from autobuild.experiments import panoptic
from autobuild.predictor import TrainConfig
from autobuild.experiments.construction import tradeoff_equations


@pytest.fixture(scope="module")
def target():
    return panoptic.load_target("embedded")


@pytest.fixture(scope="module")
def result(target):
    return panoptic.construct_fig6(target, n_train=80, config=TrainConfig(epochs=1, lr=1e-3, progress=False), k=2)


def test_stand_in_target_keeps_the_two_roles(target):
    assert target.stand_in and (target.perf, target.cost, target.perf_scale) == ("acc", "flops", 100.0)
    assert target.equations == tradeoff_equations(target.data.labels, "acc", "flops", (0.25, 1.0))[1:3]
    text = target.describe()
    assert text.startswith(f"STAND-IN TARGET -- no panoptic labels offline. {len(target.data)} MBv3")
    assert text.splitlines()[-1] == "label equations: " + " | ".join(target.equations)


def test_construction_scales_perf_and_compares_with_the_whole_labelled_set(target, result):
    assert len(result.constructions) == 2 and all(c.trained.train_idx.max() < 80 for c in result.constructions)
    assert result.constructed.groupby("equation", sort=False).size().tolist() == [32, 32]
    np.testing.assert_allclose(result.data_perf, 100 * target.data.labels["acc"].to_numpy())
    assert len(result.data_cost) == len(target.data)
    assert tuple(result.ref) == (result.data_perf.min(), result.data_cost.max())
    med = result.constructed.groupby("equation", sort=False)[["perf", "cost"]].median()
    assert result.table.equation.tolist() == target.equations
    np.testing.assert_allclose(result.table.median_perf, med.loc[target.equations, "perf"])
    np.testing.assert_allclose(result.table.median_cost, med.loc[target.equations, "cost"])
    assert result.constructed.perf.between(50, 100).all()  # % top-1, not a fraction
    assert len(result.describe().splitlines()) == 4


def _with_table(result, stand_in, rows):
    target = dataclasses.replace(result.target, stand_in=stand_in)
    table = pd.DataFrame([{"equation": eq, "n_archs": 32, **row} for eq, row in zip(target.equations, rows)])
    return dataclasses.replace(result, target=target, table=table, data_perf=np.array([30.0, 38.0]))


@pytest.mark.parametrize("first_perf, first_cost, word", [(80.0, 300.0, "more accurate and larger"),
                                                         (80.0, 100.0, "NOT more accurate and larger"),
                                                         (70.0, 300.0, "NOT more accurate and larger")])
def test_stand_in_verdict_reads_the_medians(result, first_perf, first_cost, word):
    res = _with_table(result, True, [{"median_perf": first_perf, "median_cost": first_cost, "n_beyond_front": 3},
                                     {"median_perf": 75.0, "median_cost": 200.0, "n_beyond_front": 0}])
    text = res.verdict()
    assert f"equation builds {word} networks" in text
    assert f"(median {first_perf:.2f} % at {first_cost:.0f} M vs 75.00 % at 200 M" in text
    assert "3 and 0 of the 32 architectures" in text


def test_paper_verdict_checks_pq_flops_and_the_front(result):
    res = _with_table(result, False, [{"median_perf": 39.0, "median_cost": 9.0, "n_beyond_front": 0},
                                      {"median_perf": 35.0, "median_cost": 5.0, "n_beyond_front": 2}])
    first, second = res.verdict().splitlines()
    assert "median PQ 39.00 (labelled-set best 38.00) -> high PQ, as the paper reports" in first
    assert "-> larger, as the paper reports." in first
    assert second.startswith("sqrt(PQ) - sqrt(FLOPs): 2 of 32 constructed architectures beyond the front -> agrees with")
    res = _with_table(result, False, [{"median_perf": 37.0, "median_cost": 4.0, "n_beyond_front": 0},
                                      {"median_perf": 35.0, "median_cost": 5.0, "n_beyond_front": 0}])
    first, second = res.verdict().splitlines()
    assert "not above the labelled set, unlike the paper" in first and "not larger, unlike the paper" in first
    assert "does not reproduce" in second


def test_every_seed_is_built_and_flags_what_reaches_beyond_the_front(target, result):
    from autobuild.experiments.construction import front_extension

    two = panoptic.construct_fig6(target, n_train=80, config=TrainConfig(epochs=1, lr=1e-3, progress=False), k=2,
                                  seeds=[0, 1])
    assert two.seeds == [0, 1] and len(two.per_seed) == 2 * 2 * 32
    first = two.per_seed[two.per_seed.seed == 0]
    pd.testing.assert_frame_equal(first.drop(columns=["seed", "beyond"]).reset_index(drop=True),
                                  two.constructed.reset_index(drop=True))
    table, _ = front_extension(two.data_perf, two.data_cost, first, two.ref)  # the same rule, per architecture
    assert first.groupby("equation", sort=False).beyond.sum().tolist() == table.n_beyond_front.tolist()
    front_cost = two.front_tail_cost()
    assert front_cost in two.data_cost and front_cost <= two.data_cost.max()
    with pytest.raises(ValueError, match="distinct seeds"):
        panoptic.construct_fig6(target, n_train=80, config=TrainConfig(epochs=1, progress=False), k=2, seeds=[0, 0])
