"""Statistics shared by training metrics and the score-quality studies."""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr


def spearman(a, b) -> float:
    """Spearman's rank correlation of two equally long sequences; NaN when either is constant or
    shorter than 2 (where it is undefined)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)
