"""Macro search spaces as sequence graphs (paper Sec. 3.1).

An architecture is a sequence of stages, each a tuple of layers; every layer is one node
of a directed chain graph. A space knows its stages, its per-node categorical features,
every stage subgraph it admits, and how to sample and build architectures.

The spaces themselves implement :class:`SequenceSpace`: OFA-MobileNetV3 and OFA-ProxylessNAS in
:mod:`~autobuild.spaces.ofa`, the Stable Diffusion U-Net space in :mod:`~autobuild.spaces.unet`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

Stage = tuple  # a stage subgraph: a tuple of layers (Layer for OFA spaces)


@dataclass(frozen=True)
class Architecture:
    """An architecture of a named space: its input resolution and one subgraph per stage."""

    space: str
    resolution: int
    stages: tuple

    @property
    def depths(self) -> tuple[int, ...]:
        return tuple(len(s) for s in self.stages)

    @property
    def n_layers(self) -> int:
        return sum(self.depths)


class SequenceSpace:
    """Interface every space implements (OFA spaces below, the U-Net space elsewhere).

    ``feature_vocab`` maps each node-feature name to its tuple of allowed values; a node
    is encoded as one vocabulary index per feature, in ``feature_names`` order.
    """

    name: str
    feature_vocab: dict[str, tuple]

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(self.feature_vocab)

    @property
    def n_stages(self) -> int:
        raise NotImplementedError

    def stage_subgraphs(self, stage: int) -> list[Stage]:
        """Every subgraph that stage ``stage`` admits, in a fixed order."""
        raise NotImplementedError

    def node_features(self, arch: Architecture) -> np.ndarray:
        """``(n_nodes, n_features)`` int64 vocabulary indices, nodes in forward order."""
        raise NotImplementedError

    def subgraph_features(self, stage: int, subgraph: Stage, arch_context: dict | None = None) -> np.ndarray:
        """Node features of a stage subgraph standing alone (for scoring it)."""
        raise NotImplementedError

    def build(self, subgraphs: Sequence[Stage], **context) -> Architecture:
        """The architecture made of one subgraph per stage."""
        raise NotImplementedError

    def sample(self, n: int, seed: int) -> list[Architecture]:
        raise NotImplementedError

    # Generic helpers -----------------------------------------------------------------
    def subgraph_label(self, subgraph) -> str:
        """Short text naming a stage subgraph (for tables and plots)."""
        return ",".join(map(str, subgraph))

    def n_stage_subgraphs(self, stage: int) -> int:
        return len(self.stage_subgraphs(stage))

    @property
    def size(self) -> int:
        """Number of architectures in the space (excluding global context such as resolution)."""
        return int(np.prod([self.n_stage_subgraphs(u) for u in range(self.n_stages)], dtype=object))

    def encode_value(self, feature: str, value) -> int:
        try:
            return self.feature_vocab[feature].index(value)
        except ValueError:
            raise ValueError(
                f"{self.name}: value {value!r} is not allowed for feature {feature!r}; "
                f"allowed: {self.feature_vocab[feature]}"
            ) from None
