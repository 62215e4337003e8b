#include "analysis/fast_detectgpt.h"

#include <cmath>
#include <limits>
#include <string>

namespace ts::analysis {

Expected<FastDetectGptTerms> fast_detectgpt(std::span<const PositionSignals> pos, SamplingModel sampling) {
  FastDetectGptTerms r;
  if (pos.empty()) {
    r.score = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  for (size_t t = 0; t < pos.size(); ++t) {
    const PositionSignals& p = pos[t];
    r.log_likelihood_sum += p.logprob;
    if (sampling == SamplingModel::kScoring) {
      r.mean_sum -= p.entropy;
      r.variance_sum += p.varentropy;
    } else {
      if (!p.has_reference)
        return Error::input("fast_detectgpt: position " + std::to_string(t) +
                            " has no reference-model statistics (sampling model = reference needs a second model)");
      r.mean_sum -= p.contrast.cross_ab;
      r.variance_sum += p.contrast.var_a_log_b;
    }
  }
  const double num = r.log_likelihood_sum - r.mean_sum;
  if (r.variance_sum > 0)
    r.score = num / std::sqrt(r.variance_sum);
  else
    r.score = num == 0 ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(), num);
  return r;
}

}  // namespace ts::analysis
