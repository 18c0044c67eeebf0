"""Rank statistics shared by training metrics, the score-quality studies and the measured truth."""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr


def spearman(a, b) -> float:
    """Spearman's rank correlation of two equally long sequences; NaN when either is constant or
    has fewer than 3 values (with two, it can only be -1 or 1)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def _top(values, k: int) -> set:
    values = np.asarray(values, float)
    return set(np.argsort(-values, kind="stable")[:k].tolist())


def top_k_overlap(score, truth, k: int = 25) -> int:
    """How many of the ``k`` highest scores are among the ``k`` highest truths (ties: first wins)."""
    return len(_top(score, k) & _top(truth, k))


def top1_regret(score, truth) -> float:
    """``max(truth) - truth[argmax(score)]``: what picking the top-scored item loses (>= 0)."""
    score, truth = np.asarray(score, float), np.asarray(truth, float)
    return float(truth.max() - truth[int(np.argmax(score))])
