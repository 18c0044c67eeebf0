"""A trained predictor (:class:`TrainedPredictor`) and the checks every training input passes."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
import torch

from autobuild.graphs.table import GraphTable
from autobuild.predictor.config import TrainConfig, cpu_threads
from autobuild.stats import spearman


def split_indices(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split into train and test indices."""
    perm = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


@dataclass
class TrainedPredictor:
    """A trained model with everything needed to predict and score later."""

    model: torch.nn.Module  #: a :class:`~autobuild.predictor.model.HopPredictor` of either variant
    config: TrainConfig
    space: object | None
    y_mean: float
    y_std: float
    train_idx: np.ndarray
    test_idx: np.ndarray
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)

    @torch.no_grad()
    def _run(self, table: GraphTable, chunk: int = 2048):
        """Head predictions (label scale), graph-embedding norms per hop, node-embedding norms per hop."""
        self.model.eval()
        dev = next(self.model.parameters()).device
        table = table.to(dev)
        preds, hop, nodes = [], [], []
        with cpu_threads(self.config):
            for s in range(0, len(table), chunk):
                idx = torch.arange(s, min(s + chunk, len(table)), device=dev)
                pred, node_embs, graph_embs = self.model(*table.batch(idx))
                preds.append(pred * self.y_std + self.y_mean)
                hop.append(torch.stack([g.abs().sum(1) for g in graph_embs], 1))
                nodes.append(torch.stack([h.abs().sum(1) for h in node_embs], 1))
        return (torch.cat(preds).cpu().numpy(), torch.cat(hop).cpu().numpy(), torch.cat(nodes).cpu().numpy())

    def table(self, archs) -> GraphTable:
        if self.space is None:
            raise ValueError("this predictor was trained on pre-built graphs; pass a GraphTable")
        return GraphTable.from_architectures(self.space, archs)

    def predict(self, archs) -> np.ndarray:
        return self._run(self.table(archs))[0]

    def hop_norms(self, archs) -> np.ndarray:
        """``||h_G^m||_1`` for every architecture (rows) and hop m = 0..M (columns)."""
        return self._run(self.table(archs))[1]

    def graph_norms_table(self, table: GraphTable) -> np.ndarray:
        """``||h_G^m||_1`` (mean-pooled) for every graph of the table (rows) and hop m (columns)."""
        return self._run(table)[1]

    def node_norms_table(self, table: GraphTable) -> np.ndarray:
        """``||h_v^m||_1`` for every node of the table (rows) and hop m (columns)."""
        return self._run(table)[2]

    def evaluate(self, table: GraphTable, y: np.ndarray, idx: np.ndarray) -> dict:
        """Test metrics: SRCC of each hop's graph-embedding norm, SRCC and MAE of the head."""
        pred, hop, _ = self._run(_subset(table, idx))
        y = np.asarray(y, dtype=np.float64)[idx]
        return {"hop_srcc": [spearman(hop[:, m], y) for m in range(hop.shape[1])],
                "srcc": spearman(pred, y), "mae": float(np.mean(np.abs(pred - y))), "n_test": int(len(idx))}


def _subset(table: GraphTable, idx) -> GraphTable:
    idx = torch.as_tensor(np.asarray(idx), dtype=torch.long)
    x, edge_index, batch, n = table.batch(idx)
    counts = table.n_nodes[idx]
    node_ptr = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(counts, 0)])
    e_counts = (table.edge_ptr[idx + 1] - table.edge_ptr[idx])
    edge_ptr = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(e_counts, 0)])
    e_graph = torch.repeat_interleave(torch.arange(n), e_counts)
    local_edges = edge_index - node_ptr[e_graph]
    return GraphTable(x, node_ptr, local_edges, edge_ptr)


def check_labels(y, n_graphs: int) -> np.ndarray:
    """``y`` as float64, after refusing a wrong length, NaN or infinite values and zero spread."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or len(y) != n_graphs:
        raise ValueError(f"need one label per graph: {n_graphs} graphs, labels of shape {y.shape}")
    if not np.isfinite(y).all():
        raise ValueError(f"{int((~np.isfinite(y)).sum())} labels are NaN or infinite; clean the target first")
    if len(y) and np.ptp(y) == 0:
        raise ValueError(f"every label is {y[0]!r}: a target with zero spread has nothing to rank "
                         "(a constant equation, duplicated architectures, or a column cast to one value?)")
    return y


def check_inputs(n_graphs: int, labels: Sequence, configs: Sequence[TrainConfig], splits: Sequence | None):
    """The one check of a training call: ``(ys, splits, config)`` with every label vector checked
    (:func:`check_labels`), every split as int64 index arrays (default: each config's seeded split,
    :func:`split_indices`) and the settings the configs share (all but the seed)."""
    if not configs:
        raise ValueError("training needs at least one TrainConfig")
    base = replace(configs[0], seed=0, progress=False)
    for c in configs[1:]:
        if replace(c, seed=0, progress=False) != base:
            raise ValueError("predictors trained at once must share every setting but the seed; "
                             f"got {configs[0]} and {c}")
    if len(labels) != len(configs):
        raise ValueError(f"{len(labels)} label vectors for {len(configs)} configs")
    ys = [check_labels(y, n_graphs) for y in labels]
    if splits is None:
        splits = [split_indices(n_graphs, c.test_fraction, c.seed) for c in configs]
    if len(splits) != len(configs):
        raise ValueError(f"{len(splits)} splits for {len(configs)} configs")
    splits = [(np.asarray(tr, dtype=np.int64), np.asarray(te if te is not None else [], dtype=np.int64))
              for tr, te in splits]
    if any(len(tr) < 2 for tr, _ in splits):
        raise ValueError("every predictor needs at least 2 training graphs")
    return ys, splits, configs[0]
