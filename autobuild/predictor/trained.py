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
    splits = [(_indices(tr, n_graphs, "train"), _indices([] if te is None else te, n_graphs, "test"))
              for tr, te in splits]
    if any(len(tr) < 2 for tr, _ in splits):
        raise ValueError("every predictor needs at least 2 training graphs")
    for i, (tr, te) in enumerate(splits):
        if len(np.intersect1d(tr, te)):
            raise ValueError(f"split {i}: {len(np.intersect1d(tr, te))} graph(s) are in both the train and the test "
                             "indices; a test split must be held out")
    return ys, splits, configs[0]


def _indices(idx, n_graphs: int, what: str) -> np.ndarray:
    """``idx`` as distinct int64 indices into ``n_graphs`` graphs; floats, repeats and out-of-range refused."""
    raw = np.asarray(idx)
    if raw.size and raw.dtype.kind not in "iu":
        raise ValueError(f"{what} indices must be integers; got dtype {raw.dtype} (e.g. {str(raw.flat[0])[:20]})")
    out = raw.astype(np.int64).reshape(-1)
    if out.size and (out.min() < 0 or out.max() >= n_graphs):
        raise ValueError(f"{what} indices must lie in [0, {n_graphs}); got {out.min()}..{out.max()}")
    if len(np.unique(out)) != len(out):
        raise ValueError(f"{what} indices repeat a graph ({len(out) - len(np.unique(out))} repeat(s))")
    return out


def check_vocabulary(table: GraphTable, feature_vocab: dict) -> None:
    """Refuse graphs whose node features do not index ``feature_vocab`` (e.g. another space's graphs)."""
    if table.x.ndim != 2 or table.x.shape[1] != len(feature_vocab):
        raise ValueError(f"the graphs have {tuple(table.x.shape)[1:]} node features; the vocabulary has "
                         f"{len(feature_vocab)} ({', '.join(feature_vocab)}): graphs and space do not match")
    if len(table.x):
        top = table.x.max(0).values.tolist()
        for (name, values), t in zip(feature_vocab.items(), top):
            if t >= len(values) or int(table.x[:, list(feature_vocab).index(name)].min()) < 0:
                raise ValueError(f"node feature {name!r} holds index {t}, beyond its {len(values)} values: graphs "
                                 "and space do not match")
