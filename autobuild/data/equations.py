"""Label equations such as ``acc*100/latency_gpu`` or ``sqrt(PQ)-sqrt(flops)``, parsed safely.

An equation is a user string. It is parsed with :mod:`ast` and only a whitelist of nodes is
admitted: numbers, label names, arithmetic, comparisons and a few numpy functions, each
called with exactly its documented number of arguments. Nothing is ever handed to ``eval``;
evaluation walks the tree over float64 numpy arrays.

Hostile inputs are bounded before any work is done: the text is at most
:data:`MAX_LENGTH` characters, the tree at most :data:`MAX_NODES` nodes and
:data:`MAX_DEPTH` levels deep (checked without recursion), and every number is a finite
float64, so ``10**10**10`` is infinite, not a hang. Python reads identifiers in NFKC form
(``ａｃｃ`` and ``𝑎𝑐𝑐`` would both mean ``acc``); a name written in any other form is refused, so
an equation always names its columns as they are spelled. A comparison is NaN where one of its
operands is NaN (a missing label stays missing). Every arithmetic failure (a constant part
that is infinite, not a number or not real, e.g. ``1/0``, ``10**400``, ``(-1)**0.5``; or a
result that is not finite on rows whose labels are all defined) is an :class:`EquationError`
naming the equation.
"""
from __future__ import annotations

import ast
import math
import operator
from collections.abc import Mapping

import numpy as np

#: Functions of the grammar and their exact number of (positional) arguments. Extra
#: arguments are refused: numpy's positional ``out`` would overwrite a label column.
FUNCTIONS = {
    "log": np.log, "log10": np.log10, "log2": np.log2, "exp": np.exp, "sqrt": np.sqrt,
    "abs": np.abs, "minimum": np.minimum, "maximum": np.maximum, "clip": np.clip,
}
ARITY = {"log": 1, "log10": 1, "log2": 1, "exp": 1, "sqrt": 1, "abs": 1, "minimum": 2, "maximum": 2, "clip": 3}
BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.Div: operator.truediv, ast.Pow: operator.pow, ast.Mod: operator.mod}
UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
           ast.Eq: operator.eq, ast.NotEq: operator.ne}

MAX_LENGTH = 1000  #: characters of an equation
MAX_NODES = 200    #: syntax-tree nodes of an equation
MAX_DEPTH = 40     #: nesting depth of an equation's syntax tree


def shorten(text, limit: int = 80) -> str:
    """``text`` for an error message: its first ``limit`` characters, then ``…`` if cut."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"


def _names(names, limit: int = 30) -> str:
    names = sorted(shorten(n, 40) for n in map(str, names))
    return str(names[:limit])[:-1] + (f", … ({len(names)} in all)]" if len(names) > limit else "]")


class EquationError(ValueError):
    """A label equation that is malformed, too large, uses something outside the whitelist,
    or whose arithmetic fails (division by zero, overflow, a value that is not real)."""


def _tree_size(tree) -> tuple[int, int]:
    """``(nodes, depth)`` of an AST, without recursion; stops counting past the bounds."""
    nodes, depth, stack = 0, 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        nodes += 1
        depth = max(depth, d)
        if nodes > MAX_NODES or depth > MAX_DEPTH:
            break
        stack.extend((child, d + 1) for child in ast.iter_child_nodes(node)
                     if not isinstance(child, (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop)))
    return nodes, depth


class LabelEquation:
    """A parsed, validated label equation over named label columns."""

    def __init__(self, text: str, allowed_names=None):
        if not isinstance(text, str) or not text.strip():
            raise EquationError("a label equation must be a non-empty string")
        self.text = text.strip()
        if len(self.text) > MAX_LENGTH:
            raise EquationError(f"label equation {self.short!r} is {len(self.text)} characters long; "
                                f"at most {MAX_LENGTH} are allowed")
        try:
            tree = ast.parse(self.text, mode="eval")
        except SyntaxError as exc:
            raise EquationError(f"label equation {self.short!r} is not valid syntax: {exc.msg}") from None
        except (MemoryError, RecursionError, ValueError) as exc:  # parser stack overflow, null bytes
            raise EquationError(f"label equation {self.short!r} cannot be parsed "
                                f"({type(exc).__name__}: {shorten(exc)}); it is too deeply nested "
                                "or holds a null character") from None
        nodes, depth = _tree_size(tree.body)
        if nodes > MAX_NODES or depth > MAX_DEPTH:
            raise EquationError(f"label equation {self.short!r} is too large: at most {MAX_NODES} terms "
                                f"and {MAX_DEPTH} levels of nesting are allowed")
        self._check_spelling(tree.body)
        self._tree = tree.body
        self._constant: set[int] = set()  # ids of the nodes that use no label
        self.names = tuple(sorted(self._check(self._tree)))
        if allowed_names is not None:
            self.check_names(allowed_names)

    @property
    def short(self) -> str:
        """The equation's text, shortened for messages."""
        return shorten(self.text)

    def __repr__(self) -> str:
        return f"LabelEquation({self.text!r})"

    def __str__(self) -> str:
        return self.text

    def _check_spelling(self, tree) -> None:
        """Refuse a name whose text differs from the NFKC form Python reads it as."""
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                raw = ast.get_source_segment(self.text, node)
                if raw != node.id:
                    raise EquationError(
                        f"label equation {self.short!r}: the name {shorten(raw, 40)!r} is not in Unicode NFKC form; "
                        f"Python would read it as {shorten(node.id, 40)!r}. Write names exactly as the label "
                        "columns and functions are spelled")

    def check_names(self, allowed) -> None:
        allowed = set(allowed)
        unknown = [n for n in self.names if n not in allowed]
        if unknown:
            raise EquationError(f"label equation {self.short!r} uses unknown label(s) "
                                f"{[shorten(n, 40) for n in unknown[:5]]}{' …' if len(unknown) > 5 else ''}; "
                                f"available: {_names(allowed)}")

    def _check(self, node) -> set[str]:
        names = self._check_node(node)
        if not names:
            self._constant.add(id(node))
        return names

    def _check_node(self, node) -> set[str]:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise EquationError(f"label equation {self.short!r}: only numbers are allowed as constants, "
                                    f"not {shorten(repr(node.value))}")
            try:
                value = float(node.value)
            except OverflowError:
                value = math.inf
            if not math.isfinite(value):
                raise EquationError(f"the number {shorten(repr(node.value), 40)} in label equation "
                                    f"{self.short!r} is not a finite float64")
            return set()
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise EquationError(f"label equation {self.short!r}: {node.id!r} is a function; call it, "
                                    f"e.g. {node.id}(acc)")
            return {node.id}
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            return self._check(node.left) | self._check(node.right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
            return self._check(node.operand)
        if isinstance(node, ast.Compare) and all(type(o) in COMPARE for o in node.ops):
            return set().union(self._check(node.left), *(self._check(c) for c in node.comparators))
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = shorten(ast.unparse(node.func), 40)
                raise EquationError(f"label equation {self.short!r}: call of {name!r} is not allowed; allowed "
                                    f"functions: {sorted(FUNCTIONS)}")
            if node.keywords:
                raise EquationError(f"label equation {self.short!r}: keyword arguments are not allowed")
            name, arity = node.func.id, ARITY[node.func.id]
            if len(node.args) != arity:
                raise EquationError(f"{name}() takes exactly {arity} argument{'s' if arity > 1 else ''}, "
                                    f"got {len(node.args)} in label equation {self.short!r}")
            return set().union(*(self._check(a) for a in node.args))
        raise EquationError(f"label equation {self.short!r}: {type(node).__name__} "
                            f"({shorten(ast.unparse(node), 40)!r}) is not allowed; use label names, numbers, "
                            f"+ - * / ** %, comparisons and the functions {sorted(FUNCTIONS)}")

    def evaluate(self, labels: Mapping[str, np.ndarray]) -> np.ndarray:
        """The equation's value for every row of ``labels`` (a mapping name -> array), as float64.

        Rows where a label the equation uses is NaN or infinite give NaN or infinity (see
        ``LabelledSet.defined``). Raises :class:`EquationError` when the arithmetic fails:
        a constant part of the equation is not a finite real number, or the value is not
        finite on a row whose labels are all finite. The inputs are never modified.
        """
        self.check_names(list(labels.keys()))
        columns = {n: np.array(labels[n], dtype=np.float64) for n in self.names}  # copies
        try:
            with np.errstate(all="ignore"):
                out = self._eval(self._tree, columns)
        except EquationError:
            raise
        except (ArithmeticError, ValueError, TypeError) as exc:  # e.g. label columns of different lengths
            raise EquationError(f"label equation {self.short!r} cannot be evaluated: "
                                f"{type(exc).__name__}: {shorten(exc)}") from None
        if np.iscomplexobj(out):  # cannot happen over float64, but never cast silently
            raise EquationError(f"label equation {self.short!r} does not give real numbers")
        out = np.array(out, dtype=np.float64)
        if not np.isfinite(out).all():
            shape = np.broadcast_shapes(out.shape, *(c.shape for c in columns.values()))
            inputs_ok = np.ones(shape, dtype=bool)
            for c in columns.values():
                inputs_ok &= np.isfinite(c)
            bad = inputs_ok & ~np.isfinite(np.broadcast_to(out, shape))
            if bad.any():
                first = np.flatnonzero(bad.reshape(-1))[0] if bad.ndim else 0
                row = {n: float(np.broadcast_to(c, shape).reshape(-1)[first]) for n, c in columns.items()} \
                    if bad.ndim else {}
                where = f" (e.g. row {first}: {shorten(row, 120)})" if row else ""
                raise EquationError(
                    f"label equation {self.short!r} is not finite for {int(bad.sum())} of {bad.size} rows whose "
                    f"labels are all defined{where}: division by zero, overflow, or a value outside a "
                    "function's domain (log or sqrt of a negative number, ...)")
        return out

    def _fail(self, node, value) -> None:
        part = shorten(ast.unparse(node), 60)
        kind = "not a real number" if np.isnan(value) else "infinite (overflow or division by zero)"
        raise EquationError(f"in label equation {self.short!r}, {part!r} is {kind}")

    def _eval(self, node, labels):
        if isinstance(node, ast.Constant):
            return np.float64(node.value)
        if isinstance(node, ast.Name):
            return labels[node.id]
        if isinstance(node, ast.BinOp):
            out = BINARY[type(node.op)](self._eval(node.left, labels), self._eval(node.right, labels))
        elif isinstance(node, ast.UnaryOp):
            out = UNARY[type(node.op)](self._eval(node.operand, labels))
        elif isinstance(node, ast.Compare):
            left = self._eval(node.left, labels)
            result, missing = True, np.isnan(left)
            for op, comp in zip(node.ops, node.comparators):
                right = self._eval(comp, labels)
                result = np.logical_and(result, COMPARE[type(op)](left, right))
                missing = missing | np.isnan(right)
                left = right
            out = np.where(missing, np.nan, np.asarray(result, dtype=np.float64))
        else:
            args = [self._eval(a, labels) for a in node.args]
            if len(args) != ARITY[node.func.id]:  # checked at parse time; never pass numpy's `out`
                raise EquationError(f"{node.func.id}() takes exactly {ARITY[node.func.id]} arguments")
            out = FUNCTIONS[node.func.id](*args)
        if id(node) in self._constant and not np.isfinite(out):  # a constant part that fails
            self._fail(node, out)
        return out
