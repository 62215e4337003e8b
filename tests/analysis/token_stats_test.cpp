#include "analysis/token_stats.h"

#include "tensor/cpu.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace ts {
namespace {

// Two-pass double-precision reference, written independently of the online formula.
struct Ref {
  double logprob, entropy;
  int64_t rank;
};
Ref reference(const std::vector<float>& z, int32_t t) {
  double m = -INFINITY;
  for (float v : z) m = std::max(m, double(v));
  double s = 0;
  for (float v : z) s += std::exp(double(v) - m);
  const double lz = m + std::log(s);
  double h = 0;
  int64_t greater = 0;
  for (float v : z) {
    const double lp = double(v) - lz;
    h -= std::exp(lp) * lp;
    greater += v > z[t];
  }
  return {double(z[t]) - lz, h, greater + 1};
}

TEST(TokenStats, HandComputedFourWayDistribution) {
  // p = (0.1, 0.2, 0.3, 0.4): logits are log p
  std::vector<float> z = {std::log(0.1f), std::log(0.2f), std::log(0.3f), std::log(0.4f)};
  TokenStats s = token_stats(z.data(), 4, 1, 3);
  EXPECT_NEAR(s.logprob, std::log(0.2), 1e-6);
  EXPECT_EQ(s.rank, 3);
  const double h = -(0.1 * std::log(0.1) + 0.2 * std::log(0.2) + 0.3 * std::log(0.3) + 0.4 * std::log(0.4));
  EXPECT_NEAR(s.entropy, h, 1e-6);
  ASSERT_EQ(s.top.size(), 3u);
  EXPECT_EQ(s.top[0].id, 3);
  EXPECT_EQ(s.top[1].id, 2);
  EXPECT_EQ(s.top[2].id, 1);
  EXPECT_NEAR(s.top[0].logprob, std::log(0.4), 1e-6);
}

TEST(TokenStats, UniformDistributionHasLogVEntropyAndTiesShareRankOne) {
  std::vector<float> z(1000, 3.5f);
  TokenStats s = token_stats(z.data(), 1000, 123, 5);
  EXPECT_NEAR(s.entropy, std::log(1000.0), 1e-6);
  EXPECT_NEAR(s.logprob, -std::log(1000.0), 1e-6);
  EXPECT_EQ(s.rank, 1);
  ASSERT_EQ(s.top.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(s.top[i].id, i) << "ties keep the lower id first";
}

// The scalar path accumulates exp in double (1e-9); the SIMD paths take e^{z-m} in fp32 (relative error < 3e-7,
// see tensor/vec_ops.h) and sum in double, so logprob and entropy are good to 1e-6.
class TokenStatsIsa : public ::testing::TestWithParam<Isa> {
 protected:
  void TearDown() override { set_isa_cap(Isa::kAvx512); }
};

TEST_P(TokenStatsIsa, MatchesTwoPassReferenceOnRandomLogitsWithRisingMaximum) {
  const Isa isa = GetParam();
  if (static_cast<int>(active_isa()) < static_cast<int>(isa)) GTEST_SKIP() << "CPU lacks " << isa_name(isa);
  set_isa_cap(isa);
  const double tol = isa == Isa::kScalar ? 1e-9 : 1e-6;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.f, 4.f);
  for (int trial = 0; trial < 20; ++trial) {
    const int V = 5000 + trial * 37;
    std::vector<float> z(V);
    for (int i = 0; i < V; ++i) z[i] = nd(rng) + 0.01f * i;  // maximum keeps rising: exercises the rescaling
    const int32_t t = (trial * 997) % V;
    TokenStats s = token_stats(z.data(), V, t, 10);
    Ref r = reference(z, t);
    EXPECT_NEAR(s.logprob, r.logprob, tol);
    EXPECT_NEAR(s.entropy, r.entropy, tol);
    EXPECT_EQ(s.rank, r.rank);
    std::vector<int> order(V);
    for (int i = 0; i < V; ++i) order[i] = i;
    std::partial_sort(order.begin(), order.begin() + 10, order.end(), [&](int a, int b) {
      return z[a] > z[b] || (z[a] == z[b] && a < b);
    });
    for (int i = 0; i < 10; ++i) EXPECT_EQ(s.top[i].id, order[i]);
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, TokenStatsIsa, ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

TEST(TokenStats, NoTargetGivesDistributionStatisticsOnly) {
  std::vector<float> z = {0.f, 1.f, 2.f};
  TokenStats s = token_stats(z.data(), 3, -1, 0);
  EXPECT_EQ(s.rank, 0);
  EXPECT_TRUE(s.top.empty());
  EXPECT_GT(s.entropy, 0.0);
}

TEST(TokenStats, NegativeInfinityLogitsAreIgnored) {
  std::vector<float> z = {-INFINITY, 0.f, -INFINITY, 0.f};
  TokenStats s = token_stats(z.data(), 4, 1, 4);
  EXPECT_NEAR(s.logprob, std::log(0.5), 1e-6);
  EXPECT_NEAR(s.entropy, std::log(2.0), 1e-6);
}

}  // namespace
}  // namespace ts
