"""The dense engine: N same-shaped predictors on chain graphs, trained as one batched computation.

The predictors of a section differ only in seed, split and label (every equation x seed, an
ensemble's folds), so their parameters can be stacked along a leading model axis ``n`` and
trained together: each batched operation does N models' work for the overhead of one.

Sequence graphs are chains ``v_0 -> v_1 -> ... -> v_{L-1}``. A batch is *packed*
(:meth:`ChainBatch.pack`): each model's graphs lie end to end in one row of ``[n, P, d]``
tensors, without padding between graphs (a model's row ends in a few padding rows where another
model's batch holds more nodes). Each variant's stacked forward on them (``Variant.chain_forward``,
beside its network) equals PyG's message passing to float tolerance, in training and evaluation
mode, and so do its gradients (``tests/predictor/test_engines.py``). The parameters of the n
models live in one tensor (:class:`FlatParameters`): one optimiser call, per-model clipping as a
row norm.

Every model gets the initial weights, batch order and optimiser state it would get alone
(seeded per model; AdamW is element-wise), so the results match training one by one to
float tolerance.
"""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import stack_module_state

from autobuild.graphs.table import GraphTable
from autobuild.predictor.config import TrainConfig, keep_freed_memory
from autobuild.predictor.engines.loop import fit_epochs
from autobuild.predictor.trained import TrainedPredictor
from autobuild.predictor.variants import Variant, get_variant, model_kind

@dataclass
class PackedChains:
    """Batches of n models' chains, packed: model m's graphs lie end to end in row m of ``[n, P, ...]``
    (P: the most nodes any of the batches holds; the rows beyond a model's own nodes are padding).
    One step's batch, or (:meth:`ChainBatch.pack` of several steps) a stack of them, step after step."""

    x: torch.Tensor           # [n, P, F] int32 vocabulary indices (0 at padding)
    mask: torch.Tensor        # [n, P] True at a node, False at padding
    count: torch.Tensor       # [n, 1] nodes per model
    starts: torch.Tensor      # [n * B] flat row m * P + r of every chain start, model by model
    padding: torch.Tensor     # flat rows m * P + r of every padding row
    pool_index: torch.Tensor  # [n * P] slot m * (B + 1) + g of every row's graph g (g = B at padding)
    inv_len: torch.Tensor     # [n, B, 1] 1 / nodes of each graph
    pool: torch.Tensor        # sparse CSR [n * B, n * P]: row m * B + g holds 1 / |g| at each row of graph g
    n: int                    # models per step

    def steps(self) -> list["PackedChains"]:
        """The batch of each step (views)."""
        n, (rows, P), B = self.n, self.x.shape[:2], self.inv_len.shape[1]
        per_step = torch.bincount(torch.div(self.padding, n * P, rounding_mode="floor"), minlength=rows // n).tolist()
        pads = self.padding.split(per_step)
        crow, col, values = self.pool.crow_indices(), self.pool.col_indices(), self.pool.values()
        nonzeros = crow[::n * B].tolist()   # where each step's block of the pooling matrix starts
        out = []
        for s, pad in zip(range(rows // n), pads):
            r, (lo, hi) = slice(s * n, (s + 1) * n), nonzeros[s:s + 2]
            pool = _csr(crow[s * n * B:(s + 1) * n * B + 1] - lo, col[lo:hi] - s * n * P, values[lo:hi], (n * B, n * P))
            out.append(PackedChains(self.x[r], self.mask[r], self.count[r], self.starts[s * n * B:(s + 1) * n * B],
                                    pad - s * n * P, self.pool_index[s * n * P:(s + 1) * n * P], self.inv_len[r],
                                    pool, n))
        return out


def _csr(crow: torch.Tensor, col: torch.Tensor, values: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A sparse CSR matrix, built from indices that are valid by construction (so unchecked; torch's
    once-per-process note that its CSR support is in beta is not news to a reader)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, col, values, size=size, check_invariants=False)


@dataclass
class ChainBatch:
    """A :class:`GraphTable` of chain graphs: every node's features, where each graph starts and its length."""

    x: torch.Tensor         # [N, F] int32 vocabulary indices of every node, graph after graph
    node_ptr: torch.Tensor  # [G + 1] first node of each graph
    lengths: torch.Tensor   # [G] nodes per graph

    @classmethod
    def from_table(cls, table: GraphTable) -> "ChainBatch":
        """Refuses a table that is not made of chains ``i -> i+1`` (use the PyG path for those)."""
        if not is_chain_table(table):
            raise ValueError("the dense path needs chain graphs (edges i -> i+1 only); "
                             "train IR or other graphs with train_predictor_on_table")
        # int32: packing gathers rows of x every epoch, and index_select copies int32 rows about
        # ten times faster than int64 ones on a CPU
        return cls(table.x.to(torch.int32), table.node_ptr, table.n_nodes)

    def to(self, device) -> "ChainBatch":
        return ChainBatch(self.x.to(device), self.node_ptr.to(device), self.lengths.to(device))

    def pack(self, idx: torch.Tensor, n: int | None = None, dtype=torch.float32) -> PackedChains:
        """The graphs ``idx`` ``[R, B]`` packed end to end, row by row: row r is model ``r % n``'s
        batch (``n`` models per step, default R: one step). Every row gets the same P."""
        R, B = idx.shape
        n = n or R
        dev = idx.device
        lengths = self.lengths[idx]
        ends = lengths.cumsum(1)
        first = ends - lengths
        P = int(ends[:, -1].max())
        pos = torch.arange(P, device=dev).expand(R, P).contiguous()
        slot = torch.searchsorted(ends, pos, right=True)            # the graph of each row; B at padding
        valid = slot < B
        g = slot.clamp(max=B - 1)
        node = (self.node_ptr.take(idx.gather(1, g)) + pos - first.gather(1, g)).masked_fill_(~valid, 0)
        row = torch.arange(R, device=dev)[:, None]
        model = row % n
        inv_len = lengths.to(dtype).reciprocal()
        index = torch.int32 if R * P < 2 ** 31 else torch.int64   # int32: no conversion in MKL's product
        pool = _csr(F.pad(lengths.reshape(-1).cumsum(0), (1, 0)).to(index), valid.reshape(-1).nonzero()[:, 0].to(index),
                    inv_len.gather(1, g).masked_select(valid), (R * B, R * P))   # row i * B + g: graph g of row i
        x = self.x.index_select(0, node.view(-1)).view(R, P, -1)   # (x[node] is an order of magnitude slower)
        return PackedChains(x=x, mask=valid, count=ends[:, -1:].to(dtype),
                            starts=(model * P + first).reshape(-1), padding=(~valid).reshape(-1).nonzero()[:, 0],
                            pool_index=(model * (B + 1) + slot).reshape(-1), inv_len=inv_len[..., None], pool=pool,
                            n=n)


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


def stacked_forward(params: dict, buffers: dict, model, chains: PackedChains, training: bool = False):
    """The forward of n stacked predictors of ``model``'s variant on packed chains: the head ``[n, B]``,
    node embeddings ``[n, P, d_m]`` and graph embeddings ``[n, B, d_m]`` per hop m = 0..M.
    ``params``: :meth:`FlatParameters.views` (or any dict with the same names and shapes)."""
    return get_variant(model_kind(model)).chain_forward(params, buffers, model, chains, training)


@functools.cache
def _compiled_forward(variant: Variant):
    """``variant``'s chain forward through ``torch.compile`` (compiled once per process; P varies)."""
    return torch.compile(variant.chain_forward, dynamic=True)


class FlatParameters:
    r"""The parameters of n same-shaped models as one leaf ``flat``, block after block; block b is a
    contiguous ``[n, ...]`` (the n models' copies of one parameter, or of a group).

    The forward reads them through :meth:`views`: one ``split`` of ``flat`` (its backward writes
    every gradient into one tensor, zero for parameters the forward never reads), each piece viewed
    as its block's shape. So one AdamW call updates every parameter of every model. ``groups``
    (name -> parameter names that agree in all but their first dimension) are laid side by side
    and seen as one ``[n, sum of first dims, ...]`` view, so a forward can run e.g. every
    feature's FE-MLP as one batched op without copying.
    """

    def __init__(self, models: list, groups: dict[str, list[str]] | None = None):
        named = [dict(m.named_parameters()) for m in models]
        groups = groups or {}
        grouped = {k for members in groups.values() for k in members}
        self.n = n = len(models)
        self.blocks = [(g, list(members)) for g, members in groups.items()] + \
                      [(k, [k]) for k in named[0] if k not in grouped]
        self.shapes = {k: p.shape for k, p in named[0].items()}
        self.sizes, self.block_shapes = [], []
        for _, members in self.blocks:
            trailing = {self.shapes[k][1:] for k in members}
            if len(trailing) != 1:
                raise ValueError(f"a parameter group must agree in all but the first dimension: {members}")
            self.block_shapes.append((sum(self.shapes[k][0] for k in members), *trailing.pop()))
            self.sizes.append(n * sum(self.shapes[k].numel() for k in members))
        self.flat = torch.cat([torch.stack([torch.cat([p[k].detach().reshape(-1) for k in members]) for p in named])
                               .reshape(-1) for _, members in self.blocks]).requires_grad_(True)
        #: the model each element of ``flat`` belongs to
        self.model_of = torch.cat([torch.arange(n, device=self.flat.device).repeat_interleave(size // n)
                                   for size in self.sizes])

    def views(self) -> dict[str, torch.Tensor]:
        """Every ungrouped parameter (``[n, *shape]``) and every group (``[n, rows, ...]``) as a view of ``flat``."""
        return {name: piece.view(self.n, *shape)
                for (name, _), piece, shape in zip(self.blocks, self.flat.split(self.sizes), self.block_shapes)}

    def clip_grad_norm_(self, limit: float) -> None:
        """``clip_grad_norm_(model.parameters(), limit)`` for each model separately, on ``flat.grad``."""
        grad = self.flat.grad
        norms = grad.new_zeros(self.n).index_add_(0, self.model_of, grad.square()).sqrt_()
        grad.mul_((limit / (norms + 1e-6)).clamp_(max=1.0)[self.model_of])

    def unflatten(self, t: torch.Tensor, i: int) -> dict[str, torch.Tensor]:
        """Model i's parameters (or gradients: ``t`` laid out as ``flat``) by name."""
        out = {}
        for (_, members), piece in zip(self.blocks, t.split(self.sizes)):
            row = piece.view(self.n, -1)[i]
            for k, part in zip(members, row.split([self.shapes[k].numel() for k in members])):
                out[k] = part.view(self.shapes[k])
        return out


class StackedTraining:
    """n predictors of one variant, stacked: their parameters, buffers, optimiser and labels.
    :meth:`step` makes one optimiser step of all n on their own batches."""

    def __init__(self, chains: ChainBatch, feature_vocab: dict, ys: list[np.ndarray], configs: list[TrainConfig],
                 splits: list[tuple]):
        config = self.config = configs[0]
        self.variant = variant = get_variant(config.model)
        dev = torch.device(config.device)
        if dev.type == "cpu":
            keep_freed_memory()   # a step's activations are freed and reallocated: keep them mapped
        self.models = []
        for c in configs:  # each model initialised as it would be alone (as the PyG engine does)
            torch.manual_seed(c.seed)
            self.models.append(variant.build(feature_vocab, hidden=c.hidden, n_hops=c.n_hops,
                                             fe_stop_gradient=c.fe_stop_gradient).to(dev))
        self.params = FlatParameters(self.models, variant.chain_groups(self.models[0]))
        _, buffers = stack_module_state(self.models)
        self.buffers = {k: v.detach().clone() for k, v in buffers.items()}
        self.opt = torch.optim.AdamW([self.params.flat], lr=config.lr, weight_decay=config.weight_decay, fused=True)
        self.moments = [(float(y[tr].mean()), float(y[tr].std() or 1.0)) for y, (tr, _) in zip(ys, splits)]
        self.y = torch.as_tensor(np.stack([(y - m) / s for y, (m, s) in zip(ys, self.moments)]),
                                 dtype=torch.float32, device=dev)
        self.rows = torch.arange(len(configs), device=dev)[:, None]
        self.chains = chains.to(dev)
        self.forward = _compiled_forward(variant) if config.compile else variant.chain_forward

    def prepare(self, batches: list[torch.Tensor]) -> list[tuple[torch.Tensor, PackedChains]]:
        """Each batch ``[n, B]`` of an epoch with its packed chains, packed together per batch size."""
        out = [None] * len(batches)
        for size in {b.shape[1] for b in batches}:
            which = [i for i, b in enumerate(batches) if b.shape[1] == size]
            packed = self.chains.pack(torch.cat([batches[i] for i in which]), n=len(self.models))
            for i, chains in zip(which, packed.steps()):
                out[i] = (batches[i], chains)
        return out

    def step(self, batch: torch.Tensor | tuple[torch.Tensor, PackedChains]) -> torch.Tensor:
        """One optimiser step of every model on its batch: ``[n, B]`` graph indices (row m: model m's),
        or those with their chains from :meth:`prepare`. Returns the n losses."""
        idx, chains = batch if isinstance(batch, tuple) else (batch, self.chains.pack(batch))
        config = self.config
        pred, _, graph_embs = self.forward(self.params.views(), self.buffers, self.models[0], chains, training=True)
        target = self.y[self.rows, idx]
        loss = (pred - target).square_().mean(1)
        if config.ranking_loss:
            loss = loss + self.variant.stacked_ranking_term(graph_embs, target, config.rank_strength)
        self.opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        if self.variant.grad_clip is not None:
            self.params.clip_grad_norm_(self.variant.grad_clip)
        self.opt.step()
        return loss.detach()

    def trained_models(self) -> list:
        """The n networks with their trained parameters and buffers loaded."""
        flat = self.params.flat.detach()
        for i, model in enumerate(self.models):
            model.load_state_dict({**self.params.unflatten(flat, i), **{k: v[i].clone() for k, v in self.buffers.items()}})
        return self.models


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
    training = StackedTraining(chains, feature_vocab, ys, configs, splits)
    n = len(configs)
    histories = fit_epochs(training.step, [torch.as_tensor(tr) for tr, _ in splits],
                           [torch.Generator().manual_seed(c.seed) for c in configs], configs[0].epochs,
                           configs[0].batch_size, training.y.device, prepare=training.prepare,
                           desc=f"training {n} at once" if n > 1 else "training", progress=any(c.progress for c in configs))
    trained = []
    for model, c, y, (tr, te), (m, s), history in zip(training.trained_models(), configs, ys, splits, training.moments,
                                                      histories):
        t = TrainedPredictor(model.eval(), c, None, m, s, tr, te, history=history)
        if len(te):
            t.metrics = t.evaluate(table, y, te)
        trained.append(t)
    return trained
