"""Section 2b's claims (autobuild.book.verdicts.score_quality): both methods, the book's targets, seeds as units."""
import pandas as pd

from autobuild.book.verdicts import score_quality as verdicts
from autobuild.experiments.intervals import Interval
from autobuild.experiments.score_studies import TARGETS, MethodMeasures, Report


def _report(n=5):
    good = MethodMeasures("ours", "eq5 pooled (companion)", "", Interval(0.81, 0.78, 0.84, n),
                          Interval(0.11, 0.08, 0.14, n), Interval(13.6, 12.5, 14.7, n))
    bad = MethodMeasures("paper", "eq5 root (authors)", "", Interval(0.44, 0.30, 0.58, n),
                         Interval(0.34, 0.10, 0.58, n), Interval(1.3, 0.2, 2.4, n))
    return Report("ofa_acc", {"paper": bad, "ours": good}, 25, [])


def _fidelity(gaps: dict):
    return pd.DataFrame([{"model": model, "seed": s, "hop": h, "batch": 0, "gap": g + 0.001 * h}
                         for model, per_seed in gaps.items() for s, g in enumerate(per_seed) for h in range(5)])


def test_both_methods_are_judged_on_the_books_targets():
    rows = verdicts.claims(_report())
    got = {(c.claim_id, c.method): c.verdict.word for c in rows}
    assert got == {("sec42_scores_rank", "paper"): "differs", ("sec42_scores_rank", "ours"): "agrees",
                   ("sec51_top1_regret", "paper"): "inconclusive", ("sec51_top1_regret", "ours"): "agrees",
                   ("sec42_seed_stability", "paper"): "differs", ("sec42_seed_stability", "ours"): "agrees"}
    targets = {c.claim_id: c.target for c in rows}
    assert targets["sec42_scores_rank"] == f"book: mean per-stage Spearman >= {TARGETS.spearman_min}"
    assert targets["sec51_top1_regret"] == f"book: mean top-1 regret <= {TARGETS.regret_max} accuracy points"
    assert "`eq5 root (authors)`, 5 seeds" in rows[0].verdict.interval
    assert all("Sec. 4.3" not in c.claim for c in rows)


def test_four_seeds_give_no_verdict():
    assert {c.verdict.word for c in verdicts.claims(_report(n=4))} == {"too few seeds"}


def test_soft_rank_rows_follow_the_mean_gap_per_seed_and_skip_a_missing_network():
    fidelity = _fidelity({"companion": [0.004, 0.005, 0.006, 0.004, 0.005], "authors": [0.02, 0.03, 0.01, 0.04, 0.02]})
    rows = {c.method: c for c in verdicts.claims(_report(), fidelity) if c.claim_id == "sec41_soft_rank_exact"}
    assert rows["ours"].verdict.word == "agrees" and rows["paper"].verdict.word == "differs"
    assert rows["ours"].verdict.ours == f"{0.0048 + 0.002:.4f}"  # mean over seeds of the mean over hops
    assert rows["ours"].target.startswith(f"book: within {verdicts.SOFT_RANK_TOLERANCE}")
    assert "the authors' network's mean gap, 5 seeds" in rows["paper"].verdict.interval
    only = [c.method for c in verdicts.claims(_report(), fidelity[fidelity.model == "companion"])
            if c.claim_id == "sec41_soft_rank_exact"]
    assert only == ["ours"]

