"""Accuracy-latency Pareto fronts and their 2-D hypervolume.

Convention throughout: the first objective (``acc``) is maximised and the second
(``lat``, latency or any cost such as FLOPs) is minimised. Point ``a`` dominates ``b``
when ``acc_a >= acc_b`` and ``lat_a <= lat_b`` with at least one inequality strict;
exact duplicates do not dominate each other.

The hypervolume of a set is the area of the (acc, lat) plane that the set dominates
and that lies inside the box bounded by a reference point ``(acc_ref, lat_ref)``: the
worst accuracy and the worst latency that still count. Points with ``acc <= acc_ref``
or ``lat >= lat_ref`` add nothing. Compare hypervolumes only under the same reference
point; :func:`nadir_reference` states the rule the book uses.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _objectives(acc, lat) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(acc, dtype=float).reshape(-1)
    t = np.asarray(lat, dtype=float).reshape(-1)
    if a.shape != t.shape:
        raise ValueError(f"acc and lat must have the same length, got {a.size} and {t.size}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(t))):
        raise ValueError("acc and lat must be finite (found NaN or inf); drop unlabelled points first")
    return a, t


def pareto_mask(acc, lat) -> np.ndarray:
    """Boolean mask of the non-dominated points (maximise ``acc``, minimise ``lat``)."""
    a, t = _objectives(acc, lat)
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


def pareto_front(acc, lat) -> np.ndarray:
    """Indices of the non-dominated points, sorted by latency (then accuracy) ascending."""
    a, t = _objectives(acc, lat)
    idx = np.flatnonzero(pareto_mask(a, t))
    return idx[np.lexsort((a[idx], t[idx]))]


def dominated_by(acc, lat, ref_acc, ref_lat) -> np.ndarray:
    """Mask over points (acc, lat): True where some reference point weakly dominates it.

    Weak domination (``>=`` and ``<=``, ties included) answers "does this point fail to
    reach beyond the reference set's front?".
    """
    a, t = _objectives(acc, lat)
    ra, rt = _objectives(ref_acc, ref_lat)
    if ra.size == 0:
        return np.zeros(a.size, dtype=bool)
    front = pareto_front(ra, rt)
    fa, ft = ra[front], rt[front]  # accuracy increases with latency along the front
    # best accuracy reachable at latency <= t: last front point with ft <= t
    pos = np.searchsorted(ft, t, side="right") - 1
    best = np.where(pos >= 0, fa[np.clip(pos, 0, None)], -np.inf)
    return best >= a


def nondominated_ranks(acc, lat) -> np.ndarray:
    """NSGA-II front number of every point: 0 for the Pareto front, 1 for the next, ..."""
    a, t = _objectives(acc, lat)
    ranks = np.full(a.size, -1, dtype=int)
    remaining = np.arange(a.size)
    r = 0
    while remaining.size:
        m = pareto_mask(a[remaining], t[remaining])
        ranks[remaining[m]] = r
        remaining = remaining[~m]
        r += 1
    return ranks


def crowding_distance(acc, lat) -> np.ndarray:
    """NSGA-II crowding distance of each point within its own set (inf at the extremes)."""
    a, t = _objectives(acc, lat)
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


def hypervolume(acc, lat, ref: tuple[float, float]) -> float:
    """Area dominated by the points inside the box bounded by ``ref = (acc_ref, lat_ref)``."""
    a, t = _objectives(acc, lat)
    acc_ref, lat_ref = float(ref[0]), float(ref[1])
    if not (np.isfinite(acc_ref) and np.isfinite(lat_ref)):
        raise ValueError(f"reference point must be finite, got {ref}")
    keep = (a > acc_ref) & (t < lat_ref)
    a, t = a[keep], t[keep]
    if a.size == 0:
        return 0.0
    front = pareto_front(a, t)
    fa, ft = a[front], t[front]
    next_lat = np.append(ft[1:], lat_ref)
    return float(np.sum((next_lat - ft) * (fa - acc_ref)))


@dataclass(frozen=True)
class Reference:
    """A stated hypervolume reference point and the rule that produced it."""

    acc: float
    lat: float
    rule: str

    def __iter__(self):
        return iter((self.acc, self.lat))


def nadir_reference(acc, lat, margin: float = 0.0) -> Reference:
    """The labelled set's nadir, ``(min acc, max lat)``, widened by ``margin`` of each range.

    The book computes one such point per search space and device from the labelled data
    and uses it for every method, seed and cluster on that pair, so hypervolumes compare.
    """
    a, t = _objectives(acc, lat)
    if a.size == 0:
        raise ValueError("cannot take the nadir of an empty set")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    da, dt = (a.max() - a.min()) * margin, (t.max() - t.min()) * margin
    return Reference(float(a.min() - da), float(t.max() + dt),
                     f"nadir of the labelled set (lowest accuracy, highest cost), widened by {margin:g} of each range")
