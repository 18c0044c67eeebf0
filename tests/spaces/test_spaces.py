import pytest

from autobuild.spaces.ofa import MBV3, PN, Layer
from autobuild.spaces.base import Architecture
from autobuild.spaces.registry import get_space


@pytest.mark.parametrize("space", [MBV3, PN])
def test_string_cache_and_ofa_round_trips(space):
    for arch in space.sample(50, seed=1):
        assert space.from_string(space.to_string(arch)) == arch
        assert space.from_cache_config(space.to_cache_config(arch)) == arch
        assert space.from_ofa_config(space.to_ofa_config(arch)) == arch


def test_ofa_config_shapes():
    cfg = MBV3.to_ofa_config(MBV3.sample(1, 0)[0])
    assert len(cfg["ks"]) == len(cfg["e"]) == 20 and len(cfg["d"]) == 5
    cfg = PN.to_ofa_config(PN.sample(1, 0)[0])
    assert len(cfg["ks"]) == len(cfg["e"]) == 21 and len(cfg["d"]) == 6 and cfg["d"][-1] == 1


def test_stage_subgraph_counts():
    assert [MBV3.n_stage_subgraphs(u) for u in range(5)] == [9**2 + 9**3 + 9**4] * 5
    assert len(MBV3.stage_subgraphs(0)) == 7371 and len(set(MBV3.stage_subgraphs(0))) == 7371
    assert PN.n_stages == 6 and PN.n_stage_subgraphs(5) == 9 and len(PN.stage_subgraphs(5)) == 9
    assert MBV3.size == 7371**5 and PN.size == 7371**5 * 9


def test_sampling_is_seeded_and_covers_choices():
    a, b = MBV3.sample(300, seed=3), MBV3.sample(300, seed=3)
    assert a == b and a != MBV3.sample(300, seed=4)
    depths = {d for arch in a for d in arch.depths}
    kernels = {l.kernel for arch in a for s in arch.stages for l in s}
    assert depths == {2, 3, 4} and kernels == {3, 5, 7}
    assert {arch.resolution for arch in a} == set(MBV3.resolutions)
    assert all(arch.depths[-1] == 1 for arch in PN.sample(20, 0))


def test_node_features_follow_the_sequence():
    arch = MBV3.build([[Layer("mbconv3", 6, 7)] * 2, [Layer("mbconv3", 3, 3)] * 3,
                       [Layer("mbconv3", 4, 5)] * 4, [Layer("mbconv3", 3, 5)] * 2,
                       [Layer("mbconv3", 6, 3)] * 2], resolution=176)
    x = MBV3.node_features(arch)
    assert x.shape == (13, 6)
    names = MBV3.feature_names
    assert list(x[:, names.index("stage")]) == [0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 4]
    assert list(x[:5, names.index("layer")]) == [0, 1, 0, 1, 2]
    assert MBV3.feature_vocab["kernel"][x[0, names.index("kernel")]] == 7
    assert MBV3.feature_vocab["resolution"][x[0, names.index("resolution")]] == 176


def test_build_from_one_subgraph_per_stage():
    subgraphs = [MBV3.stage_subgraphs(u)[u * 100] for u in range(5)]
    arch = MBV3.build(subgraphs)
    assert arch.stages == tuple(subgraphs) and arch.resolution == MBV3.default_resolution


@pytest.mark.parametrize("bad", [
    "224:e4k5",                      # too few stages
    "200:" + "|".join(["e4k5,e4k5"] * 5),   # resolution outside the space
    "224:" + "|".join(["e4k5"] * 5),        # stage with one layer
    "224:" + "|".join(["e5k5,e4k5"] * 5),   # expand 5 does not exist
    "nonsense",
])
def test_invalid_architectures_are_refused(bad):
    with pytest.raises(ValueError):
        MBV3.from_string(bad)


def test_layer_parse_and_unknown_space():
    assert Layer.parse("mbconv2_e6_k7") == Layer("mbconv2", 6, 7)
    with pytest.raises(ValueError, match="malformed layer"):
        Layer.parse("conv_e6")
    with pytest.raises(ValueError, match="unknown search space"):
        get_space("resnet")
    with pytest.raises(ValueError, match="space 'pn'"):
        MBV3.validate(Architecture("pn", 224, ()))
