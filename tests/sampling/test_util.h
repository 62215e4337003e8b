// Small helpers shared by the sampling tests: distributions given as probabilities (logits = ln p, so a softmax
// gives the p back and expected values can be worked out by hand from p alone).
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "sampling/candidates.h"
#include "sampling/sampler.h"

namespace ts::sampling::test {

// The distribution most tests use; ids are shuffled against probability so that sorting matters.
//   id:  0     1     2     3     4
//   p:   0.1   0.4   0.05  0.3   0.15        sorted: 1 (0.4), 3 (0.3), 4 (0.15), 0 (0.1), 2 (0.05)
inline std::vector<float> p5_logits() {
  return {std::log(0.1f), std::log(0.4f), std::log(0.05f), std::log(0.3f), std::log(0.15f)};
}

inline Candidates p5() {
  const std::vector<float> z = p5_logits();
  return from_logits(z.data(), static_cast<int64_t>(z.size()));
}

// Applies one sampler, then a softmax, and returns id → p of the survivors.
inline std::map<int32_t, double> run(Sampler& s, Candidates c, const Context& ctx = {}) {
  s.apply(c, ctx);
  softmax(c);
  std::map<int32_t, double> out;
  for (const Candidate& x : c.data) out[x.id] = x.p;
  return out;
}

inline std::vector<int32_t> ids_in_order(const Candidates& c) {
  std::vector<int32_t> ids;
  for (const Candidate& x : c.data) ids.push_back(x.id);
  return ids;
}

inline std::vector<int32_t> keys(const std::map<int32_t, double>& m) {
  std::vector<int32_t> k;
  for (const auto& [id, p] : m) k.push_back(id);
  return k;
}

}  // namespace ts::sampling::test
