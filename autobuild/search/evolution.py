"""NSGA-II evolutionary search with a fixed evaluation budget (the paper's 250 = 50 random,
then 4 rounds of 50 mutants), over any candidate space of :mod:`autobuild.search.candidates`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from autobuild.search.pareto import (
    crowding_distance,
    hypervolume,
    nondominated_ranks,
    pareto_front,
)
from autobuild.spaces.base import SequenceSpace

Evaluate = Callable[[list], tuple]


@dataclass
class SearchResult:
    """Every architecture one search evaluated, in order, with its objectives and round (0 = random)."""

    method: str
    seed: int
    space_size: int
    archs: list
    perf: np.ndarray
    cost: np.ndarray
    rounds: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def n_evaluated(self) -> int:
        return len(self.archs)

    def front(self) -> np.ndarray:
        """Indices of the evaluated architectures on the final Pareto front, by cost."""
        return pareto_front(self.perf, self.cost)

    def hypervolume(self, ref) -> float:
        return hypervolume(self.perf, self.cost, tuple(ref))

    def hypervolume_by_round(self, ref) -> list[float]:
        """Hypervolume of everything evaluated up to and including each round."""
        return [hypervolume(self.perf[self.rounds <= r], self.cost[self.rounds <= r], tuple(ref))
                for r in range(int(self.rounds.max()) + 1)]

    def to_frame(self, space: SequenceSpace | None = None) -> pd.DataFrame:
        to_text = space.to_string if space is not None else str
        on_front = np.zeros(len(self.archs), dtype=bool)
        on_front[self.front()] = True
        return pd.DataFrame({"method": self.method, "seed": self.seed, "round": self.rounds,
                             "arch": [to_text(a) for a in self.archs], "perf": self.perf, "cost": self.cost,
                             "on_front": on_front})


def check_objectives(out, n: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        perf, cost = out
    except (TypeError, ValueError):
        raise ValueError("evaluate(archs) must return two arrays (perf, cost)") from None
    perf, cost = np.asarray(perf, dtype=float).reshape(-1), np.asarray(cost, dtype=float).reshape(-1)
    if perf.size != n or cost.size != n:
        raise ValueError(f"evaluate returned {perf.size} performances and {cost.size} costs for {n} architectures")
    if not (np.all(np.isfinite(perf)) and np.all(np.isfinite(cost))):
        raise ValueError("evaluate returned NaN or infinite objectives")
    return perf, cost


def nsga_order(perf, cost) -> np.ndarray:
    """Indices sorted best first: non-dominated front number, then larger crowding distance."""
    perf, cost = np.asarray(perf, float), np.asarray(cost, float)
    ranks = nondominated_ranks(perf, cost)
    crowd = np.zeros(perf.size)
    for r in np.unique(ranks):
        m = ranks == r
        crowd[m] = crowding_distance(perf[m], cost[m])
    return np.lexsort((np.arange(perf.size), -crowd, ranks))


def evolutionary_search(cspace, evaluate: Evaluate, budget: int = 250, n_initial: int = 50,
                        per_round: int = 50, n_parents: int | None = None, seed: int = 0,
                        method: str | None = None, max_tries: int = 50, progress: bool = True) -> SearchResult:
    """Search ``cspace`` for the performance-cost front with at most ``budget`` evaluations.

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
    perf_l: list = []
    cost_l: list = []
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
        a, t = check_objectives(evaluate(batch), len(batch))
        archs.extend(batch)
        perf_l.extend(a)
        cost_l.extend(t)
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
            perf, cost = np.asarray(perf_l), np.asarray(cost_l)
            order = nsga_order(perf, cost)
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
    return SearchResult(method or cspace.name, seed, cspace.size, archs, np.asarray(perf_l, float),
                        np.asarray(cost_l, float), np.asarray(rounds, int), info)
