"""Notebook 06's experiment on NAS-Bench-Macro: the labelled sets, the additive control, the
noise-floor verdicts, the score measures, and a tiny resumable run writing exactly the issue's columns."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from autobuild.data.load import load_dataset
from autobuild.experiments import measured_truth as mt
from autobuild.experiments.intervals import Interval

RECIPE = mt.Recipe(name="tiny", epochs=((30, 3),), lr=1e-3, batch_size=32, tradeoffs=("acc - 0.05 * flops / 1e6",),
                   ks=(1, 2), k_nas=2, search_budget=10, n_initial=5, per_round=5, surrogate_budget=20, ridge=1.0)


@pytest.fixture(scope="module")
def truth():
    return mt.MacroTruth(load_dataset("macro"))


def test_the_truth_knows_the_space_its_front_and_its_noise_floor(truth):
    assert len(truth.strings) == 6561 and truth.noise == pytest.approx(0.1406, abs=1e-3)
    assert truth.relative_hv(np.arange(6561)) == pytest.approx(1.0)
    assert 0 < truth.relative_hv([truth.row["22222222"]]) < 1 and 0 < truth.hv_floor < 0.01
    st = truth.stage_truth()
    assert len(st) == 63 and list(st.columns) == ["stage", "config", "marginal_acc"]
    # the marginal of a stage configuration is the mean accuracy over the 729 (or 243) networks holding it
    holds = np.array([s[2:5] == "212" for s in truth.strings])
    assert st.query("stage == 1 and config == '212'").marginal_acc.item() == pytest.approx(truth.acc[holds].mean())


def test_labelled_sets_are_nested_over_budgets_and_refuse_impossible_budgets():
    small, large = mt.labelled(6561, 50, 3), mt.labelled(6561, 200, 3)
    assert len(set(small)) == 50 and np.array_equal(large[:50], small)
    assert not np.array_equal(mt.labelled(6561, 50, 4), small)
    with pytest.raises(ValueError, match="label budget"):
        mt.labelled(6561, 1, 0)


def test_the_ridge_control_recovers_an_additive_truth(truth):
    effect = np.array([0.0, 1.0, 3.0])
    y = effect[truth.codes].sum(1) + truth.codes[:, 0]          # additive in (layer, op)
    idx = mt.labelled(6561, 300, 0)
    pred = mt.ridge_predictions(truth.codes, idx, y, 3, ridge=1e-6)
    assert np.allclose(pred, y, atol=1e-4)


@pytest.mark.parametrize("mean, low, high, floor, word", [
    (0.5, 0.2, 0.8, 0.14, "better"), (0.1, 0.05, 0.15, 0.14, "tie"), (-0.5, -0.8, -0.2, 0.14, "worse"),
    (0.5, -0.1, 1.1, 0.14, "tie"), (-0.1, -0.15, -0.05, 0.14, "tie")])
def test_differences_below_the_noise_floor_are_ties(mean, low, high, floor, word):
    assert mt.judge(Interval(mean, low, high, 20), floor) == word


def test_score_measures_are_perfect_for_the_truth_itself_and_paired_differences_pair_seeds(truth):
    st = truth.stage_truth()
    scores = pd.concat([st.assign(budget=50, seed=s, model="companion", readout="pooled",
                                  score=st.marginal_acc + 0.0 * s) for s in range(3)])
    q = mt.score_quality(scores.drop(columns="marginal_acc"), st)
    assert np.allclose(q.spearman, 1) and np.allclose(q.regret, 0) and np.allclose(q.overlap, 3)
    assert np.allclose(q.stability, 1) and set(q.method) == {"ours"}
    frame = pd.DataFrame({"budget": 50, "seed": [*range(5)] * 2, "method": ["a"] * 5 + ["b"] * 5,
                          "value": [2.0, 3.0, 4.0, 5.0, 6.0, 1.0, 2.0, 3.0, 4.0, 5.0]})
    out = mt.paired(frame, "value", {"method": "a"}, {"b": {"method": "b"}}, floor=0.5)
    assert out[["mean", "low", "high"]].iloc[0].tolist() == [1.0, 1.0, 1.0] and out.verdict.iloc[0] == "better"
    few = mt.paired(frame[frame.seed < 4], "value", {"method": "a"}, {"b": {"method": "b"}}, floor=0.5)
    assert few.seeds.iloc[0] == 4 and few.verdict.iloc[0] == "too few seeds"


def test_intervals_over_seeds_are_student_t():
    values = np.array([0.1, 0.4, 0.2, 0.5, 0.3])
    row = mt._interval_row(values, 0.0, budget=50)
    half = stats.t.ppf(0.975, 4) * values.std(ddof=1) / np.sqrt(5)
    assert row["low"] == pytest.approx(0.3 - half) and row["high"] == pytest.approx(0.3 + half)
    assert row["seeds"] == 5 and row["verdict"] == "better"


def test_controls_are_judged_against_the_simpler_choices_of_the_same_labels():
    nas = pd.DataFrame([{"budget": 50, "seed": s, "method": m, "model": model, "hypervolume": v + 0.001 * s}
                        for s in range(5) for m, model, v in (("predictor NSGA-II", "companion", 0.50),
                                                              ("predictor NSGA-II", "authors", 0.90),
                                                              ("NSGA-II", "none", 0.55), ("random search", "none", 0.40))])
    subject, others = mt.CONTROL_SUBJECTS["nas"]
    out = mt.paired(nas, "hypervolume", subject, {o: {"method": o} for o in others}, 0.001)
    # our head predictor's NSGA-II (0.50), never the authors' (0.90), against NSGA-II (0.55) and random search
    assert dict(zip(out.control, out["mean"].round(6))) == {"NSGA-II": -0.05, "random search": 0.10}
    assert mt.strongest_control(out).control == "NSGA-II"
    assert mt.control_label(subject) == "predictor NSGA-II (ours)" and mt.control_label({"method": "x"}) == "x"


def test_a_tiny_run_writes_exactly_the_issues_columns_and_resumes(truth, tmp_path):
    store = mt.stores(tmp_path)
    mt.run_budget(truth, RECIPE, 30, [0, 1], store)
    files = {name: pd.read_csv(tmp_path / mt.FILES[name], dtype=str) for name in mt.FILES}
    assert list(files["stage_truth"].columns) == ["stage", "config", "marginal_acc"]
    assert list(files["scores"].columns) == ["budget", "seed", "model", "readout", "stage", "config", "score"]
    assert list(files["build"].columns) == ["budget", "seed", "target", "method", "model", "arch", "true_acc",
                                            "percentile"]
    assert list(files["nas"].columns) == ["budget", "seed", "method", "model", "evaluations", "hypervolume"]
    scores = mt.read(store["scores"])
    assert len(scores) == 2 * 2 * 63 and set(zip(scores.model, scores.readout)) == set(mt.METHODS.values())
    assert "00" in set(scores.config)                                          # digit strings keep their zeros
    build = mt.read(store["build"])
    assert build.arch.str.fullmatch(r"[012]{8}").all() and build.percentile.between(0, 100).all()
    assert set(build.method) == set(mt.BUILD_METHODS)
    nas = mt.read(store["nas"])
    equal = nas[nas.method.isin(["random search", "NSGA-II", "predictor NSGA-II"])]
    assert (equal.evaluations == 30 + RECIPE.search_budget).all()
    assert (nas[nas.method == "AutoBuild-NAS"].evaluations <= 30 + RECIPE.search_budget).all()
    assert nas.hypervolume.between(0, 1).all()
    runs = mt.read(store["runs"])
    assert len(runs) == 2 * 3 and runs.recipe.str.contains('"name": "tiny"').all()
    before = (tmp_path / mt.FILES["runs"]).read_text()
    mt.run_budget(truth, RECIPE, 30, [0, 1], store)                            # everything stored: nothing reruns
    assert (tmp_path / mt.FILES["runs"]).read_text() == before
    rep = mt.report({name: mt.read(s) for name, s in store.items()}, truth, RECIPE)
    assert set(rep.q4.control) == {"random search", "NSGA-II", "predictor NSGA-II"} and set(rep.q4.method) == {"paper", "ours"}
    assert set(rep.q2.control) == {"best labelled", "head top-1", "ridge top-1", "random"}
    assert set(rep.q3.k) == {1, 2} and (rep.q3_diff.seeds == 2).all()
