"""Multi-objective evolutionary search over (reduced) macro spaces (paper Sec. 5.1, Fig. 5 bottom).

A search maximises accuracy and minimises latency with a fixed evaluation budget (the
paper's 250 = 50 random architectures, then 4 rounds of 50 mutants). Each round keeps
the best evaluated architectures by NSGA-II order (non-dominated front, then crowding
distance), picks parents by binary tournament and mutates them into new, never-seen
architectures of the same candidate space.

Two kinds of candidate space, one per mutation style:

* :class:`StageSpace` -- one candidate subgraph per stage; a mutation swaps one stage's
  whole subgraph for another candidate. AutoBuild-NAS (union of the top-K subgraphs of
  several label equations, :func:`autobuild_nas`) and Stage-Full (every subgraph,
  :func:`stage_full`).
* :class:`LayerSpace` -- per stage a set of allowed layers and a depth range; a mutation
  adds, removes or edits one layer of one stage. Layer-Full (:func:`layer_full`) and
  Layer-Insight (:func:`layer_insight`, the human-restricted spaces of Mills et al.,
  CIKM 2021, see :data:`INSIGHT_RESTRICTIONS`).

Evaluation is a callable ``evaluate(archs) -> (acc, lat)`` (two arrays):
:class:`Objectives` routes it through :mod:`autobuild.evaluators` and records the back end
of each objective; any function of that signature works too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .pareto import crowding_distance, hypervolume, nondominated_ranks, pareto_front
from .spaces import Architecture, SequenceSpace

Evaluate = Callable[[list], tuple]


def _stage_weights(weights, n_stages: int) -> np.ndarray:
    w = np.ones(n_stages) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n_stages,) or np.any(w < 0) or not np.any(w > 0):
        raise ValueError(f"stage_weights must be {n_stages} non-negative numbers, not all zero; got {weights}")
    return w


def _resolution(space: SequenceSpace, resolution):
    return getattr(space, "default_resolution", None) if resolution is None else resolution


def _build(space: SequenceSpace, stages, resolution) -> Architecture:
    return space.build(stages) if resolution is None else space.build(stages, resolution=resolution)


def _pick_stage(rng: np.random.Generator, weights: np.ndarray, movable: np.ndarray) -> int:
    w = np.where(movable, weights, 0.0)
    if not np.any(w > 0):
        raise ValueError("no stage of this space can be mutated (every stage has a single choice)")
    return int(rng.choice(w.size, p=w / w.sum()))


class StageSpace:
    """Architectures made of one candidate subgraph per stage; mutation swaps one whole subgraph.

    ``candidates[u]`` lists the subgraphs stage ``u`` may hold (duplicates are dropped,
    first appearance kept). Every candidate must be a subgraph the base space admits.
    """

    mutation = "stage"

    def __init__(self, space: SequenceSpace, candidates: Sequence[Sequence], name: str = "",
                 resolution=None, stage_weights=None):
        if len(candidates) != space.n_stages:
            raise ValueError(f"{space.name} has {space.n_stages} stages; got candidates for {len(candidates)}")
        self.space, self.name = space, name or "stage space"
        self.resolution = _resolution(space, resolution)
        cands = []
        for u, stage_cands in enumerate(candidates):
            allowed = set(space.stage_subgraphs(u))
            unique = list(dict.fromkeys(tuple(sg) for sg in stage_cands))
            if not unique:
                raise ValueError(f"stage {u} has no candidate subgraph")
            bad = [sg for sg in unique if sg not in allowed]
            if bad:
                raise ValueError(f"stage {u}: {len(bad)} candidate(s) are not subgraphs of {space.name}, "
                                 f"e.g. {bad[0]!r}")
            cands.append(tuple(unique))
        self.candidates = tuple(cands)
        self._index = [{sg: i for i, sg in enumerate(c)} for c in self.candidates]
        self.stage_weights = _stage_weights(stage_weights, space.n_stages)

    def __repr__(self) -> str:
        return f"StageSpace({self.name!r}, candidates per stage {[len(c) for c in self.candidates]})"

    @property
    def size(self) -> int:
        return int(np.prod([len(c) for c in self.candidates], dtype=object))

    def contains(self, arch: Architecture) -> bool:
        return (arch.space == self.space.name and arch.resolution == self.resolution
                and len(arch.stages) == len(self._index)
                and all(tuple(s) in idx for s, idx in zip(arch.stages, self._index)))

    def sample(self, rng: np.random.Generator) -> Architecture:
        return _build(self.space, [c[rng.integers(len(c))] for c in self.candidates], self.resolution)

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Replace the subgraph of one stage (drawn by ``stage_weights``) by a different candidate."""
        if not self.contains(arch):
            raise ValueError(f"cannot mutate an architecture outside {self.name}")
        movable = np.array([len(c) > 1 for c in self.candidates])
        u = _pick_stage(rng, self.stage_weights, movable)
        cur = self._index[u][tuple(arch.stages[u])]
        j = int(rng.integers(len(self.candidates[u]) - 1))
        j += j >= cur
        stages = list(arch.stages)
        stages[u] = self.candidates[u][j]
        return _build(self.space, stages, self.resolution)


class LayerSpace:
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
        return f"LayerSpace({self.name!r}, layers per stage {[len(l) for l in self.layers]}, depths {self.depths})"

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


# --- The four spaces of Fig. 5 (bottom) -------------------------------------------------------

def stage_full(space: SequenceSpace, resolution=None) -> StageSpace:
    """Stage-Full: every subgraph of every stage, stage-swap mutation."""
    return StageSpace(space, [space.stage_subgraphs(u) for u in range(space.n_stages)],
                      name="Stage-Full", resolution=resolution)


def _layers_and_depths(space: SequenceSpace):
    layers, depths = [], []
    for u in range(space.n_stages):
        sgs = space.stage_subgraphs(u)
        layers.append(tuple(dict.fromkeys(layer for sg in sgs for layer in sg)))
        depths.append((min(map(len, sgs)), max(map(len, sgs))))
    return layers, depths


def layer_full(space: SequenceSpace, resolution=None) -> LayerSpace:
    """Layer-Full: the whole space (every layer, every depth), layer mutation."""
    layers, depths = _layers_and_depths(space)
    return LayerSpace(space, layers, depths, name="Layer-Full", resolution=resolution)


def autobuild_nas(space: SequenceSpace, candidate_lists: Sequence, resolution=None) -> StageSpace:
    """AutoBuild-NAS: per stage, the union of the subgraphs each equation's reduced space keeps.

    ``candidate_lists`` holds one entry per label equation: a reduced space (anything with
    ``.candidates``) or a plain list of per-stage subgraph lists, e.g. its top-25.
    """
    lists = [getattr(c, "candidates", c) for c in candidate_lists]
    if not lists:
        raise ValueError("autobuild_nas needs the candidates of at least one label equation")
    union = [[sg for cands in lists for sg in cands[u]] for u in range(space.n_stages)]
    return StageSpace(space, union, name="AutoBuild-NAS", resolution=resolution)


#: Layer-Insight restrictions, per space and device: allowed (expand, kernel) blocks, the
#: maximum layers per stage (minimum stays 2; PN's last stage always 1) and the relative
#: chance that a mutation picks each stage. A reconstruction: the insights are those of
#: Mills et al., "Profiling neural blocks and design spaces for mobile NAS" (CIKM 2021),
#: as encoded in the per-device constants of the authors' public search code
#: (github.com/Ascend-Research/AutoBuild, rm_search/ofa_profile/constants.py); the paper
#: itself does not list them. NPU: no k7 anywhere and early stages mutated half as often;
#: GPU: drop e3k3, e3k7, e4k3 and cap some stages at 3 layers; CPU: all blocks, caps only.
_ALL_BLOCKS = tuple((e, k) for e in (3, 4, 6) for k in (3, 5, 7))
_NO_K7 = tuple(b for b in _ALL_BLOCKS if b[1] != 7)
_GPU_BLOCKS = tuple(b for b in _ALL_BLOCKS if b not in ((3, 3), (3, 7), (4, 3)))
INSIGHT_RESTRICTIONS: dict[tuple[str, str], dict] = {
    ("mbv3", "npu"): {"blocks": _NO_K7, "max_depth": (4, 4, 4, 4, 4), "stage_weights": (0.25, 0.25, 0.25, 0.5, 0.5)},
    ("mbv3", "gpu"): {"blocks": _GPU_BLOCKS, "max_depth": (4, 3, 4, 3, 3), "stage_weights": None},
    ("mbv3", "cpu"): {"blocks": _ALL_BLOCKS, "max_depth": (3, 3, 3, 4, 4), "stage_weights": None},
    ("pn", "npu"): {"blocks": _NO_K7, "max_depth": (4, 4, 4, 4, 4, 1),
                    "stage_weights": (0.25, 0.25, 0.25, 0.5, 0.5, 0.5)},
    ("pn", "gpu"): {"blocks": _GPU_BLOCKS, "max_depth": (3, 3, 3, 4, 4, 1), "stage_weights": None},
    ("pn", "cpu"): {"blocks": _ALL_BLOCKS, "max_depth": (3, 3, 4, 4, 4, 1), "stage_weights": None},
}


def layer_insight(space: SequenceSpace, device: str, resolution=None) -> LayerSpace:
    """Layer-Insight: the human-restricted space for ``device`` (see :data:`INSIGHT_RESTRICTIONS`)."""
    key = (space.name, device)
    if key not in INSIGHT_RESTRICTIONS:
        raise ValueError(f"no Layer-Insight restriction for space {space.name!r} on device {device!r}; "
                         f"known: {sorted(INSIGHT_RESTRICTIONS)}")
    rule = INSIGHT_RESTRICTIONS[key]
    full_layers, full_depths = _layers_and_depths(space)
    layers = [tuple(l for l in ls if (l.expand, l.kernel) in rule["blocks"]) for ls in full_layers]
    depths = [(min(lo, hi_rule), hi_rule) for (lo, _), hi_rule in zip(full_depths, rule["max_depth"])]
    return LayerSpace(space, layers, depths, name="Layer-Insight", resolution=resolution,
                      stage_weights=rule["stage_weights"])


class Objectives:
    """``evaluate(archs) -> (acc, lat)`` through :mod:`autobuild.evaluators`.

    ``backends`` maps each metric to the back end that produced its values (filled on the
    first call); searches copy it into :attr:`SearchResult.info`.
    """

    def __init__(self, acc: str = "acc", lat: str = "latency_gpu", evaluators: Sequence | None = None):
        from . import evaluators as ev

        self.acc, self.lat = acc, lat
        self.evaluators = list(evaluators) if evaluators is not None else [ev.AuthorsPredictors()]
        self.backends: dict[str, str] = {}
        self._evaluate = ev.evaluate

    def __repr__(self) -> str:
        return f"Objectives(acc={self.acc!r}, lat={self.lat!r})"

    def __call__(self, archs: Sequence[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        out = self._evaluate(list(archs), (self.acc, self.lat), self.evaluators)
        self.backends = {m: e.backend for m, e in out.items()}
        return out[self.acc].values, out[self.lat].values


# --- The search ------------------------------------------------------------------------------

@dataclass
class SearchResult:
    """Every architecture one search evaluated, in order, with its objectives and round (0 = random)."""

    method: str
    seed: int
    space_size: int
    archs: list
    acc: np.ndarray
    lat: np.ndarray
    rounds: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def n_evaluated(self) -> int:
        return len(self.archs)

    def front(self) -> np.ndarray:
        """Indices of the evaluated architectures on the final Pareto front, by latency."""
        return pareto_front(self.acc, self.lat)

    def hypervolume(self, ref) -> float:
        return hypervolume(self.acc, self.lat, tuple(ref))

    def hypervolume_by_round(self, ref) -> list[float]:
        """Hypervolume of everything evaluated up to and including each round."""
        return [hypervolume(self.acc[self.rounds <= r], self.lat[self.rounds <= r], tuple(ref))
                for r in range(int(self.rounds.max()) + 1)]

    def to_frame(self, space: SequenceSpace | None = None) -> pd.DataFrame:
        to_text = space.to_string if space is not None else str
        on_front = np.zeros(len(self.archs), dtype=bool)
        on_front[self.front()] = True
        return pd.DataFrame({"method": self.method, "seed": self.seed, "round": self.rounds,
                             "arch": [to_text(a) for a in self.archs], "acc": self.acc, "lat": self.lat,
                             "on_front": on_front})


def _check_objectives(out, n: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        acc, lat = out
    except (TypeError, ValueError):
        raise ValueError("evaluate(archs) must return two arrays (acc, lat)") from None
    acc, lat = np.asarray(acc, dtype=float).reshape(-1), np.asarray(lat, dtype=float).reshape(-1)
    if acc.size != n or lat.size != n:
        raise ValueError(f"evaluate returned {acc.size} accuracies and {lat.size} latencies for {n} architectures")
    if not (np.all(np.isfinite(acc)) and np.all(np.isfinite(lat))):
        raise ValueError("evaluate returned NaN or infinite objectives")
    return acc, lat


def nsga_order(acc, lat) -> np.ndarray:
    """Indices sorted best first: non-dominated front number, then larger crowding distance."""
    acc, lat = np.asarray(acc, float), np.asarray(lat, float)
    ranks = nondominated_ranks(acc, lat)
    crowd = np.zeros(acc.size)
    for r in np.unique(ranks):
        m = ranks == r
        crowd[m] = crowding_distance(acc[m], lat[m])
    return np.lexsort((np.arange(acc.size), -crowd, ranks))


def evolutionary_search(cspace, evaluate: Evaluate, budget: int = 250, n_initial: int = 50,
                        per_round: int = 50, n_parents: int | None = None, seed: int = 0,
                        method: str | None = None, max_tries: int = 50, progress: bool = True) -> SearchResult:
    """Search ``cspace`` for the accuracy-latency front with at most ``budget`` evaluations.

    ``n_initial`` random architectures, then rounds of ``per_round`` mutants of parents
    chosen by binary tournament among the ``n_parents`` (default ``per_round``) best
    evaluated so far in NSGA-II order. Every architecture is evaluated once; the search
    stops early when the space holds no unseen architecture that mutation or sampling
    finds within ``max_tries`` attempts per wanted child.
    """
    if budget < 1 or n_initial < 1 or per_round < 1:
        raise ValueError(f"budget, n_initial and per_round must be positive, got {budget}, {n_initial}, {per_round}")
    n_parents = per_round if n_parents is None else n_parents
    if n_parents < 1:
        raise ValueError(f"n_parents must be positive, got {n_parents}")
    rng = np.random.default_rng(seed)
    seen: set = set()
    archs: list = []
    acc_l: list = []
    lat_l: list = []
    rounds: list = []

    def fresh(make, want: int) -> list:
        out = []
        tries = 0
        while len(out) < want and tries < max_tries * want:
            tries += 1
            a = make()
            if a not in seen and cspace.contains(a):
                seen.add(a)
                out.append(a)
        return out

    def run(batch: list, r: int) -> None:
        a, t = _check_objectives(evaluate(batch), len(batch))
        archs.extend(batch)
        acc_l.extend(a)
        lat_l.extend(t)
        rounds.extend([r] * len(batch))
        bar.update(len(batch))

    bar = tqdm(total=budget, desc=f"search {method or cspace.name}", disable=not progress, leave=False)
    try:
        batch = fresh(lambda: cspace.sample(rng), min(n_initial, budget))
        if batch:
            run(batch, 0)
        r = 0
        while batch and len(archs) < budget:
            r += 1
            acc, lat = np.asarray(acc_l), np.asarray(lat_l)
            order = nsga_order(acc, lat)
            position = np.empty(order.size, dtype=int)
            position[order] = np.arange(order.size)
            parents = order[:n_parents]

            def child():
                i, j = parents[rng.integers(parents.size, size=2)]
                winner = i if position[i] < position[j] else j
                return cspace.mutate(archs[winner], rng)

            want = min(per_round, budget - len(archs))
            batch = fresh(child, want)
            batch += fresh(lambda: cspace.sample(rng), want - len(batch))
            if batch:
                run(batch, r)
    finally:
        bar.close()
    info = {"backends": dict(getattr(evaluate, "backends", {}))}
    return SearchResult(method or cspace.name, seed, cspace.size, archs, np.asarray(acc_l, float),
                        np.asarray(lat_l, float), np.asarray(rounds, int), info)


def compare_searches(spaces: dict, evaluate: Evaluate, seeds: Sequence[int], ref, **kwargs):
    """Run every candidate space once per seed; return the results and a summary table.

    ``spaces[method]`` is one candidate space, searched with every seed, or a list holding
    one candidate space per seed (a space that itself depends on the seed, e.g. AutoBuild-NAS
    built from predictors trained with that seed). The summary has one row per method: the
    median search-space size over the seeds, mean and standard deviation of the final
    hypervolume (under the one reference point ``ref``) over the seeds, and the number of seeds.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("compare_searches needs at least one seed")
    per_seed = {}
    for name, cs in spaces.items():
        if isinstance(cs, (list, tuple)):
            if len(cs) != len(seeds):
                raise ValueError(f"method {name!r} has {len(cs)} candidate spaces for {len(seeds)} seeds")
            per_seed[name] = list(cs)
        else:
            per_seed[name] = [cs] * len(seeds)
    results = [evolutionary_search(cs, evaluate, seed=s, method=name, **kwargs)
               for name, spaces_of in per_seed.items() for s, cs in zip(seeds, spaces_of)]
    rows = pd.DataFrame({"method": [r.method for r in results], "space_size": [r.space_size for r in results],
                         "hv": [r.hypervolume(ref) for r in results]})
    summary = (rows.groupby("method", sort=False)
               .agg(space_size=("space_size", lambda v: int(np.median(np.asarray(v, dtype=float)))),
                    hv_mean=("hv", "mean"),
                    hv_std=("hv", lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0),
                    n_seeds=("hv", "size"))
               .reset_index())
    return results, summary
