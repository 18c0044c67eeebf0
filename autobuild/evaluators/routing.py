"""Route each metric to the first back end that provides it, and tabulate evaluations.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from autobuild.evaluators.authors import AuthorsPredictors
from autobuild.evaluators.base import Evaluation, Evaluator, _space_of
from autobuild.evaluators.ofa_tables import Note10Latency, OFAAccuracy
from autobuild.evaluators.subnet import MeasuredLatency, SubnetBuilder, SubnetComplexity
from autobuild.spaces.base import Architecture


# Routing --------------------------------------------------------------------------------------
def default_evaluators(shared_data: str | Path | None = None, device: str = "cpu") -> list[Evaluator]:
    """One instance of every back end (they load their files lazily, on first use)."""
    builder = SubnetBuilder()
    return [AuthorsPredictors(shared_data), OFAAccuracy(shared_data), Note10Latency(shared_data),
            SubnetComplexity(builder), MeasuredLatency(device, builder=builder)]


def evaluate(archs: Sequence[Architecture], metrics: Iterable[str],
             evaluators: Sequence[Evaluator] | None = None) -> dict[str, Evaluation]:
    """Evaluate ``archs`` on each metric with the first back end that provides it."""
    archs = list(archs)
    space = _space_of(archs).name if archs else None
    evaluators = default_evaluators() if evaluators is None else evaluators
    out = {}
    for metric in metrics:
        backend = next((e for e in evaluators if metric in e.metrics(space)), None)
        if backend is None:
            known = sorted({m for e in evaluators for m in e.metrics(space)})
            raise ValueError(f"no back end provides {metric!r} for space {space!r}; available: {known}")
        out[metric] = backend.evaluate(archs, metric)
    return out


def evaluations_frame(evaluations: dict[str, Evaluation]) -> pd.DataFrame:
    """The values as a DataFrame (one column per metric); ``.attrs['backends']`` names each source."""
    frame = pd.DataFrame({m: e.values for m, e in evaluations.items()})
    frame.attrs["backends"] = {m: e.backend for m, e in evaluations.items()}
    return frame
