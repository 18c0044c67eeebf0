"""Section 2b's claims, for the paper's method (the authors' network, root readout) and ours (the
companion network, pooled readout): do Eq. 5's scores rank a stage's subgraphs like their true
effect, is the top-scored one near the best, do two training seeds agree on the top 25, and does
Eq. 4's ranking term compute the SRCC exactly? Every interval is over the training seeds; the
thresholds are the book's (:data:`autobuild.experiments.score_studies.TARGETS`, :data:`SOFT_RANK_TOLERANCE`)."""
from __future__ import annotations

import pandas as pd

from autobuild.book.claims import Claim, seeds_above, seeds_below
from autobuild.experiments.intervals import t_mean_interval
from autobuild.experiments.score_studies import TARGETS, Report

#: Eq. 4's ranking term computes the SRCC "exactly": the book reads this as a mean gap to the exact
#: Spearman rho of at most 0.01 (the two decimals SRCCs are reported with).
SOFT_RANK_TOLERANCE = 0.01

#: The network of each method (Eq. 4 is a training loss: the readout plays no part), and its name in words.
METHOD_MODELS = {"paper": ("authors", "the authors' network"), "ours": ("companion", "the companion network")}


def claims(judged: Report, fidelity: pd.DataFrame | None = None) -> list[Claim]:
    """Both methods' rows of the three score claims (:func:`autobuild.experiments.score_studies.report`)
    and, given ``fidelity`` (:func:`autobuild.experiments.embeddings.soft_rank_fidelity` of the
    study's predictors), of Eq. 4's soft rank."""
    rows = []
    for method, m in judged.methods.items():
        who = f"`{m.scorer}`" + (f" ({m.note})" if m.note else "")
        rows += [
            Claim("sec42_scores_rank", "Sec. 4.2: Eq. 5's subgraph scores rank a stage's subgraphs like their true "
                  "marginal effect (mean per-stage Spearman with the truth)", paper="implied, not measured",
                  verdict=seeds_above(m.spearman, TARGETS.spearman_min, what=f"95% t-interval over seeds of {who}"),
                  method=method, target=f"book: mean per-stage Spearman >= {TARGETS.spearman_min}"),
            Claim("sec51_top1_regret", "Sec. 5.1 (architecture construction): each stage's top-scored subgraph is "
                  "close to its truly best one (mean top-1 regret, accuracy points)", paper="implied, not measured",
                  verdict=seeds_below(m.regret, TARGETS.regret_max, fmt="{:.3f}",
                                      what=f"95% t-interval over seeds of {who}"),
                  method=method, target=f"book: mean top-1 regret <= {TARGETS.regret_max} accuracy points"),
            Claim("sec42_seed_stability", f"Beside Sec. 4.2: two training seeds agree on a stage's top-{judged.k} "
                  f"subgraphs (mean over seed pairs of the top-{judged.k} shared)", paper="not stated",
                  verdict=seeds_above(m.overlap, TARGETS.overlap_min, fmt="{:.1f}",
                                      what=f"95% jackknife t-interval over seeds of {who}"),
                  method=method, target=f"book: at least {TARGETS.overlap_min:g} of the top {judged.k} shared"),
        ]
    if fidelity is not None:
        for method, (model, network) in METHOD_MODELS.items():
            gaps = fidelity[fidelity.model == model].groupby("seed").gap.mean()
            if len(gaps) < 2:
                continue
            rows.append(Claim(
                "sec41_soft_rank_exact", "Sec. 4.1, Eq. 4: the ranking term computes the SRCC of the embedding "
                "norms exactly (mean gap to the exact Spearman rho, training batches, every hop)", paper="exactly",
                verdict=seeds_below(t_mean_interval(gaps.to_numpy()), SOFT_RANK_TOLERANCE, fmt="{:.4f}",
                                    what=f"95% t-interval over seeds of {network}'s mean gap"),
                method=method, target=f"book: within {SOFT_RANK_TOLERANCE} of the exact SRCC (the paper says "
                                      "'exactly')"))
    return rows

