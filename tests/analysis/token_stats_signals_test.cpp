// TokenStats' varentropy, max_prob and margin: hand-computed distributions, and a slow double-precision
// recomputation on random 32000-token logits for each ISA.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "analysis/token_stats.h"
#include "tensor/cpu.h"

namespace ts {
namespace {

const double kLn2 = std::log(2.0);

std::vector<float> logits_of(const std::vector<double>& p, double offset) {
  std::vector<float> z;
  for (double v : p) z.push_back(static_cast<float>(std::log(v) + offset));
  return z;
}

TEST(TokenStatsSignals, DyadicSixWayDistribution) {
  // p = (1/2, 1/4, 1/8, 1/16, 1/32, 1/32): log p = −k ln2, k = (1, 2, 3, 4, 5, 5).
  // H = ln2 · E[k] = ln2 · (1/2 + 2/4 + 3/8 + 4/16 + 5/32 + 5/32) = 1.9375 ln2
  // E[k²] = 1/2 + 4/4 + 9/8 + 16/16 + 25/32 + 25/32 = 5.1875
  // V = (ln2)² (E[k²] − E[k]²) = (ln2)² (5.1875 − 3.75390625) = 1.43359375 (ln2)²
  // max_prob = 1/2, margin = 1/2 − 1/4 = 1/4. Logits are shifted by +3 (no effect).
  const auto z = logits_of({0.5, 0.25, 0.125, 0.0625, 0.03125, 0.03125}, 3.0);
  const TokenStats s = token_stats(z.data(), 6, 2, 0);
  EXPECT_NEAR(s.entropy, 1.9375 * kLn2, 1e-6);
  EXPECT_NEAR(s.varentropy, 1.43359375 * kLn2 * kLn2, 1e-6);
  EXPECT_NEAR(s.max_prob, 0.5, 1e-7);
  EXPECT_NEAR(s.margin, 0.25, 1e-7);
  EXPECT_TRUE(s.top.empty()) << "top_k 0 still gives no list";
  EXPECT_NEAR(s.logprob, -3 * kLn2, 1e-6);
}

TEST(TokenStatsSignals, TwoPointDistribution) {
  // p = (0.8, 0.2) padded with −inf logits (p = 0): V = p(1−p)·(log(p/(1−p)))² = 0.16·(ln 4)² = 0.64 (ln2)²
  std::vector<float> z = {static_cast<float>(std::log(0.2)), -INFINITY, static_cast<float>(std::log(0.8)),
                          -INFINITY, -INFINITY};
  const TokenStats s = token_stats(z.data(), 5, 0, 1);
  EXPECT_NEAR(s.varentropy, 0.64 * kLn2 * kLn2, 1e-6);
  EXPECT_NEAR(s.max_prob, 0.8, 1e-6);
  EXPECT_NEAR(s.margin, 0.6, 1e-6);
  ASSERT_EQ(s.top.size(), 1u);
  EXPECT_EQ(s.top[0].id, 2);
}

TEST(TokenStatsSignals, UniformHasZeroVarentropyAndZeroMargin) {
  std::vector<float> z(7, -1.25f);
  const TokenStats s = token_stats(z.data(), 7, 3, 2);
  EXPECT_NEAR(s.varentropy, 0.0, 1e-12);
  EXPECT_NEAR(s.max_prob, 1.0 / 7, 1e-7);
  EXPECT_EQ(s.margin, 0.0);
}

TEST(TokenStatsSignals, SingleFiniteLogitHasMarginOne) {
  std::vector<float> z = {-INFINITY, 2.f, -INFINITY, -INFINITY, -INFINITY};
  const TokenStats s = token_stats(z.data(), 5, 1, 0);
  EXPECT_EQ(s.max_prob, 1.0);
  EXPECT_EQ(s.margin, 1.0);
  EXPECT_EQ(s.varentropy, 0.0);
  EXPECT_EQ(s.entropy, 0.0);
}

class TokenStatsSignalsIsa : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (static_cast<int>(active_isa()) < static_cast<int>(GetParam())) GTEST_SKIP() << "CPU lacks " << isa_name(GetParam());
    set_isa_cap(GetParam());
  }
  void TearDown() override { set_isa_cap(Isa::kAvx512); }
};

// The scalar path is double throughout (1e-9). The SIMD paths take e^{z−m} in fp32 (3e-7 relative) and sum ≤ 64
// terms per fp32 lane: entropy, varentropy and the probabilities are good to 2e-6 (relative for varentropy).
TEST_P(TokenStatsSignalsIsa, NewFieldsMatchSlowDoubleRecomputationOn32000Logits) {
  const double tol = GetParam() == Isa::kScalar ? 1e-9 : 2e-6;
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.f, 3.f);
  const int V = 32000;
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<float> z(V);
    for (auto& v : z) v = nd(rng) * (1.f + trial);  // wider logits → more peaked distributions
    const int32_t t = 4242 + trial;
    const TokenStats s = token_stats(z.data(), V, t, 5);
    // slow: log-probabilities in double, then each moment by its definition
    double m = -INFINITY;
    for (float v : z) m = std::max(m, double(v));
    double sum = 0;
    for (float v : z) sum += std::exp(double(v) - m);
    const double log_z = m + std::log(sum);
    std::vector<double> lp(V);
    for (int i = 0; i < V; ++i) lp[i] = double(z[i]) - log_z;
    double h = 0;
    for (double l : lp) h -= std::exp(l) * l;
    double var = 0;
    for (double l : lp) var += std::exp(l) * (l + h) * (l + h);  // entropix's form Σ p (log p + H)²
    std::vector<double> p(V);
    for (int i = 0; i < V; ++i) p[i] = std::exp(lp[i]);
    std::partial_sort(p.begin(), p.begin() + 2, p.end(), std::greater<>());
    EXPECT_NEAR(s.entropy, h, tol);
    EXPECT_NEAR(s.varentropy, var, tol * std::max(1.0, var));
    EXPECT_NEAR(s.max_prob, p[0], tol * p[0]);
    EXPECT_NEAR(s.margin, p[0] - p[1], tol * p[0]);
    EXPECT_NEAR(s.logprob, lp[t], tol);
    ASSERT_EQ(s.top.size(), 5u);
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, TokenStatsSignalsIsa, ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

}  // namespace
}  // namespace ts
