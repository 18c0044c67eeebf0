"""The predictor variants, by name: ``companion`` (ours) and ``authors`` (faithful to the authors' code).

* ``companion``: :class:`~autobuild.predictor.model.AutoBuildPredictor`, loss MSE +
  :func:`~autobuild.predictor.ranking.hop_ranking_loss` (with ``ranking_loss``), no clipping;
* ``authors``: :class:`~autobuild.predictor.faithful.FaithfulPredictor`, loss MSE +
  :func:`~autobuild.predictor.ranking.authors_ranking_loss`, gradient norm clipped at 5.0 per step.

Each is one :class:`Variant` record in :data:`VARIANTS`: everything a training engine needs to
know of it. :func:`check_kind` is the one place a variant name is validated, and
:meth:`Variant.build` the one place a network is built, for training and checkpoint loading alike.
``fe_stop_gradient`` applies to ``companion`` only (the authors' FE-MLP is trained end to end).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import torch
from torch import nn

from autobuild.predictor.faithful import FaithfulPredictor, authors_chain_forward, authors_chain_groups
from autobuild.predictor.model import AutoBuildPredictor, companion_chain_forward, companion_chain_groups
from autobuild.predictor.ranking import authors_ranking_loss, hop_ranking_loss, stacked_ranking_loss

#: How the two variants differ (aspect, ``authors``, ``companion``), read from the authors' code.
DIFFERENCES = (
    ("resolution feature", "continuous (r-192)/32, affine map", "categorical, own Embedding + MLP"),
    ("FE-MLP per feature", "Embedding(V, d_f) -> Linear(d_f, 1)", "Embedding(V, 16) -> Linear -> LeakyReLU -> Linear"),
    ("FE-MLP gradient", "end to end (every loss term)", "stop-gradient: only the hop-0 ranking term"),
    ("self-loops in GATv2", "yes", "no (on a chain the attention weight is then 1)"),
    ("normalisation, activation", "BatchNorm + ReLU after every conv", "none, LeakyReLU"),
    ("residual", "+ h^(m-1) from layer 2 on", "skip(h^(m-1)) + in every layer"),
    ("head", "Lin, Lin, ReLU, Lin, Lin, ReLU, Lin", "Lin, LeakyReLU, Lin"),
    ("ranking term", "Pearson(soft ranks of norms, label values)", "Spearman(soft ranks of norms, exact label ranks)"),
    ("gradient clipping", "norm 5.0", "none"),
)


@dataclass(frozen=True)
class Variant:
    """One predictor variant: its network, its loss and how each training engine runs it."""

    name: str
    #: ``make(feature_vocab, hidden, n_hops, fe_stop_gradient)``: a fresh network (torch's global generator)
    make: Callable[..., nn.Module]
    network: type
    #: the PyG engine's ranking term ``f(graph_embs, target, strength)`` (a scalar)
    ranking_term: Callable
    #: the dense engine's ranking term of n stacked models ``f(graph_embs, target, strength)`` (``[n]``)
    stacked_ranking_term: Callable
    #: the dense engine's forward ``f(params, buffers, model, chains, training)`` on packed chains
    chain_forward: Callable
    #: ``f(model)``: the parameter groups the chain forward reads as one block each (name -> names)
    chain_groups: Callable
    #: gradient-norm clipping per training step (None: none)
    grad_clip: float | None

    def build(self, feature_vocab: dict, *, hidden: int, n_hops: int, fe_stop_gradient: bool = True) -> nn.Module:
        """A fresh, randomly initialised network (from torch's global generator)."""
        return self.make(feature_vocab, hidden=hidden, n_hops=n_hops, fe_stop_gradient=fe_stop_gradient)

    def clip(self, parameters) -> None:
        """Clip the gradient norm of ``parameters`` as this variant's training does."""
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(parameters, self.grad_clip)


VARIANTS = {
    "companion": Variant(
        "companion", make=AutoBuildPredictor, network=AutoBuildPredictor, ranking_term=hop_ranking_loss,
        stacked_ranking_term=partial(stacked_ranking_loss, against="ranks"), chain_forward=companion_chain_forward,
        chain_groups=companion_chain_groups, grad_clip=None),
    "authors": Variant(
        "authors", make=lambda vocab, *, hidden, n_hops, fe_stop_gradient: FaithfulPredictor(vocab, hidden, n_hops),
        network=FaithfulPredictor, ranking_term=authors_ranking_loss,
        stacked_ranking_term=partial(stacked_ranking_loss, against="values"), chain_forward=authors_chain_forward,
        chain_groups=authors_chain_groups, grad_clip=5.0),
}
MODEL_KINDS = tuple(VARIANTS)


def is_kind(kind) -> bool:
    """Whether ``kind`` names a variant."""
    return isinstance(kind, str) and kind in VARIANTS


def check_kind(kind) -> str:
    """``kind`` if it names a variant; else a ValueError listing the names."""
    if not is_kind(kind):
        raise ValueError(f"unknown predictor model {str(repr(kind))[:40]}; use one of {', '.join(MODEL_KINDS)}")
    return kind


def get_variant(kind) -> Variant:
    """The :class:`Variant` named ``kind``."""
    return VARIANTS[check_kind(kind)]


def make_model(kind: str, feature_vocab: dict, *, hidden: int, n_hops: int, fe_stop_gradient: bool = True) -> nn.Module:
    """A fresh (randomly initialised, from torch's global generator) network of ``kind``."""
    return get_variant(kind).build(feature_vocab, hidden=hidden, n_hops=n_hops, fe_stop_gradient=fe_stop_gradient)


def build_model(config, feature_vocab: dict) -> nn.Module:
    """The network a :class:`~autobuild.predictor.config.TrainConfig` asks for."""
    return make_model(config.model, feature_vocab, hidden=config.hidden, n_hops=config.n_hops,
                      fe_stop_gradient=config.fe_stop_gradient)


def model_kind(model: nn.Module) -> str:
    """The variant name of a built network."""
    return next(v.name for v in VARIANTS.values() if isinstance(model, v.network))
