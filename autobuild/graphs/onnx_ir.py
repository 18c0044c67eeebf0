"""The authors' ONNX-IR cache records (unpickled into our own record classes) and their
conversion to :class:`~autobuild.graphs.ir.IRGraph`.
"""
from __future__ import annotations

from collections import deque

from autobuild.graphs.ir import IRGraph, IRNode, _assemble

# ONNX op types (as in the authors' ONNX-IR graphs) -> our op types. Dropped: no tensor op.
ONNX_OP_MAP = {
    "input_dummy": "Input", "output_dummy": "Output", "Conv": "Conv", "BatchNormalization": "BN",
    "Relu": "ReLU", "Clip": "ReLU6", "HardSigmoid": "HardSigmoid", "HardSwish": "HardSwish",
    "Sigmoid": "Sigmoid", "Add": "Add", "Sum": "Add", "Mul": "Mul", "Div": "Div",
    "GlobalAveragePool": "GAP", "ReduceMean": "ReduceMean", "Gemm": "Linear", "MatMul": "Linear",
    "Flatten": "Reshape", "Reshape": "Reshape", "Squeeze": "Reshape", "Unsqueeze": "Reshape",
    "Dropout": "Dropout", "Concat": "Concat",
}


ONNX_DROPPED = frozenset({"Constant", "Shape", "Identity"})


class _StateRecord:
    """Holds the pickled attribute dict of an authors' object, and nothing else."""

    FIELDS: tuple[str, ...] = ()

    def __getattr__(self, name):
        if name in type(self).FIELDS:
            return None
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise TypeError(f"{type(self).__name__}: pickled state must be a dict, got {type(state).__name__}")
        for key in self.FIELDS:
            setattr(self, key, state.get(key))


class OnnxIRNodeRecord(_StateRecord):
    """Our stand-in for the authors' ``onnx_ir.node.Node`` (ONNX JSON-style input/output dicts)."""

    FIELDS = ("str_id", "name", "op_type", "inputs", "outputs", "attribute", "initializer")


class OnnxIRGraphRecord(_StateRecord):
    """Our stand-in for the authors' ``onnx_ir.graph.Graph`` (nodes and ``src2dst`` adjacency)."""

    FIELDS = ("onnx_meta_info", "metadata", "nodes", "src2dst", "input_nodes", "output_nodes")


def _onnx_shape(info) -> tuple[int, ...] | None:
    try:
        shape = info["type"]["tensorType"]["shape"]
    except (KeyError, TypeError):
        return None
    dims = []
    for i, d in enumerate(shape.get("dim", [])):
        if "dimValue" in d:
            dims.append(int(d["dimValue"]))
        elif i == 0:
            dims.append(1)          # symbolic batch dimension
        else:
            return None
    return tuple(dims)


def _onnx_attribute(node: OnnxIRNodeRecord, name: str):
    attrs = node.attribute or []
    attrs = [attrs] if isinstance(attrs, dict) else attrs
    for a in attrs:
        if isinstance(a, dict) and a.get("name") == name:
            return a
    return None


def _onnx_ir_node(rec: OnnxIRNodeRecord) -> IRNode | None:
    if not isinstance(rec.op_type, str):
        raise ValueError(f"ONNX-IR node {rec.str_id!r} has no op type")
    if rec.op_type in ONNX_DROPPED:
        return None
    op = ONNX_OP_MAP.get(rec.op_type, "Other")
    outs = [_onnx_shape(o) for o in (rec.outputs or [])]
    ins = tuple(_onnx_shape(i) for i in (rec.inputs or []))
    kernel = groups = None
    if op == "Conv":
        ks = _onnx_attribute(rec, "kernel_shape")
        if ks is not None:
            k = [int(v) for v in ks.get("ints", [])]
            kernel = k[0] if k and all(v == k[0] for v in k) else -1
        g = _onnx_attribute(rec, "group")
        groups = int(g.get("i", 1)) if g is not None else 1
    return IRNode(op, outs[0] if outs else None, ins[:1], kernel, groups, str(rec.name or rec.str_id))


def ir_graph_from_onnx_ir(graph: OnnxIRGraphRecord, metadata: dict | None = None) -> IRGraph:
    """Convert one graph of the authors' ONNX-IR cache into an :class:`IRGraph`."""
    if not isinstance(graph, OnnxIRGraphRecord):
        raise TypeError(f"expected an ONNX-IR graph record, got {type(graph).__name__}")
    nodes, src2dst = graph.nodes, graph.src2dst
    if not isinstance(nodes, list) or not nodes or not all(isinstance(n, OnnxIRNodeRecord) for n in nodes):
        raise ValueError("ONNX-IR graph must hold a non-empty list of nodes")
    if not isinstance(src2dst, dict):
        raise ValueError("ONNX-IR graph must hold a src2dst adjacency dict")
    ids = [n.str_id for n in nodes]
    index = {sid: i for i, sid in enumerate(ids)}
    if len(index) != len(ids):
        raise ValueError("ONNX-IR graph has duplicate node ids")
    preds: list[list[int]] = [[] for _ in nodes]
    for src, dsts in src2dst.items():
        for dst in dsts:
            if src not in index or dst not in index:
                raise ValueError(f"ONNX-IR edge {src!r} -> {dst!r} names an unknown node")
            preds[index[dst]].append(index[src])
    order = _topological_order(preds)
    position = {old: new for new, old in enumerate(order)}
    items = [(_onnx_ir_node(nodes[i]), [position[p] for p in preds[i]]) for i in order]
    meta = dict(metadata or {})
    return _assemble(items, meta)


def _topological_order(preds: list[list[int]]) -> list[int]:
    n = len(preds)
    succs: list[list[int]] = [[] for _ in range(n)]
    indeg = [len(p) for p in preds]
    for d, ps in enumerate(preds):
        for s in ps:
            succs[s].append(d)
    ready = deque(i for i in range(n) if indeg[i] == 0)
    order = []
    while ready:
        i = ready.popleft()
        order.append(i)
        for d in succs[i]:
            indeg[d] -= 1
            if indeg[d] == 0:
                ready.append(d)
    if len(order) != n:
        raise ValueError("ONNX-IR graph has a cycle")
    return order
