"""Graph tables: many small graphs held as one set of tensors, batched by index.

PyG's ``Batch.from_data_list`` costs milliseconds per batch of 128 graphs, which would
dominate training on a CPU. A :class:`GraphTable` concatenates every graph's node features
and edges once; a batch is then a handful of vectorised gathers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch


def chain_edges(n_nodes: int) -> np.ndarray:
    """Edges ``i -> i+1`` of a sequence graph, shape ``(2, n_nodes - 1)``."""
    src = np.arange(n_nodes - 1, dtype=np.int64)
    return np.stack([src, src + 1])


@dataclass
class GraphTable:
    """Node features ``x`` (all graphs stacked), per-graph node offsets and local edges."""

    x: torch.Tensor            # [N_total, F] int64 vocabulary indices
    node_ptr: torch.Tensor     # [G + 1] offsets of each graph's nodes in x
    edges: torch.Tensor        # [2, E_total] edges with node indices local to their graph
    edge_ptr: torch.Tensor     # [G + 1] offsets of each graph's edges

    @classmethod
    def from_arrays(cls, xs: Sequence[np.ndarray], edge_indices: Sequence[np.ndarray] | None = None) -> "GraphTable":
        """Build from per-graph feature arrays; ``edge_indices=None`` means chain graphs."""
        if len(xs) == 0:
            raise ValueError("a graph table needs at least one graph")
        n_nodes = np.array([len(x) for x in xs])
        if (n_nodes == 0).any():
            raise ValueError("every graph needs at least one node")
        if edge_indices is None:  # chains, built in one vectorised step
            n_edges = n_nodes - 1
            starts = np.repeat(np.cumsum(n_edges) - n_edges, n_edges)
            src = np.arange(n_edges.sum(), dtype=np.int64) - starts
            edges_np = np.stack([src, src + 1])
        else:
            if len(edge_indices) != len(xs):
                raise ValueError(f"{len(xs)} feature arrays but {len(edge_indices)} edge arrays")
            n_edges = np.array([e.shape[1] for e in edge_indices])
            edges_np = np.concatenate(edge_indices, axis=1)
        x = torch.from_numpy(np.concatenate(xs).astype(np.int64))
        edges = torch.from_numpy(edges_np.astype(np.int64))
        node_ptr = torch.from_numpy(np.concatenate([[0], np.cumsum(n_nodes)]))
        edge_ptr = torch.from_numpy(np.concatenate([[0], np.cumsum(n_edges)]))
        return cls(x, node_ptr, edges, edge_ptr)

    @classmethod
    def from_architectures(cls, space, archs) -> "GraphTable":
        return cls.from_arrays([space.node_features(a) for a in archs])

    def __len__(self) -> int:
        return len(self.node_ptr) - 1

    @property
    def n_nodes(self) -> torch.Tensor:
        return self.node_ptr[1:] - self.node_ptr[:-1]

    def to(self, device) -> "GraphTable":
        return GraphTable(self.x.to(device), self.node_ptr.to(device), self.edges.to(device),
                          self.edge_ptr.to(device))

    def batch(self, idx: torch.Tensor):
        """Graphs ``idx`` as one disjoint graph: ``(x, edge_index, batch, n_graphs)``."""
        idx = torch.as_tensor(idx, dtype=torch.long, device=self.x.device)
        starts, counts = self.node_ptr[idx], self.n_nodes[idx]
        batch = torch.repeat_interleave(torch.arange(len(idx), device=idx.device), counts)
        new_start = torch.cumsum(counts, 0) - counts
        node_ids = starts[batch] + torch.arange(len(batch), device=idx.device) - new_start[batch]
        e_starts = self.edge_ptr[idx]
        e_counts = self.edge_ptr[idx + 1] - e_starts
        e_graph = torch.repeat_interleave(torch.arange(len(idx), device=idx.device), e_counts)
        e_ids = e_starts[e_graph] + torch.arange(len(e_graph), device=idx.device) \
            - (torch.cumsum(e_counts, 0) - e_counts)[e_graph]
        edge_index = self.edges[:, e_ids] + new_start[e_graph]
        return self.x[node_ids], edge_index, batch, len(idx)

    def last_node_index(self, idx: torch.Tensor) -> torch.Tensor:
        """Positions, within ``batch(idx)``'s node order, of each graph's last node."""
        counts = self.n_nodes[torch.as_tensor(idx, dtype=torch.long, device=self.x.device)]
        return torch.cumsum(counts, 0) - 1
