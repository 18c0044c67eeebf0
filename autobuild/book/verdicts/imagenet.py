"""Section 03's claims: Fig. 4's reading, Fig. 5 (top) reduced spaces beyond the front, and Fig. 5
(bottom) AutoBuild-NAS against the best baseline (quick run and stored full runs)."""
from __future__ import annotations

import pandas as pd

from autobuild.book.claims import Claim, above, exact, not_testable, wilson_ci, within
from autobuild.book.tables import space_label
from autobuild.experiments.imagenet import FrontExtensions, SubgraphReading

#: Fig. 5 (top): the share of reduced spaces the paper finds beyond the front, per pair.
FRONT_SHARE = {("mbv3", "gpu"): 1.0, ("mbv3", "cpu"): 1.0, ("mbv3", "npu"): 1.0, ("pn", "gpu"): 1.0,
               ("pn", "cpu"): 0.5, ("pn", "npu"): 1.0}
#: Fig. 5 (bottom): the pairs on which the paper names AutoBuild-NAS superior.
NAS_PAIRS = (("mbv3", "gpu"), ("mbv3", "cpu"), ("mbv3", "npu"), ("pn", "gpu"))


def _pair_id(s: str, d: str) -> str:
    return f"{s}_{d}"


def reading_claim(reading: SubgraphReading) -> Claim:
    """Fig. 4: how many of the seven parts of the paper's reading hold for the seed-0 predictors."""
    n, held = len(reading.checks), sum(bool(v) for v in reading.checks.values())
    return Claim("fig4_reading", "Fig. 4: best/worst MBv3-GPU subgraphs read as the paper reads them "
                 "(long e6/k7 for accuracy, shorter when latency counts; parts that hold)",
                 paper=f"{n} of {n} parts", verdict=exact(f"{n} of {n}", f"{held} of {n}",
                                                          what="exact (top/bottom-25 of seed 0)"),
                 method="ours", target="paper: the paper's reading of Fig. 4, every part")


def front_claims(fronts: FrontExtensions) -> list[Claim]:
    """Fig. 5 (top): per pair, the share of reduced spaces (equations x repeats) reaching beyond the
    labelled front, with its Wilson interval, against the paper's share."""
    out = []
    for (s, d), paper in FRONT_SHARE.items():
        if (s, d) not in fronts.refs:
            continue
        tables = [fronts.per_cluster[(seed, s, d)] for seed in fronts.seeds]
        k, n = sum(int(t.reaches_beyond.sum()) for t in tables), sum(len(t) for t in tables)
        out.append(Claim(f"fig5_top_{_pair_id(s, d)}", f"Fig. 5 (top), {space_label(s)}-{d.upper()}: share of the "
                         "K=3 reduced spaces with an architecture beyond the labelled front",
                         paper="all" if paper == 1.0 else f"{paper:.0%} (2 of 4)",
                         verdict=within(paper, k / n, *wilson_ci(k, n), fmt="{:.0%}",
                                        what=f"95% Wilson interval over {n} spaces ({len(tables)} seeds)"),
                         method="ours", target="paper: the share of Fig. 5 (top)"))
    return out


def nas_claims(verdicts: pd.DataFrame, profile: str, suffix: str = "") -> list[Claim]:
    """Fig. 5 (bottom): on each pair the paper names, AutoBuild-NAS's hypervolume minus the best
    baseline's, paired by seed, with its bootstrap interval (above 0: agrees). ``verdicts`` comes
    from :func:`autobuild.experiments.nas_runs.paired_verdicts` for one recipe and variant."""
    out = []
    for s, d in NAS_PAIRS:
        row = verdicts[(verdicts.space == s) & (verdicts.device == d)]
        text = (f"Fig. 5 (bottom), {space_label(s)}-{d.upper()}: AutoBuild-NAS's hypervolume above the best "
                f"baseline's{suffix}")
        cid = f"fig5_nas_{_pair_id(s, d)}" + ("_authors" if suffix else "")
        if row.empty:
            verdict = not_testable(f"no stored {profile} run with at least 2 seeds yet (scripts/run_full_nas.py)")
        else:
            r = row.iloc[0]
            verdict = above(float(r["mean difference"]), float(r["low"]), float(r["high"]), threshold=0.0,
                            fmt="{:+.4f}", what=f"95% bootstrap CI of the paired difference, {int(r['seeds'])} "
                                           f"seeds, vs {r['best baseline']}")
        out.append(Claim(cid, text, paper="superior", verdict=verdict, profile=profile, method="ours",
                         target="paper: superior, hypervolume above the best baseline's"))
    return out
