// Model::forward against the float64 reference (reference_forward.h) on tiny random models written with
// gguf::Writer: each architecture feature (tied output, GQA/MQA, qwen2 biases, qwen3 q/k norms and head_dim ≠
// n_embd/n_head, linear rope scaling, partial rotary, every stored weight type) gets a case.
//
// Each case evaluates 12 tokens (one case 80) three ways — in one call, in chunks 5 + 1 + 6 through one KVCache, and
// in one call asking only for logit rows {n-1, 0} — and compares every logit with the reference:
//   max |Δ| ≤ 1e-4 · max|logit| + 1e-4.
// The engine runs in fp32 (weights exact, activations and sums fp32); on these sizes its deviation from float64 is
// ~1e-6 of the logits' scale, so the bound has ~100× margin yet is far below the effect of any real mistake (a wrong
// rope pairing, a missing bias, a wrong KV head) which moves logits by ~1e-1. One negative case checks that.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/reference_forward.h"
#include "tensor/quant.h"

namespace ts {
namespace {

using test::RefRope;

struct Spec {
  std::string arch = "llama";
  int64_t n_embd = 64, n_layer = 2, n_head = 4, n_head_kv = 2, head_dim = 16, n_ff = 96, n_vocab = 50;
  int64_t rope_dim = 0;        // 0: no rope.dimension_count key (= head_dim)
  double rope_base = 10000.0;
  double linear_factor = 0;    // > 0: rope.scaling.type "linear" with this factor
  bool tied = false;           // no output.weight
  std::vector<DType> types = {DType::F32};  // cycled over the matrices in write order
  uint32_t seed = 1;
};

// Uniform in [lo, hi) from a fully specified generator, so the weights are the same on every platform.
struct Rng {
  std::mt19937 gen;
  double uniform(double lo, double hi) { return lo + (hi - lo) * static_cast<double>(gen() >> 8) * 0x1p-24; }
};

class Builder {
 public:
  explicit Builder(const Spec& s) : s_(s), rng_{std::mt19937(s.seed)} {}

  std::string build() {
    const std::string p = s_.arch + ".";
    w_.add_string("general.architecture", s_.arch);
    w_.add_u32(p + "context_length", 64);
    w_.add_u32(p + "embedding_length", static_cast<uint32_t>(s_.n_embd));
    w_.add_u32(p + "block_count", static_cast<uint32_t>(s_.n_layer));
    w_.add_u32(p + "feed_forward_length", static_cast<uint32_t>(s_.n_ff));
    w_.add_u32(p + "attention.head_count", static_cast<uint32_t>(s_.n_head));
    w_.add_u32(p + "attention.head_count_kv", static_cast<uint32_t>(s_.n_head_kv));
    if (s_.head_dim * s_.n_head != s_.n_embd) {
      w_.add_u32(p + "attention.key_length", static_cast<uint32_t>(s_.head_dim));
      w_.add_u32(p + "attention.value_length", static_cast<uint32_t>(s_.head_dim));
    }
    w_.add_f32(p + "attention.layer_norm_rms_epsilon", 1e-5f);
    w_.add_f32(p + "rope.freq_base", static_cast<float>(s_.rope_base));
    if (s_.rope_dim) w_.add_u32(p + "rope.dimension_count", static_cast<uint32_t>(s_.rope_dim));
    if (s_.linear_factor > 0) {
      w_.add_string(p + "rope.scaling.type", "linear");
      w_.add_f32(p + "rope.scaling.factor", static_cast<float>(s_.linear_factor));
    }
    const int64_t d = s_.n_embd, q_dim = s_.n_head * s_.head_dim, kv_dim = s_.n_head_kv * s_.head_dim;
    matrix("token_embd.weight", s_.n_vocab, d, 1.0);
    vector("output_norm.weight", d, 0.8, 1.2);
    if (!s_.tied) matrix("output.weight", s_.n_vocab, d, 2.0 * std::sqrt(3.0 / d));
    for (int64_t l = 0; l < s_.n_layer; ++l) {
      const std::string b = "blk." + std::to_string(l) + ".";
      vector(b + "attn_norm.weight", d, 0.8, 1.2);
      // q and k a little larger than unit gain so that attention is far from uniform
      matrix(b + "attn_q.weight", q_dim, d, 1.5 * std::sqrt(3.0 / d));
      matrix(b + "attn_k.weight", kv_dim, d, 1.5 * std::sqrt(3.0 / d));
      matrix(b + "attn_v.weight", kv_dim, d, std::sqrt(3.0 / d));
      if (s_.arch == "qwen2") {
        vector(b + "attn_q.bias", q_dim, -0.5, 0.5);
        vector(b + "attn_k.bias", kv_dim, -0.5, 0.5);
        vector(b + "attn_v.bias", kv_dim, -0.5, 0.5);
      }
      if (s_.arch == "qwen3") {
        vector(b + "attn_q_norm.weight", s_.head_dim, 0.5, 1.5);
        vector(b + "attn_k_norm.weight", s_.head_dim, 0.5, 1.5);
      }
      matrix(b + "attn_output.weight", d, q_dim, std::sqrt(3.0 / q_dim));
      vector(b + "ffn_norm.weight", d, 0.8, 1.2);
      matrix(b + "ffn_gate.weight", s_.n_ff, d, std::sqrt(3.0 / d));
      matrix(b + "ffn_up.weight", s_.n_ff, d, std::sqrt(3.0 / d));
      matrix(b + "ffn_down.weight", d, s_.n_ff, std::sqrt(3.0 / s_.n_ff));
    }
    EXPECT_TRUE(w_.validate().ok());
    return w_.to_bytes();
  }

 private:
  // rows × cols uniform in [-a, a), stored as the next type of the cycle (GGUF dims {cols, rows}).
  void matrix(const std::string& name, int64_t rows, int64_t cols, double a) {
    const DType t = s_.types[next_type_++ % s_.types.size()];
    std::vector<float> src(static_cast<size_t>(cols));
    const size_t rb = row_bytes(t, cols);
    std::string data(rb * static_cast<size_t>(rows), '\0');
    for (int64_t r = 0; r < rows; ++r) {
      for (float& x : src) x = static_cast<float>(rng_.uniform(-a, a));
      EXPECT_TRUE(quantize_row(t, src.data(), data.data() + r * rb, cols)) << name << " " << dtype_name(t);
    }
    w_.add_tensor(name, t, {static_cast<uint64_t>(cols), static_cast<uint64_t>(rows)}, std::move(data));
  }
  // Norm weights and biases stay F32, as llama.cpp's converter keeps them.
  void vector(const std::string& name, int64_t n, double lo, double hi) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = static_cast<float>(rng_.uniform(lo, hi));
    w_.add_tensor(name, DType::F32, {static_cast<uint64_t>(n)},
                  std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
  }

  Spec s_;
  Rng rng_;
  gguf::Writer w_;
  size_t next_type_ = 0;
};

// file: the model's (which Model::load may rewrite into its own layouts); ref_file: the same bytes, untouched, for
// the reference.
struct Loaded {
  std::shared_ptr<const gguf::File> file, ref_file;
  std::unique_ptr<Model> model;
};

Loaded load(const Spec& s) {
  const std::string bytes = Builder(s).build();
  auto f = gguf::File::from_bytes(bytes, s.arch + "-case.gguf");
  auto r = gguf::File::from_bytes(bytes, s.arch + "-reference.gguf");
  EXPECT_TRUE(f.ok() && r.ok()) << (f.ok() ? "" : f.error().message);
  if (!f.ok() || !r.ok()) return {};
  Loaded out{std::make_shared<const gguf::File>(std::move(*f)), std::make_shared<const gguf::File>(std::move(*r)),
             nullptr};
  auto m = Model::load(out.file);
  EXPECT_TRUE(m.ok()) << m.error().message;
  if (m.ok()) out.model = std::move(*m);
  // The float64 reference checks the exact fp32 path (the bound above is fp32's); the default kInt16 rounds the
  // activations to 16 bits (golden_int16_test and tensor/matmul_int16_test cover it).
  if (out.model) out.model->set_precision(Precision::kExact);
  return out;
}

std::vector<int32_t> tokens_for(int64_t n_vocab, int64_t n = 12) {
  std::vector<int32_t> t;
  for (int64_t i = 0; i < n; ++i) t.push_back(static_cast<int32_t>((i * 17 + 3) % n_vocab));
  t[7] = t[2];  // a repeated token, so two positions differ only by rope
  return t;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

double tolerance(const std::vector<double>& ref) { return 1e-4 * max_abs(ref) + 1e-4; }

// Max |Δ| between got rows (row r of got = reference row rows[r]) and the reference.
double deviation(const std::vector<float>& got, const std::vector<double>& ref, const std::vector<int64_t>& rows,
                 int64_t V) {
  double worst = 0;
  for (size_t r = 0; r < rows.size(); ++r)
    for (int64_t j = 0; j < V; ++j)
      worst = std::max(worst, std::fabs(double(got[r * V + j]) - ref[rows[r] * V + j]));
  return worst;
}

// Runs the three evaluations of the header comment and checks each against the reference.
void expect_matches_reference(const Spec& s, const char* label, int64_t n_tokens = 12,
                              const std::vector<int64_t>& chunks = {5, 1, 6}) {
  SCOPED_TRACE(label);
  Loaded m = load(s);
  ASSERT_TRUE(m.model);
  const std::vector<int32_t> ids = tokens_for(s.n_vocab, n_tokens);
  const int64_t n = static_cast<int64_t>(ids.size()), V = m.model->config().n_vocab;
  ASSERT_EQ(V, s.n_vocab);
  const std::vector<double> ref = test::reference_forward(*m.ref_file, ids);
  ASSERT_EQ(ref.size(), static_cast<size_t>(n * V));
  const double tol = tolerance(ref);
  ThreadPool pool(2);
  std::vector<int64_t> all(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) all[i] = i;

  // one call
  KVCache cache(m.model->config(), n);
  std::vector<float> logits(static_cast<size_t>(n * V));
  ASSERT_TRUE(m.model->forward(ids.data(), n, cache, logits.data(), pool).ok());
  const double dev_full = deviation(logits, ref, all, V);
  EXPECT_LE(dev_full, tol) << "single call";
  EXPECT_EQ(cache.size(), n);

  // chunks (5 + 1 + 6) through one cache with room to spare (its stride is the capacity, not n)
  KVCache chunked(m.model->config(), n + 9);
  std::vector<float> chunk_logits(static_cast<size_t>(n * V));
  int64_t at = 0;
  for (int64_t len : chunks) {
    ASSERT_TRUE(m.model->forward(ids.data() + at, len, chunked, chunk_logits.data() + at * V, pool).ok());
    at += len;
    EXPECT_EQ(chunked.size(), at);
  }
  const double dev_chunks = deviation(chunk_logits, ref, all, V);
  EXPECT_EQ(at, n) << "chunks must cover the sequence";
  EXPECT_LE(dev_chunks, tol) << "chunks";

  // selected rows, out of order
  KVCache sel_cache(m.model->config(), n);
  const std::vector<int64_t> rows = {n - 1, 0};
  std::vector<float> sel(rows.size() * static_cast<size_t>(V));
  ASSERT_TRUE(m.model->forward(ids.data(), n, sel_cache, sel.data(), pool, rows).ok());
  const double dev_rows = deviation(sel, ref, rows, V);
  EXPECT_LE(dev_rows, tol) << "logit rows {n-1, 0}";

  std::printf("  %-30s max|logit| %6.3f  max|dev| single %.2e chunks %.2e rows %.2e  (tol %.2e)\n", label,
              max_abs(ref), dev_full, dev_chunks, dev_rows, tol);
}

TEST(ForwardReference, LlamaUntiedGqaMatches) {
  expect_matches_reference(Spec{}, "llama untied GQA 4/2");
}

TEST(ForwardReference, LlamaTiedOutputMatches) {
  Spec s;
  s.tied = true;
  s.seed = 2;
  expect_matches_reference(s, "llama tied output");
}

TEST(ForwardReference, LlamaMultiQueryMatches) {
  Spec s;
  s.n_head_kv = 1;
  s.seed = 3;
  expect_matches_reference(s, "llama MQA 4/1");
}

TEST(ForwardReference, Qwen2WithBiasesMatches) {
  Spec s;
  s.arch = "qwen2";
  s.seed = 4;
  expect_matches_reference(s, "qwen2 biases");
}

TEST(ForwardReference, Qwen3WithQkNormAndWideHeadsMatches) {
  Spec s;
  s.arch = "qwen3";
  s.n_head = 8;  // q_dim 128 != n_embd 64, as in real Qwen3 models
  s.tied = true;
  s.seed = 5;
  expect_matches_reference(s, "qwen3 qk-norm, q_dim 128");
}

TEST(ForwardReference, LlamaLinearRopeScalingAndLargeBaseMatches) {
  Spec s;
  s.rope_base = 500000.0;
  s.linear_factor = 2.0;
  s.seed = 6;
  expect_matches_reference(s, "llama linear x2, base 5e5");
}

TEST(ForwardReference, LlamaPartialRotaryMatches) {
  Spec s;
  s.rope_dim = 8;
  s.seed = 7;
  expect_matches_reference(s, "llama partial rotary 8/16");
}

TEST(ForwardReference, Qwen2PartialRotaryMatches) {
  Spec s;
  s.arch = "qwen2";
  s.rope_dim = 8;
  s.seed = 8;
  expect_matches_reference(s, "qwen2 partial rotary 8/16");
}

TEST(ForwardReference, MixedLegacyWeightTypesMatch) {
  Spec s;
  s.types = {DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q5_1, DType::Q4_1, DType::Q5_0, DType::F32};
  s.seed = 9;
  expect_matches_reference(s, "mixed F16/BF16/Q8_0/Q4_x/Q5_x");
}

TEST(ForwardReference, MixedKQuantWeightTypesMatch) {
  Spec s;
  s.n_embd = 256, s.head_dim = 64, s.n_ff = 256;  // K-quant rows are multiples of 256
  s.types = {DType::Q4_K, DType::Q6_K, DType::Q2_K, DType::Q3_K, DType::Q5_K};
  s.seed = 10;
  expect_matches_reference(s, "mixed Q2_K..Q6_K, n_embd 256");
}

// Down projections with rows too long for L1 (n_ff 4864) are stored k-split when the model owns its bytes
// (tensor/k_split.h): generation's one-row products then add per-segment dot products, the GEMM reads the segments.
TEST(ForwardReference, KSplitFloatRowsMatch) {
  for (DType t : {DType::F16, DType::BF16, DType::F32}) {
    Spec s;
    s.n_ff = 4864;
    s.types = {t};
    s.seed = 12;
    const std::string label = std::string("k-split down projection ") + std::string(dtype_name(t));
    {
      Loaded m = load(s);
      ASSERT_TRUE(m.model);
      const gguf::TensorInfo* down = m.file->tensor("blk.0.ffn_down.weight");
      ASSERT_NE(down, nullptr);
      EXPECT_EQ(m.file->tensor_form(static_cast<size_t>(down - m.file->tensors().data())).rfind("k-split", 0), 0u)
          << label << ": the down projection was not split";
    }
    expect_matches_reference(s, label.c_str());
  }
}

// 80 positions: more than one 64-query attention block, with chunk borders inside blocks.
TEST(ForwardReference, LongerSequenceAcrossAttentionBlocksMatches) {
  Spec s;
  s.arch = "qwen2";
  s.seed = 11;
  expect_matches_reference(s, "qwen2, 80 tokens 37+1+42", 80, {37, 1, 42});
}

// The reference's own llama semantics: NORM on GGUF rows equals HF's rotate_half on the un-permuted rows.
TEST(ForwardReference, LlamaNormOnGgufRowsEqualsHfRotateHalf) {
  Loaded m = load(Spec{});
  ASSERT_TRUE(m.file);
  const std::vector<int32_t> ids = tokens_for(50);
  const auto norm = test::reference_forward(*m.ref_file, ids, RefRope::kArch);
  const auto hf = test::reference_forward(*m.ref_file, ids, RefRope::kHfLayout);
  ASSERT_EQ(norm.size(), hf.size());
  double worst = 0;
  for (size_t i = 0; i < norm.size(); ++i) worst = std::max(worst, std::fabs(norm[i] - hf[i]));
  EXPECT_LE(worst, 1e-12 * max_abs(norm));
}

// Sensitivity: a reference that rotated llama's GGUF Q/K as NEOX pairs would not match the engine.
TEST(ForwardReference, LlamaWithNeoxRopeDoesNotMatch) {
  Loaded m = load(Spec{});
  ASSERT_TRUE(m.model);
  const std::vector<int32_t> ids = tokens_for(50);
  const int64_t n = static_cast<int64_t>(ids.size()), V = 50;
  const auto wrong = test::reference_forward(*m.ref_file, ids, RefRope::kNeox);
  KVCache cache(m.model->config(), n);
  ThreadPool pool(1);
  std::vector<float> logits(static_cast<size_t>(n * V));
  ASSERT_TRUE(m.model->forward(ids.data(), n, cache, logits.data(), pool).ok());
  // position 0 is not rotated, so only later rows can tell the two apart
  const double dev0 = deviation(logits, wrong, {0}, V);
  std::vector<int64_t> later;
  for (int64_t i = 1; i < n; ++i) later.push_back(i);
  const double dev_later = deviation(logits, wrong, later, V);
  std::printf("  llama vs NEOX reference: row 0 %.2e, rows 1.. %.2e (tol %.2e)\n", dev0, dev_later,
              tolerance(wrong));
  EXPECT_LE(dev0, tolerance(wrong));
  EXPECT_GT(dev_later, 100 * tolerance(wrong));
}

}  // namespace
}  // namespace ts
