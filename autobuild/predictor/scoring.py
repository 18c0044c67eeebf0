r"""Scores for stage subgraphs and node features from a trained predictor (paper Sec. 4.2-4.3).

A stage subgraph ``s`` of ``l`` layers is an ``(l-1)``-hop subgraph. Its raw score is an L1 norm
read at hop ``m = l - 1`` of the subgraph standing alone, with one of two readouts:

* ``"pooled"`` (default): the norm of its mean-pooled embedding, ``||mean_{v in s} h_v^m||_1``,
  the quantity the ranking term of Eq. 4 trains (for whole graphs);
* ``"root"`` (the paper's Sec. 4.1 wording and the authors' ``label_units.py``): the norm of its
  last node's embedding, ``||h_{v_last}^m||_1``.

The root readout reaches a stage's first layer through one chain of ``l - 1`` messages whose
sign nothing in Eq. 4 constrains; on 3k OFA-labelled MBv3 architectures it ranked 4-layer
subgraphs against the truth (OFA's predictor) at Spearman 0.37-0.63 over three seeds and put
the smallest block first in 10 of 15 top-1s; the pooled readout gave 0.81-0.82 and 0 of 15
(see the book, section 03).

Raw scores of different hop levels are made comparable by the distribution shift of Eq. 5,

.. math::

    \mathrm{score}(s) = \frac{n(s) - \mu_m^h}{\sigma_m^h}\,\sigma_{u,l}^y + \mu_{u,l}^y,

with ``(mu_m^h, sigma_m^h)`` the moments of the same readout over the labelled architectures
(root: all nodes' hop-m norms; pooled: their own stage subgraphs of ``m + 1`` layers, standing
alone) and ``(mu_{u,l}^y, sigma_{u,l}^y)`` the label moments of architectures whose unit ``u``
has ``l`` layers. Scores are per scoring *unit* (``space.units``: each stage, except that OFA-PN's
fixed last stage joins the stage before, as the authors do); tables call the unit ``stage``.
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from autobuild.graphs.table import GraphTable
from autobuild.predictor.trained import TrainedPredictor


def shift_score(norm, hop_mean: float, hop_std: float, label_mean: float, label_std: float):
    """Eq. 5: move a norm from N(mu_m^h, sigma_m^h) to N(mu_{u,l}^y, sigma_{u,l}^y)."""
    return (np.asarray(norm) - hop_mean) * (label_std / hop_std) + label_mean


READOUTS = ("pooled", "root")


@functools.lru_cache(maxsize=64)
def stage_table(space, unit: int, context: tuple) -> GraphTable:
    """Every subgraph of one scoring unit as a graph table (cached: scoring many predictors reuses it)."""
    ctx = dict(context)
    return GraphTable.from_arrays([space.unit_features(unit, sg, ctx) for sg in space.unit_subgraphs(unit)])


@dataclass
class ReducedSpace:
    """One list of candidate subgraphs per scoring unit (best first); size ``prod(len)``, e.g. K^|u|."""

    space: object
    candidates: list
    context: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(np.prod([len(c) for c in self.candidates], dtype=object))

    def architectures(self):
        """Every architecture of the reduced space (lazily)."""
        for combo in itertools.product(*self.candidates):
            yield self.space.build_units(combo, **self.context)

    def best(self):
        """The architecture built from the top-1 subgraph of every unit."""
        return self.space.build_units([c[0] for c in self.candidates], **self.context)


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
        self.readout = state.get("readout", "root")  # checkpoints from before the readout option
        if self.readout not in READOUTS:
            raise ValueError(f"unknown subgraph readout {self.readout!r}; known: {READOUTS}")
        self._scores: pd.DataFrame | None = None

    @classmethod
    def from_data(cls, trained: TrainedPredictor, archs, y, readout: str = "pooled") -> "SubgraphScorer":
        """Compute hop and label moments over the labelled set ``(archs, y)``."""
        if trained.space is None:
            raise ValueError("subgraph scoring needs a predictor trained on a search space")
        if readout not in READOUTS:
            raise ValueError(f"unknown subgraph readout {readout!r}; known: {READOUTS}")
        archs, y = list(archs), np.asarray(y, dtype=np.float64)
        if len(archs) != len(y) or len(y) == 0:
            raise ValueError(f"{len(archs)} architectures but {len(y)} labels")
        space = trained.space
        foreign = [a.space for a in archs if getattr(a, "space", space.name) != space.name]
        if foreign:
            raise ValueError(f"{len(foreign)} architecture(s) of space {foreign[0]!r} given to a predictor of space "
                             f"{space.name!r}")
        depths = np.array([[len(space.arch_unit(a, u)) for u in range(space.n_units)] for a in archs])
        label_moments = []
        for u in range(depths.shape[1]):
            for l in np.unique(depths[:, u]):
                ys = y[depths[:, u] == l]
                label_moments.append([u, int(l), float(ys.mean()), float(ys.std())])
        seen = np.unique(np.concatenate([space.node_features(a) for a in archs]), axis=0)
        state = {"readout": readout, "hop_moments": cls._hop_moments(trained, archs, readout),
                 "label_moments": label_moments, "label_overall": [float(y.mean()), float(y.std())],
                 "seen_values": {name: sorted(set(seen[:, f].tolist()))
                                 for f, name in enumerate(space.feature_names)}}
        scorer = cls(trained, state)
        scorer.context = state["context"] = scorer._scoring_context()
        return scorer

    @staticmethod
    def _hop_moments(trained: TrainedPredictor, archs, readout: str) -> list:
        """``[mean, std]`` per hop 0..M of the readout's norms over the labelled architectures."""
        space, M = trained.space, trained.model.n_hops
        if readout == "root":  # every node of every labelled architecture
            norms = trained.node_norms_table(GraphTable.from_architectures(space, archs))
            return np.stack([norms.mean(0), norms.std(0)], 1).tolist()
        feats = [space.unit_features(u, space.arch_unit(a, u), {"resolution": a.resolution})
                 for a in archs for u in range(space.n_units)]
        table = GraphTable.from_arrays(feats)
        hop = np.minimum(table.n_nodes.numpy() - 1, M)
        pooled = trained.graph_norms_table(table)[np.arange(len(hop)), hop]
        overall = [float(pooled.mean()), float(pooled.std())]
        return [[float(pooled[hop == m].mean()), float(pooled[hop == m].std())] if (hop == m).sum() > 1 else overall
                for m in range(M + 1)]

    def _scoring_context(self) -> dict:
        """Global choices at which subgraphs are scored and built: the space's default (OFA: 224 px).

        The authors score and evaluate at 224 px; their accuracy predictor, our labelling oracle,
        extrapolates at smaller resolutions. The FE-MLP's own ranking of resolutions stays
        available in :meth:`feature_importance`.
        """
        resolution = getattr(self.space, "default_resolution", None)
        return {} if resolution is None or len(getattr(self.space, "resolutions", ())) < 2 else {"resolution": resolution}

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
        """Every unit subgraph: ``stage, index, subgraph, n_layers, hop, norm, score, rank``."""
        if self._scores is None:
            self._scores = pd.concat([self.score_stage(u) for u in range(self.space.n_units)],
                                     ignore_index=True)
        return self._scores

    def score_stage(self, stage: int) -> pd.DataFrame:
        """Scores of every subgraph of one scoring unit (``stage`` in the tables)."""
        subgraphs = self.space.unit_subgraphs(stage)
        table = stage_table(self.space, stage, tuple(sorted(self.context.items())))
        n_layers = table.n_nodes.numpy()
        hops = np.minimum(n_layers - 1, self.n_hops)
        if self.readout == "root":
            last = (table.node_ptr[1:] - 1).numpy()
            norms = self.trained.node_norms_table(table)[last, hops]
        else:
            norms = self.trained.graph_norms_table(table)[np.arange(len(hops)), hops]
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
        """The reduced space of the ``k`` best-scoring subgraphs of every unit."""
        if k < 1:
            raise ValueError(f"top-k needs k >= 1, got {k}")
        df = self.score_all()
        candidates = []
        for u in range(self.space.n_units):
            best = df[df.stage == u].nsmallest(k, "rank")
            subgraphs = self.space.unit_subgraphs(u)
            candidates.append([subgraphs[i] for i in best["index"]])
        return ReducedSpace(self.space, candidates, dict(self.context))

    def bottom_k(self, k: int) -> list:
        """The ``k`` worst-scoring subgraphs of every unit (for Fig. 4-style plots)."""
        df = self.score_all()
        return [[self.space.unit_subgraphs(u)[i] for i in df[df.stage == u].nlargest(k, "rank")["index"]]
                for u in range(self.space.n_units)]
