"""Training AutoBuild predictors with the hop-level ranking loss (Eq. 4): the one public way in.

.. math::

    \\mathcal{L} = \\mathrm{MSE}(\\hat y, y) + \\frac{1}{M+1}\\sum_{m=0}^{M}
        \\bigl(1 - \\mathrm{SRCC}(\\lVert h_G^m \\rVert_1, y)\\bigr)

:func:`train_many` trains N predictors that share every setting but the seed (their labels and
splits may differ); :func:`train_predictor` and :func:`train_predictor_on_table` train one. Every
call checks its inputs once (:func:`~autobuild.predictor.trained.check_inputs`), then hands them
to an engine (:mod:`autobuild.predictor.engines`): the dense engine when every graph is a chain,
else PyG's.
"""
from __future__ import annotations

from typing import Sequence


from autobuild.graphs.table import GraphTable
from autobuild.predictor.config import TrainConfig, cpu_threads
from autobuild.predictor.engines import dense, pyg
from autobuild.predictor.trained import TrainedPredictor, check_inputs, check_vocabulary

ENGINES = {"dense": dense, "pyg": pyg}


def _engine(table: GraphTable, path: str):
    if path not in ("auto", *ENGINES):
        raise ValueError(f"unknown training path {path!r}; use 'auto', 'dense' or 'pyg'")
    if path == "auto":
        path = "dense" if dense.is_chain_table(table) else "pyg"
    return ENGINES[path]


def train_many(table: GraphTable, feature_vocab: dict, labels: Sequence, configs: Sequence[TrainConfig],
               splits: Sequence[tuple] | None = None, space=None, path: str = "auto") -> list[TrainedPredictor]:
    """Train ``len(configs)`` predictors on the graphs of ``table``.

    ``labels[i]`` (one float per graph) and ``configs[i]`` (same settings but the seed) belong to
    predictor i; ``splits[i] = (train_idx, test_idx)`` or, by default, the seeded split of
    ``configs[i]``. ``path``: ``"dense"`` (chain graphs only: all N trained as one batched
    computation), ``"pyg"`` (any graphs, one after another) or ``"auto"`` (dense for chains).
    Returns one :class:`TrainedPredictor` each, with test metrics when its test split is non-empty.
    CPU threads: see :func:`~autobuild.predictor.config.resolve_threads` (all of this process's
    CPUs for several predictors on the dense path, one for a predictor alone).
    """
    ys, splits, config = check_inputs(len(table), labels, list(configs), splits)
    check_vocabulary(table, feature_vocab)
    if space is not None and dict(space.feature_vocab) != dict(feature_vocab):
        raise ValueError(f"the vocabulary given is not space {space.name!r}'s: graphs and space do not match")
    engine = _engine(table, path)
    # the dense engine trains the predictors as one stacked computation (threads pay); PyG's trains
    # them one after another, each alone (one thread unless the config says otherwise)
    with cpu_threads(config, n_models=len(configs) if engine is dense else 1):
        trained = engine.fit(table, feature_vocab, ys, list(configs), splits)
    for t in trained:
        t.space = space
    return trained


def train_predictor_on_table(table: GraphTable, feature_vocab: dict, y, config: TrainConfig | None = None,
                             train_idx=None, test_idx=None, path: str = "auto") -> TrainedPredictor:
    """Train one predictor on pre-built graphs (e.g. op-level IR graphs); see :func:`train_many`."""
    splits = None if train_idx is None else [(train_idx, test_idx)]
    return train_many(table, feature_vocab, [y], [config or TrainConfig()], splits, path=path)[0]


def train_predictor(space, archs, y, config: TrainConfig | None = None, train_idx=None, test_idx=None,
                    path: str = "auto") -> TrainedPredictor:
    """Train one predictor on architectures of ``space`` with labels ``y`` (one float per architecture)."""
    table = GraphTable.from_architectures(space, archs)
    trained = train_predictor_on_table(table, space.feature_vocab, y, config, train_idx, test_idx, path=path)
    trained.space = space
    return trained
