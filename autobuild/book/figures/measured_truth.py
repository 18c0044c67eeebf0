"""Figures of section 06 (AutoBuild against NAS-Bench-Macro's measured truth)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from autobuild.experiments.measured_truth import METHODS, MacroTruth, Report, method_labels
from autobuild.search.pareto import pareto_front

#: Colours: the two methods, then the controls.
COLORS = {"paper": "#d95f02", "ours": "#1b9e77", "best labelled": "#7570b3", "ridge top-1": "#e7298a",
          "random": "#999999", "random search": "#999999", "NSGA-II": "#66a61e", "head top-1": "#e6ab02",
          "predictor NSGA-II": "#a6761d"}


def _style(label: str) -> dict:
    """Colour by method (paper/ours) or control; a head or search method of a predictor is dashed."""
    for method in METHODS:
        if label.endswith(f"({method})"):
            base = label[: -len(method) - 3]
            dashed = base not in ("autobuild", "AutoBuild-NAS")
            return {"color": COLORS[method] if not dashed else COLORS.get(base, "k"),
                    "ls": "--" if dashed else "-", "marker": "o" if method == "ours" else "s"}
    return {"color": COLORS.get(label, "k"), "ls": ":", "marker": "^"}


def _errorbars(ax, frame: pd.DataFrame, label: str, dodge: float = 0.0, **style) -> None:
    """Mean and interval against the budget; ``dodge`` shifts the points sideways (log scale) so
    that series of one budget do not hide each other."""
    f = frame.sort_values("budget")
    ax.errorbar(f["budget"] * np.exp(dodge), f["mean"], yerr=[f["mean"] - f["low"], f["high"] - f["mean"]],
                label=label, capsize=3, lw=1.4, ms=4, **style)


def _budget_axis(ax, budgets) -> None:
    ax.set_xscale("log")
    ax.set_xticks(sorted(budgets), [str(b) for b in sorted(budgets)])
    ax.minorticks_off()
    ax.set_xlabel("labelled architectures N")


def plot_space(truth: MacroTruth):
    """Every network of the space (accuracy against MFLOPs), the true front and the best networks."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    mflops = truth.flops / 1e6
    ax.scatter(mflops, truth.acc, s=3, c="#bbbbbb", label=f"all {len(truth.acc):,} networks", rasterized=True)
    front = pareto_front(truth.acc, truth.flops)
    ax.step(mflops[front], truth.acc[front], where="post", c="k", lw=1.2, label=f"true front ({len(front)} networks)")
    best = np.flatnonzero(truth.acc == truth.acc.max())
    ax.scatter(mflops[best], truth.acc[best], c="#d95f02", s=30, zorder=3,
               label="best: " + ", ".join(truth.strings[i] for i in best))
    ax.set_xlabel("MFLOPs")
    ax.set_ylabel("CIFAR-10 test accuracy (%, mean of 3 runs)")
    ax.set_ylim(max(truth.acc.min(), 80), truth.acc.max() + 0.5)
    ax.set_title("NAS-Bench-Macro: the whole space, measured")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def plot_scores(rep: Report):
    """Question 1 against the label budget: Spearman with the exact marginals, top-1 regret and
    seed stability, per method (95% bootstrap intervals over seeds)."""
    measures = [("spearman", "Spearman with exact marginals"), ("regret", "top-1 regret (accuracy points)"),
                ("stability", "Spearman between seeds")]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    for ax, (m, title) in zip(axes, measures):
        for i, method in enumerate(METHODS):
            f = rep.q1[(rep.q1.measure == m) & (rep.q1.method == method)]
            if len(f):
                _errorbars(ax, f, f"{method} ({'/'.join(METHODS[method])})", dodge=0.04 * i, color=COLORS[method],
                           marker="o" if method == "ours" else "s")
        if m == "regret":
            ax.axhline(rep.noise, c="k", lw=0.8, ls=":", label="noise floor")
        _budget_axis(ax, rep.q1.budget.unique())
        ax.set_title(title, fontsize=10)
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_build(rep: Report, targets) -> plt.Figure:
    """Question 2: the true target value of each built architecture against the label budget."""
    fig, axes = plt.subplots(1, len(targets), figsize=(5.5 * len(targets), 3.8), squeeze=False)
    for ax, target in zip(axes[0], targets):
        f = rep.build_summary[rep.build_summary.target == target]
        for i, label in enumerate(sorted(set(f.label) - {"random"})):
            _errorbars(ax, f[f.label == label], label, dodge=0.03 * (i - 3), **_style(label))
        _budget_axis(ax, f.budget.unique())
        ax.set_ylabel("true value (accuracy points)")
        ax.set_title(f"target: {target}", fontsize=10)
    axes[0][0].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def plot_nas(rep: Report) -> plt.Figure:
    """Questions 3 and 4: relative hypervolume of the top-K spaces and of the searches at equal evaluations."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    s = rep.nas_summary
    for i, label in enumerate(sorted(s.label.unique())):
        f = s[s.label == label]
        if label.startswith("top-"):
            k = int(label[4])
            method = label.split("(")[-1].rstrip(")")
            _errorbars(left, f, label, dodge=0.03 * (i - 3), color=COLORS[method], marker="os^"[k - 1],
                       alpha=0.4 + 0.2 * k, ls="-")
        else:
            _errorbars(right, f, label, dodge=0.03 * (i - 8), **_style(label))
    for ax, title in ((left, "3. the top-K spaces, exhaustively"), (right, "4. searches, N labels + search budget")):
        _budget_axis(ax, s.budget.unique())
        ax.set_ylabel("hypervolume / true front's")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def verdict_table(table: pd.DataFrame) -> pd.DataFrame:
    """The headline verdicts at page width: one row per question, one column per method (the
    paper's, ours, then the same-information control), each cell ``verdict: mean [low, high]``
    and what was compared (a control's cell names the control)."""
    def cell(r):
        digits = "{:.2f}" if r.question.startswith("1") else "{:+.3f}"
        text = f"{r.verdict}: {digits.format(r['mean'])} [{digits.format(r.low)}, {digits.format(r.high)}]"
        if r.against == "—":
            return text
        return text + (f", {r.subject} vs {r.against}" if r.method == "control" else f" vs {r.against}")

    if table.empty:
        return table
    cells = table.assign(cell=table.apply(cell, axis=1))
    order = [m for m in (*METHODS, "control") if m in set(table.method)]
    wide = cells.pivot(index="question", columns="method", values="cell")[order].fillna("—")
    return cells.drop_duplicates("question").set_index("question")[["measure"]].join(wide)


def built_figure(truth: MacroTruth, rep: Report, budget: int, targets, labels=("autobuild (paper)", "autobuild (ours)",
                                                                               "best labelled")):
    """Interactive: every network (grey), the true front, and the networks each method built at
    ``budget`` for each target, one point per seed (hover: the architecture)."""
    from autobuild.book.interactive import front_figure
    b = rep.build[(rep.build.budget == budget) & rep.build.target.isin(targets)]
    b = b.assign(label=method_labels(b))
    b = b[b.label.isin(labels)]
    rows = [truth.row[a] for a in b.arch]
    clusters = pd.DataFrame({"group": [f"{lab}, {t}" for lab, t in zip(b.label, b.target)],
                             "perf": truth.acc[rows], "cost": truth.flops[rows] / 1e6,
                             "name": [f"{a} (seed {s})" for a, s in zip(b.arch, b.seed)]})
    colors = {f"{lab}, {targets[0]}": COLORS.get(lab.split("(")[-1].rstrip(")"), COLORS.get(lab, "k")) for lab in labels}
    return front_figure(truth.acc, truth.flops / 1e6, truth.strings, clusters, colors, "MFLOPs",
                        "CIFAR-10 accuracy (%)", f"Networks built from N={budget} labels, every seed",
                        data_label="all networks")
