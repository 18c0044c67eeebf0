"""Figures of Section 5.1 on the ImageNet spaces (notebook 03): Fig. 5's panels per space and device.

Drawn from the results of :mod:`autobuild.experiments.imagenet`; Fig. 4 is
:func:`autobuild.book.plotting.plot_best_worst_subgraphs`.
"""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
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


def pair_panels(pairs: Sequence[tuple[str, str]], draw: Callable, title: str, legend: bool = False):
    """One hypervolume panel per (space, device) pair, spaces in rows and devices in columns, sized
    for the page's width (7.4 in) so that its text stays readable; ``draw(ax, space, device)`` fills one."""
    spaces, devices = _pairs_of(pairs)
    fig, axes = plt.subplots(len(spaces), len(devices), figsize=(7.4, 2.7 * len(spaces)), squeeze=False)
    for ax in axes.flat:
        ax.set_visible(False)
    for s, d in pairs:
        ax = axes[spaces.index(s), devices.index(d)]
        ax.set_visible(True)
        draw(ax, s, d)
        ax.set_title(f"{space_label(s)}-{d.upper()}", fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("hypervolume (acc x ms)", fontsize=8)
    if legend:
        axes[0, 0].legend(fontsize=7, loc="lower right")
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
        ax.set_xticks(range(len(part)), [m.replace("-", "-\n") for m in part.index], fontsize=7)
        low = (part["HV mean"] - part["HV std"]).min()
        ax.set_ylim(max(0.0, low - 0.15 * (part["HV mean"].max() - low)), None)

    return pair_panels(list(nas.results), draw, f"Search hypervolume, mean ± std over {nas.n_seeds} seed(s)")


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
        ax.set_xticks(sensitivity.ks, [str(k) for k in sensitivity.ks], fontsize=8)
        ax.set_xlabel("K", fontsize=8)

    title = (f"AutoBuild-NAS against K (mean ± std over {sensitivity.n_seeds} seed(s); grey line: the profile's "
             f"K={k_nas})")
    return pair_panels(sensitivity.pairs, draw, title, legend=True)


#: Colour of each of the ledger's verdicts on a paired comparison.
VERDICT_COLORS = {"agrees": "#2ca02c", "inconclusive": "0.45", "differs": "#d62728", "too few seeds": "#ff9f1c"}


def plot_comparisons(diffs, judged, labels: Callable, title: str):
    """Fig. 5 (bottom) as paired differences, one panel per pair: per comparison (a row, named by
    ``labels(row)``), every seed's difference (grey dots) and the mean with its 95% t-interval (bar,
    coloured by the ledger's verdict in ``judged["word"]``), in % of the opponent's mean hypervolume.
    ``diffs``: :func:`~autobuild.experiments.nas_runs.comparison_differences`; ``judged``: its
    :func:`~autobuild.experiments.nas_runs.comparisons` with a ``word`` column."""
    keys = ["recipe", "model", "readout", "searcher", "against"]
    conditions = list(dict.fromkeys(tuple(r) for r in judged[keys].itertuples(index=False)))
    names = [labels(dict(zip(keys, c))) for c in conditions]
    spaces, devices = _pairs_of(dict.fromkeys(zip(judged.space, judged.device)))
    devices = sorted(devices, key=lambda d: list(DEVICE_NAMES).index(d) if d in DEVICE_NAMES else len(DEVICE_NAMES))
    fig, axes = plt.subplots(len(spaces), len(devices), figsize=(7.4, 0.3 * len(conditions) * len(spaces) + 1.2),
                             squeeze=False, sharey=True)
    for i, s in enumerate(spaces):
        for j, d in enumerate(devices):
            ax = axes[i, j]
            ax.axvline(0, color="0.6", lw=0.8)
            for y, c in enumerate(conditions):
                match = dict(zip(keys, c), space=s, device=d)
                v = judged.loc[(judged[list(match)] == pd.Series(match)).all(axis=1)]
                if v.empty:
                    continue
                v = v.iloc[0]
                part = diffs.loc[(diffs[list(match)] == pd.Series(match)).all(axis=1)]
                scale = 100 / v["opponent HV"]
                ax.plot(part.difference * scale, y + 0.18 + 0.12 * np.linspace(-0.5, 0.5, len(part)), ".",
                        color="0.65", ms=3)
                mid, lo, hi = v["mean difference"] * scale, v["low"] * scale, v["high"] * scale
                ax.errorbar([mid], [y], xerr=[[mid - lo], [hi - mid]], fmt="o", ms=4, capsize=3,
                            color=VERDICT_COLORS[v["word"]])
            ax.set_title(f"{space_label(s)}-{d.upper()}", fontsize=9)
            ax.tick_params(labelsize=8)
            ax.set_yticks(range(len(conditions)), names)
            ax.set_ylim(len(conditions) - 0.4, -0.6)
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=w) for w, c in VERDICT_COLORS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, -0.03))
    fig.supxlabel("searcher's HV minus the opponent's, in % of the opponent's mean HV", fontsize=8, y=0.04)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def _labelled_sample(data, device: str, n: int = 400, seed: int = 0):
    """The labelled set's front plus ``n`` random architectures (the front of the sample is the set's)."""
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
    from autobuild.book.interactive import front_figure, pair_menu

    figs = {}
    for (s, d), runs in nas.results.items():
        data = datasets[s]
        found = pd.concat([r.to_frame(data.space).query("on_front") for r in runs if r.seed == seed])
        built = found.rename(columns={"arch": "name"}).assign(group=found.method)
        figs[f"{space_label(s)}-{d.upper()}"] = front_figure(*_labelled_sample(data, d), built, METHOD_COLORS,
                                                             f"latency_{d} (ms)", "ImageNet top-1", "")
    return pair_menu(figs, f"Fig. 5 (bottom): each search's final front, seed {seed} (choose the pair)")


def recipe_table(table, first: str, second: str):
    """:func:`~autobuild.experiments.nas_runs.recipe_differences` at page width: per pair and run,
    the paired difference with its 95% t-interval and the outcome in words (``first`` leads,
    ``second`` leads, or no difference shown; too few seeds below five)."""
    words = {"better": f"{first} leads", "worse": f"{second} leads", "tie": "no difference shown",
             "too few seeds": "too few seeds"}
    shown = table.assign(pair=[f"{space_label(s)}-{d.upper()}" for s, d in zip(table.space, table.device)],
                         **{"HV difference [95% CI]": [f"{m:+.4f} [{lo:+.4f}, {hi:+.4f}]" for m, lo, hi in
                                                       zip(table["mean difference"], table.low, table.high)],
                            "outcome": table.verdict.map(words)})
    return shown.set_index(["model", "readout", "pair"])[["seeds", "HV difference [95% CI]", "outcome"]]
