r"""Hand-written gradients for the dense chain path: the same functions as autograd's, in fewer passes.

On a CPU the stacked predictors of :mod:`autobuild.predictor.engines.dense` spend most of a step
streaming ``[n, B, L, d]`` tensors through memory, not multiplying: every element-wise op, every
padding copy and every gradient accumulation reads and writes the whole tensor. The two
operations here do a hop's work with as few of those passes as the math allows, and are checked
against autograd's gradients of the plain formulas (``tests/predictor/test_engines.py``).

Tensors are ``[n, B, L, d]`` (model, graph, position, channel), contiguous; ``W`` is ``[n, o, d]``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _shifted(n: int, rows: int, width: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A buffer of ``n * rows + 1`` rows seen twice, both contiguous ``[n, rows, width]``:
    ``lead`` (rows 0..) and ``lag`` (rows 1..), so ``lead[m, r + 1]`` is ``lag[m, r]``, also across
    the boundary of two models (a graph's first row is then overwritten or zero)."""
    buf = like.new_empty(n * rows + 1, width)
    return buf[:-1].view(n, rows, width), buf[1:].view(n, rows, width)


class _PredecessorHop(torch.autograd.Function):
    r"""One companion hop on chains: :math:`h'_i = S h_i + \mathrm{LeakyReLU}(c_i)` with
    :math:`c_i = [i > 0]\,(W h_{i-1} + b_l) + b` (``S`` the identity when ``skip`` is None).

    Forward: one GEMM writes :math:`W h_r + b_l + b` into row r + 1 of a flat buffer, which is
    :math:`c` once each graph's first row is set to b; then LeakyReLU and the skip. Backward: one
    pass for LeakyReLU's derivative (into a buffer read one row ahead), two GEMMs (the skip's
    gradient fused into the input-gradient GEMM) and two reductions for the biases. Every GEMM
    reads and writes contiguous batches.
    """

    @staticmethod
    def forward(ctx, h, weight, bias_l, bias, skip, slope):
        n, B, L, d = h.shape
        o = weight.shape[1]
        flat = h.view(n, B * L, d)
        conv, lag = _shifted(n, B * L, o, h)
        torch.baddbmm((bias_l + bias)[:, None], flat, weight.transpose(1, 2), out=lag)
        conv = conv.view(n, B, L, o)
        conv[:, :, 0] = bias[:, None]
        out = F.leaky_relu(conv, slope)
        if skip is None:
            out += h
        else:
            out = torch.baddbmm(out.view(n, B * L, o), flat, skip.transpose(1, 2)).view(n, B, L, o)
        ctx.save_for_backward(h, weight, skip, conv)
        ctx.slope = slope
        return out

    @staticmethod
    def backward(ctx, grad):
        h, weight, skip, conv = ctx.saved_tensors
        n, B, L, d = h.shape
        o = weight.shape[1]
        grad_flat = grad.contiguous().view(n, B * L, o)
        g, ahead = _shifted(n, B * L, o, h)    # g = dL/dc; ahead[m, r] = g[m, r + 1]
        torch.ops.aten.leaky_relu_backward.grad_input(grad_flat, conv.view(n, B * L, o), ctx.slope, False,
                                                      grad_input=g)
        ahead[-1, -1] = 0                                       # the buffer's extra row
        g4 = g.view(n, B, L, o)
        g_bias = g4.sum((1, 2))
        g4[:, :, 0] = 0                                         # rows i = 0 saw no predecessor
        g_bias_l = g4.sum((1, 2))
        hflat = h.view(n, B * L, d)
        g_weight = torch.bmm(ahead.transpose(1, 2), hflat)     # sum_i dL/dc_{i+1} h_i^T
        g_h = g_skip = None
        if skip is not None:
            g_skip = torch.bmm(grad_flat.transpose(1, 2), hflat)
        if not ctx.needs_input_grad[0]:   # h^0 behind a stop-gradient
            pass
        elif skip is None:                # dL/dh_i = dL/dh'_i + W^T dL/dc_{i+1}
            g_h = torch.baddbmm(grad_flat, ahead, weight)
        else:                             # dL/dh_i = S^T dL/dh'_i + W^T dL/dc_{i+1}
            g_h = torch.bmm(grad_flat, skip).baddbmm_(ahead, weight)
        return None if g_h is None else g_h.view(n, B, L, d), g_weight, g_bias_l, g_bias, g_skip, None


def predecessor_hop(h: torch.Tensor, weight: torch.Tensor, bias_l: torch.Tensor, bias: torch.Tensor,
                    skip: torch.Tensor | None = None, slope: float = 0.01) -> torch.Tensor:
    r""":math:`h'_i = S h_i + \mathrm{LeakyReLU}([i > 0](W h_{i-1} + b_l) + b)` for every chain
    (``h`` ``[n, B, L, d]``; ``weight``, ``skip`` ``[n, o, d]``; biases ``[n, o]``)."""
    return _PredecessorHop.apply(h.contiguous(), weight, bias_l, bias, skip, slope)


class _MeanPool(torch.autograd.Function):
    r""":math:`h_G = \sum_i w_i h_i` per graph (``w`` constant): a batched GEMV forward, and a
    broadcast product backward (autograd's would run a batched outer-product GEMM of depth 1)."""

    @staticmethod
    def forward(ctx, h, weights):
        ctx.save_for_backward(weights)
        return torch.matmul(weights[..., None, :], h)[..., 0, :]

    @staticmethod
    def backward(ctx, grad):
        (weights,) = ctx.saved_tensors
        return weights[..., None] * grad[..., None, :], None


def mean_pool(h: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Graph embeddings ``[n, B, d]`` from node embeddings ``h`` ``[n, B, L, d]`` and the pooling
    weights ``[n, B, L]`` (``1 / length`` at a graph's nodes, 0 at padding): Eq. 2's mean."""
    return _MeanPool.apply(h, weights)


def stacked_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``x @ W^T + b`` per model: ``x`` ``[n, ..., i]``, ``W`` ``[n, o, i]``, ``b`` ``[n, o]``."""
    shape = x.shape
    flat = x.reshape(shape[0], -1, shape[-1])
    if bias is None:
        out = torch.bmm(flat, weight.transpose(1, 2))
    else:
        out = torch.baddbmm(bias[:, None, :], flat, weight.transpose(1, 2))
    return out.reshape(*shape[:-1], weight.shape[1])
