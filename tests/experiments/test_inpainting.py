"""Section 5's experiments on a small synthetic SD-mini store: the 68 and their seed noise, the
shared top-4 selection path, both sets' evaluations, Table 1 and its verdict, Fig. 7's rows, sizes."""
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


def fake_selection(autobuild, exhaustive):
    return sd_selection.Selection(autobuild, exhaustive, [0.0] * len(autobuild), [0.0] * len(exhaustive),
                                  pd.DataFrame(), [], [], S, [], np.zeros(0), 0.0)


def test_stored_evaluations_and_seed_noise(store):
    stored = inpainting.load_evaluations(store)
    assert stored.evals.arch.tolist() == [S.to_string(a) for a in ARCHS]
    assert stored.per_arch.arch.tolist() == [S.to_string(ARCHS[0])] and stored.per_arch.n.iloc[0] == 3
    assert stored.noise == pytest.approx(0.1)
    text = stored.describe()
    assert f"SDv1.4-shaped {FD[0]:.3f} (rank {int(pd.Series(FD).rank()[0])} of 68)" in text
    assert "over 1 architectures x 3 seeds" in text


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


def test_selection_tables_name_the_architectures():
    sel = fake_selection(ARCHS[:4], ARCHS[4:8])
    assert sel.autobuild_table().columns.tolist() == ["AutoBuild top-4", "summed score"]
    assert sel.exhaustive_table()["ES top-4"].tolist() == [S.to_string(a) for a in ARCHS[4:8]]


def test_sets_come_from_the_store_unless_retrained(store, monkeypatch):
    sel = fake_selection([ARCHS[2], ARCHS[5]], [ARCHS[3], ARCHS[0]])
    got = inpainting.evaluate_sets(store, sel)
    assert got.frame.set.tolist() == [inpainting.AUTOBUILD] * 2 + [inpainting.EXHAUSTIVE] * 2
    assert got.frame.source.eq("cache").all()
    np.testing.assert_allclose(got.fds(inpainting.EXHAUSTIVE), FD[[3, 0]])
    fd, samples = got.best(inpainting.AUTOBUILD)
    i = [2, 5][int(np.argmin(FD[[2, 5]]))]
    assert fd == pytest.approx(FD[i]) and samples[0, 0, 0, 0] == i

    calls = []

    def fake_evaluate(space, arch, recipe, seed, device):
        calls.append((space.to_string(arch), seed, device))
        return {"fd": 0.5}, kept(99)

    monkeypatch.setattr(inpainting.sd_mini, "evaluate_unet", fake_evaluate)
    got = inpainting.evaluate_sets(store, sel, retrain=True, device="cpu")
    assert got.frame.source.eq("trained now").all() and got.frame.FD.eq(0.5).all()
    assert [c[0] for c in calls] == got.frame.arch.tolist() and {c[1] for c in calls} == {0}


def table_of(ab_fd, es_fd, ev_fd, noise=0.01):
    """Table 1 and its claims from seed-0 FDs of the three sets; seed noise from two extra
    architectures evaluated with seeds 0-2 at +-``noise``."""
    ev = [f"ev{i}" for i in range(len(ev_fd))]
    stored = inpainting.StoredEvaluations(pd.DataFrame({"arch": ev, "fd": ev_fd}), pd.DataFrame({"n": [3]}), noise)
    frame = pd.DataFrame({"set": [inpainting.AUTOBUILD] * len(ab_fd) + [inpainting.EXHAUSTIVE] * len(es_fd),
                          "arch": [f"ab{i}" for i in range(len(ab_fd))] + [f"es{i}" for i in range(len(es_fd))],
                          "FD": list(ab_fd) + list(es_fd), "source": "cache"})
    evaluated = inpainting.SetEvaluations(frame, [None] * len(frame))
    others = pd.DataFrame({"arch": ev + [f"n{i}" for i in range(2) for _ in range(3)], "seed": [0] * len(ev) + [0, 1, 2] * 2,
                           "fd": list(ev_fd) + [1.0, 1.0 + noise, 1.0 - noise] * 2})
    store = type("Store", (), {"frame": lambda self: others})()
    boot = inpainting.seed_bootstrap(store, evaluated, n_boot=2000)
    return inpainting.table1(stored, evaluated, boot), inpainting.table1_claims(stored, evaluated, boot)


def test_table1_rows_claims_and_verdicts():
    table, claims = table_of([1.0, 2.0], [2.0, 3.0], [1.5, 3.0, 4.5])
    assert table.index.tolist() == [inpainting.EVALUATED, inpainting.EXHAUSTIVE, inpainting.AUTOBUILD]
    assert table.loc[inpainting.AUTOBUILD, ["FD avg (ours)", "FD best (ours)"]].tolist() == [1.5, 1.0]
    assert (table["avg low"] < table["FD avg (ours)"]).all() and (table["best high"] > table["FD best (ours)"]).all()
    assert len(claims) == len(inpainting.TABLE1_CLAIMS)
    got = claims.loc["AutoBuild (4) best < Eval Archs (68) best"]
    assert got["FD difference"] == pytest.approx(-0.5) and (got.outcome, got.verdict) == ("better", "agrees")
    assert got["FID difference (paper)"] == pytest.approx(9.96 - 10.54)
    assert claims.loc["Exhaustive Search (4) best < Eval Archs (68) best", "verdict"] == "differs"  # 2.0 vs 1.5
    lines = inpainting.table1_verdict(claims).splitlines()
    assert lines[0].startswith("AutoBuild (4) average < Exhaustive Search (4) average: -1.0000 [")
    assert lines[0].endswith("-> better (agrees with the paper)")


def test_a_difference_within_the_seed_noise_is_inconclusive():
    _, claims = table_of([1.0], [1.001], [2.0], noise=0.05)
    got = claims.loc["AutoBuild (4) average < Exhaustive Search (4) average"]
    assert got["95% low"] < 0 < got["95% high"] and (got.outcome, got.verdict) == ("tie", "inconclusive")
    _, claims = table_of([1.0], [1.001], [2.0], noise=0.0001)
    assert claims.loc["AutoBuild (4) average < Exhaustive Search (4) average", "verdict"] == "agrees"


def test_write_table1(tmp_path):
    table, claims = table_of([1.0, 2.0], [2.0, 3.0], [1.5, 3.0])
    inpainting.write_table1(table, claims, tmp_path / "figures")
    assert (tmp_path / "figures" / "table1.csv").read_text() == table.round(4).to_csv()
    md = (tmp_path / "figures" / "table1.md").read_text()
    assert md == table.round(4).to_markdown() + "\n\n" + claims.round(4).to_markdown() + "\n"
    assert "avg low |" in md and "| verdict " in md
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["table1.csv", "table1.md"]


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
    got = inpainting.evaluate_sets(store, fake_selection([ARCHS[2]], [ARCHS[3]]))
    sizes = inpainting.full_width_sizes(S, stored, got)
    assert sizes.set.tolist() == ["SDv1.4", inpainting.AUTOBUILD, inpainting.EXHAUSTIVE]
    np.testing.assert_allclose(sizes["SD-mini FD"], FD[[0, 2, 3]])
    assert sizes["params (M)"].iloc[0] == pytest.approx(count_params(S, S.sdv14()) / 1e6)


def test_space_summary():
    summary = inpainting.space_summary(S)
    assert summary.stages["choices"].tolist() == [S.n_stage_subgraphs(u) for u in range(S.n_stages)]
    assert summary.describe().startswith(f"space size: {S.size:,} architectures")
