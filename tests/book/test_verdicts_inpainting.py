"""Section 05's claims (autobuild.book.verdicts.inpainting): Table 1's verdicts follow the intervals
of the near-tied picks, each row names its method and target, and the new claims follow their rules."""
import numpy as np
import pandas as pd
import pytest

from autobuild.book import claims as ledger
from autobuild.book.verdicts import inpainting as verdicts
from autobuild.experiments import inpainting
from autobuild.experiments.intervals import t_mean_interval

AB, ES, EV, FL = (inpainting.AUTOBUILD_NEAR, inpainting.EXHAUSTIVE_NEAR, inpainting.EVALUATED,
                  inpainting.FLOPS_MATCHED)


def _table(rows):
    """Claims rows ``(A, B, stat A, stat B, method, difference, low, high)``."""
    return pd.DataFrame([{"claim": f"{a} {ka} < {b} {kb}", "A": a, "B": b, "stat A": ka, "stat B": kb, "method": m,
                          "FD difference": d, "low": lo, "high": hi, "verdict": "?", "as picked": d + 0.01,
                          "choices better": 0.25, "choices tie": 0.75,
                          "FID difference (paper)": np.nan if m == "control" else -0.5}
                         for a, b, ka, kb, m, d, lo, hi in rows])


def test_table1_verdicts_follow_where_the_interval_lies():
    rows = {(c.claim_id, c.method): c for c in verdicts.table1(_table([
        (AB, ES, "average", "average", "ours", -0.02, -0.03, -0.01),
        (ES, EV, "best", "best", "ours", 0.01, -0.02, 0.03),
        (AB, EV, "best", "best", "ours", 0.03, 0.01, 0.05),
        (AB, EV, "average", "best", "ours", 0.03, 0.01, 0.05),
        (AB, FL, "average", "average", "control", -0.02, -0.03, -0.01)]))}
    assert rows["table1_average_autobuild_vs_es", "ours"].verdict.word == "agrees"
    assert rows["table1_best_es_vs_the68", "ours"].verdict.word == "inconclusive"
    assert rows["table1_best_autobuild_vs_the68", "ours"].verdict.word == "differs"
    mixed = rows["table1_average_autobuild_vs_the68_best", "ours"]
    assert mixed.verdict.word == "differs" and "below the best FD of the 68 evaluated U-Nets" in mixed.claim
    control = rows["table1_average_autobuild_vs_the68", "control"]
    assert control.target.startswith("book:") and control.paper == "no such control in the paper"
    assert "table1_average_autobuild_vs_the68_control_verdict" in ledger.glue_names(control)
    ours = rows["table1_average_autobuild_vs_es", "ours"]
    assert ours.target.startswith("paper:") and ours.verdict.interval == \
        "95% seed-noise bootstrap interval [-0.0300, -0.0100]"
    assert "as picked -0.0100, below 0 in 25% of the choice pairs" in ours.claim


def test_an_unknown_set_name_is_refused():
    with pytest.raises(ValueError, match="unknown set"):
        verdicts.table1(_table([("Random (4)", EV, "average", "average", "ours", -0.02, -0.03, -0.01)]))


@pytest.mark.parametrize("size, word", [(839_808, "agrees"), (760_000, "agrees"), (849_999, "agrees"),
                                        (860_000, "differs"), (2_000_000, "differs")])
def test_the_space_size_is_judged_at_the_papers_rounding(size, word):
    got = verdicts.space_size(size)
    assert got.verdict.word == word and got.method == "no predictor"
    assert got.verdict.ours == f"{round(size, -5):,}" and f"our exact count {size:,}" in got.verdict.interval


def test_the_exhaustive_cost_is_judged_against_the_budget():
    got = verdicts.exhaustive_cost(839_808, 68, 1.5)
    assert got.verdict.word == "agrees" and got.verdict.ours == "839,808" and "68" in got.target
    assert "1.5 CPU-years" in got.verdict.interval
    assert verdicts.exhaustive_cost(50, 68, 0.0).verdict.word == "differs"


def test_early_attention_needs_five_predictors_and_an_interval_below_zero():
    assert verdicts.early_attention(t_mean_interval([-0.02, -0.01, -0.03, -0.02, -0.015])).verdict.word == "agrees"
    assert verdicts.early_attention(t_mean_interval([-0.02, 0.03, -0.01, 0.02, 0.0])).verdict.word == "inconclusive"
    assert verdicts.early_attention(t_mean_interval([-0.02, -0.01, -0.03])).verdict.word == "too few seeds"


def test_every_claim_of_the_section_names_its_method():
    rows = verdicts.claims(_table([(AB, ES, "average", "average", "ours", -0.02, -0.03, -0.01)]), 839_808, 68, 1.5,
                           t_mean_interval([-0.02, -0.01, -0.03, -0.02, -0.015]))
    assert [c.claim_id for c in rows] == ["sec53_space_size", "sec53_exhaustive_cost", "table1_average_autobuild_vs_es",
                                          "fig7b_early_attention", "fig7_fid"]
    assert [c.method for c in rows] == ["no predictor", "no predictor", "ours", "ours", "paper"]
    assert rows[-1].verdict.word == "not testable offline"
