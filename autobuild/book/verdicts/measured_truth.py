"""Section 06's claims: the paper's central claims tested on NAS-Bench-Macro's measured truth, for
the paper's method (the authors' network, root readout), ours (companion network, pooled readout)
and the same-information controls (the same N labels, judged by the same rule).

Each claim's verdict is :func:`autobuild.book.claims.seeds_above` of the row's 95% t-interval over
paired seeds: *agrees* when the whole interval lies above the threshold, *too few seeds* below 5.
The thresholds are the book's (the paper states none on this benchmark): the Spearman target of
section 2b for the scores, the noise floor of training for every difference.
"""
from __future__ import annotations

import pandas as pd

from autobuild.book.claims import Claim, Verdict, not_testable, seeds_above
from autobuild.experiments.intervals import Interval
from autobuild.experiments.measured_truth import METHODS, QUESTIONS

#: The book's target for the mean per-stage Spearman of the scores with the truth (section 2b's).
SPEARMAN_TARGET = 0.7

#: The paper's words for each claim (abstract and Sec. 1).
PAPER = {
    "scores": "AutoBuild can learn to assign importance 'scores' to the building blocks",
    "build": "a high-quality architecture can be directly constructed without search",
    "reduced": "or searched for in a much reduced search space",
    "nas": "or searched for in a much reduced search space to generate better architectures",
}

#: question of :data:`autobuild.experiments.measured_truth.QUESTIONS` -> (claim id, paper's words, claim).
CLAIMS = {
    QUESTIONS[0][0]: ("macro_scores", "scores", "Eq. 5 stage scores rank NAS-Bench-Macro's stage configurations like "
                      "their exact marginal accuracy (mean per-stage Spearman)"),
    QUESTIONS[1][0]: ("macro_build", "build", "the architecture built from the top-1 configuration per stage is more "
                      "accurate than the strongest other choice from the same labels (by more than the training noise)"),
    QUESTIONS[2][0]: ("macro_build_tradeoff", "build", "the architecture built for an accuracy-FLOPs trade-off beats "
                      "the strongest other choice from the same labels on that trade-off (by more than the noise)"),
    QUESTIONS[3][0]: ("macro_reduced", "reduced", "the largest top-K space holds a better accuracy-FLOPs front than as "
                      "many random architectures (by more than the noise)"),
    QUESTIONS[4][0]: ("macro_nas", "nas", "search in the top-K space finds a better accuracy-FLOPs front than the "
                      "strongest search of the full space with as many measured architectures (by more than the noise)"),
}


def _threshold(question: str, noise: float, hv_floor: float) -> tuple[float, str, str]:
    """The threshold of ``question``'s rule, its number format and the target's words."""
    if question == QUESTIONS[0][0]:
        return SPEARMAN_TARGET, "{:.2f}", f"book: mean Spearman above {SPEARMAN_TARGET} (section 2b's target)"
    if question.startswith("2."):
        return noise, "{:+.2f}", f"book: above the training noise ({noise:.2f} accuracy points)"
    return hv_floor, "{:+.4f}", f"book: above the noise floor of a relative hypervolume ({hv_floor:.4f})"


def _rule_inputs(row, noise: float, hv_floor: float) -> tuple[Interval, float, str, str]:
    """The interval, threshold, format and words of one row of
    :func:`autobuild.experiments.measured_truth.headline`, as :func:`seeds_above` takes them."""
    threshold, fmt, _ = _threshold(row["question"], noise, hv_floor)
    interval = Interval(float(row["mean"]), float(row["low"]), float(row["high"]), int(row["seeds"]))
    if row["against"] == "—":
        return interval, threshold, fmt, "95% t-interval over seeds"
    return interval, threshold, fmt, f"{row['subject']} minus {row['against']}, 95% t-interval over paired seeds"


def rule(row, noise: float, hv_floor: float) -> Verdict:
    """The verdict of one row of :func:`autobuild.experiments.measured_truth.headline`."""
    interval, threshold, fmt, what = _rule_inputs(row, noise, hv_floor)
    return seeds_above(interval, threshold, fmt=fmt, what=what)


def judged(table: pd.DataFrame, noise: float, hv_floor: float) -> pd.DataFrame:
    """``table`` (a :func:`~autobuild.experiments.measured_truth.headline`) with ``verdict`` in the
    ledger's words, by :func:`rule`, so the page's table and the ledger say the same."""
    return table.assign(verdict=[rule(r, noise, hv_floor).word for _, r in table.iterrows()])


def in_words(table: pd.DataFrame) -> str:
    """One line per question of a :func:`judged` table: each method's verdict, the control named."""
    names = {"paper": "the paper's method", "ours": "ours", "control": "the control"}
    lines = []
    for question, rows in table.groupby("question", sort=False):
        parts = [names[r.method] + (f" ({r.subject})" if r.method == "control" else "") + f" {r.verdict}"
                 for r in rows.itertuples()]
        lines.append(f"{question}: " + ", ".join(parts) + ".")
    return "\n".join(lines)


def claims(table: pd.DataFrame, budget: int, noise: float, hv_floor: float) -> list[Claim]:
    """One claim per question and method (paper, ours, control) of the stored full run's
    ``table`` (:func:`autobuild.experiments.measured_truth.headline` at ``budget``), all
    ``profile="full"``; a method with no stored row is not testable until the full run exists."""
    out = []
    for question, (claim_id, paper, text) in CLAIMS.items():
        _, _, target = _threshold(question, noise, hv_floor)
        rows = table[table.question == question]
        methods = list(METHODS) + (["control"] if (rows.method == "control").any() else [])
        for method in methods:
            row = rows[rows.method == method]
            if len(row):
                interval, threshold, fmt, what = _rule_inputs(row.iloc[0], noise, hv_floor)
                verdict = seeds_above(interval, threshold, fmt=fmt, what=what)
            else:
                verdict = not_testable(f"no stored full run at N={budget} yet (scripts/run_measured_truth.py)")
            out.append(Claim(claim_id, f"NAS-Bench-Macro, N={budget} labels: {text}", paper=PAPER[paper],
                             verdict=verdict, method=method, profile="full", target=target))
    return out
