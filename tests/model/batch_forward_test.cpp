// Model::forward_batch: several sequences, each with its own cache and its own number of new tokens, evaluated in
// one pass give bit for bit the logits and cache contents of separate forward() calls, for the stored types whose
// products take different kernels (F16, Q8_0, Q4_K_M) and for every precision.
//
// Bit-identity holds because no kernel mixes rows: the GEMM (and kFast's int8 GEMM) computes each output element
// from its own activation row, in the same k order whatever the other rows or their count (blocking by m only
// groups rows into register tiles), and vec_dot is per row. What does depend on the row count is which kernel
// matmul() picks (≤ 4 rows: vec_dot, more: GEMM), so forward_batch groups the rows by the count each sequence would
// have alone; these tests straddle that bound (1 and 4 rows vs 5 and 7) and would catch a batch that did not.
#include <gtest/gtest.h>

#include <cstring>
#include <tuple>

#include "fixtures.h"
#include "model_support.h"
#include "model/model.h"

namespace ts {
namespace {

using test::load_model;

// Deterministic token ids in 3..n_vocab-1, different per sequence.
std::vector<int32_t> tokens(int64_t n, int seed, int64_t n_vocab) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  uint32_t s = 2654435761u * static_cast<uint32_t>(seed + 1);
  for (auto& id : t) {
    s = s * 1664525u + 1013904223u;
    id = static_cast<int32_t>(3 + (s >> 8) % static_cast<uint32_t>(n_vocab - 3));
  }
  return t;
}

bool same_cache(const ModelConfig& c, const KVCache& a, const KVCache& b) {
  if (a.size() != b.size()) return false;
  const int64_t kv_dim = c.n_head_kv * c.head_dim;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    for (int64_t p = 0; p < a.size(); ++p) {
      for (int64_t j = 0; j < kv_dim; ++j) {
        const float ka = a.key(l, p, j), kb = b.key(l, p, j), va = a.value(l, p, j), vb = b.value(l, p, j);
        if (std::memcmp(&ka, &kb, sizeof ka) != 0 || std::memcmp(&va, &vb, sizeof va) != 0) return false;
      }
    }
  }
  return true;
}

// One sequence of a test batch: `past` tokens already in the cache, `n` new ones, logits for `rows` (empty = all).
struct Spec {
  int64_t past, n;
  std::vector<int64_t> rows;
};

// Feeds every spec's past into two caches alike, then the new tokens once by separate forward() calls and once by
// one forward_batch(); expects equal bits in logits and caches.
void expect_batch_equals_separate(const Model& m, const std::vector<Spec>& specs, ThreadPool& pool) {
  const ModelConfig& c = m.config();
  const int64_t V = c.n_vocab;
  const size_t S = specs.size();
  std::vector<KVCache> alone, batched;
  std::vector<std::vector<int32_t>> fresh(S);
  std::vector<std::vector<float>> want(S), got(S);
  std::vector<float> scratch(static_cast<size_t>(V));
  for (size_t s = 0; s < S; ++s) {
    const Spec& sp = specs[s];
    alone.emplace_back(c, sp.past + sp.n);
    batched.emplace_back(c, sp.past + sp.n);
    const auto past = tokens(sp.past, static_cast<int>(100 + s), V);
    for (KVCache* k : {&alone.back(), &batched.back()}) {
      if (sp.past > 0) {
        ASSERT_TRUE(m.forward(past.data(), sp.past, *k, scratch.data(), pool, {sp.past - 1}).ok());
      }
    }
    fresh[s] = tokens(sp.n, static_cast<int>(s), V);
    const size_t rows = sp.rows.empty() ? static_cast<size_t>(sp.n) : sp.rows.size();
    want[s].assign(rows * static_cast<size_t>(V), 0.0f);
    got[s].assign(rows * static_cast<size_t>(V), -1.0f);
  }
  for (size_t s = 0; s < S; ++s)
    ASSERT_TRUE(m.forward(fresh[s].data(), specs[s].n, alone[s], want[s].data(), pool, specs[s].rows).ok());
  std::vector<SeqBatch> batch;
  for (size_t s = 0; s < S; ++s)
    batch.push_back(SeqBatch{fresh[s].data(), specs[s].n, &batched[s], got[s].data(), specs[s].rows});
  ASSERT_TRUE(m.forward_batch(batch, pool).ok());
  for (size_t s = 0; s < S; ++s) {
    EXPECT_EQ(std::memcmp(want[s].data(), got[s].data(), sizeof(float) * want[s].size()), 0) << "logits of seq " << s;
    EXPECT_TRUE(same_cache(c, alone[s], batched[s])) << "cache of seq " << s;
  }
}

class BatchForward : public ::testing::TestWithParam<std::tuple<const char*, Precision>> {
 protected:
  void SetUp() override {
    path_ = test::fixture_path(std::get<0>(GetParam()));
    if (path_.empty()) {
      if (test::running_in_ci()) FAIL() << "fixture missing under CI=true: " << std::get<0>(GetParam());
      GTEST_SKIP() << "fixture not found: ../shared/fixtures/" << std::get<0>(GetParam());
    }
    model_ = load_model(path_);
    ASSERT_TRUE(model_);
    model_->set_precision(std::get<1>(GetParam()));
  }
  std::string path_;
  std::unique_ptr<Model> model_;
};

TEST_P(BatchForward, ThreeSequencesOfDifferentLengthsMatchSeparateForwards) {
  ThreadPool pool(2);
  // different cache lengths, n = 1, 1, 5: two decoding streams and a prompt chunk
  expect_batch_equals_separate(*model_, {{9, 1, {}}, {3, 1, {}}, {17, 5, {}}}, pool);
}

TEST_P(BatchForward, SequencesOnBothSidesOfTheKernelBoundMatch) {
  ThreadPool pool(2);
  // 4 rows (vec_dot alone) beside 5 and 7 (GEMM alone); the classifier groups by logit rows instead: 7 rows with
  // one logit row, 5 rows with all five, a fresh cache with 2 of 4.
  expect_batch_equals_separate(*model_, {{6, 4, {}}, {0, 7, {6}}, {11, 5, {}}, {0, 4, {1, 3}}, {2, 1, {}}}, pool);
}

INSTANTIATE_TEST_SUITE_P(Types, BatchForward,
                         ::testing::Combine(::testing::Values("models/tiny-llama-spm-F16.gguf",
                                                              "models/tiny-llama-spm-Q8_0.gguf",
                                                              "models/tiny-llama-spm-Q4_K_M.gguf"),
                                            ::testing::Values(Precision::kExact, Precision::kFast, Precision::kInt16)));

TEST(BatchForwardErrors, ABadSequenceLeavesEveryCacheAsItWas) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-Q8_0.gguf");
  auto m = load_model(path);
  ASSERT_TRUE(m);
  ThreadPool pool(2);
  const int64_t V = m->config().n_vocab;
  KVCache a(m->config(), 8), b(m->config(), 8);
  std::vector<float> za(static_cast<size_t>(V)), zb(static_cast<size_t>(V));
  const std::vector<int32_t> good = {1, 450}, bad = {1, static_cast<int32_t>(V)};
  {
    const SeqBatch seqs[] = {{good.data(), 2, &a, za.data(), {}}, {bad.data(), 2, &b, zb.data(), {}}};
    auto st = m->forward_batch(seqs, pool);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message.find("out of range"), std::string::npos) << st.error().message;
  }
  EXPECT_EQ(a.size(), 0);
  EXPECT_EQ(b.size(), 0);
  {
    const SeqBatch seqs[] = {{good.data(), 1, &a, za.data(), {}}, {good.data(), 1, &a, zb.data(), {}}};
    EXPECT_FALSE(m->forward_batch(seqs, pool).ok());  // one cache, two sequences
  }
  EXPECT_EQ(a.size(), 0);
  {
    const std::vector<int32_t> long_one(9, 450);
    const SeqBatch seqs[] = {{good.data(), 1, &a, za.data(), {}}, {long_one.data(), 9, &b, nullptr, {}}};
    auto st = m->forward_batch(seqs, pool);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message.find("context"), std::string::npos) << st.error().message;
  }
  EXPECT_EQ(a.size(), 0);
}

TEST(BatchForwardErrors, SequencesWithoutTokensOrLogitsTakePartAsAsked) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-Q8_0.gguf");
  auto m = load_model(path);
  ASSERT_TRUE(m);
  ThreadPool pool(2);
  const int64_t V = m->config().n_vocab;
  KVCache empty(m->config(), 4), silent(m->config(), 4), alone(m->config(), 4);
  const std::vector<int32_t> ids = {1, 450, 4996};
  std::vector<float> z(static_cast<size_t>(V));
  const SeqBatch seqs[] = {{ids.data(), 0, &empty, z.data(), {}}, {ids.data(), 3, &silent, nullptr, {}}};
  ASSERT_TRUE(m->forward_batch(seqs, pool).ok());
  EXPECT_EQ(empty.size(), 0);
  EXPECT_EQ(silent.size(), 3);  // keys/values appended, no logits written anywhere
  ASSERT_TRUE(m->forward(ids.data(), 3, alone, z.data(), pool, {2}).ok());
  EXPECT_TRUE(same_cache(m->config(), silent, alone));
}

}  // namespace
}  // namespace ts
