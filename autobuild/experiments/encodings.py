"""Architectures as sequence graphs (paper Sec. 3, Fig. 1; space sizes of Sec. 5.1).

An architecture with ``n`` layers is a directed chain: node ``i`` is the ``i``-th layer in
forward order and the edges are ``i -> i+1``. A message-passing layer aggregates over a
node's predecessors, so after ``m`` layers ``h_v^m`` depends exactly on the ``m``-hop
subgraph rooted at ``v``,

    S_m(v) = {j : 0 <= v - j <= m},

``v`` and its ``m`` predecessors. A stage of ``l`` layers is therefore the ``(l-1)``-hop
subgraph rooted at its last layer (Eq. 5).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd
import torch

from autobuild.data.labelled import LabelledSet
from autobuild.graphs.table import GraphTable
from autobuild.predictor.model import AutoBuildPredictor
from autobuild.spaces.base import Architecture, SequenceSpace


def rooted_subgraph(graph: nx.DiGraph, v: int, m: int) -> set[int]:
    """Nodes within ``m`` hops upstream of ``v`` (those whose features reach ``h_v^m``)."""
    return set(nx.single_source_shortest_path_length(graph.reverse(copy=False), v, cutoff=m))


@dataclass
class SequenceGraph:
    """One architecture as a chain graph with its decoded node features (one row per node)."""

    space: SequenceSpace
    arch: Architecture
    nodes: pd.DataFrame
    graph: nx.DiGraph

    @classmethod
    def of(cls, space: SequenceSpace, arch: Architecture) -> SequenceGraph:
        codes = space.node_features(arch)
        nodes = pd.DataFrame({name: [space.feature_vocab[name][i] for i in codes[:, j]]
                              for j, name in enumerate(space.feature_names)})
        nodes.index.name = "node"
        graph = nx.DiGraph()
        graph.add_nodes_from(range(arch.n_layers))
        graph.add_edges_from((i, i + 1) for i in range(arch.n_layers - 1))
        return cls(space, arch, nodes, graph)


@dataclass
class Example:
    """A labelled architecture of a dataset, as a sequence graph."""

    seq: SequenceGraph
    label: str
    value: float
    provenance: str

    def summary(self) -> str:
        arch = self.seq.arch
        return (f"architecture: {self.seq.space.to_string(arch)}\n"
                f"{self.label} label: {self.value:.4f} ({self.provenance})\n"
                f"{arch.n_layers} nodes in {len(arch.stages)} stages of {arch.depths} layers")


def median_example(data: LabelledSet, label: str = "acc") -> Example:
    """The architecture of median ``label`` (the upper median for an even count)."""
    values = data.labels[label].to_numpy()
    i = int(np.argsort(values)[len(values) // 2])
    return Example(SequenceGraph.of(data.space, data.archs[i]), label, data.labels[label].iloc[i],
                   data.provenance.get(label, "no provenance"))


@dataclass
class RootedSubgraphs:
    """The ``m``-hop subgraphs rooted at the last layer of the deepest stage, for each ``m`` asked."""

    root: int
    stage: int
    depth: int
    members: dict[int, set[int]]

    def summary(self) -> str:
        hops = ";  ".join(f"{m}-hop subgraph: nodes {sorted(nodes)}" for m, nodes in self.members.items())
        return f"root: node {self.root} (stage {self.stage}, last of its {self.depth} layers)\n{hops}"


def deepest_stage_subgraphs(seq: SequenceGraph, hops: Sequence[int] = (1, 3)) -> RootedSubgraphs:
    """Root at the last layer of the deepest stage (ties: the stage nearest the middle, stage 2)."""
    depths = seq.arch.depths
    deepest = max(range(len(depths)), key=lambda u: (depths[u], -abs(u - 2)))
    root = int(np.flatnonzero(seq.nodes["stage"].to_numpy() == deepest)[-1])
    return RootedSubgraphs(root, deepest, depths[deepest], {m: rooted_subgraph(seq.graph, root, m) for m in hops})


@dataclass
class ReceptiveField:
    """Which node perturbations change ``h_root^m`` (``reach``), against ``S_m(root)`` (``expected``).

    Both are boolean frames indexed by the perturbed node, one column ``h^m`` per hop.
    """

    root: int
    reach: pd.DataFrame
    expected: pd.DataFrame

    @property
    def agrees(self) -> bool:
        return bool((self.reach.to_numpy() == self.expected.to_numpy()).all())

    def within(self) -> pd.DataFrame:
        """The rows of ``reach`` for the nodes of the deepest hop's rooted subgraph."""
        return self.reach[self.expected.iloc[:, -1].to_numpy()]


def receptive_field(seq: SequenceGraph, root: int, feature: str = "kernel", seed: int = 0) -> ReceptiveField:
    """Perturb ``feature`` of one node at a time in an untrained predictor seeded with ``seed``.

    Node ``j`` may change ``h_root^m`` exactly when ``j`` lies in ``S_m(root)``.
    """
    space, arch = seq.space, seq.arch
    torch.manual_seed(seed)
    model = AutoBuildPredictor(space.feature_vocab).eval()
    x, edge_index, _, _ = GraphTable.from_architectures(space, [arch]).batch(torch.tensor([0]))
    col = space.feature_names.index(feature)
    hops = range(model.n_hops + 1)
    with torch.no_grad():
        base = model.node_embeddings(x, edge_index)
        reach = np.zeros((arch.n_layers, model.n_hops + 1), dtype=bool)
        for j in range(arch.n_layers):
            x2 = x.clone()
            x2[j, col] = (x2[j, col] + 1) % len(space.feature_vocab[feature])
            changed = model.node_embeddings(x2, edge_index)
            reach[j] = [not torch.allclose(changed[m][root], base[m][root]) for m in hops]
    expected = np.array([[j in rooted_subgraph(seq.graph, root, m) for m in hops] for j in range(arch.n_layers)])
    columns = [f"h^{m}" for m in hops]
    return ReceptiveField(root, pd.DataFrame(reach, columns=columns).rename_axis("perturbed node"),
                          pd.DataFrame(expected, columns=columns).rename_axis("perturbed node"))


@dataclass
class SpaceSizes:
    """Stage subgraphs and architectures each space admits, counted by enumeration; ``depths``
    holds each stage's fewest and most layers, read from its enumerated subgraphs."""

    table: pd.DataFrame
    per_stage: dict[str, list[int]]
    sizes: dict[str, int]
    depths: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def stages_text(self, space: str) -> str:
        """``"5 stages of 2-4 layers"`` when every stage of ``space`` has the same range of depths,
        else each stage's range."""
        ranges = [f"{lo}-{hi}" if lo != hi else f"{lo}" for lo, hi in self.depths[space]]
        if len(set(ranges)) == 1:
            return f"{len(ranges)} stages of {ranges[0]} layers"
        return f"{len(ranges)} stages of " + ", ".join(ranges) + " layers"

    def versus_paper(self) -> str:
        """Sec. 5.1: ``9^2 + 9^3 + 9^4`` subgraphs per MBv3 stage, 9 more for PN, both above 1e19."""
        formula = 9**2 + 9**3 + 9**4
        mbv3 = self.per_stage["mbv3"]
        mbv3_stage, pn_extra = mbv3[0], sum(self.per_stage["pn"]) - len(mbv3) * mbv3[0]
        return (f"9^2 + 9^3 + 9^4 = {formula}; enumerated per MBv3 stage: {mbv3_stage} -> "
                f"{'agrees' if mbv3_stage == formula else 'DISAGREES'}\n"
                f"PN modules beyond MBv3's: {pn_extra} (paper: 9) -> {'agrees' if pn_extra == 9 else 'DISAGREES'}\n"
                f"both spaces above 1e19 architectures: {min(self.sizes.values()) > 10**19}")


def space_sizes(spaces: Sequence[SequenceSpace]) -> SpaceSizes:
    """Per space: stage subgraphs per stage and in total, each stage's depths, and ``prod_u |S_u|``
    architectures."""
    rows, per_stage, depths = [], {}, {}
    for space in spaces:
        stages = [space.stage_subgraphs(u) for u in range(space.n_stages)]
        per_stage[space.name] = [len(s) for s in stages]
        depths[space.name] = [(min(map(len, s)), max(map(len, s))) for s in stages]
        rows.append({"space": space.name, "stages": space.n_stages,
                     "layers per stage": ", ".join(f"{lo}-{hi}" if lo != hi else f"{lo}" for lo, hi in depths[space.name]),
                     "subgraphs per stage": ", ".join(map(str, per_stage[space.name])),
                     "stage subgraphs (total)": sum(per_stage[space.name]),
                     "resolutions": len(space.resolutions),
                     "architectures": f"{space.size:.3e}",
                     "architectures x resolutions": f"{space.size * len(space.resolutions):.3e}"})
    return SpaceSizes(pd.DataFrame(rows).set_index("space"), per_stage, {s.name: s.size for s in spaces}, depths)


def graph_sizes(spaces: Sequence[SequenceSpace], n: int, seed: int) -> dict[str, np.ndarray]:
    """Nodes per graph of ``n`` architectures sampled from each space with ``seed``."""
    return {space.name: np.array([a.n_layers for a in space.sample(n, seed=seed)]) for space in spaces}
