"""Macro search spaces as sequence graphs (paper Sec. 3.1).

An architecture is a sequence of stages, each a tuple of layers; every layer is one node
of a directed chain graph. A space knows its stages, its per-node categorical features,
every stage subgraph it admits, and how to sample and build architectures.

The spaces themselves implement :class:`SequenceSpace`: OFA-MobileNetV3 and OFA-ProxylessNAS in
:mod:`~autobuild.spaces.ofa`, the Stable Diffusion U-Net space in :mod:`~autobuild.spaces.unet`.
"""
from __future__ import annotations

import itertools
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
    def label(self) -> str:
        """The space's name for readers (figures, prose); result tables carry :attr:`name`."""
        return getattr(self, "_label", self.name)

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

    # Scoring units ----------------------------------------------------------------------
    @property
    def units(self) -> tuple[tuple[int, ...], ...]:
        """Groups of consecutive stages that AutoBuild scores, ranks and mutates as one subgraph.

        By default every stage is its own unit. A space whose last stages are fixed in depth
        (OFA-PN's one-layer sixth stage) joins them to the stage before, as the authors do.
        """
        return tuple((u,) for u in range(self.n_stages))

    @property
    def n_units(self) -> int:
        return len(self.units)

    def _unit_parts(self, unit: int, subgraph) -> list[tuple]:
        """Split a unit subgraph into its stages' subgraphs (later stages have fixed depths)."""
        stages = self.units[unit]
        if len(stages) == 1:
            return [tuple(subgraph)]
        tail = [self.depth_choices(s) for s in stages[1:]]
        if any(len(d) != 1 for d in tail):
            raise ValueError(f"{self.name}: unit {unit} joins stages {stages}; all but the first need a fixed depth")
        n_tail = sum(d[0] for d in tail)
        parts, rest = [], tuple(subgraph)[len(subgraph) - n_tail:]
        for d in tail:
            parts.append(rest[:d[0]])
            rest = rest[d[0]:]
        return [tuple(subgraph)[:len(subgraph) - n_tail], *parts]

    def unit_subgraphs(self, unit: int) -> list[Stage]:
        """Every subgraph of a unit: its stages' subgraphs joined, first stage varying slowest."""
        stages = self.units[unit]
        if len(stages) == 1:
            return self.stage_subgraphs(stages[0])
        return [sum(parts, ()) for parts in itertools.product(*(self.stage_subgraphs(s) for s in stages))]

    def unit_depths(self, unit: int) -> tuple[int, ...]:
        """The numbers of layers a unit's subgraphs have."""
        per_stage = [self.depth_choices(s) for s in self.units[unit]]
        return tuple(sorted({sum(c) for c in itertools.product(*per_stage)}))

    def unit_features(self, unit: int, subgraph, arch_context: dict | None = None) -> np.ndarray:
        """Node features of a unit subgraph standing alone (its stages' features, in order)."""
        parts = self._unit_parts(unit, subgraph)
        return np.concatenate([self.subgraph_features(s, part, arch_context)
                               for s, part in zip(self.units[unit], parts)])

    def arch_unit(self, arch: Architecture, unit: int) -> Stage:
        """The subgraph an architecture holds in a unit."""
        return sum((tuple(arch.stages[s]) for s in self.units[unit]), ())

    def build_units(self, subgraphs: Sequence[Stage], **context) -> Architecture:
        """The architecture made of one subgraph per unit."""
        if len(subgraphs) != self.n_units:
            raise ValueError(f"{self.name} has {self.n_units} scoring units; got {len(subgraphs)} subgraphs")
        stages = [part for u, sg in enumerate(subgraphs) for part in self._unit_parts(u, sg)]
        return self.build(stages, **context)

    def depth_choices(self, stage: int) -> tuple[int, ...]:
        """The numbers of layers a stage admits."""
        return tuple(sorted({len(sg) for sg in self.stage_subgraphs(stage)}))

    def encode_value(self, feature: str, value) -> int:
        try:
            return self.feature_vocab[feature].index(value)
        except ValueError:
            raise ValueError(
                f"{self.name}: value {value!r} is not allowed for feature {feature!r}; "
                f"allowed: {self.feature_vocab[feature]}"
            ) from None
