#include "analysis/zlib_ratio.h"

#include <limits>

#include "analysis/log_likelihood.h"

namespace ts::analysis {

double zlib_ratio(std::span<const PositionSignals> pos, int64_t zlib_bytes) {
  if (zlib_bytes <= 0) return std::numeric_limits<double>::quiet_NaN();
  return -log_likelihood(pos) / static_cast<double>(zlib_bytes);
}

}  // namespace ts::analysis
