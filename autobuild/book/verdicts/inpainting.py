"""Section 05's claims: Table 1 (AutoBuild < ES < the 68, for the average and the best FD), and
Fig. 7's FID, which needs Stable Diffusion and Places365."""
from __future__ import annotations

import pandas as pd

from autobuild.book.claims import Claim, below, not_testable

#: The short id of each set of :mod:`autobuild.experiments.inpainting` in claim ids.
SET_IDS = {"AutoBuild (4)": "autobuild", "Exhaustive Search (4)": "es", "Eval Archs (68)": "the68"}


def _claim_id(claim: str) -> str:
    """``table1_<stat>_<A>_vs_<B>`` of a claim named ``"A stat < B stat"``."""
    left, right = (side.strip() for side in claim.split("<"))
    stat = left.rsplit(" ", 1)[1]
    names = [side.rsplit(" ", 1)[0] for side in (left, right)]
    unknown = [n for n in names if n not in SET_IDS]
    if unknown:
        raise ValueError(f"Table 1 claim {claim!r} names unknown set(s) {unknown}; known: {list(SET_IDS)}")
    return f"table1_{stat}_{SET_IDS[names[0]]}_vs_{SET_IDS[names[1]]}"


def claims(table1_claims: pd.DataFrame) -> list[Claim]:
    """One claim per row of :func:`autobuild.experiments.inpainting.table1_claims`: the FD
    difference ``stat(A) - stat(B)`` below 0 by its seed-noise interval (the paper's FID gives A
    lower); plus Fig. 7's FID, not testable offline."""
    low, high = table1_claims.columns[1], table1_claims.columns[2]
    out = []
    for claim, r in table1_claims.iterrows():
        out.append(Claim(_claim_id(claim), f"Table 1: {claim} (FD on SD-mini, lower is better)",
                         paper=f"FID difference {r['FID difference (paper)']:+.2f}",
                         verdict=below(float(r["FD difference"]), float(r[low]), float(r[high]), threshold=0.0,
                                       fmt="{:+.4f}", what=f"{low.split()[0]} seed-noise bootstrap interval"),
                         method="ours", target="paper: FD difference below 0 (the paper's FID ordering)"))
    out.append(Claim("fig7_fid", "Table 1 / Fig. 7: FID of the inpainting U-Nets on Places365",
                     paper="AutoBuild top-4 average FID 10.13",
                     verdict=not_testable("needs SDv1.4-inpainting trained per architecture and Places365; "
                                          "SD-mini's FD is a stand-in"),
                     method="ours", target="paper: AutoBuild top-4 average FID 10.13"))
    return out
