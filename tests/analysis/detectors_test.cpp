// Machine-text detectors on hand-made documents: log-likelihood, log-rank, LRR, entropy, Fast-DetectGPT (same and
// different sampling model), Binoculars — each value worked out in the comments.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "analysis/binoculars.h"
#include "analysis/contrast.h"
#include "analysis/fast_detectgpt.h"
#include "analysis/log_likelihood.h"
#include "analysis/log_rank.h"
#include "analysis/lrr.h"
#include "analysis/mean_entropy.h"
#include "analysis/position_signals.h"
#include "analysis/token_stats.h"

namespace ts::analysis {
namespace {

const double kLn2 = std::log(2.0);

PositionSignals sig(double logprob, int64_t rank, double entropy = 0) {
  PositionSignals p;
  p.logprob = logprob;
  p.rank = rank;
  p.entropy = entropy;
  return p;
}

std::vector<float> logits_of(const std::vector<double>& p, double offset) {
  std::vector<float> z;
  for (double v : p) z.push_back(static_cast<float>(std::log(v) + offset));
  return z;
}

// The dyadic pair of contrast_test.cpp:
// A = (1/2, 1/4, 1/8, 1/16, 1/16), kA = (1, 2, 3, 4, 4);  B = (1/8, 1/2, 1/8, 1/8, 1/8), kB = (3, 1, 3, 3, 3)
// (log p = −k ln2). E_A[log pB] = −2.5 ln2, Var_A[log pB] = 0.75 (ln2)²; E_B[log pA] = −2.5 ln2,
// Var_B[log pA] = (ln2)²; H(A) = 1.875 ln2, Var_A[log pA] = 1.109375 (ln2)²; H(B) = 2 ln2.
const std::vector<double> kA = {0.5, 0.25, 0.125, 0.0625, 0.0625};
const std::vector<double> kB = {0.125, 0.5, 0.125, 0.125, 0.125};

// One position as the runtime builds it: token_stats of the scoring model, contrast against the reference.
PositionSignals position(const std::vector<double>& reference, const std::vector<double>& scoring, int32_t x) {
  const auto zr = logits_of(reference, 0.5), zs = logits_of(scoring, -1.5);
  return position_signals(token_stats(zs.data(), 5, x, 2), contrast_stats(zr.data(), zs.data(), 5, x));
}

TEST(Detectors, LogLikelihoodLogRankAndLrr) {
  // log p = (−1, −2), ranks (2, 4): Σ log r = ln2 + ln4 = 3 ln2
  const std::vector<PositionSignals> d = {sig(-1, 2), sig(-2, 4)};
  EXPECT_DOUBLE_EQ(log_likelihood(d), -1.5);
  EXPECT_NEAR(log_rank_score(d), -1.5 * kLn2, 1e-15);  // −(3 ln2)/2
  EXPECT_NEAR(lrr(d), 1 / kLn2, 1e-15);                // −(−3) / (3 ln2)
}

TEST(Detectors, LrrIsInfiniteWhenEveryTokenIsTopRanked) {
  const std::vector<PositionSignals> d = {sig(-0.1, 1), sig(-0.2, 1)};
  EXPECT_TRUE(std::isinf(lrr(d)) && lrr(d) > 0);
}

TEST(Detectors, EmptyDocumentGivesNaN) {
  const std::vector<PositionSignals> d;
  EXPECT_TRUE(std::isnan(log_likelihood(d)));
  EXPECT_TRUE(std::isnan(log_rank_score(d)));
  EXPECT_TRUE(std::isnan(lrr(d)));
  EXPECT_TRUE(std::isnan(mean_entropy(d)));
  EXPECT_TRUE(std::isnan(fast_detectgpt(d, SamplingModel::kScoring)->score));
  EXPECT_TRUE(std::isnan(binoculars(d)->score));
}

TEST(Detectors, EntropyBaselineIsNegatedMean) {
  const std::vector<PositionSignals> d = {sig(-1, 1, 0.5), sig(-1, 1, 1.5), sig(-1, 1, 4.0)};
  EXPECT_DOUBLE_EQ(mean_entropy(d), 2.0);
  EXPECT_DOUBLE_EQ(entropy_detector_score(d), -2.0);
}

TEST(Detectors, PerplexityAndBitsPerByte) {
  // NLL sum 3 over 2 tokens: mean 1.5, PPL e^1.5; 6 bytes: 3 / ln2 / 6 = 0.5 / ln2 bits per byte
  const std::vector<PositionSignals> d = {sig(-1, 2), sig(-2, 4)};
  const Perplexity p = perplexity(d, 6);
  EXPECT_EQ(p.tokens, 2);
  EXPECT_DOUBLE_EQ(p.nll_sum, 3.0);
  EXPECT_DOUBLE_EQ(p.nll_mean, 1.5);
  EXPECT_NEAR(p.ppl, std::exp(1.5), 1e-12);
  EXPECT_NEAR(p.bits_per_byte, 0.5 / kLn2, 1e-15);
  EXPECT_EQ(perplexity(d, 0).bits_per_byte, 0.0);
}

TEST(Detectors, FastDetectGptWhiteBoxUsesEntropyAndVarentropy) {
  // Scoring = sampling = A at two positions, x = 0 (log p = −ln2) and x = 2 (−3 ln2):
  // LL = −4 ln2; μ_t = −H(A) = −1.875 ln2 each, Σμ = −3.75 ln2; s2_t = 1.109375 (ln2)², Σ = 2.21875 (ln2)²
  // score = (−4 + 3.75) ln2 / (sqrt(2.21875) ln2) = −0.25 / sqrt(2.21875)
  const std::vector<PositionSignals> d = {position(kB, kA, 0), position(kB, kA, 2)};
  const FastDetectGptTerms t = *fast_detectgpt(d, SamplingModel::kScoring);
  EXPECT_NEAR(t.log_likelihood_sum, -4 * kLn2, 1e-6);
  EXPECT_NEAR(t.mean_sum, -3.75 * kLn2, 1e-6);
  EXPECT_NEAR(t.variance_sum, 2.21875 * kLn2 * kLn2, 1e-6);
  EXPECT_NEAR(t.score, -0.25 / std::sqrt(2.21875), 1e-6);
}

TEST(Detectors, FastDetectGptWithReferenceSamplingModel) {
  // Position 1: sampling q = A, scoring p = B, x = 1: log p(x) = −ln2, μ = E_A[log pB] = −2.5 ln2, s2 = 0.75 (ln2)²
  // Position 2: sampling q = B, scoring p = A, x = 0: log p(x) = −ln2, μ = E_B[log pA] = −2.5 ln2, s2 = (ln2)²
  // LL = −2 ln2, Σμ = −5 ln2, Σs2 = 1.75 (ln2)²:  score = 3 ln2 / (sqrt(1.75) ln2) = 3 / sqrt(1.75) ≈ 2.2678
  const std::vector<PositionSignals> d = {position(kA, kB, 1), position(kB, kA, 0)};
  const FastDetectGptTerms t = *fast_detectgpt(d, SamplingModel::kReference);
  EXPECT_NEAR(t.log_likelihood_sum, -2 * kLn2, 1e-6);
  EXPECT_NEAR(t.mean_sum, -5 * kLn2, 1e-6);
  EXPECT_NEAR(t.variance_sum, 1.75 * kLn2 * kLn2, 1e-6);
  EXPECT_NEAR(t.score, 3 / std::sqrt(1.75), 1e-6);
  // the same document scored white-box (q = p) gives another number: μ = −H(B) = −2 ln2 and −H(A) = −1.875 ln2,
  // s2 = Var_B[log pB] + Var_A[log pA]; Var_B = (ln2)² (1/2·1 + 1/2·9 − 4) = (ln2)², so
  // score = (−2 + 3.875) / sqrt(1 + 1.109375) = 1.875 / sqrt(2.109375)
  EXPECT_NEAR(fast_detectgpt(d, SamplingModel::kScoring)->score, 1.875 / std::sqrt(2.109375), 1e-6);
}

TEST(Detectors, FastDetectGptSumsBeforeDividing) {
  // Not the mean of per-token z-scores: positions (LL − μ, s2) = (1, 1) and (1, 9) give 2 / sqrt(10), while the
  // per-token z-scores 1/1 and 1/3 would average to 2/3.
  PositionSignals a = sig(-1, 1, 2.0), b = sig(-2, 1, 3.0);  // μ = −H: LL − μ = −1 + 2 = 1 and −2 + 3 = 1
  a.varentropy = 1;
  b.varentropy = 9;
  const std::vector<PositionSignals> d = {a, b};
  EXPECT_NEAR(fast_detectgpt(d, SamplingModel::kScoring)->score, 2 / std::sqrt(10.0), 1e-15);
}

TEST(Detectors, FastDetectGptReferenceNeedsReferenceStatistics) {
  const std::vector<PositionSignals> d = {position(kA, kB, 1), sig(-1, 1)};
  const auto t = fast_detectgpt(d, SamplingModel::kReference);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("position 1"), std::string::npos) << t.error().message;
}

TEST(Detectors, BinocularsUsesPerformerPerplexityOverObserverToPerformerCrossEntropy) {
  // Observer M1 = reference, performer M2 = scoring.
  // Position 1: M1 = A, M2 = B, x = 1: log M2(x) = −ln2; X-PPL term H(A, B) = 2.5 ln2
  // Position 2: M1 = B, M2 = A, x = 2: log M2(x) = −3 ln2; X-PPL term H(B, A) = 2.5 ln2
  // log PPL = (1 + 3) ln2 / 2 = 2 ln2; X-PPL = 2.5 ln2; B = 0.8
  const std::vector<PositionSignals> d = {position(kA, kB, 1), position(kB, kA, 2)};
  const BinocularsTerms b = *binoculars(d);
  EXPECT_NEAR(b.log_ppl, 2 * kLn2, 1e-6);
  EXPECT_NEAR(b.x_ppl, 2.5 * kLn2, 1e-6);
  EXPECT_NEAR(b.score, 0.8, 1e-6);
  // With the roles swapped (observer B at position 1 scoring with A, …) the value differs: position 1 would give
  // log A(1) = −2 ln2 and H(B, A) = 2.5 ln2, position 2 log B(2) = −3 ln2 and H(A, B) = 2.5 ln2 → B = 1.0.
  const std::vector<PositionSignals> swapped = {position(kB, kA, 1), position(kA, kB, 2)};
  EXPECT_NEAR(binoculars(swapped)->score, 1.0, 1e-6);
}

TEST(Detectors, BinocularsNeedsObserverStatistics) {
  const std::vector<PositionSignals> d = {sig(-1, 1)};
  EXPECT_FALSE(binoculars(d).ok());
}

}  // namespace
}  // namespace ts::analysis
