"""True marginals: exact recovery of a known additive oracle's ranking, pairing, batching, checks."""
import numpy as np
import pytest
from scipy.stats import spearmanr

from autobuild.evaluators.marginals import oracle_matrix, true_marginals, unit_contexts
from autobuild.spaces.ofa import MBV3


def _additive_oracle(seed=0):
    """An oracle with known effects: per (stage, position, expand, kernel) and per (stage, depth)."""
    rng = np.random.default_rng(seed)
    layer = rng.normal(size=(MBV3.n_stages, 4, 7, 8))
    depth = rng.normal(size=(MBV3.n_stages, 5))

    def effect(stage, subgraph):
        return depth[stage, len(subgraph)] + sum(layer[stage, p, l.expand, l.kernel] for p, l in enumerate(subgraph))

    def oracle(archs):
        return np.array([sum(effect(s, st) for s, st in enumerate(a.stages)) + 0.01 * a.resolution for a in archs])
    return oracle, effect


@pytest.mark.parametrize("unit", [0, 3])
def test_recovers_the_known_ranking_exactly(unit):
    oracle, effect = _additive_oracle()
    idx = np.random.default_rng(unit).choice(len(MBV3.unit_subgraphs(unit)), 150, replace=False)
    df = true_marginals(MBV3, oracle, unit, idx, n_contexts=3, seed=1, progress=False)
    known = np.array([effect(unit, MBV3.unit_subgraphs(unit)[i]) for i in idx])
    # paired contexts: every marginal is the known effect plus one shared constant
    np.testing.assert_allclose(df.marginal - known, (df.marginal - known).iloc[0], atol=1e-9)
    assert spearmanr(df.marginal, known).statistic == pytest.approx(1.0)
    assert list(np.argsort(-df.marginal.values, kind="stable")) == list(np.argsort(-known, kind="stable"))
    assert spearmanr(df.half_a, known).statistic == pytest.approx(1.0)
    assert spearmanr(df.half_b, known).statistic == pytest.approx(1.0)
    assert list(df["index"]) == list(idx) and set(df.stage) == {unit}
    assert list(df.n_layers) == [len(MBV3.unit_subgraphs(unit)[i]) for i in idx]


def test_contexts_are_shared_batching_does_not_matter_and_resolution_is_the_default():
    seen = []

    def oracle(archs):
        seen.extend(archs)
        return np.arange(len(archs), dtype=float)

    a = oracle_matrix(MBV3, oracle, 2, [0, 5, 9], n_contexts=4, seed=0, batch_size=5, progress=False)
    assert a.shape == (3, 4)
    assert {x.resolution for x in seen} == {MBV3.default_resolution}
    # the same context (column) around every subgraph: all units but 2 agree across rows
    for c in range(4):
        rows = [seen[i * 4 + c] for i in range(3)]
        for u in (0, 1, 3, 4):
            assert len({MBV3.arch_unit(r, u) for r in rows}) == 1
    oracle2, _ = _additive_oracle()
    m1 = oracle_matrix(MBV3, oracle2, 1, list(range(40)), n_contexts=5, seed=3, batch_size=7, progress=False)
    m2 = oracle_matrix(MBV3, oracle2, 1, list(range(40)), n_contexts=5, seed=3, batch_size=10_000, progress=False)
    np.testing.assert_array_equal(m1, m2)


def test_contexts_differ_by_unit_and_seed_and_bad_inputs_are_refused():
    assert unit_contexts(MBV3, 0, 3, 0) != unit_contexts(MBV3, 1, 3, 0)
    assert unit_contexts(MBV3, 0, 3, 0) != unit_contexts(MBV3, 0, 3, 1)
    assert unit_contexts(MBV3, 0, 3, 0) == unit_contexts(MBV3, 0, 3, 0)
    with pytest.raises(ValueError, match="at least one context"):
        true_marginals(MBV3, lambda a: np.zeros(len(a)), 0, [0], n_contexts=0, progress=False)
    with pytest.raises(ValueError, match="returned 1 values"):
        true_marginals(MBV3, lambda a: np.zeros(1), 0, [0, 1], n_contexts=2, progress=False)
