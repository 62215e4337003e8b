// Golden tests of the reduced-precision matrix products: per-token logprobs of the fixture model's Q8_0 and Q4_K_M
// (and, for --fast, F16) files against the float64 forward of the same weights (`exact` in
// ../shared/fixtures/reference), beside llama.cpp's deviation from the same (the fixture's `llamacpp` entries), max
// below 0.25 at every token.
// - --fast (Precision::kFast: int8 activations; for the F16 file 13-bit weights and activations) must deviate on
//   average no more than llama.cpp does.
// - Precision::kInt16 (int16 activations per block of 32, vpdpwssd) must meet the default mode's bar: mean at most
//   half of llama.cpp's (as GoldenQuantized computes it).
// Where the CPU has no AVX-512 VNNI both compute exactly and the bars hold trivially; the tests say so.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "runtime/engine.h"
#include "runtime/scorer.h"

namespace ts {
namespace {

struct Deviation {
  double sum = 0, max = 0;
  size_t n = 0;
  void add(double d) {
    sum += std::fabs(d);
    max = std::max(max, std::fabs(d));
    ++n;
  }
  double mean() const { return n ? sum / static_cast<double>(n) : 0.0; }
};

// Scores the 12 reference documents of `model_path` at precision p; *got_dev = our deviation from `exact`, *llama =
// llama.cpp's. A fatal failure stops early (ASSERT_NO_FATAL_FAILURE at the caller).
void deviations(const std::string& ref_path, const std::string& model_path, const std::string& type, Precision p,
                Deviation* got_dev, Deviation* llama) {
  std::ifstream in(ref_path);
  const nlohmann::json docs = nlohmann::json::parse(in)["docs"];
  auto e = Engine::load(model_path);
  ASSERT_TRUE(e.ok()) << e.error().message;
  (*e)->model->set_precision(p);
  ThreadPool pool(2);
  for (const auto& doc : docs) {
    const auto ids = doc["ids"].get<std::vector<int32_t>>();
    const auto& exact = doc["exact"][type]["logprob"];
    const auto& lc = doc["llamacpp"][type]["logprob"];
    ScoreOptions opt;
    opt.top_k = 0;
    std::vector<double> got;
    auto s = score_sequence(*(*e)->model, ids, opt, pool,
                            [&](const ScoredToken& t) { got.push_back(t.stats.logprob); });
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_EQ(got.size(), exact.size());
    for (size_t i = 0; i < got.size(); ++i) {
      got_dev->add(got[i] - exact[i].get<double>());
      llama->add(lc[i].get<double>() - exact[i].get<double>());
    }
  }
}

class GoldenFast : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenFast, DeviatesFromExactNoMoreThanLlamaCpp) {
  const std::string type = GetParam();
  TS_REQUIRE_FIXTURE(ref_path, "reference/tiny-llama-spm.json");
  TS_REQUIRE_FIXTURE(model_path, "models/tiny-llama-spm-" + type + ".gguf");
  if (!fast_matmul_available(DType::Q8_0))
    std::printf("[  NOTE    ] no AVX-512 VNNI: --fast computes exactly here, the int8 path is not exercised\n");
  Deviation fast, llama;
  ASSERT_NO_FATAL_FAILURE(deviations(ref_path, model_path, type, Precision::kFast, &fast, &llama));
  std::printf("%s --fast vs exact: logprob mean %.6f max %.6f; llama.cpp mean %.6f max %.6f (%zu tokens)\n",
              type.c_str(), fast.mean(), fast.max, llama.mean(), llama.max, fast.n);
  EXPECT_EQ(fast.n, 12u * 199u);
  EXPECT_GT(llama.mean(), 0.0);
  EXPECT_LE(fast.mean(), llama.mean());
  EXPECT_LT(fast.max, 0.25);
}

class GoldenInt16 : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenInt16, WithinHalfOfLlamaCppDeviationFromExact) {
  const std::string type = GetParam();
  TS_REQUIRE_FIXTURE(ref_path, "reference/tiny-llama-spm.json");
  TS_REQUIRE_FIXTURE(model_path, "models/tiny-llama-spm-" + type + ".gguf");
  if (!int16_matmul_available(DType::Q8_0))
    std::printf("[  NOTE    ] no AVX-512 VNNI: kInt16 computes exactly here, the int16 path is not exercised\n");
  Deviation i16, llama;
  ASSERT_NO_FATAL_FAILURE(deviations(ref_path, model_path, type, Precision::kInt16, &i16, &llama));
  std::printf("%s int16 vs exact: logprob mean %.6f max %.6f; llama.cpp mean %.6f max %.6f; bar %.6f (%zu tokens)\n",
              type.c_str(), i16.mean(), i16.max, llama.mean(), llama.max, llama.mean() / 2, i16.n);
  EXPECT_EQ(i16.n, 12u * 199u);
  EXPECT_GT(llama.mean(), 0.0);
  EXPECT_LE(i16.mean(), llama.mean() / 2);
  EXPECT_LT(i16.max, 0.25);
}

INSTANTIATE_TEST_SUITE_P(Files, GoldenFast, ::testing::Values("Q8_0", "Q4_K_M", "F16"));
INSTANTIATE_TEST_SUITE_P(Files, GoldenInt16, ::testing::Values("Q8_0", "Q4_K_M"));

}  // namespace
}  // namespace ts
