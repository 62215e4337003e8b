#include "analysis/min_k_plus_plus.h"

#include <cmath>
#include <vector>

#include "analysis/order_stats.h"

namespace ts::analysis {

double min_k_plus_plus_token(const PositionSignals& p) {
  const double mu = -p.entropy;
  if (!(p.varentropy > 0)) return std::isinf(p.logprob) ? p.logprob : 0.0;
  return (p.logprob - mu) / std::sqrt(p.varentropy);
}

double min_k_plus_plus(std::span<const PositionSignals> pos, double k) {
  std::vector<double> s;
  s.reserve(pos.size());
  for (const auto& p : pos) s.push_back(min_k_plus_plus_token(p));
  return mean_of_lowest(std::move(s), k);
}

}  // namespace ts::analysis
