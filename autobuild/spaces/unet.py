"""The Stable Diffusion v1.4 U-Net macro space of paper Sec. 5.3 (our reconstruction).

The paper alters "the number of channels in each stage" and enables/disables "attention or
convolution layers in each stage" of the SDv1.4 U-Net, giving ~800k architectures, but does
not publish the exact choice sets. Ours, expressed in ``diffusers``' ``UNet2DConditionModel``
configuration so that every architecture builds as a real model:

* 4 stages (latent resolutions 64, 32, 16, 8 at 512 px); stage ``u`` holds its down block,
  its up block (joined to the down block by the skip connections) and, for stage 3, the mid
  block.
* per stage a width multiplier in ``WIDTHS`` applied to SDv1.4's ``(320, 640, 1280, 1280)``;
* per stage a depth ``d`` in ``DEPTHS``: ``d`` residual-convolution layers on the down path
  and ``d + 1`` on the up path (``layers_per_block``; SDv1.4 has ``d = 2``);
* stages 0-2: attention (a transformer layer after every residual layer) on or off,
  separately on the down and on the up path (SDv1.4: on everywhere). Removing it from the
  early, high-resolution stages is what SnapFusion and the paper do; here it is a choice;
* stage 3: no attention on the down/up path (as in SDv1.4); the mid block is either SDv1.4's
  ``res, attn, res`` or a single residual layer.

Size: ``(3*3*2*2)**3 * (3*3*2) = 839,808`` architectures. Every architecture is a sequence
graph in stage-major order: for each stage its down-path nodes, (mid block), then its
up-path nodes, so a stage is one contiguous chain whose down->up edge is the skip
connection. Node features: layer type, stage, position in the stage, width, path.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from autobuild.spaces.base import Architecture, SequenceSpace
from autobuild.spaces.registry import register_space

WIDTHS = (0.8, 1.0, 1.2)


DEPTHS = (1, 2, 3)


N_STAGES = 4


ATTN_STAGES = (0, 1, 2)


LATENT_RESOLUTION = 64


@dataclass(frozen=True, order=True)
class UNetLayer:
    """One node of a U-Net sequence graph: ``kind`` res/attn, ``path`` down/mid/up, stage ``width``."""

    kind: str
    path: str
    width: float

    def __str__(self) -> str:
        return f"{self.path}_{self.kind}_w{self.width}"


@dataclass(frozen=True)
class StageChoice:
    """The decisions that define one stage: width, depth, attention flags."""

    width: float
    depth: int
    attn_down: bool = False
    attn_up: bool = False
    mid_attn: bool = False


@dataclass(frozen=True)
class UNetWidth:
    """How an architecture is instantiated: channel base, I/O channels, heads, conditioning."""

    name: str
    base_channels: tuple[int, int, int, int]
    in_channels: int
    out_channels: int
    sample_size: int
    norm_num_groups: int
    attention_head_dim: int
    cross_attention_dim: int


# SDv1.4 inpainting U-Net: 4 latent + 1 mask + 4 masked-image latent channels in, 4 out.
FULL = UNetWidth("full", (320, 640, 1280, 1280), 9, 4, LATENT_RESOLUTION, 32, 8, 768)


# SD-mini (autobuild.sd_mini, 1/32 of SDv1.4's width): pixel space, 16x16 crops, 3 noisy + 1 mask
# + 3 masked-image channels in; one learnt conditioning token of 32 dimensions.
MINI = UNetWidth("mini", (10, 20, 40, 40), 7, 3, 16, 2, 1, 32)


class UNetSpace(SequenceSpace):
    """SDv1.4 U-Net macro space (see module docstring)."""

    KINDS = ("res", "attn")
    PATHS = ("down", "mid", "up")

    def __init__(self, name: str = "sd14_unet"):
        self.name = name
        self.resolutions = (LATENT_RESOLUTION,)
        self.default_resolution = LATENT_RESOLUTION
        max_nodes = max(len(self.stage_layers(u, c)) for u in range(N_STAGES) for c in self.stage_choices(u))
        self.feature_vocab = {
            "type": self.KINDS,
            "stage": tuple(range(N_STAGES)),
            "position": tuple(range(max_nodes)),
            "width": WIDTHS,
            "path": self.PATHS,
        }
        self._subgraphs = [[self.stage_layers(u, c) for c in self.stage_choices(u)] for u in range(N_STAGES)]
        self._choice_of = [{sg: c for sg, c in zip(self._subgraphs[u], self.stage_choices(u))}
                           for u in range(N_STAGES)]

    def __repr__(self) -> str:
        return f"UNetSpace({self.name!r})"

    @property
    def n_stages(self) -> int:
        return N_STAGES

    def _check_stage(self, stage: int) -> None:
        if not 0 <= stage < N_STAGES:
            raise ValueError(f"{self.name} has stages 0..{N_STAGES - 1}, not {stage}")

    # Choices <-> subgraphs --------------------------------------------------------------
    def stage_choices(self, stage: int) -> list[StageChoice]:
        """Every choice of stage ``stage``, in a fixed order."""
        self._check_stage(stage)
        if stage in ATTN_STAGES:
            return [StageChoice(w, d, a, b) for w, d, a, b in
                    itertools.product(WIDTHS, DEPTHS, (True, False), (True, False))]
        return [StageChoice(w, d, mid_attn=m) for w, d, m in itertools.product(WIDTHS, DEPTHS, (True, False))]

    def stage_layers(self, stage: int, c: StageChoice) -> tuple[UNetLayer, ...]:
        """The node sequence of a stage choice: down path, (mid block), up path."""
        def path(name: str, n_res: int, attn: bool) -> list[UNetLayer]:
            out = []
            for _ in range(n_res):
                out.append(UNetLayer("res", name, c.width))
                if attn:
                    out.append(UNetLayer("attn", name, c.width))
            return out

        nodes = path("down", c.depth, c.attn_down)
        if stage == N_STAGES - 1:
            mid = [UNetLayer("res", "mid", c.width)]
            if c.mid_attn:
                mid += [UNetLayer("attn", "mid", c.width), UNetLayer("res", "mid", c.width)]
            nodes += mid
        nodes += path("up", c.depth + 1, c.attn_up)
        return tuple(nodes)

    def stage_choice(self, stage: int, subgraph: Sequence[UNetLayer]) -> StageChoice:
        """The choice a stage subgraph encodes (``ValueError`` if it is not in the space)."""
        self._check_stage(stage)
        try:
            return self._choice_of[stage][tuple(subgraph)]
        except KeyError:
            raise ValueError(f"{self.name}: stage {stage} subgraph "
                             f"{[str(l) for l in subgraph]} is not in the space") from None
        except TypeError:
            raise ValueError(f"{self.name}: stage {stage} subgraph must be a sequence of UNetLayer") from None

    def stage_subgraphs(self, stage: int) -> list[tuple[UNetLayer, ...]]:
        self._check_stage(stage)
        return list(self._subgraphs[stage])

    def choices(self, arch: Architecture) -> list[StageChoice]:
        self.validate(arch)
        return [self.stage_choice(u, s) for u, s in enumerate(arch.stages)]

    # Construction ---------------------------------------------------------------------
    def validate(self, arch: Architecture) -> Architecture:
        if arch.space != self.name:
            raise ValueError(f"architecture of space {arch.space!r} given to space {self.name!r}")
        if arch.resolution not in self.resolutions:
            raise ValueError(f"{self.name}: resolution {arch.resolution} not in {self.resolutions}")
        if len(arch.stages) != N_STAGES:
            raise ValueError(f"{self.name} needs {N_STAGES} stages, got {len(arch.stages)}")
        for u, stage in enumerate(arch.stages):
            self.stage_choice(u, stage)
        return arch

    def build(self, subgraphs: Sequence[Sequence[UNetLayer]], resolution: int | None = None) -> Architecture:
        res = self.default_resolution if resolution is None else resolution
        return self.validate(Architecture(self.name, res, tuple(tuple(s) for s in subgraphs)))

    def from_choices(self, choices: Sequence[StageChoice]) -> Architecture:
        if len(choices) != N_STAGES:
            raise ValueError(f"{self.name} needs {N_STAGES} stage choices, got {len(choices)}")
        for u, c in enumerate(choices):
            if c not in self.stage_choices(u):
                raise ValueError(f"{self.name}: {c} is not a choice of stage {u}")
        return self.build([self.stage_layers(u, c) for u, c in enumerate(choices)])

    def sdv14(self) -> Architecture:
        """SDv1.4's own U-Net: width 1.0, depth 2, attention everywhere SDv1.4 has it."""
        return self.from_choices([StageChoice(1.0, 2, True, True)] * 3 + [StageChoice(1.0, 2, mid_attn=True)])

    def sample(self, n: int, seed: int) -> list[Architecture]:
        """``n`` architectures drawn uniformly from the space (with replacement)."""
        if n < 0:
            raise ValueError(f"cannot sample {n} architectures")
        rng = np.random.default_rng(seed)
        return [self.build([self._subgraphs[u][int(rng.integers(len(self._subgraphs[u])))]
                            for u in range(N_STAGES)]) for _ in range(n)]

    def index_of(self, arch: Architecture) -> int:
        """Position of ``arch`` in :meth:`all_choice_indices` order (mixed radix, stage 0 slowest)."""
        idx = 0
        for u, stage in enumerate(arch.stages):
            idx = idx * len(self._subgraphs[u]) + self._subgraphs[u].index(tuple(stage))
        return idx

    def all_choice_indices(self) -> np.ndarray:
        """``(size, n_stages)`` stage-subgraph indices of every architecture of the space."""
        grids = np.meshgrid(*[np.arange(len(s)) for s in self._subgraphs], indexing="ij")
        return np.stack([g.ravel() for g in grids], axis=1)

    def from_indices(self, row: Sequence[int]) -> Architecture:
        return self.build([self._subgraphs[u][int(i)] for u, i in enumerate(row)])

    # Encodings ------------------------------------------------------------------------
    def _rows(self, stage: int, subgraph) -> list[list[int]]:
        return [[self.encode_value("type", l.kind), stage, i, self.encode_value("width", l.width),
                 self.encode_value("path", l.path)] for i, l in enumerate(subgraph)]

    def node_features(self, arch: Architecture) -> np.ndarray:
        return np.asarray([r for u, s in enumerate(arch.stages) for r in self._rows(u, s)], dtype=np.int64)

    def subgraph_features(self, stage: int, subgraph, arch_context: dict | None = None) -> np.ndarray:
        self.stage_choice(stage, subgraph)
        return np.asarray(self._rows(stage, subgraph), dtype=np.int64)

    # Text form ------------------------------------------------------------------------
    @staticmethod
    def choice_token(stage: int, c: StageChoice) -> str:
        """Text of one stage choice: ``w<width>d<depth>`` + attention flags (down, up: ``A``/``-``;
        stage 3: mid block ``M``/``-``)."""
        flags = ("A" if c.attn_down else "-") + ("A" if c.attn_up else "-") if stage in ATTN_STAGES \
            else ("M" if c.mid_attn else "-")
        return f"w{c.width}d{c.depth}{flags}"

    def subgraph_label(self, subgraph) -> str:
        stage = N_STAGES - 1 if any(l.path == "mid" for l in subgraph) else 0
        return self.choice_token(stage, self.stage_choice(stage, subgraph))  # stages 0-2 share subgraphs

    def to_string(self, arch: Architecture) -> str:
        """Canonical text, e.g. SDv1.4 = ``"w1.0d2AA|w1.0d2AA|w1.0d2AA|w1.0d2M"``."""
        return "|".join(self.choice_token(u, c) for u, c in enumerate(self.choices(arch)))

    def from_string(self, text: str) -> Architecture:
        parts = text.strip().split("|")
        if len(parts) != N_STAGES:
            raise ValueError(f"malformed {self.name} architecture {text!r}: need {N_STAGES} '|'-separated stages")
        choices = []
        for u, tok in enumerate(parts):
            pat = r"w([\d.]+)d(\d)([A-])([A-])" if u in ATTN_STAGES else r"w([\d.]+)d(\d)([M-])"
            m = re.fullmatch(pat, tok)
            if not m:
                raise ValueError(f"malformed stage {u} token {tok!r} in {text!r} (e.g. 'w1.0d2AA', last 'w1.0d2M')")
            w, d = float(m.group(1)), int(m.group(2))
            c = StageChoice(w, d, m.group(3) == "A", m.group(4) == "A") if u in ATTN_STAGES \
                else StageChoice(w, d, mid_attn=m.group(3) == "M")
            choices.append(c)
        return self.from_choices(choices)

    # diffusers ------------------------------------------------------------------------
    def unet_config(self, arch: Architecture, width: UNetWidth = FULL) -> dict:
        """``UNet2DConditionModel`` keyword arguments for ``arch`` at ``width``."""
        cs = self.choices(arch)
        channels = tuple(int(round(b * c.width)) for b, c in zip(width.base_channels, cs))
        for ch in channels:
            if ch % width.norm_num_groups or ch % width.attention_head_dim:
                raise ValueError(f"width {width.name}: {ch} channels not divisible by groups/heads")
        down = tuple("CrossAttnDownBlock2D" if u in ATTN_STAGES and c.attn_down else "DownBlock2D"
                     for u, c in enumerate(cs))
        # Up blocks run deepest first: up block j serves stage 3 - j.
        up = tuple("CrossAttnUpBlock2D" if u in ATTN_STAGES and cs[u].attn_up else "UpBlock2D"
                   for u in reversed(range(N_STAGES)))
        return dict(
            sample_size=width.sample_size, in_channels=width.in_channels, out_channels=width.out_channels,
            down_block_types=down, up_block_types=up,
            mid_block_type="UNetMidBlock2DCrossAttn" if cs[-1].mid_attn else "UNetMidBlock2D",
            block_out_channels=channels, layers_per_block=tuple(c.depth for c in cs),
            norm_num_groups=width.norm_num_groups, attention_head_dim=width.attention_head_dim,
            cross_attention_dim=width.cross_attention_dim,
        )

    def build_unet(self, arch: Architecture, width: UNetWidth = FULL, device="cpu"):
        """A real ``diffusers.UNet2DConditionModel`` of ``arch`` (random init; ``device="meta"``
        allocates nothing, for counting)."""
        import torch
        from diffusers import UNet2DConditionModel

        with torch.device(device):
            return UNet2DConditionModel(**self.unet_config(arch, width))


def count_params(space: UNetSpace, arch: Architecture, width: UNetWidth = FULL) -> int:
    return sum(p.numel() for p in space.build_unet(arch, width, device="meta").parameters())


def count_flops(space: UNetSpace, arch: Architecture, width: UNetWidth = FULL, text_tokens: int = 77) -> int:
    """FLOPs of one U-Net evaluation (batch 1, ``text_tokens`` conditioning tokens), counted on
    the meta device with ``torch.utils.flop_counter`` (a multiply-add counts 2)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model = space.build_unet(arch, width, device="meta")
    s = width.sample_size
    with torch.device("meta"):
        x = torch.zeros(1, width.in_channels, s, s)
        t = torch.zeros(1)
        ctx = torch.zeros(1, text_tokens, width.cross_attention_dim)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x, t, encoder_hidden_states=ctx)
    return int(counter.get_total_flops())


SD14_UNET = UNetSpace()


register_space(SD14_UNET)
