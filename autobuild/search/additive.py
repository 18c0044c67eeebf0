r"""A one-hot additive ridge model of a label: the same-information control of AutoBuild's reduced spaces.

On the labelled architectures, fit

.. math:: y \approx \bar y + \sum_u \Big[\beta_{u,\,d_u} + \sum_{j < d_u} \beta_{u,\,j,\,\ell_{u,j}}\Big]

where :math:`d_u` is unit :math:`u`'s depth and :math:`\ell_{u,j}` its :math:`j`-th layer, by ridge
regression on one-hot indicators of (unit, depth) and (unit, position, layer). A unit subgraph's
score is its own coefficients summed, so the model ranks every subgraph of a unit as AutoBuild's
Eq. 5 scores do, from the same labels, with no GNN.
"""
from __future__ import annotations

import numpy as np

from autobuild.spaces.base import SequenceSpace


class AdditiveModel:
    """Ridge coefficients of one label over ``space``'s units (see the module's equation)."""

    def __init__(self, space: SequenceSpace, archs, y, ridge: float = 1.0):
        y = np.asarray(y, dtype=float)
        archs = list(archs)
        if len(archs) != y.size or y.size < 2:
            raise ValueError(f"an additive model needs as many labels as architectures (at least 2); "
                             f"got {len(archs)} architectures and {y.size} labels")
        if not np.all(np.isfinite(y)):
            raise ValueError("an additive model needs finite labels")
        if not (np.isfinite(ridge) and ridge > 0):
            raise ValueError(f"the ridge penalty must be positive, got {ridge}")
        self.space = space
        self.columns: dict[tuple, int] = {}
        for u in range(space.n_units):
            for sg in space.unit_subgraphs(u):
                for key in self._keys(u, sg):
                    self.columns.setdefault(key, len(self.columns))
        X = np.zeros((len(archs), len(self.columns)))
        for i, arch in enumerate(archs):
            for u in range(space.n_units):
                X[i, [self.columns[key] for key in self._keys(u, space.arch_unit(arch, u))]] = 1.0
        mean = X.mean(0)
        Xc = X - mean
        self.coef = np.linalg.solve(Xc.T @ Xc + ridge * np.eye(X.shape[1]), Xc.T @ (y - y.mean()))

    @staticmethod
    def _keys(u: int, subgraph) -> list[tuple]:
        return [(u, "depth", len(subgraph))] + [(u, j, layer) for j, layer in enumerate(subgraph)]

    def unit_scores(self, u: int) -> np.ndarray:
        """The score of every subgraph of unit ``u`` (``space.unit_subgraphs(u)`` order)."""
        return np.array([self.coef[[self.columns[key] for key in self._keys(u, sg)]].sum()
                         for sg in self.space.unit_subgraphs(u)])

    def top_k(self, k: int) -> list[list]:
        """Per unit, the ``k`` best-scoring subgraphs, best first (ties by the space's order)."""
        if k < 1:
            raise ValueError(f"top-k needs k >= 1, got {k}")
        out = []
        for u in range(self.space.n_units):
            subgraphs = self.space.unit_subgraphs(u)
            order = np.argsort(-self.unit_scores(u), kind="stable")[:k]
            out.append([subgraphs[i] for i in order])
        return out
