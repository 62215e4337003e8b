// Temperature and dynamic temperature on the distribution of test_util.h (p = 0.1, 0.4, 0.05, 0.3, 0.15 for ids
// 0..4; H = 1.392321 nats).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sampling/samplers.h"
#include "test_util.h"

namespace ts::sampling {
namespace {

using test::keys;
using test::p5;
using test::run;

TEST(Temperature, HalfSquaresTheProbabilities) {
  // T = 0.5: p ∝ p² = 0.01, 0.16, 0.0025, 0.09, 0.0225; Σ = 0.285
  Temperature t(0.5f);
  auto p = run(t, p5());
  EXPECT_NEAR(p[0], 0.035088, 1e-5);
  EXPECT_NEAR(p[1], 0.561404, 1e-5);
  EXPECT_NEAR(p[2], 0.008772, 1e-5);
  EXPECT_NEAR(p[3], 0.315789, 1e-5);
  EXPECT_NEAR(p[4], 0.078947, 1e-5);
}

TEST(Temperature, TwoTakesSquareRoots) {
  // T = 2: p ∝ √p = 0.316228, 0.632456, 0.223607, 0.547723, 0.387298; Σ = 2.107312
  Temperature t(2.0f);
  auto p = run(t, p5());
  EXPECT_NEAR(p[1], 0.300125, 1e-5);
  EXPECT_NEAR(p[3], 0.259915, 1e-5);
  EXPECT_NEAR(p[2], 0.106110, 1e-5);
}

TEST(Temperature, ZeroOrNegativeIsGreedyAsATruncation) {
  Temperature zero(0.0f), neg(-1.0f);
  auto p = run(zero, p5());
  EXPECT_EQ(keys(p), (std::vector<int32_t>{1}));
  EXPECT_EQ(p[1], 1.0);
  EXPECT_EQ(keys(run(neg, p5())), (std::vector<int32_t>{1}));
  // ties go to the lower id
  std::vector<float> z = {0.0f, 2.0f, 2.0f};
  EXPECT_EQ(keys(run(zero, from_logits(z.data(), 3))), (std::vector<int32_t>{1}));
}

TEST(DynamicTemperature, ScalesByTMinPlusRangeTimesNormalisedEntropy) {
  // T = 1, δ = 0.5: T_min = 0.5, T_max = 1.5, Ĥ = H / ln 5 = 1.392321 / 1.609438 = 0.865098
  // κ = 1: T_dyn = 0.5 + 1.0 · 0.865098 = 1.365098;  κ = 2: T_dyn = 0.5 + 0.748394 = 1.248394
  const std::vector<float> z = test::p5_logits();
  for (auto [kappa, t_dyn] : {std::pair{1.0f, 1.365098}, std::pair{2.0f, 1.248394}}) {
    Temperature t(1.0f, 0.5f, kappa);
    Candidates c = p5();
    t.apply(c, {});
    ASSERT_EQ(c.size(), 5u);
    for (const Candidate& x : c.data) EXPECT_NEAR(z[x.id] / x.logit, t_dyn, 1e-5) << "kappa " << kappa;
  }
}

TEST(DynamicTemperature, UniformDistributionGetsTMax) {
  std::vector<float> flat(4, 1.0f);
  Temperature t(1.0f, 0.5f);
  Candidates c = from_logits(flat.data(), 4);
  t.apply(c, {});
  for (const Candidate& x : c.data) EXPECT_NEAR(x.logit, 1.0 / 1.5, 1e-6);  // Ĥ = 1 → T_dyn = T_max
}

}  // namespace
}  // namespace ts::sampling
