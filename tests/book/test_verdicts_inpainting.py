"""Section 05's claims (autobuild.book.verdicts.inpainting): Table 1's verdicts follow the intervals."""
import pandas as pd
import pytest

from autobuild.book.verdicts import inpainting as verdicts


def _table(rows):
    return pd.DataFrame([{"claim": c, "FD difference": d, "95% low": lo, "95% high": hi,
                          "FID difference (paper)": -0.5} for c, d, lo, hi in rows]).set_index("claim")


def test_table1_verdicts_follow_where_the_interval_lies():
    rows = {c.claim_id: c for c in verdicts.claims(_table([
        ("AutoBuild (4) average < Exhaustive Search (4) average", -0.02, -0.03, -0.01),
        ("Exhaustive Search (4) best < Eval Archs (68) best", 0.01, -0.02, 0.03),
        ("AutoBuild (4) best < Eval Archs (68) best", 0.03, 0.01, 0.05)]))}
    assert rows["table1_average_autobuild_vs_es"].verdict.word == "agrees"
    assert rows["table1_best_es_vs_the68"].verdict.word == "inconclusive"
    assert rows["table1_best_autobuild_vs_the68"].verdict.word == "differs"
    assert rows["fig7_fid"].verdict.word == "not testable offline"
    assert "95% seed-noise bootstrap interval [-0.0300, -0.0100]" == rows["table1_average_autobuild_vs_es"].verdict.interval


def test_an_unknown_set_name_is_refused():
    with pytest.raises(ValueError, match="unknown set"):
        verdicts.claims(_table([("Random (4) average < Eval Archs (68) average", -0.02, -0.03, -0.01)]))
