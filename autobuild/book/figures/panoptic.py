"""Figures of section 4: the architectures built for panoptic segmentation against the labelled front (Fig. 6)."""
from __future__ import annotations

import matplotlib.pyplot as plt

from autobuild.book.plotting import plot_front_and_clusters
from autobuild.experiments.panoptic import PanopticConstruction


def plot_fig6(result: PanopticConstruction):
    """The labelled set, its front and each equation's constructed architectures (red: the first,
    performance-leaning equation; blue: the balanced one), with the labelling back ends as a footnote."""
    target = result.target
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    colors = dict(zip(target.equations, ("#d62728", "#1f77b4")))
    plot_front_and_clusters(ax, result.data_perf, result.data_cost, result.constructed, colors, marker_size=16,
                            data_label="labelled set (pseudo-labelled AIO-P)" if not target.stand_in
                            else "labelled set (STAND-IN: embedded MBv3)")
    ax.set_xlabel(target.cost_axis)
    ax.set_ylabel(target.perf_axis)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("STAND-IN -- not panoptic segmentation: embedded MBv3, acc vs FLOPs" if target.stand_in
                 else "MBv3 panoptic segmentation: constructed architectures vs the PQ-FLOPs front")
    fig.text(0.01, -0.03, "Constructed architectures labelled by: " + "; ".join(result.backends.values()),
             fontsize=6, ha="left", wrap=True)
    return fig


def interactive_fig6(result: PanopticConstruction):
    """:func:`plot_fig6` for the page (plotly): hovering a point shows its architecture and labels."""
    from autobuild.book.interactive import front_figure
    from autobuild.spaces.ofa import MBV3

    target = result.target
    colors = dict(zip((f"y = {e}" for e in target.equations), ("#d62728", "#1f77b4")))
    built = result.constructed.assign(group=[f"y = {e}" for e in result.constructed.equation],
                                      name=[MBV3.to_string(a) for a in result.constructed.arch])
    return front_figure(result.data_perf, result.data_cost, [MBV3.to_string(a) for a in target.data.archs], built,
                        colors, target.cost_axis, target.perf_axis,
                        "STAND-IN (embedded MBv3, acc vs FLOPs), not panoptic segmentation" if target.stand_in
                        else "Constructed architectures vs the PQ-FLOPs front",
                        data_label="labelled set (STAND-IN)" if target.stand_in else "labelled set (pseudo-labelled AIO-P)")
