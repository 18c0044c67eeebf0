r"""Hand-written gradients for the dense chain path: the same functions as autograd's, in fewer passes.

On a CPU the stacked predictors of :mod:`autobuild.predictor.engines.dense` spend most of a step
streaming ``[n, P, d]`` tensors through memory, not multiplying: every element-wise op and every
gradient accumulation reads and writes the whole tensor. The operations here do a hop's work with
as few of those passes as the math allows, and are checked against autograd's gradients of the
plain formulas through PyG (``tests/predictor/test_engines.py``).

Chains are *packed*: model m's batch of graphs lies end to end in row m of ``[n, P, d]``
(:class:`~autobuild.predictor.engines.dense.PackedChains`), so node r's predecessor is row r - 1
unless r starts a chain. Rows beyond a model's last node are padding (a few per model, where the
models' batches hold different numbers of nodes): they never reach a valid row, because messages
only flow forward and padding comes last. ``W`` is ``[n, o, d]``. Each graph's mean embedding
(Eq. 2) is one sparse product with the chains' pooling matrix (1/|G| at each node of G): on a
CPU several times faster than ``index_add``, which adds row after row on one thread.

On a CPU the hops' element-wise passes run in the compiled kernels of
:mod:`~autobuild.predictor.chain_kernels` (the same functions in one or two sweeps over each model's
rows, pooling included; ``tests/predictor/test_chain_kernels.py`` checks them against the Python
passes here, which a GPU runs).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from autobuild.predictor import chain_kernels


def _fused_kernels(h: torch.Tensor):
    """The compiled kernels for a hop whose input is ``h`` (:func:`~autobuild.predictor.chain_kernels.cpu_kernels`),
    or None: on a GPU, where they did not build, and inside ``torch.compile`` (dynamo cannot trace them)."""
    return None if torch.compiler.is_compiling() else chain_kernels.cpu_kernels(h)


def _shifted(n: int, rows: int, width: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A buffer of ``n * rows + 1`` rows seen twice, both contiguous ``[n, rows, width]``:
    ``lead`` (rows 0..) and ``lag`` (rows 1..), so ``lead[m, r + 1]`` is ``lag[m, r]``, also across
    the boundary of two models (row 0 of a model starts a chain, so it is overwritten or zero)."""
    buf = like.new_empty(n * rows + 1, width)
    return buf[:-1].view(n, rows, width), buf[1:].view(n, rows, width)


def _outer_sum(g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    r"""A weight's gradient :math:`\sum_r g_r h_r^T` ``[n, o, k]`` for ``g`` ``[n, P, o]`` and inputs ``h``
    ``[n, P, k]``, as the transpose of :math:`h^T g`: MKL runs that product several times faster when
    k is small (the first hop's k = 6 features: 0.23 ms instead of 1.33 ms at n = 20, 2 threads)."""
    return torch.bmm(h.transpose(1, 2), g).transpose(1, 2)


def _rows(t: torch.Tensor) -> torch.Tensor:
    """``t`` ``[n, P, d]`` as ``[n * P, d]`` (a view)."""
    return t.view(-1, t.shape[-1])


def _predecessor_hop(h, weight, bias_l, bias, skip, starts, slope):
    r"""One companion hop's forward: :math:`h'_r = S h_r + \mathrm{LeakyReLU}(c_r)`, returning
    ``(h', c)``. One GEMM writes :math:`W h_r + b_l + b` into row r + 1 of a flat buffer, which is
    :math:`c` once every chain start is set to b; then LeakyReLU and the skip."""
    n, P, _ = h.shape
    conv, lag = _shifted(n, P, weight.shape[1], h)
    torch.baddbmm((bias_l + bias)[:, None], h, weight.transpose(1, 2), out=lag)
    _rows(conv).index_copy_(0, starts, bias.repeat_interleave(len(starts) // n, 0))
    out = F.leaky_relu(conv, slope)
    if skip is None:
        out += h
    else:
        out = torch.baddbmm(out, h, skip.transpose(1, 2))
    return out, conv


def _conv_grad(grad, conv, starts, slope):
    r"""dL/dc of :func:`_predecessor_hop` for ``grad`` = dL/dh': one pass for LeakyReLU's derivative
    (into a buffer read one row ahead), two reductions for the biases. Returns ``ahead``
    (``ahead[m, r]`` = dL/dc at row r + 1, zero where row r + 1 starts a chain), dL/db_l and dL/db."""
    n, P, o = conv.shape
    g, ahead = _shifted(n, P, o, conv)    # g = dL/dc; ahead[m, r] = g[m, r + 1]
    torch.ops.aten.leaky_relu_backward.grad_input(grad, conv, slope, False, grad_input=g)
    ahead[-1, -1] = 0                                       # the buffer's extra row
    g_bias = g.sum(1)
    g_bias_l = g_bias - _rows(g).index_select(0, starts).view(n, -1, o).sum(1)   # starts saw no b_l
    _rows(g).index_fill_(0, starts, 0)                      # nor any predecessor
    return ahead, g_bias_l, g_bias


def _hop_input_grads(grad, ahead, h, weight, skip, input_grad: bool):
    r"""The GEMMs of a companion hop's backward, from ``grad`` = dL/dh' (overwritten) and ``ahead``
    (:func:`_conv_grad`): dL/dh (None unless ``input_grad``), dL/dW and dL/dS (None without a skip),
    the skip's gradient fused into the input-gradient GEMM."""
    g_weight = _outer_sum(ahead, h)                         # sum_r dL/dc_{r+1} h_r^T
    g_skip = None if skip is None else _outer_sum(grad, h)
    g_h = None
    if not input_grad:                # h^0 behind a stop-gradient
        pass
    elif skip is None:                # dL/dh_r = dL/dh'_r + W^T dL/dc_{r+1}
        g_h = grad.baddbmm_(ahead, weight)
    else:                             # dL/dh_r = S^T dL/dh'_r + W^T dL/dc_{r+1}
        g_h = torch.bmm(grad, skip).baddbmm_(ahead, weight)
    return g_h, g_weight, g_skip


def _fused_predecessor_hop(kernels, h, weight, bias_l, bias, skip, starts, pool_index, inv_len, slope):
    """:func:`_predecessor_hop` and the pooling of its output through the compiled kernels: the GEMMs
    here, the conv, LeakyReLU, skip and mean in one sweep. Returns ``(h', c, h_G)``."""
    conv = torch.bmm(h, weight.transpose(1, 2))
    out = torch.empty_like(conv) if skip is None else torch.bmm(h, skip.transpose(1, 2))
    mean = kernels.companion_hop_forward(conv, bias_l, bias, out, h if skip is None else None, starts, pool_index,
                                         inv_len, slope)
    return out, conv, mean


class _CompanionHops(torch.autograd.Function):
    r"""The companion's M hops on packed chains and Eq. 2's mean pooling of every hop, as one
    Function: one autograd node (no per-hop bookkeeping), and each hop's input gradient is summed
    with its pooled gradient in place.

    .. math::

        h^m_r = S_m h^{m-1}_r + \mathrm{LeakyReLU}\big([r \text{ not a start}]\,(W_m h^{m-1}_{r-1} + b_{l,m}) + b_m\big),
        \qquad h_G^m = \frac{1}{|G|}\sum_{v \in G} h^m_v \quad (m = 0..M).

    ``weights``: per hop ``W, b_l, b, S`` (S None: the identity). Returns :math:`h_G^0..h_G^M`
    and :math:`h^1..h^M`. With ``stop`` the hops read ``h^0`` behind a
    stop-gradient: its gradient is then its pooled gradient alone.
    """

    @staticmethod
    def forward(ctx, h0, starts, pool, pool_index, inv_len, slope, stop, *weights):
        hops = [weights[i:i + 4] for i in range(0, len(weights), 4)]
        kernels = _fused_kernels(h0)
        hs, convs, means = [h0], [], [_mean_pool(pool, h0)]
        for weight, bias_l, bias, skip in hops:
            if kernels is None:
                out, conv = _predecessor_hop(hs[-1], weight, bias_l, bias, skip, starts, slope)
                mean = _mean_pool(pool, out)
            else:
                out, conv, mean = _fused_predecessor_hop(kernels, hs[-1], weight, bias_l, bias, skip, starts,
                                                         pool_index, inv_len, slope)
            means.append(mean)
            hs.append(out)
            convs.append(conv)
        ctx.save_for_backward(pool_index, inv_len, starts, *hs, *convs, *(t for w in hops for t in (w[0], w[3])))
        ctx.slope, ctx.stop, ctx.kernels = slope, stop, kernels
        ctx.set_materialize_grads(False)
        return (*means, *hs[1:])

    @staticmethod
    def backward(ctx, *grads):
        pool_index, inv_len, starts, *saved = ctx.saved_tensors
        M = (len(saved) - 1) // 4   # h^0..h^M, c^1..c^M, (W, S) per hop
        hs, convs, weights = saved[:M + 1], saved[M + 1:2 * M + 1], saved[2 * M + 1:]
        g_means, g_nodes = grads[:M + 1], grads[M + 1:]

        def pooled_grad(m):   # dL/dh^m through the pooling (and from outside, where h^m was used there)
            g = _pooled_grad(g_means[m], pool_index, inv_len, hs[m])
            return g if m == 0 or g_nodes[m - 1] is None else g.add_(g_nodes[m - 1])

        g_weights = []
        carry = None          # dL/dh^m through the hops above m
        for m in range(M, 0, -1):
            if ctx.kernels is None:
                grad = pooled_grad(m)
                if carry is not None:
                    grad.add_(carry)
                ahead, g_bias_l, g_bias = _conv_grad(grad, convs[m - 1], starts, ctx.slope)
            else:             # the same sums and dL/dc in one sweep
                g_node = None if g_nodes[m - 1] is None else g_nodes[m - 1].contiguous()
                grad, ahead, g_bias_l, g_bias = ctx.kernels.companion_hop_backward(
                    g_means[m], g_node, carry, convs[m - 1], starts, pool_index, inv_len, ctx.slope)
            weight, skip = weights[2 * m - 2:2 * m]
            carry, g_weight, g_skip = _hop_input_grads(grad, ahead, hs[m - 1], weight, skip,
                                                       input_grad=m > 1 or not ctx.stop)
            g_weights[:0] = (g_weight, g_bias_l, g_bias, g_skip)
        g_h0 = pooled_grad(0)
        if carry is not None:
            g_h0.add_(carry)
        return (g_h0, None, None, None, None, None, None, *g_weights)


def companion_hops(h0: torch.Tensor, hops: list[tuple], chains, stop_gradient: bool, slope: float = 0.01):
    r"""The companion's hops and pooling on packed ``chains`` (:class:`_CompanionHops`): ``h0`` ``[n, P, F]``;
    ``hops``: per hop ``(W, b_l, b, S)`` (``W``, ``S`` ``[n, o, d]``, biases ``[n, o]``, S None for the
    identity). Returns the graph embeddings ``h_G^0..h_G^M`` ``[n, B, d_m]`` and the node embeddings
    ``h^1..h^M`` ``[n, P, d_m]``."""
    weights = [t for hop in hops for t in hop]
    out = _CompanionHops.apply(h0.contiguous(), chains.starts, chains.pool, chains.pool_index, chains.inv_len, slope,
                               stop_gradient, *weights)
    return list(out[:len(hops) + 1]), list(out[len(hops) + 1:])


class _AuthorsHop(torch.autograd.Function):
    r"""One hop of the authors' network on packed chains, training mode: GATv2 with self-loops,
    batch norm over each model's valid rows, ReLU and (from the second hop) the residual.

    With :math:`[x^l; x^r] = W_{lr} h + b_{lr}` and :math:`p_r = x^l_{r-1}` (the predecessor):

    .. math::

        a_r = \sigma\big(\mathrm{att}\cdot\mathrm{LReLU}_{0.2}(x^l_r + x^r_r)
              - \mathrm{att}\cdot\mathrm{LReLU}_{0.2}(p_r + x^r_r)\big)\ (a = 1 \text{ at a start}),\quad
        c_r = a_r x^l_r + (1 - a_r) p_r + b,

        h'_r = \mathrm{ReLU}\big(\gamma\,(c_r - \mu)/\sigma + \beta\big) \;[+\, h_r].

    The conv bias b cancels in :math:`c - \mu`; it still moves the running mean, and its
    gradient is :math:`\sum_r \partial L/\partial c_r` as autograd's. Forward and backward each
    read and write every ``[n, P, d]`` tensor a handful of times (autograd: several dozen).
    """

    @staticmethod
    def forward(ctx, h, w_lr, b_lr, att, bias, gamma, beta, starts, padding, count, residual, stats):
        n, P, _ = h.shape
        d = w_lr.shape[1] // 2
        # two GEMMs, not one into [n, P, 2d]: element-wise ops on its strided halves run far slower
        xl = _rows(torch.baddbmm(b_lr[:, None, :d], h, w_lr[:, :d].transpose(1, 2)))
        xr = _rows(torch.baddbmm(b_lr[:, None, d:], h, w_lr[:, d:].transpose(1, 2)))
        lu = F.leaky_relu_(xl + xr, 0.2)                                        # self
        lv = torch.empty_like(lu)                                               # predecessor
        torch.add(xl[:-1], xr[1:], out=lv[1:])
        lv[0] = 0
        F.leaky_relu_(lv, 0.2)
        dl = (lu - lv).view(n, P, d)
        a = torch.sigmoid((dl * att.reshape(n, 1, d)).sum(-1)).view(n * P, 1)   # e_self - e_prev
        a.index_fill_(0, starts, 1.0)
        conv = torch.empty_like(lu)
        torch.lerp(xl[:-1], xl[1:], a[1:], out=conv[1:])                        # a x^l + (1 - a) p
        conv[0] = xl[0]
        conv = conv.index_fill_(0, padding, 0).view(n, P, d)                   # padding adds nothing below
        mean = conv.sum(1) / count                                              # [n, d]
        xc = _rows(conv.sub_(mean[:, None])).index_fill_(0, padding, 0).view(n, P, d)   # in place
        var = torch.linalg.vector_norm(xc, dim=1).square_().div_(count)        # biased
        inv_std = torch.rsqrt(var + 1e-5)
        scale = gamma * inv_std
        out = torch.addcmul(beta[:, None], xc, scale[:, None]).relu_()
        _update_running_stats(stats, mean + bias, var, count)
        ctx.save_for_backward(h, w_lr, att, xl, lu, lv, dl, a, xc, out, inv_std, gamma, starts, padding, count)
        ctx.residual = residual
        return out + h if residual else out

    @staticmethod
    def backward(ctx, grad):
        h, w_lr, att, xl, lu, lv, dl, a, xc, out, inv_std, gamma, starts, padding, count = ctx.saved_tensors
        n, P, _ = h.shape
        d = w_lr.shape[1] // 2
        grad = grad.contiguous()
        g_z = torch.ops.aten.threshold_backward(grad, out, 0)                 # through the ReLU
        # batch norm: dL/dc = gamma/sigma (g - mean g - xhat mean(g xhat)), on valid rows only
        s1 = g_z.sum(1)                                                         # = g_beta
        s2 = (g_z * xc).sum(1)                                                  # = g_gamma * sigma
        scale = gamma * inv_std
        g_c = torch.addcmul((-scale * s1 / count)[:, None], g_z, scale[:, None])
        g_c.addcmul_(xc, (-scale * s2 * inv_std * inv_std / count)[:, None])
        g_c = _rows(g_c).index_fill_(0, padding, 0)
        g_bias = g_c.view(n, P, d).sum(1)
        # attention: c = p + a (x^l - p)
        diff = torch.empty_like(g_c)
        torch.sub(xl[1:], xl[:-1], out=diff[1:])
        diff[0] = 0
        g_score = (diff.mul_(g_c)).sum(1, keepdim=True).mul_(a * (1 - a))
        g_score.index_fill_(0, starts, 0)                                       # a = 1 there
        g_att = torch.bmm(g_score.view(n, 1, P), dl).view_as(att)
        g_e = (g_score.view(n, P, 1) * att.reshape(n, 1, d)).view(n * P, d)    # dL/d(att . LReLU)
        g_u = torch.ops.aten.leaky_relu_backward(g_e, lu, 0.2, False)          # dL/d(x^l_r + x^r_r)
        g_v = torch.ops.aten.leaky_relu_backward.grad_input(g_e, lv, 0.2, False, grad_input=g_e)  # -dL/d(p + x^r)
        g_xr = torch.sub(g_u, g_v).view(n, P, d)
        g_xl = g_u.addcmul_(g_c, a)                                             # in place from here on
        g_xl[:-1].sub_(g_v.addcmul_(g_c, a - 1)[1:])                           # what row r sends to r - 1
        g_xl = g_xl.view(n, P, d)
        g_w = torch.cat([_outer_sum(g_xl, h), _outer_sum(g_xr, h)], 1)
        g_b = torch.cat([g_xl.sum(1), g_xr.sum(1)], 1)
        g_h = torch.baddbmm(grad, g_xl, w_lr[:, :d]) if ctx.residual else torch.bmm(g_xl, w_lr[:, :d])
        g_h.baddbmm_(g_xr, w_lr[:, d:])
        return (g_h, g_w, g_b, g_att, g_bias, (s2 * inv_std).reshape(gamma.shape), s1,
                None, None, None, None, None)


def authors_hop(h, w_lr, b_lr, att, bias, gamma, beta, starts, padding, count, residual: bool, stats=None):
    r"""The authors' hop in training mode on packed chains (:class:`_AuthorsHop`): ``h`` ``[n, P, k]``,
    ``w_lr`` ``[n, 2d, k]`` (``lin_l`` over ``lin_r``), ``b_lr`` ``[n, 2d]``, ``att``, ``bias``,
    ``gamma``, ``beta`` ``[n, d]``-sized; ``padding``: the flat rows ``m * P + r`` of padding,
    ``count`` ``[n, 1]`` nodes per model; ``stats``: (running mean, running var, batches tracked,
    momentum) to update, or None."""
    h = h.contiguous()
    if _fused_kernels(h) is not None:
        return _FusedAuthorsHop.apply(h, w_lr, b_lr, att, bias, gamma, beta, starts, count, residual, stats)
    return _AuthorsHop.apply(h, w_lr, b_lr, att, bias, gamma, beta, starts, padding, count, residual, stats)


def _update_running_stats(stats, mean: torch.Tensor, var: torch.Tensor, count: torch.Tensor) -> None:
    """BatchNorm1d's running statistics after a batch of mean ``mean`` and biased variance ``var``
    ``[n, d]`` over ``count`` ``[n, 1]`` nodes; ``stats``: (running mean, running var, batches
    tracked, momentum), or None."""
    if stats is not None:
        running_mean, running_var, tracked, momentum = stats
        running_mean.mul_(1 - momentum).add_(momentum * mean)
        running_var.mul_(1 - momentum).add_(momentum * var * (count / (count - 1)))
        tracked.add_(1)


class _FusedAuthorsHop(torch.autograd.Function):
    r""":class:`_AuthorsHop` with its element-wise work in the compiled kernels
    (:mod:`~autobuild.predictor.chain_kernels`): one GEMM gives :math:`[x^l; x^r]`, one kernel call the
    attention, conv, batch norm, ReLU and residual, and in the backward one kernel call gives
    :math:`G = [\partial L/\partial x^l; \partial L/\partial x^r]`, from which two GEMMs give the
    gradients of ``w_lr`` and ``h``. Same arguments as :class:`_AuthorsHop` but ``padding`` (the
    kernels read each model's node count)."""

    @staticmethod
    def forward(ctx, h, w_lr, b_lr, att, bias, gamma, beta, starts, count, residual, stats):
        kernels = ctx.kernels = _fused_kernels(h)
        xlr = torch.bmm(h, w_lr.transpose(1, 2))   # the kernel adds b_lr
        out, a, xc, mean, var, inv_std = kernels.authors_hop_forward(xlr, b_lr, att, gamma, beta, starts, count,
                                                                     h if residual else None, 1e-5)
        _update_running_stats(stats, mean + bias, var, count)
        ctx.save_for_backward(h, w_lr, xlr, a, xc, inv_std, att, gamma, beta, starts, count)
        ctx.residual = residual
        return out

    @staticmethod
    def backward(ctx, grad):
        h, w_lr, xlr, a, xc, inv_std, att, gamma, beta, starts, count = ctx.saved_tensors
        g_xlr, g_b, g_att, g_bias, g_gamma, g_beta = ctx.kernels.authors_hop_backward(
            grad.contiguous(), xlr, a, xc, inv_std, att, gamma, beta, starts, count)
        g_w = _outer_sum(g_xlr, h)
        g_h = torch.baddbmm(grad, g_xlr, w_lr) if ctx.residual else torch.bmm(g_xlr, w_lr)
        return (g_h, g_w, g_b, g_att.view_as(att), g_bias, g_gamma.view_as(gamma), g_beta.view_as(beta),
                None, None, None, None)


#: the profiler region of every sparse pooling product (a profile's dense FLOP count must skip them)
MEAN_POOLING = "sparse mean pooling"


def _mean_pool(pool: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``pool @ h`` ``[n, B, d]`` for node embeddings ``h`` ``[n, P, d]`` and the sparse pooling matrix
    ``pool`` ``[n * B, n * P]`` (1/|G| at each node of G): every graph's mean embedding."""
    with torch.profiler.record_function(MEAN_POOLING):
        out = h.new_zeros(pool.shape[0], h.shape[-1])   # zeros: a build of torch without MKL scales it by beta
        return torch.addmm(out, pool, _rows(h.contiguous()), beta=0, out=out).view(h.shape[0], -1, h.shape[-1])


def _pooled_grad(grad: torch.Tensor | None, index: torch.Tensor, inv_len: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """dL/dh ``[n, P, d]`` through :func:`_mean_pool` for ``grad`` = dL/dh_G ``[n, B, d]`` (None: zero):
    row r gets its graph's ``grad / |G|`` (padding rows read an extra zero slot per model)."""
    if grad is None:
        return torch.zeros_like(h)
    n, B, d = grad.shape
    slots = torch.cat([grad * inv_len, grad.new_zeros(n, 1, d)], 1)
    return _rows(slots).index_select(0, index).view(h.shape)


class _PoolHops(torch.autograd.Function):
    r""":math:`h_G^m = \frac{1}{|G|}\sum_{v \in G} h_v^m` for every hop m (:func:`_mean_pool`)."""

    @staticmethod
    def forward(ctx, pool, index, inv_len, *hs):
        ctx.save_for_backward(index, inv_len, *hs)
        ctx.set_materialize_grads(False)
        return tuple(_mean_pool(pool, h) for h in hs)

    @staticmethod
    def backward(ctx, *grads):
        index, inv_len, *hs = ctx.saved_tensors
        return (None, None, None, *(_pooled_grad(g, index, inv_len, h) for g, h in zip(grads, hs)))


def pool_hops(hs: list[torch.Tensor], chains) -> list[torch.Tensor]:
    """Eq. 2's mean of every hop's node embeddings ``hs[m]`` ``[n, P, d_m]`` over each graph of the
    packed ``chains``: the graph embeddings ``[n, B, d_m]``."""
    return list(_PoolHops.apply(chains.pool, chains.pool_index, chains.inv_len, *hs))


def stacked_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``x @ W^T + b`` per model: ``x`` ``[n, ..., i]``, ``W`` ``[n, o, i]``, ``b`` ``[n, o]``."""
    shape = x.shape
    flat = x.reshape(shape[0], -1, shape[-1])
    if bias is None:
        out = torch.bmm(flat, weight.transpose(1, 2))
    else:
        out = torch.baddbmm(bias[:, None, :], flat, weight.transpose(1, 2))
    return out.reshape(*shape[:-1], weight.shape[1])
