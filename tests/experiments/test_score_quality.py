"""Score-quality measures on data whose answer is known; the additive baseline; targets and verdict."""
import numpy as np
import pandas as pd
import pytest

from autobuild import stats
from autobuild.experiments import score_quality as sq
from autobuild.experiments import score_studies
from autobuild.spaces.ofa import MBV3


def _truth(n=30, units=2):
    rows = []
    for u in range(units):
        for i in range(n):
            m = float(i)
            rows.append({"stage": u, "index": i, "subgraph": f"s{i}", "n_layers": 2 + i % 3, "marginal": m,
                         "half_a": m + 0.1 * (i % 2), "half_b": m - 0.1 * (i % 2)})
    marg = pd.DataFrame(rows)
    return sq.Truth(marg, sq.noise_table(marg, k=5), "known", 2)


def _scores(truth, name, fn, seeds=(0, 1)):
    m = truth.marginals
    return pd.concat([pd.DataFrame({"scorer": name, "seed": s, "stage": m.stage, "index": m["index"],
                                    "score": fn(m.marginal.values, s)}) for s in seeds], ignore_index=True)


def test_quality_and_stability_of_perfect_reversed_and_seed_flipping_scorers():
    truth = _truth()
    scores = pd.concat([_scores(truth, "perfect", lambda m, s: m),
                        _scores(truth, "reversed", lambda m, s: -m),
                        _scores(truth, "flip", lambda m, s: m if s == 0 else -m)])
    q = sq.quality(truth, scores, k=5, label_scale=100)
    s = q.summary.set_index(["scorer", "depth"])
    assert s.loc[("perfect", "all"), "spearman"] == pytest.approx(1.0)
    assert s.loc[("perfect", "all"), "overlap"] == 5
    assert s.loc[("perfect", "all"), "regret"] == 0.0
    assert s.loc[("reversed", "all"), "spearman"] == pytest.approx(-1.0)
    assert s.loc[("reversed", "all"), "overlap"] == 0
    assert s.loc[("reversed", "all"), "regret"] == pytest.approx(29 * 100)  # label units x label_scale
    assert s.loc[("perfect", "all"), "spearman_seed_sd"] == 0.0
    assert s.loc[("flip", "all"), "spearman_seed_sd"] == pytest.approx(np.std([1, -1], ddof=1))
    assert set(q.per_unit.depth) == {"all", "2", "3", "4"}
    # within one depth the perfect scorer still ranks exactly
    assert np.allclose(q.per_unit[q.per_unit.scorer == "perfect"].spearman, 1.0)
    table = sq.quality_table(q)
    assert table.loc["perfect", ("spearman", "mean")].startswith("1.00 ±")

    st = sq.stability(scores, truth, k=5)
    p = st.summary.set_index("scorer")
    assert p.loc["perfect", "spearman"] == pytest.approx(1.0) and p.loc["perfect", "overlap"] == 5
    assert p.loc["perfect", "same_top1"] == 1.0
    assert p.loc["flip", "spearman"] == pytest.approx(-1.0) and p.loc["flip", "overlap"] == 0
    assert p.loc["flip", "same_top1"] == 0.0
    assert p.loc["perfect", "n_pairs"] == 2  # one pair of seeds x two units
    assert "true marginal (halves)" in p.index


def test_targets_and_verdict():
    truth = _truth(n=40)
    scores = pd.concat([_scores(truth, "good", lambda m, s: m, seeds=(0, 1, 2, 3)),
                        _scores(truth, "bad", lambda m, s: np.random.default_rng(s).permutation(m), seeds=(0, 1, 2, 3))])
    q, st = sq.quality(truth, scores, k=25, label_scale=1), sq.stability(scores, k=25)
    good, bad = score_studies.targets(q, st, "good"), score_studies.targets(q, st, "bad")
    assert good.met and list(good.table.met) == [True, True, True]
    assert not bad.met and not bad.table.met.iloc[0]
    text = score_studies.verdict(good, bad)
    assert "`good` meets all three targets" in text and "`bad` misses" in text
    assert "root readout misses" in text
    half = score_studies.Targets("half", good.table.assign(met=[True, True, False]))
    assert "meets 2 target(s) that the paper's root readout misses" in score_studies.verdict(half, bad)
    assert "root readout" not in score_studies.verdict(bad, good)
    with pytest.raises(ValueError, match="no quality"):
        score_studies.targets(q, st, "missing")


def test_additive_baseline_recovers_an_additive_label():
    archs = MBV3.sample(800, seed=0)
    y = np.array([sum((l.expand == 6) + 0.5 * (l.kernel == 7) for l in a.stages[1]) + 0.3 * len(a.stages[1])
                  for a in archs])
    idx = sq.select_subgraphs(MBV3, 1, all_up_to=2, n_sample=40, seed=0)
    assert len(idx) == 81 + 40 and (np.diff(idx) > 0).all()
    sgs = MBV3.unit_subgraphs(1)
    known = np.array([sum((l.expand == 6) + 0.5 * (l.kernel == 7) for l in sgs[i]) + 0.3 * len(sgs[i]) for i in idx])
    marg = pd.DataFrame({"stage": 1, "index": idx, "subgraph": "", "n_layers": [len(sgs[i]) for i in idx],
                         "marginal": known, "half_a": known, "half_b": known})
    out = sq.additive_scores(MBV3, archs, y, sq.Truth(marg, sq.noise_table(marg), "known", 1), ridge=1e-3)
    assert stats.spearman(out.score, known) > 0.99
    assert len(sq.select_subgraphs(MBV3, 0)) == 7371


def test_report_judges_the_acc_study_for_both_readouts():
    """report() picks the acc study, judges pooled (good) and root (random) on the targets and says so."""
    from types import SimpleNamespace

    truth = _truth(n=40)
    truth.noise = sq.noise_table(truth.marginals, 25)
    scores = pd.concat([_scores(truth, "eq5 pooled (companion)", lambda m, s: m, seeds=(0, 1, 2, 3)),
                        _scores(truth, "eq5 root (companion)", lambda m, s: np.random.default_rng(s).permutation(m),
                                seeds=(0, 1, 2, 3))])
    q, st = sq.quality(truth, scores, k=25, label_scale=1), sq.stability(scores, truth, k=25)
    study = score_studies.Study("authors_acc", truth, pd.DataFrame(), scores, q, st)
    spec = SimpleNamespace(note="a note", labelled=SimpleNamespace(space=MBV3))
    other = score_studies.Study("authors_latency_gpu", truth, pd.DataFrame(), scores, q, st)
    judged = score_studies.report({"authors_latency_gpu": other, "authors_acc": study},
                                  {"authors_acc": spec, "authors_latency_gpu": spec}, "companion", "quick")
    assert judged.study == "authors_acc"
    assert judged.default.met and not judged.paper.met
    assert list(judged.table.index.get_level_values(0).unique()) == ["eq5 pooled (companion)", "eq5 root (companion)"]
    assert judged.text.startswith("authors_acc (a note)\n`eq5 pooled (companion)` meets all three targets.")
    assert "Caveat: these numbers rank 40 of the" in judged.text and judged.text.endswith("all three oracles.")
    assert "Quick profile" not in score_studies.report({"authors_acc": study}, {"authors_acc": spec}, "companion",
                                                       "full").text
