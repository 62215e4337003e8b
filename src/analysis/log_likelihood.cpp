#include "analysis/log_likelihood.h"

#include <cmath>
#include <limits>

namespace ts::analysis {

double log_likelihood(std::span<const PositionSignals> pos) {
  if (pos.empty()) return std::numeric_limits<double>::quiet_NaN();
  double s = 0;
  for (const auto& p : pos) s += p.logprob;
  return s / static_cast<double>(pos.size());
}

Perplexity perplexity(std::span<const PositionSignals> pos, int64_t text_bytes) {
  Perplexity r;
  r.tokens = static_cast<int64_t>(pos.size());
  for (const auto& p : pos) r.nll_sum -= p.logprob;
  r.nll_mean = pos.empty() ? std::numeric_limits<double>::quiet_NaN() : r.nll_sum / static_cast<double>(pos.size());
  r.ppl = std::exp(r.nll_mean);
  r.bits_per_byte = text_bytes > 0 ? r.nll_sum / std::log(2.0) / static_cast<double>(text_bytes) : 0.0;
  return r;
}

}  // namespace ts::analysis
