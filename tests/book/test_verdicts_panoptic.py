"""Section 04's claims (autobuild.book.verdicts.panoptic): per seed, then over the seeds; the stand-in tests none."""
import numpy as np
import pandas as pd

from autobuild.book.verdicts import panoptic as verdicts
from autobuild.experiments.panoptic import PanopticConstruction, PanopticTarget
from autobuild.search.pareto import Reference

EQS = ["pan_seg_PQ/log10(flops_pan_seg)", "sqrt(pan_seg_PQ) - sqrt(flops_pan_seg)"]


def _result(n_seeds: int, lead_pq: float, overshoot: float, beyond: bool, stand_in: bool = False):
    """A labelled front whose costliest point has 100 GFLOPs; each seed builds 4 architectures per equation."""
    target = PanopticTarget(None, stand_in, "pan_seg_PQ", "flops_pan_seg", EQS, "PQ", "GFLOPs", 1.0)
    data_perf, data_cost = np.array([30.0, 35.0, 38.0]), np.array([60.0, 80.0, 100.0])
    rows = []
    for seed in range(n_seeds):
        for eq in EQS:
            for i in range(4):
                lead = eq == EQS[0]
                rows.append({"seed": seed, "equation": eq, "arch": i, "perf": lead_pq if lead else 36.0,
                             "cost": 100.0 + overshoot + 0.1 * (i - 1.5) + 0.02 * seed if lead else 70.0,
                             "beyond": False if lead else (beyond and i == 0)})
    per_seed = pd.DataFrame(rows)
    return PanopticConstruction(target, [], {}, per_seed[per_seed.seed == 0], data_perf, data_cost,
                                Reference(30.0, 100.0, "nadir"), pd.DataFrame(), {}, per_seed)


def _words(result):
    return {c.claim_id: c.verdict.word for c in verdicts.claims(result)}


def test_paper_data_claims_hold_when_every_seed_shows_them():
    assert _words(_result(6, 40.0, 5.0, True)) == {"fig6_pq_high": "agrees", "fig6_flops_overshoot": "agrees",
                                                   "fig6_beyond_front": "agrees"}
    assert _words(_result(6, 37.0, 12.0, False)) == {"fig6_pq_high": "differs", "fig6_flops_overshoot": "differs",
                                                     "fig6_beyond_front": "inconclusive"}


def test_overshoot_is_the_median_minus_the_fronts_costliest_point():
    claim = next(c for c in verdicts.claims(_result(6, 40.0, 3.0, True)) if c.claim_id == "fig6_flops_overshoot")
    assert claim.verdict.ours == "3.05"  # 100 + 3 + 0.02 x the mean seed (2.5) - 100
    assert claim.verdict.word == "agrees" and claim.target.startswith("paper: about 5 GFLOPs")


def test_one_seed_gives_no_verdict_and_the_stand_in_tests_nothing():
    assert set(_words(_result(1, 40.0, 5.0, True)).values()) == {"too few seeds"}
    rows = verdicts.claims(_result(6, 40.0, 5.0, True, stand_in=True))
    assert {c.verdict.word for c in rows} == {"not testable offline"} and len(rows) == 3
    assert all(c.method == "ours" and c.claim.startswith("Sec. 5.2, Fig. 6") for c in rows)
    assert "GFLOPs" in next(c for c in rows if c.claim_id == "fig6_flops_overshoot").verdict.reason
