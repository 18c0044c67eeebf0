"""Predictor-guided NSGA-II: the same-information control of AutoBuild-NAS.

A surrogate trained on the labelled architectures stands in for the true objectives during an
NSGA-II search of the whole space (``screen`` surrogate evaluations). The ``budget`` best of what
it saw, in NSGA-II order under the surrogate, are then evaluated for real, so the search spends
exactly as many true evaluations as AutoBuild-NAS does, and uses the same labels.
"""
from __future__ import annotations

import numpy as np

from autobuild.search.evolution import Evaluate, SearchResult, check_objectives, evolutionary_search, nsga_order


def predictor_guided_search(cspace, surrogate: Evaluate, evaluate: Evaluate, budget: int = 250, screen: int = 2500,
                            n_initial: int = 50, per_round: int = 50, seed: int = 0,
                            method: str = "Predictor-NSGA-II") -> SearchResult:
    """NSGA-II over ``cspace`` on ``surrogate`` for ``screen`` evaluations, then the ``budget`` best
    under the surrogate evaluated with ``evaluate``; the result holds only the true evaluations."""
    if not 1 <= budget <= screen:
        raise ValueError(f"need 1 <= budget <= screen, got budget {budget} and screen {screen}")
    screened = evolutionary_search(cspace, surrogate, budget=screen, n_initial=n_initial, per_round=per_round,
                                   seed=seed, method=method, progress=False)
    picked = nsga_order(screened.perf, screened.cost)[:budget]
    archs = [screened.archs[i] for i in picked]
    perf, cost = check_objectives(evaluate(archs), len(archs))
    info = {"screened": screened.n_evaluated, "backends": dict(getattr(evaluate, "backends", {}))}
    return SearchResult(method, seed, cspace.size, archs, np.asarray(perf, float), np.asarray(cost, float),
                        np.zeros(len(archs), dtype=int), info)
