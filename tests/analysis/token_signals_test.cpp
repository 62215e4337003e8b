// Token-level signals within a document: window entropy (ARES), highest-entropy span, forking tokens, Chow
// quantiles.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "analysis/chow_quantiles.h"
#include "analysis/forking_tokens.h"
#include "analysis/order_stats.h"
#include "analysis/window_entropy.h"

namespace ts::analysis {
namespace {

std::vector<PositionSignals> with_entropies(const std::vector<double>& h) {
  std::vector<PositionSignals> d;
  for (double v : h) {
    PositionSignals p;
    p.entropy = v;
    p.rank = 1;
    d.push_back(p);
  }
  return d;
}

TEST(TokenSignals, TrailingWindowEntropy) {
  // H = (1, 3, 2, 6, 0), w = 2: (1, (1+3)/2, (3+2)/2, (2+6)/2, (6+0)/2) = (1, 2, 2.5, 4, 3)
  const auto d = with_entropies({1, 3, 2, 6, 0});
  const std::vector<double> w = window_entropy(d, 2);
  const std::vector<double> want = {1, 2, 2.5, 4, 3};
  ASSERT_EQ(w.size(), want.size());
  for (size_t i = 0; i < w.size(); ++i) EXPECT_DOUBLE_EQ(w[i], want[i]) << i;
  // w = 1 is the entropy itself
  EXPECT_DOUBLE_EQ(window_entropy(d, 1)[3], 6.0);
}

TEST(TokenSignals, HighWindowEntropyFlagsTopFraction) {
  // window entropies (1, 2, 2.5, 4, 3), sorted (1, 2, 2.5, 3, 4); quantile 0.8: h = 0.8·4 = 3.2 → 3 + 0.2·1 = 3.2
  // → only position 3 (4 ≥ 3.2)
  const auto d = with_entropies({1, 3, 2, 6, 0});
  const std::vector<uint8_t> f = high_window_entropy_flags(d, 2, 0.2);
  EXPECT_EQ(f, (std::vector<uint8_t>{0, 0, 0, 1, 0}));
}

TEST(TokenSignals, HighestEntropySpan) {
  // H = (1, 3, 2, 6, 0): w = 2 sums (4, 5, 8, 6) → [2, 4), mean 4; w = 3 sums (6, 11, 8) → [1, 4), mean 11/3
  const auto d = with_entropies({1, 3, 2, 6, 0});
  const EntropySpan s2 = highest_entropy_span(d, 2);
  EXPECT_EQ(s2.begin, 2);
  EXPECT_EQ(s2.end, 4);
  EXPECT_DOUBLE_EQ(s2.mean_entropy, 4.0);
  const EntropySpan s3 = highest_entropy_span(d, 3);
  EXPECT_EQ(s3.begin, 1);
  EXPECT_EQ(s3.end, 4);
  EXPECT_NEAR(s3.mean_entropy, 11.0 / 3, 1e-15);
  // shorter than the window: the whole document
  const EntropySpan all = highest_entropy_span(d, 8);
  EXPECT_EQ(all.begin, 0);
  EXPECT_EQ(all.end, 5);
  EXPECT_DOUBLE_EQ(all.mean_entropy, 12.0 / 5);
  // ties: the earliest
  EXPECT_EQ(highest_entropy_span(with_entropies({2, 2, 2, 2}), 2).begin, 0);
}

TEST(TokenSignals, ForkingTokensAreTheTopFifthByEntropy) {
  // entropies 0 … 9 (shuffled): quantile 0.8 at h = 7.2 → 7.2; flagged: 8 and 9
  const std::vector<double> h = {3, 9, 0, 5, 8, 1, 7, 2, 6, 4};
  const std::vector<uint8_t> f = forking_token_flags(with_entropies(h));
  for (size_t i = 0; i < h.size(); ++i) EXPECT_EQ(f[i], h[i] >= 8 ? 1 : 0) << i;
}

TEST(TokenSignals, ForkingTokensFlagAllTiesAtTheThreshold) {
  const std::vector<uint8_t> f = forking_token_flags(with_entropies({1, 1, 1, 1, 1}));
  EXPECT_EQ(f, (std::vector<uint8_t>(5, 1)));
  EXPECT_TRUE(forking_token_flags(with_entropies({})).empty());
}

TEST(TokenSignals, ChowQuantilesOfTokenProbabilities) {
  // p(x_t) = (0.1, 0.5, 0.9, 0.3, 0.7), sorted (0.1, 0.3, 0.5, 0.7, 0.9); h = α·4:
  //   α 0 → 0.1;  0.1 → h 0.4 → 0.1 + 0.4·0.2 = 0.18;  0.25 → h 1 → 0.3;  0.5 → 0.5;  1 → 0.9
  std::vector<PositionSignals> d;
  for (double p : {0.1, 0.5, 0.9, 0.3, 0.7}) {
    PositionSignals s;
    s.logprob = std::log(p);
    d.push_back(s);
  }
  const std::vector<double> alphas = {0, 0.1, 0.25, 0.5, 1};
  const std::vector<double> q = chow_quantiles(d, alphas);
  const std::vector<double> want = {0.1, 0.18, 0.3, 0.5, 0.9};
  for (size_t i = 0; i < q.size(); ++i) EXPECT_NEAR(q[i], want[i], 1e-12) << alphas[i];
  const std::vector<double> deciles = chow_quantiles(d);
  ASSERT_EQ(deciles.size(), 11u);
  EXPECT_NEAR(deciles[0], 0.1, 1e-12);
  EXPECT_NEAR(deciles[5], 0.5, 1e-12);
  EXPECT_NEAR(deciles[10], 0.9, 1e-12);
}

TEST(TokenSignals, QuantileIsLinearBetweenOrderStatistics) {
  // numpy.quantile([4, 1, 3, 2], 0.5) = 2.5; 1/3 → h = 1 → 2
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 1.0 / 3), 2.0);
  EXPECT_TRUE(std::isnan(quantile({}, 0.5)));
}

}  // namespace
}  // namespace ts::analysis
