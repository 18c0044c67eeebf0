"""Many predictors at once: N same-shaped predictors trained as one batched computation.

Both variants (``companion`` and ``authors``) train here; :func:`~autobuild.predictor.training.train_predictor`
sends every chain-graph training through this path (N = 1), PyG's message passing stays the
reference and the path for IR graphs.

The predictors of a section differ only in seed, split and label (every equation x seed, an
ensemble's folds), so their parameters can be stacked along a leading model axis ``n`` and
trained together: each batched operation does N models' work for the overhead of one.

**The dense chain path.** Sequence graphs are chains ``v_0 -> v_1 -> ... -> v_{L-1}``. A GATv2
layer without self-loops attends over a node's in-neighbours only, and on a chain a node has at
most one, so its attention weight is exactly 1:

.. math::

    \\mathrm{GATv2}(h)_i = [i > 0]\\,(W_l h_{i-1} + b_l) + b

With graphs padded to ``[n, B, L, d]`` tensors this is one shift along ``L`` and one batched
matrix product. With self-loops (``authors``) a node attends over itself and its predecessor, a
two-way softmax; batch norm takes its statistics over each model's valid nodes. Both equal PyG
to float tolerance, in training and in evaluation mode, and so do their gradients (tested). The
companion hop and the mean pooling have hand-written gradients
(:mod:`autobuild.predictor.chain_ops`): on a CPU a step is bound by passes over memory as much
as by its matrix products.

Every model gets the initial weights, batch order and optimiser state it would get alone
(seeded per model; AdamW is element-wise), so the results match training one by one to
float tolerance (test SRCC within 0.01, tested).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import stack_module_state
from tqdm.auto import tqdm

from autobuild.graphs.table import GraphTable
from autobuild.predictor.chain_ops import mean_pool, predecessor_hop
from autobuild.predictor.faithful import FaithfulPredictor
from autobuild.predictor.model import AutoBuildPredictor
from autobuild.predictor.ranking import soft_rank
from autobuild.predictor.training import TrainConfig, TrainedPredictor, check_labels, cpu_threads, split_indices
from autobuild.predictor.variants import GRAD_CLIP, build_model

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
    """Whether every graph of ``table`` is the chain ``0 -> 1 -> ... -> n-1`` of its nodes.

    (Computed with numpy: a forked worker must not enter torch's thread pool before
    :func:`~autobuild.predictor.training.cpu_threads` has sized it.)
    """
    edge_ptr, node_ptr, edges = (t.cpu().numpy() for t in (table.edge_ptr, table.node_ptr, table.edges))
    n_edges = np.diff(edge_ptr)
    if not np.array_equal(n_edges, np.diff(node_ptr) - 1):
        return False
    local = np.arange(edges.shape[1]) - np.repeat(edge_ptr[:-1], n_edges)
    return bool(np.array_equal(edges[0], local) and np.array_equal(edges[1], local + 1))


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``x @ W^T + b`` per model: ``x`` ``[n, ..., i]``, ``W`` ``[n, o, i]``, ``b`` ``[n, o]``."""
    shape = x.shape
    flat = x.reshape(shape[0], -1, shape[-1])
    if bias is None:
        out = torch.bmm(flat, weight.transpose(1, 2))
    else:
        out = torch.baddbmm(bias[:, None, :], flat, weight.transpose(1, 2))
    return out.reshape(*shape[:-1], weight.shape[1])


def stacked_forward(params: dict, buffers: dict, model, x: torch.Tensor, mask: torch.Tensor, training: bool = False):
    """The forward of n stacked predictors of ``model``'s kind on padded chains (see below)."""
    if isinstance(model, FaithfulPredictor):
        return _authors_forward(params, buffers, model, x, mask, training)
    return _companion_forward(params, model, x, mask)


def _companion_forward(params: dict, model: AutoBuildPredictor, x: torch.Tensor, mask: torch.Tensor):
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
        # node i receives its predecessor's message; the first node none, so only the bias
        h = predecessor_hop(h, params[c + "lin_l.weight"], params[c + "lin_l.bias"], params[c + "bias"],
                            params.get(f"skips.{m}.weight"))
        node_embs.append(h)
    weights = mask.to(h.dtype) / mask.sum(-1, keepdim=True)
    graph_embs = [mean_pool(e, weights) for e in node_embs]
    hidden = F.leaky_relu(_linear(graph_embs[-1], params["head.0.weight"], params["head.0.bias"]))
    pred = _linear(hidden, params["head.2.weight"], params["head.2.bias"])[..., 0]
    return pred, node_embs, graph_embs


def _masked_batch_norm(h: torch.Tensor, mask: torch.Tensor, p: str, params: dict, buffers: dict, training: bool,
                       momentum: float = 0.1, eps: float = 1e-5) -> torch.Tensor:
    """``BatchNorm1d`` over each model's valid nodes (padding excluded), running stats as torch keeps them."""
    w, b = params[p + "weight"][:, None, None, :], params[p + "bias"][:, None, None, :]
    mean_key, var_key = p + "running_mean", p + "running_var"
    if training:
        m = mask.to(h.dtype)[..., None]
        count = m.sum((1, 2))                                             # [n, 1]
        mean = (h * m).sum((1, 2)) / count                                # [n, d]
        var = (((h - mean[:, None, None]) ** 2) * m).sum((1, 2)) / count  # biased, for normalising
        with torch.no_grad():
            buffers[mean_key].mul_(1 - momentum).add_(momentum * mean)
            buffers[var_key].mul_(1 - momentum).add_(momentum * var * count / (count - 1))
            buffers[p + "num_batches_tracked"].add_(1)
    else:
        mean, var = buffers[mean_key], buffers[var_key]
    return (h - mean[:, None, None]) / torch.sqrt(var[:, None, None] + eps) * w + b


def _authors_forward(params: dict, buffers: dict, model: FaithfulPredictor, x: torch.Tensor, mask: torch.Tensor,
                     training: bool):
    """The ``authors`` predictor's forward for n stacked models on padded chains.

    On a chain, GATv2 with self-loops attends over a node and its predecessor:
    ``out_i = a_i W_l h_i + (1 - a_i) W_l h_{i-1} + b`` with ``a_i = sigmoid(e_ii - e_i,i-1)``
    (``a_0 = 1``), ``e_ij = att . LeakyReLU_0.2(W_l h_j + W_r h_i)``.
    """
    n, fe = x.shape[0], model.fe_mlp
    scalars = []
    for f in range(len(model.feature_vocab)):
        p = f"fe_mlp.per_feature.{f}."
        if fe.continuous[f]:
            values = buffers[f"fe_mlp.values_{f}"][:, :, None]              # [n, V, 1]
            table = _linear(_linear(values, params[p + "0.weight"], params[p + "0.bias"]),
                            params[p + "1.weight"], params[p + "1.bias"])
        else:
            table = _linear(params[p + "0.weight"], params[p + "1.weight"], params[p + "1.bias"])
        scalars.append(torch.gather(table[..., 0], 1, x[..., f].reshape(n, -1)).reshape(x.shape[:-1]))
    node_embs = [torch.stack(scalars, -1).abs()]
    first = torch.zeros(x.shape[2], dtype=torch.bool, device=x.device)
    first[0] = True
    for m in range(model.n_hops):
        c, h = f"convs.{m}.", node_embs[-1]
        xl = _linear(h, params[c + "lin_l.weight"], params[c + "lin_l.bias"])
        xr = _linear(h, params[c + "lin_r.weight"], params[c + "lin_r.bias"])
        prev = F.pad(xl[:, :, :-1], (0, 0, 1, 0))
        att = params[c + "att"].reshape(n, 1, 1, -1)
        e_self = (F.leaky_relu(xl + xr, 0.2) * att).sum(-1)
        e_prev = (F.leaky_relu(prev + xr, 0.2) * att).sum(-1)
        a = torch.where(first, torch.ones_like(e_self), torch.sigmoid(e_self - e_prev))[..., None]
        conv = a * xl + (1 - a) * prev + params[c + "bias"][:, None, None, :]
        out = F.relu(_masked_batch_norm(conv, mask, f"norms.{m}.module.", params, buffers, training))
        node_embs.append(out + h if m > 0 else out)
    weights = mask.to(x.dtype if x.is_floating_point() else torch.float32) / mask.sum(-1, keepdim=True)
    graph_embs = [torch.matmul(weights[..., None, :], e)[..., 0, :] for e in node_embs]
    z = graph_embs[-1]
    for i in (0, 1):
        z = _linear(z, params[f"head.{i}.weight"], params[f"head.{i}.bias"])
    z = F.relu(z)
    for i in (3, 4):
        z = _linear(z, params[f"head.{i}.weight"], params[f"head.{i}.bias"])
    pred = _linear(F.relu(z), params["head.6.weight"], params["head.6.bias"])[..., 0]
    return pred, node_embs, graph_embs


@functools.cache
def _compiled_forward():
    """:func:`stacked_forward` through ``torch.compile`` (compiled once per process and shape)."""
    return torch.compile(stacked_forward, dynamic=False)


def _ranks(y: torch.Tensor) -> torch.Tensor:
    return torch.argsort(torch.argsort(y, dim=1), dim=1).to(y.dtype)


def stacked_ranking_loss(graph_embs: list[torch.Tensor], target: torch.Tensor, strength: float,
                         kind: str = "companion") -> torch.Tensor:
    """The ranking term per model ``[n]``: mean over hops of ``1 - corr(||h_G^m||_1, y)``, where
    corr is Eq. 4's SRCC (``companion``: soft ranks against exact label ranks) or the authors'
    Pearson of soft ranks against the label values (``authors``)."""
    if kind == "authors":
        rt, eps = target - target.mean(1, keepdim=True), torch.finfo(target.dtype).tiny
    else:
        rt, eps = _ranks(target), None
        rt = rt - rt.mean(1, keepdim=True)
    norms = torch.stack([g.abs().sum(-1) for g in graph_embs], 1)          # [n, M+1, B]
    n, hops, B = norms.shape
    rp = soft_rank(norms.reshape(n * hops, B), strength).reshape(n, hops, B)   # one call, row by row
    rp = rp - rp.mean(2, keepdim=True)
    rt = rt[:, None]
    denom = rp.norm(dim=2) * rt.norm(dim=2)
    denom = denom + 1e-12 if eps is None else denom.clamp_min(eps)
    return (1.0 - (rp * rt).sum(2) / denom).mean(1)


def _clip_per_model(params: dict, limit: float | None) -> None:
    """``clip_grad_norm_(model.parameters(), limit)`` for each stacked model separately."""
    if limit is None:
        return
    grads = [p.grad for p in params.values() if p.grad is not None]
    norms = torch.sqrt(sum(g.pow(2).reshape(g.shape[0], -1).sum(1) for g in grads))
    coef = (limit / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef.reshape(-1, *([1] * (g.dim() - 1))))


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
    ys = [check_labels(y, len(table)) for y in labels]
    if splits is None:
        splits = [split_indices(len(table), c.test_fraction, c.seed) for c in configs]
    splits = [(np.asarray(tr, dtype=np.int64), np.asarray(te if te is not None else [], dtype=np.int64))
              for tr, te in splits]
    if any(len(tr) < 2 for tr, _ in splits):
        raise ValueError("every predictor needs at least 2 training graphs")
    out: list[TrainedPredictor | None] = [None] * len(configs)
    with cpu_threads(config):
        chains = ChainBatch.from_table(table)
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
        models.append(build_model(c, feature_vocab).to(dev))
    params, buffers = stack_module_state(models)
    params = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    buffers = {k: v.detach().clone() for k, v in buffers.items()}
    opt = torch.optim.AdamW(list(params.values()), lr=config.lr, weight_decay=config.weight_decay, fused=True)
    moments = [(float(y[tr].mean()), float(y[tr].std() or 1.0)) for y, (tr, _) in zip(ys, splits)]
    y_t = torch.as_tensor(np.stack([(y - m) / s for y, (m, s) in zip(ys, moments)]), dtype=torch.float32, device=dev)
    rows = torch.arange(len(configs), device=dev)[:, None]
    gens = [torch.Generator().manual_seed(c.seed) for c in configs]
    trains = [torch.as_tensor(tr) for tr, _ in splits]
    dchains = chains.to(dev)
    unused = [params[k] for k in params if k.endswith(_ATTENTION_ONLY)] if config.model == "companion" else []
    histories = [[] for _ in configs]
    forward = _compiled_forward() if config.compile else stacked_forward
    desc = f"training {len(configs)} at once" if len(configs) > 1 else "training"
    for _ in tqdm(range(config.epochs), desc=desc, disable=not any(c.progress for c in configs), leave=False):
        perm = torch.stack([tr[torch.randperm(len(tr), generator=g)] for tr, g in zip(trains, gens)]).to(dev)
        total, steps = torch.zeros(len(configs), device=dev), 0
        for s in range(0, perm.shape[1], config.batch_size):
            idx = perm[:, s:s + config.batch_size]
            if idx.shape[1] < 2:
                continue
            x, mask = dchains.gather(idx)
            pred, _, graph_embs = forward(params, buffers, models[0], x, mask, training=True)
            target = y_t[rows, idx]
            loss = ((pred - target) ** 2).mean(1)
            if config.ranking_loss:
                loss = loss + stacked_ranking_loss(graph_embs, target, config.rank_strength, config.model)
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            for p in unused:  # PyG gives these an exact zero gradient; keep AdamW's decay of them
                p.grad = torch.zeros_like(p)
            _clip_per_model(params, GRAD_CLIP[config.model])
            opt.step()
            total += loss.detach()
            steps += 1
        for h, v in zip(histories, (total / max(steps, 1)).tolist()):
            h.append(v)
    trained = []
    for i, (model, c, (tr, te), (m, s)) in enumerate(zip(models, configs, splits, moments)):
        model.load_state_dict({**{k: v[i].detach() for k, v in params.items()},
                               **{k: v[i].clone() for k, v in buffers.items()}})
        t = TrainedPredictor(model.eval(), c, None, m, s, tr, te, history=histories[i])
        if len(te):
            t.metrics = t.evaluate(table, ys[i], te)
        trained.append(t)
    return trained
