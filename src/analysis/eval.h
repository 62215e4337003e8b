// Evaluating a detector: its scores on positive documents (the class the score should rank HIGHER, e.g. machine-
// written text for Fast-DetectGPT, members for Min-K%) and on negative documents. Flip the sign of scores whose
// convention is "lower ⇒ positive" (Binoculars, the zlib ratio) before calling.
//
//   AUROC            P(s⁺ > s⁻) + ½ P(s⁺ = s⁻) = U / (n⁺ n⁻), U the Mann–Whitney statistic from mid-ranks
//   TPR at FPR ≤ α   the largest TPR of a rule "positive iff s ≥ τ" whose FPR is at most α: with
//                    c = ⌊α n⁻⌋ false positives allowed and v the (c+1)-th largest negative score,
//                    TPR = #{s⁺ > v} / n⁺ (= 1 when c ≥ n⁻). No interpolation between ROC points. (The Min-K%++ code
//                    takes tpr[fpr ≤ α][-1] from sklearn's ROC, the same number; the Min-K% and DC-PDD code use
//                    fpr < α, which allows one false positive fewer when α n⁻ is an integer.)
//   best accuracy    max over τ of the accuracy of "positive iff s ≥ τ", τ over the scores and +inf; plain
//                    (TP + TN)/(n⁺ + n⁻) and balanced (TPR + TNR)/2 — the Min-K% and DC-PDD code report the
//                    balanced one, max(1 − (FPR + FNR)/2); the two agree when the classes have equal size
//   bootstrap CI     resample the positives and the negatives separately, with replacement, keeping their counts
//                    (so every resample has both classes); the metric on each of `resamples` resamples; the
//                    percentile interval [q_{(1−level)/2}, q_{(1+level)/2}] (linear quantiles). The generator is
//                    SplitMix64 with Lemire's unbiased bounded draw, so a seed gives the same interval everywhere.
// Errors (input): an empty class, a NaN score, α outside [0, 1], resamples < 1, level outside (0, 1).
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "tokenscope/expected.h"

namespace ts::analysis {

Expected<double> auroc(std::span<const double> positives, std::span<const double> negatives);
Expected<double> tpr_at_fpr(std::span<const double> positives, std::span<const double> negatives, double max_fpr);

struct ThresholdAccuracy {
  double accuracy = 0;   // plain or balanced, as asked
  double threshold = 0;  // τ: positive iff score ≥ τ (+inf: everything negative); the lowest τ among equals
};
Expected<ThresholdAccuracy> best_threshold_accuracy(std::span<const double> positives,
                                                    std::span<const double> negatives, bool balanced);

struct BinaryMetrics {
  double auroc = 0;
  double tpr_at_1pct_fpr = 0;
  double tpr_at_5pct_fpr = 0;
  double best_accuracy = 0;  // plain
  double best_accuracy_threshold = 0;
  double best_balanced_accuracy = 0;
};
Expected<BinaryMetrics> binary_metrics(std::span<const double> positives, std::span<const double> negatives);

struct Interval {
  double lo = 0, hi = 0;
};
struct BootstrapOptions {
  int resamples = 1000;
  uint64_t seed = 0x7453636f7065ULL;  // fixed: reruns give the same intervals
  double level = 0.95;
};
// metric: called on each resample (both spans non-empty, no NaN).
using Metric = std::function<double(std::span<const double> positives, std::span<const double> negatives)>;
Expected<Interval> bootstrap_ci(std::span<const double> positives, std::span<const double> negatives,
                                const Metric& metric, const BootstrapOptions& opt = {});

struct Evaluation {
  BinaryMetrics point;
  Interval auroc, tpr_at_1pct_fpr, tpr_at_5pct_fpr, best_accuracy, best_balanced_accuracy;
};
Expected<Evaluation> evaluate(std::span<const double> positives, std::span<const double> negatives,
                              const BootstrapOptions& opt = {});

}  // namespace ts::analysis
