"""NAS-Bench-Macro by lookup: every architecture of the ``macro`` space was trained, so evaluating
one is reading its row of the embedded set (measured CIFAR-10 accuracy, FLOPs, params).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from autobuild.evaluators.base import Evaluation, Evaluator
from autobuild.spaces.base import Architecture

UNITS = {"acc": "%", "acc_run0": "%", "acc_run1": "%", "acc_run2": "%", "acc_std": "%", "params": "count",
         "flops": "FLOPs"}


class MacroLookup(Evaluator):
    """Values of NAS-Bench-Macro's measured metrics, looked up by architecture.

    Architectures may be :class:`~autobuild.spaces.base.Architecture` objects of the ``macro``
    space or the benchmark's 8-digit strings; anything else is refused with the reason.
    """

    kind = "measurement"

    def __init__(self, dataset=None):
        from autobuild.data.load import load_dataset

        self.dataset = load_dataset("macro") if dataset is None else dataset
        if self.dataset.space.name != "macro":
            raise ValueError(f"MacroLookup reads a set of the 'macro' space, not {self.dataset.space.name!r}")
        self.space = self.dataset.space
        self._row = {s: i for i, s in enumerate(self.dataset.arch_strings)}
        missing = self.space.size - len(self._row)
        if missing:
            raise ValueError(f"{self.dataset.source} lacks {missing} of the space's {self.space.size} architectures")

    def metrics(self, space: str) -> tuple[str, ...]:
        return tuple(c for c in self.dataset.columns if c in UNITS) if space == self.space.name else ()

    def _values(self, space, archs, metric):
        return (self.dataset.labels[metric].to_numpy()[self.rows(archs)],
                "NAS-Bench-Macro lookup (CIFAR-10, three training runs)", UNITS[metric])

    def rows(self, archs: Sequence) -> np.ndarray:
        """Row of every architecture in the set (``ValueError`` naming the first outside the space)."""
        out = np.empty(len(archs), dtype=np.int64)
        for i, a in enumerate(archs):
            if isinstance(a, Architecture):
                text = self.space.to_string(a)   # validates: space, stages, ops
            elif isinstance(a, str):
                text = self.space.to_string(self.space.from_string(a))
            else:
                raise ValueError(f"architecture {i}: expected a macro Architecture or an 8-digit string, "
                                 f"got {type(a).__name__}")
            out[i] = self._row[text]
        return out

    def evaluate(self, archs: Sequence, metric: str) -> Evaluation:
        """As :meth:`Evaluator.evaluate`, for the ``macro`` space only (strings accepted too)."""
        archs = list(archs)
        if not archs:
            raise ValueError("no architectures to evaluate")
        if metric not in self.metrics(self.space.name):
            raise ValueError(f"MacroLookup does not provide {metric!r}; it provides {list(self.metrics(self.space.name))}")
        values, backend, unit = self._values(self.space, archs, metric)
        return Evaluation(metric, values, backend, self.kind, unit)
