"""Paired seed differences, their interval, and the verdict that interval gives.

A claim "A beats B" measured over seeds ``i = 1..n`` (seed ``i`` runs both A and B) is judged by
the per-seed differences ``d_i = A_i - B_i`` and an interval of their mean: Student's
``mean ± t_{n-1, (1+level)/2} s / sqrt(n)`` (:func:`t_mean_interval`, honest at few seeds), or
the percentile bootstrap ``[q_{(1-level)/2}, q_{(1+level)/2}]`` of the means of ``n_boot``
resamples (:func:`bootstrap_mean_interval`, for many seeds). The verdict is *better* (the interval
lies above 0), *worse* (below 0) or *tie* (it holds 0); with fewer than :data:`MIN_SEEDS` values
there is none (*too few seeds*).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

VERDICTS = ("better", "tie", "worse", "too few seeds")

#: The fewest independent values (seeds) an interval needs before it gives a verdict.
MIN_SEEDS = 5


@dataclass(frozen=True)
class Interval:
    """A mean with its bootstrap interval (``level`` coverage) over ``n`` values."""

    mean: float
    low: float
    high: float
    n: int
    level: float = 0.95

    @property
    def verdict(self) -> str:
        """``better`` when the interval lies above 0, ``worse`` when below, else ``tie``; *too few
        seeds* below :data:`MIN_SEEDS` values."""
        if self.n < MIN_SEEDS:
            return "too few seeds"
        return "better" if self.low > 0 else "worse" if self.high < 0 else "tie"

    def text(self, digits: int = 4) -> str:
        """``mean [low, high]`` with ``digits`` decimals."""
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def _check(values, level: float) -> np.ndarray:
    values = np.asarray(values, dtype=float).ravel()
    if values.size < 2:
        raise ValueError(f"an interval needs at least 2 values, got {values.size}")
    if not np.isfinite(values).all():
        raise ValueError("cannot make an interval of values holding NaN or infinity")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    return values


def t_mean_interval(values, level: float = 0.95) -> Interval:
    """The mean of ``values`` and its Student-t interval, ``mean ± t_{n-1} s / sqrt(n)``."""
    values = _check(values, level)
    half = stats.t.ppf((1 + level) / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return Interval(float(values.mean()), float(values.mean() - half), float(values.mean() + half),
                    int(values.size), level)


def bootstrap_mean_interval(values, level: float = 0.95, n_boot: int = 10_000, seed: int = 0) -> Interval:
    """The mean of ``values`` and its percentile bootstrap interval (deterministic for ``seed``)."""
    values = _check(values, level)
    if n_boot < 100:
        raise ValueError(f"n_boot must be at least 100, got {n_boot}")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(n_boot, values.size))].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(values.mean()), float(low), float(high), int(values.size), level)
