"""Op-level IR graphs: traced from ofa subnets, converted from the authors' ONNX-IR records."""
import numpy as np
import pytest
import torch
from torch import nn

from autobuild.graphs import fx_reader
from autobuild.graphs import ir
from autobuild.graphs import ofa_ir
from autobuild.graphs import onnx_ir
from autobuild.graphs.table import GraphTable
from autobuild.spaces.ofa import MBV3, PN
from autobuild.spaces.base import Architecture

# OFA-MBv3 (ofa package, w1.2): searchable stages 0..4; stages 1, 3, 4 have SE; stages 2..4 use
# h-swish, the first block and stages 0, 1 ReLU; first conv, final expand and feature mix are h-swish.
SE_STAGES, HSWISH_STAGES, RELU_STAGES = (1, 3, 4), (2, 3, 4), (0, 1)


def _layers(arch, stages):
    return sum(len(arch.stages[u]) for u in stages)


def _residual_adds(arch):
    return sum(len(s) - 1 for s in arch.stages)


@pytest.fixture(scope="module")
def ofa():
    return pytest.importorskip("ofa")


@pytest.mark.parametrize("seed", [0, 1])
def test_mbv3_op_counts_follow_the_architecture(ofa, seed):
    for arch in MBV3.sample(2, seed):
        g = ofa_ir.ofa_ir_graph(MBV3, arch)
        ops = g.op_counts()
        n_se = _layers(arch, SE_STAGES)
        n_hswish = 3 + 2 * _layers(arch, HSWISH_STAGES)
        assert sum(n.is_depthwise for n in g.nodes) == arch.n_layers + 1   # + the fixed first block
        assert ops["GAP"] == n_se + 1                                     # one per SE, one before the head
        assert ops["Div"] == n_hswish + n_se                              # h-swish and h-sigmoid
        assert ops["ReLU"] == 1 + 2 * _layers(arch, RELU_STAGES) + n_se
        assert ops["Add"] == _residual_adds(arch) + 1 + n_hswish + n_se  # skips (+ first block), x + 3
        assert ops["Input"] == ops["Output"] == ops["Linear"] == 1


def test_pn_has_no_se_or_hswish_ops(ofa):
    for arch in PN.sample(3, 4):
        g = ofa_ir.ofa_ir_graph(PN, arch)
        ops = g.op_counts()
        assert sum(n.is_depthwise for n in g.nodes) == arch.n_layers + 1
        assert ops["GAP"] == 1
        assert ops["Div"] == ops["Mul"] == ops["ReLU"] == ops["HardSigmoid"] == 0
        assert ops["ReLU6"] == 3 + 2 * arch.n_layers
        assert ops["Add"] == _residual_adds(arch)


def test_kernels_of_depthwise_convs_follow_the_layers(ofa):
    arch = MBV3.sample(1, 7)[0]
    g = ofa_ir.ofa_ir_graph(MBV3, arch)
    kernels = [n.kernel for n in g.nodes if n.is_depthwise]
    assert kernels[1:] == [layer.kernel for stage in arch.stages for layer in stage]


def _structure(g):
    return [(n.op_type, n.output_shape, n.kernel, n.groups) for n in g.nodes], g.edges


@pytest.mark.parametrize("space", [MBV3, PN])
def test_graph_equals_a_full_trace_of_ofas_own_subnet_and_its_shapes(ofa, space):
    """The cached-fragment path gives the graph of a plain trace of ``get_active_subnet``."""
    from ofa.model_zoo import ofa_net
    from torch.fx.passes.shape_prop import ShapeProp
    arch = space.sample(1, 3)[0]
    supernet = ofa_net(space.ofa_net, pretrained=False)
    cfg = space.to_ofa_config(arch)
    supernet.set_active_subnet(ks=cfg["ks"], e=cfg["e"], d=cfg["d"])
    subnet = supernet.get_active_subnet(preserve_weight=False).to("meta")
    shape = (1, 3, arch.resolution, arch.resolution)
    full = fx_reader.ir_graph_from_module(subnet, shape)
    assert _structure(ofa_ir.ofa_ir_graph(space, arch)) == _structure(full)
    gm = torch.fx.symbolic_trace(subnet)
    ShapeProp(gm).propagate(torch.zeros(shape, device="meta"))
    real = {n.name: tuple(n.meta["tensor_meta"].shape) for n in gm.graph.nodes
            if hasattr(n.meta.get("tensor_meta"), "shape")}
    checked = [n for n in full.nodes if n.name in real and n.op_type != "GAP"]
    assert len(checked) > 0.9 * len(full)
    assert [n.output_shape for n in checked] == [real[n.name] for n in checked]
    assert full.nodes[-1].output_shape == (1, 1000)


def test_graph_is_a_forward_dag_with_sensible_fan_in(ofa):
    arch = MBV3.sample(1, 11)[0]
    g = ofa_ir.ofa_ir_graph(MBV3, arch)
    assert all(s < d for s, d in g.edges)
    for i, node in enumerate(g.nodes):
        n_in = len(g.predecessors(i))
        expected = {"Input": (0,), "Add": (1, 2), "Mul": (1, 2), "Div": (1,)}.get(node.op_type, (1,))
        assert n_in in expected, (node.name, node.op_type, n_in)


def test_resolution_changes_spatial_features_not_ops(ofa):
    arch = MBV3.sample(1, 5)[0]
    small = Architecture("mbv3", 160, arch.stages)
    large = Architecture("mbv3", 224, arch.stages)
    g_small, g_large = ofa_ir.ofa_ir_graph(MBV3, small), ofa_ir.ofa_ir_graph(MBV3, large)
    assert g_small.op_counts() == g_large.op_counts()
    x_small, e_small = g_small.arrays()
    x_large, e_large = g_large.arrays()
    spatial = list(ir.ir_feature_vocab).index("spatial")
    assert (x_small[:, spatial] != x_large[:, spatial]).any()
    np.testing.assert_array_equal(e_small, e_large)
    assert ofa_ir.ofa_ir_graph(MBV3, small) is g_small  # cached by architecture string


def test_arrays_index_the_vocabulary_and_feed_a_graph_table(ofa):
    mb, pn = MBV3.sample(1, 2)[0], PN.sample(1, 2)[0]
    graphs = [ofa_ir.ofa_ir_graph(MBV3, mb), ofa_ir.ofa_ir_graph(PN, pn)]
    xs, edges = ir.ir_arrays(graphs)
    pn_x, pn_e = ofa_ir.ofa_ir_arrays(PN, [pn], progress=False)
    np.testing.assert_array_equal(pn_x[0], xs[1])
    np.testing.assert_array_equal(pn_e[0], edges[1])
    sizes = [len(v) for v in ir.ir_feature_vocab.values()]
    for g, x, e in zip(graphs, xs, edges):
        assert x.dtype == np.int64 and x.shape == (len(g), len(sizes))
        assert (x >= 0).all() and (x < np.array(sizes)).all()
        assert e.dtype == np.int64 and e.shape == (2, len(g.edges))
    table = GraphTable.from_arrays(xs, edges)
    x, edge_index, batch, n = table.batch(torch.tensor([1, 0]))
    assert n == 2 and x.shape[0] == sum(len(g) for g in graphs)
    assert edge_index.shape[1] == sum(len(g.edges) for g in graphs)
    assert int(edge_index.max()) < x.shape[0]


class _Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1, groups=1)
        self.dw = nn.Conv2d(8, 8, 5, padding=2, groups=8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        y = nn.functional.relu(self.conv(x))
        y = self.dw(y) * torch.sigmoid(y)
        y = self.pool(y)
        return self.fc(y.view(y.size(0), -1))


def test_generic_module_rules():
    g = fx_reader.ir_graph_from_module(_Tiny(), (2, 3, 32, 32))
    assert [n.op_type for n in g.nodes] == ["Input", "Conv", "ReLU", "Conv", "Sigmoid", "Mul", "GAP",
                                           "Reshape", "Linear", "Output"]
    shapes = {n.op_type: n.output_shape for n in g.nodes}
    assert shapes["Conv"] == (2, 8, 16, 16) and shapes["GAP"] == (2, 8, 1, 1) and shapes["Reshape"] == (2, 8)
    assert [n.grouping for n in g.nodes if n.op_type == "Conv"] == ["dense", "depthwise"]
    vocab = ir.ir_feature_vocab
    dw = [n for n in g.nodes if n.is_depthwise][0]            # 5x5, 8 channels, 16x16 (not an OFA size)
    assert dw.features() == [vocab["op"].index("Conv"), vocab["kernel"].index(5), vocab["groups"].index("depthwise"),
                             vocab["channels"].index("<=16"), vocab["spatial"].index("other")]
    fc = g.nodes[-2]
    assert fc.features() == [vocab["op"].index("Linear"), 0, 0, vocab["channels"].index("<=16"), 0]
    big = ir.IRNode("Conv", (1, 1280, 7, 7), kernel=1, groups=1)
    assert big.features()[2:] == [vocab["groups"].index("dense"), vocab["channels"].index(">1024"),
                                  vocab["spatial"].index(7)]
    mul = [i for i, n in enumerate(g.nodes) if n.op_type == "Mul"][0]
    assert sorted(g.nodes[p].op_type for p in g.predecessors(mul)) == ["Conv", "Sigmoid"]


def test_unsupported_op_is_named():
    class Cat(nn.Module):
        def forward(self, x):
            return torch.cat([x, x], dim=1)
    with pytest.raises(NotImplementedError, match="cat"):
        fx_reader.ir_graph_from_module(Cat(), (1, 3, 4, 4))


# Authors' ONNX-IR records ---------------------------------------------------------------------

def _tensor(shape):
    return {"name": "t", "type": {"tensorType": {"elemType": 1, "shape": {"dim": [{"dimValue": str(d)} for d in shape]}}}}


def _node(sid, op, out_shape=None, in_shape=None, attribute=None):
    n = onnx_ir.OnnxIRNodeRecord()
    n.__setstate__({"str_id": sid, "name": sid, "op_type": op,
                    "inputs": [_tensor(in_shape)] if in_shape else [],
                    "outputs": [_tensor(out_shape)] if out_shape else [], "attribute": attribute})
    return n


def _graph(nodes, src2dst):
    g = onnx_ir.OnnxIRGraphRecord()
    g.__setstate__({"nodes": nodes, "src2dst": src2dst, "metadata": {}, "onnx_meta_info": None})
    return g


def onnx_ir_mbv3_like():
    """input -> Conv(dw 3x3) -> BN -> hswish(Add const, Clip, Mul, Div) -> mean, mean -> Gemm -> output."""
    conv_attr = [{"name": "kernel_shape", "ints": ["3", "3"]}, {"name": "group", "i": "8", "type": "INT"}]
    nodes = [_node("in", "input_dummy", (1, 8, 14, 14)),
             _node("c", "Conv", (1, 8, 14, 14), (1, 8, 14, 14), conv_attr),
             _node("bn", "BatchNormalization", (1, 8, 14, 14)),
             _node("k3", "Constant", (0,)),
             _node("add", "Add", (1, 8, 14, 14)), _node("clip", "Clip", (1, 8, 14, 14)),
             _node("mul", "Mul", (1, 8, 14, 14)), _node("k6", "Constant"), _node("div", "Div", (1, 8, 14, 14)),
             _node("m1", "ReduceMean", (1, 8, 14, 1), (1, 8, 14, 14)),
             _node("m2", "ReduceMean", (1, 8, 1, 1), (1, 8, 14, 1)),
             _node("fc", "Gemm", (1, 10)), _node("weird", "Einsum", (1, 10)), _node("out", "output_dummy")]
    src2dst = {"in": ["c"], "c": ["bn"], "bn": ["add", "mul"], "k3": ["add"], "add": ["clip"], "clip": ["mul"],
               "mul": ["div"], "k6": ["div"], "div": ["m1"], "m1": ["m2"], "m2": ["fc"], "fc": ["weird"],
               "weird": ["out"]}
    return _graph(nodes, src2dst)


def test_onnx_ir_conversion_maps_ops_drops_constants_fuses_pooling():
    g = onnx_ir.ir_graph_from_onnx_ir(onnx_ir_mbv3_like())
    assert [n.op_type for n in g.nodes] == ["Input", "Conv", "BN", "Add", "ReLU6", "Mul", "Div", "GAP",
                                           "Linear", "Other", "Output"]
    conv = g.nodes[1]
    assert conv.kernel == 3 and conv.is_depthwise and conv.output_shape == (1, 8, 14, 14)
    gap = g.nodes[7]
    assert gap.input_shapes[0] == (1, 8, 14, 14) and gap.output_shape == (1, 8, 1, 1)
    assert g.predecessors(7) == [6]
    assert sorted(g.predecessors(5)) == [2, 4]          # Mul sees BN and Clip
    assert g.predecessors(3) == [2]                     # the Constant input is gone
    x, e = g.arrays()
    assert x.shape == (11, len(ir.ir_feature_vocab)) and e.shape == (2, len(g.edges))


def test_onnx_ir_order_does_not_matter_and_bad_graphs_are_refused():
    rec = onnx_ir_mbv3_like()
    shuffled = _graph(list(reversed(rec.nodes)), rec.src2dst)
    assert [n.op_type for n in onnx_ir.ir_graph_from_onnx_ir(shuffled).nodes] == \
        [n.op_type for n in onnx_ir.ir_graph_from_onnx_ir(rec).nodes]
    with pytest.raises(ValueError, match="cycle"):
        onnx_ir.ir_graph_from_onnx_ir(_graph([_node("a", "Relu"), _node("b", "Relu")], {"a": ["b"], "b": ["a"]}))
    with pytest.raises(ValueError, match="unknown node"):
        onnx_ir.ir_graph_from_onnx_ir(_graph([_node("a", "Relu")], {"a": ["zz"]}))
    with pytest.raises(ValueError, match="duplicate"):
        onnx_ir.ir_graph_from_onnx_ir(_graph([_node("a", "Relu"), _node("a", "Add")], {}))
    with pytest.raises(TypeError, match="dict"):
        onnx_ir.OnnxIRNodeRecord().__setstate__(["not", "a", "dict"])
