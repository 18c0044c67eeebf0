"""The labelling interface: an :class:`Evaluator` turns architectures into one metric's values,
recorded as an :class:`Evaluation` that names its back end and kind (estimate, count, measurement).

The back ends (metric names as in the embedded data sets) live beside this module:
:mod:`~autobuild.evaluators.authors` (``acc``, ``latency_gpu/cpu/npu``, the authors' published
predictors), :mod:`~autobuild.evaluators.ofa_tables` (``acc_ofa``, ``latency_note10``),
:mod:`~autobuild.evaluators.subnet` (``flops``, ``n_params``, ``latency_*_measured``);
:mod:`~autobuild.evaluators.routing` sends each metric to the first back end that has it.
Third-party files are read from :func:`autobuild._paths.shared_data_dir`, else downloaded once
(:mod:`~autobuild.evaluators.downloads`).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from autobuild.spaces.base import Architecture
from autobuild.spaces.ofa import OFASpace
from autobuild.spaces.registry import get_space


@dataclass(frozen=True)
class Evaluation:
    """Values of one metric for a list of architectures, with where they came from."""

    metric: str
    values: np.ndarray
    backend: str  # e.g. "authors' predictor minMAE_ofa_mbv3_custom_acc_..." or "measured on cpu"
    kind: str  # "estimate" (a predictor or lookup table), "measurement", or "count"
    unit: str


def _space_of(archs: Sequence[Architecture]) -> OFASpace:
    names = {a.space for a in archs}
    if len(names) != 1:
        raise ValueError(f"evaluate architectures of one space at a time, got spaces {sorted(names)}")
    space = get_space(names.pop())
    if not isinstance(space, OFASpace):
        raise ValueError(f"these back ends evaluate OFA architectures, not space {space.name!r}")
    for a in archs:
        space.validate(a)
    return space


class Evaluator(ABC):
    """A source of labels. ``metrics(space)`` names what it can label in ``space``."""

    kind: str

    @abstractmethod
    def metrics(self, space: str) -> tuple[str, ...]:
        """Metrics this back end provides for the named space (empty if none)."""

    @abstractmethod
    def _values(self, space: OFASpace, archs: Sequence[Architecture], metric: str) -> tuple[np.ndarray, str, str]:
        """(values, backend description, unit)."""

    def evaluate(self, archs: Sequence[Architecture], metric: str) -> Evaluation:
        archs = list(archs)
        if not archs:
            raise ValueError("no architectures to evaluate")
        space = _space_of(archs)
        if metric not in self.metrics(space.name):
            raise ValueError(f"{type(self).__name__} does not provide {metric!r} for space {space.name!r}; "
                             f"it provides {list(self.metrics(space.name))}")
        values, backend, unit = self._values(space, archs, metric)
        return Evaluation(metric, np.asarray(values, dtype=np.float64), backend, self.kind, unit)
