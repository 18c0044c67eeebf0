"""Figures of section 1: an architecture's rooted subgraphs (Fig. 1) and graph sizes."""
from __future__ import annotations

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np

from autobuild.book.plotting import SPACE_COLORS
from autobuild.book.tables import space_label
from autobuild.experiments.encodings import RootedSubgraphs, SequenceGraph


def plot_rooted_subgraphs(seq: SequenceGraph, rooted: RootedSubgraphs):
    """Fig. 1: one panel per hop count, the root red and the rest of its rooted subgraph orange.

    Rows are stages ``u``, columns layer positions ``l``; dashed edges cross into the next stage.
    """
    graph, nodes = seq.graph, seq.nodes
    stage_of, layer_pos = nodes["stage"].to_numpy(), nodes["layer"].to_numpy()
    pos = {i: (layer_pos[i], -stage_of[i]) for i in graph.nodes}
    labels = {i: f"u{stage_of[i]} l{layer_pos[i]}\ne{nodes['expand'][i]}k{nodes['kernel'][i]}" for i in graph.nodes}
    within = [(a, b) for a, b in graph.edges if stage_of[a] == stage_of[b]]
    across = [(a, b) for a, b in graph.edges if stage_of[a] != stage_of[b]]
    panels = [(f"{m}-hop subgraph rooted at {'the red' if k == 0 else 'the same'} node", members)
              for k, (m, members) in enumerate(rooted.members.items())]

    fig, axes = plt.subplots(1, len(panels), figsize=(10, 4.8), layout="constrained")
    for ax, (title, members) in zip(axes, panels):
        colors = ["#d62728" if i == rooted.root else "#ff7f0e" if i in members else "#dddddd" for i in graph.nodes]
        for edges, style in ((within, "solid"), (across, "dashed")):
            nx.draw_networkx_edges(graph, pos, edgelist=edges, ax=ax, arrows=True, arrowsize=10, style=style,
                                   edge_color="#888888", node_size=1300)
        nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=colors, node_size=1300, edgecolors="#333333")
        nx.draw_networkx_labels(graph, pos, labels, ax=ax, font_size=7)
        ax.set_title(title)
        ax.set_xlim(-0.6, 3.6)
        ax.axis("off")
    fig.suptitle(f"An {space_label(seq.space.name)} architecture ({seq.arch.resolution} px) as a sequence graph: rows are stages u, "
                 "columns layers l; dashed edges cross into the next stage", fontsize=10)
    return fig


def plot_graph_sizes(n_nodes: dict[str, np.ndarray]):
    """Histogram of nodes per architecture graph, one colour per space (keys are space names)."""
    fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    for name, counts in n_nodes.items():
        ax.hist(counts, bins=np.arange(5.5, 22.5), alpha=0.6, color=SPACE_COLORS[name],
                label=f"{space_label(name)} (mean {np.mean(counts):.1f})")
    ax.set_xlabel("nodes (layers) per architecture graph")
    ax.set_ylabel("architectures")
    ax.legend()
    return fig
