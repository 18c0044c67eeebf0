"""The NAS-Bench-Macro space (Su et al., CVPR 2021): 8 searchable layers in 3 stages of 2, 3 and 3.

A 3x3 conv stem (32 channels), then the searchable layers (the first layer of each stage has
stride 2 and doubles the channels), a 1x1 conv to 1280, pooling and a linear classifier. Every
layer is one of :data:`OPS`: ``0`` Identity (a strided 1x1 conv + BN where the shape changes),
``1`` MB3_K3 (inverted residual, expansion 3, kernel 3), ``2`` MB6_K5 (expansion 6, kernel 5).
An architecture is written as the benchmark writes it, its 8 op digits (``"22212220"``), so the
space holds :math:`3^8 = 6561` networks, every one of them trained on CIFAR-10 by the benchmark.

As a sequence graph every layer is a node, Identity included (its position is part of the
architecture): node features ``stage``, ``layer`` (position within the stage) and ``op``. A
stage subgraph is the tuple of its layers' op digits, e.g. ``(2, 1, 2)``, labelled ``"212"``.
"""
from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np

from autobuild.spaces.base import Architecture, SequenceSpace
from autobuild.spaces.registry import register_space

#: Op names by digit, as the benchmark numbers them.
OPS = ("identity", "mb3_k3", "mb6_k5")
#: Layers per stage.
STAGE_DEPTHS = (2, 3, 3)
#: CIFAR-10 input side, the only resolution.
RESOLUTION = 32


class MacroSpace(SequenceSpace):
    """NAS-Bench-Macro as a sequence space (see the module docstring)."""

    def __init__(self, name: str = "macro"):
        self.name = name
        self._label = "NAS-Bench-Macro"  # how pages and figures name the space (SequenceSpace.label)
        self.resolutions = (RESOLUTION,)
        self.default_resolution = RESOLUTION
        self.stage_depths = STAGE_DEPTHS
        self.feature_vocab = {"stage": tuple(range(len(STAGE_DEPTHS))), "layer": tuple(range(max(STAGE_DEPTHS))),
                              "op": OPS}
        self._subgraphs = [list(itertools.product(range(len(OPS)), repeat=d)) for d in STAGE_DEPTHS]

    def __repr__(self) -> str:
        return f"MacroSpace({self.name!r})"

    @property
    def n_stages(self) -> int:
        return len(STAGE_DEPTHS)

    @property
    def n_layers(self) -> int:
        return sum(STAGE_DEPTHS)

    def _check_stage(self, stage: int) -> None:
        if not isinstance(stage, (int, np.integer)) or not 0 <= stage < self.n_stages:
            raise ValueError(f"{self.name} has stages 0..{self.n_stages - 1}, not {stage!r}")

    def stage_subgraphs(self, stage: int) -> list[tuple[int, ...]]:
        """Every op tuple of the stage, in the benchmark's digit order (``00``, ``01``, ..., ``22``)."""
        self._check_stage(stage)
        return list(self._subgraphs[stage])

    def _check_subgraph(self, stage: int, subgraph) -> tuple[int, ...]:
        self._check_stage(stage)
        try:
            ops = tuple(int(op) for op in subgraph)
        except (TypeError, ValueError):
            raise ValueError(f"{self.name}: stage {stage} must be a sequence of op digits 0-2, got {subgraph!r}") from None
        if len(ops) != STAGE_DEPTHS[stage] or any(op not in range(len(OPS)) or op != o for op, o in zip(ops, subgraph)):
            raise ValueError(f"{self.name}: stage {stage} holds {STAGE_DEPTHS[stage]} layers, each an op digit "
                             f"0-2 ({', '.join(f'{i} {n}' for i, n in enumerate(OPS))}); got {tuple(subgraph)!r}")
        return ops

    def validate(self, arch: Architecture) -> Architecture:
        """``arch`` if it is an architecture of this space, else ``ValueError`` saying why."""
        if not isinstance(arch, Architecture):
            raise ValueError(f"expected an Architecture of space {self.name!r}, got {type(arch).__name__}")
        if arch.space != self.name:
            raise ValueError(f"architecture of space {arch.space!r} given to space {self.name!r}")
        if arch.resolution != RESOLUTION:
            raise ValueError(f"{self.name}: resolution must be {RESOLUTION} (CIFAR-10), got {arch.resolution}")
        if len(arch.stages) != self.n_stages:
            raise ValueError(f"{self.name} needs {self.n_stages} stages of {STAGE_DEPTHS} layers, "
                             f"got {len(arch.stages)} stages")
        for u, s in enumerate(arch.stages):
            self._check_subgraph(u, s)
        return arch

    def build(self, subgraphs: Sequence[Sequence[int]], resolution: int | None = None) -> Architecture:
        res = RESOLUTION if resolution is None else resolution
        stages = tuple(tuple(int(op) for op in s) for s in subgraphs)
        return self.validate(Architecture(self.name, res, stages))

    def sample(self, n: int, seed: int) -> list[Architecture]:
        """``n`` architectures drawn uniformly (with replacement)."""
        if n < 0:
            raise ValueError(f"cannot sample {n} architectures")
        codes = np.random.default_rng(seed).integers(len(OPS), size=(n, self.n_layers))
        return [self.from_codes(row) for row in codes]

    # The benchmark's encoding -----------------------------------------------------------
    def to_string(self, arch: Architecture) -> str:
        """The benchmark's key: the 8 op digits, stage by stage (``"22212220"``)."""
        self.validate(arch)
        return "".join(str(op) for s in arch.stages for op in s)

    def from_string(self, text: str) -> Architecture:
        if not isinstance(text, str) or len(text) != self.n_layers or any(c not in "012" for c in text):
            raise ValueError(f"{self.name}: an architecture is {self.n_layers} op digits 0-2 "
                             f"(stages of {STAGE_DEPTHS} layers), e.g. '22212220'; got {str(repr(text))[:40]}")
        return self.from_codes([int(c) for c in text])

    def from_codes(self, codes: Sequence[int]) -> Architecture:
        """The architecture of a row of :meth:`all_codes`."""
        codes = [int(c) for c in codes]
        if len(codes) != self.n_layers:
            raise ValueError(f"{self.name}: need {self.n_layers} op digits, got {len(codes)}")
        bounds = np.cumsum((0,) + STAGE_DEPTHS)
        return self.build([codes[a:b] for a, b in zip(bounds[:-1], bounds[1:])])

    def codes(self, arch: Architecture) -> np.ndarray:
        """The 8 op digits of ``arch``."""
        return np.array([int(c) for c in self.to_string(arch)], dtype=np.int64)

    def all_codes(self) -> np.ndarray:
        """``(6561, 8)`` op digits of every architecture, in base-3 order (``00000000`` first)."""
        return np.array(list(itertools.product(range(len(OPS)), repeat=self.n_layers)), dtype=np.int64)

    def all_strings(self) -> list[str]:
        return ["".join(map(str, row)) for row in self.all_codes()]

    # Encodings ----------------------------------------------------------------------------
    def _rows(self, stage: int, subgraph) -> list[list[int]]:
        return [[stage, pos, op] for pos, op in enumerate(self._check_subgraph(stage, subgraph))]

    def node_features(self, arch: Architecture) -> np.ndarray:
        self.validate(arch)
        return np.asarray([r for u, s in enumerate(arch.stages) for r in self._rows(u, s)], dtype=np.int64)

    def subgraph_features(self, stage: int, subgraph, arch_context: dict | None = None) -> np.ndarray:
        return np.asarray(self._rows(stage, subgraph), dtype=np.int64)

    def subgraph_label(self, subgraph) -> str:
        """A stage's op digits, as the benchmark writes them: ``(2, 1, 2)`` -> ``"212"``."""
        return "".join(str(int(op)) for op in subgraph)


MACRO = MacroSpace()
register_space(MACRO)
