// A position's numbers do not depend on how many positions a call evaluates.
//
// causal_attention computes both of its products with matmul_ordered (one fp32 summation order at every row count)
// and everything else per query row, so n queries in one call, one query per call (pos0 advancing over the same
// cache) and uneven chunks give the same bits, on every ISA, for any thread count (which changes how query heads
// are stacked into work items), with or without a tree mask. At model level, with Precision::kInt16 every weight
// product is row-count independent too (matmul_int16.h), so a fixture model's logits at every position are the
// same bits whether the sequence is fed at once, token by token or in chunks of 5. kExact's weight products take
// vec_dot for up to 4 rows and the GEMM above, so for it the difference is only reported.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "fixtures.h"
#include "gguf/gguf.h"
#include "isa_support.h"
#include "model_support.h"
#include "model/attention.h"
#include "model/model.h"
#include "tensor/cpu.h"
#include "tensor/matmul.h"

namespace ts {
namespace {

using test::available_isas;
using test::IsaCapGuard;
ModelConfig attention_config(int64_t n_head, int64_t n_head_kv, int64_t hd) {
  ModelConfig c;
  c.n_layer = 1;
  c.n_head = n_head;
  c.n_head_kv = n_head_kv;
  c.head_dim = hd;
  c.n_embd = n_head * hd;
  return c;
}

// A cache of `n` random keys and values, and n random (already rotated) queries.
struct AttentionInputs {
  KVCache cache;
  std::vector<float> q;
};

AttentionInputs random_inputs(const ModelConfig& c, int64_t n, uint32_t seed) {
  AttentionInputs in{KVCache(c, n), {}};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const int64_t kv_dim = c.n_head_kv * c.head_dim;
  std::vector<float> k(static_cast<size_t>(kv_dim)), v(k.size());
  for (int64_t p = 0; p < n; ++p) {
    for (int64_t j = 0; j < kv_dim; ++j) k[static_cast<size_t>(j)] = 2.0f * u(rng), v[static_cast<size_t>(j)] = u(rng);
    in.cache.store(0, p, k.data(), v.data());
  }
  in.cache.set_size(n);
  in.q.resize(static_cast<size_t>(n * c.n_head * c.head_dim));
  for (float& x : in.q) x = 2.0f * u(rng);
  return in;
}

// Queries first..first+n−1 (cache slots pos0 + ...) written to their rows of `out`, in calls of the given sizes.
void attend_in_chunks(const ModelConfig& c, const AttentionInputs& in, int64_t pos0, int64_t n,
                      const std::vector<int64_t>& sizes, const std::vector<uint8_t>* visible, float* out,
                      ThreadPool& pool) {
  const int64_t q_dim = c.n_head * c.head_dim;
  size_t next = 0;
  for (int64_t i0 = 0; i0 < n;) {
    const int64_t len = std::min(n - i0, sizes[next++ % sizes.size()]);
    if (visible) {
      const TreeMask mask{visible->data() + i0 * n, pos0, n};  // the rows of this chunk's nodes
      causal_attention(c, in.cache, 0, &in.q[static_cast<size_t>(i0 * q_dim)], len, pos0 + i0,
                       out + i0 * q_dim, pool, &mask);
    } else {
      causal_attention(c, in.cache, 0, &in.q[static_cast<size_t>(i0 * q_dim)], len, pos0 + i0, out + i0 * q_dim,
                       pool);
    }
    i0 += len;
  }
}

// Double-precision attention of query row i at cache slot pos (keys at slots where `sees` is true).
template <class Sees>
std::vector<double> attention_ref(const ModelConfig& c, const AttentionInputs& in, int64_t i, int64_t pos, Sees sees) {
  const int64_t hd = c.head_dim, group = c.n_head / c.n_head_kv;
  std::vector<double> out(static_cast<size_t>(c.n_head * hd), 0.0);
  for (int64_t h = 0; h < c.n_head; ++h) {
    const float* qh = &in.q[static_cast<size_t>((i * c.n_head + h) * hd)];
    const int64_t kvh = h / group;
    std::vector<double> w(static_cast<size_t>(pos + 1), 0.0);
    double mx = -INFINITY, sum = 0.0;
    for (int64_t j = 0; j <= pos; ++j) {
      if (!sees(j)) continue;
      double s = 0.0;
      for (int64_t e = 0; e < hd; ++e) s += static_cast<double>(qh[e]) * in.cache.key(0, j, kvh * hd + e);
      w[static_cast<size_t>(j)] = s / std::sqrt(static_cast<double>(hd));
      mx = std::max(mx, w[static_cast<size_t>(j)]);
    }
    for (int64_t j = 0; j <= pos; ++j) {
      w[static_cast<size_t>(j)] = sees(j) ? std::exp(w[static_cast<size_t>(j)] - mx) : 0.0;
      sum += w[static_cast<size_t>(j)];
    }
    for (int64_t e = 0; e < hd; ++e) {
      double o = 0.0;
      for (int64_t j = 0; j <= pos; ++j) o += w[static_cast<size_t>(j)] * in.cache.value(0, j, kvh * hd + e);
      out[static_cast<size_t>(h * hd + e)] = o / sum;
    }
  }
  return out;
}

void expect_close_to_ref(const float* got, const std::vector<double>& want, const std::string& what) {
  for (size_t e = 0; e < want.size(); ++e)
    ASSERT_NEAR(got[e], want[e], 2e-5) << what << ": element " << e;  // fp32 sums of ≤ 300 terms of size ≤ 1
}

void expect_same_bits(const std::vector<float>& a, const std::vector<float>& b, int64_t row_len,
                      const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t e = 0; e < a.size(); ++e)
    ASSERT_EQ(std::memcmp(&a[e], &b[e], sizeof(float)), 0)
        << what << ": row " << e / static_cast<size_t>(row_len) << " element " << e % static_cast<size_t>(row_len)
        << ": " << a[e] << " vs " << b[e];
}

// 300 positions: the weighted sum of values crosses the products' k-block of 256 keys, and a 64-row work item.
TEST(AttentionBatchInvariance, OneCallPerPositionAndChunksMatchOneCallBitForBit) {
  IsaCapGuard guard;
  constexpr int64_t n = 300;
  ThreadPool one(1), two(2), three(3);
  struct Shape {
    int64_t n_head, n_head_kv, hd;
  };
  // GQA groups of 2 and 3 query heads (stacked into one product per item) and plain multi-head attention
  for (const Shape& sh : {Shape{4, 2, 64}, Shape{6, 2, 32}, Shape{3, 3, 64}}) {
    const ModelConfig c = attention_config(sh.n_head, sh.n_head_kv, sh.hd);
    const AttentionInputs in = random_inputs(c, n, 7 + static_cast<uint32_t>(sh.n_head));
    const int64_t q_dim = c.n_head * c.head_dim;
    for (Isa isa : available_isas()) {
      set_isa_cap(isa);
      const std::string what = std::string(isa_name(isa)) + " heads " + std::to_string(sh.n_head) + "/" +
                                std::to_string(sh.n_head_kv) + " hd " + std::to_string(sh.hd);
      std::vector<float> whole(static_cast<size_t>(n * q_dim)), single(whole.size()), chunked(whole.size());
      causal_attention(c, in.cache, 0, in.q.data(), n, 0, whole.data(), two);
      attend_in_chunks(c, in, 0, n, {1}, nullptr, single.data(), one);
      attend_in_chunks(c, in, 0, n, {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, nullptr, chunked.data(), three);
      expect_same_bits(whole, single, q_dim, what + ": one call vs one position per call");
      expect_same_bits(whole, chunked, q_dim, what + ": one call vs chunks");
      const auto all_keys = [](int64_t) { return true; };
      for (int64_t i : {0, 1, 150, 299})
        expect_close_to_ref(&whole[static_cast<size_t>(i * q_dim)], attention_ref(c, in, i, i, all_keys),
                            what + " row " + std::to_string(i));
    }
  }
}

// A token tree after 260 committed slots (its keys straddle the k-block boundary at 256): node i sees the committed
// slots and its ancestors and itself. Evaluated at once, node by node and in chunks, it gives the same bits.
TEST(AttentionBatchInvariance, TreeMaskedRowsDoNotDependOnTheCall) {
  IsaCapGuard guard;
  constexpr int64_t start = 260, nodes = 12;
  const int parents[nodes] = {-1, 0, 0, 1, 1, 2, 3, -1, 7, 8, 5, 10};
  std::vector<uint8_t> visible(static_cast<size_t>(nodes * nodes), 0);
  for (int64_t i = 0; i < nodes; ++i)
    for (int64_t a = i; a >= 0; a = parents[a]) visible[static_cast<size_t>(i * nodes + a)] = 1;
  const ModelConfig c = attention_config(4, 2, 64);
  const AttentionInputs in = random_inputs(c, start + nodes, 99);
  const int64_t q_dim = c.n_head * c.head_dim;
  ThreadPool one(1), two(2);
  for (Isa isa : available_isas()) {
    set_isa_cap(isa);
    const std::string what = std::string(isa_name(isa)) + " tree";
    std::vector<float> whole(static_cast<size_t>(nodes * q_dim)), single(whole.size()), chunked(whole.size());
    attend_in_chunks(c, in, start, nodes, {nodes}, &visible, whole.data(), two);
    attend_in_chunks(c, in, start, nodes, {1}, &visible, single.data(), one);
    attend_in_chunks(c, in, start, nodes, {5, 7}, &visible, chunked.data(), two);
    expect_same_bits(whole, single, q_dim, what + ": one call vs one node per call");
    expect_same_bits(whole, chunked, q_dim, what + ": one call vs chunks");
    for (int64_t i : {4, 11}) {
      const auto sees = [&](int64_t j) { return j < start || visible[static_cast<size_t>(i * nodes + j - start)]; };
      expect_close_to_ref(&whole[static_cast<size_t>(i * q_dim)], attention_ref(c, in, i, start + i, sees),
                          what + " node " + std::to_string(i));
    }
  }
}

using test::load_model;

// Logits of every position of `ids`, fed in forward() calls of `chunk` tokens.
std::vector<float> logits_in_chunks(const Model& m, const std::vector<int32_t>& ids, int64_t chunk, ThreadPool& pool) {
  const int64_t n = static_cast<int64_t>(ids.size()), V = m.config().n_vocab;
  KVCache cache(m.config(), n);
  std::vector<float> out(static_cast<size_t>(n * V));
  for (int64_t i0 = 0; i0 < n; i0 += chunk) {
    const int64_t len = std::min(chunk, n - i0);
    const Status s = m.forward(&ids[static_cast<size_t>(i0)], len, cache, &out[static_cast<size_t>(i0 * V)], pool);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  }
  return out;
}

std::vector<int32_t> token_ids(int64_t n, int64_t n_vocab) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  uint32_t s = 12345u;
  t[0] = 1;  // BOS
  for (size_t i = 1; i < t.size(); ++i) {
    s = s * 1664525u + 1013904223u;
    t[i] = static_cast<int32_t>(3 + (s >> 8) % static_cast<uint32_t>(n_vocab - 3));
  }
  return t;
}

void expect_int16_logits_independent_of_chunking(const std::string& path, std::initializer_list<DType> types) {
  for (DType t : types)
    if (!int16_matmul_available(t)) GTEST_SKIP() << "int16 products not available for this CPU: kInt16 runs kExact";
  auto m = load_model(path);
  ASSERT_TRUE(m);
  const std::vector<int32_t> ids = token_ids(40, m->config().n_vocab);
  const int64_t V = m->config().n_vocab;
  ThreadPool one(1), two(2);
  m->set_precision(Precision::kInt16);
  const std::vector<float> whole = logits_in_chunks(*m, ids, 40, two);
  expect_same_bits(whole, logits_in_chunks(*m, ids, 1, one), V, path + " kInt16: one call vs token by token");
  expect_same_bits(whole, logits_in_chunks(*m, ids, 5, two), V, path + " kInt16: one call vs chunks of 5");
  // 40 rows: the GEMM; chunks of 13: the GEMV, grouped for Q8_0 and Q4_K, one product at a time where Q6_K (whose
  // GEMV stops at 12 rows) takes the GEMM
  expect_same_bits(whole, logits_in_chunks(*m, ids, 13, two), V, path + " kInt16: one call vs chunks of 13");

  // kExact: reported, not asserted (its products take vec_dot for up to 4 rows, the GEMM above)
  m->set_precision(Precision::kExact);
  const std::vector<float> exact_whole = logits_in_chunks(*m, ids, 40, two);
  const std::vector<float> exact_single = logits_in_chunks(*m, ids, 1, two);
  float worst = 0.0f;
  for (size_t e = 0; e < exact_whole.size(); ++e) worst = std::max(worst, std::fabs(exact_whole[e] - exact_single[e]));
  std::printf("[  INFO    ] %s kExact: largest logit difference one call vs token by token %.3g\n", path.c_str(),
              static_cast<double>(worst));
}

TEST(ModelBatchInvariance, Int16LogitsOfEveryPositionDoNotDependOnTheCallSizeQ8_0) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-Q8_0.gguf");
  expect_int16_logits_independent_of_chunking(path, {DType::Q8_0});
}

TEST(ModelBatchInvariance, Int16LogitsOfEveryPositionDoNotDependOnTheCallSizeQ4_K_M) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-Q4_K_M.gguf");
  expect_int16_logits_independent_of_chunking(path, {DType::Q4_K, DType::Q6_K});
}

// Model::load rewrites the product matrices of a copied file into the interleaved layout (tensor/interleave.h) where
// the int16 GEMV reads it: the logits are the row layout's (a mapped file's), bit for bit, at every precision, for
// a prompt in one call (the GEMMs) and token by token (the GEMVs).
void expect_interleaved_logits_same_bits(const std::string& path, std::initializer_list<DType> types) {
  for (DType t : types)
    if (!int16_matmul_available(t)) GTEST_SKIP() << "no int16 GEMV on this CPU: weights stay in the row layout";
  auto copied = gguf::File::open(path, gguf::Residency::kCopy);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  const auto file = std::make_shared<const gguf::File>(std::move(*copied));
  auto il = Model::load(file);
  ASSERT_TRUE(il.ok()) << il.error().message;
  auto form = [&](const std::string& name) {
    const gguf::TensorInfo* t = file->tensor(name);
    return t ? file->tensor_form(static_cast<size_t>(t - file->tensors().data())) : std::string("(missing)");
  };
  ASSERT_EQ(form("blk.0.attn_q.weight"), "interleaved16") << "the test needs interleaved weights";
  EXPECT_EQ(form("blk.0.ffn_down.weight"), "interleaved16");
  EXPECT_EQ(form("token_embd.weight"), "") << "looked up by row: stays in the row layout";
  auto rows = load_model(path);  // mapped: the row layout
  ASSERT_TRUE(rows);
  const std::vector<int32_t> ids = token_ids(24, rows->config().n_vocab);
  const int64_t V = rows->config().n_vocab;
  ThreadPool two(2);
  for (Precision p : {Precision::kInt16, Precision::kFast, Precision::kExact}) {
    rows->set_precision(p);
    (*il)->set_precision(p);
    const std::string what = path + " precision " + std::to_string(static_cast<int>(p));
    expect_same_bits(logits_in_chunks(*rows, ids, 24, two), logits_in_chunks(**il, ids, 24, two), V,
                     what + ": one call");
    expect_same_bits(logits_in_chunks(*rows, ids, 1, two), logits_in_chunks(**il, ids, 1, two), V,
                     what + ": token by token");
  }
}

// Loaded for kExact, whose products read rows, a copied file keeps the row layout.
TEST(ModelInterleaved, ExactPrecisionKeepsTheRowLayout) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-Q8_0.gguf");
  auto copied = gguf::File::open(path, gguf::Residency::kCopy);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  const auto file = std::make_shared<const gguf::File>(std::move(*copied));
  auto m = Model::load(file, Precision::kExact);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ((*m)->precision(), Precision::kExact);
  for (size_t i = 0; i < file->tensors().size(); ++i) EXPECT_EQ(file->tensor_form(i), "") << file->tensors()[i].name;
}

TEST(ModelInterleaved, LogitsAreTheRowLayoutsBitsQ8_0) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-Q8_0.gguf");
  expect_interleaved_logits_same_bits(path, {DType::Q8_0});
}

TEST(ModelInterleaved, LogitsAreTheRowLayoutsBitsQ4_K_M) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-Q4_K_M.gguf");
  expect_interleaved_logits_same_bits(path, {DType::Q4_K, DType::Q6_K});
}

}  // namespace
}  // namespace ts
