// Membership-inference scores on hand-made documents: Min-K%, Min-K%++, zlib ratio, DC-PDD.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "analysis/dc_pdd.h"
#include "analysis/min_k.h"
#include "analysis/min_k_plus_plus.h"
#include "analysis/position_signals.h"
#include "analysis/token_stats.h"
#include "analysis/zlib_ratio.h"

namespace ts::analysis {
namespace {

PositionSignals sig(double logprob, double entropy = 0, double varentropy = 0, int32_t id = 0) {
  PositionSignals p;
  p.id = id;
  p.logprob = logprob;
  p.rank = 1;
  p.entropy = entropy;
  p.varentropy = varentropy;
  return p;
}

TEST(Membership, MinKTakesTheLowestFifthOfLogProbabilities) {
  // log p = −1 … −10 (shuffled): ⌊10·0.2⌋ = 2 lowest: −10, −9 → −9.5
  std::vector<PositionSignals> d;
  for (int v : {-3, -10, -1, -7, -9, -2, -5, -4, -8, -6}) d.push_back(sig(v));
  EXPECT_DOUBLE_EQ(min_k_prob(d), -9.5);
  EXPECT_DOUBLE_EQ(min_k_prob(d, 0.5), -8.0);  // −10 … −6
  EXPECT_DOUBLE_EQ(min_k_prob(d, 1.0), -5.5);  // all
}

TEST(Membership, MinKKeepsAtLeastOneTokenInShortDocuments) {
  // ⌊3·0.2⌋ = 0: the authors' code would average nothing; we take the lowest
  const std::vector<PositionSignals> d = {sig(-1), sig(-4), sig(-2)};
  EXPECT_DOUBLE_EQ(min_k_prob(d), -4.0);
}

TEST(Membership, MinKPlusPlusStandardisesByEntropyAndVarentropy) {
  // s = (log p + H) / sqrt(V):
  //   (−1,   H 1,   V 1)    → 0
  //   (−3,   H 1,   V 4)    → −1
  //   (−0.5, H 2,   V 0.25) → 3
  //   (−5,   H 1,   V 16)   → −1
  //   (−2.5, H 0.5, V 1)    → −2
  const std::vector<PositionSignals> d = {sig(-1, 1, 1), sig(-3, 1, 4), sig(-0.5, 2, 0.25), sig(-5, 1, 16),
                                          sig(-2.5, 0.5, 1)};
  EXPECT_DOUBLE_EQ(min_k_plus_plus_token(d[2]), 3.0);
  EXPECT_DOUBLE_EQ(min_k_plus_plus(d), -2.0);       // ⌊5·0.2⌋ = 1 lowest
  EXPECT_DOUBLE_EQ(min_k_plus_plus(d, 0.4), -1.5);  // −2, −1
  EXPECT_DOUBLE_EQ(min_k_plus_plus(d, 1.0), -0.2);  // (0 − 1 + 3 − 1 − 2) / 5
}

TEST(Membership, MinKPlusPlusFromTokenStatsOnDyadicDistribution) {
  // p = (1/2, 1/4, 1/8, 1/16, 1/32, 1/32), x = 2 (p = 1/8): μ = −H = −1.9375 ln2, σ² = 1.43359375 (ln2)²
  // (token_stats_signals_test.cpp). s = (−3 + 1.9375) ln2 / (sqrt(1.43359375) ln2) = −1.0625 / sqrt(1.43359375)
  std::vector<float> z;
  for (double p : {0.5, 0.25, 0.125, 0.0625, 0.03125, 0.03125}) z.push_back(static_cast<float>(std::log(p)));
  const PositionSignals p = position_signals(token_stats(z.data(), 6, 2, 0));
  EXPECT_NEAR(min_k_plus_plus_token(p), -1.0625 / std::sqrt(1.43359375), 1e-6);
}

TEST(Membership, MinKPlusPlusFlatDistributionScoresZero) {
  // uniform: log p(x) = μ and σ = 0 — "as likely as average", not 0/0
  EXPECT_EQ(min_k_plus_plus_token(sig(-std::log(5.0), std::log(5.0), 0.0)), 0.0);
}

TEST(Membership, ZlibRatioIsMeanNllOverCompressedBytes) {
  // NLL mean (1 + 2 + 3) / 3 = 2 nats; 50 compressed bytes → 0.04
  const std::vector<PositionSignals> d = {sig(-1), sig(-2), sig(-3)};
  EXPECT_DOUBLE_EQ(zlib_ratio(d, 50), 0.04);
  EXPECT_TRUE(std::isnan(zlib_ratio(d, 0)));
}

TEST(Membership, TokenFrequencyIsLaplaceSmoothed) {
  // counts (10, 0, 4, 0, 5, 1): N = 20, |V| = 6 → f(v) = (c + 1) / 26
  const TokenFrequency f({10, 0, 4, 0, 5, 1});
  EXPECT_EQ(f.total(), 20u);
  EXPECT_DOUBLE_EQ(f.freq(0), 11.0 / 26);
  EXPECT_DOUBLE_EQ(f.freq(1), 1.0 / 26);
  EXPECT_NEAR(f.neg_log_freq(3), std::log(26.0), 1e-15);
}

TEST(Membership, DcPddScoresFirstOccurrencesClippedAtBound) {
  // f = (11, 1, 5, 1, 6, 2) / 26. Tokens and probabilities:
  //   t0 id 1, p 0.001 → 0.001 · ln(26)          = 0.003258   (first)
  //   t1 id 2, p 0.5   → 0.5 · ln(26/5) = 0.824 → clipped to a = 0.01
  //   t2 id 1, p 0.9   → repeat, skipped (would be 0.9 · ln 26, far above a, and would change the mean)
  //   t3 id 4, p 0.002 → 0.002 · ln(26/6)        = 0.002933
  //   t4 id 2, p 0.3   → repeat, skipped
  //   t5 id 0, p 0.004 → 0.004 · ln(26/11)       = 0.003441
  // score = mean of the 4 first occurrences
  const TokenFrequency f({10, 0, 4, 0, 5, 1});
  const std::vector<PositionSignals> d = {sig(std::log(0.001), 0, 0, 1), sig(std::log(0.5), 0, 0, 2),
                                          sig(std::log(0.9), 0, 0, 1),   sig(std::log(0.002), 0, 0, 4),
                                          sig(std::log(0.3), 0, 0, 2),   sig(std::log(0.004), 0, 0, 0)};
  const double want =
      (0.001 * std::log(26.0) + 0.01 + 0.002 * std::log(26.0 / 6) + 0.004 * std::log(26.0 / 11)) / 4;
  EXPECT_NEAR(*dc_pdd(d, f), want, 1e-15);
  // a larger bound lets t1 through: 0.5 · ln(26/5) replaces 0.01
  const double want_a1 = (0.001 * std::log(26.0) + 0.5 * std::log(26.0 / 5) + 0.002 * std::log(26.0 / 6) +
                          0.004 * std::log(26.0 / 11)) / 4;
  EXPECT_NEAR(*dc_pdd(d, f, 1.0), want_a1, 1e-15);
}

TEST(Membership, DcPddRejectsTokenOutsideFrequencyTable) {
  const TokenFrequency f({1, 2, 3});
  const std::vector<PositionSignals> d = {sig(-1, 0, 0, 1), sig(-1, 0, 0, 7)};
  const auto s = dc_pdd(d, f);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("token id 7"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace ts::analysis
