// The float64 reference forward; the contract and the formulas are in reference_forward.h.
#include "model/reference_forward.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "tensor/quant.h"

namespace ts::test {
namespace {

using Vec = std::vector<double>;

// A weight as HF holds it: rows × cols, row-major (a linear layer's [out, in]; a vector is one row).
struct Mat {
  int64_t rows = 0, cols = 0;
  Vec w;
  const double* row(int64_t r) const { return w.data() + r * cols; }
};

// ggml dims order: dims[0] is the row length. An absent tensor gives an empty Mat.
Mat load(const gguf::File& f, const std::string& name) {
  Mat m;
  const gguf::TensorInfo* t = f.tensor(name);
  if (!t) return m;
  m.cols = static_cast<int64_t>(t->dims[0]);
  m.rows = static_cast<int64_t>(t->rows());
  std::vector<float> row(static_cast<size_t>(m.cols));
  const size_t stride = row_bytes(t->type, m.cols);
  for (int64_t r = 0; r < m.rows; ++r) {
    dequantize_row(t->type, t->data + r * stride, row.data(), m.cols);
    m.w.insert(m.w.end(), row.begin(), row.end());
  }
  return m;
}

Vec matvec(const Mat& W, const Vec& x) {
  EXPECT_EQ(W.cols, static_cast<int64_t>(x.size()));
  Vec y(static_cast<size_t>(W.rows), 0.0);
  for (int64_t r = 0; r < W.rows; ++r)
    for (int64_t c = 0; c < W.cols; ++c) y[r] += W.row(r)[c] * x[c];
  return y;
}

void add(Vec& y, const Mat& b) {
  if (b.w.empty()) return;
  for (size_t i = 0; i < y.size(); ++i) y[i] += b.w[i];
}

// In place over n values: x / sqrt(mean(x²) + eps) ⊙ w.
void rmsnorm(double* x, int64_t n, const double* w, double eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const double s = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] * s * w[i];
}

void rope(double* v, int64_t rope_dim, double pos, double base, double freq_scale, bool neox) {
  const int64_t half = rope_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const double theta = pos * freq_scale * std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(rope_dim));
    const int64_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
    const double x0 = v[a], x1 = v[b];
    v[a] = x0 * std::cos(theta) - x1 * std::sin(theta);
    v[b] = x0 * std::sin(theta) + x1 * std::cos(theta);
  }
}

// GGUF llama row 2i + j of a head holds HF row j·hd/2 + i (llama.cpp convert_hf_to_gguf.py, LlamaModel.permute).
void gguf_to_hf_head(double* v, int64_t hd) {
  Vec g(v, v + hd);
  for (int64_t i = 0; i < hd / 2; ++i)
    for (int64_t j = 0; j < 2; ++j) v[j * (hd / 2) + i] = g[2 * i + j];
}

}  // namespace

std::vector<double> reference_forward(const gguf::File& f, const std::vector<int32_t>& tokens, RefRope rope_kind) {
  const std::string arch = f.get_string_or("general.architecture", "");
  const std::string p = arch + ".";
  const int64_t n_embd = f.get_int_or(p + "embedding_length", 0), n_layer = f.get_int_or(p + "block_count", 0);
  const int64_t n_head = f.get_int_or(p + "attention.head_count", 0);
  const int64_t n_kv = f.get_int_or(p + "attention.head_count_kv", n_head);
  const int64_t hd = f.get_int_or(p + "attention.key_length", n_head ? n_embd / n_head : 0);
  const int64_t rope_dim = f.get_int_or(p + "rope.dimension_count", hd);
  const double eps = f.get_float_or(p + "attention.layer_norm_rms_epsilon", 1e-5);
  const double base = f.get_float_or(p + "rope.freq_base", 10000.0);
  const bool linear = f.get_string_or(p + "rope.scaling.type", "") == "linear";
  const double freq_scale = linear ? 1.0 / f.get_float_or(p + "rope.scaling.factor", 1.0) : 1.0;
  if (n_embd <= 0 || n_layer <= 0 || n_head <= 0 || n_kv <= 0 || hd <= 0) {
    ADD_FAILURE() << f.path() << ": reference: missing hyperparameters for arch '" << arch << "'";
    return {};
  }
  bool neox = arch != "llama";
  if (rope_kind == RefRope::kNorm) neox = false;
  if (rope_kind == RefRope::kNeox || rope_kind == RefRope::kHfLayout) neox = true;
  const bool hf_layout = rope_kind == RefRope::kHfLayout;
  if (hf_layout && (arch != "llama" || rope_dim != hd)) {
    ADD_FAILURE() << "reference: kHfLayout is defined for llama with full rotary only";
    return {};
  }

  const Mat embd = load(f, "token_embd.weight");
  Mat out_w = load(f, "output.weight");
  if (out_w.w.empty()) out_w = embd;  // tied
  const Mat out_norm = load(f, "output_norm.weight");
  const int64_t n_vocab = embd.rows, T = static_cast<int64_t>(tokens.size()), group = n_head / n_kv;

  std::vector<Vec> x(static_cast<size_t>(T));  // residual stream per position
  for (int64_t t = 0; t < T; ++t) x[t].assign(embd.row(tokens[t]), embd.row(tokens[t]) + n_embd);

  for (int64_t l = 0; l < n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    const Mat attn_norm = load(f, b + "attn_norm.weight"), ffn_norm = load(f, b + "ffn_norm.weight");
    const Mat wq = load(f, b + "attn_q.weight"), wk = load(f, b + "attn_k.weight"), wv = load(f, b + "attn_v.weight");
    const Mat bq = load(f, b + "attn_q.bias"), bk = load(f, b + "attn_k.bias"), bv = load(f, b + "attn_v.bias");
    const Mat q_norm = load(f, b + "attn_q_norm.weight"), k_norm = load(f, b + "attn_k_norm.weight");
    const Mat wo = load(f, b + "attn_output.weight");
    const Mat w_gate = load(f, b + "ffn_gate.weight"), w_up = load(f, b + "ffn_up.weight");
    const Mat w_down = load(f, b + "ffn_down.weight");

    // q/k/v of every position: q[t] is [n_head × hd], k[t], v[t] are [n_kv × hd]
    std::vector<Vec> q(T), k(T), v(T);
    for (int64_t t = 0; t < T; ++t) {
      Vec h = x[t];
      rmsnorm(h.data(), n_embd, attn_norm.w.data(), eps);
      q[t] = matvec(wq, h), k[t] = matvec(wk, h), v[t] = matvec(wv, h);
      add(q[t], bq), add(k[t], bk), add(v[t], bv);
      for (int64_t hh = 0; hh < n_head; ++hh) {
        double* qh = q[t].data() + hh * hd;
        if (!q_norm.w.empty()) rmsnorm(qh, hd, q_norm.w.data(), eps);
        if (hf_layout) gguf_to_hf_head(qh, hd);
        rope(qh, rope_dim, static_cast<double>(t), base, freq_scale, neox);
      }
      for (int64_t hh = 0; hh < n_kv; ++hh) {
        double* kh = k[t].data() + hh * hd;
        if (!k_norm.w.empty()) rmsnorm(kh, hd, k_norm.w.data(), eps);
        if (hf_layout) gguf_to_hf_head(kh, hd);
        rope(kh, rope_dim, static_cast<double>(t), base, freq_scale, neox);
      }
    }
    for (int64_t t = 0; t < T; ++t) {
      // causal attention per head over positions 0..t
      Vec att(static_cast<size_t>(n_head * hd), 0.0);
      for (int64_t hh = 0; hh < n_head; ++hh) {
        const int64_t g = hh / group;
        Vec s(static_cast<size_t>(t + 1));
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j <= t; ++j) {
          s[j] = 0;
          for (int64_t e = 0; e < hd; ++e) s[j] += q[t][hh * hd + e] * k[j][g * hd + e];
          s[j] /= std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, s[j]);
        }
        for (int64_t j = 0; j <= t; ++j) sum += (s[j] = std::exp(s[j] - mx));
        for (int64_t j = 0; j <= t; ++j)
          for (int64_t e = 0; e < hd; ++e) att[hh * hd + e] += s[j] / sum * v[j][g * hd + e];
      }
      const Vec o = matvec(wo, att);
      for (int64_t i = 0; i < n_embd; ++i) x[t][i] += o[i];

      // SwiGLU feed-forward
      Vec h = x[t];
      rmsnorm(h.data(), n_embd, ffn_norm.w.data(), eps);
      Vec gate = matvec(w_gate, h);
      const Vec up = matvec(w_up, h);
      for (size_t i = 0; i < gate.size(); ++i) gate[i] = gate[i] / (1.0 + std::exp(-gate[i])) * up[i];
      const Vec down = matvec(w_down, gate);
      for (int64_t i = 0; i < n_embd; ++i) x[t][i] += down[i];
    }
  }

  std::vector<double> logits;
  logits.reserve(static_cast<size_t>(T * n_vocab));
  for (int64_t t = 0; t < T; ++t) {
    Vec h = x[t];
    rmsnorm(h.data(), n_embd, out_norm.w.data(), eps);
    const Vec z = matvec(out_w, h);
    logits.insert(logits.end(), z.begin(), z.end());
  }
  return logits;
}

}  // namespace ts::test
