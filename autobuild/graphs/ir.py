"""Op-level IR graphs (paper Sec. 3.1 and Fig. 3): one node per primitive operation.

An :class:`IRGraph` is a DAG of :class:`IRNode` s (op type, tensor shapes, kernel, groups),
edges pointing from producer to consumer. Graphs come from two readers with one vocabulary:
:mod:`~autobuild.graphs.ofa_ir` (OFA subnets traced by :mod:`~autobuild.graphs.fx_reader`) and
:mod:`~autobuild.graphs.onnx_ir` (the paper's ONNX-IR cache).

Node features for a predictor are categorical (:data:`ir_feature_vocab`): op type, kernel
size, convolution grouping, a log2 bucket of the output channels and the output's spatial
side length (exact, among the sizes OFA nets produce, so the input resolution stays visible).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

OP_TYPES = ("Other", "Input", "Output", "Conv", "BN", "ReLU", "ReLU6", "HardSigmoid", "HardSwish",
            "Sigmoid", "Add", "Mul", "Div", "GAP", "ReduceMean", "Linear", "Reshape", "Dropout", "Concat")


CHANNEL_EDGES = (16, 32, 64, 128, 256, 512, 1024)


# Every feature-map side length of an OFA net at input 160..224 (stride-2 steps halve, rounding
# up): exact values keep the input resolution visible in the op graph.
SPATIAL_SIZES = tuple(sorted({1} | {-(-r // 2 ** k) for r in range(160, 225, 16) for k in range(6)}))


ir_feature_vocab: dict[str, tuple] = {
    "op": OP_TYPES,
    "kernel": ("none", 1, 3, 5, 7, "other"),
    "groups": ("none", "dense", "depthwise", "grouped"),
    "channels": ("none",) + tuple(f"<={e}" for e in CHANNEL_EDGES) + (f">{CHANNEL_EDGES[-1]}",),
    "spatial": ("none",) + SPATIAL_SIZES + ("other",),
}


@dataclass
class IRNode:
    """One primitive operation; shapes are NCHW (or N x features) tuples, ``None`` if unknown."""

    op_type: str
    output_shape: tuple[int, ...] | None = None
    input_shapes: tuple = ()
    kernel: int | None = None
    groups: int | None = None
    name: str = ""

    def __post_init__(self):
        if self.op_type not in OP_TYPES:
            raise ValueError(f"unknown IR op type {self.op_type!r}; known: {OP_TYPES}")

    @property
    def is_depthwise(self) -> bool:
        return self.grouping == "depthwise"

    @property
    def grouping(self) -> str:
        if self.groups is None:
            return "none"
        if self.groups == 1:
            return "dense"
        channels = self.output_shape[1] if self.output_shape and len(self.output_shape) > 1 else None
        return "depthwise" if self.groups == channels else "grouped"

    def features(self) -> list[int]:
        """Vocabulary indices in :data:`ir_feature_vocab` order."""
        kernels = ir_feature_vocab["kernel"]
        kernel = "none" if self.kernel is None else (self.kernel if self.kernel in kernels else "other")
        shape = self.output_shape
        channels = shape[1] if shape is not None and len(shape) >= 2 else None
        spatial = shape[2] if shape is not None and len(shape) == 4 else None
        return [OP_TYPES.index(self.op_type), kernels.index(kernel),
                ir_feature_vocab["groups"].index(self.grouping),
                _bucket(channels, CHANNEL_EDGES), _spatial_index(spatial)]


def _bucket(value: int | None, edges: Sequence[int]) -> int:
    """0 for unknown, then 1 + the first edge ``value`` does not exceed (``len(edges)+1`` past all)."""
    if value is None:
        return 0
    for i, edge in enumerate(edges):
        if value <= edge:
            return i + 1
    return len(edges) + 1


def _spatial_index(size: int | None) -> int:
    values = ir_feature_vocab["spatial"]
    if size is None:
        return 0
    return values.index(size) if size in SPATIAL_SIZES else len(values) - 1


@dataclass
class IRGraph:
    """A DAG of op nodes; ``edges`` are ``(src, dst)`` node positions."""

    nodes: list[IRNode]
    edges: list[tuple[int, int]]
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.nodes)
        bad = [e for e in self.edges if not (0 <= e[0] < n and 0 <= e[1] < n) or e[0] == e[1]]
        if bad:
            raise ValueError(f"IR graph with {n} nodes has invalid edges, e.g. {bad[:3]}")

    def __len__(self) -> int:
        return len(self.nodes)

    def op_counts(self) -> Counter:
        return Counter(n.op_type for n in self.nodes)

    def predecessors(self, i: int) -> list[int]:
        return [s for s, d in self.edges if d == i]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x int64 [n, F], edge_index int64 [2, E])`` for ``GraphTable.from_arrays``."""
        x = np.asarray([n.features() for n in self.nodes], dtype=np.int64).reshape(len(self.nodes), -1)
        edge_index = np.asarray(self.edges, dtype=np.int64).reshape(-1, 2).T.copy()
        return x, edge_index


def ir_arrays(graphs: Iterable[IRGraph]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Feature and edge arrays of many graphs: ``(xs, edge_indices)``."""
    xs, edges = [], []
    for g in graphs:
        x, e = g.arrays()
        xs.append(x)
        edges.append(e)
    return xs, edges


def _assemble(items: list[tuple[IRNode | None, list[int]]], metadata: dict) -> IRGraph:
    """Graph from topologically ordered ``(node or None, predecessor item positions)``.

    Items without a node are contracted away: their consumers inherit their producers. Then
    chains of ``ReduceMean`` merge, and a mean over all spatial positions becomes ``GAP``.
    """
    reps: list[list[int]] = []
    nodes: list[IRNode] = []
    preds: list[list[int]] = []
    for node, item_preds in items:
        sources = list(dict.fromkeys(s for p in item_preds for s in reps[p]))
        if node is None:
            reps.append(sources)
            continue
        reps.append([len(nodes)])
        nodes.append(node)
        preds.append(sources)
    nodes, preds = _merge_mean_chains(nodes, preds)
    for node in nodes:
        if node.op_type == "ReduceMean" and _is_global_pool(node):
            node.op_type = "GAP"
    edges = [(s, d) for d, ps in enumerate(preds) for s in ps]
    return IRGraph(nodes, edges, metadata)


def _merge_mean_chains(nodes, preds):
    n_succ = Counter(s for ps in preds for s in ps)
    absorbed = set()
    for d, ps in enumerate(preds):
        if nodes[d].op_type == "ReduceMean" and len(ps) == 1:
            s = ps[0]
            if nodes[s].op_type == "ReduceMean" and n_succ[s] == 1:
                nodes[d].input_shapes = nodes[s].input_shapes
                preds[d] = preds[s]
                absorbed.add(s)
    if not absorbed:
        return nodes, preds
    keep = [i for i in range(len(nodes)) if i not in absorbed]
    new_index = {old: new for new, old in enumerate(keep)}
    return [nodes[i] for i in keep], [[new_index[s] for s in preds[i]] for i in keep]


def _is_global_pool(node: IRNode) -> bool:
    src = node.input_shapes[0] if node.input_shapes else None
    out = node.output_shape
    if src is None or out is None or len(src) != 4:
        return False
    return out[:2] == src[:2] and math.prod(out[2:]) == 1 and src[2] * src[3] > 1
