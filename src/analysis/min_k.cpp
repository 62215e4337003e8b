#include "analysis/min_k.h"

#include <vector>

#include "analysis/order_stats.h"

namespace ts::analysis {

double min_k_prob(std::span<const PositionSignals> pos, double k) {
  std::vector<double> lp;
  lp.reserve(pos.size());
  for (const auto& p : pos) lp.push_back(p.logprob);
  return mean_of_lowest(std::move(lp), k);
}

}  // namespace ts::analysis
