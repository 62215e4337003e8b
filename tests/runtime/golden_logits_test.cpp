// Golden test: per-token logprob and entropy of the fixture model against ../shared/fixtures/reference.
//
// F16 against the fp32 PyTorch `reference` (mean |Δ| ≤ 0.001, max ≤ 0.02); Q8_0 and Q4_K_M against the float64
// forward of the file's own weights (`exact`), within half of llama.cpp's mean deviation from the same `exact`
// (computed here from the fixture's `llamacpp` entries), max < 0.25.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "runtime/engine.h"
#include "runtime/scorer.h"

namespace ts {
namespace {

struct Deviation {
  double mean = 0, max = 0;
  size_t n = 0;
  void add(double d) {
    d = std::fabs(d);
    mean += d;
    max = std::max(max, d);
    ++n;
  }
  void finish() { mean = n ? mean / static_cast<double>(n) : 0; }
};

nlohmann::json load_reference(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

struct Result {
  Deviation logprob, entropy;
};

// Scores each doc's ids as given and compares with docs[i][section][key].{logprob, entropy}.
Result compare(const Engine& e, const nlohmann::json& docs, const std::string& section, const std::string& key) {
  ThreadPool pool(2);
  Result r;
  for (const auto& doc : docs) {
    std::vector<int32_t> ids = doc["ids"].get<std::vector<int32_t>>();
    const auto& ref = key.empty() ? doc[section] : doc[section][key];
    const auto& lp = ref["logprob"];
    const auto& en = ref["entropy"];
    ScoreOptions opt;
    opt.top_k = 0;
    std::vector<TokenStats> got;
    auto s = score_sequence(*e.model, ids, opt, pool, [&](const ScoredToken& t) { got.push_back(t.stats); });
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    EXPECT_EQ(got.size(), lp.size());
    for (size_t i = 0; i < std::min(got.size(), lp.size()); ++i) {
      r.logprob.add(got[i].logprob - lp[i].get<double>());
      r.entropy.add(got[i].entropy - en[i].get<double>());
    }
  }
  r.logprob.finish();
  r.entropy.finish();
  return r;
}

Deviation llamacpp_deviation(const nlohmann::json& docs, const std::string& type) {
  Deviation d;
  for (const auto& doc : docs) {
    const auto& a = doc["llamacpp"][type]["logprob"];
    const auto& b = doc["exact"][type]["logprob"];
    for (size_t i = 0; i < a.size(); ++i) d.add(a[i].get<double>() - b[i].get<double>());
  }
  d.finish();
  return d;
}

TEST(GoldenLogits, F16MatchesFp32Reference) {
  TS_REQUIRE_FIXTURE(ref_path, "reference/tiny-llama-spm.json");
  TS_REQUIRE_FIXTURE(model_path, "models/tiny-llama-spm-F16.gguf");
  auto ref = load_reference(ref_path);
  auto e = Engine::load(model_path);
  ASSERT_TRUE(e.ok()) << e.error().message;
  Result r = compare(**e, ref["docs"], "reference", "");
  std::printf("F16 vs fp32 reference: logprob mean %.6f max %.6f; entropy mean %.6f max %.6f (%zu tokens)\n",
              r.logprob.mean, r.logprob.max, r.entropy.mean, r.entropy.max, r.logprob.n);
  EXPECT_EQ(r.logprob.n, 12u * 199u);
  EXPECT_LE(r.logprob.mean, 0.001);
  EXPECT_LE(r.logprob.max, 0.02);
  EXPECT_LE(r.entropy.mean, 0.001);
  EXPECT_LE(r.entropy.max, 0.02);
  Result x = compare(**e, ref["docs"], "exact", "F16");
  std::printf("F16 vs exact: logprob mean %.6f max %.6f\n", x.logprob.mean, x.logprob.max);
}

class GoldenQuantized : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenQuantized, WithinHalfOfLlamaCppDeviationFromExact) {
  const std::string type = GetParam();
  TS_REQUIRE_FIXTURE(ref_path, "reference/tiny-llama-spm.json");
  TS_REQUIRE_FIXTURE(model_path, "models/tiny-llama-spm-" + type + ".gguf");
  auto ref = load_reference(ref_path);
  auto e = Engine::load(model_path);
  ASSERT_TRUE(e.ok()) << e.error().message;
  Result r = compare(**e, ref["docs"], "exact", type);
  Deviation lc = llamacpp_deviation(ref["docs"], type);
  std::printf("%s vs exact: logprob mean %.6f max %.6f; entropy mean %.6f max %.6f; llama.cpp mean %.6f\n",
              type.c_str(), r.logprob.mean, r.logprob.max, r.entropy.mean, r.entropy.max, lc.mean);
  EXPECT_EQ(r.logprob.n, 12u * 199u);
  EXPECT_GT(lc.mean, 0.0);
  EXPECT_LE(r.logprob.mean, lc.mean / 2);
  EXPECT_LT(r.logprob.max, 0.25);
}

INSTANTIATE_TEST_SUITE_P(Files, GoldenQuantized, ::testing::Values("Q8_0", "Q4_K_M"));

TEST(GoldenTokenizer, TextWithBosTokenizesToReferenceIdsPrefix) {
  TS_REQUIRE_FIXTURE(ref_path, "reference/tiny-llama-spm.json");
  TS_REQUIRE_FIXTURE(model_path, "models/tiny-llama-spm-Q8_0.gguf");
  auto ref = load_reference(ref_path);
  auto e = Engine::load(model_path);
  ASSERT_TRUE(e.ok()) << e.error().message;
  for (const auto& doc : ref["docs"]) {
    auto want = doc["ids"].get<std::vector<int32_t>>();
    auto got = e.value()->tokenizer.encode(doc["text"].get<std::string>()).ids;
    ASSERT_GE(got.size(), want.size());
    got.resize(want.size());
    EXPECT_EQ(got, want);
  }
}

}  // namespace
}  // namespace ts
