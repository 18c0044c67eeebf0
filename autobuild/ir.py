"""Op-level IR graphs (paper Sec. 3.1 and Fig. 3): one node per primitive operation.

An :class:`IRGraph` is a DAG of :class:`IRNode` s (op type, tensor shapes, kernel, groups),
edges pointing from producer to consumer. Graphs come from two places, with one vocabulary:

* :func:`ofa_ir_graph` builds the ``ofa`` subnet of an OFA architecture on the ``meta`` device
  (structure only: no weights, nothing downloaded), traces it with ``torch.fx`` and derives
  every tensor shape from the modules' hyper-parameters (no forward pass). Each distinct
  ``ofa`` layer is traced once per input shape and reused, so thousands of graphs take a minute.
* :func:`ir_graph_from_onnx_ir` converts a graph of the paper's ONNX-IR cache, read through
  the restricted unpickler of :mod:`autobuild.paper_caches` into :class:`OnnxIRGraphRecord` /
  :class:`OnnxIRNodeRecord` (our stand-ins for the authors' ``onnx_ir.graph.Graph`` and
  ``onnx_ir.node.Node``).

Node features for a predictor are categorical (:data:`ir_feature_vocab`): op type, kernel
size, convolution grouping, a log2 bucket of the output channels and the output's spatial
side length (exact, among the sizes OFA nets produce, so the input resolution stays visible).
"""
from __future__ import annotations

import copy
import functools
import json
import math
import operator
import re
import weakref
from collections import Counter, deque
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


# Assembly shared by both sources ----------------------------------------------------------

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


# From an ``ofa`` subnet via torch.fx --------------------------------------------------------

def _conv_out(size: int, k: int, s: int, p: int, d: int) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


# Traced fragments of repeated sub-modules, keyed by (fragment key, input shape); see ir_graph_from_module.
_FRAGMENTS: dict = {}


class _FxReader:
    """Walks a ``torch.fx`` trace of ``root``, computing shapes from module hyper-parameters.

    Sub-modules for which ``fragment_key`` gives a key are traced once per (key, input shape)
    on their own, and their nodes spliced in: repeated blocks cost one trace.
    """

    def __init__(self, root, input_shape: tuple[int, ...], fragment_key=None):
        import torch
        import torch.fx
        import torch.nn.functional as F
        from torch import nn
        self.root, self.input_shape, self.fragment_key = root, tuple(input_shape), fragment_key
        self.same_shape_modules = {nn.BatchNorm2d: "BN", nn.BatchNorm1d: "BN", nn.ReLU: "ReLU",
                                   nn.ReLU6: "ReLU6", nn.Hardswish: "HardSwish",
                                   nn.Hardsigmoid: "HardSigmoid", nn.Sigmoid: "Sigmoid",
                                   nn.Dropout: "Dropout", nn.Identity: None}
        self.same_shape_functions = {F.relu: "ReLU", torch.relu: "ReLU", F.relu6: "ReLU6",
                                     F.hardswish: "HardSwish", F.hardsigmoid: "HardSigmoid",
                                     torch.sigmoid: "Sigmoid", F.dropout: "Dropout"}
        self.binary = {operator.add: "Add", torch.add: "Add", operator.iadd: "Add",
                       operator.mul: "Mul", torch.mul: "Mul", operator.imul: "Mul",
                       operator.truediv: "Div", torch.div: "Div", operator.itruediv: "Div"}
        self.nn, self.torch = nn, torch
        tracer = torch.fx.Tracer()
        if fragment_key is not None:
            tracer.is_leaf_module = lambda m, name: fragment_key(m) is not None or \
                torch.fx.Tracer.is_leaf_module(tracer, m, name)
        self.graph = tracer.trace(root)

    def read(self) -> list[tuple[IRNode | None, list[int]]]:
        self.values: dict = {}      # fx node -> shape tuple (tensors) or python value
        self.tensors: set = set()
        position = {}
        items = []
        for fx_node in self.graph.nodes:
            preds = [position[p] for p in fx_node.all_input_nodes if p in self.tensors]
            key = None
            if fx_node.op == "call_module" and self.fragment_key is not None:
                key = self.fragment_key(self.root.get_submodule(fx_node.target))
            if key is None:
                items.append((self._node(fx_node), preds))
            else:
                self._splice(fx_node, key, preds, items)
            position[fx_node] = len(items) - 1
        return items

    def _splice(self, fx_node, key, preds: list[int], items: list) -> None:
        ins = self._inputs(fx_node)
        if len(ins) != 1:
            raise NotImplementedError(f"IR builder: fragment {fx_node.target} must take one tensor input")
        cache_key = (key, ins[0])
        if cache_key not in _FRAGMENTS:
            mod = self.root.get_submodule(fx_node.target)
            _FRAGMENTS[cache_key] = _FxReader(mod, ins[0], self.fragment_key).read()
        fragment = _FRAGMENTS[cache_key]
        if fragment[0][0] is None or fragment[0][0].op_type != "Input" or \
                sum(n is not None and n.op_type == "Input" for n, _ in fragment) != 1:
            raise NotImplementedError(f"IR builder: fragment {fx_node.target} must have exactly one input")
        base = len(items)
        items.append((None, preds))                                  # the fragment's input
        for node, node_preds in fragment[1:]:
            if node is not None:
                node = copy.copy(node)
                node.name = f"{fx_node.name}.{node.name}"
            items.append((node, [base + p for p in node_preds]))
        items[-1] = (None, items[-1][1])                             # the fragment's output
        self._set(fx_node, fragment[-1][0].output_shape, None)

    def _arg(self, a):
        from torch.fx import Node
        if isinstance(a, Node):
            return self.values[a]
        if isinstance(a, (tuple, list)):
            return type(a)(self._arg(v) for v in a)
        return a

    def _set(self, fx_node, shape, node: IRNode | None, tensor: bool = True):
        self.values[fx_node] = tuple(shape) if tensor else shape
        if tensor:
            self.tensors.add(fx_node)
            if node is not None:
                node.output_shape = tuple(shape)
                node.name = fx_node.name
        return node

    def _inputs(self, fx_node) -> tuple:
        return tuple(self.values[p] for p in fx_node.all_input_nodes if p in self.tensors)

    def _node(self, fx_node) -> IRNode | None:
        kind, target = fx_node.op, fx_node.target
        if kind == "placeholder":
            return self._set(fx_node, self.input_shape, IRNode("Input"))
        if kind == "output":
            return self._set(fx_node, self._inputs(fx_node)[0], IRNode("Output", input_shapes=self._inputs(fx_node)))
        args = [self._arg(a) for a in fx_node.args]
        kwargs = {k: self._arg(v) for k, v in fx_node.kwargs.items()}
        ins = self._inputs(fx_node)
        if kind == "call_module":
            return self._module(fx_node, self.root.get_submodule(target), args, ins)
        if kind == "call_method":
            return self._method(fx_node, target, args, kwargs, ins)
        if kind == "call_function":
            return self._function(fx_node, target, args, kwargs, ins)
        raise NotImplementedError(f"IR builder: fx node kind {kind!r} ({fx_node.name}) is not supported")

    def _module(self, fx_node, mod, args, ins):
        nn = self.nn
        if isinstance(mod, nn.Conv2d):
            n, _, h, w = args[0]
            k, s, p, d = mod.kernel_size, mod.stride, mod.padding, mod.dilation
            if isinstance(p, str):
                raise NotImplementedError(f"IR builder: string padding {p!r} in {fx_node.name}")
            shape = (n, mod.out_channels, _conv_out(h, k[0], s[0], p[0], d[0]), _conv_out(w, k[1], s[1], p[1], d[1]))
            kernel = k[0] if k[0] == k[1] else -1
            return self._set(fx_node, shape, IRNode("Conv", input_shapes=ins, kernel=kernel, groups=mod.groups))
        if isinstance(mod, nn.Linear):
            return self._set(fx_node, args[0][:-1] + (mod.out_features,), IRNode("Linear", input_shapes=ins))
        if isinstance(mod, nn.AdaptiveAvgPool2d) and mod.output_size in (1, (1, 1)):
            return self._set(fx_node, args[0][:2] + (1, 1), IRNode("GAP", input_shapes=ins))
        if isinstance(mod, nn.Flatten):
            return self._set(fx_node, _flatten(args[0], mod.start_dim, mod.end_dim), IRNode("Reshape", input_shapes=ins))
        for cls, op in self.same_shape_modules.items():
            if type(mod) is cls:
                return self._set(fx_node, args[0], None if op is None else IRNode(op, input_shapes=ins))
        raise NotImplementedError(f"IR builder: module {type(mod).__name__} ({fx_node.target}) is not supported")

    def _method(self, fx_node, name, args, kwargs, ins):
        if name == "size":
            shape = args[0]
            dim = args[1] if len(args) > 1 else kwargs.get("dim")
            return self._set(fx_node, shape if dim is None else shape[dim], None, tensor=False)
        if name in ("view", "reshape"):
            target = args[1] if len(args) == 2 and isinstance(args[1], (tuple, list)) else args[1:]
            return self._set(fx_node, _reshape(args[0], target), IRNode("Reshape", input_shapes=ins))
        if name in ("flatten", "mean"):        # same arguments as torch.flatten / torch.mean
            return self._function(fx_node, getattr(self.torch, name), args, kwargs, ins)
        if name == "contiguous":
            return self._set(fx_node, args[0], None)
        raise NotImplementedError(f"IR builder: tensor method {name!r} ({fx_node.name}) is not supported")

    def _function(self, fx_node, fn, args, kwargs, ins):
        if fn in self.binary:
            shapes = [a for a in args[:2] if isinstance(a, tuple)]
            shape = tuple(self.torch.broadcast_shapes(*shapes))
            return self._set(fx_node, shape, IRNode(self.binary[fn], input_shapes=ins))
        if fn in self.same_shape_functions:
            return self._set(fx_node, args[0], IRNode(self.same_shape_functions[fn], input_shapes=ins))
        if fn is operator.getitem and fx_node.args[0] not in self.tensors:
            return self._set(fx_node, args[0][args[1]], None, tensor=False)
        if fn is self.torch.flatten:
            start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
            end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
            return self._set(fx_node, _flatten(args[0], start, end), IRNode("Reshape", input_shapes=ins))
        if fn is self.torch.mean:
            dim = args[1] if len(args) > 1 else kwargs.get("dim")
            keep = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
            return self._set(fx_node, _reduce(args[0], dim, keep), IRNode("ReduceMean", input_shapes=ins))
        name = getattr(fn, "__name__", repr(fn))
        raise NotImplementedError(f"IR builder: function {name!r} ({fx_node.name}) is not supported")


def _reduce(shape, dim, keepdim):
    dims = range(len(shape)) if dim is None else (dim if isinstance(dim, (tuple, list)) else (dim,))
    dims = {d % len(shape) for d in dims}
    return tuple(1 if i in dims else s for i, s in enumerate(shape) if keepdim or i not in dims)


def _flatten(shape, start, end):
    start, end = start % len(shape), end % len(shape)
    return shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]


def _reshape(shape, target):
    target = list(target)
    if target.count(-1) > 1:
        raise ValueError(f"reshape target {target} has more than one -1")
    if -1 in target:
        known = math.prod(t for t in target if t != -1)
        target[target.index(-1)] = math.prod(shape) // known
    if math.prod(target) != math.prod(shape):
        raise ValueError(f"cannot reshape {shape} to {tuple(target)}")
    return tuple(target)


def ir_graph_from_module(module, input_shape: Sequence[int], metadata: dict | None = None,
                         fragment_key=None) -> IRGraph:
    """Trace ``module`` with ``torch.fx`` into an op-level IR graph for an input of ``input_shape``.

    ``fragment_key(submodule)`` may return a hashable key that fully describes a sub-module
    (or ``None``): such sub-modules are traced once per key and input shape and reused, which
    gives the same graph faster when blocks repeat across many networks.
    """
    return _assemble(_FxReader(module, tuple(input_shape), fragment_key).read(), dict(metadata or {}))


_OFA_NETS = {  # supernet class, subnet class, the subnet constructor's layer arguments
    "ofa_mbv3": ("OFAMobileNetV3", "MobileNetV3",
                 ("first_conv", "blocks", "final_expand_layer", "feature_mix_layer", "classifier")),
    "ofa_proxyless": ("OFAProxylessNASNets", "ProxylessNASNets",
                      ("first_conv", "blocks", "feature_mix_layer", "classifier")),
}


def _ofa_family(net_name: str) -> tuple[str, float]:
    m = re.fullmatch(r"(ofa_mbv3|ofa_proxyless)_d\d+_e\d+_k\d+_w([\d.]+)", net_name)
    if not m:
        raise ValueError(f"no IR builder for OFA network {net_name!r}")
    return m.group(1), float(m.group(2))


@functools.lru_cache(maxsize=None)
def _supernet(net_name: str, kernels: tuple, expands: tuple, depths: tuple):
    """The ``ofa`` supernet ``net_name`` on the meta device: structure only, no weights."""
    import torch
    try:
        from ofa.imagenet_classification.elastic_nn import networks
    except ImportError as exc:
        raise ImportError("building IR graphs of OFA subnets needs the `ofa` package: "
                          "pip install 'autobuild[ofa]'") from exc
    family, width = _ofa_family(net_name)
    cls = getattr(networks, _OFA_NETS[family][0])
    with torch.device("meta"):
        return cls(dropout_rate=0, width_mult=width, ks_list=list(kernels),
                   expand_ratio_list=list(expands), depth_list=list(depths))


# Fragment key of every layer module built by _ofa_layer: the JSON config it was built from.
_OFA_LAYER_KEYS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@functools.lru_cache(maxsize=4096)
def _ofa_layer(config_json: str):
    """One ``ofa`` layer built on the meta device from its JSON config (shared, read-only)."""
    import torch
    from ofa.utils.layers import set_layer_from_config
    with torch.device("meta"):
        layer = set_layer_from_config(json.loads(config_json))
    _OFA_LAYER_KEYS[layer] = config_json
    return layer


def ofa_subnet(space, arch):
    """The ``ofa`` subnet of ``arch`` in OFA space ``space``, on the ``meta`` device.

    Built from the supernet's active-subnet config with shared, cached layer modules: it has
    the structure but no weights, which is all tracing needs. Do not train or modify it.
    """
    from ofa.imagenet_classification import networks
    space.validate(arch)
    net = _supernet(space.ofa_net, tuple(space.KERNELS), tuple(space.EXPANDS), tuple(space.DEPTHS))
    cfg = space.to_ofa_config(arch)
    net.set_active_subnet(ks=cfg["ks"], e=cfg["e"], d=cfg["d"])
    config = net.get_active_net_config()
    _, cls_name, parts = _OFA_NETS[_ofa_family(space.ofa_net)[0]]
    layers = {p: [_ofa_layer(json.dumps(b, sort_keys=True)) for b in config[p]] if p == "blocks"
              else _ofa_layer(json.dumps(config[p], sort_keys=True)) for p in parts}
    return getattr(networks, cls_name)(**layers)


@functools.lru_cache(maxsize=16384)
def _ofa_ir_graph(space_name: str, arch_string: str) -> IRGraph:
    from .spaces import get_space
    space = get_space(space_name)
    arch = space.from_string(arch_string)
    meta = {"space": space_name, "arch": arch_string, "resolution": arch.resolution}
    return ir_graph_from_module(ofa_subnet(space, arch), (1, 3, arch.resolution, arch.resolution), meta,
                                fragment_key=_OFA_LAYER_KEYS.get)


def ofa_ir_graph(space, arch) -> IRGraph:
    """Op-level IR graph of an OFA architecture (cached per process by architecture string).

    The cached graph is shared: treat it as read-only.
    """
    return _ofa_ir_graph(space.name, space.to_string(arch))


def ofa_ir_arrays(space, archs: Sequence, progress: bool = True) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(xs, edge_indices)`` of the IR graphs of ``archs``, with a progress bar."""
    from tqdm.auto import tqdm
    graphs = (ofa_ir_graph(space, a) for a in tqdm(archs, desc=f"IR graphs ({space.name})", disable=not progress))
    return ir_arrays(graphs)


# From the authors' ONNX-IR pickles ------------------------------------------------------------

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
