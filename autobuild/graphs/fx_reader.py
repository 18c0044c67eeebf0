"""A ``torch.fx`` shape tracer: reads a module into an :class:`~autobuild.graphs.ir.IRGraph`
(op type, tensor shapes, kernel, groups per node), re-using traced fragments of repeated blocks.
"""
from __future__ import annotations

import copy
import math
import operator
from typing import Sequence

from autobuild.graphs.ir import IRGraph, IRNode, _assemble


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
