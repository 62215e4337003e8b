// Truncation samplers on the fixed distribution of test_util.h:
//   id:  0     1     2     3     4        sorted by p: 1 (0.4), 3 (0.3), 4 (0.15), 0 (0.1), 2 (0.05)
//   p:   0.1   0.4   0.05  0.3   0.15
// Every expected set and probability below is worked out by hand from the sampler's formula.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sampling/samplers.h"
#include "test_util.h"

namespace ts::sampling {
namespace {

using test::ids_in_order;
using test::keys;
using test::p5;
using test::run;
using Ids = std::vector<int32_t>;

TEST(TopK, KeepsTheKMostLikelyRenormalisedAndSorted) {
  TopK s(3);
  Candidates c = p5();
  s.apply(c, {});
  EXPECT_TRUE(c.sorted);
  EXPECT_EQ(ids_in_order(c), (Ids{1, 3, 4}));
  // 0.4, 0.3, 0.15 over 0.85
  auto p = run(s, p5());
  EXPECT_NEAR(p[1], 0.470588, 1e-5);
  EXPECT_NEAR(p[3], 0.352941, 1e-5);
  EXPECT_NEAR(p[4], 0.176471, 1e-5);
}

TEST(TopK, NonPositiveKIsANoOpAndLargeKKeepsAll) {
  TopK off(0), big(100);
  EXPECT_EQ(run(off, p5()).size(), 5u);
  EXPECT_EQ(run(big, p5()).size(), 5u);
}

TEST(TopP, KeepsTheShortestPrefixReachingPIncludingTheCrossingToken) {
  // cumulative: 0.4, 0.7, 0.85, ...  P = 0.6 is crossed by token 3 → {1, 3}, renormalised over 0.7
  TopP s(0.6f);
  auto p = run(s, p5());
  EXPECT_EQ(keys(p), (Ids{1, 3}));
  EXPECT_NEAR(p[1], 0.571429, 1e-5);
  EXPECT_NEAR(p[3], 0.428571, 1e-5);
  // P = 0.3 is reached by the first token alone
  TopP one(0.3f);
  EXPECT_EQ(keys(run(one, p5())), (Ids{1}));
}

TEST(TopP, MinKeepAndPOfOne) {
  TopP keep3(0.3f, 3);  // the first token reaches 0.3 but three must stay
  EXPECT_EQ(keys(run(keep3, p5())), (Ids{1, 3, 4}));
  TopP off(1.0f);
  EXPECT_EQ(run(off, p5()).size(), 5u);
}

TEST(MinP, KeepsTokensAtLeastPBaseTimesTheMax) {
  // p_max = 0.4; p_base 0.5 → floor 0.2 → {1 (0.4), 3 (0.3)}
  MinP half(0.5f);
  auto p = run(half, p5());
  EXPECT_EQ(keys(p), (Ids{1, 3}));
  EXPECT_NEAR(p[1], 0.571429, 1e-5);
  // p_base 0.2 → floor 0.08 → drops only token 2 (0.05); renormalised over 0.95
  MinP fifth(0.2f);
  auto q = run(fifth, p5());
  EXPECT_EQ(keys(q), (Ids{0, 1, 3, 4}));
  EXPECT_NEAR(q[1], 0.421053, 1e-5);
  EXPECT_NEAR(q[3], 0.315789, 1e-5);
  EXPECT_NEAR(q[4], 0.157895, 1e-5);
  EXPECT_NEAR(q[0], 0.105263, 1e-5);
}

TEST(MinP, KeepsOrderWithoutSortingAndHonoursMinKeep) {
  MinP s(0.5f);
  Candidates c = p5();
  s.apply(c, {});
  EXPECT_EQ(ids_in_order(c), (Ids{1, 3})) << "survivors keep id order";
  MinP keep3(0.9f, 3);  // floor 0.36 keeps only token 1, min_keep adds the next two
  EXPECT_EQ(keys(run(keep3, p5())), (Ids{1, 3, 4}));
}

TEST(Typical, KeepsTokensWhoseSurpriseIsClosestToTheEntropy) {
  // H = 1.392321 nats. Scores |−ln p − H|: token 3: |1.203973 − H| = 0.188348, token 1: |0.916291 − H| = 0.476030,
  // token 4: |1.897120 − H| = 0.504799, token 0: 0.910264, token 2: 1.603411.
  // Order 3, 1, 4, 0, 2; cumulative 0.3, 0.7, 0.85 …
  // τ = 0.5: 0.3 ≤ 0.5 < 0.7 → {3, 1}, kept in score order.
  Typical s(0.5f);
  Candidates c = p5();
  s.apply(c, {});
  EXPECT_EQ(ids_in_order(c), (Ids{3, 1}));
  EXPECT_FALSE(c.sorted);
  auto p = run(s, p5());
  EXPECT_NEAR(p[3], 0.428571, 1e-5);
  EXPECT_NEAR(p[1], 0.571429, 1e-5);
  // τ = 0.2: token 3 alone exceeds it — the most likely token is not "typical" here.
  Typical narrow(0.2f);
  EXPECT_EQ(keys(run(narrow, p5())), (Ids{3}));
}

TEST(TopNSigma, KeepsLogitsWithinNSigmasOfTheMax) {
  // logits ln p: −0.916291 (1), −1.203973 (3), −1.897120 (4), −2.302585 (0), −2.995732 (2)
  // mean −1.863140; squared deviations 0.896523 + 0.434501 + 0.001155 + 0.193112 + 1.282765 = 2.808056;
  // σ = sqrt(2.808056 / 5) = 0.749407.
  // n = 1: floor −0.916291 − 0.749407 = −1.665698 → {1, 3}
  TopNSigma one(1.0f);
  EXPECT_EQ(keys(run(one, p5())), (Ids{1, 3}));
  // n = 2: floor −2.415105 → {1, 3, 4, 0}; renormalised over 0.95
  TopNSigma two(2.0f);
  auto p = run(two, p5());
  EXPECT_EQ(keys(p), (Ids{0, 1, 3, 4}));
  EXPECT_NEAR(p[0], 0.105263, 1e-5);
  // n ≤ 0 is off
  TopNSigma off(-1.0f);
  EXPECT_EQ(run(off, p5()).size(), 5u);
}

TEST(TopNSigma, KeptSetDoesNotDependOnAnEarlierTemperature) {
  // Dividing every logit by T scales z_max and σ alike.
  Temperature t(0.5f);
  TopNSigma two(2.0f);
  Candidates c = p5();
  t.apply(c, {});
  EXPECT_EQ(keys(run(two, c)), (Ids{0, 1, 3, 4}));
}

TEST(Epsilon, KeepsAnAbsoluteFloorAndAtLeastTheTopToken) {
  Epsilon s(0.12f);  // p ≥ 0.12 → {1, 3, 4}
  EXPECT_EQ(keys(run(s, p5())), (Ids{1, 3, 4}));
  Epsilon high(0.5f);  // nothing reaches 0.5 → the top token stays
  EXPECT_EQ(keys(run(high, p5())), (Ids{1}));
}

TEST(Eta, FloorIsTheSmallerOfEpsilonAndSqrtEpsilonTimesExpMinusEntropy) {
  // ε = 0.2, H = 1.392321: sqrt(0.2)·exp(−H) = 0.447214 · 0.248502 = 0.111132 < 0.2, so η = 0.111132.
  // Keeps p ≥ 0.111132 → {1, 3, 4}; ε alone (0.2) would have kept {1, 3}. Renormalised over 0.85.
  Eta s(0.2f);
  auto p = run(s, p5());
  EXPECT_EQ(keys(p), (Ids{1, 3, 4}));
  EXPECT_NEAR(p[4], 0.176471, 1e-5);
}

TEST(TopH, KeepsTheLargestPrefixWhosePartialEntropyFitsAlphaTimesTheTotal) {
  // −p log2 p in sorted order: 0.528771, 0.521090, 0.410545, 0.332193, 0.216096
  // S_m = 0.528771, 1.049861, 1.460406, 1.792599, 2.008695 (= H in bits)
  // α = 0.4: budget 0.803478 → S_1 fits, S_2 does not → {1}
  TopH a4(0.4f);
  EXPECT_EQ(keys(run(a4, p5())), (Ids{1}));
  // α = 0.8: budget 1.606956 → S_3 fits, S_4 does not → {1, 3, 4}, renormalised over 0.85
  TopH a8(0.8f);
  auto p = run(a8, p5());
  EXPECT_EQ(keys(p), (Ids{1, 3, 4}));
  EXPECT_NEAR(p[1], 0.470588, 1e-5);
}

TEST(TopH, BudgetComesFromTheTopNOnly) {
  // top_n = 2: budget 0.8 · (0.528771 + 0.521090) = 0.839889; S_2 = 1.049861 exceeds it → {1}
  TopH s(0.8f, 2);
  EXPECT_EQ(keys(run(s, p5())), (Ids{1}));
}

TEST(Xtc, RemovesEveryTopChoiceButTheLeastLikelyOne) {
  // threshold 0.12: above it are 1 (0.4), 3 (0.3), 4 (0.15); all but token 4 go.
  // Left: 4, 0, 2 with p 0.15, 0.1, 0.05 over 0.3 → 0.5, 0.333333, 0.166667
  Xtc s(1.0f, 0.12f);
  auto p = run(s, p5());  // no rng: fires only because probability is 1
  EXPECT_EQ(keys(p), (Ids{0, 2, 4}));
  EXPECT_NEAR(p[4], 0.5, 1e-5);
  EXPECT_NEAR(p[0], 0.333333, 1e-5);
  EXPECT_NEAR(p[2], 0.166667, 1e-5);
}

TEST(Xtc, NoOpCasesThresholdAboveHalfOneTokenAboveMinKeepAndNoRng) {
  EXPECT_EQ(run(*std::make_unique<Xtc>(1.0f, 0.6f), p5()).size(), 5u);          // > 0.5: off
  EXPECT_EQ(run(*std::make_unique<Xtc>(1.0f, 0.35f), p5()).size(), 5u);         // only token 1 ≥ 0.35
  EXPECT_EQ(run(*std::make_unique<Xtc>(1.0f, 0.12f, 4), p5()).size(), 5u);      // 5 − 2 < min_keep 4
  EXPECT_EQ(run(*std::make_unique<Xtc>(0.5f, 0.12f), p5()).size(), 5u);         // no rng: coin reads 1
}

TEST(Xtc, CoinComesFromTheContextRng) {
  // It fires iff the first uniform of the rng is ≤ probability.
  int n_fired = 0;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    const double u = Rng(seed).uniform();
    Rng rng(seed);
    Context ctx;
    ctx.rng = &rng;
    Xtc s(0.5f, 0.12f);
    const bool fired = run(s, p5(), ctx).size() == 3;
    EXPECT_EQ(fired, u <= 0.5) << "seed " << seed;
    n_fired += fired;
  }
  EXPECT_GT(n_fired, 0);
  EXPECT_LT(n_fired, 16);
}

}  // namespace
}  // namespace ts::sampling
