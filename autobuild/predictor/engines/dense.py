"""The dense engine: N same-shaped predictors on chain graphs, trained as one batched computation.

The predictors of a section differ only in seed, split and label (every equation x seed, an
ensemble's folds), so their parameters can be stacked along a leading model axis ``n`` and
trained together: each batched operation does N models' work for the overhead of one.

Sequence graphs are chains ``v_0 -> v_1 -> ... -> v_{L-1}``, held here as padded ``[n, B, L, d]``
tensors (:class:`ChainBatch`). Each variant's stacked forward on them (``Variant.chain_forward``,
beside its network) equals PyG's message passing to float tolerance, in training and evaluation
mode, and so do its gradients (``tests/predictor/test_engines.py``).

Every model gets the initial weights, batch order and optimiser state it would get alone
(seeded per model; AdamW is element-wise), so the results match training one by one to
float tolerance.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import stack_module_state

from autobuild.graphs.table import GraphTable
from autobuild.predictor.config import TrainConfig
from autobuild.predictor.engines.loop import fit_epochs
from autobuild.predictor.trained import TrainedPredictor
from autobuild.predictor.variants import Variant, get_variant, model_kind

@dataclass
class ChainBatch:
    """A :class:`GraphTable` of chain graphs held as padded ``[G, L, F]`` node features."""

    x: torch.Tensor        # [G, L, F] vocabulary indices, padded with 0 beyond each length
    lengths: torch.Tensor  # [G] nodes per graph

    @classmethod
    def from_table(cls, table: GraphTable) -> "ChainBatch":
        """Refuses a table that is not made of chains ``i -> i+1`` (use the PyG path for those)."""
        if not is_chain_table(table):
            raise ValueError("the dense path needs chain graphs (edges i -> i+1 only); "
                             "train IR or other graphs with train_predictor_on_table")
        lengths = table.n_nodes
        G, L = len(table), int(lengths.max())
        graph = torch.repeat_interleave(torch.arange(G, device=lengths.device), lengths)
        pos = torch.arange(len(graph), device=lengths.device) - table.node_ptr[:-1][graph]
        x = torch.zeros(G, L, table.x.shape[1], dtype=table.x.dtype, device=table.x.device)
        x[graph, pos] = table.x
        return cls(x, lengths)

    def to(self, device) -> "ChainBatch":
        return ChainBatch(self.x.to(device), self.lengths.to(device))

    def gather(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Node features ``[n, B, L, F]`` and node mask ``[n, B, L]`` of graphs ``idx`` ``[n, B]``."""
        L = self.x.shape[1]
        mask = torch.arange(L, device=idx.device) < self.lengths[idx][..., None]
        return self.x[idx], mask


def is_chain_table(table: GraphTable) -> bool:
    """Whether every graph of ``table`` is the chain ``0 -> 1 -> ... -> n-1`` of its nodes.

    (Computed with numpy: a forked worker must not enter torch's thread pool before
    :func:`~autobuild.predictor.config.cpu_threads` has sized it.)
    """
    edge_ptr, node_ptr, edges = (t.cpu().numpy() for t in (table.edge_ptr, table.node_ptr, table.edges))
    n_edges = np.diff(edge_ptr)
    if not np.array_equal(n_edges, np.diff(node_ptr) - 1):
        return False
    local = np.arange(edges.shape[1]) - np.repeat(edge_ptr[:-1], n_edges)
    return bool(np.array_equal(edges[0], local) and np.array_equal(edges[1], local + 1))


def stacked_forward(params: dict, buffers: dict, model, x: torch.Tensor, mask: torch.Tensor, training: bool = False):
    """The forward of n stacked predictors of ``model``'s variant on padded chains ``x`` ``[n, B, L, F]``
    with node mask ``[n, B, L]``: the head ``[n, B]``, node embeddings ``[n, B, L, d_m]`` and graph
    embeddings ``[n, B, d_m]`` per hop m = 0..M."""
    return get_variant(model_kind(model)).chain_forward(params, buffers, model, x, mask, training)


@functools.cache
def _compiled_forward(variant: Variant):
    """``variant``'s chain forward through ``torch.compile`` (compiled once per process and shape)."""
    return torch.compile(variant.chain_forward, dynamic=False)


def _clip_per_model(params: dict, limit: float | None) -> None:
    """``clip_grad_norm_(model.parameters(), limit)`` for each stacked model separately."""
    if limit is None:
        return
    grads = [p.grad for p in params.values() if p.grad is not None]
    norms = torch.sqrt(sum(g.pow(2).reshape(g.shape[0], -1).sum(1) for g in grads))
    coef = (limit / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef.reshape(-1, *([1] * (g.dim() - 1))))


def fit(table: GraphTable, feature_vocab: dict, ys: list[np.ndarray], configs: list[TrainConfig],
        splits: list[tuple]) -> list[TrainedPredictor]:
    """Train one predictor per ``(ys[i], configs[i], splits[i])`` (inputs already checked):
    predictors with the same number of training graphs take the same number of optimiser steps
    and are trained as one batch."""
    chains = ChainBatch.from_table(table)
    out: list[TrainedPredictor | None] = [None] * len(configs)
    for size in sorted({len(tr) for tr, _ in splits}):
        group = [i for i, (tr, _) in enumerate(splits) if len(tr) == size]
        trained = _fit_group(chains, table, feature_vocab, [ys[i] for i in group], [configs[i] for i in group],
                             [splits[i] for i in group])
        for i, t in zip(group, trained):
            out[i] = t
    return out


def _fit_group(chains: ChainBatch, table: GraphTable, feature_vocab, ys, configs, splits) -> list[TrainedPredictor]:
    config = configs[0]
    variant = get_variant(config.model)
    dev = torch.device(config.device)
    models = []
    for c in configs:  # each model initialised as it would be alone (as the PyG engine does)
        torch.manual_seed(c.seed)
        models.append(variant.build(feature_vocab, hidden=c.hidden, n_hops=c.n_hops,
                                    fe_stop_gradient=c.fe_stop_gradient).to(dev))
    params, buffers = stack_module_state(models)
    params = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    buffers = {k: v.detach().clone() for k, v in buffers.items()}
    opt = torch.optim.AdamW(list(params.values()), lr=config.lr, weight_decay=config.weight_decay, fused=True)
    moments = [(float(y[tr].mean()), float(y[tr].std() or 1.0)) for y, (tr, _) in zip(ys, splits)]
    y_t = torch.as_tensor(np.stack([(y - m) / s for y, (m, s) in zip(ys, moments)]), dtype=torch.float32, device=dev)
    rows = torch.arange(len(configs), device=dev)[:, None]
    dchains = chains.to(dev)
    unused = [params[k] for k in params if variant.unused_on_chains and k.endswith(variant.unused_on_chains)]
    forward = _compiled_forward(variant) if config.compile else variant.chain_forward

    def step(idx: torch.Tensor) -> torch.Tensor:
        x, mask = dchains.gather(idx)
        pred, _, graph_embs = forward(params, buffers, models[0], x, mask, training=True)
        target = y_t[rows, idx]
        loss = ((pred - target) ** 2).mean(1)
        if config.ranking_loss:
            loss = loss + variant.stacked_ranking_term(graph_embs, target, config.rank_strength)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        for p in unused:  # PyG gives these an exact zero gradient; keep AdamW's decay of them
            p.grad = torch.zeros_like(p)
        _clip_per_model(params, variant.grad_clip)
        opt.step()
        return loss.detach()

    histories = fit_epochs(step, [torch.as_tensor(tr) for tr, _ in splits],
                           [torch.Generator().manual_seed(c.seed) for c in configs], config.epochs,
                           config.batch_size, dev, desc=f"training {len(configs)} at once" if len(configs) > 1
                           else "training", progress=any(c.progress for c in configs))
    trained = []
    for i, (model, c, (tr, te), (m, s)) in enumerate(zip(models, configs, splits, moments)):
        model.load_state_dict({**{k: v[i].detach() for k, v in params.items()},
                               **{k: v[i].clone() for k, v in buffers.items()}})
        t = TrainedPredictor(model.eval(), c, None, m, s, tr, te, history=histories[i])
        if len(te):
            t.metrics = t.evaluate(table, ys[i], te)
        trained.append(t)
    return trained
