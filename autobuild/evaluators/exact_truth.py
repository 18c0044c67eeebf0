r"""Exact answers on a fully enumerated space (NAS-Bench-Macro: all 6,561 networks measured).

The table is a complete factorial: ``codes[i]`` holds the op digit of every layer of architecture
``i`` (stages of ``depths`` layers, ``n_ops`` choices per layer) and every combination occurs
exactly once. For a stage ``u`` and a window of its layers ``p .. p+l-1`` holding the ops ``c``,
the true marginal is the mean label over every architecture that holds ``c`` there,

.. math::

    m_{u,p}(c) = \frac{1}{|A_{u,p,c}|} \sum_{a \in A_{u,p,c}} y(a), \qquad
    A_{u,p,c} = \{a : a_{u, p..p+l-1} = c\},

the exact value of :func:`autobuild.evaluators.marginals.true_marginals` with every context
enumerated. Full stage configurations (``l`` = the stage's depth) are the subgraphs AutoBuild
builds from; shorter windows (single layers: what the 0-hop FE-MLP scores; pairs) are the
smaller subgraphs its hop levels embed.

The true best is the set of maximisers of a target; the true front and its hypervolume follow
:mod:`autobuild.search.pareto` (accuracy maximised, cost minimised); a rank percentile is the
share of the space an architecture matches or beats.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from autobuild.search.pareto import hypervolume, nadir_reference, pareto_front


def check_complete(codes, depths, n_ops: int) -> np.ndarray:
    """``codes`` as an int array after checking it enumerates every architecture exactly once."""
    codes = np.asarray(codes)
    n_layers = int(sum(depths))
    if codes.ndim != 2 or codes.shape[1] != n_layers:
        raise ValueError(f"codes must be [architectures, {n_layers}] op digits, got shape {codes.shape}")
    if codes.size and (codes.min() < 0 or codes.max() >= n_ops):
        raise ValueError(f"op digits must lie in 0..{n_ops - 1}")
    flat = codes @ (n_ops ** np.arange(n_layers)[::-1])
    if len(codes) != n_ops ** n_layers or len(np.unique(flat)) != len(codes):
        raise ValueError(f"not a complete table: {len(np.unique(flat))} distinct of the {n_ops ** n_layers} "
                         "architectures; exact marginals need every one exactly once")
    return codes.astype(np.int64)


def _values(values, n: int) -> np.ndarray:
    v = np.asarray(values, dtype=float).ravel()
    if v.size != n or not np.isfinite(v).all():
        raise ValueError(f"need {n} finite values, one per architecture; got {v.size}")
    return v


def subgraph_marginals(codes, values, depths, n_ops: int) -> pd.DataFrame:
    """The true marginal of every window of consecutive layers within a stage (see the module
    docstring): ``stage, start, length, config, marginal, n_archs``; ``config`` is the window's op
    digits (``"212"``), of every length from 1 to the stage's depth."""
    codes = check_complete(codes, depths, n_ops)
    y = _values(values, len(codes))
    rows, offset = [], 0
    for u, depth in enumerate(depths):
        for length in range(1, depth + 1):
            for start in range(depth - length + 1):
                window = codes[:, offset + start: offset + start + length]
                key = window @ (n_ops ** np.arange(length)[::-1])
                sums = np.bincount(key, weights=y, minlength=n_ops ** length)
                counts = np.bincount(key, minlength=n_ops ** length)
                for k, config in enumerate(itertools.product(range(n_ops), repeat=length)):
                    rows.append({"stage": u, "start": start, "length": length,
                                 "config": "".join(map(str, config)), "marginal": sums[k] / counts[k],
                                 "n_archs": int(counts[k])})
        offset += depth
    return pd.DataFrame(rows)


def stage_marginals(codes, values, depths, n_ops: int) -> pd.DataFrame:
    """The true marginal of every full stage configuration: ``stage, config, marginal``."""
    m = subgraph_marginals(codes, values, depths, n_ops)
    full = m.length.to_numpy() == np.asarray(depths)[m.stage.to_numpy()]
    return m[full][["stage", "config", "marginal"]].reset_index(drop=True)


def best_indices(values) -> np.ndarray:
    """Every architecture that attains the maximum (ties kept, in order)."""
    v = np.asarray(values, dtype=float)
    return np.flatnonzero(v == v.max())


def rank_percentile(values, chosen) -> np.ndarray:
    r"""For each value in ``chosen``: :math:`100 \cdot |\{a : y(a) \le v\}| / |A|` (the best scores 100)."""
    v = np.sort(np.asarray(values, dtype=float))
    return 100.0 * np.searchsorted(v, np.asarray(chosen, dtype=float), side="right") / v.size


def exact_front(perf, cost, ref=None, margin: float = 0.0) -> tuple[np.ndarray, float, tuple]:
    """The exact front of the whole table (indices by cost), its hypervolume and the reference
    used: ``ref``, else the table's nadir (lowest performance, highest cost) widened by ``margin``
    of each range (so that the extreme points count too)."""
    ref = tuple(nadir_reference(perf, cost, margin)) if ref is None else tuple(ref)
    return pareto_front(perf, cost), hypervolume(perf, cost, ref), ref


def hypervolume_floor(perf, cost, ref, noise: float) -> float:
    """How much a hypervolume moves when every performance moves by ``noise``: ``noise`` times the
    cost span its front covers, ``cost_ref - min cost`` (in units of the hypervolume)."""
    return float(noise * (ref[1] - np.min(np.asarray(cost, dtype=float)[np.asarray(perf) > ref[0]])))
