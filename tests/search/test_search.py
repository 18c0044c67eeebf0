import numpy as np
import pytest

from autobuild.search.pareto import nondominated_ranks
from autobuild.search.insight import INSIGHT_RESTRICTIONS, layer_insight
from autobuild.search.candidates import LayerCandidates, StageCandidates, autobuild_nas, layer_full, stage_full
from autobuild.experiments.nas import compare_searches
from autobuild.search.evolution import evolutionary_search, nsga_order
from autobuild.spaces.ofa import MBV3, PN, Layer


def stand_in(archs):
    """Test-only objectives with a real trade-off: bigger layers are more accurate and slower."""
    acc, lat = [], []
    for a in archs:
        layers = [l for s in a.stages for l in s]
        size = np.array([l.expand * l.kernel ** 2 for l in layers], dtype=float)
        acc.append(0.6 + 0.25 * (1 - np.exp(-np.sum(np.sqrt(size)) / 80)) + 0.002 * sum(l.kernel == 5 for l in layers))
        lat.append(len(layers) * 0.8 + size.sum() / 100)
    return np.array(acc), np.array(lat)


def counting(evaluate):
    calls = []

    def f(archs):
        calls.append(list(archs))
        return evaluate(archs)
    return f, calls


def small_stage_space(space=MBV3, n=2, offset=0):
    cands = [space.stage_subgraphs(u)[offset:offset + n] for u in range(space.n_stages)]
    return StageCandidates(space, cands, name="small")


def layer_diff(old, new):
    """(stage, kind) of a single-layer change between two stages' layer tuples."""
    changed = [u for u, (a, b) in enumerate(zip(old.stages, new.stages)) if a != b]
    assert len(changed) == 1, changed
    a, b = old.stages[changed[0]], new.stages[changed[0]]
    if len(b) == len(a) + 1:
        assert any(b[:i] + b[i + 1:] == a for i in range(len(b)))
        return changed[0], "add"
    if len(b) == len(a) - 1:
        assert any(a[:i] + a[i + 1:] == b for i in range(len(a)))
        return changed[0], "remove"
    assert len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1
    return changed[0], "edit"


def test_space_sizes():
    assert stage_full(MBV3).size == 7371 ** 5
    assert layer_full(MBV3).size == 7371 ** 5
    assert stage_full(PN).size == 7371 ** 5 * 9
    # MBv3 GPU insight: 6 blocks, max depths (4, 3, 4, 3, 3): 36+216+1296 or 36+216 per stage
    assert layer_insight(MBV3, "gpu").size == 1548 ** 2 * 252 ** 3
    # PN NPU insight: no k7 (6 blocks), depth 2..4, last stage one layer of 6
    assert layer_insight(PN, "npu").size == 1548 ** 5 * 6


def test_insight_restrictions_hold():
    npu = layer_insight(MBV3, "npu")
    assert all(l.kernel != 7 for ls in npu.layers for l in ls)
    gpu = layer_insight(PN, "gpu")
    assert {(l.expand, l.kernel) for l in gpu.layers[0]} == set(INSIGHT_RESTRICTIONS[("pn", "gpu")]["blocks"])
    assert gpu.depths == ((2, 3), (2, 3), (2, 3), (2, 4), (2, 4), (1, 1))
    with pytest.raises(ValueError, match="no Layer-Insight restriction"):
        layer_insight(MBV3, "tpu")


def test_stage_space_rejects_foreign_candidates():
    cands = [MBV3.stage_subgraphs(u)[:2] for u in range(5)]
    cands[2] = cands[2] + [(Layer("mbconv2", 3, 3), Layer("mbconv2", 3, 3))]
    with pytest.raises(ValueError, match="unit 2"):
        StageCandidates(MBV3, cands)
    with pytest.raises(ValueError, match="5 scoring units"):
        StageCandidates(MBV3, cands[:4])


def test_layer_space_rejects_depths_outside_the_space():
    with pytest.raises(ValueError, match="not subgraphs"):
        LayerCandidates(MBV3, [MBV3.layer_choices] * 5, [(2, 5)] * 5)


def test_stage_mutation_swaps_exactly_one_stage_within_candidates():
    cs = small_stage_space(n=3)
    rng = np.random.default_rng(0)
    arch = cs.sample(rng)
    seen_stages = set()
    for _ in range(300):
        new = cs.mutate(arch, rng)
        changed = [u for u in range(5) if new.stages[u] != arch.stages[u]]
        assert len(changed) == 1
        seen_stages.add(changed[0])
        assert cs.contains(new)
        arch = new
    assert seen_stages == set(range(5))


def test_layer_mutation_adds_removes_or_edits_one_layer():
    cs = layer_insight(MBV3, "gpu")
    rng = np.random.default_rng(1)
    arch = cs.sample(rng)
    kinds = set()
    for _ in range(400):
        new = cs.mutate(arch, rng)
        kinds.add(layer_diff(arch, new)[1])
        assert cs.contains(new)
        arch = new
    assert kinds == {"add", "remove", "edit"}


def test_stage_weights_steer_mutation():
    cs = layer_insight(MBV3, "npu")  # early stages weighted 0.25, late 0.5
    rng = np.random.default_rng(2)
    arch = cs.sample(rng)
    counts = np.zeros(5)
    for _ in range(2000):
        counts[layer_diff(arch, cs.mutate(arch, rng))[0]] += 1
    assert counts[3:].mean() > 1.5 * counts[:3].mean()


def test_mutating_outside_the_space_is_an_error():
    cs = small_stage_space()
    outside = MBV3.build([MBV3.stage_subgraphs(u)[-1] for u in range(5)])
    with pytest.raises(ValueError, match="outside"):
        cs.mutate(outside, np.random.default_rng(0))


def test_autobuild_nas_is_the_union_of_candidates():
    a = [MBV3.stage_subgraphs(u)[:3] for u in range(5)]
    b = [MBV3.stage_subgraphs(u)[2:6] for u in range(5)]
    cs = autobuild_nas(MBV3, [a, b])
    assert [len(c) for c in cs.candidates] == [6] * 5
    assert cs.size == 6 ** 5
    with pytest.raises(ValueError, match="at least one"):
        autobuild_nas(MBV3, [])


def test_budget_rounds_and_uniqueness():
    f, calls = counting(stand_in)
    res = evolutionary_search(stage_full(MBV3), f, budget=250, n_initial=50, per_round=50, seed=0, progress=False)
    assert res.n_evaluated == 250
    assert [len(c) for c in calls] == [50] * 5
    assert len(set(res.archs)) == 250
    assert np.bincount(res.rounds).tolist() == [50] * 5
    assert res.space_size == 7371 ** 5


def test_budget_not_a_multiple_of_the_round_size():
    res = evolutionary_search(layer_full(PN), stand_in, budget=120, n_initial=50, per_round=50, seed=0,
                              progress=False)
    assert np.bincount(res.rounds).tolist() == [50, 50, 20]


def test_reduced_space_search_never_leaves_its_candidates():
    cs = small_stage_space(n=3, offset=100)  # 243 architectures
    res = evolutionary_search(cs, stand_in, budget=200, seed=3, progress=False)
    assert res.n_evaluated == 200
    assert all(cs.contains(a) for a in res.archs)


def test_tiny_space_is_exhausted_not_overrun():
    cs = small_stage_space(n=2)  # 32 architectures, budget 250
    f, calls = counting(stand_in)
    res = evolutionary_search(cs, f, budget=250, seed=0, progress=False)
    assert res.n_evaluated == 32
    assert len(set(res.archs)) == 32


def test_seeds_are_reproducible():
    runs = [evolutionary_search(layer_insight(PN, "npu"), stand_in, budget=100, seed=s, progress=False)
            for s in (7, 7, 8)]
    assert runs[0].archs == runs[1].archs
    assert np.array_equal(runs[0].perf, runs[1].perf)
    assert runs[0].archs != runs[2].archs


@pytest.mark.parametrize("make", [layer_full, stage_full])
def test_selection_moves_each_round_towards_the_front(make):
    # mean NSGA front number (over everything evaluated) of each round's architectures
    res = evolutionary_search(make(MBV3), stand_in, budget=250, seed=0, progress=False)
    ranks = nondominated_ranks(res.perf, res.cost)
    per_round = [ranks[res.rounds == r].mean() for r in range(5)]
    assert per_round[-1] < 0.6 * per_round[0]
    assert np.all(np.diff(per_round) < 0)


def test_hypervolume_by_round_is_monotone():
    res = evolutionary_search(stage_full(MBV3), stand_in, budget=150, seed=1, progress=False)
    hv = res.hypervolume_by_round((0.6, 200.0))
    assert len(hv) == 3 and np.all(np.diff(hv) >= 0)
    frame = res.to_frame(MBV3)
    assert frame["on_front"].sum() == len(res.front())
    assert MBV3.from_string(frame["arch"][0]) == res.archs[0]


def test_nsga_order_puts_the_front_first():
    acc = np.array([0.5, 0.9, 0.7, 0.6])
    lat = np.array([1.0, 3.0, 2.5, 4.0])  # 0.6@4 is dominated
    assert nsga_order(acc, lat)[-1] == 3


def test_bad_evaluator_output_is_reported():
    cs = small_stage_space()
    with pytest.raises(ValueError, match="two arrays"):
        evolutionary_search(cs, lambda a: np.zeros(len(a)), budget=10, progress=False)
    with pytest.raises(ValueError, match="NaN"):
        evolutionary_search(cs, lambda a: (np.full(len(a), np.nan), np.ones(len(a))), budget=10, progress=False)
    with pytest.raises(ValueError, match="positive"):
        evolutionary_search(cs, stand_in, budget=0, progress=False)


def test_compare_searches_summarises_per_method():
    spaces = {"A": small_stage_space(n=3), "B": small_stage_space(n=3, offset=50)}
    results, summary = compare_searches(spaces, stand_in, seeds=[0, 1], ref=(0.6, 200.0), budget=60,
                                        progress=False)
    assert len(results) == 4
    assert summary["method"].tolist() == ["A", "B"]
    assert summary["n_seeds"].tolist() == [2, 2]
    a = [r.hypervolume((0.6, 200.0)) for r in results if r.method == "A"]
    assert summary.loc[0, "hv_mean"] == pytest.approx(np.mean(a))


def test_compare_searches_takes_one_space_per_seed():
    ref = (0.6, 200.0)
    small, shifted = small_stage_space(n=2), small_stage_space(n=3, offset=50)
    results, summary = compare_searches({"per-seed": [small, shifted], "fixed": small}, stand_in, seeds=[0, 1],
                                        ref=ref, budget=40, progress=False)
    by_seed = {r.seed: r for r in results if r.method == "per-seed"}
    assert all(small.contains(a) for a in by_seed[0].archs)
    assert all(shifted.contains(a) for a in by_seed[1].archs)
    assert not any(small.contains(a) for a in by_seed[1].archs)
    row = summary.set_index("method").loc["per-seed"]
    assert row["space_size"] == int(np.median([small.size, shifted.size]))
    assert row["hv_mean"] == pytest.approx(np.mean([r.hypervolume(ref) for r in by_seed.values()]))
    with pytest.raises(ValueError, match="2 candidate spaces for 3 seeds"):
        compare_searches({"per-seed": [small, shifted]}, stand_in, seeds=[0, 1, 2], ref=ref, budget=10,
                         progress=False)
