#include "analysis/binoculars.h"

#include <limits>
#include <string>

namespace ts::analysis {

Expected<BinocularsTerms> binoculars(std::span<const PositionSignals> pos) {
  BinocularsTerms r;
  if (pos.empty()) {
    r.log_ppl = r.x_ppl = r.score = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  double nll = 0, cross = 0;
  for (size_t t = 0; t < pos.size(); ++t) {
    if (!pos[t].has_reference)
      return Error::input("binoculars: position " + std::to_string(t) +
                          " has no observer statistics (Binoculars needs an observer and a performer model)");
    nll -= pos[t].logprob;
    cross += pos[t].contrast.cross_ab;
  }
  const double n = static_cast<double>(pos.size());
  r.log_ppl = nll / n;
  r.x_ppl = cross / n;
  r.score = r.log_ppl / r.x_ppl;
  return r;
}

}  // namespace ts::analysis
