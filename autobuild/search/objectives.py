"""Search objectives ``evaluate(archs) -> (perf, cost)``: labelling back ends or a trained
predictor, each objective's sign fixed so that performance is maximised and cost minimised.
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from autobuild.predictor import TrainConfig, train_predictor
from autobuild.spaces.base import Architecture


class Objectives:
    """``evaluate(archs) -> (acc, lat)`` through :mod:`autobuild.evaluators`.

    ``backends`` maps each metric to the back end that produced its values (filled on the
    first call); searches copy it into :attr:`SearchResult.info`.
    """

    def __init__(self, perf: str = "acc", cost: str = "latency_gpu", evaluators: Sequence | None = None):
        from autobuild import evaluators as ev

        self.perf, self.cost = perf, cost
        self.evaluators = list(evaluators) if evaluators is not None else [ev.AuthorsPredictors()]
        self.backends: dict[str, str] = {}
        self._evaluate = ev.evaluate

    def __repr__(self) -> str:
        return f"Objectives(perf={self.perf!r}, cost={self.cost!r})"

    def __call__(self, archs: Sequence[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        out = self._evaluate(list(archs), (self.perf, self.cost), self.evaluators)
        self.backends = {m: e.backend for m, e in out.items()}
        return out[self.perf].values, out[self.cost].values


class PredictorObjectives:
    """``evaluate(archs) -> (perf, cost)`` from AutoBuild predictors trained on a labelled set.

    For targets no evaluator back end can label (e.g. the AIO-P panoptic quality of a new
    architecture), the heads of two predictors trained on the labelled set's ``perf`` and
    ``cost`` columns stand in; ``backends`` says so, with each head's test SRCC.
    """

    def __init__(self, dataset, perf: str, cost: str, config: TrainConfig | None = None):
        self.perf, self.cost = perf, cost
        self.heads = {name: train_predictor(dataset.space, dataset.archs, dataset.target(name), config)
                      for name in (perf, cost)}
        where = os.path.basename(str(dataset.source)) or str(dataset.source)
        self.backends = {name: f"AutoBuild predictor head trained on {where} for {name!r} "
                               f"(test SRCC {t.metrics.get('srcc', float('nan')):.3f})"
                         for name, t in self.heads.items()}

    def __call__(self, archs) -> tuple[np.ndarray, np.ndarray]:
        archs = list(archs)
        return self.heads[self.perf].predict(archs), self.heads[self.cost].predict(archs)
