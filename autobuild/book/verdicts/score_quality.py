"""Section 02b's claims: do Eq. 5's scores (the paper's root readout) track the modules' true effect?"""
from __future__ import annotations

from autobuild.book.claims import Claim, above, below
from autobuild.experiments.score_studies import Targets

Z95 = 1.96


def claims(paper: Targets, regret_max: float = 0.15) -> list[Claim]:
    """From :func:`autobuild.experiments.score_quality.targets` of the paper's (root) scorer."""
    t = paper.table.set_index("target")
    rho, u_rho = float(t.loc["mean per-unit Spearman", "value"]), float(t.loc["mean per-unit Spearman", "uncertainty"])
    reg, u_reg = float(t.loc["mean top-1 regret", "value"]), float(t.loc["mean top-1 regret", "uncertainty"])
    what = f"± 1.96 u (seeds, the truth's noise, stages) of `{paper.scorer}`"
    return [
        Claim("sec42_scores_rank", "Sec. 4.2: Eq. 5's subgraph scores rank a stage's subgraphs like their true "
              "marginal effect (mean per-stage Spearman above 0)", paper="implied, not measured",
              verdict=above(rho, rho - Z95 * u_rho, rho + Z95 * u_rho, threshold=0.0, what=what),
              method="ours", target="book: mean per-stage Spearman above 0"),
        Claim("sec43_top1_regret", f"Sec. 4.3: building from the top-scored subgraph loses little (mean top-1 "
              f"regret below {regret_max} accuracy points)", paper="implied, not measured",
              verdict=below(reg, max(0.0, reg - Z95 * u_reg), reg + Z95 * u_reg, threshold=regret_max, what=what,
                            fmt="{:.3f}"),
              method="ours", target=f"book: mean top-1 regret below {regret_max} accuracy points"),
    ]
