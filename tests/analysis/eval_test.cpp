// Detector evaluation on hand-made scores: AUROC with ties, TPR at a fixed FPR, best-threshold accuracy, the
// seeded bootstrap.
#include "analysis/eval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ts::analysis {
namespace {

TEST(Eval, AurocCountsTiesAsHalf) {
  // pos (0.9, 0.8, 0.4), neg (0.5, 0.4, 0.1): 0.9 and 0.8 beat all three (3 + 3); 0.4 beats 0.1, ties 0.4 (½),
  // loses to 0.5 → 1.5. AUROC = 7.5 / 9
  const std::vector<double> pos = {0.9, 0.8, 0.4}, neg = {0.5, 0.4, 0.1};
  EXPECT_NEAR(*auroc(pos, neg), 7.5 / 9, 1e-15);
  EXPECT_DOUBLE_EQ(*auroc(std::vector<double>{2, 3}, std::vector<double>{0, 1}), 1.0);
  EXPECT_DOUBLE_EQ(*auroc(std::vector<double>{0, 1}, std::vector<double>{2, 3}), 0.0);
  EXPECT_DOUBLE_EQ(*auroc(std::vector<double>{1, 1}, std::vector<double>{1, 1, 1}), 0.5);
}

TEST(Eval, AurocMatchesPairCountingWithManyTies) {
  // scores on a coarse grid so most pairs tie; the pair count is the definition
  std::vector<double> pos, neg;
  for (int i = 0; i < 40; ++i) pos.push_back((i * 7) % 5);
  for (int i = 0; i < 30; ++i) neg.push_back((i * 3) % 4);
  double u = 0;
  for (double p : pos)
    for (double n : neg) u += p > n ? 1.0 : p == n ? 0.5 : 0.0;
  EXPECT_NEAR(*auroc(pos, neg), u / (40.0 * 30.0), 1e-15);
}

TEST(Eval, AurocRejectsEmptyClassAndNaN) {
  const std::vector<double> some = {1, 2}, none;
  EXPECT_FALSE(auroc(some, none).ok());
  EXPECT_FALSE(auroc(none, some).ok());
  const std::vector<double> nan = {1, std::nan("")};
  const auto r = auroc(nan, some);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("positive score 1 is NaN"), std::string::npos) << r.error().message;
}

TEST(Eval, TprAtFixedFpr) {
  // 100 negatives 0.00 … 0.99. At FPR ≤ 5%, 5 false positives are allowed; the 6th largest negative is 0.94, so
  // τ must lie above 0.94: positives above it are 0.995 … 0.945 → 6 of 10. At 1%: 1 allowed, τ > 0.98 → 0.995,
  // 0.985 → 2 of 10. A positive equal to 0.94 does not count.
  std::vector<double> neg;
  for (int i = 0; i < 100; ++i) neg.push_back(i / 100.0);
  const std::vector<double> pos = {0.995, 0.985, 0.975, 0.965, 0.955, 0.945, 0.94, 0.5, 0.2, 0.1};
  EXPECT_DOUBLE_EQ(*tpr_at_fpr(pos, neg, 0.05), 0.6);
  EXPECT_DOUBLE_EQ(*tpr_at_fpr(pos, neg, 0.01), 0.2);
  EXPECT_DOUBLE_EQ(*tpr_at_fpr(pos, neg, 1.0), 1.0);
  // fewer negatives than 1/α: the 10 highest (0.90 … 0.99), ⌊0.05·10⌋ = 0 false positives allowed, τ > 0.99 →
  // 0.995 only
  EXPECT_DOUBLE_EQ(*tpr_at_fpr(pos, std::vector<double>(neg.end() - 10, neg.end()), 0.05), 0.1);
  EXPECT_FALSE(tpr_at_fpr(pos, neg, 1.5).ok());
}

TEST(Eval, TprAtFprWithTiedNegativesAtTheCut) {
  // neg (5, 5, 5, 1), α = 0.25: one false positive allowed, but the three 5s tie, so τ > 5 → pos (6, 5) gives 1/2
  EXPECT_DOUBLE_EQ(*tpr_at_fpr(std::vector<double>{6, 5}, std::vector<double>{5, 5, 5, 1}, 0.25), 0.5);
}

TEST(Eval, BestThresholdAccuracy) {
  // pos (0.9, 0.8, 0.4), neg (0.5, 0.4, 0.1), "positive iff s ≥ τ":
  //   τ 0.1: 3 + 0 | 0.4: 3 + 1 | 0.5: 2 + 2 | 0.8: 2 + 3 | 0.9: 1 + 3 | +inf: 0 + 3   → best 5/6 at τ = 0.8
  const std::vector<double> pos = {0.9, 0.8, 0.4}, neg = {0.5, 0.4, 0.1};
  const ThresholdAccuracy a = *best_threshold_accuracy(pos, neg, false);
  EXPECT_NEAR(a.accuracy, 5.0 / 6, 1e-15);
  EXPECT_DOUBLE_EQ(a.threshold, 0.8);
  EXPECT_NEAR(best_threshold_accuracy(pos, neg, true)->accuracy, 5.0 / 6, 1e-15) << "equal classes: same";
}

TEST(Eval, BalancedAccuracyDiffersOnUnequalClasses) {
  // pos (0.5), neg (0.1, 0.9, 0.95):
  //   plain: τ 0.1 → 1/4, 0.5 → (1 + 1)/4, 0.9 → (0 + 2)/4, 0.95 → 2/4, +inf → 3/4          → 0.75 at +inf
  //   balanced (TPR + TNR)/2: τ 0.1 → 1/2, 0.5 → (1 + 1/3)/2 = 2/3, 0.9 → 1/3, +inf → 1/2  → 2/3 at 0.5
  const std::vector<double> pos = {0.5}, neg = {0.1, 0.9, 0.95};
  const ThresholdAccuracy plain = *best_threshold_accuracy(pos, neg, false);
  EXPECT_DOUBLE_EQ(plain.accuracy, 0.75);
  EXPECT_TRUE(std::isinf(plain.threshold));
  const ThresholdAccuracy bal = *best_threshold_accuracy(pos, neg, true);
  EXPECT_NEAR(bal.accuracy, 2.0 / 3, 1e-15);
  EXPECT_DOUBLE_EQ(bal.threshold, 0.5);
}

TEST(Eval, BootstrapIsDeterministicForASeed) {
  std::vector<double> pos, neg;
  for (int i = 0; i < 60; ++i) pos.push_back(std::sin(i * 1.7) + 0.6);  // overlapping classes
  for (int i = 0; i < 50; ++i) neg.push_back(std::sin(i * 2.3));
  BootstrapOptions opt;
  const Evaluation a = *evaluate(pos, neg, opt);
  const Evaluation b = *evaluate(pos, neg, opt);
  EXPECT_EQ(a.auroc.lo, b.auroc.lo);
  EXPECT_EQ(a.auroc.hi, b.auroc.hi);
  EXPECT_LE(a.auroc.lo, a.point.auroc);
  EXPECT_GE(a.auroc.hi, a.point.auroc);
  EXPECT_GT(a.auroc.hi - a.auroc.lo, 0.02) << "overlapping classes of ~50: the interval is not a point";
  EXPECT_LT(a.auroc.hi - a.auroc.lo, 0.4);
  EXPECT_LE(a.tpr_at_5pct_fpr.lo, a.tpr_at_5pct_fpr.hi);
  opt.seed = 99;
  const Evaluation c = *evaluate(pos, neg, opt);
  EXPECT_TRUE(a.auroc.lo != c.auroc.lo || a.auroc.hi != c.auroc.hi) << "another seed draws other resamples";
}

TEST(Eval, BootstrapOfSeparatedClassesIsAPoint) {
  // every resample keeps both classes (stratified), and every resample is perfectly separated
  const std::vector<double> pos = {5, 6, 7}, neg = {1, 2};
  const Interval ci = *bootstrap_ci(pos, neg, [](auto p, auto n) { return *auroc(p, n); });
  EXPECT_EQ(ci.lo, 1.0);
  EXPECT_EQ(ci.hi, 1.0);
}

TEST(Eval, BootstrapResamplesWithReplacement) {
  // positives {0, 1}, negative {0.5}: a resample draws two positives, and its AUROC is (number of 1s drawn) / 2:
  // 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4. Over 1000 resamples about 250 are 0 and 250 are 1, so the
  // 2.5% and 97.5% quantiles are 0 and 1. (Without replacement every resample would be {0, 1}: AUROC 0.5.)
  const std::vector<double> pos = {0, 1}, neg = {0.5};
  const Interval ci = *bootstrap_ci(pos, neg, [](auto p, auto n) { return *auroc(p, n); });
  EXPECT_EQ(ci.lo, 0.0);
  EXPECT_EQ(ci.hi, 1.0);
  BootstrapOptions bad;
  bad.level = 1.0;
  EXPECT_FALSE(bootstrap_ci(pos, neg, [](auto p, auto n) { return *auroc(p, n); }, bad).ok());
}

TEST(Eval, BinaryMetricsGathersThePointEstimates) {
  const std::vector<double> pos = {0.9, 0.8, 0.4}, neg = {0.5, 0.4, 0.1};
  const BinaryMetrics m = *binary_metrics(pos, neg);
  EXPECT_NEAR(m.auroc, 7.5 / 9, 1e-15);
  // 3 negatives: ⌊0.05·3⌋ = 0 false positives allowed → τ > 0.5 → 0.9, 0.8 → 2/3
  EXPECT_NEAR(m.tpr_at_5pct_fpr, 2.0 / 3, 1e-15);
  EXPECT_NEAR(m.tpr_at_1pct_fpr, 2.0 / 3, 1e-15);
  EXPECT_NEAR(m.best_accuracy, 5.0 / 6, 1e-15);
  EXPECT_DOUBLE_EQ(m.best_accuracy_threshold, 0.8);
}

}  // namespace
}  // namespace ts::analysis
