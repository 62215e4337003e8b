// Loading a transformer's weights from GGUF and its forward pass, read top to bottom in the order of the reference:
// embedding → per layer [RMSNorm, q/k/v, (bias), (q/k norm), RoPE, KV-cache write, causal attention, output
// projection + residual, RMSNorm, SwiGLU, residual] → final RMSNorm → classifier. One pass (run()) evaluates one
// or more sequences: forward() is a batch of one, forward_batch() stacks several (each with its own cache) so each
// weight product runs once for all, and forward_tree() runs a batch of one with RoPE positions by tree depth and the
// tree attention mask.
#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "model/attention.h"
#include "tensor/interleave.h"
#include "tensor/k_split.h"
#include "tensor/quant.h"
#include "tensor/vec_ops.h"

namespace ts {

namespace {

std::string shape_str(const std::vector<uint64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

// Whether Model::load may rewrite its product weights into the interleaved or k-split layouts (see Loader::matrix):
// yes, unless the environment says TOKENSCOPE_INTERLEAVE=0 (for comparing with the row layout).
bool interleave_weights() {
  static const bool on = [] {
    const char* v = std::getenv("TOKENSCOPE_INTERLEAVE");
    return !(v && std::string_view(v) == "0");
  }();
  return on;
}

struct Loader {
  const gguf::File& f;
  bool interleave;  // rewrite product matrices into the interleaved layout where they can be
  bool split;       // rewrite long float product rows into the k-split layout (tensor/k_split.h)

  Expected<const gguf::TensorInfo*> get(const std::string& name, std::vector<uint64_t> shape, bool optional = false) {
    const gguf::TensorInfo* t = f.tensor(name);
    if (!t) {
      if (optional) return static_cast<const gguf::TensorInfo*>(nullptr);
      return Error::input(f.path() + ": tensor '" + name + "': missing");
    }
    if (t->dims != shape)
      return Error::input(f.path() + ": tensor '" + name + "': shape " + shape_str(t->dims) + ", expected " +
                          shape_str(shape));
    if (!traits(t->type).supported)
      return Error::input(f.path() + ": tensor '" + name + "': type " + std::string(dtype_name(t->type)) +
                          " is not supported");
    return t;
  }

  // A weight matrix; `interleave`: a product's operand only (not looked up by row), which takes the interleaved
  // layout (tensor/interleave.h) where the file's bytes are our own copy and the CPU's int16 GEMV reads it.
  Status matrix(const std::string& name, int64_t rows, int64_t cols, WeightView& out, bool optional = false,
                bool interleave = true) {
    auto t = get(name, {static_cast<uint64_t>(cols), static_cast<uint64_t>(rows)}, optional);
    if (!t) return t.error();
    if (!*t) return ok_status();
    out = WeightView{(*t)->type, (*t)->data, rows, cols, row_bytes((*t)->type, cols)};
    if (interleave && this->interleave && int16_matmul_available(out.type) && interleavable(out.type, rows, cols)) {
      const DType type = out.type;
      out.interleaved = f.rewrite_tensor(static_cast<size_t>(*t - f.tensors().data()), "interleaved16",
                                         [&](uint8_t* p, size_t) { interleave_rows(type, p, rows, cols); });
    }
    const int64_t width = interleave && split ? k_segment_for(out.type, rows, cols) : 0;
    if (width > 0) {
      const DType type = out.type;
      if (f.rewrite_tensor(static_cast<size_t>(*t - f.tensors().data()), "k-split " + std::to_string(width),
                           [&](uint8_t* p, size_t) { k_split_rows(type, p, rows, cols, width); })) {
        out.k_segment = width;
        out.row_stride = row_bytes(type, width);
      }
    }
    return ok_status();
  }

  Status vector(const std::string& name, int64_t n, std::vector<float>& out, bool optional = false) {
    auto t = get(name, {static_cast<uint64_t>(n)}, optional);
    if (!t) return t.error();
    if (!*t) return ok_status();
    out.resize(static_cast<size_t>(n));
    dequantize_row((*t)->type, (*t)->data, out.data(), n);
    return ok_status();
  }
};

// y = x / sqrt(mean(x²) + eps) ⊙ w, the mean accumulated in double.
void rms_norm(const float* x, const float* w, float* y, int64_t n, double eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * w[i];
}

// RoPE's rotation at position pos: cs[i] = cos(θ_i), cs[half + i] = sin(θ_i) with θ_i = pos · inv_freq[i] in
// double, rounded to float. One table per position serves every q and k head of every layer.
void rope_table(int64_t pos, const std::vector<float>& inv_freq, float* cs) {
  const int64_t half = static_cast<int64_t>(inv_freq.size());
  for (int64_t i = 0; i < half; ++i) {
    const double theta = static_cast<double>(pos) * inv_freq[static_cast<size_t>(i)];
    cs[i] = static_cast<float>(std::cos(theta));
    cs[half + i] = static_cast<float>(std::sin(theta));
  }
}

// Rotates the first rope_dim = 2·half dims of one head by the table of its position (rope_table).
void rope(float* v, const float* cs, int64_t half, RopeKind kind) {
  for (int64_t i = 0; i < half; ++i) {
    const float c = cs[i], s = cs[half + i];
    const int64_t a = kind == RopeKind::kNorm ? 2 * i : i;
    const int64_t b = kind == RopeKind::kNorm ? 2 * i + 1 : i + half;
    const float x0 = v[a], x1 = v[b];
    v[a] = x0 * c - x1 * s;
    v[b] = x0 * s + x1 * c;
  }
}

// rms_norm of n rows of d values (row i at x + i·d, y + i·d), rows split across the pool's threads.
void rms_norm_rows(const float* x, const float* w, float* y, int64_t n, int64_t d, double eps, ThreadPool& pool) {
  pool.parallel_for(n, 4, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) rms_norm(x + r * d, w, y + r * d, d, eps);
  });
}

// SwiGLU's gate: gate ← silu(gate) ⊙ up = g / (1 + e^−g) · up for j in [j0, j1), vectorised (vec_ops.h: each
// element's value does not depend on where the range is cut).
void swiglu_range(float* gate, const float* up, int64_t j0, int64_t j1) { silu_mul(gate + j0, up + j0, j1 - j0); }

// swiglu_range over n values split across the pool's threads (each element computed the same way by one thread).
// Chunks of 2048 values: a generated token's gate (ffn 5632) is still split between the threads, which are spinning
// from the products before it.
void swiglu(float* gate, const float* up, int64_t n, ThreadPool& pool) {
  pool.parallel_for(n, 2048, [&](int64_t j0, int64_t j1, int) { swiglu_range(gate, up, j0, j1); });
}

Status check_tokens(const ModelConfig& c, const int32_t* tokens, int64_t n, int64_t size, int64_t capacity) {
  if (size + n > capacity)
    return Error::input("context full: " + std::to_string(size + n) + " positions exceed the context of " +
                        std::to_string(capacity));
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= c.n_vocab)
      return Error::input("token id " + std::to_string(tokens[i]) + " out of range 0.." + std::to_string(c.n_vocab - 1));
  return ok_status();
}

Status check_rows(std::span<const int64_t> rows, int64_t n, const char* what) {
  for (int64_t r : rows)
    if (r < 0 || r >= n) return Error::internal(std::string(what) + ": logit row " + std::to_string(r) + " out of range");
  return ok_status();
}

std::vector<int64_t> all_rows_if_empty(std::span<const int64_t> rows, int64_t n) {
  std::vector<int64_t> out(rows.begin(), rows.end());
  if (out.empty())
    for (int64_t i = 0; i < n; ++i) out.push_back(i);
  return out;
}

// The product matmul() computes for m <= kRowwiseMaxRows activation rows, for any m: each weight row is streamed
// once and dotted (vec_dot) with every activation row while it is in cache, weight rows split across threads. The
// result of a row is the same vec_dot whatever m is. Row i of Y is written to y_row(i).
// As kRowParallelMaxM in tensor/matmul.cpp, so that a sequence alone is computed exactly as matmul() would.
constexpr int64_t kRowwiseMaxRows = 4;
static_assert(kFastMinRows == kRowwiseMaxRows, "kFast's int8 path starts where the row-wise path ends");

template <class RowOut>
void rowwise_matmul(const WeightView& W, const float* X, int64_t m, int64_t ldx, RowOut y_row, ThreadPool& pool) {
  // Blocks of kBlock weight rows (in L2 while every group of activation rows meets them); each group of up to four
  // activation rows goes through vec_dot_tile (quant.h: each weight row decoded once per group, bit-identical to
  // vec_dot) into a local buffer, since the rows' outputs need not be evenly spaced.
  constexpr int64_t kBlock = 64;
  if (W.k_segment > 0) {  // k-split rows: matmul()'s sum over segments, up to four activation rows at a time
    std::vector<float> y(static_cast<size_t>(kRowwiseMaxRows * W.rows));
    for (int64_t i0 = 0; i0 < m; i0 += kRowwiseMaxRows) {
      const int64_t rows = std::min(kRowwiseMaxRows, m - i0);
      matmul(W, X + i0 * ldx, rows, ldx, y.data(), W.rows, pool);
      for (int64_t i = 0; i < rows; ++i) std::copy_n(&y[static_cast<size_t>(i * W.rows)], W.rows, y_row(i0 + i));
    }
    return;
  }
  pool.parallel_for(W.rows, 16, [&](int64_t r0, int64_t r1, int) {
    float buf[kRowwiseMaxRows * kBlock];
    thread_local std::vector<uint8_t> scratch;  // interleaved weights: the block's rows unpacked
    for (int64_t b0 = r0; b0 < r1; b0 += kBlock) {
      const int64_t nb = std::min(kBlock, r1 - b0);
      const RowSpan w = row_span(W, b0, nb, 0, W.cols, scratch);
      for (int64_t i0 = 0; i0 < m; i0 += kRowwiseMaxRows) {
        const int64_t rows = std::min(kRowwiseMaxRows, m - i0);
        if (rows == 1) {  // straight into the row (long float rows go through the lockstep kernel, quant.h)
          vec_dot_tile(W.type, w.p, w.stride, nb, X + i0 * ldx, ldx, 1, W.cols, y_row(i0) + b0, 0);
          continue;
        }
        vec_dot_tile(W.type, w.p, w.stride, nb, X + i0 * ldx, ldx, rows, W.cols, buf, kBlock);
        for (int64_t i = 0; i < rows; ++i) std::copy(buf + i * kBlock, buf + i * kBlock + nb, y_row(i0 + i) + b0);
      }
    }
  });
}

}  // namespace

Expected<std::unique_ptr<Model>> Model::load(std::shared_ptr<const gguf::File> file, Precision precision) {
  auto cfg = read_config(*file);
  if (!cfg) return cfg.error();
  std::unique_ptr<Model> m(new Model());
  m->file_ = file;
  m->config_ = *cfg;
  const ModelConfig& c = m->config_;
  m->precision_ = precision;
  Loader L{*file, precision != Precision::kExact && interleave_weights(), interleave_weights()};
  const int64_t q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;

  if (auto s = L.matrix("token_embd.weight", c.n_vocab, c.n_embd, m->token_embd_, false, /*interleave=*/false); !s)
    return s.error();
  if (auto s = L.vector("output_norm.weight", c.n_embd, m->output_norm_); !s) return s.error();
  if (c.tied_output) {
    m->output_ = m->token_embd_;
  } else if (auto s = L.matrix("output.weight", c.n_vocab, c.n_embd, m->output_); !s) {
    return s.error();
  }
  m->layers_.resize(static_cast<size_t>(c.n_layer));
  for (int64_t l = 0; l < c.n_layer; ++l) {
    LayerWeights& w = m->layers_[static_cast<size_t>(l)];
    const std::string p = "blk." + std::to_string(l) + ".";
    for (Status s : {L.vector(p + "attn_norm.weight", c.n_embd, w.attn_norm),
                     L.matrix(p + "attn_q.weight", q_dim, c.n_embd, w.wq),
                     L.matrix(p + "attn_k.weight", kv_dim, c.n_embd, w.wk),
                     L.matrix(p + "attn_v.weight", kv_dim, c.n_embd, w.wv),
                     L.matrix(p + "attn_output.weight", c.n_embd, q_dim, w.wo),
                     L.vector(p + "ffn_norm.weight", c.n_embd, w.ffn_norm),
                     L.matrix(p + "ffn_gate.weight", c.n_ff, c.n_embd, w.w_gate),
                     L.matrix(p + "ffn_up.weight", c.n_ff, c.n_embd, w.w_up),
                     L.matrix(p + "ffn_down.weight", c.n_embd, c.n_ff, w.w_down),
                     L.vector(p + "attn_q.bias", q_dim, w.bq, !c.qkv_bias),
                     L.vector(p + "attn_k.bias", kv_dim, w.bk, !c.qkv_bias),
                     L.vector(p + "attn_v.bias", kv_dim, w.bv, !c.qkv_bias),
                     L.vector(p + "attn_q_norm.weight", c.head_dim, w.q_norm, !c.qk_norm),
                     L.vector(p + "attn_k_norm.weight", c.head_dim, w.k_norm, !c.qk_norm)}) {
      if (!s) return s.error();
    }
  }
  const int64_t half = c.rope_dim / 2;
  m->rope_inv_freq_.resize(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i)
    m->rope_inv_freq_[static_cast<size_t>(i)] = static_cast<float>(
        c.rope_freq_scale * std::pow(c.rope_base, -2.0 * static_cast<double>(i) / static_cast<double>(c.rope_dim)));
  return m;
}

Status Model::forward(const int32_t* tokens, int64_t n, KVCache& cache, float* logits, ThreadPool& pool,
                      const std::vector<int64_t>& logit_rows) const {
  const SeqBatch one{tokens, n, &cache, logits, logit_rows};
  return forward_batch(std::span<const SeqBatch>(&one, 1), pool);
}

Status Model::forward_batch(std::span<const SeqBatch> seqs, ThreadPool& pool) const {
  std::vector<SeqRun> runs;
  runs.reserve(seqs.size());
  for (const SeqBatch& s : seqs) {
    if (s.n <= 0) continue;
    if (!s.cache) return Error::internal("forward_batch: a sequence without a cache");
    if (auto st = check_tokens(config_, s.tokens, s.n, s.cache->size(), s.cache->capacity()); !st) return st;
    if (auto st = check_rows(s.logit_rows, s.n, "forward"); !st) return st;
    for (const SeqRun& r : runs)
      if (r.cache == s.cache) return Error::internal("forward_batch: two sequences share one cache");
    SeqRun r{s.tokens, s.n, s.cache, s.logits, {}, nullptr, nullptr};
    if (s.logits) r.rows = all_rows_if_empty(s.logit_rows, s.n);
    runs.push_back(std::move(r));
  }
  if (!runs.empty()) run(runs, pool);
  return ok_status();
}

Status Model::forward_tree(const int32_t* tokens, const int32_t* parents, int64_t n, KVCache& cache, float* logits,
                           ThreadPool& pool, const std::vector<int64_t>& logit_rows, int64_t n_old) const {
  const ModelConfig& c = config_;
  if (n <= 0) return ok_status();
  if (n_old < 0 || n_old > cache.size())
    return Error::internal("forward_tree: " + std::to_string(n_old) + " earlier tree nodes, but the cache holds " +
                           std::to_string(cache.size()) + " positions");
  const int64_t start = cache.size() - n_old, total = n_old + n;
  if (auto st = check_tokens(c, tokens, n, cache.size(), cache.capacity()); !st) return st;
  for (int64_t i = 0; i < total; ++i)
    if (parents[i] < -1 || parents[i] >= i)
      return Error::internal("forward_tree: node " + std::to_string(i) + " has parent " + std::to_string(parents[i]) +
                             ", not in -1.." + std::to_string(i - 1));
  if (auto st = check_rows(logit_rows, n, "forward_tree"); !st) return st;

  // depth by parent (parents come first); each new node sees its ancestors' slots and its own
  std::vector<int64_t> depth(static_cast<size_t>(total)), positions(static_cast<size_t>(n));
  std::vector<uint8_t> visible(static_cast<size_t>(n * total), 0);
  for (int64_t i = 0; i < total; ++i) depth[i] = parents[i] < 0 ? 0 : depth[parents[i]] + 1;
  for (int64_t j = 0; j < n; ++j) {
    positions[j] = start + depth[n_old + j];
    uint8_t* row = &visible[static_cast<size_t>(j * total)];
    for (int64_t a = n_old + j; a >= 0; a = parents[a]) row[a] = 1;
  }
  const TreeMask mask{visible.data(), start, total};
  const SeqRun one{tokens, n, &cache, logits, all_rows_if_empty(logit_rows, n), positions.data(), &mask};
  run(std::span<const SeqRun>(&one, 1), pool);
  return ok_status();
}

// The pass over a batch of sequences. Their rows are stacked into one activation matrix, the sequences of at most
// kRowwiseMaxRows rows first, and every weight product runs once per group: rowwise_matmul over the rows of those
// short sequences, matmul() (the GEMM, or int8 with kFast) over the rest. Those are the kernels a forward() of each
// sequence alone picks (matmul() chooses by the row count), and both compute an output element from its own
// activation row only, in a fixed order, so a sequence's numbers do not depend on its batch. The classifier groups
// the sequences again, by their number of logit rows. With kInt16 (the default) and a weight type it covers, one
// matmul() takes all the rows: its GEMV (few rows) and GEMM give an output element the same bits. RoPE, the KV write
// and attention run per sequence.
void Model::run(std::span<const SeqRun> seqs, ThreadPool& pool) const {
  const ModelConfig& c = config_;
  const int64_t d = c.n_embd, hd = c.head_dim, q_dim = c.n_head * hd, kv_dim = c.n_head_kv * hd, ff = c.n_ff;
  const int64_t V = c.n_vocab;
  const size_t S = seqs.size();
  auto short_first = [&](auto count) {
    std::vector<size_t> order(S);
    for (size_t i = 0; i < S; ++i) order[i] = i;
    std::stable_partition(order.begin(), order.end(), [&](size_t i) { return count(seqs[i]) <= kRowwiseMaxRows; });
    return order;
  };

  // off[s]: the first row of seqs[s] in the stacked matrix; rows [0, n_short) belong to the short sequences.
  std::vector<int64_t> off(S);
  int64_t N = 0, n_short = 0;
  for (size_t s : short_first([](const SeqRun& r) { return r.n; })) {
    off[s] = N;
    N += seqs[s].n;
    if (seqs[s].n <= kRowwiseMaxRows) n_short = N;
  }
  const size_t R = static_cast<size_t>(N);
  std::vector<float> x(R * d), xn(R * d), q(R * q_dim), k(R * kv_dim), v(R * kv_dim), att(R * q_dim);
  std::vector<float> gate(R * ff), up(R * ff), tmp(R * d);
  // kInt16's kernels (matmul_int16.h) give an output element the same value whatever the row count (its GEMV for
  // few rows is bit-identical to its GEMM), so where they run the stacked rows need no grouping.
  auto int16_all_rows = [&](DType t) { return precision_ == Precision::kInt16 && int16_matmul_available(t); };
  // The rows of short sequences (at most kRowwiseMaxRows each): kFast runs them through kInt16's kernels, as
  // matmul(kFast) does for a sequence alone (a row's output does not depend on the rows beside it), else row-wise.
  auto short_rows = [&](const WeightView& W, const float* X, int64_t m, int64_t ldx, auto y_row) {
    if (precision_ == Precision::kFast && int16_matmul_available(W.type)) {
      if (m == 1) {
        matmul_int16(W, X, 1, ldx, y_row(0), W.rows, pool);
        return;
      }
      std::vector<float> y(static_cast<size_t>(m * W.rows));  // the rows' outputs need not be evenly spaced
      matmul_int16(W, X, m, ldx, y.data(), W.rows, pool);
      for (int64_t i = 0; i < m; ++i) std::copy_n(&y[static_cast<size_t>(i * W.rows)], W.rows, y_row(i));
      return;
    }
    rowwise_matmul(W, X, m, ldx, y_row, pool);
  };
  // Y (N rows, stride ldy) = X (N rows, stride ldx) · Wᵀ, each group by its kernel as above.
  auto product = [&](const WeightView& W, const float* X, int64_t ldx, float* Y, int64_t ldy,
                     int act_block = kFastBlock) {
    if (int16_all_rows(W.type)) {  // one kernel for every m: the whole stack at once
      matmul(W, X, N, ldx, Y, ldy, pool, precision_, act_block);
      return;
    }
    if (n_short > 0) short_rows(W, X, n_short, ldx, [&](int64_t i) { return Y + i * ldy; });
    if (N > n_short)
      matmul(W, X + n_short * ldx, N - n_short, ldx, Y + n_short * ldy, ldy, pool, precision_, act_block);
  };

  // token_embd row lookup
  for (size_t s = 0; s < S; ++s)
    for (int64_t i = 0; i < seqs[s].n; ++i)
      dequantize_row(token_embd_.type, token_embd_.row(seqs[s].tokens[i]), &x[(off[s] + i) * d], d);

  // RoPE's cos/sin per row (its position is the same in every layer: the caches grow after the last one)
  const int64_t rope_half = static_cast<int64_t>(rope_inv_freq_.size());
  std::vector<float> rope_cs(R * 2 * static_cast<size_t>(rope_half));
  for (size_t s = 0; s < S; ++s)
    for (int64_t i = 0; i < seqs[s].n; ++i) {
      const int64_t pos = seqs[s].positions ? seqs[s].positions[i] : seqs[s].cache->size() + i;
      rope_table(pos, rope_inv_freq_, &rope_cs[static_cast<size_t>((off[s] + i) * 2 * rope_half)]);
    }

  // With kInt16 and the rows its GEMV takes (up to 32: short prompts, speculative verification), or kFast and at
  // most kRowwiseMaxRows rows (above them kFast is int8), q, k and v (and gate and up, with SwiGLU) go through the
  // int16 GEMV in one pass each (matmul_int16_group: the same bits as one product at a time); it declines, and the
  // products run one at a time, where that GEMV does not apply (a weight type without it, too many rows).
  const bool grouped =
      precision_ == Precision::kInt16 || (precision_ == Precision::kFast && N <= kRowwiseMaxRows);

  for (int64_t l = 0; l < c.n_layer; ++l) {
    const LayerWeights& w = layers_[static_cast<size_t>(l)];
    // attention block
    rms_norm_rows(x.data(), w.attn_norm.data(), xn.data(), N, d, c.rms_eps, pool);
    const GroupProduct qkv[] = {{w.wq, xn.data(), d, q.data(), q_dim},
                                {w.wk, xn.data(), d, k.data(), kv_dim},
                                {w.wv, xn.data(), d, v.data(), kv_dim}};
    if (!grouped || !matmul_int16_group(qkv, N, pool, /*aligned=*/false))
      for (const GroupProduct& p : qkv) product(p.W, p.X, p.ldx, p.Y, p.ldy);
    for (size_t s = 0; s < S; ++s) {
      const SeqRun& sq = seqs[s];
      KVCache& cache = *sq.cache;
      const int64_t pos0 = cache.size();
      for (int64_t i = 0; i < sq.n; ++i) {
        float* qi = &q[(off[s] + i) * q_dim];
        float* ki = &k[(off[s] + i) * kv_dim];
        float* vi = &v[(off[s] + i) * kv_dim];
        if (!w.bq.empty()) {
          for (int64_t j = 0; j < q_dim; ++j) qi[j] += w.bq[j];
          for (int64_t j = 0; j < kv_dim; ++j) ki[j] += w.bk[j], vi[j] += w.bv[j];
        }
        const float* cs = &rope_cs[static_cast<size_t>((off[s] + i) * 2 * rope_half)];
        for (int64_t h = 0; h < c.n_head; ++h) {
          if (!w.q_norm.empty()) rms_norm(qi + h * hd, w.q_norm.data(), qi + h * hd, hd, c.rms_eps);
          rope(qi + h * hd, cs, rope_half, c.rope);
        }
        for (int64_t h = 0; h < c.n_head_kv; ++h) {
          if (!w.k_norm.empty()) rms_norm(ki + h * hd, w.k_norm.data(), ki + h * hd, hd, c.rms_eps);
          rope(ki + h * hd, cs, rope_half, c.rope);
        }
        cache.store(l, pos0 + i, ki, vi);
      }
      causal_attention(c, cache, l, &q[off[s] * q_dim], sq.n, pos0, &att[off[s] * q_dim], pool, sq.tree);
    }
    product(w.wo, att.data(), q_dim, tmp.data(), d);
    for (size_t j = 0; j < R * d; ++j) x[j] += tmp[j];

    // feed-forward block: SwiGLU
    rms_norm_rows(x.data(), w.ffn_norm.data(), xn.data(), N, d, c.rms_eps, pool);
    const GroupProduct gate_up[] = {{w.w_gate, xn.data(), d, gate.data(), ff}, {w.w_up, xn.data(), d, up.data(), ff}};
    auto swiglu_rows = [&](int64_t r0, int64_t r1) {  // rows r0..r1 of gate and up are done for every sequence
      for (int64_t i = 0; i < N; ++i) swiglu_range(&gate[i * ff], &up[i * ff], r0, r1);
    };
    if (!grouped || !matmul_int16_group(gate_up, N, pool, /*aligned=*/true, swiglu_rows)) {
      product(w.w_gate, xn.data(), d, gate.data(), ff);
      product(w.w_up, xn.data(), d, up.data(), ff);
      swiglu(gate.data(), up.data(), N * ff, pool);
    }
    // The SwiGLU product carries outlier channels, and an outlier's int8 scale flattens the rest of its block:
    // --fast quantizes this input in blocks of 16, not 32 (on the fixture model that alone cuts the mean
    // |Δlogprob| against the exact forward by about 14%, for Q8_0 and Q4_K_M alike).
    product(w.w_down, gate.data(), ff, tmp.data(), d, kFastFineBlock);
    for (size_t j = 0; j < R * d; ++j) x[j] += tmp[j];
  }
  for (const SeqRun& sq : seqs) sq.cache->set_size(sq.cache->size() + sq.n);

  // final norm and classifier, only for the rows asked for: the rows of sequences with few of them go through
  // rowwise_matmul together, each other sequence's through its own matmul() (written straight to its logits)
  std::vector<float*> dst;  // where each normed row's logits go
  int64_t L = 0, l_short = 0;
  for (size_t s : short_first([](const SeqRun& r) { return r.logits ? static_cast<int64_t>(r.rows.size()) : 0; })) {
    const SeqRun& sq = seqs[s];
    if (!sq.logits || sq.rows.empty()) continue;
    const int64_t first = L;
    for (size_t r = 0; r < sq.rows.size(); ++r, ++L) {
      rms_norm(&x[(off[s] + sq.rows[r]) * d], output_norm_.data(), &xn[L * d], d, c.rms_eps);
      dst.push_back(sq.logits + static_cast<int64_t>(r) * V);
    }
    if (static_cast<int64_t>(sq.rows.size()) <= kRowwiseMaxRows) {
      l_short = L;
    } else {
      matmul(output_, &xn[first * d], L - first, d, sq.logits, V, pool, precision_);
    }
  }
  if (l_short > 0 && int16_all_rows(output_.type)) {
    std::vector<float> lg(static_cast<size_t>(l_short * V));
    matmul(output_, xn.data(), l_short, d, lg.data(), V, pool, precision_);
    for (int64_t i = 0; i < l_short; ++i) std::copy_n(&lg[static_cast<size_t>(i * V)], V, dst[i]);
  } else if (l_short > 0) {
    short_rows(output_, xn.data(), l_short, d, [&](int64_t i) { return dst[i]; });
  }
}


}  // namespace ts
