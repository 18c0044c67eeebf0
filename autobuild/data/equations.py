"""Label equations such as ``acc*100/latency_gpu`` or ``sqrt(PQ)-sqrt(flops)``, parsed safely.

An equation is a user string. It is parsed with :mod:`ast` and only a whitelist of nodes is
admitted: numbers, label names, arithmetic, comparisons and a few numpy functions. Nothing
is ever handed to ``eval``; evaluation walks the tree over numpy arrays.
"""
from __future__ import annotations

import ast
import operator
from typing import Mapping

import numpy as np

FUNCTIONS = {
    "log": np.log, "log10": np.log10, "log2": np.log2, "exp": np.exp, "sqrt": np.sqrt,
    "abs": np.abs, "minimum": np.minimum, "maximum": np.maximum, "clip": np.clip,
}


BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.Div: operator.truediv, ast.Pow: operator.pow, ast.Mod: operator.mod}


UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
           ast.Eq: operator.eq, ast.NotEq: operator.ne}


class EquationError(ValueError):
    """A label equation that is malformed or uses something outside the whitelist."""


class LabelEquation:
    """A parsed, validated label equation over named label columns."""

    def __init__(self, text: str, allowed_names=None):
        if not isinstance(text, str) or not text.strip():
            raise EquationError("a label equation must be a non-empty string")
        self.text = text.strip()
        try:
            tree = ast.parse(self.text, mode="eval")
        except SyntaxError as exc:
            raise EquationError(f"label equation {self.text!r} is not valid syntax: {exc.msg}") from None
        self._tree = tree.body
        self.names = tuple(sorted(self._check(self._tree)))
        if allowed_names is not None:
            self.check_names(allowed_names)

    def __repr__(self) -> str:
        return f"LabelEquation({self.text!r})"

    def __str__(self) -> str:
        return self.text

    def check_names(self, allowed) -> None:
        unknown = [n for n in self.names if n not in set(allowed)]
        if unknown:
            raise EquationError(f"label equation {self.text!r} uses unknown label(s) {unknown}; "
                                f"available: {sorted(allowed)}")

    def _check(self, node) -> set[str]:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise EquationError(f"only numbers are allowed as constants, not {node.value!r}")
            return set()
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise EquationError(f"{node.id!r} is a function; call it, e.g. {node.id}(acc)")
            return {node.id}
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            return self._check(node.left) | self._check(node.right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
            return self._check(node.operand)
        if isinstance(node, ast.Compare) and all(type(o) in COMPARE for o in node.ops):
            return set().union(self._check(node.left), *(self._check(c) for c in node.comparators))
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = ast.unparse(node.func)
                raise EquationError(f"call of {name!r} is not allowed; allowed functions: {sorted(FUNCTIONS)}")
            if node.keywords:
                raise EquationError("keyword arguments are not allowed in label equations")
            return set().union(*(self._check(a) for a in node.args)) if node.args else set()
        raise EquationError(f"{type(node).__name__} ({ast.unparse(node)!r}) is not allowed in a label "
                            "equation: use label names, numbers, + - * / ** %, comparisons and "
                            f"the functions {sorted(FUNCTIONS)}")

    def evaluate(self, labels: Mapping[str, np.ndarray]) -> np.ndarray:
        """The equation's value for every row of ``labels`` (a mapping name -> array)."""
        self.check_names(list(labels.keys()))
        with np.errstate(all="ignore"):
            out = np.asarray(self._eval(self._tree, labels), dtype=np.float64)
        return out

    def _eval(self, node, labels):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return np.asarray(labels[node.id], dtype=np.float64)
        if isinstance(node, ast.BinOp):
            return BINARY[type(node.op)](self._eval(node.left, labels), self._eval(node.right, labels))
        if isinstance(node, ast.UnaryOp):
            return UNARY[type(node.op)](self._eval(node.operand, labels))
        if isinstance(node, ast.Compare):
            left, result = self._eval(node.left, labels), True
            for op, comp in zip(node.ops, node.comparators):
                right = self._eval(comp, labels)
                result = np.logical_and(result, COMPARE[type(op)](left, right))
                left = right
            return np.asarray(result, dtype=np.float64)
        func = FUNCTIONS[node.func.id]
        try:
            return func(*(self._eval(a, labels) for a in node.args))
        except TypeError as exc:
            raise EquationError(f"bad arguments to {node.func.id} in {self.text!r}: {exc}") from None
