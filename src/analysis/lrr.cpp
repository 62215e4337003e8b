#include "analysis/lrr.h"

#include <cmath>
#include <limits>

namespace ts::analysis {

double lrr(std::span<const PositionSignals> pos) {
  if (pos.empty()) return std::numeric_limits<double>::quiet_NaN();
  double nll = 0, log_rank = 0;
  for (const auto& p : pos) {
    nll -= p.logprob;
    log_rank += std::log(static_cast<double>(p.rank));
  }
  if (log_rank == 0) return std::numeric_limits<double>::infinity();
  return nll / log_rank;
}

}  // namespace ts::analysis
