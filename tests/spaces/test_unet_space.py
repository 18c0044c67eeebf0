import dataclasses

import numpy as np
import pytest
import torch

from autobuild.graphs.table import GraphTable
from autobuild.spaces.base import Architecture
from autobuild.spaces.registry import get_space
from autobuild.spaces.unet import FULL, MINI, SD14_UNET as S, StageChoice, UNetLayer, count_flops, count_params


def test_space_size_and_enumeration():
    assert [S.n_stage_subgraphs(u) for u in range(4)] == [36, 36, 36, 18]
    assert S.size == 839_808
    idx = S.all_choice_indices()
    assert idx.shape == (S.size, 4) and len(np.unique(idx, axis=0)) == S.size
    for arch in S.sample(20, seed=2):
        assert S.from_indices(idx[S.index_of(arch)]) == arch
    assert get_space("sd14_unet") is S


def test_sdv14_full_width_matches_the_real_unet():
    # SDv1.4's text-to-image U-Net has 859,520,964 parameters; the inpainting one reads
    # 9 instead of 4 input channels (5 * 9 * 320 more conv_in weights).
    sd = S.sdv14()
    assert count_params(S, sd, dataclasses.replace(FULL, in_channels=4)) == 859_520_964
    assert count_params(S, sd) == 859_520_964 + 5 * 9 * 320
    cfg = S.unet_config(sd)
    assert cfg["down_block_types"] == ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",)
    assert cfg["up_block_types"] == ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3
    assert cfg["block_out_channels"] == (320, 640, 1280, 1280) and cfg["layers_per_block"] == (2, 2, 2, 2)
    assert cfg["mid_block_type"] == "UNetMidBlock2DCrossAttn"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_graph_nodes_are_the_layers_of_the_built_model(seed):
    from diffusers.models.attention import BasicTransformerBlock
    from diffusers.models.resnet import ResnetBlock2D

    for arch in S.sample(3, seed):
        model = S.build_unet(arch, MINI, device="meta")
        x = S.node_features(arch)
        n_res = int((x[:, 0] == S.feature_vocab["type"].index("res")).sum())
        n_attn = int((x[:, 0] == S.feature_vocab["type"].index("attn")).sum())
        assert n_res == sum(isinstance(m, ResnetBlock2D) for m in model.modules())
        assert n_attn == sum(isinstance(m, BasicTransformerBlock) for m in model.modules())


def test_mini_model_runs_as_an_inpainting_denoiser():
    arch = S.from_string("w0.8d1A-|w1.2d1-A|w1.0d1--|w0.8d1M")
    model = S.build_unet(arch, MINI)
    x = torch.randn(2, MINI.in_channels, MINI.sample_size, MINI.sample_size)
    out = model(x, torch.tensor([10, 500]), encoder_hidden_states=torch.zeros(2, 1, MINI.cross_attention_dim)).sample
    assert out.shape == (2, MINI.out_channels, MINI.sample_size, MINI.sample_size)


def test_dropping_attention_and_width_cut_flops():
    sd = S.sdv14()
    no_attn0 = S.from_string("w1.0d2--|w1.0d2AA|w1.0d2AA|w1.0d2M")
    narrow = S.from_string("w0.8d2AA|w0.8d2AA|w0.8d2AA|w0.8d2M")
    f = count_flops(S, sd, MINI, text_tokens=1)
    assert count_flops(S, no_attn0, MINI, text_tokens=1) < f
    assert count_flops(S, narrow, MINI, text_tokens=1) < f
    assert count_params(S, narrow, MINI) < count_params(S, sd, MINI)


def test_string_round_trip_and_errors():
    for arch in S.sample(50, seed=4):
        assert S.from_string(S.to_string(arch)) == arch
    assert S.to_string(S.sdv14()) == "w1.0d2AA|w1.0d2AA|w1.0d2AA|w1.0d2M"
    for bad in ["w1.0d2AA|w1.0d2AA|w1.0d2AA", "w1.0d2AA|w1.0d2AA|w1.0d2AA|w1.0d2AA",
                "w0.5d2AA|w1.0d2AA|w1.0d2AA|w1.0d2M", "w1.0d4AA|w1.0d2AA|w1.0d2AA|w1.0d2M"]:
        with pytest.raises(ValueError):
            S.from_string(bad)


def test_build_validates_subgraphs():
    sd = S.sdv14()
    with pytest.raises(ValueError, match="stage 0"):
        S.build([sd.stages[3], sd.stages[1], sd.stages[2], sd.stages[3]])
    with pytest.raises(ValueError, match="needs 4 stages"):
        S.build(sd.stages[:3])
    odd = sd.stages[0][:-1]  # an up path one layer short
    with pytest.raises(ValueError, match="not in the space"):
        S.build([odd, *sd.stages[1:]])
    with pytest.raises(ValueError, match="space"):
        S.validate(Architecture("mbv3", 64, sd.stages))


def test_stage_layout_and_features():
    c = StageChoice(1.2, 3, attn_down=False, attn_up=True)
    nodes = S.stage_layers(1, c)
    assert [n.path for n in nodes] == ["down"] * 3 + ["up"] * 8
    assert [n.kind for n in nodes[3:5]] == ["res", "attn"]
    mid = S.stage_layers(3, StageChoice(0.8, 1, mid_attn=True))
    assert [(n.path, n.kind) for n in mid] == [("down", "res"), ("mid", "res"), ("mid", "attn"), ("mid", "res"),
                                              ("up", "res"), ("up", "res")]
    arch = S.sample(1, 7)[0]
    x = S.node_features(arch)
    assert x.dtype == np.int64 and x.shape == (sum(arch.depths), len(S.feature_names))
    for f, name in enumerate(S.feature_names):
        assert 0 <= x[:, f].min() and x[:, f].max() < len(S.feature_vocab[name])
    stacked = np.concatenate([S.subgraph_features(u, s) for u, s in enumerate(arch.stages)])
    np.testing.assert_array_equal(stacked, x)  # stage-major order: stages are contiguous
    assert list(x[:, 1]) == sorted(x[:, 1])
    with pytest.raises(ValueError):
        S.subgraph_features(0, (UNetLayer("res", "mid", 1.0),))


def test_sampling_is_seeded_and_uniform_over_choices():
    a, b = S.sample(400, seed=3), S.sample(400, seed=3)
    assert a == b and a != S.sample(400, seed=4)
    widths = [S.choices(x)[2].width for x in a]
    assert {0.8, 1.0, 1.2} == set(widths) and max(np.bincount([int(w * 5) for w in widths])) < 200
    with pytest.raises(ValueError):
        S.sample(-1, 0)


def test_predictor_reads_the_space_unchanged():
    from autobuild.predictor.model import AutoBuildPredictor

    archs = S.sample(8, 0)
    table = GraphTable.from_architectures(S, archs)
    model = AutoBuildPredictor(S.feature_vocab)
    pred, nodes, graphs = model(*table.batch(torch.arange(8)))
    assert pred.shape == (8,) and len(graphs) == 5
