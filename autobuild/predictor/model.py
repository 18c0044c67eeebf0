"""The AutoBuild predictor: FE-MLP embedding, GATv2 message passing, per-hop pooling, head.

* FE-MLP (Sec. 4.3): every node-feature category has its own small module mapping a value to
  one scalar; the scalars are concatenated and passed through ``abs`` to form ``h_v^0``.
* ``n_hops`` GATv2 layers (width ``hidden``, residual) give ``h_v^m`` for m = 1..M: the
  embedding of the m-hop subgraph rooted at v (edges point forward, so v sees its m
  predecessors). Attention runs over a node's predecessors only (no self-loops): the
  residual already carries the node's own state, and with self-loops attention kept
  choosing the node itself, so a stage's score ignored its first layers
  (``tests/predictor/test_known_effects.py``).
* With ``fe_stop_gradient`` (default) the GATv2 layers read ``h^0`` through a stop-gradient,
  so the FE-MLP learns only from the 0-hop ranking term of Eq. 4. Without it, the MSE and
  deeper-hop terms pull ``h^0`` wherever suits them and its norm can end up
  anti-correlated with the label, which would make the FE-MLP readout meaningless.
* Mean pooling per hop gives ``h_G^m`` (Eq. 2); an MLP on ``h_G^M`` predicts the label.
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GATv2Conv, global_mean_pool

from autobuild.predictor.chain_ops import companion_hops, stacked_linear


class FeatureEmbedding(nn.Module):
    """FE-MLP: one embedding + MLP per feature category, each yielding one scalar."""

    def __init__(self, feature_vocab: dict[str, tuple], dim: int = 16):
        super().__init__()
        self.feature_names = list(feature_vocab)
        self.embeddings = nn.ModuleList(nn.Embedding(len(v), dim) for v in feature_vocab.values())
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(dim, dim), nn.LeakyReLU(), nn.Linear(dim, 1)) for _ in feature_vocab)

    def value_scalars(self) -> list[torch.Tensor]:
        """Signed scalar of every value of every feature, one ``[V_f]`` tensor per feature."""
        return [mlp(emb.weight).squeeze(1) for emb, mlp in zip(self.embeddings, self.mlps)]

    def scalars(self, x: torch.Tensor) -> torch.Tensor:
        """Signed per-feature scalars ``[N, F]`` for vocabulary indices ``x`` ``[N, F]``.

        Features are categorical, so each module is evaluated once on its vocabulary and
        looked up per node: the same function as applying it node by node, far cheaper.
        """
        return torch.stack([table[x[:, i]] for i, table in enumerate(self.value_scalars())], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scalars(x).abs()

    @torch.no_grad()
    def value_scores(self) -> dict[str, torch.Tensor]:
        """Importance ``|scalar|`` of every value of every feature (the 0-hop readout)."""
        return {name: t.abs() for name, t in zip(self.feature_names, self.value_scalars())}


class HopPredictor(nn.Module):
    """What every predictor variant shares: ``node_embeddings`` gives ``h_v^m`` for m = 0..M;
    mean pooling per hop gives ``h_G^m`` (Eq. 2); ``head`` predicts the label from ``h_G^M``."""

    head: nn.Module

    def node_embeddings(self, x: torch.Tensor, edge_index: torch.Tensor) -> list[torch.Tensor]:
        raise NotImplementedError

    def forward(self, x, edge_index, batch, n_graphs: int):
        node_embs = self.node_embeddings(x, edge_index)
        graph_embs = [global_mean_pool(h, batch, n_graphs) for h in node_embs]
        pred = self.head(graph_embs[-1]).squeeze(1)
        return pred, node_embs, graph_embs


class AutoBuildPredictor(HopPredictor):
    def __init__(self, feature_vocab: dict[str, tuple], hidden: int = 32, n_hops: int = 4,
                 heads: int = 1, fe_dim: int = 16, fe_stop_gradient: bool = True):
        super().__init__()
        self.fe_stop_gradient = fe_stop_gradient
        self.feature_vocab = {k: tuple(v) for k, v in feature_vocab.items()}
        self.hidden, self.n_hops = hidden, n_hops
        self.fe_mlp = FeatureEmbedding(self.feature_vocab, fe_dim)
        n_feat = len(feature_vocab)
        dims = [n_feat] + [hidden] * n_hops
        self.convs = nn.ModuleList(
            GATv2Conv(dims[i], hidden, heads=heads, concat=False, add_self_loops=False) for i in range(n_hops))
        self.skips = nn.ModuleList(
            nn.Identity() if dims[i] == hidden else nn.Linear(dims[i], hidden, bias=False)
            for i in range(n_hops))
        self.act = nn.LeakyReLU()
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.LeakyReLU(), nn.Linear(hidden, 1))

    def node_embeddings(self, x: torch.Tensor, edge_index: torch.Tensor) -> list[torch.Tensor]:
        """``h_v^m`` for m = 0..M, each ``[N, d_m]``."""
        h = self.fe_mlp(x)
        hs = [h]
        if self.fe_stop_gradient:
            h = h.detach()
        for conv, skip in zip(self.convs, self.skips):
            h = skip(h) + self.act(conv(h, edge_index))
            hs.append(h)
        return hs


def companion_chain_groups(model: "AutoBuildPredictor") -> dict[str, list[str]]:
    """The parameters the chain forward reads as one block each (see
    :class:`~autobuild.predictor.engines.dense.FlatParameters`): every feature's embedding table,
    and each layer of the FE-MLPs across features."""
    features = range(len(model.feature_vocab))
    groups = {"fe.embeddings": [f"fe_mlp.embeddings.{f}.weight" for f in features]}
    for layer in ("0.weight", "0.bias", "2.weight", "2.bias"):
        groups[f"fe.{layer}"] = [f"fe_mlp.mlps.{f}.{layer}" for f in features]
    return groups


@functools.cache
def _padded_rows(sizes: tuple[int, ...], device) -> torch.Tensor:
    """Rows of the stacked embedding tables that give every feature ``max(sizes)`` rows (its last repeated)."""
    width, start, rows = max(sizes), 0, []
    for size in sizes:
        rows += [start + min(v, size - 1) for v in range(width)]
        start += size
    return torch.tensor(rows, device=device)


def companion_fe_scalars(params: dict, model: "AutoBuildPredictor", x: torch.Tensor) -> torch.Tensor:
    r"""The FE-MLP's signed scalars ``[n, P, F]`` of n stacked models for vocabulary indices ``x``
    ``[n, P, F]``: every feature's MLP runs on its whole vocabulary in one batched GEMM per layer
    (features padded to the largest vocabulary), then each node looks its values up."""
    sizes = tuple(len(v) for v in model.feature_vocab.values())
    n, F_, width = x.shape[0], len(sizes), max(sizes)
    emb = params["fe.embeddings"][:, _padded_rows(sizes, x.device)]            # [n, F * V, e]
    e = emb.shape[-1]
    hidden = torch.baddbmm(params["fe.0.bias"].reshape(n * F_, 1, -1), emb.view(n * F_, width, e),
                           params["fe.0.weight"].reshape(n * F_, -1, e).transpose(1, 2))
    table = torch.baddbmm(params["fe.2.bias"].reshape(n * F_, 1, 1), F.leaky_relu(hidden),
                          params["fe.2.weight"].reshape(n * F_, 1, -1).transpose(1, 2))   # [n * F, V, 1]
    codes = x + torch.arange(0, F_ * width, width, device=x.device)   # row in the table (int64, as gather wants)
    return torch.gather(table.view(n, F_ * width), 1, codes.view(n, -1)).view(x.shape)


def companion_chain_forward(params: dict, buffers: dict, model: "AutoBuildPredictor", chains, training: bool = False):
    """:class:`AutoBuildPredictor`'s forward for n stacked models on packed chains (the dense engine).

    On a chain a node has one in-neighbour, so GATv2 without self-loops gives it attention
    weight 1: ``GATv2(h)_i = [i > 0] (W_l h_{i-1} + b_l) + b`` (:func:`~autobuild.predictor.chain_ops.companion_hops`).

    ``params``: ``model``'s parameters stacked along a leading axis of size n, the FE-MLP's as the
    groups of :func:`companion_chain_groups`; ``chains``: a
    :class:`~autobuild.predictor.engines.dense.PackedChains`. Returns the head ``[n, B]`` and, per
    hop m = 0..M, the node embeddings ``h_v^m`` ``[n, P, d_m]`` and graph embeddings ``h_G^m``
    ``[n, B, d_m]`` (mean over each graph's nodes, Eq. 2).
    """
    h = companion_fe_scalars(params, model, chains.x).abs()
    hops = [tuple(params.get(f"{p}.{m}.{name}") for p, name in
                  (("convs", "lin_l.weight"), ("convs", "lin_l.bias"), ("convs", "bias"), ("skips", "weight")))
            for m in range(model.n_hops)]
    graph_embs, hs = companion_hops(h, hops, chains, model.fe_stop_gradient)
    node_embs = [h, *hs]
    hidden = F.leaky_relu(stacked_linear(graph_embs[-1], params["head.0.weight"], params["head.0.bias"]))
    pred = stacked_linear(hidden, params["head.2.weight"], params["head.2.bias"])[..., 0]
    return pred, node_embs, graph_embs
