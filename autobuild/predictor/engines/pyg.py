"""The PyG engine: one predictor after another, through PyG's message passing on any graphs."""
from __future__ import annotations

import numpy as np
import torch

from autobuild.graphs.table import GraphTable
from autobuild.predictor.config import TrainConfig
from autobuild.predictor.engines.loop import fit_epochs
from autobuild.predictor.trained import TrainedPredictor
from autobuild.predictor.variants import get_variant


def fit(table: GraphTable, feature_vocab: dict, ys: list[np.ndarray], configs: list[TrainConfig],
        splits: list[tuple]) -> list[TrainedPredictor]:
    """Train one predictor per ``(ys[i], configs[i], splits[i])`` (inputs already checked)."""
    return [_fit_one(table, feature_vocab, y, c, tr, te) for y, c, (tr, te) in zip(ys, configs, splits)]


def _fit_one(table, feature_vocab, y, config: TrainConfig, train_idx, test_idx) -> TrainedPredictor:
    variant = get_variant(config.model)
    torch.manual_seed(config.seed)
    dev = torch.device(config.device)
    model = variant.build(feature_vocab, hidden=config.hidden, n_hops=config.n_hops,
                          fe_stop_gradient=config.fe_stop_gradient).to(dev)
    y_mean, y_std = float(y[train_idx].mean()), float(y[train_idx].std() or 1.0)
    y_t = torch.as_tensor((y - y_mean) / y_std, dtype=torch.float32, device=dev)
    dtable = table.to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True)

    def step(idx: torch.Tensor) -> torch.Tensor:
        idx = idx[0]
        pred, _, graph_embs = model(*dtable.batch(idx))
        target = y_t[idx]
        loss = torch.nn.functional.mse_loss(pred, target)
        if config.ranking_loss:
            loss = loss + variant.ranking_term(graph_embs, target, config.rank_strength)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        variant.clip(model.parameters())
        opt.step()
        return loss.detach()[None]

    model.train()
    history = fit_epochs(step, [torch.as_tensor(train_idx)], [torch.Generator().manual_seed(config.seed)],
                         config.epochs, config.batch_size, dev, progress=config.progress)[0]
    trained = TrainedPredictor(model.eval(), config, None, y_mean, y_std, train_idx, test_idx, history=history)
    if len(test_idx):
        trained.metrics = trained.evaluate(table, y, test_idx)
    return trained
