#include "analysis/eval.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "analysis/order_stats.h"

namespace ts::analysis {

namespace {

Status check_classes(std::span<const double> pos, std::span<const double> neg, const char* what) {
  if (pos.empty()) return Error::input(std::string(what) + ": no positive scores");
  if (neg.empty()) return Error::input(std::string(what) + ": no negative scores");
  for (size_t i = 0; i < pos.size(); ++i)
    if (std::isnan(pos[i])) return Error::input(std::string(what) + ": positive score " + std::to_string(i) + " is NaN");
  for (size_t i = 0; i < neg.size(); ++i)
    if (std::isnan(neg[i])) return Error::input(std::string(what) + ": negative score " + std::to_string(i) + " is NaN");
  return ok_status();
}

double auroc_unchecked(std::span<const double> pos, std::span<const double> neg) {
  std::vector<std::pair<double, bool>> all;
  all.reserve(pos.size() + neg.size());
  for (double s : pos) all.emplace_back(s, true);
  for (double s : neg) all.emplace_back(s, false);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  double rank_sum = 0;  // of the positives, 1-based mid-ranks
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    int64_t n_pos = 0;
    while (j < all.size() && all[j].first == all[i].first) n_pos += all[j++].second;
    const double mid = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;  // ranks i+1 .. j
    rank_sum += mid * static_cast<double>(n_pos);
    i = j;
  }
  const double np = static_cast<double>(pos.size()), nn = static_cast<double>(neg.size());
  return (rank_sum - np * (np + 1) / 2) / (np * nn);
}

double tpr_at_fpr_unchecked(std::span<const double> pos, std::span<const double> neg, double max_fpr) {
  // + 1e-9: α·n⁻ that should be an integer may land just below it (0.29 · 100 = 28.999…)
  const size_t allowed = static_cast<size_t>(std::floor(max_fpr * static_cast<double>(neg.size()) + 1e-9));
  if (allowed >= neg.size()) return 1.0;
  std::vector<double> n(neg.begin(), neg.end());
  std::nth_element(n.begin(), n.begin() + static_cast<ptrdiff_t>(allowed), n.end(), std::greater<>());
  const double v = n[allowed];  // the (allowed+1)-th largest negative: τ must lie above it
  size_t tp = 0;
  for (double s : pos) tp += s > v;
  return static_cast<double>(tp) / static_cast<double>(pos.size());
}

ThresholdAccuracy best_accuracy_unchecked(std::span<const double> pos, std::span<const double> neg, bool balanced) {
  std::vector<std::pair<double, bool>> all;
  all.reserve(pos.size() + neg.size());
  for (double s : pos) all.emplace_back(s, true);
  for (double s : neg) all.emplace_back(s, false);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  const double np = static_cast<double>(pos.size()), nn = static_cast<double>(neg.size());
  auto acc = [&](double tp, double tn) { return balanced ? (tp / np + tn / nn) / 2 : (tp + tn) / (np + nn); };
  ThresholdAccuracy best{-1, 0};
  double pos_below = 0, neg_below = 0;  // scores < τ
  for (size_t i = 0; i < all.size();) {
    const double a = acc(np - pos_below, neg_below);  // τ = all[i].first
    if (a > best.accuracy) best = {a, all[i].first};
    size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) (all[j++].second ? pos_below : neg_below) += 1;
    i = j;
  }
  const double a = acc(0, nn);  // τ = +inf
  if (a > best.accuracy) best = {a, std::numeric_limits<double>::infinity()};
  return best;
}

// SplitMix64 (Steele, Lea, Flood 2014): tiny, and fully specified, unlike std:: distributions.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n ≥ 1: Lemire's multiply-and-reject (2019), without modulo bias.
  uint64_t below(uint64_t n) {
    unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t t = (0 - n) % n;
      while (low < t) {
        m = static_cast<unsigned __int128>(next()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

 private:
  uint64_t s_;
};

}  // namespace

Expected<double> auroc(std::span<const double> positives, std::span<const double> negatives) {
  if (Status s = check_classes(positives, negatives, "auroc"); !s) return s.error();
  return auroc_unchecked(positives, negatives);
}

Expected<double> tpr_at_fpr(std::span<const double> positives, std::span<const double> negatives, double max_fpr) {
  if (Status s = check_classes(positives, negatives, "tpr_at_fpr"); !s) return s.error();
  if (!(max_fpr >= 0 && max_fpr <= 1))
    return Error::input("tpr_at_fpr: max_fpr " + std::to_string(max_fpr) + " out of range 0..1");
  return tpr_at_fpr_unchecked(positives, negatives, max_fpr);
}

Expected<ThresholdAccuracy> best_threshold_accuracy(std::span<const double> positives,
                                                    std::span<const double> negatives, bool balanced) {
  if (Status s = check_classes(positives, negatives, "best_threshold_accuracy"); !s) return s.error();
  return best_accuracy_unchecked(positives, negatives, balanced);
}

Expected<BinaryMetrics> binary_metrics(std::span<const double> positives, std::span<const double> negatives) {
  if (Status s = check_classes(positives, negatives, "binary_metrics"); !s) return s.error();
  BinaryMetrics m;
  m.auroc = auroc_unchecked(positives, negatives);
  m.tpr_at_1pct_fpr = tpr_at_fpr_unchecked(positives, negatives, 0.01);
  m.tpr_at_5pct_fpr = tpr_at_fpr_unchecked(positives, negatives, 0.05);
  const ThresholdAccuracy plain = best_accuracy_unchecked(positives, negatives, false);
  m.best_accuracy = plain.accuracy;
  m.best_accuracy_threshold = plain.threshold;
  m.best_balanced_accuracy = best_accuracy_unchecked(positives, negatives, true).accuracy;
  return m;
}

Expected<Interval> bootstrap_ci(std::span<const double> positives, std::span<const double> negatives,
                                const Metric& metric, const BootstrapOptions& opt) {
  if (Status s = check_classes(positives, negatives, "bootstrap_ci"); !s) return s.error();
  if (opt.resamples < 1)
    return Error::input("bootstrap_ci: resamples " + std::to_string(opt.resamples) + " out of range 1..");
  if (!(opt.level > 0 && opt.level < 1))
    return Error::input("bootstrap_ci: level " + std::to_string(opt.level) + " out of range (0, 1)");
  SplitMix64 rng(opt.seed);
  std::vector<double> p(positives.size()), n(negatives.size()), values;
  values.reserve(static_cast<size_t>(opt.resamples));
  for (int r = 0; r < opt.resamples; ++r) {
    for (auto& v : p) v = positives[rng.below(positives.size())];
    for (auto& v : n) v = negatives[rng.below(negatives.size())];
    values.push_back(metric(p, n));
  }
  std::sort(values.begin(), values.end());
  const double tail = (1 - opt.level) / 2;
  return Interval{quantile_sorted(values, tail), quantile_sorted(values, 1 - tail)};
}

Expected<Evaluation> evaluate(std::span<const double> positives, std::span<const double> negatives,
                              const BootstrapOptions& opt) {
  Expected<BinaryMetrics> point = binary_metrics(positives, negatives);
  if (!point) return point.error();
  Evaluation e;
  e.point = *point;
  struct Item {
    Interval* out;
    Metric metric;
  };
  const Item items[] = {
      {&e.auroc, auroc_unchecked},
      {&e.tpr_at_1pct_fpr, [](auto p, auto n) { return tpr_at_fpr_unchecked(p, n, 0.01); }},
      {&e.tpr_at_5pct_fpr, [](auto p, auto n) { return tpr_at_fpr_unchecked(p, n, 0.05); }},
      {&e.best_accuracy, [](auto p, auto n) { return best_accuracy_unchecked(p, n, false).accuracy; }},
      {&e.best_balanced_accuracy, [](auto p, auto n) { return best_accuracy_unchecked(p, n, true).accuracy; }},
  };
  for (const Item& it : items) {
    // every metric sees the same resamples (same seed), so their intervals are comparable
    Expected<Interval> ci = bootstrap_ci(positives, negatives, it.metric, opt);
    if (!ci) return ci.error();
    *it.out = *ci;
  }
  return e;
}

}  // namespace ts::analysis
