r"""True marginal effects of unit subgraphs under an oracle (the ground truth that module scores estimate).

For a scoring unit ``u`` (``space.units``) and one of its subgraphs ``s``, let ``a_1..a_C`` be
random architectures of the space (the *contexts*) and ``a_c[u <- s]`` the architecture ``a_c``
with unit ``u`` replaced by ``s``, at the space's default resolution (OFA: 224 px, where the
authors score and evaluate). With an oracle ``f`` (a labelling back end, e.g. OFA's accuracy
predictor) the true marginal of ``s`` is

.. math::

    \hat m_u(s) = \frac{1}{C}\sum_{c=1}^{C} f\big(a_c[u \leftarrow s]\big),

an unbiased estimate of :math:`m_u(s) = \mathbb{E}_{a}\,f(a[u \leftarrow s])`, the label one
expects from putting ``s`` at ``u`` with everything else random. The contexts are drawn once per
unit and shared by all its subgraphs (*paired*): the differences :math:`\hat m_u(s) - \hat m_u(s')`
then carry no context-sampling noise from the mean label, only from interactions of ``s`` with
the other units, so rankings converge far faster than the marginals themselves.

The marginals' own noise is stated by two disjoint halves of the contexts: ``half_a`` (contexts
``0, 2, 4, ...``) and ``half_b`` (``1, 3, 5, ...``). Their Spearman correlation and top-k overlap
say how far the truth itself is determined at this ``C``. Since
:math:`\hat m = (\hat m_a + \hat m_b)/2` with independent halves, the standard error of a
marginal (about its unit's mean) is :math:`\mathrm{sd}(\hat m_a - \hat m_b) / 2` over the subgraphs.

``oracle`` is any callable ``archs -> values`` (one float per architecture);
:func:`evaluator_oracle` and :func:`predictor_oracle` adapt an :class:`~autobuild.evaluators.base.Evaluator`
and a trained predictor. Oracle calls are batched (``batch_size`` architectures per call).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

Oracle = Callable[[Sequence], np.ndarray]


def evaluator_oracle(evaluator, metric: str) -> Oracle:
    """``archs -> values`` of one metric of an evaluator (e.g. ``OFAAccuracy()``, ``"acc_ofa"``)."""
    def oracle(archs):
        return np.asarray(evaluator.evaluate(list(archs), metric).values, dtype=np.float64)
    oracle.__name__ = f"{type(evaluator).__name__}:{metric}"
    return oracle


def predictor_oracle(trained) -> Oracle:
    """``archs -> head predictions`` of a trained predictor (for the head marginals of a scorer)."""
    def oracle(archs):
        return np.asarray(trained.predict(list(archs)), dtype=np.float64)
    oracle.__name__ = "predictor head"
    return oracle


def scoring_resolution(space) -> dict:
    """The global choices at which subgraphs are evaluated: the space's default resolution, if any."""
    resolution = getattr(space, "default_resolution", None)
    return {} if resolution is None else {"resolution": resolution}


def unit_contexts(space, unit: int, n_contexts: int, seed: int) -> list[list]:
    """``n_contexts`` random architectures of ``space`` as lists of unit subgraphs (same for every subgraph).

    The seed is mixed with the unit, so each unit gets its own contexts, reproducibly.
    """
    if n_contexts < 1:
        raise ValueError(f"need at least one context, got {n_contexts}")
    archs = space.sample(n_contexts, seed=int(np.random.SeedSequence([seed, unit]).generate_state(1)[0]))
    return [[space.arch_unit(a, v) for v in range(space.n_units)] for a in archs]


def oracle_matrix(space, oracle: Oracle, unit: int, subgraphs: Sequence[int] | None = None,
                  n_contexts: int = 32, seed: int = 0, batch_size: int = 8192,
                  progress: bool = True) -> np.ndarray:
    """``values[i, c] = oracle(context_c with unit <- subgraphs[i])``, shape ``[S, C]``.

    ``subgraphs`` are indices into ``space.unit_subgraphs(unit)`` (default: all of them).
    """
    all_subgraphs = space.unit_subgraphs(unit)
    idx = np.arange(len(all_subgraphs)) if subgraphs is None else np.asarray(subgraphs, dtype=np.int64)
    contexts = unit_contexts(space, unit, n_contexts, seed)
    glob = scoring_resolution(space)
    n_total = len(idx) * n_contexts
    out = np.empty(n_total, dtype=np.float64)
    bar = tqdm(total=n_total, desc=f"oracle, unit {unit}", unit="arch", disable=not progress, leave=False)
    for start in range(0, n_total, batch_size):
        flat = range(start, min(start + batch_size, n_total))
        archs = []
        for k in flat:
            parts = list(contexts[k % n_contexts])
            parts[unit] = all_subgraphs[idx[k // n_contexts]]
            archs.append(space.build_units(parts, **glob))
        values = np.asarray(oracle(archs), dtype=np.float64).ravel()
        if len(values) != len(archs):
            raise ValueError(f"the oracle returned {len(values)} values for {len(archs)} architectures")
        out[start:start + len(archs)] = values
        bar.update(len(archs))
    bar.close()
    return out.reshape(len(idx), n_contexts)


def true_marginals(space, oracle: Oracle, unit: int, subgraphs: Sequence[int] | None = None,
                   n_contexts: int = 32, seed: int = 0, batch_size: int = 8192,
                   progress: bool = True) -> pd.DataFrame:
    """The true marginal of each subgraph of ``unit`` (see the module docstring).

    Returns one row per subgraph: ``stage`` (the unit), ``index`` (into ``space.unit_subgraphs``),
    ``subgraph``, ``n_layers``, ``marginal`` (mean over the ``C`` paired contexts), ``half_a`` and
    ``half_b`` (means over the even and the odd contexts; equal to ``marginal`` when ``C = 1``).
    """
    all_subgraphs = space.unit_subgraphs(unit)
    idx = np.arange(len(all_subgraphs)) if subgraphs is None else np.asarray(subgraphs, dtype=np.int64)
    values = oracle_matrix(space, oracle, unit, idx, n_contexts, seed, batch_size, progress)
    half_b = values[:, 1::2].mean(1) if n_contexts > 1 else values[:, 0]
    return pd.DataFrame({"stage": unit, "index": idx,
                         "subgraph": [space.subgraph_label(all_subgraphs[i]) for i in idx],
                         "n_layers": [len(all_subgraphs[i]) for i in idx],
                         "marginal": values.mean(1), "half_a": values[:, 0::2].mean(1), "half_b": half_b})
