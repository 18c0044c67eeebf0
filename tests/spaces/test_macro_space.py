"""The NAS-Bench-Macro space: 3 stages of 2, 3, 3 layers, ops 0/1/2, the benchmark's 8-digit strings."""
import numpy as np
import pytest

from autobuild.spaces import get_space
from autobuild.spaces.base import Architecture
from autobuild.spaces.macro import OPS, STAGE_DEPTHS
from autobuild.spaces.ofa import MBV3

SPACE = get_space("macro")


def test_the_space_has_three_stages_of_2_3_3_layers_and_6561_architectures():
    assert STAGE_DEPTHS == (2, 3, 3) and OPS == ("identity", "mb3_k3", "mb6_k5")
    assert [SPACE.n_stage_subgraphs(u) for u in range(3)] == [9, 27, 27]
    assert SPACE.size == 6561 == len(set(SPACE.all_strings()))
    assert SPACE.label == "NAS-Bench-Macro" and SPACE.name == "macro"
    assert SPACE.stage_subgraphs(0)[:4] == [(0, 0), (0, 1), (0, 2), (1, 0)]


def test_strings_round_trip_in_the_benchmarks_encoding():
    arch = SPACE.from_string("22212220")
    assert arch.stages == ((2, 2), (2, 1, 2), (2, 2, 0))
    assert SPACE.to_string(arch) == "22212220"
    assert SPACE.subgraph_label(arch.stages[1]) == "212"
    assert list(SPACE.codes(arch)) == [2, 2, 2, 1, 2, 2, 2, 0]
    assert SPACE.all_strings()[0] == "00000000" and SPACE.all_strings()[-1] == "22222222"
    assert all(SPACE.from_string(SPACE.to_string(a)) == a for a in SPACE.sample(50, seed=1))


def test_node_features_are_stage_position_and_op_per_layer():
    x = SPACE.node_features(SPACE.from_string("01210122"))
    assert x.shape == (8, 3)
    assert x[:, 0].tolist() == [0, 0, 1, 1, 1, 2, 2, 2]
    assert x[:, 1].tolist() == [0, 1, 0, 1, 2, 0, 1, 2]
    assert x[:, 2].tolist() == [0, 1, 2, 1, 0, 1, 2, 2]
    assert np.array_equal(SPACE.subgraph_features(1, (2, 1, 0)), x[2:5])


@pytest.mark.parametrize("text", ["2221222", "222122200", "22212223", "2221222a", 22212220, None])
def test_a_string_outside_the_space_is_refused_with_the_format(text):
    with pytest.raises(ValueError, match="8 op digits 0-2"):
        SPACE.from_string(text)


def test_architectures_outside_the_space_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="space 'mbv3' given to space 'macro'"):
        SPACE.validate(MBV3.sample(1, seed=0)[0])
    with pytest.raises(ValueError, match="stage 1 holds 3 layers"):
        SPACE.build([(2, 2), (2, 1), (2, 2, 0)])
    with pytest.raises(ValueError, match="op digit"):
        SPACE.build([(2, 2), (2, 1, 3), (2, 2, 0)])
    with pytest.raises(ValueError, match="resolution must be 32"):
        SPACE.validate(Architecture("macro", 224, ((2, 2), (2, 1, 2), (2, 2, 0))))
    with pytest.raises(ValueError, match="needs 3 stages"):
        SPACE.build([(2, 2), (2, 1, 2)])
