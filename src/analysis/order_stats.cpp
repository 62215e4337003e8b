#include "analysis/order_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ts::analysis {

double quantile_sorted(std::span<const double> sorted, double alpha) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  alpha = std::clamp(alpha, 0.0, 1.0);
  const double h = alpha * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

double quantile(std::vector<double> values, double alpha) {
  std::sort(values.begin(), values.end());
  return quantile_sorted(values, alpha);
}

double mean_of_lowest(std::vector<double> values, double fraction) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const size_t n = values.size();
  // int(n·k) as the authors' code, with the same double product, then at least one
  size_t c = static_cast<size_t>(std::max(0.0, static_cast<double>(n) * fraction));
  c = std::clamp<size_t>(c, 1, n);
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(c - 1), values.end());
  double s = 0;
  for (size_t i = 0; i < c; ++i) s += values[i];  // nth_element leaves the c smallest in front
  return s / static_cast<double>(c);
}

std::vector<uint8_t> top_fraction_flags(std::span<const double> values, double fraction) {
  std::vector<uint8_t> flags(values.size(), 0);
  if (values.empty() || fraction <= 0) return flags;
  const double threshold = quantile(std::vector<double>(values.begin(), values.end()), 1.0 - fraction);
  for (size_t i = 0; i < values.size(); ++i) flags[i] = values[i] >= threshold;
  return flags;
}

}  // namespace ts::analysis
