"""The stored Fig. 5 (bottom) runs and their paired verdicts (autobuild.experiments.nas_runs)."""
import numpy as np
import pandas as pd
import pytest

from autobuild.experiments import nas_runs
from autobuild.experiments.imagenet import METHODS


def _rows(shift: float, n_seeds: int = 8, model: str = "companion", recipe: str = "full", seed0: int = 0):
    """Stored rows of one pair: AutoBuild-NAS = Layer-Full + shift (+ seed noise), two weaker baselines."""
    rng = np.random.default_rng(seed0)
    out = []
    for seed in range(seed0, seed0 + n_seeds):
        base = 0.25 + 0.01 * rng.standard_normal()
        hv = {"Layer-Full": base, "AutoBuild-NAS": base + shift + 0.002 * rng.standard_normal(),
              "Stage-Full": base - 0.05, "Layer-Insight": base - 0.02}
        for method in METHODS:
            out.append({"space": "mbv3", "device": "gpu", "method": method, "model": model, "recipe": recipe,
                        "seed": seed, "hv": hv[method], "architectures": 10, "epochs": 200, "lr": 1e-4,
                        "k_nas": 25, "budget": 250, "n_initial": 50, "per_round": 50, "n_train": 3000,
                        "readout": "pooled", "date": "2026-12-01", "machine": "cpu: 2 cores", "wall_s": 60.0})
    return pd.DataFrame(out)


def _best_baseline(rows):
    table = nas_runs.comparisons(rows)
    return table[(table.searcher == "AutoBuild-NAS") & (table.against == "best baseline")]


def test_paired_verdict_compares_with_the_best_baseline_seed_by_seed():
    rows = pd.concat([_rows(0.01), _rows(-0.01, model="authors"), _rows(0.0, recipe="full-15ep")])
    diffs = nas_runs.comparison_differences(rows)
    assert set(diffs.opponent) == {"Layer-Full"}
    ours = diffs[(diffs.model == "companion") & (diffs.recipe == "full")]
    assert np.allclose(ours.difference, ours.hv - ours.hv_opponent) and len(ours) == 8
    # the seed noise of the baseline (0.01) cancels in the pairing: a 0.01 lead is a clear win
    verdicts = _best_baseline(rows).set_index(["recipe", "model"])
    assert verdicts.loc[("full", "companion"), "verdict"] == "better"
    assert verdicts.loc[("full", "authors"), "verdict"] == "worse"
    assert verdicts.loc[("full-15ep", "companion"), "verdict"] == "tie"
    assert (verdicts.seeds == 8).all()


def test_recipe_difference_is_paired_by_seed():
    rows = pd.concat([_rows(0.01), _rows(0.03, recipe="full-15ep")])
    table = nas_runs.recipe_differences(rows, "full-15ep", "full")
    assert table.verdict.tolist() == ["better"] and table["mean difference"].iloc[0] == pytest.approx(0.02, abs=0.003)
    with pytest.raises(ValueError, match="no AutoBuild-NAS rows of recipe"):
        nas_runs.recipe_differences(rows, "full", "nope")


def test_store_appends_resumes_and_replaces_rows_of_the_same_keys(tmp_path):
    store = nas_runs.NASRunStore(tmp_path / "runs.csv")
    assert store.read().empty and not store.has_seed("full", "companion", 0)
    store.add(_rows(0.01, n_seeds=2))
    store.add(_rows(0.01, n_seeds=1, model="authors"))
    assert store.has_seed("full", "companion", 1) and store.has_seed("full", "authors", 0)
    assert not store.has_seed("full", "authors", 1)
    again = _rows(0.5, n_seeds=1)  # seed 0 of companion rerun: replaces, does not duplicate
    store.add(again)
    stored = store.read()
    assert len(stored) == 3 * len(METHODS)
    ab = stored[(stored.model == "companion") & (stored.seed == 0) & (stored.method == "AutoBuild-NAS")]
    assert ab.hv.iloc[0] == pytest.approx(again[again.method == "AutoBuild-NAS"].hv.iloc[0])
    assert [p.name for p in tmp_path.iterdir()] == ["runs.csv"]  # nothing half-written left


def test_stored_baselines_are_reused_only_under_the_same_search(tmp_path):
    rows = _rows(0.01, n_seeds=2)
    recipe = nas_runs.NASRecipe("full", 200, 1e-4, 3000, 25, (0.5, 2.0), 250, 50, 50)
    found = nas_runs.stored_baselines(rows, 1, recipe)
    assert sorted(found.method) == sorted(nas_runs.BASELINES) and set(found.seed) == {1}
    assert nas_runs.stored_baselines(rows, 1, nas_runs.NASRecipe("x", 200, 1e-4, 3000, 25, (1.0,), 100, 50, 50)) is None
    assert nas_runs.stored_baselines(rows, 7, recipe) is None


def test_bad_files_and_rows_are_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("space,device\nmbv3,gpu\n")
    with pytest.raises(ValueError, match="lacks the column"):
        nas_runs.NASRunStore(bad).read()
    with pytest.raises(ValueError, match="lack the column"):
        nas_runs.NASRunStore(tmp_path / "x.csv").add(pd.DataFrame({"space": ["mbv3"]}))
    assert nas_runs.comparisons(_rows(0.0).query("method == 'AutoBuild-NAS'")).empty  # no baseline: no comparison


def test_no_rows_give_empty_tables_not_errors():
    empty = nas_runs.NASRunStore("/nonexistent/dir/x.csv").read()
    assert nas_runs.comparison_differences(empty).empty
    assert list(nas_runs.comparisons(empty).columns) == list(nas_runs.JUDGED_COLUMNS)
    assert nas_runs.recipe_differences(empty, "full-15ep", "full").empty


def test_a_group_with_one_seed_gets_no_verdict_yet():
    rows = pd.concat([_rows(0.01), _rows(0.01, n_seeds=1, model="authors")])
    verdicts = _best_baseline(rows)
    assert verdicts.model.tolist() == ["companion"]


def _control_rows(shift: float, n_seeds: int = 8):
    """Both controls of one pair: Predictor-NSGA-II at AutoBuild-NAS's level of ``_rows(0.01)``
    plus ``shift``, Ridge-Reduced well below it."""
    ab = _rows(0.01, n_seeds).query("method == 'AutoBuild-NAS'")
    out = []
    for control, (model, readout) in nas_runs.CONTROLS.items():
        delta = shift if control == "Predictor-NSGA-II" else -0.1
        out.append(ab.assign(method=control, model=model, readout=readout, hv=ab.hv + delta))
    return pd.concat(out, ignore_index=True)


def test_controls_pair_with_every_autobuild_run_by_seed_and_stay_out_of_the_baselines():
    rows = pd.concat([_rows(0.01), _rows(0.01).assign(model="authors", readout="root"), _control_rows(0.05)])
    table = nas_runs.comparisons(rows)
    ab = table[table.searcher == "AutoBuild-NAS"].set_index(["model", "readout", "against"])
    assert set(table.seeds) == {8} and len(ab) == 2 * 4  # best baseline, two controls, the stronger one
    assert ab.loc[("companion", "pooled", "Predictor-NSGA-II"), "verdict"] == "worse"
    assert ab.loc[("companion", "pooled", "Predictor-NSGA-II"), "mean difference"] == pytest.approx(-0.05)
    assert ab.loc[("authors", "root", "Ridge-Reduced"), "verdict"] == "better"
    # the stronger control is the one with the higher mean hypervolume, here Predictor-NSGA-II
    assert ab.loc[("authors", "root", "stronger control"), "opponent"] == "Predictor-NSGA-II"
    assert ab.loc[("authors", "root", "stronger control"), "verdict"] == "worse"
    # the controls never become the "best baseline" of the paper's comparison
    assert set(table[table.against == "best baseline"].opponent) == {"Layer-Full"}


def test_controls_meet_the_baselines_pooled_from_the_recipes_runs():
    rows = pd.concat([_rows(0.01), _control_rows(0.05)])
    table = nas_runs.comparisons(rows).set_index(["searcher", "against"])
    # the controls' own rows hold no baselines: they meet those of the AutoBuild-NAS run, seed by seed
    nsga = table.loc[("Predictor-NSGA-II", "best baseline")]
    assert nsga.opponent == "Layer-Full" and nsga["mean difference"] == pytest.approx(0.06, abs=0.003)
    assert nsga.verdict == "better" and table.loc[("Ridge-Reduced", "best baseline"), "verdict"] == "worse"
    assert ("Ridge-Reduced", "stronger control") not in table.index  # a control does not meet the controls


def test_comparisons_pair_only_common_seeds_and_wait_for_two():
    rows = pd.concat([_rows(0.01), _control_rows(0.05, n_seeds=3)])
    diffs = nas_runs.comparison_differences(rows)
    assert set(diffs[diffs.against == "Ridge-Reduced"].seed) == {0, 1, 2}
    table = nas_runs.comparisons(rows).set_index(["searcher", "against"])
    assert table.loc[("AutoBuild-NAS", "Ridge-Reduced"), "verdict"] == "too few seeds"
    assert table.loc[("AutoBuild-NAS", "best baseline"), "seeds"] == 8
    one = pd.concat([_rows(0.01), _control_rows(0.05, n_seeds=1)])
    assert "Ridge-Reduced" not in set(nas_runs.comparisons(one).against)
    assert nas_runs.comparisons(rows.iloc[:0]).empty


def test_method_of_names_only_the_two_methods():
    assert nas_runs.method_of("authors", "root") == "paper"
    assert nas_runs.method_of("companion", "pooled") == "ours"
    assert nas_runs.method_of("authors", "pooled") is None


def test_runs_of_two_readouts_are_stored_and_judged_apart(tmp_path):
    store = nas_runs.NASRunStore(tmp_path / "runs.csv")
    store.add(_rows(0.01))
    store.add(_rows(-0.01).assign(model="companion", readout="root"))  # same model and seeds, other readout
    assert store.has_seed("full", "companion", 0, readout="root") and store.has_seed("full", "companion", 0)
    assert not store.has_seed("full", "authors", 0, readout="root")
    verdicts = _best_baseline(store.read()).set_index("readout")
    assert verdicts.loc["pooled", "verdict"] == "better" and verdicts.loc["root", "verdict"] == "worse"


def test_strongest_baseline_pools_the_baselines_and_pairs_seeds():
    rows = pd.concat([_rows(0.01), _rows(0.01).assign(model="authors", readout="root")])
    table = nas_runs.strongest_baseline(rows, "Layer-Full")  # Layer-Full leads Layer-Insight by 0.02 every seed
    assert len(table) == 1 and table.seeds.iloc[0] == 8  # one row per pair: the two runs' baselines are one
    assert table.opponent.iloc[0] == "Layer-Insight" and table.verdict.iloc[0] == "better"
    assert table["mean difference"].iloc[0] == pytest.approx(0.02)
    assert nas_runs.strongest_baseline(rows, "Stage-Full").verdict.iloc[0] == "worse"
    with pytest.raises(ValueError, match="unknown baseline"):
        nas_runs.strongest_baseline(rows, "AutoBuild-NAS")
