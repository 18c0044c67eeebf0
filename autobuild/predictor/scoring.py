"""Scores for stage subgraphs and node features from a trained predictor (paper Sec. 4.2-4.3).

A stage subgraph of ``l`` layers is the ``(l-1)``-hop subgraph rooted at its last node, so
its raw score is that node's embedding norm ``||h_v^{l-1}||_1``. Raw scores of different
hop levels are made comparable by the distribution shift of Eq. 5: standardise with the
hop's node-norm moments ``(mu_m^h, sigma_m^h)`` over the labelled set, then unstandardise
with the label moments ``(mu_{u,l}^y, sigma_{u,l}^y)`` of architectures whose stage ``u``
has ``l`` layers.
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from autobuild.graphs.table import GraphTable
from autobuild.predictor.training import TrainedPredictor


def shift_score(norm, hop_mean: float, hop_std: float, label_mean: float, label_std: float):
    """Eq. 5: move a norm from N(mu_m^h, sigma_m^h) to N(mu_{u,l}^y, sigma_{u,l}^y)."""
    return (np.asarray(norm) - hop_mean) * (label_std / hop_std) + label_mean


@functools.lru_cache(maxsize=64)
def stage_table(space, stage: int, context: tuple) -> GraphTable:
    """Every subgraph of one stage as a graph table (cached: scoring many predictors reuses it)."""
    ctx = dict(context)
    return GraphTable.from_arrays([space.subgraph_features(stage, sg, ctx) for sg in space.stage_subgraphs(stage)])


@dataclass
class ReducedSpace:
    """One list of candidate subgraphs per stage (best first); size ``prod(len)``, e.g. K^|u|."""

    space: object
    candidates: list
    context: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(np.prod([len(c) for c in self.candidates], dtype=object))

    def architectures(self):
        """Every architecture of the reduced space (lazily)."""
        for combo in itertools.product(*self.candidates):
            yield self.space.build(combo, **self.context)

    def best(self):
        """The architecture built from the top-1 subgraph of every stage."""
        return self.space.build([c[0] for c in self.candidates], **self.context)


class SubgraphScorer:
    """Scores every stage subgraph of ``trained.space``.

    Build it with :meth:`from_data` (moments over a labelled set) or from the ``state`` a
    checkpoint stored.
    """

    def __init__(self, trained: TrainedPredictor, state: dict):
        if trained.space is None:
            raise ValueError("subgraph scoring needs a predictor trained on a search space")
        self.trained, self.space, self.state = trained, trained.space, state
        self.n_hops = trained.model.n_hops
        self.hop_moments = np.asarray(state["hop_moments"], dtype=np.float64)  # [M+1, (mean, std)]
        self.label_moments = {(int(u), int(l)): (m, s) for u, l, m, s in state["label_moments"]}
        self.label_overall = tuple(state["label_overall"])
        self.context = dict(state.get("context", {}))
        self._scores: pd.DataFrame | None = None

    @classmethod
    def from_data(cls, trained: TrainedPredictor, archs, y) -> "SubgraphScorer":
        """Compute hop and label moments over the labelled set ``(archs, y)``."""
        if trained.space is None:
            raise ValueError("subgraph scoring needs a predictor trained on a search space")
        archs, y = list(archs), np.asarray(y, dtype=np.float64)
        if len(archs) != len(y) or len(y) == 0:
            raise ValueError(f"{len(archs)} architectures but {len(y)} labels")
        space = trained.space
        node_norms = trained.node_norms_table(GraphTable.from_architectures(space, archs))
        depths = np.array([[len(s) for s in a.stages] for a in archs])
        label_moments = []
        for u in range(depths.shape[1]):
            for l in np.unique(depths[:, u]):
                ys = y[depths[:, u] == l]
                label_moments.append([u, int(l), float(ys.mean()), float(ys.std())])
        seen = np.unique(np.concatenate([space.node_features(a) for a in archs]), axis=0)
        state = {"hop_moments": np.stack([node_norms.mean(0), node_norms.std(0)], 1).tolist(),
                 "label_moments": label_moments, "label_overall": [float(y.mean()), float(y.std())],
                 "seen_values": {name: sorted(set(seen[:, f].tolist()))
                                 for f, name in enumerate(space.feature_names)}}
        scorer = cls(trained, state)
        scorer.context = state["context"] = scorer._best_context()
        return scorer

    def _best_context(self) -> dict:
        """Global choices (OFA input resolution) set to the FE-MLP's highest-scoring value."""
        resolutions = getattr(self.space, "resolutions", None)
        if not resolutions or len(resolutions) < 2:
            return {}
        imp = self.feature_importance()
        imp = imp[(imp.feature == "resolution") & imp.value.isin(resolutions)]
        return {"resolution": int(imp.sort_values("importance").value.iloc[-1])}

    def feature_importance(self) -> pd.DataFrame:
        """FE-MLP readout: importance of every value of every node feature seen in the data."""
        scores = self.trained.model.fe_mlp.value_scores()
        rows = []
        for name in self.space.feature_names:
            vocab = self.space.feature_vocab[name]
            for i in self.state["seen_values"][name]:
                rows.append({"feature": name, "value": vocab[i], "importance": float(scores[name][i])})
        return pd.DataFrame(rows)

    def score_all(self) -> pd.DataFrame:
        """Every stage subgraph: ``stage, index, subgraph, n_layers, hop, norm, score, rank``."""
        if self._scores is None:
            self._scores = pd.concat([self.score_stage(u) for u in range(self.space.n_stages)],
                                     ignore_index=True)
        return self._scores

    def score_stage(self, stage: int) -> pd.DataFrame:
        subgraphs = self.space.stage_subgraphs(stage)
        table = stage_table(self.space, stage, tuple(sorted(self.context.items())))
        n_layers = table.n_nodes.numpy()
        hops = np.minimum(n_layers - 1, self.n_hops)
        last = (table.node_ptr[1:] - 1).numpy()
        node_norms = self.trained.node_norms_table(table)
        norms = node_norms[last, hops]
        lab = np.array([self.label_moments.get((stage, int(l)), self.label_overall) for l in n_layers])
        hop_mom = self.hop_moments[hops]
        hop_std = np.where(hop_mom[:, 1] > 0, hop_mom[:, 1], 1.0)
        scores = shift_score(norms, hop_mom[:, 0], hop_std, lab[:, 0], lab[:, 1])
        df = pd.DataFrame({"stage": stage, "index": np.arange(len(subgraphs)),
                           "subgraph": [self.space.subgraph_label(sg) for sg in subgraphs], "n_layers": n_layers,
                           "hop": hops, "norm": norms, "score": scores})
        df["rank"] = df.score.rank(ascending=False, method="first").astype(int)
        return df

    def top_k(self, k: int) -> ReducedSpace:
        """The reduced space of the ``k`` best-scoring subgraphs of every stage."""
        if k < 1:
            raise ValueError(f"top-k needs k >= 1, got {k}")
        df = self.score_all()
        candidates = []
        for u in range(self.space.n_stages):
            best = df[df.stage == u].nsmallest(k, "rank")
            subgraphs = self.space.stage_subgraphs(u)
            candidates.append([subgraphs[i] for i in best["index"]])
        return ReducedSpace(self.space, candidates, dict(self.context))

    def bottom_k(self, k: int) -> list:
        """The ``k`` worst-scoring subgraphs of every stage (for Fig. 4-style plots)."""
        df = self.score_all()
        return [[self.space.stage_subgraphs(u)[i] for i in df[df.stage == u].nlargest(k, "rank")["index"]]
                for u in range(self.space.n_stages)]
