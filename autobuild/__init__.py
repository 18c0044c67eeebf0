"""AutoBuild: build neural architectures from interpretable module scores (Mills et al., CVPR 2024).

The handful of names a notebook or a user needs, re-exported from the subpackages (loaded on
first use, so that ``import autobuild`` stays cheap)::

    from autobuild import get_space, load_dataset, TrainConfig, train_predictor, SubgraphScorer

    data = load_dataset("mbv3")                         # embedded labelled set
    trained = train_predictor(data.space, data.archs, data.target("acc"), TrainConfig(epochs=200))
    scorer = SubgraphScorer.from_data(trained, data.archs, data.target("acc"))
    scorer.top_k(3)                                     # reduced space: top-3 subgraphs per stage

Subpackages: :mod:`~autobuild.spaces`, :mod:`~autobuild.graphs`, :mod:`~autobuild.predictor`,
:mod:`~autobuild.data`, :mod:`~autobuild.evaluators`, :mod:`~autobuild.search`,
:mod:`~autobuild.experiments` (what each book section runs) and :mod:`~autobuild.book`.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "Architecture": "spaces", "get_space": "spaces", "register_space": "spaces",
    "LabelledSet": "data", "LabelEquation": "data", "load_dataset": "data",
    "AutoBuildPredictor": "predictor", "TrainConfig": "predictor", "TrainedPredictor": "predictor",
    "train_predictor": "predictor", "SubgraphScorer": "predictor", "ReducedSpace": "predictor",
    "save_predictor": "predictor", "load_predictor": "predictor",
    "evaluate": "evaluators",
    "evolutionary_search": "search", "hypervolume": "search", "pareto_front": "search",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"autobuild.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'autobuild' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
