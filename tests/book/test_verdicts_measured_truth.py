"""Section 06's claims: one row per question and method, the ledger's rule on t-intervals over
seeds, the book's thresholds, and the page's table in the ledger's words."""
import pandas as pd

from autobuild.book import claims
from autobuild.book.verdicts import measured_truth as verdicts
from autobuild.experiments.measured_truth import QUESTIONS

NOISE, HV_FLOOR = 0.14, 0.003


def _row(question, method, mean, low, high, seeds=20, subject="AutoBuild", against="best labelled"):
    return {"question": question, "method": method, "subject": subject, "measure": "m", "against": against,
            "seeds": seeds, "mean": mean, "low": low, "high": high, "verdict": "better"}


def _table():
    q = [name for name, _ in QUESTIONS]
    return pd.DataFrame([
        _row(q[0], "paper", 0.52, 0.43, 0.62, against="—"), _row(q[0], "ours", 0.95, 0.93, 0.98, against="—"),
        _row(q[1], "paper", 0.30, 0.20, 0.40), _row(q[1], "ours", 0.10, -0.2, 0.4),
        _row(q[1], "control", 0.30, 0.20, 0.40, subject="ridge top-1"),
        _row(q[2], "paper", -0.9, -1.1, -0.7), _row(q[2], "ours", 0.5, 0.3, 0.7, seeds=3),
        _row(q[3], "paper", 0.01, 0.005, 0.02), _row(q[3], "ours", 0.01, 0.005, 0.02),
        _row(q[4], "paper", -0.02, -0.03, -0.01), _row(q[4], "ours", 0.01, 0.004, 0.02),
        _row(q[4], "control", 0.0, -0.001, 0.001, subject="predictor NSGA-II (ours)", against="NSGA-II")])


def test_each_question_gives_one_claim_per_method_with_the_books_threshold():
    rows = verdicts.claims(_table(), 1000, NOISE, HV_FLOOR)
    got = {(c.claim_id, c.method): c.verdict.word for c in rows}
    assert got == {
        ("macro_scores", "paper"): "differs", ("macro_scores", "ours"): "agrees",  # target 0.7, not 0
        ("macro_build", "paper"): "agrees", ("macro_build", "ours"): "inconclusive",
        ("macro_build", "control"): "agrees",
        ("macro_build_tradeoff", "paper"): "differs", ("macro_build_tradeoff", "ours"): "too few seeds",
        ("macro_reduced", "paper"): "agrees", ("macro_reduced", "ours"): "agrees",
        ("macro_nas", "paper"): "differs", ("macro_nas", "ours"): "agrees", ("macro_nas", "control"): "differs"}
    assert {c.profile for c in rows} == {"full"} and all(c.target.startswith("book: ") for c in rows)
    control = next(c for c in rows if c.claim_id == "macro_nas" and c.method == "control")
    assert control.verdict.interval.startswith("predictor NSGA-II (ours) minus NSGA-II, 95% t-interval")
    # a difference inside the noise floor does not agree: 0.30 [0.20, 0.40] clears 0.14, 0.10 [-0.2, 0.4] does not
    assert "0.14 accuracy points" in next(c.target for c in rows if c.claim_id == "macro_build")


def test_a_method_without_a_stored_row_is_not_testable_yet():
    table = _table()
    rows = verdicts.claims(table[table.method != "paper"], 1000, NOISE, HV_FLOOR)
    paper = [c for c in rows if c.method == "paper"]
    assert len(paper) == len(verdicts.CLAIMS) and {c.verdict.word for c in paper} == {"not testable offline"}


def test_the_page_table_uses_the_ledgers_words_and_rule():
    table = _table()
    words = verdicts.judged(table, NOISE, HV_FLOOR)
    rows = verdicts.claims(table, 1000, NOISE, HV_FLOOR)
    by_key = {(c.claim_id, c.method): c.verdict.word for c in rows}
    for r in words.itertuples():
        assert r.verdict == by_key[(verdicts.CLAIMS[r.question][0], r.method)]
    assert set(words.verdict) <= set(claims.VERDICTS)
    text = verdicts.in_words(words).splitlines()
    assert text[1] == (f"{QUESTIONS[1][0]}: the paper's method agrees, ours inconclusive, "
                       "the control (ridge top-1) agrees.")


def test_claims_record_in_the_ledger_with_their_glue_names(tmp_path):
    rows = verdicts.claims(_table(), 1000, NOISE, HV_FLOOR)
    claims.record_claims("06_measured_truth", rows, "quick", tmp_path / "claims.csv")
    stored = claims.read_claims(tmp_path / "claims.csv")
    assert len(stored) == 12 and set(stored.method) == {"paper", "ours", "control"}
    names = {k for c in rows for k in claims.glue_names(c) if k.endswith("_verdict")}
    assert {"macro_nas_paper_full_verdict", "macro_nas_full_verdict", "macro_nas_control_full_verdict"} <= names
