// The scorer's sliding window: every position once, in order; the first window equals the unwindowed result.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "runtime/engine.h"
#include "runtime/scorer.h"
#include "tensor/matmul.h"

namespace ts {
namespace {

std::vector<ScoredToken> score(const Engine& e, const std::vector<int32_t>& ids, int64_t ctx, int64_t batch) {
  ThreadPool pool(2);
  ScoreOptions o;
  o.ctx = ctx;
  o.batch = batch;
  o.top_k = 3;
  std::vector<ScoredToken> out;
  auto s = score_sequence(*e.model, ids, o, pool, [&](const ScoredToken& t) { out.push_back(t); });
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return out;
}

std::vector<int32_t> first_doc_ids() {
  std::ifstream in(test::fixture_path("reference/tiny-llama-spm.json"));
  return nlohmann::json::parse(in)["docs"][0]["ids"].get<std::vector<int32_t>>();
}

TEST(Scorer, BatchSizeDoesNotChangeResults) {
  TS_REQUIRE_FIXTURE(model_path, "models/tiny-llama-spm-Q8_0.gguf");
  auto e = Engine::load(model_path);
  ASSERT_TRUE(e.ok()) << e.error().message;
  auto ids = first_doc_ids();
  auto a = score(**e, ids, 0, 256);
  auto b = score(**e, ids, 0, 7);  // chunks of 7 positions through the KV cache
  ASSERT_EQ(a.size(), ids.size() - 1);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].pos, static_cast<int64_t>(i + 1));
    EXPECT_EQ(b[i].pos, a[i].pos);
    EXPECT_NEAR(a[i].stats.logprob, b[i].stats.logprob, 1e-4);
    EXPECT_NEAR(a[i].stats.entropy, b[i].stats.entropy, 1e-4);
    EXPECT_EQ(a[i].stats.top[0].id, b[i].stats.top[0].id);
  }
}

TEST(Scorer, Int16GivesEachPositionTheSameDistributionForEveryCallSize) {
  // kInt16 (the default) computes products bit-identical whatever the number of rows (its GEMV for 1-4 rows computes
  // what its GEMM does), and attention sums in the GEMM's order at every query count: scoring 63 tokens in calls
  // of 1, 3, 7, 9 or 63 positions gives the same numbers.
  for (const char* type : {"Q8_0", "Q4_K_M"}) {
    TS_REQUIRE_FIXTURE(model_path, std::string("models/tiny-llama-spm-") + type + ".gguf");
    auto e = Engine::load(model_path);
    ASSERT_TRUE(e.ok()) << e.error().message;
    ASSERT_EQ((*e)->model->precision(), Precision::kInt16) << "the default";
    auto ids = first_doc_ids();
    ASSERT_GE(ids.size(), 63u);
    ids.resize(63);
    const auto full = score(**e, ids, 0, 256);
    for (int64_t batch : {1, 3, 7, 9}) {
      const auto small = score(**e, ids, 0, batch);
      ASSERT_EQ(small.size(), full.size());
      for (size_t i = 0; i < full.size(); ++i) {
        EXPECT_EQ(small[i].stats.logprob, full[i].stats.logprob) << type << " batch " << batch << " pos " << i;
        EXPECT_EQ(small[i].stats.entropy, full[i].stats.entropy) << type << " batch " << batch << " pos " << i;
      }
    }
    if (!int16_matmul_available(DType::Q8_0)) continue;  // no AVX-512 VNNI: kInt16 computes the exact path
    // and the agreement is not the exact path's: kInt16 really ran
    (*e)->model->set_precision(Precision::kExact);
    const auto exact = score(**e, ids, 0, 256);
    double diff = 0;
    for (size_t i = 0; i < full.size(); ++i)
      diff = std::max(diff, std::fabs(exact[i].stats.logprob - full[i].stats.logprob));
    EXPECT_GT(diff, 2e-5) << type << ": kInt16 computed the exact path";
  }
}

TEST(Scorer, FastScoresFewPositionsPerCallAsInt16Does) {
  // kFast quantizes activations to int8 only above kFastMinRows rows; calls of 1-4 positions (generation) run
  // kInt16's GEMV, so they give kInt16's numbers exactly, and calls of more positions int8's (not kInt16's).
  TS_REQUIRE_FIXTURE(model_path, "models/tiny-llama-spm-Q4_K_M.gguf");
  auto e = Engine::load(model_path);
  ASSERT_TRUE(e.ok()) << e.error().message;
  if (!int16_matmul_available(DType::Q4_K)) GTEST_SKIP() << "no AVX-512 VNNI: kFast and kInt16 compute exactly";
  auto ids = first_doc_ids();
  ids.resize(std::min<size_t>(ids.size(), 40));
  const auto int16 = score(**e, ids, 0, 1);
  (*e)->model->set_precision(Precision::kFast);
  for (int64_t batch : {1, 3, 4}) {
    const auto fast = score(**e, ids, 0, batch);
    ASSERT_EQ(fast.size(), int16.size());
    for (size_t i = 0; i < fast.size(); ++i)
      ASSERT_EQ(fast[i].stats.logprob, int16[i].stats.logprob) << "batch " << batch << " pos " << i;
  }
  const auto fast_prompt = score(**e, ids, 0, 256);
  double diff = 0;
  for (size_t i = 0; i < fast_prompt.size(); ++i)
    diff = std::max(diff, std::fabs(fast_prompt[i].stats.logprob - int16[i].stats.logprob));
  EXPECT_GT(diff, 1e-4) << "40 positions per call: kFast's int8 path";
}

TEST(Scorer, SlidingWindowScoresEveryPositionOnceAndKeepsTheFirstWindow) {
  TS_REQUIRE_FIXTURE(model_path, "models/tiny-llama-spm-Q8_0.gguf");
  auto e = Engine::load(model_path);
  ASSERT_TRUE(e.ok()) << e.error().message;
  auto ids = first_doc_ids();
  auto full = score(**e, ids, 0, 64);
  auto win = score(**e, ids, 40, 16);  // windows of 40, stride 20
  ASSERT_EQ(win.size(), ids.size() - 1);
  for (size_t i = 0; i < win.size(); ++i) EXPECT_EQ(win[i].pos, static_cast<int64_t>(i + 1));
  for (size_t i = 0; i < 40; ++i) EXPECT_NEAR(win[i].stats.logprob, full[i].stats.logprob, 1e-4) << i;
  // later positions see only part of the history, so they differ somewhere
  double diff = 0;
  for (size_t i = 40; i < win.size(); ++i) diff += std::fabs(win[i].stats.logprob - full[i].stats.logprob);
  EXPECT_GT(diff, 1e-3);
}

TEST(Scorer, OutOfRangeTokenIsAnInputError) {
  TS_REQUIRE_FIXTURE(model_path, "models/tiny-llama-spm-Q8_0.gguf");
  auto e = Engine::load(model_path);
  ASSERT_TRUE(e.ok()) << e.error().message;
  ThreadPool pool(1);
  auto s = score_sequence(*(*e)->model, {1, 5, 32000}, {}, pool, [](const ScoredToken&) {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("32000"), std::string::npos);
  EXPECT_EQ(s.error().kind, Error::Kind::kInput);
}

}  // namespace
}  // namespace ts
