"""Sec. 5.3's top-4 selection: an ensemble's AutoBuild stage scores and exhaustive predictions
over the U-Net space, and the attention-importance read-out of Fig. 7b.

Both methods rank far more architectures than they pick, and their scores at rank ``k`` and
just below are nearly equal: a float-level change can swap the 4th pick for the 5th. So each
method keeps its top ``NEAR_TIES * k`` (its *near-tied candidates*), and Table 1 also judges
the expected result of a pick of ``k`` among them (``sd_results.Pick``).
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from autobuild.predictor.ensemble import (
    EnsembleConfig,
    autobuild_stage_scores,
    exhaustive_scores,
    top_by_stage_sum,
    top_k_indices,
    train_ensemble,
)
from autobuild.predictor.scoring import SubgraphScorer

#: Each method's near-tied candidates are its top ``NEAR_TIES * k`` architectures.
NEAR_TIES = 2


# Both at once -------------------------------------------------------------------------------
@dataclass
class Selection:
    """Both methods' top ``NEAR_TIES * k`` architectures, best first, with their scores (AutoBuild:
    summed stage scores; ES: the weighted mean prediction); the picks are the first ``k``. Also the
    AutoBuild stage scores, both ensembles, the data they were trained on, and the seconds ES
    took to score the whole space."""

    k: int
    autobuild_ranked: list
    exhaustive_ranked: list
    autobuild_ranked_scores: list
    exhaustive_ranked_scores: list
    stage_scores: pd.DataFrame
    ab_members: list
    es_members: list
    space: object
    archs: list
    y: np.ndarray
    exhaustive_seconds: float

    @property
    def autobuild(self) -> list:
        return self.autobuild_ranked[:self.k]

    @property
    def exhaustive(self) -> list:
        return self.exhaustive_ranked[:self.k]

    def _table(self, archs, scores, score_name: str) -> pd.DataFrame:
        return pd.DataFrame({"rank": np.arange(1, len(archs) + 1), "architecture": [self.space.to_string(a) for a in archs],
                             score_name: scores, "picked": np.arange(len(archs)) < self.k})

    def autobuild_table(self) -> pd.DataFrame:
        """AutoBuild's near-tied candidates: rank, architecture, summed stage score, picked (top ``k``)."""
        return self._table(self.autobuild_ranked, self.autobuild_ranked_scores, "summed score")

    def exhaustive_table(self) -> pd.DataFrame:
        """ES's near-tied candidates: rank, architecture, predicted -FD, picked (top ``k``)."""
        return self._table(self.exhaustive_ranked, self.exhaustive_ranked_scores, "predicted -FD")

    def describe_autobuild(self) -> str:
        hop_srcc = np.array([m.metrics["hop_srcc"] for m in self.ab_members])
        return (f"{len(self.ab_members)} predictors; mean held-out SRCC per hop 0..{hop_srcc.shape[1] - 1}: "
                f"{np.round(np.nanmean(hop_srcc, 0), 2)}")

    def describe_exhaustive(self) -> str:
        return (f"{len(self.es_members)} predictors; mean held-out SRCC "
                f"{np.nanmean([m.metrics['srcc'] for m in self.es_members]):.2f}")

    def exhaustive_standard_error(self) -> float:
        r"""Standard error of ES's ensemble prediction at its candidates (mean over them): the
        members' SRCC-weighted spread :math:`s` over :math:`\sqrt{n_\mathrm{eff}}`,
        :math:`n_\mathrm{eff} = (\sum w)^2 / \sum w^2`."""
        w = np.array([max(m.metrics.get("srcc", np.nan), 0.0) for m in self.es_members])
        w = np.nan_to_num(w)
        preds = np.stack([m.predict(self.exhaustive_ranked) for m in self.es_members])
        mean = w @ preds / w.sum()
        spread = np.sqrt(w @ (preds - mean) ** 2 / w.sum())
        return float(spread.mean() / np.sqrt(w.sum() ** 2 / (w ** 2).sum()))

    def describe_near_ties(self) -> str:
        """How far apart each method's candidates score; for ES beside its prediction's standard error."""
        ab, es = np.asarray(self.autobuild_ranked_scores), np.asarray(self.exhaustive_ranked_scores)
        se, span = self.exhaustive_standard_error(), es[0] - es[-1]
        return (f"ranks 1-{len(ab)}: AutoBuild's summed scores span {ab[0] - ab[-1]:.4f} ({ab[0]:.4f} to {ab[-1]:.4f}); "
                f"ES's predicted -FD span {span:.4f} ({es[0]:.4f} to {es[-1]:.4f}), "
                f"{'less' if span < se else 'more'} than the standard error of one ES prediction, {se:.4f}")

    def layer_type_importance(self) -> pd.Series:
        """FE-MLP importance of each layer type (``res``, ``attn``), mean over the AutoBuild members."""
        fe = pd.concat([SubgraphScorer.from_data(m, self.archs, self.y).feature_importance() for m in self.ab_members])
        return fe[fe.feature == "type"].groupby("value").importance.mean()


def select(space, archs, y, seeds: int, k: int = 4, config: EnsembleConfig = EnsembleConfig(),
           progress: bool = True) -> Selection:
    """Train both ensembles on ``(archs, y)`` (higher ``y`` is better) and rank both methods' top
    ``NEAR_TIES * k``; each picks its first ``k``."""
    n = NEAR_TIES * k
    ab = train_ensemble(space, archs, y, seeds, ranking_loss=True, config=config, progress=progress)
    stage_scores = autobuild_stage_scores(ab, archs, y)
    ab_top = top_by_stage_sum(space, stage_scores, n)
    es = train_ensemble(space, archs, y, seeds, ranking_loss=False, config=config, progress=progress)
    t0 = time.perf_counter()
    scores = exhaustive_scores(es, space, progress)
    seconds = time.perf_counter() - t0
    if progress:  # write the last bar's closing newline now, before whatever the caller prints next
        sys.stderr.flush()
    top = top_k_indices(scores, n)
    idx = space.all_choice_indices()
    return Selection(k, [a for _, a in ab_top], [space.from_indices(idx[i]) for i in top], [s for s, _ in ab_top],
                     [float(scores[i]) for i in top], stage_scores, ab, es, space, list(archs), np.asarray(y),
                     seconds)


def stored_evaluations(store) -> pd.DataFrame:
    """The ``random68`` records of a :class:`~autobuild.experiments.sd_results.ResultStore` (the
    SDv1.4-shaped U-Net and the uniform samples, seed 0), in the order they were stored."""
    frame = store.frame()
    if not len(frame):
        raise ValueError(f"no SD-mini evaluations in {store.folder}; run scripts/run_sd_mini.py first")
    return frame[frame.group == "random68"]


def best_evaluated(store) -> str:
    """The architecture of the ``random68`` records (canonical string) with the lowest mean FD over
    every seed the store holds for it (seed 0 only, for most)."""
    evals = stored_evaluations(store)
    runs = store.frame().drop_duplicates(["arch", "seed"])
    return str(runs[runs.arch.isin(evals.arch)].groupby("arch").fd.mean().idxmin())


def select_from_store(store, space, seeds: int = 4, k: int = 4, config: EnsembleConfig | None = None,
                      progress: bool = True) -> Selection:
    """SD-mini's top-``k`` selection (Table 1: ``k = 4``) from the store's ``random68`` evaluations,
    with labels ``y = -FD`` (lower FD is better); what ``scripts/run_sd_mini.py`` and notebook 05 run."""
    evals = stored_evaluations(store)
    archs = [space.from_string(a) for a in evals["arch"]]
    return select(space, archs, -evals["fd"].to_numpy(np.float64), seeds, k, config or EnsembleConfig(), progress)


def attention_importance(space, stage_scores: pd.DataFrame) -> pd.DataFrame:
    """Per stage and path: mean AutoBuild score of subgraphs with attention minus without
    (positive: attention helps), and the same for width and depth as a scale."""
    rows = []
    for u in range(space.n_stages):
        df = stage_scores[stage_scores.stage == u]
        choices = [space.stage_choice(u, space.stage_subgraphs(u)[i]) for i in df["index"]]
        flags = {"down": [c.attn_down for c in choices], "up": [c.attn_up for c in choices]} \
            if any(c.attn_down or c.attn_up for c in choices) else {"mid": [c.mid_attn for c in choices]}
        for path, f in flags.items():
            f = np.array(f)
            s = df["score"].to_numpy()
            rows.append({"stage": u, "path": path, "with_attention": s[f].mean(), "without_attention": s[~f].mean(),
                         "attention_effect": s[f].mean() - s[~f].mean()})
    return pd.DataFrame(rows)


def member_attention_effects(selection: Selection, early: int = 0) -> pd.DataFrame:
    """Per AutoBuild ensemble member (its own Eq. 5 scores, unweighted): the attention effect of
    :func:`attention_importance` in stage ``early`` (mean over its paths), in the later stages
    (mean over their stages and paths), and ``early - later`` (negative: attention matters less
    early)."""
    rows = []
    for i, m in enumerate(selection.ab_members):
        attn = attention_importance(selection.space, SubgraphScorer.from_data(m, selection.archs, selection.y).score_all())
        first = attn.stage == early
        e, later = attn.attention_effect[first].mean(), attn.attention_effect[~first].mean()
        rows.append({"member": i, "early": e, "later": later, "early - later": e - later})
    return pd.DataFrame(rows)
