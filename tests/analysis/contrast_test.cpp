// contrast_stats: two distributions over one vocabulary, hand-computed on dyadic probabilities.
#include "analysis/contrast.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace ts::analysis {
namespace {

const double kLn2 = std::log(2.0);

std::vector<float> logits_of(const std::vector<double>& p, double offset) {
  std::vector<float> z;
  for (double v : p) z.push_back(v > 0 ? static_cast<float>(std::log(v) + offset) : -INFINITY);
  return z;
}

// A = (1/2, 1/4, 1/8, 1/16, 1/16): log p_A = −kA ln2, kA = (1, 2, 3, 4, 4)
// B = (1/8, 1/2, 1/8, 1/8, 1/8):   log p_B = −kB ln2, kB = (3, 1, 3, 3, 3)
const std::vector<double> kA = {0.5, 0.25, 0.125, 0.0625, 0.0625};
const std::vector<double> kB = {0.125, 0.5, 0.125, 0.125, 0.125};

TEST(Contrast, HandComputedDyadicPair) {
  const auto za = logits_of(kA, 7.0), zb = logits_of(kB, -2.0);  // offsets: logits, not log-probabilities
  const ContrastStats c = contrast_stats(za.data(), zb.data(), 5, 1);
  // H(A) = ln2 (1/2·1 + 1/4·2 + 1/8·3 + 1/16·4 + 1/16·4) = 1.875 ln2;  H(B) = ln2 (1/2·1 + 4·1/8·3) = 2 ln2
  EXPECT_NEAR(c.entropy_a, 1.875 * kLn2, 1e-6);
  EXPECT_NEAR(c.entropy_b, 2.0 * kLn2, 1e-6);
  // H(A,B) = ln2 Σ pA kB = ln2 (1/2·3 + 1/4·1 + 1/8·3 + 1/16·3 + 1/16·3) = 2.5 ln2
  // H(B,A) = ln2 Σ pB kA = ln2 (1/8·1 + 1/2·2 + 1/8·3 + 1/8·4 + 1/8·4) = 2.5 ln2
  EXPECT_NEAR(c.cross_ab, 2.5 * kLn2, 1e-6);
  EXPECT_NEAR(c.cross_ba, 2.5 * kLn2, 1e-6);
  // KL(A‖B) = H(A,B) − H(A) = 0.625 ln2;  KL(B‖A) = H(B,A) − H(B) = 0.5 ln2
  EXPECT_NEAR(c.kl_ab, 0.625 * kLn2, 1e-6);
  EXPECT_NEAR(c.kl_ba, 0.5 * kLn2, 1e-6);
  // Var_A[log pB] = (ln2)² (E_A[kB²] − 2.5²), E_A[kB²] = 1/2·9 + 1/4·1 + 1/8·9 + 2·1/16·9 = 7 → 0.75 (ln2)²
  // Var_B[log pA] = (ln2)² (E_B[kA²] − 2.5²), E_B[kA²] = 1/8·1 + 1/2·4 + 1/8·9 + 2·1/8·16 = 7.25 → 1 (ln2)²
  EXPECT_NEAR(c.var_a_log_b, 0.75 * kLn2 * kLn2, 1e-6);
  EXPECT_NEAR(c.var_b_log_a, 1.0 * kLn2 * kLn2, 1e-6);
  // argmax A = 0, argmax B = 1
  EXPECT_EQ(c.top1_a, 0);
  EXPECT_EQ(c.top1_b, 1);
  EXPECT_FALSE(c.top1_agree);
  // target 1: log pA = −2 ln2, log pB = −ln2, difference −ln2
  EXPECT_EQ(c.id, 1);
  EXPECT_NEAR(c.logprob_a, -2 * kLn2, 1e-6);
  EXPECT_NEAR(c.logprob_b, -kLn2, 1e-6);
  EXPECT_NEAR(c.logprob_diff, -kLn2, 1e-6);
  // log Z recovers the offsets: log Z_A = 7, log Z_B = −2 (the probabilities sum to 1)
  EXPECT_NEAR(c.log_z_a, 7.0, 1e-6);
  EXPECT_NEAR(c.log_z_b, -2.0, 1e-6);
}

TEST(Contrast, SameDistributionHasZeroKlAndVarentropyAsVariance) {
  const auto z = logits_of(kA, 1.0);
  const ContrastStats c = contrast_stats(z.data(), z.data(), 5, -1);
  EXPECT_NEAR(c.kl_ab, 0.0, 1e-12);
  EXPECT_NEAR(c.kl_ba, 0.0, 1e-12);
  EXPECT_NEAR(c.cross_ab, 1.875 * kLn2, 1e-6);
  // Var_A[log pA] = (ln2)² (E[kA²] − 1.875²) = (ln2)² (4.625 − 3.515625) = 1.109375 (ln2)²
  EXPECT_NEAR(c.var_a_log_b, 1.109375 * kLn2 * kLn2, 1e-6);
  EXPECT_TRUE(c.top1_agree);
  EXPECT_EQ(c.id, -1);
  EXPECT_EQ(c.logprob_diff, 0.0);
}

TEST(Contrast, MassWhereTheOtherIsZeroGivesInfiniteCrossEntropy) {
  // A = (1/2, 1/2, 0, 0, 0), B = (1/4, 1/4, 1/4, 1/4, 0): A ⊂ supp B, but B has mass where A has none.
  const auto za = logits_of({0.5, 0.5, 0, 0, 0}, 0.0), zb = logits_of({0.25, 0.25, 0.25, 0.25, 0}, 0.0);
  const ContrastStats c = contrast_stats(za.data(), zb.data(), 5, 0);
  EXPECT_NEAR(c.cross_ab, 2 * kLn2, 1e-6);  // −Σ pA log pB = ln 4
  EXPECT_NEAR(c.kl_ab, kLn2, 1e-6);         // ln 4 − ln 2
  EXPECT_NEAR(c.var_a_log_b, 0.0, 1e-12);
  EXPECT_TRUE(std::isinf(c.cross_ba) && c.cross_ba > 0);
  EXPECT_TRUE(std::isinf(c.kl_ba) && c.kl_ba > 0);
  EXPECT_NEAR(c.entropy_a, kLn2, 1e-6);  // the −inf logits contribute 0·log 0 = 0, not NaN
  EXPECT_TRUE(c.top1_agree) << "ties keep the lower id: both argmax 0";
}

TEST(Contrast, MatchesDefinitionsOnRandomLogits) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.f, 4.f);
  const int V = 3000;
  std::vector<float> za(V), zb(V);
  for (int i = 0; i < V; ++i) {
    za[i] = nd(rng);
    zb[i] = 0.5f * za[i] + nd(rng) + 30.f;  // correlated, far from 0 (log-sum-exp must handle the offset)
  }
  const ContrastStats c = contrast_stats(za.data(), zb.data(), V, 17);
  // by definition, from normalised log-probabilities
  auto log_probs = [](const std::vector<float>& z) {
    double s = 0, m = -INFINITY;
    for (float v : z) m = std::max(m, double(v));
    for (float v : z) s += std::exp(double(v) - m);
    std::vector<double> lp;
    for (float v : z) lp.push_back(double(v) - m - std::log(s));
    return lp;
  };
  const auto la = log_probs(za), lb = log_probs(zb);
  double kl_ab = 0, kl_ba = 0, mean = 0, sq = 0;
  for (int i = 0; i < V; ++i) {
    kl_ab += std::exp(la[i]) * (la[i] - lb[i]);
    kl_ba += std::exp(lb[i]) * (lb[i] - la[i]);
    mean += std::exp(la[i]) * lb[i];
  }
  for (int i = 0; i < V; ++i) sq += std::exp(la[i]) * (lb[i] - mean) * (lb[i] - mean);
  EXPECT_NEAR(c.kl_ab, kl_ab, 1e-9);
  EXPECT_NEAR(c.kl_ba, kl_ba, 1e-9);
  EXPECT_NEAR(c.cross_ab, -mean, 1e-9);
  EXPECT_NEAR(c.var_a_log_b, sq, 1e-9 * std::max(1.0, sq));
  EXPECT_NEAR(c.logprob_diff, la[17] - lb[17], 1e-9);
}

}  // namespace
}  // namespace ts::analysis
