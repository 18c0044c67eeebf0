"""The predictor variants, by name: ``companion`` (ours) and ``authors`` (faithful to the authors' code).

| name | network | loss (with ``ranking_loss``) | per step |
|---|---|---|---|
| ``companion`` | :class:`~autobuild.predictor.model.AutoBuildPredictor` | MSE + :func:`~autobuild.predictor.ranking.hop_ranking_loss` | — |
| ``authors`` | :class:`~autobuild.predictor.faithful.FaithfulPredictor` | MSE + :func:`~autobuild.predictor.ranking.authors_ranking_loss` | gradient norm clipped at 5.0 |

:func:`build_model` is the one place a predictor network is built, for training and for
checkpoint loading alike. ``fe_stop_gradient`` applies to ``companion`` only (the authors'
FE-MLP is trained end to end).
"""
from __future__ import annotations

import torch
from torch import nn

from autobuild.predictor.faithful import FaithfulPredictor
from autobuild.predictor.model import AutoBuildPredictor
from autobuild.predictor.ranking import authors_ranking_loss, hop_ranking_loss

MODEL_KINDS = ("companion", "authors")

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
#: Gradient-norm clipping per training step, by model kind (None: no clipping).
GRAD_CLIP = {"companion": None, "authors": 5.0}


def check_kind(kind) -> str:
    if not isinstance(kind, str) or kind not in MODEL_KINDS:
        raise ValueError(f"unknown predictor model {str(repr(kind))[:40]}; use one of {', '.join(MODEL_KINDS)}")
    return kind


def make_model(kind: str, feature_vocab: dict, *, hidden: int, n_hops: int, fe_stop_gradient: bool = True) -> nn.Module:
    """A fresh (randomly initialised, from torch's global generator) network of ``kind``."""
    if check_kind(kind) == "authors":
        return FaithfulPredictor(feature_vocab, hidden=hidden, n_hops=n_hops)
    return AutoBuildPredictor(feature_vocab, hidden=hidden, n_hops=n_hops, fe_stop_gradient=fe_stop_gradient)


def build_model(config, feature_vocab: dict) -> nn.Module:
    """The network a :class:`~autobuild.predictor.training.TrainConfig` asks for."""
    return make_model(config.model, feature_vocab, hidden=config.hidden, n_hops=config.n_hops,
                      fe_stop_gradient=config.fe_stop_gradient)


def model_kind(model: nn.Module) -> str:
    """The variant name of a built network."""
    return "authors" if isinstance(model, FaithfulPredictor) else "companion"


def ranking_term(kind: str):
    """The ranking term ``f(graph_embs, target, strength)`` of ``kind``'s loss."""
    return authors_ranking_loss if check_kind(kind) == "authors" else hop_ranking_loss


def clip_gradients(kind: str, model: nn.Module) -> None:
    """Clip the gradient norm as ``kind``'s training does (nothing for ``companion``)."""
    limit = GRAD_CLIP[kind]
    if limit is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), limit)
