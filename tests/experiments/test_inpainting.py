"""Section 5's experiments on a small synthetic SD-mini store: the 68 and their seed noise, the
shared selection path, both methods' candidates' evaluations, Table 1 with its near-tied picks and
FLOPs-matched control, the cost of evaluating the space, Fig. 7's rows, sizes."""
import numpy as np
import pandas as pd
import pytest

from autobuild.experiments import inpainting, sd_selection
from autobuild.experiments.sd_mini import SDRecipe, eval_set, to_uint8
from autobuild.experiments.sd_results import ResultStore
from autobuild.spaces.unet import SD14_UNET as S
from autobuild.spaces.unet import count_params

RECIPE = SDRecipe(n_eval_crops=4, n_samples_kept=3)
ARCHS = [S.sdv14()] + [a for a in S.sample(80, 7) if S.to_string(a) != S.to_string(S.sdv14())][:67]
FD = np.random.default_rng(0).uniform(1.0, 3.0, len(ARCHS))


def kept(value: int) -> np.ndarray:
    return np.full((2 * RECIPE.n_samples_kept, 16, 16, 3), value, np.uint8)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = ResultStore(tmp_path_factory.mktemp("sd_mini"), RECIPE)
    for i, (a, fd) in enumerate(zip(ARCHS, FD)):
        store.add("random68", {"arch": S.to_string(a), "seed": 0, "fd": float(fd)}, kept(i))
    for seed, fd in ((1, FD[0] + 0.1), (2, FD[0] - 0.1)):
        store.add("seed_noise", {"arch": S.to_string(ARCHS[0]), "seed": seed, "fd": float(fd)}, kept(0))
    return store


def fake_selection(autobuild, exhaustive, k=None):
    """A selection ranking ``autobuild`` and ``exhaustive`` (best first); each picks its first ``k``."""
    return sd_selection.Selection(k or len(autobuild), autobuild, exhaustive, [0.0] * len(autobuild),
                                  [0.0] * len(exhaustive), pd.DataFrame(), [], [], S, [], np.zeros(0), 0.0)


def test_stored_evaluations_and_seed_noise(store):
    stored = inpainting.load_evaluations(store)
    assert stored.evals.arch.tolist() == [S.to_string(a) for a in ARCHS]
    assert stored.per_arch.arch.tolist() == [S.to_string(ARCHS[0])] and stored.per_arch.n.iloc[0] == 3
    assert stored.noise == pytest.approx(0.1)
    text = stored.describe()
    assert f"SDv1.4-shaped {FD[0]:.3f} (rank {int(pd.Series(FD).rank()[0])} of 68)" in text
    assert "over 1 architectures with 3-3 seeds each" in text and text.startswith("seed-0 FD of the 68")


def test_the_68_are_required(tmp_path):
    with pytest.raises(ValueError, match="no SD-mini evaluations"):
        sd_selection.stored_evaluations(ResultStore(tmp_path, RECIPE))
    store = ResultStore(tmp_path, RECIPE)
    store.add("random68", {"arch": S.to_string(ARCHS[0]), "seed": 0, "fd": 1.0}, kept(0))
    with pytest.raises(ValueError, match="holds 1 of the 68"):
        inpainting.load_evaluations(store)


def test_select_from_store_trains_on_minus_fd_of_the_68(store, monkeypatch):
    seen = {}

    def spy(space, archs, y, seeds, k, config, progress):
        seen.update(archs=[space.to_string(a) for a in archs], y=y, seeds=seeds, k=k, config=config)
        return "selection"

    monkeypatch.setattr(sd_selection, "select", spy)
    assert sd_selection.select_from_store(store, S, seeds=3) == "selection"
    assert seen["archs"] == [S.to_string(a) for a in ARCHS] and (seen["seeds"], seen["k"]) == (3, 4)
    np.testing.assert_array_equal(seen["y"], -FD)
    assert seen["config"] == sd_selection.EnsembleConfig()


def test_selection_tables_rank_the_candidates_and_mark_the_picks():
    sel = fake_selection(ARCHS[:4], ARCHS[4:8], k=2)
    table = sel.autobuild_table()
    assert table.columns.tolist() == ["rank", "architecture", "summed score", "picked"]
    assert table.picked.tolist() == [True, True, False, False] and table["rank"].tolist() == [1, 2, 3, 4]
    assert sel.exhaustive_table().architecture.tolist() == [S.to_string(a) for a in ARCHS[4:8]]
    assert sel.autobuild == ARCHS[:2] and sel.exhaustive == ARCHS[4:6]


def test_sets_come_from_the_store_unless_retrained(store, monkeypatch):
    sel = fake_selection([ARCHS[2], ARCHS[5]], [ARCHS[3], ARCHS[0]], k=1)
    got = inpainting.evaluate_sets(store, sel)
    assert got.frame.set.tolist() == [inpainting.AUTOBUILD] * 2 + [inpainting.EXHAUSTIVE] * 2
    assert got.frame["rank"].tolist() == [1, 2, 1, 2] and got.frame.picked.tolist() == [True, False] * 2
    assert got.frame.source.eq("cache").all()
    assert got.picked(inpainting.EXHAUSTIVE) == [S.to_string(ARCHS[3])]
    assert got.candidates(inpainting.EXHAUSTIVE) == [S.to_string(ARCHS[3]), S.to_string(ARCHS[0])]
    np.testing.assert_allclose(got.fds(inpainting.EXHAUSTIVE), FD[[3]])
    fd, samples = got.best(inpainting.AUTOBUILD)  # among the picks only
    assert fd == pytest.approx(FD[2]) and samples[0, 0, 0, 0] == 2

    calls = []

    def fake_evaluate(space, arch, recipe, seed, device):
        calls.append((space.to_string(arch), seed, device))
        return {"fd": 0.5}, kept(99)

    monkeypatch.setattr(inpainting.sd_mini, "evaluate_unet", fake_evaluate)
    got = inpainting.evaluate_sets(store, sel, retrain=True, device="cpu")
    assert got.frame.source.eq("trained now").all() and got.frame.FD.eq(0.5).all()
    assert [c[0] for c in calls] == got.frame.arch.tolist() and {c[1] for c in calls} == {0}


NAMES = [S.to_string(a) for a in ARCHS]


def table_of(ab_fd, es_fd, ev_fd, noise=0.01, k=None):
    """Table 1 and its claims from seed-0 FDs: the 68 stand-in ``ev_fd`` (the first U-Nets of
    ``ARCHS``), each method's candidates ranked best first (the next ones), each picking its first
    ``k`` (default: all); seed noise from the first two of the 68 re-evaluated at +-``noise``."""
    k = k or len(ab_fd)
    ev, ab = NAMES[:len(ev_fd)], NAMES[len(ev_fd):len(ev_fd) + len(ab_fd)]
    es = NAMES[len(ev_fd) + len(ab_fd):len(ev_fd) + len(ab_fd) + len(es_fd)]
    stored = inpainting.StoredEvaluations(pd.DataFrame({"arch": ev, "fd": ev_fd}), pd.DataFrame({"n": [3]}), noise)
    frame = pd.DataFrame({"set": [inpainting.AUTOBUILD] * len(ab) + [inpainting.EXHAUSTIVE] * len(es),
                          "rank": list(range(1, len(ab) + 1)) + list(range(1, len(es) + 1)),
                          "arch": ab + es, "FD": list(ab_fd) + list(es_fd), "source": "cache"})
    frame["picked"] = frame["rank"] <= k
    evaluated = inpainting.SetEvaluations(frame, [None] * len(frame))
    others = pd.DataFrame({"arch": ev + [a for a in ev[:2] for _ in range(2)], "seed": [0] * len(ev) + [1, 2] * 2,
                           "fd": list(ev_fd) + [f for f in ev_fd[:2] for f in (f + noise, f - noise)]})
    store = type("Store", (), {"frame": lambda self: others})()
    boot = inpainting.seed_bootstrap(store, evaluated, n_boot=2000)
    return (inpainting.table1(S, stored, evaluated, boot), inpainting.table1_claims(S, stored, evaluated, boot),
            stored, evaluated)


def claim(claims, a, b, kind_a, kind_b=None):
    rows = claims[(claims.A == a) & (claims.B == b) & (claims["stat A"] == kind_a) & (claims["stat B"] == (kind_b or kind_a))]
    assert len(rows) == 1
    return rows.iloc[0]


def test_table1_rows_claims_and_verdicts():
    table, claims, *_ = table_of([1.0, 2.0], [2.0, 3.0], [1.5, 3.0, 4.5, 4.0, 5.0])
    assert table.set.tolist() == [inpainting.EVALUATED, inpainting.EXHAUSTIVE, inpainting.EXHAUSTIVE_NEAR,
                                  inpainting.AUTOBUILD, inpainting.AUTOBUILD_NEAR, inpainting.FLOPS_MATCHED]
    row = table.set_index("set").loc[inpainting.AUTOBUILD]
    assert (row["FD avg"], row["FD best"]) == (1.5, 1.0) and row["FID avg (paper)"] == 10.13
    assert (table["avg low"] < table["FD avg"]).all() and (table["best high"] > table["FD best"]).all()
    assert len(claims) == len(inpainting.TABLE1_CLAIMS) and set(claims.method) == {"ours", "control"}
    got = claim(claims, inpainting.AUTOBUILD_NEAR, inpainting.EVALUATED, "best")
    assert got["FD difference"] == pytest.approx(-0.5) and got.verdict == "agrees"
    assert got["FID difference (paper)"] == pytest.approx(9.96 - 10.54)
    assert claim(claims, inpainting.EXHAUSTIVE_NEAR, inpainting.EVALUATED, "best").verdict == "differs"  # 2.0 vs 1.5
    mixed = claim(claims, inpainting.AUTOBUILD_NEAR, inpainting.EVALUATED, "average", "best")
    assert mixed["FD difference"] == pytest.approx(1.5 - 1.5) and mixed.verdict == "inconclusive"
    assert mixed["FID difference (paper)"] == pytest.approx(10.13 - 10.54)
    assert np.isnan(claim(claims, inpainting.AUTOBUILD_NEAR, inpainting.FLOPS_MATCHED, "average")["FID difference (paper)"])
    lines = inpainting.table1_verdict(claims).splitlines()
    assert lines[0].startswith("AutoBuild (any 4 near-tied) average < Exhaustive Search (any 4 near-tied) average: -1.0000 [")
    assert "-> agrees; as picked -1.0000; better in 100% of the choice pairs" in lines[0]


def test_near_tied_picks_judge_the_expected_pick_not_the_lucky_one():
    # ES's two picks are good (1.0) but its two runners-up bad (3.0): as picked ES ties AutoBuild,
    # the expected pick of 2 among its 4 candidates is worse, and so are 5 of ES's 6 choices
    _, claims, *_ = table_of([1.0, 1.0], [1.0, 1.0, 3.0, 3.0], [2.0, 2.5, 3.0], noise=0.01, k=2)
    got = claim(claims, inpainting.AUTOBUILD_NEAR, inpainting.EXHAUSTIVE_NEAR, "average")
    assert got["as picked"] == pytest.approx(0.0) and got["FD difference"] == pytest.approx(-1.0)
    assert got.verdict == "agrees" and got["choices better"] == pytest.approx(5 / 6)
    assert got["choices tie"] == pytest.approx(1 / 6)


def test_a_difference_within_the_seed_noise_is_inconclusive():
    _, claims, *_ = table_of([1.0], [1.001], [2.0, 2.5], noise=0.05)
    got = claim(claims, inpainting.AUTOBUILD_NEAR, inpainting.EXHAUSTIVE_NEAR, "average")
    assert got.low < 0 < got.high and got.verdict == "inconclusive"
    _, claims, *_ = table_of([1.0], [1.001], [2.0, 2.5], noise=0.0001)
    assert claim(claims, inpainting.AUTOBUILD_NEAR, inpainting.EXHAUSTIVE_NEAR, "average").verdict == "agrees"


def test_the_flops_matched_control_is_nearest_in_flops_to_autobuilds_candidates():
    *_, stored, evaluated = table_of([1.0, 2.0], [2.0, 3.0], list(np.linspace(1, 3, 30)))
    matched = inpainting.flops_matched(S, stored, evaluated)
    assert len(matched) == 2 and set(matched) <= set(stored.evals.arch)
    target = np.log(inpainting.gflops(S, evaluated.candidates(inpainting.AUTOBUILD))).mean()
    gap = dict(zip(stored.evals.arch, np.abs(np.log(inpainting.gflops(S, stored.evals.arch)) - target)))
    assert max(gap[a] for a in matched) <= min(g for a, g in gap.items() if a not in matched)
    assert len(inpainting.flops_matched(S, stored, evaluated, k=5)) == 5


def test_views_fit_a_narrow_page():
    table, claims, *_ = table_of([1.0, 2.0], [2.0, 3.0], [1.5, 3.0, 4.5])
    view = inpainting.table1_view(table)
    assert view.columns.tolist() == ["set", "U-Nets", "GFLOPs", "average FD [95%]", "best FD [95%]",
                                     "paper FID avg / best"]
    row = view.set_index("set").loc[inpainting.AUTOBUILD]
    assert row["average FD [95%]"].startswith("1.500 [") and row["paper FID avg / best"] == "10.13 / 9.96"
    assert view.set_index("set").loc[inpainting.FLOPS_MATCHED, "paper FID avg / best"] == "—"
    assert inpainting.claims_view(claims).columns.tolist() == ["claim", "method", "FD difference [95%]", "verdict",
                                                               "choice pairs better"]


def test_write_table1(tmp_path):
    table, claims, *_ = table_of([1.0, 2.0], [2.0, 3.0], [1.5, 3.0])
    inpainting.write_table1(table, claims, tmp_path / "figures")
    assert (tmp_path / "figures" / "table1.csv").read_text() == table.round(4).to_csv(index=False)
    md = (tmp_path / "figures" / "table1.md").read_text()
    assert md == table.round(4).to_markdown(index=False) + "\n\n" + claims.round(4).to_markdown(index=False) + "\n"
    assert "avg low |" in md and "| verdict " in md
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["table1.csv", "table1.md"]


def test_exhaustive_cost_reads_the_stored_timings(tmp_path):
    store = ResultStore(tmp_path, RECIPE)
    for i, secs in enumerate((10.0, 30.0)):
        store.add("random68", {"arch": NAMES[i], "seed": 0, "fd": 1.0, "train_s": secs, "eval_s": 2.0}, kept(0))
    cost = inpainting.exhaustive_cost(S, store, budget=68)
    assert cost.seconds_each == pytest.approx(22.0) and cost.evaluations == S.size
    assert cost.cpu_years == pytest.approx(S.size * 22.0 / (365.25 * 24 * 3600))
    assert f"{S.size:,} U-Nets" in cost.describe()
    bare = ResultStore(tmp_path / "bare", RECIPE)
    bare.add("random68", {"arch": NAMES[0], "seed": 0, "fd": 1.0}, kept(0))
    with pytest.raises(ValueError, match="no train_s / eval_s"):
        inpainting.exhaustive_cost(S, bare)


def test_sample_rows_show_the_best_of_each_set(store):
    got = inpainting.evaluate_sets(store, fake_selection([ARCHS[2], ARCHS[5]], [ARCHS[3], ARCHS[0]]))
    rows = inpainting.sample_rows(RECIPE, got)
    labels = list(rows)
    assert labels[:2] == ["original", "masked"]
    assert labels[2] == f"best ES (FD {min(FD[[3, 0]]):.3f})" and labels[3].startswith("best AutoBuild (FD ")
    _, images, masks = eval_set(RECIPE)
    pick = [0, 1, 2, 4, 5, 6]  # three crops under the centred mask, three under a random box
    np.testing.assert_array_equal(rows["original"], to_uint8(images[pick]))
    np.testing.assert_array_equal(rows["masked"], to_uint8(images[pick] * (1 - masks[pick])))
    assert all(len(v) == 6 for v in rows.values())


def test_full_width_sizes(store):
    stored = inpainting.load_evaluations(store)
    got = inpainting.evaluate_sets(store, fake_selection([ARCHS[2], ARCHS[4]], [ARCHS[3], ARCHS[5]], k=1))
    sizes = inpainting.full_width_sizes(S, stored, got)  # the picks only
    assert sizes.set.tolist() == ["SDv1.4", inpainting.AUTOBUILD, inpainting.EXHAUSTIVE]
    np.testing.assert_allclose(sizes["SD-mini FD (seed 0)"], FD[[0, 2, 3]])
    assert sizes["params (M)"].iloc[0] == pytest.approx(count_params(S, S.sdv14()) / 1e6)


def test_space_summary():
    summary = inpainting.space_summary(S)
    assert summary.stages["choices"].tolist() == [S.n_stage_subgraphs(u) for u in range(S.n_stages)]
    assert summary.describe().startswith(f"space size: {S.size:,} architectures")
