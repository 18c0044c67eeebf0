r"""The ``authors`` predictor variant: the network the authors' ``train_predictor.py`` builds by default.

Read from github.com/Ascend-Research/AutoBuild (``ge_utils/model.py``, ``components.py``,
``custom_embeds.py``; HEAD ``d893c47``) and written anew with the interface of
:class:`autobuild.predictor.model.AutoBuildPredictor` (``forward(x, edge_index, batch, n_graphs)
-> (pred, node_embs, graph_embs)``, ``node_embeddings``, ``fe_mlp.value_scores()``,
``feature_vocab``, ``hidden``, ``n_hops``), so training, the FE-MLP readout and the subgraph
scorer take either. Given the authors' trained weights it gives their node embeddings, pooled
embeddings and head output exactly (checked on 256 architectures; their ``label_units.py``
scores of all 36,855 MBv3 stage subgraphs to 6e-8). Select it with ``TrainConfig(model="authors")``
(:mod:`autobuild.predictor.variants`); its loss is
:func:`autobuild.predictor.ranking.authors_ranking_loss`.

**FE-MLP.** For a categorical feature :math:`f` with value index :math:`c`,
:math:`s_f = w_f^\top E_f[c] + b_f` (``Embedding(V_f, d_f) -> Linear(d_f, 1)``, no hidden layer,
:math:`d_f` = 3, 2, 2, 2, 3 for stage, layer, block, expand, kernel; 2 for any other feature).
A continuous feature (the OFA input resolution, read as :math:`\rho = (r - 192)/32`:
160 -> -1, 224 -> 1) goes through ``Linear(1, 3) -> Linear(3, 1)`` with no activation, an
affine map :math:`s = a\rho + b`. ``x`` stays a matrix of vocabulary indices (``GraphTable`` is
unchanged): a buffer maps each vocabulary index of a continuous feature to its number.
:math:`h_v^0 = |[s_1, \dots, s_F]|`. No stop-gradient: every loss term trains the FE-MLP.

**Message passing.** M GATv2 layers (one head, width ``hidden``, *with* self-loops), each
followed by batch norm and ReLU; the previous layer's output is added from the second layer on:

.. math::

    h^1 = \mathrm{ReLU}(\mathrm{BN}_1(\mathrm{GATv2}_1(h^0))), \qquad
    h^m = \mathrm{ReLU}(\mathrm{BN}_m(\mathrm{GATv2}_m(h^{m-1}))) + h^{m-1}\quad (m \ge 2),

    \mathrm{GATv2}(h)_i = \sum_{j \in \{i\} \cup N^-(i)} \alpha_{ij} W_l h_j + b,\quad
    \alpha_{ij} = \mathrm{softmax}_j\, a^\top \mathrm{LeakyReLU}_{0.2}(W_l h_j + W_r h_i).

On a chain a node attends over itself and its predecessor (the first node over itself only).

**Pooling and head.** :math:`h_G^m = \mathrm{mean}_v h_v^m` for m = 0..M; the prediction is
``Linear, Linear, ReLU, Linear, Linear, ReLU, Linear(->1)`` applied to :math:`h_G^M`.

Differences from ``companion`` (:class:`~autobuild.predictor.model.AutoBuildPredictor`): see
:data:`autobuild.predictor.variants.DIFFERENCES`.
"""
from __future__ import annotations

from typing import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import BatchNorm, GATv2Conv

from autobuild.predictor.chain_ops import authors_hop, pool_hops, stacked_linear
from autobuild.predictor.model import HopPredictor

#: Embedding width of each categorical feature in the authors' MobileNet FE-MLP (our feature names).
EMBED_DIMS = {"stage": 3, "layer": 2, "block": 2, "expand": 2, "kernel": 3}
DEFAULT_EMBED_DIM = 2  #: for features the authors never had (U-Net, IR graphs)


def ofa_resolution(r) -> float:
    """The authors' encoding of the OFA input resolution: 160 -> -1, 192 -> 0, 224 -> 1."""
    return (float(r) - 192.0) / 32.0


#: Features read as numbers rather than categories, and how each value is encoded.
CONTINUOUS_FEATURES: dict[str, Callable] = {"resolution": ofa_resolution}


class FaithfulFEMLP(nn.Module):
    """One scalar module per feature (``Embedding -> Linear``, or affine for a continuous one), then ``abs``."""

    def __init__(self, feature_vocab: Mapping[str, tuple], continuous: Mapping[str, Callable] | None = None):
        super().__init__()
        continuous = CONTINUOUS_FEATURES if continuous is None else continuous
        self.feature_names = list(feature_vocab)
        self.continuous = []
        self.per_feature = nn.ModuleList()
        for i, (name, values) in enumerate(feature_vocab.items()):
            if name in continuous:
                try:
                    numbers = [float(continuous[name](v)) for v in values]
                except (TypeError, ValueError):
                    raise ValueError(f"feature {name!r} is read as a number by the 'authors' model, but its "
                                     f"vocabulary holds {tuple(values)[:5]!r}") from None
                self.register_buffer(f"values_{i}", torch.tensor(numbers, dtype=torch.float32))
                self.per_feature.append(nn.Sequential(nn.Linear(1, 3), nn.Linear(3, 1)))
            else:
                d = EMBED_DIMS.get(name, DEFAULT_EMBED_DIM)
                self.per_feature.append(nn.Sequential(nn.Embedding(len(values), d), nn.Linear(d, 1)))
            self.continuous.append(name in continuous)

    def _scalar(self, f: int, idx: torch.Tensor) -> torch.Tensor:
        if self.continuous[f]:
            return self.per_feature[f](getattr(self, f"values_{f}")[idx].unsqueeze(-1)).squeeze(-1)
        return self.per_feature[f](idx).squeeze(-1)

    def scalars(self, x: torch.Tensor) -> torch.Tensor:
        """Signed per-feature scalars ``[N, F]`` for vocabulary indices ``x`` ``[N, F]``."""
        return torch.stack([self._scalar(f, x[:, f]) for f in range(x.shape[1])], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scalars(x).abs()

    @torch.no_grad()
    def value_scores(self) -> dict[str, torch.Tensor]:
        """Importance ``|scalar|`` of every value of every feature (the 0-hop readout)."""
        out = {}
        for f, name in enumerate(self.feature_names):
            module = self.per_feature[f]
            n = getattr(self, f"values_{f}").numel() if self.continuous[f] else module[0].num_embeddings
            out[name] = self._scalar(f, torch.arange(n, device=module[-1].weight.device)).abs()
        return out


class FaithfulPredictor(HopPredictor):
    """The authors' default GATv2 predictor (see the module docstring), with ``AutoBuildPredictor``'s interface."""

    fe_stop_gradient = False  #: the FE-MLP is trained end to end (recorded by checkpoints)

    def __init__(self, feature_vocab: Mapping[str, tuple], hidden: int = 32, n_hops: int = 4,
                 continuous: Mapping[str, Callable] | None = None):
        super().__init__()
        self.feature_vocab = {k: tuple(v) for k, v in feature_vocab.items()}
        self.hidden, self.n_hops = hidden, n_hops
        self.fe_mlp = FaithfulFEMLP(self.feature_vocab, continuous)
        dims = [len(self.feature_vocab)] + [hidden] * n_hops
        self.convs = nn.ModuleList(GATv2Conv(dims[m], hidden, heads=1, add_self_loops=True) for m in range(n_hops))
        self.norms = nn.ModuleList(BatchNorm(hidden) for _ in range(n_hops))
        self.act = nn.ReLU()
        h = hidden
        self.head = nn.Sequential(nn.Linear(h, h), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, h), nn.Linear(h, h),
                                  nn.ReLU(), nn.Linear(h, 1))

    def node_embeddings(self, x: torch.Tensor, edge_index: torch.Tensor) -> list[torch.Tensor]:
        """``h_v^m`` for m = 0..M: ``[N, F]``, then ``[N, hidden]`` per hop."""
        hs = [self.fe_mlp(x)]
        for m, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            h = self.act(norm(conv(hs[-1], edge_index)))
            hs.append(h + hs[-1] if m > 0 else h)
        return hs


# The dense chain engine's forward ------------------------------------------------------------
def authors_chain_groups(model: FaithfulPredictor) -> dict[str, list[str]]:
    """The parameters the chain forward reads as one block each: ``lin_l`` over ``lin_r`` in every conv."""
    return {f"convs.{m}.lin_lr.{p}": [f"convs.{m}.lin_l.{p}", f"convs.{m}.lin_r.{p}"]
            for m in range(model.n_hops) for p in ("weight", "bias")}


def _authors_hop_eval(h, w_lr, b_lr, att, bias, mean, var, gamma, beta, first, eps: float = 1e-5):
    """The authors' hop on packed chains with batch norm's running statistics (plain autograd ops)."""
    n, d = h.shape[0], w_lr.shape[1] // 2
    xlr = torch.baddbmm(b_lr[:, None], h, w_lr.transpose(1, 2))
    xl, xr = xlr[..., :d], xlr[..., d:]
    prev = F.pad(xl[:, :-1], (0, 0, 1, 0))
    att = att.reshape(n, 1, d)
    score = (F.leaky_relu(xl + xr, 0.2) * att).sum(-1) - (F.leaky_relu(prev + xr, 0.2) * att).sum(-1)
    a = torch.where(first, 1.0, torch.sigmoid(score))[..., None]
    conv = a * xl + (1 - a) * prev + bias[:, None]
    return F.relu((conv - mean[:, None]) * torch.rsqrt(var[:, None] + eps) * gamma[:, None] + beta[:, None])


def authors_chain_forward(params: dict, buffers: dict, model: FaithfulPredictor, chains, training: bool = False):
    """:class:`FaithfulPredictor`'s forward for n stacked models on packed chains (the dense engine);
    batch norm takes its statistics over each model's valid nodes.

    On a chain, GATv2 with self-loops attends over a node and its predecessor:
    ``out_i = a_i W_l h_i + (1 - a_i) W_l h_{i-1} + b`` with ``a_i = sigmoid(e_ii - e_i,i-1)``
    (``a_0 = 1``), ``e_ij = att . LeakyReLU_0.2(W_l h_j + W_r h_i)``. In training, each hop is one
    :func:`~autobuild.predictor.chain_ops.authors_hop` (hand-written gradients).
    ``params``: stacked parameters, ``lin_l``/``lin_r`` as the groups of :func:`authors_chain_groups`.
    """
    x = chains.x.long()   # gather's index
    n, fe = x.shape[0], model.fe_mlp
    scalars = []
    for f in range(len(model.feature_vocab)):
        p = f"fe_mlp.per_feature.{f}."
        if fe.continuous[f]:
            values = buffers[f"fe_mlp.values_{f}"][:, :, None]              # [n, V, 1]
            table = stacked_linear(stacked_linear(values, params[p + "0.weight"], params[p + "0.bias"]),
                                   params[p + "1.weight"], params[p + "1.bias"])
        else:
            table = stacked_linear(params[p + "0.weight"], params[p + "1.weight"], params[p + "1.bias"])
        scalars.append(torch.gather(table[..., 0], 1, x[..., f].reshape(n, -1)).reshape(x.shape[:-1]))
    node_embs = [torch.stack(scalars, -1).abs()]
    if not training:
        first = torch.zeros(n * x.shape[1], dtype=torch.bool, device=x.device)
        first[chains.starts] = True
        first = first.view(n, -1)
    for m in range(model.n_hops):
        c, b, h = f"convs.{m}.", f"norms.{m}.module.", node_embs[-1]
        weights = (params[c + "lin_lr.weight"], params[c + "lin_lr.bias"], params[c + "att"], params[c + "bias"])
        if training:
            stats = (buffers[b + "running_mean"], buffers[b + "running_var"], buffers[b + "num_batches_tracked"], 0.1)
            out = authors_hop(h, *weights, params[b + "weight"], params[b + "bias"], chains.starts, chains.padding,
                              chains.count, residual=m > 0, stats=stats)
        else:
            out = _authors_hop_eval(h, *weights, buffers[b + "running_mean"], buffers[b + "running_var"],
                                    params[b + "weight"], params[b + "bias"], first)
            out = out + h if m > 0 else out
        node_embs.append(out)
    graph_embs = pool_hops(node_embs, chains)
    z = graph_embs[-1]
    for i in (0, 1):
        z = stacked_linear(z, params[f"head.{i}.weight"], params[f"head.{i}.bias"])
    z = F.relu(z)
    for i in (3, 4):
        z = stacked_linear(z, params[f"head.{i}.weight"], params[f"head.{i}.bias"])
    pred = stacked_linear(F.relu(z), params["head.6.weight"], params["head.6.bias"])[..., 0]
    return pred, node_embs, graph_embs


# Checking against the authors' own checkpoints --------------------------------------------------
#: Our feature name -> the prefix of its modules in the authors' MobileNet embedding.
_AUTHORS_FE_PREFIX = {"stage": "stage", "layer": "block", "block": "mbconv", "expand": "exp", "kernel": "kernel"}


def load_authors_state_dict(model: FaithfulPredictor, state: Mapping[str, torch.Tensor]) -> None:
    """Copy the weights of a state_dict written by the authors' ``train_predictor.py`` (GATv2
    defaults, MobileNet features) into ``model``, to check this module against their code.

    Their unused ``encoder.init_ff`` and their Eq. 5 moments are not copied.
    """
    new = {}
    for f, name in enumerate(model.fe_mlp.feature_names):
        if model.fe_mlp.continuous[f]:
            for j in (0, 1):
                for p in ("weight", "bias"):
                    new[f"fe_mlp.per_feature.{f}.{j}.{p}"] = state[f"embed_layer.res_mlp.{j}.{p}"]
            new[f"fe_mlp.values_{f}"] = getattr(model.fe_mlp, f"values_{f}")
        else:
            k = _AUTHORS_FE_PREFIX[name]
            new[f"fe_mlp.per_feature.{f}.0.weight"] = state[f"embed_layer.{k}_embed.weight"]
            new[f"fe_mlp.per_feature.{f}.1.weight"] = state[f"embed_layer.{k}_mlp.weight"]
            new[f"fe_mlp.per_feature.{f}.1.bias"] = state[f"embed_layer.{k}_mlp.bias"]
    for m in range(model.n_hops):
        for p in ("att", "bias", "lin_l.weight", "lin_l.bias", "lin_r.weight", "lin_r.bias"):
            new[f"convs.{m}.{p}"] = state[f"encoder.gnn_layers.{m}.{p}"]
        for p in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            new[f"norms.{m}.module.{p}"] = state[f"encoder.bns.{m}.module.{p}"]
    for ours, theirs in zip((0, 1, 3, 4, 6), ("post_proj.0", "post_proj.1", "post_proj.3", "post_proj.4", "regressor")):
        for p in ("weight", "bias"):
            new[f"head.{ours}.{p}"] = state[f"{theirs}.{p}"]
    model.load_state_dict(new, strict=True)
