"""Many predictors at once: N same-shaped predictors trained as one batched computation.

The predictors of a section differ only in seed, split and label (every equation x seed, an
ensemble's folds), so their parameters can be stacked along a leading model axis ``n`` and
trained together: each batched operation does N models' work for the overhead of one.

**The dense chain path.** Sequence graphs are chains ``v_0 -> v_1 -> ... -> v_{L-1}``. A GATv2
layer without self-loops attends over a node's in-neighbours only, and on a chain a node has at
most one, so its attention weight is exactly 1:

.. math::

    \\mathrm{GATv2}(h)_i = [i > 0]\\,(W_l h_{i-1} + b_l) + b

With graphs padded to ``[n, B, L, d]`` tensors this is one shift along ``L`` and one batched
matrix product; it equals PyG's ``GATv2Conv`` to float tolerance (tested). PyG stays the
reference, and the path for IR graphs and any other non-chain table.

Every model gets the initial weights, batch order and optimiser state it would get alone
(seeded per model; AdamW is element-wise), so the results match training one by one to
float tolerance (test SRCC within 0.01, tested).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import stack_module_state
from tqdm.auto import tqdm

from autobuild.graphs.table import GraphTable
from autobuild.predictor.model import AutoBuildPredictor
from autobuild.predictor.ranking import soft_rank
from autobuild.predictor.training import TrainConfig, TrainedPredictor, cpu_threads, split_indices

# Parameters that the chain path never reads: on a chain attention is a softmax over one
# in-neighbour, so their gradient is exactly zero and AdamW only decays them.
_ATTENTION_ONLY = ("att", "lin_r.weight", "lin_r.bias")


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
    """Whether every graph of ``table`` is the chain ``0 -> 1 -> ... -> n-1`` of its nodes."""
    n_edges = table.edge_ptr[1:] - table.edge_ptr[:-1]
    if not torch.equal(n_edges, table.n_nodes - 1):
        return False
    starts = torch.repeat_interleave(table.edge_ptr[:-1], n_edges)
    local = torch.arange(table.edges.shape[1], device=table.edges.device) - starts
    return bool(torch.equal(table.edges[0], local) and torch.equal(table.edges[1], local + 1))


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``x @ W^T + b`` per model: ``x`` ``[n, ..., i]``, ``W`` ``[n, o, i]``, ``b`` ``[n, o]``."""
    shape = x.shape
    flat = x.reshape(shape[0], -1, shape[-1])
    if bias is None:
        out = torch.bmm(flat, weight.transpose(1, 2))
    else:
        out = torch.baddbmm(bias[:, None, :], flat, weight.transpose(1, 2))
    return out.reshape(*shape[:-1], weight.shape[1])


def stacked_forward(params: dict, model: AutoBuildPredictor, x: torch.Tensor, mask: torch.Tensor):
    """The companion predictor's forward for n stacked models on padded chains.

    ``params``: ``model``'s parameters stacked along a leading axis of size n; ``x``:
    ``[n, B, L, F]``; ``mask``: ``[n, B, L]``. Returns the head ``[n, B]`` and, per hop
    m = 0..M, the node embeddings ``h_v^m`` ``[n, B, L, d_m]`` and graph embeddings
    ``h_G^m`` ``[n, B, d_m]`` (mean over each graph's nodes, Eq. 2).
    """
    n = x.shape[0]
    scalars = []
    for f in range(len(model.feature_vocab)):
        p = f"fe_mlp.mlps.{f}."
        table = _linear(F.leaky_relu(_linear(params[f"fe_mlp.embeddings.{f}.weight"], params[p + "0.weight"],
                                              params[p + "0.bias"])), params[p + "2.weight"], params[p + "2.bias"])
        scalars.append(torch.gather(table[..., 0], 1, x[..., f].reshape(n, -1)).reshape(x.shape[:-1]))
    h = torch.stack(scalars, -1).abs()
    node_embs = [h]
    if model.fe_stop_gradient:
        h = h.detach()
    for m in range(model.n_hops):
        c = f"convs.{m}."
        z = _linear(h, params[c + "lin_l.weight"], params[c + "lin_l.bias"])
        # node i receives its predecessor's message; the first node none, so only the bias
        conv = F.pad(z[:, :, :-1], (0, 0, 1, 0)) + params[c + "bias"][:, None, None, :]
        skip = h if f"skips.{m}.weight" not in params else _linear(h, params[f"skips.{m}.weight"])
        h = skip + F.leaky_relu(conv)
        node_embs.append(h)
    weights = mask.to(h.dtype) / mask.sum(-1, keepdim=True)   # mean pooling as one batched product
    graph_embs = [torch.matmul(weights[..., None, :], e)[..., 0, :] for e in node_embs]
    hidden = F.leaky_relu(_linear(graph_embs[-1], params["head.0.weight"], params["head.0.bias"]))
    pred = _linear(hidden, params["head.2.weight"], params["head.2.bias"])[..., 0]
    return pred, node_embs, graph_embs


def _ranks(y: torch.Tensor) -> torch.Tensor:
    return torch.argsort(torch.argsort(y, dim=1), dim=1).to(y.dtype)


def stacked_ranking_loss(graph_embs: list[torch.Tensor], target: torch.Tensor, strength: float) -> torch.Tensor:
    """Eq. 4's ranking term per model ``[n]``: mean over hops of ``1 - SRCC(y, ||h_G^m||_1)``."""
    rt = _ranks(target)
    rt = rt - rt.mean(1, keepdim=True)
    terms = []
    for g in graph_embs:
        rp = soft_rank(g.abs().sum(-1), strength)
        rp = rp - rp.mean(1, keepdim=True)
        terms.append(1.0 - (rp * rt).sum(1) / (rp.norm(dim=1) * rt.norm(dim=1) + 1e-12))
    return torch.stack(terms, 1).mean(1)


def _check_configs(configs: Sequence[TrainConfig]) -> TrainConfig:
    if not configs:
        raise ValueError("train_many needs at least one TrainConfig")
    base = replace(configs[0], seed=0, progress=False)
    for c in configs[1:]:
        if replace(c, seed=0, progress=False) != base:
            raise ValueError("predictors trained at once must share every setting but the seed; "
                             f"got {configs[0]} and {c}")
    return configs[0]


def train_many(table: GraphTable, feature_vocab: dict, labels: Sequence, configs: Sequence[TrainConfig],
               splits: Sequence[tuple] | None = None, space=None) -> list[TrainedPredictor]:
    """Train ``len(configs)`` predictors on one chain-graph ``table`` at once.

    ``labels[i]`` (one float per graph) and ``configs[i]`` (same settings but the seed) belong
    to predictor i; ``splits[i] = (train_idx, test_idx)`` or, by default, the seeded 90/10 split
    of ``configs[i]``. Predictors with the same number of training graphs take the same number
    of optimiser steps and are trained in one batch. Returns one :class:`TrainedPredictor`
    each, exactly as :func:`~autobuild.predictor.training.train_predictor` would return it.
    """
    config = _check_configs(configs)
    if len(labels) != len(configs):
        raise ValueError(f"{len(labels)} label vectors for {len(configs)} configs")
    ys = [np.asarray(y, dtype=np.float64) for y in labels]
    for y in ys:
        if y.ndim != 1 or len(y) != len(table):
            raise ValueError(f"need one label per graph: {len(table)} graphs, labels of shape {y.shape}")
        if not np.isfinite(y).all():
            raise ValueError(f"{int((~np.isfinite(y)).sum())} labels are NaN or infinite; clean the target first")
    if splits is None:
        splits = [split_indices(len(table), c.test_fraction, c.seed) for c in configs]
    splits = [(np.asarray(tr, dtype=np.int64), np.asarray(te if te is not None else [], dtype=np.int64))
              for tr, te in splits]
    if any(len(tr) < 2 for tr, _ in splits):
        raise ValueError("every predictor needs at least 2 training graphs")
    chains = ChainBatch.from_table(table)
    out: list[TrainedPredictor | None] = [None] * len(configs)
    with cpu_threads(config):
        for size in sorted({len(tr) for tr, _ in splits}):
            group = [i for i, (tr, _) in enumerate(splits) if len(tr) == size]
            trained = _fit_group(chains, table, feature_vocab, [ys[i] for i in group], [configs[i] for i in group],
                                 [splits[i] for i in group])
            for i, t in zip(group, trained):
                t.space = space
                out[i] = t
    return out


def _fit_group(chains: ChainBatch, table: GraphTable, feature_vocab, ys, configs, splits) -> list[TrainedPredictor]:
    config = configs[0]
    dev = torch.device(config.device)
    models = []
    for c in configs:  # each model initialised as it would be alone (see training._fit)
        torch.manual_seed(c.seed)
        models.append(AutoBuildPredictor(feature_vocab, hidden=c.hidden, n_hops=c.n_hops,
                                         fe_stop_gradient=c.fe_stop_gradient).to(dev))
    params, _ = stack_module_state(models)
    params = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    opt = torch.optim.AdamW(list(params.values()), lr=config.lr, weight_decay=config.weight_decay, fused=True)
    moments = [(float(y[tr].mean()), float(y[tr].std() or 1.0)) for y, (tr, _) in zip(ys, splits)]
    y_t = torch.as_tensor(np.stack([(y - m) / s for y, (m, s) in zip(ys, moments)]), dtype=torch.float32, device=dev)
    rows = torch.arange(len(configs), device=dev)[:, None]
    gens = [torch.Generator().manual_seed(c.seed) for c in configs]
    trains = [torch.as_tensor(tr) for tr, _ in splits]
    dchains = chains.to(dev)
    unused = [params[k] for k in params if k.endswith(_ATTENTION_ONLY)]
    histories = [[] for _ in configs]
    desc = f"training {len(configs)} at once" if len(configs) > 1 else "training"
    for _ in tqdm(range(config.epochs), desc=desc, disable=not any(c.progress for c in configs), leave=False):
        perm = torch.stack([tr[torch.randperm(len(tr), generator=g)] for tr, g in zip(trains, gens)]).to(dev)
        total, steps = torch.zeros(len(configs), device=dev), 0
        for s in range(0, perm.shape[1], config.batch_size):
            idx = perm[:, s:s + config.batch_size]
            if idx.shape[1] < 2:
                continue
            x, mask = dchains.gather(idx)
            pred, _, graph_embs = stacked_forward(params, models[0], x, mask)
            target = y_t[rows, idx]
            loss = ((pred - target) ** 2).mean(1)
            if config.ranking_loss:
                loss = loss + stacked_ranking_loss(graph_embs, target, config.rank_strength)
            opt.zero_grad(set_to_none=False)
            loss.sum().backward()
            for p in unused:  # PyG gives these an exact zero gradient; keep AdamW's decay of them
                p.grad = torch.zeros_like(p)
            opt.step()
            total += loss.detach()
            steps += 1
        for h, v in zip(histories, (total / max(steps, 1)).tolist()):
            h.append(v)
    trained = []
    for i, (model, c, (tr, te), (m, s)) in enumerate(zip(models, configs, splits, moments)):
        model.load_state_dict({k: v[i].detach() for k, v in params.items()})
        t = TrainedPredictor(model.eval(), c, None, m, s, tr, te, history=histories[i])
        if len(te):
            t.metrics = t.evaluate(table, ys[i], te)
        trained.append(t)
    return trained
