"""Performance-cost Pareto fronts and their 2-D hypervolume.

Convention throughout: the first objective (``perf``, e.g. accuracy or PQ) is maximised and the
second (``cost``, e.g. latency or FLOPs) is minimised. Point ``a`` dominates ``b``
when ``perf_a >= perf_b`` and ``cost_a <= cost_b`` with at least one inequality strict;
exact duplicates do not dominate each other.

The hypervolume of a set is the area of the (perf, cost) plane that the set dominates
and that lies inside the box bounded by a reference point ``(perf_ref, cost_ref)``: the
worst performance and the worst cost that still count. Points with ``perf <= perf_ref``
or ``cost >= cost_ref`` add nothing. Compare hypervolumes only under the same reference
point; :func:`nadir_reference` states the rule the book uses.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _objectives(perf, cost) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(perf, dtype=float).reshape(-1)
    t = np.asarray(cost, dtype=float).reshape(-1)
    if a.shape != t.shape:
        raise ValueError(f"perf and cost must have the same length, got {a.size} and {t.size}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(t))):
        raise ValueError("perf and cost must be finite (found NaN or inf); drop unlabelled points first")
    return a, t


def pareto_mask(perf, cost) -> np.ndarray:
    """Boolean mask of the non-dominated points (maximise ``perf``, minimise ``cost``)."""
    a, t = _objectives(perf, cost)
    mask = np.zeros(a.size, dtype=bool)
    if a.size == 0:
        return mask
    order = np.lexsort((-a, t))  # latency ascending, ties: accuracy descending
    best_before = -np.inf  # best accuracy among strictly faster points
    i = 0
    while i < order.size:
        j = i
        while j + 1 < order.size and t[order[j + 1]] == t[order[i]]:
            j += 1
        group = order[i:j + 1]
        top = a[group[0]]
        if top > best_before:
            mask[group[a[group] == top]] = True
        best_before = max(best_before, top)
        i = j + 1
    return mask


def pareto_front(perf, cost) -> np.ndarray:
    """Indices of the non-dominated points, sorted by latency (then accuracy) ascending."""
    a, t = _objectives(perf, cost)
    idx = np.flatnonzero(pareto_mask(a, t))
    return idx[np.lexsort((a[idx], t[idx]))]


def dominated_by(perf, cost, ref_perf, ref_cost) -> np.ndarray:
    """Mask over points (perf, cost): True where some reference point weakly dominates it.

    Weak domination (``>=`` and ``<=``, ties included) answers "does this point fail to
    reach beyond the reference set's front?".
    """
    a, t = _objectives(perf, cost)
    ra, rt = _objectives(ref_perf, ref_cost)
    if ra.size == 0:
        return np.zeros(a.size, dtype=bool)
    front = pareto_front(ra, rt)
    fa, ft = ra[front], rt[front]  # accuracy increases with latency along the front
    # best accuracy reachable at latency <= t: last front point with ft <= t
    pos = np.searchsorted(ft, t, side="right") - 1
    best = np.where(pos >= 0, fa[np.clip(pos, 0, None)], -np.inf)
    return best >= a


def nondominated_ranks(perf, cost) -> np.ndarray:
    """NSGA-II front number of every point: 0 for the Pareto front, 1 for the next, ..."""
    a, t = _objectives(perf, cost)
    ranks = np.full(a.size, -1, dtype=int)
    remaining = np.arange(a.size)
    r = 0
    while remaining.size:
        m = pareto_mask(a[remaining], t[remaining])
        ranks[remaining[m]] = r
        remaining = remaining[~m]
        r += 1
    return ranks


def crowding_distance(perf, cost) -> np.ndarray:
    """NSGA-II crowding distance of each point within its own set (inf at the extremes)."""
    a, t = _objectives(perf, cost)
    n = a.size
    dist = np.zeros(n)
    if n <= 2:
        dist[:] = np.inf
        return dist
    for obj in (a, t):
        order = np.argsort(obj, kind="stable")
        span = obj[order[-1]] - obj[order[0]]
        dist[order[0]] = dist[order[-1]] = np.inf
        if span > 0:
            dist[order[1:-1]] += (obj[order[2:]] - obj[order[:-2]]) / span
    return dist


def hypervolume(perf, cost, ref: tuple[float, float]) -> float:
    """Area dominated by the points inside the box bounded by ``ref = (perf_ref, cost_ref)``."""
    a, t = _objectives(perf, cost)
    perf_ref, cost_ref = float(ref[0]), float(ref[1])
    if not (np.isfinite(perf_ref) and np.isfinite(cost_ref)):
        raise ValueError(f"reference point must be finite, got {ref}")
    keep = (a > perf_ref) & (t < cost_ref)
    a, t = a[keep], t[keep]
    if a.size == 0:
        return 0.0
    front = pareto_front(a, t)
    fa, ft = a[front], t[front]
    next_lat = np.append(ft[1:], cost_ref)
    return float(np.sum((next_lat - ft) * (fa - perf_ref)))


@dataclass(frozen=True)
class Reference:
    """A stated hypervolume reference point and the rule that produced it."""

    perf: float
    cost: float
    rule: str

    def __iter__(self):
        return iter((self.perf, self.cost))


def nadir_reference(perf, cost, margin: float = 0.0) -> Reference:
    """The labelled set's nadir, ``(min perf, max cost)``, widened by ``margin`` of each range.

    The book computes one such point per search space and device from the labelled data
    and uses it for every method, seed and cluster on that pair, so hypervolumes compare.
    """
    a, t = _objectives(perf, cost)
    if a.size == 0:
        raise ValueError("cannot take the nadir of an empty set")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    da, dt = (a.max() - a.min()) * margin, (t.max() - t.min()) * margin
    return Reference(float(a.min() - da), float(t.max() + dt),
                     f"nadir of the labelled set (lowest accuracy, highest cost), widened by {margin:g} of each range")
