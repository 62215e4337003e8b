#include "analysis/log_rank.h"

#include <cmath>
#include <limits>

namespace ts::analysis {

double log_rank_score(std::span<const PositionSignals> pos) {
  if (pos.empty()) return std::numeric_limits<double>::quiet_NaN();
  double s = 0;
  for (const auto& p : pos) s += std::log(static_cast<double>(p.rank));
  return -s / static_cast<double>(pos.size());
}

}  // namespace ts::analysis
