#include "analysis/dc_pdd.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_set>

namespace ts::analysis {

TokenFrequency::TokenFrequency(std::vector<uint64_t> counts) : counts_(std::move(counts)) {
  for (uint64_t c : counts_) total_ += c;
}

double TokenFrequency::freq(int32_t id) const {
  return (static_cast<double>(counts_[static_cast<size_t>(id)]) + 1.0) /
         (static_cast<double>(total_) + static_cast<double>(counts_.size()));
}

double TokenFrequency::neg_log_freq(int32_t id) const { return -std::log(freq(id)); }

Expected<double> dc_pdd(std::span<const PositionSignals> pos, const TokenFrequency& freq, double a) {
  if (pos.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::unordered_set<int32_t> seen;
  double sum = 0;
  int64_t count = 0;
  for (size_t t = 0; t < pos.size(); ++t) {
    const int32_t id = pos[t].id;
    if (id < 0 || id >= freq.vocab_size())
      return Error::input("dc_pdd: position " + std::to_string(t) + ": token id " + std::to_string(id) +
                          " out of range of the frequency table (0.." + std::to_string(freq.vocab_size() - 1) + ")");
    if (!seen.insert(id).second) continue;  // only the first occurrence counts
    sum += std::min(std::exp(pos[t].logprob) * freq.neg_log_freq(id), a);
    ++count;
  }
  return sum / static_cast<double>(count);
}

}  // namespace ts::analysis
