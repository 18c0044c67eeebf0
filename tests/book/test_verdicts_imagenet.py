"""Section 03's claims (autobuild.book.verdicts.imagenet): verdicts follow the results they are given."""
import pandas as pd

from autobuild.book.verdicts import imagenet as verdicts
from autobuild.experiments.imagenet import FrontExtensions, SubgraphReading


def _fronts(beyond: dict) -> FrontExtensions:
    """Two seeds of three clusters per pair; ``beyond[pair]`` = how many of the six reach beyond."""
    per_cluster = {}
    for (s, d), k in beyond.items():
        flags = [True] * k + [False] * (6 - k)
        for seed in (0, 1):
            per_cluster[(seed, s, d)] = pd.DataFrame({"reaches_beyond": flags[3 * seed:3 * seed + 3]})
    return FrontExtensions(pd.DataFrame(), {}, per_cluster, {p: None for p in beyond}, (0, 1))


def test_front_claims_agree_only_where_the_paper_share_is_in_the_interval():
    rows = {c.claim_id: c for c in verdicts.front_claims(_fronts({("mbv3", "gpu"): 6, ("mbv3", "cpu"): 2,
                                                                   ("pn", "cpu"): 3}))}
    assert sorted(rows) == ["fig5_top_mbv3_cpu", "fig5_top_mbv3_gpu", "fig5_top_pn_cpu"]
    assert rows["fig5_top_mbv3_gpu"].verdict.word == "agrees"      # 6 of 6: the paper's "all"
    assert rows["fig5_top_mbv3_cpu"].verdict.word == "differs"     # 2 of 6 cannot be "all"
    assert rows["fig5_top_pn_cpu"].verdict.word == "agrees"        # 3 of 6 holds the paper's 2 of 4
    assert "6 spaces (2 seeds)" in rows["fig5_top_mbv3_gpu"].verdict.interval


def test_nas_claims_read_the_paired_interval_and_name_missing_runs():
    table = pd.DataFrame([
        {"space": "mbv3", "device": "gpu", "best baseline": "Layer-Full", "seeds": 8, "mean difference": 0.01,
         "low": 0.004, "high": 0.02, "verdict": "better"},
        {"space": "mbv3", "device": "cpu", "best baseline": "Layer-Insight", "seeds": 8, "mean difference": -0.1,
         "low": -0.3, "high": 0.1, "verdict": "tie"},
        {"space": "pn", "device": "gpu", "best baseline": "Layer-Full", "seeds": 8, "mean difference": -0.02,
         "low": -0.03, "high": -0.01, "verdict": "worse"}])
    rows = {c.claim_id: c for c in verdicts.nas_claims(table, "full", suffix=" (authors)")}
    assert sorted(rows) == sorted(f"fig5_nas_{p}_authors" for p in ("mbv3_gpu", "mbv3_cpu", "mbv3_npu", "pn_gpu"))
    words = {k: c.verdict.word for k, c in rows.items()}
    assert words == {"fig5_nas_mbv3_gpu_authors": "agrees", "fig5_nas_mbv3_cpu_authors": "inconclusive",
                     "fig5_nas_mbv3_npu_authors": "not testable offline", "fig5_nas_pn_gpu_authors": "differs"}
    assert all(c.profile == "full" for c in rows.values())
    assert "8 seeds, vs Layer-Full" in rows["fig5_nas_mbv3_gpu_authors"].verdict.interval


def test_reading_claim_counts_the_parts_that_hold():
    reading = SubgraphReading(pd.DataFrame(), {"a": True, "b": False, "c": True})
    claim = verdicts.reading_claim(reading)
    assert claim.verdict.word == "differs" and claim.verdict.ours == "2 of 3"
    assert verdicts.reading_claim(SubgraphReading(pd.DataFrame(), {"a": True})).verdict.word == "agrees"
