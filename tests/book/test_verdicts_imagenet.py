"""Section 03's claims (autobuild.book.verdicts.imagenet): verdicts follow the results they are given,
over independent seeds, and name the method they test."""
import numpy as np
import pandas as pd
import pytest

from autobuild.book import claims
from autobuild.book.verdicts import imagenet as verdicts
from autobuild.experiments import nas_runs
from autobuild.experiments.imagenet import METHODS, FrontExtensions, LatencyDrivers, SubgraphReading


def _fronts(beyond: dict, n_seeds: int, per_seed: int = 4) -> FrontExtensions:
    """``beyond[pair]`` = per seed, how many of its ``per_seed`` reduced spaces reach beyond the front."""
    per_cluster = {}
    for (s, d), counts in beyond.items():
        for seed in range(n_seeds):
            k = counts[seed] if isinstance(counts, (list, tuple)) else counts
            per_cluster[(seed, s, d)] = pd.DataFrame({"reaches_beyond": [True] * k + [False] * (per_seed - k)})
    return FrontExtensions(pd.DataFrame(), {}, per_cluster, {p: None for p in beyond}, tuple(range(n_seeds)))


def _words(rows) -> dict:
    return {c.claim_id: c.verdict.word for c in rows}


def test_front_claims_judge_seeds_not_spaces():
    # 8 seeds: the paper's "all" holds when every seed's spaces all reach beyond; PN-CPU's 2 of 4 when
    # every seed has 2 of 4; a spread of shares gives an interval too wide to agree with anything
    rows = _words(verdicts.front_claims(_fronts({("mbv3", "gpu"): 4, ("mbv3", "cpu"): 2, ("pn", "cpu"): 2,
                                                 ("pn", "npu"): [0, 4, 1, 3, 0, 4, 2, 2]}, 8), "ours"))
    assert rows == {"fig5_top_mbv3_gpu": "agrees", "fig5_top_mbv3_cpu": "differs", "fig5_top_pn_cpu": "agrees",
                    "fig5_top_pn_npu": "inconclusive"}
    assert _words(verdicts.front_claims(_fronts({("pn", "cpu"): 4}, 8), "ours")) == {"fig5_top_pn_cpu": "differs"}


@pytest.mark.parametrize("k", range(2, 8))
def test_pn_cpu_two_of_four_never_passes_on_nine_spaces_of_three_seeds(k):
    counts = [min(3, max(0, k - 3 * i)) for i in range(3)]  # k of 9 spaces beyond, 3 per seed
    claim = verdicts.front_claims(_fronts({("pn", "cpu"): counts}, 3, per_seed=3), "paper")[0]
    assert claim.verdict.word == "too few seeds" and claim.method == "paper"
    assert claim.target.startswith("paper:")


def test_front_claims_need_a_narrow_interval_even_with_many_seeds():
    # half the seeds 1 of 4 and half 3 of 4: the mean is the paper's 2 of 4, the interval too wide
    claim = verdicts.front_claims(_fronts({("pn", "cpu"): [1, 3] * 3}, 6), "ours")[0]
    assert claim.verdict.word == "inconclusive" and "6 seeds" in claim.verdict.interval


def test_reading_claim_averages_the_parts_that_hold_over_seeds():
    def reading(k):
        return SubgraphReading(pd.DataFrame(), {f"part {i}": i < k for i in range(7)})

    assert verdicts.reading_claim([reading(7)] * 5, "ours").verdict.word == "agrees"
    assert verdicts.reading_claim([reading(7)] * 4 + [reading(3)], "ours").verdict.word != "agrees"
    assert verdicts.reading_claim([reading(7)] * 3, "ours").verdict.word == "too few seeds"
    assert verdicts.reading_claim([reading(2)] * 6, "ours").verdict.word == "differs"


def test_tail_and_reach_claims_count_seeds_with_a_wilson_interval():
    tails = pd.DataFrame([{"seed": i, "space": s, "device": d, "found": found}
                          for i in range(6) for (s, d), found in ((("mbv3", "cpu"), True), (("mbv3", "npu"), False),
                                                                  (("pn", "npu"), i < 4))])
    assert _words(verdicts.tail_claims(tails, "ours")) == {"fig5_top_tail_mbv3_cpu": "agrees",
                                                          "fig5_top_tail_mbv3_npu": "differs",
                                                          "fig5_top_tail_pn_npu": "inconclusive"}
    best = pd.DataFrame([{"space": "mbv3", "device": d, "method": m, "seed": i, "best_acc": 0.80}
                         for d in ("cpu", "npu") for m in METHODS for i in range(6)])
    fast = best[best.device == "npu"].assign(best_acc=[0.795 if m == "AutoBuild-NAS" else 0.78
                                                       for m in best[best.device == "npu"].method])
    assert _words(verdicts.reach_claims(best, fast, "ours")) == {"fig5_nas_acc79": "agrees", "fig5_nas_npu_5ms": "agrees"}
    # a baseline also above 79% under 5 ms: AutoBuild-NAS is not the only one
    fast.loc[fast.method == "Layer-Insight", "best_acc"] = 0.80
    assert _words(verdicts.reach_claims(best, fast, "ours"))["fig5_nas_npu_5ms"] == "differs"
    # Stage-Full below 79% on MBv3-CPU in every seed: "both break 79%" fails
    best.loc[(best.method == "Stage-Full") & (best.device == "cpu"), "best_acc"] = 0.78
    assert _words(verdicts.reach_claims(best, fast, "ours"))["fig5_nas_acc79"] == "differs"


def test_depth_claim_uses_no_predictor():
    claim = verdicts.depth_claim(LatencyDrivers("latency_gpu", {}, 0.9, 0.85, 0.95, 3000))
    assert claim.method == "no predictor" and claim.verdict.word == "agrees" and claim.target.startswith("book:")
    assert verdicts.depth_claim(LatencyDrivers("latency_npu", {}, 0.14, 0.12, 0.17, 3000)).verdict.word == "differs"


def _stored(n_seeds: int = 8, paper_shift: float = 0.005, control_shift: float = 0.0, control_seeds: int = 8):
    """Stored rows of MBv3-GPU: every method's AutoBuild-NAS run, the baselines and both controls."""
    rng = np.random.default_rng(0)
    out = []
    for seed in range(n_seeds):
        base = 0.25 + 0.01 * rng.standard_normal()
        hv = {"Stage-Full": base - 0.05, "Layer-Full": base - 0.03, "Layer-Insight": base}
        runs = {("authors", "root"): base + paper_shift, ("companion", "pooled"): base + 0.02,
                ("authors", "pooled"): base - 0.01}
        for (model, readout), ab in runs.items():
            for method, value in (("AutoBuild-NAS", ab + 0.001 * rng.standard_normal()), *hv.items()):
                out.append({"space": "mbv3", "device": "gpu", "method": method, "model": model, "readout": readout,
                            "recipe": "full", "seed": seed, "hv": value})
        if seed < control_seeds:
            for control, (model, readout) in nas_runs.CONTROLS.items():
                value = base + 0.02 + control_shift + 0.001 * rng.standard_normal() - (control == "Ridge-Reduced") * 0.01
                out.append({"space": "mbv3", "device": "gpu", "method": control, "model": model, "readout": readout,
                            "recipe": "full", "seed": seed, "hv": value})
    return pd.DataFrame(out)


def test_nas_claims_give_both_methods_the_controls_and_pending_pairs():
    table = nas_runs.comparisons(_stored(control_shift=-0.01))
    rows = verdicts.nas_claims(table, "full")
    words = {(c.claim_id, c.method): c.verdict.word for c in rows}
    assert words[("fig5_nas_mbv3_gpu", "paper")] == "agrees" and words[("fig5_nas_mbv3_gpu", "ours")] == "agrees"
    assert words[("fig5_nas_mbv3_gpu", "control")] == "agrees"  # the control beats the baselines too
    assert words[("fig5_ctrl_mbv3_gpu", "ours")] == "agrees"     # ours beats the stronger control by 0.01
    assert words[("fig5_ctrl_mbv3_gpu", "paper")] == "differs"   # the paper's method is 0.005 below it
    assert words[("fig5_nas_pn_npu", "paper")] == "not testable offline"  # nothing stored for that pair
    assert {c.profile for c in rows} == {"full"} and len(rows) == 6 * 5
    assert "% of Layer-Insight's" in next(c for c in rows if c.claim_id == "fig5_nas_mbv3_gpu").verdict.interval
    names = [k for c in rows for k in claims.glue_names(c)]
    assert len(names) == len(set(names))  # every row glues its own names
    # the variant (authors, pooled) is on the page but in no ledger row
    assert all(c.method in ("paper", "ours", "control") for c in rows)


def test_quick_rows_of_the_page_run_only_its_method_and_few_seeds_give_no_verdict():
    stored = _stored(n_seeds=3)
    table = nas_runs.comparisons(stored[(stored.model == "companion") & (stored.readout == "pooled")])
    rows = verdicts.nas_claims(table, "quick", methods=("ours",), controls=False)
    assert [c.method for c in rows] == ["ours"] * 6
    assert {c.verdict.word for c in rows if c.claim_id == "fig5_nas_mbv3_gpu"} == {"too few seeds"}


def test_comparison_table_speaks_the_ledgers_words_and_labels_the_variant():
    second = _stored(n_seeds=6).assign(recipe="full-15ep")  # any recipe's rows get words, not only the profiles'
    assert set(verdicts.with_words(nas_runs.comparisons(second)).word) <= set(claims.VERDICTS)
    table = verdicts.with_words(nas_runs.comparisons(_stored(control_shift=-0.01, control_seeds=3)))
    shown = verdicts.comparison_table(table)
    assert shown.index.get_level_values("searcher").tolist() == [
        "the paper's method (authors, root)", "ours (companion, pooled)", "variant (authors, pooled): neither method",
        "control: Predictor-NSGA-II", "control: Ridge-Reduced"]
    ours = shown.loc[("MBv3-GPU", "ours (companion, pooled)")]
    assert ours["vs best baseline"].startswith("agrees: +") and ours["best baseline"] == "Layer-Insight"
    assert ours["vs Predictor-NSGA-II"].startswith("too few seeds") and ours["vs Predictor-NSGA-II"].endswith("3 seeds")
    assert set(table.word) <= set(claims.VERDICTS)
    report = verdicts.controls_report(table)
    assert "no verdict yet (fewer than 5 paired seeds)" in report
    decided = verdicts.controls_report(verdicts.with_words(nas_runs.comparisons(_stored(control_shift=-0.01))))
    assert "ours: beat them on 1 of 6 pairs, lose on 0" in decided
    assert "the paper's method: beat them on 0 of 6 pairs, lose on 1" in decided


def test_strongest_claims_name_no_predictor():
    rows = verdicts.strongest_claims(nas_runs.strongest_baseline(_stored()), "full")
    word = {c.claim_id: c.verdict.word for c in rows}
    assert word["fig5_nas_insight_mbv3_gpu"] == "agrees" and {c.method for c in rows} == {"no predictor"}
