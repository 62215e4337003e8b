#include "analysis/window_entropy.h"

#include <algorithm>
#include <limits>

#include "analysis/order_stats.h"

namespace ts::analysis {

std::vector<double> window_entropy(std::span<const PositionSignals> pos, int64_t w) {
  const int64_t n = static_cast<int64_t>(pos.size());
  w = std::max<int64_t>(w, 1);
  std::vector<double> prefix(static_cast<size_t>(n) + 1, 0.0);  // prefix sums: each window in O(1)
  for (int64_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + pos[i].entropy;
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) {
    const int64_t lo = std::max<int64_t>(0, t - w + 1);
    out[t] = (prefix[t + 1] - prefix[lo]) / static_cast<double>(t + 1 - lo);
  }
  return out;
}

std::vector<uint8_t> high_window_entropy_flags(std::span<const PositionSignals> pos, int64_t w, double top_fraction) {
  const std::vector<double> we = window_entropy(pos, w);
  return top_fraction_flags(we, top_fraction);
}

EntropySpan highest_entropy_span(std::span<const PositionSignals> pos, int64_t w) {
  const int64_t n = static_cast<int64_t>(pos.size());
  EntropySpan best;
  if (n == 0) {
    best.mean_entropy = std::numeric_limits<double>::quiet_NaN();
    return best;
  }
  w = std::clamp<int64_t>(w, 1, n);
  double sum = 0;
  for (int64_t i = 0; i < w; ++i) sum += pos[i].entropy;
  double best_sum = sum;
  int64_t best_begin = 0;
  for (int64_t b = 1; b + w <= n; ++b) {
    sum += pos[b + w - 1].entropy - pos[b - 1].entropy;
    if (sum > best_sum) {  // strict: the earliest span wins ties
      best_sum = sum;
      best_begin = b;
    }
  }
  best.begin = best_begin;
  best.end = best_begin + w;
  best.mean_entropy = best_sum / static_cast<double>(w);
  return best;
}

}  // namespace ts::analysis
