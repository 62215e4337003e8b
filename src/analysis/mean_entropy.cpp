#include "analysis/mean_entropy.h"

#include <limits>

namespace ts::analysis {

double mean_entropy(std::span<const PositionSignals> pos) {
  if (pos.empty()) return std::numeric_limits<double>::quiet_NaN();
  double s = 0;
  for (const auto& p : pos) s += p.entropy;
  return s / static_cast<double>(pos.size());
}

}  // namespace ts::analysis
