"""Figures of section 2: test SRCC per hop (Fig. 2), the MSE-only ablation, and FE-MLP readouts (Fig. 3)."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from autobuild.book.plotting import LABEL_COLORS, SPACE_COLORS
from autobuild.book.tables import space_label
from autobuild.experiments.embeddings import HOPS, HopRuns, IRPredictor, TrainingSets

#: x positions of the hop levels 0..M and the head's prediction y'
X = np.arange(len(HOPS) + 1)
X_LABELS = [str(m) for m in range(len(HOPS))] + ["$y'$"]


def plot_hop_srcc(runs: HopRuns, title: str):
    """Fig. 2: mean test SRCC per hop and head, one panel per space, one line per label
    (error bars: the standard deviation over seeds, when there are several)."""
    mean, std = runs.hop_srcc(), runs.hop_srcc_std()
    fig, axes = plt.subplots(1, len(runs.spaces), figsize=(4.2 * len(runs.spaces), 3.6), sharey=True,
                             layout="constrained")
    for ax, name in zip(np.atleast_1d(axes), runs.spaces):
        for label in runs.labels:
            key = (name, label)
            err = std.loc[key].fillna(0).to_numpy() if runs.n_seeds > 1 else None
            ax.errorbar(X, mean.loc[key].to_numpy(), yerr=err, marker="o", ms=4, capsize=3, color=LABEL_COLORS[label],
                        label=label)
        ax.set_xticks(X, X_LABELS)
        ax.set_xlabel("hop level m (and the head's prediction y')")
        ax.set_title(space_label(name))
        ax.axhline(0, color="black", lw=0.6)
    np.atleast_1d(axes)[0].set_ylabel("test SRCC")
    np.atleast_1d(axes)[-1].legend(loc="lower right")
    fig.suptitle(title)
    return fig


def plot_mse_ablation(ablation: pd.DataFrame):
    """A grid of panels, one row per label and one column per space (so it reads at page width and on
    a phone): SRCC per hop and head with Eq. 4 (solid) and MSE only (dashed)."""
    frame = ablation.reset_index()
    spaces, labels = list(dict.fromkeys(frame.space)), list(dict.fromkeys(frame.label))
    fig, axes = plt.subplots(len(labels), len(spaces), figsize=(3.6 * len(spaces), 2.3 * len(labels) + 0.8),
                             sharex=True, sharey=True, squeeze=False, layout="constrained")
    for row, label in zip(axes, labels):
        for ax, space in zip(row, spaces):
            if (space, label, "Eq. 4") not in ablation.index:
                ax.set_axis_off()
                continue
            for loss, style in (("Eq. 4", "-o"), ("MSE only", "--s")):
                ax.plot(X, ablation.loc[(space, label, loss)].to_numpy(), style, ms=4, label=loss,
                        color=SPACE_COLORS[space])
            ax.set_title(f"{space_label(space)}, {label}", fontsize=10)
            ax.axhline(0, color="black", lw=0.6)
        row[0].set_ylabel("test SRCC")
    for ax in axes[-1]:
        ax.set_xticks(X, X_LABELS)
        ax.set_xlabel("hop level m (and y')")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("Embedding-norm SRCC per hop: Eq. 4 against MSE only")
    return fig


def plot_ir_op_importance(data: TrainingSets, ir: IRPredictor):
    """Fig. 3: each space's accuracy histogram, the IR predictor's test SRCC per hop, and the
    FE-MLP importance of every op type, shaded by the space(s) it occurs in."""
    fig = plt.figure(figsize=(10, 5.6), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[1.1, 1])
    ax_hist, ax_srcc, ax_ops = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[:, 1])
    for name, ds in data.datasets.items():
        ax_hist.hist(ds.target("acc") * 100, bins=40, alpha=0.6, color=SPACE_COLORS[name], label=space_label(name))
    ax_hist.set_xlabel("top-1 accuracy (%)")
    ax_hist.set_ylabel("architectures")
    ax_hist.legend()
    ax_srcc.bar(X, ir.trained.metrics["hop_srcc"] + [ir.trained.metrics["srcc"]], color="#555555")
    ax_srcc.set_xticks(X, X_LABELS)
    ax_srcc.set_xlabel("hop level m (and the head's prediction y')")
    ax_srcc.set_ylabel("test SRCC")
    ops = ir.op_importance
    shade = {"both": "#888888", "MBv3 only": SPACE_COLORS["mbv3"], "PN only": SPACE_COLORS["pn"]}
    ax_ops.barh(ops.op, ops.importance, color=[shade[w] for w in ops["found in"]])
    ax_ops.set_xlabel("FE-MLP importance (0-hop)")
    ax_ops.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=c, label=k) for k, c in shade.items()
                           if k in set(ops["found in"])], loc="lower right")
    fig.suptitle("Fig. 3 analogue: accuracy predictor on op-level IR graphs of MBv3 and PN")
    return fig


def plot_sequence_feature_importance(importance: pd.DataFrame, spaces: Sequence[str], features: Sequence[str]):
    """FE-MLP importance of each value of ``features``: one row of panels per space."""
    fig, axes = plt.subplots(len(spaces), len(features), figsize=(13, 2.8 * len(spaces)), squeeze=False,
                             layout="constrained")
    for row, name in zip(axes, spaces):
        for ax, feature in zip(row, features):
            part = importance[(importance.space == name) & (importance.feature == feature)]
            ax.bar([str(v) for v in part.value], part.importance, color=SPACE_COLORS[name])
            ax.set_title(f"{space_label(name)}: {feature}")
        row[0].set_ylabel("FE-MLP importance")
    fig.suptitle("FE-MLP importance of sequence-graph feature values (accuracy predictors)")
    return fig
