import numpy as np
import torch
from torch_geometric.data import Batch, Data

from autobuild.graphs.table import GraphTable, chain_edges
from autobuild.spaces.ofa import MBV3


def test_batch_matches_pyg_batching():
    archs = MBV3.sample(20, seed=0)
    table = GraphTable.from_architectures(MBV3, archs)
    idx = torch.tensor([7, 2, 19, 2])
    x, edge_index, batch, n = table.batch(idx)
    ref = Batch.from_data_list([
        Data(x=torch.from_numpy(MBV3.node_features(archs[i])),
             edge_index=torch.from_numpy(chain_edges(archs[i].n_layers))) for i in idx.tolist()])
    assert n == 4
    assert torch.equal(x, ref.x) and torch.equal(edge_index, ref.edge_index) and torch.equal(batch, ref.batch)


def test_general_dag_edges_are_kept():
    xs = [np.zeros((3, 1), dtype=np.int64), np.ones((2, 1), dtype=np.int64)]
    edges = [np.array([[0, 0], [1, 2]]), np.array([[0], [1]])]
    table = GraphTable.from_arrays(xs, edges)
    x, edge_index, batch, n = table.batch(torch.tensor([1, 0]))
    assert edge_index.tolist() == [[0, 2, 2], [1, 3, 4]]
    assert batch.tolist() == [0, 0, 1, 1, 1]
    assert table.last_node_index(torch.tensor([1, 0])).tolist() == [1, 4]
