"""Section 05's claims (paper Sec. 5.3): the space's size, the cost of evaluating all of it,
Table 1 (AutoBuild < ES < the 68, for the average and the best FD, and AutoBuild's average below
the 68's best) judged on each method's pick among its near-tied candidates, the FLOPs-matched
control, early-stage attention (Fig. 7b), and Fig. 7's FID, which needs Stable Diffusion and
Places365.

Table 1's rows test our predictor (``method="ours"``: the companion network, the pooled
readout, in both ensembles); the control rows compare AutoBuild with the U-Nets of the 68 that
have its FLOPs (``method="control"``).
"""
from __future__ import annotations

import pandas as pd

from autobuild.book.claims import Claim, above, below, exact, not_testable, seeds_below
from autobuild.experiments.sd_selection import NEAR_TIES

#: The short id of each set of :mod:`autobuild.experiments.inpainting` in claim ids; the
#: FLOPs-matched control stands in for the 68 (its rows are the 68's claims, method "control").
SET_IDS = {"AutoBuild (any 4 near-tied)": "autobuild", "Exhaustive Search (any 4 near-tied)": "es",
           "Eval Archs (68)": "the68", "FLOPs-matched (4 of the 68)": "the68"}

#: Words for each set's statistic (``{stat}``: average or best) in a claim's text.
SET_WORDS = {"AutoBuild (any 4 near-tied)": "AutoBuild's top-4 {stat} FD",
             "Exhaustive Search (any 4 near-tied)": "ES's top-4 {stat} FD",
             "Eval Archs (68)": "the {stat} FD of the 68 evaluated U-Nets",
             "FLOPs-matched (4 of the 68)": "the {stat} FD of the 4 of the 68 nearest in FLOPs to AutoBuild's"}


def _claim_id(a: str, b: str, kind_a: str, kind_b: str) -> str:
    """``table1_<stat>_<A>_vs_<B>`` (``_<stat of B>`` appended when it differs)."""
    unknown = [n for n in (a, b) if n not in SET_IDS]
    if unknown:
        raise ValueError(f"Table 1 claim names unknown set(s) {unknown}; known: {list(SET_IDS)}")
    return f"table1_{kind_a}_{SET_IDS[a]}_vs_{SET_IDS[b]}" + ("" if kind_b == kind_a else f"_{kind_b}")


def table1(claims: pd.DataFrame) -> list[Claim]:
    """One claim per row of :func:`autobuild.experiments.inpainting.table1_claims`: the expected FD
    difference ``stat(A) - stat(B)`` over the methods' near-tied picks below 0 by its seed-noise
    interval (the paper's FID gives A lower). The claim's text gives the difference as picked and
    the share of choice pairs whose own interval lies below 0."""
    level = claims.attrs.get("level", 0.95)
    out = []
    for _, r in claims.iterrows():
        control, claim_id = r["method"] == "control", _claim_id(r["A"], r["B"], r["stat A"], r["stat B"])
        words = f"{SET_WORDS[r['A']].format(stat=r['stat A'])} is below {SET_WORDS[r['B']].format(stat=r['stat B'])}"
        text = (f"Table 1 (Sec. 5.3){' control' if control else ''}: {words} (SD-mini FD, lower is better; "
                f"each method's top-4 drawn from its near-tied top {NEAR_TIES * 4}; as picked "
                f"{r['as picked']:+.4f}, below 0 in {r['choices better']:.0%} of the choice pairs)")
        paper = ("no such control in the paper" if control
                 else f"FID difference {r['FID difference (paper)']:+.2f} (Table 1)")
        target = ("book: FD difference below 0 (AutoBuild better than U-Nets of its FLOPs)" if control
                  else "paper: FD difference below 0 (the paper's FID ordering)")
        out.append(Claim(claim_id, text, paper=paper,
                         verdict=below(float(r["FD difference"]), float(r["low"]), float(r["high"]), threshold=0.0,
                                       fmt="{:+.4f}", what=f"{level:.0%} seed-noise bootstrap interval"),
                         method=r["method"], target=target))
    return out


def space_size(size: int) -> Claim:
    """The paper's "about 800k" U-Nets: our exact count rounded as the paper rounds (to 100k)."""
    return Claim("sec53_space_size", "Sec. 5.3: the SDv1.4 U-Net macro space holds about 800k architectures "
                 "(ours is a reconstruction: the paper does not publish its choice sets)", paper="~800k",
                 verdict=exact(800_000, round(size, -5), fmt="{:,}",
                               what=f"our exact count {size:,}, rounded to 100k as the paper's ~800k is"),
                 method="no predictor", target="paper: about 800k (to the nearest 100k)")


def exhaustive_cost(size: int, budget: int, cpu_years: float) -> Claim:
    """Evaluating every U-Net (a true exhaustive search) costs ``size`` evaluations, against the
    paper's budget of ``budget``."""
    return Claim("sec53_exhaustive_cost", "Sec. 5.3: evaluating every U-Net of the space is too costly, so "
                 f"the paper labels only {budget}", paper=f"{budget} evaluations affordable",
                 verdict=above(float(size), None, None, threshold=float(budget), fmt="{:,.0f}",
                               what=f"exact count (SD-mini: {cpu_years:,.1f} CPU-years at its stored mean "
                                    "cost per evaluation)"),
                 method="no predictor", target=f"paper: more evaluations than the {budget} it affords")


def early_attention(interval, early: int = 0) -> Claim:
    """Fig. 7b: attention in stage ``early`` scores below attention in the later stages; the
    interval is over the AutoBuild ensemble's predictors (:func:`seeds_below`)."""
    return Claim("fig7b_early_attention", f"Sec. 5.3 (our Fig. 7b): attention in the highest-resolution stage "
                 f"(stage {early}) adds less than in the later stages (AutoBuild score with minus without "
                 "attention, stage 0 minus the later stages' mean)", paper="early-stage attention adds little",
                 verdict=seeds_below(interval, threshold=0.0, fmt="{:+.4f}",
                                     what="95% t-interval over the ensemble's predictors"),
                 method="ours", target="book: stage-0 attention effect below the later stages' mean")


def fid() -> Claim:
    return Claim("fig7_fid", "Table 1 / Fig. 7: FID of the inpainting U-Nets on Places365",
                 paper="AutoBuild top-4 average FID 10.13",
                 verdict=not_testable("needs SDv1.4-inpainting trained per architecture and Places365; "
                                      "SD-mini's FD is a stand-in"),
                 method="paper", target="paper: AutoBuild top-4 average FID 10.13")


def claims(table1_claims: pd.DataFrame, size: int, budget: int, cpu_years: float, attention_interval) -> list[Claim]:
    """Every claim of section 05, in the page's order."""
    return ([space_size(size), exhaustive_cost(size, budget, cpu_years)] + table1(table1_claims)
            + [early_attention(attention_interval), fid()])
