#include "analysis/forking_tokens.h"

#include "analysis/order_stats.h"

namespace ts::analysis {

std::vector<uint8_t> forking_token_flags(std::span<const PositionSignals> pos, double top_fraction) {
  std::vector<double> h;
  h.reserve(pos.size());
  for (const auto& p : pos) h.push_back(p.entropy);
  return top_fraction_flags(h, top_fraction);
}

}  // namespace ts::analysis
