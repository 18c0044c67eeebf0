"""Section 1's experiments: sequence graphs, rooted subgraphs, receptive fields, space sizes."""
import math

import pandas as pd
import pytest

from autobuild.data.labelled import LabelledSet
from autobuild.experiments import encodings
from autobuild.spaces.ofa import MBV3, PN


@pytest.fixture(scope="module")
def seq():
    return encodings.SequenceGraph.of(MBV3, MBV3.sample(1, seed=3)[0])


def test_sequence_graph_is_a_chain_with_decoded_features(seq):
    n = seq.arch.n_layers
    assert list(seq.graph.edges) == [(i, i + 1) for i in range(n - 1)]
    assert list(seq.nodes.columns) == list(MBV3.feature_names) and len(seq.nodes) == n
    stages = [u for u, depth in enumerate(seq.arch.depths) for _ in range(depth)]
    assert seq.nodes["stage"].tolist() == stages
    assert seq.nodes["kernel"].tolist() == [layer.kernel for stage in seq.arch.stages for layer in stage]


def test_rooted_subgraph_holds_the_root_and_its_m_predecessors(seq):
    n = seq.arch.n_layers
    for v in (0, n // 2, n - 1):
        for m in range(4):
            assert encodings.rooted_subgraph(seq.graph, v, m) == set(range(max(0, v - m), v + 1))


def test_deepest_stage_root_is_the_last_layer_of_the_deepest_stage(seq):
    rooted = encodings.deepest_stage_subgraphs(seq, hops=(1, 3))
    depths = seq.arch.depths
    assert rooted.depth == max(depths) == depths[rooted.stage]
    assert rooted.root == sum(depths[: rooted.stage + 1]) - 1
    assert rooted.members[1] == {rooted.root - 1, rooted.root}
    assert f"root: node {rooted.root} (stage {rooted.stage}," in rooted.summary()


def test_receptive_field_of_the_gnn_is_the_rooted_subgraph(seq):
    root = seq.arch.n_layers - 1
    field = encodings.receptive_field(seq, root)
    assert field.agrees
    assert field.reach.shape == (seq.arch.n_layers, 5)
    assert field.within().index.tolist() == sorted(encodings.rooted_subgraph(seq.graph, root, 4))
    assert not field.reach["h^0"].drop(index=root).any() and field.reach.loc[root].all()


def test_median_example_takes_the_upper_median():
    archs = MBV3.sample(4, seed=0)
    data = LabelledSet(MBV3, archs, pd.DataFrame({"acc": [0.3, 0.1, 0.4, 0.2]}), {"acc": "made up"}, "test")
    example = encodings.median_example(data)
    assert example.seq.arch == archs[0] and example.value == 0.3
    assert "acc label: 0.3000 (made up)" in example.summary()


def test_space_sizes_count_what_the_spaces_enumerate():
    sizes = encodings.space_sizes((PN,))
    assert sizes.table.loc["pn", "stage subgraphs (total)"] == sum(sizes.per_stage["pn"])
    assert sizes.per_stage["pn"] == [len(PN.stage_subgraphs(u)) for u in range(PN.n_stages)]
    assert float(sizes.table.loc["pn", "architectures"]) == pytest.approx(math.prod(sizes.per_stage["pn"]), rel=1e-3)


def test_stage_depths_are_read_from_the_enumerated_subgraphs():
    sizes = encodings.space_sizes((MBV3, PN))
    assert sizes.depths["mbv3"] == [(2, 4)] * 5 and sizes.depths["pn"] == [(2, 4)] * 5 + [(1, 1)]
    assert sizes.stages_text("mbv3") == "5 stages of 2-4 layers"
    assert sizes.stages_text("pn") == "6 stages of 2-4, 2-4, 2-4, 2-4, 2-4, 1 layers"
    assert sizes.table.loc["pn", "layers per stage"] == "2-4, 2-4, 2-4, 2-4, 2-4, 1"


def test_versus_paper_says_when_counts_disagree():
    agree = encodings.SpaceSizes(pd.DataFrame(), {"mbv3": [7371] * 5, "pn": [7371] * 5 + [9]},
                                 {"mbv3": 10**20, "pn": 10**20})
    assert "DISAGREES" not in agree.versus_paper() and agree.versus_paper().endswith("True")
    off = encodings.SpaceSizes(pd.DataFrame(), {"mbv3": [7000] * 5, "pn": [7000] * 5 + [3]},
                               {"mbv3": 10**18, "pn": 10**20})
    lines = off.versus_paper().splitlines()
    assert [("DISAGREES" in line) for line in lines[:2]] == [True, True] and lines[2].endswith("False")


def test_graph_sizes_are_layer_counts_of_seeded_samples():
    sizes = encodings.graph_sizes((MBV3,), 50, seed=1)
    assert sizes["mbv3"].tolist() == [a.n_layers for a in MBV3.sample(50, seed=1)]
