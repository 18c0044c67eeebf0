"""Figures of Section 5.1 on the ImageNet spaces (notebook 03): Fig. 5's panels per space and device.

Drawn from the results of :mod:`autobuild.experiments.imagenet`; Fig. 4 is
:func:`autobuild.book.plotting.plot_best_worst_subgraphs`.
"""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
from matplotlib.colors import to_hex

from autobuild.book.plotting import METHOD_COLORS, plot_front_and_clusters, plot_search_fronts
from autobuild.book.tables import space_label

#: The hardware behind each device's latency labels.
DEVICE_NAMES = {"gpu": "GPU (RTX 2080 Ti)", "cpu": "CPU (Threadripper 2990WX)", "npu": "NPU (Kirin 9000)"}


def pair_grid(spaces: Sequence[str], devices: Sequence[str], draw: Callable, caption: str):
    """One accuracy-latency panel per space (rows) and device (columns); ``draw(ax, space, device)`` fills one."""
    fig, axes = plt.subplots(len(spaces), len(devices), figsize=(4.2 * len(devices), 3.4 * len(spaces)),
                             squeeze=False)
    for i, s in enumerate(spaces):
        for j, d in enumerate(devices):
            ax = axes[i, j]
            draw(ax, s, d)
            ax.set_title(f"{space_label(s)} - {DEVICE_NAMES[d]}")
            ax.set_xlabel(f"latency_{d} (ms)")
            ax.set_ylabel("ImageNet top-1 (fraction)")
            ax.legend(fontsize=6, loc="lower right")
    fig.text(0.01, -0.01, caption, fontsize=7, ha="left")
    fig.tight_layout()
    return fig


def pair_row(pairs: Sequence[tuple[str, str]], height: float, draw: Callable, title: str, legend: bool = False):
    """One small hypervolume panel per (space, device) pair in a row; ``draw(ax, space, device)`` fills one."""
    fig, axes = plt.subplots(1, len(pairs), figsize=(1.9 * len(pairs), height), squeeze=False)
    for ax, (s, d) in zip(axes[0], pairs):
        draw(ax, s, d)
        ax.set_title(f"{space_label(s)}-{d.upper()}", fontsize=8)
    axes[0, 0].set_ylabel("hypervolume (acc x ms)")
    if legend:
        axes[0, 0].legend(fontsize=6, loc="lower right")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def _pairs_of(keys) -> tuple[list[str], list[str]]:
    keys = list(keys)
    return list(dict.fromkeys(s for s, _ in keys)), list(dict.fromkeys(d for _, d in keys))


def plot_reduced_spaces(datasets, fronts, equations, data_source: str, seed: int = 0):
    """Fig. 5 (top): the labelled set, its front and the K=3 clusters of repeat ``seed``, one colour per equation."""
    def draw(ax, s, d):
        data = datasets[s]
        colors = {eq: f"C{k}" for k, eq in enumerate(equations[(s, d)])}
        plot_front_and_clusters(ax, data.labels["acc"], data.labels[f"latency_{d}"], fronts.clusters[(seed, s, d)],
                                colors)

    return pair_grid(*_pairs_of(fronts.refs), draw,
                     f"Grey: labelled set ({data_source} data; labels as its data card states). Clusters: K=3 reduced "
                     f"spaces of the seed-{seed} predictors, labelled by the authors' published predictors "
                     "(autobuild.evaluators.AuthorsPredictors: acc and latency_<device>).")


def plot_nas_fronts(nas, budget: int):
    """Fig. 5 (bottom): the final front of every search of :class:`~autobuild.experiments.imagenet.NASComparison`."""
    return pair_grid(*_pairs_of(nas.results), lambda ax, s, d: plot_search_fronts(ax, nas.results[(s, d)]),
                     f"Final Pareto front of each search (budget {budget}; seed 0 solid, seeds 1..{nas.n_seeds - 1} "
                     "faint). Objectives: the authors' published predictors (autobuild.evaluators.AuthorsPredictors).")


def plot_hypervolumes(nas):
    """Mean ± std of the final hypervolume of each method, one bar panel per pair."""
    hv = nas.hv

    def draw(ax, s, d):
        part = hv[(hv.space == s) & (hv.device == d)].set_index("method").reindex(list(METHOD_COLORS))
        ax.bar(range(len(part)), part["HV mean"], yerr=part["HV std"], color=[METHOD_COLORS[m] for m in part.index],
               capsize=2)
        ax.set_xticks(range(len(part)), [m.replace("-", "-\n") for m in part.index], fontsize=6)
        low = (part["HV mean"] - part["HV std"]).min()
        ax.set_ylim(max(0.0, low - 0.15 * (part["HV mean"].max() - low)), None)

    return pair_row(list(nas.results), 2.8, draw, f"Search hypervolume, mean ± std over {nas.n_seeds} seed(s)")


def plot_k_sensitivity(sensitivity, k_nas: int):
    """AutoBuild-NAS's mean hypervolume against K (log axis) beside the best baseline; grey line at ``k_nas``."""
    table = sensitivity.table

    def draw(ax, s, d):
        part = table[(table.space == s) & (table.device == d)]
        ax.errorbar(part["K"], part["HV mean"], yerr=part["HV std"], color=METHOD_COLORS["AutoBuild-NAS"],
                    marker="o", ms=3, capsize=2, label="AutoBuild-NAS")
        ax.axhline(part["best baseline"].iloc[0], color="0.4", ls="--", lw=1, label="best baseline")
        ax.axvline(k_nas, color="0.8", lw=0.8)
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(sensitivity.ks, [str(k) for k in sensitivity.ks], fontsize=6)
        ax.set_xlabel("K", fontsize=7)

    title = (f"AutoBuild-NAS against K (mean ± std over {sensitivity.n_seeds} seed(s); grey line: the profile's "
             f"K={k_nas})")
    return pair_row(sensitivity.pairs, 2.6, draw, title, legend=True)


#: Colour of each paired verdict (:mod:`autobuild.experiments.intervals`).
VERDICT_COLORS = {"better": "#2ca02c", "tie": "0.45", "worse": "#d62728"}


def plot_paired_differences(diffs, verdicts, title: str):
    """Fig. 5 (bottom) as paired differences: per pair, one column per (recipe, model) holding every
    seed's ``HV(AutoBuild-NAS) - HV(best baseline)`` (dots) and the mean with its bootstrap interval
    (bar, coloured by verdict), in % of the best baseline's mean hypervolume."""
    conditions = list(dict.fromkeys(zip(diffs.recipe, diffs.model)))
    pairs = list(dict.fromkeys(zip(diffs.space, diffs.device)))

    def draw(ax, s, d):
        ax.axhline(0, color="0.6", lw=0.8)
        for x, (recipe, model) in enumerate(conditions):
            part = diffs[(diffs.space == s) & (diffs.device == d) & (diffs.recipe == recipe) & (diffs.model == model)]
            if part.empty:
                continue
            scale = 100 / part.hv_baseline.mean()
            ax.plot(x + 0.12 * (((part.seed.rank() - 1) / max(len(part) - 1, 1)) - 0.5), part.difference * scale,
                    ".", color="0.65", ms=3)
            v = verdicts[(verdicts.space == s) & (verdicts.device == d) & (verdicts.recipe == recipe)
                         & (verdicts.model == model)]
            if v.empty:  # fewer than 2 seeds: no interval yet
                continue
            v = v.iloc[0]
            mid, lo, hi = v["mean difference"] * scale, v["low"] * scale, v["high"] * scale
            ax.errorbar([x + 0.22], [mid], yerr=[[mid - lo], [hi - mid]], fmt="o", ms=4, capsize=3,
                        color=VERDICT_COLORS[v["verdict"]])
        ax.set_xticks(range(len(conditions)), [f"{r}\n{m}" for r, m in conditions], fontsize=6)
        ax.set_xlim(-0.5, len(conditions) - 0.3)

    cols = min(3, len(pairs))
    rows = -(-len(pairs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7.4, 2.6 * rows), squeeze=False)
    for ax, (s, d) in zip(axes.flat, pairs):
        draw(ax, s, d)
        ax.set_title(f"{space_label(s)}-{d.upper()}", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
    for ax in axes.flat[len(pairs):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("AutoBuild-NAS - best baseline\n(% of its hypervolume)", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def _labelled_sample(data, device: str, n: int = 400, seed: int = 0):
    """The labelled set's front plus ``n`` random architectures (the front of the sample is the set's)."""
    import numpy as np

    from autobuild.search.pareto import pareto_front

    perf, cost = data.labels["acc"].to_numpy(), data.labels[f"latency_{device}"].to_numpy()
    keep = np.union1d(pareto_front(perf, cost), np.random.default_rng(seed).choice(len(perf), min(n, len(perf)),
                                                                                   replace=False))
    return perf[keep], cost[keep], [data.space.to_string(data.archs[i]) for i in keep]


def interactive_reduced_spaces(datasets, fronts, seed: int = 0):
    """Fig. 5 (top) for the page: per pair (menu), the labelled front and repeat ``seed``'s K=3
    clusters; hovering a point shows its architecture and labels."""
    from autobuild.book.interactive import front_figure, pair_menu

    figs = {}
    for s, d in fronts.refs:
        data, clusters = datasets[s], fronts.clusters[(seed, s, d)]
        built = clusters.assign(group=[f"y = {e}" for e in clusters.equation],
                                name=[data.space.to_string(a) for a in clusters.arch])
        colors = {g: to_hex(f"C{i}") for i, g in enumerate(dict.fromkeys(built.group))}
        figs[f"{space_label(s)}-{d.upper()}"] = front_figure(*_labelled_sample(data, d), built, colors,
                                                             f"latency_{d} (ms)", "ImageNet top-1", "")
    return pair_menu(figs, f"Fig. 5 (top): K=3 reduced spaces of the seed-{seed} predictors (choose the pair)")


def interactive_nas_fronts(datasets, nas, seed: int = 0):
    """Fig. 5 (bottom) for the page: per pair (menu), each method's final front of repeat ``seed``
    over the labelled set's front; hovering a point shows its architecture and labels."""
    import pandas as pd

    from autobuild.book.interactive import front_figure, pair_menu

    figs = {}
    for (s, d), runs in nas.results.items():
        data = datasets[s]
        found = pd.concat([r.to_frame(data.space).query("on_front") for r in runs if r.seed == seed])
        built = found.rename(columns={"arch": "name"}).assign(group=found.method)
        figs[f"{space_label(s)}-{d.upper()}"] = front_figure(*_labelled_sample(data, d), built, METHOD_COLORS,
                                                             f"latency_{d} (ms)", "ImageNet top-1", "")
    return pair_menu(figs, f"Fig. 5 (bottom): each search's final front, seed {seed} (choose the pair)")


def verdict_table(verdicts):
    """Paired verdicts (:func:`~autobuild.experiments.nas_runs.paired_verdicts`) at page width: one
    row per recipe, variant and pair, the mean difference with its interval in one column."""
    shown = verdicts.assign(pair=verdicts.space.map(space_label) + "-" + verdicts.device.str.upper(),
                            **{"HV difference [95% CI]": [f"{m:+.4f} [{lo:+.4f}, {hi:+.4f}]" for m, lo, hi in
                                                          zip(verdicts["mean difference"], verdicts.low, verdicts.high)]})
    return shown.set_index(["recipe", "model", "pair"])[["best baseline", "seeds", "HV difference [95% CI]", "verdict"]]
