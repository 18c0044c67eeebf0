"""Figures of Section 5.1 on the ImageNet spaces (notebook 03): Fig. 5's panels per space and device.

Drawn from the results of :mod:`autobuild.experiments.imagenet`; Fig. 4 is
:func:`autobuild.book.plotting.plot_best_worst_subgraphs`.
"""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt

from autobuild.book.plotting import METHOD_COLORS, SPACE_NAMES, plot_front_and_clusters, plot_search_fronts

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
            ax.set_title(f"{SPACE_NAMES[s]} - {DEVICE_NAMES[d]}")
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
        ax.set_title(f"{SPACE_NAMES[s]}-{d.upper()}", fontsize=8)
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
        part = hv[(hv.space == SPACE_NAMES[s]) & (hv.device == d)].set_index("method").reindex(list(METHOD_COLORS))
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
        part = table[(table.space == SPACE_NAMES[s]) & (table.device == d)]
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
