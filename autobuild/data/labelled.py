"""Labelled sets: architectures (or IR graphs) with label columns, each column's provenance,
and the target of a label equation.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from autobuild.data.equations import LabelEquation
from autobuild.spaces.base import SequenceSpace
from autobuild.spaces.registry import get_space


class MissingLabelError(ValueError):
    """A label equation that is undefined (NaN/missing) for some architectures."""


class _LabelTable:
    """Label columns with provenance, and targets computed from label equations."""

    labels: pd.DataFrame
    provenance: dict[str, str]
    source: str

    def _check_labels(self, n_rows: int) -> None:
        if len(self.labels) != n_rows:
            raise ValueError(f"{self.source}: {n_rows} architectures but {len(self.labels)} label rows")
        missing = [c for c in self.labels.columns if c not in self.provenance]
        if missing:
            raise ValueError(f"{self.source}: no provenance for label column(s) {missing}")
        non_numeric = [c for c in self.labels.columns if not pd.api.types.is_numeric_dtype(self.labels[c])
                       or pd.api.types.is_bool_dtype(self.labels[c])]
        if non_numeric:
            raise ValueError(f"{self.source}: label column(s) {non_numeric} are not numeric")
        self.labels = self.labels.astype(np.float64).reset_index(drop=True)

    @property
    def columns(self) -> list[str]:
        return list(self.labels.columns)

    def _evaluate(self, equation: str) -> tuple[LabelEquation, np.ndarray]:
        eq = LabelEquation(equation, allowed_names=self.columns)
        y = eq.evaluate({n: self.labels[n].to_numpy() for n in eq.names})
        return eq, np.broadcast_to(y, (len(self.labels),)).astype(np.float64)

    def target(self, equation: str) -> np.ndarray:
        """The label equation's value per architecture; refuses NaN/missing values."""
        eq, y = self._evaluate(equation)
        bad = ~np.isfinite(y)
        if bad.any():
            gaps = {n: int(self.labels[n].isna().sum()) for n in eq.names if self.labels[n].isna().any()}
            raise MissingLabelError(
                f"label equation {eq.text!r} is undefined (NaN/inf) for {int(bad.sum())} of {len(y)} "
                f"architectures of {self.source} (missing values per column: {gaps or 'none'}); "
                f"use .defined({eq.text!r}) to keep only the rows where it is defined")
        return y

    def defined(self, equation: str):
        """The rows where ``equation`` is finite; warns when rows are dropped."""
        eq, y = self._evaluate(equation)
        keep = np.flatnonzero(np.isfinite(y))
        if len(keep) == 0:
            raise MissingLabelError(f"label equation {eq.text!r} is undefined for every row of {self.source}")
        if len(keep) < len(y):
            warnings.warn(f"{self.source}: dropped {len(y) - len(keep)} of {len(y)} rows where "
                          f"{eq.text!r} is undefined", stacklevel=2)
        return self.subset(keep)


@dataclass(eq=False)
class LabelledSet(_LabelTable):
    """Architectures of one space with a float label table and each column's provenance."""

    space: SequenceSpace
    archs: list
    labels: pd.DataFrame
    provenance: dict[str, str]
    source: str

    def __post_init__(self):
        if isinstance(self.space, str):
            self.space = get_space(self.space)
        self.archs = list(self.archs)
        self._check_labels(len(self.archs))

    def __len__(self) -> int:
        return len(self.archs)

    def __repr__(self) -> str:
        return f"LabelledSet({self.space.name!r}, {len(self)} archs, labels={self.columns}, source={self.source!r})"

    @property
    def arch_strings(self) -> list[str]:
        return [self.space.to_string(a) for a in self.archs]

    def subset(self, idx) -> "LabelledSet":
        idx = _indices(idx, len(self))
        return LabelledSet(self.space, [self.archs[i] for i in idx], self.labels.iloc[idx].reset_index(drop=True),
                           dict(self.provenance), self.source)

    def copy(self) -> "LabelledSet":
        return LabelledSet(self.space, list(self.archs), self.labels.copy(), dict(self.provenance), self.source)


@dataclass(eq=False)
class IRSet(_LabelTable):
    """Op-level IR graphs (possibly of several spaces, see ``families``) with labels."""

    families: list[str]
    graphs: list
    labels: pd.DataFrame
    provenance: dict[str, str]
    source: str

    def __post_init__(self):
        self.families, self.graphs = list(self.families), list(self.graphs)
        if len(self.families) != len(self.graphs):
            raise ValueError(f"{self.source}: {len(self.graphs)} graphs but {len(self.families)} families")
        self._check_labels(len(self.graphs))

    def __len__(self) -> int:
        return len(self.graphs)

    def __repr__(self) -> str:
        counts = pd.Series(self.families).value_counts().to_dict()
        return f"IRSet({counts}, labels={self.columns}, source={self.source!r})"

    def subset(self, idx) -> "IRSet":
        idx = _indices(idx, len(self))
        return IRSet([self.families[i] for i in idx], [self.graphs[i] for i in idx],
                     self.labels.iloc[idx].reset_index(drop=True), dict(self.provenance), self.source)

    def arrays(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``(xs, edge_indices)`` for ``GraphTable.from_arrays`` (vocabulary: ``ir.ir_feature_vocab``)."""
        from autobuild.graphs.ir import ir_arrays
        return ir_arrays(self.graphs)


def _indices(idx, n: int) -> np.ndarray:
    idx = np.asarray(idx)
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise ValueError(f"boolean mask of shape {idx.shape} for {n} rows")
        return np.flatnonzero(idx)
    idx = idx.astype(np.int64).reshape(-1)
    if len(idx) and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"row index out of range for {n} rows")
    return idx % n if n else idx
