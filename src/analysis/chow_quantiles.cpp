#include "analysis/chow_quantiles.h"

#include <algorithm>
#include <cmath>

#include "analysis/order_stats.h"

namespace ts::analysis {

std::vector<double> chow_quantiles(std::span<const PositionSignals> pos, std::span<const double> alphas) {
  std::vector<double> prob;
  prob.reserve(pos.size());
  for (const auto& p : pos) prob.push_back(std::exp(p.logprob));
  std::sort(prob.begin(), prob.end());
  std::vector<double> out;
  out.reserve(alphas.size());
  for (double a : alphas) out.push_back(quantile_sorted(prob, a));
  return out;
}

std::vector<double> chow_quantiles(std::span<const PositionSignals> pos) {
  std::vector<double> alphas(11);
  for (int i = 0; i <= 10; ++i) alphas[i] = i / 10.0;  // i/10, not i·0.1: 0.3 and 0.7 stay the nearest doubles
  return chow_quantiles(pos, alphas);
}

}  // namespace ts::analysis
