"""Section 02's claims: Fig. 2 (hop SRCCs), the MSE-only ablation, Fig. 3 (IR op importance) and
the feature reading of Sec. 5.1."""
from __future__ import annotations

import pandas as pd

from autobuild.book.claims import Claim, above, exact, mean_ci, spearman_ci, within
from autobuild.book.tables import space_label
from autobuild.experiments.embeddings import HOPS, HopRuns, IRPredictor, TrainingSets

STRONG = 0.7  # an SRCC at or above this counts as "strong"


def claims(runs: HopRuns, ablation: pd.DataFrame, ir: IRPredictor, importance: pd.DataFrame,
           data: TrainingSets) -> list[Claim]:
    """Fig. 2's weakest cell, the ranking term's gain, Fig. 3's 0-hop SRCC, top op, Div/ReLU and
    MBv3's higher accuracy, and the e6/k7 reading."""
    hop = runs.hop_srcc()[HOPS].stack()
    (space, label, level), worst = hop.idxmin(), float(hop.min())
    n_test = min(p[0].metrics["n_test"] for p in runs.predictors.values())
    norms = ablation[HOPS].unstack("loss")
    gain = (norms.xs("Eq. 4", axis=1, level="loss") - norms.xs("MSE only", axis=1, level="loss")).to_numpy()
    g, g_lo, g_hi = mean_ci(gain)
    m = ir.trained.metrics
    rank = ir.ranked_ops()
    top = str(rank.op[0])
    half = (len(rank) + 1) // 2
    div_relu = [op for op in ("Div", "ReLU") if op in set(rank.op)]
    high = all(int(rank.index[rank.op == op][0]) < half for op in div_relu) and len(div_relu) == 2
    means = ir.accuracy_means
    imp = {s: importance[importance.space == s].set_index(["feature", "value"]).importance
           for s in dict.fromkeys(importance.space)}
    e6k7 = all(i["expand", 6] > i["expand", 3] and i["kernel", 7] > i["kernel", 3] for i in imp.values())
    return [
        Claim("fig2_strong_srcc", f"Fig. 2: every hop's embedding norm ranks the test architectures strongly, "
              f"SRCC >= {STRONG} (weakest cell: {space_label(space)} {label} {level})", paper="strong, positive at every hop",
              verdict=above(worst, *spearman_ci(worst, n_test), threshold=STRONG,
                            what=f"95% CI (Fisher z, {n_test} test architectures)"),
              method="ours", target=f"book: SRCC >= {STRONG} counts as strong"),
        Claim("sec41_ranking_term", "Sec. 4.1: the ranking term of Eq. 4 is what makes the norms rank "
              "(SRCC gain over MSE only, mean of hop levels and labels)", paper="implied, not measured",
              verdict=above(g, g_lo, g_hi, threshold=0.0, what=f"95% t-interval over {gain.size} (label, hop) cells",
                            fmt="{:+.2f}"),
              method="ours", target="book: SRCC gain above 0"),
        Claim("fig3_hop0_srcc", "Fig. 3: 0-hop test SRCC of the IR-graph accuracy predictor", paper="0.79",
              verdict=within(0.79, m["hop_srcc"][0], *spearman_ci(m["hop_srcc"][0], m["n_test"]),
                             what=f"95% CI (Fisher z, {m['n_test']} test graphs)"),
              method="ours", target="paper: 0-hop SRCC 0.79"),
        Claim("fig3_top_op", "Fig. 3: the op type with the highest FE-MLP score", paper="Add",
              verdict=exact("Add", top, what="one predictor (seed 0), no interval"), method="ours",
              target="paper: Add scores highest"),
        Claim("fig3_div_relu", "Fig. 3: 'Div' and 'ReLU' (h-swish, SE of MBv3) score high (top half of the ops)",
              paper="high", verdict=exact("high", "high" if high else "not both high",
                                          what="one predictor (seed 0), no interval"),
              method="ours", target="book: top half of the ops"),
        Claim("fig3_mbv3_accuracy", "Fig. 3: MBv3 has a higher accuracy distribution than PN (mean accuracy)",
              paper="MBv3 higher", verdict=exact("MBv3 higher", "MBv3 higher" if means["mbv3"] > means["pn"]
                                                  else "PN higher", what="exact (the labelled sets' means)"),
              method="no predictor", target="exact"),
        Claim("sec51_e6_k7", "Sec. 5.1: the best accuracy subgraphs convolve with e6 and k7 (FE-MLP: "
              "e6 > e3 and k7 > k3 in every space)", paper="e6, k7",
              verdict=exact("e6, k7", "e6, k7" if e6k7 else "not e6 and k7", what="one predictor per space (seed 0)"),
              method="ours", target="paper: e6 and k7 score above e3 and k3"),
    ]
