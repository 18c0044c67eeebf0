"""Building architectures from subgraph scores (paper Sec. 5.1-5.2, Figs 4-6).

For each label equation that mixes a performance label and a cost (e.g. ``acc`` and
``latency_gpu``), train an AutoBuild predictor, score every stage subgraph and keep the
top-K per stage: a reduced space of K^|u| architectures, small enough to evaluate
exhaustively. Compare what those reduced spaces hold with the Pareto front of the
labelled set they were learned from.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from autobuild.predictor.scoring import ReducedSpace, SubgraphScorer
from autobuild.graphs.table import GraphTable
from autobuild.predictor import train_many
from autobuild.predictor import TrainConfig, TrainedPredictor
from autobuild.search.pareto import Reference, dominated_by, hypervolume


@dataclass
class Construction:
    """One label equation's predictor, its subgraph scores and its top-K reduced space."""

    equation: str
    trained: TrainedPredictor
    scorer: SubgraphScorer
    reduced: ReducedSpace

    def best_and_worst(self) -> pd.DataFrame:
        """Per stage, the best- and worst-scoring subgraph: ``stage, which, subgraph, label, n_layers, score``.

        ``subgraph`` holds the layer tuple itself (for drawing), ``label`` its text.
        """
        df = self.scorer.score_all()
        rows = []
        for u, part in df.groupby("stage", sort=True):
            subgraphs = self.scorer.space.unit_subgraphs(int(u))
            for which, row in (("best", part.loc[part.score.idxmax()]), ("worst", part.loc[part.score.idxmin()])):
                rows.append({"equation": self.equation, "stage": int(u), "which": which,
                             "subgraph": subgraphs[int(row["index"])], "label": row["subgraph"],
                             "n_layers": int(row["n_layers"]), "score": float(row["score"])})
        return pd.DataFrame(rows)


def tradeoff_equations(labels: pd.DataFrame, perf: str = "acc", cost: str = "latency_gpu",
                       weights: Sequence[float] = (0.5, 2.0)) -> list[str]:
    """Label equations that favour different regions of the ``perf``-``cost`` front.

    Labels live on their own scales (``acc`` a fraction spanning a few points, latencies
    in ms spanning several ms, CPU latencies hundreds), so a plain ``acc - latency`` is
    all latency. The equations are, from the accuracy end to the cost end:

    * ``100**perf`` -- performance only, stretched at the top (the paper's ``100^Acc``);
    * ``perf/s_p - w*cost/s_c`` for each weight ``w``: a trade-off in units of each label's
      standard deviation over ``labels`` (``w < 1`` leans to performance, ``w > 1`` to cost);
    * ``perf/cost`` -- performance per unit cost, which favours the cheapest architectures.

    The standard deviations are written into the equation text (3 significant digits),
    so the equations are plain strings that state exactly what was trained.
    """
    missing = [c for c in (perf, cost) if c not in labels.columns]
    if missing:
        raise ValueError(f"labels lack column(s) {missing}; have {list(labels.columns)}")
    s_p, s_c = float(labels[perf].std()), float(labels[cost].std())
    if not (s_p > 0 and s_c > 0):
        raise ValueError(f"{perf} and {cost} must vary over the labelled set to scale a trade-off")
    if any(w <= 0 for w in weights):
        raise ValueError(f"trade-off weights must be positive, got {list(weights)}")
    mid = [f"{perf}/{s_p:.3g} - {w:g}*{cost}/{s_c:.3g}" for w in weights]
    return [f"100**{perf}", *mid, f"{perf}/{cost}"]


def construct(dataset, equations: Sequence[str], k: int = 3, config: TrainConfig | None = None,
              progress: bool = True, seeds: Sequence[int] | None = None, readout: str = "pooled") -> list[Construction]:
    """Train one predictor per label equation on ``dataset`` and keep its top-``k`` subgraphs per unit.

    ``dataset`` is a labelled set (``.space``, ``.archs``, ``.target(equation)``). Every
    predictor uses ``config``, with each seed of ``seeds`` (default: ``config.seed`` alone; a
    seed fixes the split too). All ``len(seeds) * len(equations)`` predictors train at once
    (:func:`~autobuild.predictor.training.train_many`); the result lists them seed-major. ``readout``
    is the subgraph scorer's (:mod:`autobuild.predictor.scoring`).
    """
    if not equations:
        raise ValueError("construct needs at least one label equation")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    config = config or TrainConfig()
    seeds = [config.seed] if seeds is None else [int(s) for s in seeds]
    labels = {eq: dataset.target(eq) for eq in equations}
    jobs = [(seed, eq) for seed in seeds for eq in equations]
    table = GraphTable.from_architectures(dataset.space, dataset.archs)
    trained = train_many(table, dataset.space.feature_vocab, [labels[eq] for _, eq in jobs],
                         [replace(config, seed=seed, progress=progress) for seed, _ in jobs], space=dataset.space)
    out = []
    for (_, eq), t in zip(tqdm(jobs, desc="scoring", disable=not progress, leave=False), trained):
        scorer = SubgraphScorer.from_data(t, dataset.archs, labels[eq], readout)
        out.append(Construction(eq, t, scorer, scorer.top_k(k)))
    return out


def subgraph_traits(constructions: Sequence[Construction], k: int = 25) -> pd.DataFrame:
    """What the top-``k`` and bottom-``k`` subgraphs per stage are made of, per equation.

    Pooled over stages: mean layers per subgraph and the share of layers with expand 6 /
    expand 3 / kernel 7 / kernel 3 (OFA layers with ``.expand`` and ``.kernel``). Makes the
    paper's reading of Fig. 4 checkable in numbers.
    """
    rows = []
    for c in constructions:
        for which, lists in (("top", c.scorer.top_k(k).candidates), ("bottom", c.scorer.bottom_k(k))):
            subgraphs = [sg for stage in lists for sg in stage]
            layers = [l for sg in subgraphs for l in sg]
            rows.append({"equation": c.equation, "which": f"{which}-{k}",
                         "mean_layers": float(np.mean([len(sg) for sg in subgraphs])),
                         "share_e6": float(np.mean([l.expand == 6 for l in layers])),
                         "share_e3": float(np.mean([l.expand == 3 for l in layers])),
                         "share_k7": float(np.mean([l.kernel == 7 for l in layers])),
                         "share_k3": float(np.mean([l.kernel == 3 for l in layers]))})
    return pd.DataFrame(rows)


def evaluate_reduced_spaces(constructions: Sequence[Construction],
                            evaluate: Callable[[list], tuple]) -> pd.DataFrame:
    """Evaluate every architecture of every reduced space: ``equation, arch, perf, cost``.

    ``evaluate(archs) -> (perf, cost)``, e.g. :class:`autobuild.search.Objectives`.
    """
    frames = []
    for c in constructions:
        archs = list(c.reduced.architectures())
        perf, cost = evaluate(archs)
        frames.append(pd.DataFrame({"equation": c.equation, "arch": archs,
                                    "perf": np.asarray(perf, float), "cost": np.asarray(cost, float)}))
    return pd.concat(frames, ignore_index=True)


def front_extension(data_perf, data_cost, clusters: pd.DataFrame, ref: Reference | tuple) -> tuple[pd.DataFrame, dict]:
    """How far each cluster reaches beyond the labelled set's Pareto front.

    A point *reaches beyond* the front when no labelled architecture weakly dominates it and
    it lies inside the hypervolume box of ``ref`` (better than the reference performance and
    cost), i.e. when adding it alone grows the labelled set's hypervolume. (A very cheap but
    very poor architecture is non-dominated too, but adds nothing; it is not counted.)

    Per cluster (``clusters``: ``equation, perf, cost``): its size, how many of its points
    reach beyond, its best performance and lowest cost. Overall: the hypervolume of the
    labelled set, of the labelled set together with every cluster, their ratio, and how
    many clusters reach beyond the front.
    """
    data_perf, data_cost = np.asarray(data_perf, float), np.asarray(data_cost, float)
    ref = tuple(ref)
    rows = []
    for eq, part in clusters.groupby("equation", sort=False):
        p, c = part.perf.to_numpy(), part.cost.to_numpy()
        beyond = ~dominated_by(p, c, data_perf, data_cost) & (p > ref[0]) & (c < ref[1])
        rows.append({"equation": eq, "n_archs": len(part), "n_beyond_front": int(beyond.sum()),
                     "reaches_beyond": bool(beyond.any()), "best_perf": float(part.perf.max()),
                     "min_cost": float(part.cost.min())})
    table = pd.DataFrame(rows)
    hv_data = hypervolume(data_perf, data_cost, ref)
    hv_union = hypervolume(np.concatenate([data_perf, clusters.perf.to_numpy()]),
                           np.concatenate([data_cost, clusters.cost.to_numpy()]), ref)
    summary = {"hv_data": hv_data, "hv_union": hv_union,
               "hv_gain": hv_union / hv_data - 1 if hv_data > 0 else float("nan"),
               "clusters_beyond": int(table.reaches_beyond.sum()), "n_clusters": len(table)}
    return table, summary
