// Fused element-wise passes of the dense chain path's hops on a CPU (loaded by chain_kernels.py).
//
// The stacked predictors of engines/dense.py lay model m's chains end to end in row m of
// [n, P, d] tensors; rows r >= count[m] are padding. Each function below does, model by model
// (one model per task of ATen's thread pool), in one or two sweeps over a model's rows, what
// chain_ops.py's Python does in a few dozen full-tensor passes. A model's block (P x d floats,
// a few hundred KB) stays in cache between the sweeps. The matrix products stay in Python (MKL).
// Sums over a model's rows run in double (a graph's mean, over its few nodes, in float). Built with
// -fno-trapping-math (so that the compiler may vectorise loops with branches) and -ffp-contract=off,
// so the batch norm's output, computed in the forward and again in the backward (for ReLU's mask),
// is the same float both times.
#include <torch/extension.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace {

inline float leaky(float v, float slope) { return std::max(v, 0.f) + slope * std::min(v, 0.f); }
inline float leaky_slope(float v, float slope) { return v > 0.f ? 1.f : slope; }

// v[0] + ... + v[d-1] in 8 lanes (a loop the compiler vectorises; a plain running sum it may not reorder).
inline float lane_sum(const float* v, int64_t d) {
  float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  int64_t k = 0;
  for (; k + 8 <= d; k += 8)
    for (int j = 0; j < 8; ++j) acc[j] += v[k + j];
  float s = 0.f;
  for (; k < d; ++k) s += v[k];
  for (int j = 0; j < 8; ++j) s += acc[j];
  return s;
}

// 1 at the flat row m * P + r of every chain start.
std::vector<uint8_t> start_marks(const at::Tensor& starts, int64_t rows) {
  std::vector<uint8_t> marks(rows, 0);
  const auto s = starts.to(at::kLong).contiguous();
  const int64_t* p = s.data_ptr<int64_t>();
  for (int64_t i = 0; i < s.numel(); ++i) {
    TORCH_CHECK(p[i] >= 0 && p[i] < rows, "chain start ", p[i], " outside the ", rows, " packed rows");
    marks[p[i]] = 1;
  }
  return marks;
}

// The nodes of each model (its rows r < count[m] are nodes, the rest padding); row 0 must start a chain.
std::vector<int64_t> valid_rows(const at::Tensor& count, int64_t n, int64_t P, const std::vector<uint8_t>& marks) {
  const auto c = count.to(at::kDouble).contiguous().view({-1});
  TORCH_CHECK(c.numel() == n, "count must hold one node count per model");
  std::vector<int64_t> out(n);
  for (int64_t m = 0; m < n; ++m) {
    out[m] = static_cast<int64_t>(c.data_ptr<double>()[m]);
    TORCH_CHECK(out[m] >= 1 && out[m] <= P, "model ", m, " has ", out[m], " nodes in ", P, " rows");
    TORCH_CHECK(marks[m * P], "model ", m, "'s first row does not start a chain");
  }
  return out;
}

void check_float(const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.device().is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous(),
              name, " must be a contiguous float32 CPU tensor");
}

// One row's gradients through the attention and the conv (authors_hop_backward): u = x^l + x^r,
// v = p + x^r, dL/de = gs; writes dL/dx^l (less what the row below sends) and dL/dx^r, and what this
// row sends to its predecessor; adds to the sums of dL/d att and of both outputs.
inline void attention_backward(const float* __restrict xl, const float* __restrict xr, const float* __restrict p,
                               const float* __restrict w, const float* __restrict gc, float av, float gs, int64_t d,
                               float* __restrict gl, float* __restrict gr, float* __restrict send,
                               double* __restrict sa, double* __restrict sgl, double* __restrict sgr) {
  for (int64_t k = 0; k < d; ++k) {
    const float u = xl[k] + xr[k], v = p[k] + xr[k];
    sa[k] += static_cast<double>(gs * (leaky(u, 0.2f) - leaky(v, 0.2f)));
    const float ge = gs * w[k];
    const float gu = ge * leaky_slope(u, 0.2f), gv = ge * leaky_slope(v, 0.2f);
    gr[k] = gu - gv;
    gl[k] = gu + gc[k] * av - send[k];
    send[k] = gv + gc[k] * (av - 1.f);              // dL/dx^l_{r-1} through row r (negated)
    sgl[k] += gl[k];
    sgr[k] += gr[k];
  }
}

// x[r] += b for each of the rows of x [rows, width].
inline void add_bias(float* __restrict x, const float* __restrict b, int64_t rows, int64_t width) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < width; ++k) x[r * width + k] += b[k];
}

// c[k] = p[k] + b[k] (c may be p's successor row in the same buffer, never p itself)
inline void shift_add(float* __restrict c, const float* __restrict p, const float* __restrict b, int64_t d) {
  for (int64_t k = 0; k < d; ++k) c[k] = p[k] + b[k];
}

// out[k] = base[k] + LeakyReLU(c[k]) (base may be out itself); acc[k] += out[k]
inline void leaky_add_pool(float* out, const float* base, const float* __restrict c, float* __restrict acc,
                           float slope, int64_t d) {
  for (int64_t k = 0; k < d; ++k) {
    out[k] = base[k] + leaky(c[k], slope);
    acc[k] += out[k];
  }
}

inline void add_row(float* __restrict x, const float* __restrict y, int64_t d) {
  for (int64_t k = 0; k < d; ++k) x[k] += y[k];
}

inline void add_to(double* __restrict s, const float* __restrict x, int64_t d) {
  for (int64_t k = 0; k < d; ++k) s[k] += x[k];
}

// gc[k] = g[k] LeakyReLU'(c[k])
inline void leaky_grad(const float* __restrict g, const float* __restrict c, float* __restrict gc, float slope,
                       int64_t d) {
  for (int64_t k = 0; k < d; ++k) gc[k] = g[k] * leaky_slope(c[k], slope);
}

}  // namespace

// The authors' hop after its one GEMM xlr = h [W_l; W_r]^T (chain_ops._AuthorsHop, training mode),
// which it turns into [x^l, x^r] in place by adding their biases b_lr (sparing baddbmm's copy of the
// broadcast bias into its output):
// attention a_r = sigmoid(att . (LReLU(x^l_r + x^r_r) - LReLU(x^l_{r-1} + x^r_r))) (1 at a start),
// c_r = x^l_{r-1} + a_r (x^l_r - x^l_{r-1}), batch norm over the valid rows, ReLU, [+ h].
// Returns out, a [n, P], xc = c - mean (0 at padding), mean, var (biased), 1 / sqrt(var + eps).
std::vector<at::Tensor> authors_hop_forward(at::Tensor& xlr, const at::Tensor& b_lr, const at::Tensor& att,
                                            const at::Tensor& gamma, const at::Tensor& beta, const at::Tensor& starts,
                                            const at::Tensor& count, const c10::optional<at::Tensor>& residual,
                                            double eps) {
  check_float(xlr, "xlr");
  const int64_t n = xlr.size(0), P = xlr.size(1), d2 = xlr.size(2), d = d2 / 2;
  TORCH_CHECK(d2 % 2 == 0, "xlr must hold x^l and x^r side by side");
  const auto attc = att.contiguous().view({n, d}), gammac = gamma.contiguous().view({n, d}),
             betac = beta.contiguous().view({n, d}), biasc = b_lr.contiguous().view({n, d2});
  for (const auto* t : {&attc, &gammac, &betac, &biasc}) check_float(*t, "b_lr, att, gamma and beta");
  const float* h = nullptr;
  if (residual) {
    check_float(*residual, "h");
    TORCH_CHECK(residual->dim() == 3 && residual->size(0) == n && residual->size(1) == P && residual->size(2) == d,
                "the residual must have the hop's output shape");
    h = residual->data_ptr<float>();
  }
  const auto marks = start_marks(starts, n * P);
  const auto valid = valid_rows(count, n, P, marks);
  auto out = at::empty({n, P, d}, xlr.options()), a = at::empty({n, P}, xlr.options()),
       xc = at::empty({n, P, d}, xlr.options()), mean = at::empty({n, d}, xlr.options()),
       var = at::empty({n, d}, xlr.options()), inv_std = at::empty({n, d}, xlr.options());
  float *X = xlr.data_ptr<float>(), *O = out.data_ptr<float>(), *A = a.data_ptr<float>(), *C = xc.data_ptr<float>();
  at::parallel_for(0, n, 1, [&](int64_t lo, int64_t hi) {
    std::vector<double> sum(d), sq(d);
    std::vector<float> mu(d), scale(d), t(d);
    for (int64_t m = lo; m < hi; ++m) {
      const float *w = attc.data_ptr<float>() + m * d, *g = gammac.data_ptr<float>() + m * d,
                  *b = betac.data_ptr<float>() + m * d;
      const int64_t rows = valid[m];
      std::fill(sum.begin(), sum.end(), 0.0);
      std::fill(sq.begin(), sq.end(), 0.0);
      add_bias(X + m * P * d2, biasc.data_ptr<float>() + m * d2, P, d2);
      for (int64_t r = 0; r < rows; ++r) {          // attention and conv
        const int64_t i = m * P + r;
        const float* xl = X + i * d2;
        const float* xr = xl + d;
        float* c = C + i * d;
        if (marks[i]) {                             // a start attends to itself alone
          A[i] = 1.f;
          for (int64_t k = 0; k < d; ++k) c[k] = xl[k];
        } else {
          const float* p = xl - d2;                 // the predecessor's x^l
          for (int64_t k = 0; k < d; ++k) t[k] = w[k] * (leaky(xl[k] + xr[k], 0.2f) - leaky(p[k] + xr[k], 0.2f));
          const float av = 1.f / (1.f + std::exp(-lane_sum(t.data(), d)));
          A[i] = av;
          for (int64_t k = 0; k < d; ++k) c[k] = p[k] + av * (xl[k] - p[k]);
        }
        for (int64_t k = 0; k < d; ++k) sum[k] += c[k];
      }
      for (int64_t k = 0; k < d; ++k) mu[k] = static_cast<float>(sum[k] / rows);
      for (int64_t r = 0; r < rows; ++r) {          // centre; the variance
        float* c = C + (m * P + r) * d;
        for (int64_t k = 0; k < d; ++k) {
          c[k] -= mu[k];
          sq[k] += static_cast<double>(c[k]) * c[k];
        }
      }
      float *mo = mean.data_ptr<float>() + m * d, *vo = var.data_ptr<float>() + m * d,
            *so = inv_std.data_ptr<float>() + m * d;
      for (int64_t k = 0; k < d; ++k) {
        mo[k] = mu[k];
        vo[k] = static_cast<float>(sq[k] / rows);
        so[k] = 1.f / std::sqrt(vo[k] + static_cast<float>(eps));
        scale[k] = g[k] * so[k];
      }
      for (int64_t r = rows; r < P; ++r) {          // padding: nothing below, no attention
        A[m * P + r] = 0.f;
        std::fill(C + (m * P + r) * d, C + (m * P + r + 1) * d, 0.f);
      }
      for (int64_t r = 0; r < P; ++r) {             // normalise, ReLU, residual
        const int64_t i = m * P + r;
        const float* c = C + i * d;
        float* o = O + i * d;
        for (int64_t k = 0; k < d; ++k) {
          const float z = c[k] * scale[k] + b[k];
          o[k] = z > 0.f ? z : 0.f;
        }
        if (h)
          for (int64_t k = 0; k < d; ++k) o[k] += h[i * d + k];
      }
    }
  });
  return {out, a, xc, mean, var, inv_std};
}

// The gradients of authors_hop_forward for grad = dL/dout: G = [dL/dx^l, dL/dx^r] [n, P, 2d]
// with its sum over rows [n, 2d] (the GEMMs' gradients follow in Python), and dL/d of att, the conv
// bias, gamma and beta [n, d].
std::vector<at::Tensor> authors_hop_backward(const at::Tensor& grad, const at::Tensor& xlr, const at::Tensor& a,
                                             const at::Tensor& xc, const at::Tensor& inv_std, const at::Tensor& att,
                                             const at::Tensor& gamma, const at::Tensor& beta,
                                             const at::Tensor& starts, const at::Tensor& count) {
  check_float(grad, "grad");
  check_float(xlr, "xlr");
  const int64_t n = xlr.size(0), P = xlr.size(1), d2 = xlr.size(2), d = d2 / 2;
  const auto attc = att.contiguous().view({n, d}), gammac = gamma.contiguous().view({n, d}),
             betac = beta.contiguous().view({n, d});
  const auto marks = start_marks(starts, n * P);
  const auto valid = valid_rows(count, n, P, marks);
  auto G = at::empty({n, P, d2}, xlr.options()), g_sum = at::empty({n, d2}, xlr.options());
  auto g_att = at::empty({n, d}, xlr.options()), g_bias = at::empty({n, d}, xlr.options()),
       g_gamma = at::empty({n, d}, xlr.options()), g_beta = at::empty({n, d}, xlr.options());
  const float *X = xlr.data_ptr<float>(), *A = a.data_ptr<float>(), *C = xc.data_ptr<float>(),
              *Gr = grad.data_ptr<float>();
  float* GX = G.data_ptr<float>();
  at::parallel_for(0, n, 1, [&](int64_t lo, int64_t hi) {
    std::vector<double> s1(d), s2(d), sb(d), sa(d), sgl(d), sgr(d);
    std::vector<float> scale(d), c1(d), c2(d), gc(d), send(d), t(d);
    for (int64_t m = lo; m < hi; ++m) {
      const float *w = attc.data_ptr<float>() + m * d, *g = gammac.data_ptr<float>() + m * d,
                  *b = betac.data_ptr<float>() + m * d, *is = inv_std.data_ptr<float>() + m * d;
      const int64_t rows = valid[m];
      for (int64_t k = 0; k < d; ++k) scale[k] = g[k] * is[k];
      std::fill(s1.begin(), s1.end(), 0.0);
      std::fill(s2.begin(), s2.end(), 0.0);
      for (int64_t r = 0; r < P; ++r) {             // through the ReLU: sums of dL/dz and dL/dz * xc
        const int64_t i = m * P + r;
        for (int64_t k = 0; k < d; ++k) {
          const float gi = Gr[i * d + k], gz = C[i * d + k] * scale[k] + b[k] > 0.f ? gi : 0.f;
          s1[k] += gz;
          s2[k] += static_cast<double>(gz) * C[i * d + k];
        }
      }
      for (int64_t k = 0; k < d; ++k) {             // batch norm: dL/dc = scale (g - s1/N - xc s2 / (N var))
        c1[k] = static_cast<float>(-scale[k] * s1[k] / rows);
        c2[k] = static_cast<float>(-scale[k] * s2[k] * is[k] * is[k] / rows);
        g_gamma.data_ptr<float>()[m * d + k] = static_cast<float>(s2[k] * is[k]);
        g_beta.data_ptr<float>()[m * d + k] = static_cast<float>(s1[k]);
      }
      std::fill(sb.begin(), sb.end(), 0.0);
      std::fill(sa.begin(), sa.end(), 0.0);
      std::fill(sgl.begin(), sgl.end(), 0.0);
      std::fill(sgr.begin(), sgr.end(), 0.0);
      std::fill(send.begin(), send.end(), 0.f);
      std::fill(GX + (m * P + rows) * d2, GX + (m * P + P) * d2, 0.f);   // padding
      for (int64_t r = rows - 1; r >= 0; --r) {     // last row first: row r + 1 sends to row r
        const int64_t i = m * P + r;
        const float* xl = X + i * d2;
        const float* xr = xl + d;
        const float* c = C + i * d;
        float* gl = GX + i * d2;
        float* gr = gl + d;
        for (int64_t k = 0; k < d; ++k) {
          const float gi = Gr[i * d + k], gz = c[k] * scale[k] + b[k] > 0.f ? gi : 0.f;
          gc[k] = scale[k] * gz + c1[k] + c[k] * c2[k];
          sb[k] += gc[k];
        }
        const float av = A[i];
        if (marks[i]) {                             // a = 1: no attention gradient, nothing to send
          for (int64_t k = 0; k < d; ++k) {
            gl[k] = gc[k] - send[k];
            gr[k] = 0.f;
            send[k] = 0.f;
            sgl[k] += gl[k];
          }
          continue;
        }
        const float* p = xl - d2;
        for (int64_t k = 0; k < d; ++k) t[k] = (xl[k] - p[k]) * gc[k];
        const float gs = lane_sum(t.data(), d) * av * (1.f - av);   // dL/d(e_self - e_prev)
        attention_backward(xl, xr, p, w, gc.data(), av, gs, d, gl, gr, send.data(), sa.data(), sgl.data(), sgr.data());
      }
      for (int64_t k = 0; k < d; ++k) {
        g_bias.data_ptr<float>()[m * d + k] = static_cast<float>(sb[k]);
        g_att.data_ptr<float>()[m * d + k] = static_cast<float>(sa[k]);
      }
      for (int64_t k = 0; k < d; ++k) {
        g_sum.data_ptr<float>()[m * d2 + k] = static_cast<float>(sgl[k]);
        g_sum.data_ptr<float>()[m * d2 + d + k] = static_cast<float>(sgr[k]);
      }
    }
  });
  return {G, g_sum, g_att, g_bias, g_gamma, g_beta};
}

// The companion's hop after its GEMMs (chain_ops._CompanionHops): wh = h W^T [n, P, o] becomes, in
// place and last row first, the conv c_r = b at a start, else wh_{r-1} + b_l + b. Then
// out = h + LeakyReLU(c) with the identity skip (``identity``: h), else out (= h S^T) gains LeakyReLU(c)
// in place. Returns each graph's mean of out [n, B, o], with graph[m * P + r] = m * (B + 1) + g the
// graph g of row r (g = B at padding) and inv_len [n, B, 1] = 1 / |g|.
at::Tensor companion_hop_forward(at::Tensor& wh, const at::Tensor& b_l, const at::Tensor& b, at::Tensor& out,
                                 const c10::optional<at::Tensor>& identity, const at::Tensor& starts,
                                 const at::Tensor& graph, const at::Tensor& inv_len, double slope) {
  check_float(wh, "wh");
  check_float(out, "out");
  const float* H = nullptr;
  if (identity) {
    check_float(*identity, "h");
    TORCH_CHECK(identity->sizes() == wh.sizes(), "the identity skip needs h of the conv's shape");
    H = identity->data_ptr<float>();
  }
  const int64_t n = wh.size(0), P = wh.size(1), o = wh.size(2), B = inv_len.size(1);
  TORCH_CHECK(out.sizes() == wh.sizes(), "out must have the conv's shape");
  TORCH_CHECK(graph.scalar_type() == at::kLong && graph.numel() == n * P, "graph must give each row's graph (int64)");
  const auto blc = b_l.contiguous().view({n, o}), bc = b.contiguous().view({n, o}),
             il = inv_len.contiguous().view({n, B});
  const auto marks = start_marks(starts, n * P);
  auto mean = at::zeros({n, B + 1, o}, wh.options());
  float *X = wh.data_ptr<float>(), *O = out.data_ptr<float>(), *M = mean.data_ptr<float>();
  const int64_t* gr = graph.contiguous().data_ptr<int64_t>();
  const float sl = static_cast<float>(slope);
  at::parallel_for(0, n, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> both(o);
    for (int64_t m = lo; m < hi; ++m) {
      TORCH_CHECK(marks[m * P], "model ", m, "'s first row does not start a chain");
      const float *bl = blc.data_ptr<float>() + m * o, *bb = bc.data_ptr<float>() + m * o;
      for (int64_t k = 0; k < o; ++k) both[k] = bl[k] + bb[k];
      for (int64_t r = P - 1; r >= 0; --r) {
        const int64_t i = m * P + r;
        float* c = X + i * o;
        if (marks[i])
          std::copy(bb, bb + o, c);
        else
          shift_add(c, c - o, both.data(), o);      // c_r = wh_{r-1} + b_l + b (row r - 1 not yet overwritten)
        float* acc = M + gr[i] * o;
        leaky_add_pool(O + i * o, H ? H + i * o : O + i * o, c, acc, sl, o);
      }
      const float* inv = il.data_ptr<float>() + m * B;
      for (int64_t g = 0; g < B; ++g)
        for (int64_t k = 0; k < o; ++k) M[(m * (B + 1) + g) * o + k] *= inv[g];
    }
  });
  return mean.narrow(1, 0, B);
}

// The gradients of companion_hop_forward: with grad = dL/dout, the sum of the pooled gradient (row r
// of graph g gets g_mean[g] / |g|), g_node and carry (each optional), and dL/dc = grad LReLU'(c),
// returns grad, ahead [n, P, o] (ahead_r = dL/dc_{r+1}; 0 where row r + 1 starts a chain: the weight
// gradient is ahead^T h), and the gradients of b_l (no start) and b (every row) [n, o].
std::vector<at::Tensor> companion_hop_backward(const c10::optional<at::Tensor>& g_mean,
                                               const c10::optional<at::Tensor>& g_node,
                                               const c10::optional<at::Tensor>& carry, const at::Tensor& conv,
                                               const at::Tensor& starts, const at::Tensor& graph,
                                               const at::Tensor& inv_len, double slope) {
  check_float(conv, "conv");
  const int64_t n = conv.size(0), P = conv.size(1), o = conv.size(2), B = inv_len.size(1);
  const float *Gm = nullptr, *Gn = nullptr, *Ca = nullptr;
  at::Tensor gmc;
  if (g_mean) {
    gmc = g_mean->contiguous();
    check_float(gmc, "g_mean");
    Gm = gmc.data_ptr<float>();
  }
  if (g_node) {
    check_float(*g_node, "g_node");
    Gn = g_node->data_ptr<float>();
  }
  if (carry) {
    check_float(*carry, "carry");
    Ca = carry->data_ptr<float>();
  }
  const auto il = inv_len.contiguous().view({n, B});
  const auto marks = start_marks(starts, n * P);
  auto grad = at::empty_like(conv), ahead = at::empty_like(conv);
  auto g_b = at::empty({n, o}, conv.options()), g_bl = at::empty({n, o}, conv.options());
  const float* C = conv.data_ptr<float>();
  float *Gr = grad.data_ptr<float>(), *Ah = ahead.data_ptr<float>();
  const int64_t* gr = graph.contiguous().data_ptr<int64_t>();
  const float sl = static_cast<float>(slope);
  at::parallel_for(0, n, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> pooled(o), gc(o);
    std::vector<double> sb(o), sbl(o);
    for (int64_t m = lo; m < hi; ++m) {
      std::fill(sb.begin(), sb.end(), 0.0);
      std::fill(sbl.begin(), sbl.end(), 0.0);
      std::fill(Ah + (m * P + P - 1) * o, Ah + (m * P + P) * o, 0.f);   // row P - 1: no row below
      const float* inv = il.data_ptr<float>() + m * B;
      for (int64_t r = 0; r < P; ++r) {
        const int64_t i = m * P + r, g = gr[i] - m * (B + 1);
        float* gi = Gr + i * o;
        if (Gm && g < B)
          for (int64_t k = 0; k < o; ++k) gi[k] = Gm[(m * B + g) * o + k] * inv[g];
        else
          std::fill(gi, gi + o, 0.f);
        if (Gn) add_row(gi, Gn + i * o, o);
        if (Ca) add_row(gi, Ca + i * o, o);
        leaky_grad(gi, C + i * o, gc.data(), sl, o);
        add_to(sb.data(), gc.data(), o);
        if (marks[i]) {
          if (r > 0) std::fill(Ah + (i - 1) * o, Ah + i * o, 0.f);
        } else {
          add_to(sbl.data(), gc.data(), o);
          std::copy(gc.begin(), gc.end(), Ah + (i - 1) * o);
        }
      }
      for (int64_t k = 0; k < o; ++k) {
        g_b.data_ptr<float>()[m * o + k] = static_cast<float>(sb[k]);
        g_bl.data_ptr<float>()[m * o + k] = static_cast<float>(sbl[k]);
      }
    }
  });
  return {grad, ahead, g_bl, g_b};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("authors_hop_forward", &authors_hop_forward, "the authors' hop after its GEMM (training mode)");
  m.def("authors_hop_backward", &authors_hop_backward, "its gradients");
  m.def("companion_hop_forward", &companion_hop_forward, "the companion's hop after its GEMMs");
  m.def("companion_hop_backward", &companion_hop_backward, "its gradients");
}
