"""Figures of section 2b: module scores against the oracle's true marginals, and their seed stability."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from autobuild.experiments.score_quality import Quality, Stability, Truth

DEPTH_COLORS = {2: "#1f77b4", 3: "#ff7f0e", 4: "#2ca02c"}


def plot_score_vs_truth(truth: Truth, scores, scorers, seed: int = 0, label_scale: float = 1.0,
                        label: str = "true marginal"):
    """One row per scorer, one column per unit: each subgraph's score against its true marginal.

    Seeded scorers show ``seed``; colours are the subgraph's number of layers.
    """
    merged = scores.merge(truth.marginals, on=["stage", "index"])
    units = sorted(truth.marginals.stage.unique())
    fig, axes = plt.subplots(len(scorers), len(units), figsize=(2.3 * len(units), 2.1 * len(scorers)),
                             layout="constrained", squeeze=False)
    for i, name in enumerate(scorers):
        d = merged[merged.scorer == name]
        if (d.seed >= 0).any():
            d = d[d.seed == seed]
        for j, u in enumerate(units):
            ax, e = axes[i, j], d[d.stage == u]
            for depth, g in e.groupby("n_layers"):
                ax.scatter(g.marginal * label_scale, g.score, s=3, alpha=0.5, lw=0, rasterized=True,
                           color=DEPTH_COLORS.get(int(depth), "#7f7f7f"), label=f"{depth} layers")
            best = e.loc[e.score.idxmax()] if len(e) else None
            if best is not None:
                ax.scatter([best.marginal * label_scale], [best.score], s=40, marker="*", color="#d62728", zorder=3)
            ax.axvline(e.marginal.max() * label_scale, color="#d62728", lw=0.6, ls=":")
            if i == 0:
                ax.set_title(f"stage {u}", fontsize=9)
            if j == 0:
                ax.set_ylabel(name, fontsize=8)
            if i == len(scorers) - 1:
                ax.set_xlabel(label, fontsize=8)
            ax.tick_params(labelsize=6)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8, markerscale=4)
    fig.suptitle(f"Scores vs the true marginal ({truth.oracle}, {truth.n_contexts} contexts); "
                 "star: the scorer's top-1, dotted: the best subgraph", fontsize=10)
    return fig


def plot_quality_and_stability(q: Quality, st: Stability, regret_unit: str = ""):
    """Left three panels: mean per-unit Spearman, top-k overlap and regret of every scorer (bootstrap
    and seed sd combined); right panel: between-seed top-k overlap and Spearman of seeded scorers,
    with the truth's two halves for scale."""
    s = q.summary[q.summary.depth == "all"]
    fig, axes = plt.subplots(1, 4, figsize=(14, 0.32 * len(s) + 1.6), layout="constrained")
    y = np.arange(len(s))
    for ax, key, title in zip(axes[:3], ("spearman", "overlap", "regret"),
                              ("Spearman with the truth", f"top-{q.k} overlap with the truth",
                               f"top-1 regret {regret_unit}".strip())):
        err = np.hypot(s[f"{key}_boot_sd"], s[f"{key}_seed_sd"])
        ax.barh(y, s[key], xerr=err, color="#4c72b0", alpha=0.8, error_kw={"lw": 0.8})
        ax.set_yticks(y, s.scorer if ax is axes[0] else [""] * len(s), fontsize=8)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=9)
    ax = axes[3]
    t = st.summary
    yy = np.arange(len(t))
    ax.barh(yy, t.overlap, xerr=t.overlap_sd.fillna(0), height=0.5, color="#dd8452", alpha=0.8, error_kw={"lw": 0.8})
    for k, r in enumerate(t.itertuples()):
        ax.text(0.3, k + 0.45, f"SRCC {r.spearman:.2f}, top-1 same {r.same_top1:.0%}", va="center", fontsize=7)
    ax.set_yticks(yy, t.scorer, fontsize=8)
    ax.yaxis.tick_right()
    ax.invert_yaxis()
    ax.set_title(f"seed stability: top-{st.k} shared by two seeds", fontsize=9)
    return fig


def interactive_score_vs_truth(truth: Truth, scores, scorers, seed: int = 0, label_scale: float = 1.0,
                               label: str = "true marginal", top: int = 100, others: int = 300):
    """:func:`plot_score_vs_truth` for the page (plotly): per stage the ``top`` subgraphs by
    score and by truth and ``others`` random ones; hovering a point names its subgraph."""
    import pandas as pd

    from autobuild.book.interactive import sample_for_hover, scores_vs_truth_figure
    from autobuild.spaces.ofa import OFASpace

    merged = scores.merge(truth.marginals, on=["stage", "index"])
    parts = []
    for name in scorers:
        d = merged[merged.scorer == name]
        parts.append(d[d.seed == seed] if (d.seed >= 0).any() else d)
    points = sample_for_hover(pd.concat(parts), "score", "marginal", ["scorer", "stage"], top, others, seed)
    points = points.assign(marginal=points.marginal * label_scale,
                           name=[s if isinstance(s, str) else OFASpace.subgraph_label(s) for s in points.subgraph])
    fig = scores_vs_truth_figure(points, scorers, label, f"Scores vs the true marginal ({truth.oracle})", DEPTH_COLORS)
    # the title at the top left, clear of a short toolbar (top right, shown on hover); one x-axis title
    # under the bottom row, a y-axis title at the start of each row; the legend below
    fig.update_layout(title={"text": f"Scores vs the true marginal ({truth.oracle})", "x": 0.01, "xanchor": "left",
                             "y": 0.985, "yanchor": "top", "font": {"size": 13},
                             "subtitle": {"text": f"per stage: the top {top} by score, the top {top} by truth and "
                                                  f"{others} others", "font": {"size": 11}}},
                      margin={"l": 60, "r": 40, "t": 100, "b": 100}, legend={"orientation": "h", "y": -0.2},
                      modebar={"remove": ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d", "toImage"]})
    fig.add_annotation(text=label, x=0.5, y=0, xref="paper", yref="paper", yanchor="top", yshift=-28,
                       showarrow=False, font={"size": 11})
    fig.update_yaxes(title_text="Eq. 5 score", title_font_size=10, col=1)
    return fig
