"""Candidate spaces for the evolutionary search (paper Sec. 5.1, Fig. 5 bottom), one per mutation style:

* :class:`StageCandidates` -- one candidate subgraph per stage; a mutation swaps one stage's
  whole subgraph for another candidate. AutoBuild-NAS (union of the top-K subgraphs of
  several label equations, :func:`autobuild_nas`) and Stage-Full (every subgraph,
  :func:`stage_full`).
* :class:`LayerCandidates` -- per stage a set of allowed layers and a depth range; a mutation
  adds, removes or edits one layer of one stage. Layer-Full (:func:`layer_full`) and
  Layer-Insight (:func:`autobuild.search.insight.layer_insight`).

The search itself is :func:`autobuild.search.evolution.evolutionary_search`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from autobuild.spaces.base import Architecture, SequenceSpace


def _stage_weights(weights, n_stages: int) -> np.ndarray:
    w = np.ones(n_stages) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n_stages,) or np.any(w < 0) or not np.any(w > 0):
        raise ValueError(f"stage_weights must be {n_stages} non-negative numbers, not all zero; got {weights}")
    return w


def _resolution(space: SequenceSpace, resolution):
    return getattr(space, "default_resolution", None) if resolution is None else resolution


def _build(space: SequenceSpace, stages, resolution) -> Architecture:
    return space.build(stages) if resolution is None else space.build(stages, resolution=resolution)


def _build_units(space: SequenceSpace, units, resolution) -> Architecture:
    return space.build_units(units) if resolution is None else space.build_units(units, resolution=resolution)


def _pick_stage(rng: np.random.Generator, weights: np.ndarray, movable: np.ndarray) -> int:
    w = np.where(movable, weights, 0.0)
    if not np.any(w > 0):
        raise ValueError("no stage of this space can be mutated (every stage has a single choice)")
    return int(rng.choice(w.size, p=w / w.sum()))


class StageCandidates:
    """Architectures made of one candidate subgraph per scoring unit; mutation swaps one whole subgraph.

    ``candidates[u]`` lists the subgraphs unit ``u`` (``space.units``: a stage, or OFA-PN's last
    two stages together) may hold (duplicates are dropped, first appearance kept). Every
    candidate must be a subgraph the base space admits.
    """

    mutation = "stage"

    def __init__(self, space: SequenceSpace, candidates: Sequence[Sequence], name: str = "",
                 resolution=None, stage_weights=None):
        if len(candidates) != space.n_units:
            raise ValueError(f"{space.name} has {space.n_units} scoring units; got candidates for {len(candidates)}")
        self.space, self.name = space, name or "stage space"
        self.resolution = _resolution(space, resolution)
        cands = []
        for u, stage_cands in enumerate(candidates):
            allowed = set(space.unit_subgraphs(u))
            unique = list(dict.fromkeys(tuple(sg) for sg in stage_cands))
            if not unique:
                raise ValueError(f"unit {u} has no candidate subgraph")
            bad = [sg for sg in unique if sg not in allowed]
            if bad:
                raise ValueError(f"unit {u}: {len(bad)} candidate(s) are not subgraphs of {space.name}, "
                                 f"e.g. {bad[0]!r}")
            cands.append(tuple(unique))
        self.candidates = tuple(cands)
        self._index = [{sg: i for i, sg in enumerate(c)} for c in self.candidates]
        self.stage_weights = _stage_weights(stage_weights, space.n_units)

    def __repr__(self) -> str:
        return f"StageCandidates({self.name!r}, candidates per stage {[len(c) for c in self.candidates]})"

    @property
    def size(self) -> int:
        return int(np.prod([len(c) for c in self.candidates], dtype=object))

    def contains(self, arch: Architecture) -> bool:
        return (arch.space == self.space.name and arch.resolution == self.resolution
                and len(arch.stages) == self.space.n_stages
                and all(self.space.arch_unit(arch, u) in idx for u, idx in enumerate(self._index)))

    def sample(self, rng: np.random.Generator) -> Architecture:
        return _build_units(self.space, [c[rng.integers(len(c))] for c in self.candidates], self.resolution)

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Replace the subgraph of one unit (drawn by ``stage_weights``) by a different candidate."""
        if not self.contains(arch):
            raise ValueError(f"cannot mutate an architecture outside {self.name}")
        movable = np.array([len(c) > 1 for c in self.candidates])
        u = _pick_stage(rng, self.stage_weights, movable)
        units = [self.space.arch_unit(arch, v) for v in range(self.space.n_units)]
        cur = self._index[u][units[u]]
        j = int(rng.integers(len(self.candidates[u]) - 1))
        j += j >= cur
        units[u] = self.candidates[u][j]
        return _build_units(self.space, units, self.resolution)


class LayerCandidates:
    """Per stage a set of allowed layers and a depth range; mutation adds, removes or edits one layer.

    Stage ``u`` holds ``depths[u][0]..depths[u][1]`` layers, each drawn from ``layers[u]``;
    every such sequence must be a subgraph the base space admits.
    """

    mutation = "layer"

    def __init__(self, space: SequenceSpace, layers: Sequence[Sequence], depths: Sequence[tuple[int, int]],
                 name: str = "", resolution=None, stage_weights=None):
        n = space.n_stages
        if len(layers) != n or len(depths) != n:
            raise ValueError(f"{space.name} has {n} stages; got layers for {len(layers)} and depths for "
                             f"{len(depths)}")
        self.space, self.name = space, name or "layer space"
        self.resolution = _resolution(space, resolution)
        self.layers = tuple(tuple(dict.fromkeys(ls)) for ls in layers)
        self.depths = tuple((int(lo), int(hi)) for lo, hi in depths)
        for u in range(n):
            lo, hi = self.depths[u]
            if not self.layers[u] or not 1 <= lo <= hi:
                raise ValueError(f"stage {u}: need at least one layer and 1 <= min depth <= max depth, "
                                 f"got {len(self.layers[u])} layers and depths {self.depths[u]}")
            ok = sum(1 for sg in space.stage_subgraphs(u) if self._stage_ok(u, sg))
            if ok != self._stage_count(u):
                raise ValueError(f"stage {u}: some layer sequences of depth {lo}..{hi} from {self.layers[u]} "
                                 f"are not subgraphs of {space.name}")
        self._allowed = [set(ls) for ls in self.layers]
        self.stage_weights = _stage_weights(stage_weights, n)

    def __repr__(self) -> str:
        return f"LayerCandidates({self.name!r}, layers per stage {[len(l) for l in self.layers]}, depths {self.depths})"

    def _stage_ok(self, u: int, sg) -> bool:
        lo, hi = self.depths[u]
        return lo <= len(sg) <= hi and all(layer in self.layers[u] for layer in sg)

    def _stage_count(self, u: int) -> int:
        lo, hi = self.depths[u]
        return sum(len(self.layers[u]) ** d for d in range(lo, hi + 1))

    @property
    def size(self) -> int:
        return int(np.prod([self._stage_count(u) for u in range(len(self.layers))], dtype=object))

    def contains(self, arch: Architecture) -> bool:
        return (arch.space == self.space.name and arch.resolution == self.resolution
                and len(arch.stages) == len(self.layers)
                and all(self.depths[u][0] <= len(s) <= self.depths[u][1]
                        and all(layer in self._allowed[u] for layer in s) for u, s in enumerate(arch.stages)))

    def sample(self, rng: np.random.Generator) -> Architecture:
        """Depth uniform in each stage's range, then each layer uniform over the allowed ones."""
        stages = []
        for ls, (lo, hi) in zip(self.layers, self.depths):
            d = int(rng.integers(lo, hi + 1))
            stages.append(tuple(ls[i] for i in rng.integers(len(ls), size=d)))
        return _build(self.space, stages, self.resolution)

    def _ops(self, u: int, depth: int) -> list[str]:
        lo, hi = self.depths[u]
        return ([op for op, ok in (("add", depth < hi), ("remove", depth > lo),
                                   ("edit", len(self.layers[u]) > 1)) if ok])

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """One stage (drawn by ``stage_weights``): add, remove or edit one layer (op uniform among valid)."""
        if not self.contains(arch):
            raise ValueError(f"cannot mutate an architecture outside {self.name}")
        movable = np.array([bool(self._ops(u, len(s))) for u, s in enumerate(arch.stages)])
        u = _pick_stage(rng, self.stage_weights, movable)
        stage, ls = list(arch.stages[u]), self.layers[u]
        ops = self._ops(u, len(stage))
        op = ops[int(rng.integers(len(ops)))]
        if op == "add":
            stage.insert(int(rng.integers(len(stage) + 1)), ls[int(rng.integers(len(ls)))])
        elif op == "remove":
            stage.pop(int(rng.integers(len(stage))))
        else:
            pos = int(rng.integers(len(stage)))
            others = [layer for layer in ls if layer != stage[pos]]
            stage[pos] = others[int(rng.integers(len(others)))]
        stages = list(arch.stages)
        stages[u] = tuple(stage)
        return _build(self.space, stages, self.resolution)


def stage_full(space: SequenceSpace, resolution=None) -> StageCandidates:
    """Stage-Full: every subgraph of every unit, stage-swap mutation."""
    return StageCandidates(space, [space.unit_subgraphs(u) for u in range(space.n_units)],
                      name="Stage-Full", resolution=resolution)


def _layers_and_depths(space: SequenceSpace):
    layers, depths = [], []
    for u in range(space.n_stages):
        sgs = space.stage_subgraphs(u)
        layers.append(tuple(dict.fromkeys(layer for sg in sgs for layer in sg)))
        depths.append((min(map(len, sgs)), max(map(len, sgs))))
    return layers, depths


def layer_full(space: SequenceSpace, resolution=None) -> LayerCandidates:
    """Layer-Full: the whole space (every layer, every depth), layer mutation."""
    layers, depths = _layers_and_depths(space)
    return LayerCandidates(space, layers, depths, name="Layer-Full", resolution=resolution)


def autobuild_nas(space: SequenceSpace, candidate_lists: Sequence, resolution=None) -> StageCandidates:
    """AutoBuild-NAS: per unit, the union of the subgraphs each equation's reduced space keeps.

    ``candidate_lists`` holds one entry per label equation: a reduced space (anything with
    ``.candidates``) or a plain list of per-unit subgraph lists, e.g. its top-25.
    """
    lists = [getattr(c, "candidates", c) for c in candidate_lists]
    if not lists:
        raise ValueError("autobuild_nas needs the candidates of at least one label equation")
    union = [[sg for cands in lists for sg in cands[u]] for u in range(space.n_units)]
    return StageCandidates(space, union, name="AutoBuild-NAS", resolution=resolution)
