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


def test_seed_means_and_the_jackknife_interval_of_seed_pairs():
    truth = _truth(n=40)
    noisy = lambda m, s: m + np.random.default_rng(s).normal(scale=8 + 4 * s, size=len(m))  # noqa: E731
    scores = _scores(truth, "noisy", noisy, seeds=(0, 1, 2, 3, 4))
    q, st = sq.quality(truth, scores, k=10, label_scale=1), sq.stability(scores, k=10)
    means = score_studies.seed_means(q, "noisy", "spearman")
    per_seed = q.per_seed[(q.per_seed.scorer == "noisy") & (q.per_seed.depth == "all")]
    assert list(means.index) == [0, 1, 2, 3, 4]
    assert means[3] == pytest.approx(per_seed[per_seed.seed == 3].spearman.mean())
    assert means[0] > means[4]  # less noise, better ranks
    iv = score_studies.pair_interval(st, "noisy")
    pairs = st.pairs.groupby(["seed_a", "seed_b"]).overlap.mean()
    assert iv.n == 5 and iv.mean == pytest.approx(pairs.mean())
    loo = np.array([pairs[[i not in p for p in pairs.index]].mean() for i in range(5)])
    half = stats_t_975(4) * np.sqrt(4 / 5 * ((loo - loo.mean()) ** 2).sum())
    assert (iv.low, iv.high) == pytest.approx((pairs.mean() - half, pairs.mean() + half))
    two = sq.stability(_scores(truth, "two", noisy, seeds=(0, 1)), k=10)
    lone = score_studies.pair_interval(two, "two")
    assert lone.n == 2 and lone.low == lone.high == lone.mean  # no jackknife with two seeds
    with pytest.raises(ValueError, match="no seed pairs of scorer 'missing'"):
        score_studies.pair_interval(st, "missing")
    with pytest.raises(ValueError, match="no per-seed spearman of scorer 'missing'"):
        score_studies.seed_means(q, "missing", "spearman")


def stats_t_975(df):
    from scipy.stats import t

    return t.ppf(0.975, df)


def test_method_scorers_fall_back_to_the_root_readout_of_our_network_and_say_so():
    both = score_studies.method_scorers(["eq5 pooled (companion)", "eq5 root (companion)", "eq5 root (authors)"])
    assert both == {"paper": ("eq5 root (authors)", ""), "ours": ("eq5 pooled (companion)", "")}
    alone = score_studies.method_scorers(["eq5 pooled (companion)", "eq5 root (companion)"])
    assert alone["paper"][0] == "eq5 root (companion)" and "authors' network was not trained" in alone["paper"][1]
    with pytest.raises(ValueError, match="no scores of 'eq5 pooled \\(companion\\)' for the ours method"):
        score_studies.method_scorers(["eq5 root (authors)"])
    assert score_studies.TARGETS.spearman_min == 0.7 and score_studies.TARGETS.overlap_min == 12


def test_clipped_keeps_an_interval_inside_its_measures_range():
    from autobuild.experiments.intervals import Interval

    iv = score_studies.clipped(Interval(2.0, -3.0, 7.0, 5), 0, 25)
    assert (iv.mean, iv.low, iv.high, iv.n) == (2.0, 0.0, 7.0, 5)
    assert score_studies.clipped(Interval(24.0, 20.0, 30.0, 5), 0, 25).high == 25


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


def _study(seeds=(0, 1, 2, 3, 4)):
    truth = _truth(n=40)
    truth.noise = sq.noise_table(truth.marginals, 25)
    scores = pd.concat([_scores(truth, "eq5 pooled (companion)", lambda m, s: m + 0.01 * s, seeds=seeds),
                        _scores(truth, "eq5 root (authors)", lambda m, s: np.random.default_rng(s).permutation(m),
                                seeds=seeds)])
    q, st = sq.quality(truth, scores, k=25, label_scale=1), sq.stability(scores, truth, k=25)
    return truth, scores, q, st


def test_report_measures_both_methods_of_the_acc_study():
    """report() picks the acc study and measures ours (pooled, companion) and the paper's (root, authors)."""
    from types import SimpleNamespace

    truth, scores, q, st = _study()
    study = score_studies.Study("authors_acc", truth, pd.DataFrame(), scores, q, st)
    spec = SimpleNamespace(note="a note", labelled=SimpleNamespace(space=MBV3))
    other = score_studies.Study("authors_latency_gpu", truth, pd.DataFrame(), scores, q, st)
    judged = score_studies.report({"authors_latency_gpu": other, "authors_acc": study},
                                  {"authors_acc": spec, "authors_latency_gpu": spec}, "quick")
    assert judged.study == "authors_acc" and list(judged.methods) == ["paper", "ours"]
    ours, paper = judged.methods["ours"], judged.methods["paper"]
    assert ours.spearman.mean == pytest.approx(1.0) and ours.regret.mean == 0 and ours.overlap.mean == 25
    assert paper.spearman.n == 5 and abs(paper.spearman.mean) < 0.3 and paper.overlap.high < ours.overlap.mean
    table = judged.table
    assert list(table.index.get_level_values(0).unique()) == ["paper", "ours"]
    assert table.loc[("ours", "top-25 shared by two seeds"), "book's target"] == ">= 12"
    assert table.loc[("paper", "mean per-stage Spearman"), "scorer"] == "eq5 root (authors)"
    assert judged.text.startswith("authors_acc: a note\nFor scale: the truth's two halves (1 contexts each)")
    assert "Caveat: these numbers rank 40 of the" in judged.text and "Quick profile: a truth of 2 contexts" in judged.text
    assert all(len(line) <= 100 for line in judged.text.splitlines())
    assert "Quick profile" not in score_studies.report({"authors_acc": study}, {"authors_acc": spec}, "full").text
