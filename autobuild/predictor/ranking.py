r"""Differentiable Spearman correlation and the hop-level ranking loss (paper Eq. 4).

The predictor's loss adds to the MSE of its head one ranking term per hop level ``m = 0..M``,
asking the L1 norm of the graph embedding at that hop to rank the architectures like the label:

.. math::

    \mathcal{L} = \mathrm{MSE}(y_G, y'_G) + \frac{1}{M+1} \sum_{m=0}^{M} \big(1 - \rho(y_G, \|h_G^m\|_1)\big),

with :math:`\rho` Spearman's rank correlation over a batch, made differentiable by soft ranks.

Two ranking terms: :func:`hop_ranking_loss` (the ``companion`` model's: soft ranks of the norms
against the exact ranks of the labels) and :func:`authors_ranking_loss` (the ``authors`` model's,
as their ``diff_srcc.py``: soft ranks of the norms against the label *values*).

Soft ranks follow Blondel et al. (2020) with l2 regularisation. ``torchsort`` provides the
fast implementation; when it cannot be built on a machine, :func:`soft_rank_reference`,
a pure-PyTorch implementation of the same definition, takes over.
"""
from __future__ import annotations

import numpy as np
import torch

try:  # torchsort compiles from source; the fallback below keeps the package usable without it
    import torchsort
except ImportError:  # pragma: no cover - exercised only where torchsort failed to build
    torchsort = None


def _isotonic_decreasing_l2(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pool-adjacent-violators: argmin_v ||v - y||^2 s.t. v non-increasing; also block ids."""
    n = len(y)
    sums, counts, starts = [], [], []
    for i in range(n):
        sums.append(y[i])
        counts.append(1)
        starts.append(i)
        while len(sums) > 1 and sums[-2] / counts[-2] <= sums[-1] / counts[-1]:
            s, c = sums.pop(), counts.pop()
            starts.pop()
            sums[-1] += s
            counts[-1] += c
    v, block = np.empty(n), np.empty(n, dtype=np.int64)
    for b, (s, c, st) in enumerate(zip(sums, counts, starts)):
        v[st:st + c] = s / c
        block[st:st + c] = b
    return v, block


class _SoftRankL2(torch.autograd.Function):
    """Projection of ``theta / strength`` onto the permutahedron of ``(n, ..., 1)``."""

    @staticmethod
    def forward(ctx, theta: torch.Tensor, strength: float):
        rows = theta.detach().cpu().double().numpy() / strength
        out = np.empty_like(rows)
        blocks = []
        n = rows.shape[1]
        w = np.arange(n, 0, -1, dtype=np.float64)
        for r, z in enumerate(rows):
            order = np.argsort(-z, kind="stable")
            s = z[order]
            v, block = _isotonic_decreasing_l2(s - w)
            out[r, order] = s - v
            blocks.append((order, block))
        ctx.blocks, ctx.strength = blocks, strength
        return torch.as_tensor(out, dtype=theta.dtype, device=theta.device)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        g = grad.detach().cpu().double().numpy()
        out = np.empty_like(g)
        for r, (order, block) in enumerate(ctx.blocks):
            gs = g[r, order]
            means = np.bincount(block, weights=gs) / np.bincount(block)
            out[r, order] = gs - means[block]
        return torch.as_tensor(out / ctx.strength, dtype=grad.dtype, device=grad.device), None


def soft_rank_reference(x: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Pure-PyTorch l2 soft rank of each row of ``x`` (rank 1 = smallest), as torchsort."""
    return _SoftRankL2.apply(x, strength)


def soft_rank(x: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Soft ranks of each row of a 2-D tensor (torchsort when available)."""
    if torchsort is not None:
        return torchsort.soft_rank(x, regularization="l2", regularization_strength=strength)
    return soft_rank_reference(x, strength)


def spearman(pred: torch.Tensor, target: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Differentiable SRCC of 1-D ``pred`` against 1-D ``target`` (target ranks are exact)."""
    rp = soft_rank(pred[None], strength)[0]
    rt = torch.argsort(torch.argsort(target)).to(pred.dtype)
    rp, rt = rp - rp.mean(), rt - rt.mean()
    return (rp * rt).sum() / (rp.norm() * rt.norm() + 1e-12)


def hop_ranking_loss(graph_embs: list[torch.Tensor], target: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Mean over hops of ``1 - SRCC(y, ||h_G^m||_1)`` (the ranking term of Eq. 4)."""
    terms = [1.0 - spearman(h.abs().sum(dim=1), target, strength) for h in graph_embs]
    return torch.stack(terms).mean()


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of two 1-D tensors (0 where one of them is constant, instead of NaN)."""
    a, b = a - a.mean(), b - b.mean()
    return (a * b).sum() / (a.norm() * b.norm()).clamp_min(torch.finfo(a.dtype).tiny)


def authors_rank_correlation(norms: torch.Tensor, target: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Pearson(soft ranks of ``norms``, ``target``): what the authors' loss calls SRCC.

    Only the prediction side is ranked; ``target`` holds the standardised label values. (Their
    division of the ranks by the batch size does not change Pearson's correlation.)
    """
    return pearson(soft_rank(norms[None], strength)[0], target.to(norms.dtype))


def authors_ranking_loss(graph_embs: list[torch.Tensor], target: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Mean over hops m = 0..M of ``1 - Pearson(soft_rank(||h_G^m||_1), y)`` (the authors' ranking term)."""
    terms = [1.0 - authors_rank_correlation(h.abs().sum(dim=1), target, strength) for h in graph_embs]
    return torch.stack(terms).mean()


def _ranks(y: torch.Tensor) -> torch.Tensor:
    """Each row's ranks 0..B-1 (one sort: the rank of the i-th smallest is i)."""
    order = torch.argsort(y, dim=1)
    ranks = torch.arange(y.shape[1], dtype=y.dtype, device=y.device).expand_as(y)
    return torch.empty_like(y).scatter_(1, order, ranks)


def stacked_ranking_loss(graph_embs: list[torch.Tensor], target: torch.Tensor, strength: float,
                         against: str = "ranks") -> torch.Tensor:
    """The ranking term of n stacked models ``[n]``: mean over hops of ``1 - corr(||h_G^m||_1, y)``,
    where corr compares the soft ranks of the norms with the exact label ranks (``against="ranks"``:
    Eq. 4's SRCC, :func:`hop_ranking_loss`) or with the label values (``"values"``: the authors'
    Pearson, :func:`authors_ranking_loss`). All hops and models go through one soft-rank call."""
    if against not in ("ranks", "values"):
        raise ValueError(f"against must be 'ranks' or 'values'; got {against!r}")
    if against == "values":
        rt, eps = target - target.mean(1, keepdim=True), torch.finfo(target.dtype).tiny
    else:
        rt, eps = _ranks(target), None
        rt = rt - rt.mean(1, keepdim=True)
    norms = torch.stack([g.abs().sum(-1) for g in graph_embs], 1)          # [n, M+1, B]
    n, hops, B = norms.shape
    rp = soft_rank(norms.reshape(n * hops, B), strength).reshape(n, hops, B)   # one call, row by row
    rp = rp - rp.mean(2, keepdim=True)
    rt = rt[:, None]
    denom = rp.norm(dim=2) * rt.norm(dim=2)
    denom = denom + 1e-12 if eps is None else denom.clamp_min(eps)
    return (1.0 - (rp * rt).sum(2) / denom).mean(1)
