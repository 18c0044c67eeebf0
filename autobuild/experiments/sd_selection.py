"""Sec. 5.3's top-4 selection: an ensemble's AutoBuild stage scores and exhaustive predictions
over the U-Net space, and the attention-importance read-out of Fig. 7b.
"""
from __future__ import annotations

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


# Both at once -------------------------------------------------------------------------------
@dataclass
class Selection:
    autobuild: list
    exhaustive: list
    autobuild_scores: list
    exhaustive_scores: list
    stage_scores: pd.DataFrame
    ab_members: list
    es_members: list


def select(space, archs, y, seeds: int, k: int = 4, config: EnsembleConfig = EnsembleConfig(),
           progress: bool = True) -> Selection:
    """Train both ensembles on ``(archs, y)`` (higher ``y`` is better) and pick both top-``k``."""
    ab = train_ensemble(space, archs, y, seeds, ranking_loss=True, config=config, progress=progress)
    stage_scores = autobuild_stage_scores(ab, archs, y)
    ab_top = top_by_stage_sum(space, stage_scores, k)
    es = train_ensemble(space, archs, y, seeds, ranking_loss=False, config=config, progress=progress)
    scores = exhaustive_scores(es, space, progress)
    top = top_k_indices(scores, k)
    idx = space.all_choice_indices()
    return Selection([a for _, a in ab_top], [space.from_indices(idx[i]) for i in top], [s for s, _ in ab_top],
                     [float(scores[i]) for i in top], stage_scores, ab, es)


def select_top4(space, archs, fd, seeds: int = 4, config: EnsembleConfig = EnsembleConfig()) -> dict:
    """SD-mini selection: labels ``-FD``; returns ``{"autobuild": [4 archs], "exhaustive": [4 archs]}``."""
    sel = select(space, archs, -np.asarray(fd, dtype=np.float64), seeds, 4, config)
    return {"autobuild": sel.autobuild, "exhaustive": sel.exhaustive}


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
