"""The network of the authors' released predictors (``l1_models``): a model class onto which the AutoBuild authors' published OFA predictors load strictly.

The paper's code release ships eight predictors (``l1_models/*_predictor.pt`` state_dicts and
``*_config.pkl`` training arguments) for OFA-MBv3 and OFA-PN: ImageNet accuracy and GPU / CPU /
NPU latency. Their architecture, as their state_dict keys and the public code describe it:

* FE-MLP node embedding: each of the six node features (stage, layer, block type, expand,
  kernel, resolution) is embedded (``Embedding`` or, for the resolution, a 1-3-1 MLP on
  ``(r - 192) / 32``), reduced to one scalar, concatenated and rectified with ``abs``;
* four ``GraphConv`` layers (sum of in-neighbours, width 128) each followed by batch norm and
  LeakyReLU, with a residual connection from the second layer on;
* sum pooling over nodes, a four-linear post-projection (ReLU after the second), LeakyReLU,
  and a linear regressor; predictions are de-standardised with ``mlp_moments`` (``[0, 1]``).

Graphs are directed chains ``i -> i+1`` over the layers in forward order.
"""
from __future__ import annotations

import io
import pickle
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch_geometric.nn import BatchNorm, GraphConv
from torch_geometric.utils import scatter

from autobuild.spaces.base import Architecture
from autobuild.spaces.ofa import OFASpace
from autobuild.spaces.registry import get_space

#: Prediction targets of the published predictors and their units.
TARGETS = {
    "acc": "ImageNet top-1 accuracy (fraction)",
    "latency_gpu": "ms, RTX 2080 Ti",
    "latency_cpu": "ms, Threadripper 2990WX",
    "latency_npu": "ms, Kirin 9000 NPU",
}


_SPACE_FAMILY = {"mbv3": "ofa_mbv3", "pn": "ofa_pn"}


_EXPECTED_CONFIG = {"gnn_type": "GraphConv", "num_layers": 4, "gnn_dim": 128, "aggr_method": "sum",
                    "gnn_activ": "LeakyReLU", "reg_activ": "LeakyReLU", "residual": True,
                    "undirected": False, "format": "custom"}


_CONFIG_TYPES = (dict, str, int, float, bool, type(None), list, tuple)


class _PlainDataUnpickler(pickle.Unpickler):
    """Admits only pickles of builtin containers and scalars (no class lookups at all)."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: the predictor config must be a plain dict")


def read_config(path: str | Path) -> dict:
    """Read a ``*_config.pkl`` training-argument dict with a restricted unpickler."""
    path = Path(path)
    try:
        data = _PlainDataUnpickler(io.BytesIO(path.read_bytes())).load()
    except FileNotFoundError:
        raise FileNotFoundError(f"predictor config not found: {path}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, IndexError) as exc:
        raise ValueError(f"{path}: not a readable predictor config ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, _CONFIG_TYPES) for v in data.values()):
        raise ValueError(f"{path}: expected a plain dict of training arguments, got {type(data).__name__}")
    return data


class FEMLPEmbedding(nn.Module):
    """The authors' FE-MLP for MobileNet sequence graphs: six features -> six scalars -> ``abs``."""

    def __init__(self, moment_shape: tuple[int, int, int]):
        super().__init__()
        self.stage_embed, self.stage_mlp = nn.Embedding(6, 3), nn.Linear(3, 1)
        self.block_embed, self.block_mlp = nn.Embedding(4, 2), nn.Linear(2, 1)  # layer position
        self.mbconv_embed, self.mbconv_mlp = nn.Embedding(2, 2), nn.Linear(2, 1)  # block type
        self.exp_embed, self.exp_mlp = nn.Embedding(3, 2), nn.Linear(2, 1)
        self.kernel_embed, self.kernel_mlp = nn.Embedding(3, 3), nn.Linear(3, 1)
        self.res_mlp = nn.Sequential(nn.Linear(1, 3), nn.Linear(3, 1))
        # Per-(stage, hop) score moments used by the authors' subgraph scoring; not used here.
        self.register_buffer("moment_tsr", torch.zeros(moment_shape))

    def forward(self, codes: torch.Tensor, res: torch.Tensor) -> torch.Tensor:
        """``codes``: (N, 5) long [stage, layer, block, expand, kernel]; ``res``: (N, 1) float."""
        parts = [mlp(embed(codes[:, i])) for i, (embed, mlp) in enumerate((
            (self.stage_embed, self.stage_mlp), (self.block_embed, self.block_mlp),
            (self.mbconv_embed, self.mbconv_mlp), (self.exp_embed, self.exp_mlp),
            (self.kernel_embed, self.kernel_mlp)))]
        parts.append(self.res_mlp(res))
        return torch.cat(parts, dim=-1).abs()


class GraphConvEncoder(nn.Module):
    """Four GraphConv + BatchNorm + LeakyReLU layers, residual from the second layer on."""

    def __init__(self, in_dim: int = 6, width: int = 128, n_layers: int = 4):
        super().__init__()
        self.gnn_layers = nn.ModuleList(
            GraphConv(in_dim if i == 0 else width, width, aggr="add") for i in range(n_layers))
        self.bns = nn.ModuleList(BatchNorm(width) for _ in range(n_layers))
        # Present in the released checkpoints but never called by the authors' forward pass.
        self.init_ff = nn.Linear(2 * in_dim, in_dim)
        self.activ = nn.LeakyReLU()

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        for i, (conv, bn) in enumerate(zip(self.gnn_layers, self.bns)):
            out = self.activ(bn(conv(h, edge_index)))
            h = out + h if i > 0 else out
        return h


class ReleasedNet(nn.Module):
    """Graph regressor with the authors' parameter layout; ``forward`` returns label-scale values."""

    def __init__(self, moment_shape: tuple[int, int, int], width: int = 128, n_layers: int = 4):
        super().__init__()
        self.embed_layer = FEMLPEmbedding(moment_shape)
        self.encoder = GraphConvEncoder(6, width, n_layers)
        self.post_proj = nn.Sequential(nn.Linear(width, width), nn.Linear(width, width), nn.ReLU(),
                                       nn.Linear(width, width), nn.Linear(width, width))
        self.activ = nn.LeakyReLU()
        self.regressor = nn.Linear(width, 1)
        self.register_buffer("hop_moments", torch.stack([torch.zeros(n_layers + 1), torch.ones(n_layers + 1)]))
        self.register_buffer("mlp_moments", torch.tensor([0.0, 1.0]))
        self.register_buffer("test_metrics", torch.zeros(3))  # authors' held-out [MAE, MAPE, SRCC]

    def forward(self, codes, res, edge_index, batch, n_graphs: int) -> torch.Tensor:
        h = self.encoder(self.embed_layer(codes, res), edge_index)
        g = scatter(h, batch, dim=0, dim_size=n_graphs, reduce="sum")
        out = self.regressor(self.activ(self.post_proj(g))).squeeze(-1)
        return out * self.mlp_moments[1] + self.mlp_moments[0]


def encode(archs: Sequence[Architecture], any_resolution: bool = False) -> tuple[torch.Tensor, ...]:
    """Authors' node encoding of OFA architectures: (codes, res, edge_index, batch, n_graphs).

    codes = [stage, layer, block (mbconv2=0, mbconv3=1), expand index, kernel index] and
    res = ``(resolution - 192) / 32``; edges chain the layers of each architecture.
    ``any_resolution`` admits resolutions outside the space (the feature is continuous).
    """
    codes, res, edges, batch = [], [], [], []
    offset = 0
    for g, arch in enumerate(archs):
        space = get_space(arch.space)
        if not isinstance(space, OFASpace):
            raise ValueError(f"the authors' predictors read OFA architectures, not space {arch.space!r}")
        space.validate(replace(arch, resolution=space.default_resolution) if any_resolution else arch)
        n = 0
        for u, stage in enumerate(arch.stages):
            for i, layer in enumerate(stage):
                codes.append((u, i, int(layer.block == "mbconv3"), OFASpace.EXPANDS.index(layer.expand),
                              OFASpace.KERNELS.index(layer.kernel)))
                n += 1
        res.extend([(arch.resolution - 192) / 32] * n)
        batch.extend([g] * n)
        edges.extend((offset + i, offset + i + 1) for i in range(n - 1))
        offset += n
    edge_index = torch.as_tensor(np.asarray(edges, dtype=np.int64).reshape(-1, 2).T.copy())
    return (torch.as_tensor(np.asarray(codes, dtype=np.int64).reshape(-1, 5)),
            torch.as_tensor(res, dtype=torch.float32).unsqueeze(-1),
            edge_index, torch.as_tensor(batch, dtype=torch.int64), len(archs))


def checkpoint_paths(models_dir: str | Path, space: str, target: str) -> tuple[Path, Path]:
    """Paths of the (state_dict, config) pair of one published predictor."""
    if space not in _SPACE_FAMILY:
        raise ValueError(f"no published predictor for space {space!r}; available: {sorted(_SPACE_FAMILY)}")
    if target not in TARGETS:
        raise ValueError(f"no published predictor for target {target!r}; available: {sorted(TARGETS)}")
    family = _SPACE_FAMILY[space] + ("" if target == "acc" else f"_{target}")
    stem = f"minMAE_{family}_custom_{target}_GraphConv_sum_directed_srcc1"
    models_dir = Path(models_dir)
    return models_dir / f"{stem}_predictor.pt", models_dir / f"{stem}_config.pkl"


def load_authors_predictor(models_dir: str | Path, space: str, target: str) -> ReleasedNet:
    """Load one published predictor (strictly: every key and shape must match) in eval mode."""
    weights, config_path = checkpoint_paths(models_dir, space, target)
    config = read_config(config_path)
    wrong = {k: (config.get(k), v) for k, v in _EXPECTED_CONFIG.items() if config.get(k) != v}
    if wrong or config.get("target") != target:
        raise ValueError(f"{config_path}: training arguments do not describe this model class "
                         f"(found vs expected: {wrong or {'target': (config.get('target'), target)}})")
    if not weights.is_file():
        raise FileNotFoundError(f"predictor weights not found: {weights}")
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for truncated/corrupt archives
        raise ValueError(f"{weights}: not a readable PyTorch state_dict ({exc})") from None
    if not isinstance(state, dict) or "embed_layer.moment_tsr" not in state:
        raise ValueError(f"{weights}: not an AutoBuild predictor state_dict (no 'embed_layer.moment_tsr')")
    model = ReleasedNet(tuple(state["embed_layer.moment_tsr"].shape), config["gnn_dim"], config["num_layers"])
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{weights}: state_dict does not match the authors' predictor layout: {exc}") from None
    return model.eval()


@torch.no_grad()
def predict(model: ReleasedNet, archs: Sequence[Architecture], batch_size: int = 4096,
            any_resolution: bool = False) -> np.ndarray:
    """Label-scale predictions for ``archs`` (float64 array)."""
    out = [model(*encode(archs[i:i + batch_size], any_resolution)) for i in range(0, len(archs), batch_size)]
    return torch.cat(out).double().numpy() if out else np.zeros(0)
